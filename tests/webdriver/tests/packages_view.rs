//! The Packages view in the real window against the emulator and the real registry: a pushed package
//! shows as private; flipping the switch hands off to the settings page (the test makes the change
//! there, through the emulator, as a person would in the browser) and the badge turns public without a
//! reload, with the anonymous-pull proof ✓; a version is deleted after the confirmation naming it, and
//! restored from "Recently deleted"; connecting the package to a repository hands off to its settings page and follows when GitHub shows the link.

use ghcr_webdriver_tests::{
    attr_of, click, docker, emulator_admin, ensure, ensure_says, env_refs, ghcr_push, import_image,
    open_view, photograph_at_both_sizes, refresh_packages_until, signed_in_env, stack, text_of,
    text_once_it_says, unique, user_with_token, wait_for, App, Locator,
};
use std::time::Duration;

#[tokio::test]
async fn a_pushed_package_turns_public_with_proof_loses_and_regains_a_version_and_gets_a_repository(
) {
    let (login, token) = user_with_token(
        "Wd-Packages",
        &[],
        "classic",
        &["write:packages", "delete:packages"],
    )
    .await;
    let owner = login.to_lowercase();
    let registry = stack("GHCR_TEST_REGISTRY_TOKEN");
    let emulator = stack("GHCR_TEST_EMULATOR");
    let name = unique("wd-pkg");
    // Two versions: :1 and :2 of different images, pushed with ghcr.
    for tag in ["1", "2"] {
        let source = format!("{name}-src:{tag}");
        import_image(&source);
        ghcr_push(
            &token,
            &source,
            &format!("{registry}/{owner}/{name}:{tag}"),
            &[],
        );
    }
    let _ = docker(&["version", "--format", "{{.Server.Version}}"]);
    let env = signed_in_env(&token);
    let env = env_refs(&env);
    let row = format!(".package-row[data-name='{name}']");
    let registry_shown = registry.clone();

    App::launch("packages-view", &env)
        .await
        .check(|client| async move {
            open_view(&client, "packages").await?;
            // The emulator learns of pushes from the registry's notifications: refresh until it shows.
            refresh_packages_until(&client, &row, Duration::from_secs(60)).await?;
            // Found afresh each time: the list is drawn again as GitHub's answers come.
            ensure(
                attr_of(&client, &row, "data-visibility").await?.as_deref() == Some("private"),
                "a new package is private",
            )?;
            click(&client, &row).await?;
            wait_for(&client, "#version-list[data-rows='2']").await?;
            // A numeric tag reads as a tag, not a count.
            let pill = text_of(&client, ".version-row[data-tags='2'] .tag-pill").await?;
            ensure(pill == ":2", format!("the tag pill: {pill:?}"))?;

            // Flip: the app opens the settings page and watches; the change is made "there".
            click(&client, "#visibility-toggle").await?;
            let handoff = wait_for(&client, "#visibility-handoff:not([hidden])").await?;
            let explained = handoff.text().await?;
            ensure_says("the handoff", &explained, "no API")?;
            wait_for(&client, "#package-detail[data-watching='true']").await?;
            emulator_admin(
                &format!("/_emulator/packages/{owner}/{name}/visibility"),
                serde_json::json!({"visibility": "public"}),
            )
            .await;
            wait_for(&client, "#package-detail[data-visibility='public']").await?;
            let proof = text_of(&client, "#visibility-proof[data-result='ok']").await?;
            ensure_says("the proof", &proof, "Anyone can pull")?;
            ensure_says("the proof", &proof, "Checked at")?;
            ensure(
                attr_of(&client, &row, "data-visibility").await?.as_deref() == Some("public"),
                "the list's badge turned public without a reload",
            )?;

            // Delete :2 after confirming.
            click(&client, ".version-row[data-tags='2'] .version-delete").await?;
            let dialog = wait_for(&client, "#delete-dialog").await?;
            let named = dialog.text().await?;
            ensure(
                named.contains(&format!("{registry_shown}/{owner}/{name}@sha256:"))
                    && named.contains("Tagged :2"),
                format!("the confirmation names what goes: {named}"),
            )?;
            let overflows: bool = client
                .execute(
                    "const d = document.getElementById('delete-dialog'); return d.scrollWidth > d.clientWidth;",
                    vec![],
                )
                .await?
                .as_bool()
                .unwrap_or(true);
            ensure(!overflows, "the digest fits the dialog")?;
            click(&client, "#delete-confirm").await?;
            wait_for(&client, "#version-list[data-rows='1']").await?;
            // The list agrees with the detail.
            wait_for(&client, &format!("{row}[data-versions='1']")).await?;
            let when = text_of(
                &client,
                "#deleted-versions .version-row[data-tags='2'] .version-deleted-at",
            )
            .await?;
            ensure_says("the deleted version", &when, "deleted just now")?;
            ensure(
                client
                    .find(Locator::Css("#version-list .version-row[data-tags='2']"))
                    .await
                    .is_err(),
                "version 2 is gone",
            )?;

            // And back: it is listed under "Recently deleted" with Restore.
            click(
                &client,
                "#deleted-versions .version-row[data-tags='2'] .version-restore",
            )
            .await?;
            wait_for(&client, "#version-list[data-rows='2']").await?;
            wait_for(&client, &format!("{row}[data-versions='2']")).await?;
            // The notice comes once the lists are drawn anew (after the rows above).
            let restored = text_once_it_says(&client, "#package-notice", "Restored :2").await?;
            ensure_says("the restore", &restored, "Restored :2")?;

            // Connect the package to the user's repository: ghcr.io reads the source label only at
            // creation, so the app hands off to the settings page and watches; the person connects it
            // there (the emulator's "Connect repository" form, posted as the browser would).
            click(&client, "#connect-button").await?;
            wait_for(&client, "#package-detail[data-watching='true']").await?;
            let said = text_of(&client, "#connect-outcome").await?;
            ensure_says("the hand-off", &said, "Connect repository")?;
            let connected = reqwest::Client::new()
                .post(format!(
                    "{emulator}/users/{login}/packages/container/{name}/settings/repository"
                ))
                .form(&[("repository", format!("{login}/site"))])
                .send()
                .await?;
            ensure(
                connected.status().is_success(),
                format!("connected: {}", connected.status()),
            )?;
            let linked = wait_for(&client, "#package-detail[data-repository]")
                .await?
                .attr("data-repository")
                .await?
                .unwrap_or_default();
            ensure(linked.ends_with("/site"), format!("linked to {linked}"))?;
            // Linked: the connect controls and their "Waiting for GitHub…" are gone, not left beside
            // "Connected to …" (a class's display once overrode `hidden`).
            let controls = client.find(Locator::Id("connect-repository")).await?;
            ensure(
                !controls.is_displayed().await?,
                "the connect controls stay on screen after the package is linked",
            )?;
            let said = text_of(&client, "#package-repository").await?;
            ensure_says("the repository line", &said, "Connected to")
        })
        .await;
}

#[tokio::test]
async fn a_damaged_packages_cache_is_dropped_and_the_list_loads() {
    let (_, token) = user_with_token("wd-cache", &[], "classic", &["write:packages"]).await;
    let env = signed_in_env(&token);
    App::launch("packages-cache", &env_refs(&env))
        .await
        .check(|client| async move {
            client
                .execute(
                    "localStorage.setItem('packages:@me', '{not json'); \
                     localStorage.setItem('packages:acme', '{\"not\": \"a list\"}');",
                    vec![],
                )
                .await?;
            open_view(&client, "packages").await?;
            let empty = text_of(&client, "#no-package-yet").await?;
            ensure_says("the empty view", &empty, "No container packages yet")?;
            let cache = client
                .execute("return localStorage.getItem('packages:@me')", vec![])
                .await?;
            ensure(
                cache != serde_json::json!("{not json"),
                "the damaged cache is gone",
            )
        })
        .await;
}

/// An organization whose packages can't be listed: the window says so in its own words (not the
/// command line's "--owner ORG"), and no "No container packages yet" under the error.
#[tokio::test]
async fn an_organization_that_cant_be_listed_is_said_in_the_windows_words_with_no_empty_state() {
    let org = unique("wd-secret-org");
    let (_, token) =
        user_with_token("wd-org-404", &[org.as_str()], "classic", &["read:packages"]).await;
    // GitHub answers 404 for the org's packages (as it does to a token that may not see them).
    emulator_admin(
        "/_emulator/faults",
        serde_json::json!({"token": token, "path": format!("/orgs/{org}/packages"), "status": 404,
                           "body": r#"{"message":"Not Found"}"#, "times": 100}),
    )
    .await;
    let env = signed_in_env(&token);
    let shown_org = org.clone();
    App::launch("packages-org-404", &env_refs(&env))
        .await
        .check(|client| async move {
            open_view(&client, "packages").await?;
            let loaded = wait_for(&client, "#package-list[data-loaded]")
                .await?
                .attr("data-loaded")
                .await?
                .unwrap_or_default();
            client
                .find(Locator::Css(&format!(
                    "#package-owner option[value='{shown_org}']"
                )))
                .await?
                .click()
                .await?;
            wait_for(
                &client,
                &format!("#package-list[data-loaded]:not([data-loaded='{loaded}'])"),
            )
            .await?;
            let said = text_of(&client, "#package-notice").await?;
            ensure_says("the error", &said, "chosen above")?;
            ensure(
                !said.contains("--owner"),
                format!("no command line words in the window: {said}"),
            )?;
            ensure(
                client.find(Locator::Id("no-package-yet")).await.is_err(),
                "no empty state under the error",
            )?;
            photograph_at_both_sizes(&client, "org-not-listed", "#package-notice").await
        })
        .await;
}

/// A visibility watch that can't see anything says so: GitHub's answer about the package fails three
/// polls in a row (a 200 whose body lacks the package's fields, as a stand-in once answered), and the
/// hand-off stops "watching…", says what failed and offers Refresh — which watches again and follows
/// the change made meanwhile.
#[tokio::test]
async fn a_visibility_watch_whose_polls_fail_says_so_and_refresh_watches_again() {
    let (login, token) =
        user_with_token("Wd-Watch-Fails", &[], "classic", &["write:packages"]).await;
    let owner = login.to_lowercase();
    let registry = stack("GHCR_TEST_REGISTRY_TOKEN");
    let name = unique("wd-watch");
    let source = format!("{name}-src:1");
    import_image(&source);
    ghcr_push(
        &token,
        &source,
        &format!("{registry}/{owner}/{name}:1"),
        &[],
    );
    let env = signed_in_env(&token);
    let row = format!(".package-row[data-name='{name}']");
    App::launch("packages-watch-fails", &env_refs(&env))
        .await
        .check(|client| async move {
            open_view(&client, "packages").await?;
            refresh_packages_until(&client, &row, Duration::from_secs(60)).await?;
            click(&client, &row).await?;
            // The detail has asked for everything it shows (its versions, the deleted ones).
            wait_for(&client, &format!("#package-detail[data-ready][data-name='{name}']")).await?;
            // From now on, the package's own answer is broken three times: the watch's polls.
            emulator_admin(
                "/_emulator/faults",
                serde_json::json!({"token": token, "path": format!("/user/packages/container/{name}"),
                                   "status": 200, "body": r#"{"id":1}"#, "times": 3}),
            )
            .await;
            click(&client, "#visibility-toggle").await?;
            wait_for(&client, "#package-detail[data-watching='true']").await?;
            let failed = text_of(&client, "#visibility-watch-error").await?;
            let handoff = text_of(&client, "#visibility-handoff").await?;
            ensure_says("the hand-off", &handoff, "Stopped watching")?;
            ensure_says("the hand-off", &handoff, "failed 3 times in a row")?;
            ensure(!failed.trim().is_empty(), "the failure is said")?;
            ensure(
                attr_of(&client, "#package-detail", "data-watching").await?.is_none(),
                "no longer watching",
            )?;
            photograph_at_both_sizes(&client, "visibility-watch-failed", "#visibility-handoff")
                .await?;
            // The change is made on GitHub meanwhile; Refresh watches again and follows it.
            emulator_admin(
                &format!("/_emulator/packages/{owner}/{name}/visibility"),
                serde_json::json!({"visibility": "public"}),
            )
            .await;
            click(&client, "#visibility-watch-error-refresh").await?;
            wait_for(&client, "#package-detail[data-visibility='public']").await?;
            let proof = text_of(&client, "#visibility-proof[data-result='ok']").await?;
            ensure_says("the proof", &proof, "Anyone can pull")
        })
        .await;
}
