//! The emulator's shared state and the pieces every route uses: reading the token from a request, and
//! answering the way GitHub does (JSON error shape, `X-RateLimit-*` and `X-GitHub-*` headers).

use crate::device::Devices;
use crate::registry::Registry;
use crate::token_service::Signer;
use crate::world::{Identity, World};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use time::OffsetDateTime;

pub type Shared = Arc<App>;

pub struct App {
    world: Mutex<World>,
    pub signer: Signer,
    pub registry: Registry,
    /// The registry's `host:port`, for pull commands on web pages.
    pub registry_host: String,
    /// Where the emulator answers, as the API and web root: `http://127.0.0.1:PORT`.
    pub base_url: String,
    rate: Mutex<HashMap<String, RateWindow>>,
    /// Device-flow sign-ins waiting for a person.
    pub devices: Devices,
    /// Failures the tests asked for (`POST /_emulator/faults`), answered instead of the real thing.
    pub faults: Mutex<Vec<Fault>>,
}

/// A failure to answer instead of the real response: for requests carrying `token` whose path
/// contains `path`, `times` times.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Fault {
    pub token: String,
    #[serde(default)]
    pub path: String,
    pub status: u16,
    #[serde(default)]
    pub body: String,
    #[serde(default)]
    pub retry_after: Option<u64>,
    #[serde(default = "one")]
    pub times: u32,
    /// A slow body: `body` is sent, then the answer stalls this long before it ends.
    #[serde(default)]
    pub stall_seconds: Option<u64>,
}

fn one() -> u32 {
    1
}

/// Middleware for the REST routes: a matching fault is answered instead (GitHub's transient failures,
/// a truncated body, a rate limit with `Retry-After`, a body that stalls).
pub async fn inject_faults(State(app): State<Shared>, request: Request, next: Next) -> Response {
    let token = presented_token(request.headers());
    let path = request.uri().path().to_string();
    let fault = {
        let mut faults = app.faults.lock().unwrap_or_else(|p| p.into_inner());
        let found = faults
            .iter_mut()
            .find(|f| f.times > 0 && Some(&f.token) == token.as_ref() && path.contains(&f.path));
        found.map(|f| {
            f.times -= 1;
            f.clone()
        })
    };
    let Some(fault) = fault else {
        return next.run(request).await;
    };
    let mut response = match fault.stall_seconds {
        None => Response::new(Body::from(fault.body)),
        Some(seconds) => {
            let start = futures_util::stream::once(async move {
                Ok::<_, std::io::Error>(axum::body::Bytes::from(fault.body))
            });
            let stall = futures_util::stream::once(async move {
                tokio::time::sleep(std::time::Duration::from_secs(seconds)).await;
                Ok(axum::body::Bytes::new())
            });
            Response::new(Body::from_stream(futures_util::StreamExt::chain(
                start, stall,
            )))
        }
    };
    *response.status_mut() = StatusCode::from_u16(fault.status).unwrap_or(StatusCode::BAD_GATEWAY);
    response
        .headers_mut()
        .insert("content-type", HeaderValue::from_static("application/json"));
    if let Some(seconds) = fault.retry_after {
        response
            .headers_mut()
            .insert("retry-after", HeaderValue::from(seconds));
    }
    response
}

/// GitHub's primary rate limit: 5,000 requests an hour for a token, 60 anonymous.
#[derive(Debug, Clone, Copy)]
struct RateWindow {
    reset: i64,
    used: u32,
}

const RATE_WINDOW_SECONDS: i64 = 3600;

impl App {
    pub fn new(
        world: World,
        signer: Signer,
        registry: Registry,
        registry_host: String,
        base_url: String,
    ) -> App {
        App {
            world: Mutex::new(world),
            signer,
            registry,
            registry_host,
            base_url,
            rate: Mutex::new(HashMap::new()),
            devices: Devices::default(),
            faults: Mutex::new(Vec::new()),
        }
    }

    /// The world, locked. Never held across an `.await`.
    pub fn world(&self) -> MutexGuard<'_, World> {
        self.world
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The token a request carries: `Authorization: token X`, `Bearer X`, or Basic `user:X`.
pub fn presented_token(headers: &HeaderMap) -> Option<String> {
    let value = headers.get("authorization")?.to_str().ok()?.trim();
    let (scheme, rest) = value.split_once(' ')?;
    let rest = rest.trim();
    match scheme.to_ascii_lowercase().as_str() {
        "token" | "bearer" => Some(rest.to_string()),
        "basic" => {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(rest)
                .ok()?;
            let text = String::from_utf8(decoded).ok()?;
            let (_, password) = text.split_once(':')?;
            Some(password.to_string())
        }
        _ => None,
    }
}

/// Who calls the REST API.
pub enum Caller {
    Anonymous,
    Known(Identity),
    Bad,
}

pub fn caller(app: &App, headers: &HeaderMap) -> Caller {
    match presented_token(headers) {
        None => Caller::Anonymous,
        Some(token) => match app.world().authenticate(&token) {
            Ok(identity) => Caller::Known(identity),
            Err(_) => Caller::Bad,
        },
    }
}

pub const DOCS: &str = "https://docs.github.com/rest";

/// A refusal in GitHub's words; answered as `{"message","documentation_url","status"}`.
#[derive(Debug)]
pub struct GhError {
    status: StatusCode,
    message: String,
    documentation_url: String,
}

impl GhError {
    pub fn new(status: StatusCode, message: impl Into<String>, documentation_url: &str) -> GhError {
        GhError {
            status,
            message: message.into(),
            documentation_url: documentation_url.to_string(),
        }
    }
}

impl IntoResponse for GhError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({
            "message": self.message,
            "documentation_url": self.documentation_url,
            "status": self.status.as_u16().to_string(),
        });
        (self.status, axum::Json(body)).into_response()
    }
}

pub fn gh_error(status: StatusCode, message: &str, documentation_url: &str) -> Response {
    GhError::new(status, message, documentation_url).into_response()
}

pub fn bad_credentials() -> GhError {
    GhError::new(StatusCode::UNAUTHORIZED, "Bad credentials", DOCS)
}

pub fn requires_authentication(doc: &str) -> GhError {
    GhError::new(StatusCode::UNAUTHORIZED, "Requires authentication", doc)
}

pub fn not_found(doc: &str) -> GhError {
    GhError::new(StatusCode::NOT_FOUND, "Not Found", doc)
}

/// The caller as an identity, or the 401 GitHub gives for none or a bad one.
pub fn require_identity(caller: Caller, doc: &str) -> Result<Identity, GhError> {
    match caller {
        Caller::Known(identity) => Ok(identity),
        Caller::Anonymous => Err(requires_authentication(doc)),
        Caller::Bad => Err(bad_credentials()),
    }
}

/// RFC 3339 in UTC with seconds, as GitHub writes times: `2026-11-28T05:22:15Z`.
pub fn timestamp(at: OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second()
    )
}

/// Middleware for the REST routes: counts the request against the caller's rate limit, refuses it when
/// the limit is spent, and adds GitHub's headers to every answer.
pub async fn github_headers(State(app): State<Shared>, request: Request, next: Next) -> Response {
    let token = presented_token(request.headers());
    let (limit, key) = match &token {
        Some(token) => (5000u32, token.clone()),
        None => (60u32, "anonymous".to_string()),
    };
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let window = {
        let mut rate = app.rate.lock().unwrap_or_else(|p| p.into_inner());
        let window = rate.entry(key).or_insert(RateWindow {
            reset: now + RATE_WINDOW_SECONDS,
            used: 0,
        });
        if window.reset <= now {
            *window = RateWindow {
                reset: now + RATE_WINDOW_SECONDS,
                used: 0,
            };
        }
        window.used = window.used.saturating_add(1);
        *window
    };
    let org_refusal = org_refusal(&app, request.uri().path(), token.as_deref());
    let expires_at = token
        .as_ref()
        .and_then(|t| app.world().tokens.get(t).and_then(|t| t.expires_at));
    let mut response = if window.used > limit {
        gh_error(
            StatusCode::FORBIDDEN,
            "API rate limit exceeded. Wait for the limit to reset.",
            "https://docs.github.com/rest/overview/resources-in-the-rest-api#rate-limiting",
        )
    } else if let Some(refusal) = org_refusal {
        refusal
    } else {
        next.run(request).await
    };
    if let Some(at) = expires_at {
        if let Ok(value) = HeaderValue::from_str(&token_expiration(at)) {
            response
                .headers_mut()
                .insert("github-authentication-token-expiration", value);
        }
    }
    // Rejections from the router itself (bad percent-encoding, wrong method) get GitHub's JSON shape too.
    let is_json = response
        .headers()
        .get("content-type")
        .is_some_and(|kind| kind.as_bytes().starts_with(b"application/json"));
    if !is_json && (response.status().is_client_error() || response.status().is_server_error()) {
        let status = response.status();
        response = gh_error(status, status.canonical_reason().unwrap_or("Error"), DOCS);
    }
    let headers = response.headers_mut();
    let remaining = limit.saturating_sub(window.used.min(limit));
    for (name, value) in [
        ("x-ratelimit-limit", limit.to_string()),
        ("x-ratelimit-remaining", remaining.to_string()),
        ("x-ratelimit-reset", window.reset.to_string()),
        ("x-ratelimit-used", window.used.min(limit).to_string()),
        ("x-ratelimit-resource", "core".to_string()),
        ("x-github-media-type", "github.v3; format=json".to_string()),
        ("x-github-api-version-selected", "2022-11-28".to_string()),
        (
            "x-github-request-id",
            format!("{:X}", rand::random::<u64>()),
        ),
    ] {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    }
    if headers
        .get("content-type")
        .is_some_and(|kind| kind == "application/json")
    {
        headers.insert(
            "content-type",
            HeaderValue::from_static("application/json; charset=utf-8"),
        );
    }
    response
}

/// An org's refusal of the token for a route under `/orgs/{org}/`, in GitHub's words: its ban on
/// classic tokens, or its SAML SSO with the `X-GitHub-SSO` header naming where to authorise the token.
fn org_refusal(app: &App, path: &str, token: Option<&str>) -> Option<Response> {
    let org = path.strip_prefix("/orgs/")?.split('/').next()?;
    let token = token?;
    let kind = crate::world::TokenKind::of(token);
    let refusal = app.world().org_refusal(org, token, kind)?;
    Some(match refusal {
        crate::world::OrgRefusal::ClassicTokensForbidden => gh_error(
            StatusCode::FORBIDDEN,
            &format!("`{org}` forbids access via a personal access token (classic). Please use a GitHub App, OAuth App, or a personal access token with fine-grained permissions."),
            DOCS,
        ),
        crate::world::OrgRefusal::SsoRequired => {
            let mut response = gh_error(
                StatusCode::FORBIDDEN,
                "Resource protected by organization SAML enforcement. You must grant your Personal Access token access to this organization.",
                "https://docs.github.com/articles/authenticating-to-a-github-organization-with-saml-single-sign-on/",
            );
            let url = format!(
                "required; url={}/orgs/{org}/sso?authorization_request={:X}",
                app.base_url,
                rand::random::<u64>()
            );
            if let Ok(value) = HeaderValue::from_str(&url) {
                response.headers_mut().insert("x-github-sso", value);
            }
            response
        }
    })
}

/// `GitHub-Authentication-Token-Expiration`'s form: `2026-12-03 10:00:00 UTC`.
pub fn token_expiration(at: OffsetDateTime) -> String {
    timestamp(at).replace('T', " ").replace('Z', " UTC")
}

/// An empty answer with a status (204 for deletes and restores).
pub fn no_content() -> Response {
    Response::builder()
        .status(StatusCode::NO_CONTENT)
        .body(Body::empty())
        .unwrap_or_default()
}
