//! The Account view in the real window, against the test world: "Create a token" opens GitHub's page
//! with the chosen scopes, a pasted token is checked as typed (✗ and the hint for a missing scope, the
//! reason for a fine-grained one), and a good one is saved to the keyring, shown in the status bar after
//! a restart, and never handed back to the page.

use ghcr_webdriver_tests::{
    attr_of, click, emulator_admin, ensure, ensure_says, files_containing, open_view, own_web_url,
    photograph_at_both_sizes, resize, stack, target_dir, text_of, text_once_it_says,
    user_with_token, wait_for, App, Client, Element, Locator, PATIENCE,
};
use std::time::Duration;

/// The app's environment for the test world; `web` is the GitHub web root (its host keys the keyring).
fn world_env(web: &str) -> Vec<(String, String)> {
    vec![
        ("DOCKER_HOST".into(), stack("DOCKER_HOST")),
        ("GHCR_API_URL".into(), stack("GHCR_TEST_EMULATOR")),
        ("GHCR_WEB_URL".into(), web.to_string()),
        ("GHCR_REGISTRY".into(), stack("GHCR_TEST_REGISTRY_TOKEN")),
    ]
}

fn as_refs(env: &[(String, String)]) -> Vec<(&str, &str)> {
    env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

/// Opens the Account view from the sidebar.
async fn open_account(client: &Client) -> Result<(), fantoccini::error::CmdError> {
    open_view(client, "account").await
}

/// Types `text` into the token box (as a paste would arrive) and returns the box.
async fn paste(client: &Client, text: &str) -> Result<Element, fantoccini::error::CmdError> {
    let input = wait_for(client, "#token-input").await?;
    input.send_keys(text).await?;
    Ok(input)
}

#[tokio::test]
async fn create_a_token_opens_githubs_page_with_the_chosen_scopes() {
    // A stand-in browser: the system's `xdg-open` is found first on PATH and notes what it was asked.
    let bin = tempfile::tempdir().unwrap();
    let opened = bin.path().join("opened.txt");
    let script = bin.path().join("xdg-open");
    std::fs::write(
        &script,
        "#!/bin/sh\nprintf '%s\\n' \"$1\" >> \"$OPENED_URLS\"\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!(
        "{}:{}",
        bin.path().display(),
        std::env::var("PATH").unwrap()
    );
    let emulator = stack("GHCR_TEST_EMULATOR");
    let mut env = world_env(&emulator);
    env.push(("PATH".into(), path));
    env.push(("OPENED_URLS".into(), opened.display().to_string()));

    App::launch("account-create-token", &as_refs(&env))
        .await
        .check(|client| async move {
            open_account(&client).await?;
            click(&client, "#include-delete").await?;
            click(&client, "#create-token").await?;
            let note = wait_for(&client, "#opened-url")
                .await?;
            let deadline = std::time::Instant::now() + PATIENCE;
            let url = loop {
                if let Ok(text) = std::fs::read_to_string(&opened) {
                    if let Some(line) = text.lines().next() {
                        break line.to_string();
                    }
                }
                ensure(std::time::Instant::now() < deadline, "no browser was asked to open a page")?;
                tokio::time::sleep(Duration::from_millis(100)).await;
            };
            let expected = format!(
                "{emulator}/settings/tokens/new?scopes=write%3Apackages%2Cread%3Apackages%2Cdelete%3Apackages&description=GHCR+Desktop+%28"
            );
            ensure(url.starts_with(&expected), format!("opened {url}"))?;
            // The note appears once the command has answered, which may be after the browser started.
            loop {
                let said = note.text().await?;
                if said.contains("Opened") {
                    break Ok(());
                }
                ensure(std::time::Instant::now() < deadline, format!("note says {said:?}"))?;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
        .await;
}

#[tokio::test]
async fn a_pasted_token_without_write_packages_shows_the_cross_and_the_hint() {
    let (login, token) = user_with_token("reader", &[], "classic", &["read:packages"]).await;
    let env = world_env(&stack("GHCR_TEST_EMULATOR"));
    App::launch("account-missing-scope", &as_refs(&env))
        .await
        .check(|client| async move {
            open_account(&client).await?;
            paste(&client, &token).await?;
            let write = wait_for(
                &client,
                "#scope-list li[data-scope='write:packages'][data-ok='no']",
            )
            .await?;
            let text = write.text().await?;
            ensure(
                text.contains("✗") && text.contains("can't push images without it"),
                format!("{text:?}"),
            )?;
            let owner = client
                .find(Locator::Id("token-login"))
                .await?
                .text()
                .await?;
            ensure(owner == login, format!("belongs to {owner:?}"))?;
            client
                .find(Locator::Css(
                    "#scope-list li[data-scope='read:packages'][data-ok='yes']",
                ))
                .await?;
            client.find(Locator::Id("replacement-token")).await?;
            let disabled = attr_of(&client, "#save-token", "disabled").await?;
            ensure(
                disabled.is_some(),
                "a token that can't push cannot be saved",
            )
        })
        .await;
}

#[tokio::test]
async fn a_fine_grained_token_is_explained_not_accepted() {
    let (_, token) = user_with_token("fine", &[], "fine_grained", &[]).await;
    let env = world_env(&stack("GHCR_TEST_EMULATOR"));
    App::launch("account-fine-grained", &as_refs(&env))
        .await
        .check(|client| async move {
            open_account(&client).await?;
            paste(&client, &token).await?;
            let error =
                wait_for(&client, ".result.error[data-code='token.unsupported_kind']").await?;
            let text = error.text().await?;
            ensure(
                text.contains("fine-grained") && text.contains("classic"),
                format!("{text:?}"),
            )
        })
        .await;
}

#[tokio::test]
async fn a_good_token_is_saved_and_the_login_shows_in_the_status_bar_after_a_restart() {
    let (login, token) = user_with_token("saver", &[], "classic", &["write:packages"]).await;
    let home = tempfile::tempdir().unwrap();
    let mut env = world_env(&own_web_url());
    env.push(("HOME".into(), home.path().display().to_string()));
    let (saved_login, saved_token) = (login.clone(), token.clone());
    App::launch("account-save", &as_refs(&env))
        .await
        .check(|client| async move {
            open_account(&client).await?;
            let input = paste(&client, &format!("  {saved_token}  ")).await?;
            wait_for(&client, "#push-check[data-ok='yes']")
                .await?;
            click(&client, "#save-token").await?;
            wait_for(&client, "#saved").await?;
            let status = wait_for(&client, "#account-status[data-state='ok']")
                .await?;
            let text = status.text().await?;
            ensure(text.contains(&saved_login) && text.contains("✓ write:packages"), format!("{text:?}"))?;
            let box_value = input.prop("value").await?.unwrap_or_default();
            ensure(box_value.is_empty(), "the paste box is cleared once saved")?;
            // Neither the page nor any command's answer holds the token any more.
            let page = client.source().await?;
            ensure(!page.contains(&saved_token), "the page holds the token")?;
            let answer = client
                .execute_async(
                    "const done = arguments[0]; Promise.all([\
                       window.__TAURI__.core.invoke('account_in_use'),\
                       window.__TAURI__.core.invoke('accounts')]).then((r) => done(JSON.stringify(r)));",
                    vec![],
                )
                .await?;
            let answer = answer.as_str().unwrap_or_default().to_string();
            ensure(answer.contains(&saved_login), format!("answers: {answer}"))?;
            ensure(!answer.contains(&saved_token), "an IPC answer holds the token")
        })
        .await;

    App::launch("account-after-restart", &as_refs(&env))
        .await
        .check(|client| async move {
            let status = wait_for(&client, "#account-status[data-state='ok']").await?;
            let text = status.text().await?;
            ensure(
                text.contains(&login),
                format!("after a restart the status bar says {text:?}"),
            )
        })
        .await;

    // The token is in the keyring only: not in the app's HOME (WebKit's storage, caches, config), not
    // in the WebDriver logs, not in the stack's logs.
    let mut leaks = files_containing(home.path(), &token);
    leaks.extend(files_containing(&target_dir().join("webdriver"), &token));
    leaks.extend(files_containing(&target_dir().join("stack/logs"), &token));
    assert_eq!(leaks, Vec::<String>::new(), "the token was found on disk");
}

#[tokio::test]
async fn the_github_clis_token_is_offered_and_a_missing_scope_shows_the_gh_command() {
    let (login, token) = user_with_token("ghcli", &[], "oauth", &["read:packages"]).await;
    let emulator = stack("GHCR_TEST_EMULATOR");
    let host = emulator.trim_start_matches("http://").to_string();
    let gh_config = tempfile::tempdir().unwrap();
    std::fs::write(
        gh_config.path().join("hosts.yml"),
        format!("\"{host}\":\n    user: {login}\n    oauth_token: {token}\n"),
    )
    .unwrap();
    let mut env = world_env(&emulator);
    env.push((
        "GH_CONFIG_DIR".into(),
        gh_config.path().display().to_string(),
    ));
    App::launch("account-gh-cli", &as_refs(&env))
        .await
        .check(|client| async move {
            open_account(&client).await?;
            let command = text_of(&client, "#gh-refresh-command").await?;
            let expected = format!("gh auth refresh -h {host} -s write:packages");
            ensure(command == expected, format!("shows {command:?}"))?;
            client
                .find(Locator::Css(
                    "#gh-scope-list li[data-scope='write:packages'][data-ok='no']",
                ))
                .await?;
            let card = client.find(Locator::Id("gh-cli")).await?.text().await?;
            ensure(card.contains(&login), format!("card says {card:?}"))
        })
        .await;
}

#[tokio::test]
async fn a_token_revoked_while_the_app_runs_flips_the_status_bar_to_no_longer_valid() {
    let (login, token) = user_with_token("revokee", &[], "classic", &["write:packages"]).await;
    let env = world_env(&own_web_url());
    App::launch("account-revoked", &as_refs(&env))
        .await
        .check(|client| async move {
            open_account(&client).await?;
            paste(&client, &token).await?;
            wait_for(&client, "#push-check[data-ok='yes']").await?;
            click(&client, "#save-token").await?;
            wait_for(&client, "#account-status[data-state='ok']").await?;

            emulator_admin(
                &format!("/_emulator/tokens/{token}/revoke"),
                serde_json::json!({}),
            )
            .await;
            click(&client, "#account-status").await?;
            let text = text_of(&client, "#account-status[data-state='error']").await?;
            ensure_says(
                &format!("the status bar of {login}"),
                &text,
                "Token no longer valid",
            )?;
            // Account marks it and offers the replacement.
            let card = wait_for(&client, "#token-invalid").await?.text().await?;
            ensure_says("the Account card", &card, "no longer works")?;
            wait_for(&client, "#token-invalid #replace-token")
                .await
                .map(|_| ())?;
            Ok(())
        })
        .await;
}

/// Saving a second account's token keeps the account in use — switching is its own step, offered
/// right there — and the saved accounts mark the active one (before, a save silently switched).
/// With no token at all, Account opens on a short welcome leading to the token step.
#[tokio::test]
async fn saving_a_second_token_keeps_the_account_in_use_until_switching_explicitly() {
    let (first, first_token) = user_with_token("first", &[], "classic", &["write:packages"]).await;
    let (second, second_token) =
        user_with_token("second", &[], "classic", &["write:packages"]).await;
    let env = world_env(&own_web_url());
    App::launch("account-switch", &as_refs(&env))
        .await
        .check(|client| async move {
            open_account(&client).await?;
            let welcome = wait_for(&client, "#welcome").await?.text().await?;
            ensure_says("the first start", &welcome, "Welcome to GHCR Desktop")?;
            // It leads to step 1's button, not a second one like it.
            click(&client, "#welcome #welcome-start").await?;
            let focused = client.active_element().await?.attr("id").await?;
            ensure(
                focused.as_deref() == Some("create-token"),
                format!("the welcome leads to step 1: focus on {focused:?}"),
            )?;
            let buttons = client
                .execute(
                    "return [...document.querySelectorAll('button')].filter((b) => b.textContent === 'Create a token on GitHub').length;",
                    vec![],
                )
                .await?;
            ensure(buttons == 1, format!("{buttons} 'Create a token on GitHub' buttons"))?;
            for (token, saved) in [
                (&first_token, "#saved"),
                (&second_token, "#saved #use-saved"),
            ] {
                paste(&client, token).await?;
                wait_for(&client, "#push-check[data-ok='yes']").await?;
                click(&client, "#save-token:enabled").await?;
                wait_for(&client, saved).await?;
            }
            let said = text_of(&client, "#saved").await?;
            ensure_says(
                "the second save",
                &said,
                &format!("{first} is still in use"),
            )?;
            wait_for(
                &client,
                &format!("#accounts li[data-login='{first}'][data-active='true']"),
            )
            .await?;
            let status = text_of(&client, "#account-status[data-state='ok']").await?;
            ensure(
                status.contains(&first),
                format!("still {first}: {status:?}"),
            )?;
            click(&client, "#use-saved").await?;
            wait_for(
                &client,
                &format!("#accounts li[data-login='{second}'][data-active='true']"),
            )
            .await?;
            let status =
                text_once_it_says(&client, "#account-status[data-state='ok']", &second).await?;
            ensure(
                status.contains(&second),
                format!("now {second}: {status:?}"),
            )
        })
        .await;
}

#[tokio::test]
async fn browser_sign_in_shows_the_code_and_saves_the_token_once_approved() {
    let (login, _) = user_with_token("browser", &[], "classic", &[]).await;
    let mut env = world_env(&own_web_url());
    // The device flow runs on the GitHub web host: here that is the emulator again.
    env.retain(|(k, _)| k != "GHCR_WEB_URL");
    env.push(("GHCR_WEB_URL".into(), stack("GHCR_TEST_EMULATOR")));
    env.push(("GHCR_OAUTH_CLIENT_ID".into(), "ghcr-desktop-test".into()));
    let bin = tempfile::tempdir().unwrap();
    let script = bin.path().join("xdg-open");
    std::fs::write(&script, "#!/bin/sh\nexit 0\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    env.push((
        "PATH".into(),
        format!(
            "{}:{}",
            bin.path().display(),
            std::env::var("PATH").unwrap()
        ),
    ));
    App::launch("account-device-flow", &as_refs(&env))
        .await
        .check(|client| async move {
            open_account(&client).await?;
            click(&client, "#device-start").await?;
            let code = text_of(&client, "#device-user-code").await?;
            ensure(
                code.len() == 9 && code.contains('-'),
                format!("code {code:?}"),
            )?;
            let approve = reqwest::Client::new()
                .post(format!("{}/_emulator/device", stack("GHCR_TEST_EMULATOR")))
                .json(
                    &serde_json::json!({ "user_code": code, "action": "approve", "login": login }),
                )
                .send()
                .await?;
            ensure(approve.status() == 204, "the emulator took the approval")?;
            wait_for(&client, "#device-saved").await?;
            let status =
                text_once_it_says(&client, "#account-status[data-state='ok']", &login).await?;
            ensure(
                status.contains(&login),
                format!("status bar says {status:?}"),
            )
        })
        .await;
}

/// Signed in with a token GitHub says expires in 3 days: Account leads with who is signed in and
/// warns, and the status bar carries the warning too.
#[tokio::test]
async fn a_token_expiring_in_three_days_is_warned_of_in_account_and_the_status_bar() {
    let (login, _) = user_with_token("Wd-Expiring", &[], "classic", &["write:packages"]).await;
    let minted = emulator_admin(
        "/_emulator/tokens",
        serde_json::json!({"login": login, "scopes": ["write:packages", "read:packages"],
                           "expires_in_seconds": 3 * 86_400 + 600}),
    )
    .await;
    let token = minted["token"].as_str().unwrap_or_default().to_string();
    let mut env = world_env(&stack("GHCR_TEST_EMULATOR"));
    env.push(("GHCR_TOKEN".into(), token));
    App::launch("account-expiring", &as_refs(&env))
        .await
        .check(|client| async move {
            wait_for(&client, "#account-status[data-expiring='true']").await?;
            let status = text_of(&client, "#account-status").await?;
            ensure_says("the status bar", &status, "in 3 days")?;
            open_account(&client).await?;
            let warning = wait_for(&client, "#signed-in #token-expiry[data-soon='true']").await?;
            let said = warning.text().await?;
            ensure_says("the Account card", &said, "in 3 days")?;
            ensure_says("the Account card", &said, "create a replacement")?;
            let who = text_of(&client, "#signed-in-title").await?;
            ensure_says("the Account card", &who, &login)
        })
        .await;
}

/// With no browser to open, "Create a token on GitHub" shows the address to open by hand on a line or
/// two, with Copy beside it, at the smallest window and a large one (it used to be drawn one character
/// a line: the Copy button, full-width like every ghost button, left the address no width).
#[tokio::test]
async fn without_a_browser_the_address_is_shown_on_a_line_or_two_with_copy_beside_it() {
    // A browser opener that fails, found first on PATH.
    let bin = tempfile::tempdir().unwrap();
    let script = bin.path().join("xdg-open");
    std::fs::write(&script, "#!/bin/sh\nexit 3\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!(
        "{}:{}",
        bin.path().display(),
        std::env::var("PATH").unwrap()
    );
    let mut env = world_env(&stack("GHCR_TEST_EMULATOR"));
    env.push(("PATH".into(), path));
    App::launch("account-no-browser", &as_refs(&env))
        .await
        .check(|client| async move {
            for (width, height) in [(760u32, 480u32), (1440, 900)] {
                resize(&client, width, height).await?;
                open_account(&client).await?;
                click(&client, "#create-token").await?;
                wait_for(&client, "#opened-url .handoff .handoff-copy").await?;
                let measured: serde_json::Value = client
                    .execute(
                        "const url = document.querySelector('#opened-url .handoff-url');
                         const copy = document.querySelector('#opened-url .handoff-copy');
                         const line = parseFloat(getComputedStyle(url).lineHeight) || 20;
                         const u = url.getBoundingClientRect(), c = copy.getBoundingClientRect();
                         return { lines: u.height / line, width: u.width, copyBeside: c.left >= u.right - 1,
                                  copyShown: c.width > 0 && c.bottom <= window.innerHeight + 1000 };",
                        vec![],
                    )
                    .await?;
                let at = format!("at {width}×{height}: {measured}");
                ensure(
                    measured["lines"].as_f64().unwrap_or(99.0) <= 2.5,
                    format!("the address on a line or two, {at}"),
                )?;
                ensure(
                    measured["width"].as_f64().unwrap_or(0.0) > 200.0,
                    format!("the address has room, {at}"),
                )?;
                ensure(
                    measured["copyBeside"].as_bool() == Some(true),
                    format!("Copy beside the address, {at}"),
                )?;
                let said = text_of(&client, "#opened-url").await?;
                ensure_says("the note", &said, "Couldn't open your browser")?;
                ensure_says("the note", &said, "/settings/tokens/new?scopes=")?;
            }
            photograph_at_both_sizes(&client, "handoff-address", "#opened-url").await
        })
        .await;
}
