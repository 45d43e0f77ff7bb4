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
    /// When the token expires (Unix seconds), from `GitHub-Authentication-Token-Expiration`; `None`
    /// for a token without an expiry.
    pub expires_at: Option<i64>,
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
        let response = answered(response, "GET /user").await?;
        let expires_at = response
            .headers()
            .get("github-authentication-token-expiration")
            .and_then(|v| v.to_str().ok())
            .and_then(parse_token_expiration);
        let scopes = response
            .headers()
            .get("x-oauth-scopes")
            .and_then(|v| v.to_str().ok())
            .map(parse_scopes_header);
        let body: UserBody = read_json(response, &self.api, "GET /user").await?;
        Ok(AuthenticatedUser {
            login: body.login,
            scopes,
            expires_at,
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
            let response = answered(self.get(&url, token).await?, "GET /user/orgs").await?;
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

/// The response if it is a success; otherwise the error a person should see for it (its body read,
/// bounded, for GitHub's own words).
pub(crate) async fn answered(response: reqwest::Response, what: &str) -> Result<reqwest::Response> {
    if response.status().is_success() {
        return Ok(response);
    }
    Err(refused(response, what).await)
}

/// The error a person should see for a refusal (any status but a success).
pub(crate) async fn refused(response: reqwest::Response, what: &str) -> Error {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = crate::http::error_body(response).await;
    refusal(status, &headers, &body, what)
}

/// GitHub's own words in an error body (`{"message": …}`), or nothing.
pub(crate) fn message_of(body: &[u8]) -> String {
    #[derive(Deserialize)]
    struct GitHubMessage {
        message: String,
    }
    serde_json::from_slice::<GitHubMessage>(body)
        .map(|m| m.message)
        .unwrap_or_default()
}

/// GitHub's refusal as a code a person can act on, in GitHub's words where it gave some (FACTS:
/// GitHub REST): 401 a bad token; 429, or 403 with `x-ratelimit-remaining: 0` or a "secondary rate
/// limit" message, a wait; 403 with `X-GitHub-SSO` an org's single sign-on; "forbids access via a
/// personal access token (classic)" an org's token policy; 400 and 422 GitHub saying why not.
pub(crate) fn refusal(
    status: u16,
    headers: &reqwest::header::HeaderMap,
    body: &[u8],
    what: &str,
) -> Error {
    let message = message_of(body);
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let rate_limited = status == 429
        || (status == 403
            && (header("x-ratelimit-remaining") == Some("0")
                || message.to_ascii_lowercase().contains("rate limit")));
    if status == 401 {
        return Error::new(
            Code::TokenInvalid,
            "GitHub does not accept this token: it is invalid, expired or revoked",
            "Create a new classic token with write:packages and sign in with it again.",
        );
    }
    if rate_limited {
        let retry_after = crate::http::retry_after(headers).or_else(|| {
            let reset: i64 = header("x-ratelimit-reset")?.trim().parse().ok()?;
            let now = time::OffsetDateTime::now_utc().unix_timestamp();
            u64::try_from(reset.saturating_sub(now)).ok()
        });
        let wait = retry_after
            .map(|s| format!(" Try again in {s} s."))
            .unwrap_or_default();
        return Error::new(
            Code::GithubRateLimited,
            "GitHub's API rate limit is used up",
            format!("Wait for it to reset.{wait}"),
        )
        .with_retry_after(retry_after);
    }
    if let Some(sso) = header("x-github-sso").and_then(sso_authorization_url) {
        return Error::new(
            Code::TokenSsoRequired,
            format!("An organization with single sign-on refused {what}: this token isn't authorised for it"),
            format!("Authorise the token for the organization at {sso} (or on GitHub: Settings → Developer settings → Tokens → Configure SSO), then try again."),
        )
        .with_url(sso);
    }
    if status == 403 && message.contains("forbids access via a personal access token (classic)") {
        let hint = if message.contains("lifetime") {
            "Create a classic token with a shorter expiry (the organization says how long), or sign in with GitHub instead of a token."
        } else {
            "Sign in with GitHub instead (Account → Sign in with GitHub: its token is an OAuth token, which the policy allows), or ask the organization's owners to allow classic tokens."
        };
        return Error::new(
            Code::TokenClassicForbidden,
            format!("GitHub refused {what}: {message}"),
            hint,
        );
    }
    if status == 400 || status == 422 {
        let lower = message.to_ascii_lowercase();
        let hint = if lower.contains("must delete the package instead") {
            "Delete the whole package instead (it can be restored for 30 days), or push another tag first."
        } else if lower.contains("downloads cannot be deleted") {
            "GitHub keeps public versions downloaded this often; only GitHub Support can remove one."
        } else {
            "GitHub's own words above say why."
        };
        let said = if message.is_empty() {
            format!("GitHub refused {what} ({status})")
        } else {
            format!("GitHub refused {what}: {message}")
        };
        return Error::new(Code::GithubRefused, said, hint);
    }
    if status >= 500 {
        return Error::new(
            Code::GithubUnavailable,
            format!("GitHub answered {status}"),
            "GitHub may be having trouble; try again in a minute.",
        );
    }
    let said = if message.is_empty() {
        String::new()
    } else {
        format!(": {message}")
    };
    Error::new(
        Code::GithubProtocol,
        format!("GitHub answered {status} to {what}{said}"),
        "Check GHCR_API_URL.",
    )
}

/// `X-GitHub-SSO: required; url=https://github.com/orgs/ORG/sso?authorization_request=…` → the URL
/// (the `partial-results; organizations=…` form, which lists what a list left out, names none).
pub(crate) fn sso_authorization_url(header: &str) -> Option<String> {
    let mut parts = header.split(';').map(str::trim);
    if parts.next()? != "required" {
        return None;
    }
    parts
        .find_map(|part| part.strip_prefix("url="))
        .filter(|url| url.starts_with("https://") || url.starts_with("http://"))
        .map(str::to_string)
}

/// `GitHub-Authentication-Token-Expiration: 2026-12-03 10:00:00 UTC` (also seen with `+0000`) →
/// the moment, as Unix seconds.
pub fn parse_token_expiration(value: &str) -> Option<i64> {
    let value = value.trim();
    let (stamp, zone) = value.rsplit_once(' ')?;
    if !matches!(zone, "UTC" | "+0000" | "GMT") {
        return None;
    }
    let format = time::format_description::parse_borrowed::<2>(
        "[year]-[month]-[day] [hour]:[minute]:[second]",
    )
    .ok()?;
    time::PrimitiveDateTime::parse(stamp, &format)
        .ok()
        .map(|at| at.assume_utc().unix_timestamp())
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

    fn headers(pairs: &[(&'static str, &'static str)]) -> reqwest::header::HeaderMap {
        pairs
            .iter()
            .map(|(k, v)| (k.parse().unwrap(), v.parse().unwrap()))
            .collect()
    }

    #[test]
    fn githubs_reason_for_a_400_is_shown_with_what_to_do_instead() {
        let body = br#"{"message":"You cannot delete the last tagged version of a package. You must delete the package instead.","documentation_url":"https://docs.github.com/rest/packages/packages","status":"400"}"#;
        let error = refusal(400, &headers(&[]), body, "deleting version 7 of app");
        assert_eq!(error.code, Code::GithubRefused);
        assert!(
            error
                .message
                .contains("You cannot delete the last tagged version"),
            "{error:?}"
        );
        assert!(error.hint.contains("Delete the whole package"), "{error:?}");
        assert!(!format!("{error:?}").contains("GHCR_API_URL"));
        let downloads = br#"{"message":"Publicly visible package versions with more than 5000 downloads cannot be deleted. Contact GitHub support for further assistance."}"#;
        let error = refusal(400, &headers(&[]), downloads, "deleting version 7 of app");
        assert!(error.hint.contains("GitHub Support"), "{error:?}");
    }

    #[test]
    fn an_sso_org_names_the_authorisation_url_and_a_classic_token_ban_offers_sign_in() {
        let sso = headers(&[(
            "x-github-sso",
            "required; url=https://github.com/orgs/acme/sso?authorization_request=AbC1",
        )]);
        let body = br#"{"message":"Resource protected by organization SAML enforcement. You must grant your Personal Access token access to this organization."}"#;
        let error = refusal(403, &sso, body, "the packages of acme");
        assert_eq!(error.code, Code::TokenSsoRequired);
        assert!(error
            .hint
            .contains("https://github.com/orgs/acme/sso?authorization_request=AbC1"));

        let ban = br#"{"message":"`acme` forbids access via a personal access token (classic). Please use a GitHub App, OAuth App, or a personal access token with fine-grained permissions."}"#;
        let error = refusal(403, &headers(&[]), ban, "the packages of acme");
        assert_eq!(error.code, Code::TokenClassicForbidden);
        assert!(error.hint.contains("Sign in with GitHub"), "{error:?}");
        let lifetime = br#"{"message":"`acme` forbids access via a personal access token (classic) whose lifetime is greater than 90 days."}"#;
        let error = refusal(403, &headers(&[]), lifetime, "the packages of acme");
        assert!(error.hint.contains("shorter expiry"), "{error:?}");
        // The list form names organizations it left out, not a URL: no SSO refusal of its own.
        assert_eq!(
            sso_authorization_url("partial-results; organizations=21955855"),
            None
        );
    }

    #[test]
    fn githubs_rate_limits_are_a_wait_however_they_come() {
        let primary = headers(&[("x-ratelimit-remaining", "0"), ("retry-after", "30")]);
        let error = refusal(403, &primary, b"{}", "GET /user");
        assert_eq!(error.code, Code::GithubRateLimited);
        assert_eq!(error.retry_after_s, Some(30));
        let secondary = br#"{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again."}"#;
        assert_eq!(
            refusal(403, &headers(&[]), secondary, "GET /user").code,
            Code::GithubRateLimited
        );
        assert_eq!(
            refusal(429, &headers(&[]), b"", "GET /user").code,
            Code::GithubRateLimited
        );
    }

    #[test]
    fn the_token_expiration_header_is_read_as_utc() {
        assert_eq!(
            parse_token_expiration("2026-12-03 00:00:00 UTC"),
            Some(1_796_256_000)
        );
        assert_eq!(
            parse_token_expiration("2026-12-03 00:00:00 +0000"),
            Some(1_796_256_000)
        );
        assert_eq!(parse_token_expiration("tomorrow"), None);
        assert_eq!(parse_token_expiration("2026-12-03 00:00:00 CET"), None);
    }

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
