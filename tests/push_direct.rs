//! Direct push through the core against the stack's dockerd, the token-auth registry and the GHCR
//! emulator: the image pulls back (docker pull) with the source's image ID and the digest skopeo sees;
//! progress is monotonic, ends at each layer's size and comes at most ten times a second; an unchanged
//! re-push finds everything there; a source label keeps the layers; `docker save` archives (plain and
//! gzipped) push with no engine; a read-only token fails before any upload; a cancelled push leaves no
//! tag.

mod common;

use common::{
    assert_every_layer_uploaded_in_full, assert_unknown_to_the_registry, docker, docker_on,
    emulated_github, last_layer_states, layered_image, make_public, new_token, new_user,
    next_update, one_file_layer, skopeo, stack, store_under_test, three_layer_image,
};
use ghcr::engine::ImageStore;
use ghcr::push::progress::{LayerState, Snapshot};
use ghcr::push::{push, PushPlan, PushRequest, PushSource, Via};
use ghcr::registry::session::Credentials;
use ghcr::secret::Secret;
use ghcr::{Code, Config};
use std::path::Path;
use std::time::{Duration, Instant};

fn config(cache: &Path) -> Config {
    Config {
        docker_host: Some(stack("DOCKER_HOST")),
        cache_dir: Some(cache.to_path_buf()),
        ..emulated_github()
    }
}

async fn writer(prefix: &str) -> (String, String) {
    let login = new_user(prefix).await;
    let token = new_token(&login, "classic", &["write:packages"]).await;
    (login, token)
}

fn credentials(login: &str, token: &str) -> Credentials {
    Credentials {
        login: login.to_string(),
        token: Secret::new(token.to_string()),
    }
}

/// The checked plan of a push of `source` to `target` on the test world's registry.
fn plan(source: PushSource, target: &str) -> PushPlan {
    request(source, target)
        .checked(&emulated_github())
        .expect("a valid target")
}

fn request(source: PushSource, target: &str) -> PushRequest {
    PushRequest {
        source,
        target: target.to_string(),
        via: Via::Direct,
        source_repository: None,
        engine: None,
        compression: Default::default(),
    }
}

fn registry_digest(reference: &str, login: &str, token: &str) -> String {
    let inspect = skopeo(&["inspect", &format!("docker://{reference}")], login, token)
        .expect("skopeo inspect");
    let value: serde_json::Value = serde_json::from_str(&inspect).unwrap();
    value["Digest"].as_str().unwrap().to_string()
}

fn registry_config(reference: &str, login: &str, token: &str) -> serde_json::Value {
    let config = skopeo(
        &["inspect", "--config", &format!("docker://{reference}")],
        login,
        token,
    )
    .expect("skopeo inspect --config");
    serde_json::from_str(&config).unwrap()
}

#[tokio::test]
async fn a_direct_push_pulls_back_with_the_source_image_id_and_the_registrys_digest() {
    let cache = tempfile::tempdir().unwrap();
    let config = config(cache.path());
    let (login, token) = writer("direct").await;
    let source = format!("direct-source-{login}:1");
    three_layer_image(&source);
    let image_id = docker(&["image", "inspect", "--format", "{{.Id}}", &source]);
    let target = format!("{}/{login}/direct:1", config.registry);

    let started = Instant::now();
    let mut snapshots = Vec::new();
    let pushed = push(
        &config,
        &plan(PushSource::Image(source.clone()), &target),
        credentials(&login, &token),
        |s| snapshots.push((Instant::now(), s.clone())),
    )
    .await
    .unwrap();
    let elapsed = started.elapsed();

    assert_eq!(pushed.digest, registry_digest(&target, &login, &token));
    let only: Vec<Snapshot> = snapshots.iter().map(|(_, s)| s.clone()).collect();
    assert_every_layer_uploaded_in_full(&only, 3);
    // At most ten a second: the ticker's updates, plus the final one.
    let allowed = (elapsed.as_millis() / 100) as usize + 2;
    assert!(
        snapshots.len() <= allowed,
        "{} updates in {elapsed:?}",
        snapshots.len()
    );

    // Pulled back by the docker CLI, it is the same image.
    make_public(&login, "direct").await;
    docker(&["image", "rm", "--force", &image_id]);
    docker(&["pull", "--quiet", &target]);
    assert_eq!(
        docker(&["image", "inspect", "--format", "{{.Id}}", &target]),
        image_id
    );

    // Unchanged: every layer is there already, the manifest is the same.
    let mut again = Vec::new();
    let repushed = push(
        &config,
        &plan(PushSource::Image(target.clone()), &target),
        credentials(&login, &token),
        |s| again.push(s.clone()),
    )
    .await
    .unwrap();
    assert_eq!(repushed.digest, pushed.digest);
    assert_eq!(last_layer_states(&again), vec![LayerState::Existed; 3]);
}

#[tokio::test]
async fn a_source_label_connects_the_repository_and_keeps_the_layers() {
    let cache = tempfile::tempdir().unwrap();
    let config = config(cache.path());
    let (login, token) = writer("direct-label").await;
    let source = format!("direct-label-{login}:1");
    three_layer_image(&source);
    let target = format!("{}/{login}/labelled:1", config.registry);
    let repository = format!(
        "{}/{login}/app",
        config.web_url.as_str().trim_end_matches('/')
    );
    let mut labelled = request(PushSource::Image(source.clone()), &target);
    labelled.source_repository = Some(repository.clone());

    push(
        &config,
        &labelled.checked(&config).unwrap(),
        credentials(&login, &token),
        |_| {},
    )
    .await
    .unwrap();

    let pushed = registry_config(&target, &login, &token);
    assert_eq!(
        pushed["config"]["Labels"]["org.opencontainers.image.source"],
        repository.as_str()
    );
    assert_eq!(
        pushed["config"]["Labels"]["test.name"],
        source.as_str(),
        "other labels stay"
    );
    let local: serde_json::Value = serde_json::from_str(&docker(&[
        "image",
        "inspect",
        "--format",
        "{{json .RootFS.Layers}}",
        &source,
    ]))
    .unwrap();
    assert_eq!(pushed["rootfs"]["diff_ids"], local);
}

#[tokio::test]
async fn docker_save_archives_plain_and_gzipped_push_with_no_engine() {
    let cache = tempfile::tempdir().unwrap();
    let config = Config {
        docker_host: Some("unix:///nonexistent/docker.sock".into()),
        ..config(cache.path())
    };
    let (login, token) = writer("direct-archive").await;
    let source = format!("direct-archive-{login}:1");
    three_layer_image(&source);
    let image_id = docker(&["image", "inspect", "--format", "{{.Id}}", &source]);
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("image.tar");
    docker(&["save", "--output", plain.to_str().unwrap(), &source]);
    let gzipped = dir.path().join("image.tar.gz");
    let status = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "gzip -1 -c {} > {}",
            plain.display(),
            gzipped.display()
        ))
        .status()
        .unwrap();
    assert!(status.success());

    for (archive, tag) in [(&plain, "plain"), (&gzipped, "gzipped")] {
        let target = format!("{}/{login}/archived:{tag}", config.registry);
        let pushed = push(
            &config,
            &plan(PushSource::Archive(archive.clone()), &target),
            credentials(&login, &token),
            |_| {},
        )
        .await
        .unwrap_or_else(|e| panic!("{tag}: {e}"));
        assert_eq!(
            pushed.digest,
            registry_digest(&target, &login, &token),
            "{tag}"
        );
        let manifest: serde_json::Value = serde_json::from_str(
            &skopeo(
                &["inspect", "--raw", &format!("docker://{target}")],
                &login,
                &token,
            )
            .unwrap(),
        )
        .unwrap();
        // The engine's image ID: the config's digest, or on the containerd store the manifest's (the
        // push keeps the manifest of an OCI layout as it is).
        let pushed_id = match store_under_test() {
            ImageStore::Containerd => pushed.digest.clone(),
            _ => manifest["config"]["digest"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        };
        assert_eq!(pushed_id, image_id, "{tag}: same image ID");
    }
}

#[tokio::test]
async fn a_token_without_write_packages_fails_before_any_layer_uploads() {
    let cache = tempfile::tempdir().unwrap();
    let config = config(cache.path());
    let login = new_user("direct-ro").await;
    let token = new_token(&login, "classic", &["read:packages"]).await;
    let source = format!("direct-ro-{login}:1");
    three_layer_image(&source);
    let mut snapshots = Vec::new();
    let error = push(
        &config,
        &plan(
            PushSource::Image(source),
            &format!("{}/{login}/readonly:1", config.registry),
        ),
        credentials(&login, &token),
        |s| snapshots.push(s.clone()),
    )
    .await
    .unwrap_err();
    assert_eq!(error.code, Code::TokenMissingScope, "{error}");
    assert!(error.hint.contains("write:packages"), "{error}");
    assert!(snapshots.iter().all(|s| s.bytes == 0), "{snapshots:?}");
    assert!(!format!("{error:?}").contains(&token));
}

/// Another account's token pushing to an owner it has nothing to do with: the refusal names who can't
/// push where (GitHub asked: the token's login, not a member of the owner), the automatic way, on
/// each engine of the matrix.
#[tokio::test]
async fn another_accounts_token_is_told_it_cannot_push_to_that_owner_by_name() {
    let cache = tempfile::tempdir().unwrap();
    let config = config(cache.path());
    let victim = new_user("octo-cat").await;
    let mallory = new_user("mallory").await;
    let token = new_token(&mallory, "classic", &["write:packages"]).await;
    let source = format!("not-yours-{mallory}:1");
    three_layer_image(&source);
    let error = push(
        &config,
        &PushRequest {
            via: Via::Auto,
            ..request(
                PushSource::Image(source),
                &format!("{}/{victim}/web:1", config.registry),
            )
        }
        .checked(&config)
        .unwrap(),
        credentials(&mallory, &token),
        |_| {},
    )
    .await
    .unwrap_err();
    assert_eq!(error.code, Code::RegistryDenied, "{error}");
    assert!(
        error
            .message
            .contains(&format!("{mallory} can't push to {victim}")),
        "{error}"
    );
    assert!(
        !error.hint.contains("revoked") && !error.message.contains("revoked"),
        "never blamed on the token: {error}"
    );
}

#[tokio::test]
async fn a_cancelled_push_leaves_no_tag() {
    let cache = tempfile::tempdir().unwrap();
    let config = config(cache.path());
    let (login, token) = writer("direct-cancel").await;
    let source = format!("direct-cancel-{login}:1");
    layered_image(&source, &[30_000_000, 30_000_000, 30_000_000]);
    let target = format!("{}/{login}/cancelled:1", config.registry);

    let (sender, mut progress) = tokio::sync::mpsc::unbounded_channel();
    let job = {
        let (config, plan) = (config.clone(), plan(PushSource::Image(source), &target));
        let credentials = credentials(&login, &token);
        tokio::spawn(async move {
            push(&config, &plan, credentials, |s| {
                let _ = sender.send(s.bytes);
            })
            .await
        })
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let bytes = tokio::time::timeout_at(deadline.into(), progress.recv())
            .await
            .expect("progress within a minute")
            .expect("the push is still running");
        if bytes > 0 {
            break;
        }
    }
    job.abort();
    assert!(
        job.await.unwrap_err().is_cancelled(),
        "it was still running"
    );
    tokio::time::sleep(Duration::from_secs(2)).await;

    assert_unknown_to_the_registry(&target, &login, &token);
}

#[tokio::test]
async fn a_push_to_a_new_repository_mounts_the_layers_the_owner_already_pushed() {
    let cache = tempfile::tempdir().unwrap();
    let config = config(cache.path());
    let (login, token) = writer("direct-mount").await;
    let source = format!("direct-mount-{login}:1");
    three_layer_image(&source);
    let first = format!("{}/{login}/first:1", config.registry);
    let second = format!("{}/{login}/second:1", config.registry);
    push(
        &config,
        &plan(PushSource::Image(source.clone()), &first),
        credentials(&login, &token),
        |_| {},
    )
    .await
    .unwrap();

    let mut snapshots = Vec::new();
    let pushed = push(
        &config,
        &plan(PushSource::Image(source), &second),
        credentials(&login, &token),
        |s| snapshots.push(s.clone()),
    )
    .await
    .unwrap();

    assert_eq!(last_layer_states(&snapshots), vec![LayerState::Mounted; 3]);
    assert_eq!(pushed.digest, registry_digest(&second, &login, &token));
    assert_eq!(
        registry_digest(&first, &login, &token),
        pushed.digest,
        "the same image in both repositories"
    );
}

#[tokio::test]
async fn a_token_revoked_mid_push_lets_that_push_finish_and_the_next_fails_once_with_no_tag() {
    use ghcr::push::jobs::{JobState, Jobs};
    let cache = tempfile::tempdir().unwrap();
    let config = config(cache.path());
    let (login, token) = writer("direct-revoked").await;
    let witness = new_token(&login, "classic", &["read:packages"]).await;
    let first = format!("direct-revoked-{login}:1");
    let second = format!("direct-revoked-{login}:2");
    layered_image(&first, &[30_000_000, 30_000_000, 30_000_000]);
    layered_image(&second, &[1_000_000]);
    let first_target = format!("{}/{login}/revoked:1", config.registry);
    let second_target = format!("{}/{login}/revoked:2", config.registry);

    let (sender, mut updates) = tokio::sync::mpsc::unbounded_channel();
    let jobs = Jobs::new(config.clone(), 2, move |update| {
        let _ = sender.send(update.clone());
    });
    let first_id = jobs.submit(
        plan(PushSource::Image(first), &first_target),
        credentials(&login, &token),
    );
    // Revoke on GitHub once bytes are moving.
    loop {
        let update = next_update(&mut updates, Duration::from_secs(60)).await;
        assert!(!update.state.is_finished(), "finished early: {update:?}");
        if update.progress.as_ref().is_some_and(|p| p.bytes > 0) {
            break;
        }
    }
    common::emulator_admin(
        &format!("/_emulator/tokens/{token}/revoke"),
        serde_json::json!({}),
    )
    .await;
    // The registry token it holds stays valid until it expires (five minutes, as on ghcr.io): the push
    // under way finishes, complete.
    let finished = loop {
        let update = next_update(&mut updates, Duration::from_secs(60)).await;
        if update.id == first_id && update.state.is_finished() {
            break update;
        }
    };
    let JobState::Done { pushed, .. } = &finished.state else {
        panic!("the push under way should finish: {finished:?}");
    };
    let inspected = skopeo(
        &["inspect", &format!("docker://{first_target}")],
        &login,
        &witness,
    )
    .unwrap();
    assert!(inspected.contains(&pushed.digest), "{inspected}");

    // The next push is refused at once, as a token problem: no retries, no tag.
    let second_id = jobs.submit(
        plan(PushSource::Image(second), &second_target),
        credentials(&login, &token),
    );
    let mut states = Vec::new();
    let failed = loop {
        let update = next_update(&mut updates, Duration::from_secs(60)).await;
        if update.id != second_id {
            continue;
        }
        states.push(update.state.clone());
        if update.state.is_finished() {
            break update;
        }
    };
    let JobState::Failed { error } = &failed.state else {
        panic!("the push after the revocation should fail: {failed:?}");
    };
    assert_eq!(error.code, Code::TokenInvalid, "{error}");
    assert!(
        !states
            .iter()
            .any(|s| matches!(s, JobState::Retrying { .. })),
        "a revoked token is not retried: {states:?}"
    );
    assert!(!format!("{error:?}").contains(&token));
    assert_unknown_to_the_registry(&second_target, &login, &witness);
}

#[tokio::test]
async fn an_archive_of_a_million_small_files_is_refused_without_filling_memory() {
    let cache = tempfile::tempdir().unwrap();
    let config = config(cache.path());
    let (login, token) = writer("direct-million").await;
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("million.tar.gz");
    {
        let file = std::fs::File::create(&archive).unwrap();
        let gzip = flate2::write::GzEncoder::new(file, flate2::Compression::fast());
        let mut tar = tar::Builder::new(gzip);
        for n in 0..1_000_000u32 {
            let mut header = tar::Header::new_gnu();
            header.set_size(0);
            header.set_mode(0o644);
            header.set_entry_type(tar::EntryType::Regular);
            header.set_cksum();
            tar.append_data(&mut header, format!("f/{n}"), std::io::empty())
                .unwrap();
        }
        tar.into_inner().unwrap().finish().unwrap();
    }
    let target = format!("{}/{login}/million:1", config.registry);
    let started = Instant::now();
    let error = push(
        &config,
        &plan(PushSource::Archive(archive), &target),
        credentials(&login, &token),
        |_| {},
    )
    .await
    .unwrap_err();
    assert_eq!(error.code, Code::ArchiveInvalid, "{error:?}");
    assert!(error.message.contains("not an image"), "{error:?}");
    assert!(started.elapsed() < Duration::from_secs(60));
}

/// A pushed OCI layout folder, made by hand: `oci-layout`, an empty `index.json` and one blob.
fn layout_folder() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("blobs/sha256")).unwrap();
    std::fs::write(
        dir.path().join("oci-layout"),
        r#"{"imageLayoutVersion":"1.0.0"}"#,
    )
    .unwrap();
    std::fs::write(
        dir.path().join("index.json"),
        r#"{"schemaVersion":2,"manifests":[]}"#,
    )
    .unwrap();
    dir
}

#[tokio::test]
async fn a_layout_folder_whose_links_loop_or_leave_it_is_refused_at_once() {
    let cache = tempfile::tempdir().unwrap();
    let config = config(cache.path());
    let (login, token) = writer("direct-links").await;
    let target = format!("{}/{login}/links:1", config.registry);
    let looping = layout_folder();
    std::os::unix::fs::symlink("..", looping.path().join("blobs/sha256/up")).unwrap();
    let leaving = layout_folder();
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret"), "not part of the image").unwrap();
    std::os::unix::fs::symlink(
        outside.path().join("secret"),
        leaving.path().join("blobs/sha256/cc"),
    )
    .unwrap();
    for (folder, why) in [(&looping, "a loop"), (&leaving, "outside the folder")] {
        let pushed = tokio::time::timeout(
            Duration::from_secs(30),
            push(
                &config,
                &plan(PushSource::Archive(folder.path().to_path_buf()), &target),
                credentials(&login, &token),
                |_| {},
            ),
        )
        .await
        .unwrap_or_else(|_| panic!("a folder with {why} is still being read after 30 s"));
        let error = pushed.unwrap_err();
        assert_eq!(error.code, Code::ArchiveInvalid, "{why}: {error:?}");
        assert!(error.message.contains(why), "{why}: {error:?}");
    }
}

#[tokio::test]
async fn an_image_pulled_over_layers_the_engine_already_had_pushes_by_mounting_what_its_export_lacks(
) {
    let cache = tempfile::tempdir().unwrap();
    let config = config(cache.path());
    let (login, token) = writer("direct-pulled").await;
    // An image as another machine would have made it: plain tar layers in a `docker save` archive
    // (the classic engine's), pushed by this app (which compresses them) to a first repository.
    let source = format!("direct-pulled-{login}:1");
    let classic = stack("GHCR_TEST_ENGINE_CLASSIC");
    let dir = tempfile::tempdir().unwrap();
    let layer = one_file_layer(dir.path(), "data.bin", &common::noise(&source, 1_500_000));
    docker_on(&classic, &["import", layer.to_str().unwrap(), &source]);
    let archive = dir.path().join("image.tar");
    docker_on(
        &classic,
        &["save", "--output", archive.to_str().unwrap(), &source],
    );
    let first = format!("{}/{login}/first:1", config.registry);
    let pushed = push(
        &config,
        &plan(PushSource::Archive(archive.clone()), &first),
        credentials(&login, &token),
        |_| {},
    )
    .await
    .unwrap();
    make_public(&login, "first").await;

    // The engine under test has those layers unpacked (loaded) and then pulls the pushed image: the
    // containerd store fetches no blob whose layer it already has, so its export of it lacks them.
    docker(&["load", "--input", archive.to_str().unwrap()]);
    docker(&["pull", "--quiet", &first]);
    if store_under_test() == ImageStore::Containerd {
        let saved = dir.path().join("pulled.tar");
        docker(&["save", "--output", saved.to_str().unwrap(), &first]);
        let listed = std::process::Command::new("tar")
            .arg("-tf")
            .arg(&saved)
            .output()
            .unwrap();
        let entries = String::from_utf8_lossy(&listed.stdout).lines().count();
        assert!(
            entries < 7,
            "the export lacks the layer and config: {entries} entries"
        );
    }

    let second = format!("{}/{login}/second:1", config.registry);
    let mut snapshots = Vec::new();
    let again = push(
        &config,
        &plan(PushSource::Image(first.clone()), &second),
        credentials(&login, &token),
        |s| snapshots.push(s.clone()),
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(again.digest, pushed.digest, "the same image");
    assert_eq!(again.digest, registry_digest(&second, &login, &token));
    assert_eq!(last_layer_states(&snapshots), vec![LayerState::Mounted]);
}
