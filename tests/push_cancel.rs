//! Cancelling a push job against the real registry, with a proxy in front of it that holds one request
//! until the test lets it go — so the cancel lands exactly where a race would hurt: while a layer
//! uploads (the job must say "cancelled" only once nothing of the push runs, and nothing is tagged),
//! and while the tag is being written (too late: the cancel is refused and the job ends pushed; it
//! must never say "cancelled" about an image that got tagged).

mod common;

use common::registry_proxy::{Gate, RegistryProxy};
use common::{layered_image, next_update, stack, Pusher};
use ghcr::push::jobs::{JobState, JobUpdate, Jobs};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

struct World {
    proxy: RegistryProxy,
    pusher: Pusher,
    gate: Arc<Gate>,
    jobs: Jobs,
    updates: mpsc::UnboundedReceiver<JobUpdate>,
    /// The job pushing a new image of the namespace to `target`.
    id: u64,
    target: String,
}

/// A writer of a fresh namespace, pushing a new image of layers of `sizes` to `tag`, as a job,
/// through a proxy of the token registry that holds the first request `hold` says yes to; returned
/// once that request (`what`) is held.
async fn push_until_held(
    prefix: &str,
    sizes: &[usize],
    tag: &str,
    hold: impl Fn(&str, &str) -> bool + Send + 'static,
    what: &str,
) -> World {
    let proxy = RegistryProxy::start(&stack("GHCR_TEST_REGISTRY_TOKEN")).await;
    let gate = proxy.hold_first(move |head| hold(&head.method, &head.path));
    let mut pusher = Pusher::new(prefix).await;
    pusher.config.registry = proxy.address.clone();
    let source = format!("{prefix}-{}:1", pusher.login);
    layered_image(&source, sizes);
    let target = pusher.target(tag);
    let (sender, updates) = mpsc::unbounded_channel();
    let jobs = Jobs::new(pusher.config.clone(), 2, move |update| {
        let _ = sender.send(update.clone());
    });
    let id = jobs.submit(pusher.plan(&source, &target), pusher.credentials());
    tokio::time::timeout(Duration::from_secs(60), gate.arrived())
        .await
        .unwrap_or_else(|_| panic!("{what} never reached the proxy"));
    World {
        proxy,
        pusher,
        gate,
        jobs,
        updates,
        id,
        target,
    }
}

impl World {
    /// Whether the registry (behind the proxy, asked directly) has the target's tag.
    fn tagged(&self) -> bool {
        let direct = (self.target).replace(&self.proxy.address, &stack("GHCR_TEST_REGISTRY_TOKEN"));
        self.pusher.has(&direct).is_ok()
    }
}

/// Updates until the job ends; the last one.
async fn until_finished(updates: &mut mpsc::UnboundedReceiver<JobUpdate>) -> JobUpdate {
    loop {
        let update = next_update(updates, Duration::from_secs(60)).await;
        if update.state.is_finished() {
            return update;
        }
    }
}

#[tokio::test]
async fn a_cancel_while_the_tag_is_written_is_refused_and_the_job_ends_pushed_and_tagged() {
    let is_tag_write = |method: &str, path: &str| method == "PUT" && path.contains("/manifests/");
    let sizes = [1_000_000, 1_000_000];
    let mut world = push_until_held("cancel-tag", &sizes, "late:1", is_tag_write, "the tag").await;
    let cancelled = world.jobs.cancel(world.id).unwrap();
    world.gate.release();
    let last = until_finished(&mut world.updates).await;
    // Whatever was still on its way has landed once the proxy has answered it.
    world.proxy.quiet().await;

    let tagged = world.tagged();
    // Whatever the job says must be true of the registry.
    match &last.state {
        JobState::Cancelled => assert!(!tagged, "the job says cancelled, but the tag was written"),
        JobState::Done { .. } => assert!(tagged, "the job says pushed, but there is no tag"),
        other => panic!("the push ended {other:?}"),
    }
    assert!(
        !cancelled,
        "the tag was being written: the cancel must be refused"
    );
    assert!(
        matches!(last.state, JobState::Done { .. }),
        "{:?}",
        last.state
    );
}

#[tokio::test]
async fn a_cancel_during_an_upload_stops_everything_before_the_job_says_cancelled() {
    let is_upload = |method: &str, _: &str| method == "PATCH";
    let sizes = [8_000_000, 8_000_000];
    let mut world =
        push_until_held("cancel-upload", &sizes, "early:1", is_upload, "an upload").await;
    let (jobs, id) = (&world.jobs, world.id);
    assert!(
        jobs.cancel(id).unwrap(),
        "a push still uploading can be cancelled"
    );
    assert_eq!(jobs.get(id).unwrap().state, JobState::Cancelling);
    let last = tokio::time::timeout(Duration::from_secs(20), until_finished(&mut world.updates))
        .await
        .expect("the push winds down though its upload is held");
    let said_cancelled = Instant::now();
    assert_eq!(last.state, JobState::Cancelled);

    // Let the held request go: the push behind it is gone, so nothing more may reach the registry.
    world.gate.release();
    world.proxy.quiet().await;
    let after: Vec<String> = world
        .proxy
        .seen()
        .into_iter()
        .filter(|head| head.at > said_cancelled)
        .map(|head| format!("{} {}", head.method, head.path))
        .collect();
    assert!(
        after.is_empty(),
        "requests after the job said cancelled: {after:?}"
    );
    assert!(!world.tagged());
}
