//! The emulator keeps GitHub's less friendly rules (FACTS: GitHub REST, deleting, linking,
//! organizations): deletes refused in GitHub's words, a new package for a deleted name, the source
//! label read only at creation, org token policies, and the token's expiry on every answer.

mod common;

use common::*;
use serde_json::{json, Value};

async fn post_admin(path: &str, body: Value) {
    let response = http()
        .post(format!("{}{path}", emulator()))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        204,
        "{path}: {}",
        response.text().await.unwrap()
    );
}

async fn delete_api(token: &str, path: &str) -> reqwest::Response {
    http()
        .delete(format!("{}{path}", emulator()))
        .header("authorization", format!("token {token}"))
        .send()
        .await
        .unwrap()
}

async fn versions(token: &str, name: &str, count: usize) -> Vec<Value> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        let list: Vec<Value> = api_get(token, &format!("/user/packages/container/{name}/versions"))
            .await
            .json()
            .await
            .unwrap_or_default();
        if list.len() == count {
            return list;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{} versions of {name}",
            list.len()
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

async fn message_of(response: reqwest::Response, status: u16) -> String {
    assert_eq!(response.status(), status);
    let body: Value = response.json().await.unwrap();
    body["message"].as_str().unwrap_or_default().to_string()
}

#[tokio::test]
async fn a_much_downloaded_public_version_is_kept_in_githubs_words() {
    let login = new_user("rules", &[]).await;
    let token = new_token(&login, "classic", &["write:packages", "delete:packages"]).await;
    let path = format!("{}/rules", login.to_lowercase());
    let first = push_tiny_image(&token, &path, "1", None).await;
    // The tag moves to a second image: the first is untagged, and only the downloads rule holds it.
    push_tiny_image(&token, &path, "1", Some("https://github.com/x/y")).await;
    let list = versions(&token, "rules", 2).await;
    let id = list.iter().find(|v| v["name"] == first.as_str()).unwrap()["id"]
        .as_u64()
        .unwrap();
    let version = format!("/user/packages/container/rules/versions/{id}");
    let downloads = format!("/_emulator/packages/{login}/rules/downloads");
    let visibility = format!("/_emulator/packages/{login}/rules/visibility");
    post_admin(&visibility, json!({"visibility": "public"})).await;
    post_admin(&downloads, json!({"digest": first, "count": 5001})).await;
    assert_eq!(
        message_of(delete_api(&token, &version).await, 400).await,
        "Publicly visible package versions with more than 5000 downloads cannot be deleted. Contact GitHub support for further assistance."
    );
    post_admin(&downloads, json!({"digest": first, "count": 5000})).await;
    assert_eq!(delete_api(&token, &version).await.status(), 204);
}

#[tokio::test]
async fn the_last_version_of_a_package_cannot_be_deleted_even_untagged() {
    let login = new_user("lastuntagged", &[]).await;
    let token = new_token(&login, "classic", &["write:packages", "delete:packages"]).await;
    push_tiny_image(&token, &format!("{}/bare", login.to_lowercase()), "", None).await;
    let list = versions(&token, "bare", 1).await;
    assert_eq!(list[0]["metadata"]["container"]["tags"], json!([]));
    let id = list[0]["id"].as_u64().unwrap();
    let refused = delete_api(
        &token,
        &format!("/user/packages/container/bare/versions/{id}"),
    )
    .await;
    assert_eq!(
        message_of(refused, 400).await,
        "You cannot delete the last version of a package. You must delete the package instead."
    );
}

#[tokio::test]
async fn a_push_to_a_deleted_packages_name_makes_a_new_package_linked_only_at_creation() {
    // Octo-Cat and its repository hello-app come from the world file.
    let token = new_token(
        "Octo-Cat",
        "classic",
        &["write:packages", "delete:packages"],
    )
    .await;
    let name = unique("reborn");
    let path = format!("octo-cat/{name}");
    push_tiny_image(&token, &path, "1", None).await;
    let first = wait_for(&token, &format!("/user/packages/container/{name}")).await;
    // The label on a later push of an existing package links nothing.
    push_tiny_image(
        &token,
        &path,
        "2",
        Some("https://github.com/Octo-Cat/hello-app"),
    )
    .await;
    versions(&token, &name, 2).await;
    let later = wait_for(&token, &format!("/user/packages/container/{name}")).await;
    assert!(later.get("repository").is_none(), "{later}");

    assert_eq!(
        delete_api(&token, &format!("/user/packages/container/{name}"))
            .await
            .status(),
        204
    );
    push_tiny_image(
        &token,
        &path,
        "3",
        Some("https://github.com/Octo-Cat/hello-app"),
    )
    .await;
    let reborn = wait_for(&token, &format!("/user/packages/container/{name}")).await;
    assert_ne!(reborn["id"], first["id"], "a new package");
    assert_eq!(
        reborn["repository"]["full_name"], "Octo-Cat/hello-app",
        "linked at its creation"
    );
    versions(&token, &name, 1).await;
    // The old one can't come back over the new one.
    let restore = http()
        .post(format!(
            "{}/user/packages/container/{name}/restore",
            emulator()
        ))
        .header("authorization", format!("token {token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(restore.status(), 404);
}

#[tokio::test]
async fn an_org_can_forbid_classic_tokens_or_require_sso_authorisation() {
    let org = unique("policyorg");
    let login = new_user("policy", &[&org]).await;
    let classic = new_token(&login, "classic", &["write:packages", "read:org"]).await;
    let oauth = new_token(&login, "oauth", &["write:packages", "read:org"]).await;
    let packages = format!("/orgs/{org}/packages?package_type=container");
    assert_eq!(api_get(&classic, &packages).await.status(), 200);

    post_admin(
        &format!("/_emulator/orgs/{org}/policy"),
        json!({"forbid_classic_tokens": true}),
    )
    .await;
    let banned = message_of(api_get(&classic, &packages).await, 403).await;
    assert!(
        banned.contains("forbids access via a personal access token (classic)"),
        "{banned}"
    );
    assert_eq!(
        api_get(&oauth, &packages).await.status(),
        200,
        "OAuth tokens pass"
    );
    // The user's own routes are not the org's.
    assert_eq!(api_get(&classic, "/user").await.status(), 200);

    post_admin(
        &format!("/_emulator/orgs/{org}/policy"),
        json!({"sso_required": true}),
    )
    .await;
    let refused = api_get(&classic, &packages).await;
    let sso = refused.headers()["x-github-sso"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(sso.starts_with("required; url="), "{sso}");
    assert!(
        sso.contains(&format!("/orgs/{org}/sso?authorization_request=")),
        "{sso}"
    );
    assert!(message_of(refused, 403).await.contains("SAML enforcement"));

    post_admin(
        &format!("/_emulator/orgs/{org}/policy"),
        json!({"sso_required": true, "sso_authorized_tokens": [classic]}),
    )
    .await;
    assert_eq!(
        api_get(&classic, &packages).await.status(),
        200,
        "authorised"
    );
}

#[tokio::test]
async fn every_answer_names_the_tokens_expiry_when_it_has_one() {
    let login = new_user("expiring", &[]).await;
    let response = http()
        .post(format!("{}/_emulator/tokens", emulator()))
        .json(&json!({"login": login, "scopes": ["write:packages"], "expires_in_seconds": 3 * 86_400}))
        .send()
        .await
        .unwrap();
    let expiring = response.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_string();
    let answer = api_get(&expiring, "/user").await;
    let header = answer.headers()["github-authentication-token-expiration"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        header.ends_with(" UTC") && header.len() == "2026-12-03 10:00:00 UTC".len(),
        "{header}"
    );

    let forever = new_token(&login, "classic", &["write:packages"]).await;
    let answer = api_get(&forever, "/user").await;
    assert!(answer
        .headers()
        .get("github-authentication-token-expiration")
        .is_none());
}

#[tokio::test]
async fn anonymous_push_is_a_403_denied_and_wrong_credentials_are_denied_even_for_pulls() {
    let login = new_user("anon", &[]).await;
    let token = new_token(&login, "classic", &["write:packages"]).await;
    let path = format!("{}/open", login.to_lowercase());
    push_tiny_image(&token, &path, "1", None).await;
    wait_for_package(&token, "/user/packages?package_type=container", "open").await;
    post_admin(
        &format!("/_emulator/packages/{login}/open/visibility"),
        json!({"visibility": "public"}),
    )
    .await;
    let token_for = |scope: &str, basic: Option<&str>| {
        let request = http()
            .get(format!("{}/token", emulator()))
            .query(&[("service", "ghcr-test"), ("scope", scope)]);
        match basic {
            Some(password) => request.basic_auth("user", Some(password)),
            None => request,
        }
    };
    let push = format!("repository:{path}:pull,push");
    let anonymous = token_for(&push, None).send().await.unwrap();
    assert_eq!(anonymous.status(), 403);
    let body: Value = anonymous.json().await.unwrap();
    assert_eq!(body["errors"][0]["code"], "DENIED", "{body}");

    let pull = format!("repository:{path}:pull");
    assert_eq!(
        token_for(&pull, None).send().await.unwrap().status(),
        200,
        "public: anyone pulls"
    );
    let wrong = token_for(&pull, Some("ghp_not_a_real_token"))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 403);
    let body: Value = wrong.json().await.unwrap();
    assert_eq!(body["errors"][0]["message"], "denied", "{body}");
}
