//! Docker's `config.json` as GHCR Desktop changes it: `credHelpers` for the registry pointing at
//! `docker-credential-ghcr-desktop`, and the plaintext `auths[REGISTRY].auth` taken out. The change is
//! computed by a pure function (every other key and value kept, in order); the file is written
//! atomically, with a backup that `--undo` turns back into the original byte for byte — the backup never
//! holds the token: its `auth` value is replaced by a marker naming the keyring entry, and undo puts the
//! same base64 text back from the keyring.

use crate::config::Config;
use crate::error::{Code, Error, Result};
use crate::secret::Secret;
use crate::token::store::TokenStore;
use base64::Engine as _;
use serde::Serialize;
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};

/// The helper's name in `credHelpers` (Docker runs `docker-credential-` + this).
pub const HELPER: &str = "ghcr-desktop";
pub const HELPER_BINARY: &str = "docker-credential-ghcr-desktop";
/// Stands for the plaintext `auth` value in the backup: `MARKER` + the login whose keyring entry holds
/// the token.
const MARKER: &str = "ghcr-desktop-keyring:";

/// `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`.
pub fn config_path() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("DOCKER_CONFIG").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(dir).join("config.json"));
    }
    let home = std::env::var_os("HOME").or_else(|| std::env::var_os("USERPROFILE"))?;
    Some(PathBuf::from(home).join(".docker").join("config.json"))
}

/// The backup written beside the config by a setup, for `--undo`.
pub fn backup_path(config: &Path) -> PathBuf {
    let mut name = config.file_name().unwrap_or_default().to_os_string();
    name.push(".ghcr-desktop-backup");
    config.with_file_name(name)
}

/// A plaintext credential found in `auths`. The token, and the `auth` value that encodes it, are
/// secrets: masked when printed, wiped when dropped.
#[derive(Debug, Clone)]
pub struct Plaintext {
    pub username: String,
    pub token: Secret,
    /// The `auth` value as written (base64 of `username:token`).
    pub auth: Secret,
}

/// What a setup does to a config.
#[derive(Debug, Clone)]
pub struct Setup {
    /// The new config.json.
    pub text: Vec<u8>,
    /// What changes, in words.
    pub changes: Vec<String>,
    /// The plaintext credential for the registry that the new config no longer holds.
    pub plaintext: Option<Plaintext>,
    /// Whether anything changes at all.
    pub changed: bool,
}

fn invalid(path_hint: &str, why: String) -> Error {
    Error::new(
        Code::ConfigInvalid,
        format!("Docker's config.json cannot be read: {why}"),
        format!("Fix or move {path_hint}, then run this again; nothing was changed."),
    )
}

/// Reads `auths[registry]`'s plaintext credential, if any.
pub fn plaintext(config: &Value, registry: &str) -> Option<Plaintext> {
    let auth = config.get("auths")?.get(registry)?.get("auth")?.as_str()?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(auth.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (username, token) = text.split_once(':')?;
    (!token.is_empty()).then(|| Plaintext {
        username: username.to_string(),
        token: Secret::new(token.to_string()),
        auth: Secret::new(auth.to_string()),
    })
}

/// Parses a config.json (empty or missing counts as `{}`).
pub fn parse(original: Option<&[u8]>) -> Result<Value> {
    let text = original.unwrap_or_default();
    if text.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Object(Map::new()));
    }
    let value: Value = serde_json::from_slice(text)
        .map_err(|e| invalid("~/.docker/config.json", e.to_string()))?;
    if !value.is_object() {
        return Err(invalid(
            "~/.docker/config.json",
            "it is not a JSON object".into(),
        ));
    }
    Ok(value)
}

/// Docker's own layout: tab-indented JSON.
pub fn render(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    let formatter = serde_json::ser::PrettyFormatter::with_indent(b"\t");
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, formatter);
    serde::Serialize::serialize(value, &mut serializer).expect("a JSON value serialises");
    out
}

/// The setup of `original` for `registry`: `credHelpers[registry] = "ghcr-desktop"`, and a plaintext
/// `auths[registry].auth` removed (the entry too when nothing else is in it). Nothing else changes.
pub fn plan_setup(original: Option<&[u8]>, registry: &str) -> Result<Setup> {
    let mut config = parse(original)?;
    let found = plaintext(&config, registry);
    let object = config.as_object_mut().expect("checked by parse");
    let mut changes = Vec::new();

    let helpers = object
        .entry("credHelpers")
        .or_insert_with(|| Value::Object(Map::new()));
    let Some(helpers) = helpers.as_object_mut() else {
        return Err(invalid(
            "~/.docker/config.json",
            "its credHelpers is not an object".into(),
        ));
    };
    if helpers.get(registry).and_then(Value::as_str) != Some(HELPER) {
        match helpers.insert(registry.to_string(), Value::String(HELPER.into())) {
            Some(previous) => changes.push(format!(
                "credHelpers[\"{registry}\"]: {previous} → \"{HELPER}\""
            )),
            None => changes.push(format!("add credHelpers[\"{registry}\"] = \"{HELPER}\"")),
        }
    }
    if found.is_some() {
        if let Some(entry) = object
            .get_mut("auths")
            .and_then(Value::as_object_mut)
            .and_then(|auths| auths.get_mut(registry))
            .and_then(Value::as_object_mut)
        {
            entry.remove("auth");
            if entry.is_empty() {
                object
                    .get_mut("auths")
                    .and_then(Value::as_object_mut)
                    .map(|auths| auths.remove(registry));
            }
        }
        changes.push(format!(
            "remove the plaintext token of auths[\"{registry}\"] (moved to the system keyring)"
        ));
    }
    let changed = !changes.is_empty();
    Ok(Setup {
        text: render(&config),
        changes,
        plaintext: found,
        changed,
    })
}

/// The backup of `original`: the same bytes, with the plaintext `auth` value replaced by a marker
/// naming `login`'s keyring entry and the username docker had stored (not a secret).
pub fn backup_text(original: &[u8], plaintext: Option<&Plaintext>, login: &str) -> Vec<u8> {
    match plaintext {
        Some(found) => replace_once(
            original,
            found.auth.expose().as_bytes(),
            marker(login, &found.username).as_bytes(),
        ),
        None => original.to_vec(),
    }
}

fn marker(login: &str, username: &str) -> String {
    let username = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(username);
    format!("{MARKER}{login}/{username}")
}

/// The original config from a backup: the marker replaced by base64 of `username:token` — the same
/// text that was there, since base64 is deterministic. `token_of(login)` reads the keyring.
pub fn restore_text(backup: &[u8], token_of: impl Fn(&str) -> Option<String>) -> Result<Vec<u8>> {
    let Some(start) = find(backup, MARKER.as_bytes()) else {
        return Ok(backup.to_vec());
    };
    let after = &backup[start + MARKER.len()..];
    let end = after.iter().position(|b| *b == b'"').unwrap_or(after.len());
    let written = String::from_utf8_lossy(&after[..end]).to_string();
    let (login, username) = written.split_once('/').unwrap_or((written.as_str(), ""));
    let username = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(username)
        .ok()
        .and_then(|u| String::from_utf8(u).ok())
        .unwrap_or_else(|| login.to_string());
    let token = token_of(login).ok_or_else(|| {
        Error::new(
            Code::TokenMissing,
            format!("The token of {login} is no longer in the keyring, so the old config.json can't get it back"),
            "Log in again with `docker login` (or `ghcr login`) if the docker CLI needs it.",
        )
    })?;
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{username}:{token}"));
    Ok(replace_once(
        backup,
        format!("{MARKER}{written}").as_bytes(),
        auth.as_bytes(),
    ))
}

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
    let store = TokenStore::for_config(config);
    if login.is_none() {
        login = store.accounts().ok().and_then(|a| a.active);
    }
    if login.is_some() {
        confirm_helper(&helper, &config.registry)?;
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
pub fn undo(config: &Config) -> Result<PathBuf> {
    let path = config_path().ok_or_else(no_config_path)?;
    let backup = backup_path(&path);
    let absent = absent_marker(&path);
    if let Ok(bytes) = std::fs::read(&backup) {
        let store = TokenStore::for_config(config);
        let restored = restore_text(&bytes, |login| {
            store
                .load(login)
                .ok()
                .flatten()
                .map(|t| t.expose().to_string())
        })?;
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
fn confirm_helper(helper: &Path, registry: &str) -> Result<()> {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let broken = |why: String| {
        Error::new(
            Code::DockerHelperMissing,
            format!("{} did not answer with the token: {why}", helper.display()),
            "Run it by hand: echo REGISTRY | docker-credential-ghcr-desktop get. config.json was not changed.",
        )
    };
    let mut child = Command::new(helper)
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| broken(e.to_string()))?;
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(registry.as_bytes());
    }
    let output = child
        .wait_with_output()
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

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return None;
    }
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn replace_once(text: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    match find(text, from) {
        Some(at) => [&text[..at], to, &text[at + from.len()..]].concat(),
        None => text.to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REGISTRY: &str = "ghcr.io";

    fn auth(user: &str, token: &str) -> String {
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{token}"))
    }

    #[test]
    fn setup_adds_the_helper_and_takes_out_only_the_plaintext_token() {
        let original = format!(
            "{{ \"auths\" :{{\"ghcr.io\":{{\"auth\":\"{}\"}},   \"quay.io\":{{\"auth\":\"cXVheTpx\"}}}},\n\"credsStore\":\"desktop\",\"experimental\" : \"enabled\", \"credHelpers\":{{\"gcr.io\":\"gcloud\"}}}}",
            auth("Octo", "ghp_secret")
        );
        let setup = plan_setup(Some(original.as_bytes()), REGISTRY).unwrap();
        let after: Value = serde_json::from_slice(&setup.text).unwrap();
        let expected = serde_json::json!({
            "auths": {"quay.io": {"auth": "cXVheTpx"}},
            "credsStore": "desktop",
            "experimental": "enabled",
            "credHelpers": {"gcr.io": "gcloud", "ghcr.io": "ghcr-desktop"},
        });
        assert_eq!(after, expected);
        let keys: Vec<&String> = after.as_object().unwrap().keys().collect();
        assert_eq!(
            keys,
            ["auths", "credsStore", "experimental", "credHelpers"],
            "order kept"
        );
        let found = setup.plaintext.unwrap();
        assert_eq!(
            (found.username.as_str(), found.token.expose()),
            ("Octo", "ghp_secret")
        );
        assert!(!String::from_utf8_lossy(&setup.text).contains(found.auth.expose()));
        assert_eq!(setup.changes.len(), 2, "{:?}", setup.changes);
        let printed = format!("{found:?}");
        assert!(
            !printed.contains("ghp_secret") && !printed.contains(found.auth.expose()),
            "a printed credential shows only hints: {printed}"
        );
    }

    #[test]
    fn a_missing_or_empty_config_gets_just_the_helper_and_a_second_setup_changes_nothing() {
        for original in [None, Some(&b""[..]), Some(&b"  \n"[..])] {
            let setup = plan_setup(original, REGISTRY).unwrap();
            let after: Value = serde_json::from_slice(&setup.text).unwrap();
            assert_eq!(
                after,
                serde_json::json!({"credHelpers": {"ghcr.io": "ghcr-desktop"}})
            );
            assert!(setup.plaintext.is_none());
            let again = plan_setup(Some(&setup.text), REGISTRY).unwrap();
            assert!(!again.changed);
            assert_eq!(again.text, setup.text);
        }
    }

    #[test]
    fn an_entry_with_more_than_the_token_keeps_the_rest() {
        let original = format!(
            r#"{{"auths":{{"ghcr.io":{{"auth":"{}","email":"a@b.c"}}}}}}"#,
            auth("u", "t")
        );
        let after: Value = serde_json::from_slice(
            &plan_setup(Some(original.as_bytes()), REGISTRY)
                .unwrap()
                .text,
        )
        .unwrap();
        assert_eq!(
            after["auths"]["ghcr.io"],
            serde_json::json!({"email": "a@b.c"})
        );
    }

    #[test]
    fn configs_that_are_not_objects_are_refused_untouched() {
        for bad in [&b"["[..], b"[]", b"{\"credHelpers\": 3}", b"\xff"] {
            let error = plan_setup(Some(bad), REGISTRY).unwrap_err();
            assert_eq!(error.code, Code::ConfigInvalid, "{bad:?}");
        }
    }

    #[test]
    fn the_backup_holds_no_token_and_restores_the_original_byte_for_byte() {
        let secret = "ghp_0123456789abcdefghijklmnopqrstuvwxyz";
        let original = format!(
            "{{\n\t\"auths\": {{\n\t\t\"ghcr.io\": {{\n\t\t\t\"auth\": \"{}\"\n\t\t}}\n\t}}\n}}",
            auth("Octo-Cat", secret)
        );
        let setup = plan_setup(Some(original.as_bytes()), REGISTRY).unwrap();
        let backup = backup_text(original.as_bytes(), setup.plaintext.as_ref(), "octo");
        assert!(!String::from_utf8_lossy(&backup).contains(&auth("Octo-Cat", secret)));
        assert!(!String::from_utf8_lossy(&backup).contains(secret));
        let restored = restore_text(&backup, |login| {
            (login == "octo").then(|| secret.to_string())
        })
        .unwrap();
        assert_eq!(restored, original.as_bytes());
        assert_eq!(
            restore_text(&backup, |_| None).unwrap_err().code,
            Code::TokenMissing
        );
        assert_eq!(restore_text(b"{}", |_| None).unwrap(), b"{}");
    }
}
