//! Tokens in the real OS keyring (the test stack's Secret Service): `ghcr login` saves after checking,
//! a new process reads the token back, accounts switch and go, `GHCR_TOKEN` overrides, a token that
//! can't push is not saved, and without a keyring nothing is saved anywhere — no file fallback.

mod common;

use common::*;
use ghcr::secret::Secret;
use ghcr::token::store::TokenStore;
use std::path::Path;
use std::process::{Command, Output};

fn ghcr(
    args: &[&str],
    web_url: &str,
    home: &Path,
    stdin: Option<&str>,
    env: &[(&str, &str)],
) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_ghcr"));
    command
        .args(args)
        .env("GHCR_API_URL", stack("GHCR_TEST_EMULATOR"))
        .env("GHCR_WEB_URL", web_url)
        .env("GHCR_REGISTRY", stack("GHCR_TEST_REGISTRY_TOKEN"))
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("XDG_DATA_HOME", home.join(".local/share"))
        .env("XDG_CACHE_HOME", home.join(".cache"))
        .env_remove("GHCR_TOKEN");
    for (key, value) in env {
        command.env(key, value);
    }
    output_with_input(&mut command, stdin)
}

/// The Secret Service's own answer for an entry, through `secret-tool` (an independent client).
fn secret_tool_lookup(web_url: &str, user: &str) -> Option<String> {
    let host = web_url.split("://").last().unwrap_or(web_url);
    let service = format!("ghcr-desktop {host}");
    let output = Command::new("secret-tool")
        .args(["lookup", "service", &service, "username", user])
        .output()
        .expect("secret-tool runs");
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).into_owned())
}

#[tokio::test]
async fn login_keeps_the_token_in_the_keyring_and_a_new_process_reads_it_back() {
    let login = new_user("keeper").await;
    let token = new_token(&login, "classic", &["write:packages"]).await;
    let web = own_web_url();
    let home = tempfile::tempdir().unwrap();

    let saved = ghcr(
        &["login", "--token-stdin"],
        &web,
        home.path(),
        Some(&token),
        &[],
    );
    assert!(saved.status.success(), "{saved:?}");
    assert_eq!(
        secret_tool_lookup(&web, &login).as_deref(),
        Some(token.as_str())
    );

    let whoami = ghcr(&["whoami", "--json"], &web, home.path(), None, &[]);
    assert!(whoami.status.success(), "{whoami:?}");
    let json: serde_json::Value = serde_json::from_slice(&whoami.stdout).unwrap();
    assert_eq!(json["source"], "keyring");
    assert_eq!(json["report"]["login"], login.as_str());

    let out = ghcr(&["logout"], &web, home.path(), None, &[]);
    assert!(out.status.success());
    assert_eq!(secret_tool_lookup(&web, &login), None, "the entry is gone");
    let whoami = ghcr(&["whoami", "--json"], &web, home.path(), None, &[]);
    assert_eq!(whoami.status.code(), Some(3));

    // Nothing of the token was written anywhere under HOME, nor printed.
    assert_eq!(files_containing(home.path(), &token), Vec::<String>::new());
    for output in [&saved, &out] {
        assert!(!String::from_utf8_lossy(&output.stdout).contains(&token));
        assert!(!String::from_utf8_lossy(&output.stderr).contains(&token));
    }
}

#[tokio::test]
async fn accounts_switch_and_removing_the_active_one_falls_back_to_another() {
    let first = new_user("first").await;
    let second = new_user("second").await;
    let web = own_web_url();
    let mut config = emulated_github();
    config.web_url = web.parse().unwrap();
    let store = TokenStore::for_config(&config);
    let (a, b) = (
        "ghp_firstaccounttoken000000000000000000a1",
        "ghp_secondaccounttoken00000000000000000b2",
    );
    let (f, s) = (first.clone(), second.clone());
    let accounts = tokio::task::spawn_blocking(move || {
        store.save(&f, &Secret::new(a.into()))?;
        store.save(&s, &Secret::new(b.into()))?;
        let after_saves = store.accounts()?;
        store.switch(&f)?;
        let after_switch = store.accounts()?;
        let active_token = store.token_in_use()?.1.expose().to_string();
        store.remove(&f)?;
        let after_remove = store.accounts()?;
        store.remove(&s)?;
        let after_all = store.accounts()?;
        Ok::<_, ghcr::Error>((
            after_saves,
            after_switch,
            active_token,
            after_remove,
            after_all,
        ))
    })
    .await
    .unwrap()
    .unwrap();
    let (after_saves, after_switch, active_token, after_remove, after_all) = accounts;
    assert_eq!(after_saves.logins, vec![first.clone(), second.clone()]);
    assert_eq!(after_saves.active.as_deref(), Some(second.as_str()));
    assert_eq!(after_switch.active.as_deref(), Some(first.as_str()));
    assert_eq!(active_token, a);
    assert_eq!(after_remove.logins, vec![second.clone()]);
    assert_eq!(after_remove.active.as_deref(), Some(second.as_str()));
    assert!(after_all.logins.is_empty() && after_all.active.is_none());
    assert_eq!(secret_tool_lookup(&web, &first), None);
    assert_eq!(
        secret_tool_lookup(&web, "_accounts"),
        None,
        "no index left behind"
    );
}

#[tokio::test]
async fn ghcr_token_in_the_environment_overrides_the_keyring_and_says_so() {
    let login = new_user("env").await;
    let token = new_token(&login, "classic", &["write:packages"]).await;
    let home = tempfile::tempdir().unwrap();
    let whoami = ghcr(
        &["whoami"],
        &own_web_url(),
        home.path(),
        None,
        &[("GHCR_TOKEN", &token)],
    );
    assert!(whoami.status.success(), "{whoami:?}");
    let text = String::from_utf8_lossy(&whoami.stdout);
    assert!(
        text.contains(&login) && text.ends_with("from GHCR_TOKEN\n"),
        "{text}"
    );
}

#[tokio::test]
async fn a_token_that_cannot_push_is_not_saved() {
    let login = new_user("weak").await;
    let token = new_token(&login, "classic", &["read:packages"]).await;
    let web = own_web_url();
    let home = tempfile::tempdir().unwrap();
    let refused = ghcr(
        &["login", "--token-stdin"],
        &web,
        home.path(),
        Some(&token),
        &[],
    );
    assert_eq!(refused.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("write:packages"));
    assert_eq!(secret_tool_lookup(&web, &login), None);
}

#[tokio::test]
async fn without_a_keyring_login_is_refused_and_nothing_is_written_anywhere() {
    let login = new_user("nokeyring").await;
    let token = new_token(&login, "classic", &["write:packages"]).await;
    let home = tempfile::tempdir().unwrap();
    let refused = ghcr(
        &["login", "--token-stdin"],
        &own_web_url(),
        home.path(),
        Some(&token),
        &[("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus")],
    );
    assert_eq!(refused.status.code(), Some(3), "{refused:?}");
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("No system keyring is available"),
        "{stderr}"
    );
    assert!(stderr.contains("never writes tokens to files"), "{stderr}");
    assert_eq!(files_containing(home.path(), &token), Vec::<String>::new());
}

#[tokio::test]
async fn after_login_push_and_logout_the_token_is_in_no_file_log_or_output() {
    let login = new_user("leak-check").await;
    let token = new_token(&login, "classic", &["write:packages"]).await;
    let web = own_web_url();
    let home = tempfile::tempdir().unwrap();
    let source = format!("leak-check-{login}:1");
    three_layer_image(&source);
    let registry = stack("GHCR_TEST_REGISTRY_TOKEN");
    let docker_host = stack("DOCKER_HOST");
    let engine = [("DOCKER_HOST", docker_host.as_str())];

    let mut outputs = vec![ghcr(
        &["login", "--token-stdin"],
        &web,
        home.path(),
        Some(&token),
        &[],
    )];
    for (target, via) in [("direct", "direct"), ("engine", "engine")] {
        let target = format!("{registry}/{login}/leak-{target}:1");
        let pushed = ghcr(
            &["push", &source, &target, "--via", via, "--json"],
            &web,
            home.path(),
            None,
            &engine,
        );
        assert!(pushed.status.success(), "{via}: {pushed:?}");
        outputs.push(pushed);
    }
    outputs.push(ghcr(&["logout"], &web, home.path(), None, &[]));
    assert!(outputs.iter().all(|o| o.status.success()));
    assert!(
        home.path().join(".cache/ghcr-desktop/blobs.json").exists(),
        "the push wrote its cache under HOME, which is searched"
    );

    assert_eq!(files_containing(home.path(), &token), Vec::<String>::new());
    for output in &outputs {
        assert!(!String::from_utf8_lossy(&output.stdout).contains(&token));
        assert!(!String::from_utf8_lossy(&output.stderr).contains(&token));
    }
    // The engine, the registries, the keyring daemon: their logs and state (GitHub's own, the
    // emulator's, is not searched: GitHub knows its tokens).
    let stack_dir = Path::new(&stack("GHCR_TEST_STACK")).to_path_buf();
    let logs: Vec<String> = files_containing(&stack_dir.join("logs"), &token)
        .into_iter()
        .filter(|path| !path.ends_with("emulator.log"))
        .collect();
    assert_eq!(logs, Vec::<String>::new());
    assert_eq!(
        files_containing(&stack_dir.join("docker-config"), &token),
        Vec::<String>::new()
    );
}
