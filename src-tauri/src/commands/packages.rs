//! Packages commands: the account's or an org's container packages, one package (for the visibility
//! watch), its versions, deleting a version, the anonymous-pull proof, and the settings page where
//! GitHub lets a person change the visibility (opened in the browser; there is no API for it).

use crate::AppState;
use ghcr::github::GitHub;
use ghcr::packages::{self, Owner, Package, RepositoryRef, Version, VisibilityProof};
use ghcr::{token, Error};
use tauri::{AppHandle, Runtime, State};

async fn github(state: &State<'_, AppState>) -> Result<(GitHub, ghcr::secret::Secret), Error> {
    let config = state.config()?;
    let token = token::token_in_use(config).await?;
    Ok((GitHub::new(config)?, token))
}

#[tauri::command]
pub async fn packages_list(
    state: State<'_, AppState>,
    org: Option<String>,
) -> Result<Vec<Package>, Error> {
    let (github, token) = github(&state).await?;
    github
        .packages(&token, &Owner::from_option(org.as_deref()))
        .await
}

#[tauri::command]
pub async fn package_get(
    state: State<'_, AppState>,
    org: Option<String>,
    name: String,
) -> Result<Package, Error> {
    let (github, token) = github(&state).await?;
    github
        .package(&token, &Owner::from_option(org.as_deref()), &name)
        .await
}

#[tauri::command]
pub async fn package_versions(
    state: State<'_, AppState>,
    org: Option<String>,
    name: String,
) -> Result<Vec<Version>, Error> {
    let (github, token) = github(&state).await?;
    github
        .versions(&token, &Owner::from_option(org.as_deref()), &name)
        .await
}

#[tauri::command]
pub async fn package_delete_version(
    state: State<'_, AppState>,
    org: Option<String>,
    name: String,
    id: u64,
) -> Result<(), Error> {
    let (github, token) = github(&state).await?;
    github
        .delete_version(&token, &Owner::from_option(org.as_deref()), &name, id)
        .await
}

/// Pulls `owner/name:tag`'s manifest anonymously from the registry.
#[tauri::command]
pub async fn package_prove(
    state: State<'_, AppState>,
    owner: String,
    name: String,
    tag: String,
) -> Result<VisibilityProof, Error> {
    packages::prove_visibility(state.config()?, &owner, &name, &tag).await
}

/// Opens the package's settings page (built here from the configured GitHub, never taken from the
/// page) and returns its address.
#[tauri::command]
pub fn open_package_settings<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    org: Option<String>,
    owner: String,
    name: String,
) -> Result<String, Error> {
    let url = packages::settings_page(
        state.config()?,
        &Owner::from_option(org.as_deref()),
        &owner,
        &name,
    );
    super::open_in_browser(&app, url)
}

#[tauri::command]
pub async fn package_deleted_versions(
    state: State<'_, AppState>,
    org: Option<String>,
    name: String,
) -> Result<Vec<Version>, Error> {
    let (github, token) = github(&state).await?;
    github
        .deleted_versions(&token, &Owner::from_option(org.as_deref()), &name)
        .await
}

#[tauri::command]
pub async fn package_restore_version(
    state: State<'_, AppState>,
    org: Option<String>,
    name: String,
    id: u64,
) -> Result<(), Error> {
    let (github, token) = github(&state).await?;
    github
        .restore_version(&token, &Owner::from_option(org.as_deref()), &name, id)
        .await
}

#[tauri::command]
pub async fn package_delete(
    state: State<'_, AppState>,
    org: Option<String>,
    name: String,
) -> Result<(), Error> {
    let (github, token) = github(&state).await?;
    github
        .delete_package(&token, &Owner::from_option(org.as_deref()), &name)
        .await
}

#[tauri::command]
pub async fn package_restore(
    state: State<'_, AppState>,
    org: Option<String>,
    name: String,
) -> Result<(), Error> {
    let (github, token) = github(&state).await?;
    github
        .restore_package(&token, &Owner::from_option(org.as_deref()), &name)
        .await
}

/// The repositories a package of `owner` can be connected to.
#[tauri::command]
pub async fn package_repositories(
    state: State<'_, AppState>,
    org: Option<String>,
    owner: String,
) -> Result<Vec<RepositoryRef>, Error> {
    let (github, token) = github(&state).await?;
    github
        .repositories(&token, &Owner::from_option(org.as_deref()), &owner)
        .await
}

/// Connects `owner/name:tag` to `repository` (its page's URL) by writing the tag again with the
/// source label.
#[tauri::command]
pub async fn package_connect(
    state: State<'_, AppState>,
    owner: String,
    name: String,
    tag: String,
    repository: String,
) -> Result<ghcr::push::Pushed, Error> {
    let config = state.config()?;
    let credentials = token::push_credentials(config).await?;
    packages::connect_repository(config, credentials, &owner, &name, &tag, &repository).await
}

/// Opens the package's page on GitHub (built here from the configured GitHub).
#[tauri::command]
pub fn open_package<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    org: Option<String>,
    owner: String,
    name: String,
) -> Result<String, Error> {
    let url = packages::package_page(
        state.config()?,
        &Owner::from_option(org.as_deref()),
        &owner,
        &name,
    );
    super::open_in_browser(&app, url)
}
