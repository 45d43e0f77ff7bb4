//! The IPC commands, one file per capability. Each parses its arguments, calls one core function and
//! returns its result; errors reach the UI as `{code, message, hint}`.

pub mod docker;
pub mod engine;
pub mod images;
pub mod packages;
pub mod pushes;
pub mod token;

use ghcr::{Code, Error};
use tauri::{AppHandle, Runtime};
use tauri_plugin_opener::OpenerExt;

/// Opens `url` (always one the backend built from the configured GitHub) in the browser and returns
/// it; without a browser, the error says to open it by hand.
fn open_in_browser<R: Runtime>(app: &AppHandle<R>, url: String) -> Result<String, Error> {
    app.opener().open_url(&url, None::<&str>).map_err(|e| {
        Error::new(
            Code::BrowserUnavailable,
            format!("No browser could be opened ({e})"),
            format!("Open this address yourself: {url}"),
        )
    })?;
    Ok(url)
}
