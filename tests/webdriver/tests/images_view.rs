//! The Images view in the real window against the stack's dockerd: the list shows the engine's images
//! and the filter narrows it as typed; "Tag for GitHub" proposes the lowercased owner, explains an
//! uppercase name, offers the fix and creates the tag; a `docker tag` from outside appears by itself.

use ghcr_webdriver_tests::{
    attr_of, click, confirm_push_dialog, content_of, dialog_ready, docker, ensure, ensure_says,
    env_refs, import_image, open_view, photograph_at_both_sizes, reload, resize, signed_in_env,
    stack, text_of, unique, user_with_token, wait_checked, wait_for, wait_for_within, App, Client,
    Locator,
};
use std::time::Duration;

/// The references of the rows in the page.
async fn row_references(client: &Client) -> Result<Vec<String>, fantoccini::error::CmdError> {
    let mut references = Vec::new();
    for row in client.find_all(Locator::Css(".image-row")).await? {
        references.push(row.attr("data-reference").await?.unwrap_or_default());
    }
    Ok(references)
}

/// Types `text` into the filter (replacing what is there).
async fn filter(client: &Client, text: &str) -> Result<(), fantoccini::error::CmdError> {
    let input = wait_for(client, "#image-filter").await?;
    input.clear().await?;
    input.send_keys(text).await
}

async fn wait_for_row(client: &Client, reference: &str) -> Result<(), fantoccini::error::CmdError> {
    wait_for(client, &format!(".image-row[data-reference='{reference}']"))
        .await
        .map(|_| ())
}

#[tokio::test]
async fn the_list_shows_the_engines_images_and_typing_in_the_filter_narrows_it() {
    let prefix = unique("wd-list");
    let first = import_image(&format!("{prefix}-one:1"));
    import_image(&format!("{prefix}-two:2"));
    docker(&[
        "tag",
        &format!("{prefix}-one:1"),
        &format!("{prefix}-one:latest"),
    ]);
    let docker_host = stack("DOCKER_HOST");
    App::launch("images-list", &[("DOCKER_HOST", &docker_host)])
        .await
        .check(|client| async move {
            let list = wait_for(&client, "#image-list[data-rows]").await?;
            let rows: usize = list
                .attr("data-rows")
                .await?
                .unwrap_or_default()
                .parse()
                .unwrap_or(0);
            ensure(rows >= 3, format!("{rows} rows listed"))?;
            let switcher = client.find(Locator::Id("engine-select")).await?;
            wait_for(
                &client,
                &format!("#engine-select option[value='{docker_host}']"),
            )
            .await?;
            ensure(
                switcher.is_displayed().await?,
                "the engine switcher is shown",
            )?;

            filter(&client, &prefix).await?;
            wait_for_row(&client, &format!("{prefix}-two:2")).await?;
            let shown = row_references(&client).await?;
            let expected = vec![
                format!("{prefix}-one:1"),
                format!("{prefix}-one:latest"),
                format!("{prefix}-two:2"),
            ];
            ensure(shown == expected, format!("rows {shown:?}"))?;
            filter(&client, &format!("{prefix} two")).await?;
            wait_for(&client, "#image-list[data-rows='1']").await?;
            ensure(
                row_references(&client).await? == vec![format!("{prefix}-two:2")],
                "two words narrow to one row",
            )?;
            // The short ID is what `docker images` shows.
            filter(&client, &first[7..19]).await?;
            wait_for_row(&client, &format!("{prefix}-one:1")).await?;
            let count = client
                .find(Locator::Id("image-count"))
                .await?
                .text()
                .await?;
            ensure(count.starts_with("2 of "), format!("count says {count:?}"))
        })
        .await;
}

#[tokio::test]
async fn tag_for_github_with_an_uppercase_name_shows_the_fix_and_creates_the_tag() {
    let registry = stack("GHCR_TEST_REGISTRY_TOKEN");
    let org = unique("Wd-Org");
    let (login, token) = user_with_token("Wd-Owner", &[&org], "classic", &["write:packages"]).await;
    let name = unique("wd-tag");
    let id = import_image(&format!("{name}:src"));
    let env = signed_in_env(&token);
    let env = env_refs(&env);
    let owner = login.to_lowercase();
    let org_owner = org.to_lowercase();
    let typed = format!("{}:1.0", name.replace("wd-tag", "Wd-Tag"));
    let fixed = format!("{registry}/{org_owner}/{name}:1.0");
    App::launch("images-tag", &env)
        .await
        .check(|client| async move {
            filter(&client, &name).await?;
            wait_for_row(&client, &format!("{name}:src")).await?;
            click(&client, ".image-row .tag-for-github").await?;
            dialog_ready(&client, "tag-dialog").await?;
            let preview = text_of(&client, "#tag-dialog[data-valid='true'] #tag-preview").await?;
            ensure(
                preview == format!("{registry}/{owner}/{name}:src"),
                format!("proposed {preview:?}, expected the lowercased login"),
            )?;
            let options = client.find_all(Locator::Css("#tag-owner option")).await?;
            let mut values = Vec::new();
            for option in options {
                values.push(option.attr("value").await?.unwrap_or_default());
            }
            ensure(
                values == vec![owner.clone(), org_owner.clone()],
                format!("owners {values:?}"),
            )?;
            click(&client, &format!("#tag-owner option[value='{org_owner}']")).await?;
            let field = client.find(Locator::Id("tag-name")).await?;
            field.clear().await?;
            field.send_keys(&typed).await?;
            // Clearing the field is a change too ("a path component is empty"), and each pause in the
            // typing another: wait for the check of the whole typed name.
            wait_checked(
                &client,
                "tag-dialog",
                &format!("{registry}/{org_owner}/{typed}"),
            )
            .await?;
            let said = text_of(&client, "#tag-dialog[data-valid='false'] #tag-problem").await?;
            ensure(said.contains("uppercase"), format!("problem says {said:?}"))?;
            let create = client.find(Locator::Id("tag-create")).await?;
            ensure(
                !create.is_enabled().await?,
                "Create is disabled for an invalid name",
            )?;
            let fix = client.find(Locator::Id("tag-fix")).await?;
            let offer = fix.text().await?;
            ensure(
                offer == format!("Use {fixed}"),
                format!("fix offered {offer:?}"),
            )?;
            fix.click().await?;
            wait_for(&client, "#tag-dialog[data-valid='true']").await?;
            click(&client, "#tag-create").await?;
            let notice = text_of(&client, "#image-notice:not([hidden])").await?;
            ensure(
                notice == format!("Tagged {name}:src as {fixed}"),
                format!("notice {notice:?}"),
            )?;
            let inspected = docker(&["image", "inspect", "--format", "{{.Id}}", &fixed]);
            ensure(inspected == id, format!("{fixed} is {inspected}, not {id}"))?;
            wait_for_row(&client, &fixed).await?;
            // Named for the registry, not pushed: the badge says so ("on registry" is for a push).
            let badge = content_of(
                &client,
                &format!(
                    ".image-row[data-reference='{fixed}'] .registry-badge[data-present='false']"
                ),
            )
            .await?;
            ensure(badge == "not pushed yet", format!("badge {badge:?}"))
        })
        .await;
}

#[tokio::test]
async fn a_docker_tag_from_outside_makes_a_new_row_appear() {
    let name = unique("wd-live");
    import_image(&format!("{name}:1"));
    App::launch("images-live", &[("DOCKER_HOST", &stack("DOCKER_HOST"))])
        .await
        .check(|client| async move {
            filter(&client, &name).await?;
            wait_for_row(&client, &format!("{name}:1")).await?;
            docker(&["tag", &format!("{name}:1"), &format!("{name}:from-outside")]);
            wait_for(
                &client,
                &format!(".image-row[data-reference='{name}:from-outside']"),
            )
            .await?;
            docker(&["rmi", &format!("{name}:from-outside")]);
            wait_for(&client, "#image-list[data-rows='1']").await?;
            Ok(())
        })
        .await;
}

/// A click selects a row and it stays marked once focus moves on; the owner buttons say what they
/// will push ("Push NAME:TAG to OWNER") — before, the row that last had focus was pushed unmarked.
#[tokio::test]
async fn the_selected_row_stays_marked_and_the_owner_row_says_what_it_pushes() {
    let (login, token) = user_with_token("Wd-Select", &[], "classic", &["write:packages"]).await;
    let name = unique("wd-select");
    let image = format!("{name}:1.0");
    import_image(&image);
    let env = signed_in_env(&token);
    App::launch("images-selection", &env_refs(&env))
        .await
        .check(|client| async move {
            filter(&client, &name).await?;
            wait_for_row(&client, &image).await?;
            click(
                &client,
                &format!(".image-row[data-reference='{image}'] .image-size"),
            )
            .await?;
            // Focus leaves the list: the selection stays, and says so.
            click(&client, "#image-filter").await?;
            let row = wait_for(
                &client,
                &format!(".image-row.selected[data-reference='{image}']"),
            )
            .await?;
            ensure(
                row.attr("aria-selected").await?.as_deref() == Some("true"),
                "the selected row says so to assistive technology",
            )?;
            // The row before the owners says what they push; each owner's button keeps its name and
            // says it in its tooltip.
            let what = content_of(&client, "#push-what").await?;
            ensure(
                what == format!("Push {name}:1.0 to:"),
                format!("the owner row says what it pushes: {what:?}"),
            )?;
            let owner = login.to_lowercase();
            let zone = format!(".drop-zone[data-owner='{owner}']");
            let label = content_of(&client, &zone).await?;
            ensure(
                label == format!("↑ {login} (you)"),
                format!("the owner's button keeps its name: {label:?}"),
            )?;
            let title = attr_of(&client, &zone, "title").await?.unwrap_or_default();
            ensure_says(
                "the owner's button's tooltip",
                &title,
                &format!("{name}:1.0 to {login}"),
            )?;
            photograph_at_both_sizes(&client, "selected-row", "#push-targets").await
        })
        .await;
}

/// Rows that share a long registry/owner prefix stay tellable apart: the prefix is dimmed and cut
/// first, the last path part and the tag show whole, and the full name is the row's tooltip and
/// accessible name (before, "127.0.0.1:56907/octo-cat/…" on every row).
#[tokio::test]
async fn rows_sharing_a_long_prefix_show_the_name_and_tag_whole() {
    let owner = format!("{}-an-owner-with-a-rather-long-name", unique("wd-prefix"));
    let registry = stack("GHCR_TEST_REGISTRY_TOKEN");
    let prefix = format!("{registry}/{owner}/team/services/backend");
    import_image(&format!("{owner}-base:1"));
    for part in ["alpha", "beta"] {
        docker(&[
            "tag",
            &format!("{owner}-base:1"),
            &format!("{prefix}/{part}:2026.11.30"),
        ]);
    }
    let short = unique("wd-short");
    docker(&["tag", &format!("{owner}-base:1"), &format!("{short}:1")]);
    let docker_host = stack("DOCKER_HOST");
    App::launch("images-long-names", &[("DOCKER_HOST", &docker_host)])
        .await
        .check(|client| async move {
            filter(&client, &owner).await?;
            for part in ["alpha", "beta"] {
                let reference = format!("{prefix}/{part}:2026.11.30");
                wait_for_row(&client, &reference).await?;
                let row = format!(".image-row[data-reference='{reference}']");
                // The last part and the tag are not cut; the prefix is.
                let cut = cut_parts(&client, &row, &[".repo", ".tag", ".prefix"]).await?;
                ensure(
                    cut == [false, false, true],
                    format!("{part}: cut (repo, tag, prefix) = {cut:?}"),
                )?;
                let element = client.find(Locator::Css(&row)).await?;
                let label = element.attr("aria-label").await?.unwrap_or_default();
                ensure(
                    label.starts_with(&reference),
                    format!("accessible name: {label}"),
                )?;
                let shown = content_of(&client, &format!("{row} .repo")).await?;
                ensure(shown == part, format!("the last part shows: {shown:?}"))?;
            }
            // A short name with no prefix has room and is not cut (it was, by a share of its own
            // width: "api-s… :2.3.1").
            filter(&client, &short).await?;
            let reference = format!("{short}:1");
            wait_for_row(&client, &reference).await?;
            let row = format!(".image-row[data-reference='{reference}']");
            let cut = cut_parts(&client, &row, &[".repo", ".tag"]).await?;
            ensure(
                cut == [false, false],
                format!("{reference}: cut (repo, tag) = {cut:?}"),
            )?;
            // The same at the smallest window and at a large one (the prefix gives way first).
            filter(&client, &owner).await?;
            for (width, height) in [(760, 480), (1440, 900)] {
                resize(&client, width, height).await?;
                for part in ["alpha", "beta"] {
                    let row = format!(".image-row[data-reference='{prefix}/{part}:2026.11.30']");
                    let cut = cut_parts(&client, &row, &[".repo", ".tag"]).await?;
                    ensure(
                        cut == [false, false],
                        format!("{part} at {width}×{height}: cut (repo, tag) = {cut:?}"),
                    )?;
                }
            }
            photograph_at_both_sizes(&client, "long-names", "#image-list").await
        })
        .await;
}

/// Whether each of `parts` (selectors inside the row `row`) shows less than its whole text.
async fn cut_parts(
    client: &Client,
    row: &str,
    parts: &[&str],
) -> Result<Vec<bool>, Box<dyn std::error::Error + Send + Sync>> {
    let cut = client
        .execute(
            "const [selector, parts] = arguments; const row = document.querySelector(selector);
             return parts.map((part) => {
               const el = row.querySelector(part);
               const whole = el.cloneNode(true);
               whole.style.cssText = 'position:absolute;visibility:hidden;max-width:none;flex:none';
               el.parentNode.append(whole);
               // Any shortfall: WebKit draws the ellipsis for a box a 64th of a pixel short.
               const cut = whole.getBoundingClientRect().width > el.getBoundingClientRect().width + 0.001;
               whole.remove();
               return cut; });",
            vec![row.into(), serde_json::json!(parts)],
        )
        .await?;
    Ok(serde_json::from_value(cut)?)
}

/// The notice a drop leaves follows the push to its end ("✓ Pushed …"), instead of still saying
/// "Pushing…" after the push ended.
#[tokio::test]
async fn the_push_notice_follows_the_job_to_its_end() {
    let (login, token) = user_with_token("Wd-Notice", &[], "classic", &["write:packages"]).await;
    let name = unique("wd-notice");
    let image = format!("{name}:1");
    import_image(&image);
    let env = signed_in_env(&token);
    App::launch("images-push-notice", &env_refs(&env))
        .await
        .check(|client| async move {
            filter(&client, &name).await?;
            wait_for_row(&client, &image).await?;
            click(
                &client,
                &format!(".image-row[data-reference='{image}'] .image-size"),
            )
            .await?;
            click(
                &client,
                &format!(".drop-zone[data-owner='{}']", login.to_lowercase()),
            )
            .await?;
            confirm_push_dialog(&client).await?;
            let notice = wait_for_within(
                &client,
                "#image-notice[data-state='done']",
                Duration::from_secs(60),
            )
            .await?;
            let said = notice.text().await?;
            ensure(said.contains("✓ Pushed"), format!("the notice: {said:?}"))
        })
        .await;
}

/// The owners' row keeps its height before the owners load (the list below no longer jumps 14 px when
/// they come), and in the dark theme an unchecked box looks unlike a checked one (WebKitGTK drew the
/// unchecked box dark-filled, reading as checked).
#[tokio::test]
async fn the_owner_row_keeps_its_height_and_checkboxes_read_right_in_the_dark_theme() {
    let (_, token) = user_with_token("Wd-Dark", &[], "classic", &["write:packages"]).await;
    let env = signed_in_env(&token);
    App::launch("images-dark-checkbox", &env_refs(&env))
        .await
        .check(|client| async move {
            client
                .execute("localStorage.setItem('theme', 'dark');", vec![])
                .await?;
            reload(&client).await?;
            wait_for(&client, "#push-targets .drop-zone").await?;
            let heights: Vec<f64> = serde_json::from_value(
                client
                    .execute(
                        "const bar = document.getElementById('push-targets');
                         return [parseFloat(getComputedStyle(bar).minHeight) || 0,
                                 bar.querySelector('.drop-zone').getBoundingClientRect().height];",
                        vec![],
                    )
                    .await?,
            )
            .unwrap_or_default();
            ensure(
                heights.len() == 2 && heights[0] >= heights[1],
                format!("the row's reserved height covers an owner button: {heights:?}"),
            )?;
            let background = "return getComputedStyle(document.getElementById('show-untagged')).backgroundColor;";
            let unchecked = client.execute(background, vec![]).await?;
            click(&client, "#show-untagged").await?;
            let checked = client.execute(background, vec![]).await?;
            ensure(
                unchecked != checked,
                format!("unchecked {unchecked} and checked {checked} look different"),
            )?;
            let panel = client
                .execute(
                    "const probe = document.createElement('div'); probe.style.background = 'var(--panel)';
                     document.body.append(probe); const c = getComputedStyle(probe).backgroundColor;
                     probe.remove(); return c;",
                    vec![],
                )
                .await?;
            ensure(
                unchecked == panel,
                format!("an unchecked box is the panel's colour ({panel}), not filled: {unchecked}"),
            )
        })
        .await;
}

/// "on registry" means the registry has the tag: an image only named for the registry reads "not
/// pushed yet" (before, three rows carried the green badge while the registry held nothing), and after
/// its push the badge turns "on registry".
#[tokio::test]
async fn on_registry_shows_only_once_the_registry_has_the_tag() {
    let (login, token) =
        user_with_token("Wd-OnRegistry", &[], "classic", &["write:packages"]).await;
    let owner = login.to_lowercase();
    let registry = stack("GHCR_TEST_REGISTRY_TOKEN");
    let name = unique("wd-present");
    import_image(&format!("{name}:1"));
    let named = format!("{registry}/{owner}/{name}:1");
    docker(&["tag", &format!("{name}:1"), &named]);
    let env = signed_in_env(&token);
    App::launch("images-on-registry", &env_refs(&env))
        .await
        .check(|client| async move {
            filter(&client, &name).await?;
            let row = format!(".image-row[data-reference='{named}']");
            let badge = wait_for(
                &client,
                &format!("{row} .registry-badge[data-present='false']"),
            )
            .await?;
            let said = badge.text().await?;
            ensure(
                said == "not pushed yet",
                format!("before the push: {said:?}"),
            )?;
            client
                .find(Locator::Css(&format!("{row} .image-size")))
                .await?
                .click()
                .await?;
            click(&client, &format!(".drop-zone[data-owner='{owner}']")).await?;
            confirm_push_dialog(&client).await?;
            let badge = wait_for_within(
                &client,
                &format!("{row} .registry-badge[data-present='true']"),
                Duration::from_secs(60),
            )
            .await?;
            let said = badge.text().await?;
            ensure(said == "on registry", format!("after the push: {said:?}"))
        })
        .await;
}

/// Selecting a row never moves the list, and one click on a row's button does what it says — at the
/// button's real coordinates, the mouse pressed and released there (before: selecting changed the
/// owner buttons' labels, the owner row wrapped onto a second line, the list moved ~40 px under the
/// pointer between press and release, and the click was lost). Owner names stay whole.
#[tokio::test]
async fn one_click_on_an_unselected_rows_button_opens_its_dialog_and_the_list_never_moves() {
    use fantoccini::actions::{InputSource, MouseActions, PointerAction, MOUSE_BUTTON_LEFT};
    // Owners short enough for one line of buttons, until a selection lengthened their labels.
    let orgs = [unique("acme"), unique("octo")];
    let (login, token) = user_with_token(
        "Wd-One-Click",
        &[orgs[0].as_str(), orgs[1].as_str()],
        "classic",
        &["write:packages"],
    )
    .await;
    let name = unique("wd-one-click-with-a-long-name");
    let image = format!("{name}:2026.12.03");
    import_image(&image);
    let env = signed_in_env(&token);
    App::launch("images-one-click", &env_refs(&env))
        .await
        .check(|client| async move {
            filter(&client, &name).await?;
            wait_for_row(&client, &image).await?;
            let list_top = || async {
                client
                    .execute(
                        "return document.getElementById('image-list').getBoundingClientRect().top;",
                        vec![],
                    )
                    .await
                    .map(|v| v.as_f64().unwrap_or(f64::NAN))
            };
            let before = list_top().await?;
            let button: serde_json::Value = client
                .execute(
                    "const b = document.querySelector(arguments[0]).getBoundingClientRect();
                     return [Math.round(b.left + b.width / 2), Math.round(b.top + b.height / 2)];",
                    vec![format!(".image-row[data-reference='{image}'] .tag-for-github").into()],
                )
                .await?;
            let (x, y) = (
                button[0].as_f64().unwrap_or(0.0),
                button[1].as_f64().unwrap_or(0.0),
            );
            let mouse = MouseActions::new("mouse".into())
                .then(PointerAction::MoveTo {
                    duration: None,
                    x,
                    y,
                })
                .then(PointerAction::Down {
                    button: MOUSE_BUTTON_LEFT,
                })
                .then(PointerAction::Up {
                    button: MOUSE_BUTTON_LEFT,
                });
            client.perform_actions(mouse).await?;
            client.release_actions().await?;
            dialog_ready(&client, "tag-dialog").await?;
            let after = list_top().await?;
            ensure(
                (after - before).abs() < 1.0,
                format!("the list moved from {before} to {after} when the row was selected"),
            )?;
            // Every owner's name whole on its button.
            for owner in std::iter::once(login.clone()).chain(orgs.iter().cloned()) {
                let cut: bool = client
                    .execute(
                        "const z = document.querySelector(arguments[0]); return z.scrollWidth > z.clientWidth;",
                        vec![format!(".drop-zone[data-owner='{}']", owner.to_lowercase()).into()],
                    )
                    .await?
                    .as_bool()
                    .unwrap_or(true);
                ensure(!cut, format!("the owner {owner} is cut on its button"))?;
            }
            Ok(())
        })
        .await;
}

/// Signed in, but GitHub out of reach (here: nothing listens where its API should be): the owner row
/// says the owners can't be listed and offers Try again — never "Sign in…", which would lead a person
/// with a good token to make a new one.
#[tokio::test]
async fn github_out_of_reach_is_said_as_that_and_never_as_sign_in() {
    let (_, token) = user_with_token("Wd-Unreachable", &[], "classic", &["write:packages"]).await;
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let nowhere = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let mut env = signed_in_env(&token);
    for (key, value) in env.iter_mut() {
        if *key == "GHCR_API_URL" {
            *value = nowhere.clone();
        }
    }
    App::launch("images-github-unreachable", &env_refs(&env))
        .await
        .check(|client| async move {
            let said = text_of(&client, "#push-targets[data-ready] #push-unreachable").await?;
            ensure_says("the owner row", &said, "can’t be listed")?;
            wait_for(&client, "#push-targets #owners-again").await?;
            ensure(
                client.find(Locator::Id("go-sign-in")).await.is_err(),
                "no Sign in… for a signed-in person",
            )?;
            photograph_at_both_sizes(&client, "github-unreachable", "#push-targets").await
        })
        .await;
}

/// A restart opens where the person left off: the view they were in, and in Images the filter, the
/// sort and the selected row (before: always Images, unfiltered, sorted by name, nothing selected).
#[tokio::test]
async fn a_restart_opens_the_view_filter_sort_and_selection_left() {
    let (_, token) = user_with_token("Wd-Place", &[], "classic", &["write:packages"]).await;
    let name = unique("wd-place");
    let (first, second) = (format!("{name}-a:1"), format!("{name}-b:1"));
    import_image(&first);
    import_image(&second);
    let home = tempfile::tempdir().unwrap();
    let mut env = signed_in_env(&token);
    env.push(("HOME", home.path().display().to_string()));
    let (filtered, chosen) = (name.clone(), second.clone());
    App::launch("images-place-left", &env_refs(&env))
        .await
        .check(|client| async move {
            filter(&client, &filtered).await?;
            wait_for_row(&client, &chosen).await?;
            client
                .find(Locator::Id("image-sort"))
                .await?
                .select_by_value("created")
                .await?;
            click(
                &client,
                &format!(".image-row[data-reference='{chosen}'] .image-size"),
            )
            .await?;
            wait_for(
                &client,
                &format!(".image-row.selected[data-reference='{chosen}']"),
            )
            .await?;
            open_view(&client, "packages").await?;
            Ok(())
        })
        .await;
    App::launch("images-place-restored", &env_refs(&env))
        .await
        .check(|client| async move {
            wait_for(&client, "main[data-view='packages'][data-ready]").await?;
            open_view(&client, "images").await?;
            wait_for(
                &client,
                &format!(".image-row.selected[data-reference='{second}']"),
            )
            .await?;
            let kept = client
                .execute(
                    "return [document.getElementById('image-filter').value,
                             document.getElementById('image-sort').value];",
                    vec![],
                )
                .await?;
            ensure(
                kept == serde_json::json!([name, "created"]),
                format!("the filter and the sort as left: {kept}"),
            )?;
            let rows = row_references(&client).await?;
            ensure(
                rows.len() == 2 && rows.contains(&first),
                format!("the filter narrows the list as it did: {rows:?}"),
            )?;
            let what = content_of(&client, "#push-what").await?;
            ensure(
                what == format!("Push {name}-b:1 to:"),
                format!("the owner row says what it pushes: {what:?}"),
            )?;
            photograph_at_both_sizes(&client, "images-restored", ".image-row.selected").await
        })
        .await;
}
