//! Docker's `config.json` as GHCR Desktop changes it: `credHelpers` for the registry pointing at
//! `docker-credential-ghcr-desktop`, and the plaintext `auths[REGISTRY].auth` taken out. The change is
//! computed by a pure function (every other key and value kept, in order); the file is written
//! atomically, with a backup that `--undo` turns back into the original byte for byte — the backup never
//! holds the token: its `auth` value is replaced by a marker naming the keyring entry, and undo puts the
//! same base64 text back from the keyring.

//!
//! This file is the pure part (the file's model, the change, the backup); `setup` reads and writes the
//! files, the keyring and asks the helper.

mod setup;

pub use setup::{check_plaintext, docker_cli, on_path, setup, undo, DockerCli, SetupDone};

use crate::error::{Code, Error, Result};
use crate::secret::Secret;
use base64::Engine as _;
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
