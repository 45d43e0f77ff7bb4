//! Where tokens live: the OS keyring only (Secret Service on Linux, Keychain on macOS, Credential Manager
//! on Windows), one entry per (GitHub web host, login), plus an index entry naming the accounts and the
//! active one. `GHCR_TOKEN` overrides the keyring for a session. There is no file fallback: without a
//! keyring, saving is refused. Keyring calls block; call them off the async runtime's threads.

use crate::config::Config;
use crate::error::{Code, Error, Result};
use crate::secret::Secret;
use serde::{Deserialize, Serialize};

/// GitHub logins never contain `_`, so this user name cannot clash with an account's.
const INDEX_USER: &str = "_accounts";

/// The accounts saved for one GitHub host, and which one is in use.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Accounts {
    pub logins: Vec<String>,
    pub active: Option<String>,
}

/// Where the token in use came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// The `GHCR_TOKEN` environment variable (overrides the keyring).
    Environment,
    Keyring,
}

/// Whether a saved token becomes the one in use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activation {
    /// It does (`ghcr login`, a browser sign-in: the person asked for this account).
    Always,
    /// Only when no account is in use: the window's "Save" of a pasted token keeps the account in use
    /// and offers to switch (switching is a choice of its own).
    IfNoneActive,
}

/// `GHCR_TOKEN`, when set to something other than blanks: it overrides the keyring for a session.
pub fn environment_token() -> Option<Result<Secret>> {
    std::env::var("GHCR_TOKEN")
        .ok()
        .filter(|v| !v.trim().is_empty())
        .map(|value| super::from_pasted(&value))
}

/// Not logged in: neither `GHCR_TOKEN` nor a saved account.
pub fn not_logged_in() -> Error {
    Error::new(
        Code::TokenMissing,
        "Not logged in: no token in GHCR_TOKEN or the system keyring",
        "Log in with a classic token that has write:packages: ghcr login.",
    )
}

/// The keyring entries of one GitHub host.
pub struct TokenStore {
    service: String,
}

fn keyring_error(error: keyring::Error) -> Error {
    match error {
        keyring::Error::NoDefaultStore
        | keyring::Error::NoStorageAccess(_)
        | keyring::Error::PlatformFailure(_) => Error::new(
            Code::KeyringUnavailable,
            format!("No system keyring is available ({error})"),
            "Start your desktop's keyring (GNOME Keyring, KWallet) or use GHCR_TOKEN for this session. GHCR Desktop never writes tokens to files.",
        ),
        other => Error::new(
            Code::KeyringUnavailable,
            format!("The system keyring refused: {other}"),
            "Unlock the keyring and try again.",
        ),
    }
}

impl TokenStore {
    /// The store for the configured GitHub (keyed by the web host and port: github.com, a GHES host).
    pub fn for_config(config: &Config) -> TokenStore {
        TokenStore {
            service: format!("ghcr-desktop {}", super::web_host(config)),
        }
    }

    fn entry(&self, user: &str) -> Result<keyring::Entry> {
        keyring::Entry::new(&self.service, user).map_err(keyring_error)
    }

    pub fn accounts(&self) -> Result<Accounts> {
        match self.entry(INDEX_USER)?.get_password() {
            Ok(text) => Ok(serde_json::from_str(&text).unwrap_or_default()),
            Err(keyring::Error::NoEntry) => Ok(Accounts::default()),
            Err(error) => Err(keyring_error(error)),
        }
    }

    fn write_accounts(&self, accounts: &Accounts) -> Result<()> {
        let text = serde_json::to_string(accounts).unwrap_or_default();
        self.entry(INDEX_USER)?
            .set_password(&text)
            .map_err(keyring_error)
    }

    /// Saves `login`'s token and makes it the active account.
    pub fn save(&self, login: &str, token: &Secret) -> Result<()> {
        self.save_as(login, token, Activation::Always)
    }

    /// Saves `login`'s token; whether it becomes the active account is `activation`'s.
    pub fn save_as(&self, login: &str, token: &Secret, activation: Activation) -> Result<()> {
        self.entry(login)?
            .set_password(token.expose())
            .map_err(keyring_error)?;
        let mut accounts = self.accounts()?;
        if !accounts.logins.iter().any(|l| l == login) {
            accounts.logins.push(login.to_string());
        }
        if activation == Activation::Always || accounts.active.is_none() {
            accounts.active = Some(login.to_string());
        }
        self.write_accounts(&accounts)
    }

    pub fn load(&self, login: &str) -> Result<Option<Secret>> {
        match self.entry(login)?.get_password() {
            Ok(text) => Ok(Some(Secret::new(text))),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(error) => Err(keyring_error(error)),
        }
    }

    /// Makes a saved account the active one.
    pub fn switch(&self, login: &str) -> Result<()> {
        let mut accounts = self.accounts()?;
        if !accounts.logins.iter().any(|l| l == login) {
            return Err(Error::new(
                Code::TokenMissing,
                format!("No token is saved for {login}"),
                "Log in to that account first: ghcr login.",
            ));
        }
        accounts.active = Some(login.to_string());
        self.write_accounts(&accounts)
    }

    /// Deletes `login`'s token; another saved account becomes active if this one was.
    pub fn remove(&self, login: &str) -> Result<()> {
        match self.entry(login)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => {}
            Err(error) => return Err(keyring_error(error)),
        }
        let mut accounts = self.accounts()?;
        accounts.logins.retain(|l| l != login);
        if accounts.active.as_deref() == Some(login) {
            accounts.active = accounts.logins.first().cloned();
        }
        if accounts.logins.is_empty() {
            return match self.entry(INDEX_USER)?.delete_credential() {
                Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
                Err(error) => Err(keyring_error(error)),
            };
        }
        self.write_accounts(&accounts)
    }

    /// The token to use: `GHCR_TOKEN` if set, else the active account's from the keyring.
    pub fn token_in_use(&self) -> Result<(Source, Secret)> {
        if let Some(token) = environment_token() {
            return Ok((Source::Environment, token?));
        }
        let login = self.accounts()?.active.ok_or_else(not_logged_in)?;
        let token = self.load(&login)?.ok_or_else(not_logged_in)?;
        Ok((Source::Keyring, token))
    }
}
