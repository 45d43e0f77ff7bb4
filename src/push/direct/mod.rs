//! Direct push: GHCR Desktop uploads the image itself instead of asking the engine to. The source is
//! the engine's export stream (`GET /images/{name}/get`), a `docker save` file (`.tar`, `.tar.gz`) or an
//! OCI image layout (folder or `.tar`). Layers are gzipped on every core while they stream by and
//! uploaded while they are compressed; blobs already compressed (OCI layouts) go up as they are. The
//! manifest goes last, so a failed or cancelled push leaves no tag. The blob cache makes an unchanged
//! re-push a few `HEAD`s and a manifest, and lets a retry skip the layers the registry already has.
//!
//! The work runs on one blocking thread (tar reading, compression) that calls into the runtime for
//! the registry; the caller's task reports progress ten times a second.

mod manifest;
mod source;
mod upload;
mod walk;

use super::blob_cache::{BlobCache, CachedBlob};
use super::cancel::cancelled;
use super::compress::{threads, Compression, Pace};
use super::progress::{LayerState, Progress, Snapshot, UPDATE_INTERVAL};
use super::{Cancel, PushPlan, Pushed};
use crate::config::Config;
use crate::engine::{Engine, ImageStore};
use crate::error::{Code, Error, Result};
use crate::registry::session::{Credentials, Session};
use source::{open_archive, ReadError};
use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio::runtime::Handle;
use walk::Plan;

/// What to push.
pub enum DirectSource {
    /// A local image of the engine (name or ID), exported as it is pushed.
    Engine { engine: Box<Engine>, image: String },
    /// A `docker save` archive (`.tar`, `.tar.gz`) or an OCI image layout (folder or `.tar`).
    Archive(PathBuf),
}

/// Pushes `source` as `plan` says: to its target (which names a tag), with its labels added to the
/// config and its layers compressed in its encoding, calling `report` at most ten times a second and
/// once at the end. Dropping the future cancels the push: uploads stop and no tag is written.
pub async fn push_direct(
    config: &Config,
    source: DirectSource,
    plan: &PushPlan,
    credentials: Credentials,
    cancel: &Cancel,
    mut report: impl FnMut(&Snapshot),
) -> Result<Pushed> {
    let (target, labels, compression) = (&plan.target, &plan.labels, plan.compression);
    let what = target.to_string();
    let Some(tag) = target.tag().map(str::to_string) else {
        return Err(Error::new(
            Code::ReferenceInvalid,
            format!("{target} names no tag to push"),
            "Add one, e.g. :latest",
        ));
    };
    let cache = BlobCache::load(config);
    let repository = format!("{}/{}", config.registry, target.path());
    // An engine image's layers are known before the export: where else on this registry the cache saw
    // them is where they can be mounted from (the token then also asks to pull there).
    let image_layers = match &source {
        DirectSource::Engine { engine, image } => {
            Some(or_cancelled(cancel, &what, engine.image_layers(image)).await?)
        }
        DirectSource::Archive(_) => None,
    };
    // Where the image came from on this registry: a blob its export lacks (the containerd store keeps
    // only what a pull fetched) can be mounted from there, as `docker push` does.
    let pulled_from = image_layers
        .as_ref()
        .map(|layers| {
            let named = layers.repo_digests.iter().filter_map(|d| d.split_once('@'));
            other_repositories(named.map(|(repo, _)| repo), &config.registry, &repository)
        })
        .unwrap_or_default();
    // On the containerd store the export holds the stored compressed blobs, pushed as they are: the
    // cache (of layers this app compressed) has nothing to say about them.
    let engine_layers = match &source {
        DirectSource::Engine { engine, .. }
            if engine.info().image_store != ImageStore::Containerd =>
        {
            image_layers
        }
        _ => None,
    };
    let mount_from = engine_layers
        .as_ref()
        .map(|layers| {
            mount_sources(
                &cache,
                &layers.diff_ids,
                compression,
                &config.registry,
                &repository,
            )
        })
        .unwrap_or_default();
    // The classic store's export writes the whole image to a folder of the engine's before its first
    // byte (moby's tarexport: 1.5 s for 190 MB here): unless the cache says every layer is pushed
    // already, it is asked for now and prepares while the registry session opens and the layers are
    // checked.
    let export_early = match (&source, &engine_layers) {
        (DirectSource::Engine { engine, image }, Some(layers))
            if !layers
                .diff_ids
                .iter()
                .all(|d| !cache.usable(d, compression).is_empty()) =>
        {
            Some((engine, image))
        }
        _ => None,
    };
    let (session, early_export) = or_cancelled(cancel, &what, async {
        let open = Session::open(config, target.path(), &mount_from, Some(credentials));
        let export = async {
            match export_early {
                Some((engine, image)) => Some(engine.export(image).await),
                None => None,
            }
        };
        let (session, export) = tokio::join!(open, export);
        Ok((session?, export))
    })
    .await?;
    let session = Arc::new(session);
    let work = Work {
        session,
        runtime: Handle::current(),
        progress: Arc::new(Mutex::new(Progress::new())),
        cancel: cancel.clone(),
        dropped: Arc::new(AtomicBool::new(false)),
        uploads: Arc::new(Mutex::new(Vec::new())),
        threads: threads(),
        pace: Arc::new(Mutex::new(Pace::for_the_link(compression))),
        compression,
        present: Arc::new(Mutex::new(HashMap::new())),
        sent: Arc::new(Mutex::new(Sent::default())),
        labels: labels.clone(),
        tag,
        reference: target.to_string(),
        cache: Arc::new(Mutex::new(cache)),
        pending: Arc::new(Mutex::new(Vec::new())),
        registry: config.registry.clone(),
        repository,
        pulled_from,
        engine_image: match &source {
            DirectSource::Engine { image, .. } => Some(image.clone()),
            DirectSource::Archive(_) => None,
        },
    };
    let _cancel_on_drop = CancelOnDrop(work.clone());
    // The total is known before the first byte where the bytes counted are the ones the source says:
    // an engine's uncompressed layer tars (not the containerd store's stored blobs), a plain .tar.
    let planned = match (&source, &engine_layers) {
        (DirectSource::Engine { .. }, Some(layers)) => Some(layers.size),
        (DirectSource::Archive(path), _) if is_plain_tar(path) => {
            std::fs::metadata(path).ok().map(|m| m.len())
        }
        _ => None,
    };
    work.with_progress(|p, _| {
        p.set_way(super::Via::Direct);
        if let Some(total) = planned {
            p.plan(total);
        }
        p.set_phase(match &source {
            DirectSource::Engine { .. } => "Checking what the registry has…",
            DirectSource::Archive(_) => "Reading the archive…",
        });
    });

    let mut archive = None;
    let (mut reader, read_error, mut plan, engine) = match source {
        DirectSource::Engine { engine, image } => {
            let present = match &engine_layers {
                Some(layers) => {
                    or_cancelled(cancel, &what, work.present_layers(&layers.diff_ids)).await?
                }
                None => Vec::new(),
            };
            if let Some(layers) = engine_layers.filter(|l| present.len() == l.diff_ids.len()) {
                let cached_config = work.cache().config(&layers.id);
                if let Some(config_bytes) = cached_config {
                    let pushed = or_cancelled(
                        cancel,
                        &what,
                        work.push_from_cache(&config_bytes, &layers.diff_ids),
                    )
                    .await?;
                    work.with_progress(|p, _| p.finish());
                    report(&work.snapshot());
                    return Ok(pushed);
                }
            }
            work.with_progress(|p, _| p.set_phase("Reading the image from the engine…"));
            let export = match early_export {
                Some(export) => export?,
                None => or_cancelled(cancel, &what, engine.export(&image)).await?,
            };
            let endpoint = export.endpoint().to_string();
            let read_error: ReadError =
                Arc::new(move |e| crate::engine::export::ExportReader::broken(&endpoint, &e));
            let reader: Box<dyn Read + Send> = Box::new(export);
            (
                reader,
                read_error,
                Plan::hash_only(&lock(&work.present)),
                Some((engine, image)),
            )
        }
        DirectSource::Archive(path) => {
            let (reader, read_error) = open_archive(&path)?;
            archive = Some(path);
            (reader, read_error, Plan::default(), None)
        }
    };
    let mut fell_back_to_chunks = false;

    loop {
        let job = {
            let (work, read_error, plan) = (work.clone(), read_error.clone(), plan.clone());
            tokio::task::spawn_blocking(move || work.push_stream(reader, &read_error, &plan))
        };
        tokio::pin!(job);
        let mut ticker = tokio::time::interval(UPDATE_INTERVAL);
        let mut stopping = false;
        // On a cancel the uploads stop at once, and the worker notices at its next step; the push
        // returns only once the worker has (nothing of it runs after a job says "cancelled").
        let outcome = loop {
            tokio::select! {
                done = &mut job => break done.map_err(|_| failed("The push stopped unexpectedly"))?,
                _ = ticker.tick() => report(&work.snapshot()),
                _ = cancel.cancelled(), if !stopping => {
                    stopping = true;
                    work.stop_uploads();
                }
            }
        };
        work.cache().save();
        if matches!(outcome, Ok(Ok(_))) {
            work.with_progress(|p, _| p.finish());
        }
        report(&work.snapshot());
        // Uploads the pass left behind (a layer whose compression ended before another's failure)
        // end with it: a second pass must not wait on the first's refused uploads.
        work.stop_uploads();
        let outcome = match outcome {
            Err(_) if cancel.is_cancelled() => Err(cancelled(&what)),
            // The registry refused a whole-blob upload (413/416): read the source again and send
            // every layer in chunks (the layers that went up are found by their digests).
            Err(_) if work.session.chunks_only() && !fell_back_to_chunks => {
                fell_back_to_chunks = true;
                reader = match (&engine, &archive) {
                    (Some((engine, image)), _) => {
                        Box::new(or_cancelled(cancel, &what, engine.export(image)).await?)
                    }
                    (None, Some(path)) => open_archive(path)?.0,
                    (None, None) => return Err(failed("The source cannot be read again")),
                };
                work.reset_progress();
                continue;
            }
            outcome => outcome,
        };
        match (outcome?, &engine) {
            (Ok(pushed), _) => {
                if let Some(rate) = work.upload_rate() {
                    super::link_memory::remember(config, rate);
                }
                return Ok(pushed);
            }
            // Two layers of one size misled the shortcut: read the export again, every layer in full.
            (Err(ReadAgain), Some((engine, image))) if !plan.hash_only.is_empty() => {
                plan = Plan::default();
                reader = Box::new(or_cancelled(cancel, &what, engine.export(image)).await?);
            }
            (Err(ReadAgain), _) => return Err(failed("The archive did not match its own config")),
        }
    }
}

/// `future`, unless the push is cancelled first (then it is dropped: nothing runs on after it).
async fn or_cancelled<T>(
    cancel: &Cancel,
    what: &str,
    future: impl std::future::Future<Output = Result<T>>,
) -> Result<T> {
    tokio::select! {
        done = future => done,
        _ = cancel.cancelled() => Err(cancelled(what)),
    }
}

/// Stops the push's worker and uploads when its future is dropped (the CLI interrupted, the app
/// closing) or ends: nothing outlives the push. (The shared `Cancel` is left as it is: a job may run
/// the push again under it.)
struct CancelOnDrop(Work);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.dropped.store(true, Ordering::SeqCst);
        self.0.stop_uploads();
    }
}

type Pending = Arc<Mutex<Vec<tokio::task::JoinHandle<Result<()>>>>>;

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// One push's shared state, cloned into the blocking thread.
#[derive(Clone)]
struct Work {
    session: Arc<Session>,
    runtime: Handle,
    progress: Arc<Mutex<Progress>>,
    cancel: Cancel,
    /// The push's future was dropped: the worker stops at its next step.
    dropped: Arc<AtomicBool>,
    /// Every upload task started, to stop them all at once on a cancel.
    uploads: Arc<Mutex<Vec<tokio::task::AbortHandle>>>,
    threads: usize,
    /// The level for the link, learnt as the layers go (one layer compresses at a time).
    pace: Arc<Mutex<Pace>>,
    /// How the layers compressed here are encoded.
    compression: Compression,
    /// Layers the registry has, by diff_id: the blob found there (in either encoding a zstd push
    /// may use), which the manifest names.
    present: Arc<Mutex<HashMap<String, CachedBlob>>>,
    /// What went to the uploads, and since when: the link's rate, for `link_memory`.
    sent: Arc<Mutex<Sent>>,
    labels: BTreeMap<String, String>,
    tag: String,
    reference: String,
    cache: Arc<Mutex<BlobCache>>,
    pending: Pending,
    /// The registry host and `REGISTRY/OWNER/NAME` pushed to, as the blob cache records repositories.
    registry: String,
    repository: String,
    /// Repositories (`OWNER/NAME`) of this registry the engine image was pulled from or pushed to.
    pulled_from: Vec<String>,
    /// The engine image pushed (none for an archive): a blob missing from its export is the engine's
    /// doing, not a damaged archive's.
    engine_image: Option<String>,
}

/// The push found a layer of the right size whose digest was not the one expected: read again.
struct ReadAgain;

/// Bytes handed to the layer uploads, and when the first went.
#[derive(Default)]
struct Sent {
    first: Option<Instant>,
    bytes: u64,
}

impl Work {
    /// Counts `bytes` handed to an upload.
    fn sending(&self, bytes: usize) {
        let mut sent = lock(&self.sent);
        sent.first.get_or_insert_with(Instant::now);
        sent.bytes += bytes as u64;
    }

    /// The rate the uploads went at, from the first byte handed over to now (every upload done),
    /// if enough went to tell: on a slow link the link's, on a fast one the cores'.
    fn upload_rate(&self) -> Option<f64> {
        let sent = lock(&self.sent);
        let since = sent.first?.elapsed().as_secs_f64();
        (sent.bytes >= super::link_memory::ENOUGH_BYTES && since > 0.0)
            .then(|| sent.bytes as f64 / since)
    }
}

impl Work {
    fn snapshot(&self) -> Snapshot {
        self.progress
            .lock()
            .map(|p| p.snapshot(Instant::now()))
            .unwrap_or_else(|e| e.into_inner().snapshot(Instant::now()))
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, BlobCache> {
        lock(&self.cache)
    }

    /// Waits until at most `keep` layer uploads are still finishing; the first failure ends the push.
    fn wait_for_uploads(&self, keep: usize) -> Result<()> {
        loop {
            let oldest = {
                let mut pending = lock(&self.pending);
                if pending.len() <= keep {
                    return Ok(());
                }
                pending.remove(0)
            };
            self.block_on(oldest)
                .unwrap_or_else(|_| Err(failed("The upload stopped")))?;
        }
    }

    /// Starts the progress over (the source is read again from its start).
    fn reset_progress(&self) {
        *lock(&self.progress) = Progress::new();
    }

    fn with_progress(&self, change: impl FnOnce(&mut Progress, Instant)) {
        let mut progress = self.progress.lock().unwrap_or_else(|e| e.into_inner());
        change(&mut progress, Instant::now());
    }

    fn check_cancelled(&self) -> Result<()> {
        if self.dropped.load(Ordering::SeqCst) {
            return Err(cancelled(&self.reference));
        }
        self.cancel.check(&self.reference)
    }

    /// Starts an upload task, known to `stop_uploads`.
    fn spawn_upload(
        &self,
        upload: impl std::future::Future<Output = Result<()>> + Send + 'static,
    ) -> tokio::task::JoinHandle<Result<()>> {
        let task = self.runtime.spawn(upload);
        lock(&self.uploads).push(task.abort_handle());
        task
    }

    /// Stops every upload still running (a cancel, or the push's end).
    fn stop_uploads(&self) {
        for upload in lock(&self.uploads).drain(..) {
            upload.abort();
        }
        for upload in lock(&self.pending).drain(..) {
            upload.abort();
        }
    }

    fn block_on<F: std::future::Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }

    /// Which of `diff_ids` the repository has, by the blobs the cache says they compress to (in an
    /// encoding this push may use, the wanted one first) — found there, or mounted from another
    /// repository of the registry where the cache saw them. The blob found is the one the manifest
    /// names (`Work::present_blob`).
    async fn present_layers(&self, diff_ids: &[String]) -> Result<Vec<String>> {
        let mut present = Vec::new();
        for diff_id in diff_ids {
            let candidates: Vec<CachedBlob> = self
                .cache()
                .usable(diff_id, self.compression)
                .into_iter()
                .cloned()
                .collect();
            for blob in candidates {
                let id = short(diff_id);
                let found = if self.session.blob_size(&blob.digest).await?.is_some() {
                    true
                } else {
                    let repositories = blob.repositories.iter().rev().map(String::as_str);
                    let sources =
                        other_repositories(repositories, &self.registry, &self.repository);
                    let mounted = self.mount_from_any(&blob.digest, &sources).await;
                    if mounted {
                        self.with_progress(|p, now| {
                            p.add_layer(&id, Some(blob.uncompressed));
                            p.set_state(&id, LayerState::Mounted, now);
                        });
                    }
                    mounted
                };
                if found {
                    lock(&self.present).insert(diff_id.clone(), blob);
                    present.push(diff_id.clone());
                    break;
                }
            }
        }
        Ok(present)
    }

    /// The blob the registry has for the layer `diff_id`, as `present_layers` found it.
    fn present_blob(&self, diff_id: &str) -> Option<CachedBlob> {
        lock(&self.present).get(diff_id).cloned()
    }

    /// Mounts `digest` from the first of `sources` (repositories of this registry, `OWNER/NAME`) that
    /// lets it; whether one did.
    async fn mount_from_any(&self, digest: &str, sources: &[String]) -> bool {
        for from in sources {
            // A registry that can't mount (or a repository gone) just means an upload.
            if self.session.mount_from(digest, from).await.unwrap_or(false) {
                return true;
            }
        }
        false
    }

    /// Every layer is on the registry and the config is cached: write config and manifest only.
    async fn push_from_cache(&self, config: &[u8], diff_ids: &[String]) -> Result<Pushed> {
        let mut layers = Vec::new();
        for diff_id in diff_ids {
            let blob = self
                .present_blob(diff_id)
                .ok_or_else(|| failed("The blob cache changed during the push"))?;
            let id = short(diff_id);
            self.with_progress(|p, now| {
                p.add_layer(&id, Some(blob.uncompressed));
                p.set_state(&id, LayerState::Existed, now);
            });
            self.cache().remember_layer(
                diff_id,
                CachedBlob {
                    repositories: vec![self.repository.clone()],
                    ..blob.clone()
                },
            );
            layers.push(blob);
        }
        self.put_image_manifest(config, layers).await
    }
}

/// The repositories of `registry` other than `repository` among `repositories` (each
/// `REGISTRY/OWNER/NAME`), as `OWNER/NAME`, each once, in their order: where a blob can be mounted from.
fn other_repositories<'a>(
    repositories: impl Iterator<Item = &'a str>,
    registry: &str,
    repository: &str,
) -> Vec<String> {
    let prefix = format!("{registry}/");
    let mut sources: Vec<String> = Vec::new();
    for from in repositories {
        if let Some(path) = from.strip_prefix(&prefix) {
            if from != repository && !sources.iter().any(|s| s == path) {
                sources.push(path.to_string());
            }
        }
    }
    sources
}

/// Other repositories of `registry` where the cache saw any of `diff_ids` in an encoding a push in
/// `compression` may use (as `OWNER/NAME`), at most 8.
fn mount_sources(
    cache: &BlobCache,
    diff_ids: &[String],
    compression: Compression,
    registry: &str,
    repository: &str,
) -> Vec<String> {
    let seen = diff_ids.iter().flat_map(|d| cache.usable(d, compression));
    let repositories = seen.flat_map(|blob| blob.repositories.iter().map(String::as_str));
    let mut sources = other_repositories(repositories, registry, repository);
    sources.truncate(8);
    sources
}

/// The first 12 hex digits of a digest, as docker shows layers.
fn short(digest: &str) -> String {
    digest
        .trim_start_matches("sha256:")
        .chars()
        .take(12)
        .collect()
}

fn archive_invalid(message: impl Into<String>) -> Error {
    Error::new(
        Code::ArchiveInvalid,
        message,
        "Give a file made by `docker save` (.tar or .tar.gz) or an OCI image layout (folder or .tar).",
    )
}

fn failed(message: &str) -> Error {
    Error::new(
        Code::PushFailed,
        message.to_string(),
        "Push again: layers already uploaded are skipped.",
    )
}

/// A `.tar` file (not gzipped): its size is about the bytes a push reads from it.
fn is_plain_tar(path: &std::path::Path) -> bool {
    path.is_file()
        && path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("tar"))
}
