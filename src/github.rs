//! GitHub's REST API, as GHCR Desktop uses it: who a token belongs to and its scopes (`GET /user`).
//! Answers are mapped to the error codes a person can act on; the token goes only to `config.api_url`.

use crate::config::Config;
use crate::error::{Code, Error, Result};
use crate::secret::Secret;
use crate::token::scopes::parse_scopes_header;
use serde::Deserialize;
use std::time::Duration;

pub struct GitHub {
    http: reqwest::Client,
    api: String,
}

/// The account a token belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthenticatedUser {
    pub login: String,
    /// `X-OAuth-Scopes`, for classic and OAuth tokens only.
    pub scopes: Option<Vec<String>>,
}

#[derive(Deserialize)]
struct UserBody {
    login: String,
}

pub(crate) fn http_client() -> Result<reqwest::Client> {
    reqwest::Client::builder()
        .user_agent(concat!("ghcr-desktop/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(20))
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

impl GitHub {
    pub fn new(config: &Config) -> Result<GitHub> {
        Ok(GitHub {
            http: http_client()?,
            api: config.api_url.as_str().trim_end_matches('/').to_string(),
        })
    }

    /// `GET /user`: the token's login and scopes; 401 means invalid, expired or revoked.
    pub async fn authenticated_user(&self, token: &Secret) -> Result<AuthenticatedUser> {
        let response = self
            .http
            .get(format!("{}/user", self.api))
            .bearer_auth(token.expose())
            .header("accept", "application/vnd.github+json")
            .header("x-github-api-version", "2022-11-28")
            .send()
            .await
            .map_err(|e| unreachable(&self.api, &e))?;
        let status = response.status();
        if status == reqwest::StatusCode::UNAUTHORIZED {
            return Err(Error::new(
                Code::TokenInvalid,
                "GitHub does not accept this token: it is invalid, expired or revoked",
                "Create a new classic token with write:packages and paste it here.",
            ));
        }
        let rate_limited = status == reqwest::StatusCode::TOO_MANY_REQUESTS
            || (status == reqwest::StatusCode::FORBIDDEN
                && response
                    .headers()
                    .get("x-ratelimit-remaining")
                    .is_some_and(|v| v == "0"));
        if rate_limited {
            let wait = response
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .map(|s| format!(" Try again in {s} s."))
                .unwrap_or_default();
            return Err(Error::new(
                Code::GithubRateLimited,
                "GitHub's API rate limit is used up",
                format!("Wait for it to reset.{wait}"),
            ));
        }
        if status.is_server_error() {
            return Err(Error::new(
                Code::GithubUnavailable,
                format!("GitHub answered {status}"),
                "GitHub may be having trouble; try again in a minute.",
            ));
        }
        if !status.is_success() {
            return Err(Error::new(
                Code::GithubProtocol,
                format!("GitHub answered {status} to GET /user"),
                "Check GHCR_API_URL.",
            ));
        }
        let scopes = response
            .headers()
            .get("x-oauth-scopes")
            .and_then(|v| v.to_str().ok())
            .map(parse_scopes_header);
        let body: UserBody = response.json().await.map_err(|_| {
            Error::new(
                Code::GithubProtocol,
                "GitHub's answer to GET /user could not be read",
                "Check GHCR_API_URL: it should be GitHub's API (https://api.github.com).",
            )
        })?;
        Ok(AuthenticatedUser {
            login: body.login,
            scopes,
        })
    }
}

fn unreachable(api: &str, error: &reqwest::Error) -> Error {
    let why = if error.is_timeout() {
        "no answer in time"
    } else {
        "cannot connect"
    };
    Error::new(
        Code::NetworkUnreachable,
        format!("Cannot reach GitHub at {api}: {why}"),
        "Check your network connection (and GHCR_API_URL if you set it). Nothing was lost.",
    )
}
