//! zstd layers (`--compression zstd`) as people pull them: an image of the engine under test (the
//! engine matrix runs this file on each engine; on Docker's containerd store the stored gzip layers
//! are unpacked and compressed again) and the same image saved to an archive are pushed with zstd
//! layers in OCI manifests, then pulled and run on Docker 26 (containerd store) and on Podman, and
//! copied by skopeo; Docker 20.10 refuses them with "invalid tar header", as the push dialog warns.
//! A layer repeated far apart is sent once (the long window), which gzip can't; a layer the
//! registry has in either encoding is not sent again.

mod common;

use common::{docker, docker_on, make_public, skopeo, stack, store_under_test, unique, Pusher};
use ghcr::engine::ImageStore;
use ghcr::push::{Compression, PushRequest, PushSource, Pushed, Via};
use std::path::Path;
use std::process::Command;

/// A file of text the image holds twice, 8 MB apart (another file between): the long window finds
/// the second copy.
const TEXT: usize = 3_000_000;

/// Builds NAME on the engine under test: a static busybox (to run), /data/a.txt, 8 MB of noise, and
/// /data/b.txt = a.txt again, in two layers. Returns the sha256 of a.txt, as busybox prints it.
fn runnable_image(name: &str) -> String {
    let dir = tempfile::tempdir().expect("a temp dir");
    std::fs::copy("/bin/busybox", dir.path().join("busybox")).expect("busybox-static is installed");
    let text = common::text(name, TEXT);
    std::fs::create_dir(dir.path().join("data")).unwrap();
    std::fs::write(dir.path().join("data/a.txt"), &text).unwrap();
    std::fs::write(
        dir.path().join("data/noise.bin"),
        common::noise(name, 8_000_000),
    )
    .unwrap();
    std::fs::write(dir.path().join("data/b.txt"), &text).unwrap();
    std::fs::write(
        dir.path().join("Dockerfile"),
        "FROM scratch\nCOPY busybox /busybox\nCOPY data /data\n",
    )
    .unwrap();
    {
        let _turn = one_store_change_at_a_time();
        common::docker_build(name, dir.path());
    }
    ghcr::digest::sha256_digest(&text)
        .trim_start_matches("sha256:")
        .to_string()
}

async fn push(
    pusher: &Pusher,
    source: PushSource,
    target: &str,
    compression: Compression,
) -> Pushed {
    push_via(pusher, source, target, compression, Via::Auto).await
}

async fn push_via(
    pusher: &Pusher,
    source: PushSource,
    target: &str,
    compression: Compression,
    via: Via,
) -> Pushed {
    let plan = PushRequest {
        source,
        target: target.to_string(),
        via,
        source_repository: None,
        engine: None,
        compression,
    }
    .checked(&pusher.config)
    .expect("a valid target");
    ghcr::push::push(&pusher.config, &plan, pusher.credentials(), |_| {})
        .await
        .unwrap_or_else(|e| panic!("the push of {target}: {e:?}"))
}

/// The manifest the registry holds for `target`, as skopeo reads it.
fn manifest_of(pusher: &Pusher, target: &str) -> serde_json::Value {
    let raw = pusher
        .has(target)
        .and_then(|_| {
            skopeo(
                &["inspect", "--raw", &format!("docker://{target}")],
                &pusher.login,
                &pusher.token,
            )
        })
        .unwrap_or_else(|e| panic!("{target} is not on the registry: {e}"));
    serde_json::from_str(&raw).expect("a JSON manifest")
}

/// The layers' media types and sizes.
fn layers_of(manifest: &serde_json::Value) -> Vec<(String, u64)> {
    manifest["layers"]
        .as_array()
        .expect("an image manifest")
        .iter()
        .map(|l| {
            (
                l["mediaType"].as_str().unwrap_or_default().to_string(),
                l["size"].as_u64().unwrap_or_default(),
            )
        })
        .collect()
}

/// One build, removal or pull at a time in this file's tests: their images share busybox's layer, and
/// Podman fails a pull whose layer another test is removing meanwhile ("adding layer … layer not
/// known", seen once in a fresh-clone make test), and a build whose COPY makes that layer again ("trying
/// to reuse blob … locating layer for blob … layer not known", make flaky); Docker's containerd store
/// failed a build the same way.
static STORE_CHANGES: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn one_store_change_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    STORE_CHANGES
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Removes the image `name` from the engine under test, with every name it has.
fn forget(name: &str) {
    let _turn = one_store_change_at_a_time();
    let id = docker(&["image", "inspect", "--format", "{{.Id}}", name]);
    docker(&["rmi", "--force", &id]);
}

/// Pulls `target` on the engine at `host` and runs busybox in it: the sha256 of /data/b.txt.
fn pull_and_run(host: &str, target: &str) -> String {
    let _turn = one_store_change_at_a_time();
    docker_on(host, &["pull", "--quiet", target]);
    let printed = docker_on(
        host,
        &[
            "run",
            "--rm",
            "--network",
            "none",
            target,
            "/busybox",
            "sha256sum",
            "/data/b.txt",
        ],
    );
    docker_on(host, &["rmi", "--force", target]);
    printed
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_string()
}

#[tokio::test]
async fn an_engine_image_pushed_with_zstd_layers_runs_on_docker_26_and_sends_a_repeated_file_once()
{
    let pusher = Pusher::new("zstd").await;
    let source = format!("{}:1", unique("zstd-image"));
    let text_sha = runnable_image(&source);

    // zstd first: a gzip blob of a layer, known here, would be mounted instead (a zstd push may use
    // what the registry has in either encoding).
    let zstd_target = pusher.target("runnable-zstd:1");
    let pushed = push(
        &pusher,
        PushSource::Image(source.clone()),
        &zstd_target,
        Compression::Zstd,
    )
    .await;
    assert_eq!(pushed.compression, Compression::Zstd);
    assert!(!pushed.levels.is_empty(), "compressed here: {pushed:?}");
    // Direct (auto would go through Docker 26's or Podman's own push there): gzip as this app or,
    // on the containerd store, as the engine stored it.
    let gzip_target = pusher.target("runnable:gzip");
    push_via(
        &pusher,
        PushSource::Image(source.clone()),
        &gzip_target,
        Compression::Gzip,
        Via::Direct,
    )
    .await;

    let manifest = manifest_of(&pusher, &zstd_target);
    assert_eq!(
        manifest["mediaType"], "application/vnd.oci.image.manifest.v1+json",
        "{manifest}"
    );
    assert_eq!(
        manifest["config"]["mediaType"],
        "application/vnd.oci.image.config.v1+json"
    );
    let zstd_layers = layers_of(&manifest);
    assert!(
        zstd_layers
            .iter()
            .all(|(t, _)| t == "application/vnd.oci.image.layer.v1.tar+zstd"),
        "{zstd_layers:?}"
    );
    // The data layer holds the text twice: zstd sends it about once, gzip (32 KiB window) twice.
    let gzip_layers = layers_of(&manifest_of(&pusher, &gzip_target));
    let (zstd_data, gzip_data) = (zstd_layers[1].1, gzip_layers[1].1);
    assert!(
        zstd_data + (TEXT as u64) / 4 < gzip_data,
        "data layer: zstd {zstd_data} bytes, gzip {gzip_data}"
    );

    // Gone from the engine under test (every name the pushes gave it): an engine that has the layers
    // unpacked already pulls without reading them.
    forget(&source);
    make_public(&pusher.login, "runnable-zstd").await;
    let docker_26 = stack("GHCR_TEST_ENGINE_CONTAINERD");
    assert_eq!(pull_and_run(&docker_26, &zstd_target), text_sha);
}

#[tokio::test]
async fn a_saved_image_pushed_with_zstd_runs_on_podman_copies_with_skopeo_and_docker_20_refuses_it()
{
    let pusher = Pusher::new("zstd-archive").await;
    let source = format!("{}:1", unique("zstd-saved"));
    let text_sha = runnable_image(&source);
    // `docker save` of the engine under test: a docker-archive of tars (classic, Podman) or an OCI
    // layout of the stored gzip blobs (containerd store), compressed again here.
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("saved.tar");
    docker(&["save", "--output", archive.to_str().unwrap(), &source]);
    forget(&source);
    let target = pusher.target("saved-zstd:1");
    push(
        &pusher,
        PushSource::Archive(archive.clone()),
        &target,
        Compression::Zstd,
    )
    .await;
    let layers = layers_of(&manifest_of(&pusher, &target));
    assert!(
        layers
            .iter()
            .all(|(t, _)| t == "application/vnd.oci.image.layer.v1.tar+zstd"),
        "{layers:?}"
    );
    make_public(&pusher.login, "saved-zstd").await;

    let podman = stack("GHCR_TEST_ENGINE_PODMAN");
    assert_eq!(pull_and_run(&podman, &target), text_sha);

    let copied = dir.path().join("copied");
    let copy = Command::new("skopeo")
        .args(["copy", "--src-tls-verify=false"])
        .arg(format!("docker://{target}"))
        .arg(format!("oci:{}:copied", copied.display()))
        .output()
        .expect("skopeo runs");
    assert!(
        copy.status.success(),
        "skopeo copies it: {}",
        String::from_utf8_lossy(&copy.stderr)
    );
    assert!(Path::new(&copied).join("index.json").exists());

    // Docker 20.10 (Debian 12's docker.io, the stack's classic engine) can't unpack a zstd layer. (The
    // source image was removed above: an engine that has the layers unpacked already pulls without
    // reading them.)
    let classic = stack("GHCR_TEST_ENGINE_CLASSIC");
    let refused = Command::new("docker")
        .args(["pull", "--quiet", &target])
        .env("DOCKER_HOST", &classic)
        .output()
        .expect("docker runs");
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(
        !refused.status.success() && said.contains("invalid tar header"),
        "Docker 20.10 pulled a zstd image: {said}"
    );
}

#[tokio::test]
async fn a_layer_the_registry_has_in_either_encoding_is_not_sent_again() {
    // The blob cache speaks for images of the classic store, which it compressed itself.
    if store_under_test() != ImageStore::Classic {
        return;
    }
    let pusher = Pusher::new("zstd-again").await;
    let source = format!("{}:1", unique("zstd-again"));
    runnable_image(&source);
    let target = pusher.target("again:1");
    let gzip = push(
        &pusher,
        PushSource::Image(source.clone()),
        &target,
        Compression::Gzip,
    )
    .await;
    // zstd asked for, every layer on the registry as gzip: nothing compressed, nothing sent, and
    // the same image (anyone can pull gzip).
    let zstd = push(
        &pusher,
        PushSource::Image(source.clone()),
        &target,
        Compression::Zstd,
    )
    .await;
    assert!(zstd.levels.is_empty(), "nothing compressed: {zstd:?}");
    assert_eq!(zstd.digest, gzip.digest);
    // With a cache of its own (nothing known as gzip): zstd layers, then a re-push of them sends
    // nothing.
    let fresh = Pusher::new("zstd-again-fresh").await;
    let other = fresh.target("again-zstd:1");
    let first = push(
        &fresh,
        PushSource::Image(source.clone()),
        &other,
        Compression::Zstd,
    )
    .await;
    assert!(!first.levels.is_empty(), "compressed: {first:?}");
    let again = push(&fresh, PushSource::Image(source), &other, Compression::Zstd).await;
    assert!(again.levels.is_empty(), "nothing compressed: {again:?}");
    assert_eq!(again.digest, first.digest);
}
