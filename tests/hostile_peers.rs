//! Peers that misbehave, played by small servers on loopback (no test stack needed): GitHub or a
//! registry that sends an answer without end or a byte a second, and look-alike hosts that a Link, an
//! upload Location or a sign-in page points at. The client must cut the first off in bounded time and
//! memory, and never send a credential to the second.

use ghcr::github::GitHub;
use ghcr::packages::Owner;
use ghcr::registry::session::{Credentials, Session};
use ghcr::secret::Secret;
use ghcr::{Code, Config};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const TOKEN: &str = "ghp_hostilepeerstesttoken00000000000000";

/// What a fake server does with one request: given its head as text and the connection.
type Handler = Arc<dyn Fn(String, TcpStream) -> Reply + Send + Sync>;
type Reply = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>;

/// A server on `ip` (port chosen by the system) that hands every request to `handler`; its
/// `host:port`.
async fn serve(ip: &str, handler: Handler) -> String {
    let listener = TcpListener::bind((ip, 0)).await.expect("a loopback port");
    let address = listener.local_addr().unwrap().to_string();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let handler = handler.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") && head.len() < 65536 {
                    match stream.read(&mut byte).await {
                        Ok(1) => head.push(byte[0]),
                        _ => return,
                    }
                }
                handler(String::from_utf8_lossy(&head).to_string(), stream).await;
            });
        }
    });
    address
}

async fn reply(mut stream: TcpStream, status: &str, headers: &str, body: &str) {
    let text = format!(
        "HTTP/1.1 {status}\r\ncontent-length: {}\r\nconnection: close\r\n{headers}\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(text.as_bytes()).await;
}

/// A server that notes every request carrying `TOKEN` (or the registry bearer) anywhere in its head.
async fn witness(ip: &str) -> (String, Arc<Mutex<Vec<String>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let noted = seen.clone();
    let address = serve(
        ip,
        Arc::new(move |head: String, stream: TcpStream| {
            let noted = noted.clone();
            Box::pin(async move {
                if head.contains(TOKEN) || head.contains("registry-bearer") {
                    noted
                        .lock()
                        .unwrap()
                        .push(head.lines().next().unwrap_or("").to_string());
                }
                reply(stream, "200 OK", "content-type: application/json\r\n", "[]").await;
            })
        }),
    )
    .await;
    (address, seen)
}

fn github_at(address: &str) -> Config {
    let url = format!("http://{address}");
    Config {
        api_url: url.parse().unwrap(),
        web_url: url.parse().unwrap(),
        registry: address.to_string(),
        docker_host: None,
        oauth_client_id: Some("ghcr-desktop-test".into()),
        cache_dir: None,
    }
}

#[tokio::test]
async fn a_github_answer_that_never_ends_is_cut_off_at_its_cap() {
    let sent = Arc::new(AtomicU64::new(0));
    let counted = sent.clone();
    let address = serve(
        "127.0.0.1",
        Arc::new(move |_head, mut stream: TcpStream| {
            let counted = counted.clone();
            Box::pin(async move {
                let _ = stream
                    .write_all(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\ncontent-type: application/json\r\n\r\n")
                    .await;
                let piece = format!("10000\r\n{}\r\n", " ".repeat(0x10000));
                while stream.write_all(piece.as_bytes()).await.is_ok() {
                    counted.fetch_add(0x10000, Ordering::Relaxed);
                }
            })
        }),
    )
    .await;
    let github = GitHub::new(&github_at(&address)).unwrap();
    let started = Instant::now();
    let error = github
        .authenticated_user(&Secret::new(TOKEN.into()))
        .await
        .unwrap_err();
    let elapsed = started.elapsed();
    assert_eq!(error.code, Code::GithubProtocol, "{error:?}");
    assert!(error.message.contains("larger than"), "{error:?}");
    assert!(elapsed < Duration::from_secs(10), "took {elapsed:?}");
    // The cap is 8 MiB; what the socket buffers held besides is not read.
    let bytes = sent.load(Ordering::Relaxed);
    assert!(
        bytes < 64 << 20,
        "{bytes} bytes were sent before the client stopped"
    );
}

#[tokio::test]
async fn a_registry_token_answer_that_trickles_a_byte_a_second_is_given_up_on() {
    let address = Arc::new(Mutex::new(String::new()));
    let own = address.clone();
    let started_at = serve(
        "127.0.0.1",
        Arc::new(move |head: String, mut stream: TcpStream| {
            let own = own.lock().unwrap().clone();
            Box::pin(async move {
                if head.starts_with("GET /v2/ ") {
                    let challenge = format!(
                        "www-authenticate: Bearer realm=\"http://{own}/token\",service=\"test\"\r\n"
                    );
                    return reply(stream, "401 Unauthorized", &challenge, "").await;
                }
                let _ = stream
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 5000\r\n\r\n{")
                    .await;
                while stream.write_all(b" ").await.is_ok() {
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            })
        }),
    )
    .await;
    *address.lock().unwrap() = started_at.clone();
    let config = github_at(&started_at);
    let started = Instant::now();
    let opened = tokio::time::timeout(
        Duration::from_secs(45),
        Session::open(
            &config,
            "octo/app",
            &[],
            Some(Credentials {
                login: "octo".into(),
                token: Secret::new(TOKEN.into()),
            }),
        ),
    )
    .await
    .expect("the session gives up on the trickle by itself");
    let error = opened.err().expect("no session from a trickle");
    assert_eq!(error.code, Code::RegistryProtocol, "{error:?}");
    assert!(error.message.contains("in time"), "{error:?}");
    // The 20 s limit on the token's answer ended it (the 45 s timeout above is the hang guard).
    assert!(started.elapsed() >= Duration::from_secs(19));
}

#[tokio::test]
async fn a_next_page_on_a_look_alike_host_never_gets_the_token() {
    let (elsewhere, seen) = witness("127.0.0.2").await;
    let next = Arc::new(Mutex::new(String::new()));
    let link = next.clone();
    let address = serve(
        "127.0.0.1",
        Arc::new(move |_head, stream: TcpStream| {
            let link = link.lock().unwrap().clone();
            Box::pin(async move {
                let headers =
                    format!("content-type: application/json\r\nlink: <{link}>; rel=\"next\"\r\n");
                reply(stream, "200 OK", &headers, "[]").await;
            })
        }),
    )
    .await;
    // Starts with the API's address, as `starts_with` once checked, but names another host.
    *next.lock().unwrap() = format!("http://{address}@{elsewhere}/user/orgs?page=2");
    let github = GitHub::new(&github_at(&address)).unwrap();
    let token = Secret::new(TOKEN.into());
    let orgs = github.organizations(&token).await.unwrap();
    assert!(orgs.is_empty());
    let packages = github.packages(&token, &Owner::User).await.unwrap();
    assert!(packages.is_empty());
    assert_eq!(*seen.lock().unwrap(), Vec::<String>::new());
}

#[tokio::test]
async fn the_push_check_never_sends_the_registry_token_to_an_upload_location_elsewhere() {
    let (elsewhere, seen) = witness("127.0.0.2").await;
    let address = Arc::new(Mutex::new(String::new()));
    let own = address.clone();
    let registry = serve(
        "127.0.0.1",
        Arc::new(move |head: String, stream: TcpStream| {
            let own = own.lock().unwrap().clone();
            let elsewhere = elsewhere.clone();
            Box::pin(async move {
                if head.starts_with("GET /v2/ ") {
                    let challenge = format!(
                        "www-authenticate: Bearer realm=\"http://{own}/token\",service=\"test\"\r\n"
                    );
                    reply(stream, "401 Unauthorized", &challenge, "").await
                } else if head.starts_with("GET /token") {
                    reply(stream, "200 OK", "", r#"{"token":"registry-bearer"}"#).await
                } else {
                    let location = format!("location: http://{own}@{elsewhere}/v2/upload/1\r\n");
                    reply(stream, "202 Accepted", &location, "").await
                }
            })
        }),
    )
    .await;
    *address.lock().unwrap() = registry.clone();
    let config = github_at(&registry);
    let check = ghcr::registry::check_push(&config, "octo", "octo", &Secret::new(TOKEN.into()))
        .await
        .unwrap();
    assert!(
        matches!(check, ghcr::registry::PushCheck::Allowed { .. }),
        "{check:?}"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(*seen.lock().unwrap(), Vec::<String>::new());
}

#[tokio::test]
async fn a_sign_in_page_on_another_host_is_refused_not_opened() {
    let address = serve(
        "127.0.0.1",
        Arc::new(|_head, stream: TcpStream| {
            Box::pin(async move {
                let body = r#"{"device_code":"d","user_code":"ABCD-1234","verification_uri":"https://github.com.evil.example/login/device","expires_in":900,"interval":5}"#;
                reply(stream, "200 OK", "content-type: application/json\r\n", body).await;
            })
        }),
    )
    .await;
    let error = ghcr::token::device_flow::start(&github_at(&address), false)
        .await
        .unwrap_err();
    assert_eq!(error.code, Code::DeviceFlowUnavailable, "{error:?}");
    assert!(
        error.message.contains("github.com.evil.example"),
        "{error:?}"
    );
}
