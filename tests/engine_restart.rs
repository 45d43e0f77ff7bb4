//! The image watcher survives a restart of the engine under test (dockerd 20.10, Docker 26 on the
//! containerd store, or Podman's service): it reports the engine gone, comes back by itself, and
//! follows events again. Ignored in the normal run (it takes the engine away from every other test);
//! tests/run.sh runs it on its own, once per engine.

mod common;

use common::{docker, import_image, stack};
use ghcr::engine::watch::{watch_images, ImagesUpdate};
use ghcr::engine::Selection;
use ghcr::Config;
use std::process::Command;
use std::time::Duration;
use tokio::sync::mpsc;

async fn next(updates: &mut mpsc::UnboundedReceiver<ImagesUpdate>, seconds: u64) -> ImagesUpdate {
    tokio::time::timeout(Duration::from_secs(seconds), updates.recv())
        .await
        .expect("an update in time")
        .expect("the watcher runs")
}

#[tokio::test]
#[ignore = "restarts the engine under test (tests/run.sh runs it alone, once per engine)"]
async fn the_image_watcher_reconnects_after_the_engine_restarts_and_follows_events_again() {
    let config = Config {
        docker_host: Some(stack("DOCKER_HOST")),
        ..Config::github_com()
    };
    let (sender, mut updates) = mpsc::unbounded_channel();
    let watcher = tokio::spawn(async move {
        watch_images(&config, &Selection::Automatic, |update| {
            sender.send(update).is_ok()
        })
        .await
    });
    assert!(matches!(
        next(&mut updates, 30).await,
        ImagesUpdate::Snapshot { .. }
    ));

    let restart = Command::new(format!(
        "{}/tests/stack/stack.sh",
        env!("CARGO_MANIFEST_DIR")
    ))
    .arg("restart-engine")
    .status()
    .expect("stack.sh runs");
    assert!(restart.success(), "the engine restarted");

    let mut saw_gap = false;
    loop {
        match next(&mut updates, 30).await {
            ImagesUpdate::Disconnected { error, .. } => {
                assert_eq!(error.code, ghcr::Code::EngineUnreachable);
                saw_gap = true;
            }
            ImagesUpdate::Snapshot { .. } if saw_gap => break,
            ImagesUpdate::Snapshot { .. } | ImagesUpdate::Changes { .. } => {}
        }
    }

    let name = format!("after-restart-{}", std::process::id());
    import_image(&format!("{name}:1"));
    docker(&["tag", &format!("{name}:1"), &format!("{name}:2")]);
    let wanted = format!("{name}:2");
    loop {
        // After reconnecting the watcher sends changes again, not whole lists.
        if let ImagesUpdate::Changes { changed, .. } = next(&mut updates, 30).await {
            if changed
                .iter()
                .any(|i| i.reference.as_deref() == Some(&wanted))
            {
                break;
            }
        }
    }
    watcher.abort();
}
