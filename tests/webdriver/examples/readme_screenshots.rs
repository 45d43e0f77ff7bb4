//! Takes the README's screenshots (docs/*.png) of the real window against the demo world: run by
//! scripts/readme-screenshots.sh, which empties the stack's engine and loads the demo's sample images.
use ghcr_webdriver_tests::{
    click, confirm_push_dialog, drag, open_view, reload, settle, stack, target_dir,
    wait_for_within, App, Locator,
};
use std::time::Duration;

const DEMO_TOKEN: &str = "ghp_DemoTokenForGhcrDesktopOffline0000a1";

async fn shot(name: &str, theme: &str, steps: &'static str) {
    let emulator = stack("GHCR_TEST_EMULATOR");
    let env = [
        ("DOCKER_HOST", stack("DOCKER_HOST")),
        ("GHCR_API_URL", emulator.clone()),
        ("GHCR_WEB_URL", emulator),
        ("GHCR_REGISTRY", stack("GHCR_TEST_REGISTRY_TOKEN")),
        ("GHCR_TOKEN", DEMO_TOKEN.to_string()),
    ];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let theme = theme.to_string();
    App::launch(name, &env)
        .await
        .check(|client| async move {
            client
                .execute(&format!("localStorage.setItem('theme', '{theme}');"), vec![])
                .await?;
            reload(&client).await?;
            wait_for_within(&client, "#image-list[data-load-ms]", Duration::from_secs(20))
                .await?;
            wait_for_within(&client, "#account-status[data-state='ok']", Duration::from_secs(20))
                .await?;
            if steps == "dialog" {
                click(&client, ".image-row[data-reference^='docker.pkg.github.com'] .tag-for-github",).await?;
                wait_for_within(&client, "#tag-dialog[data-valid]", Duration::from_secs(20))
                    .await?;
                let name = client.find(Locator::Id("tag-name")).await?;
                name.clear().await?;
                name.send_keys("Hello-App:0.9").await?;
                wait_for_within(&client, "#tag-dialog[data-valid='false']", Duration::from_secs(20))
                    .await?;
            }
            if steps == "push-dialog" {
                let row = client
                    .find(Locator::Css(".image-row[data-reference='hello-app:1.0']"))
                    .await?;
                let zone = wait_for_within(&client, ".drop-zone[data-owner='octo-cat']", Duration::from_secs(20))
                    .await?;
                drag(&client, &row, &zone).await?;
                wait_for_within(&client, "#push-dialog[data-new-package] #push-confirm:enabled", Duration::from_secs(20))
                    .await?;
            }
            if steps == "pushes" {
                for reference in ["hello-app:1.0", "website:2026-11"] {
                    let row = client
                        .find(Locator::Css(&format!(".image-row[data-reference='{reference}']")))
                        .await?;
                    let zone = wait_for_within(&client, ".drop-zone[data-owner='octo-cat']", Duration::from_secs(20))
                        .await?;
                    drag(&client, &row, &zone).await?;
                    confirm_push_dialog(&client).await?;
                    wait_for_within(&client, "#show-pushes", Duration::from_secs(20))
                        .await?;
                }
                open_view(&client, "pushes").await?;
                wait_for_within(&client, "#push-list[data-jobs='2'] .push-card[data-state='done'] ~ .push-card[data-state='done']", Duration::from_secs(60))
                    .await?;
            }
            settle(&client).await;
            tokio::time::sleep(Duration::from_secs(1)).await;
            Ok(())
        })
        .await;
    println!(
        "{}",
        target_dir().join(format!("webdriver/{name}.png")).display()
    );
}

#[tokio::main]
async fn main() {
    shot("readme-images", "light", "list").await;
    shot("readme-tag-dialog", "light", "dialog").await;
    shot("readme-images-dark", "dark", "list").await;
    shot("readme-push-dialog", "light", "push-dialog").await;
    shot("readme-pushes", "light", "pushes").await;
}
