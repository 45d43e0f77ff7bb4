//! The direct push's memory of its own work: for each layer it compressed, per encoding (gzip, zstd),
//! `diff_id → (blob digest, size, uncompressed size)` — the level follows the link, so the blob is the
//! one this app sent, found again with a `HEAD` (a registry that lacks it gets the layer compressed
//! anew) — and
//! the image configs it read, by digest. With both, an unchanged re-push is `HEAD` checks and a manifest,
//! with no export and no compression. It also keeps, per layer, the repositories it was last pushed to,
//! so that a push to a new repository of the registry can mount the blob from there instead of
//! uploading it. A cache, not a record: unreadable or missing means empty, and nothing secret is ever
//! in it.

use super::compress::{Compression, COMPRESSOR};
use crate::config::Config;
use crate::digest::sha256_digest;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// More entries than this and the cache starts over (it only ever saves work).
const MAX_ENTRIES: usize = 20_000;
/// Repositories remembered per layer (the latest ones), as mount sources.
const MAX_REPOSITORIES: usize = 4;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CachedBlob {
    pub digest: String,
    pub size: u64,
    pub uncompressed: u64,
    /// `REGISTRY/OWNER/NAME` the blob was pushed to, latest last.
    #[serde(default)]
    pub repositories: Vec<String>,
    /// How the blob is compressed (entries written before zstd are gzip).
    #[serde(default)]
    pub compression: Compression,
}

#[derive(Default, Serialize, Deserialize)]
struct Stored {
    compressor: String,
    layers: BTreeMap<String, CachedBlob>,
}

pub struct BlobCache {
    dir: Option<PathBuf>,
    layers: BTreeMap<String, CachedBlob>,
}

impl BlobCache {
    /// The cache in the configured cache dir (empty when there is none or it can't be read).
    pub fn load(config: &Config) -> BlobCache {
        let dir = config.cache_dir.clone();
        let layers = dir
            .as_ref()
            .and_then(|dir| std::fs::read(dir.join("blobs.json")).ok())
            .and_then(|bytes| serde_json::from_slice::<Stored>(&bytes).ok())
            .filter(|stored| stored.compressor == COMPRESSOR)
            .map(|stored| stored.layers)
            .unwrap_or_default();
        BlobCache { dir, layers }
    }

    /// The blob this app compressed the layer `diff_id` to in `compression` (blobs pushed as they
    /// were, `uncompressed` 0, are never that: a plain layer pushed as it is has its diff_id as digest).
    pub fn layer(&self, diff_id: &str, compression: Compression) -> Option<&CachedBlob> {
        self.layers
            .get(&key(diff_id, compression))
            .filter(|b| b.uncompressed > 0 && b.compression == compression)
    }

    /// The blobs a push in `compression` may use for the layer `diff_id`, the wanted encoding first:
    /// a zstd push takes a gzip blob the registry already has (anyone can pull gzip), a gzip push
    /// never takes a zstd one (it was asked for what every client pulls).
    pub fn usable(&self, diff_id: &str, compression: Compression) -> Vec<&CachedBlob> {
        let encodings: &[Compression] = match compression {
            Compression::Gzip => &[Compression::Gzip],
            Compression::Zstd => &[Compression::Zstd, Compression::Gzip],
        };
        encodings
            .iter()
            .filter_map(|c| self.layer(diff_id, *c))
            .collect()
    }

    /// Remembers a layer's blob (under its encoding), adding its repositories to those already known.
    pub fn remember_layer(&mut self, diff_id: &str, blob: CachedBlob) {
        let key = key(diff_id, blob.compression);
        self.remember(&key, blob);
    }

    fn remember(&mut self, key: &str, mut blob: CachedBlob) {
        if self.layers.len() >= MAX_ENTRIES {
            self.layers.clear();
        }
        if let Some(known) = self.layers.get(key).filter(|k| k.digest == blob.digest) {
            let mut repositories = known.repositories.clone();
            for repository in blob.repositories {
                repositories.retain(|r| *r != repository);
                repositories.push(repository);
            }
            let keep = repositories.len().saturating_sub(MAX_REPOSITORIES);
            blob.repositories = repositories.split_off(keep);
        }
        self.layers.insert(key.to_string(), blob);
    }

    /// A blob pushed as it was, by its own digest.
    pub fn blob(&self, digest: &str) -> Option<&CachedBlob> {
        self.layers
            .get(digest)
            .filter(|b| b.digest == digest && b.uncompressed == 0)
    }

    /// Remembers a blob pushed as it was, with the repositories it is in.
    pub fn remember_blob(&mut self, blob: CachedBlob) {
        let digest = blob.digest.clone();
        self.remember(
            &digest,
            CachedBlob {
                uncompressed: 0,
                ..blob
            },
        );
    }

    /// The config whose digest is `digest`, if kept (and intact).
    pub fn config(&self, digest: &str) -> Option<Vec<u8>> {
        let hex = digest.strip_prefix("sha256:")?;
        let bytes = std::fs::read(self.dir.as_ref()?.join("configs").join(hex)).ok()?;
        (sha256_digest(&bytes) == digest).then_some(bytes)
    }

    pub fn remember_config(&self, bytes: &[u8]) {
        let Some(dir) = &self.dir else { return };
        let digest = sha256_digest(bytes);
        let configs = dir.join("configs");
        if std::fs::create_dir_all(&configs).is_ok() {
            let _ = write_atomically(&configs.join(&digest["sha256:".len()..]), bytes);
        }
    }

    /// Writes the layer entries back, merged with what another push saved meanwhile.
    pub fn save(&self) {
        let Some(dir) = &self.dir else { return };
        let mut merged = BlobCache::load(&Config {
            cache_dir: Some(dir.clone()),
            ..Config::github_com()
        })
        .layers;
        for (key, blob) in self.layers.clone() {
            let mut into = BlobCache {
                dir: None,
                layers: std::mem::take(&mut merged),
            };
            into.remember(&key, blob);
            merged = into.layers;
        }
        let stored = Stored {
            compressor: COMPRESSOR.to_string(),
            layers: merged,
        };
        if std::fs::create_dir_all(dir).is_ok() {
            if let Ok(bytes) = serde_json::to_vec(&stored) {
                let _ = write_atomically(&dir.join("blobs.json"), &bytes);
            }
        }
    }
}

/// Where a layer's blob in `compression` is kept: gzip ones under the diff_id itself (as before zstd).
fn key(diff_id: &str, compression: Compression) -> String {
    match compression {
        Compression::Gzip => diff_id.to_string(),
        Compression::Zstd => format!("zstd:{diff_id}"),
    }
}

fn write_atomically(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    let temporary = path.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&temporary, bytes)?;
    std::fs::rename(&temporary, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(dir: &std::path::Path) -> Config {
        Config {
            cache_dir: Some(dir.to_path_buf()),
            ..Config::github_com()
        }
    }

    #[test]
    fn layers_and_configs_survive_a_new_process() {
        let dir = tempfile::tempdir().unwrap();
        let mut cache = BlobCache::load(&config(dir.path()));
        let blob = CachedBlob {
            digest: "sha256:b".into(),
            size: 10,
            uncompressed: 30,
            repositories: vec!["ghcr.io/o/a".into()],
            compression: Compression::Gzip,
        };
        cache.remember_layer("sha256:a", blob.clone());
        cache.remember_config(b"{}");
        cache.save();
        let again = BlobCache::load(&config(dir.path()));
        assert_eq!(again.layer("sha256:a", Compression::Gzip), Some(&blob));
        assert_eq!(again.config(&sha256_digest(b"{}")), Some(b"{}".to_vec()));
    }

    #[test]
    fn a_layer_is_known_in_both_encodings_and_a_zstd_push_may_take_the_gzip_blob() {
        let mut cache = BlobCache::load(&Config::github_com());
        let blob = |digest: &str, compression| CachedBlob {
            digest: digest.into(),
            size: 1,
            uncompressed: 2,
            repositories: vec![],
            compression,
        };
        cache.remember_layer("sha256:a", blob("sha256:g", Compression::Gzip));
        assert_eq!(cache.usable("sha256:a", Compression::Zstd).len(), 1);
        assert_eq!(
            cache.usable("sha256:a", Compression::Zstd)[0].digest,
            "sha256:g"
        );
        cache.remember_layer("sha256:a", blob("sha256:z", Compression::Zstd));
        let zstd: Vec<&str> = cache
            .usable("sha256:a", Compression::Zstd)
            .iter()
            .map(|b| b.digest.as_str())
            .collect();
        assert_eq!(zstd, ["sha256:z", "sha256:g"], "the wanted encoding first");
        let gzip: Vec<&str> = cache
            .usable("sha256:a", Compression::Gzip)
            .iter()
            .map(|b| b.digest.as_str())
            .collect();
        assert_eq!(gzip, ["sha256:g"], "a gzip push never takes zstd");
    }

    #[test]
    fn repositories_accumulate_latest_last_and_only_a_few() {
        let mut cache = BlobCache::load(&Config::github_com());
        let blob = |repository: &str| CachedBlob {
            digest: "sha256:b".into(),
            size: 1,
            uncompressed: 2,
            repositories: vec![repository.to_string()],
            compression: Compression::Gzip,
        };
        for repository in ["r/1", "r/2", "r/1", "r/3", "r/4", "r/5"] {
            cache.remember_layer("sha256:a", blob(repository));
        }
        assert_eq!(
            cache
                .layer("sha256:a", Compression::Gzip)
                .unwrap()
                .repositories,
            ["r/1", "r/3", "r/4", "r/5"]
        );
        let mut other = blob("r/9");
        other.digest = "sha256:c".into();
        cache.remember_layer("sha256:a", other);
        assert_eq!(
            cache
                .layer("sha256:a", Compression::Gzip)
                .unwrap()
                .repositories,
            ["r/9"],
            "a new blob starts over"
        );
    }

    #[test]
    fn a_damaged_cache_is_an_empty_one() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("blobs.json"), b"{not json").unwrap();
        std::fs::create_dir_all(dir.path().join("configs")).unwrap();
        let digest = sha256_digest(b"{}");
        std::fs::write(dir.path().join("configs").join(&digest[7..]), b"{changed}").unwrap();
        let cache = BlobCache::load(&config(dir.path()));
        assert_eq!(cache.layer("sha256:a", Compression::Gzip), None);
        assert_eq!(
            cache.config(&digest),
            None,
            "a config that no longer matches its digest"
        );
        assert!(BlobCache::load(&Config::github_com())
            .config(&digest)
            .is_none());
    }
}
