//! The WebDriver harness: starts the real `ghcr-desktop` window through its own tauri-driver (own ports,
//! own HOME, the environment a test chooses) under the stack's Xvfb, hands the test a fantoccini client,
//! saves a screenshot per test under target/webdriver/, and stops everything — also when a test fails.

use fantoccini::ClientBuilder;
use std::future::Future;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub use fantoccini::{elements::Element, key::Key, Client, Locator};
pub use ghcr_test_support::{
    docker, docker_images, emulator_admin, files_containing, files_containing_except, import_image,
    layered_image, own_web_url, stack, unique, user_with_token,
};

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

/// `Ok` when `text`, shown by `what`, says `expected`; else an error quoting what it said instead.
pub fn ensure_says(what: &str, text: &str, expected: &str) -> Outcome {
    ensure(
        text.contains(expected),
        format!("{what} says {text:?}, expected it to say {expected:?}"),
    )
}

/// The workspace's target directory, where the app binary is and where screenshots go.
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"))
}

/// The debug build of the app, which the tests drive.
pub fn debug_app() -> PathBuf {
    target_dir().join("debug/ghcr-desktop")
}

/// The newest running process of `application` and its child processes (WebKit's), as pids.
pub fn processes_of(application: &Path) -> (String, Vec<String>) {
    let application = application
        .canonicalize()
        .unwrap_or_else(|_| application.to_path_buf());
    let pids = Command::new("pgrep")
        .args(["-n", "-f", application.to_str().unwrap_or_default()])
        .output()
        .expect("pgrep runs");
    let pid = String::from_utf8_lossy(&pids.stdout).trim().to_string();
    let children = children_of(&pid);
    (pid, children)
}

/// The child processes of `pid`, as pids.
fn children_of(pid: &str) -> Vec<String> {
    let children = Command::new("pgrep")
        .args(["-P", pid])
        .output()
        .expect("pgrep runs");
    String::from_utf8_lossy(&children.stdout)
        .lines()
        .map(|child| child.trim().to_string())
        .collect()
}

/// The memory of the running `application`, and of every process under it (WebKit's) summed.
pub fn app_memory(application: &Path) -> (Memory, Memory) {
    let (app, mut pending) = processes_of(application);
    let mut under = Memory::default();
    while let Some(pid) = pending.pop() {
        let memory = memory_kb(&pid);
        under.rss += memory.rss;
        under.pss += memory.pss;
        pending.extend(children_of(&pid));
    }
    (memory_kb(&app), under)
}

/// What a process holds in memory, in KiB: resident, and its proportional share of pages shared with
/// other processes (PSS: what the process costs the machine; RSS counts each shared library in full).
#[derive(Debug, Clone, Copy, Default)]
pub struct Memory {
    pub rss: u64,
    pub pss: u64,
}

/// The memory of process `pid` from /proc/PID/smaps_rollup (zeros once it has gone).
pub fn memory_kb(pid: &str) -> Memory {
    let rollup = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).unwrap_or_default();
    let field = |name: &str| {
        rollup
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|value| value.split_whitespace().next()?.parse().ok())
            .unwrap_or(0)
    };
    Memory {
        rss: field("Rss:"),
        pss: field("Pss:"),
    }
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
        App::launch_binary(name, &debug_app(), env).await
    }

    /// Starts the app binary `application` (e.g. a release build) as [`App::launch`] does.
    pub async fn launch_binary(name: &str, application: &Path, env: &[(&str, &str)]) -> App {
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
                // English unless the test says otherwise (the window follows the system's language).
                .env("LANG", "C.UTF-8")
                .env_remove("LC_ALL")
                .env_remove("LC_MESSAGES")
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

    /// Runs the test's steps once the page is ready (`html[data-ready]`: every listener wired, the
    /// first view and the account drawn; a click that came before would be lost), saves a screenshot
    /// (target/webdriver/NAME.png) whatever they found, closes the window, and fails the test if a
    /// step failed.
    pub async fn check<F, Fut>(self, steps: F)
    where
        F: FnOnce(Client) -> Fut,
        Fut: Future<Output = Outcome>,
    {
        let outcome = match wait_for_within(&self.client, PAGE_READY, STARTING).await {
            Ok(_) => steps(self.client.clone()).await,
            Err(error) => Err(format!("the page never said it was ready: {error}").into()),
        };
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

/// Pushes the local image `source` to `target` with the debug build's `ghcr` and `token`, as the test
/// world's setup (`--via` etc. in `more`); fails the test with ghcr's output if the push fails.
pub fn ghcr_push(token: &str, source: &str, target: &str, more: &[&str]) {
    let cache = tempfile::tempdir().expect("a cache dir");
    let ghcr = target_dir().join("debug/ghcr");
    let output = ghcr_test_support::ghcr_command(&ghcr, token, cache.path())
        .args(["push", source, target, "--json"])
        .args(more)
        .output()
        .expect("ghcr push runs");
    assert!(output.status.success(), "{output:?}");
}

/// `env` as `App::launch` takes it.
pub fn env_refs<'a>(env: &'a [(&'a str, String)]) -> Vec<(&'a str, &'a str)> {
    env.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

/// How long a step may take to show in the window before the test says it didn't.
pub const PATIENCE: Duration = Duration::from_secs(30);
/// How long a started app may take to be ready: its first data may wait on GitHub's answer, which a
/// test's misbehaving stand-in can hold up to the client's timeout.
const STARTING: Duration = Duration::from_secs(90);
/// The page's mark that it listens and has drawn its first data (ui/app.js, boot).
const PAGE_READY: &str = "html[data-ready]";

/// The element `css` once the page has it (within `PATIENCE`).
pub async fn wait_for(client: &Client, css: &str) -> Result<Element, fantoccini::error::CmdError> {
    wait_for_within(client, css, PATIENCE).await
}

/// The element `css` once the page has it, within `within`; the selector is printed when it never
/// comes, so a failure says what was awaited. WebKitWebDriver answers "stale element" when the node it
/// found is replaced before it hands it out (a notice redrawn as a push changes state): that counts as
/// not there yet, like "no such element" (fantoccini's own wait gives up on it at once).
pub async fn wait_for_within(
    client: &Client,
    css: &str,
    within: Duration,
) -> Result<Element, fantoccini::error::CmdError> {
    use fantoccini::error::{CmdError, ErrorStatus};
    let deadline = Instant::now() + within;
    loop {
        match client.find(Locator::Css(css)).await {
            Ok(element) => return Ok(element),
            Err(CmdError::Standard(answer))
                if matches!(
                    answer.error,
                    ErrorStatus::NoSuchElement | ErrorStatus::StaleElementReference
                ) => {}
            Err(other) => {
                eprintln!("looking for {css}: {other}");
                return Err(other);
            }
        }
        if Instant::now() >= deadline {
            eprintln!("waited {within:?} for {css} in vain");
            return Err(CmdError::WaitTimeout);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Reloads the page and waits until the new one has booted — not an element the old page still held
/// while the reload had not begun (a dark-theme test once measured a page half gone that way).
pub async fn reload(client: &Client) -> Outcome {
    client
        .execute("window.beforeReload = true; location.reload();", vec![])
        .await?;
    let deadline = Instant::now() + STARTING;
    loop {
        let booted = client
            .execute(
                "return window.beforeReload === undefined && document.querySelector('html[data-ready]') !== null;",
                vec![],
            )
            .await;
        // While the page is going away a script may fail to run: not booted yet either.
        if booted.ok().and_then(|value| value.as_bool()) == Some(true) {
            return Ok(());
        }
        ensure(
            Instant::now() < deadline,
            "the page did not come back after a reload",
        )?;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// What `act` does with the element `css` once the page has it, found again if the page redrew it
/// between the find and the act (the element went stale).
async fn on_element<T, Act, Fut>(
    client: &Client,
    css: &str,
    act: Act,
) -> Result<T, fantoccini::error::CmdError>
where
    Act: Fn(Element) -> Fut,
    Fut: Future<Output = Result<T, fantoccini::error::CmdError>>,
{
    let deadline = Instant::now() + PATIENCE;
    loop {
        match act(wait_for(client, css).await?).await {
            Err(error) if error.is_stale_element_reference() && Instant::now() < deadline => {}
            done => return done,
        }
    }
}

/// Clicks the element `css` once the page has it (found again if it was redrawn in between).
pub async fn click(client: &Client, css: &str) -> Result<(), fantoccini::error::CmdError> {
    on_element(client, css, |element| async move { element.click().await }).await
}

/// The text of the element `css` once the page has it (found again if it was redrawn in between).
pub async fn text_of(client: &Client, css: &str) -> Result<String, fantoccini::error::CmdError> {
    on_element(client, css, |element| async move { element.text().await }).await
}

/// The whole text content of the element `css` once the page has it — also where WebDriver's
/// rendered text gives nothing (an element cut with an ellipsis).
pub async fn content_of(client: &Client, css: &str) -> Result<String, fantoccini::error::CmdError> {
    wait_for(client, css).await?;
    let text = client
        .execute(
            "return document.querySelector(arguments[0]).textContent;",
            vec![css.into()],
        )
        .await?;
    Ok(text.as_str().unwrap_or_default().to_string())
}

/// The text content of `css` once it contains `expected` (within `PATIENCE`); what it said last if it
/// never did (the caller's assertion then shows it).
pub async fn text_once_it_says(
    client: &Client,
    css: &str,
    expected: &str,
) -> Result<String, fantoccini::error::CmdError> {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let text = content_of(client, css).await?;
        if text.contains(expected) || Instant::now() > deadline {
            return Ok(text);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The dialog `#id` once it is ready: its first check has answered and no check of what was typed
/// is on its way (ui/dom.js, markChecked).
pub async fn dialog_ready(
    client: &Client,
    id: &str,
) -> Result<Element, fantoccini::error::CmdError> {
    wait_for(
        client,
        &format!("dialog#{id}[data-ready]:not([data-pending])"),
    )
    .await
}

/// Confirms the push dialog a drop (or an owner button) opens, as a person would: once its name is
/// checked, Enter; then waits until it has closed, and fails if it never does.
pub async fn confirm_push_dialog(client: &Client) -> Outcome {
    dialog_ready(client, "push-dialog").await?;
    wait_for(client, "#push-dialog #push-confirm:enabled").await?;
    client
        .find(Locator::Id("push-name"))
        .await?
        .send_keys(&Key::Enter.to_string())
        .await?;
    wait_gone(client, "#push-dialog").await
}

/// Waits until the page has no element `css` (within `PATIENCE`).
pub async fn wait_gone(client: &Client, css: &str) -> Outcome {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let present: bool = client
            .execute(
                "return document.querySelector(arguments[0]) !== null;",
                vec![css.into()],
            )
            .await?
            .as_bool()
            .unwrap_or(true);
        if !present {
            return Ok(());
        }
        ensure(
            Instant::now() < deadline,
            format!("{css} was still there after {PATIENCE:?}"),
        )?;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The attribute `name` of the element `css` (which the page has now), if it is set.
pub async fn attr_of(
    client: &Client,
    css: &str,
    name: &str,
) -> Result<Option<String>, fantoccini::error::CmdError> {
    client.find(Locator::Css(css)).await?.attr(name).await
}

/// Opens `view` (images, pushes, packages, account) from the sidebar and waits until the view is
/// ready (`main[data-view=VIEW][data-ready]`: its first data drawn). The page listens before it says
/// it is ready (App::check waits for that), so one click does it.
pub async fn open_view(client: &Client, view: &str) -> Result<(), fantoccini::error::CmdError> {
    click(client, &format!(".nav[data-view='{view}']")).await?;
    wait_for(client, &format!("main[data-view='{view}'][data-ready]"))
        .await
        .map(|_| ())
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

/// Waits until the dialog `#id` has checked `target` (what was typed into it, as a whole) and no
/// other check is on its way — typing fires a check per pause, and a click before the last one
/// answered would act on an older name.
pub async fn wait_checked(
    client: &Client,
    id: &str,
    target: &str,
) -> Result<Element, fantoccini::error::CmdError> {
    wait_for(
        client,
        &format!("dialog#{id}[data-checked='{target}']:not([data-pending])"),
    )
    .await
}

/// In Packages, presses Refresh until the list shows `css` (GitHub learns of a pushed package a
/// moment after the push), waiting for each refresh to be drawn (`#package-list[data-loaded]`
/// counts the loads); gives up after `within`.
pub async fn refresh_packages_until(
    client: &Client,
    css: &str,
    within: Duration,
) -> Result<Element, Box<dyn std::error::Error + Send + Sync>> {
    let deadline = Instant::now() + within;
    loop {
        let loaded = wait_for(client, "#package-list[data-loaded]")
            .await?
            .attr("data-loaded")
            .await?
            .unwrap_or_default();
        if let Ok(found) = client.find(Locator::Css(css)).await {
            return Ok(found);
        }
        ensure(
            Instant::now() < deadline,
            format!("{css} never showed in Packages within {within:?}"),
        )?;
        tokio::time::sleep(Duration::from_millis(300)).await;
        click(client, "#packages-refresh").await?;
        wait_for(
            client,
            &format!("#package-list[data-loaded]:not([data-loaded='{loaded}'])"),
        )
        .await?;
    }
}

/// Saves the window as it is at the smallest size it allows and at 1440×900, with `css` scrolled into
/// view (target/webdriver/state-NAME-WIDTHxHEIGHT.png; scripts/readme-screenshots.sh copies them to
/// docs/views/), then gives it back its size. Called at the end of a test, on the state it checked.
pub async fn photograph_at_both_sizes(client: &Client, name: &str, css: &str) -> Outcome {
    let (width, height) = client.get_window_size().await?;
    for (w, h) in [(760, 480), (1440, 900)] {
        resize(client, w, h).await?;
        client
            .execute(
                "const shown = document.querySelector(arguments[0]);
                 if (shown) shown.scrollIntoView({ block: 'nearest' });",
                vec![serde_json::json!(css)],
            )
            .await?;
        settle(client).await;
        let png = client.screenshot().await?;
        std::fs::write(
            target_dir().join(format!("webdriver/state-{name}-{w}x{h}.png")),
            png,
        )?;
    }
    resize(client, width as u32, height as u32).await
}

/// Resizes the window to `width`×`height` and waits until the page has the new size (the window
/// system applies a resize after WebDriver has answered).
pub async fn resize(client: &Client, width: u32, height: u32) -> Outcome {
    client.set_window_size(width, height).await?;
    let deadline = Instant::now() + PATIENCE;
    loop {
        let inner = client
            .execute("return [window.innerWidth, window.innerHeight];", vec![])
            .await?;
        let size = |i: usize| inner[i].as_f64().unwrap_or(0.0);
        // Decorations, where a window manager draws them, take a little of the window.
        if (size(0) - f64::from(width)).abs() <= 40.0 && (size(1) - f64::from(height)).abs() <= 80.0
        {
            return Ok(());
        }
        ensure(
            Instant::now() < deadline,
            format!("the page never got {width}×{height}: {inner}"),
        )?;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
