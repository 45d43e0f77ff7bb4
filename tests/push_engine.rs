//! Engine push through the core against the stack's dockerd and the token-auth registry behind the GHCR
//! emulator: a 3-layer image is pushed with per-layer progress and the registry's digest; a re-push
//! finds every layer there; a token without write:packages fails with the scope error before any
//! layer uploads.

mod common;

use common::{
    assert_every_layer_uploaded_in_full, docker, emulated_github, last_layer_states, new_token,
    new_user, skopeo, stack, store_under_test, three_layer_image,
};
use ghcr::engine::{Engine, ImageStore};
use ghcr::push::engine::push_with_engine;
use ghcr::push::progress::LayerState;
use ghcr::push::{push, Cancel, PushRequest, PushSource, Via};
use ghcr::reference::Reference;
use ghcr::registry::session::Credentials;
use ghcr::secret::Secret;
use ghcr::{Code, Config};

fn config() -> Config {
    Config {
        docker_host: Some(stack("DOCKER_HOST")),
        ..emulated_github()
    }
}

#[tokio::test]
async fn a_three_layer_image_pushes_with_monotonic_layer_progress_and_the_registrys_digest() {
    let config = config();
    let login = new_user("engine-push").await;
    let token = Secret::new(new_token(&login, "classic", &["write:packages"]).await);
    let target = format!("{}/{login}/layered:1", config.registry);
    three_layer_image(&target);
    let engine = Engine::connect(&config).await.unwrap();
    let reference = Reference::parse(&target).unwrap();

    let mut snapshots = Vec::new();
    let pushed = push_with_engine(
        &engine,
        &reference,
        &login,
        &token,
        &Cancel::default(),
        |s| snapshots.push(s.clone()),
    )
    .await
    .unwrap();

    // Podman's RepoDigests name the manifest it keeps locally, not the one it pushed (it converts):
    // there only the registry (skopeo, below) is the witness.
    let podman = store_under_test() == ImageStore::Podman;
    if !podman {
        let repo_digests = docker(&[
            "image",
            "inspect",
            "--format",
            "{{json .RepoDigests}}",
            &target,
        ]);
        let expected = format!("{}/{login}/layered@{}", config.registry, pushed.digest);
        assert!(
            repo_digests.contains(&expected),
            "{repo_digests} lacks {expected}"
        );
    }
    let inspect = skopeo(
        &["inspect", &format!("docker://{target}")],
        &login,
        token.expose(),
    )
    .expect("skopeo inspect");
    assert!(inspect.contains(&pushed.digest), "{inspect}");
    // Podman tells nothing of layers: its push is shown as going on, with no numbers made up.
    if podman {
        assert!(
            snapshots.iter().all(|s| s.unreported && s.bytes == 0),
            "{snapshots:?}"
        );
    } else {
        assert_every_layer_uploaded_in_full(&snapshots, 3);
    }

    // Again: the registry has every layer.
    let mut again = Vec::new();
    let repushed = push_with_engine(
        &engine,
        &reference,
        &login,
        &token,
        &Cancel::default(),
        |s| again.push(s.clone()),
    )
    .await
    .unwrap();
    assert_eq!(repushed.digest, pushed.digest);
    if !podman {
        assert_eq!(last_layer_states(&again), vec![LayerState::Existed; 3]);
    }
}

#[tokio::test]
async fn a_token_without_write_packages_fails_with_the_scope_hint_before_any_layer_uploads() {
    let config = config();
    let login = new_user("engine-push-ro").await;
    let token = Secret::new(new_token(&login, "classic", &["read:packages"]).await);
    let target = format!("{}/{login}/readonly:1", config.registry);
    three_layer_image(&target);
    let plan = PushRequest {
        source: PushSource::Image(target.clone()),
        target: target.clone(),
        via: Via::Engine,
        source_repository: None,
        engine: None,
        compression: Default::default(),
    }
    .checked(&config)
    .unwrap();
    let credentials = Credentials {
        login: login.clone(),
        token: token.clone(),
    };
    let mut snapshots = Vec::new();
    // Docker 20.10 passes the registry's words on ("does not match expected scopes"); containerd and
    // Podman say only "403 Forbidden", and the push asks GitHub which scopes the token has.
    let error = push(&config, &plan, credentials, |s| snapshots.push(s.clone()))
        .await
        .unwrap_err();
    assert_eq!(error.code, Code::TokenMissingScope, "{error}");
    assert!(error.hint.contains("write:packages"));
    assert!(
        snapshots.iter().all(|s| s.bytes == 0),
        "no layer uploaded: {snapshots:?}"
    );
    assert!(!format!("{error:?}").contains(token.expose()));
}

#[tokio::test]
async fn pushing_a_name_the_engine_does_not_have_is_image_not_found() {
    let config = config();
    let login = new_user("engine-push-none").await;
    let token = Secret::new(new_token(&login, "classic", &["write:packages"]).await);
    let engine = Engine::connect(&config).await.unwrap();
    let target = Reference::parse(&format!("{}/{login}/absent:1", config.registry)).unwrap();
    let error = push_with_engine(&engine, &target, &login, &token, &Cancel::default(), |_| {})
        .await
        .unwrap_err();
    assert_eq!(error.code, Code::ImageNotFound, "{error}");
}
