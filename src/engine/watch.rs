//! Keeps a live view of the engine's images: connects, lists, follows the image events and lists again
//! after each burst of them; when the engine goes away it says so and reconnects by itself, with
//! backoff. The caller receives whole snapshots (simple to render, cheap at thousands of rows).

use super::images::{ImageEvent, LocalImage};
use super::{Engine, EngineInfo, Selection};
use crate::config::Config;
use crate::error::Error;
use serde::Serialize;
use std::time::Duration;

/// Events closer together than this are answered with one new listing.
const BURST: Duration = Duration::from_millis(80);
const FIRST_RETRY: Duration = Duration::from_millis(500);
const LAST_RETRY: Duration = Duration::from_secs(5);

/// What the watcher tells its caller.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ImagesUpdate {
    /// The images as they are now, and the events that caused the new listing (none for the first).
    Snapshot {
        engine: EngineInfo,
        images: Vec<LocalImage>,
        events: Vec<ImageEvent>,
    },
    /// The engine cannot be reached; the next try is in `retry_in_ms`.
    Disconnected { error: Error, retry_in_ms: u64 },
}

/// Watches until `deliver` returns false (the receiver is gone). Never returns an error: failures are
/// updates.
pub async fn watch_images(
    config: &Config,
    selection: &Selection,
    mut deliver: impl FnMut(ImagesUpdate) -> bool,
) {
    let mut retry = FIRST_RETRY;
    loop {
        let error = match follow(config, selection, &mut deliver, &mut retry).await {
            Followed::ReceiverGone => return,
            Followed::Lost(error) => error,
        };
        // Say why in the engine's own terms ("connection refused", "no socket there") when asking
        // again fails. The gap is reported even when the engine is already back: it restarted.
        let error = match Engine::select(config, selection).await {
            Err(reason) if error.code == reason.code => reason,
            _ => error,
        };
        let update = ImagesUpdate::Disconnected {
            error,
            retry_in_ms: retry.as_millis() as u64,
        };
        if !deliver(update) {
            return;
        }
        tokio::time::sleep(retry).await;
        retry = (retry * 2).min(LAST_RETRY);
    }
}

enum Followed {
    ReceiverGone,
    Lost(Error),
}

async fn follow(
    config: &Config,
    selection: &Selection,
    deliver: &mut impl FnMut(ImagesUpdate) -> bool,
    retry: &mut Duration,
) -> Followed {
    let engine = match Engine::select(config, selection).await {
        Ok(engine) => engine,
        Err(error) => return Followed::Lost(error),
    };
    // Subscribe before listing, so that nothing happening in between is missed.
    let mut events = match engine.image_events().await {
        Ok(events) => events,
        Err(error) => return Followed::Lost(error),
    };
    let mut burst = Vec::new();
    loop {
        let images = match engine.local_images(&config.registry).await {
            Ok(images) => images,
            Err(error) => return Followed::Lost(error),
        };
        *retry = FIRST_RETRY;
        let update = ImagesUpdate::Snapshot {
            engine: engine.info().clone(),
            images,
            events: std::mem::take(&mut burst),
        };
        if !deliver(update) {
            return Followed::ReceiverGone;
        }
        let Some(first) = events.next().await else {
            return Followed::Lost(gone(&engine));
        };
        burst.push(first);
        // Take the rest of the burst (a `docker rmi` of a tagged image is untag + delete).
        while let Ok(next) = tokio::time::timeout(BURST, events.next()).await {
            match next {
                Some(next) => burst.push(next),
                None => return Followed::Lost(gone(&engine)),
            }
        }
    }
}

fn gone(engine: &Engine) -> Error {
    Error::new(
        crate::error::Code::EngineUnreachable,
        format!("The container engine at {} went away", engine.endpoint()),
        "GHCR Desktop reconnects by itself when it is back.",
    )
}
