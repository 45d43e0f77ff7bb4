//! The engine's local images through the core and `ghcr`, against the stack's dockerd, with the docker
//! CLI as the witness: listing (IDs, tags, sizes), tagging for the registry, the live event stream, and
//! the engine switcher's probe.

mod common;

use common::{docker, docker_images, import_image, stack, unique};
use ghcr::engine::discovery::{Candidate, Endpoint, Origin};
use ghcr::engine::events::ImageEvent;
use ghcr::engine::images::LocalImage;
use ghcr::engine::watch::{watch_images, ImagesUpdate};
use ghcr::engine::{Engine, Selection};
use ghcr::reference::{tag_target, Reference};
use ghcr::{Code, Config};
use std::collections::BTreeSet;
use std::process::Command;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

fn config() -> Config {
    Config {
        docker_host: Some(stack("DOCKER_HOST")),
        registry: stack("GHCR_TEST_REGISTRY_TOKEN"),
        ..Config::github_com()
    }
}

fn ghcr(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_ghcr"))
        .args(args)
        .env("DOCKER_HOST", stack("DOCKER_HOST"))
        .env("GHCR_REGISTRY", stack("GHCR_TEST_REGISTRY_TOKEN"))
        .output()
        .expect("ghcr runs")
}

#[tokio::test]
async fn lists_imported_and_loaded_images_with_the_ids_tags_and_sizes_docker_reports() {
    let name = unique("list-imported");
    let id = import_image(&format!("{name}:1"));
    docker(&["tag", &format!("{name}:1"), &format!("{name}:two")]);
    let loaded = unique("list-loaded");
    let loaded_id = import_image(&format!("{loaded}:v1"));
    let archive = tempfile::tempdir().unwrap();
    let tar = archive.path().join("saved.tar");
    docker(&["save", "-o", tar.to_str().unwrap(), &format!("{loaded}:v1")]);
    docker(&["rmi", &format!("{loaded}:v1")]);
    docker(&["load", "-i", tar.to_str().unwrap()]);

    let engine = Engine::connect(&config()).await.unwrap();
    let rows = engine.local_images(&config().registry).await.unwrap();

    // Other tests add images meanwhile: compare the names this test made.
    let mine = |reference: &str| reference.starts_with(&name) || reference.starts_with(&loaded);
    let ours: BTreeSet<String> = rows
        .iter()
        .filter_map(|r| r.reference.clone())
        .filter(|r| mine(r))
        .collect();
    let dockers: BTreeSet<String> = docker_images(&["--format", "{{.Repository}}:{{.Tag}}"])
        .lines()
        .filter(|line| mine(line))
        .map(str::to_string)
        .collect();
    assert_eq!(ours.len(), 3, "{ours:?}");
    assert_eq!(ours, dockers, "the same names as `docker images`");
    for reference in [
        format!("{name}:1"),
        format!("{name}:two"),
        format!("{loaded}:v1"),
    ] {
        let row = rows
            .iter()
            .find(|r| r.reference.as_deref() == Some(reference.as_str()))
            .unwrap_or_else(|| panic!("{reference} is listed"));
        let inspected = docker(&["image", "inspect", "--format", "{{.Id}}", &reference]);
        assert_eq!(row.id, inspected, "{reference}");
        assert_eq!(row.short_id, row.id[7..19]);
        // The size `docker images` shows (on the containerd store it is not inspect's Size).
        let listed = docker_images(&["--format", "{{.Repository}}:{{.Tag}} {{.Size}}"]);
        let shown = listed
            .lines()
            .find_map(|line| line.strip_prefix(&format!("{reference} ")))
            .unwrap_or_else(|| panic!("docker images lists {reference}: {listed}"));
        assert_eq!(
            human_size(row.size),
            shown,
            "{reference}: {} bytes",
            row.size
        );
    }
    assert!(rows.iter().any(|r| r.id == id && r.tag == "two"));
    assert!(rows.iter().any(|r| r.id == loaded_id && r.tag == "v1"));
}

#[tokio::test]
async fn the_list_holds_while_another_client_imports_and_deletes_images() {
    // Docker 26's containerd store (a 404 naming content of an image deleted meanwhile) and Podman (a
    // 500, "image not known") fail plain listings in this churn; the app's watcher lists right after
    // each such delete.
    // The churn goes on until both sides have done their share — not for a fixed time, which a busy
    // machine would spend on fewer listings.
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::sync::Arc;
    const ROUNDS: usize = 30;
    const LISTINGS: usize = 10;
    let name = unique("churn");
    let (rounds, stop) = (
        Arc::new(AtomicUsize::new(0)),
        Arc::new(AtomicBool::new(false)),
    );
    let churn = {
        let (rounds, stop) = (rounds.clone(), stop.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::SeqCst) {
                let reference = format!("{name}:{}", rounds.load(Ordering::SeqCst));
                import_image(&reference);
                docker(&["rmi", &reference]);
                rounds.fetch_add(1, Ordering::SeqCst);
            }
        })
    };
    let engine = Engine::connect(&config()).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(600);
    let mut listings = 0;
    while rounds.load(Ordering::SeqCst) < ROUNDS || listings < LISTINGS {
        assert!(
            Instant::now() < deadline && !churn.is_finished(),
            "the churn stopped after {rounds:?} rounds and {listings} listings"
        );
        if let Err(error) = engine.local_images(&config().registry).await {
            stop.store(true, Ordering::SeqCst);
            panic!("listing {listings} failed: {error:?}");
        }
        listings += 1;
    }
    stop.store(true, Ordering::SeqCst);
    churn.join().expect("the churn ran");
    println!("{listings} listings during {rounds:?} imports and deletes");
}

/// A size as the docker CLI prints it (go-units' HumanSizeWithPrecision(size, 3): decimal units,
/// three significant digits, no trailing zeros).
fn human_size(bytes: u64) -> String {
    let units = ["B", "kB", "MB", "GB", "TB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit < units.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    let decimals = if value >= 100.0 {
        0
    } else if value >= 10.0 {
        1
    } else {
        2
    };
    let text = format!("{value:.decimals$}");
    let text = if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.')
    } else {
        &text
    };
    format!("{text}{}", units[unit])
}

#[test]
fn sizes_read_as_the_docker_cli_prints_them() {
    let shown: Vec<String> = [887, 9078, 11_331, 303_843, 1_000_000, 6_000_000, 90_000_000]
        .into_iter()
        .map(human_size)
        .collect();
    assert_eq!(
        shown,
        ["887B", "9.08kB", "11.3kB", "304kB", "1MB", "6MB", "90MB"]
    );
}

#[tokio::test]
async fn tagging_through_the_core_creates_the_tag_docker_sees() {
    let config = config();
    let name = unique("tag-core");
    let id = import_image(&format!("{name}:src"));
    let target = tag_target(&format!("octo/{name}:1.0"), &config.registry).unwrap();
    let engine = Engine::connect(&config).await.unwrap();
    engine.tag(&format!("{name}:src"), &target).await.unwrap();

    let inspected = docker(&[
        "image",
        "inspect",
        "--format",
        "{{.Id}}",
        &target.to_string(),
    ]);
    assert_eq!(inspected, id);
    let rows = engine.local_images(&config.registry).await.unwrap();
    let row = |reference: &str| {
        rows.iter()
            .find(|r| r.reference.as_deref() == Some(reference))
            .unwrap()
    };
    assert!(
        row(&target.to_string()).for_registry,
        "the new name is for the registry"
    );
    assert!(
        !row(&format!("{name}:src")).for_registry,
        "the source name is not"
    );
}

#[tokio::test]
async fn tagging_an_image_that_is_not_there_is_image_not_found() {
    let engine = Engine::connect(&config()).await.unwrap();
    let target = Reference::parse("ghcr.io/octo/nothing:1").unwrap();
    let error = engine.tag(&unique("absent"), &target).await.unwrap_err();
    assert_eq!(error.code, Code::ImageNotFound, "{error}");
}

#[test]
fn ghcr_tag_refuses_an_uppercase_owner_with_the_fixed_name() {
    let name = unique("tag-upper");
    import_image(&format!("{name}:1"));
    let registry = stack("GHCR_TEST_REGISTRY_TOKEN");
    let output = ghcr(&[
        "tag",
        &format!("{name}:1"),
        &format!("{registry}/Octo/{name}:1"),
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("\"Octo\" has uppercase letters"),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("hint: Use {registry}/octo/{name}:1")),
        "{stderr}"
    );
    let ok = ghcr(&["tag", &format!("{name}:1"), &format!("octo/{name}")]);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&ok.stdout).trim(),
        format!("Tagged {name}:1 as {registry}/octo/{name}:latest")
    );
    docker(&[
        "image",
        "inspect",
        &format!("{registry}/octo/{name}:latest"),
    ]);
}

#[test]
fn ghcr_images_json_lists_what_docker_lists() {
    let name = unique("cli-images");
    let id = import_image(&format!("{name}:7"));
    let output = ghcr(&["images", "--json"]);
    assert!(output.status.success());
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&output.stdout).unwrap();
    let row = rows
        .iter()
        .find(|r| r["reference"] == format!("{name}:7"))
        .expect("the new image is listed");
    assert_eq!(row["id"], id);
    assert_eq!(row["repository"], name);
    assert_eq!(row["tag"], "7");
    let text = ghcr(&["images"]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.starts_with("REPOSITORY"), "{text}");
    assert!(text.contains(&id[7..19]), "{text}");
}

/// Starts the core's image watcher on the stack's engine; its updates arrive on the receiver.
fn start_watcher() -> (
    tokio::task::JoinHandle<()>,
    mpsc::UnboundedReceiver<ImagesUpdate>,
) {
    let (sender, updates) = mpsc::unbounded_channel();
    let watcher = tokio::spawn(async move {
        watch_images(&config(), &Selection::Automatic, |update| {
            sender.send(update).is_ok()
        })
        .await
    });
    (watcher, updates)
}

/// The watcher's list as the window keeps it: the snapshot, amended by each change.
#[derive(Default)]
struct Shown(Vec<LocalImage>);

impl Shown {
    /// Waits for the first update after which `wanted` holds of the list; returns the list, the
    /// events of that update and how long it took. Fails after `limit`.
    async fn until(
        &mut self,
        updates: &mut mpsc::UnboundedReceiver<ImagesUpdate>,
        limit: Duration,
        wanted: impl Fn(&[LocalImage]) -> bool,
    ) -> (Vec<LocalImage>, Vec<ImageEvent>, Duration) {
        let started = Instant::now();
        loop {
            let left = limit.saturating_sub(started.elapsed());
            let events = match tokio::time::timeout(left, updates.recv()).await {
                Ok(Some(ImagesUpdate::Snapshot { images, .. })) => {
                    self.0 = images;
                    vec![]
                }
                Ok(Some(ImagesUpdate::Changes {
                    changed,
                    removed,
                    events,
                    ..
                })) => {
                    self.0.retain(|row| {
                        !removed.iter().any(|key| key == row.key())
                            && !changed.iter().any(|new| new.key() == row.key())
                    });
                    self.0.extend(changed);
                    events
                }
                Ok(Some(ImagesUpdate::Disconnected { .. })) => continue,
                Ok(None) => panic!("the watcher stopped"),
                Err(_) => panic!("no matching update within {limit:?}"),
            };
            if wanted(&self.0) {
                return (self.0.clone(), events, started.elapsed());
            }
        }
    }
}

/// How long an engine event may take to reach the watcher's list: ten times and more what it takes
/// (0.1–0.5 s here, printed), so that only a watcher that missed the event fails — not a busy machine.
const EVENT_REACHES_THE_LIST: Duration = Duration::from_secs(20);

fn has(images: &[LocalImage], reference: &str) -> bool {
    images
        .iter()
        .any(|image| image.reference.as_deref() == Some(reference))
}

#[tokio::test]
async fn tag_untag_and_delete_by_the_docker_cli_reach_the_watcher() {
    let name = unique("live");
    let source = format!("{name}:1");
    let id = import_image(&source);
    let (watcher, mut updates) = start_watcher();
    let mut shown = Shown::default();
    shown
        .until(&mut updates, EVENT_REACHES_THE_LIST, |images| {
            has(images, &source)
        })
        .await;

    let copy = format!("{name}:copy");
    docker(&["tag", &source, &copy]);
    let (_, events, took) = shown
        .until(&mut updates, EVENT_REACHES_THE_LIST, |images| {
            has(images, &copy)
        })
        .await;
    assert!(
        events
            .iter()
            .any(|e| e.action == "tag" && e.name.as_deref() == Some(&copy)),
        "{events:?}"
    );
    println!("tag reached the watcher in {took:?}");

    docker(&["rmi", &copy]);
    let (_, events, _) = shown
        .until(&mut updates, EVENT_REACHES_THE_LIST, |images| {
            !has(images, &copy)
        })
        .await;
    assert!(
        events.iter().any(|e| e.action == "untag" && e.id == id),
        "{events:?}"
    );

    docker(&["rmi", &source]);
    let (images, events, _) = shown
        .until(&mut updates, EVENT_REACHES_THE_LIST, |images| {
            !images.iter().any(|image| image.id == id)
        })
        .await;
    assert!(
        events.iter().any(|e| e.action == "delete" && e.id == id),
        "{events:?}"
    );
    assert!(!has(&images, &source));
    watcher.abort();
}

#[tokio::test]
async fn a_name_moved_to_another_image_leaves_the_first_one_untagged_in_the_watchers_list() {
    let name = unique("moved");
    let first = import_image(&format!("{name}:a"));
    let second = import_image(&format!("{name}:b"));
    let (watcher, mut updates) = start_watcher();
    let mut shown = Shown::default();
    let ours = |images: &[LocalImage]| -> Vec<LocalImage> {
        let mut rows: Vec<LocalImage> = images
            .iter()
            .filter(|row| row.id == first || row.id == second)
            .cloned()
            .collect();
        rows.sort_by(|a, b| (&a.reference, &a.id).cmp(&(&b.reference, &b.id)));
        rows
    };
    let names = |rows: Vec<LocalImage>| -> Vec<(Option<String>, String)> {
        rows.into_iter()
            .map(|row| (row.reference, row.id))
            .collect()
    };
    shown
        .until(&mut updates, EVENT_REACHES_THE_LIST, |images| {
            ours(images).len() == 2
        })
        .await;

    // `docker tag NAME:b NAME:a`: the engine sends one event, about the second image only.
    docker(&["tag", &format!("{name}:b"), &format!("{name}:a")]);
    let (images, _, _) = shown
        .until(&mut updates, EVENT_REACHES_THE_LIST, |images| {
            ours(images).iter().any(LocalImage::untagged)
        })
        .await;
    assert_eq!(
        names(ours(&images)),
        vec![
            (None, first.clone()),
            (Some(format!("{name}:a")), second.clone()),
            (Some(format!("{name}:b")), second.clone()),
        ]
    );
    // The amended list says of these images what a whole new listing says.
    let engine = Engine::select(&config(), &Selection::Automatic)
        .await
        .unwrap();
    let listed = engine.local_images(&config().registry).await.unwrap();
    assert_eq!(ours(&images), ours(&listed));
    watcher.abort();
    docker(&["rmi", &format!("{name}:a"), &format!("{name}:b"), &first]);
}

#[tokio::test]
async fn the_engine_switcher_lists_each_socket_once_with_what_answers() {
    let socket = socket_path();
    let home = tempfile::tempdir().unwrap();
    let desktop = home.path().join("docker.sock");
    std::os::unix::fs::symlink(&socket, &desktop).unwrap();
    let refused = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = refused.local_addr().unwrap().port();
    drop(refused);
    let choices = Engine::probe_all(vec![
        Candidate {
            endpoint: Endpoint::Unix(socket.clone()),
            origin: Origin::SystemDocker,
        },
        Candidate {
            endpoint: Endpoint::Unix(desktop),
            origin: Origin::DockerDesktop,
        },
        Candidate {
            endpoint: Endpoint::Unix(home.path().join("missing.sock")),
            origin: Origin::RootlessPodman,
        },
        Candidate {
            endpoint: Endpoint::Tcp {
                host: "127.0.0.1".into(),
                port,
            },
            origin: Origin::DockerHost,
        },
    ])
    .await;
    let summary: Vec<(Origin, bool)> = choices
        .iter()
        .map(|c| (c.origin, c.info.is_some()))
        .collect();
    assert_eq!(
        summary,
        vec![(Origin::SystemDocker, true), (Origin::DockerHost, false)],
        "the symlink to the same socket and the missing socket are left out"
    );
    assert_eq!(
        choices[1].error.as_ref().map(|e| e.code),
        Some(Code::EngineUnreachable)
    );
    let picked = Selection::Picked(Candidate {
        endpoint: Endpoint::Unix(socket),
        origin: Origin::SystemDocker,
    });
    let engine = Engine::select(&config(), &picked).await.unwrap();
    assert_eq!(engine.info().origin, Origin::SystemDocker);
    // Picking DOCKER_HOST by its address keeps the origin it is listed under, without connecting.
    let picked = Selection::picked(&config(), &stack("DOCKER_HOST")).unwrap();
    assert!(
        matches!(&picked, Selection::Picked(c) if c.origin == Origin::DockerHost && c.endpoint == Endpoint::Unix(socket_path())),
        "{picked:?}"
    );
}

fn socket_path() -> std::path::PathBuf {
    match ghcr::engine::discovery::parse_docker_host(&stack("DOCKER_HOST")).unwrap() {
        Endpoint::Unix(path) => path,
        other => panic!("the stack's engine is on a unix socket, not {other}"),
    }
}
