//! What direct pushes learnt of the link to each registry: the rate their uploads went at, kept a week
//! in the cache dir (`links.json`). The automatic way to push an image of Docker's classic store reads
//! it: over a link slower than the engine's own gzip (`SLOW_LINK`), `docker push`'s single-threaded
//! gzip is not what holds a push back, while the export the direct push needs first costs seconds —
//! so the engine pushes; over a faster one (or one not measured yet) the direct push does.

use crate::config::Config;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Upload rate (bytes of compressed layers a second) below which a link is slow: `docker push` gzips
/// ~40 MB/s of layer tar on one thread here, ~20 MB/s of output on real files; links below ~25 MB/s
/// (200 Mbit/s) carry less than that.
pub const SLOW_LINK: f64 = 25e6;
/// A measurement older than this says nothing (the laptop has moved since).
const KEPT: Duration = Duration::from_secs(7 * 24 * 3600);
/// Fewer bytes than this say nothing about a link (buffers take them at once).
pub const ENOUGH_BYTES: u64 = 8 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
struct Measured {
    bytes_per_second: f64,
    /// Seconds since 1970.
    at: u64,
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn load(config: &Config) -> BTreeMap<String, Measured> {
    config
        .cache_dir
        .as_ref()
        .and_then(|dir| std::fs::read(dir.join("links.json")).ok())
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or_default()
}

/// The rate last measured to the configured registry, if within a week.
pub fn recall(config: &Config) -> Option<f64> {
    load(config)
        .get(&config.registry)
        .filter(|m| now().saturating_sub(m.at) < KEPT.as_secs())
        .map(|m| m.bytes_per_second)
}

/// Keeps `bytes_per_second` as the rate to the configured registry.
pub fn remember(config: &Config, bytes_per_second: f64) {
    let Some(dir) = &config.cache_dir else { return };
    let mut links = load(config);
    links.insert(
        config.registry.clone(),
        Measured {
            bytes_per_second,
            at: now(),
        },
    );
    if std::fs::create_dir_all(dir).is_ok() {
        if let Ok(bytes) = serde_json::to_vec(&links) {
            let temporary = dir.join(format!("links.json.tmp{}", std::process::id()));
            if std::fs::write(&temporary, bytes).is_ok() {
                let _ = std::fs::rename(&temporary, dir.join("links.json"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rate_is_kept_per_registry_for_a_week() {
        let dir = tempfile::tempdir().unwrap();
        let config = Config {
            cache_dir: Some(dir.path().to_path_buf()),
            ..Config::github_com()
        };
        assert_eq!(recall(&config), None);
        remember(&config, 12.5e6);
        assert_eq!(recall(&config), Some(12.5e6));
        let other = Config {
            registry: "127.0.0.1:5000".into(),
            ..config.clone()
        };
        assert_eq!(recall(&other), None, "per registry");
        // A week old: forgotten.
        let mut links = load(&config);
        links.get_mut(&config.registry).unwrap().at = now() - KEPT.as_secs() - 1;
        std::fs::write(
            dir.path().join("links.json"),
            serde_json::to_vec(&links).unwrap(),
        )
        .unwrap();
        assert_eq!(recall(&config), None);
        // A damaged file is no memory.
        std::fs::write(dir.path().join("links.json"), b"{not json").unwrap();
        assert_eq!(recall(&config), None);
    }
}
