//! Shared by the core's integration tests: the test stack's addresses (from target/stack/env, exported by
//! tests/run.sh) and the real docker CLI, used as the independent witness of what the engine holds.
#![allow(dead_code)] // each test binary uses its own part of this module

use std::process::Command;

/// A variable the test stack exports; tests fail (not skip) without the stack.
pub fn stack(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!(
            "{name} is not set: these tests need the test stack. Run `make test`, or \
             `tests/stack/stack.sh start && . target/stack/env` first."
        )
    })
}

/// Runs the docker CLI against the stack's engine and returns its stdout.
pub fn docker(args: &[&str]) -> String {
    let output = Command::new("docker")
        .args(args)
        .env("DOCKER_HOST", stack("DOCKER_HOST"))
        .output()
        .expect("the docker CLI runs");
    assert!(
        output.status.success(),
        "docker {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

/// The stack engine's version and API version as the docker CLI reports them: ("20.10.24+dfsg1", "1.41").
pub fn docker_server_version() -> (String, String) {
    let text = docker(&[
        "version",
        "--format",
        "{{.Server.Version}} {{.Server.APIVersion}}",
    ]);
    let (version, api) = text.split_once(' ').expect("version and API version");
    (version.to_string(), api.to_string())
}

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

/// Asks the emulator's admin API (test-only) for `path` with a JSON body; returns the JSON answer.
pub async fn emulator_admin(path: &str, body: serde_json::Value) -> serde_json::Value {
    let response = reqwest::Client::new()
        .post(format!("{}{path}", stack("GHCR_TEST_EMULATOR")))
        .json(&body)
        .send()
        .await
        .expect("the emulator answers");
    assert!(
        response.status().is_success(),
        "{path}: {}",
        response.status()
    );
    response.json().await.unwrap_or_default()
}

/// A name no other test uses: `PREFIX-` and the clock's nanoseconds in hex.
pub fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!("{prefix}-{nanos:08x}")
}

/// A fresh user of the emulated GitHub (a namespace no other test uses).
pub async fn new_user(prefix: &str) -> String {
    let login = format!("{}-{:x}", unique(prefix), std::process::id());
    emulator_admin("/_emulator/users", serde_json::json!({ "login": login })).await;
    login
}

/// A token of `kind` (classic, oauth, fine_grained, server) with `scopes` for `login`.
pub async fn new_token(login: &str, kind: &str, scopes: &[&str]) -> String {
    let answer = emulator_admin(
        "/_emulator/tokens",
        serde_json::json!({ "login": login, "kind": kind, "scopes": scopes }),
    )
    .await;
    answer["token"].as_str().expect("a token").to_string()
}

/// A new image in the stack's engine with a unique ID, made by `docker import` of a one-file tar
/// (no network needed); named `name`. Returns its image ID.
pub fn import_image(name: &str) -> String {
    let dir = tempfile::tempdir().expect("a temp dir");
    let unique = format!(
        "{name} {:?} {}",
        std::time::SystemTime::now(),
        std::process::id()
    );
    std::fs::write(dir.path().join("hello.txt"), unique).expect("write the file");
    let tar = dir.path().join("layer.tar");
    let status = Command::new("tar")
        .args(["-cf"])
        .arg(&tar)
        .args(["-C"])
        .arg(dir.path())
        .arg("hello.txt")
        .status()
        .expect("tar runs");
    assert!(status.success());
    docker(&["import", tar.to_str().expect("utf-8 path"), name])
}

/// Builds NAME from scratch with three COPY layers of random data (1, 2 and 3 MB), offline.
pub fn three_layer_image(name: &str) {
    layered_image(name, &[1_000_000, 2_000_000, 3_000_000]);
}

/// Builds NAME from scratch with one COPY layer per size in `sizes` (bytes of incompressible data
/// unique to NAME), offline.
pub fn layered_image(name: &str, sizes: &[usize]) {
    let dir = tempfile::tempdir().unwrap();
    let mut seed = name.bytes().fold(0x9e37_79b9_7f4a_7c15u64, |h, b| {
        (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
    }) | 1;
    let mut dockerfile = String::from("FROM scratch\n");
    for (index, size) in sizes.iter().enumerate() {
        let mut data = Vec::with_capacity(size + 8);
        while data.len() < *size {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            data.extend_from_slice(&seed.to_le_bytes());
        }
        data.truncate(*size);
        std::fs::write(dir.path().join(format!("{index}.bin")), data).unwrap();
        dockerfile.push_str(&format!("COPY {index}.bin /{index}.bin\n"));
    }
    dockerfile.push_str(&format!("LABEL test.name={name}\n"));
    std::fs::write(dir.path().join("Dockerfile"), dockerfile).unwrap();
    let status = Command::new("docker")
        .args(["build", "-q", "-t", name])
        .arg(dir.path())
        .env("DOCKER_HOST", stack("DOCKER_HOST"))
        .env("DOCKER_BUILDKIT", "0")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "docker build {name}");
}

/// Runs skopeo against the stack's token registry as `login` with `token`; `Err(stderr)` on failure.
pub fn skopeo(args: &[&str], login: &str, token: &str) -> Result<String, String> {
    let credentials = format!("{login}:{token}");
    let output = Command::new("skopeo")
        .args(args)
        .args(["--tls-verify=false", "--creds", &credentials])
        .output()
        .expect("skopeo runs");
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).to_string())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).to_string())
    }
}

/// Makes OWNER/NAME public in the emulator, once it has learnt of the package from the registry.
pub async fn make_public(owner: &str, name: &str) {
    let url = format!(
        "{}/_emulator/packages/{owner}/{name}/visibility",
        stack("GHCR_TEST_EMULATOR")
    );
    for _ in 0..50 {
        let response = reqwest::Client::new()
            .post(&url)
            .json(&serde_json::json!({"visibility": "public"}))
            .send()
            .await
            .expect("the emulator answers");
        if response.status().is_success() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the emulator never learnt of {owner}/{name}");
}
