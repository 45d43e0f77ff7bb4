//! The walk over the tar stream: small files (configs, manifests, `index.json`) kept in memory, large
//! entries (layers) compressed and uploaded as they pass, or uploaded as they are when already
//! compressed (gzip ones unpacked and compressed again when zstd was asked for), or only hashed when
//! the registry has a layer of their size.

use super::{archive_invalid, short, ReadAgain, ReadError, Work};
use crate::archive;
use crate::digest::Hasher;
use crate::error::Result;
use crate::push::blob_cache::CachedBlob;
use crate::push::compress::{CompressedLayer, Compression};
use crate::push::progress::LayerState;
use crate::push::Pushed;
use std::collections::HashMap;
use std::io::Read;

/// Archive entries up to this size are kept in memory (configs, manifests, small layers).
const SMALL: u64 = 1 << 20;
/// How many such entries, and how many bytes of them, an image archive may hold: thousands of layers,
/// configs and manifests fit; an archive of a million small files is not an image and must not fill
/// memory.
const SMALL_ENTRIES_MAX: usize = 10_000;
const SMALL_BYTES_MAX: usize = 256 << 20;

/// Layers the registry already has, known by their uncompressed size: while the export streams by,
/// a layer of such a size is only hashed, not compressed or uploaded. If its digest then turns out
/// different (two layers of one size), the push reads the export once more without this shortcut.
#[derive(Default, Clone)]
pub(super) struct Plan {
    pub(super) hash_only: HashMap<u64, String>,
}

impl Plan {
    /// The plan for the layers the registry has (`present`: diff_id → the blob found there).
    pub(super) fn hash_only(present: &HashMap<String, CachedBlob>) -> Plan {
        let mut by_size: HashMap<u64, Vec<String>> = HashMap::new();
        for (diff_id, blob) in present {
            by_size
                .entry(blob.uncompressed)
                .or_default()
                .push(diff_id.clone());
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
pub(super) enum Done {
    /// Compressed here (and uploaded, or already on the registry).
    Compressed(CompressedLayer),
    /// Uploaded (or found) as it was, by the digest its path names.
    AsIs {
        digest: String,
        size: u64,
        compression: Compression,
    },
    /// Only hashed, because a layer of its size is on the registry: the diff_id read, and the one
    /// that size stood for.
    Hashed { diff_id: String, expected: String },
}

/// Everything the stream held that the manifest step needs.
#[derive(Default)]
pub(super) struct Collected {
    pub(super) small: HashMap<String, Vec<u8>>,
    pub(super) links: HashMap<String, String>,
    pub(super) done: HashMap<String, Done>,
    small_bytes: usize,
}

impl Collected {
    /// Keeps a small entry in memory, within `SMALL_ENTRIES_MAX` entries and `SMALL_BYTES_MAX` bytes.
    pub(super) fn keep_small(&mut self, path: String, bytes: Vec<u8>) -> Result<()> {
        self.small_bytes += bytes.len();
        if self.small.len() >= SMALL_ENTRIES_MAX || self.small_bytes > SMALL_BYTES_MAX {
            return Err(archive_invalid(format!(
                "The archive holds more than {SMALL_ENTRIES_MAX} small files or {} MiB of them: \
                 not an image",
                SMALL_BYTES_MAX >> 20
            )));
        }
        self.small.insert(path, bytes);
        Ok(())
    }

    pub(super) fn resolve<'a>(&'a self, path: &'a str) -> &'a str {
        let mut path = path;
        for _ in 0..8 {
            match self.links.get(path) {
                Some(target) => path = target,
                None => break,
            }
        }
        path
    }

    pub(super) fn small_file(&self, path: &str) -> Result<&[u8]> {
        self.small
            .get(self.resolve(path))
            .map(Vec::as_slice)
            .ok_or_else(|| archive_invalid(format!("The archive has no {path}")))
    }

    /// Whether some blob is stored compressed (gzip or zstd), as the containerd image store exports
    /// layers: then the OCI layout beside `manifest.json` is the one that describes them.
    pub(super) fn holds_compressed_blobs(&self) -> bool {
        self.done
            .values()
            .any(|done| matches!(done, Done::AsIs { .. }))
            || self
                .small
                .iter()
                .any(|(path, bytes)| path.starts_with("blobs/") && is_compressed(bytes))
    }

    pub(super) fn blob(&self, digest: &str) -> Option<&[u8]> {
        self.small
            .get(&format!(
                "blobs/sha256/{}",
                digest.trim_start_matches("sha256:")
            ))
            .map(Vec::as_slice)
    }
}

impl Work {
    /// Reads the whole stream, then writes config and manifest.
    pub(super) fn push_stream(
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
                collected.keep_small(path, bytes)?;
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
        let stored = stored_compression(&head);
        let compressed = stored.is_some();
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
        if let Some(stored) = stored {
            let digest = path_digest.ok_or_else(|| {
                archive_invalid(format!("{path} is compressed but not named by its digest"))
            })?;
            // zstd asked for, a gzip layer stored (the containerd store, a layout): unpacked and
            // compressed again — on a slow link the bytes saved pay for it.
            if stored == Compression::Gzip && self.compression == Compression::Zstd {
                return self
                    .recompress_and_upload(&id, size, &mut reader, read_error)
                    .map(Done::Compressed);
            }
            return self.upload_as_is(&id, &digest, size, stored, &mut reader, read_error);
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
}

/// Whether `bytes` begin as a gzip or zstd stream does.
fn is_compressed(bytes: &[u8]) -> bool {
    stored_compression(bytes).is_some()
}

/// The encoding `bytes` begin in, if they begin as a gzip or zstd stream does.
pub(super) fn stored_compression(bytes: &[u8]) -> Option<Compression> {
    if bytes.starts_with(&[0x1f, 0x8b]) {
        Some(Compression::Gzip)
    } else if bytes.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Some(Compression::Zstd)
    } else {
        None
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Code;

    #[test]
    fn small_entries_are_kept_up_to_a_count_and_a_size() {
        let mut collected = Collected::default();
        for n in 0..SMALL_ENTRIES_MAX {
            collected.keep_small(format!("f{n}"), Vec::new()).unwrap();
        }
        let error = collected
            .keep_small("one more".into(), Vec::new())
            .unwrap_err();
        assert_eq!(error.code, Code::ArchiveInvalid);

        let mut big = Collected::default();
        for n in 0..SMALL_BYTES_MAX / (1 << 20) {
            big.keep_small(format!("f{n}"), vec![0; 1 << 20]).unwrap();
        }
        assert!(big.keep_small("one more".into(), vec![0; 1]).is_err());
    }

    #[test]
    fn docker_save_symlinks_resolve_to_archive_paths() {
        assert_eq!(
            join_relative("b/layer.tar", "../a/layer.tar"),
            "a/layer.tar"
        );
        assert_eq!(normalise("./blobs//sha256/x"), "blobs/sha256/x");
    }
}
