//! The Images view in the real window against the stack's dockerd: the list shows the engine's images
//! and the filter narrows it as typed; "Tag for GitHub" proposes the lowercased owner, explains an
//! uppercase name, offers the fix and creates the tag; a `docker tag` from outside appears by itself.

use ghcr_webdriver_tests::{
    click, docker, ensure, env_refs, import_image, signed_in_env, stack, text_of, unique,
    user_with_token, wait_for, wait_for_within, App, Client, Locator, PATIENCE,
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
            // Clearing the field is a change too ("a path component is empty"): wait for the check of
            // the typed name itself.
            let mut said = String::new();
            let deadline = std::time::Instant::now() + PATIENCE;
            while std::time::Instant::now() < deadline {
                if let Ok(problem) = client
                    .find(Locator::Css("#tag-dialog[data-valid='false'] #tag-problem"))
                    .await
                {
                    said = problem.text().await?;
                    if said.contains("uppercase") {
                        break;
                    }
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
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
            let badge = text_of(
                &client,
                &format!(".image-row[data-reference='{name}:src'] .badge.ok"),
            )
            .await?;
            ensure(badge == "on registry", format!("badge {badge:?}"))
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
            wait_for_within(
                &client,
                &format!(".image-row[data-reference='{name}:from-outside']"),
                Duration::from_secs(3),
            )
            .await?;
            docker(&["rmi", &format!("{name}:from-outside")]);
            wait_for_within(
                &client,
                "#image-list[data-rows='1']",
                Duration::from_secs(3),
            )
            .await?;
            Ok(())
        })
        .await;
}
