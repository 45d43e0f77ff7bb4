//! The emulated github.com web pages: a package's settings page flips its visibility (there is no API
//! for it), and the new-token page shows the requested scopes and mints a classic token that works.

mod common;

use common::*;
use serde_json::Value;

#[tokio::test]
async fn the_settings_page_shows_and_flips_visibility() {
    let login = new_user("Settings", &[]).await;
    let token = new_token(&login, "classic", &["write:packages"]).await;
    let path = format!("{}/web-app", login.to_lowercase());
    push_tiny_image(&token, &path, "1", None).await;
    wait_for(&token, "/user/packages/container/web-app").await;

    let page_url = format!(
        "{}/users/{login}/packages/container/web-app/settings",
        emulator()
    );
    let page = http().get(&page_url).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("<strong id=\"visibility\">private</strong>"),
        "{html}"
    );
    assert!(html.contains("Change package visibility"));

    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let posted = client
        .post(&page_url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("visibility=public")
        .send()
        .await
        .unwrap();
    assert!(posted.status().is_redirection(), "{}", posted.status());
    let package: Value = api_get(&token, "/user/packages/container/web-app")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(package["visibility"], "public");
    assert!(
        skopeo_inspect(&path, "1", None).status.success(),
        "anyone can pull it now"
    );

    let bad = client
        .post(&page_url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("visibility=everyone")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 422);
    let missing = http()
        .get(format!(
            "{}/users/{login}/packages/container/nothing/settings",
            emulator()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
}

#[tokio::test]
async fn the_new_token_page_shows_the_asked_scopes_and_mints_a_working_token() {
    let login = new_user("minter", &[]).await;
    let page = http()
        .get(format!(
            "{}/settings/tokens/new?scopes=write:packages,read:packages&description=GHCR%20Desktop%20(laptop)",
            emulator()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("value=\"write:packages\" checked"), "{html}");
    assert!(html.contains("value=\"read:packages\" checked"));
    assert!(
        html.contains("value=\"delete:packages\">"),
        "not asked, not ticked"
    );
    assert!(html.contains("value=\"GHCR Desktop (laptop)\""));

    let minted = http()
        .post(format!("{}/settings/tokens/new", emulator()))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "login={login}&scope=write%3Apackages&scope=read%3Apackages&description=demo"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(minted.status(), 200);
    let html = minted.text().await.unwrap();
    let token = html
        .split("<code id=\"token\">")
        .nth(1)
        .and_then(|rest| rest.split("</code>").next())
        .expect("the page shows the token")
        .to_string();
    assert!(token.starts_with("ghp_") && token.len() == 40, "{token}");
    let user = api_get(&token, "/user").await;
    assert_eq!(
        user.headers()["x-oauth-scopes"],
        "write:packages, read:packages"
    );
    let user: Value = user.json().await.unwrap();
    assert_eq!(user["login"], login.as_str());
}

#[tokio::test]
async fn the_device_flow_answers_pending_then_slow_down_when_polled_too_fast() {
    let client = http();
    let code = json_answer(
        client
            .post(format!("{}/login/device/code", emulator()))
            .header("accept", "application/json")
            .body("client_id=ghcr-desktop-test&scope=write%3Apackages")
            .header("content-type", "application/x-www-form-urlencoded"),
    )
    .await;
    let device_code = code["device_code"].as_str().unwrap().to_string();
    let interval = code["interval"].as_u64().unwrap();
    let poll = || async {
        client
            .post(format!("{}/login/oauth/access_token", emulator()))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!(
                "client_id=ghcr-desktop-test&device_code={device_code}&grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code"
            ))
            .send()
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap()
    };
    assert_eq!(poll().await["error"], "authorization_pending");
    let second = poll().await;
    assert_eq!(second["error"], "slow_down");
    assert_eq!(second["interval"].as_u64(), Some(interval + 5));

    let unknown = client
        .post(format!("{}/login/device/code", emulator()))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("client_id=nope")
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 400);
}
