//! ghcr.io's token service, emulated, in front of the real distribution registry, with the real docker
//! CLI and skopeo as clients: who may log in, push and pull, and what ghcr.io says when they may not.

mod common;

use common::*;

#[tokio::test]
async fn a_classic_token_with_write_packages_logs_in_and_pushes_to_its_namespace() {
    let login = new_user("Pusher", &[]).await;
    let token = new_token(&login, "classic", &["write:packages"]).await;
    let config = tempfile::tempdir().unwrap();
    let logged_in = docker_login(config.path(), &login, &token);
    assert!(logged_in.status.success(), "{}", output_text(&logged_in));
    // GitHub logins may be mixed case; registry paths are lowercase.
    let pushed = docker_push(
        config.path(),
        &format!("{}/app", login.to_lowercase()),
        "1.0",
    );
    assert!(pushed.status.success(), "{}", output_text(&pushed));
    assert!(output_text(&pushed).contains("1.0: digest: sha256:"));
}

#[tokio::test]
async fn a_token_with_only_read_packages_is_denied_the_push_in_ghcr_words() {
    let login = new_user("reader", &[]).await;
    let token = new_token(&login, "classic", &["read:packages"]).await;
    let config = tempfile::tempdir().unwrap();
    assert!(docker_login(config.path(), &login, &token).status.success());
    let pushed = docker_push(config.path(), &format!("{login}/app"), "1");
    assert!(!pushed.status.success());
    let said = output_text(&pushed);
    assert!(
        said.contains(
            "denied: permission_denied: The token provided does not match expected scopes"
        ),
        "{said}"
    );
}

#[tokio::test]
async fn a_fine_grained_token_cannot_even_log_in() {
    let login = new_user("fine", &[]).await;
    let token = new_token(&login, "fine_grained", &[]).await;
    assert!(token.starts_with("github_pat_"));
    let config = tempfile::tempdir().unwrap();
    let logged_in = docker_login(config.path(), &login, &token);
    assert!(!logged_in.status.success());
    assert!(
        output_text(&logged_in).contains("denied"),
        "{}",
        output_text(&logged_in)
    );
}

#[tokio::test]
async fn a_revoked_or_unknown_token_cannot_log_in() {
    let login = new_user("revoked", &[]).await;
    let token = new_token(&login, "classic", &["write:packages"]).await;
    let revoke = http()
        .post(format!("{}/_emulator/tokens/{token}/revoke", emulator()))
        .send()
        .await
        .unwrap();
    assert_eq!(revoke.status(), 204);
    let config = tempfile::tempdir().unwrap();
    assert!(!docker_login(config.path(), &login, &token).status.success());
    assert!(!docker_login(config.path(), &login, "ghp_notarealtoken")
        .status
        .success());
}

#[tokio::test]
async fn pushing_to_another_users_namespace_is_denied() {
    let owner = new_user("owner", &[]).await;
    let intruder = new_user("intruder", &[]).await;
    let token = new_token(&intruder, "classic", &["write:packages"]).await;
    let config = tempfile::tempdir().unwrap();
    assert!(docker_login(config.path(), &intruder, &token)
        .status
        .success());
    let pushed = docker_push(config.path(), &format!("{owner}/app"), "1");
    assert!(!pushed.status.success());
    assert!(
        output_text(&pushed).contains("denied: permission_denied: write_package"),
        "{}",
        output_text(&pushed)
    );
}

#[tokio::test]
async fn an_org_namespace_takes_pushes_from_members_only() {
    let org = unique("org");
    let member = new_user("member", &[&org]).await;
    let outsider = new_user("outsider", &[]).await;
    let path = format!("{org}/service");

    let config = tempfile::tempdir().unwrap();
    let token = new_token(&member, "classic", &["write:packages"]).await;
    assert!(docker_login(config.path(), &member, &token)
        .status
        .success());
    let pushed = docker_push(config.path(), &path, "1");
    assert!(pushed.status.success(), "{}", output_text(&pushed));

    let config = tempfile::tempdir().unwrap();
    let token = new_token(&outsider, "classic", &["write:packages"]).await;
    assert!(docker_login(config.path(), &outsider, &token)
        .status
        .success());
    assert!(!docker_push(config.path(), &path, "2").status.success());
}

#[tokio::test]
async fn a_pushed_package_is_private_until_its_visibility_flips() {
    let login = new_user("visible", &[]).await;
    let token = new_token(&login, "classic", &["write:packages"]).await;
    let config = tempfile::tempdir().unwrap();
    assert!(docker_login(config.path(), &login, &token).status.success());
    let pushed = docker_push(config.path(), &format!("{login}/site"), "v1");
    assert!(pushed.status.success(), "{}", output_text(&pushed));

    let package = wait_for_package(&token, "/user/packages?package_type=container", "site").await;
    assert_eq!(package["visibility"], "private");
    let versions: serde_json::Value = api_get(&token, "/user/packages/container/site/versions")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        versions[0]["metadata"]["container"]["tags"],
        serde_json::json!(["v1"])
    );

    let anonymous = skopeo_inspect(&format!("{login}/site"), "v1", None);
    assert!(
        !anonymous.status.success(),
        "private must refuse anonymous pulls"
    );
    let owner = skopeo_inspect(&format!("{login}/site"), "v1", Some(&token));
    assert!(owner.status.success(), "{}", output_text(&owner));

    let flip = http()
        .post(format!(
            "{}/_emulator/packages/{login}/site/visibility",
            emulator()
        ))
        .json(&serde_json::json!({ "visibility": "public" }))
        .send()
        .await
        .unwrap();
    assert_eq!(flip.status(), 204);
    let anonymous = skopeo_inspect(&format!("{login}/site"), "v1", None);
    assert!(anonymous.status.success(), "{}", output_text(&anonymous));
    let package: serde_json::Value = api_get(&token, "/user/packages/container/site")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(package["visibility"], "public");
}

#[tokio::test]
async fn anonymous_pushes_are_denied_with_a_403_as_on_ghcr_io() {
    let login = new_user("anon", &[]).await;
    let response = http()
        .get(format!("{}/token", emulator()))
        .query(&[
            ("service", "ghcr-test"),
            ("scope", &format!("repository:{login}/x:pull,push")),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["errors"][0]["code"], "DENIED");
}
