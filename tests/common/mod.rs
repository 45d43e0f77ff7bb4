//! Shared by the core's integration tests: what `ghcr-test-support` gives every test tree (the stack,
//! docker, skopeo, the emulator's admin calls), plus what needs the core's types — the test world as a
//! core `Config`, a push's bytes per layer, the next job update.
#![allow(dead_code)] // each test binary uses its own part of this module

pub use ghcr_test_support::*;

use ghcr::push::jobs::JobUpdate;
use ghcr::push::progress::Snapshot;
use std::collections::HashMap;
use std::time::Duration;

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
