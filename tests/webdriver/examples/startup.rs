//! Measurement (not a test): start-up time and idle memory of a build of the app, run by
//! scripts/startup-memory.sh on the release build. Starts GHCR_APP (default target/release/ghcr-desktop)
//! RUNS times (default 5) on DOCKER_HOST's images; each time reads when the process was started (/proc),
//! when the page's navigation began and its DOM was ready, and when the first frame with the Images
//! list's rows was drawn (the page's `data-frame-at`); then, after IDLE_SECONDS (default 30) of idle,
//! the resident memory (RSS) and proportional share (PSS) of the app and its WebKit processes. Prints
//! each run and the medians, prefixed with LABEL.
use ghcr_webdriver_tests::{app_memory, processes_of, target_dir, wait_for_within, App, Memory};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// One start: milliseconds from exec to the page's navigation, its DOM ready, the images command sent,
/// the rows laid out and drawn; the rows; and the memory of the app and of its WebKit processes after
/// the idle wait.
#[derive(Clone, Copy, Default)]
struct Start {
    page_ms: u64,
    dom_ms: u64,
    command_ms: u64,
    laid_out_ms: u64,
    rows_ms: u64,
    rows: u64,
    app: Memory,
    webkit: Memory,
}

/// When process `pid` was started, in ms since 1970: its start in clock ticks after boot (/proc/PID/stat)
/// plus the boot's wall-clock time (now minus /proc/uptime, which counts in 10 ms steps).
fn started_at_ms(pid: &str) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces; starttime is field 22.
    let after_name = &stat[stat.rfind(')')? + 2..];
    let ticks: u64 = after_name.split_whitespace().nth(19)?.parse().ok()?;
    // SAFETY: sysconf(3) reads a constant of the system; no memory is involved.
    let hz = u64::try_from(unsafe { libc::sysconf(libc::_SC_CLK_TCK) }).ok()?;
    let uptime: f64 = std::fs::read_to_string("/proc/uptime")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .ok()?
        .as_millis() as u64;
    let boot_ms = now_ms - (uptime * 1000.0) as u64;
    Some(boot_ms + ticks * 1000 / hz)
}

fn median(mut values: Vec<u64>) -> u64 {
    values.sort_unstable();
    values[values.len() / 2]
}

fn mb(kib: u64) -> u64 {
    kib * 1024 / 1_000_000
}

#[tokio::main]
async fn main() {
    let setting = |name: &str, default: u64| {
        std::env::var(name)
            .ok()
            .and_then(|value| value.parse().ok())
            .unwrap_or(default)
    };
    let runs = setting("RUNS", 5);
    let idle = Duration::from_secs(setting("IDLE_SECONDS", 30));
    let label = std::env::var("LABEL").unwrap_or_default();
    let application = std::env::var_os("GHCR_APP")
        .map(PathBuf::from)
        .unwrap_or_else(|| target_dir().join("release/ghcr-desktop"));
    let docker_host =
        std::env::var("DOCKER_HOST").expect("DOCKER_HOST: the engine whose images to list");
    let mut env = vec![("DOCKER_HOST", docker_host.as_str())];
    let compositing = std::env::var("WEBKIT_DISABLE_COMPOSITING_MODE").unwrap_or_default();
    if !compositing.is_empty() {
        env.push(("WEBKIT_DISABLE_COMPOSITING_MODE", compositing.as_str()));
    }

    let mut starts = Vec::new();
    for run in 1..=runs {
        let found = Arc::new(Mutex::new(None));
        let into = found.clone();
        let app = application.clone();
        App::launch_binary("startup", &application, &env)
            .await
            .check(|client| async move {
                wait_for_within(&client, "#image-list[data-frame-at]", Duration::from_secs(60)).await?;
                let (pid, _) = processes_of(&app);
                let exec_ms = started_at_ms(&pid).ok_or("the app's start time in /proc")?;
                let page = client
                    .execute(
                        "const nav = performance.getEntriesByType('navigation')[0]; \
                         const list = document.getElementById('image-list'); \
                         return [performance.timeOrigin, nav ? nav.domContentLoadedEventEnd : 0, \
                                 Number(list.dataset.frameAt), document.querySelectorAll('.image-row').length, \
                                 Number(list.dataset.frameMs), Number(list.dataset.loadMs)];",
                        vec![],
                    )
                    .await?;
                let number = |i: usize| page[i].as_f64().unwrap_or(0.0);
                let (origin, dom, frame_at, rows) = (number(0), number(1), number(2), number(3));
                // The page measured from the command to the rows laid out and to the frame.
                let command_at = frame_at - number(4);
                let since_exec = |at: f64| (at as u64).saturating_sub(exec_ms);
                tokio::time::sleep(idle).await;
                let (app_only, webkit) = app_memory(&app);
                *into.lock().unwrap() = Some(Start {
                    page_ms: since_exec(origin),
                    dom_ms: since_exec(origin + dom),
                    command_ms: since_exec(command_at),
                    laid_out_ms: since_exec(command_at + number(5)),
                    rows_ms: since_exec(frame_at),
                    rows: rows as u64,
                    app: app_only,
                    webkit,
                });
                Ok(())
            })
            .await;
        let start = found.lock().unwrap().expect("a measurement");
        println!(
            "{label}run {run}: exec → page {} ms → DOM ready {} ms → images command {} ms → {} rows \
             laid out {} ms → drawn {} ms; after {}s idle: app RSS {} MB (PSS {}), WebKit RSS {} MB \
             (PSS {}), total PSS {} MB",
            start.page_ms,
            start.dom_ms,
            start.command_ms,
            start.rows,
            start.laid_out_ms,
            start.rows_ms,
            idle.as_secs(),
            mb(start.app.rss),
            mb(start.app.pss),
            mb(start.webkit.rss),
            mb(start.webkit.pss),
            mb(start.app.pss + start.webkit.pss),
        );
        starts.push(start);
    }
    let of = |pick: fn(&Start) -> u64| median(starts.iter().map(pick).collect());
    println!(
        "{label}median of {runs}: rows drawn {} ms after exec (page {} ms, DOM ready {} ms, images \
         command {} ms, rows laid out {} ms); idle memory: PSS {} MB (app {} + WebKit {}), RSS {} MB \
         (app {} + WebKit {})",
        of(|s| s.rows_ms),
        of(|s| s.page_ms),
        of(|s| s.dom_ms),
        of(|s| s.command_ms),
        of(|s| s.laid_out_ms),
        mb(of(|s| s.app.pss + s.webkit.pss)),
        mb(of(|s| s.app.pss)),
        mb(of(|s| s.webkit.pss)),
        mb(of(|s| s.app.rss + s.webkit.rss)),
        mb(of(|s| s.app.rss)),
        mb(of(|s| s.webkit.rss)),
    );
}
