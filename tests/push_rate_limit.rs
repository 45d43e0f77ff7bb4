//! ghcr.io's secondary rate limit, played by a proxy in front of the real registry: at the second
//! upload it answers 403 `DENIED` "You have exceeded a secondary rate limit" (with a short
//! Retry-After). The push job must say it is rate-limited — never that the token is wrong — wait as
//! asked, try again by itself, and finish with the tag on the registry.

mod common;

use common::registry_proxy::{Decision, RegistryProxy};
use common::{layered_image, next_update, stack, Pusher};
use ghcr::push::jobs::{JobState, Jobs};
use ghcr::Code;
use std::time::Duration;
use tokio::sync::mpsc;

const SECONDARY_LIMIT: &str = r#"{"errors":[{"code":"DENIED","message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again."}]}"#;

#[tokio::test]
async fn after_the_secondary_rate_limit_the_job_waits_tries_again_and_completes() {
    let proxy = RegistryProxy::start(&stack("GHCR_TEST_REGISTRY_TOKEN")).await;
    // The second upload session the push opens is refused. (A refusal while a layer's body is still
    // streaming can reach the client as a broken connection instead of the 403: a POST has no body.)
    let mut uploads = 0;
    proxy.rule(move |head| {
        if head.method == "POST" && head.path.contains("/blobs/uploads/") {
            uploads += 1;
            if uploads == 2 {
                return Decision::Answer {
                    status: 403,
                    headers: vec![
                        ("content-type".into(), "application/json".into()),
                        ("retry-after".into(), "1".into()),
                    ],
                    body: SECONDARY_LIMIT.into(),
                };
            }
        }
        Decision::Forward
    });
    let mut pusher = Pusher::new("rate-limit").await;
    pusher.config.registry = proxy.address.clone();
    let source = format!("rate-limit-{}:1", pusher.login);
    layered_image(&source, &[2_000_000, 2_000_000]);
    let target = pusher.target("limited:1");

    let (sender, mut updates) = mpsc::unbounded_channel();
    let jobs = Jobs::new(pusher.config.clone(), 2, move |update| {
        let _ = sender.send(update.clone());
    });
    jobs.submit(pusher.plan(&source, &target), pusher.credentials());
    let mut waited = None;
    let last = loop {
        let update = next_update(&mut updates, Duration::from_secs(60)).await;
        if let JobState::Retrying { error, in_ms, .. } = &update.state {
            waited = Some((error.clone(), *in_ms));
        }
        if update.state.is_finished() {
            break update;
        }
    };
    let (error, in_ms) = waited.expect("the job said it was rate-limited and would try again");
    assert_eq!(error.code, Code::RegistryRateLimited, "{error:?}");
    assert!(
        !format!("{} {}", error.message, error.hint)
            .to_lowercase()
            .contains("token"),
        "a rate limit is never reported as a token problem: {error:?}"
    );
    assert_eq!(in_ms, 1000, "it waits as long as the registry said");
    assert!(
        matches!(last.state, JobState::Done { .. }),
        "{:?}",
        last.state
    );
    let direct = target.replace(&proxy.address, &stack("GHCR_TEST_REGISTRY_TOKEN"));
    assert!(pusher.has(&direct).is_ok(), "the tag is on the registry");
}

/// The token check's push probe (an upload session it cancels) meeting the secondary rate limit says
/// the push rights weren't checked — not that the registry refuses the token.
#[tokio::test]
async fn a_token_check_under_the_rate_limit_says_not_checked_never_denied() {
    let proxy = RegistryProxy::start(&stack("GHCR_TEST_REGISTRY_TOKEN")).await;
    proxy.rule(|head| {
        if head.method == "POST" && head.path.contains("/blobs/uploads/") {
            return Decision::Answer {
                status: 403,
                headers: vec![("content-type".into(), "application/json".into())],
                body: SECONDARY_LIMIT.into(),
            };
        }
        Decision::Forward
    });
    let pusher = Pusher::new("probe-limit").await;
    let mut config = pusher.config.clone();
    config.registry = proxy.address.clone();
    let secret = pusher.credentials().token;
    let report = ghcr::token::check(&config, &secret).await.unwrap();
    match &report.push {
        ghcr::registry::PushCheck::NotChecked { reason } => {
            assert!(reason.contains("rate limit"), "{reason}")
        }
        other => panic!("a rate limit is not a refusal: {other:?}"),
    }
    assert!(report.problem().is_none(), "{:?}", report.problem());
}

/// A 429 with `Retry-After` (the distribution spec's `TOOMANYREQUESTS`, which ghcr.io also sends): the
/// same wait as asked and the push completes.
#[tokio::test]
async fn a_429_with_retry_after_is_waited_on_as_asked_and_the_push_completes() {
    let proxy = RegistryProxy::start(&stack("GHCR_TEST_REGISTRY_TOKEN")).await;
    let mut refused = false;
    proxy.rule(move |head| {
        if !refused && head.method == "POST" && head.path.contains("/too-many/blobs/uploads/") {
            refused = true;
            return Decision::Answer {
                status: 429,
                headers: vec![
                    ("content-type".into(), "application/json".into()),
                    ("retry-after".into(), "2".into()),
                ],
                body: r#"{"errors":[{"code":"TOOMANYREQUESTS","message":"too many requests"}]}"#
                    .into(),
            };
        }
        Decision::Forward
    });
    let mut pusher = Pusher::new("too-many").await;
    pusher.config.registry = proxy.address.clone();
    let source = format!("too-many-{}:1", pusher.login);
    layered_image(&source, &[1_000_000]);
    let target = pusher.target("too-many:1");
    let (sender, mut updates) = mpsc::unbounded_channel();
    let jobs = Jobs::new(pusher.config.clone(), 2, move |update| {
        let _ = sender.send(update.clone());
    });
    jobs.submit(pusher.plan(&source, &target), pusher.credentials());
    let mut waited = None;
    let last = loop {
        let update = next_update(&mut updates, Duration::from_secs(60)).await;
        if let JobState::Retrying { error, in_ms, .. } = &update.state {
            waited = Some((error.code, *in_ms));
        }
        if update.state.is_finished() {
            break update;
        }
    };
    assert_eq!(waited, Some((Code::RegistryRateLimited, 2000)));
    assert!(
        matches!(last.state, JobState::Done { .. }),
        "{:?}",
        last.state
    );
}
