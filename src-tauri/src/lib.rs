//! The Tauri app: builds the window, holds the app state (the configuration), and registers the
//! commands of `commands/`, each a few lines delegating to the `ghcr` core.

mod commands;
mod events;

use events::PushesChannel;
use ghcr::engine::Selection;
use ghcr::push::jobs::{JobState, JobUpdate, Jobs, DEFAULT_CONCURRENCY};
use ghcr::token::device_flow::SignInSlot;
use ghcr::{Config, Error};
use std::sync::{Arc, Mutex, OnceLock};
use tauri::{AppHandle, Manager, Runtime};
use tauri_plugin_notification::NotificationExt;

/// What every command can reach: the configuration read at start (or why it could not be read: the
/// window still opens and shows that error), a browser sign-in waiting for the person, if any, the
/// engine the person picked, the task following that engine's images, and the push jobs with the
/// page's channel for their updates.
pub struct AppState {
    config: Result<Config, Error>,
    pub device_sign_in: SignInSlot,
    engine_selection: Mutex<Selection>,
    images_watcher: Mutex<Option<tauri::async_runtime::JoinHandle<()>>>,
    pushes: OnceLock<Jobs>,
    pushes_listener: Arc<Mutex<Option<PushesChannel>>>,
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

    pub fn engine_selection(&self) -> Selection {
        lock(&self.engine_selection).clone()
    }

    pub fn set_engine_selection(&self, selection: Selection) {
        *lock(&self.engine_selection) = selection;
    }

    /// The push jobs, made on first use: each change goes to the page's channel, and a push that ends
    /// while the window is not focused becomes a desktop notification.
    pub fn jobs<R: Runtime>(&self, app: &AppHandle<R>) -> Result<&Jobs, Error> {
        let config = self.config()?;
        Ok(self.pushes.get_or_init(|| {
            let listener = self.pushes_listener.clone();
            let app = app.clone();
            Jobs::new(config.clone(), DEFAULT_CONCURRENCY, move |update| {
                if let Some(channel) = lock(&listener).as_ref() {
                    let _ = channel.send(update.clone());
                }
                notify_if_unfocused(&app, update);
            })
        }))
    }

    pub fn set_pushes_listener(&self, channel: PushesChannel) {
        *lock(&self.pushes_listener) = Some(channel);
    }

    /// Keeps the new image watcher and stops the one before it (one page, one list).
    pub fn replace_images_watcher(&self, watcher: Option<tauri::async_runtime::JoinHandle<()>>) {
        if let Some(previous) = std::mem::replace(&mut *lock(&self.images_watcher), watcher) {
            previous.abort();
        }
    }
}

/// A desktop notification for a push that finished or failed while the person looked elsewhere.
fn notify_if_unfocused<R: Runtime>(app: &AppHandle<R>, update: &JobUpdate) {
    let (title, body) = match &update.state {
        JobState::Done { pushed, .. } => ("Pushed", pushed.reference.clone()),
        JobState::Failed { error } => ("Push failed", error.message.clone()),
        _ => return,
    };
    let focused = app
        .get_webview_window("main")
        .and_then(|window| window.is_focused().ok())
        .unwrap_or(false);
    if !focused {
        let _ = app.notification().builder().title(title).body(body).show();
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
        device_sign_in: SignInSlot::default(),
        engine_selection: Mutex::new(Selection::Automatic),
        images_watcher: Mutex::new(None),
        pushes: OnceLock::new(),
        pushes_listener: Arc::new(Mutex::new(None)),
    };
    let result = tauri::Builder::default()
        // Used from Rust only (commands check the host first); no click handler injected into the page.
        .plugin(
            tauri_plugin_opener::Builder::new()
                .open_js_links_on_click(false)
                .build(),
        )
        .plugin(tauri_plugin_notification::init())
        .plugin(tauri_plugin_dialog::init())
        .manage(state)
        .invoke_handler(tauri::generate_handler![
            commands::engine::engine_status,
            commands::docker::docker_cli_status,
            commands::docker::docker_cli_plaintext,
            commands::docker::docker_cli_setup,
            commands::docker::docker_cli_undo,
            commands::images::images_watch,
            commands::language::system_locale,
            commands::language::window_language,
            commands::images::engines,
            commands::images::engine_select,
            commands::images::owners,
            commands::images::tag_proposal,
            commands::images::tag_check,
            commands::images::image_tag,
            commands::images::registry_tags_present,
            commands::images::registry_tag_existing,
            commands::packages::packages_list,
            commands::packages::package_get,
            commands::packages::package_versions,
            commands::packages::package_delete_version,
            commands::packages::package_prove,
            commands::packages::open_package_settings,
            commands::packages::package_deleted_versions,
            commands::packages::package_restore_version,
            commands::packages::package_delete,
            commands::packages::package_restore,
            commands::packages::package_repositories,
            commands::packages::open_package,
            commands::pushes::pushes_watch,
            commands::pushes::push_start,
            commands::pushes::push_cancel,
            commands::pushes::push_retry,
            commands::pushes::pushes_clear,
            commands::pushes::open_package_page,
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
