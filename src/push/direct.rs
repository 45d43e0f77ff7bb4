//! Direct push: GHCR Desktop uploads the image itself instead of asking the engine to. The source is
//! the engine's export stream (`GET /images/{name}/get`), a `docker save` file (`.tar`, `.tar.gz`) or an
//! OCI image layout (folder or `.tar`). Layers are gzipped on every core while they stream by and
//! uploaded while they are compressed; blobs already compressed (OCI layouts) go up as they are. The
//! manifest goes last, so a failed or cancelled push leaves no tag. The blob cache makes an unchanged
//! re-push a few `HEAD`s and a manifest, and lets a retry skip the layers the registry already has.
//!
//! The work runs on one blocking thread (tar reading, compression) that calls into the runtime for
//! the registry; the caller's task reports progress ten times a second.

use super::blob_cache::{BlobCache, CachedBlob};
use super::compress::{compress_layer, threads, CompressedLayer};
use super::digest::{sha256_digest, Hasher};
use super::progress::{LayerState, Progress, Snapshot, UPDATE_INTERVAL};
use super::Pushed;
use crate::archive::{self, Descriptor, ImageManifest};
use crate::config::Config;
use crate::engine::Engine;
use crate::error::{Code, Error, Result};
use crate::reference::Reference;
use crate::registry::session::{Credentials, Session};
use bytes::{Bytes, BytesMut};
use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio::runtime::Handle;
use tokio::sync::{mpsc, oneshot};

/// Archive entries up to this size are kept in memory (configs, manifests, small layers).
const SMALL: u64 = 1 << 20;
/// Compressed members waiting for the upload of one layer (4 MiB each).
const MEMBERS_IN_FLIGHT: usize = 4;
/// Layers whose compression is done but whose upload is still finishing: the next layer is read and
/// compressed meanwhile, up to this many.
const UPLOADS_FINISHING: usize = 2;

/// How an upload ends: the digest to close it with, and what to do once the registry has the blob.
type Finish = Option<(String, Box<dyn FnOnce() + Send>)>;

/// What to push.
pub enum DirectSource {
    /// A local image of the engine (name or ID), exported as it is pushed.
    Engine { engine: Box<Engine>, image: String },
    /// A `docker save` archive (`.tar`, `.tar.gz`) or an OCI image layout (folder or `.tar`).
    Archive(PathBuf),
}

/// What to change on the way.
#[derive(Debug, Clone, Default)]
pub struct DirectOptions {
    /// Labels added to the image config (and annotations on OCI manifests), e.g.
    /// `org.opencontainers.image.source` to connect the package to a repository.
    pub labels: BTreeMap<String, String>,
}

impl DirectOptions {
    /// Options that connect the package to `repository_url` (`https://github.com/OWNER/REPO`).
    pub fn with_source_repository(config: &Config, repository_url: Option<&str>) -> Result<Self> {
        let mut labels = BTreeMap::new();
        if let Some(url) = repository_url {
            labels.insert(
                "org.opencontainers.image.source".to_string(),
                source_repository(config, url)?,
            );
        }
        Ok(DirectOptions { labels })
    }
}

/// Checks a repository URL for `org.opencontainers.image.source`: a repository page on the configured
/// GitHub web host, `OWNER/REPO` and nothing more.
pub fn source_repository(config: &Config, text: &str) -> Result<String> {
    let bad = |why: &str| {
        Error::new(
            Code::ReferenceInvalid,
            format!("{text:?} {why}"),
            format!(
                "Give the repository's page, e.g. {}/OWNER/REPO",
                config.web_url.as_str().trim_end_matches('/')
            ),
        )
    };
    let url = url::Url::parse(text.trim()).map_err(|_| bad("is not a URL"))?;
    if url.origin() != config.web_url.origin() {
        return Err(bad("is not on the configured GitHub"));
    }
    let parts: Vec<&str> = url
        .path_segments()
        .map(|s| s.filter(|p| !p.is_empty()).collect())
        .unwrap_or_default();
    let valid = |part: &str| {
        !part.is_empty()
            && part
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    };
    match parts.as_slice() {
        [owner, repo] if valid(owner) && valid(repo) && url.query().is_none() => Ok(format!(
            "{}/{owner}/{}",
            config.web_url.as_str().trim_end_matches('/'),
            repo.trim_end_matches(".git")
        )),
        _ => Err(bad("does not name one repository (OWNER/REPO)")),
    }
}

/// Pushes `source` to `target` (which names a tag), calling `report` at most ten times a second and
/// once at the end. Dropping the future cancels the push: uploads stop and no tag is written.
pub async fn push_direct(
    config: &Config,
    source: DirectSource,
    target: &Reference,
    credentials: Credentials,
    options: &DirectOptions,
    mut report: impl FnMut(&Snapshot),
) -> Result<Pushed> {
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
    let engine_layers = match &source {
        DirectSource::Engine { engine, image } => Some(engine.image_layers(image).await?),
        DirectSource::Archive(_) => None,
    };
    let mount_from = engine_layers
        .as_ref()
        .map(|layers| mount_sources(&cache, &layers.diff_ids, &config.registry, &repository))
        .unwrap_or_default();
    let session =
        Arc::new(Session::open(config, target.path(), &mount_from, Some(credentials)).await?);
    let work = Work {
        session,
        runtime: Handle::current(),
        progress: Arc::new(Mutex::new(Progress::new())),
        cancelled: Arc::new(AtomicBool::new(false)),
        threads: threads(),
        labels: options.labels.clone(),
        tag,
        reference: target.to_string(),
        cache: Arc::new(Mutex::new(cache)),
        pending: Arc::new(Mutex::new(Vec::new())),
        registry: config.registry.clone(),
        repository,
    };
    let _cancel_on_drop = CancelOnDrop(work.cancelled.clone(), work.pending.clone());

    let (mut reader, read_error, mut plan, engine) = match source {
        DirectSource::Engine { engine, image } => {
            let layers = engine_layers.ok_or_else(|| failed("The image's layers were not read"))?;
            let present = work.present_layers(&layers.diff_ids).await?;
            if present.len() == layers.diff_ids.len() {
                let cached_config = work.cache().config(&layers.id);
                if let Some(config_bytes) = cached_config {
                    let pushed = work
                        .push_from_cache(&config_bytes, &layers.diff_ids)
                        .await?;
                    report(&work.snapshot());
                    return Ok(pushed);
                }
            }
            let export = engine.export(&image).await?;
            let endpoint = export.endpoint().to_string();
            let read_error: ReadError =
                Arc::new(move |e| crate::engine::export::ExportReader::broken(&endpoint, &e));
            let reader: Box<dyn Read + Send> = Box::new(export);
            (
                reader,
                read_error,
                Plan::hash_only(&work.cache(), &present),
                Some((engine, image)),
            )
        }
        DirectSource::Archive(path) => {
            let (reader, read_error) = open_archive(&path)?;
            (reader, read_error, Plan::default(), None)
        }
    };

    loop {
        let job = {
            let (work, read_error, plan) = (work.clone(), read_error.clone(), plan.clone());
            tokio::task::spawn_blocking(move || work.push_stream(reader, &read_error, &plan))
        };
        tokio::pin!(job);
        let mut ticker = tokio::time::interval(UPDATE_INTERVAL);
        let outcome = loop {
            tokio::select! {
                done = &mut job => break done.map_err(|_| failed("The push stopped unexpectedly"))?,
                _ = ticker.tick() => report(&work.snapshot()),
            }
        };
        work.cache().save();
        report(&work.snapshot());
        match (outcome?, &engine) {
            (Ok(pushed), _) => return Ok(pushed),
            // Two layers of one size misled the shortcut: read the export again, every layer in full.
            (Err(ReadAgain), Some((engine, image))) if !plan.hash_only.is_empty() => {
                plan = Plan::default();
                reader = Box::new(engine.export(image).await?);
            }
            (Err(ReadAgain), _) => return Err(failed("The archive did not match its own config")),
        }
    }
}

/// Sets the cancel flag when the push's future is dropped (or the push ends), and stops the uploads
/// still running: nothing outlives the push.
struct CancelOnDrop(Arc<AtomicBool>, Pending);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
        for upload in lock(&self.1).drain(..) {
            upload.abort();
        }
    }
}

type Pending = Arc<Mutex<Vec<tokio::task::JoinHandle<Result<()>>>>>;

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

type ReadError = Arc<dyn Fn(std::io::Error) -> Error + Send + Sync>;

/// Opens an archive file or layout folder as one tar stream (a folder is read file by file).
fn open_archive(path: &Path) -> Result<(Box<dyn Read + Send>, ReadError)> {
    let shown = path.display().to_string();
    let read_error: ReadError = {
        let shown = shown.clone();
        Arc::new(move |e: std::io::Error| {
            archive_invalid(format!("{shown} could not be read to the end: {e}"))
        })
    };
    let metadata = std::fs::metadata(path)
        .map_err(|e| archive_invalid(format!("{shown} cannot be opened: {e}")))?;
    if metadata.is_dir() {
        return Ok((Box::new(folder_as_tar(path)?), read_error));
    }
    let mut file = std::fs::File::open(path)
        .map_err(|e| archive_invalid(format!("{shown} cannot be opened: {e}")))?;
    let mut magic = [0u8; 2];
    let gzipped = file.read_exact(&mut magic).is_ok() && magic == [0x1f, 0x8b];
    let file = std::fs::File::open(path)
        .map_err(|e| archive_invalid(format!("{shown} cannot be opened: {e}")))?;
    let reader: Box<dyn Read + Send> = if gzipped {
        Box::new(flate2::read::MultiGzDecoder::new(
            std::io::BufReader::with_capacity(1 << 20, file),
        ))
    } else {
        Box::new(std::io::BufReader::with_capacity(1 << 20, file))
    };
    Ok((reader, read_error))
}

/// An OCI layout (or unpacked docker-archive) folder as a tar stream of its files, built on a thread.
fn folder_as_tar(root: &Path) -> Result<impl Read + Send> {
    let mut files = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let entries = std::fs::read_dir(&dir)
            .map_err(|e| archive_invalid(format!("{} cannot be read: {e}", dir.display())))?;
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else if path.is_file() {
                files.push(path);
            }
        }
    }
    files.sort();
    let (reader, writer) =
        std::io::pipe().map_err(|e| failed(&format!("Cannot read the folder: {e}")))?;
    let root = root.to_path_buf();
    std::thread::spawn(move || {
        let mut builder = tar::Builder::new(writer);
        for file in files {
            let Ok(relative) = file.strip_prefix(&root) else {
                continue;
            };
            if builder.append_path_with_name(&file, relative).is_err() {
                return;
            }
        }
        let _ = builder.finish();
    });
    Ok(reader)
}

/// Layers the registry already has, known by their uncompressed size: while the export streams by,
/// a layer of such a size is only hashed, not compressed or uploaded. If its digest then turns out
/// different (two layers of one size), the push reads the export once more without this shortcut.
#[derive(Default, Clone)]
struct Plan {
    hash_only: HashMap<u64, String>,
}

impl Plan {
    fn hash_only(cache: &BlobCache, present: &[String]) -> Plan {
        let mut by_size: HashMap<u64, Vec<String>> = HashMap::new();
        for diff_id in present {
            if let Some(blob) = cache.layer(diff_id) {
                by_size
                    .entry(blob.uncompressed)
                    .or_default()
                    .push(diff_id.clone());
            }
        }
        Plan {
            hash_only: by_size
                .into_iter()
                .filter(|(_, ids)| ids.len() == 1)
                .map(|(size, mut ids)| (size, ids.remove(0)))
                .collect(),
        }
    }
}

/// What became of one large entry of the archive.
#[derive(Debug, Clone)]
enum Done {
    /// Compressed here (and uploaded, or already on the registry).
    Compressed(CompressedLayer),
    /// Uploaded (or found) as it was, by the digest its path names.
    AsIs { digest: String, size: u64 },
    /// Only hashed, because a layer of its size is on the registry: the diff_id read, and the one
    /// that size stood for.
    Hashed { diff_id: String, expected: String },
}

/// Everything the stream held that the manifest step needs.
#[derive(Default)]
struct Collected {
    small: HashMap<String, Vec<u8>>,
    links: HashMap<String, String>,
    done: HashMap<String, Done>,
}

impl Collected {
    fn resolve<'a>(&'a self, path: &'a str) -> &'a str {
        let mut path = path;
        for _ in 0..8 {
            match self.links.get(path) {
                Some(target) => path = target,
                None => break,
            }
        }
        path
    }

    fn small_file(&self, path: &str) -> Result<&[u8]> {
        self.small
            .get(self.resolve(path))
            .map(Vec::as_slice)
            .ok_or_else(|| archive_invalid(format!("The archive has no {path}")))
    }

    fn blob(&self, digest: &str) -> Option<&[u8]> {
        self.small
            .get(&format!(
                "blobs/sha256/{}",
                digest.trim_start_matches("sha256:")
            ))
            .map(Vec::as_slice)
    }
}

/// One push's shared state, cloned into the blocking thread.
#[derive(Clone)]
struct Work {
    session: Arc<Session>,
    runtime: Handle,
    progress: Arc<Mutex<Progress>>,
    cancelled: Arc<AtomicBool>,
    threads: usize,
    labels: BTreeMap<String, String>,
    tag: String,
    reference: String,
    cache: Arc<Mutex<BlobCache>>,
    pending: Pending,
    /// The registry host and `REGISTRY/OWNER/NAME` pushed to, as the blob cache records repositories.
    registry: String,
    repository: String,
}

/// The push found a layer of the right size whose digest was not the one expected: read again.
struct ReadAgain;

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

    fn with_progress(&self, change: impl FnOnce(&mut Progress, Instant)) {
        let mut progress = self.progress.lock().unwrap_or_else(|e| e.into_inner());
        change(&mut progress, Instant::now());
    }

    fn check_cancelled(&self) -> Result<()> {
        if self.cancelled.load(Ordering::SeqCst) {
            return Err(Error::new(
                Code::PushCancelled,
                format!("The push of {} was cancelled", self.reference),
                "Nothing was tagged; push again when you want to.",
            ));
        }
        Ok(())
    }

    fn block_on<F: std::future::Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }

    /// Which of `diff_ids` the repository has, by the blobs the cache says they compress to — found
    /// there, or mounted from another repository of the registry where the cache saw them.
    async fn present_layers(&self, diff_ids: &[String]) -> Result<Vec<String>> {
        let mut present = Vec::new();
        for diff_id in diff_ids {
            let blob = self.cache().layer(diff_id).cloned();
            let Some(blob) = blob else { continue };
            let id = short(diff_id);
            if self.session.blob_size(&blob.digest).await?.is_some() {
                present.push(diff_id.clone());
                continue;
            }
            let prefix = format!("{}/", self.registry);
            for from in blob.repositories.iter().rev() {
                let Some(path) = from.strip_prefix(&prefix) else {
                    continue;
                };
                if from == &self.repository {
                    continue;
                }
                // A registry that can't mount (or a repository gone) just means an upload.
                if self
                    .session
                    .mount(&blob.digest, path)
                    .await
                    .unwrap_or(false)
                {
                    self.with_progress(|p, now| {
                        p.add_layer(&id, Some(blob.uncompressed));
                        p.set_state(&id, LayerState::Mounted, now);
                    });
                    present.push(diff_id.clone());
                    break;
                }
            }
        }
        Ok(present)
    }

    /// Every layer is on the registry and the config is cached: write config and manifest only.
    async fn push_from_cache(&self, config: &[u8], diff_ids: &[String]) -> Result<Pushed> {
        let mut layers = Vec::new();
        for diff_id in diff_ids {
            let blob = self
                .cache()
                .layer(diff_id)
                .cloned()
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
            layers.push(layer_descriptor(archive::DOCKER_LAYER_GZIP, &blob));
        }
        self.put_docker_manifest(config, layers).await
    }

    /// Config (with the labels) and a Docker v2 manifest under the tag.
    async fn put_docker_manifest(&self, config: &[u8], layers: Vec<Descriptor>) -> Result<Pushed> {
        let config = archive::with_labels(config, &self.labels)?;
        let config_digest = sha256_digest(&config);
        self.session
            .put_small_blob(&config_digest, Bytes::from(config.clone()))
            .await?;
        let manifest = ImageManifest {
            schema_version: 2,
            media_type: Some(archive::DOCKER_MANIFEST.to_string()),
            config: Descriptor {
                media_type: archive::DOCKER_CONFIG.to_string(),
                digest: config_digest,
                size: config.len() as u64,
                platform: None,
                annotations: None,
            },
            layers,
            annotations: None,
        };
        let bytes = serde_json::to_vec(&manifest).map_err(|e| failed(&e.to_string()))?;
        self.put_manifest(&self.tag, archive::DOCKER_MANIFEST, bytes)
            .await
    }

    async fn put_manifest(
        &self,
        reference: &str,
        media_type: &str,
        bytes: Vec<u8>,
    ) -> Result<Pushed> {
        self.check_cancelled()?;
        // Every layer upload was waited for (`wait_for_uploads` takes them out of `pending`): a
        // manifest never goes up before its blobs.
        if !lock(&self.pending).is_empty() {
            return Err(failed(
                "A layer was still uploading when the manifest was ready",
            ));
        }
        let size = bytes.len() as u64;
        let digest = self
            .session
            .put_manifest(reference, media_type, Bytes::from(bytes))
            .await?;
        Ok(Pushed {
            reference: self.reference.clone(),
            digest,
            size,
        })
    }

    /// Reads the whole stream, then writes config and manifest.
    fn push_stream(
        &self,
        reader: Box<dyn Read + Send>,
        read_error: &ReadError,
        plan: &Plan,
    ) -> Result<Result<Pushed, ReadAgain>> {
        let collected = self.collect(reader, read_error, plan)?;
        self.assemble(&collected)
    }

    /// Walks the tar stream: small files to memory, layers compressed and uploaded as they pass.
    fn collect(
        &self,
        reader: Box<dyn Read + Send>,
        read_error: &ReadError,
        plan: &Plan,
    ) -> Result<Collected> {
        let mut archive = tar::Archive::new(reader);
        let mut collected = Collected::default();
        let entries = archive.entries().map_err(|e| read_error(e))?;
        for entry in entries {
            self.check_cancelled()?;
            let mut entry = entry.map_err(|e| read_error(e))?;
            let path = normalise(&entry.path().map_err(|e| read_error(e))?.to_string_lossy());
            let kind = entry.header().entry_type();
            if kind.is_symlink() || kind.is_hard_link() {
                if let Ok(Some(target)) = entry.link_name() {
                    let target = target.to_string_lossy().to_string();
                    let resolved = if kind.is_symlink() {
                        join_relative(&path, &target)
                    } else {
                        normalise(&target)
                    };
                    collected.links.insert(path, resolved);
                }
                continue;
            }
            if !kind.is_file() {
                continue;
            }
            let size = entry.size();
            if size <= SMALL {
                let mut bytes = Vec::with_capacity(size as usize);
                entry.read_to_end(&mut bytes).map_err(|e| read_error(e))?;
                collected.small.insert(path, bytes);
                continue;
            }
            let done = self.large_entry(&path, size, &mut entry, read_error, plan)?;
            collected.done.insert(path, done);
        }
        self.wait_for_uploads(0)?;
        Ok(collected)
    }

    fn large_entry(
        &self,
        path: &str,
        size: u64,
        entry: &mut dyn Read,
        read_error: &ReadError,
        plan: &Plan,
    ) -> Result<Done> {
        let mut head = [0u8; 4];
        entry.read_exact(&mut head).map_err(|e| read_error(e))?;
        let mut reader = (&head[..]).chain(entry);
        let compressed = head[..2] == [0x1f, 0x8b] || head == [0x28, 0xb5, 0x2f, 0xfd];
        let path_digest = archive::blob_path_digest(path);
        // A layer only hashed is the one its size stands for: named so, it is the same row as before.
        let hashed = (!compressed).then(|| plan.hash_only.get(&size)).flatten();
        let id = match (hashed, &path_digest) {
            (Some(expected), _) => short(expected),
            (None, Some(digest)) => short(digest),
            (None, None) => path
                .split('/')
                .next()
                .unwrap_or(path)
                .chars()
                .take(12)
                .collect(),
        };
        self.with_progress(|p, now| {
            p.add_layer(&id, Some(size));
            p.set_state(&id, LayerState::Preparing, now);
        });
        if compressed {
            let digest = path_digest.ok_or_else(|| {
                archive_invalid(format!("{path} is compressed but not named by its digest"))
            })?;
            return self.upload_as_is(&id, &digest, size, &mut reader, read_error);
        }
        if let Some(expected) = hashed {
            let mut hasher = Hasher::default();
            let mut buffer = vec![0u8; 1 << 20];
            loop {
                self.check_cancelled()?;
                let n = reader.read(&mut buffer).map_err(|e| read_error(e))?;
                if n == 0 {
                    break;
                }
                hasher.update(&buffer[..n]);
                let bytes = hasher.bytes;
                self.with_progress(|p, now| p.uploaded(&id, bytes, Some(size), now));
            }
            let diff_id = hasher.digest();
            if &diff_id == expected {
                self.with_progress(|p, now| p.set_state(&id, LayerState::Existed, now));
            }
            return Ok(Done::Hashed {
                diff_id,
                expected: expected.clone(),
            });
        }
        self.compress_and_upload(&id, size, &mut reader, read_error)
            .map(Done::Compressed)
    }

    /// Gzips a layer on every core while its members upload in chunks.
    fn compress_and_upload(
        &self,
        id: &str,
        size: u64,
        reader: &mut dyn Read,
        read_error: &ReadError,
    ) -> Result<CompressedLayer> {
        let (members, receiver) = mpsc::channel::<Vec<u8>>(MEMBERS_IN_FLIGHT);
        let (finish, finished) = oneshot::channel::<Finish>();
        let uploader = self
            .runtime
            .spawn(upload_members(self.session.clone(), receiver, finished));
        let compressed = compress_layer(
            reader,
            self.threads,
            &|e| read_error(e),
            &mut |member| {
                self.check_cancelled()?;
                members
                    .blocking_send(member)
                    .map_err(|_| failed("The upload stopped"))
            },
            &mut |bytes| self.with_progress(|p, now| p.uploaded(id, bytes, Some(size), now)),
        );
        drop(members);
        let compressed = match compressed {
            Ok(compressed) => compressed,
            Err(error) => {
                let _ = finish.send(None);
                let uploaded = self
                    .block_on(uploader)
                    .unwrap_or_else(|_| Err(failed("The upload stopped")));
                // The upload's own failure says more than "the upload stopped".
                return Err(match uploaded {
                    Err(upload_error) if error.code != Code::PushCancelled => upload_error,
                    _ => error,
                });
            }
        };
        // Once the registry has the blob: the bar turns done, and the cache remembers the layer at
        // once, so that a retry after a later failure skips it.
        let (progress, cache, id, layer, repository) = (
            self.progress.clone(),
            self.cache.clone(),
            id.to_string(),
            compressed.clone(),
            self.repository.clone(),
        );
        let done: Box<dyn FnOnce() + Send> = Box::new(move || {
            lock(&progress).set_state(&id, LayerState::Pushed, Instant::now());
            lock(&cache).remember_layer(
                &layer.diff_id,
                CachedBlob {
                    digest: layer.digest.clone(),
                    size: layer.size,
                    uncompressed: layer.uncompressed,
                    repositories: vec![repository],
                },
            );
        });
        let _ = finish.send(Some((compressed.digest.clone(), done)));
        lock(&self.pending).push(uploader);
        self.wait_for_uploads(UPLOADS_FINISHING)?;
        Ok(compressed)
    }

    /// Uploads an already compressed blob unless the registry has it.
    fn upload_as_is(
        &self,
        id: &str,
        digest: &str,
        size: u64,
        reader: &mut dyn Read,
        read_error: &ReadError,
    ) -> Result<Done> {
        if self.block_on(self.session.blob_size(digest))?.is_some() {
            self.with_progress(|p, now| p.set_state(id, LayerState::Existed, now));
            return Ok(Done::AsIs {
                digest: digest.to_string(),
                size,
            });
        }
        let (members, receiver) = mpsc::channel::<Vec<u8>>(MEMBERS_IN_FLIGHT);
        let (finish, finished) = oneshot::channel::<Finish>();
        let uploader = self
            .runtime
            .spawn(upload_members(self.session.clone(), receiver, finished));
        let mut hasher = Hasher::default();
        let read = (|| -> Result<()> {
            loop {
                self.check_cancelled()?;
                let mut piece = vec![0u8; 4 << 20];
                let n = read_full(reader, &mut piece).map_err(|e| read_error(e))?;
                if n == 0 {
                    return Ok(());
                }
                piece.truncate(n);
                hasher.update(&piece);
                let bytes = hasher.bytes;
                members
                    .blocking_send(piece)
                    .map_err(|_| failed("The upload stopped"))?;
                self.with_progress(|p, now| p.uploaded(id, bytes, Some(size), now));
            }
        })();
        drop(members);
        let read = read.and_then(|()| {
            let seen = hasher.digest();
            if seen == digest {
                Ok(())
            } else {
                Err(archive_invalid(format!(
                    "The blob {digest} in the archive is damaged (its content hashes to {seen})"
                )))
            }
        });
        let nothing_more: Box<dyn FnOnce() + Send> = Box::new(|| {});
        let _ = finish.send(read.is_ok().then(|| (digest.to_string(), nothing_more)));
        let uploaded = self
            .block_on(uploader)
            .unwrap_or_else(|_| Err(failed("The upload stopped")));
        match (read, uploaded) {
            (Err(e), _) if e.code != Code::PushFailed => return Err(e),
            (_, Err(e)) => return Err(e),
            (Err(e), _) => return Err(e),
            (Ok(()), Ok(())) => {}
        }
        self.with_progress(|p, now| p.set_state(id, LayerState::Pushed, now));
        Ok(Done::AsIs {
            digest: digest.to_string(),
            size,
        })
    }

    /// Writes config and manifest for what the stream held: docker-archive or OCI layout.
    fn assemble(&self, collected: &Collected) -> Result<Result<Pushed, ReadAgain>> {
        if collected.small.contains_key("manifest.json") {
            self.assemble_docker(collected)
        } else if collected.small.contains_key("index.json") {
            self.assemble_oci(collected).map(Ok)
        } else {
            Err(archive_invalid(
                "The archive has neither a manifest.json (docker save) nor an index.json (OCI layout)",
            ))
        }
    }

    fn assemble_docker(&self, collected: &Collected) -> Result<Result<Pushed, ReadAgain>> {
        let images = archive::parse_docker_manifest(collected.small_file("manifest.json")?)?;
        let image = archive::pick_docker_image(&images, None)?;
        let config = collected.small_file(&image.config)?.to_vec();
        let diff_ids = archive::diff_ids(&config)?;
        if diff_ids.len() != image.layers.len() {
            return Err(archive_invalid(format!(
                "The archive lists {} layers but its image config {}",
                image.layers.len(),
                diff_ids.len()
            )));
        }
        let mut layers = Vec::new();
        for (path, diff_id) in image.layers.iter().zip(&diff_ids) {
            let path = collected.resolve(path);
            let done = match collected.done.get(path) {
                Some(done) => done.clone(),
                None => {
                    let bytes = collected.small_file(path)?;
                    let id = short(diff_id);
                    self.with_progress(|p, _| p.add_layer(&id, Some(bytes.len() as u64)));
                    let read_error: ReadError = Arc::new(|e| failed(&e.to_string()));
                    Done::Compressed(self.compress_and_upload(
                        &id,
                        bytes.len() as u64,
                        &mut &bytes[..],
                        &read_error,
                    )?)
                }
            };
            let blob = match done {
                Done::Compressed(layer) => {
                    if &layer.diff_id != diff_id {
                        return Err(archive_invalid(format!(
                            "The layer {path} does not match the image config (the archive is damaged)"
                        )));
                    }
                    CachedBlob {
                        digest: layer.digest,
                        size: layer.size,
                        uncompressed: layer.uncompressed,
                        repositories: Vec::new(),
                    }
                }
                Done::Hashed {
                    diff_id: read,
                    expected,
                } => {
                    if read != expected || &read != diff_id {
                        return Ok(Err(ReadAgain));
                    }
                    self.cache()
                        .layer(diff_id)
                        .cloned()
                        .ok_or_else(|| failed("The blob cache changed during the push"))?
                }
                Done::AsIs { digest, size } => CachedBlob {
                    digest,
                    size,
                    uncompressed: 0,
                    repositories: Vec::new(),
                },
            };
            layers.push(layer_descriptor(archive::DOCKER_LAYER_GZIP, &blob));
        }
        // Layers kept in memory were compressed just now: their uploads finish before the manifest.
        self.wait_for_uploads(0)?;
        self.cache().remember_config(&config);
        self.block_on(self.put_docker_manifest(&config, layers))
            .map(Ok)
    }

    fn assemble_oci(&self, collected: &Collected) -> Result<Pushed> {
        let index = archive::parse_index(collected.small_file("index.json")?)?;
        let chosen = archive::pick_oci_image(&index, None)?;
        if !archive::is_index(&chosen.media_type) {
            return self.push_oci_manifest(collected, chosen, Some(&self.tag));
        }
        let original = collected
            .blob(&chosen.digest)
            .ok_or_else(|| archive_invalid(format!("The layout has no blob {}", chosen.digest)))?;
        let mut image_index = archive::parse_index(original)?;
        let mut changed = !self.labels.is_empty();
        for descriptor in image_index.manifests.iter_mut() {
            if archive::is_index(&descriptor.media_type) {
                return Err(archive_invalid("The layout nests an index in an index"));
            }
            let pushed = self.push_oci_manifest(collected, descriptor, None)?;
            if pushed.digest != descriptor.digest {
                descriptor.digest = pushed.digest;
                descriptor.size = pushed.size;
                changed = true;
            }
        }
        let bytes = if changed {
            if !self.labels.is_empty() {
                image_index
                    .annotations
                    .get_or_insert_with(BTreeMap::new)
                    .extend(self.labels.clone());
            }
            serde_json::to_vec(&image_index).map_err(|e| failed(&e.to_string()))?
        } else {
            original.to_vec()
        };
        self.block_on(self.put_manifest(&self.tag, &chosen.media_type, bytes))
    }

    /// One image manifest of a layout: its blobs on the registry (compressed ones were uploaded as
    /// they passed; plain tar layers were compressed, which changes their digests), then the manifest,
    /// under `tag` or, inside an index, by digest.
    fn push_oci_manifest(
        &self,
        collected: &Collected,
        descriptor: &Descriptor,
        tag: Option<&str>,
    ) -> Result<Pushed> {
        let original = collected.blob(&descriptor.digest).ok_or_else(|| {
            archive_invalid(format!("The layout has no blob {}", descriptor.digest))
        })?;
        let mut manifest = archive::parse_manifest(original)?;
        let mut changed = !self.labels.is_empty();
        for layer in manifest.layers.iter_mut() {
            let path = format!(
                "blobs/sha256/{}",
                layer.digest.trim_start_matches("sha256:")
            );
            match collected.done.get(&path) {
                Some(Done::Compressed(compressed)) => {
                    layer.digest = compressed.digest.clone();
                    layer.size = compressed.size;
                    layer.media_type = gzip_media_type(&layer.media_type);
                    changed = true;
                }
                Some(_) => {}
                None => match collected.small.get(&path) {
                    Some(bytes) => self.block_on(
                        self.session
                            .put_small_blob(&layer.digest, Bytes::from(bytes.clone())),
                    )?,
                    None => {
                        if self
                            .block_on(self.session.blob_size(&layer.digest))?
                            .is_none()
                        {
                            return Err(archive_invalid(format!(
                                "The layout has no blob {} and the registry does not have it either",
                                layer.digest
                            )));
                        }
                    }
                },
            }
        }
        let config = collected.blob(&manifest.config.digest).ok_or_else(|| {
            archive_invalid(format!(
                "The layout has no config {}",
                manifest.config.digest
            ))
        })?;
        let config = archive::with_labels(config, &self.labels)?;
        manifest.config.digest = sha256_digest(&config);
        manifest.config.size = config.len() as u64;
        self.block_on(
            self.session
                .put_small_blob(&manifest.config.digest, Bytes::from(config)),
        )?;
        let bytes = if changed {
            if !self.labels.is_empty() {
                manifest
                    .annotations
                    .get_or_insert_with(BTreeMap::new)
                    .extend(self.labels.clone());
            }
            serde_json::to_vec(&manifest).map_err(|e| failed(&e.to_string()))?
        } else {
            original.to_vec()
        };
        let media_type = manifest
            .media_type
            .clone()
            .unwrap_or_else(|| descriptor.media_type.clone());
        let reference = match tag {
            Some(tag) => tag.to_string(),
            None => sha256_digest(&bytes),
        };
        self.block_on(self.put_manifest(&reference, &media_type, bytes))
    }
}

/// The async half of a layer upload: members in, chunks of the registry's size out; `finish` says
/// the digest to close with, or that the layer failed (the session is then cancelled).
async fn upload_members(
    session: Arc<Session>,
    mut members: mpsc::Receiver<Vec<u8>>,
    finish: oneshot::Receiver<Finish>,
) -> Result<()> {
    let mut upload = session.begin().await?;
    let result = async {
        let chunk = session.chunk_size();
        let mut buffer = BytesMut::new();
        while let Some(member) = members.recv().await {
            buffer.extend_from_slice(&member);
            while buffer.len() >= chunk {
                let next = buffer.split_to(chunk).freeze();
                session.send_chunk(&mut upload, next).await?;
            }
        }
        Ok::<_, Error>(buffer.freeze())
    }
    .await;
    let rest = match result {
        Ok(rest) => rest,
        Err(e) => {
            session.cancel(upload).await;
            return Err(e);
        }
    };
    match finish.await {
        Ok(Some((digest, done))) => {
            if let Err(e) = session.send_chunk(&mut upload, rest).await {
                session.cancel(upload).await;
                return Err(e);
            }
            session.finish(upload, &digest).await?;
            done();
            Ok(())
        }
        _ => {
            session.cancel(upload).await;
            Ok(())
        }
    }
}

fn read_full(reader: &mut dyn Read, buffer: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buffer.len() {
        match reader.read(&mut buffer[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

fn layer_descriptor(media_type: &str, blob: &CachedBlob) -> Descriptor {
    Descriptor {
        media_type: media_type.to_string(),
        digest: blob.digest.clone(),
        size: blob.size,
        platform: None,
        annotations: None,
    }
}

/// The gzip form of a plain tar layer media type.
fn gzip_media_type(media_type: &str) -> String {
    match media_type {
        "application/vnd.docker.image.rootfs.diff.tar" => archive::DOCKER_LAYER_GZIP.to_string(),
        _ => archive::OCI_LAYER_GZIP.to_string(),
    }
}

/// Other repositories of `registry` where the cache saw any of `diff_ids` (as `OWNER/NAME`).
fn mount_sources(
    cache: &BlobCache,
    diff_ids: &[String],
    registry: &str,
    repository: &str,
) -> Vec<String> {
    let prefix = format!("{registry}/");
    let mut sources: Vec<String> = Vec::new();
    for blob in diff_ids.iter().filter_map(|d| cache.layer(d)) {
        for from in &blob.repositories {
            if let Some(path) = from.strip_prefix(&prefix) {
                if from != repository && !sources.iter().any(|s| s == path) {
                    sources.push(path.to_string());
                }
            }
        }
    }
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

/// An archive path without `./` and doubled slashes.
fn normalise(path: &str) -> String {
    path.split('/')
        .filter(|part| !part.is_empty() && *part != ".")
        .collect::<Vec<_>>()
        .join("/")
}

/// A symlink's target, relative to the link's folder, as an archive path.
fn join_relative(link: &str, target: &str) -> String {
    let mut parts: Vec<&str> = link.split('/').collect();
    parts.pop();
    for part in target.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    parts.join("/")
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_save_symlinks_resolve_to_archive_paths() {
        assert_eq!(
            join_relative("b/layer.tar", "../a/layer.tar"),
            "a/layer.tar"
        );
        assert_eq!(normalise("./blobs//sha256/x"), "blobs/sha256/x");
    }

    #[test]
    fn source_repositories_must_be_one_repository_on_the_configured_github() {
        let config = Config::github_com();
        assert_eq!(
            source_repository(&config, "https://github.com/Octo/app.git").unwrap(),
            "https://github.com/Octo/app"
        );
        for bad in [
            "https://gitlab.com/o/r",
            "https://github.com/o",
            "https://github.com/o/r/tree/main",
            "github.com/o/r",
            "https://github.com/o/r?x=1",
        ] {
            assert_eq!(
                source_repository(&config, bad).unwrap_err().code,
                Code::ReferenceInvalid,
                "{bad}"
            );
        }
    }

    #[test]
    fn plain_tar_layer_types_become_their_gzip_types() {
        assert_eq!(
            gzip_media_type("application/vnd.docker.image.rootfs.diff.tar"),
            archive::DOCKER_LAYER_GZIP
        );
        assert_eq!(
            gzip_media_type("application/vnd.oci.image.layer.v1.tar"),
            archive::OCI_LAYER_GZIP
        );
    }
}
