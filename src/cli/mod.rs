//! The `ghcr` command line (the binary only; the library never sees it): the commands, one file per
//! group, each with its arguments and its `run`; here the global `--json`, the async runtime, and how a
//! failure is shown and turned into the exit code.

/// `println!` that never panics: a closed stdout (`ghcr images | head -1`) only ends the output.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

mod docker;
mod engine;
mod images;
mod packages;
mod push;
mod token;

use clap::{Parser, Subcommand};
use ghcr::Error;
use serde::Serialize;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "ghcr",
    version,
    about = "Publish container images to GitHub Container Registry"
)]
pub struct Cli {
    /// Print JSON instead of text (errors as {"code","message","hint"} on stdout).
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Show the container engine in use: socket, version, API version.
    Engine(engine::Show),
    /// Tokens for ghcr.io.
    Token {
        #[command(subcommand)]
        command: token::TokenCommand,
    },
    /// Check a token, then keep it in the OS keyring (never in a file).
    Login(token::Login),
    /// Remove the active account's token (or LOGIN's) from the keyring.
    Logout(token::Logout),
    /// Who the token in use belongs to, its scopes, and where it comes from (GHCR_TOKEN or keyring).
    Whoami(token::Whoami),
    /// The engine's local images, one row per tag; untagged ones last.
    Images(images::List),
    /// Give a local image a name for the registry, checked against the naming rules first.
    /// A TARGET without a registry host goes to the configured one (ghcr.io); no tag means latest.
    Tag(images::Tag),
    /// Push a local image, a `docker save` archive (.tar, .tar.gz) or an OCI layout (folder or .tar).
    Push(push::Push),
    /// Your container packages (or an organization's), with visibility, versions and repository.
    Packages(packages::List),
    /// A package's versions: digest, tags, created.
    Versions(packages::Versions),
    /// A package's visibility as GitHub reports it; --verify proves it with an anonymous pull.
    Visibility(packages::Visibility),
    /// Delete a package (NAME), or one version (NAME:TAG or NAME@DIGEST). GitHub keeps it restorable
    /// for 30 days. Needs delete:packages.
    Delete(packages::Delete),
    /// Let the docker CLI use the keyring's token through docker-credential-ghcr-desktop: adds
    /// credHelpers for the registry to Docker's config.json and moves a plaintext token out of it.
    DockerSetup(docker::Setup),
}

/// How a command answers: text for people, or JSON for scripts.
#[derive(Clone, Copy)]
pub struct Output {
    pub json: bool,
}

impl Output {
    /// Prints `value` as one line of JSON.
    pub fn print_json(&self, value: &impl Serialize) {
        match serde_json::to_string(value) {
            Ok(text) => say!("{text}"),
            Err(error) => eprintln!("error: cannot write JSON: {error}"),
        }
    }
}

impl Cli {
    /// Runs the command and gives the exit code its outcome calls for.
    pub fn run(self) -> ExitCode {
        let out = Output { json: self.json };
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
        let result = runtime.block_on(async move {
            match self.command {
                Command::Engine(command) => command.run(out).await,
                Command::Token { command } => command.run(out).await,
                Command::Login(command) => command.run().await,
                Command::Logout(command) => command.run().await,
                Command::Whoami(command) => command.run(out).await,
                Command::Images(command) => command.run(out).await,
                Command::Tag(command) => command.run().await,
                Command::Push(command) => command.run(out).await,
                Command::Packages(command) => command.run(out).await,
                Command::Versions(command) => command.run(out).await,
                Command::Visibility(command) => command.run(out).await,
                Command::Delete(command) => command.run().await,
                Command::DockerSetup(command) => command.run().await,
            }
        });
        finish(out, result)
    }
}

/// The environment's settings and the engine they point at.
async fn engine() -> Result<(ghcr::Config, ghcr::engine::Engine), Failure> {
    let config = ghcr::Config::from_env()?;
    let engine = ghcr::engine::Engine::connect(&config).await?;
    Ok((config, engine))
}

/// The width of a text column: its widest cell, or its heading when that is wider.
fn column_width<'a>(cells: impl Iterator<Item = &'a str>, heading: &str) -> usize {
    cells.map(str::len).max().unwrap_or(0).max(heading.len())
}

/// How a command failed: the error, and whether its answer already showed it.
pub struct Failure {
    error: Error,
    shown: bool,
}

impl Failure {
    /// A failure whose JSON answer (`--json`) already holds the error.
    pub fn shown_if(error: Error, json: bool) -> Failure {
        Failure { error, shown: json }
    }
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
fn finish(out: Output, result: Result<(), Failure>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure { error, shown }) => {
            if !shown && out.json {
                out.print_json(&error);
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
