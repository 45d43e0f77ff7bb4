//! The container registry (ghcr.io, or GHES `containers.HOST`) over the OCI distribution API: proving
//! that a token may push, without pushing — open an upload session and cancel it (FACTS: ghcr.io's
//! registry tokens are not always JWTs, so they can't be read instead) — and, in `session`, the blob
//! and manifest calls a direct push makes.

pub mod refusal;
pub mod session;

use crate::config::Config;
use crate::error::{Code, Result};
use crate::http::{api_client, error_body, read_body, same_origin, Limit};
use crate::secret::Secret;
use refusal::{protocol, refusal_text, unreachable};
use serde::{Deserialize, Serialize};

/// A `WWW-Authenticate: Bearer realm="…",service="…"` challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    pub realm: String,
    pub service: Option<String>,
}

/// Parses a Bearer challenge; `None` for Basic or anything unreadable.
pub fn parse_bearer_challenge(header: &str) -> Option<Challenge> {
    let (scheme, params) = header.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let mut realm = None;
    let mut service = None;
    let mut rest = params.trim();
    while !rest.is_empty() {
        let (key, after) = rest.split_once('=')?;
        let after = after.trim_start();
        let (value, remainder) = match after.strip_prefix('"') {
            Some(quoted) => {
                let end = quoted.find('"')?;
                (&quoted[..end], &quoted[end + 1..])
            }
            None => match after.find(',') {
                Some(end) => (after[..end].trim_end(), &after[end..]),
                None => (after.trim_end(), ""),
            },
        };
        match key.trim().to_ascii_lowercase().as_str() {
            "realm" => realm = Some(value.to_string()),
            "service" => service = Some(value.to_string()),
            _ => {}
        }
        rest = remainder.trim_start().trim_start_matches(',').trim_start();
    }
    Some(Challenge {
        realm: realm.filter(|r| !r.is_empty())?,
        service,
    })
}

/// What the registry said to a push.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum PushCheck {
    /// An upload session opened (and was cancelled).
    Allowed { repository: String },
    /// The registry refused, in its words (`denied: permission_denied: …`).
    Denied { repository: String, message: String },
    /// Not tried: the token lacks `write:packages`.
    NotChecked { reason: String },
}

#[derive(Deserialize)]
pub(crate) struct TokenAnswer {
    pub(crate) token: Option<String>,
    pub(crate) access_token: Option<String>,
}

/// Whether `token` (of `login`) may push to `OWNER/…` on the configured registry: asks the registry's
/// token service for push on a probe repository, opens an upload session there and cancels it.
pub async fn check_push(
    config: &Config,
    owner: &str,
    login: &str,
    token: &Secret,
) -> Result<PushCheck> {
    let repository = format!("{}/ghcr-desktop-push-check", owner.to_ascii_lowercase());
    check_push_to(config, &repository, login, token).await
}

/// Whether `token` may push to `repository` (`owner/name`): an upload session opened and cancelled.
pub async fn check_push_to(
    config: &Config,
    repository: &str,
    login: &str,
    token: &Secret,
) -> Result<PushCheck> {
    let http = api_client()?;
    let base = config.registry_url();
    let repository = repository.to_string();
    let ping = http
        .get(format!("{base}/v2/"))
        .send()
        .await
        .map_err(|e| unreachable(&base, &e))?;
    let challenge = ping
        .headers()
        .get("www-authenticate")
        .and_then(|v| v.to_str().ok())
        .and_then(parse_bearer_challenge)
        .ok_or_else(|| protocol(&base, "does not ask for a bearer token"))?;
    if !realm_is_trusted(config, &challenge.realm) {
        return Err(protocol(
            &base,
            &format!(
                "sends credentials to {}, which is neither the registry nor GitHub's API",
                challenge.realm
            ),
        ));
    }

    let scope = format!("repository:{repository}:pull,push");
    let mut query = vec![("scope", scope.as_str())];
    if let Some(service) = &challenge.service {
        query.push(("service", service.as_str()));
    }
    let answer = http
        .get(&challenge.realm)
        .query(&query)
        .basic_auth(login, Some(token.expose()))
        .send()
        .await
        .map_err(|e| unreachable(&base, &e))?;
    let status = answer.status();
    let body = read_body(answer, Limit::TOKEN)
        .await
        .map_err(|e| protocol(&base, &e.describe()))?;
    if !status.is_success() {
        return Ok(PushCheck::Denied {
            repository,
            message: refusal_text(&body, status),
        });
    }
    let grant: TokenAnswer =
        serde_json::from_slice(&body).map_err(|_| protocol(&base, "sent an unreadable token"))?;
    let bearer = grant
        .token
        .or(grant.access_token)
        .ok_or_else(|| protocol(&base, "sent no token"))?;

    let session = http
        .post(format!("{base}/v2/{repository}/blobs/uploads/"))
        .bearer_auth(&bearer)
        .send()
        .await
        .map_err(|e| unreachable(&base, &e))?;
    let status = session.status();
    if status != reqwest::StatusCode::ACCEPTED {
        let body = error_body(session).await;
        // A rate limit (ghcr.io's secondary one is a 403) or a failing registry says nothing about
        // the token's rights.
        let error = refusal::refusal(status, &body);
        if matches!(
            error.code,
            Code::RegistryRateLimited | Code::RegistryUnreachable
        ) {
            return Ok(PushCheck::NotChecked {
                reason: format!("the registry did not say: {}", error.message),
            });
        }
        return Ok(PushCheck::Denied {
            repository,
            message: refusal_text(&body, status),
        });
    }
    let location = session
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .and_then(|location| upload_location(&base, location));
    if let Some(location) = location {
        // Cancel the session: nothing is left behind. A failure here changes nothing for the user.
        let _ = http.delete(location).bearer_auth(&bearer).send().await;
    }
    Ok(PushCheck::Allowed { repository })
}

/// The absolute form of an upload `Location` the registry at `base` sent, if it is on the registry's
/// own origin (the bearer token goes nowhere else).
pub(crate) fn upload_location(base: &str, location: &str) -> Option<url::Url> {
    let base = url::Url::parse(base).ok()?;
    let absolute = base.join(location).ok()?;
    same_origin(&absolute, &base).then_some(absolute)
}

/// Credentials go only to the registry's own host or the configured GitHub API host.
pub(crate) fn realm_is_trusted(config: &Config, realm: &str) -> bool {
    let Ok(realm) = url::Url::parse(realm) else {
        return false;
    };
    let authority = |url: &url::Url| {
        format!(
            "{}:{}",
            url.host_str().unwrap_or_default(),
            url.port_or_known_default().unwrap_or_default()
        )
    };
    let Ok(registry) = url::Url::parse(&config.registry_url()) else {
        return false;
    };
    let secure_or_loopback =
        realm.scheme() == "https" || config.registry_url().starts_with("http://");
    secure_or_loopback
        && (authority(&realm) == authority(&registry)
            || authority(&realm) == authority(&config.api_url))
}

/// Which of `references` the registry has (a `HEAD` of each tag's manifest, one session per
/// repository, the account's credentials): `Some(true)` there, `Some(false)` not there, `None` for a
/// name on another registry, without a tag, or where the registry wouldn't say (another namespace).
/// What the Images view's "on registry" badge shows — a name for the registry is not a push.
pub async fn tags_present(
    config: &Config,
    credentials: session::Credentials,
    references: &[String],
) -> Vec<Option<bool>> {
    use crate::reference::Reference;
    let parsed: Vec<Option<Reference>> = references
        .iter()
        .map(|text| {
            Reference::parse(text)
                .ok()
                .filter(|r| r.is_on(&config.registry) && r.tag().is_some())
        })
        .collect();
    let mut answers = vec![None; references.len()];
    let Ok(http) = crate::http::transfer_client() else {
        return answers;
    };
    let mut paths: Vec<&str> = parsed.iter().flatten().map(|r| r.path()).collect();
    paths.sort_unstable();
    paths.dedup();
    for path in paths {
        let opened =
            session::Session::open_on(http.clone(), config, path, &[], Some(credentials.clone()))
                .await;
        let Ok(session) = opened else {
            continue;
        };
        for (answer, reference) in answers.iter_mut().zip(&parsed) {
            if let Some(reference) = reference.as_ref().filter(|r| r.path() == path) {
                let tag = reference.tag().unwrap_or_default();
                *answer = session.has_manifest(tag).await.ok();
            }
        }
    }
    answers
}

/// What a tag on the registry points to now, before a push replaces it: the manifest's digest, and
/// when GitHub says that version was pushed (when it can say).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ExistingTag {
    pub reference: String,
    pub digest: String,
    /// RFC 3339, from the package version GitHub lists with this tag.
    pub pushed_at: Option<String>,
}

/// The tag `target` names on the registry, if it is there (asked with the account's credentials);
/// `None` when there is no such tag, or the registry wouldn't say.
pub async fn existing_tag(
    config: &Config,
    credentials: session::Credentials,
    target: &crate::reference::Reference,
) -> Option<ExistingTag> {
    let tag = target.tag()?;
    let login = credentials.login.clone();
    let token = credentials.token.clone();
    let session = session::Session::open(config, target.path(), &[], Some(credentials))
        .await
        .ok()?;
    let digest = session.manifest_digest(tag).await.ok()??;
    // When: the version GitHub lists under this package with the tag (best effort: the API may lag).
    let name = target.path().split_once('/').map_or("", |(_, name)| name);
    let owner = crate::github::Owner::of(target, &login);
    let pushed_at = match crate::github::GitHub::new(config) {
        Ok(github) => github
            .versions(&token, &owner, name)
            .await
            .ok()
            .and_then(|versions| {
                versions
                    .into_iter()
                    .find(|v| v.name == digest || v.tags().iter().any(|t| t == tag))
                    .map(|v| v.created_at)
                    .filter(|at| !at.is_empty())
            }),
        Err(_) => None,
    };
    Some(ExistingTag {
        reference: target.to_string(),
        digest,
        pushed_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ghcr_io_challenges_parse() {
        let challenge = parse_bearer_challenge(
            r#"Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:user/image:pull""#,
        )
        .unwrap();
        assert_eq!(
            challenge,
            Challenge {
                realm: "https://ghcr.io/token".into(),
                service: Some("ghcr.io".into())
            }
        );
    }

    #[test]
    fn unquoted_spaced_and_reordered_parameters_parse() {
        let challenge =
            parse_bearer_challenge("bearer service=reg , realm=http://127.0.0.1:5000/token")
                .unwrap();
        assert_eq!(challenge.realm, "http://127.0.0.1:5000/token");
        assert_eq!(challenge.service.as_deref(), Some("reg"));
    }

    #[test]
    fn basic_and_broken_challenges_are_not_bearer_challenges() {
        for header in [
            r#"Basic realm="registry""#,
            "Bearer",
            r#"Bearer realm="unterminated"#,
            r#"Bearer service="x""#,
            r#"Bearer realm="""#,
            "",
        ] {
            assert_eq!(parse_bearer_challenge(header), None, "{header:?}");
        }
    }

    #[test]
    fn upload_locations_elsewhere_are_not_followed() {
        let base = "http://127.0.0.1:5000";
        assert_eq!(
            upload_location(base, "/v2/o/n/blobs/uploads/1?_state=x").map(String::from),
            Some("http://127.0.0.1:5000/v2/o/n/blobs/uploads/1?_state=x".to_string())
        );
        for elsewhere in [
            "http://127.0.0.1:50001/v2/o/n/blobs/uploads/1",
            "http://127.0.0.1:5000@127.0.0.2:5000/v2/",
            "https://127.0.0.1:5000/v2/",
            "//evil.example/v2/",
        ] {
            assert_eq!(upload_location(base, elsewhere), None, "{elsewhere}");
        }
    }

    #[test]
    fn credentials_go_only_to_the_registry_or_the_api() {
        let config = Config::github_com();
        assert!(realm_is_trusted(&config, "https://ghcr.io/token"));
        assert!(realm_is_trusted(&config, "https://api.github.com/anything"));
        assert!(!realm_is_trusted(&config, "https://evil.example/token"));
        assert!(
            !realm_is_trusted(&config, "http://ghcr.io/token"),
            "no plain http to ghcr.io"
        );
        assert!(!realm_is_trusted(&config, "not a url"));
    }
}
