//! How a direct push sends layers, counted by a proxy in front of the real registry: as `docker push`
//! does — each layer in one `PATCH` with no `Content-Range` (three requests a layer with the `POST` and
//! the `PUT ?digest=`), since ghcr.io's secondary rate limit counts requests — and, where a registry
//! refuses that (416, as ghcr.io answers chunks over 4 MiB), in chunks of at most 4 MiB.

mod common;

use common::registry_proxy::{Decision, Head, RegistryProxy};
use common::{layered_image, stack, Pusher};
use ghcr::push::push;

const MIB: u64 = 1 << 20;

fn is_blob_upload(head: &Head) -> bool {
    head.path.contains("/blobs/uploads/")
}

async fn push_through(proxy: &RegistryProxy, prefix: &str, sizes: &[usize]) -> (Pusher, String) {
    let mut pusher = Pusher::new(prefix).await;
    pusher.config.registry = proxy.address.clone();
    let source = format!("{prefix}-{}:1", pusher.login);
    layered_image(&source, sizes);
    let target = pusher.target("layers:1");
    push(
        &pusher.config,
        &pusher.plan(&source, &target),
        pusher.credentials(),
        |_| {},
    )
    .await
    .expect("the push completes");
    let direct = target.replace(&proxy.address, &stack("GHCR_TEST_REGISTRY_TOKEN"));
    (pusher, direct)
}

#[tokio::test]
async fn each_layer_goes_up_in_one_patch_without_a_range_three_requests_a_layer() {
    let proxy = RegistryProxy::start(&stack("GHCR_TEST_REGISTRY_TOKEN")).await;
    let (pusher, target) = push_through(
        &proxy,
        "whole-layers",
        &[100_000_000, 100_000_000, 100_000_000],
    )
    .await;
    assert!(pusher.has(&target).is_ok());

    let uploads: Vec<Head> = proxy.seen().into_iter().filter(is_blob_upload).collect();
    let count = |method: &str| uploads.iter().filter(|h| h.method == method).count();
    // Three layers and the config: four uploads, each one POST and one PUT; a PATCH for each layer
    // (the small config goes up in its PUT).
    assert_eq!(count("POST"), 4, "{uploads:#?}");
    assert_eq!(count("PUT"), 4, "{uploads:#?}");
    assert_eq!(count("PATCH"), 3, "{uploads:#?}");
    assert!(
        uploads.iter().all(|h| h.content_range.is_none()),
        "no chunk ranges: {uploads:#?}"
    );
    assert!(uploads.len() <= 3 * 3 + 2, "at most three requests a layer");
}

#[tokio::test]
async fn a_registry_that_refuses_whole_layers_gets_them_in_chunks_of_at_most_4_mib() {
    let proxy = RegistryProxy::start(&stack("GHCR_TEST_REGISTRY_TOKEN")).await;
    proxy.rule(|head| {
        let chunk_too_big = head.content_range.is_some()
            && head.content_length.is_some_and(|length| length > 4 * MIB);
        let whole = head.content_range.is_none();
        if head.method == "PATCH" && (whole || chunk_too_big) {
            return Decision::Answer {
                status: 416,
                headers: vec![("content-type".into(), "application/json".into())],
                body: r#"{"errors":[{"code":"BLOB_UPLOAD_INVALID","message":"exceeds the maximum permissible limit of 4.00MiB"}]}"#.into(),
            };
        }
        Decision::Forward
    });
    let (pusher, target) = push_through(&proxy, "chunked-layers", &[9_000_000, 5_000_000]).await;
    assert!(pusher.has(&target).is_ok(), "pushed in chunks");

    let patches: Vec<Head> = proxy
        .seen()
        .into_iter()
        .filter(|h| h.method == "PATCH")
        .collect();
    let chunks: Vec<&Head> = patches
        .iter()
        .filter(|h| h.content_range.is_some())
        .collect();
    assert!(
        chunks.len() >= 5,
        "the layers went up in chunks: {patches:#?}"
    );
    assert!(
        chunks
            .iter()
            .all(|h| h.content_length.is_some_and(|length| length <= 4 * MIB)),
        "{chunks:#?}"
    );
}

/// ghcr.io's other answers, played by the proxy: a blob `HEAD` sent (307) to another host — where the
/// size is asked without credentials — and `DELETE` of an upload session refused (405: the session
/// just expires). A re-push finds every layer through the redirect and sends none again; the
/// token check, which cancels its probe upload with a `DELETE`, still says pushing is allowed.
#[tokio::test]
async fn blobs_served_from_another_host_and_undeletable_upload_sessions_change_nothing() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    let registry = stack("GHCR_TEST_REGISTRY_TOKEN");
    let cdn = RegistryProxy::start(&registry).await;
    let proxy = RegistryProxy::start(&registry).await;
    // Another host name for the same loopback address, as ghcr.io's CDN is another host.
    let cdn_host = cdn.address.replace("127.0.0.1", "localhost");
    // Only blobs the registry has are redirected: from the re-push on.
    let redirecting = Arc::new(AtomicBool::new(false));
    let redirect = redirecting.clone();
    proxy.rule(move |head| {
        if head.method == "DELETE" && is_blob_upload(head) {
            return Decision::Answer {
                status: 405,
                headers: vec![("content-type".into(), "application/json".into())],
                body: r#"{"errors":[{"code":"UNSUPPORTED","message":"The operation is unsupported."}]}"#.into(),
            };
        }
        let blob = head.path.contains("/blobs/sha256:");
        if blob && head.method == "HEAD" && redirect.load(Ordering::SeqCst) {
            return Decision::Answer {
                status: 307,
                headers: vec![("location".into(), format!("http://{cdn_host}{}", head.path))],
                body: String::new(),
            };
        }
        Decision::Forward
    });
    let mut pusher = Pusher::new("cdn-blobs").await;
    pusher.config.registry = proxy.address.clone();
    let source = format!("cdn-blobs-{}:1", pusher.login);
    layered_image(&source, &[3_000_000, 3_000_000]);
    let target = pusher.target("cdn:1");
    let plan = pusher.plan(&source, &target);
    push(&pusher.config, &plan, pusher.credentials(), |_| {})
        .await
        .expect("the first push");

    let report = ghcr::token::check(&pusher.config, &pusher.credentials().token)
        .await
        .expect("the token check");
    assert!(
        matches!(report.push, ghcr::registry::PushCheck::Allowed { .. }),
        "{:?}",
        report.push
    );
    let refused_deletes = proxy.seen().iter().filter(|h| h.method == "DELETE").count();
    assert!(refused_deletes >= 1, "the probe's DELETE met the 405");

    // The re-push asks about each layer it knows (its blob cache) with a HEAD: now sent elsewhere.
    redirecting.store(true, Ordering::SeqCst);
    let before = proxy.seen().len();
    push(&pusher.config, &plan, pusher.credentials(), |_| {})
        .await
        .expect("the re-push");
    let again: Vec<Head> = proxy.seen().into_iter().skip(before).collect();
    assert!(
        again.iter().all(|h| h.method != "PATCH"),
        "no layer is sent again: {again:#?}"
    );
    let asked_elsewhere = cdn.seen();
    assert!(
        asked_elsewhere.iter().any(|h| h.method == "HEAD"),
        "the size was asked on the other host: {asked_elsewhere:#?}"
    );
    assert!(
        asked_elsewhere.iter().all(|h| !h.authorized),
        "no credentials followed the redirect: {asked_elsewhere:#?}"
    );
}

/// ghcr.io issues a registry token for a namespace the account can't write to and refuses at the
/// upload: `POST …/blobs/uploads/` → 403 `denied: permission_denied: write_package` (the proxy plays
/// it; the emulator's token service refuses earlier). The push fails with the namespace hint, before
/// any layer's bytes, and never says the token lacks a scope.
#[tokio::test]
async fn a_namespace_refusal_at_the_upload_says_whose_packages_it_may_not_write() {
    let proxy = RegistryProxy::start(&stack("GHCR_TEST_REGISTRY_TOKEN")).await;
    proxy.rule(|head| {
        if head.method == "POST" && is_blob_upload(head) {
            return Decision::Answer {
                status: 403,
                headers: vec![("content-type".into(), "application/json".into())],
                body:
                    r#"{"errors":[{"code":"DENIED","message":"permission_denied: write_package"}]}"#
                        .into(),
            };
        }
        Decision::Forward
    });
    let mut pusher = Pusher::new("namespace-refusal").await;
    pusher.config.registry = proxy.address.clone();
    let source = format!("namespace-refusal-{}:1", pusher.login);
    layered_image(&source, &[1_000_000]);
    let target = pusher.target("refused:1");
    let error = push(
        &pusher.config,
        &pusher.plan(&source, &target),
        pusher.credentials(),
        |_| {},
    )
    .await
    .expect_err("refused");
    assert_eq!(error.code, ghcr::Code::RegistryDenied, "{error:?}");
    assert!(error.message.contains("write_package"), "{error:?}");
    assert!(
        error.hint.contains("may not write to that owner"),
        "{error:?}"
    );
    let seen = proxy.seen();
    assert!(
        seen.iter().all(|h| h.method != "PATCH"),
        "no layer bytes: {seen:#?}"
    );
}
