//! Packages through GitHub's API (the emulator) and the real registry: pushed images show up as private
//! packages with their tags; 150 packages come back over two pages; the anonymous-pull proof says
//! private, then public after the visibility flips; deleting a version needs delete:packages and takes
//! the manifest out of the registry; an unknown package is a clear `package.not_found`.

mod common;

use common::*;
use ghcr::github::GitHub;
use ghcr::packages::{prove_visibility, Owner};
use ghcr::push::{push, PushRequest, PushSource, Via};
use ghcr::registry::session::{Credentials, Session};
use ghcr::secret::Secret;
use ghcr::{Code, Config};
use std::time::Duration;

fn config() -> Config {
    Config {
        docker_host: Some(stack("DOCKER_HOST")),
        ..emulated_github()
    }
}

async fn push_image(config: &Config, login: &str, token: &str, source: &str, target: &str) {
    push_linked(config, login, token, source, target, None).await
}

/// Pushes `source` to `target` with `org.opencontainers.image.source` set to `repository`, if given.
async fn push_linked(
    config: &Config,
    login: &str,
    token: &str,
    source: &str,
    target: &str,
    repository: Option<&str>,
) {
    let cache = tempfile::tempdir().unwrap();
    let config = Config {
        cache_dir: Some(cache.path().to_path_buf()),
        ..config.clone()
    };
    push(
        &config,
        &PushRequest {
            source: PushSource::Image(source.to_string()),
            target: target.to_string(),
            via: Via::Direct,
            source_repository: repository.map(str::to_string),
            engine: None,
            compression: Default::default(),
        }
        .checked(&config)
        .unwrap(),
        Credentials {
            login: login.to_string(),
            token: Secret::new(token.to_string()),
        },
        |_| {},
    )
    .await
    .unwrap();
}

/// Polls `check` until it holds (the emulator learns packages from the registry's notifications).
async fn eventually<F, Fut>(what: &str, check: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..100 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("{what} did not happen in 20 s");
}

#[tokio::test]
async fn pushed_images_are_private_packages_whose_visibility_is_proven_by_anonymous_pulls_and_versions_delete(
) {
    let config = config();
    let login = new_user("packages").await;
    let token = new_token(&login, "classic", &["write:packages"]).await;
    let admin = new_token(&login, "classic", &["write:packages", "delete:packages"]).await;
    let registry = config.registry.clone();
    let first = format!("packages-one-{login}:1");
    let second = format!("packages-two-{login}:1");
    import_image(&first);
    import_image(&second);
    push_image(
        &config,
        &login,
        &token,
        &first,
        &format!("{registry}/{login}/app:1"),
    )
    .await;
    push_image(
        &config,
        &login,
        &token,
        &first,
        &format!("{registry}/{login}/app:stable"),
    )
    .await;
    push_image(
        &config,
        &login,
        &token,
        &second,
        &format!("{registry}/{login}/app:2"),
    )
    .await;

    let github = GitHub::new(&config).unwrap();
    let secret = Secret::new(token.clone());
    eventually("the package with 2 versions", || async {
        let packages = github.packages(&secret, &Owner::User).await.unwrap();
        packages
            .iter()
            .any(|p| p.name == "app" && p.version_count == 2)
    })
    .await;
    let package = github
        .packages(&secret, &Owner::User)
        .await
        .unwrap()
        .into_iter()
        .find(|p| p.name == "app")
        .unwrap();
    assert_eq!(package.visibility, "private");
    let versions = github.versions(&secret, &Owner::User, "app").await.unwrap();
    let mut tags: Vec<Vec<String>> = versions
        .iter()
        .map(|v| {
            let mut t = v.tags().to_vec();
            t.sort();
            t
        })
        .collect();
    tags.sort();
    assert_eq!(
        tags,
        vec![vec!["1".to_string(), "stable".into()], vec!["2".into()]]
    );

    // The proof goes to the registry itself, with no credentials; the CLI shows the same.
    let verify = || {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_ghcr"))
            .args(["visibility", "app", "--verify", "--json"])
            .env("GHCR_API_URL", stack("GHCR_TEST_EMULATOR"))
            .env("GHCR_WEB_URL", stack("GHCR_TEST_EMULATOR"))
            .env("GHCR_REGISTRY", stack("GHCR_TEST_REGISTRY_TOKEN"))
            .env("GHCR_TOKEN", &token)
            .output()
            .unwrap();
        assert!(output.status.success(), "{output:?}");
        serde_json::from_slice::<serde_json::Value>(&output.stdout).unwrap()
    };
    let proof = prove_visibility(&config, &login, "app", "1").await.unwrap();
    assert!(!proof.anyone_can_pull, "private: {proof:?}");
    let said = verify();
    assert_eq!(said["visibility"], "private");
    assert_eq!(said["proof"]["anyone_can_pull"], false);
    make_public(&login.to_lowercase(), "app").await;
    let proof = prove_visibility(&config, &login, "app", "1").await.unwrap();
    assert!(proof.anyone_can_pull, "public: {proof:?}");
    let said = verify();
    assert_eq!(said["visibility"], "public");
    assert_eq!(said["proof"]["anyone_can_pull"], true);
    let package = github
        .packages(&secret, &Owner::User)
        .await
        .unwrap()
        .into_iter()
        .find(|p| p.name == "app")
        .unwrap();
    assert_eq!(package.visibility, "public");

    // Deleting a version: refused without delete:packages, then done, and gone from the registry.
    let two = versions.iter().find(|v| v.tags() == ["2"]).unwrap();
    let error = github
        .delete_version(&secret, &Owner::User, "app", two.id)
        .await
        .unwrap_err();
    assert_eq!(error.code, Code::TokenMissingScope, "{error}");
    assert!(error.hint.contains("delete:packages"));
    github
        .delete_version(&Secret::new(admin.clone()), &Owner::User, "app", two.id)
        .await
        .unwrap();
    let left = github.versions(&secret, &Owner::User, "app").await.unwrap();
    assert!(left.iter().all(|v| v.id != two.id));
    assert_unknown_to_the_registry(&format!("{registry}/{login}/app:2"), &login, &token);

    let error = github
        .versions(&secret, &Owner::User, "no-such-package")
        .await
        .unwrap_err();
    assert_eq!(error.code, Code::PackageNotFound, "{error}");
}

#[tokio::test]
async fn a_hundred_and_fifty_packages_come_back_over_every_page() {
    let config = config();
    let login = new_user("many-packages").await;
    let token = new_token(&login, "classic", &["write:packages"]).await;
    let credentials = || Credentials {
        login: login.clone(),
        token: Secret::new(token.clone()),
    };
    // The smallest image there is: a config and a manifest with no layers, pushed to 150 repositories.
    let config_blob =
        br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#;
    let config_digest = ghcr::digest::sha256_digest(config_blob);
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json",
                   "digest": config_digest, "size": config_blob.len()},
        "layers": []
    }))
    .unwrap();
    for index in 0..150 {
        let path = format!("{}/pkg-{index:03}", login.to_lowercase());
        let session = Session::open(&config, &path, &[], Some(credentials()))
            .await
            .unwrap();
        session
            .put_small_blob(&config_digest, bytes::Bytes::from_static(config_blob))
            .await
            .unwrap();
        session
            .put_manifest(
                "1",
                "application/vnd.docker.distribution.manifest.v2+json",
                bytes::Bytes::from(manifest.clone()),
            )
            .await
            .unwrap();
    }
    let github = GitHub::new(&config).unwrap();
    let secret = Secret::new(token.clone());
    eventually("150 packages", || async {
        github.packages(&secret, &Owner::User).await.unwrap().len() == 150
    })
    .await;
    let mut names: Vec<String> = github
        .packages(&secret, &Owner::User)
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.name)
        .collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), 150, "each once");
    assert_eq!(names.first().map(String::as_str), Some("pkg-000"));
    assert_eq!(names.last().map(String::as_str), Some("pkg-149"));

    // The CLI says the same.
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_ghcr"))
        .args(["packages", "--json"])
        .env("GHCR_API_URL", stack("GHCR_TEST_EMULATOR"))
        .env("GHCR_WEB_URL", stack("GHCR_TEST_EMULATOR"))
        .env("GHCR_REGISTRY", stack("GHCR_TEST_REGISTRY_TOKEN"))
        .env("GHCR_TOKEN", &token)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let listed: Vec<serde_json::Value> = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(listed.len(), 150);
}

#[tokio::test]
async fn github_failures_and_foreign_orgs_give_clear_errors_not_panics() {
    let config = config();
    let login = new_user("packages-faults").await;
    let token = new_token(&login, "classic", &["write:packages"]).await;
    let github = GitHub::new(&config).unwrap();
    let secret = Secret::new(token.clone());
    let fault = |status: u16, body: &str, retry_after: Option<u64>| {
        serde_json::json!({"token": token, "path": "/packages", "status": status, "body": body,
                           "retry_after": retry_after})
    };

    emulator_admin(
        "/_emulator/faults",
        fault(502, "<html>Bad gateway</html>", None),
    )
    .await;
    let error = github.packages(&secret, &Owner::User).await.unwrap_err();
    assert_eq!(error.code, Code::GithubUnavailable, "{error}");
    assert!(error.message.contains("502"), "{error}");

    emulator_admin(
        "/_emulator/faults",
        fault(200, r#"[{"id":1,"name":"cut"#, None),
    )
    .await;
    let error = github.packages(&secret, &Owner::User).await.unwrap_err();
    assert_eq!(error.code, Code::GithubProtocol, "{error}");
    assert!(error.message.contains("could not be read"), "{error}");

    emulator_admin(
        "/_emulator/faults",
        fault(429, r#"{"message":"API rate limit exceeded"}"#, Some(7)),
    )
    .await;
    let error = github.packages(&secret, &Owner::User).await.unwrap_err();
    assert_eq!(error.code, Code::GithubRateLimited, "{error}");
    assert!(error.hint.contains("7 s"), "{error}");

    // The faults are used up: the real answer again.
    assert!(github.packages(&secret, &Owner::User).await.is_ok());

    // An organization the user is not in shows only what anyone may see, as on GitHub; one that
    // doesn't exist is a clear not-found.
    let foreign = github
        .packages(&secret, &Owner::Org("Acme-Corp".into()))
        .await
        .unwrap();
    assert!(
        foreign.iter().all(|p| p.visibility == "public"),
        "{foreign:?}"
    );
    let error = github
        .packages(&secret, &Owner::Org("no-such-org-anywhere".into()))
        .await
        .unwrap_err();
    assert_eq!(error.code, Code::PackageNotFound, "{error:?}");
    assert!(error.hint.contains("--owner"), "{error:?}");
}

/// GitHub's refusals reach the person in GitHub's words with a code each: deleting the last tagged
/// version (400), an org that forbids classic tokens, an org whose SSO the token isn't authorised for.
#[tokio::test]
async fn githubs_refusals_keep_its_words_and_org_policies_get_a_code_and_a_way_out() {
    let config = config();
    let org = unique("policy-org");
    let (login, token) = user_with_token(
        "refusals",
        &[&org],
        "classic",
        &["write:packages", "delete:packages", "read:org"],
    )
    .await;
    let source = format!("refusals-src-{login}:1");
    three_layer_image(&source);
    let target = format!("{}/{}/solo:1", config.registry, login.to_lowercase());
    push_image(&config, &login, &token, &source, &target).await;
    let github = GitHub::new(&config).unwrap();
    let secret = Secret::new(token.clone());
    let mut versions = Vec::new();
    eventually("the version", || async {
        github
            .versions(&secret, &Owner::User, "solo")
            .await
            .is_ok_and(|v| v.len() == 1)
    })
    .await;
    versions.extend(
        github
            .versions(&secret, &Owner::User, "solo")
            .await
            .unwrap(),
    );
    let error = github
        .delete_version(&secret, &Owner::User, "solo", versions[0].id)
        .await
        .unwrap_err();
    assert_eq!(error.code, Code::GithubRefused, "{error:?}");
    assert!(
        error.message.contains("You cannot delete the last tagged version of a package. You must delete the package instead."),
        "{error:?}"
    );
    assert!(error.hint.contains("Delete the whole package"), "{error:?}");

    let org_packages = Owner::Org(org.clone());
    assert!(github.packages(&secret, &org_packages).await.is_ok());
    emulator_admin(
        &format!("/_emulator/orgs/{org}/policy"),
        serde_json::json!({"forbid_classic_tokens": true}),
    )
    .await;
    let error = github.packages(&secret, &org_packages).await.unwrap_err();
    assert_eq!(error.code, Code::TokenClassicForbidden, "{error:?}");
    assert!(error.hint.contains("Sign in with GitHub"), "{error:?}");

    emulator_admin(
        &format!("/_emulator/orgs/{org}/policy"),
        serde_json::json!({"sso_required": true}),
    )
    .await;
    let error = github.packages(&secret, &org_packages).await.unwrap_err();
    assert_eq!(error.code, Code::TokenSsoRequired, "{error:?}");
    let authorise = format!(
        "{}/orgs/{org}/sso?authorization_request=",
        stack("GHCR_TEST_EMULATOR")
    );
    assert!(error.hint.contains(&authorise), "{error:?}");
    assert!(
        !format!("{error:?}").contains(&token),
        "the token is never in an error"
    );
}

#[tokio::test]
async fn a_github_answer_that_stalls_mid_body_ends_within_the_clients_bound_as_no_answer() {
    let config = config();
    let login = new_user("packages-stall").await;
    let token = new_token(&login, "classic", &["write:packages"]).await;
    let github = GitHub::new(&config).unwrap();
    let secret = Secret::new(token.clone());
    emulator_admin(
        "/_emulator/faults",
        serde_json::json!({"token": token, "path": "/packages", "status": 200,
                           "body": r#"[{"id":1,"name":"sl"#, "stall_seconds": 120}),
    )
    .await;
    let started = std::time::Instant::now();
    let error = github.packages(&secret, &Owner::User).await.unwrap_err();
    let took = started.elapsed();
    assert_eq!(error.code, Code::NetworkUnreachable, "{error}");
    assert!(error.message.contains("no answer in time"), "{error}");
    assert!(
        took >= Duration::from_secs(15) && took < Duration::from_secs(60),
        "bounded by the 20 s request timeout (the stall is 120 s): {took:?}"
    );
    // Nothing is stuck: the next request gets the real answer.
    assert!(github.packages(&secret, &Owner::User).await.is_ok());
}

/// ghcr.io reads a package's repository from the source label only when the package is created
/// (FACTS: linking): a first push with a chosen repository links the new package; a later push with a
/// label links nothing — an existing package is connected on its settings page, where the app hands
/// a person off to.
#[tokio::test]
async fn a_first_push_with_a_repository_links_the_new_package_and_a_later_label_links_nothing() {
    let config = config();
    let login = unique("connect");
    emulator_admin(
        "/_emulator/users",
        serde_json::json!({"login": login, "repositories": ["web", "api"]}),
    )
    .await;
    let token = new_token(&login, "classic", &["write:packages"]).await;
    let source = format!("connect-src-{login}:1");
    three_layer_image(&source);
    let registry = config.registry.clone();
    let web = format!(
        "{}/{login}/web",
        config.web_url.as_str().trim_end_matches('/')
    );
    let github = GitHub::new(&config).unwrap();
    let secret = Secret::new(token.clone());
    let linked_to = |name: &'static str| {
        let (github, secret) = (&github, &secret);
        async move {
            github
                .package(secret, &Owner::User, name)
                .await
                .ok()
                .and_then(|p| p.repository)
                .map(|r| r.full_name)
        }
    };

    let site = format!("{registry}/{login}/site:1");
    push_linked(&config, &login, &token, &source, &site, Some(&web)).await;
    eventually("GitHub links the new package", || async {
        linked_to("site").await.is_some_and(|r| r.ends_with("/web"))
    })
    .await;
    let labels = registry_config_labels(&site, &login, &token);
    assert_eq!(labels["org.opencontainers.image.source"], web.as_str());

    let plain = format!("{registry}/{login}/plain");
    push_image(&config, &login, &token, &source, &format!("{plain}:1")).await;
    eventually("the unlinked package", || async {
        github.package(&secret, &Owner::User, "plain").await.is_ok()
    })
    .await;
    let relabelled = format!("relabelled-{login}:1");
    three_layer_image(&relabelled);
    push_linked(
        &config,
        &login,
        &token,
        &relabelled,
        &format!("{plain}:2"),
        Some(&web),
    )
    .await;
    eventually("the second version", || async {
        github
            .versions(&secret, &Owner::User, "plain")
            .await
            .is_ok_and(|v| v.len() == 2)
    })
    .await;
    assert_eq!(
        linked_to("plain").await,
        None,
        "a label on a later push links nothing"
    );

    // The settings page's "Connect repository" (a person's click) links it.
    let settings = ghcr::github::settings_page(&config, &Owner::User, &login, "plain");
    let answer = reqwest::Client::new()
        .post(format!("{settings}/repository"))
        .form(&[("repository", format!("{login}/web"))])
        .send()
        .await
        .unwrap();
    assert!(answer.status().is_success() || answer.status().is_redirection());
    eventually("the settings page links it", || async {
        linked_to("plain")
            .await
            .is_some_and(|r| r.ends_with("/web"))
    })
    .await;
}

fn registry_config_labels(reference: &str, login: &str, token: &str) -> serde_json::Value {
    let config = skopeo(
        &["inspect", "--config", &format!("docker://{reference}")],
        login,
        token,
    )
    .unwrap();
    serde_json::from_str::<serde_json::Value>(&config).unwrap()["config"]["Labels"].clone()
}
