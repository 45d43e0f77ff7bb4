//! HTTP clients for GitHub's API and the registry, built in one place: the user agent, the timeouts and
//! the rule that no client follows a redirect by itself (a redirect could carry the token elsewhere).
//! A leaf: it imports nothing of the core but the error type.

use crate::error::{Code, Error, Result};
use std::time::Duration;

const USER_AGENT: &str = concat!("ghcr-desktop/", env!("CARGO_PKG_VERSION"));
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// For answers that should be small and quick (GitHub's API, the registry's token service and
/// checks): 20 s for the whole exchange.
pub fn api_client() -> Result<reqwest::Client> {
    build(reqwest::Client::builder().timeout(Duration::from_secs(20)))
}

/// For blob and manifest transfers, which may take long on a slow link: no overall deadline, but a
/// connection that stops moving for 60 s ends.
pub fn transfer_client() -> Result<reqwest::Client> {
    build(reqwest::Client::builder().read_timeout(Duration::from_secs(60)))
}

fn build(builder: reqwest::ClientBuilder) -> Result<reqwest::Client> {
    builder
        .user_agent(USER_AGENT)
        .connect_timeout(CONNECT_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| {
            Error::new(
                Code::NetworkUnreachable,
                format!("Cannot set up HTTPS: {e}"),
                "Check the system's TLS libraries (OpenSSL).",
            )
        })
}
