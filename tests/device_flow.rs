//! Browser sign-in through GitHub's device flow, against the emulated GitHub: approved, declined,
//! expired, cancelled, and unavailable without (or with a wrong) OAuth app client id.

mod common;

use common::*;
use ghcr::token::device_flow::{finish, start};
use ghcr::token::kind::TokenKind;
use ghcr::{token, Code};

async fn decide(user_code: &str, action: &str, login: Option<&str>) {
    let response = reqwest::Client::new()
        .post(format!("{}/_emulator/device", stack("GHCR_TEST_EMULATOR")))
        .json(&serde_json::json!({ "user_code": user_code, "action": action, "login": login }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
}

#[tokio::test]
async fn an_approved_sign_in_gives_an_oauth_token_with_the_packages_scopes() {
    let login = new_user("device").await;
    let config = emulated_github();
    let sign_in = start(&config, true).await.unwrap();
    assert_eq!(sign_in.user_code.len(), 9, "{}", sign_in.user_code);
    assert!(sign_in.verification_uri.ends_with("/login/device"));
    let shown = serde_json::to_string(&sign_in).unwrap();
    assert!(
        !shown.contains("device_code"),
        "the device code stays in the backend: {shown}"
    );
    decide(&sign_in.user_code, "approve", Some(&login)).await;
    let secret = finish(&config, &sign_in, || true).await.unwrap();
    let report = token::check(&config, &secret).await.unwrap();
    assert_eq!(report.kind, TokenKind::OAuth);
    assert_eq!(report.login, login);
    assert!(report.scope_check.write && report.scope_check.delete);
    assert!(report.problem().is_none());
}

#[tokio::test]
async fn a_declined_or_expired_sign_in_says_so() {
    let config = emulated_github();
    let sign_in = start(&config, false).await.unwrap();
    decide(&sign_in.user_code, "deny", None).await;
    let error = finish(&config, &sign_in, || true).await.unwrap_err();
    assert_eq!(error.code, Code::DeviceFlowDenied);

    let sign_in = start(&config, false).await.unwrap();
    decide(&sign_in.user_code, "expire", None).await;
    let error = finish(&config, &sign_in, || true).await.unwrap_err();
    assert_eq!(error.code, Code::DeviceFlowExpired);
}

#[tokio::test]
async fn a_cancelled_sign_in_stops_polling() {
    let config = emulated_github();
    let sign_in = start(&config, false).await.unwrap();
    let error = finish(&config, &sign_in, || false).await.unwrap_err();
    assert!(error.message.contains("cancelled"), "{error}");
}

#[tokio::test]
async fn without_a_valid_client_id_browser_sign_in_is_unavailable() {
    let mut config = emulated_github();
    config.oauth_client_id = None;
    assert_eq!(
        start(&config, false).await.unwrap_err().code,
        Code::DeviceFlowUnavailable
    );
    config.oauth_client_id = Some("not-an-app".into());
    let error = start(&config, false).await.unwrap_err();
    assert_eq!(error.code, Code::DeviceFlowUnavailable);
    assert!(error.hint.contains("GHCR_OAUTH_CLIENT_ID"), "{error}");
}
