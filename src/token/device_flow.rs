//! Sign-in with the browser instead of pasting: GitHub's OAuth device flow. Ask for a device and user
//! code, show the user code, open the verification page, then poll at the given interval (slower after
//! `slow_down`) until the person approves (a `gho_` token), declines, or the code expires. Needs an OAuth
//! app client id with the device flow enabled (`GHCR_OAUTH_CLIENT_ID`).

use super::scopes;
use crate::config::Config;
use crate::error::{Code, Error, Result};
use crate::http::{api_client, on_origin, read_body, Limit};
use crate::secret::Secret;
use serde::{Deserialize, Serialize};
use std::time::{Duration, Instant};

/// A sign-in waiting for the person. Serialises without the device code, which stays in the backend.
#[derive(Debug, Serialize)]
pub struct DeviceSignIn {
    pub user_code: String,
    pub verification_uri: String,
    pub expires_in: u64,
    #[serde(skip)]
    device_code: Secret,
    #[serde(skip)]
    interval: u64,
    #[serde(skip)]
    client_id: String,
}

#[derive(Deserialize)]
struct CodeAnswer {
    device_code: String,
    user_code: String,
    verification_uri: String,
    expires_in: u64,
    interval: u64,
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: Option<String>,
    error: Option<String>,
    interval: Option<u64>,
}

fn unavailable(detail: &str) -> Error {
    Error::new(
        Code::DeviceFlowUnavailable,
        format!("Browser sign-in is not available: {detail}"),
        "Paste a classic token instead, or check GHCR_OAUTH_CLIENT_ID (an OAuth app with the device flow enabled).",
    )
}

fn web_root(config: &Config) -> String {
    config.web_url.as_str().trim_end_matches('/').to_string()
}

/// `POST {web}/login/device/code` for the packages scopes.
pub async fn start(config: &Config, include_delete: bool) -> Result<DeviceSignIn> {
    let client_id = config
        .oauth_client_id
        .clone()
        .ok_or_else(|| unavailable("no OAuth app client id is configured"))?;
    let mut wanted = vec![scopes::WRITE, scopes::READ];
    if include_delete {
        wanted.push(scopes::DELETE);
    }
    let response = api_client()?
        .post(format!("{}/login/device/code", web_root(config)))
        .header("accept", "application/json")
        .form(&[
            ("client_id", client_id.as_str()),
            ("scope", &wanted.join(" ")),
        ])
        .send()
        .await
        .map_err(|_| unavailable("GitHub cannot be reached"))?;
    if !response.status().is_success() {
        return Err(unavailable(&format!(
            "GitHub answered {}",
            response.status()
        )));
    }
    let body = read_body(response, Limit::TOKEN)
        .await
        .map_err(|e| unavailable(&format!("GitHub {}", e.describe())))?;
    let answer: CodeAnswer = serde_json::from_slice(&body)
        .map_err(|_| unavailable("GitHub's answer could not be read"))?;
    // The page the person is sent to must be GitHub's own: a server that names another is not
    // followed (nothing is opened).
    if !on_origin(&answer.verification_uri, &config.web_url) {
        return Err(unavailable(&format!(
            "GitHub's answer sends you to {}, which is not {}",
            answer.verification_uri,
            web_root(config)
        )));
    }
    Ok(DeviceSignIn {
        user_code: answer.user_code,
        verification_uri: answer.verification_uri,
        expires_in: answer.expires_in,
        device_code: Secret::new(answer.device_code),
        interval: answer.interval.max(1),
        client_id,
    })
}

/// Polls until the person decides or the code expires; `keep_going` is asked before each poll so the
/// caller can cancel.
pub async fn finish(
    config: &Config,
    sign_in: &DeviceSignIn,
    keep_going: impl Fn() -> bool,
) -> Result<Secret> {
    let http = api_client()?;
    let deadline = Instant::now() + Duration::from_secs(sign_in.expires_in);
    let mut interval = sign_in.interval;
    loop {
        tokio::time::sleep(Duration::from_secs(interval)).await;
        if !keep_going() {
            return Err(Error::new(
                Code::DeviceFlowDenied,
                "Browser sign-in was cancelled",
                "Start again, or paste a token.",
            ));
        }
        if Instant::now() >= deadline {
            return Err(expired());
        }
        let response = http
            .post(format!("{}/login/oauth/access_token", web_root(config)))
            .header("accept", "application/json")
            .form(&[
                ("client_id", sign_in.client_id.as_str()),
                ("device_code", sign_in.device_code.expose()),
                ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
            ])
            .send()
            .await;
        // A network hiccup while waiting is not the end: try again at the next interval.
        let Ok(response) = response else { continue };
        let Ok(body) = read_body(response, Limit::TOKEN).await else {
            continue;
        };
        let Ok(answer) = serde_json::from_slice::<TokenAnswer>(&body) else {
            continue;
        };
        if let Some(token) = answer.access_token {
            return Ok(Secret::new(token));
        }
        match answer.error.as_deref() {
            Some("authorization_pending") => {}
            Some("slow_down") => interval = answer.interval.unwrap_or(interval + 5),
            Some("expired_token") => return Err(expired()),
            Some("access_denied") => {
                return Err(Error::new(
                    Code::DeviceFlowDenied,
                    "The sign-in was declined in the browser",
                    "Start again and choose Authorize, or paste a token.",
                ))
            }
            Some(other) => return Err(unavailable(&format!("GitHub said {other}"))),
            None => {
                return Err(unavailable(
                    "GitHub's answer had neither a token nor an error",
                ))
            }
        }
    }
}

fn expired() -> Error {
    Error::new(
        Code::DeviceFlowExpired,
        "The sign-in code expired before it was approved",
        "Start again: the new code is valid for 15 minutes.",
    )
}

/// The browser sign-in waiting for the person, one at a time: starting another or cancelling makes the
/// one before stop at its next poll (its `finish` then says it was cancelled).
#[derive(Default)]
pub struct SignInSlot(std::sync::Mutex<Option<std::sync::Arc<DeviceSignIn>>>);

impl SignInSlot {
    fn current(&self) -> std::sync::MutexGuard<'_, Option<std::sync::Arc<DeviceSignIn>>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Starts a sign-in (replacing any before it); the code to show and the page to open.
    pub async fn start(
        &self,
        config: &Config,
        include_delete: bool,
    ) -> Result<std::sync::Arc<DeviceSignIn>> {
        let sign_in = std::sync::Arc::new(start(config, include_delete).await?);
        *self.current() = Some(sign_in.clone());
        Ok(sign_in)
    }

    /// Waits for the person to approve the sign-in in progress, then keeps the token like a pasted
    /// one (checked, in the keyring).
    pub async fn finish(&self, config: &Config) -> Result<super::Account> {
        let sign_in = self.current().clone().ok_or_else(|| {
            Error::new(
                Code::DeviceFlowDenied,
                "No browser sign-in is in progress",
                "Start one with \"Sign in with GitHub\".",
            )
        })?;
        let still_wanted = || {
            self.current()
                .as_ref()
                .is_some_and(|current| std::sync::Arc::ptr_eq(current, &sign_in))
        };
        let result = finish(config, &sign_in, still_wanted).await;
        if still_wanted() {
            *self.current() = None;
        }
        super::save(config, result?).await
    }

    /// Stops the sign-in in progress, if any.
    pub fn cancel(&self) {
        *self.current() = None;
    }
}
