//! Keeps a live view of the engine's images: connects, lists, follows the image events and lists again
//! after each burst of them; when the engine goes away it says so and reconnects by itself, with
//! backoff. The caller receives the whole list once per connection, then only what changed, and the
//! watcher asks the engine only about the images the events name: with 5,000 images a new tag is one
//! small question to the engine and one row to send, not a listing of 5,000 and a megabyte.

use super::events::ImageEvent;
use super::images::{self, LocalImage};
use super::{Engine, EngineInfo, ImageStore, Selection};
use crate::config::Config;
use crate::error::Error;
use serde::Serialize;
use std::time::Duration;

/// Events closer together than this are answered together.
const BURST: Duration = Duration::from_millis(80);
/// A burst naming more images than this is answered with a whole listing, not one question each.
const ONE_BY_ONE: usize = 32;
const FIRST_RETRY: Duration = Duration::from_millis(500);
const LAST_RETRY: Duration = Duration::from_secs(5);

/// What the watcher tells its caller.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ImagesUpdate {
    /// The images as they are now: the first listing after connecting (whatever the caller had
    /// before is replaced).
    Snapshot {
        engine: EngineInfo,
        images: Vec<LocalImage>,
    },
    /// What a burst of events changed since the last update: rows new or different (replace the row
    /// with the same key, see `LocalImage::key`) and the keys of rows gone, and the events themselves.
    Changes {
        engine: EngineInfo,
        changed: Vec<LocalImage>,
        removed: Vec<String>,
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
    let mut burst: Vec<ImageEvent> = Vec::new();
    let mut shown: Option<Vec<LocalImage>> = None;
    loop {
        let update = match shown.take() {
            None => match engine.local_images(&config.registry).await {
                Ok(listed) => {
                    shown = Some(listed.clone());
                    ImagesUpdate::Snapshot {
                        engine: engine.info().clone(),
                        images: listed,
                    }
                }
                Err(error) => return Followed::Lost(error),
            },
            Some(before) => match relist(&engine, &before, &burst, &config.registry).await {
                Ok(listed) => {
                    let (changed, removed) = images::changes(&before, &listed);
                    shown = Some(listed);
                    ImagesUpdate::Changes {
                        engine: engine.info().clone(),
                        changed,
                        removed,
                        events: std::mem::take(&mut burst),
                    }
                }
                Err(error) => return Followed::Lost(error),
            },
        };
        *retry = FIRST_RETRY;
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

/// The list after a burst of events. Listing every image costs the engine ~0.3 s of CPU at 5,000
/// images, so the images the events name are asked about one by one (`GET /images/{name}/json`) and
/// their rows replaced; a burst about many images at once (a `docker load` of hundreds, a prune) or an
/// event naming none is answered with a whole new listing. So is every burst on the containerd image
/// store, whose inspect gives another size (the stored content) than its list (`docker images`).
async fn relist(
    engine: &Engine,
    before: &[LocalImage],
    burst: &[ImageEvent],
    registry: &str,
) -> Result<Vec<LocalImage>, Error> {
    if engine.info().image_store == ImageStore::Containerd {
        return engine.local_images(registry).await;
    }
    let mut names: Vec<String> = Vec::new();
    for event in burst {
        if event.id.is_empty() || event.action == "prune" {
            return engine.local_images(registry).await;
        }
        if !names.contains(&event.id) {
            names.push(event.id.clone());
        }
    }
    let mut listed = before.to_vec();
    let mut asked = 0;
    while let Some(name) = names.pop() {
        asked += 1;
        if asked > ONE_BY_ONE {
            return engine.local_images(registry).await;
        }
        let found = engine.image_summary(&name).await?;
        for id in images::amend(&mut listed, &name, found, registry) {
            if !names.contains(&id) {
                names.push(id);
            }
        }
    }
    Ok(listed)
}

fn gone(engine: &Engine) -> Error {
    Error::new(
        crate::error::Code::EngineUnreachable,
        format!("The container engine at {} went away", engine.endpoint()),
        "GHCR Desktop reconnects by itself when it is back.",
    )
}
