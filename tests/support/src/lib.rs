//! Shared by the core's integration tests (`tests/*.rs`) and the WebDriver tests: the test stack's
//! addresses (from target/stack/env, exported by tests/run.sh), the real docker CLI and skopeo as the
//! independent witnesses of what the engine and the registry hold, images made offline, the GHCR
//! emulator's admin calls, and file searches for the token-leak checks. Nothing here knows the core.

pub mod link_shaper;
pub mod registry_proxy;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// A variable the test stack exports; tests fail (not skip) without the stack.
pub fn stack(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!(
            "{name} is not set: these tests need the test stack. Run `make test`, or \
             `tests/stack/stack.sh start && . target/stack/env` first."
        )
    })
}

/// Runs `tests/stack/stack.sh COMMAND` (stop or start a part of the stack) and waits for it.
pub fn stack_command(command: &str) {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../stack/stack.sh");
    let status = Command::new(script)
        .arg(command)
        .status()
        .expect("stack.sh runs");
    assert!(status.success(), "stack.sh {command}");
}

/// A name no other test uses: `PREFIX-` and the clock's nanoseconds in hex.
pub fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("a clock after 1970")
        .subsec_nanos();
    format!("{prefix}-{nanos:08x}")
}

/// A GitHub web host of the test's own (https, as github.com is, at a name nothing answers: only the
/// name matters to the keyring), so tests never share keyring entries — not side by side, and not
/// with the entries earlier tests left in the stack's keyring. (A free loopback port was used: ports
/// come round again, and make flaky once found another test's account in use under its port.)
pub fn own_web_url() -> String {
    format!("https://{}.test", unique("github-web"))
}

/// `docker images ARGS` against the stack's engine, asked again (for up to 30 s, pausing a little
/// longer each time) while Docker's containerd store or Podman fail the listing because another test
/// deleted an image they were reading ("… content digest …: not found", "… not known"; the app does
/// the same, engine/images.rs).
pub fn docker_images(args: &[&str]) -> String {
    let args: Vec<&str> = std::iter::once("images")
        .chain(args.iter().copied())
        .collect();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let mut pause = std::time::Duration::from_millis(100);
    loop {
        let output = docker_output(&stack("DOCKER_HOST"), &args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        if output.status.success() {
            return String::from_utf8_lossy(&output.stdout).trim().to_string();
        }
        assert!(
            std::time::Instant::now() < deadline
                && (stderr.contains("content digest") || stderr.contains("not known")),
            "docker {args:?} failed: {stderr}"
        );
        std::thread::sleep(pause);
        pause = (pause * 2).min(std::time::Duration::from_secs(2));
    }
}

/// What the docker CLI did with `args` against the engine at `host`, succeeded or not.
fn docker_output(host: &str, args: &[&str]) -> std::process::Output {
    Command::new("docker")
        .args(args)
        .env("DOCKER_HOST", host)
        .output()
        .expect("the docker CLI runs")
}

/// The `ghcr` program at `program` as the holder of `token` runs it in the test world: the stack's
/// engine, the emulator as GitHub's API and web, the token registry, a blob cache of its own in
/// `cache` (which the caller keeps).
pub fn ghcr_command(program: &Path, token: &str, cache: &Path) -> Command {
    let emulator = stack("GHCR_TEST_EMULATOR");
    let mut command = Command::new(program);
    command
        .env("DOCKER_HOST", stack("DOCKER_HOST"))
        .env("GHCR_API_URL", &emulator)
        .env("GHCR_WEB_URL", &emulator)
        .env("GHCR_REGISTRY", stack("GHCR_TEST_REGISTRY_TOKEN"))
        .env("GHCR_TOKEN", token)
        .env("GHCR_CACHE_DIR", cache);
    command
}

/// Runs the docker CLI against the stack's engine and returns its stdout.
pub fn docker(args: &[&str]) -> String {
    docker_on(&stack("DOCKER_HOST"), args)
}

/// `docker`, against the engine at `host` (another engine of the stack, e.g. GHCR_TEST_ENGINE_CLASSIC).
pub fn docker_on(host: &str, args: &[&str]) -> String {
    let output = docker_output(host, args);
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

/// A new image in the stack's engine with a unique ID, made by `docker import` of a one-file tar
/// (no network needed); named `name`. Returns its image ID.
pub fn import_image(name: &str) -> String {
    let dir = tempfile::tempdir().expect("a temp dir");
    let unique = format!(
        "{name} {:?} {}",
        std::time::SystemTime::now(),
        std::process::id()
    );
    let tar = one_file_layer(dir.path(), "hello.txt", unique.as_bytes());
    docker(&["import", tar.to_str().expect("utf-8 path"), name]);
    // What `docker import` prints differs by engine (Podman: "ID: ID"); the ID is what inspect says.
    docker(&["image", "inspect", "--format", "{{.Id}}", name])
}

/// A plain tar layer in `dir` holding one file, `name`, of `contents`: `dir/layer.tar`.
pub fn one_file_layer(dir: &Path, name: &str, contents: &[u8]) -> PathBuf {
    std::fs::write(dir.join(name), contents).expect("write the file");
    let tar = dir.join("layer.tar");
    let status = Command::new("tar")
        .arg("-cf")
        .arg(&tar)
        .arg("-C")
        .arg(dir)
        .arg(name)
        .status()
        .expect("tar runs");
    assert!(status.success(), "tar of {name}");
    tar
}

/// Runs `command` with `input` (if any) on its standard input, and collects what it printed.
pub fn output_with_input(command: &mut Command, input: Option<&str>) -> std::process::Output {
    use std::io::Write;
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{command:?} does not start: {e}"));
    let mut stdin = child.stdin.take().expect("a piped stdin");
    if let Some(input) = input {
        stdin
            .write_all(input.as_bytes())
            .expect("the input is written");
    }
    drop(stdin);
    child.wait_with_output().expect("the command's output")
}

/// `size` bytes that no compressor shrinks, the same for the same `seed` and unique to it.
pub fn noise(seed: &str, size: usize) -> Vec<u8> {
    let mut state = seed.bytes().fold(0x9e37_79b9_7f4a_7c15u64, |h, b| {
        (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
    }) | 1;
    let mut data = Vec::with_capacity(size + 8);
    while data.len() < size {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        data.extend_from_slice(&state.to_le_bytes());
    }
    data.truncate(size);
    data
}

/// Builds NAME from scratch with one COPY layer per size in `sizes` (bytes of incompressible data
/// unique to NAME), offline: an image big enough for a push to be watched.
pub fn layered_image(name: &str, sizes: &[usize]) {
    image_of_layers(name, sizes, noise);
}

/// Log-like lines of text from `seed`, each with a random 16-byte id in hex: compresses about 2× at
/// gzip's fastest level, a few per cent better at higher ones.
pub fn text(seed: &str, size: usize) -> Vec<u8> {
    const WORDS: [&str; 12] = [
        "push", "layer", "registry", "upload", "chunk", "digest", "manifest", "token", "retry",
        "engine", "blob", "tag",
    ];
    let noise = noise(seed, size / 2 + 64);
    let mut data = Vec::with_capacity(size + 80);
    let mut line = 0usize;
    while data.len() < size {
        let at = (line * 20) % (noise.len() - 20);
        let r = &noise[at..at + 20];
        let words: Vec<&str> = r[..4]
            .iter()
            .map(|b| WORDS[*b as usize % WORDS.len()])
            .collect();
        let id: String = r[4..].iter().map(|b| format!("{b:02x}")).collect();
        data.extend_from_slice(format!("{line:08} {} id={id}\n", words.join(" ")).as_bytes());
        line += 1;
    }
    data.truncate(size);
    data
}

/// Builds NAME from scratch with one COPY layer per size in `sizes` of log-like text (compressible).
pub fn text_image(name: &str, sizes: &[usize]) {
    image_of_layers(name, sizes, text);
}

fn image_of_layers(name: &str, sizes: &[usize], content: fn(&str, usize) -> Vec<u8>) {
    let dir = tempfile::tempdir().expect("a temp dir");
    let mut dockerfile = String::from("FROM scratch\n");
    for (index, size) in sizes.iter().enumerate() {
        let data = content(&format!("{name}/{index}"), *size);
        std::fs::write(dir.path().join(format!("{index}.bin")), data).expect("layer data");
        dockerfile.push_str(&format!("COPY {index}.bin /{index}.bin\n"));
    }
    dockerfile.push_str(&format!("LABEL test.name={name}\n"));
    std::fs::write(dir.path().join("Dockerfile"), dockerfile).expect("Dockerfile");
    docker_build(name, dir.path());
}

/// Builds the folder `dir` (a Dockerfile and what it copies) as NAME on the stack's engine, offline
/// (the classic builder: BuildKit would want to fetch its frontend), with no build cache: a step
/// another test's build had made (the zstd tests' `COPY busybox`) was taken from the cache while a
/// third test removed that image, and Docker 26 failed the build ("unable to find image").
pub fn docker_build(name: &str, dir: &Path) {
    // One build at a time in a test process: dockerd's classic builder has races between concurrent
    // builds (moby/moby#18976), and make flaky saw one build fail beside others once.
    static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _turn = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let built = Command::new("docker")
        .args(["build", "-q", "--no-cache", "-t", name])
        .arg(dir)
        .env("DOCKER_HOST", stack("DOCKER_HOST"))
        .env("DOCKER_BUILDKIT", "0")
        .output()
        .expect("docker build runs");
    assert!(
        built.status.success(),
        "docker build {name}: {}{}",
        String::from_utf8_lossy(&built.stdout),
        String::from_utf8_lossy(&built.stderr)
    );
}

/// Asserts that the registry says `reference` (`registry/owner/name:tag`) is unknown, asked by skopeo
/// as `login` with `token`.
pub fn assert_unknown_to_the_registry(reference: &str, login: &str, token: &str) {
    match skopeo(&["inspect", &format!("docker://{reference}")], login, token) {
        Ok(found) => panic!("{reference} is on the registry: {found}"),
        Err(error) => assert!(error.contains("manifest unknown"), "{reference}: {error}"),
    }
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

/// A fresh user of the emulated GitHub (member of `orgs`, with one public repository, `site`) and a
/// token of theirs of `kind` with `scopes`: (login, token).
pub async fn user_with_token(
    prefix: &str,
    orgs: &[&str],
    kind: &str,
    scopes: &[&str],
) -> (String, String) {
    let login = unique(prefix);
    emulator_admin(
        "/_emulator/users",
        serde_json::json!({ "login": login, "orgs": orgs, "repositories": ["site"] }),
    )
    .await;
    let token = new_token(&login, kind, scopes).await;
    (login, token)
}

/// Makes OWNER/NAME public in the emulator, once it has learnt of the package from the registry.
pub async fn make_public(owner: &str, name: &str) {
    let url = format!(
        "{}/_emulator/packages/{owner}/{name}/visibility",
        stack("GHCR_TEST_EMULATOR")
    );
    // The registry tells the emulator of a push by a notification, which a busy machine may deliver
    // late: wait for that state (30 s), not for a number of tries.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while std::time::Instant::now() < deadline {
        let response = reqwest::Client::new()
            .post(&url)
            .json(&serde_json::json!({"visibility": "public"}))
            .send()
            .await
            .expect("the emulator answers");
        if response.status().is_success() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the emulator never learnt of {owner}/{name} in 30 s");
}

/// Every regular file under `dir` whose bytes contain `needle` (for the token-leak checks). Symlinks,
/// sockets and FIFOs are not opened (reading a FIFO would block); files or folders `skip` says yes to are
/// left out.
pub fn files_containing_except(
    dir: &Path,
    needle: &str,
    skip: &dyn Fn(&Path) -> bool,
) -> Vec<String> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(path) = pending.pop() {
        if skip(&path) {
            continue;
        }
        let Ok(metadata) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        if metadata.is_dir() {
            for entry in std::fs::read_dir(&path).into_iter().flatten().flatten() {
                pending.push(entry.path());
            }
        } else if metadata.is_file() {
            if let Ok(bytes) = std::fs::read(&path) {
                if memchr::memmem::find(&bytes, needle.as_bytes()).is_some() {
                    found.push(path.display().to_string());
                }
            }
        }
    }
    found
}

/// Every regular file under `dir` whose bytes contain `needle`.
pub fn files_containing(dir: &Path, needle: &str) -> Vec<String> {
    files_containing_except(dir, needle, &|_| false)
}
