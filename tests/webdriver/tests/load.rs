//! Load (`make load`, not part of `make test`: it is a measurement on a shared 2-core machine, like the
//! push benchmark, and it puts 5,000 images into the stack's engine): the real window with
//! a 5,000-image engine and ten pushes started at once. A timer in the page measures how late the UI's
//! event loop runs (a 16 ms timer that fires more than 100 ms late means the window froze that long),
//! an IPC probe measures the backend's answer time, and the app's and WebKit's resident memory is read
//! from /proc at each stage. Prints what it measured; fails on a stall over 100 ms, a push that doesn't
//! finish, or memory growing past its bound.

use ghcr_webdriver_tests::{
    docker, ensure, env_refs, layered_image, open_view, signed_in_env, stack, target_dir, unique,
    user_with_token, App, Client, Locator,
};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const IMAGES: usize = 5000;
const PUSHES: usize = 10;
/// The longest the page's event loop may be held, as the issue asks.
const MAX_STALL_MS: f64 = 100.0;
/// The app and its WebKit processes together (measured 182–261 MB + 391–486 MB; see the README).
const MAX_RSS_MB: u64 = 1024;

/// Loads IMAGES tiny images (`load/img-NNNN:1`, one shared layer, a config each) with one
/// `docker load`, unless they are there from an earlier run.
fn five_thousand_images() {
    let present = docker(&["images", "-q", "--filter", "reference=load/*"]);
    if present.lines().count() >= IMAGES {
        return;
    }
    let dir = tempfile::tempdir().expect("a temp dir");
    let root = dir.path();
    std::fs::write(root.join("hello.txt"), "load\n").expect("a file");
    let tar = |args: &[&str]| {
        let status = Command::new("tar").args(args).status().expect("tar runs");
        assert!(status.success(), "tar {args:?}");
    };
    let archive = root.join("archive");
    std::fs::create_dir(&archive).expect("a folder");
    let layer = archive.join("layer.tar");
    tar(&[
        "-cf",
        layer.to_str().unwrap(),
        "-C",
        root.to_str().unwrap(),
        "hello.txt",
    ]);
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
    tar(&[
        "-cf",
        images.to_str().unwrap(),
        "-C",
        archive.to_str().unwrap(),
        ".",
    ]);
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
    let app = target_dir().join("debug/ghcr-desktop");
    let app = app.canonicalize().unwrap_or(app);
    let pids = Command::new("pgrep")
        .args(["-n", "-f", app.to_str().unwrap_or_default()])
        .output()
        .expect("pgrep runs");
    let pid = String::from_utf8_lossy(&pids.stdout).trim().to_string();
    let rss = |pid: &str| -> u64 {
        std::fs::read_to_string(format!("/proc/{pid}/status"))
            .unwrap_or_default()
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
            .unwrap_or(0)
            / 1024
    };
    let children = Command::new("pgrep")
        .args(["-P", &pid])
        .output()
        .expect("pgrep runs");
    let webkit = String::from_utf8_lossy(&children.stdout)
        .lines()
        .map(|child| rss(child.trim()))
        .sum();
    (rss(&pid), webkit)
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

    App::launch("load", &env)
        .await
        .check(|client| async move {
            client
                .wait()
                .at_most(Duration::from_secs(30))
                .for_element(Locator::Id("image-filter"))
                .await?;
            start_meters(&client).await?;
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
            client
                .wait()
                .at_most(Duration::from_secs(10))
                .for_element(Locator::Css(".image-row[data-reference='load/img-4999:1']"))
                .await?;
            client.execute("window.loadMeter.mark('typed')", vec![]).await?;
            filter.clear().await?;
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
                let card = client
                    .wait()
                    .at_most(Duration::from_secs(300))
                    .for_element(Locator::Css(&format!(
                        ".push-card[data-target='{target}']:is([data-state='done'],[data-state='failed'])"
                    )))
                    .await?;
                let state = card.attr("data-state").await?.unwrap_or_default();
                ensure(state == "done", format!("{target} ended {state}"))?;
            }
            let push_time = pushing.elapsed();
            let pushes_stage = read_meters(&client).await?;
            let pushes_memory = resident_mb();

            println!(
                "load: {IMAGES} images (loaded in {loaded:.1?}, listed by the window in {list_time:.1?}); \
                 {PUSHES} pushes of 8 MB in {push_time:.1?}"
            );
            for (stage, meter, (app, webkit)) in [
                ("5,000 images, filter, scroll", &images_stage, images_memory),
                ("10 pushes at once", &pushes_stage, pushes_memory),
            ] {
                println!(
                    "load: {stage}: longest stall {:.0} ms over {} ticks ({} over 50 ms); \
                     IPC answer at most {:.0} ms over {} calls; RSS app {app} MB + WebKit {webkit} MB; \
                     stalls over 50 ms [at ms, late ms]: {}",
                    meter["stall"].as_f64().unwrap_or(-1.0),
                    meter["ticks"],
                    meter["over50"],
                    meter["ipcMax"].as_f64().unwrap_or(-1.0),
                    meter["ipcCalls"],
                    meter["log"],
                );
                let stall = meter["stall"].as_f64().unwrap_or(f64::MAX);
                ensure(
                    stall <= MAX_STALL_MS,
                    format!("{stage}: the window's event loop stalled {stall:.0} ms"),
                )?;
                ensure(
                    meter["ticks"].as_u64().unwrap_or(0) > 10,
                    format!("{stage}: the meter ran: {meter}"),
                )?;
                ensure(
                    app > 0 && app + webkit <= MAX_RSS_MB,
                    format!("{stage}: {app} MB + {webkit} MB resident"),
                )?;
            }
            Ok(())
        })
        .await;

    // Leave the shared engine as it was for the next run's other tests.
    let names = docker(&[
        "images",
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
