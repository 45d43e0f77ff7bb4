//! Benchmark (not a test): how long the real window takes from the image-list command to rendered rows,
//! with whatever the stack's engine holds (scripts/bench-images.sh loads 2,000 images first). Starts
//! the app RUNS times (default 5); each time it reads what the page measured at start-up, then lists
//! again in the running app (choosing the engine restarts the watch) and reads that too. Prints each
//! run and the medians: command → rows in the page and laid out, and → the next frame on screen.
use ghcr_webdriver_tests::{stack, wait_for_within, App, Client, Locator};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// `data-load-ms` and `data-frame-ms` of the list, once both are there.
async fn measured(client: &Client) -> Result<(u64, u64, usize), fantoccini::error::CmdError> {
    let list = wait_for_within(
        client,
        "#image-list[data-load-ms][data-frame-ms]",
        Duration::from_secs(60),
    )
    .await?;
    let number = |text: Option<String>| text.unwrap_or_default().parse().unwrap_or(0);
    Ok((
        number(list.attr("data-load-ms").await?),
        number(list.attr("data-frame-ms").await?),
        number(list.attr("data-rows").await?) as usize,
    ))
}

fn median(mut values: Vec<u64>) -> u64 {
    values.sort_unstable();
    values[values.len() / 2]
}

#[tokio::main]
async fn main() {
    let runs: usize = std::env::var("RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(5);
    let docker_host = stack("DOCKER_HOST");
    let (mut start, mut start_frame, mut warm, mut warm_frame) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for run in 1..=runs {
        let found = Arc::new(Mutex::new(None));
        let into = found.clone();
        let host = docker_host.clone();
        App::launch("bench-images", &[("DOCKER_HOST", &docker_host)])
            .await
            .check(|client| async move {
                let at_start = measured(&client).await?;
                wait_for_within(&client, &format!("#engine-select option[value='{host}']"), Duration::from_secs(20))
                    .await?;
                // Set in the page (a clicked <select> opens a GTK popup), then wait there for the
                // new measurement without WebDriver polling the page meanwhile.
                client
                    .execute_async(
                        "const [host, done] = arguments; const list = document.getElementById('image-list'); \
                         delete list.dataset.loadMs; delete list.dataset.frameMs; \
                         new MutationObserver((_, o) => { if (list.dataset.frameMs) { o.disconnect(); done(true); } }).observe(list, { attributes: true }); \
                         const s = document.getElementById('engine-select'); s.value = host; s.dispatchEvent(new Event('change'));",
                        vec![host.into()],
                    )
                    .await?;
                let again = measured(&client).await?;
                let painted = client.find_all(Locator::Css(".image-row")).await?.len();
                *into.lock().unwrap() = Some((at_start, again, painted));
                Ok(())
            })
            .await;
        let ((load, frame, rows), (warm_load, warm_frame_ms, _), painted) =
            found.lock().unwrap().expect("a measurement");
        println!(
            "run {run}: {rows} rows ({painted} in the page) — at start-up {load} ms to rows laid out, \
             {frame} ms to the next frame; in the running app {warm_load} ms / {warm_frame_ms} ms"
        );
        start.push(load);
        start_frame.push(frame);
        warm.push(warm_load);
        warm_frame.push(warm_frame_ms);
    }
    println!(
        "median over {runs} runs, command → rows laid out: {} ms in the running app, {} ms at start-up \
         (target: under 300 ms); → next frame: {} ms and {} ms",
        median(warm),
        median(start),
        median(warm_frame),
        median(start_frame)
    );
}
