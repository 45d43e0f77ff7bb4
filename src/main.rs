//! The `ghcr` command line: the core's capabilities for terminals and scripts. Its contract (commands,
//! `--json` shapes, exit codes 0/1/2/3/4/5) is in DESIGN.md and the README; the commands are in `cli/`.

mod cli;

use clap::Parser;

fn main() -> std::process::ExitCode {
    cli::Cli::parse().run()
}
