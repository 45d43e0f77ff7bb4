//! `docker-credential-ghcr-desktop`: Docker's credential helper backed by GHCR Desktop's keyring entry,
//! so `docker push`/`pull`/`login`/`logout` for the registry never need a plaintext token in
//! config.json. Install it on PATH and run `ghcr docker-setup`. The protocol is in `credential_helper`.

use ghcr::credential_helper::{run, Answer, MAX_INPUT};
use ghcr::Config;
use std::io::{Read, Write};
use std::process::ExitCode;
use std::time::Duration;

/// Docker writes the request and closes stdin at once; a terminal left open is not waited on forever.
const INPUT_PATIENCE: Duration = Duration::from_secs(10);

fn read_stdin() -> Vec<u8> {
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut input = Vec::new();
        let _ = std::io::stdin()
            .take(MAX_INPUT as u64 + 1)
            .read_to_end(&mut input);
        let _ = sender.send(input);
    });
    receiver.recv_timeout(INPUT_PATIENCE).unwrap_or_default()
}

fn main() -> ExitCode {
    let command = std::env::args().nth(1).unwrap_or_default();
    let input = if matches!(command.as_str(), "get" | "store" | "erase") {
        read_stdin()
    } else {
        Vec::new()
    };
    let answer = match Config::from_env() {
        Err(error) => Answer::Failed(error.message),
        Ok(config) => match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(runtime) => runtime.block_on(run(&config, &command, &input)),
            Err(error) => Answer::Failed(format!("cannot start: {error}")),
        },
    };
    let (text, code) = match answer {
        Answer::Ok(text) => (text, ExitCode::SUCCESS),
        Answer::Failed(text) => (text, ExitCode::FAILURE),
    };
    let mut stdout = std::io::stdout();
    if !text.is_empty() {
        let _ = writeln!(stdout, "{text}");
    }
    let _ = stdout.flush();
    code
}
