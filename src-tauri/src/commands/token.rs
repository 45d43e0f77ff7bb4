//! Token and account commands: check a pasted token, keep it in the keyring, the account in use, the
//! saved accounts, and GitHub's new-token page. A token crosses IPC only inward; answers carry its hint.

use crate::AppState;
use ghcr::token::device_flow::DeviceSignIn;
use ghcr::token::gh_cli::GhCli;
use ghcr::token::{self, store::Accounts, Account, GhCliToken, TokenReport};
use ghcr::{Error, Secret};
use std::sync::Arc;
use tauri::{AppHandle, Runtime, State};
use tauri_plugin_opener::OpenerExt;

#[tauri::command]
pub async fn token_check(state: State<'_, AppState>, token: Secret) -> Result<TokenReport, Error> {
    let secret = token::from_pasted(token.expose())?;
    token::check(state.config()?, &secret).await
}

/// Keeps a pasted token; the account in use stays in use (the page offers to switch).
#[tauri::command]
pub async fn token_save(state: State<'_, AppState>, token: Secret) -> Result<Account, Error> {
    let secret = token::from_pasted(token.expose())?;
    token::save_as(
        state.config()?,
        secret,
        token::store::Activation::IfNoneActive,
    )
    .await
}

#[tauri::command]
pub async fn account_in_use(state: State<'_, AppState>) -> Result<Option<Account>, Error> {
    token::account_in_use(state.config()?).await
}

#[tauri::command]
pub async fn accounts(state: State<'_, AppState>) -> Result<Accounts, Error> {
    token::accounts(state.config()?).await
}

#[tauri::command]
pub async fn account_switch(state: State<'_, AppState>, login: String) -> Result<Accounts, Error> {
    token::switch_account(state.config()?, login).await
}

#[tauri::command]
pub async fn account_remove(state: State<'_, AppState>, login: String) -> Result<Accounts, Error> {
    let config = state.config()?;
    token::remove_account(config, Some(login)).await?;
    token::accounts(config).await
}

/// The GitHub CLI's token for this host, checked (`None` without gh or its sign-in).
#[tauri::command]
pub async fn gh_cli_token(state: State<'_, AppState>) -> Result<Option<GhCliToken>, Error> {
    token::check_gh_cli_token(state.config()?, &GhCli::system()).await
}

/// Keeps the GitHub CLI's token in the keyring, like a pasted one.
#[tauri::command]
pub async fn gh_cli_token_save(state: State<'_, AppState>) -> Result<Account, Error> {
    token::save_gh_cli_token(state.config()?, &GhCli::system()).await
}

/// Opens GitHub's new-token page (configured web host only) with the scopes ticked; returns its URL.
#[tauri::command]
pub async fn open_new_token_page<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    include_delete: bool,
) -> Result<String, Error> {
    let url = token::new_token_url(state.config()?, include_delete, &token::this_machine());
    super::open_in_browser(&app, url)
}

/// Whether browser sign-in can be offered (an OAuth app client id is configured).
#[tauri::command]
pub fn device_flow_available(state: State<'_, AppState>) -> bool {
    state.config().is_ok_and(|c| c.oauth_client_id.is_some())
}

/// Starts a browser sign-in: returns the user code to show and opens the verification page.
#[tauri::command]
pub async fn device_flow_start<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    include_delete: bool,
) -> Result<Arc<DeviceSignIn>, Error> {
    let sign_in = state
        .device_sign_in
        .start(state.config()?, include_delete)
        .await?;
    // The code is on screen either way; a browser that won't open is not a failure of the sign-in.
    let _ = app
        .opener()
        .open_url(&sign_in.verification_uri, None::<&str>);
    Ok(sign_in)
}

/// Waits for the person to approve the browser sign-in, then keeps the token like a pasted one.
#[tauri::command]
pub async fn device_flow_finish(state: State<'_, AppState>) -> Result<Account, Error> {
    state.device_sign_in.finish(state.config()?).await
}

#[tauri::command]
pub fn device_flow_cancel(state: State<'_, AppState>) {
    state.device_sign_in.cancel();
}
