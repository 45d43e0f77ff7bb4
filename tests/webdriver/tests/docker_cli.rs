//! A plaintext registry token in Docker's config.json, in the real window: the app points it out once
//! at start (the token's login, checked), the Account view's Docker CLI card offers to move it, and
//! after "Move it to the keyring" config.json holds no token and names the credential helper.

use base64::Engine as _;
use ghcr_webdriver_tests::{
    click, ensure, open_view, own_web_url, photograph_at_both_sizes, stack, target_dir,
    user_with_token, wait_for, App,
};

#[tokio::test]
async fn a_plaintext_token_is_pointed_out_and_moved_to_the_keyring_from_the_account_view() {
    let (login, token) = user_with_token("Wd-Docker", &[], "classic", &["write:packages"]).await;
    let registry = stack("GHCR_TEST_REGISTRY_TOKEN");
    let home = tempfile::tempdir().unwrap();
    let docker_config = home.path().join("docker");
    std::fs::create_dir_all(&docker_config).unwrap();
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{login}:{token}"));
    std::fs::write(
        docker_config.join("config.json"),
        format!(r#"{{"auths":{{"{registry}":{{"auth":"{auth}"}}}},"detachKeys":"ctrl-e,e"}}"#),
    )
    .unwrap();
    // A GitHub web host of this test's own: its keyring entries are nobody else's.
    let web = own_web_url();
    let helper_dir = target_dir().join("debug");
    let path = format!(
        "{}:{}",
        helper_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let env = [
        ("HOME", home.path().display().to_string()),
        ("DOCKER_CONFIG", docker_config.display().to_string()),
        ("PATH", path),
        ("DOCKER_HOST", stack("DOCKER_HOST")),
        ("GHCR_API_URL", stack("GHCR_TEST_EMULATOR")),
        ("GHCR_WEB_URL", web.clone()),
        ("GHCR_REGISTRY", registry.clone()),
    ];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let config_file = docker_config.join("config.json");

    App::launch("docker-cli", &env)
        .await
        .check(|client| async move {
            let banner = wait_for(&client, "#banner:not([hidden])").await?;
            let said = banner.text().await?;
            ensure(
                said.contains(&login) && said.contains("can push"),
                format!("the banner names the checked login: {said}"),
            )?;
            ensure(!said.contains(&token), "never the token")?;
            click(&client, "#banner-move").await?;
            click(
                &client,
                "#docker-cli[data-plaintext='true'] #docker-cli-setup",
            )
            .await?;
            wait_for(
                &client,
                "#docker-cli[data-configured='true'][data-plaintext='false']",
            )
            .await?;
            let config = std::fs::read_to_string(&config_file).unwrap_or_default();
            ensure(!config.contains(&auth), format!("no token left: {config}"))?;
            ensure(
                config.contains("ghcr-desktop") && config.contains("ctrl-e,e"),
                format!("the helper named, the rest kept: {config}"),
            )?;
            // Set up, the card says what to do before uninstalling (the helper gone, docker fails).
            let before = wait_for(&client, "#docker-cli-before-uninstall")
                .await?
                .text()
                .await?;
            ensure(
                before.contains("Uninstalling") && before.contains("Undo this first"),
                format!("before uninstalling: {before}"),
            )?;
            wait_for(&client, "#docker-cli-undo:not([hidden])").await?;
            let page = client.source().await?;
            ensure(!page.contains(&token), "the page never held the token")?;
            photograph_at_both_sizes(&client, "docker-cli-set-up", "#docker-cli-before-uninstall")
                .await
        })
        .await;

    // Leave the keyring as it was.
    let _ = std::process::Command::new(target_dir().join("debug/ghcr"))
        .arg("logout")
        .envs(env.iter().copied())
        .output();
}

/// Docker can't run a helper that isn't on PATH: "Set up" is disabled and the card says where the
/// helper is and what to do, once (before, Set up stayed enabled and failed, repeating the advice).
#[tokio::test]
async fn without_the_helper_on_path_set_up_is_disabled_and_the_card_says_why_once() {
    let (_, token) = user_with_token("Wd-NoHelper", &[], "classic", &["write:packages"]).await;
    let home = tempfile::tempdir().unwrap();
    let docker_config = home.path().join("docker");
    std::fs::create_dir_all(&docker_config).unwrap();
    std::fs::write(docker_config.join("config.json"), "{}").unwrap();
    let env = [
        ("HOME", home.path().display().to_string()),
        ("DOCKER_CONFIG", docker_config.display().to_string()),
        ("PATH", "/usr/local/bin:/usr/bin:/bin".to_string()),
        ("DOCKER_HOST", stack("DOCKER_HOST")),
        ("GHCR_API_URL", stack("GHCR_TEST_EMULATOR")),
        ("GHCR_WEB_URL", stack("GHCR_TEST_EMULATOR")),
        ("GHCR_REGISTRY", stack("GHCR_TEST_REGISTRY_TOKEN")),
        ("GHCR_TOKEN", token),
    ];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    App::launch("docker-cli-no-helper", &env)
        .await
        .check(|client| async move {
            open_view(&client, "account").await?;
            let setup = wait_for(&client, "#docker-cli-setup").await?;
            ensure(
                setup.attr("disabled").await?.is_some(),
                "Set up is disabled while the helper is not on PATH",
            )?;
            let card = wait_for(&client, "#docker-cli").await?.text().await?;
            ensure(
                card.matches("not on PATH").count() == 1,
                format!("said once: {card}"),
            )?;
            ensure(
                card.contains("add that folder to PATH"),
                format!("what to do: {card}"),
            )
        })
        .await;
}
