//! The `ghcr` command line's contract (DESIGN: output, `--json` shapes, exit codes), run as a real
//! process against the test stack's engine and against no engine.

mod common;

use std::process::{Command, Output};

fn ghcr(args: &[&str], docker_host: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ghcr"))
        .args(args)
        .env("DOCKER_HOST", docker_host)
        .output()
        .expect("ghcr runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn ghcr_engine_prints_the_engine_socket_and_api_version() {
    let docker_host = common::stack("DOCKER_HOST");
    let output = ghcr(&["engine"], &docker_host);
    assert!(output.status.success(), "{output:?}");
    let (version, api) = common::docker_server_version();
    let text = stdout(&output);
    let product = common::product_under_test();
    assert!(
        text.starts_with(&format!("{product} {version} (linux/")),
        "{text}"
    );
    let store = common::store_under_test().describe();
    assert!(text.contains(&format!("images  {store}")), "{text}");
    assert!(
        text.contains(&format!("socket  {docker_host} (from DOCKER_HOST)")),
        "{text}"
    );
    assert!(
        text.contains(&format!("API     {api} (the engine offers up to {api})")),
        "{text}"
    );
}

#[test]
fn ghcr_engine_json_has_the_documented_fields() {
    let docker_host = common::stack("DOCKER_HOST");
    let output = ghcr(&["engine", "--json"], &docker_host);
    assert!(output.status.success(), "{output:?}");
    let json: serde_json::Value = serde_json::from_str(&stdout(&output)).expect("one JSON object");
    let (version, api) = common::docker_server_version();
    assert_eq!(json["product"], common::product_under_test());
    let store = serde_json::to_value(common::store_under_test()).unwrap();
    assert_eq!(json["image_store"], store);
    assert_eq!(json["version"], version.as_str());
    assert_eq!(json["api_version"], api.as_str());
    assert_eq!(json["server_api_version"], api.as_str());
    assert_eq!(json["endpoint"], docker_host.as_str());
    assert_eq!(json["origin"], "docker_host");
}

#[test]
fn ghcr_engine_without_an_engine_exits_4_with_a_json_error() {
    let dir = tempfile::tempdir().unwrap();
    let docker_host = format!("unix://{}/docker.sock", dir.path().display());
    let output = ghcr(&["engine", "--json"], &docker_host);
    assert_eq!(output.status.code(), Some(4), "{output:?}");
    let json: serde_json::Value = serde_json::from_str(&stdout(&output)).expect("one JSON object");
    assert_eq!(json["code"], "engine.unreachable");
    assert!(
        json["message"].as_str().unwrap().contains(&docker_host),
        "{json}"
    );
    assert!(
        json["hint"].as_str().unwrap().contains("DOCKER_HOST"),
        "{json}"
    );
}

#[test]
fn ghcr_engine_without_an_engine_explains_on_stderr_in_text_mode() {
    let dir = tempfile::tempdir().unwrap();
    let docker_host = format!("unix://{}/docker.sock", dir.path().display());
    let output = ghcr(&["engine"], &docker_host);
    assert_eq!(output.status.code(), Some(4));
    assert!(output.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.starts_with("error: No container engine answers at "),
        "{stderr}"
    );
    assert!(
        stderr.contains("\nhint: Start Docker or Podman there"),
        "{stderr}"
    );
}

#[test]
fn a_malformed_docker_host_is_a_usage_error_with_exit_2() {
    let output = ghcr(&["engine", "--json"], "docker.sock");
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    let json: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(json["code"], "config.invalid");
}

#[test]
fn an_unknown_command_prints_usage_and_exits_2() {
    let output = ghcr(&["frobnicate"], "unix:///nonexistent.sock");
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("Usage: ghcr"));
}

/// An engine on a unix socket that answers the handshake like dockerd 20.10, and `GET /images/json`
/// with `images` (JSON text); its `DOCKER_HOST`.
fn odd_engine(dir: &std::path::Path, images: &'static str) -> String {
    use std::io::{BufRead, BufReader, Write};
    let socket = dir.join("odd.sock");
    let listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request = String::new();
            let _ = reader.read_line(&mut request);
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                line.clear();
            }
            let body = if request.contains("/images/json") {
                images
            } else if request.contains("/version") {
                r#"{"Version":"20.10.24","ApiVersion":"1.41","Os":"linux","Arch":"amd64"}"#
            } else {
                "OK"
            };
            let _ = write!(
                &stream,
                "HTTP/1.1 200 OK\r\nApi-Version: 1.41\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    format!("unix://{}", socket.display())
}

#[test]
fn ghcr_images_lists_an_image_whose_creation_time_is_nonsense_without_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let docker_host = odd_engine(
        dir.path(),
        r#"[{"Id":"sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef","RepoTags":["odd:1"],"Created":-9223372036854775808,"Size":5},
            {"Id":"sha256:1123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef","RepoTags":["future:1"],"Created":9223372036854775807,"Size":5}]"#,
    );
    let output = ghcr(&["images"], &docker_host);
    assert!(output.status.success(), "{output:?}");
    let text = stdout(&output);
    assert!(text.contains("odd") && text.contains("future"), "{text}");
}

/// A push over a tag the registry has says so first — what the tag pointed to — and still pushes
/// (the window asks; a script said what it wanted); a push to a new tag says nothing of the kind.
#[tokio::test]
async fn a_push_over_an_existing_tag_says_what_it_replaces() {
    let login = common::new_user("cli-replace").await;
    let token = common::new_token(&login, "classic", &["write:packages"]).await;
    let registry = common::stack("GHCR_TEST_REGISTRY_TOKEN");
    let target = format!("{registry}/{login}/app:1.0");
    let cache = tempfile::tempdir().unwrap();
    let push = |source: &str| {
        common::ghcr_command(env!("CARGO_BIN_EXE_ghcr").as_ref(), &token, cache.path())
            .args(["push", source, &target, "--via", "direct"])
            .output()
            .expect("ghcr runs")
    };
    let first_image = format!("{login}-first:1");
    let second_image = format!("{login}-second:1");
    common::import_image(&first_image);
    common::import_image(&second_image);
    let first = push(&first_image);
    assert!(first.status.success(), "{first:?}");
    let said = String::from_utf8_lossy(&first.stderr);
    assert!(
        !said.contains("replaces"),
        "a new tag replaces nothing: {said}"
    );
    let second = push(&second_image);
    assert!(second.status.success(), "{second:?}");
    let said = String::from_utf8_lossy(&second.stderr);
    assert!(
        said.contains(&format!("{target} is on the registry already (sha256:"))
            && said.contains("this push replaces it"),
        "{said}"
    );
}
