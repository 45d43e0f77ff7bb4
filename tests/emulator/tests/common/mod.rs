//! Shared by the emulator's integration tests: the stack's addresses, fresh users and tokens made through
//! the admin calls (so tests never share a namespace), the real docker CLI and skopeo as clients, and a
//! tiny image pushed straight through the registry API.
#![allow(dead_code)] // each test binary uses its own part of this module

use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::path::Path;
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

pub fn stack(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run `make test`, or `tests/stack/stack.sh start && . target/stack/env`")
    })
}

pub fn emulator() -> String {
    stack("GHCR_TEST_EMULATOR")
}

pub fn registry() -> String {
    stack("GHCR_TEST_REGISTRY_TOKEN")
}

/// The JSON `request` is answered with.
pub async fn json_answer(request: reqwest::RequestBuilder) -> Value {
    request.send().await.unwrap().json().await.unwrap()
}

pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

/// A login no other test uses.
pub fn unique(prefix: &str) -> String {
    format!("{prefix}-{:08x}", rand_u32())
}

fn rand_u32() -> u32 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let mut hasher = Sha256::new();
    hasher.update(nanos.to_le_bytes());
    hasher.update(std::process::id().to_le_bytes());
    hasher.update(format!("{:?}", std::thread::current().id()));
    let digest = hasher.finalize();
    u32::from_le_bytes([digest[0], digest[1], digest[2], digest[3]])
}

/// Creates a user (and orgs it belongs to) in the emulator; returns its login.
pub async fn new_user(prefix: &str, orgs: &[&str]) -> String {
    let login = unique(prefix);
    let response = http()
        .post(format!("{}/_emulator/users", emulator()))
        .json(&json!({ "login": login, "orgs": orgs }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
    login
}

/// Mints a token of `kind` (classic, oauth, fine_grained, server) for `login`.
pub async fn new_token(login: &str, kind: &str, scopes: &[&str]) -> String {
    let response = http()
        .post(format!("{}/_emulator/tokens", emulator()))
        .json(&json!({ "login": login, "kind": kind, "scopes": scopes }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    response.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_string()
}

pub async fn api_get(token: &str, path: &str) -> reqwest::Response {
    http()
        .get(format!("{}{path}", emulator()))
        .header("authorization", format!("token {token}"))
        .send()
        .await
        .unwrap()
}

/// Waits (≤ 15 s) until the API lists `name` among the caller's packages, as push notifications arrive
/// asynchronously; returns the package JSON.
pub async fn wait_for_package(token: &str, list_path: &str, name: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let response = api_get(token, list_path).await;
        if response.status() == 200 {
            let list: Value = response.json().await.unwrap();
            if let Some(found) = list.as_array().unwrap().iter().find(|p| p["name"] == name) {
                return found.clone();
            }
        }
        assert!(
            Instant::now() < deadline,
            "{name} never appeared in {list_path}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Waits (≤ 15 s) until `path` (one package) answers 200; returns its JSON.
pub async fn wait_for(token: &str, path: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let response = api_get(token, path).await;
        if response.status() == 200 {
            return response.json().await.unwrap();
        }
        assert!(Instant::now() < deadline, "{path} never appeared");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

pub fn output_text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// The docker CLI against the stack's engine with its own config dir (so logins don't mix).
pub fn docker(config: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    ghcr_test_support::output_with_input(
        Command::new("docker")
            .args(args)
            .env("DOCKER_HOST", stack("DOCKER_HOST"))
            .env("DOCKER_CONFIG", config),
        stdin,
    )
}

pub fn docker_login(config: &Path, user: &str, token: &str) -> Output {
    docker(
        config,
        &["login", "--username", user, "--password-stdin", &registry()],
        Some(token),
    )
}

/// A small local image in the stack's engine, made once per test binary with `docker import`.
pub fn base_image() -> &'static str {
    static IMAGE: OnceLock<String> = OnceLock::new();
    IMAGE.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("hello.txt"),
            "hello from the emulator tests\n",
        )
        .unwrap();
        let config = tempfile::tempdir().unwrap();
        let tar = Command::new("tar")
            .args(["-C", dir.path().to_str().unwrap(), "-cf", "-", "."])
            .output()
            .unwrap();
        let image = "ghcr-emulator-tests/base:1";
        let mut child = Command::new("docker")
            .args(["import", "-", image])
            .env("DOCKER_HOST", stack("DOCKER_HOST"))
            .env("DOCKER_CONFIG", config.path())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        use std::io::Write;
        child.stdin.take().unwrap().write_all(&tar.stdout).unwrap();
        assert!(child.wait().unwrap().success(), "docker import");
        image.to_string()
    })
}

/// Tags the base image (optionally with a LABEL) as `registry/path:tag` and pushes it with docker.
pub fn docker_push(config: &Path, path: &str, tag: &str) -> Output {
    let target = format!("{}/{path}:{tag}", registry());
    let tagged = docker(config, &["tag", base_image(), &target], None);
    assert!(tagged.status.success(), "{}", output_text(&tagged));
    docker(config, &["push", &target], None)
}

/// `skopeo inspect` of `path:tag` in the token registry, anonymously or with a token.
pub fn skopeo_inspect(path: &str, tag: &str, token: Option<&str>) -> Output {
    let mut command = Command::new("skopeo");
    command.args(["inspect", "--tls-verify=false", "--retry-times=0"]);
    match token {
        Some(token) => command.arg(format!("--creds=user:{token}")),
        None => command.arg("--no-creds"),
    };
    command
        .arg(format!("docker://{}/{path}:{tag}", registry()))
        .env("HOME", std::env::temp_dir())
        .output()
        .expect("skopeo runs")
}

fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{:x}", Sha256::digest(bytes))
}

/// Pushes a one-layer image straight through the registry API (token from the emulator's `/token`),
/// for tests that need many packages quickly. Returns the manifest digest.
pub async fn push_tiny_image(token: &str, path: &str, tag: &str, source: Option<&str>) -> String {
    let client = http();
    let base = format!("http://{}", registry());
    let grant = json_answer(
        client
            .get(format!("{}/token", emulator()))
            .query(&[
                ("service", "ghcr-test"),
                ("scope", &format!("repository:{path}:pull,push")),
            ])
            .basic_auth("user", Some(token)),
    )
    .await;
    let bearer = grant["token"]
        .as_str()
        .expect("a registry token")
        .to_string();

    let layer = vec![0u8; 1024]; // an empty tar archive
    let labels = match source {
        Some(url) => json!({ "org.opencontainers.image.source": url }),
        None => json!({}),
    };
    let config = serde_json::to_vec(&json!({
        "architecture": "amd64", "os": "linux",
        "config": { "Labels": labels },
        "rootfs": { "type": "layers", "diff_ids": [sha256(&layer)] },
    }))
    .unwrap();
    for blob in [&layer, &config] {
        // Open an upload session, then finish it with one PUT of the whole blob.
        let session = client
            .post(format!("{base}/v2/{path}/blobs/uploads/"))
            .bearer_auth(&bearer)
            .send()
            .await
            .unwrap();
        assert_eq!(session.status(), 202, "upload session for {path}");
        let location = session.headers()["location"].to_str().unwrap().to_string();
        let location = if location.starts_with('/') {
            format!("{base}{location}")
        } else {
            location
        };
        let separator = if location.contains('?') { '&' } else { '?' };
        let url = format!("{location}{separator}digest={}", sha256(blob));
        put_created(&client, &url, &bearer, "application/octet-stream", blob).await;
    }
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": { "mediaType": "application/vnd.oci.image.config.v1+json", "digest": sha256(&config), "size": config.len() },
        "layers": [{ "mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": sha256(&layer), "size": layer.len() }],
    }))
    .unwrap();
    // An empty tag pushes by digest: a version with no tag.
    let reference = if tag.is_empty() {
        sha256(&manifest)
    } else {
        tag.to_string()
    };
    let url = format!("{base}/v2/{path}/manifests/{reference}");
    let oci_manifest = "application/vnd.oci.image.manifest.v1+json";
    put_created(&client, &url, &bearer, oci_manifest, &manifest).await;
    sha256(&manifest)
}

/// PUTs `body` to the registry's `url`, which must answer 201 Created.
async fn put_created(
    client: &reqwest::Client,
    url: &str,
    bearer: &str,
    media_type: &str,
    body: &[u8],
) {
    let response = client
        .put(url)
        .bearer_auth(bearer)
        .header("content-type", media_type)
        .body(body.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201, "PUT {url}");
}
