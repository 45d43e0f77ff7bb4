//! The window in Simplified Chinese: started with `LANG=zh_CN.UTF-8`, every view and dialog (token
//! check results, the push and tag dialogs, the delete confirmation, errors such as "no engine" and
//! "token lacks write:packages") shows no English word but names (GitHub, Docker, an image's name…),
//! and Settings switches to English and back in the running window.

use ghcr_webdriver_tests::{
    click, dialog_ready, ensure, ensure_says, env_refs, ghcr_push, import_image, open_view,
    own_web_url, photograph_at_both_sizes, refresh_packages_until, signed_in_env, stack, text_of,
    text_once_it_says, unique, user_with_token, wait_for, wait_gone, App, Client, Key, Locator,
    Outcome,
};
use std::time::Duration;

const CHINESE: (&str, &str) = ("LANG", "zh_CN.UTF-8");

/// Finds the English words a person sees: visible text, the visible elements' tooltips, accessible
/// names and placeholders, and the options of visible lists — skipping what is data (`code`, `kbd`,
/// `pre`, `[translate="no"]`: names, references, digests, commands) and what is folded away. Names the
/// window may show in any language (arguments[0]: products, units, GitHub's own button labels, the
/// test's logins) are taken out first. Returns [text, word] pairs.
const ENGLISH_WORDS: &str = r#"
const allowed = arguments[0];
const data = 'code, kbd, pre, [translate="no"], script, style, svg, title';
const shown = (el) => {
  if (!el || el.closest(data)) return false;
  if (el.closest('dialog:not([open])') || el.closest('[hidden]')) return false;
  const details = el.closest('details:not([open])');
  if (details && !el.closest('summary')) return false;
  if (el.getClientRects().length === 0) return false;
  const style = getComputedStyle(el);
  return style.visibility !== 'hidden' && style.display !== 'none';
};
const texts = [];
const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
while (walker.nextNode()) {
  const el = walker.currentNode.parentElement;
  if (el && !el.closest('select') && shown(el)) texts.push(walker.currentNode.textContent);
}
for (const el of document.body.querySelectorAll('[title], [aria-label], [placeholder]')) {
  if (!shown(el)) continue;
  for (const name of ['title', 'aria-label', 'placeholder']) if (el.hasAttribute(name)) texts.push(el.getAttribute(name));
}
for (const select of document.body.querySelectorAll('select')) {
  if (!shown(select)) continue;
  for (const option of select.options) if (!option.closest(data)) texts.push(option.textContent);
}
const phrases = [...allowed].sort((a, b) => b.length - a.length);
const found = [];
for (const text of texts) {
  // Identifiers that are the same in every language: scopes, masked tokens, environment variables,
  // hosts and addresses, file names, digests and IDs; then the names.
  let rest = text.replace(/\b(read|write|delete):packages\b/g, ' ')
    .replace(/\b(ghp|gho|ghu|ghs|ghr|github_pat)_…?\w*/g, ' ')
    .replace(/\b[A-Z][A-Z0-9]*(_[A-Z0-9]+)+\b/g, ' ')
    .replace(/\b[\w-]+(\.[\w-]+)+(:\d+)?(\/[\w./:@-]*)?/g, ' ')
    .replace(/\bsha256:[0-9a-f]*/g, ' ')
    .replace(/\b[a-z]+:\/\/\S*/g, ' ')
    .replace(/\b[0-9a-f]{12,}\b/g, ' ');
  for (const phrase of phrases) rest = rest.split(phrase).join(' ');
  for (const word of rest.match(/[A-Za-z][A-Za-z’'-]*[A-Za-z]|\b[A-Za-z]\b/g) || []) found.push([text.trim(), word]);
}
return found;
"#;

/// What the window may show in any language: products and formats, units and keys, GitHub's token
/// kind "(classic)", and the English labels of GitHub's own buttons the person clicks there.
const NAMES: &[&str] = &[
    "GHCR Desktop",
    "GitHub Container Registry",
    "GitHub Actions",
    "GitHub CLI",
    "GitHub App",
    "docker-credential-ghcr-desktop",
    "OAuth",
    "GitHub",
    "Docker Hub",
    "Docker",
    "Podman",
    "containerd",
    "containers-storage",
    "skopeo",
    "gzip",
    "zstd",
    "OCI",
    "API",
    "SSO",
    "ghcr.io",
    "ghp_",
    "gho_",
    "github_pat_",
    "ghs_",
    "ghu_",
    "ghr_",
    "GNOME Keyring",
    "KWallet",
    "KeePassXC",
    "Secret Service",
    "Synology",
    "Debian",
    "Linux",
    "Ctrl",
    "Alt",
    "Esc",
    "Enter",
    "Tab",
    "kB",
    "MB",
    "GB",
    "TB",
    "PB",
    "B/s",
    "(classic)",
    "classic",
    "JSON",
    "PATH",
    "HTTP",
    "URL",
    "ID",
    "CLI",
    "tar",
    "gz",
    "linux",
    "amd64",
    "arm64",
    "docker save",
    "docker",
    "gh",
    "Actions",
    "Package settings",
    "Change visibility",
    "Connect repository",
    "Generate token",
    "Authorize",
    "Manage Actions access",
    "Danger Zone",
    "Connect",
    "Packages",
    "Add Repository",
    " B",
];

/// English words the window shows now (see ENGLISH_WORDS), besides NAMES and `also` (the test's own
/// logins and image names).
async fn english_words(
    client: &Client,
    also: &[&str],
) -> Result<Vec<(String, String)>, fantoccini::error::CmdError> {
    let allowed: Vec<&str> = NAMES.iter().chain(also).copied().collect();
    let found = client
        .execute(ENGLISH_WORDS, vec![serde_json::json!(allowed)])
        .await?;
    Ok(found
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|pair| Some((pair[0].as_str()?.to_string(), pair[1].as_str()?.to_string())))
        .collect())
}

/// Fails with each English word found in `place`, and the text it is in.
async fn no_english(client: &Client, place: &str, also: &[&str]) -> Outcome {
    let found = english_words(client, also).await?;
    ensure(
        found.is_empty(),
        format!(
            "{place} shows English in the zh-CN window:\n{}",
            found
                .iter()
                .map(|(text, word)| format!("  {word:?} in {text:?}"))
                .collect::<Vec<_>>()
                .join("\n")
        ),
    )
}

/// The test world's environment for `token`, in Chinese, with a keyring of its own (a GitHub web host
/// no other test uses: accounts other tests saved would show in Account).
fn chinese_env(token: &str) -> Vec<(&'static str, String)> {
    let mut env = signed_in_env(token);
    env.retain(|(key, _)| *key != "GHCR_WEB_URL");
    env.push(("GHCR_WEB_URL", own_web_url()));
    env.push((CHINESE.0, CHINESE.1.to_string()));
    env
}

/// Waits until the page is in `language` (`html[lang]`, set once its catalog is in use and redrawn).
async fn in_language(client: &Client, language: &str) -> Outcome {
    wait_for(client, &format!("html[lang='{language}'][data-ready]")).await?;
    Ok(())
}

#[tokio::test]
async fn every_view_and_dialog_speaks_simplified_chinese_and_settings_switch_languages() {
    let (login, token) = user_with_token(
        "wd-zh",
        &[],
        "classic",
        &["write:packages", "delete:packages"],
    )
    .await;
    let (thin_login, thin_token) =
        user_with_token("wd-zh-thin", &[], "classic", &["read:packages"]).await;
    let (_, fine_token) = user_with_token("wd-zh-fine", &[], "fine_grained", &[]).await;
    let owner = login.to_lowercase();
    let registry = stack("GHCR_TEST_REGISTRY_TOKEN");
    let name = unique("wd-zh");
    let image = format!("{name}:1");
    import_image(&image);
    // A package with a version, for Packages and the delete dialog.
    ghcr_push(&token, &image, &format!("{registry}/{owner}/{name}:1"), &[]);
    let env = chinese_env(&token);
    let env = env_refs(&env);
    let row = format!(".package-row[data-name='{name}']");
    let names = [
        login.clone(),
        owner.clone(),
        thin_login.clone(),
        name.clone(),
    ];

    App::launch("language-zh-cn", &env)
        .await
        .check(|client| async move {
            let also: Vec<&str> = names.iter().map(String::as_str).collect();
            in_language(&client, "zh-CN").await?;
            let nav = text_of(&client, ".nav[data-view='images'] span").await?;
            ensure(nav == "镜像", format!("the sidebar says {nav:?}"))?;
            let title: String = client.title().await?;
            ensure_says("the page's title", &title, "GHCR 桌面版")?;

            // Images: the list, then the push dialog and the tag dialog (with a name to fix).
            open_view(&client, "images").await?;
            let filter = wait_for(&client, "#image-filter").await?;
            filter.send_keys(&image).await?;
            click(&client, &format!(".image-row[data-reference='{image}']")).await?;
            wait_for(&client, &format!(".drop-zone[data-owner='{owner}']")).await?;
            no_english(&client, "Images", &also).await?;
            photograph_at_both_sizes(&client, "zh-CN-images", "#image-list").await?;
            click(&client, &format!(".drop-zone[data-owner='{owner}']")).await?;
            dialog_ready(&client, "push-dialog").await?;
            no_english(&client, "the push dialog", &also).await?;
            photograph_at_both_sizes(&client, "zh-CN-push-dialog", "#push-dialog").await?;
            client
                .find(Locator::Id("push-name"))
                .await?
                .send_keys(&Key::Escape.to_string())
                .await?;
            wait_gone(&client, "#push-dialog").await?;
            click(&client, ".image-row .tag-for-github").await?;
            dialog_ready(&client, "tag-dialog").await?;
            let field = wait_for(&client, "#tag-name").await?;
            field.clear().await?;
            field.send_keys("Wd-Zh:1").await?;
            // The empty box is checked too; this waits for the typed name's problem.
            text_once_it_says(
                &client,
                "#tag-dialog[data-valid='false'] #tag-problem",
                "大写字母",
            )
            .await?;
            wait_for(&client, "#tag-dialog:not([data-pending])").await?;
            no_english(&client, "the tag dialog", &also).await?;
            photograph_at_both_sizes(&client, "zh-CN-tag-dialog", "#tag-dialog").await?;
            click(&client, "#tag-cancel").await?;
            wait_gone(&client, "#tag-dialog").await?;

            // Pushes (what the dialog didn't push: the empty state) and Packages with a version and
            // its delete confirmation.
            open_view(&client, "pushes").await?;
            no_english(&client, "Pushes", &also).await?;
            photograph_at_both_sizes(&client, "zh-CN-pushes", "main").await?;
            open_view(&client, "packages").await?;
            refresh_packages_until(&client, &row, Duration::from_secs(60)).await?;
            no_english(&client, "Packages", &also).await?;
            click(&client, &row).await?;
            wait_for(&client, "#version-list[data-rows='1']").await?;
            no_english(&client, "a package", &also).await?;
            photograph_at_both_sizes(&client, "zh-CN-packages", "#package-detail").await?;
            click(&client, ".version-row .version-delete").await?;
            wait_for(&client, "#delete-dialog[open]").await?;
            no_english(&client, "the delete dialog", &also).await?;
            photograph_at_both_sizes(&client, "zh-CN-delete-dialog", "#delete-dialog").await?;
            click(&client, "#delete-cancel").await?;
            wait_gone(&client, "#delete-dialog").await?;

            // Account: a token that lacks write:packages, then a fine-grained one.
            open_view(&client, "account").await?;
            no_english(&client, "Account", &also).await?;
            let input = wait_for(&client, "#token-input").await?;
            input.send_keys(&thin_token).await?;
            wait_for(
                &client,
                "#scope-list li[data-scope='write:packages'][data-ok='no']",
            )
            .await?;
            no_english(&client, "a token without write:packages", &also).await?;
            photograph_at_both_sizes(&client, "zh-CN-account-missing-scope", "#token-result")
                .await?;
            input.clear().await?;
            input.send_keys(&fine_token).await?;
            let refused =
                wait_for(&client, ".result.error[data-code='token.unsupported_kind']").await?;
            ensure_says(
                "the refusal",
                &refused.text().await?,
                "个人访问令牌 (classic)",
            )?;
            no_english(&client, "a fine-grained token", &also).await?;

            // Settings, then English and back, in the running window.
            open_view(&client, "settings").await?;
            no_english(&client, "Settings", &also).await?;
            photograph_at_both_sizes(&client, "zh-CN-settings", "main").await?;
            click(&client, "#language option[value='en']").await?;
            in_language(&client, "en").await?;
            wait_for(&client, "main[data-view='settings'][data-ready] #language").await?;
            let nav = text_of(&client, ".nav[data-view='images'] span").await?;
            ensure(
                nav == "Images",
                format!("in English the sidebar says {nav:?}"),
            )?;
            // The check can fail: the English window is full of English words.
            let english = english_words(&client, &also).await?;
            ensure(
                english.len() > 10,
                format!("the English window shows English words: {english:?}"),
            )?;
            click(&client, "#language option[value='zh-CN']").await?;
            in_language(&client, "zh-CN").await?;
            wait_for(&client, "main[data-view='settings'][data-ready] #language").await?;
            let nav = text_of(&client, ".nav[data-view='images'] span").await?;
            ensure(
                nav == "镜像",
                format!("back in Chinese the sidebar says {nav:?}"),
            )?;
            no_english(&client, "Settings, back in Chinese", &also).await
        })
        .await;
}

/// Errors, in Chinese: no engine (the status bar and Images), and a push the registry refuses because
/// the token lacks write:packages.
#[tokio::test]
async fn errors_are_told_in_simplified_chinese() {
    let (login, token) = user_with_token("wd-zh-ro", &[], "classic", &["read:packages"]).await;
    let owner = login.to_lowercase();
    let image = format!("{}:1", unique("wd-zh-ro"));
    import_image(&image);
    let gone = tempfile::tempdir().unwrap();
    let no_engine = format!("unix://{}/docker.sock", gone.path().display());
    let env = chinese_env(&token);
    let refs = env_refs(&env);
    let mut dead = refs.clone();
    dead.retain(|(key, _)| *key != "DOCKER_HOST");
    dead.push(("DOCKER_HOST", &no_engine));
    let names = [login.clone(), owner.clone(), image.clone()];

    App::launch("language-zh-cn-no-engine", &dead)
        .await
        .check(|client| async move {
            let also: Vec<&str> = names.iter().map(String::as_str).collect();
            in_language(&client, "zh-CN").await?;
            open_view(&client, "images").await?;
            let status = text_of(&client, "#engine-status[data-state='error'] .text").await?;
            ensure(
                status == "没有找到容器引擎",
                format!("the status bar says {status:?}"),
            )?;
            no_english(&client, "Images without an engine", &also).await?;
            photograph_at_both_sizes(&client, "zh-CN-no-engine", "main").await
        })
        .await;

    let names = [login.clone(), owner.clone(), image.clone()];
    App::launch("language-zh-cn-refused", &refs)
        .await
        .check(|client| async move {
            let also: Vec<&str> = names.iter().map(String::as_str).collect();
            in_language(&client, "zh-CN").await?;
            let filter = wait_for(&client, "#image-filter").await?;
            filter.send_keys(&image).await?;
            click(&client, &format!(".image-row[data-reference='{image}']")).await?;
            click(&client, &format!(".drop-zone[data-owner='{owner}']")).await?;
            dialog_ready(&client, "push-dialog").await?;
            wait_for(&client, "#push-dialog #push-confirm:enabled")
                .await?
                .click()
                .await?;
            wait_gone(&client, "#push-dialog").await?;
            open_view(&client, "pushes").await?;
            let said = text_of(&client, ".push-card[data-state='failed'] .push-outcome").await?;
            ensure_says("the refused push", &said, "缺少 write:packages")?;
            no_english(&client, "a refused push", &also).await?;
            photograph_at_both_sizes(
                &client,
                "zh-CN-push-refused",
                ".push-card[data-state='failed']",
            )
            .await
        })
        .await;
}
