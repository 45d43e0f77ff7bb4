//! Drag-to-push in the real window against the stack's dockerd, the token registry and the emulator: an
//! image row dragged (real pointer actions) onto the owner's drop zone is tagged and pushed; in Pushes
//! the per-layer bars move, only forward, to the layer's size, and the pull command appears at the end.
//! A second, bigger push is cancelled from its card and says so. An image dropped on the package the
//! first push made goes up as a new tag of it.

use ghcr_webdriver_tests::{
    drag, ensure, env_refs, layered_image, open_view, signed_in_env, stack, text_of, unique,
    user_with_token, wait_for, App, Client, Locator,
};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Every layer bar of the card for `target`: layer id → (bytes, max), and the card's state.
async fn card_state(
    client: &Client,
    target: &str,
) -> Result<Option<(String, HashMap<String, (u64, u64)>)>, fantoccini::error::CmdError> {
    let script = r#"
        const card = [...document.querySelectorAll('.push-card')].find((c) => c.dataset.target === arguments[0]);
        if (!card) return null;
        const layers = {};
        for (const row of card.querySelectorAll('.layer')) {
            const bar = row.querySelector('progress');
            layers[row.dataset.layer] = [Number(bar.dataset.bytes || 0), Number(bar.max)];
        }
        return [card.dataset.state, layers];
    "#;
    let value = client.execute(script, vec![target.into()]).await?;
    Ok(serde_json::from_value(value).unwrap_or(None))
}

async fn drag_to_owner(
    client: &Client,
    reference: &str,
    owner: &str,
) -> Result<(), fantoccini::error::CmdError> {
    // The list is virtualised: filter so the row is in the page.
    let filter = wait_for(client, "#image-filter").await?;
    filter.clear().await?;
    filter.send_keys(reference).await?;
    let row = wait_for(client, &format!(".image-row[data-reference='{reference}']")).await?;
    let zone = wait_for(client, &format!(".drop-zone[data-owner='{owner}']")).await?;
    drag(client, &row, &zone).await?;
    wait_for(client, "#show-pushes").await.map(|_| ())
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
    let registry = stack("GHCR_TEST_REGISTRY_TOKEN");
    let env = signed_in_env(&token);
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
            let (state, last) = loop {
                ensure(Instant::now() < deadline, "the push did not finish in 2 minutes")?;
                if let Some((state, layers)) = card_state(&client, &watched_target).await? {
                    for (id, (bytes, _)) in &layers {
                        seen.entry(id.clone()).or_default().push(*bytes);
                    }
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
            let card = format!(".push-card[data-target='{watched_target}']");
            let pull = text_of(&client, &format!("{card} .pull-command")).await?;
            ensure(
                pull == format!("docker pull {watched_target}"),
                format!("pull command: {pull}"),
            )?;

            // A second push, cancelled from its card while it runs.
            open_view(&client, "images").await?;
            drag_to_owner(&client, &big, &owner).await?;
            open_view(&client, "pushes").await?;
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
            let mut found = false;
            for _ in 0..20 {
                open_view(&client, "images").await?;
                tokio::time::sleep(Duration::from_millis(400)).await;
                if client.find(Locator::Css(&zone)).await.is_ok() {
                    found = true;
                    break;
                }
                open_view(&client, "pushes").await?;
            }
            ensure(found, "the package shows as a drop target in Images")?;
            let filter = client.find(Locator::Id("image-filter")).await?;
            filter.clear().await?;
            filter.send_keys(&again).await?;
            let row = wait_for(&client, &format!(".image-row[data-reference='{again}']"))
                .await?;
            let target_zone = client.find(Locator::Css(&zone)).await?;
            drag(&client, &row, &target_zone).await?;
            open_view(&client, "pushes").await?;
            wait_for(&client, &format!(
                    ".push-card[data-target='{registry}/{owner}/{package}:again'][data-state='done']"
                ))
                .await?;
            Ok(())
        })
        .await;
}
