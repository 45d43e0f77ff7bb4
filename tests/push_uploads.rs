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
