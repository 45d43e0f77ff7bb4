//! Uploads of one layer: compressed here on every core while its members stream to the registry, or
//! an already compressed blob sent as it is (hashed on the way to check its digest).

use super::walk::Done;
use super::{archive_invalid, failed, lock, other_repositories, ReadError, Work};
use crate::digest::Hasher;
use crate::error::{Code, Result};
use crate::push::blob_cache::CachedBlob;
use crate::push::compress::{compress_layer, CompressedLayer};
use crate::push::progress::LayerState;
use crate::registry::session::{Session, Upload};
use bytes::{Bytes, BytesMut};
use std::io::Read;
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::{mpsc, oneshot};

/// Compressed members waiting for the upload of one layer (4 MiB each).
const MEMBERS_IN_FLIGHT: usize = 4;
/// Layers whose compression is done but whose upload is still finishing: the next layer is read and
/// compressed meanwhile, up to this many.
const UPLOADS_FINISHING: usize = 2;

/// How an upload ends: the digest to close it with, and what to do once the registry has the blob.
type Finish = Option<(String, Box<dyn FnOnce() + Send>)>;

impl Work {
    /// Gzips a layer on every core while its members upload in chunks.
    pub(super) fn compress_and_upload(
        &self,
        id: &str,
        size: u64,
        reader: &mut dyn Read,
        read_error: &ReadError,
    ) -> Result<CompressedLayer> {
        let (members, receiver) = mpsc::channel::<Bytes>(MEMBERS_IN_FLIGHT);
        let (finish, finished) = oneshot::channel::<Finish>();
        let uploader = self.spawn_upload(upload_members(self.session.clone(), receiver, finished));
        let compressed = compress_layer(
            reader,
            self.threads,
            &|e| read_error(e),
            &mut |member| {
                self.check_cancelled()?;
                members
                    .blocking_send(Bytes::from(member))
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
    pub(super) fn upload_as_is(
        &self,
        id: &str,
        digest: &str,
        size: u64,
        reader: &mut dyn Read,
        read_error: &ReadError,
    ) -> Result<Done> {
        let done = Done::AsIs {
            digest: digest.to_string(),
            size,
        };
        if self.block_on(self.session.blob_size(digest))?.is_some() {
            self.with_progress(|p, now| p.set_state(id, LayerState::Existed, now));
            self.remember_blob(digest, size);
            return Ok(done);
        }
        if self.block_on(self.mount_elsewhere(digest)) {
            self.with_progress(|p, now| p.set_state(id, LayerState::Mounted, now));
            self.remember_blob(digest, size);
            return Ok(done);
        }
        let (members, receiver) = mpsc::channel::<Bytes>(MEMBERS_IN_FLIGHT);
        let (finish, finished) = oneshot::channel::<Finish>();
        let uploader = self.spawn_upload(upload_members(self.session.clone(), receiver, finished));
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
                    .blocking_send(Bytes::from(piece))
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
        self.remember_blob(digest, size);
        Ok(done)
    }

    /// A blob pushed as it was (stored compressed by the engine, or in the archive) is remembered by
    /// its own digest with the repository it is now in, so that a push of it to another repository
    /// of the registry mounts it from there.
    fn remember_blob(&self, digest: &str, size: u64) {
        let blob = CachedBlob {
            digest: digest.to_string(),
            size,
            uncompressed: 0,
            repositories: vec![self.repository.clone()],
        };
        self.cache().remember_blob(blob);
    }

    /// Mounts `digest` from another repository of the registry where the cache saw it; whether one
    /// of them let it.
    async fn mount_elsewhere(&self, digest: &str) -> bool {
        let known = self.cache().blob(digest).cloned();
        let repositories = known.iter().flat_map(|b| b.repositories.iter().rev());
        let sources = other_repositories(
            repositories.map(String::as_str),
            &self.registry,
            &self.repository,
        );
        self.mount_from_any(digest, &sources).await
    }
}

/// The async half of a layer upload: members in, as the body of one whole-blob `PATCH` (or, where
/// the registry refused that, in chunks); `finish` says the digest to close with, or that the layer
/// failed (the session is then cancelled).
async fn upload_members(
    session: Arc<Session>,
    members: mpsc::Receiver<Bytes>,
    finish: oneshot::Receiver<Finish>,
) -> Result<()> {
    let mut upload = session.begin().await?;
    let sent = if session.chunks_only() {
        send_in_chunks(&session, &mut upload, members).await
    } else {
        session.send_whole(&mut upload, members).await
    };
    if let Err(e) = sent {
        session.cancel(upload).await;
        return Err(e);
    }
    match finish.await {
        Ok(Some((digest, done))) => {
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

/// Members in, chunks of `Session::chunk_size` out, the last one however short.
async fn send_in_chunks(
    session: &Session,
    upload: &mut Upload,
    mut members: mpsc::Receiver<Bytes>,
) -> Result<()> {
    let chunk = session.chunk_size();
    let mut buffer = BytesMut::new();
    while let Some(member) = members.recv().await {
        buffer.extend_from_slice(&member);
        while buffer.len() >= chunk {
            let next = buffer.split_to(chunk).freeze();
            session.send_chunk(upload, next).await?;
        }
    }
    session.send_chunk(upload, buffer.freeze()).await
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
