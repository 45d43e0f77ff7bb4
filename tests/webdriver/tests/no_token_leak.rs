//! The leak test: one person's whole session in the real window with a token minted for this test —
//! paste and save it, tag an image, drag it to push, find the package, make it public (with the
//! anonymous-pull proof), delete it, remove the account — and afterwards the token's bytes are in no file
//! under the app's HOME (its XDG config, data and cache dirs inside), /tmp, the app's and WebDriver's
//! logs, the stack's logs (except the emulator's, which plays GitHub and is given the token by design),
//! or the test output written so far.

use ghcr_webdriver_tests::{
    click, confirm_push_dialog, dialog_ready, drag, emulator_admin, ensure,
    files_containing_except, import_image, open_view, own_web_url, refresh_packages_until, stack,
    target_dir, text_of, unique, user_with_token, wait_checked, wait_for, wait_for_within, App,
    Locator,
};
use std::path::Path;
use std::time::Duration;

/// A Cargo target directory (build output, written before the token existed, and the test stack's engine
/// storage — gigabytes when a clone lives under /tmp) is not walked: this target's own webdriver,
/// stack/logs and test-output are searched by their own paths. Cargo writes `.rustc_info.json` into every
/// target directory, and `CACHEDIR.TAG` only into one it created (make test makes `target/` first). The
/// emulator's log is GitHub's side. Everything else is searched.
fn not_searched(path: &Path) -> bool {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    let cargo_target = path.join(".rustc_info.json").exists() || path.join("CACHEDIR.TAG").exists();
    let emulator_log = name == "emulator.log" && path.parent().is_some_and(|p| p.ends_with("logs"));
    cargo_target || emulator_log
}

#[tokio::test]
async fn a_whole_session_from_token_to_logout_leaves_the_token_in_no_file_or_log() {
    let (login, token) = user_with_token(
        "Wd-Leak",
        &[],
        "classic",
        &["write:packages", "read:packages", "delete:packages"],
    )
    .await;
    let owner = login.to_lowercase();
    let registry = stack("GHCR_TEST_REGISTRY_TOKEN");
    let emulator = stack("GHCR_TEST_EMULATOR");
    let name = unique("wd-leak");
    let source = format!("{name}-src:1");
    import_image(&source);
    let tagged = format!("{registry}/{owner}/{name}:1");
    let home = tempfile::tempdir().expect("a HOME under /tmp");
    // A web root of the test's own keys the keyring entry, so no other test's account is "in use".
    let web = own_web_url();
    let env = [
        ("HOME", home.path().display().to_string()),
        ("DOCKER_HOST", stack("DOCKER_HOST")),
        ("GHCR_API_URL", emulator.clone()),
        ("GHCR_WEB_URL", web),
        ("GHCR_REGISTRY", registry.clone()),
    ];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let pasted = token.clone();
    let row = format!(".package-row[data-name='{name}']");

    App::launch("no-token-leak", &env)
        .await
        .check(|client| async move {
            // Token setup: paste, the check passes, save to the keyring.
            open_view(&client, "account").await?;
            wait_for(&client, "#token-input")
                .await?
                .send_keys(&pasted)
                .await?;
            wait_for(&client, "#push-check[data-ok='yes']").await?;
            click(&client, "#save-token").await?;
            wait_for(&client, "#account-status[data-state='ok']").await?;

            // Tag: "Tag for GitHub" on the imported image, with the proposed name changed to ours.
            open_view(&client, "images").await?;
            let filter = wait_for(&client, "#image-filter").await?;
            filter.send_keys(&source).await?;
            wait_for(
                &client,
                &format!(".image-row[data-reference='{source}'] .tag-for-github"),
            )
            .await?
            .click()
            .await?;
            dialog_ready(&client, "tag-dialog").await?;
            let field = wait_for(&client, "#tag-name").await?;
            field.clear().await?;
            field.send_keys(&format!("{name}:1")).await?;
            wait_checked(&client, "tag-dialog", &tagged).await?;
            let previewed = text_of(&client, "#tag-preview").await?;
            ensure(
                previewed == tagged,
                format!("the dialog proposes {previewed}"),
            )?;
            click(&client, "#tag-create").await?;
            wait_for(&client, "#image-notice:not([hidden])").await?;

            // Push: drag the new name onto the owner.
            let filter = client.find(Locator::Id("image-filter")).await?;
            filter.clear().await?;
            filter.send_keys(&tagged).await?;
            let image =
                wait_for(&client, &format!(".image-row[data-reference='{tagged}']")).await?;
            let zone = wait_for(&client, &format!(".drop-zone[data-owner='{owner}']")).await?;
            drag(&client, &image, &zone).await?;
            confirm_push_dialog(&client).await?;
            open_view(&client, "pushes").await?;
            wait_for_within(
                &client,
                &format!(".push-card[data-target='{tagged}'][data-state='done']"),
                Duration::from_secs(120),
            )
            .await?;

            // Packages: the new package, private; made public "on GitHub"; the proof; then deleted.
            open_view(&client, "packages").await?;
            refresh_packages_until(&client, &row, Duration::from_secs(60)).await?;
            click(&client, &row).await?;
            wait_for(&client, "#package-detail[data-visibility='private']").await?;
            click(&client, "#visibility-toggle").await?;
            wait_for(&client, "#package-detail[data-watching='true']").await?;
            emulator_admin(
                &format!("/_emulator/packages/{owner}/{name}/visibility"),
                serde_json::json!({"visibility": "public"}),
            )
            .await;
            wait_for(&client, "#visibility-proof[data-result='ok']").await?;
            click(&client, "#package-delete").await?;
            click(&client, "#delete-confirm").await?;
            wait_for(&client, "#package-restore").await?;

            // Logout: remove the account; the status bar says so.
            open_view(&client, "account").await?;
            wait_for(
                &client,
                &format!("li[data-login='{login}'] button[aria-label='Remove {login}']"),
            )
            .await?
            .click()
            .await?;
            wait_for(&client, "#account-status[data-state='none']").await?;
            let page = client.source().await?;
            ensure(!page.contains(&pasted), "the page still holds the token")
        })
        .await;

    let target = target_dir();
    let mut searched = vec![home.path().to_path_buf(), std::env::temp_dir()];
    for dir in ["webdriver", "stack/logs", "test-output"] {
        searched.push(target.join(dir));
    }
    let mut leaks = Vec::new();
    for dir in &searched {
        leaks.extend(files_containing_except(dir, &token, &not_searched));
    }
    leaks.sort();
    leaks.dedup();
    assert_eq!(
        leaks,
        Vec::<String>::new(),
        "the token is in these files (searched {searched:?})"
    );
}
