//! Full disks (run alone by tests/run.sh, as root: it mounts tmpfs). dockerd stages an image export in
//! its temporary directory: with that directory full, a direct push from the engine fails with the
//! engine's "no space left on device" and a hint saying where to free space, pushes nothing and leaves
//! the image in place; with space again the same push completes. A full disk under GHCR Desktop's own
//! cache only costs the cache: the push completes.

mod common;

use common::{assert_unknown_to_the_registry, docker, layered_image, stack_command, Pusher};
use ghcr::push::push;
use ghcr::Code;
use std::path::Path;
use std::process::Command;

/// Gives dockerd its temporary directory back even when an assertion fails.
struct EngineTmpFull;

impl EngineTmpFull {
    fn fill() -> EngineTmpFull {
        stack_command("fill-engine-tmp");
        EngineTmpFull
    }
}

impl Drop for EngineTmpFull {
    fn drop(&mut self) {
        stack_command("free-engine-tmp");
    }
}

/// A 64 KiB tmpfs filled to the last byte, unmounted on drop.
struct FullDir(tempfile::TempDir);

impl FullDir {
    fn new() -> FullDir {
        let dir = tempfile::tempdir().unwrap();
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=64k", "ghcr-full-cache"])
            .arg(dir.path())
            .status()
            .unwrap();
        assert!(status.success(), "mount a tmpfs (the test runs as root)");
        let filler = std::fs::write(dir.path().join("filler"), vec![0u8; 128 * 1024]);
        assert!(filler.is_err(), "the tmpfs is full");
        FullDir(dir)
    }

    fn path(&self) -> &Path {
        self.0.path()
    }
}

impl Drop for FullDir {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.0.path()).status();
    }
}

#[tokio::test]
#[ignore = "fills dockerd's temporary directory, which every export needs: run alone (tests/run.sh does)"]
async fn a_full_engine_disk_fails_the_export_clearly_pushes_nothing_and_the_push_works_with_space_again(
) {
    let pusher = Pusher::new("disk-full").await;
    let source = format!("disk-full-{}:1", pusher.login);
    layered_image(&source, &[6_000_000, 6_000_000]);
    let image_id = docker(&["image", "inspect", "--format", "{{.Id}}", &source]);
    let target = pusher.target("disk-full:1");
    let config = &pusher.config;

    let full = EngineTmpFull::fill();
    let plan = pusher.plan(&source, &target);
    let push_now = || push(config, &plan, pusher.credentials(), |_| {});
    let error = push_now().await.unwrap_err();
    assert_eq!(error.code, Code::EngineFailed, "{error:?}");
    assert!(
        error.message.contains("no space left on device"),
        "{error:?}"
    );
    assert!(error.hint.contains("DOCKER_TMPDIR"), "{error:?}");
    // Nothing was pushed.
    assert_unknown_to_the_registry(&target, &pusher.login, &pusher.token);
    assert_eq!(
        docker(&["image", "inspect", "--format", "{{.Id}}", &source]),
        image_id,
        "the image is still there"
    );

    drop(full);
    let pushed = push_now().await.unwrap();
    let inspected = pusher.has(&target).unwrap();
    assert!(inspected.contains(&pushed.digest), "{inspected}");
}

#[tokio::test]
#[ignore = "mounts a tmpfs (root): run by tests/run.sh with the disk-full test"]
async fn a_full_disk_under_the_cache_costs_only_the_cache() {
    let full = FullDir::new();
    let pusher = Pusher::with_cache("cache-full", full.path()).await;
    let source = format!("cache-full-{}:1", pusher.login);
    layered_image(&source, &[3_000_000, 3_000_000]);
    let target = pusher.target("cache-full:1");
    let pushed = push(
        &pusher.config,
        &pusher.plan(&source, &target),
        pusher.credentials(),
        |_| {},
    )
    .await
    .unwrap();
    let inspected = pusher.has(&target).unwrap();
    assert!(inspected.contains(&pushed.digest), "{inspected}");
}
