//! Push commands: start a push (a local image, or an archive file or folder), follow every job through
//! one Channel, cancel, retry, clear the finished ones, open a finished push's package page. The queue
//! itself is the core's `push::jobs`; the engine the person picked is the one pushed from.

use crate::events::PushesChannel;
use crate::AppState;
use ghcr::push::jobs::{JobId, JobState, JobUpdate};
use ghcr::push::PushRequest;
use ghcr::token;
use ghcr::{Code, Error};
use tauri::{AppHandle, Runtime, State};

/// Sends every job change to `updates` from now on; returns the jobs so far.
#[tauri::command]
pub fn pushes_watch<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    updates: PushesChannel,
) -> Result<Vec<JobUpdate>, Error> {
    let jobs = state.jobs(&app)?;
    state.set_pushes_listener(updates);
    Ok(jobs.list())
}

/// Queues a push; the request is checked before anything else, then the token in use is looked up.
#[tauri::command]
pub async fn push_start<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    request: PushRequest,
) -> Result<JobId, Error> {
    let config = state.config()?;
    let plan = request
        .from_engine(&state.engine_selection())
        .checked(config)?;
    let credentials = token::push_credentials(config).await?;
    Ok(state.jobs(&app)?.submit(plan, credentials))
}

#[tauri::command]
pub fn push_cancel<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    id: JobId,
) -> Result<bool, Error> {
    state.jobs(&app)?.cancel(id)
}

#[tauri::command]
pub async fn push_retry<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    id: JobId,
) -> Result<(), Error> {
    let credentials = token::push_credentials(state.config()?).await?;
    state.jobs(&app)?.retry(id, credentials)
}

#[tauri::command]
pub fn pushes_clear<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
) -> Result<(), Error> {
    state.jobs(&app)?.clear_finished();
    Ok(())
}

/// Opens the package page of finished push `id` in the browser (the address is made here, never
/// taken from the page).
#[tauri::command]
pub fn open_package_page<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    id: JobId,
) -> Result<String, Error> {
    let Some(JobUpdate {
        state: JobState::Done { package_url, .. },
        ..
    }) = state.jobs(&app)?.get(id)
    else {
        return Err(Error::new(
            Code::PushFailed,
            format!("Push {id} has not finished"),
            "The package page opens once the push is done.",
        ));
    };
    super::open_in_browser(&app, package_url)
}
