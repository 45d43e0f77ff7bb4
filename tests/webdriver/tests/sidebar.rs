//! The icon sidebar of a small window names the view under the pointer or the keyboard's focus. A test
//! binary of its own: WebKitGTK's WebDriver moves the pointer over the X screen, and without a window
//! manager every window sits at 0,0 — with another test's window on top, the hover reaches that one
//! (seen: 2 of 3 runs beside the other window tests). cargo runs test binaries one after another, so
//! this one's window is alone.

use ghcr_webdriver_tests::{ensure, stack, wait_for, App, Key};

/// At 760×480 the sidebar is icons: the pointer over one shows its name beside it, over the view — not
/// over the next icon — and no system tooltip is asked for (a `title`: GTK's covered the next item and
/// left blank boxes behind under X without a window manager); the name goes when the pointer does, and
/// the keyboard's focus shows one too.
#[tokio::test]
async fn the_icon_sidebar_names_a_view_beside_its_icon_under_the_pointer() {
    use fantoccini::actions::{InputSource, MouseActions, PointerAction};
    App::launch(
        "window-sidebar-names",
        &[("DOCKER_HOST", &stack("DOCKER_HOST"))],
    )
    .await
    .check(|client| async move {
        ghcr_webdriver_tests::resize(&client, 760, 480).await?;
        // Where each view's name is drawn, beside the sidebar's right edge and its icon's row.
        let name_of = |view: &str| {
            format!(
                "const button = document.querySelector(\".nav[data-view='{view}']\");
                     const name = button.querySelector('span:not(.count)').getBoundingClientRect();
                     const icon = button.getBoundingClientRect();
                     const sidebar = document.querySelector('.sidebar').getBoundingClientRect();
                     return {{ shown: name.width > 20 && name.height > 10,
                              beside: name.left >= sidebar.right && name.top >= icon.top - 4
                                      && name.bottom <= icon.bottom + 4,
                              title: button.hasAttribute('title') }};"
            )
        };
        let name_once = |view: &'static str, shown: bool| {
            let client = client.clone();
            let script = name_of(view);
            async move {
                let deadline = std::time::Instant::now() + ghcr_webdriver_tests::PATIENCE;
                loop {
                    let name = client.execute(&script, vec![]).await?;
                    if name["shown"] == shown || std::time::Instant::now() > deadline {
                        return Ok::<_, fantoccini::error::CmdError>(name);
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
            }
        };
        for view in ["account", "images", "pushes", "packages", "settings"] {
            let button = wait_for(&client, &format!(".nav[data-view='{view}']")).await?;
            let hover = MouseActions::new("mouse".into()).then(PointerAction::MoveToElement {
                element: button,
                duration: None,
                x: 0.0,
                y: 0.0,
            });
            client.perform_actions(hover).await?;
            let name = name_once(view, true).await?;
            ensure(
                name["shown"] == true && name["beside"] == true && name["title"] == false,
                format!(
                    "{view}'s name beside its icon under the pointer, no system tooltip: {name}"
                ),
            )?;
            if view == "pushes" {
                ghcr_webdriver_tests::settle(&client).await;
                std::fs::write(
                    ghcr_webdriver_tests::target_dir()
                        .join("webdriver/state-sidebar-names-760x480.png"),
                    client.screenshot().await?,
                )?;
            }
        }
        let away = MouseActions::new("mouse".into()).then(PointerAction::MoveTo {
            duration: None,
            x: 500.0,
            y: 300.0,
        });
        client.perform_actions(away).await?;
        client.release_actions().await?;
        let gone = name_once("settings", false).await?;
        ensure(
            gone["shown"] == false,
            format!("no name once the pointer left: {gone}"),
        )?;
        // The keyboard's focus shows a name too: Down from Account moves it to Images.
        let account = wait_for(&client, ".nav[data-view='account']").await?;
        account.send_keys(&Key::Down.to_string()).await?;
        let focused = name_once("images", true).await?;
        ensure(
            focused["shown"] == true && focused["beside"] == true,
            format!("the focused icon's name beside it: {focused}"),
        )
    })
    .await;
}
