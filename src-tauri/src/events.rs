//! Every stream the backend sends to the page, in one place. Streams use `tauri::ipc::Channel` (ordered,
//! per call, the documented way to stream progress) rather than global events: the page passes a
//! Channel to the command that starts the stream.
//!
//! - `images_watch(updates)`: `ImagesUpdate` — `{kind: "snapshot", engine, images}` with the whole
//!   image list on connecting, then `{kind: "changes", engine, changed, removed, events}` after each
//!   burst of engine image events (rows new or changed, keys of rows gone), or `{kind:
//!   "disconnected", error, retry_in_ms}` while the engine is gone.
//! - `pushes_watch(updates)`: `JobUpdate` — `{id, request, state: "queued"|"running"|"retrying"|"done"|
//!   "failed"|"cancelled", progress: {layers, bytes, total, bytes_per_second, eta_seconds}, …}` each
//!   time a push job changes; progress at most ten times a second per job.

use ghcr::engine::watch::ImagesUpdate;
use ghcr::push::jobs::JobUpdate;
use tauri::ipc::Channel;

pub type ImagesChannel = Channel<ImagesUpdate>;
pub type PushesChannel = Channel<JobUpdate>;
