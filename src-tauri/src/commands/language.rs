//! Language commands: the system's locale (for Settings' "Auto") and the main window's title in the
//! language the page shows.

use ghcr::language;
use ghcr::{Code, Error};
use tauri::{Manager, Runtime};

/// The OS locale, e.g. `zh-CN` or `en-US`; the page maps it to a catalog.
#[tauri::command]
pub fn system_locale() -> String {
    language::system_locale()
}

/// Titles the main window in `language` (`en` or `zh-CN`).
#[tauri::command]
pub fn window_language<R: Runtime>(
    app: tauri::AppHandle<R>,
    language: String,
) -> Result<(), Error> {
    if !language::LANGUAGES.contains(&language.as_str()) {
        return Err(Error::new(
            Code::ConfigInvalid,
            format!("No catalog for the language {language:?}"),
            format!("Choose one of: {}", language::LANGUAGES.join(", ")),
        ));
    }
    if let Some(window) = app.get_webview_window("main") {
        window
            .set_title(language::window_title(&language))
            .map_err(|e| {
                Error::new(
                    Code::ConfigInvalid,
                    "Couldn't title the window",
                    e.to_string(),
                )
            })?;
    }
    Ok(())
}
