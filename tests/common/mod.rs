//! Shared by the core's integration tests: what `ghcr-test-support` gives every test tree (the stack,
//! docker, skopeo, the emulator's admin calls), plus what needs the core's types — the test world as a
//! core `Config`, a push's bytes per layer, the next job update.
#![allow(dead_code)] // each test binary uses its own part of this module

pub use ghcr_test_support::*;

use ghcr::push::jobs::JobUpdate;
use ghcr::push::progress::Snapshot;
use std::collections::HashMap;
use std::time::Duration;

/// The image store of the engine these tests run against: `make test` runs the engine-facing tests
/// once per engine of the stack, naming it in GHCR_TEST_ENGINE (classic when unset).
pub fn store_under_test() -> ghcr::engine::ImageStore {
    match std::env::var("GHCR_TEST_ENGINE").as_deref() {
        Ok("containerd") => ghcr::engine::ImageStore::Containerd,
        Ok("podman") => ghcr::engine::ImageStore::Podman,
        _ => ghcr::engine::ImageStore::Classic,
    }
}

/// What the engine under test calls itself.
pub fn product_under_test() -> &'static str {
    match store_under_test() {
        ghcr::engine::ImageStore::Podman => "Podman",
        _ => "Docker Engine",
    }
}

/// The test world's GitHub: the emulator's address and the token registry, as a core `Config`.
pub fn emulated_github() -> ghcr::Config {
    let emulator = stack("GHCR_TEST_EMULATOR");
    ghcr::Config {
        api_url: emulator.parse().expect("the emulator's URL"),
        web_url: emulator.parse().expect("the emulator's URL"),
        registry: stack("GHCR_TEST_REGISTRY_TOKEN"),
        docker_host: None,
        oauth_client_id: Some("ghcr-desktop-test".into()),
        cache_dir: None,
    }
}

/// Builds NAME from scratch with three COPY layers of random data (1, 2 and 3 MB), offline.
pub fn three_layer_image(name: &str) {
    layered_image(name, &[1_000_000, 2_000_000, 3_000_000]);
}

/// Each layer's byte counts in the order the snapshots reported them.
pub fn bytes_by_layer(snapshots: &[Snapshot]) -> HashMap<String, Vec<u64>> {
    let mut seen: HashMap<String, Vec<u64>> = HashMap::new();
    for snapshot in snapshots {
        for layer in &snapshot.layers {
            seen.entry(layer.id.clone()).or_default().push(layer.bytes);
        }
    }
    seen
}

/// The next update of the push jobs, within `within`.
pub async fn next_update(
    updates: &mut tokio::sync::mpsc::UnboundedReceiver<JobUpdate>,
    within: Duration,
) -> JobUpdate {
    tokio::time::timeout(within, updates.recv())
        .await
        .expect("a job update in time")
        .expect("the jobs are alive")
}

/// The states of the layers in the last snapshot.
pub fn last_layer_states(snapshots: &[Snapshot]) -> Vec<ghcr::push::progress::LayerState> {
    snapshots
        .last()
        .expect("at least one snapshot")
        .layers
        .iter()
        .map(|l| l.state)
        .collect()
}

/// What every complete upload of `layers` layers reports: each layer pushed and ending at its size
/// (or with none, where the engine said none), each layer's bytes never going back, and the total
/// reached.
pub fn assert_every_layer_uploaded_in_full(snapshots: &[Snapshot], layers: usize) {
    use ghcr::push::progress::LayerState;
    let last = snapshots.last().expect("at least one snapshot");
    assert_eq!(last.layers.len(), layers, "{last:?}");
    for layer in &last.layers {
        assert_eq!(layer.state, LayerState::Pushed, "{layer:?}");
        // A real size, or none (Docker's containerd store says only "Pushed" of a quick layer):
        // never a made-up 0 B.
        match layer.total {
            Some(total) => assert!(
                total > 0 && layer.bytes == total,
                "ends at the layer size: {layer:?}"
            ),
            None => assert_eq!(layer.bytes, 0, "no size, no bytes made up: {layer:?}"),
        }
    }
    for (layer, bytes) in bytes_by_layer(snapshots) {
        assert!(bytes.windows(2).all(|w| w[0] <= w[1]), "{layer}: {bytes:?}");
    }
    assert_eq!(last.bytes, last.total);
}

/// A writer of a fresh namespace of the emulated GitHub, pushing from the stack's engine with a blob
/// cache of its own (`cache` overrides where it lives).
pub struct Pusher {
    pub config: ghcr::Config,
    pub login: String,
    pub token: String,
    _cache: Option<tempfile::TempDir>,
}

impl Pusher {
    pub async fn new(prefix: &str) -> Pusher {
        let cache = tempfile::tempdir().expect("a temporary cache");
        let mut pusher = Pusher::with_cache(prefix, cache.path()).await;
        pusher._cache = Some(cache);
        pusher
    }

    pub async fn with_cache(prefix: &str, cache: &std::path::Path) -> Pusher {
        let login = new_user(prefix).await;
        let token = new_token(&login, "classic", &["write:packages"]).await;
        Pusher {
            config: ghcr::Config {
                docker_host: Some(stack("DOCKER_HOST")),
                cache_dir: Some(cache.to_path_buf()),
                ..emulated_github()
            },
            login,
            token,
            _cache: None,
        }
    }

    /// `REGISTRY/LOGIN/NAME_AND_TAG`.
    pub fn target(&self, name_and_tag: &str) -> String {
        format!("{}/{}/{name_and_tag}", self.config.registry, self.login)
    }

    pub fn credentials(&self) -> ghcr::registry::session::Credentials {
        ghcr::registry::session::Credentials {
            login: self.login.clone(),
            token: ghcr::Secret::new(self.token.clone()),
        }
    }

    /// The checked plan of a direct push of the local image `source` to `target`.
    pub fn plan(&self, source: &str, target: &str) -> ghcr::push::PushPlan {
        ghcr::push::PushRequest {
            source: ghcr::push::PushSource::Image(source.to_string()),
            target: target.to_string(),
            via: ghcr::push::Via::Direct,
            source_repository: None,
            engine: None,
            compression: Default::default(),
        }
        .checked(&self.config)
        .expect("a valid target")
    }

    /// Whether the registry has `target`, as skopeo sees it.
    pub fn has(&self, target: &str) -> Result<String, String> {
        skopeo(
            &["inspect", &format!("docker://{target}")],
            &self.login,
            &self.token,
        )
    }
}
