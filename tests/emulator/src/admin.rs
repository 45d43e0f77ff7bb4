//! Calls under `/_emulator/` that only tests and the demo make: mint and revoke tokens at run time,
//! flip a package's visibility (what a person does on the settings page), and a health check.

use crate::app::{no_content, Shared};
use crate::world::{TokenKind, Visibility};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

pub fn routes() -> Router<Shared> {
    Router::new()
        .route(
            "/_emulator/health",
            get(|| async { Json(json!({"status": "ok"})) }),
        )
        .route("/_emulator/users", post(create_user))
        .route("/_emulator/tokens", post(create_token))
        .route("/_emulator/tokens/{token}/revoke", post(revoke_token))
        .route(
            "/_emulator/packages/{owner}/{name}/visibility",
            post(set_visibility),
        )
        .route(
            "/_emulator/packages/{owner}/{name}/downloads",
            post(set_downloads),
        )
        .route("/_emulator/orgs/{org}/policy", post(set_org_policy))
        .route("/_emulator/faults", post(add_fault))
        .route(
            "/_emulator/registry-events",
            post(crate::registry::registry_events),
        )
}

/// A token value: the kind's prefix and 36 random letters and digits, like GitHub's.
pub fn new_token_value(prefix: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut value = prefix.to_string();
    for _ in 0..36 {
        let index = (rand::random::<u32>() as usize) % ALPHABET.len();
        value.push(char::from(ALPHABET[index]));
    }
    value
}

fn admin_error(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "message": message }))).into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewUser {
    login: String,
    /// Orgs to create (if new) with this user as a member.
    #[serde(default)]
    orgs: Vec<String>,
    /// Public repositories of the user to create, by name.
    #[serde(default)]
    repositories: Vec<String>,
}

/// Adds a user (and orgs it belongs to), so each test can have a namespace of its own.
async fn create_user(State(app): State<Shared>, body: axum::body::Bytes) -> Response {
    let request: NewUser = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(error) => {
            return admin_error(
                StatusCode::BAD_REQUEST,
                &format!("Problems parsing JSON: {error}"),
            )
        }
    };
    let added = {
        let mut world = app.world();
        world.add_user(&request.login, &request.orgs).map(|()| {
            for name in &request.repositories {
                let id = world.new_id();
                world.repositories.push(crate::world::Repository {
                    id,
                    owner: request.login.clone(),
                    name: name.clone(),
                    private: false,
                });
            }
        })
    };
    match added {
        Ok(()) => (
            StatusCode::CREATED,
            Json(json!({ "login": request.login, "orgs": request.orgs })),
        )
            .into_response(),
        Err(error) => admin_error(StatusCode::UNPROCESSABLE_ENTITY, &error),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewToken {
    login: String,
    #[serde(default)]
    scopes: Vec<String>,
    /// classic (default), oauth, fine_grained, user_to_server, server.
    kind: Option<String>,
    /// Seconds from now; negative makes an already expired token.
    expires_in_seconds: Option<i64>,
}

async fn create_token(State(app): State<Shared>, body: axum::body::Bytes) -> Response {
    let request: NewToken = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(error) => {
            return admin_error(
                StatusCode::BAD_REQUEST,
                &format!("Problems parsing JSON: {error}"),
            )
        }
    };
    let kind = match request.kind.as_deref().unwrap_or("classic") {
        "classic" => TokenKind::Classic,
        "oauth" => TokenKind::OAuth,
        "fine_grained" => TokenKind::FineGrained,
        "user_to_server" => TokenKind::UserToServer,
        "server" => TokenKind::Server,
        other => {
            return admin_error(
                StatusCode::UNPROCESSABLE_ENTITY,
                &format!("unknown token kind {other:?}"),
            )
        }
    };
    let token = new_token_value(kind.prefix());
    let expires_at = request
        .expires_in_seconds
        .map(|s| time::OffsetDateTime::now_utc() + time::Duration::seconds(s));
    let mut world = app.world();
    match world.add_token(
        token.clone(),
        &request.login,
        request.scopes.clone(),
        expires_at,
        false,
    ) {
        Ok(()) => (
            StatusCode::CREATED,
            Json(json!({ "token": token, "login": request.login, "scopes": request.scopes })),
        )
            .into_response(),
        Err(error) => admin_error(StatusCode::UNPROCESSABLE_ENTITY, &error),
    }
}

async fn revoke_token(State(app): State<Shared>, Path(token): Path<String>) -> Response {
    match app.world().tokens.get_mut(&token) {
        Some(found) => {
            found.revoked = true;
            no_content()
        }
        None => admin_error(StatusCode::NOT_FOUND, "no such token"),
    }
}

#[derive(Deserialize)]
struct NewVisibility {
    visibility: String,
}

/// Queues a failure for the REST routes (see `app::Fault`).
async fn add_fault(State(app): State<Shared>, body: axum::body::Bytes) -> Response {
    match serde_json::from_slice::<crate::app::Fault>(&body) {
        Ok(fault) => {
            app.faults
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(fault);
            no_content()
        }
        Err(error) => admin_error(
            StatusCode::BAD_REQUEST,
            &format!("Problems parsing JSON: {error}"),
        ),
    }
}

async fn set_visibility(
    State(app): State<Shared>,
    Path((owner, name)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> Response {
    let request: NewVisibility = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(error) => {
            return admin_error(
                StatusCode::BAD_REQUEST,
                &format!("Problems parsing JSON: {error}"),
            )
        }
    };
    let Some(visibility) = Visibility::parse(&request.visibility) else {
        return admin_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "visibility must be public, private or internal",
        );
    };
    match app.world().set_visibility(&owner, &name, visibility) {
        Some(_) => no_content(),
        None => admin_error(StatusCode::NOT_FOUND, "no such package"),
    }
}

/// `{"digest": "sha256:…", "count": N}`: how often a version was pulled.
async fn set_downloads(
    State(app): State<Shared>,
    Path((owner, name)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> Response {
    #[derive(serde::Deserialize)]
    struct Downloads {
        digest: String,
        count: u64,
    }
    let request: Downloads = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(error) => {
            return admin_error(
                StatusCode::BAD_REQUEST,
                &format!("Problems parsing JSON: {error}"),
            )
        }
    };
    let mut world = app.world();
    let version = world
        .package_index(&owner, &name)
        .and_then(|i| world.packages.get_mut(i))
        .and_then(|p| p.versions.iter_mut().find(|v| v.digest == request.digest));
    match version {
        Some(version) => {
            version.downloads = request.count;
            no_content()
        }
        None => admin_error(StatusCode::NOT_FOUND, "no such package version"),
    }
}

/// An org's token policy (`world::OrgPolicy` as JSON), replacing the one it had.
async fn set_org_policy(
    State(app): State<Shared>,
    Path(org): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    let policy: crate::world::OrgPolicy = match serde_json::from_slice(&body) {
        Ok(policy) => policy,
        Err(error) => {
            return admin_error(
                StatusCode::BAD_REQUEST,
                &format!("Problems parsing JSON: {error}"),
            )
        }
    };
    let mut world = app.world();
    if world.org(&org).is_none() {
        return admin_error(StatusCode::NOT_FOUND, "no such organization");
    }
    world.org_policies.insert(org.to_ascii_lowercase(), policy);
    no_content()
}
