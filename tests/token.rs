//! Token checks against the test world (the GHCR emulator in GitHub's place, the real registry behind
//! it): every kind of token a person may paste gets the right code and message, and nothing panics.

mod common;

use common::*;
use ghcr::registry::{check_push, PushCheck};
use ghcr::token::kind::TokenKind;
use ghcr::token::{self, check};
use ghcr::Code;
use std::process::Command;

async fn checked(token: &str) -> Result<token::TokenReport, ghcr::Error> {
    check(&emulated_github(), &token::from_pasted(token)?).await
}

#[tokio::test]
async fn a_classic_token_with_all_scopes_can_push() {
    let login = new_user("Alice").await;
    let token = new_token(
        &login,
        "classic",
        &["write:packages", "read:packages", "delete:packages"],
    )
    .await;
    let report = checked(&token).await.unwrap();
    assert_eq!(report.login, login);
    assert_eq!(report.kind, TokenKind::Classic);
    assert!(report.scope_check.read && report.scope_check.write && report.scope_check.delete);
    assert!(report.scope_check.missing.is_empty());
    assert_eq!(
        report.push,
        PushCheck::Allowed {
            repository: format!("{}/ghcr-desktop-push-check", login.to_lowercase())
        }
    );
    assert!(report.problem().is_none());
    assert_eq!(report.hint, format!("ghp_…{}", &token[token.len() - 4..]));
}

#[tokio::test]
async fn an_oauth_token_is_checked_like_a_classic_one() {
    let login = new_user("oauth").await;
    let token = new_token(&login, "oauth", &["write:packages"]).await;
    let report = checked(&token).await.unwrap();
    assert_eq!(report.kind, TokenKind::OAuth);
    assert!(matches!(report.push, PushCheck::Allowed { .. }));
}

#[tokio::test]
async fn a_token_expiring_in_three_days_carries_the_warning_and_one_without_an_expiry_none() {
    let login = new_user("expiring").await;
    let answer = emulator_admin(
        "/_emulator/tokens",
        serde_json::json!({"login": login, "scopes": ["write:packages"],
                           "expires_in_seconds": 3 * 86_400 + 600}),
    )
    .await;
    let report = checked(answer["token"].as_str().unwrap()).await.unwrap();
    let expiry = report.expiry.expect("GitHub named the expiry");
    assert_eq!((expiry.days_left, expiry.soon), (3, true), "{expiry:?}");
    assert!(expiry.describe().contains("in 3 days"));

    let forever = new_token(&login, "classic", &["write:packages"]).await;
    assert_eq!(checked(&forever).await.unwrap().expiry, None);
}

#[tokio::test]
async fn a_token_without_write_packages_says_it_cannot_push() {
    let login = new_user("reader").await;
    let token = new_token(&login, "classic", &["read:packages"]).await;
    let report = checked(&token).await.unwrap();
    assert!(matches!(report.push, PushCheck::NotChecked { .. }));
    let problem = report.problem().unwrap();
    assert_eq!(problem.code, Code::TokenMissingScope);
    assert!(problem.message.contains("write:packages"), "{problem}");
    assert!(problem.message.contains("push images"), "{problem}");
}

#[tokio::test]
async fn a_delete_only_token_misses_read_and_write() {
    let login = new_user("deleter").await;
    let token = new_token(&login, "classic", &["delete:packages"]).await;
    let report = checked(&token).await.unwrap();
    let missing: Vec<&str> = report.scope_check.missing.iter().map(|m| m.scope).collect();
    assert_eq!(missing, vec!["read:packages", "write:packages"]);
    assert!(report.problem().unwrap().message.contains("write:packages"));
}

#[tokio::test]
async fn fine_grained_and_app_tokens_are_refused_with_the_reason() {
    let login = new_user("kinds").await;
    for (kind, says) in [
        ("fine_grained", "classic"),
        ("server", "ghs_"),
        ("user_to_server", "ghu_"),
    ] {
        let token = new_token(&login, kind, &["write:packages"]).await;
        let error = checked(&token).await.unwrap_err();
        assert_eq!(error.code, Code::TokenUnsupportedKind, "{kind}");
        assert!(error.hint.contains(says), "{kind}: {error}");
    }
}

#[tokio::test]
async fn a_revoked_token_is_invalid() {
    let login = new_user("revoked").await;
    let token = new_token(&login, "classic", &["write:packages"]).await;
    emulator_admin(
        &format!("/_emulator/tokens/{token}/revoke"),
        serde_json::json!({}),
    )
    .await;
    let error = checked(&token).await.unwrap_err();
    assert_eq!(error.code, Code::TokenInvalid);
    assert!(
        error.message.contains("invalid, expired or revoked"),
        "{error}"
    );
}

#[tokio::test]
async fn github_down_is_a_network_error_that_keeps_the_token() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let mut config = emulated_github();
    config.api_url = format!("http://127.0.0.1:{port}").parse().unwrap();
    let secret = token::from_pasted("ghp_abcdefghijklmnopqrstuvwxyz0123456789").unwrap();
    let error = check(&config, &secret).await.unwrap_err();
    assert_eq!(error.code, Code::NetworkUnreachable);
    assert!(!error.to_string().contains(secret.expose()));
    assert_eq!(
        secret.expose(),
        "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
        "nothing lost"
    );
}

#[tokio::test]
async fn empty_padded_and_huge_pastes_get_their_codes() {
    assert_eq!(checked("").await.unwrap_err().code, Code::TokenEmpty);
    assert_eq!(checked("   \n").await.unwrap_err().code, Code::TokenEmpty);
    assert_eq!(
        checked(&"x".repeat(10 * 1024 * 1024))
            .await
            .unwrap_err()
            .code,
        Code::TokenMalformed
    );
    let login = new_user("padded").await;
    let token = new_token(&login, "classic", &["write:packages"]).await;
    let report = checked(&format!("\n  {token}\t\n")).await.unwrap();
    assert_eq!(report.login, login);
}

#[tokio::test]
async fn the_registry_denies_pushes_outside_the_tokens_namespace_in_ghcr_words() {
    let login = new_user("pusher").await;
    let other = new_user("other").await;
    let token = new_token(&login, "classic", &["write:packages"]).await;
    let secret = token::from_pasted(&token).unwrap();
    let answer = check_push(&emulated_github(), &other, &login, &secret)
        .await
        .unwrap();
    assert_eq!(
        answer,
        PushCheck::Denied {
            repository: format!("{}/ghcr-desktop-push-check", other.to_lowercase()),
            message: "denied: permission_denied: write_package".into()
        }
    );
}

fn ghcr_token_check(token: &str, json: bool) -> std::process::Output {
    let emulator = stack("GHCR_TEST_EMULATOR");
    let mut command = Command::new(env!("CARGO_BIN_EXE_ghcr"));
    command.args(["token", "check"]);
    if json {
        command.arg("--json");
    }
    command
        .env("GHCR_API_URL", &emulator)
        .env("GHCR_WEB_URL", &emulator)
        .env("GHCR_REGISTRY", stack("GHCR_TEST_REGISTRY_TOKEN"))
        .env("GHCR_TOKEN", token)
        .output()
        .expect("ghcr runs")
}

#[tokio::test]
async fn ghcr_token_check_exits_0_for_a_good_token_and_3_with_json_for_a_missing_scope() {
    let login = new_user("cli").await;
    let good = new_token(&login, "classic", &["write:packages"]).await;
    let output = ghcr_token_check(&good, false);
    assert!(output.status.success(), "{output:?}");
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.starts_with(&format!("{login} · classic personal access token (ghp_…")),
        "{text}"
    );
    assert!(text.contains("✓ write:packages"), "{text}");
    assert!(
        text.contains("✗ delete:packages   can't delete package versions without it"),
        "{text}"
    );
    assert!(!text.contains(&good), "the CLI never prints the token");

    let weak = new_token(&login, "classic", &["read:packages"]).await;
    let output = ghcr_token_check(&weak, true);
    assert_eq!(output.status.code(), Some(3));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["code"], "token.missing_scope");
    assert!(json["hint"].as_str().unwrap().contains("write:packages"));
    assert_eq!(json["report"]["login"], login.as_str());
    assert!(!String::from_utf8_lossy(&output.stdout).contains(&weak));

    let output = ghcr_token_check("github_pat_11ABCDEFG0123456789", true);
    assert_eq!(output.status.code(), Some(3));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["code"], "token.unsupported_kind");
}

/// A GitHub CLI configuration (gh's own `hosts.yml`) signed in to the emulated GitHub with `token`.
fn gh_signed_in(token: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let config = emulated_github();
    let host = format!(
        "{}:{}",
        config.web_url.host_str().unwrap(),
        config.web_url.port().unwrap()
    );
    std::fs::write(
        dir.path().join("hosts.yml"),
        format!(
            "\"{host}\":\n    user: someone\n    oauth_token: {token}\n    git_protocol: https\n"
        ),
    )
    .unwrap();
    dir
}

#[tokio::test]
async fn the_github_clis_token_is_offered_with_the_exact_refresh_command_when_it_cannot_push() {
    use ghcr::token::gh_cli::GhCli;
    let login = new_user("ghuser").await;
    let weak = new_token(&login, "oauth", &["read:packages", "repo"]).await;
    let gh_config = gh_signed_in(&weak);
    let gh = GhCli {
        program: "gh".into(),
        config_dir: Some(gh_config.path().to_path_buf()),
    };
    let config = emulated_github();
    let found = token::check_gh_cli_token(&config, &gh)
        .await
        .unwrap()
        .expect("gh has a token");
    assert_eq!(found.report.login, login);
    let host = format!(
        "{}:{}",
        config.web_url.host_str().unwrap(),
        config.web_url.port().unwrap()
    );
    assert_eq!(
        found.refresh_command.as_deref(),
        Some(format!("gh auth refresh -h {host} -s write:packages").as_str())
    );
    let refused = token::save_gh_cli_token(&config, &gh).await.unwrap_err();
    assert_eq!(refused.code, Code::TokenMissingScope);

    let good = new_token(&login, "oauth", &["write:packages"]).await;
    let gh_config = gh_signed_in(&good);
    let gh = GhCli {
        program: "gh".into(),
        config_dir: Some(gh_config.path().to_path_buf()),
    };
    let found = token::check_gh_cli_token(&config, &gh)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.refresh_command, None);
    assert!(matches!(found.report.push, PushCheck::Allowed { .. }));
}

#[tokio::test]
async fn without_gh_or_its_sign_in_nothing_is_offered() {
    use ghcr::token::gh_cli::GhCli;
    let config = emulated_github();
    let missing = GhCli {
        program: "/nonexistent/gh".into(),
        config_dir: None,
    };
    assert!(token::check_gh_cli_token(&config, &missing)
        .await
        .unwrap()
        .is_none());
    let signed_out = tempfile::tempdir().unwrap();
    let gh = GhCli {
        program: "gh".into(),
        config_dir: Some(signed_out.path().to_path_buf()),
    };
    assert!(token::check_gh_cli_token(&config, &gh)
        .await
        .unwrap()
        .is_none());
}
