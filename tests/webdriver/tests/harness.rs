//! The WebDriver harness itself against the real window: waiting for an element outlasts a page that
//! redraws it (WebKitWebDriver then answers a find with "stale element", which once failed a push test).

use ghcr_webdriver_tests::{stack, wait_for, wait_for_within, App, Locator, PATIENCE};

#[tokio::test]
async fn waiting_for_an_element_outlasts_the_page_redrawing_it() {
    let docker_host = stack("DOCKER_HOST");
    App::launch("harness-redraw", &[("DOCKER_HOST", &docker_host)])
        .await
        .check(|client| async move {
            wait_for(&client, "#engine-status").await?;
            // A button replaced 50 times per timer tick, as a notice is redrawn when a push moves on.
            client
                .execute(
                    "window.__redraw = setInterval(() => { for (let i = 0; i < 50; i++) { \
                       const button = document.createElement('button'); button.id = 'redrawn'; \
                       const old = document.getElementById('redrawn'); \
                       if (old) old.replaceWith(button); else document.body.append(button); } }, 0);",
                    vec![],
                )
                .await?;
            let mut stale = 0;
            for _ in 0..100 {
                if let Err(error) = client.find(Locator::Id("redrawn")).await {
                    stale += usize::from(error.is_stale_element_reference());
                }
            }
            eprintln!("plain finds answered stale: {stale} of 100");
            for _ in 0..100 {
                wait_for_within(&client, "#redrawn", PATIENCE).await?;
            }
            client
                .execute("clearInterval(window.__redraw);", vec![])
                .await?;
            Ok(())
        })
        .await;
}
