//! `ghcr token check`, `ghcr login`, `ghcr logout` and `ghcr whoami`: a token checked (kind, login,
//! scopes, whether the registry takes a push), kept in or removed from the OS keyring, and the one in
//! use shown with where it comes from.

use super::{Failure, Output};
use clap::{Args, Subcommand};
use ghcr::registry::PushCheck;
use ghcr::secret::Secret;
use ghcr::token::store::{environment_token, not_logged_in, Source};
use ghcr::token::{self, Account, TokenReport};
use ghcr::{Code, Config, Error};
use std::io::Read;

#[derive(Subcommand)]
pub enum TokenCommand {
    /// Check a token (from GHCR_TOKEN, else standard input): kind, login, scopes, what is missing, and
    /// whether the registry accepts pushes. Exit code 3 when it can't push.
    Check,
}

impl TokenCommand {
    pub async fn run(self, out: Output) -> Result<(), Failure> {
        match self {
            TokenCommand::Check => check(out).await,
        }
    }
}

async fn check(out: Output) -> Result<(), Failure> {
    let config = Config::from_env()?;
    let secret = environment_token().unwrap_or_else(read_stdin_token)?;
    let report = token::check(&config, &secret).await?;
    let problem = report.problem();
    if out.json {
        match &problem {
            None => out.print_json(&report),
            Some(error) => out.print_json(&serde_json::json!({
                "code": error.code, "message": error.message, "hint": error.hint, "report": report,
            })),
        }
    } else {
        print_report(&report);
    }
    match problem {
        // The JSON answer above already holds the error.
        Some(error) => Err(Failure::shown_if(error, out.json)),
        None => Ok(()),
    }
}

#[derive(Args)]
pub struct Login {
    /// Read the token from standard input instead of prompting.
    #[arg(long)]
    token_stdin: bool,
}

impl Login {
    pub async fn run(self) -> Result<(), Failure> {
        let config = Config::from_env()?;
        let secret = if self.token_stdin {
            read_stdin_token()?
        } else {
            let text = rpassword::prompt_password("Paste a classic token with write:packages: ")
                .map_err(|_| {
                    Error::new(
                        Code::TokenEmpty,
                        "No terminal to read the token from",
                        "Pipe it in: ghcr login --token-stdin < token.txt",
                    )
                })?;
            token::from_pasted(&text)?
        };
        let account = token::save(&config, secret).await?;
        say!(
            "Logged in as {} ({}); the token is in the system keyring.",
            account.report.login,
            account.report.hint
        );
        Ok(())
    }
}

#[derive(Args)]
pub struct Logout {
    /// The account to remove; the active one by default.
    login: Option<String>,
}

impl Logout {
    pub async fn run(self) -> Result<(), Failure> {
        let config = Config::from_env()?;
        match token::remove_account(&config, self.login).await? {
            Some(login) => say!("Removed {login}'s token from the system keyring."),
            None => say!("Not logged in: nothing to remove."),
        }
        if std::env::var_os("GHCR_TOKEN").is_some() {
            say!("GHCR_TOKEN is still set in this environment and is used while it is.");
        }
        Ok(())
    }
}

#[derive(Args)]
pub struct Whoami {}

impl Whoami {
    pub async fn run(self, out: Output) -> Result<(), Failure> {
        let config = Config::from_env()?;
        let Some(Account { source, report }) = token::account_in_use(&config).await? else {
            return Err(not_logged_in().into());
        };
        if out.json {
            out.print_json(&serde_json::json!({ "source": source, "report": report }));
        } else {
            print_report(&report);
            say!(
                "from {}",
                match source {
                    Source::Environment => "GHCR_TOKEN",
                    Source::Keyring => "the system keyring",
                }
            );
        }
        match report.problem() {
            Some(error) => Err(Failure::shown_if(error, out.json)),
            None => Ok(()),
        }
    }
}

/// A token from standard input (at most 16 MiB are read).
fn read_stdin_token() -> Result<Secret, Error> {
    let mut text = String::new();
    std::io::stdin()
        .take(16 << 20)
        .read_to_string(&mut text)
        .map_err(|_| {
            Error::new(
                Code::TokenMalformed,
                "Standard input is not text",
                "Pipe the token in: `ghcr token check < token.txt`, or set GHCR_TOKEN.",
            )
        })?;
    token::from_pasted(&text)
}

fn print_report(report: &TokenReport) {
    say!("{} · {} ({})", report.login, report.kind_text, report.hint);
    let check = &report.scope_check;
    for (scope, has) in [
        ("read:packages", check.read),
        ("write:packages", check.write),
        ("delete:packages", check.delete),
    ] {
        let blocks = check
            .missing
            .iter()
            .find(|m| m.scope == scope)
            .map(|m| format!("   can't {} without it", m.blocks))
            .unwrap_or_default();
        say!("  {} {scope}{blocks}", if has { "✓" } else { "✗" });
    }
    match &report.push {
        PushCheck::Allowed { repository } => {
            say!("push: ✓ the registry accepts pushes ({repository})")
        }
        PushCheck::Denied {
            repository,
            message,
        } => say!("push: ✗ {repository}: {message}"),
        PushCheck::NotChecked { reason } => say!("push: not checked ({reason})"),
    }
    if let Some(expiry) = &report.expiry {
        let warning = if expiry.soon {
            " ⚠ create a replacement before then"
        } else {
            ""
        };
        say!("token: {}{warning}", expiry.describe());
    }
}
