//! Uploads of one layer: compressed here on every core while its output streams to the registry, or
//! an already compressed blob sent as it is (hashed on the way to check its digest), or a gzip blob
//! unpacked and compressed again as zstd when zstd was asked for.

use super::walk::Done;
use super::{archive_invalid, failed, lock, other_repositories, ReadError, Work};
use crate::digest::Hasher;
use crate::error::{Code, Result};
use crate::push::blob_cache::CachedBlob;
use crate::push::compress::{compress_layer, CompressedLayer, Compression};
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
    /// Compresses a layer (`size` bytes of tar) on every core while its output uploads.
    pub(super) fn compress_and_upload(
        &self,
        id: &str,
        size: u64,
        reader: &mut dyn Read,
        read_error: &ReadError,
    ) -> Result<CompressedLayer> {
        self.compress_and_upload_counting(id, size, reader, read_error, None)
    }

    /// A gzip blob (`size` bytes) unpacked as it is read and compressed again in this push's
    /// encoding; the bar follows the gzip bytes read (the tar's size is not known before its end).
    pub(super) fn recompress_and_upload(
        &self,
        id: &str,
        size: u64,
        gzip: &mut dyn Read,
        read_error: &ReadError,
    ) -> Result<CompressedLayer> {
        let read = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let counting = Counting {
            inner: gzip,
            read: read.clone(),
        };
        let mut tar = flate2::read::MultiGzDecoder::new(counting);
        self.compress_and_upload_counting(id, size, &mut tar, read_error, Some(read))
    }

    /// `compress_and_upload`, the bar fed by `read` (bytes of the source consumed) when given, by the
    /// uncompressed bytes otherwise.
    fn compress_and_upload_counting(
        &self,
        id: &str,
        size: u64,
        reader: &mut dyn Read,
        read_error: &ReadError,
        read: Option<Arc<std::sync::atomic::AtomicU64>>,
    ) -> Result<CompressedLayer> {
        let (members, receiver) = mpsc::channel::<Bytes>(MEMBERS_IN_FLIGHT);
        let (finish, finished) = oneshot::channel::<Finish>();
        let uploader = self.spawn_upload(upload_members(self.session.clone(), receiver, finished));
        let mut pace = lock(&self.pace);
        let compressed = compress_layer(
            reader,
            self.threads,
            &mut pace,
            &|e| read_error(e),
            &mut |member| {
                self.check_cancelled()?;
                self.sending(member.len());
                members
                    .blocking_send(Bytes::from(member))
                    .map_err(|_| failed("The upload stopped"))
            },
            &mut |bytes| {
                let bytes = match &read {
                    Some(read) => read.load(std::sync::atomic::Ordering::Relaxed),
                    None => bytes,
                };
                self.with_progress(|p, now| p.uploaded(id, bytes, Some(size), now))
            },
        );
        drop(members);
        drop(pace);
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
                    compression: layer.compression,
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
        compression: Compression,
        reader: &mut dyn Read,
        read_error: &ReadError,
    ) -> Result<Done> {
        let done = Done::AsIs {
            digest: digest.to_string(),
            size,
            compression,
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
                self.sending(n);
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
            compression: Compression::default(),
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
        send_whole_resuming(&session, &mut upload, members).await
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

/// How often one layer's upload may break and go on before the push gives up.
const BREAKS_PER_LAYER: usize = 10;
/// Compressed bytes of a layer kept after they were sent: all of a layer up to this size (a registry
/// that lost the upload gets the layer again from its first byte, with no new export or compression),
/// the last this many of a bigger one (a registry that says where it stands gets the rest).
const RETAIN: u64 = 64 << 20;

/// Sends the members as one whole-blob `PATCH`; when the connection breaks, goes on from where the
/// registry says the upload stands, or — where it lost the upload and the layer's bytes are all still
/// here — sends the layer again in a new upload. Only this layer's bytes go again, and only those the
/// registry lacks where it can say.
async fn send_whole_resuming(
    session: &Session,
    upload: &mut Upload,
    members: mpsc::Receiver<Bytes>,
) -> Result<()> {
    let members = Arc::new(tokio::sync::Mutex::new(members));
    let retained = Arc::new(std::sync::Mutex::new(Retained::default()));
    let mut breaks = 0;
    loop {
        let body = from_offset(upload.offset, members.clone(), retained.clone());
        let error = match session.send_whole(upload, body).await {
            Ok(()) => return Ok(()),
            Err(error) => error,
        };
        breaks += 1;
        if error.code != Code::RegistryUnreachable || breaks > BREAKS_PER_LAYER {
            return Err(error);
        }
        let kept_from = lock(&retained).start;
        match session.upload_status(upload).await {
            Some(offset) if offset >= kept_from => {}
            _ if kept_from == 0 => *upload = session.begin().await?,
            _ => return Err(error),
        }
    }
}

/// The compressed bytes of one layer's upload that may have to go again (see RETAIN): `pieces` hold
/// the bytes from `start` to `end`.
#[derive(Default)]
struct Retained {
    pieces: std::collections::VecDeque<Bytes>,
    start: u64,
    end: u64,
}

impl Retained {
    fn keep(&mut self, piece: Bytes) {
        self.end += piece.len() as u64;
        self.pieces.push_back(piece);
        while let Some(first) = self.pieces.front() {
            if self.end - self.start - (first.len() as u64) < RETAIN {
                break;
            }
            self.start += first.len() as u64;
            self.pieces.pop_front();
        }
    }

    /// The kept bytes from `offset` to the end of the piece that holds it; `None` past the end.
    fn at(&self, offset: u64) -> Option<std::io::Result<Bytes>> {
        if offset < self.start {
            return Some(Err(std::io::Error::other(
                "the bytes to send again are gone",
            )));
        }
        let mut piece_start = self.start;
        for piece in &self.pieces {
            let piece_end = piece_start + piece.len() as u64;
            if offset < piece_end {
                return Some(Ok(piece.slice((offset - piece_start) as usize..)));
            }
            piece_start = piece_end;
        }
        None
    }
}

/// The body of a `PATCH` from `offset` of the layer: the kept bytes from there, then the members as
/// they come (each kept before it goes). A stream of a broken request that is still around takes
/// nothing away from this one: what it receives is kept, and this one sends from what is kept.
fn from_offset(
    offset: u64,
    members: Arc<tokio::sync::Mutex<mpsc::Receiver<Bytes>>>,
    retained: Arc<std::sync::Mutex<Retained>>,
) -> impl futures_util::Stream<Item = std::io::Result<Bytes>> + Send + 'static {
    futures_util::stream::unfold(
        (offset, members, retained),
        |(offset, members, retained)| async move {
            if offset == u64::MAX {
                return None;
            }
            loop {
                let kept = lock(&retained).at(offset);
                match kept {
                    Some(Ok(bytes)) => {
                        let next = offset + bytes.len() as u64;
                        return Some((Ok(bytes), (next, members, retained)));
                    }
                    Some(Err(e)) => return Some((Err(e), (u64::MAX, members, retained))),
                    None => {
                        let member = members.lock().await.recv().await?;
                        lock(&retained).keep(member);
                    }
                }
            }
        },
    )
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

/// A reader that counts what was read through it.
struct Counting<'a> {
    inner: &'a mut dyn Read,
    read: Arc<std::sync::atomic::AtomicU64>,
}

impl Read for Counting<'_> {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buffer)?;
        self.read
            .fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::StreamExt;

    fn piece(byte: u8, len: usize) -> Bytes {
        Bytes::from(vec![byte; len])
    }

    #[test]
    fn kept_bytes_are_found_from_any_offset_and_the_oldest_go_past_the_limit() {
        let mut kept = Retained::default();
        kept.keep(piece(1, 10));
        kept.keep(piece(2, 10));
        assert_eq!(kept.at(0).unwrap().unwrap(), piece(1, 10));
        assert_eq!(kept.at(13).unwrap().unwrap(), piece(2, 7));
        assert!(kept.at(20).is_none(), "nothing past the end yet");
        let big = (RETAIN / 2) as usize;
        kept.keep(piece(3, big));
        kept.keep(piece(4, big));
        assert_eq!(
            kept.start, 20,
            "the first two pieces went once RETAIN was passed"
        );
        assert!(
            kept.at(5).unwrap().is_err(),
            "gone bytes are an error, never skipped"
        );
        assert_eq!(kept.at(20).unwrap().unwrap().len(), big);
    }

    #[tokio::test]
    async fn a_body_from_an_offset_sends_the_kept_bytes_then_what_comes() {
        let (sender, receiver) = mpsc::channel(4);
        let members = Arc::new(tokio::sync::Mutex::new(receiver));
        let retained = Arc::new(std::sync::Mutex::new(Retained::default()));
        sender.send(piece(1, 4)).await.unwrap();
        sender.send(piece(2, 4)).await.unwrap();
        // A first request takes both members, then breaks.
        let first: Vec<_> = from_offset(0, members.clone(), retained.clone())
            .take(2)
            .collect()
            .await;
        assert_eq!(first.len(), 2);
        // The registry has 6 bytes: the next request starts there and goes on with new members.
        sender.send(piece(3, 4)).await.unwrap();
        drop(sender);
        let second: Vec<u8> = from_offset(6, members, retained)
            .map(|bytes| bytes.unwrap().to_vec())
            .collect::<Vec<_>>()
            .await
            .concat();
        assert_eq!(second, [2, 2, 3, 3, 3, 3]);
    }
}
