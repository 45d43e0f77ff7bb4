//! The docker CLI without a plaintext token, with the real `docker` CLI, the stack's dockerd and token
//! registry and the real keyring: `ghcr docker-setup` moves a plaintext token out of config.json (nothing
//! else changed), docker pushes and pulls a private image through `docker-credential-ghcr-desktop`, and
//! `--undo` restores the file byte for byte; `docker login`/`logout` store and erase through the helper;
//! bad input to the helper fails in the protocol's words, quickly, without a panic.

mod common;

use base64::Engine as _;
use common::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const HELPER: &str = env!("CARGO_BIN_EXE_docker-credential-ghcr-desktop");

/// One test's world: its own GitHub web host (so keyring entries never clash), HOME and DOCKER_CONFIG,
/// and PATH with the helper on it.
struct World {
    web: String,
    home: tempfile::TempDir,
    docker_config: PathBuf,
}

impl World {
    fn new() -> World {
        let home = tempfile::tempdir().unwrap();
        let docker_config = home.path().join("docker");
        std::fs::create_dir_all(&docker_config).unwrap();
        World {
            web: own_web_url(),
            home,
            docker_config,
        }
    }

    fn config_file(&self) -> PathBuf {
        self.docker_config.join("config.json")
    }

    fn command(&self, program: &str) -> Command {
        self.command_with_helper_in(program, Path::new(HELPER).parent().unwrap())
    }

    /// `command`, with `helper_dir` first on PATH (where docker and the setup look for the helper).
    fn command_with_helper_in(&self, program: &str, helper_dir: &Path) -> Command {
        let path = format!(
            "{}:{}",
            helper_dir.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let mut command = Command::new(program);
        command
            .env("PATH", path)
            .env("HOME", self.home.path())
            .env("DOCKER_CONFIG", &self.docker_config)
            .env("DOCKER_HOST", stack("DOCKER_HOST"))
            .env("GHCR_API_URL", stack("GHCR_TEST_EMULATOR"))
            .env("GHCR_WEB_URL", &self.web)
            .env("GHCR_REGISTRY", stack("GHCR_TEST_REGISTRY_TOKEN"))
            .env("GHCR_CACHE_DIR", self.home.path().join("cache"))
            .env_remove("GHCR_TOKEN")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        command
    }

    fn run(&self, program: &str, args: &[&str], stdin: &str) -> Output {
        use std::io::Write;
        let mut child = self.command(program).args(args).spawn().unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    }

    fn ghcr(&self, args: &[&str]) -> Output {
        self.run(env!("CARGO_BIN_EXE_ghcr"), args, "")
    }

    fn docker(&self, args: &[&str], stdin: &str) -> Output {
        self.run("docker", args, stdin)
    }
}

fn ok(output: &Output, what: &str) {
    assert!(
        output.status.success(),
        "{what}: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[tokio::test]
async fn a_plaintext_token_moves_to_the_keyring_docker_uses_it_through_the_helper_and_undo_restores_the_file(
) {
    let world = World::new();
    let login = new_user("helper-move").await;
    let token = new_token(&login, "classic", &["write:packages"]).await;
    let registry = stack("GHCR_TEST_REGISTRY_TOKEN");
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{login}:{token}"));
    let original = format!(
        "{{\n  \"auths\" : {{ \"quay.io\":{{\"auth\":\"cXVheTpxdWF5\"}},\n     \"{registry}\" : {{ \"auth\":\"{auth}\" }} }},\n\"credsStore\":   \"desktop\",\n \"psFormat\":\"table {{{{.ID}}}}\"}}\n"
    );
    std::fs::write(world.config_file(), &original).unwrap();

    let setup = world.ghcr(&["docker-setup"]);
    ok(&setup, "docker-setup");

    let after: serde_json::Value =
        serde_json::from_slice(&std::fs::read(world.config_file()).unwrap()).unwrap();
    let expected = serde_json::json!({
        "auths": {"quay.io": {"auth": "cXVheTpxdWF5"}},
        "credsStore": "desktop",
        "psFormat": "table {{.ID}}",
        "credHelpers": {registry.clone(): "ghcr-desktop"},
    });
    assert_eq!(after, expected, "nothing else changed");
    assert_eq!(
        files_containing(world.home.path(), &token),
        Vec::<String>::new()
    );
    assert_eq!(
        files_containing(world.home.path(), &auth),
        Vec::<String>::new()
    );

    // The docker CLI pushes and pulls a private image with the token from the keyring.
    let image = format!("{registry}/{login}/through-helper:1");
    import_image(&image);
    ok(&world.docker(&["push", &image], ""), "docker push");
    ok(&world.docker(&["image", "rm", &image], ""), "docker rmi");
    ok(
        &world.docker(&["pull", &image], ""),
        "docker pull of the private image",
    );
    assert_eq!(
        files_containing(world.home.path(), &token),
        Vec::<String>::new()
    );

    // Undo: the file as it was, byte for byte (the token read back from the keyring).
    ok(&world.ghcr(&["docker-setup", "--undo"]), "undo");
    assert_eq!(
        std::fs::read_to_string(world.config_file()).unwrap(),
        original
    );
    ok(&world.ghcr(&["logout"]), "logout");
}

#[tokio::test]
async fn docker_login_stores_through_the_helper_and_docker_logout_erases() {
    let world = World::new();
    let login = new_user("helper-login").await;
    let token = new_token(&login, "classic", &["write:packages"]).await;
    let registry = stack("GHCR_TEST_REGISTRY_TOKEN");

    let setup = world.ghcr(&["docker-setup"]);
    ok(&setup, "docker-setup with no config.json");
    assert!(String::from_utf8_lossy(&setup.stdout).contains("docker login"));

    ok(
        &world.docker(
            &["login", &registry, "-u", &login, "--password-stdin"],
            &token,
        ),
        "docker login",
    );
    let whoami = world.ghcr(&["whoami", "--json"]);
    ok(&whoami, "whoami");
    let who: serde_json::Value = serde_json::from_slice(&whoami.stdout).unwrap();
    assert_eq!(who["source"], "keyring");
    assert_eq!(who["report"]["login"], login.as_str());
    let config = std::fs::read_to_string(world.config_file()).unwrap();
    assert!(!config.contains(&token), "{config}");
    assert_eq!(
        files_containing(world.home.path(), &token),
        Vec::<String>::new()
    );

    let image = format!("{registry}/{login}/logged-in:1");
    import_image(&image);
    ok(&world.docker(&["push", &image], ""), "docker push");

    ok(&world.docker(&["logout", &registry], ""), "docker logout");
    assert_eq!(world.ghcr(&["whoami"]).status.code(), Some(3), "erased");

    ok(&world.ghcr(&["docker-setup", "--undo"]), "undo");
    assert!(
        !world.config_file().exists(),
        "there was no config.json before"
    );
}

#[tokio::test]
async fn bad_input_to_the_helper_fails_in_the_protocols_words_quickly() {
    let world = World::new();
    let registry = stack("GHCR_TEST_REGISTRY_TOKEN");
    for (args, stdin, says) in [
        (vec!["get"], "", "No server URL"),
        (
            vec!["get"],
            "https://index.docker.io/v1/",
            "credentials not found in native keychain",
        ),
        (
            vec!["get"],
            registry.as_str(),
            "credentials not found in native keychain",
        ),
        (
            vec!["erase"],
            "quay.io",
            "credentials not found in native keychain",
        ),
        (vec!["store"], "{not json", "Expected"),
        (vec!["store"], "\u{0}\u{1}garbage", "Expected"),
        (vec!["fetch"], "", "Unknown command"),
        (vec![], "", "Unknown command"),
    ] {
        let started = Instant::now();
        let output = world.run(HELPER, &args, stdin);
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert_eq!(
            output.status.code(),
            Some(1),
            "{args:?} {stdin:?}: {stdout}"
        );
        assert!(stdout.contains(says), "{args:?} {stdin:?}: {stdout}");
        assert!(!String::from_utf8_lossy(&output.stderr).contains("panicked"));
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{args:?} took {:?}",
            started.elapsed()
        );
    }
    let list = world.run(HELPER, &["list"], "");
    ok(&list, "list");
    assert_eq!(String::from_utf8_lossy(&list.stdout).trim(), "{}");
}

#[tokio::test]
async fn a_helper_that_never_answers_fails_the_setup_in_time_and_leaves_config_json_alone() {
    let world = World::new();
    let login = new_user("helper-hangs").await;
    let token = new_token(&login, "classic", &["write:packages"]).await;
    let registry = stack("GHCR_TEST_REGISTRY_TOKEN");
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{login}:{token}"));
    let original = format!("{{\"auths\":{{\"{registry}\":{{\"auth\":\"{auth}\"}}}}}}");
    std::fs::write(world.config_file(), &original).unwrap();
    // A helper stuck on something (a keyring waiting for an unlock nobody types).
    let stuck = tempfile::tempdir().unwrap();
    let helper = stuck.path().join("docker-credential-ghcr-desktop");
    std::fs::write(&helper, "#!/bin/sh\nexec sleep 600\n").unwrap();
    std::fs::set_permissions(&helper, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();

    let started = Instant::now();
    let mut setup = world
        .command_with_helper_in(env!("CARGO_BIN_EXE_ghcr"), stuck.path())
        .arg("docker-setup")
        .spawn()
        .unwrap();
    let status = loop {
        if let Some(status) = setup.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > Duration::from_secs(90) {
            let _ = setup.kill();
            panic!("docker-setup still waits for the helper after 90 s");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let output = setup.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!status.success());
    assert!(stderr.contains("did not answer"), "{stderr}");
    assert!(stderr.contains("no answer within"), "{stderr}");
    assert_eq!(
        std::fs::read_to_string(world.config_file()).unwrap(),
        original,
        "config.json was not changed"
    );
}
