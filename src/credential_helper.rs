//! Docker's credential-helper protocol (github.com/docker/docker-credential-helpers) over GHCR
//! Desktop's keyring entry, for `docker-credential-ghcr-desktop`: `get` (server URL in, `{"ServerURL",
//! "Username","Secret"}` out), `store` (a `docker login`: checked like a pasted token, then kept in the
//! keyring), `erase` (`docker logout`), `list`. Only the configured registry is answered; anything else
//! is "credentials not found in native keychain", the protocol's words for "not mine". Errors go to
//! stdout with exit code 1, as the protocol has it.

use crate::config::Config;
use crate::error::Error;
use crate::secret::Secret;
use crate::token::store::{Source, TokenStore};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The protocol's "not found" text (docker matches on it).
pub const NOT_FOUND: &str = "credentials not found in native keychain";
/// More input than this is not a server URL or a login.
pub const MAX_INPUT: usize = 64 << 10;

/// What the helper prints, and whether it succeeded (exit 0) or not (exit 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    Ok(String),
    Failed(String),
}

/// The registry `host[:port]` a server URL names: `https://ghcr.io/v2/` → `ghcr.io`.
pub fn server_host(url: &str) -> Option<String> {
    let url = url.trim();
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .unwrap_or(url);
    let host = rest
        .split('/')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    let valid = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'));
    valid.then_some(host)
}

fn mine(config: &Config, server: &str) -> bool {
    server_host(server).is_some_and(|host| host == config.registry.to_ascii_lowercase())
}

#[derive(Serialize)]
struct Credentials<'a> {
    #[serde(rename = "ServerURL")]
    server_url: &'a str,
    #[serde(rename = "Username")]
    username: &'a str,
    #[serde(rename = "Secret")]
    secret: &'a str,
}

#[derive(Deserialize)]
struct StoreRequest {
    #[serde(rename = "ServerURL")]
    server_url: String,
    #[serde(rename = "Secret")]
    secret: Secret,
}

fn failed(error: Error) -> Answer {
    if error.hint.is_empty() {
        Answer::Failed(error.message)
    } else {
        Answer::Failed(format!("{} ({})", error.message, error.hint))
    }
}

fn text(input: &[u8]) -> Option<&str> {
    std::str::from_utf8(input)
        .ok()
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

/// Runs one protocol command on `input` (what docker wrote to stdin).
pub async fn run(config: &Config, command: &str, input: &[u8]) -> Answer {
    if input.len() > MAX_INPUT {
        return Answer::Failed("The input is too long for a credential helper request".into());
    }
    match command {
        "get" => get(config, input),
        "store" => store(config, input).await,
        "erase" => erase(config, input),
        "list" => list(config),
        "version" => Answer::Ok(format!(
            "docker-credential-ghcr-desktop {}",
            env!("CARGO_PKG_VERSION")
        )),
        other => Answer::Failed(format!(
            "Unknown command {other:?}: docker-credential-ghcr-desktop get|store|erase|list|version"
        )),
    }
}

/// The server URL on standard input, when it is our registry (else what Docker is to be told).
fn our_server<'a>(config: &Config, input: &'a [u8]) -> std::result::Result<&'a str, Answer> {
    match text(input) {
        None => Err(Answer::Failed("No server URL on standard input".into())),
        Some(server) if !mine(config, server) => Err(Answer::Failed(NOT_FOUND.into())),
        Some(server) => Ok(server),
    }
}

fn get(config: &Config, input: &[u8]) -> Answer {
    let server = match our_server(config, input) {
        Ok(server) => server,
        Err(answer) => return answer,
    };
    let store = TokenStore::for_config(config);
    let (source, token) = match store.token_in_use() {
        Ok(found) => found,
        Err(error) if error.code == crate::Code::TokenMissing => {
            return Answer::Failed(NOT_FOUND.into())
        }
        Err(error) => return failed(error),
    };
    // ghcr.io reads the token, not the user name; the keyring's login is the honest one to give.
    let username = match source {
        Source::Keyring => store.accounts().ok().and_then(|a| a.active),
        Source::Environment => None,
    }
    .unwrap_or_else(|| "ghcr-desktop".to_string());
    let answer = Credentials {
        server_url: server,
        username: &username,
        secret: token.expose(),
    };
    match serde_json::to_string(&answer) {
        Ok(json) => Answer::Ok(json),
        Err(error) => Answer::Failed(error.to_string()),
    }
}

async fn store(config: &Config, input: &[u8]) -> Answer {
    let Ok(request) = serde_json::from_slice::<StoreRequest>(input) else {
        return Answer::Failed(
            "Expected {\"ServerURL\",\"Username\",\"Secret\"} on standard input".into(),
        );
    };
    if !mine(config, &request.server_url) {
        return Answer::Failed(format!(
            "docker-credential-ghcr-desktop keeps credentials for {} only",
            config.registry
        ));
    }
    let secret = match crate::token::from_pasted(request.secret.expose()) {
        Ok(secret) => secret,
        Err(error) => return failed(error),
    };
    match crate::token::save(config, secret).await {
        Ok(_) => Answer::Ok(String::new()),
        Err(error) => failed(error),
    }
}

fn erase(config: &Config, input: &[u8]) -> Answer {
    if let Err(answer) = our_server(config, input) {
        return answer;
    }
    let store = TokenStore::for_config(config);
    let active = match store.accounts() {
        Ok(accounts) => accounts.active,
        Err(error) => return failed(error),
    };
    match active {
        None => Answer::Failed(NOT_FOUND.into()),
        Some(login) => match store.remove(&login) {
            Ok(()) => Answer::Ok(String::new()),
            Err(error) => failed(error),
        },
    }
}

fn list(config: &Config) -> Answer {
    let store = TokenStore::for_config(config);
    let mut listed = BTreeMap::new();
    if let Ok(accounts) = store.accounts() {
        if let Some(login) = accounts.active {
            listed.insert(config.registry.clone(), login);
        }
    }
    Answer::Ok(serde_json::to_string(&listed).unwrap_or_else(|_| "{}".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_urls_name_their_host_in_any_form_docker_sends() {
        for url in [
            "ghcr.io",
            "https://ghcr.io",
            "https://ghcr.io/v2/",
            " GHCR.io\n",
            "http://ghcr.io/token",
        ] {
            assert_eq!(server_host(url).as_deref(), Some("ghcr.io"), "{url:?}");
        }
        assert_eq!(
            server_host("127.0.0.1:5000").as_deref(),
            Some("127.0.0.1:5000")
        );
        for bad in ["", "   ", "https://", "a b", "ghcr.io\"x"] {
            assert_eq!(server_host(bad), None, "{bad:?}");
        }
    }

    #[tokio::test]
    async fn other_hosts_empty_input_garbage_and_unknown_commands_fail_in_the_protocols_words() {
        let config = Config::github_com();
        assert_eq!(
            run(&config, "get", b"https://index.docker.io/v1/").await,
            Answer::Failed(NOT_FOUND.into())
        );
        assert_eq!(
            run(&config, "erase", b"quay.io").await,
            Answer::Failed(NOT_FOUND.into())
        );
        assert!(matches!(run(&config, "get", b"").await, Answer::Failed(_)));
        assert!(matches!(
            run(&config, "store", b"not json").await,
            Answer::Failed(_)
        ));
        let elsewhere = br#"{"ServerURL":"quay.io","Username":"u","Secret":"ghp_x"}"#;
        assert!(
            matches!(run(&config, "store", elsewhere).await, Answer::Failed(m) if m.contains("ghcr.io only"))
        );
        assert!(
            matches!(run(&config, "fetch", b"").await, Answer::Failed(m) if m.contains("get|store|erase|list"))
        );
        assert!(matches!(
            run(&config, "get", &vec![b'a'; MAX_INPUT + 1]).await,
            Answer::Failed(_)
        ));
    }
}
