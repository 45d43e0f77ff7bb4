//! The `ghcr` command line: the core's capabilities for terminals and scripts. Its contract (commands,
//! `--json` shapes, exit codes 0/1/2/3/4/5) is in DESIGN.md and the README; keep it stable.

use clap::{Parser, Subcommand};
use ghcr::engine::Engine;
use ghcr::{Config, Error};
use serde::Serialize;
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
    }
}

async fn engine(json: bool) -> Result<(), Error> {
    let config = Config::from_env()?;
    let engine = Engine::connect(&config).await?;
    let info = engine.info();
    if json {
        print_json(info);
    } else {
        println!(
            "{} {} ({}/{})",
            info.product, info.version, info.os, info.arch
        );
        println!("socket  {} ({})", info.endpoint, info.origin.describe());
        println!(
            "API     {} (the engine offers up to {})",
            info.api_version, info.server_api_version
        );
    }
    Ok(())
}

fn print_json(value: &impl Serialize) {
    match serde_json::to_string(value) {
        Ok(text) => println!("{text}"),
        Err(error) => eprintln!("error: cannot write JSON: {error}"),
    }
}

/// Errors go to stderr as text, or to stdout as `{"code","message","hint"}` with `--json`; the exit code
/// comes from the error's code.
fn finish(json: bool, result: Result<(), Error>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            if json {
                print_json(&error);
            } else {
                eprintln!("error: {}", error.message);
                if !error.hint.is_empty() {
                    eprintln!("hint: {}", error.hint);
                }
            }
            ExitCode::from(u8::try_from(error.code.exit_code()).unwrap_or(1))
        }
    }
}
