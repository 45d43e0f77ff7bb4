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

/// A command on package `name` of the token's user (or of `org`): the GitHub method of the same job,
/// called with the token in use.
macro_rules! package_command {
    ($command:ident => $method:ident($($arg:ident: $kind:ty),*) -> $answer:ty) => {
        #[tauri::command]
        pub async fn $command(
            state: State<'_, AppState>,
            org: Option<String>,
            name: String,
            $($arg: $kind),*
        ) -> Result<$answer, Error> {
            let (github, token) = github(&state).await?;
            github
                .$method(&token, &Owner::from_option(org.as_deref()), &name $(, $arg)*)
                .await
        }
    };
}

package_command!(package_get => package() -> Package);
package_command!(package_versions => versions() -> Vec<Version>);
package_command!(package_deleted_versions => deleted_versions() -> Vec<Version>);
package_command!(package_delete_version => delete_version(id: u64) -> ());
package_command!(package_restore_version => restore_version(id: u64) -> ());
package_command!(package_delete => delete_package() -> ());
package_command!(package_restore => restore_package() -> ());

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
    open_page(&app, &state, packages::settings_page, org, &owner, &name)
}

/// Opens one of a package's GitHub pages, built by `page` from the configured GitHub.
fn open_page<R: Runtime>(
    app: &AppHandle<R>,
    state: &AppState,
    page: fn(&ghcr::config::Config, &Owner, &str, &str) -> String,
    org: Option<String>,
    owner: &str,
    name: &str,
) -> Result<String, Error> {
    let url = page(
        state.config()?,
        &Owner::from_option(org.as_deref()),
        owner,
        name,
    );
    super::open_in_browser(app, url)
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

/// Opens the package's page on GitHub (built here from the configured GitHub).
#[tauri::command]
pub fn open_package<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    org: Option<String>,
    owner: String,
    name: String,
) -> Result<String, Error> {
    open_page(&app, &state, packages::package_page, org, &owner, &name)
}
