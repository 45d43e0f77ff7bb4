//! Image commands: the live image list (a watcher streaming snapshots through a Channel), the engines
//! to choose from, and tagging an image for the registry (proposal, live check of the name, the tag).

use crate::events::ImagesChannel;
use crate::AppState;
use ghcr::engine::watch::watch_images;
use ghcr::engine::{Engine, EngineChoice, EngineInfo, Selection};
use ghcr::reference::{self, Proposal, TargetCheck};
use ghcr::token::{self, Owners};
use ghcr::Error;
use tauri::State;

/// Starts following the engine's images (replacing any earlier watcher): the first message is the
/// whole list, then a new one after each burst of image events, or `disconnected` while the engine is
/// gone.
#[tauri::command]
pub async fn images_watch(state: State<'_, AppState>, updates: ImagesChannel) -> Result<(), Error> {
    let config = state.config()?.clone();
    let selection = state.engine_selection();
    let watcher = tauri::async_runtime::spawn(async move {
        watch_images(&config, &selection, |update| updates.send(update).is_ok()).await;
    });
    state.replace_images_watcher(Some(watcher));
    Ok(())
}

/// Every engine found on this machine, and what answers there.
#[tauri::command]
pub async fn engines(state: State<'_, AppState>) -> Result<Vec<EngineChoice>, Error> {
    Engine::available(state.config()?).await
}

/// Uses the engine at `endpoint` (a DOCKER_HOST value from `engines`), or the automatic choice when
/// `None`. The UI then calls `images_watch` again.
#[tauri::command]
pub async fn engine_select(
    state: State<'_, AppState>,
    endpoint: Option<String>,
) -> Result<EngineInfo, Error> {
    let selection = match endpoint {
        None => Selection::Automatic,
        Some(endpoint) => Selection::picked(state.config()?, &endpoint)?,
    };
    let engine = Engine::select(state.config()?, &selection).await?;
    state.set_engine_selection(selection);
    Ok(engine.info().clone())
}

/// Whom the token in use can push for: its login and orgs.
#[tauri::command]
pub async fn owners(state: State<'_, AppState>) -> Result<Owners, Error> {
    token::owners(state.config()?).await
}

/// The form's starting point for tagging the local image `source` under `owner`.
#[tauri::command]
pub fn tag_proposal(
    state: State<'_, AppState>,
    source: String,
    owner: String,
) -> Result<Proposal, Error> {
    Ok(reference::proposal(
        &state.config()?.registry,
        &owner,
        &source,
    ))
}

/// Checks a typed target name as the person types.
#[tauri::command]
pub fn tag_check(state: State<'_, AppState>, target: String) -> Result<TargetCheck, Error> {
    Ok(reference::check_target(&target, &state.config()?.registry))
}

/// Which of `references` (names for the registry) the registry has: the "on registry" badge. At most
/// 50 at once (the rows on screen); `null` where it couldn't be asked (not signed in, another namespace).
#[tauri::command]
pub async fn registry_tags_present(
    state: State<'_, AppState>,
    references: Vec<String>,
) -> Result<Vec<Option<bool>>, Error> {
    let config = state.config()?;
    let Ok(credentials) = token::push_credentials(config).await else {
        return Ok(vec![None; references.len()]);
    };
    let asked: Vec<String> = references.into_iter().take(50).collect();
    Ok(ghcr::registry::tags_present(config, credentials, &asked).await)
}

/// What the tag `target` points to on the registry now (a push there replaces it): `null` when there
/// is no such tag, or it couldn't be asked (not signed in, another namespace).
#[tauri::command]
pub async fn registry_tag_existing(
    state: State<'_, AppState>,
    target: String,
) -> Result<Option<ghcr::registry::ExistingTag>, Error> {
    let config = state.config()?;
    let target = reference::tag_target(&target, &config.registry).map_err(Error::from)?;
    let Ok(credentials) = token::push_credentials(config).await else {
        return Ok(None);
    };
    Ok(ghcr::registry::existing_tag(config, credentials, &target).await)
}

/// Tags the local image `source` as `target` (checked again here); returns the full new name.
#[tauri::command]
pub async fn image_tag(
    state: State<'_, AppState>,
    source: String,
    target: String,
) -> Result<String, Error> {
    let config = state.config()?;
    let target = reference::tag_target(&target, &config.registry).map_err(Error::from)?;
    let engine = Engine::select(config, &state.engine_selection()).await?;
    engine.tag(&source, &target).await?;
    Ok(target.to_string())
}
