//! The `ghcr` command line: the core's capabilities for terminals and scripts. Its contract (commands,
//! `--json` shapes, exit codes 0/1/2/3/4/5) is in DESIGN.md and the README; keep it stable.

/// `println!` that never panics: a closed stdout (`ghcr images | head -1`) only ends the output.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

mod cli;

use clap::{Parser, Subcommand, ValueEnum};
use ghcr::engine::Engine;
use ghcr::registry::PushCheck;
use ghcr::secret::Secret;
use ghcr::token::store::{environment_token, not_logged_in, Source};
use ghcr::token::{self, Account, TokenReport};
use ghcr::{Code, Config, Error};
use serde::Serialize;
use std::io::Read;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "ghcr",
    version,
    about = "Publish container images to GitHub Container Registry"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Show the container engine in use: socket, version, API version.
    Engine {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Tokens for ghcr.io.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Check a token, then keep it in the OS keyring (never in a file).
    Login {
        /// Read the token from standard input instead of prompting.
        #[arg(long)]
        token_stdin: bool,
    },
    /// Remove the active account's token (or LOGIN's) from the keyring.
    Logout {
        /// The account to remove; the active one by default.
        login: Option<String>,
    },
    /// Who the token in use belongs to, its scopes, and where it comes from (GHCR_TOKEN or keyring).
    Whoami {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// The engine's local images, one row per tag; untagged ones last.
    Images {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Give a local image a name for the registry, checked against the naming rules first.
    /// A TARGET without a registry host goes to the configured one (ghcr.io); no tag means latest.
    Tag {
        /// A local image: name[:tag] or image ID.
        source: String,
        /// The new name, e.g. ghcr.io/OWNER/NAME:TAG (OWNER in lowercase).
        target: String,
    },
    /// Push a local image, a `docker save` archive (.tar, .tar.gz) or an OCI layout (folder or .tar).
    Push {
        /// A local image (name[:tag] or ID), or the path of an archive or layout folder.
        source: String,
        /// Where to: ghcr.io/OWNER/NAME:TAG. Optional when SOURCE is a local image named so already.
        target: Option<String>,
        /// direct: GHCR Desktop uploads (parallel gzip; no engine needed for archives).
        /// engine: the engine uploads, as `docker push` does.
        #[arg(long, value_enum, default_value_t = ViaArg::Direct)]
        via: ViaArg,
        /// Connect the package to this repository (https://github.com/OWNER/REPO): adds the
        /// org.opencontainers.image.source label. Direct pushes only.
        #[arg(long)]
        source_repo: Option<String>,
        /// One JSON event per line on stdout instead of progress bars.
        #[arg(long)]
        json: bool,
    },
    /// Your container packages (or an organization's), with visibility, versions and repository.
    Packages {
        /// An organization's packages instead of your own.
        #[arg(long)]
        owner: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// A package's versions: digest, tags, created.
    Versions {
        name: String,
        #[arg(long)]
        owner: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// A package's visibility as GitHub reports it; --verify proves it with an anonymous pull.
    Visibility {
        name: String,
        #[arg(long)]
        owner: Option<String>,
        /// Pull the manifest anonymously: public must be served, private refused.
        #[arg(long)]
        verify: bool,
        #[arg(long)]
        json: bool,
    },
    /// Delete a package (NAME), or one version (NAME:TAG or NAME@DIGEST). GitHub keeps it restorable
    /// for 30 days. Needs delete:packages.
    Delete {
        target: String,
        #[arg(long)]
        owner: Option<String>,
    },
    /// Let the docker CLI use the keyring's token through docker-credential-ghcr-desktop: adds
    /// credHelpers for the registry to Docker's config.json and moves a plaintext token out of it.
    DockerSetup {
        /// Put config.json back as it was before the setup.
        #[arg(long)]
        undo: bool,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum ViaArg {
    Direct,
    Engine,
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Check a token (from GHCR_TOKEN, else standard input): kind, login, scopes, what is missing, and
    /// whether the registry accepts pushes. Exit code 3 when it can't push.
    Check {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match cli.command {
        Command::Engine { json } => finish(json, runtime.block_on(engine(json))),
        Command::Token {
            command: TokenCommand::Check { json },
        } => finish(json, runtime.block_on(token_check(json))),
        Command::Login { token_stdin } => finish(false, runtime.block_on(login(token_stdin))),
        Command::Logout { login } => finish(false, runtime.block_on(logout(login))),
        Command::Whoami { json } => finish(json, runtime.block_on(whoami(json))),
        Command::Images { json } => finish(json, runtime.block_on(images(json))),
        Command::Tag { source, target } => finish(false, runtime.block_on(tag(&source, &target))),
        Command::DockerSetup { undo } => finish(false, runtime.block_on(docker_setup(undo))),
        Command::Packages { owner, json } => {
            finish(json, runtime.block_on(cli::packages::list(owner, json)))
        }
        Command::Versions { name, owner, json } => finish(
            json,
            runtime.block_on(cli::packages::versions(&name, owner, json)),
        ),
        Command::Visibility {
            name,
            owner,
            verify,
            json,
        } => finish(
            json,
            runtime.block_on(cli::packages::visibility(&name, owner, verify, json)),
        ),
        Command::Delete { target, owner } => finish(
            false,
            runtime.block_on(cli::packages::delete(&target, owner)),
        ),
        Command::Push {
            source,
            target,
            via,
            source_repo,
            json,
        } => {
            let via = match via {
                ViaArg::Direct => ghcr::push::Via::Direct,
                ViaArg::Engine => ghcr::push::Via::Engine,
            };
            finish(
                json,
                runtime.block_on(push(&source, target.as_deref(), via, source_repo, json)),
            )
        }
    }
}

async fn docker_setup(undo: bool) -> Result<(), Failure> {
    use ghcr::docker_config;
    let config = Config::from_env()?;
    if undo {
        let path = docker_config::undo(&config)?;
        say!("Restored {} as it was before docker-setup.", path.display());
        return Ok(());
    }
    let done = docker_config::setup(&config).await?;
    if done.changes.is_empty() {
        say!(
            "{} already lets the docker CLI use the keyring for {}.",
            done.config.display(),
            config.registry
        );
    } else {
        say!("Changed {}:", done.config.display());
        for change in &done.changes {
            say!("  {change}");
        }
        say!("Undo with: ghcr docker-setup --undo");
    }
    match &done.login {
        Some(login) => say!(
            "docker push/pull for {} now use {login}'s token from the system keyring.",
            config.registry
        ),
        None => say!(
            "No token is saved yet: `docker login {}` now keeps it in the system keyring.",
            config.registry
        ),
    }
    Ok(())
}

async fn push(
    source: &str,
    target: Option<&str>,
    via: ghcr::push::Via,
    source_repo: Option<String>,
    json: bool,
) -> Result<(), Failure> {
    let config = Config::from_env()?;
    let request = cli::push::request(&config, source, target, via, source_repo)?;
    request.checked_target(&config)?;
    let credentials = token::push_credentials(&config).await?;
    let mut display = cli::push::Display::new(json);
    let pushed = ghcr::push::push(&config, &request, credentials, |snapshot| {
        display.show(snapshot)
    })
    .await?;
    display.finish(&pushed);
    Ok(())
}

async fn images(json: bool) -> Result<(), Failure> {
    let config = Config::from_env()?;
    let engine = Engine::connect(&config).await?;
    let rows = engine.local_images(&config.registry).await?;
    if json {
        print_json(&rows);
        return Ok(());
    }
    if rows.is_empty() {
        say!("No local images. Pull or build one, or push an archive with `ghcr push FILE.tar`.");
        return Ok(());
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default();
    let width = rows
        .iter()
        .map(|r| r.repository.len())
        .max()
        .unwrap_or(0)
        .max(10);
    let tag_width = rows.iter().map(|r| r.tag.len()).max().unwrap_or(0).max(3);
    say!(
        "{:width$}  {:tag_width$}  {:12}  {:14}  {:>8}",
        "REPOSITORY",
        "TAG",
        "IMAGE ID",
        "CREATED",
        "SIZE"
    );
    for row in &rows {
        let mark = if row.on_registry {
            format!("  on {}", config.registry)
        } else if let Some(translation) = &row.translation {
            format!("  old registry: now {}", translation.to)
        } else {
            String::new()
        };
        say!(
            "{:width$}  {:tag_width$}  {:12}  {:14}  {:>8}{mark}",
            row.repository,
            row.tag,
            row.short_id,
            relative_time(now - row.created),
            human_size(row.size),
        );
    }
    Ok(())
}

async fn tag(source: &str, target: &str) -> Result<(), Failure> {
    let config = Config::from_env()?;
    let target = ghcr::reference::tag_target(target, &config.registry).map_err(Error::from)?;
    let engine = Engine::connect(&config).await?;
    engine.tag(source, &target).await?;
    say!("Tagged {source} as {target}");
    Ok(())
}

/// "3 minutes ago", as `docker images` says it.
fn relative_time(seconds: i64) -> String {
    let seconds = seconds.max(0);
    let (n, unit) = match seconds {
        0..=59 => return "just now".into(),
        60..=3599 => (seconds / 60, "minute"),
        3600..=86_399 => (seconds / 3600, "hour"),
        86_400..=2_591_999 => (seconds / 86_400, "day"),
        2_592_000..=31_535_999 => (seconds / 2_592_000, "month"),
        _ => (seconds / 31_536_000, "year"),
    };
    format!("{n} {unit}{} ago", if n == 1 { "" } else { "s" })
}

/// Bytes in decimal units with three significant digits, as `docker images` shows them.
fn human_size(bytes: u64) -> String {
    let mut value = bytes as f64;
    for unit in ["B", "kB", "MB", "GB", "TB"] {
        if value < 999.5 {
            return if unit == "B" || value >= 99.95 {
                format!("{value:.0}{unit}")
            } else if value >= 9.995 {
                format!("{value:.1}{unit}")
            } else {
                format!("{value:.2}{unit}")
            };
        }
        value /= 1000.0;
    }
    format!("{value:.0}PB")
}

async fn login(token_stdin: bool) -> Result<(), Failure> {
    let config = Config::from_env()?;
    let secret = if token_stdin {
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

async fn logout(login: Option<String>) -> Result<(), Failure> {
    let config = Config::from_env()?;
    match token::remove_account(&config, login).await? {
        Some(login) => say!("Removed {login}'s token from the system keyring."),
        None => say!("Not logged in: nothing to remove."),
    }
    if std::env::var_os("GHCR_TOKEN").is_some() {
        say!("GHCR_TOKEN is still set in this environment and is used while it is.");
    }
    Ok(())
}

async fn whoami(json: bool) -> Result<(), Failure> {
    let config = Config::from_env()?;
    let Some(Account { source, report }) = token::account_in_use(&config).await? else {
        return Err(not_logged_in().into());
    };
    let from = match source {
        Source::Environment => "GHCR_TOKEN",
        Source::Keyring => "the system keyring",
    };
    if json {
        print_json(&serde_json::json!({ "source": source, "report": report }));
    } else {
        print_report(&report);
        say!("from {from}");
    }
    match report.problem() {
        Some(error) => Err(Failure { error, shown: json }),
        None => Ok(()),
    }
}

/// The token to work with: `GHCR_TOKEN`, else standard input.
fn given_token() -> Result<Secret, Error> {
    environment_token().unwrap_or_else(read_stdin_token)
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

async fn token_check(json: bool) -> Result<(), Failure> {
    let config = Config::from_env()?;
    let secret = given_token()?;
    let report = token::check(&config, &secret).await?;
    let problem = report.problem();
    if json {
        match &problem {
            None => print_json(&report),
            Some(error) => print_json(&serde_json::json!({
                "code": error.code, "message": error.message, "hint": error.hint, "report": report,
            })),
        }
    } else {
        print_report(&report);
    }
    match problem {
        // The JSON answer above already holds the error.
        Some(error) => Err(Failure { error, shown: json }),
        None => Ok(()),
    }
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
}

async fn engine(json: bool) -> Result<(), Failure> {
    let config = Config::from_env()?;
    let engine = Engine::connect(&config).await?;
    let info = engine.info();
    if json {
        print_json(info);
    } else {
        say!(
            "{} {} ({}/{})",
            info.product,
            info.version,
            info.os,
            info.arch
        );
        say!("socket  {} ({})", info.endpoint, info.origin.describe());
        say!(
            "API     {} (the engine offers up to {})",
            info.api_version,
            info.server_api_version
        );
    }
    Ok(())
}

fn print_json(value: &impl Serialize) {
    match serde_json::to_string(value) {
        Ok(text) => say!("{text}"),
        Err(error) => eprintln!("error: cannot write JSON: {error}"),
    }
}

/// How a command failed: the error, and whether its answer already showed it.
struct Failure {
    error: Error,
    shown: bool,
}

impl From<Error> for Failure {
    fn from(error: Error) -> Failure {
        Failure {
            error,
            shown: false,
        }
    }
}

/// Errors go to stderr as text, or to stdout as `{"code","message","hint"}` with `--json`; the exit code
/// comes from the error's code.
fn finish(json: bool, result: Result<(), Failure>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure { error, shown }) => {
            if !shown && json {
                print_json(&error);
            } else if !shown {
                eprintln!("error: {}", error.message);
                if !error.hint.is_empty() {
                    eprintln!("hint: {}", error.hint);
                }
            }
            ExitCode::from(u8::try_from(error.code.exit_code()).unwrap_or(1))
        }
    }
}
