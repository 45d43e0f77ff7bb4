//! The IPC commands, one file per capability. Each parses its arguments, calls one core function and
//! returns its result; errors reach the UI as `{code, message, hint}`.

pub mod docker;
pub mod engine;
pub mod images;
pub mod language;
pub mod packages;
pub mod pushes;
pub mod token;

use ghcr::{Code, Error};
use tauri::{AppHandle, Runtime};
use tauri_plugin_opener::OpenerExt;

/// Opens `url` (always one the backend built from the configured GitHub) in the browser and returns
/// it; without a browser, the error says to open it by hand.
fn open_in_browser<R: Runtime>(app: &AppHandle<R>, url: String) -> Result<String, Error> {
    // The opener's own text ("Launcher \"gio\" … ExitStatus(…)") is for the log, not for a person.
    app.opener().open_url(&url, None::<&str>).map_err(|e| {
        eprintln!("ghcr-desktop: opening {url}: {e}");
        Error::new(
            Code::BrowserUnavailable,
            "Couldn't open your browser",
            format!("Open this address yourself: {url}"),
        )
        .with_url(url.clone())
    })?;
    Ok(url)
}

#[cfg(test)]
mod tests {
    /// Calls that reach the OS keyring (D-Bus, and maybe an unlock prompt that waits for a person).
    const KEYRING_CALLS: [&str; 5] = [
        "token::",
        "docker_config::setup",
        "docker_config::undo",
        "docker_config::check_plaintext",
        "TokenStore",
    ];

    /// A sync Tauri command runs on the window's thread: one that waited for the keyring would freeze
    /// the window. Every command that reaches the keyring must be async (run off that thread).
    #[test]
    fn every_command_that_reaches_the_keyring_is_async() {
        let files = [
            ("docker.rs", include_str!("docker.rs")),
            ("engine.rs", include_str!("engine.rs")),
            ("images.rs", include_str!("images.rs")),
            ("packages.rs", include_str!("packages.rs")),
            ("pushes.rs", include_str!("pushes.rs")),
            ("token.rs", include_str!("token.rs")),
        ];
        let mut sync_keyring_commands = Vec::new();
        for (file, text) in files {
            for command in text.split("#[tauri::command]").skip(1) {
                let signature = command.lines().find(|l| l.contains("fn ")).unwrap_or("");
                let body = &command[..command.find("\n}\n").unwrap_or(command.len())];
                let reaches_keyring = KEYRING_CALLS.iter().any(|call| body.contains(call));
                if reaches_keyring && !signature.contains("async fn") {
                    sync_keyring_commands.push(format!("{file}: {}", signature.trim()));
                }
            }
        }
        assert_eq!(sync_keyring_commands, Vec::<String>::new());
    }
}
