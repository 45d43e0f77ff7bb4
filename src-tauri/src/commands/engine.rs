//! Engine commands: which container engine the app talks to, for the status bar and empty states.

use crate::AppState;
use ghcr::engine::{Engine, EngineInfo};
use ghcr::Error;
use tauri::State;

/// The engine in use (socket, product, version, API), or `engine.unreachable` with how to start one.
#[tauri::command]
pub async fn engine_status(state: State<'_, AppState>) -> Result<EngineInfo, Error> {
    let engine = Engine::select(state.config()?, &state.engine_selection()).await?;
    Ok(engine.info().clone())
}
