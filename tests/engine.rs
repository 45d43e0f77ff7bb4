//! The engine module against the test stack's real dockerd (over its socket, and over TCP), and against
//! sockets where no engine is: nothing there, a stale socket, a peer that never answers, a non-engine.

mod common;

use ghcr::engine::discovery::{Endpoint, Origin};
use ghcr::engine::version::{ApiVersion, NEWEST_KNOWN};
use ghcr::engine::{Engine, ImageStore};
use ghcr::{Code, Config};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, UnixListener, UnixStream};

fn config_with_docker_host(docker_host: &str) -> Config {
    Config {
        docker_host: Some(docker_host.to_string()),
        ..Config::github_com()
    }
}

#[tokio::test]
async fn reports_the_version_the_docker_cli_sees_on_the_stack_engine() {
    let docker_host = common::stack("DOCKER_HOST");
    let engine = Engine::connect(&config_with_docker_host(&docker_host))
        .await
        .expect("the stack's dockerd answers");
    let (version, api) = common::docker_server_version();
    let info = engine.info();
    assert_eq!(info.version, version);
    assert_eq!(info.server_api_version, api);
    let store = common::store_under_test();
    let product = if store == ImageStore::Podman {
        "Podman"
    } else {
        "Docker Engine"
    };
    assert_eq!((info.product.as_str(), info.image_store), (product, store));
    assert_eq!(info.endpoint, docker_host);
    assert_eq!(info.origin, Origin::DockerHost);
    assert_eq!(info.os, "linux");
}

#[tokio::test]
async fn speaks_the_newest_api_version_both_sides_know() {
    let engine = Engine::connect(&config_with_docker_host(&common::stack("DOCKER_HOST")))
        .await
        .expect("the stack's dockerd answers");
    let (_, server_api) = common::docker_server_version();
    let expected = ApiVersion::parse(&server_api).unwrap().min(NEWEST_KNOWN);
    assert_eq!(engine.api_version(), expected);
    assert_eq!(engine.info().api_version, expected.to_string());
    // Debian 12's dockerd offers 1.41, older than this build's newest: the negotiation went down.
    assert!(
        engine.api_version() < NEWEST_KNOWN,
        "{}",
        engine.api_version()
    );
}

#[tokio::test]
async fn reaches_the_engine_over_tcp_docker_host() {
    // A TCP port that forwards to the real engine's socket, as `dockerd -H tcp://…` would offer.
    let socket = common::stack("DOCKER_HOST")
        .strip_prefix("unix://")
        .unwrap()
        .to_string();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut tcp, _)) = listener.accept().await {
            let socket = socket.clone();
            tokio::spawn(async move {
                if let Ok(mut unix) = UnixStream::connect(&socket).await {
                    let _ = tokio::io::copy_bidirectional(&mut tcp, &mut unix).await;
                }
            });
        }
    });
    let engine = Engine::connect(&config_with_docker_host(&format!("tcp://127.0.0.1:{port}")))
        .await
        .expect("the engine answers through TCP");
    assert_eq!(
        engine.endpoint(),
        &Endpoint::Tcp {
            host: "127.0.0.1".into(),
            port
        }
    );
    assert_eq!(engine.info().version, common::docker_server_version().0);
}

#[tokio::test]
async fn a_missing_socket_is_unreachable_with_a_hint() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("docker.sock");
    let error = Engine::connect(&config_with_docker_host(&format!(
        "unix://{}",
        socket.display()
    )))
    .await
    .unwrap_err();
    assert_eq!(error.code, Code::EngineUnreachable);
    assert!(
        error.message.contains(&socket.display().to_string()),
        "{error}"
    );
    assert!(error.message.contains("no socket there"), "{error}");
    assert!(error.hint.contains("unset DOCKER_HOST"), "{error}");
}

#[tokio::test]
async fn a_stale_socket_left_by_a_stopped_engine_is_unreachable() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("docker.sock");
    drop(UnixListener::bind(&socket).unwrap()); // the file stays, nothing listens
    assert!(socket.exists());
    let error = Engine::connect(&config_with_docker_host(&format!(
        "unix://{}",
        socket.display()
    )))
    .await
    .unwrap_err();
    assert_eq!(error.code, Code::EngineUnreachable);
    assert!(error.message.contains("connection refused"), "{error}");
}

#[tokio::test]
async fn an_engine_that_never_answers_is_given_up_on_within_5_seconds() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("hung.sock");
    let listener = UnixListener::bind(&socket).unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream); // accept, read nothing, answer nothing
        }
    });
    let started = Instant::now();
    let error = Engine::connect(&config_with_docker_host(&format!(
        "unix://{}",
        socket.display()
    )))
    .await
    .unwrap_err();
    let took = started.elapsed();
    assert_eq!(error.code, Code::EngineUnreachable);
    assert!(error.message.contains("no answer within"), "{error}");
    // The message proves the 2 s timeout fired; the time is only a guard against a hang.
    assert!(took < Duration::from_secs(20), "took {took:?}");
}

#[tokio::test]
async fn a_busy_engine_that_pings_at_once_but_takes_3_seconds_to_say_its_version_is_connected() {
    // Podman runs conmon and runc for /version; with other work on its store it took over 2 s, the
    // ping's limit, and was called unreachable (make flaky). Once the ping answers, it is there.
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("busy.sock");
    let listener = UnixListener::bind(&socket).unwrap();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buffer = [0u8; 4096];
                let read = stream.read(&mut buffer).await.unwrap_or(0);
                let request = String::from_utf8_lossy(&buffer[..read]).to_string();
                let body = if request.starts_with("GET /_ping") {
                    "OK".to_string()
                } else {
                    tokio::time::sleep(Duration::from_secs(3)).await;
                    r#"{"Version":"20.10.24","ApiVersion":"1.41","Os":"linux","Arch":"amd64"}"#
                        .to_string()
                };
                let answer = format!(
                    "HTTP/1.1 200 OK\r\nApi-Version: 1.41\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(answer.as_bytes()).await;
                let _ = stream.shutdown().await;
            });
        }
    });
    let engine = Engine::connect(&config_with_docker_host(&format!(
        "unix://{}",
        socket.display()
    )))
    .await
    .expect("an engine that answered its ping is given time to say what it is");
    assert_eq!(engine.info().version, "20.10.24");
}

/// Serves one canned answer to every connection on a fresh socket.
async fn serve_canned(answer: &'static [u8]) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("other.sock");
    let listener = UnixListener::bind(&socket).unwrap();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let mut buffer = [0u8; 4096];
            let _ = stream.read(&mut buffer).await;
            let _ = stream.write_all(answer).await;
            let _ = stream.shutdown().await;
        }
    });
    let docker_host = format!("unix://{}", socket.display());
    (dir, docker_host)
}

#[tokio::test]
async fn an_http_server_that_is_not_an_engine_is_named_as_such() {
    let (_dir, docker_host) =
        serve_canned(b"HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot found").await;
    let error = Engine::connect(&config_with_docker_host(&docker_host))
        .await
        .unwrap_err();
    assert_eq!(error.code, Code::EngineProtocol);
    assert!(error.message.contains("HTTP 404: not found"), "{error}");
}

#[tokio::test]
async fn garbage_on_the_socket_is_not_taken_for_an_engine() {
    let (_dir, docker_host) = serve_canned(b"SSH-2.0-OpenSSH_9.2\r\n").await;
    let error = Engine::connect(&config_with_docker_host(&docker_host))
        .await
        .unwrap_err();
    assert_eq!(error.code, Code::EngineProtocol);
    assert!(error.message.contains("not a Docker Engine API"), "{error}");
}

#[tokio::test]
async fn an_engine_with_an_unreadable_version_document_is_refused() {
    let (_dir, docker_host) =
        serve_canned(b"HTTP/1.1 200 OK\r\nApi-Version: 1.41\r\nContent-Length: 7\r\n\r\n{broken")
            .await;
    let error = Engine::connect(&config_with_docker_host(&docker_host))
        .await
        .unwrap_err();
    assert_eq!(error.code, Code::EngineProtocol);
}
