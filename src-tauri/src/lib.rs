//! The Tauri app: builds the window, holds the app state (the configuration), and registers the
//! commands of `commands/`, each a few lines delegating to the `ghcr` core.

mod commands;
mod events;

use ghcr::engine::Selection;
use ghcr::token::device_flow::DeviceSignIn;
use ghcr::{Config, Error};
use std::sync::{Arc, Mutex};

/// What every command can reach: the configuration read at start (or why it could not be read: the
/// window still opens and shows that error), a browser sign-in waiting for the person, if any, the
/// engine the person picked, and the task following that engine's images.
pub struct AppState {
    config: Result<Config, Error>,
    device_sign_in: Mutex<Option<Arc<DeviceSignIn>>>,
    engine_selection: Mutex<Selection>,
    images_watcher: Mutex<Option<tauri::async_runtime::JoinHandle<()>>>,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl AppState {
    pub fn config(&self) -> Result<&Config, Error> {
        self.config.as_ref().map_err(Clone::clone)
    }

    /// The browser sign-in in progress; replacing or clearing it cancels the previous one.
    pub fn device_sign_in(&self) -> std::sync::MutexGuard<'_, Option<Arc<DeviceSignIn>>> {
        lock(&self.device_sign_in)
    }

    pub fn engine_selection(&self) -> Selection {
        lock(&self.engine_selection).clone()
    }

    pub fn set_engine_selection(&self, selection: Selection) {
        *lock(&self.engine_selection) = selection;
    }

    /// Keeps the new image watcher and stops the one before it (one page, one list).
    pub fn replace_images_watcher(&self, watcher: Option<tauri::async_runtime::JoinHandle<()>>) {
        if let Some(previous) = std::mem::replace(&mut *lock(&self.images_watcher), watcher) {
            previous.abort();
        }
    }
}

pub fn run() {
    // GTK aborts with a panic when there is no display; say what to do instead.
    #[cfg(target_os = "linux")]
    if std::env::var_os("DISPLAY").is_none() && std::env::var_os("WAYLAND_DISPLAY").is_none() {
        eprintln!(
            "GHCR Desktop needs a display (DISPLAY or WAYLAND_DISPLAY is unset). Run it in a desktop \
             session, or under Xvfb: xvfb-run make run. The `ghcr` command line works without one."
        );
        std::process::exit(1);
    }
    let state = AppState {
        config: Config::from_env(),
        device_sign_in: Mutex::new(None),
        engine_selection: Mutex::new(Selection::Automatic),
        images_watcher: Mutex::new(None),
    };
    let result = tauri::Builder::default()
        .plugin(tauri_plugin_opener::init())
        .manage(state)
        .invoke_handler(tauri::generate_handler![
            commands::engine::engine_status,
            commands::images::images_watch,
            commands::images::engines,
            commands::images::engine_select,
            commands::images::owners,
            commands::images::tag_proposal,
            commands::images::tag_check,
            commands::images::image_tag,
            commands::token::token_check,
            commands::token::token_save,
            commands::token::account_in_use,
            commands::token::accounts,
            commands::token::account_switch,
            commands::token::account_remove,
            commands::token::open_new_token_page,
            commands::token::gh_cli_token,
            commands::token::gh_cli_token_save,
            commands::token::device_flow_available,
            commands::token::device_flow_start,
            commands::token::device_flow_finish,
            commands::token::device_flow_cancel,
        ])
        .run(tauri::generate_context!());
    if let Err(error) = result {
        eprintln!("GHCR Desktop could not start its window: {error}");
        std::process::exit(1);
    }
}
