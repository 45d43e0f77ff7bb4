//! Engine push: the engine uploads (Docker's own semantics); this reads its stream into the progress
//! model, reports throttled snapshots, and ends with the pushed digest or a clear error.

use super::cancel::cancelled;
use super::progress::{LayerState, Progress, Snapshot, Throttle};
use super::stream::{parse_line, LayerEvent, StreamLine};
use super::{Cancel, Pushed};
use crate::engine::Engine;
use crate::error::{Code, Error, Result};
use crate::reference::Reference;
use crate::secret::Secret;
use std::time::Instant;

/// Pushes `target` through the engine, calling `report` with at most ~10 snapshots a second (and
/// always the last one). A cancel (or dropping the future) closes the connection, which makes the
/// engine stop the push.
pub async fn push_with_engine(
    engine: &Engine,
    target: &Reference,
    username: &str,
    token: &Secret,
    cancel: &Cancel,
    mut report: impl FnMut(&Snapshot),
) -> Result<Pushed> {
    let what = target.to_string();
    let mut lines = tokio::select! {
        lines = engine.push_stream(target, username, token) => lines?,
        _ = cancel.cancelled() => return Err(cancelled(&what)),
    };
    let mut progress = Progress::new();
    progress.set_way(super::Via::Engine);
    // Podman's push stream has no layer lines: say so rather than show a bar stuck at zero.
    if engine.info().product.contains("Podman") {
        progress.expect_no_reports();
    }
    let mut throttle = Throttle::default();
    let start = Instant::now();
    if throttle.ready(start) {
        report(&progress.snapshot(start));
    }
    let mut pushed = None;
    let mut failure = None;
    loop {
        let line = tokio::select! {
            line = lines.next_line() => line,
            _ = cancel.cancelled() => return Err(cancelled(&what)),
        };
        let Some(line) = line else { break };
        let now = Instant::now();
        match parse_line(&line) {
            StreamLine::Layer { id, event } => match event {
                LayerEvent::Preparing => progress.set_state(&id, LayerState::Preparing, now),
                LayerEvent::Waiting => progress.set_state(&id, LayerState::Waiting, now),
                LayerEvent::Retrying => progress.set_state(&id, LayerState::Preparing, now),
                LayerEvent::Uploading { current, total } => {
                    progress.uploaded(&id, current, total, now)
                }
                LayerEvent::Pushed => progress.set_state(&id, LayerState::Pushed, now),
                LayerEvent::Existed => progress.set_state(&id, LayerState::Existed, now),
                LayerEvent::Mounted { .. } => progress.set_state(&id, LayerState::Mounted, now),
            },
            StreamLine::Pushed { digest, size, .. } => pushed = Some((digest, size)),
            StreamLine::Failed(error) => failure = Some(error),
            StreamLine::Repository(_) | StreamLine::Other => continue,
        }
        if throttle.ready(now) {
            report(&progress.snapshot(now));
        }
    }
    report(&progress.snapshot(Instant::now()));
    if let Some(error) = failure {
        return Err(error);
    }
    match pushed {
        Some((digest, size)) => Ok(Pushed {
            reference: target.to_string(),
            digest,
            size,
            levels: Default::default(),
            compression: crate::push::Compression::Gzip,
        }),
        None => Err(Error::new(
            Code::EngineUnreachable,
            format!(
                "The engine stopped before the push of {target} finished",
            ),
            "Check that the engine still runs, then push again: layers already uploaded are skipped.",
        )),
    }
}
