//! ghcr.io's token service, emulated at `/token`: reads the registry's scope requests, grants what the
//! token's scopes and the package's owner and visibility allow, and signs RS256 JWTs (certificate in
//! `x5c`) that the real distribution registry trusts. Refusals look like ghcr.io's.

use crate::app::{presented_token, timestamp, Shared};
use crate::world::{BadToken, Identity, Visibility, World};
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine as _;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::Serialize;
use time::OffsetDateTime;

/// How long issued registry tokens live, as ghcr.io's do (5 minutes).
pub const TOKEN_SECONDS: i64 = 300;

/// Signs registry tokens with the key whose certificate the registry's `rootcertbundle` holds.
pub struct Signer {
    key: EncodingKey,
    certificate_der_base64: String,
    pub issuer: String,
    pub service: String,
}

impl Signer {
    pub fn from_pem(
        key_pem: &[u8],
        cert_pem: &str,
        issuer: &str,
        service: &str,
    ) -> Result<Signer, String> {
        let key = EncodingKey::from_rsa_pem(key_pem).map_err(|e| format!("signing key: {e}"))?;
        let body: String = cert_pem
            .lines()
            .filter(|line| !line.starts_with("-----"))
            .collect();
        base64::engine::general_purpose::STANDARD
            .decode(&body)
            .map_err(|e| format!("certificate: {e}"))?;
        Ok(Signer {
            key,
            certificate_der_base64: body,
            issuer: issuer.to_string(),
            service: service.to_string(),
        })
    }

    pub fn sign(&self, subject: &str, access: Vec<Access>) -> Result<String, String> {
        let now = OffsetDateTime::now_utc().unix_timestamp();
        let claims = Claims {
            iss: &self.issuer,
            sub: subject,
            aud: &self.service,
            exp: now + TOKEN_SECONDS,
            nbf: now - 10,
            iat: now,
            jti: format!("{:032x}", rand::random::<u128>()),
            access,
        };
        let mut header = Header::new(Algorithm::RS256);
        header.x5c = Some(vec![self.certificate_der_base64.clone()]);
        jsonwebtoken::encode(&header, &claims, &self.key).map_err(|e| format!("signing: {e}"))
    }
}

#[derive(Serialize)]
struct Claims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    exp: i64,
    nbf: i64,
    iat: i64,
    jti: String,
    access: Vec<Access>,
}

/// One grant in a registry token: `{"type":"repository","name":"owner/app","actions":["pull"]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Access {
    #[serde(rename = "type")]
    pub kind: String,
    pub name: String,
    pub actions: Vec<String>,
}

/// A requested scope: `repository:owner/app:pull,push`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    pub kind: String,
    pub name: String,
    pub actions: Vec<String>,
}

/// Parses `TYPE:NAME:ACTIONS`; `None` for anything else (such scopes are ignored, as registries do).
pub fn parse_scope(text: &str) -> Option<Scope> {
    let (kind, rest) = text.split_once(':')?;
    let (name, actions) = rest.rsplit_once(':')?;
    if kind.is_empty() || name.is_empty() {
        return None;
    }
    Some(Scope {
        kind: kind.to_string(),
        name: name.to_string(),
        actions: actions
            .split(',')
            .filter(|a| !a.is_empty())
            .map(str::to_string)
            .collect(),
    })
}

/// Who asks for a registry token.
pub enum Asker {
    Anonymous,
    Token(String),
}

/// Why no token is issued, in ghcr.io's words.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    /// 403 `DENIED`: no, bad, revoked or scope-less credentials, or a push the token may not make.
    Denied(&'static str),
}

pub const DENIED_BAD_CREDENTIALS: &str = "denied";
pub const DENIED_SCOPES: &str =
    "permission_denied: The token provided does not match expected scopes";
pub const DENIED_NAMESPACE: &str = "permission_denied: write_package";
/// `pull,push` with no credentials at all: ghcr.io answers 403, not 401 (FACTS: anonymous access).
pub const DENIED_ANONYMOUS: &str = "requested access to the resource is denied";

/// Decides what a registry token grants. Pulls that are not allowed are left out of the token (the
/// registry then refuses them, as ghcr.io does); a push that is not allowed refuses the whole request.
pub fn decide(
    world: &World,
    asker: &Asker,
    scopes: &[Scope],
) -> Result<(String, Vec<Access>), Refusal> {
    let identity: Option<Identity> = match asker {
        Asker::Anonymous => None,
        Asker::Token(token) => match world.authenticate(token) {
            Ok(identity) if identity.kind.has_scopes() => Some(identity),
            Ok(_) | Err(BadToken::Unknown | BadToken::Revoked | BadToken::Expired) => {
                return Err(Refusal::Denied(DENIED_BAD_CREDENTIALS))
            }
        },
    };
    let mut granted = Vec::new();
    for scope in scopes.iter().filter(|s| s.kind == "repository") {
        let target = world.split_registry_path(&scope.name);
        let public = target
            .as_ref()
            .and_then(|(owner, name)| world.active_package(&owner.login, name))
            .is_some_and(|package| package.visibility == Visibility::Public);
        let belongs = match (&identity, &target) {
            (Some(id), Some((owner, _))) => world.belongs(&id.login, &owner.login),
            _ => false,
        };
        let mut actions = Vec::new();
        for action in &scope.actions {
            let allowed = match action.as_str() {
                "pull" => {
                    public || (belongs && identity.as_ref().is_some_and(|i| i.can_read_packages()))
                }
                "push" => {
                    let Some(id) = &identity else {
                        return Err(Refusal::Denied(DENIED_ANONYMOUS));
                    };
                    if !id.can_write_packages() {
                        return Err(Refusal::Denied(DENIED_SCOPES));
                    }
                    if !belongs {
                        return Err(Refusal::Denied(DENIED_NAMESPACE));
                    }
                    true
                }
                _ => false,
            };
            if allowed && !actions.contains(action) {
                actions.push(action.clone());
            }
        }
        if !actions.is_empty() {
            granted.push(Access {
                kind: "repository".into(),
                name: scope.name.clone(),
                actions,
            });
        }
    }
    let subject = identity.map(|i| i.login).unwrap_or_default();
    Ok((subject, granted))
}

/// `GET /token?service=…&scope=…` with Basic credentials (or none): the registry's token realm.
pub async fn token(
    State(app): State<Shared>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let mut service = None;
    let mut scopes = Vec::new();
    for (key, value) in url::form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        match key.as_ref() {
            "service" => service = Some(value.into_owned()),
            "scope" => scopes.extend(value.split(' ').filter_map(parse_scope)),
            _ => {}
        }
    }
    if service.as_deref().is_some_and(|s| s != app.signer.service) {
        return registry_error(StatusCode::BAD_REQUEST, "UNSUPPORTED", "unknown service");
    }
    let asker = match presented_token(&headers) {
        Some(token) => Asker::Token(token),
        None => Asker::Anonymous,
    };
    let decision = decide(&app.world(), &asker, &scopes);
    match decision {
        Ok((subject, access)) => match app.signer.sign(&subject, access) {
            Ok(token) => Json(serde_json::json!({
                "token": token,
                "access_token": token,
                "expires_in": TOKEN_SECONDS,
                "issued_at": timestamp(OffsetDateTime::now_utc()),
            }))
            .into_response(),
            Err(error) => registry_error(StatusCode::INTERNAL_SERVER_ERROR, "UNKNOWN", &error),
        },
        Err(Refusal::Denied(message)) => registry_error(StatusCode::FORBIDDEN, "DENIED", message),
    }
}

/// The registry error shape ghcr.io answers with: `{"errors":[{"code","message"}]}`.
fn registry_error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = serde_json::json!({ "errors": [{ "code": code, "message": message }] });
    (status, Json(body)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn world() -> World {
        crate::world::sample_world()
    }

    fn scope(text: &str) -> Scope {
        parse_scope(text).unwrap()
    }

    fn token(t: &str) -> Asker {
        Asker::Token(t.into())
    }

    #[test]
    fn scopes_parse_with_slashes_in_names() {
        assert_eq!(
            parse_scope("repository:octo-cat/tools/cli:pull,push").unwrap(),
            Scope {
                kind: "repository".into(),
                name: "octo-cat/tools/cli".into(),
                actions: vec!["pull".into(), "push".into()]
            }
        );
        assert_eq!(
            parse_scope("registry:catalog:*").unwrap().actions,
            vec!["*"]
        );
        for bad in [
            "",
            "repository",
            "repository:x",
            ":x:pull",
            "repository::pull",
        ] {
            assert!(parse_scope(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn writers_push_to_their_namespace_and_their_orgs() {
        let world = world();
        for name in ["octo-cat/app", "acme/app"] {
            let (subject, access) = decide(
                &world,
                &token("ghp_writer"),
                &[scope(&format!("repository:{name}:pull,push"))],
            )
            .unwrap();
            assert_eq!(subject, "Octo-Cat");
            assert_eq!(access[0].actions, vec!["pull", "push"], "{name}");
        }
    }

    #[test]
    fn pushes_are_denied_like_ghcr_io() {
        let world = world();
        let push = [scope("repository:octo-cat/app:pull,push")];
        assert_eq!(
            decide(&world, &token("ghp_reader"), &push).unwrap_err(),
            Refusal::Denied(DENIED_SCOPES)
        );
        assert_eq!(
            decide(&world, &token("ghp_other"), &push).unwrap_err(),
            Refusal::Denied(DENIED_NAMESPACE)
        );
        assert_eq!(
            decide(
                &world,
                &token("ghp_other"),
                &[scope("repository:acme/app:push")]
            )
            .unwrap_err(),
            Refusal::Denied(DENIED_NAMESPACE)
        );
        assert_eq!(
            decide(&world, &token("github_pat_fine"), &push).unwrap_err(),
            Refusal::Denied(DENIED_BAD_CREDENTIALS)
        );
        assert_eq!(
            decide(&world, &token("ghp_unknown"), &[]).unwrap_err(),
            Refusal::Denied(DENIED_BAD_CREDENTIALS)
        );
        assert_eq!(
            decide(&world, &Asker::Anonymous, &push).unwrap_err(),
            Refusal::Denied(DENIED_ANONYMOUS)
        );
    }

    #[test]
    fn anonymous_pulls_only_public_packages() {
        let mut world = world();
        let pull = [scope("repository:octo-cat/app:pull")];
        let index = world
            .record_push("octo-cat/app", "sha256:a", Some("1"), None)
            .unwrap();
        let (_, access) = decide(&world, &Asker::Anonymous, &pull).unwrap();
        assert!(access.is_empty(), "private: nothing granted");
        let (_, access) = decide(&world, &token("ghp_other"), &pull).unwrap();
        assert!(access.is_empty(), "another user: nothing granted");
        world.packages[index].visibility = Visibility::Public;
        let (subject, access) = decide(&world, &Asker::Anonymous, &pull).unwrap();
        assert_eq!(subject, "");
        assert_eq!(access[0].actions, vec!["pull"]);
    }

    #[test]
    fn login_without_scope_gets_an_empty_token() {
        let (subject, access) = decide(&world(), &token("ghp_reader"), &[]).unwrap();
        assert_eq!(subject, "Octo-Cat");
        assert!(access.is_empty());
    }
}
