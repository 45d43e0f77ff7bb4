//! The docker CLI setup as it touches the machine: where config.json is, whether the helper is on PATH
//! and answers, the plaintext token checked and moved into the keyring, the file written atomically
//! with its backup, and the undo.

use super::{
    backup_path, backup_text, config_path, parse, plaintext, plan_setup, restore_text, HELPER,
    HELPER_BINARY,
};
use crate::config::Config;
use crate::error::{Code, Error, Result};
use crate::token::off_runtime;
use crate::token::store::TokenStore;
use serde::Serialize;
use serde_json::Value;
use std::time::Duration;

/// How long the credential helper may take to answer the setup's check.
const HELPER_PATIENCE: Duration = Duration::from_secs(30);
use std::path::{Path, PathBuf};

/// Written beside config.json when a setup made it: `--undo` then removes the file.
fn absent_marker(config: &Path) -> PathBuf {
    let mut name = config.file_name().unwrap_or_default().to_os_string();
    name.push(".ghcr-desktop-absent");
    config.with_file_name(name)
}

/// Where the docker CLI stands with the registry's credentials.
#[derive(Debug, Clone, Serialize)]
pub struct DockerCli {
    /// The config.json in use.
    pub config: PathBuf,
    /// `credHelpers[registry]` is `ghcr-desktop`.
    pub helper_configured: bool,
    /// A plaintext token for the registry sits in config.json (its user name, never the token).
    pub plaintext_user: Option<String>,
    /// The helper as Docker would find it on PATH.
    pub helper_on_path: Option<PathBuf>,
    /// The helper beside this program, when it is not on PATH: the folder to add.
    pub helper_beside: Option<PathBuf>,
    /// A setup can be undone.
    pub can_undo: bool,
}

/// `name` in a folder of PATH, as Docker looks it up.
pub fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

fn beside_this_program() -> Option<PathBuf> {
    let candidate = std::env::current_exe().ok()?.parent()?.join(HELPER_BINARY);
    candidate.is_file().then_some(candidate)
}

fn no_config_path() -> Error {
    Error::new(
        Code::ConfigInvalid,
        "Neither DOCKER_CONFIG nor HOME is set, so Docker's config.json can't be found",
        "Set DOCKER_CONFIG to the folder of your config.json.",
    )
}

fn file_error(path: &Path, action: &str, error: std::io::Error) -> Error {
    Error::new(
        Code::ConfigInvalid,
        format!("Cannot {action} {}: {error}", path.display()),
        "Check the file's permissions; nothing else was changed.",
    )
}

/// Reads the docker CLI's state for the configured registry.
pub fn docker_cli(config: &Config) -> Result<DockerCli> {
    let path = config_path().ok_or_else(no_config_path)?;
    let original = match std::fs::read(&path) {
        Ok(bytes) => Some(bytes),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => None,
        Err(error) => return Err(file_error(&path, "read", error)),
    };
    let value = parse(original.as_deref())?;
    let helper_on_path = on_path(HELPER_BINARY);
    Ok(DockerCli {
        helper_configured: value
            .get("credHelpers")
            .and_then(|h| h.get(&config.registry))
            .and_then(Value::as_str)
            == Some(HELPER),
        plaintext_user: plaintext(&value, &config.registry).map(|p| p.username),
        helper_beside: helper_on_path
            .is_none()
            .then(beside_this_program)
            .flatten()
            .and_then(|p| p.parent().map(Path::to_path_buf)),
        helper_on_path,
        can_undo: backup_path(&path).exists() || absent_marker(&path).exists(),
        config: path,
    })
}

/// The plaintext token for the registry in config.json, checked like a pasted one (login, kind,
/// scopes, push); `None` when there is none. The token itself never leaves this function.
pub async fn check_plaintext(config: &Config) -> Result<Option<crate::token::TokenReport>> {
    let path = config_path().ok_or_else(no_config_path)?;
    let original = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(file_error(&path, "read", error)),
    };
    let Some(found) = plaintext(&parse(Some(&original))?, &config.registry) else {
        return Ok(None);
    };
    let secret = crate::token::from_pasted(found.token.expose())?;
    crate::token::check(config, &secret).await.map(Some)
}

/// What a setup did.
#[derive(Debug, Clone, Serialize)]
pub struct SetupDone {
    pub config: PathBuf,
    pub changes: Vec<String>,
    /// The account whose token the docker CLI now gets, if one is saved.
    pub login: Option<String>,
}

/// Lets the docker CLI use the keyring entry: moves a plaintext token for the registry into the
/// keyring (checked like a pasted one), confirms the helper answers with it, then writes config.json
/// (atomically, after a backup without the token). Nothing is written if any step fails.
pub async fn setup(config: &Config) -> Result<SetupDone> {
    let path = config_path().ok_or_else(no_config_path)?;
    let original = match std::fs::read(&path) {
        Ok(bytes) => Some(bytes),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => None,
        Err(error) => return Err(file_error(&path, "read", error)),
    };
    let plan = plan_setup(original.as_deref(), &config.registry)?;
    let helper = on_path(HELPER_BINARY).ok_or_else(helper_missing)?;
    let mut login = None;
    if let Some(found) = &plan.plaintext {
        let secret = crate::token::from_pasted(found.token.expose())?;
        let account = crate::token::save(config, secret).await.map_err(|error| {
            Error::new(
                error.code,
                format!(
                    "The token in config.json can't be moved to the keyring: {}",
                    error.message
                ),
                format!(
                    "{} Then run docker-setup again; config.json was not changed.",
                    error.hint
                ),
            )
        })?;
        login = Some(account.report.login);
    }
    if login.is_none() {
        // The keyring is D-Bus (and maybe an unlock prompt): never on a runtime worker.
        let store = TokenStore::for_config(config);
        login = off_runtime(move || Ok(store.accounts().ok().and_then(|a| a.active))).await?;
    }
    if login.is_some() {
        confirm_helper(&helper, &config.registry).await?;
    }
    if !plan.changed {
        return Ok(SetupDone {
            config: path,
            changes: Vec::new(),
            login,
        });
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| file_error(dir, "create", e))?;
    }
    match &original {
        Some(bytes) => {
            let backup = backup_text(
                bytes,
                plan.plaintext.as_ref(),
                login.as_deref().unwrap_or(""),
            );
            write_atomically(&backup_path(&path), &backup)?;
        }
        None => write_atomically(&absent_marker(&path), b"")?,
    }
    write_atomically(&path, &plan.text)?;
    Ok(SetupDone {
        config: path,
        changes: plan.changes,
        login,
    })
}

/// Puts config.json back as it was before the setup (the token, if one was moved, read back from the
/// keyring), and removes the backup.
pub async fn undo(config: &Config) -> Result<PathBuf> {
    let path = config_path().ok_or_else(no_config_path)?;
    let backup = backup_path(&path);
    let absent = absent_marker(&path);
    if let Ok(bytes) = std::fs::read(&backup) {
        // The keyring is D-Bus (and maybe an unlock prompt): never on a runtime worker.
        let store = TokenStore::for_config(config);
        let restored = off_runtime(move || {
            restore_text(&bytes, |login| {
                store
                    .load(login)
                    .ok()
                    .flatten()
                    .map(|t| t.expose().to_string())
            })
        })
        .await?;
        write_atomically(&path, &restored)?;
        std::fs::remove_file(&backup).map_err(|e| file_error(&backup, "remove", e))?;
        return Ok(path);
    }
    if absent.exists() {
        match std::fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(file_error(&path, "remove", e)),
        }
        std::fs::remove_file(&absent).map_err(|e| file_error(&absent, "remove", e))?;
        return Ok(path);
    }
    Err(Error::new(
        Code::DockerNotSetUp,
        format!("There is no docker-setup to undo for {}", path.display()),
        "Nothing was changed.",
    ))
}

fn helper_missing() -> Error {
    let hint = match beside_this_program().and_then(|p| p.parent().map(Path::to_path_buf)) {
        Some(dir) => format!(
            "It is in {0}: add that folder to PATH (export PATH=\"{0}:$PATH\") and run this again.",
            dir.display()
        ),
        None => format!("Install {HELPER_BINARY} (it ships beside ghcr) into a folder on PATH."),
    };
    Error::new(
        Code::DockerHelperMissing,
        format!("Docker can't find {HELPER_BINARY} on PATH, so it could not use the keyring"),
        hint,
    )
}

/// Runs the helper as Docker would (`get` with the registry on stdin) and expects credentials back.
async fn confirm_helper(helper: &Path, registry: &str) -> Result<()> {
    use std::process::Stdio;
    use tokio::io::AsyncWriteExt;
    let broken = |why: String| {
        Error::new(
            Code::DockerHelperMissing,
            format!("{} did not answer with the token: {why}", helper.display()),
            "Run it by hand: echo REGISTRY | docker-credential-ghcr-desktop get. config.json was not changed.",
        )
    };
    let mut child = tokio::process::Command::new(helper)
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| broken(e.to_string()))?;
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(registry.as_bytes()).await;
    }
    // The helper reads the keyring, which may wait for an unlock: long enough for a person to type a
    // password, not forever.
    let output = tokio::time::timeout(HELPER_PATIENCE, child.wait_with_output())
        .await
        .map_err(|_| broken(format!("no answer within {} s", HELPER_PATIENCE.as_secs())))?
        .map_err(|e| broken(e.to_string()))?;
    let answer: Value = serde_json::from_slice(&output.stdout).map_err(|_| {
        broken(
            String::from_utf8_lossy(&output.stdout)
                .trim()
                .chars()
                .take(200)
                .collect(),
        )
    })?;
    match answer.get("Secret").and_then(Value::as_str) {
        Some(secret) if output.status.success() && !secret.is_empty() => Ok(()),
        _ => Err(broken("no secret in its answer".into())),
    }
}

/// Writes `bytes` to `path` through a temporary file in the same folder (readable by the owner only).
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let temporary = path.with_extension(format!("ghcr-desktop-{}", std::process::id()));
    let write = || -> std::io::Result<()> {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&temporary)?;
        std::io::Write::write_all(&mut file, bytes)?;
        file.sync_all()?;
        std::fs::rename(&temporary, path)
    };
    write().map_err(|e| {
        let _ = std::fs::remove_file(&temporary);
        file_error(path, "write", e)
    })
}
