//! The real GHCR Desktop window, driven through WebDriver: the status bar shows the stack's engine and
//! follows it going away and coming back, the no-engine state says how to start one, views switch from
//! the keyboard, and the theme toggles.

use ghcr_webdriver_tests::{
    attr_of, click, docker, ensure, ensure_says, stack, wait_for, App, Key, Locator,
};
use tokio::net::{TcpListener, UnixStream};
use tokio::task::JoinHandle;

/// The stack engine's version as the docker CLI reports it.
fn docker_server_version() -> String {
    docker(&["version", "--format", "{{.Server.Version}}"])
}

#[tokio::test]
async fn status_bar_shows_the_version_of_the_stack_engine() {
    let version = docker_server_version();
    let docker_host = stack("DOCKER_HOST");
    App::launch("engine-version", &[("DOCKER_HOST", &docker_host)])
        .await
        .check(|client| async move {
            let status = wait_for(&client, "#engine-status[data-state='ok']").await?;
            let text = status.text().await?;
            ensure_says("the status bar", &text, &format!("Docker Engine {version}"))?;
            ensure_says("the status bar", &text, &docker_host)?;
            let endpoint = client
                .find(Locator::Id("engine-endpoint"))
                .await?
                .text()
                .await?;
            ensure(
                endpoint == docker_host,
                format!("Images view shows {endpoint:?}"),
            )?;
            let api = client.find(Locator::Id("engine-api")).await?.text().await?;
            ensure(api.starts_with("1.41"), format!("API shown as {api:?}"))
        })
        .await;
}

#[tokio::test]
async fn without_an_engine_the_window_says_how_to_start_one() {
    let nowhere = tempfile::tempdir().unwrap();
    let docker_host = format!("unix://{}/docker.sock", nowhere.path().display());
    App::launch("no-engine", &[("DOCKER_HOST", &docker_host)])
        .await
        .check(|client| async move {
            let status = wait_for(&client, "#engine-status[data-state='error']").await?;
            let text = status.text().await?;
            ensure(
                text == "No container engine found",
                format!("status bar says {text:?}"),
            )?;
            let empty = client.find(Locator::Id("no-engine")).await?;
            let title = empty.find(Locator::Css("h2")).await?.text().await?;
            ensure(
                title == "No container engine found",
                format!("title {title:?}"),
            )?;
            let detail = empty.find(Locator::Css(".detail")).await?.text().await?;
            ensure(detail.contains(&docker_host), format!("detail {detail:?}"))?;
            let hint = empty.find(Locator::Css(".hint")).await?.text().await?;
            ensure_says("the hint", &hint, "Start Docker or Podman")?;
            // Trying again keeps the window in the same clear state (no hang, no blank page).
            click(&client, "#engine-retry").await?;
            wait_for(&client, "#no-engine #engine-retry:not([disabled])").await?;
            Ok(())
        })
        .await;
}

#[tokio::test]
async fn sidebar_views_switch_with_alt_numbers_and_arrow_keys() {
    let docker_host = stack("DOCKER_HOST");
    App::launch("keyboard", &[("DOCKER_HOST", &docker_host)])
        .await
        .check(|client| async move {
            wait_for(&client, "main[data-view='images']").await?;
            let body = client.find(Locator::Css("body")).await?;
            body.send_keys(&format!("{}4{}", Key::Alt, Key::Null))
                .await?;
            wait_for(&client, "main[data-view='packages'] #no-packages").await?;
            let current = attr_of(&client, ".nav[aria-current='page']", "data-view").await?;
            ensure(
                current.as_deref() == Some("packages"),
                format!("current nav {current:?}"),
            )?;

            // Arrow keys move focus along the sidebar; Enter opens the focused view.
            let account = client
                .find(Locator::Css(".nav[data-view='account']"))
                .await?;
            account.send_keys(&Key::Down.to_string()).await?;
            let focused = client.active_element().await?.attr("data-view").await?;
            ensure(
                focused.as_deref() == Some("images"),
                format!("focus on {focused:?}"),
            )?;
            client
                .active_element()
                .await?
                .send_keys(&Key::Down.to_string())
                .await?;
            client
                .active_element()
                .await?
                .send_keys(&Key::Enter.to_string())
                .await?;
            wait_for(&client, "main[data-view='pushes'] #no-pushes").await?;
            Ok(())
        })
        .await;
}

#[tokio::test]
async fn theme_toggle_switches_between_light_and_dark() {
    let docker_host = stack("DOCKER_HOST");
    App::launch("theme", &[("DOCKER_HOST", &docker_host)])
        .await
        .check(|client| async move {
            let toggle = wait_for(&client, "#theme-toggle").await?;
            let background = || async {
                client
                    .execute(
                        "return getComputedStyle(document.body).backgroundColor",
                        vec![],
                    )
                    .await
                    .map(|value| value.as_str().unwrap_or_default().to_string())
            };
            toggle.click().await?;
            ensure(
                toggle.text().await? == "Theme: light",
                "first click chooses light",
            )?;
            let light = background().await?;
            toggle.click().await?;
            ensure(
                toggle.text().await? == "Theme: dark",
                "second click chooses dark",
            )?;
            let dark = background().await?;
            ensure(
                light == "rgb(246, 247, 251)",
                format!("light background {light}"),
            )?;
            ensure(dark == "rgb(20, 22, 31)", format!("dark background {dark}"))?;
            Ok(())
        })
        .await;
}

/// A TCP address for the stack's real engine that the test can take away and bring back, as an engine
/// that stops and starts again looks to the app.
async fn engine_over_tcp(port: u16) -> JoinHandle<()> {
    let socket = stack("DOCKER_HOST")
        .trim_start_matches("unix://")
        .to_string();
    let listener = TcpListener::bind(("127.0.0.1", port))
        .await
        .expect("the port is free");
    tokio::spawn(async move {
        // Aborting this task drops the set, which closes every open connection too (the app's event
        // stream among them), as a stopped engine does.
        let mut connections = tokio::task::JoinSet::new();
        while let Ok((mut tcp, _)) = listener.accept().await {
            let socket = socket.clone();
            connections.spawn(async move {
                if let Ok(mut unix) = UnixStream::connect(&socket).await {
                    let _ = tokio::io::copy_bidirectional(&mut tcp, &mut unix).await;
                }
            });
        }
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_bar_follows_the_engine_going_away_and_coming_back() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let engine = engine_over_tcp(port).await;
    let docker_host = format!("tcp://127.0.0.1:{port}");
    App::launch("engine-restart", &[("DOCKER_HOST", &docker_host)])
        .await
        .check(|client| async move {
            wait_for(&client, "#engine-status[data-state='ok']").await?;
            engine.abort(); // the listener closes: connections are refused from now on
            let _ = engine.await;
            wait_for(&client, "#engine-status[data-state='error']").await?;
            let detail = client
                .find(Locator::Css("#no-engine .detail"))
                .await?
                .text()
                .await?;
            ensure(
                detail.contains(&docker_host) && detail.contains("connection refused"),
                format!("detail {detail:?}"),
            )?;
            let _engine = engine_over_tcp(port).await;
            wait_for(&client, "#engine-status[data-state='ok']").await?;
            client.find(Locator::Id("engine-card")).await?;
            Ok(())
        })
        .await;
}

#[tokio::test]
async fn the_page_gets_only_its_own_commands_and_no_inline_script_runs() {
    App::launch("window-lockdown", &[("DOCKER_HOST", &stack("DOCKER_HOST"))])
        .await
        .check(|client| async move {
            wait_for(&client, "#engine-status[data-state]").await?;
            // Plugin and core commands the UI doesn't use are refused by the capability, before any
            // code runs: opening any URL, closing the window, reading a path.
            let refused = client
                .execute_async(
                    r#"const done = arguments[0];
                    const tries = [
                      ['plugin:opener|open_url', { url: 'https://evil.example/' }],
                      ['plugin:window|close', {}],
                      ['plugin:path|resolve_directory', { directory: 11 }],
                      ['plugin:dialog|save', {}],
                      ['plugin:notification|notify', { options: { title: 'x' } }],
                    ];
                    Promise.all(tries.map(([cmd, args]) => window.__TAURI__.core.invoke(cmd, args)
                      .then(() => `${cmd}: allowed`, (e) => `${cmd}: ${e}`)))
                      .then((r) => done(r));"#,
                    vec![],
                )
                .await?;
            let answers: Vec<String> = serde_json::from_value(refused).unwrap_or_default();
            ensure(answers.len() == 5, format!("answers: {answers:?}"))?;
            for answer in &answers {
                ensure_says("the refusal", answer, "not allowed")?;
            }
            // The CSP: an inline script added to the page does not run, nor does eval.
            let ran = client
                .execute(
                    r#"const script = document.createElement('script');
                    script.textContent = 'window.inlineRan = true;';
                    document.body.append(script);
                    let evaluated = false;
                    try { evaluated = eval('true'); } catch (e) { evaluated = false; }
                    return [window.inlineRan === true, evaluated];"#,
                    vec![],
                )
                .await?;
            ensure(
                ran == serde_json::json!([false, false]),
                format!("inline script ran / eval ran: {ran}"),
            )
        })
        .await;
}

/// At the window's minimum size (760×480) every view is usable: no horizontal scrolling, a sidebar of
/// icons, a one-line status bar, and the Images list taking the height (before: names under badges,
/// 2½ rows, three views scrolling sideways). A screenshot of each view at 760×480 and at 1440×900 is
/// saved to target/webdriver/ (scripts/readme-screenshots.sh copies them to docs/).
#[tokio::test]
async fn every_view_is_usable_at_the_minimum_window_size() {
    let (_, token) =
        ghcr_webdriver_tests::user_with_token("Wd-Small", &[], "classic", &["write:packages"])
            .await;
    ghcr_webdriver_tests::import_image(&format!("{}:1", ghcr_webdriver_tests::unique("wd-small")));
    let env = ghcr_webdriver_tests::signed_in_env(&token);
    App::launch("window-sizes", &ghcr_webdriver_tests::env_refs(&env))
        .await
        .check(|client| async move {
            for (width, height) in [(760u32, 480u32), (1440, 900)] {
                ghcr_webdriver_tests::resize(&client, width, height).await?;
                for view in ["account", "images", "pushes", "packages", "settings"] {
                    ghcr_webdriver_tests::open_view(&client, view).await?;
                    if view == "images" {
                        wait_for(&client, "#image-list[data-rows]").await?;
                    }
                    ghcr_webdriver_tests::settle(&client).await;
                    let measured: serde_json::Value = client
                        .execute(
                            "const main = document.getElementById('view');
                             const list = document.getElementById('image-list');
                             return {
                               sideways: main.scrollWidth - main.clientWidth,
                               sidebar: document.querySelector('.sidebar').getBoundingClientRect().width,
                               status: document.querySelector('.statusbar').getBoundingClientRect().height,
                               inner: window.innerWidth,
                               list: list ? list.getBoundingClientRect().height : null };",
                            vec![],
                        )
                        .await?;
                    let number = |key: &str| measured[key].as_f64().unwrap_or(f64::NAN);
                    let at = format!("{view} at {width}×{height}: {measured}");
                    ensure(number("sideways") <= 1.0, format!("no sideways scrolling, {at}"))?;
                    ensure(number("status") <= 31.0, format!("a one-line status bar, {at}"))?;
                    if number("inner") < 980.0 {
                        ensure(number("sidebar") <= 64.0, format!("a sidebar of icons, {at}"))?;
                    }
                    if view == "images" {
                        ensure(number("list") >= 4.0 * 48.0, format!("the list shows 4 rows or more, {at}"))?;
                    }
                    let png = client.screenshot().await?;
                    let file = ghcr_webdriver_tests::target_dir()
                        .join(format!("webdriver/view-{view}-{width}x{height}.png"));
                    std::fs::write(file, png)?;
                }
            }
            Ok(())
        })
        .await;
}
