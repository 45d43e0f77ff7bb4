//! With the test stack's dockerd stopped: the CLI and the core say clearly that no engine answers,
//! quickly, with exit code 4 and no panic; and archives still push (`ghcr push FILE|FOLDER TARGET`):
//! a docker-archive, an OCI layout folder, and a multi-platform OCI layout as a tar, all made here
//! byte by byte. Ignored in the normal run; tests/run.sh stops the stack's dockerd and then runs these
//! with `--ignored`.

mod common;

use common::noise;
use ghcr::digest::sha256_digest;
use ghcr::engine::Engine;
use ghcr::{Code, Config};
use serde_json::json;
use std::io::Write;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

#[test]
#[ignore = "needs the stack's dockerd stopped (tests/run.sh does that)"]
fn ghcr_engine_reports_the_stopped_engine_with_exit_4_within_5_seconds() {
    let docker_host = common::stack("DOCKER_HOST");
    let started = Instant::now();
    let output = Command::new(env!("CARGO_BIN_EXE_ghcr"))
        .arg("engine")
        .env("DOCKER_HOST", &docker_host)
        .output()
        .expect("ghcr runs");
    let took = started.elapsed();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(4), "{stderr}");
    assert!(
        stderr.starts_with(&format!(
            "error: No container engine answers at {docker_host}"
        )),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(took < Duration::from_secs(5), "took {took:?}");
}

#[tokio::test]
#[ignore = "needs the stack's dockerd stopped (tests/run.sh does that)"]
async fn connecting_to_the_stopped_engine_fails_as_unreachable() {
    let config = Config {
        docker_host: Some(common::stack("DOCKER_HOST")),
        ..Config::github_com()
    };
    let error = Engine::connect(&config).await.unwrap_err();
    assert_eq!(error.code, Code::EngineUnreachable);
}

/// A layer: a tar holding one file of `size` bytes unique to `seed`.
fn layer_tar(seed: &str, size: usize) -> Vec<u8> {
    let data = noise(seed, size);
    let mut builder = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_gnu();
    header.set_size(size as u64);
    header.set_mode(0o644);
    header.set_cksum();
    builder
        .append_data(&mut header, format!("{seed}.bin"), &data[..])
        .unwrap();
    builder.into_inner().unwrap()
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

fn image_config(diff_ids: &[String], arch: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "architecture": arch, "os": "linux", "config": {"Labels": {"made.by": "engine_down.rs"}},
        "rootfs": {"type": "layers", "diff_ids": diff_ids}
    }))
    .unwrap()
}

fn write_tar(path: &Path, files: &[(String, Vec<u8>)]) {
    let mut builder = tar::Builder::new(std::fs::File::create(path).unwrap());
    for (name, data) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder.append_data(&mut header, name, &data[..]).unwrap();
    }
    builder.finish().unwrap();
}

/// `ghcr push SOURCE TARGET --json` as `login`; the final event.
fn ghcr_push(source: &Path, target: &str, token: &str) -> serde_json::Value {
    let emulator = common::stack("GHCR_TEST_EMULATOR");
    let cache = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_ghcr"))
        .args(["push", source.to_str().unwrap(), target, "--json"])
        .env("GHCR_API_URL", &emulator)
        .env("GHCR_WEB_URL", &emulator)
        .env("GHCR_REGISTRY", common::stack("GHCR_TEST_REGISTRY_TOKEN"))
        .env("GHCR_TOKEN", token)
        .env("GHCR_CACHE_DIR", cache.path())
        .env("DOCKER_HOST", common::stack("DOCKER_HOST"))
        .output()
        .expect("ghcr runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_str(stdout.lines().last().unwrap()).unwrap()
}

fn raw_manifest(target: &str, login: &str, token: &str) -> (String, serde_json::Value) {
    let raw = common::skopeo(
        &["inspect", "--raw", &format!("docker://{target}")],
        login,
        token,
    )
    .expect("skopeo inspect --raw");
    (
        sha256_digest(raw.as_bytes()),
        serde_json::from_str(&raw).unwrap(),
    )
}

#[tokio::test]
#[ignore = "needs the stack's dockerd stopped (tests/run.sh does that)"]
async fn a_docker_archive_pushes_with_no_engine_and_keeps_its_image_id() {
    let login = common::new_user("archive-down").await;
    let token = common::new_token(&login, "classic", &["write:packages"]).await;
    let layers = [layer_tar("base", 2_500_000), layer_tar("top", 30_000)];
    let diff_ids: Vec<String> = layers.iter().map(|l| sha256_digest(l)).collect();
    let config = image_config(&diff_ids, "amd64");
    let config_name = format!("{}.json", &sha256_digest(&config)[7..]);
    let manifest = serde_json::to_vec(&json!([{
        "Config": config_name, "RepoTags": ["handmade:1"], "Layers": ["aaa/layer.tar", "bbb/layer.tar"]
    }]))
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("handmade.tar");
    write_tar(
        &archive,
        &[
            ("aaa/layer.tar".into(), layers[0].clone()),
            ("bbb/layer.tar".into(), layers[1].clone()),
            (config_name, config.clone()),
            ("manifest.json".into(), manifest),
        ],
    );
    let target = format!(
        "{}/{login}/handmade:1",
        common::stack("GHCR_TEST_REGISTRY_TOKEN")
    );

    let pushed = ghcr_push(&archive, &target, &token);

    let (digest, manifest) = raw_manifest(&target, &login, &token);
    assert_eq!(pushed["event"], "pushed");
    assert_eq!(pushed["digest"], digest.as_str());
    assert_eq!(
        manifest["config"]["digest"],
        sha256_digest(&config).as_str()
    );
    assert_eq!(manifest["layers"].as_array().unwrap().len(), 2);
}

#[tokio::test]
#[ignore = "needs the stack's dockerd stopped (tests/run.sh does that)"]
async fn oci_layouts_push_as_they_are_one_image_from_a_folder_and_a_multi_platform_index_from_a_tar(
) {
    let login = common::new_user("oci-down").await;
    let token = common::new_token(&login, "classic", &["write:packages"]).await;
    let registry = common::stack("GHCR_TEST_REGISTRY_TOKEN");
    let mut blobs: Vec<(String, Vec<u8>)> = Vec::new();
    let mut blob = |data: Vec<u8>| {
        let digest = sha256_digest(&data);
        let size = data.len();
        blobs.push((format!("blobs/sha256/{}", &digest[7..]), data));
        json!({"digest": digest, "size": size})
    };
    let mut manifests = Vec::new();
    for arch in ["amd64", "arm64"] {
        let tar = layer_tar(&format!("oci-{arch}"), 1_500_000);
        let diff_id = sha256_digest(&tar);
        let mut layer = blob(gzip(&tar));
        layer["mediaType"] = "application/vnd.oci.image.layer.v1.tar+gzip".into();
        let mut config = blob(image_config(&[diff_id], arch));
        config["mediaType"] = "application/vnd.oci.image.config.v1+json".into();
        let manifest = serde_json::to_vec(&json!({
            "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": config, "layers": [layer]
        }))
        .unwrap();
        let mut descriptor = blob(manifest);
        descriptor["mediaType"] = "application/vnd.oci.image.manifest.v1+json".into();
        descriptor["platform"] = json!({"architecture": arch, "os": "linux"});
        manifests.push(descriptor);
    }
    let mut index = blob(
        serde_json::to_vec(&json!({
            "schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": manifests
        }))
        .unwrap(),
    );
    index["mediaType"] = "application/vnd.oci.image.index.v1+json".into();
    let layout = |top: &serde_json::Value| -> Vec<(String, Vec<u8>)> {
        let mut files = blobs.clone();
        files.push((
            "oci-layout".into(),
            br#"{"imageLayoutVersion":"1.0.0"}"#.to_vec(),
        ));
        files.push((
            "index.json".into(),
            serde_json::to_vec(&json!({"schemaVersion": 2, "manifests": [top]})).unwrap(),
        ));
        files
    };
    let dir = tempfile::tempdir().unwrap();

    // One image, from a folder: the manifest goes up byte for byte.
    let folder = dir.path().join("single");
    for (name, data) in layout(&manifests[0]) {
        let path = folder.join(&name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, data).unwrap();
    }
    let target = format!("{registry}/{login}/oci-single:1");
    let pushed = ghcr_push(&folder, &target, &token);
    let (digest, _) = raw_manifest(&target, &login, &token);
    assert_eq!(digest, manifests[0]["digest"].as_str().unwrap());
    assert_eq!(pushed["digest"], digest.as_str());

    // Both platforms, from a tar: the index goes up as an index.
    let archive = dir.path().join("multi.tar");
    write_tar(&archive, &layout(&index));
    let target = format!("{registry}/{login}/oci-multi:1");
    ghcr_push(&archive, &target, &token);
    let (digest, pushed_index) = raw_manifest(&target, &login, &token);
    assert_eq!(digest, index["digest"].as_str().unwrap());
    assert_eq!(pushed_index["manifests"].as_array().unwrap().len(), 2);
}
