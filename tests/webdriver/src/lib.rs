//! The WebDriver harness: starts the real `ghcr-desktop` window through its own tauri-driver (own ports,
//! own HOME, the environment a test chooses) under the stack's Xvfb, hands the test a fantoccini client,
//! saves a screenshot per test under target/webdriver/, and stops everything — also when a test fails.

use fantoccini::ClientBuilder;
use std::future::Future;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub use fantoccini::{elements::Element, key::Key, Client, Locator};

/// What a test step returns: fantoccini errors and failed expectations alike.
pub type Outcome = Result<(), Box<dyn std::error::Error + Send + Sync>>;

/// Fails the test with `message` unless `condition` holds.
pub fn ensure(condition: bool, message: impl Into<String>) -> Outcome {
    if condition {
        Ok(())
    } else {
        Err(message.into().into())
    }
}

/// The workspace's target directory, where the app binary is and where screenshots go.
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"))
}

/// A variable the test stack exports; tests fail (not skip) without the stack.
pub fn stack(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run `make test`, or `tests/stack/stack.sh start && . target/stack/env`")
    })
}

/// tauri-driver and, through it, WebKitWebDriver and the app; SIGTERM on drop (SIGKILL would orphan
/// WebKitWebDriver, which then keeps its port).
struct Driver {
    child: Child,
}

impl Drop for Driver {
    fn drop(&mut self) {
        if let Ok(pid) = libc::pid_t::try_from(self.child.id()) {
            // SAFETY: kill(2) with a pid of a child we own; no memory is involved.
            unsafe { libc::kill(pid, libc::SIGTERM) };
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A free loopback port below Linux's ephemeral range (32768–60999), so that an outgoing connection
/// can't take it between this check and tauri-driver or WebKitWebDriver binding it.
fn free_port() -> u16 {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos())
        ^ (std::process::id() << 8);
    for _ in 0..200 {
        let step = NEXT.fetch_add(7919, std::sync::atomic::Ordering::Relaxed);
        let port = 20_000 + (seed.wrapping_add(step) % 12_000) as u16;
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    let listener = TcpListener::bind("127.0.0.1:0").expect("a free loopback port");
    listener.local_addr().expect("its address").port()
}

/// One run of the app under WebDriver.
pub struct App {
    name: String,
    client: Client,
    _driver: Driver,
    _home: tempfile::TempDir,
}

impl App {
    /// Starts the app with the stack's environment plus `env` (e.g. another `DOCKER_HOST`).
    pub async fn launch(name: &str, env: &[(&str, &str)]) -> App {
        let application = target_dir().join("debug/ghcr-desktop");
        assert!(
            application.exists(),
            "{} is missing: build the app first (cargo build -p ghcr-desktop)",
            application.display()
        );
        let application = application.canonicalize().expect("an absolute app path");
        // A HOME of its own (the test may name one, to search it afterwards), with the XDG dirs in it.
        let home = tempfile::tempdir().expect("a temporary HOME");
        let home_path = env.iter().find(|(key, _)| *key == "HOME").map_or_else(
            || home.path().to_path_buf(),
            |(_, value)| PathBuf::from(value),
        );
        let logs = target_dir().join("webdriver");
        std::fs::create_dir_all(&logs).expect("target/webdriver");

        // Two tries: a port can still be taken by another test's process between the check and the bind.
        let mut tries = 0;
        let (client, driver) = loop {
            tries += 1;
            let port = free_port();
            let native_port = free_port();
            let log = std::fs::File::create(logs.join(format!("{name}.log"))).expect("a log file");
            let mut command = Command::new(stack("TAURI_DRIVER"));
            command
                .args(["--port", &port.to_string()])
                .args(["--native-port", &native_port.to_string()])
                .args(["--native-driver", "/usr/bin/WebKitWebDriver"])
                .env("DISPLAY", stack("DISPLAY"))
                .env("HOME", &home_path)
                .env("XDG_DATA_HOME", home_path.join("data"))
                .env("XDG_CONFIG_HOME", home_path.join("config"))
                .env("XDG_CACHE_HOME", home_path.join("cache"))
                .stdin(Stdio::null())
                .stdout(log.try_clone().expect("log"))
                .stderr(log);
            for (key, value) in env.iter().filter(|(key, _)| *key != "HOME") {
                command.env(key, value);
            }
            let driver = Driver {
                child: command.spawn().expect("tauri-driver starts"),
            };
            wait_for_port(port, Duration::from_secs(15)).await;

            let mut capabilities = serde_json::Map::new();
            capabilities.insert("browserName".into(), "wry".into());
            capabilities.insert(
                "tauri:options".into(),
                serde_json::json!({ "application": application }),
            );
            match ClientBuilder::native()
                .capabilities(capabilities)
                .connect(&format!("http://127.0.0.1:{port}"))
                .await
            {
                Ok(client) => break (client, driver),
                Err(error) if tries >= 2 => {
                    panic!(
                        "WebDriver session for {name}: {error} (see target/webdriver/{name}.log)"
                    )
                }
                Err(error) => {
                    eprintln!("WebDriver session for {name}: {error}; trying other ports")
                }
            }
        };
        App {
            name: name.to_string(),
            client,
            _driver: driver,
            _home: home,
        }
    }

    /// Runs the test's steps, saves a screenshot (target/webdriver/NAME.png) whatever they found, closes
    /// the window, and fails the test if a step failed.
    pub async fn check<F, Fut>(self, steps: F)
    where
        F: FnOnce(Client) -> Fut,
        Fut: Future<Output = Outcome>,
    {
        let outcome = steps(self.client.clone()).await;
        settle(&self.client).await;
        let screenshot = target_dir().join(format!("webdriver/{}.png", self.name));
        match self.client.screenshot().await {
            Ok(png) => std::fs::write(&screenshot, png).expect("screenshot written"),
            Err(error) => eprintln!("no screenshot for {}: {error}", self.name),
        }
        let _ = self.client.clone().close().await;
        if let Err(error) = outcome {
            panic!(
                "{} failed: {error}\nscreenshot: {}",
                self.name,
                screenshot.display()
            );
        }
    }
}

/// Lets the window paint what the DOM holds before a screenshot: two animation frames, then a pause
/// (WebKit's first paints after start-up lag the DOM by a second or more under Xvfb).
pub async fn settle(client: &Client) {
    let frames = "const done = arguments[0]; requestAnimationFrame(() => requestAnimationFrame(() => done(true)));";
    let _ = client.execute_async(frames, vec![]).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
}

/// The app's environment in the test world, signed in through `GHCR_TOKEN`: the stack's engine, the
/// emulator as GitHub's API and web, the token registry.
pub fn signed_in_env(token: &str) -> Vec<(&'static str, String)> {
    let emulator = stack("GHCR_TEST_EMULATOR");
    vec![
        ("DOCKER_HOST", stack("DOCKER_HOST")),
        ("GHCR_API_URL", emulator.clone()),
        ("GHCR_WEB_URL", emulator),
        ("GHCR_REGISTRY", stack("GHCR_TEST_REGISTRY_TOKEN")),
        ("GHCR_TOKEN", token.to_string()),
    ]
}

/// `env` as `App::launch` takes it.
pub fn env_refs<'a>(env: &'a [(&'a str, String)]) -> Vec<(&'a str, &'a str)> {
    env.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

/// Opens `view` (images, pushes, packages, account) from the sidebar.
pub async fn open_view(client: &Client, view: &str) -> Result<(), fantoccini::error::CmdError> {
    client
        .find(Locator::Css(&format!(".nav[data-view='{view}']")))
        .await?
        .click()
        .await
}

/// Every regular file under `dir` whose bytes contain `needle` (for the token-leak checks). Symlinks,
/// sockets and FIFOs are not opened (reading a FIFO would block); files or folders `skip` says yes to are
/// left out.
pub fn files_containing_except(
    dir: &std::path::Path,
    needle: &str,
    skip: &dyn Fn(&std::path::Path) -> bool,
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
pub fn files_containing(dir: &std::path::Path, needle: &str) -> Vec<String> {
    files_containing_except(dir, needle, &|_| false)
}

async fn wait_for_port(port: u16, limit: Duration) {
    let deadline = Instant::now() + limit;
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err()
    {
        assert!(
            Instant::now() < deadline,
            "tauri-driver did not listen on {port}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A name no other test run uses: `PREFIX-` and the clock's nanoseconds in hex.
pub fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("a clock after 1970")
        .subsec_nanos();
    format!("{prefix}-{nanos:08x}")
}

/// Runs the docker CLI against the stack's engine (the witness of what it holds); its stdout.
pub fn docker(args: &[&str]) -> String {
    let output = Command::new("docker")
        .args(args)
        .env("DOCKER_HOST", stack("DOCKER_HOST"))
        .output()
        .expect("the docker CLI runs");
    assert!(
        output.status.success(),
        "docker {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

/// A new image with a unique ID (a one-file `docker import`), named `name`; returns its ID.
pub fn import_image(name: &str) -> String {
    let dir = tempfile::tempdir().expect("a temp dir");
    std::fs::write(dir.path().join("hello.txt"), name).expect("the file is written");
    let tar = dir.path().join("layer.tar");
    let status = Command::new("tar")
        .arg("-cf")
        .arg(&tar)
        .arg("-C")
        .arg(dir.path())
        .arg("hello.txt")
        .status()
        .expect("tar runs");
    assert!(status.success());
    docker(&["import", tar.to_str().expect("a UTF-8 path"), name])
}

/// Asks the emulator's admin API (test-only) for `path` with a JSON body; its JSON answer.
pub async fn emulator_admin(path: &str, body: serde_json::Value) -> serde_json::Value {
    let response = reqwest::Client::new()
        .post(format!("{}{path}", stack("GHCR_TEST_EMULATOR")))
        .json(&body)
        .send()
        .await
        .expect("the emulator answers");
    assert!(response.status().is_success(), "{path}");
    response.json().await.unwrap_or_default()
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
    let answer = emulator_admin(
        "/_emulator/tokens",
        serde_json::json!({ "login": login, "kind": kind, "scopes": scopes }),
    )
    .await;
    let token = answer["token"].as_str().expect("a token").to_string();
    (login, token)
}

/// Builds NAME from scratch with one COPY layer per size (bytes of incompressible data unique to NAME),
/// offline: an image big enough for a push to be watched.
pub fn layered_image(name: &str, sizes: &[usize]) {
    let dir = tempfile::tempdir().expect("a temp dir");
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
        std::fs::write(dir.path().join(format!("{index}.bin")), data).expect("layer data");
        dockerfile.push_str(&format!("COPY {index}.bin /{index}.bin\n"));
    }
    std::fs::write(dir.path().join("Dockerfile"), dockerfile).expect("Dockerfile");
    let status = Command::new("docker")
        .args(["build", "-q", "-t", name])
        .arg(dir.path())
        .env("DOCKER_HOST", stack("DOCKER_HOST"))
        .env("DOCKER_BUILDKIT", "0")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("docker build runs");
    assert!(status.success(), "docker build {name}");
}

/// Drags `from` onto `to` with the mouse, as a person would: press, move in steps, release.
pub async fn drag(
    client: &Client,
    from: &Element,
    to: &Element,
) -> Result<(), fantoccini::error::CmdError> {
    use fantoccini::actions::{InputSource, MouseActions, PointerAction, MOUSE_BUTTON_LEFT};
    let step = Some(Duration::from_millis(60));
    let mouse = MouseActions::new("mouse".into())
        .then(PointerAction::MoveToElement {
            element: from.clone(),
            duration: None,
            x: -100.0,
            y: 0.0,
        })
        .then(PointerAction::Down {
            button: MOUSE_BUTTON_LEFT,
        })
        .then(PointerAction::MoveBy {
            duration: step,
            x: 12.0,
            y: -4.0,
        })
        .then(PointerAction::MoveBy {
            duration: step,
            x: 20.0,
            y: -20.0,
        })
        .then(PointerAction::MoveToElement {
            element: to.clone(),
            duration: step,
            x: 0.0,
            y: 0.0,
        })
        .then(PointerAction::Up {
            button: MOUSE_BUTTON_LEFT,
        });
    client.perform_actions(mouse).await?;
    client.release_actions().await
}
