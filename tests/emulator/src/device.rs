//! GitHub's OAuth device flow, emulated: `POST /login/device/code` hands out a device and a user code,
//! `/login/device` is the page where a person enters the user code and approves, and
//! `POST /login/oauth/access_token` answers `authorization_pending`, `slow_down` (interval + 5 s when
//! polled too fast), `expired_token`, `access_denied`, or a `gho_` token with the asked scopes.

use crate::admin::new_token_value;
use crate::app::Shared;
use crate::web::escape;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/login/device/code", post(device_code))
        .route(
            "/login/device",
            get(verification_page).post(verification_form),
        )
        .route("/login/oauth/access_token", post(access_token))
        .route("/_emulator/device", post(admin_decide))
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Decision {
    Waiting,
    Approved(String),
    Denied,
}

#[derive(Debug)]
struct Pending {
    client_id: String,
    scopes: Vec<String>,
    user_code: String,
    expires_at: Instant,
    interval: u64,
    last_poll: Option<Instant>,
    decision: Decision,
}

/// Device codes waiting for a person, by device code.
#[derive(Default)]
pub struct Devices(Mutex<HashMap<String, Pending>>);

impl Devices {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Pending>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Approves (with a login), denies or expires the device code whose user code is given.
    fn decide(&self, user_code: &str, decision: Option<Decision>) -> bool {
        let mut devices = self.lock();
        let Some(pending) = devices
            .values_mut()
            .find(|p| p.user_code.eq_ignore_ascii_case(user_code.trim()))
        else {
            return false;
        };
        match decision {
            Some(decision) => pending.decision = decision,
            None => pending.expires_at = Instant::now(),
        }
        true
    }
}

fn form(body: &str) -> HashMap<String, String> {
    url::form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect()
}

fn oauth_error(error: &str, description: &str) -> Response {
    Json(json!({
        "error": error,
        "error_description": description,
        "error_uri": "https://docs.github.com/developers/apps/authorizing-oauth-apps#error-codes-for-the-device-flow",
    }))
    .into_response()
}

/// `XXXX-XXXX` from letters that can't be mistaken for one another.
fn user_code() -> String {
    const LETTERS: &[u8] = b"BCDFGHJKLMNPQRSTVWXZ";
    let mut code = String::new();
    for i in 0..8 {
        if i == 4 {
            code.push('-');
        }
        code.push(char::from(
            LETTERS[(rand::random::<u32>() as usize) % LETTERS.len()],
        ));
    }
    code
}

async fn device_code(State(app): State<Shared>, body: String) -> Response {
    let fields = form(&body);
    let client_id = fields.get("client_id").cloned().unwrap_or_default();
    let (known, interval, expires_in) = {
        let world = app.world();
        (
            world.oauth.client_ids.contains(&client_id),
            world.oauth.device_interval_seconds,
            world.oauth.device_expires_seconds,
        )
    };
    if !known {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({ "error": "incorrect_client_credentials", "error_description": "The client_id is not valid." })),
        )
            .into_response();
    }
    let scopes = fields
        .get("scope")
        .map(|s| {
            s.split([' ', ','])
                .filter(|x| !x.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    let device_code = format!("{:040x}", rand::random::<u128>());
    let code = user_code();
    app.devices.lock().insert(
        device_code.clone(),
        Pending {
            client_id,
            scopes,
            user_code: code.clone(),
            expires_at: Instant::now() + Duration::from_secs(expires_in),
            interval,
            last_poll: None,
            decision: Decision::Waiting,
        },
    );
    Json(json!({
        "device_code": device_code,
        "user_code": code,
        "verification_uri": format!("{}/login/device", app.base_url),
        "expires_in": expires_in,
        "interval": interval,
    }))
    .into_response()
}

async fn access_token(State(app): State<Shared>, body: String) -> Response {
    let fields = form(&body);
    if fields.get("grant_type").map(String::as_str)
        != Some("urn:ietf:params:oauth:grant-type:device_code")
    {
        return oauth_error("unsupported_grant_type", "The grant type is not supported.");
    }
    let device_code = fields.get("device_code").cloned().unwrap_or_default();
    let client_id = fields.get("client_id").cloned().unwrap_or_default();
    let now = Instant::now();
    let (login, scopes) = {
        let mut devices = app.devices.lock();
        let Some(pending) = devices.get_mut(&device_code) else {
            return oauth_error(
                "bad_verification_code",
                "The device_code provided is not valid.",
            );
        };
        if pending.client_id != client_id {
            return oauth_error(
                "incorrect_client_credentials",
                "The client_id is not valid.",
            );
        }
        if now >= pending.expires_at {
            devices.remove(&device_code);
            return oauth_error("expired_token", "The device_code has expired.");
        }
        let too_fast = pending
            .last_poll
            .is_some_and(|last| now.duration_since(last) < Duration::from_secs(pending.interval));
        pending.last_poll = Some(now);
        if too_fast {
            pending.interval += 5;
            let interval = pending.interval;
            return Json(json!({
                "error": "slow_down",
                "error_description": "Too many requests have been made in the same timeframe.",
                "interval": interval,
            }))
            .into_response();
        }
        match pending.decision.clone() {
            Decision::Waiting => {
                return oauth_error(
                    "authorization_pending",
                    "The authorization request is still pending.",
                )
            }
            Decision::Denied => {
                devices.remove(&device_code);
                return oauth_error("access_denied", "The authorization request was denied.");
            }
            Decision::Approved(login) => {
                let pending = devices.remove(&device_code);
                (login, pending.map(|p| p.scopes).unwrap_or_default())
            }
        }
    };
    let token = new_token_value("gho_");
    if let Err(error) = app
        .world()
        .add_token(token.clone(), &login, scopes.clone(), None, false)
    {
        return oauth_error("access_denied", &error);
    }
    Json(json!({ "access_token": token, "token_type": "bearer", "scope": scopes.join(",") }))
        .into_response()
}

async fn verification_page(State(app): State<Shared>) -> Html<String> {
    let users: String = app
        .world()
        .accounts
        .iter()
        .filter(|a| a.kind == crate::world::AccountKind::User)
        .map(|a| format!("<option>{}</option>", escape(&a.login)))
        .collect();
    Html(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Device activation</title></head>\
         <body><h1>Device activation</h1><form method=\"post\">\
         <p><label>Code <input name=\"user_code\" id=\"user-code\" placeholder=\"XXXX-XXXX\"></label></p>\
         <p><label>Signed in as <select name=\"login\">{users}</select></label></p>\
         <button name=\"action\" value=\"approve\">Authorize</button> <button name=\"action\" value=\"deny\">Cancel</button>\
         </form></body></html>"
    ))
}

async fn verification_form(State(app): State<Shared>, body: String) -> Response {
    let fields = form(&body);
    let code = fields.get("user_code").cloned().unwrap_or_default();
    let decision = match fields.get("action").map(String::as_str) {
        Some("deny") => Decision::Denied,
        _ => Decision::Approved(fields.get("login").cloned().unwrap_or_default()),
    };
    if app.devices.decide(&code, Some(decision)) {
        Html("<p>Congratulations, you're all set! Your device is now connected.</p>".to_string())
            .into_response()
    } else {
        (
            StatusCode::NOT_FOUND,
            Html("<p>That code is not valid.</p>".to_string()),
        )
            .into_response()
    }
}

#[derive(Deserialize)]
struct AdminDecision {
    user_code: String,
    /// approve (with `login`), deny, or expire.
    action: String,
    login: Option<String>,
}

/// `POST /_emulator/device`: what a person does on the verification page, for tests.
async fn admin_decide(State(app): State<Shared>, body: axum::body::Bytes) -> StatusCode {
    let Ok(request) = serde_json::from_slice::<AdminDecision>(&body) else {
        return StatusCode::BAD_REQUEST;
    };
    let decision = match (request.action.as_str(), request.login) {
        ("approve", Some(login)) => Some(Decision::Approved(login)),
        ("deny", _) => Some(Decision::Denied),
        ("expire", _) => None,
        _ => return StatusCode::UNPROCESSABLE_ENTITY,
    };
    if app.devices.decide(&request.user_code, decision) {
        StatusCode::NO_CONTENT
    } else {
        StatusCode::NOT_FOUND
    }
}
