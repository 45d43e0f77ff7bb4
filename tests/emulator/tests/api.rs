//! The emulated GitHub REST API against packages made by real pushes: scopes headers, revocation,
//! pagination, versions, delete and restore reaching the registry, `%2F` names, org visibility rules,
//! rate-limit headers, and GitHub's error shape for every kind of bad input.

mod common;

use common::*;
use serde_json::{json, Value};

#[tokio::test]
async fn user_reports_x_oauth_scopes_for_classic_and_oauth_tokens_only() {
    let login = new_user("scopes", &[]).await;
    for kind in ["classic", "oauth"] {
        let token = new_token(&login, kind, &["write:packages", "read:packages"]).await;
        let response = api_get(&token, "/user").await;
        assert_eq!(response.status(), 200);
        assert_eq!(
            response.headers()["x-oauth-scopes"],
            "write:packages, read:packages",
            "{kind}"
        );
        let user: Value = response.json().await.unwrap();
        assert_eq!(user["login"], login.as_str());
        assert_eq!(user["type"], "User");
    }
    for kind in ["fine_grained", "server"] {
        let token = new_token(&login, kind, &["write:packages"]).await;
        let response = api_get(&token, "/user").await;
        assert_eq!(response.status(), 200, "{kind}");
        assert!(response.headers().get("x-oauth-scopes").is_none(), "{kind}");
    }
}

#[tokio::test]
async fn a_revoked_token_gets_401_bad_credentials() {
    let login = new_user("revoke", &[]).await;
    let token = new_token(&login, "classic", &["read:packages"]).await;
    assert_eq!(api_get(&token, "/user").await.status(), 200);
    http()
        .post(format!("{}/_emulator/tokens/{token}/revoke", emulator()))
        .send()
        .await
        .unwrap();
    let response = api_get(&token, "/user").await;
    assert_eq!(response.status(), 401);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["message"], "Bad credentials");
    assert_eq!(body["status"], "401");
    assert!(body["documentation_url"]
        .as_str()
        .unwrap()
        .starts_with("https://docs.github.com/"));
    let anonymous = http()
        .get(format!("{}/user", emulator()))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    let body: Value = anonymous.json().await.unwrap();
    assert_eq!(body["message"], "Requires authentication");
}

#[tokio::test]
async fn one_hundred_fifty_packages_come_back_in_two_pages_via_link() {
    let login = new_user("pager", &[]).await;
    let token = new_token(&login, "classic", &["write:packages"]).await;
    let owner = login.to_lowercase();
    let mut pushes = tokio::task::JoinSet::new();
    for i in 0..150 {
        let (token, owner) = (token.clone(), owner.clone());
        pushes.spawn(async move {
            push_tiny_image(&token, &format!("{owner}/pkg-{i:03}"), "1", None).await
        });
        while pushes.len() >= 8 {
            pushes.join_next().await.unwrap().unwrap();
        }
    }
    while let Some(done) = pushes.join_next().await {
        done.unwrap();
    }
    // Notifications arrive in any order and a little late: wait until all 150 are known.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let page: Vec<Value> = api_get(
            &token,
            "/user/packages?package_type=container&per_page=100&page=2",
        )
        .await
        .json()
        .await
        .unwrap();
        if page.len() == 50 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "only {} on page 2",
            page.len()
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }

    let first = api_get(&token, "/user/packages?package_type=container&per_page=100").await;
    let link = first.headers()["link"].to_str().unwrap().to_string();
    let page: Vec<Value> = first.json().await.unwrap();
    assert_eq!(page.len(), 100);
    let next = link
        .split(", ")
        .find(|l| l.ends_with("rel=\"next\""))
        .expect("a next link");
    assert!(link.contains("rel=\"last\""), "{link}");
    let next_url = next.trim_start_matches('<').split('>').next().unwrap();
    assert!(
        next_url.contains("page=2") && next_url.contains("per_page=100"),
        "{next_url}"
    );
    let second = http()
        .get(next_url)
        .header("authorization", format!("token {token}"))
        .send()
        .await
        .unwrap();
    let second_link = second.headers()["link"].to_str().unwrap().to_string();
    assert!(!second_link.contains("rel=\"next\""), "{second_link}");
    assert!(second_link.contains("rel=\"prev\""), "{second_link}");
    let rest: Vec<Value> = second.json().await.unwrap();
    assert_eq!(rest.len(), 50);
    let mut names: Vec<String> = page
        .iter()
        .chain(rest.iter())
        .map(|p| p["name"].as_str().unwrap().to_string())
        .collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), 150, "every package exactly once");
}

#[tokio::test]
async fn deleting_a_version_removes_it_from_the_api_and_the_registry_and_restore_brings_it_back() {
    let login = new_user("deleter", &[]).await;
    let token = new_token(&login, "classic", &["write:packages", "delete:packages"]).await;
    let path = format!("{}/app", login.to_lowercase());
    let old = push_tiny_image(&token, &path, "old", Some("https://github.com/x/one")).await;
    let new = push_tiny_image(&token, &path, "new", None).await;
    assert_ne!(old, new, "the label makes a different image");
    wait_for_package(&token, "/user/packages?package_type=container", "app").await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    let versions: Vec<Value> = loop {
        let versions: Vec<Value> = api_get(&token, "/user/packages/container/app/versions")
            .await
            .json()
            .await
            .unwrap();
        if versions.len() == 2 {
            break versions;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{} versions",
            versions.len()
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    };
    let old_version = versions
        .iter()
        .find(|v| v["name"] == old.as_str())
        .expect("the old version");
    assert_eq!(old_version["metadata"]["container"]["tags"], json!(["old"]));
    let id = old_version["id"].as_u64().unwrap();
    assert!(skopeo_inspect(&path, "old", Some(&token)).status.success());

    let deleted = http()
        .delete(format!(
            "{}/user/packages/container/app/versions/{id}",
            emulator()
        ))
        .header("authorization", format!("token {token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    let left: Vec<Value> = api_get(&token, "/user/packages/container/app/versions")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0]["name"], new.as_str());
    let gone = skopeo_inspect(&path, "old", Some(&token));
    assert!(
        !gone.status.success(),
        "the tag is gone from the registry too"
    );
    let deleted_list: Vec<Value> = api_get(
        &token,
        "/user/packages/container/app/versions?state=deleted",
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(deleted_list[0]["id"].as_u64(), Some(id));

    let restored = http()
        .post(format!(
            "{}/user/packages/container/app/versions/{id}/restore",
            emulator()
        ))
        .header("authorization", format!("token {token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(restored.status(), 204);
    assert!(
        skopeo_inspect(&path, "old", Some(&token)).status.success(),
        "restored in the registry"
    );
    let again: Vec<Value> = api_get(&token, "/user/packages/container/app/versions")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again.len(), 2);
}

#[tokio::test]
async fn the_last_tagged_version_cannot_be_deleted_but_the_package_can_and_comes_back() {
    let login = new_user("lastone", &[]).await;
    let token = new_token(&login, "classic", &["write:packages", "delete:packages"]).await;
    let path = format!("{}/solo", login.to_lowercase());
    push_tiny_image(&token, &path, "only", None).await;
    wait_for_package(&token, "/user/packages?package_type=container", "solo").await;
    let versions: Vec<Value> = api_get(&token, "/user/packages/container/solo/versions")
        .await
        .json()
        .await
        .unwrap();
    let id = versions[0]["id"].as_u64().unwrap();
    let client = http();
    let auth = format!("token {token}");
    let refused = client
        .delete(format!(
            "{}/user/packages/container/solo/versions/{id}",
            emulator()
        ))
        .header("authorization", &auth)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 400);
    let body: Value = refused.json().await.unwrap();
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("last tagged version"),
        "{body}"
    );

    let deleted = client
        .delete(format!("{}/user/packages/container/solo", emulator()))
        .header("authorization", &auth)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    assert_eq!(
        api_get(&token, "/user/packages/container/solo")
            .await
            .status(),
        404
    );
    assert!(!skopeo_inspect(&path, "only", Some(&token)).status.success());

    let restored = client
        .post(format!(
            "{}/user/packages/container/solo/restore",
            emulator()
        ))
        .header("authorization", &auth)
        .send()
        .await
        .unwrap();
    assert_eq!(restored.status(), 204);
    assert_eq!(
        api_get(&token, "/user/packages/container/solo")
            .await
            .status(),
        200
    );
    assert!(skopeo_inspect(&path, "only", Some(&token)).status.success());
}

#[tokio::test]
async fn delete_without_delete_packages_is_a_403_naming_the_scope() {
    let login = new_user("nodelete", &[]).await;
    let token = new_token(&login, "classic", &["write:packages"]).await;
    push_tiny_image(&token, &format!("{}/keep", login.to_lowercase()), "1", None).await;
    wait_for_package(&token, "/user/packages?package_type=container", "keep").await;
    let response = http()
        .delete(format!("{}/user/packages/container/keep", emulator()))
        .header("authorization", format!("token {token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    let body: Value = response.json().await.unwrap();
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("delete:packages"),
        "{body}"
    );
    assert_eq!(
        api_get(&token, "/user/packages/container/keep")
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn names_with_slashes_are_addressed_with_percent_2f() {
    let login = new_user("nested", &[]).await;
    let token = new_token(&login, "classic", &["write:packages"]).await;
    push_tiny_image(
        &token,
        &format!("{}/tools/cli", login.to_lowercase()),
        "1",
        None,
    )
    .await;
    let package =
        wait_for_package(&token, "/user/packages?package_type=container", "tools/cli").await;
    assert!(
        package["url"]
            .as_str()
            .unwrap()
            .ends_with("/packages/container/tools%2Fcli"),
        "{package}"
    );
    let response = api_get(&token, "/user/packages/container/tools%2Fcli").await;
    assert_eq!(response.status(), 200);
    let versions = api_get(&token, "/user/packages/container/tools%2Fcli/versions").await;
    assert_eq!(versions.status(), 200);
}

#[tokio::test]
async fn a_source_label_links_the_package_to_its_repository() {
    // Octo-Cat and its repository hello-app come from the world file.
    let token = new_token("Octo-Cat", "classic", &["write:packages"]).await;
    let name = unique("linked");
    push_tiny_image(
        &token,
        &format!("octo-cat/{name}"),
        "1",
        Some("https://github.com/Octo-Cat/hello-app"),
    )
    .await;
    let package = wait_for(&token, &format!("/user/packages/container/{name}")).await;
    assert_eq!(package["repository"]["full_name"], "Octo-Cat/hello-app");
    let unlinked = unique("unlinked");
    push_tiny_image(&token, &format!("octo-cat/{unlinked}"), "1", None).await;
    let package = wait_for(&token, &format!("/user/packages/container/{unlinked}")).await;
    assert!(package.get("repository").is_none(), "{package}");
}

#[tokio::test]
async fn org_packages_are_private_to_members_and_memberships_follow_read_org() {
    let org = unique("crew");
    let member = new_user("crewmate", &[&org]).await;
    let outsider = new_user("stranger", &[]).await;
    let member_token = new_token(&member, "classic", &["write:packages"]).await;
    push_tiny_image(&member_token, &format!("{org}/engine"), "1", None).await;
    let list = format!("/orgs/{org}/packages?package_type=container");
    let package = wait_for_package(&member_token, &list, "engine").await;
    assert_eq!(package["owner"]["type"], "Organization");
    assert!(package["html_url"]
        .as_str()
        .unwrap()
        .contains(&format!("/orgs/{org}/packages/container/package/engine")));

    let outsider_token = new_token(&outsider, "classic", &["read:packages"]).await;
    let seen: Vec<Value> = api_get(&outsider_token, &list).await.json().await.unwrap();
    assert!(seen.is_empty(), "an outsider sees no private org package");
    let single = api_get(
        &outsider_token,
        &format!("/orgs/{org}/packages/container/engine"),
    )
    .await;
    assert_eq!(single.status(), 404);

    let orgs: Vec<Value> = api_get(&member_token, "/user/orgs")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(orgs.len(), 1, "public membership listed without read:org");
    let octo = new_token("Octo-Cat", "classic", &["read:packages"]).await;
    let without: Vec<Value> = api_get(&octo, "/user/orgs").await.json().await.unwrap();
    let octo_read_org = new_token("Octo-Cat", "classic", &["read:packages", "read:org"]).await;
    let with: Vec<Value> = api_get(&octo_read_org, "/user/orgs")
        .await
        .json()
        .await
        .unwrap();
    let logins = |list: &[Value]| {
        list.iter()
            .map(|o| o["login"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(logins(&without), vec!["Acme-Corp"]);
    assert_eq!(logins(&with), vec!["Acme-Corp", "night-shift"]);
}

#[tokio::test]
async fn every_answer_carries_rate_limit_headers_that_count_down() {
    let login = new_user("rate", &[]).await;
    let token = new_token(&login, "classic", &["read:packages"]).await;
    let first = api_get(&token, "/user").await;
    let second = api_get(&token, "/user/packages?package_type=container").await;
    let remaining = |r: &reqwest::Response| {
        r.headers()["x-ratelimit-remaining"]
            .to_str()
            .unwrap()
            .parse::<u32>()
            .unwrap()
    };
    assert_eq!(first.headers()["x-ratelimit-limit"], "5000");
    assert_eq!(remaining(&second), remaining(&first) - 1);
    assert!(first.headers().contains_key("x-ratelimit-reset"));
    assert!(first.headers().contains_key("x-github-request-id"));
}

/// Asserts GitHub's error shape and status; never a 500.
async fn assert_github_error(response: reqwest::Response, status: u16) -> Value {
    assert_eq!(response.status().as_u16(), status, "{}", response.url());
    let body: Value = response.json().await.expect("a JSON error body");
    assert!(body["message"].is_string(), "{body}");
    body
}

#[tokio::test]
async fn malformed_input_gets_githubs_error_shape_never_a_500() {
    let login = new_user("malformed", &[]).await;
    let token = new_token(&login, "classic", &["read:packages"]).await;
    let fine = new_token(&login, "fine_grained", &[]).await;
    assert_github_error(api_get(&token, "/user/packages").await, 422).await;
    assert_github_error(
        api_get(&token, "/user/packages?package_type=bogus").await,
        422,
    )
    .await;
    assert_github_error(
        api_get(
            &token,
            "/user/packages?package_type=container&visibility=secret",
        )
        .await,
        422,
    )
    .await;
    assert_github_error(
        api_get(&token, "/user/packages/container/no-such-package").await,
        404,
    )
    .await;
    assert_github_error(api_get(&token, "/user/packages/npm/anything").await, 404).await;
    assert_github_error(
        api_get(&token, "/user/packages/container/x/versions/not-a-number").await,
        404,
    )
    .await;
    assert_github_error(
        api_get(&token, "/orgs/no-such-org/packages?package_type=container").await,
        404,
    )
    .await;
    assert_github_error(api_get(&token, "/no/such/route").await, 404).await;
    assert_github_error(
        api_get(&token, "/user/packages/container/%FF%FE").await,
        400,
    )
    .await;
    let wrong_method = http()
        .put(format!("{}/user", emulator()))
        .header("authorization", format!("token {token}"))
        .send()
        .await
        .unwrap();
    assert_github_error(wrong_method, 405).await;
    let body = assert_github_error(
        api_get(&fine, "/user/packages?package_type=container").await,
        403,
    )
    .await;
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("personal access token"),
        "{body}"
    );
    let weird = api_get(
        &token,
        "/user/packages?package_type=container&per_page=-5&page=abc",
    )
    .await;
    assert_eq!(
        weird.status(),
        200,
        "bad paging values fall back to defaults, as on GitHub"
    );

    // The admin calls and the token service answer bad input with a 4xx too.
    let client = http();
    let bad_json = client
        .post(format!("{}/_emulator/tokens", emulator()))
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(bad_json.status(), 400);
    let unknown_user = client
        .post(format!("{}/_emulator/tokens", emulator()))
        .json(&json!({ "login": "nobody-at-all", "scopes": [] }))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown_user.status(), 422);
    let bad_scope = client
        .get(format!("{}/token", emulator()))
        .query(&[("service", "ghcr-test"), ("scope", "this is:not:a:scope%%")])
        .basic_auth("u", Some(&token))
        .send()
        .await
        .unwrap();
    assert_eq!(
        bad_scope.status(),
        200,
        "unreadable scopes are ignored, as registries do"
    );
    let wrong_service = client
        .get(format!("{}/token", emulator()))
        .query(&[("service", "elsewhere")])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_service.status(), 400);
}
