//! GitHub's REST API, as GHCR Desktop uses it: who a token belongs to and its scopes (`GET /user`).
//! Answers are mapped to the error codes a person can act on; the token goes only to `config.api_url`.

use crate::config::Config;
use crate::error::{Code, Error, Result};
use crate::secret::Secret;
use crate::token::scopes::parse_scopes_header;
use serde::Deserialize;
use std::time::Duration;

pub struct GitHub {
    pub(crate) http: reqwest::Client,
    pub(crate) api: String,
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
        let response = self.get(&format!("{}/user", self.api), token).await?;
        let response = answered(response, "GET /user")?;
        let scopes = response
            .headers()
            .get("x-oauth-scopes")
            .and_then(|v| v.to_str().ok())
            .map(parse_scopes_header);
        let body: UserBody = read_json(response, &self.api, "GET /user").await?;
        Ok(AuthenticatedUser {
            login: body.login,
            scopes,
        })
    }

    /// `GET /user/orgs`, every page: the orgs the token's user belongs to (without `read:org`, only
    /// the memberships the user made public, as GitHub does).
    pub async fn organizations(&self, token: &Secret) -> Result<Vec<String>> {
        #[derive(Deserialize)]
        struct Org {
            login: String,
        }
        let mut logins = Vec::new();
        let mut next = Some(format!("{}/user/orgs?per_page=100", self.api));
        while let Some(url) = next.take() {
            if !url.starts_with(&self.api) {
                break; // a Link to another host never gets the token
            }
            let response = answered(self.get(&url, token).await?, "GET /user/orgs")?;
            next = response
                .headers()
                .get("link")
                .and_then(|v| v.to_str().ok())
                .and_then(next_link);
            let page: Vec<Org> = read_json(response, &self.api, "GET /user/orgs").await?;
            logins.extend(page.into_iter().map(|org| org.login));
        }
        Ok(logins)
    }

    pub(crate) async fn get(&self, url: &str, token: &Secret) -> Result<reqwest::Response> {
        self.http
            .get(url)
            .bearer_auth(token.expose())
            .header("accept", "application/vnd.github+json")
            .header("x-github-api-version", "2022-11-28")
            .send()
            .await
            .map_err(|e| unreachable(&self.api, &e))
    }
}

/// The response if it is a success; otherwise the error a person should see for its status.
pub(crate) fn answered(response: reqwest::Response, what: &str) -> Result<reqwest::Response> {
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
            format!("GitHub answered {status} to {what}"),
            "Check GHCR_API_URL.",
        ));
    }
    Ok(response)
}

/// The `rel="next"` URL of a `Link` header.
pub(crate) fn next_link(header: &str) -> Option<String> {
    header.split(',').find_map(|part| {
        let (url, params) = part.split_once(';')?;
        params
            .split(';')
            .any(|p| p.trim() == "rel=\"next\"")
            .then(|| {
                url.trim()
                    .trim_start_matches('<')
                    .trim_end_matches('>')
                    .to_string()
            })
    })
}

/// Reads an answer's JSON body: a body that stops coming is "no answer in time" (the client's timeout
/// bounds it), one that isn't the expected JSON is a protocol error naming `what`.
pub(crate) async fn read_json<T: serde::de::DeserializeOwned>(
    response: reqwest::Response,
    api: &str,
    what: &str,
) -> Result<T> {
    let body = response.bytes().await.map_err(|e| unreachable(api, &e))?;
    serde_json::from_slice(&body).map_err(|_| {
        Error::new(
            Code::GithubProtocol,
            format!("GitHub's answer to {what} could not be read"),
            "Check GHCR_API_URL: it should be GitHub's API (https://api.github.com).",
        )
    })
}

pub(crate) fn unreachable(api: &str, error: &reqwest::Error) -> Error {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_next_page_in_a_link_header() {
        let header = r#"<https://api.github.com/user/orgs?page=2>; rel="next", <https://api.github.com/user/orgs?page=5>; rel="last""#;
        assert_eq!(
            next_link(header).as_deref(),
            Some("https://api.github.com/user/orgs?page=2")
        );
        assert_eq!(
            next_link(r#"<https://api.github.com/user/orgs?page=1>; rel="prev""#),
            None
        );
        assert_eq!(next_link(""), None);
    }
}
