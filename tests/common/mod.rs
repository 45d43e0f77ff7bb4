//! Shared by the core's integration tests: the test stack's addresses (from target/stack/env, exported by
//! tests/run.sh) and the real docker CLI, used as the independent witness of what the engine holds.
#![allow(dead_code)] // each test binary uses its own part of this module

use std::process::Command;

/// A variable the test stack exports; tests fail (not skip) without the stack.
pub fn stack(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!(
            "{name} is not set: these tests need the test stack. Run `make test`, or \
             `tests/stack/stack.sh start && . target/stack/env` first."
        )
    })
}

/// Runs the docker CLI against the stack's engine and returns its stdout.
pub fn docker(args: &[&str]) -> String {
    let output = Command::new("docker")
        .args(args)
        .env("DOCKER_HOST", stack("DOCKER_HOST"))
        .output()
        .expect("the docker CLI runs");
    assert!(
        output.status.success(),
        "docker {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

/// The stack engine's version and API version as the docker CLI reports them: ("20.10.24+dfsg1", "1.41").
pub fn docker_server_version() -> (String, String) {
    let text = docker(&[
        "version",
        "--format",
        "{{.Server.Version}} {{.Server.APIVersion}}",
    ]);
    let (version, api) = text.split_once(' ').expect("version and API version");
    (version.to_string(), api.to_string())
}
