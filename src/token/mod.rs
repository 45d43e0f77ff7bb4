//! Tokens: what a pasted token is, who it belongs to, which packages scopes it has and what is missing,
//! and whether the registry really lets it push — everything the Account view and `ghcr token check`
//! tell a person before the first push — and where a checked token is kept (`store`).

pub mod device_flow;
pub mod gh_cli;
pub mod kind;
pub mod scopes;
pub mod store;

use crate::config::Config;
use crate::error::{Code, Error, Result};
use crate::github::GitHub;
use crate::registry::session::Credentials;
use crate::registry::{check_push, PushCheck};
use crate::secret::Secret;
use kind::TokenKind;
use scopes::ScopeCheck;
use serde::Serialize;
use store::{Source, TokenStore};

/// Longer than any GitHub token (fine-grained ones are 93 characters).
const MAX_TOKEN_LENGTH: usize = 255;

/// Takes pasted text as a token: surrounding whitespace is dropped; empty, too long, or containing
/// spaces or non-ASCII characters inside is refused before anything is sent anywhere.
pub fn from_pasted(text: &str) -> Result<Secret> {
    let text = text.trim();
    if text.is_empty() {
        return Err(Error::new(
            Code::TokenEmpty,
            "No token was given",
            "Paste a classic personal access token (it starts with ghp_).",
        ));
    }
    if text.len() > MAX_TOKEN_LENGTH {
        return Err(Error::new(
            Code::TokenMalformed,
            format!(
                "That is {} characters: far longer than a GitHub token",
                text.len()
            ),
            "Copy only the token itself (40 characters, starting with ghp_).",
        ));
    }
    if !text.chars().all(|c| c.is_ascii_graphic()) {
        return Err(Error::new(
            Code::TokenMalformed,
            "That text has spaces or unusual characters inside, which a GitHub token never has",
            "Copy only the token itself (40 characters, starting with ghp_).",
        ));
    }
    Ok(Secret::new(text.to_string()))
}

/// What GHCR Desktop knows about a token after checking it. Holds no secret, only its hint.
#[derive(Debug, Clone, Serialize)]
pub struct TokenReport {
    pub kind: TokenKind,
    pub kind_text: &'static str,
    /// The masked token, `ghp_…x7Qa`.
    pub hint: String,
    pub login: String,
    pub scopes: Vec<String>,
    pub scope_check: ScopeCheck,
    pub push: PushCheck,
    /// When the token expires, from GitHub's `GitHub-Authentication-Token-Expiration`; `None` for one
    /// that never does.
    pub expiry: Option<Expiry>,
}

/// A token's expiry, with the warning GHCR Desktop gives in its last week.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Expiry {
    /// Unix seconds.
    pub at: i64,
    /// Whole days left (0 on its last day).
    pub days_left: i64,
    /// Under 7 days left: Account and the status bar say so.
    pub soon: bool,
}

/// Days of warning before a token expires.
pub const EXPIRY_WARNING_DAYS: i64 = 7;

impl Expiry {
    pub fn at(at: i64, now: i64) -> Expiry {
        let left = at.saturating_sub(now).max(0);
        Expiry {
            at,
            days_left: left / 86_400,
            soon: left < EXPIRY_WARNING_DAYS * 86_400,
        }
    }

    /// "expires 2026-12-03 (in 3 days)", for the CLI.
    pub fn describe(&self) -> String {
        let date = time::OffsetDateTime::from_unix_timestamp(self.at)
            .map(|at| at.date().to_string())
            .unwrap_or_default();
        match self.days_left {
            0 => format!("expires {date} (today)"),
            1 => format!("expires {date} (tomorrow)"),
            n => format!("expires {date} (in {n} days)"),
        }
    }
}

impl TokenReport {
    /// What keeps this token from pushing, as an error a person can act on; `None` if it can push.
    pub fn problem(&self) -> Option<Error> {
        let required = self.scope_check.missing.iter().filter(|m| m.required);
        // Lead with write:packages, the one pushing needs.
        let first = required.clone().find(|m| m.scope == scopes::WRITE);
        if let Some(missing) = first.or_else(|| required.clone().next()) {
            return Some(
                Error::new(
                    Code::TokenMissingScope,
                    format!(
                        "This token lacks {}: GHCR Desktop can't {} without it",
                        missing.scope, missing.blocks
                    ),
                    format!(
                        "Create a replacement classic token with {}.",
                        self.scope_check.replacement_scopes().join(", ")
                    ),
                )
                .arg("scope", missing.scope),
            );
        }
        if let PushCheck::Denied {
            repository,
            message,
        } = &self.push
        {
            return Some(Error::new(
                Code::RegistryDenied,
                format!("The registry refuses pushes to {repository}: {message}"),
                "The scopes look right, but the registry says no: check that the token's account may publish there (org membership, SSO authorization).",
            ));
        }
        None
    }
}

/// Checks a token against GitHub and the registry: kind, login, scopes, and push rights to the
/// account's own namespace.
pub async fn check(config: &Config, token: &Secret) -> Result<TokenReport> {
    let kind = TokenKind::of(token.expose());
    if !kind.works_with_ghcr() {
        return Err(Error::new(
            Code::TokenUnsupportedKind,
            format!(
                "This is a {}, which ghcr.io does not accept",
                kind.describe()
            ),
            format!(
                "{} Create a classic token with write:packages instead.",
                kind.why_not()
            ),
        ));
    }
    let user = GitHub::new(config)?.authenticated_user(token).await?;
    let scopes = user.scopes.unwrap_or_default();
    let scope_check = ScopeCheck::of(&scopes);
    let push = if scope_check.write {
        check_push(config, &user.login, &user.login, token).await?
    } else {
        PushCheck::NotChecked {
            reason: "the token lacks write:packages".into(),
        }
    };
    Ok(TokenReport {
        kind,
        kind_text: kind.describe(),
        hint: token.hint(),
        login: user.login,
        scopes,
        scope_check,
        push,
        expiry: user
            .expires_at
            .map(|at| Expiry::at(at, time::OffsetDateTime::now_utc().unix_timestamp())),
    })
}

/// The configured GitHub web host as `host` or `host:port`: the key of its keyring entries and gh's name
/// for it.
pub fn web_host(config: &Config) -> String {
    let host = config.web_url.host_str().unwrap_or_default();
    match config.web_url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_string(),
    }
}

/// The GitHub CLI's token for the configured host, checked; with the exact command that adds what the
/// token lacks. `None` when gh is not installed or not signed in there.
#[derive(Debug, Clone, Serialize)]
pub struct GhCliToken {
    pub report: TokenReport,
    /// `gh auth refresh -h HOST -s write:packages`, when the token can't push.
    pub refresh_command: Option<String>,
}

pub async fn check_gh_cli_token(config: &Config, gh: &gh_cli::GhCli) -> Result<Option<GhCliToken>> {
    let Some(secret) = gh.token(config).await? else {
        return Ok(None);
    };
    let report = check(config, &secret).await?;
    // write:packages implies read:packages, so it is the one scope to add.
    let refresh_command =
        (!report.scope_check.write).then(|| gh_cli::refresh_command(config, &[scopes::WRITE]));
    Ok(Some(GhCliToken {
        report,
        refresh_command,
    }))
}

/// Saves the GitHub CLI's token like a pasted one (checked first; refused if it can't push).
pub async fn save_gh_cli_token(config: &Config, gh: &gh_cli::GhCli) -> Result<Account> {
    match gh.token(config).await? {
        Some(secret) => save(config, secret).await,
        None => Err(Error::new(
            Code::TokenMissing,
            "The GitHub CLI has no token for this host",
            "Sign in with `gh auth login`, or paste a token instead.",
        )),
    }
}

/// GitHub's page for a new classic token, with the scopes GHCR Desktop needs ticked and a note naming
/// this machine (FACTS: `?scopes=` and `?description=` prefill the form).
pub fn new_token_url(config: &Config, include_delete: bool, machine: &str) -> String {
    let mut scopes = vec![scopes::WRITE, scopes::READ];
    if include_delete {
        scopes.push(scopes::DELETE);
    }
    let mut url = config.web_url.clone();
    url.set_path("/settings/tokens/new");
    url.query_pairs_mut()
        .append_pair("scopes", &scopes.join(","))
        .append_pair("description", &format!("GHCR Desktop ({machine})"));
    url.to_string()
}

/// This machine's name, for the new token's note ("GHCR Desktop (laptop)").
pub fn this_machine() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|name| name.trim().to_string())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "this computer".to_string())
}

/// The account in use: where its token comes from, and what a fresh check says of it.
#[derive(Debug, Clone, Serialize)]
pub struct Account {
    pub source: Source,
    pub report: TokenReport,
}

/// Runs a blocking keyring call off the async runtime's threads.
pub(crate) async fn off_runtime<T: Send + 'static>(
    call: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(call).await.unwrap_or_else(|_| {
        Err(Error::new(
            Code::KeyringUnavailable,
            "The keyring call did not finish",
            "Try again.",
        ))
    })
}

/// The token in use (`GHCR_TOKEN`, else the keyring's active account), checked; `None` when not
/// logged in. A token that stopped working is an error (`token.invalid`), never a silent `None`.
pub async fn account_in_use(config: &Config) -> Result<Option<Account>> {
    let store = TokenStore::for_config(config);
    let found = off_runtime(move || match store.token_in_use() {
        Ok(found) => Ok(Some(found)),
        Err(error) if error.code == Code::TokenMissing => Ok(None),
        Err(error) => Err(error),
    })
    .await?;
    let Some((source, secret)) = found else {
        return Ok(None);
    };
    let report = check(config, &secret).await?;
    Ok(Some(Account { source, report }))
}

/// The token in use (`GHCR_TOKEN`, else the keyring's active account), unchecked.
pub async fn token_in_use(config: &Config) -> Result<Secret> {
    let store = TokenStore::for_config(config);
    off_runtime(move || store.token_in_use())
        .await
        .map(|(_, token)| token)
}

/// What a push sends to the registry's token service: the token in use and its login (from
/// `GET /user`, which also fails early, with `token.invalid`, for a revoked token).
pub async fn push_credentials(config: &Config) -> Result<Credentials> {
    let store = TokenStore::for_config(config);
    let (_, token) = off_runtime(move || store.token_in_use()).await?;
    let user = GitHub::new(config)?.authenticated_user(&token).await?;
    Ok(Credentials {
        login: user.login,
        token,
    })
}

/// Whom images can be pushed for: the token's login and the orgs it belongs to (the owner chooser).
#[derive(Debug, Clone, Serialize)]
pub struct Owners {
    pub login: String,
    pub orgs: Vec<String>,
}

/// The owners the token in use can push for (`GET /user`, `GET /user/orgs`).
pub async fn owners(config: &Config) -> Result<Owners> {
    let store = TokenStore::for_config(config);
    let (_, secret) = off_runtime(move || store.token_in_use()).await?;
    let github = GitHub::new(config)?;
    let user = github.authenticated_user(&secret).await?;
    let orgs = github.organizations(&secret).await?;
    Ok(Owners {
        login: user.login,
        orgs,
    })
}

/// Checks a token and, if it can push, keeps it in the keyring as the active account. A token that
/// can't push is refused with the reason, and nothing is saved.
pub async fn save(config: &Config, secret: Secret) -> Result<Account> {
    save_as(config, secret, store::Activation::Always).await
}

/// `save`, the account becoming the one in use as `activation` says.
pub async fn save_as(
    config: &Config,
    secret: Secret,
    activation: store::Activation,
) -> Result<Account> {
    let report = check(config, &secret).await?;
    if let Some(problem) = report.problem() {
        return Err(problem);
    }
    let store = TokenStore::for_config(config);
    let login = report.login.clone();
    off_runtime(move || store.save_as(&login, &secret, activation)).await?;
    Ok(Account {
        source: Source::Keyring,
        report,
    })
}

/// The saved accounts of the configured GitHub.
pub async fn accounts(config: &Config) -> Result<store::Accounts> {
    let store = TokenStore::for_config(config);
    off_runtime(move || store.accounts()).await
}

pub async fn switch_account(config: &Config, login: String) -> Result<store::Accounts> {
    let store = TokenStore::for_config(config);
    off_runtime(move || {
        store.switch(&login)?;
        store.accounts()
    })
    .await
}

/// Removes `login`'s token (the active account's if `None`); returns who was removed.
pub async fn remove_account(config: &Config, login: Option<String>) -> Result<Option<String>> {
    let store = TokenStore::for_config(config);
    off_runtime(move || {
        let login = match login {
            Some(login) => Some(login),
            None => store.accounts()?.active,
        };
        if let Some(login) = &login {
            store.remove(login)?;
        }
        Ok(login)
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_new_token_page_is_prefilled_with_scopes_and_a_note() {
        let url = new_token_url(&Config::github_com(), false, "my laptop");
        assert_eq!(
            url,
            "https://github.com/settings/tokens/new?scopes=write%3Apackages%2Cread%3Apackages&description=GHCR+Desktop+%28my+laptop%29"
        );
        let url = new_token_url(&Config::github_com(), true, "x");
        assert!(url.contains("scopes=write%3Apackages%2Cread%3Apackages%2Cdelete%3Apackages"));
    }

    #[test]
    fn a_token_warns_in_its_last_week_and_counts_whole_days() {
        let now = 1_800_000_000;
        let three_days = Expiry::at(now + 3 * 86_400 + 60, now);
        assert_eq!((three_days.days_left, three_days.soon), (3, true));
        let eight_days = Expiry::at(now + 8 * 86_400, now);
        assert_eq!((eight_days.days_left, eight_days.soon), (8, false));
        let past = Expiry::at(now - 10, now);
        assert_eq!((past.days_left, past.soon), (0, true));
        assert_eq!(
            Expiry::at(1_796_256_000, 1_796_256_000 - 3 * 86_400 - 5).describe(),
            "expires 2026-12-03 (in 3 days)"
        );
    }

    #[test]
    fn pasted_tokens_are_trimmed() {
        let secret = from_pasted("  ghp_abcdefghijklmnopqrstuvwxyz0123456789\n").unwrap();
        assert_eq!(secret.expose(), "ghp_abcdefghijklmnopqrstuvwxyz0123456789");
    }

    #[test]
    fn empty_long_and_spaced_pastes_are_refused_with_codes() {
        assert_eq!(from_pasted("").unwrap_err().code, Code::TokenEmpty);
        assert_eq!(from_pasted(" \n\t ").unwrap_err().code, Code::TokenEmpty);
        let huge = "a".repeat(10 * 1024 * 1024);
        let error = from_pasted(&huge).unwrap_err();
        assert_eq!(error.code, Code::TokenMalformed);
        assert!(
            error.message.len() < 200,
            "the message does not echo the paste"
        );
        for spaced_or_foreign in ["ghp_abc def", "ghp_abcé"] {
            let error = from_pasted(spaced_or_foreign).unwrap_err();
            assert_eq!(error.code, Code::TokenMalformed, "{spaced_or_foreign:?}");
        }
    }

    #[test]
    fn errors_never_contain_the_pasted_text() {
        let error = from_pasted("ghp_secret value").unwrap_err();
        assert!(!error.to_string().contains("secret"));
    }
}
