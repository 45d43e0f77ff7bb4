//! Docker CLI commands: where the docker CLI gets the registry's token (keyring helper or a plaintext
//! config.json entry), the setup that moves it to the keyring, and its undo — the core's
//! `docker_config`, as `ghcr docker-setup` runs it.

use crate::AppState;
use ghcr::docker_config::{self, DockerCli, SetupDone};
use ghcr::token::TokenReport;
use ghcr::Error;
use tauri::State;

#[tauri::command]
pub fn docker_cli_status(state: State<'_, AppState>) -> Result<DockerCli, Error> {
    docker_config::docker_cli(state.config()?)
}

/// The plaintext token in config.json, checked (login, kind, scopes, push; never the token).
#[tauri::command]
pub async fn docker_cli_plaintext(
    state: State<'_, AppState>,
) -> Result<Option<TokenReport>, Error> {
    docker_config::check_plaintext(state.config()?).await
}

#[tauri::command]
pub async fn docker_cli_setup(state: State<'_, AppState>) -> Result<SetupDone, Error> {
    docker_config::setup(state.config()?).await
}

/// Async (a sync command runs on the window's thread): undoing reads the token back from the
/// keyring, which may wait for an unlock prompt.
#[tauri::command]
pub async fn docker_cli_undo(state: State<'_, AppState>) -> Result<String, Error> {
    docker_config::undo(state.config()?)
        .await
        .map(|path| path.display().to_string())
}
