//! Drag-to-push in the real window against the stack's dockerd, the token registry and the emulator: an
//! image row dragged (real pointer actions) onto the owner's drop zone is tagged and pushed; in Pushes
//! the per-layer bars move, only forward, to the layer's size, and the pull command appears at the end.
//! A second, bigger push is cancelled from its card and says so (the registry, behind a proxy, holds
//! that push's first finished layer, so the push is still running when Cancel is clicked, however
//! fast the machine). An image dropped on the package the first push made goes up as a new tag of it.

use ghcr_test_support::registry_proxy::{Decision, RegistryProxy};
use ghcr_webdriver_tests::{
    click, confirm_push_dialog, dialog_ready, drag, ensure, ensure_says, env_refs, layered_image,
    open_view, photograph_at_both_sizes, resize, signed_in_env, stack, text_of, unique,
    user_with_token, wait_for, wait_for_within, wait_gone, App, Client, Key, Locator, Outcome,
    PATIENCE,
};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// The signed-in environment with the registry at `registry` (a proxy in front of the stack's).
fn signed_in_env_through(token: &str, registry: &str) -> Vec<(&'static str, String)> {
    let mut env = signed_in_env(token);
    for (key, value) in env.iter_mut() {
        if *key == "GHCR_REGISTRY" {
            *value = registry.to_string();
        }
    }
    env
}

/// The card for `target` as shown: its state, every layer bar (layer id → (bytes, max)), and the
/// total bar (value of max, bytes, total).
type CardState = (String, HashMap<String, (u64, u64)>, (u64, u64, u64));

async fn card_state(
    client: &Client,
    target: &str,
) -> Result<Option<CardState>, fantoccini::error::CmdError> {
    let script = r#"
        const card = [...document.querySelectorAll('.push-card')].find((c) => c.dataset.target === arguments[0]);
        if (!card) return null;
        const layers = {};
        for (const row of card.querySelectorAll('.layer')) {
            const bar = row.querySelector('progress');
            layers[row.dataset.layer] = [Number(bar.dataset.bytes || 0), Number(bar.max)];
        }
        const total = card.querySelector('.total-bar');
        return [card.dataset.state, layers,
                [Number(total.value || 0), Number(total.dataset.bytes || 0), Number(total.dataset.total || 0)]];
    "#;
    let value = client.execute(script, vec![target.into()]).await?;
    Ok(serde_json::from_value(value).unwrap_or(None))
}

/// Drags the image `reference` onto `owner` and confirms the push dialog as it comes.
async fn drag_to_owner(client: &Client, reference: &str, owner: &str) -> Outcome {
    drop_on_owner(client, reference, owner).await?;
    confirm_push_dialog(client).await?;
    wait_for(client, "#show-pushes").await?;
    Ok(())
}

/// Drags the image `reference` onto `owner` and waits for the push dialog to be ready.
async fn drop_on_owner(client: &Client, reference: &str, owner: &str) -> Outcome {
    // The list is virtualised: filter so the row is in the page. The page may draw a row or the
    // view again between finding it and dragging it (an engine event, a badge): then once more.
    let mut tries = 0;
    loop {
        tries += 1;
        let attempt = async {
            let filter = wait_for(client, "#image-filter").await?;
            filter.clear().await?;
            filter.send_keys(reference).await?;
            let row =
                wait_for(client, &format!(".image-row[data-reference='{reference}']")).await?;
            let zone = wait_for(client, &format!(".drop-zone[data-owner='{owner}']")).await?;
            drag(client, &row, &zone).await
        }
        .await;
        match attempt {
            Err(error) if tries < 3 && error.to_string().to_lowercase().contains("stale") => {
                continue
            }
            other => break other?,
        }
    }
    dialog_ready(client, "push-dialog").await?;
    Ok(())
}

#[tokio::test]
async fn images_dragged_onto_an_owner_or_a_package_push_with_moving_bars_and_a_push_can_be_cancelled(
) {
    let (login, token) = user_with_token("Wd-Push", &[], "classic", &["write:packages"]).await;
    let owner = login.to_lowercase();
    let name = unique("wd-push");
    let small = format!("{name}-watched:1");
    let big = format!("{name}-cancelled:1");
    layered_image(&small, &[80_000_000, 80_000_000, 80_000_000]);
    let again = format!("{name}-watched:again");
    ghcr_webdriver_tests::docker(&["tag", &small, &again]);
    layered_image(&big, &[150_000_000, 150_000_000]);
    // The push to be cancelled must still run when the click comes: a proxy holds the request that
    // finishes its first layer (on a fast machine the whole push took ~4 s and once ended first).
    let proxy = RegistryProxy::start(&stack("GHCR_TEST_REGISTRY_TOKEN")).await;
    let gate = proxy
        .hold_first(|head| head.method == "PUT" && head.path.contains("-cancelled/blobs/uploads/"));
    let registry = proxy.address.clone();
    let env = signed_in_env_through(&token, &registry);
    let env = env_refs(&env);
    let watched_target = format!("{registry}/{owner}/{name}-watched:1");
    let cancelled_target = format!("{registry}/{owner}/{name}-cancelled:1");

    App::launch("pushes-drag", &env)
        .await
        .check(|client| async move {
            drag_to_owner(&client, &small, &owner).await?;
            open_view(&client, "pushes").await?;

            // Watch the bars until the push is done.
            let deadline = Instant::now() + Duration::from_secs(120);
            let mut seen: HashMap<String, Vec<u64>> = HashMap::new();
            let mut totals: Vec<(u64, u64, u64)> = Vec::new();
            let (state, last) = loop {
                ensure(Instant::now() < deadline, "the push did not finish in 2 minutes")?;
                if let Some((state, layers, total)) = card_state(&client, &watched_target).await? {
                    for (id, (bytes, _)) in &layers {
                        seen.entry(id.clone()).or_default().push(*bytes);
                    }
                    totals.push(total);
                    if state == "done" || state == "failed" {
                        break (state, layers);
                    }
                }
                tokio::time::sleep(Duration::from_millis(40)).await;
            };
            ensure(state == "done", format!("the push ended {state}"))?;
            ensure(last.len() == 3, format!("three layers: {last:?}"))?;
            for (id, (bytes, max)) in &last {
                ensure(bytes == max, format!("layer {id} ends at its size: {bytes} of {max}"))?;
            }
            for (id, bytes) in &seen {
                ensure(
                    bytes.windows(2).all(|w| w[0] <= w[1]),
                    format!("layer {id} only moves forward: {bytes:?}"),
                )?;
            }
            let moving = seen.iter().any(|(id, bytes)| {
                let max = last[id].1;
                bytes.iter().any(|b| *b > 0 && *b < max)
            });
            ensure(moving, format!("a bar was seen between empty and full: {seen:?}"))?;
            // The total bar only moves forward; a direct push (the classic store's) knows its total
            // before the first byte and keeps it.
            ensure(
                totals.windows(2).all(|w| w[0].0 <= w[1].0),
                format!("the total bar only moves forward: {totals:?}"),
            )?;
            let direct = !matches!(
                std::env::var("GHCR_TEST_ENGINE").as_deref(),
                Ok("containerd") | Ok("podman")
            );
            let moving_totals: Vec<u64> =
                totals.iter().filter(|t| t.1 > 0).map(|t| t.2).collect();
            if direct {
                ensure(
                    moving_totals.windows(2).all(|w| w[0] == w[1]),
                    format!("the total stays once bytes move: {moving_totals:?}"),
                )?;
            }
            // The card says which way the automatic push went (the request said only "auto").
            let card = format!(".push-card[data-target='{watched_target}']");
            let said = text_of(&client, &format!("{card} .push-source")).await?;
            ensure_says(
                "the card's source line",
                &said,
                if direct { "direct: GHCR Desktop compresses and uploads" } else { "through the engine" },
            )?;
            let pull = text_of(&client, &format!("{card} .pull-command")).await?;
            ensure(
                pull == format!("docker pull {watched_target}"),
                format!("pull command: {pull}"),
            )?;
            // Every layer went up: never "there already", and a layer's size is real or not said
            // (Docker's containerd store says only "Pushed" of a quick layer; it read "0 B / 1 B").
            let numbers = text_of(&client, &format!("{card} .push-numbers")).await?;
            ensure(!numbers.contains("there already"), format!("the card's numbers: {numbers}"))?;
            let sizes: Vec<String> = serde_json::from_value(
                client
                    .execute(
                        "return [...document.querySelectorAll(arguments[0])].map((e) => e.textContent);",
                        vec![serde_json::json!(format!("{card} .layer-size"))],
                    )
                    .await?,
            )
            .unwrap_or_default();
            ensure(
                sizes.iter().all(|s| !s.starts_with("0 B")),
                format!("layer sizes real or none: {sizes:?}"),
            )?;
            let engine = std::env::var("GHCR_TEST_ENGINE").unwrap_or_else(|_| "classic".into());
            photograph_at_both_sizes(&client, &format!("push-done-{engine}"), &card).await?;

            // A second push, cancelled from its card while it runs.
            open_view(&client, "images").await?;
            drag_to_owner(&client, &big, &owner).await?;
            open_view(&client, "pushes").await?;
            tokio::time::timeout(Duration::from_secs(60), gate.arrived())
                .await
                .map_err(|_| "the push to cancel never finished a layer")?;
            let cancel = wait_for(&client, &format!(
                    ".push-card[data-target='{cancelled_target}'][data-state='running'] .push-cancel"
                ))
                .await?;
            cancel.click().await?;
            let card = wait_for(&client, &format!(
                    ".push-card[data-target='{cancelled_target}'][data-state='cancelled']"
                ))
                .await?;
            let text = card.text().await?;
            ensure(text.contains("Cancelled"), format!("the card says so: {text}"))?;
            ensure(
                card.find(Locator::Css(".push-retry")).await?.is_displayed().await?,
                "a cancelled push offers Retry",
            )?;

            // The first push made a package: an image dropped on it goes up as a new tag of it.
            let package = format!("{name}-watched");
            let zone = format!(".package-zone[data-package='{package}']");
            // The registry tells the emulator of the new package by a notification: Images is opened
            // again (its drop targets are drawn from the package list once it is ready) until it is
            // there.
            let deadline = Instant::now() + Duration::from_secs(60);
            loop {
                open_view(&client, "images").await?;
                if client.find(Locator::Css(&zone)).await.is_ok() {
                    break;
                }
                ensure(
                    Instant::now() < deadline,
                    "the package never showed as a drop target in Images",
                )?;
                open_view(&client, "pushes").await?;
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            let filter = client.find(Locator::Id("image-filter")).await?;
            filter.clear().await?;
            filter.send_keys(&again).await?;
            let row = wait_for(&client, &format!(".image-row[data-reference='{again}']"))
                .await?;
            let target_zone = client.find(Locator::Css(&zone)).await?;
            drag(&client, &row, &target_zone).await?;
            confirm_push_dialog(&client).await?;
            open_view(&client, "pushes").await?;
            wait_for(&client, &format!(
                    ".push-card[data-target='{registry}/{owner}/{package}:again'][data-state='done']"
                ))
                .await?;
            Ok(())
        })
        .await;
}

/// The drop asks before it pushes: the name (checked as typed) and, for a package that doesn't exist
/// yet, the repository to link — pre-selected by name among the owner's repositories. The new package
/// is linked to it on GitHub (ghcr.io reads the label only at creation); Esc cancels without a push.
#[tokio::test]
async fn a_drop_asks_for_the_name_and_the_repository_and_the_new_package_is_linked() {
    // The user has one repository, `site` (support::user_with_token).
    let (login, token) = user_with_token("Wd-Link", &[], "classic", &["write:packages"]).await;
    let owner = login.to_lowercase();
    let image = format!("{}/site:1", unique("wd-link"));
    layered_image(&image, &[2_000_000]);
    let registry = stack("GHCR_TEST_REGISTRY_TOKEN");
    let emulator = stack("GHCR_TEST_EMULATOR");
    let env = signed_in_env(&token);
    let env = env_refs(&env);
    App::launch("push-dialog", &env)
        .await
        .check(|client| async move {
            let filter = wait_for(&client, "#image-filter").await?;
            filter.send_keys(&image).await?;
            let row = wait_for(&client, &format!(".image-row[data-reference='{image}']")).await?;
            let zone = wait_for(&client, &format!(".drop-zone[data-owner='{owner}']")).await?;

            // Esc: nothing is pushed.
            drag(&client, &row, &zone).await?;
            dialog_ready(&client, "push-dialog").await?;
            client
                .find(Locator::Id("push-name"))
                .await?
                .send_keys(&Key::Escape.to_string())
                .await?;
            wait_gone(&client, "#push-dialog").await?;
            // A push would have been announced in the same task that closed the dialog.
            ensure(
                client.find(Locator::Id("show-pushes")).await.is_err(),
                "and pushes nothing",
            )?;

            drag(&client, &row, &zone).await?;
            wait_for(
                &client,
                "#push-dialog[data-new-package='true'] #push-repo option[value$='/site']",
            )
            .await?;
            let chosen: String = client
                .execute("return document.getElementById('push-repo').value", vec![])
                .await?
                .as_str()
                .unwrap_or_default()
                .to_string();
            ensure(
                chosen.ends_with(&format!("/{login}/site")),
                format!("pre-selected by name: {chosen}"),
            )?;
            let note = text_of(&client, "#push-repo-note").await?;
            ensure_says("the dialog's note", &note, "Manage Actions access")?;
            let name = client
                .execute("return document.getElementById('push-name').value", vec![])
                .await?;
            let name = name.as_str().unwrap_or_default().to_string();
            ensure(
                name.ends_with("site:1"),
                format!("the proposed name: {name}"),
            )?;
            confirm_push_dialog(&client).await?;
            wait_for(&client, "#show-pushes").await?;
            open_view(&client, "pushes").await?;
            let target = format!("{registry}/{owner}/{name}");
            wait_for(
                &client,
                &format!(".push-card[data-target='{target}'][data-state='done']"),
            )
            .await?;

            // GitHub linked the new package to the chosen repository.
            let package = name
                .split(':')
                .next()
                .unwrap_or_default()
                .replace('/', "%2F");
            let mut linked = String::new();
            let deadline = Instant::now() + PATIENCE;
            while Instant::now() < deadline {
                let answer = reqwest::Client::new()
                    .get(format!("{emulator}/user/packages/container/{package}"))
                    .bearer_auth(&token)
                    .send()
                    .await?;
                let body: serde_json::Value = answer.json().await.unwrap_or_default();
                linked = body["repository"]["full_name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string();
                if !linked.is_empty() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            ensure(
                linked == format!("{login}/site"),
                format!("linked to {linked:?}"),
            )
        })
        .await;
}

/// ghcr.io's secondary rate limit, played by a proxy in front of the registry: the card says
/// "Rate-limited", counts down, never blames the token, and the push completes by itself.
#[tokio::test]
async fn a_rate_limited_push_says_so_waits_and_completes_by_itself() {
    let (login, token) = user_with_token("Wd-Limit", &[], "classic", &["write:packages"]).await;
    let owner = login.to_lowercase();
    let image = format!("{}-limited:1", unique("wd-limit"));
    layered_image(&image, &[3_000_000, 3_000_000]);
    let proxy = RegistryProxy::start(&stack("GHCR_TEST_REGISTRY_TOKEN")).await;
    // Refused once. The card then waits 15 s (the Retry-After) on a direct push, 10 s on an engine's
    // (which drops the registry's words: the app's own wait) — several times what the steps between
    // the drop and the card take. (Refusing until the test had seen the card kept Docker 26's own
    // push retrying inside the engine, out of the card's sight.)
    let mut refused = false;
    proxy.rule(move |head| {
        // The image's own upload (not the account check's push probe, which also opens one).
        if !refused && head.method == "POST" && head.path.contains("-limited/blobs/uploads/") {
            refused = true;
            return Decision::Answer {
                status: 403,
                headers: vec![
                    ("content-type".into(), "application/json".into()),
                    ("retry-after".into(), "15".into()),
                ],
                body: r#"{"errors":[{"code":"DENIED","message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again."}]}"#.into(),
            };
        }
        Decision::Forward
    });
    let env = signed_in_env_through(&token, &proxy.address);
    let through_proxy = format!("{}/{owner}/", proxy.address);
    let env = env_refs(&env);
    App::launch("push-rate-limited", &env)
        .await
        .check(|client| async move {
            drag_to_owner(&client, &image, &owner).await?;
            open_view(&client, "pushes").await?;
            let card = ".push-card[data-rate-limited='true'][data-state='retrying']";
            let said = text_of(&client, card).await?;
            ensure_says("the rate-limited card", &said, "Rate-limited")?;
            ensure_says("the rate-limited card", &said, "secondary rate limit")?;
            ensure_says("the rate-limited card", &said, "trying again by itself")?;
            ensure(
                !said.to_lowercase().contains("token"),
                format!("never a token problem: {said}"),
            )?;
            // The registry's Retry-After when its words came through (direct); an engine drops them
            // with the body, and a bare 403 the registry no longer gives is waited on for 10 s.
            let done = wait_for_within(
                &client,
                ".push-card[data-state='done']",
                Duration::from_secs(120),
            )
            .await?;
            let reference = done.attr("data-target").await?.unwrap_or_default();
            ensure(
                reference.starts_with(&through_proxy),
                format!("pushed {reference}"),
            )
        })
        .await;
}

/// "Open on GitHub" with no browser to open says so in words and shows the address whole with Copy
/// (before: nothing at all, elsewhere the opener's debug text); and finished pushes are still listed
/// after a restart — as history, without Retry, with their layer rows and "Open on GitHub" (before: a
/// bare bar). At 760×480, Pushes opens at its top however far down the last view was scrolled.
#[tokio::test]
async fn a_failed_browser_hand_off_shows_the_address_and_finished_pushes_survive_a_restart() {
    let (login, token) = user_with_token("Wd-Handoff", &[], "classic", &["write:packages"]).await;
    let owner = login.to_lowercase();
    let name = format!("{}-handoff", unique("wd-handoff"));
    let image = format!("{name}:1");
    // Layers enough that the card is taller than a 760×480 window.
    layered_image(&image, &[150_000; 10]);
    let page = format!(
        "{}/users/{owner}/packages/container/package/{name}",
        stack("GHCR_TEST_EMULATOR")
    );
    let registry = stack("GHCR_TEST_REGISTRY_TOKEN");
    let target = format!("{registry}/{owner}/{image}");
    let home = tempfile::tempdir().unwrap();
    let mut env = signed_in_env(&token);
    env.push(("HOME", home.path().display().to_string()));
    let card = format!(".push-card[data-target='{target}'][data-state='done']");
    let (first_card, first_image, first_owner) = (card.clone(), image.clone(), owner.clone());
    let (target_kept, first_page) = (target.clone(), page.clone());
    App::launch("push-handoff", &env_refs(&env))
        .await
        .check(|client| async move {
            drag_to_owner(&client, &first_image, &first_owner).await?;
            open_view(&client, "pushes").await?;
            wait_for_within(&client, &first_card, Duration::from_secs(60)).await?;
            client
                .find(Locator::Css(&format!("{first_card} .open-package")))
                .await?
                .click()
                .await?;
            let address = text_of(&client, &format!("{first_card} .handoff-url")).await?;
            let layers = client
                .find_all(Locator::Css(&format!("{first_card} .layer")))
                .await?
                .len();
            ensure(layers == 10, format!("10 layer rows, not {layers}"))?;
            ensure(
                address == first_page,
                format!("the package page's address, whole: {address}"),
            )?;
            let said = client.find(Locator::Css(&first_card)).await?.text().await?;
            ensure_says("the card", &said, "Couldn't open your browser")?;
            ensure(
                !said.contains("Launcher") && !said.contains("ExitStatus"),
                format!("no debug text: {said}"),
            )?;
            wait_for(&client, &format!("{first_card} .handoff-copy"))
                .await
                .map(|_| ())?;
            // The history is written once pushes have been quiet for 3 s: wait until it holds the push.
            let deadline = Instant::now() + PATIENCE;
            loop {
                let kept = client
                    .execute(
                        "return localStorage.getItem('ghcr.push-history') || '';",
                        vec![],
                    )
                    .await?;
                if kept.as_str().unwrap_or_default().contains(&target_kept) {
                    return Ok(());
                }
                ensure(
                    Instant::now() < deadline,
                    "the push history was never written",
                )?;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
        .await;
    App::launch("push-history", &env_refs(&env))
        .await
        .check(|client| async move {
            open_view(&client, "pushes").await?;
            let historic = format!("{card}[data-historic='true']");
            let found = wait_for(&client, &historic).await?;
            let said = found.text().await?;
            ensure_says(
                "the remembered card",
                &said,
                &format!("docker pull {target}"),
            )?;
            ensure(
                !client
                    .find(Locator::Css(&format!("{historic} .push-retry")))
                    .await?
                    .is_displayed()
                    .await?,
                "no Retry for a push of an earlier session",
            )?;
            let mut layers = Vec::new();
            for row in client
                .find_all(Locator::Css(&format!("{historic} .layer")))
                .await?
            {
                layers.push(row.attr("data-state").await?.unwrap_or_default());
            }
            ensure(
                layers.len() == 10 && layers.iter().all(|state| state == "pushed"),
                format!("the remembered card's layers, each pushed: {layers:?}"),
            )?;
            click(&client, &format!("{historic} .open-package")).await?;
            let address = text_of(&client, &format!("{historic} .handoff-url")).await?;
            ensure(
                address == page,
                format!("the remembered card opens the package's page: {address}"),
            )?;

            // At the smallest size, a view scrolled to its end, then Pushes: it opens at its top.
            resize(&client, 760, 480).await?;
            open_view(&client, "account").await?;
            let scrolled = client
                .execute(
                    "const view = document.getElementById('view');
                     view.scrollTop = view.scrollHeight;
                     return view.scrollTop;",
                    vec![],
                )
                .await?;
            ensure(
                scrolled.as_f64().unwrap_or(0.0) > 100.0,
                format!("Account scrolls at 760×480 (scrolled to {scrolled})"),
            )?;
            open_view(&client, "pushes").await?;
            let place: Vec<f64> = serde_json::from_value(
                client
                    .execute(
                        "const view = document.getElementById('view');
                         const head = view.querySelector('h1').getBoundingClientRect();
                         return [view.scrollTop, view.scrollHeight - view.clientHeight,
                                 head.top - view.getBoundingClientRect().top];",
                        vec![],
                    )
                    .await?,
            )?;
            ensure(
                place[1] > 50.0,
                format!("Pushes is taller than the window at 760×480: {place:?}"),
            )?;
            ensure(
                place[0] == 0.0 && place[2] >= 0.0,
                format!(
                    "Pushes opens at its top (scrollTop, scroll room, heading's top): {place:?}"
                ),
            )?;
            photograph_at_both_sizes(&client, "pushes-restored", "main h1").await
        })
        .await;
}

/// zstd chosen in Settings for the owner: the push dialog starts with "Smaller upload (zstd)" ticked
/// and says who can't pull it; the card says "zstd layers"; the registry holds zstd layers in an OCI
/// manifest. Unticked in the next dialog, the push is gzip.
#[tokio::test]
async fn zstd_chosen_for_the_owner_in_settings_is_what_the_push_dialog_offers_and_pushes() {
    let (login, token) = user_with_token("Wd-Zstd", &[], "classic", &["write:packages"]).await;
    let owner = login.to_lowercase();
    let name = unique("wd-zstd");
    let image = format!("{name}:1");
    ghcr_test_support::text_image(&image, &[2_000_000]);
    let registry = stack("GHCR_TEST_REGISTRY_TOKEN");
    let env = signed_in_env(&token);
    let target = format!("{registry}/{owner}/{image}");
    let (shown_owner, shown_image, shown_target) = (owner.clone(), image.clone(), target.clone());
    App::launch("push-zstd", &env_refs(&env))
        .await
        .check(|client| async move {
            open_view(&client, "settings").await?;
            let choice = format!("#compression-{shown_owner}");
            client
                .find(Locator::Css(&format!("{choice} option[value='zstd']")))
                .await?
                .click()
                .await?;
            let stored = client
                .execute(
                    "return localStorage.getItem('ghcr.compression') || '';",
                    vec![],
                )
                .await?;
            ensure(
                stored.as_str().unwrap_or_default().contains("zstd"),
                format!("the choice is kept: {stored}"),
            )?;
            open_view(&client, "images").await?;
            drop_on_owner(&client, &shown_image, &shown_owner).await?;
            let ticked = wait_for(&client, "#push-zstd")
                .await?
                .prop("checked")
                .await?;
            ensure(
                ticked.as_deref() == Some("true"),
                format!("zstd ticked: {ticked:?}"),
            )?;
            let note = text_of(&client, "#push-zstd-note").await?;
            ensure_says("the zstd note", &note, "Docker 20.10")?;
            confirm_push_dialog(&client).await?;
            open_view(&client, "pushes").await?;
            let card = format!(".push-card[data-target='{shown_target}'][data-state='done']");
            let said = text_of(&client, &card).await?;
            ensure_says("the card", &said, "zstd layers")?;
            Ok(())
        })
        .await;
    let manifest = ghcr_test_support::skopeo(
        &["inspect", "--raw", &format!("docker://{target}")],
        &login,
        &token,
    )
    .expect("the image is on the registry");
    assert!(
        manifest.contains("application/vnd.oci.image.layer.v1.tar+zstd")
            && !manifest.contains("tar+gzip"),
        "zstd layers: {manifest}"
    );
}

/// Dropping an image onto an owner whose registry already has that name and tag: the push dialog
/// says the tag exists and what it points to, and its button says "Replace"; one click replaces it
/// (before: replaced without a word).
#[tokio::test]
async fn a_drop_over_an_existing_tag_says_what_it_replaces_and_replace_is_one_click() {
    let (login, token) = user_with_token("Wd-Replace", &[], "classic", &["write:packages"]).await;
    let owner = login.to_lowercase();
    let name = unique("wd-replace");
    let registry = stack("GHCR_TEST_REGISTRY_TOKEN");
    let target = format!("{registry}/{owner}/{name}:1.0");
    // What is there already: another image, pushed by the CLI.
    let earlier = format!("{name}-earlier:1");
    ghcr_test_support::import_image(&earlier);
    ghcr_webdriver_tests::ghcr_push(&token, &earlier, &target, &["--via", "direct"]);
    let image = format!("{name}:1.0");
    ghcr_test_support::import_image(&image);
    let env = signed_in_env(&token);
    let (shown_owner, shown_image, shown_target) = (owner.clone(), image.clone(), target.clone());
    App::launch("push-replace", &env_refs(&env))
        .await
        .check(|client| async move {
            drop_on_owner(&client, &shown_image, &shown_owner).await?;
            let said = text_of(&client, "#push-dialog #push-exists").await?;
            ensure_says("the dialog", &said, "is on the registry already (sha256:")?;
            ensure_says("the dialog", &said, "Pushing replaces it")?;
            let button = text_of(&client, "#push-confirm").await?;
            ensure(
                button == format!("Replace {shown_image}"),
                format!("the button says {button:?}"),
            )?;
            photograph_at_both_sizes(&client, "push-replace", "#push-exists").await?;
            click(&client, "#push-confirm").await?;
            wait_gone(&client, "#push-dialog").await?;
            open_view(&client, "pushes").await?;
            wait_for(
                &client,
                &format!(".push-card[data-target='{shown_target}'][data-state='done']"),
            )
            .await?;
            Ok(())
        })
        .await;
}

/// A push with a token that may only read packages is refused with the reason: the card says the token
/// lacks write:packages and what to do — never that it may be revoked or expired (before: "unauthorized
/// … check the token in Account") — and makes up no sizes for what never went up ("0 B of 0 B", "0 B /
/// 1 B" on Docker's containerd store).
#[tokio::test]
async fn a_push_with_a_read_only_token_is_refused_with_the_reason() {
    let (login, token) = user_with_token("Wd-Read-Only", &[], "classic", &["read:packages"]).await;
    let owner = login.to_lowercase();
    let image = format!("{}:1", unique("wd-read-only"));
    layered_image(&image, &[200_000]);
    let registry = stack("GHCR_TEST_REGISTRY_TOKEN");
    let card = format!(".push-card[data-target='{registry}/{owner}/{image}'][data-state='failed']");
    let env = signed_in_env(&token);
    App::launch("push-read-only", &env_refs(&env))
        .await
        .check(|client| async move {
            drag_to_owner(&client, &image, &owner).await?;
            open_view(&client, "pushes").await?;
            let said = text_of(&client, &format!("{card} .push-outcome")).await?;
            ensure_says("the refused card", &said, "lacks write:packages")?;
            ensure(
                !said.contains("revoked") && !said.contains("expired"),
                format!("the token is not blamed for what it is not: {said}"),
            )?;
            // Nothing went up and no size was said: no sizes made up ("0 B of 0 B", "0 B / 1 B").
            let whole = text_of(&client, &card).await?;
            ensure(
                !whole.contains("0 B of 0 B") && !whole.contains("/ 1 B"),
                format!("no made-up sizes: {whole}"),
            )?;
            photograph_at_both_sizes(&client, "push-refused", &card).await
        })
        .await;
}
