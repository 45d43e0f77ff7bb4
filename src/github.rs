//! GitHub's REST API, as GHCR Desktop uses it: who a token belongs to and its scopes (`GET /user`), its
//! orgs, and what names a repository on it. Answers are mapped to the error codes a person can act on;
//! the token goes only to `config.api_url`.

use crate::config::Config;
use crate::error::{Code, Error, Result};
use crate::reference::Reference;
use crate::secret::Secret;
use serde::Deserialize;

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

impl GitHub {
    pub fn new(config: &Config) -> Result<GitHub> {
        Ok(GitHub {
            http: crate::http::api_client()?,
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
            if !self.on_api(&url) {
                break; // a Link to another origin never gets the token
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

    /// Whether `url` is on the API's own origin (scheme, host, port), where the token may go.
    pub(crate) fn on_api(&self, url: &str) -> bool {
        url::Url::parse(&self.api).is_ok_and(|api| crate::http::on_origin(url, &api))
    }

    pub(crate) async fn get(&self, url: &str, token: &Secret) -> Result<reqwest::Response> {
        if !self.on_api(url) {
            return Err(Error::new(
                Code::GithubProtocol,
                format!("Refused to send the token to {url}: it is not GitHub's API"),
                "Check GHCR_API_URL.",
            ));
        }
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
        let retry_after = crate::http::retry_after(&response);
        let wait = retry_after
            .map(|s| format!(" Try again in {s} s."))
            .unwrap_or_default();
        return Err(Error::new(
            Code::GithubRateLimited,
            "GitHub's API rate limit is used up",
            format!("Wait for it to reset.{wait}"),
        )
        .with_retry_after(retry_after));
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

/// Whose packages: the token's user, or an organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owner {
    User,
    Org(String),
}

impl Owner {
    /// The owner of `target` for `login`: the user's own packages when the target's owner is the
    /// login (GitHub logins may have uppercase letters, names on the registry don't), else an org's.
    pub fn of(target: &Reference, login: &str) -> Owner {
        if target.owner().eq_ignore_ascii_case(login) {
            Owner::User
        } else {
            Owner::Org(target.owner().to_string())
        }
    }

    pub fn from_option(org: Option<&str>) -> Owner {
        match org {
            Some(org) if !org.trim().is_empty() => Owner::Org(org.trim().to_string()),
            _ => Owner::User,
        }
    }

    pub(crate) fn path(&self) -> String {
        match self {
            Owner::User => "/user/packages".to_string(),
            Owner::Org(org) => format!("/orgs/{}/packages", segment(org)),
        }
    }
}

/// One path segment: GitHub writes a `/` in a package name as `%2F`.
pub(crate) fn segment(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// The package's page on GitHub.
pub fn package_page(config: &Config, owner: &Owner, owner_login: &str, name: &str) -> String {
    settings_page(config, owner, owner_login, name)
        .trim_end_matches("/settings")
        .replacen("/packages/container/", "/packages/container/package/", 1)
}

/// The package's settings page on GitHub, where its visibility is changed (there is no API for it).
pub fn settings_page(config: &Config, owner: &Owner, owner_login: &str, name: &str) -> String {
    let kind = match owner {
        Owner::User => "users",
        Owner::Org(_) => "orgs",
    };
    format!(
        "{}/{kind}/{owner_login}/packages/container/{}/settings",
        config.web_url.as_str().trim_end_matches('/'),
        segment(name)
    )
}

/// `X-OAuth-Scopes: repo, write:packages` → `["repo", "write:packages"]` (each once).
pub fn parse_scopes_header(value: &str) -> Vec<String> {
    let mut scopes: Vec<String> = Vec::new();
    for scope in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        if !scopes.iter().any(|s| s == scope) {
            scopes.push(scope.to_string());
        }
    }
    scopes
}

/// Checks a repository URL for `org.opencontainers.image.source`: a repository page on the configured
/// GitHub web host, `OWNER/REPO` and nothing more.
pub fn source_repository(config: &Config, text: &str) -> Result<String> {
    let bad = |why: &str| {
        Error::new(
            Code::ReferenceInvalid,
            format!("{text:?} {why}"),
            format!(
                "Give the repository's page, e.g. {}/OWNER/REPO",
                config.web_url.as_str().trim_end_matches('/')
            ),
        )
    };
    let url = url::Url::parse(text.trim()).map_err(|_| bad("is not a URL"))?;
    if url.origin() != config.web_url.origin() {
        return Err(bad("is not on the configured GitHub"));
    }
    let parts: Vec<&str> = url
        .path_segments()
        .map(|s| s.filter(|p| !p.is_empty()).collect())
        .unwrap_or_default();
    let valid = |part: &str| {
        !part.is_empty()
            && part
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    };
    match parts.as_slice() {
        [owner, repo] if valid(owner) && valid(repo) && url.query().is_none() => Ok(format!(
            "{}/{owner}/{}",
            config.web_url.as_str().trim_end_matches('/'),
            repo.trim_end_matches(".git")
        )),
        _ => Err(bad("does not name one repository (OWNER/REPO)")),
    }
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
    let body = crate::http::read_body(response, crate::http::Limit::JSON)
        .await
        .map_err(|e| match e {
            crate::http::BodyError::Broken(e) => unreachable(api, &e),
            crate::http::BodyError::TimedOut => Error::new(
                Code::NetworkUnreachable,
                format!("Cannot reach GitHub at {api}: no answer in time"),
                "Check your network connection (and GHCR_API_URL if you set it). Nothing was lost.",
            ),
            too_large => Error::new(
                Code::GithubProtocol,
                format!("GitHub at {api} {}", too_large.describe()),
                "Check GHCR_API_URL: it should be GitHub's API (https://api.github.com).",
            ),
        })?;
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
    fn the_header_is_split_trimmed_and_deduplicated() {
        assert_eq!(
            parse_scopes_header(" repo,write:packages , write:packages,,"),
            vec!["repo".to_string(), "write:packages".to_string()]
        );
        assert!(parse_scopes_header("").is_empty());
        assert!(parse_scopes_header(" , ").is_empty());
    }

    #[test]
    fn source_repositories_must_be_one_repository_on_the_configured_github() {
        let config = Config::github_com();
        assert_eq!(
            source_repository(&config, "https://github.com/Octo/app.git").unwrap(),
            "https://github.com/Octo/app"
        );
        for bad in [
            "https://gitlab.com/o/r",
            "https://github.com/o",
            "https://github.com/o/r/tree/main",
            "github.com/o/r",
            "https://github.com/o/r?x=1",
        ] {
            assert_eq!(
                source_repository(&config, bad).unwrap_err().code,
                Code::ReferenceInvalid,
                "{bad}"
            );
        }
    }

    #[test]
    fn package_names_with_slashes_are_one_path_segment() {
        assert_eq!(segment("team/app"), "team%2Fapp");
        assert_eq!(Owner::Org("acme".into()).path(), "/orgs/acme/packages");
        assert_eq!(Owner::from_option(Some(" ")), Owner::User);
    }

    #[test]
    fn settings_pages_are_the_users_or_the_orgs() {
        let config = Config::github_com();
        assert_eq!(
            settings_page(&config, &Owner::User, "Octo", "app"),
            "https://github.com/users/Octo/packages/container/app/settings"
        );
        assert_eq!(
            settings_page(&config, &Owner::Org("acme".into()), "acme", "team/app"),
            "https://github.com/orgs/acme/packages/container/team%2Fapp/settings"
        );
        assert_eq!(
            package_page(&config, &Owner::User, "Octo", "app"),
            "https://github.com/users/Octo/packages/container/package/app"
        );
    }

    #[test]
    fn a_pushed_targets_page_is_the_users_when_the_owner_is_the_login() {
        let page_for = |target: &str, login: &str| {
            let target = Reference::parse(target).unwrap();
            let owner = Owner::of(&target, login);
            package_page(
                &Config::github_com(),
                &owner,
                target.owner(),
                target.package(),
            )
        };
        assert_eq!(
            page_for("ghcr.io/octo/app:1", "Octo"),
            "https://github.com/users/octo/packages/container/package/app"
        );
        assert_eq!(
            page_for("ghcr.io/octo/app:1", "someone"),
            "https://github.com/orgs/octo/packages/container/package/app"
        );
        assert_eq!(
            page_for("ghcr.io/octo/team/app:1", "octo"),
            "https://github.com/users/octo/packages/container/package/team%2Fapp"
        );
    }

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
