//! Load (a phase of `make test` of its own, as it puts 5,000 images into the stack's engine; `make
//! load` repeats it): the real window with a 5,000-image engine and ten pushes started at once. The
//! page's main thread is followed from /proc (how long it ran without a break: its own work holding
//! the event loop, and how long it waited for a core), a timer in the page measures how late the event
//! loop runs (both together), an IPC probe the backend's answer time, and the app's and WebKit's
//! resident memory is read at each stage. Prints what it measured. In `make test` it fails only when
//! a push doesn't finish, the meters didn't run, or a figure is ten times what is measured here (a
//! real regression, not a busy machine); `make load` (GHCR_LOAD_BOUNDS=1) holds the figures to the
//! README's bounds: the page's own work holding the event loop over 100 ms, timers over 250 ms late,
//! memory past 1 GB.

use ghcr_webdriver_tests::{
    app_memory, debug_app, docker, docker_images, ensure, env_refs, layered_image, open_view,
    processes_of, signed_in_env, stack, unique, user_with_token, wait_for, wait_for_within, App,
    Client, Locator,
};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const IMAGES: usize = 5000;
const PUSHES: usize = 10;
/// The bounds `make load` holds the figures to (GHCR_LOAD_BOUNDS=1), and the wide ones of `make test`.
struct Bounds {
    /// The longest the page's own work may hold its event loop (measured here: 19–27 ms).
    blocked_ms: f64,
    /// The latest a 16 ms timer may fire: the page's work plus waiting for a core. On the 2-core test
    /// machine, where dockerd, the registry, Xvfb and WebDriver share the cores with ten pushes, the
    /// page's main thread waits up to ~130 ms in 150 for a core (measured, see the README).
    late_ms: f64,
    /// How many ticks may be later than that, and by how much at most: runs on the 2-core test machine
    /// saw pauses of 0.3–1.8 s during the ten pushes, with the page's thread neither working nor
    /// waiting for a core — asleep, waiting on something outside the page (the cause is not found).
    late_ticks: usize,
    one_off_late_ms: f64,
    /// The app and its WebKit processes together (measured 182–259 MB + 389–503 MB).
    rss_mb: u64,
}

impl Bounds {
    fn in_effect() -> Bounds {
        if std::env::var_os("GHCR_LOAD_BOUNDS").is_some() {
            Bounds {
                blocked_ms: 100.0,
                late_ms: 250.0,
                late_ticks: 3,
                one_off_late_ms: 3000.0,
                rss_mb: 1024,
            }
        } else {
            // Far past the measured worst: a page whose own work holds the loop for a second is a
            // defect on any machine (the sampler, starved on a busy machine, can lengthen a stretch
            // it saw); lateness belongs to the machine, not the page.
            Bounds {
                blocked_ms: 1000.0,
                late_ms: f64::INFINITY,
                late_ticks: usize::MAX,
                one_off_late_ms: f64::INFINITY,
                rss_mb: 2048,
            }
        }
    }
}

/// Loads IMAGES tiny images (`load/img-NNNN:1`, one shared layer, a config each) with one
/// `docker load`, unless they are there from an earlier run.
fn five_thousand_images() {
    let present = docker_images(&["-q", "--filter", "reference=load/*"]);
    if present.lines().count() >= IMAGES {
        return;
    }
    let dir = tempfile::tempdir().expect("a temp dir");
    let root = dir.path();
    std::fs::write(root.join("hello.txt"), "load\n").expect("a file");
    // tar -cf OUT -C DIR ENTRY
    let tar = |out: &std::path::Path, dir: &std::path::Path, entry: &str| {
        let mut command = Command::new("tar");
        command.arg("-cf").arg(out).arg("-C").arg(dir).arg(entry);
        assert!(command.status().expect("tar runs").success(), "{command:?}");
    };
    let archive = root.join("archive");
    std::fs::create_dir(&archive).expect("a folder");
    let layer = archive.join("layer.tar");
    tar(&layer, root, "hello.txt");
    let sum = Command::new("sha256sum")
        .arg(&layer)
        .output()
        .expect("sha256sum runs");
    let diff_id = String::from_utf8_lossy(&sum.stdout)
        .split_whitespace()
        .next()
        .expect("a digest")
        .to_string();
    let mut manifest = Vec::new();
    for index in 0..IMAGES {
        let config = serde_json::json!({
            "architecture": "amd64", "os": "linux", "created": "2026-01-01T00:00:00Z",
            "config": {"Labels": {"load.index": index.to_string()}},
            "rootfs": {"type": "layers", "diff_ids": [format!("sha256:{diff_id}")]},
        });
        let name = format!("config-{index}.json");
        std::fs::write(archive.join(&name), config.to_string()).expect("a config");
        manifest.push(serde_json::json!({
            "Config": name, "RepoTags": [format!("load/img-{index:04}:1")], "Layers": ["layer.tar"],
        }));
    }
    std::fs::write(
        archive.join("manifest.json"),
        serde_json::Value::from(manifest).to_string(),
    )
    .expect("manifest.json");
    let images = root.join("images.tar");
    tar(&images, &archive, ".");
    let status = Command::new("docker")
        .args(["load", "-q", "-i", images.to_str().unwrap()])
        .env("DOCKER_HOST", stack("DOCKER_HOST"))
        .stdout(Stdio::null())
        .status()
        .expect("docker load runs");
    assert!(status.success(), "docker load");
}

/// Resident memory in MB of the running app and of its child processes (WebKit's).
fn resident_mb() -> (u64, u64) {
    let (app, webkit) = app_memory(&debug_app());
    (app.rss / 1024, webkit.rss / 1024)
}

/// Follows the page's main thread (the web process's first thread) from outside: every 2 ms, the CPU
/// time it has had and the time it has waited, runnable, for a core (/proc/PID/schedstat). The page
/// meter's timer lateness is both together; this tells them apart: a stretch in which the thread ran
/// the whole time is the page's own work holding its event loop, waiting is the machine being busy.
struct MainThread {
    samples: std::sync::Arc<std::sync::Mutex<Vec<(Instant, u64, u64)>>>,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl MainThread {
    fn follow() -> Option<MainThread> {
        let (_, children) = processes_of(&debug_app());
        let web = children.into_iter().find(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm"))
                .is_ok_and(|comm| comm.starts_with("WebKitWebProc"))
        })?;
        let samples = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (into, until) = (samples.clone(), stop.clone());
        std::thread::spawn(move || {
            let path = format!("/proc/{web}/schedstat");
            while !until.load(std::sync::atomic::Ordering::Relaxed) {
                let Ok(text) = std::fs::read_to_string(&path) else {
                    break;
                };
                let mut fields = text
                    .split_whitespace()
                    .map(|f| f.parse::<u64>().unwrap_or(0));
                let (ran, waited) = (fields.next().unwrap_or(0), fields.next().unwrap_or(0));
                into.lock().unwrap().push((Instant::now(), ran, waited));
                std::thread::sleep(Duration::from_millis(2));
            }
        });
        Some(MainThread { samples, stop })
    }

    /// Since the last reading: the longest stretch the thread ran without a break (ms; a sample
    /// interval counts as running when the thread had at least 80% of it), and the most it waited for
    /// a core in any 150 ms.
    fn read(&self) -> (f64, f64) {
        let samples = std::mem::take(&mut *self.samples.lock().unwrap());
        let (mut longest, mut stretch, mut most_waited) = (0.0f64, 0.0f64, 0.0f64);
        let mut start = 0;
        for i in 1..samples.len() {
            let (at, ran, _) = samples[i];
            let (before, ran_before, _) = samples[i - 1];
            let wall = at.duration_since(before).as_secs_f64() * 1000.0;
            let busy = ran.saturating_sub(ran_before) as f64 / 1e6;
            stretch = if busy >= 0.8 * wall {
                stretch + wall
            } else {
                0.0
            };
            longest = longest.max(stretch);
            while at.duration_since(samples[start].0) > Duration::from_millis(150) {
                start += 1;
            }
            most_waited =
                most_waited.max(samples[i].2.saturating_sub(samples[start].2) as f64 / 1e6);
        }
        (longest, most_waited)
    }
}

impl Drop for MainThread {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Starts the page's stall meter and IPC probe (results in `window.loadMeter`).
async fn start_meters(client: &Client) -> Result<(), fantoccini::error::CmdError> {
    client
        .execute(
            r#"
            const meter = { stall: 0, ticks: 0, over50: 0, ipcMax: 0, ipcCalls: 0, log: [] };
            const t0 = performance.now();
            meter.mark = (what) => meter.log.push([Math.round(performance.now() - t0), what]);
            window.loadMeter = meter;
            let last = performance.now();
            const tick = () => {
              const now = performance.now();
              const late = now - last - 16;
              if (late > meter.stall) meter.stall = late;
              if (late > 50) { meter.over50 += 1; meter.log.push([Math.round(now - t0), Math.round(late)]); }
              meter.ticks += 1;
              last = now;
              setTimeout(tick, 16);
            };
            setTimeout(tick, 16);
            const probe = async () => {
              const asked = performance.now();
              try { await window.__TAURI__.core.invoke('tag_check', { target: 'ghcr.io/octo/probe:1' }); } catch {}
              const took = performance.now() - asked;
              if (took > meter.ipcMax) meter.ipcMax = took;
              meter.ipcCalls += 1;
              setTimeout(probe, 100);
            };
            probe();
            "#,
            vec![],
        )
        .await
        .map(|_| ())
}

/// The meters' readings so far, then zeroed for the next stage.
async fn read_meters(client: &Client) -> Result<serde_json::Value, fantoccini::error::CmdError> {
    client
        .execute(
            "const m = window.loadMeter; const copy = { ...m }; \
             m.stall = 0; m.ticks = 0; m.over50 = 0; m.ipcMax = 0; m.ipcCalls = 0; m.log = []; return copy;",
            vec![],
        )
        .await
}

#[tokio::test]
#[ignore = "a measurement that puts 5,000 images into the shared engine: `make load` runs it alone"]
async fn with_5000_images_and_10_pushes_at_once_the_window_never_stalls_and_memory_stays_bounded() {
    let started = Instant::now();
    five_thousand_images();
    let loaded = started.elapsed();
    let (login, token) = user_with_token("Wd-Load", &[], "classic", &["write:packages"]).await;
    let owner = login.to_lowercase();
    let name = unique("wd-load");
    let sources: Vec<String> = (0..PUSHES).map(|i| format!("{name}-{i}:1")).collect();
    for source in &sources {
        layered_image(source, &[4_000_000, 4_000_000]);
    }
    let registry = stack("GHCR_TEST_REGISTRY_TOKEN");
    let env = signed_in_env(&token);
    let env = env_refs(&env);
    let targets: Vec<String> = (0..PUSHES)
        .map(|i| format!("{registry}/{owner}/{name}-{i}:1"))
        .collect();
    let requests: Vec<(String, String)> = sources.iter().cloned().zip(targets.clone()).collect();
    let pushed: Vec<String> = sources.iter().chain(&targets).cloned().collect();

    App::launch("load", &env)
        .await
        .check(|client| async move {
            wait_for_within(&client, "#image-filter", Duration::from_secs(30))
                .await?;
            let main_thread = MainThread::follow();
            ensure(main_thread.is_some(), "the web process is found")?;
            let main_thread = main_thread.unwrap();
            start_meters(&client).await?;
            main_thread.read();
            // The list of 5,000: wait for the count, then filter as a person types and scroll.
            let shown = Instant::now();
            let mut count = String::new();
            while shown.elapsed() < Duration::from_secs(60) {
                count = client.find(Locator::Id("image-count")).await?.text().await?;
                let tagged: usize = count
                    .split_whitespace()
                    .next()
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(0);
                if tagged >= IMAGES {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            let list_time = shown.elapsed();
            println!("load: the count read {count:?} after {list_time:.1?}");
            ensure(count.starts_with('5'), format!("the count says {count:?}"))?;
            let filter = client.find(Locator::Id("image-filter")).await?;
            client.execute("window.loadMeter.mark('typing')", vec![]).await?;
            for key in ["i", "m", "g", "-", "4", "9", "9", "9"] {
                filter.send_keys(key).await?;
                tokio::time::sleep(Duration::from_millis(60)).await;
            }
            wait_for(&client, ".image-row[data-reference='load/img-4999:1']")
                .await?;
            client.execute("window.loadMeter.mark('typed')", vec![]).await?;
            // Escape clears the filter, as a person would (WebDriver's own Element Clear runs a script
            // in the page that holds it for several hundred ms: a cost of the driver, not of the app).
            filter.send_keys("\u{e00c}").await?;
            client.execute("window.loadMeter.mark('cleared')", vec![]).await?;
            client
                .execute(
                    "const list = document.querySelector('#image-list') || document.querySelector('.image-list'); \
                     if (list) { list.scrollTop = list.scrollHeight / 2; }",
                    vec![],
                )
                .await?;
            client.execute("window.loadMeter.mark('scrolled')", vec![]).await?;
            tokio::time::sleep(Duration::from_secs(1)).await;
            let images_stage = read_meters(&client).await?;
            let images_thread = main_thread.read();
            let images_memory = resident_mb();

            // Ten pushes at once, as ten drops would start them, watched in Pushes.
            let pushing = Instant::now();
            for (source, target) in &requests {
                client
                    .execute_async(
                        "const [source, target, done] = arguments; \
                         window.__TAURI__.core.invoke('push_start', { request: { source: { kind: 'image', value: source }, target, via: 'direct' } }) \
                           .then(() => done(true), (e) => done(String(e.message)));",
                        vec![source.clone().into(), target.clone().into()],
                    )
                    .await?;
            }
            open_view(&client, "pushes").await?;
            for target in &targets {
                let card = wait_for_within(
                    &client,
                    &format!(
                        ".push-card[data-target='{target}']:is([data-state='done'],[data-state='failed'])"
                    ),
                    Duration::from_secs(300),
                )
                .await?;
                let state = card.attr("data-state").await?.unwrap_or_default();
                ensure(state == "done", format!("{target} ended {state}"))?;
            }
            let push_time = pushing.elapsed();
            let pushes_stage = read_meters(&client).await?;
            let pushes_thread = main_thread.read();
            let pushes_memory = resident_mb();

            let bounds = Bounds::in_effect();
            println!(
                "load: {IMAGES} images (loaded in {loaded:.1?}, listed by the window in {list_time:.1?}); \
                 {PUSHES} pushes of 8 MB in {push_time:.1?}"
            );
            for (stage, meter, (app, webkit), (worked, waited)) in [
                ("5,000 images, filter, scroll", &images_stage, images_memory, images_thread),
                ("10 pushes at once", &pushes_stage, pushes_memory, pushes_thread),
            ] {
                println!(
                    "load: {stage}: longest the page's main thread ran without a break {worked:.0} ms; \
                     timers late by at most {:.0} ms over {} ticks ({} over 50 ms), of which waiting \
                     for a core up to {waited:.0} ms in 150 ms; IPC answer at most {:.0} ms over {} \
                     calls; RSS app {app} MB + WebKit {webkit} MB; late over 50 ms [at ms, late ms]: {}",
                    meter["stall"].as_f64().unwrap_or(-1.0),
                    meter["ticks"],
                    meter["over50"],
                    meter["ipcMax"].as_f64().unwrap_or(-1.0),
                    meter["ipcCalls"],
                    meter["log"],
                );
                ensure(
                    worked <= bounds.blocked_ms,
                    format!("{stage}: the page's own work held its event loop {worked:.0} ms"),
                )?;
                let late = meter["stall"].as_f64().unwrap_or(f64::MAX);
                let over_bound = meter["log"]
                    .as_array()
                    .map(|log| {
                        log.iter()
                            .filter(|entry| entry[1].as_f64().is_some_and(|l| l > bounds.late_ms))
                            .count()
                    })
                    .unwrap_or(usize::MAX);
                ensure(
                    late <= bounds.one_off_late_ms && over_bound <= bounds.late_ticks,
                    format!(
                        "{stage}: the page's timers ran {late:.0} ms late ({over_bound} ticks over \
                         {} ms)",
                        bounds.late_ms
                    ),
                )?;
                ensure(
                    meter["ticks"].as_u64().unwrap_or(0) > 10,
                    format!("{stage}: the meter ran: {meter}"),
                )?;
                ensure(
                    app > 0 && app + webkit <= bounds.rss_mb,
                    format!("{stage}: {app} MB + {webkit} MB resident"),
                )?;
            }
            Ok(())
        })
        .await;

    // Leave the shared engine as it was for the next run's other tests.
    // (Not `docker()`: an image a failed run never made is no reason to fail here.)
    let _ = Command::new("docker")
        .args(["rmi", "-f"])
        .args(&pushed)
        .env("DOCKER_HOST", stack("DOCKER_HOST"))
        .output();
    let names = docker_images(&[
        "--format",
        "{{.Repository}}:{{.Tag}}",
        "--filter",
        "reference=load/*",
    ]);
    for chunk in names.lines().collect::<Vec<_>>().chunks(500) {
        let mut args = vec!["rmi", "-f"];
        args.extend(chunk.iter().copied());
        docker(&args);
    }
}
