//! With the test stack's dockerd stopped: the CLI and the core say clearly that no engine answers,
//! quickly, with exit code 4 and no panic. Ignored in the normal run; tests/run.sh stops the stack's
//! dockerd and then runs these with `--ignored`.

mod common;

use ghcr::engine::Engine;
use ghcr::{Code, Config};
use std::process::Command;
use std::time::{Duration, Instant};

#[test]
#[ignore = "needs the stack's dockerd stopped (tests/run.sh does that)"]
fn ghcr_engine_reports_the_stopped_engine_with_exit_4_within_5_seconds() {
    let docker_host = common::stack("DOCKER_HOST");
    let started = Instant::now();
    let output = Command::new(env!("CARGO_BIN_EXE_ghcr"))
        .arg("engine")
        .env("DOCKER_HOST", &docker_host)
        .output()
        .expect("ghcr runs");
    let took = started.elapsed();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(4), "{stderr}");
    assert!(
        stderr.starts_with(&format!(
            "error: No container engine answers at {docker_host}"
        )),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(took < Duration::from_secs(5), "took {took:?}");
}

#[tokio::test]
#[ignore = "needs the stack's dockerd stopped (tests/run.sh does that)"]
async fn connecting_to_the_stopped_engine_fails_as_unreachable() {
    let config = Config {
        docker_host: Some(common::stack("DOCKER_HOST")),
        ..Config::github_com()
    };
    let error = Engine::connect(&config).await.unwrap_err();
    assert_eq!(error.code, Code::EngineUnreachable);
}
