//! Credentials never follow a redirect to another host: a registry-like server on 127.0.0.1 answers a
//! blob `HEAD` with a 307 to `localhost` (another host name, as ghcr.io sends blobs from a CDN); the
//! blob counts as there with the size the other host gives, and that host saw no `Authorization`
//! header and no byte of the token. An
//! upload moved to another host is refused before any byte goes there. No test stack needed.

use ghcr::registry::session::{Credentials, Session};
use ghcr::secret::Secret;
use ghcr::Config;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const TOKEN: &str = "ghp_RedirectTestToken0123456789abcdefABCD";
const BLOB: &[u8] = b"the layer's bytes";

/// A tiny HTTP/1.1 server: records each request's head, answers with `answer(path)`.
async fn serve(
    listener: TcpListener,
    seen: Arc<Mutex<Vec<String>>>,
    answer: impl Fn(&str) -> Vec<u8> + Send + Sync + 'static,
) {
    let answer = Arc::new(answer);
    loop {
        let Ok((mut stream, _)) = listener.accept().await else {
            return;
        };
        let (seen, answer) = (seen.clone(), answer.clone());
        tokio::spawn(async move {
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") {
                if stream.read(&mut byte).await.unwrap_or(0) == 0 {
                    return;
                }
                head.push(byte[0]);
            }
            let text = String::from_utf8_lossy(&head).to_string();
            let path = text.split_whitespace().nth(1).unwrap_or("/").to_string();
            seen.lock().unwrap().push(text);
            let _ = stream.write_all(&answer(&path)).await;
            let _ = stream.shutdown().await;
        });
    }
}

fn response(status: &str, headers: &[(&str, String)], body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 {status}\r\ncontent-length: {}\r\nconnection: close\r\n",
        body.len()
    );
    for (name, value) in headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str("\r\n");
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

#[tokio::test]
async fn a_blob_redirected_to_another_host_is_there_and_its_size_asked_without_the_token() {
    let registry = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let cdn = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let registry_port = registry.local_addr().unwrap().port();
    let cdn_port = cdn.local_addr().unwrap().port();
    let registry_seen = Arc::new(Mutex::new(Vec::new()));
    let cdn_seen = Arc::new(Mutex::new(Vec::new()));
    let digest = ghcr::digest::sha256_digest(BLOB);

    let realm = format!("http://127.0.0.1:{registry_port}/token");
    tokio::spawn(serve(registry, registry_seen.clone(), move |path| {
        if path == "/v2/" {
            response(
                "401 Unauthorized",
                &[(
                    "www-authenticate",
                    format!(r#"Bearer realm="{realm}",service="test""#),
                )],
                b"",
            )
        } else if path.starts_with("/token") {
            response(
                "200 OK",
                &[("content-type", "application/json".into())],
                br#"{"token":"registry-bearer"}"#,
            )
        } else if path.contains("/blobs/uploads/") {
            // An upload session "moved" to another host: must not be followed.
            response(
                "202 Accepted",
                &[("location", format!("http://localhost:{cdn_port}/upload"))],
                b"",
            )
        } else if path.contains("/blobs/") {
            response(
                "307 Temporary Redirect",
                &[(
                    "location",
                    format!("http://localhost:{cdn_port}/blob?sig=1"),
                )],
                b"",
            )
        } else {
            response("404 Not Found", &[], b"")
        }
    }));
    tokio::spawn(serve(cdn, cdn_seen.clone(), |_| {
        response("200 OK", &[], BLOB)
    }));

    let config = Config {
        registry: format!("127.0.0.1:{registry_port}"),
        ..Config::github_com()
    };
    let session = Session::open(
        &config,
        "owner/name",
        &[],
        Some(Credentials {
            login: "owner".into(),
            token: Secret::new(TOKEN.into()),
        }),
    )
    .await
    .unwrap();

    let size = session.blob_size(&digest).await.unwrap();
    assert_eq!(
        size,
        Some(BLOB.len() as u64),
        "there, with the other host's size"
    );
    let error = session
        .begin()
        .await
        .err()
        .expect("an upload moved to another host is refused");
    assert!(error.message.contains("another host"), "{error}");

    let cdn_requests = cdn_seen.lock().unwrap().clone();
    assert_eq!(
        cdn_requests.len(),
        1,
        "only the blob's HEAD reached the other host: {cdn_requests:?}"
    );
    for request in &cdn_requests {
        let lower = request.to_ascii_lowercase();
        assert!(!lower.contains("authorization"), "{request}");
        assert!(
            !request.contains(TOKEN) && !request.contains("registry-bearer"),
            "{request}"
        );
    }
    // The token went where it belongs: Basic to the token realm, the bearer to the registry.
    let registry_requests = registry_seen.lock().unwrap().clone();
    assert!(registry_requests
        .iter()
        .any(|r| r.starts_with("GET /token")
            && r.to_ascii_lowercase().contains("authorization: basic")));
    assert!(registry_requests
        .iter()
        .any(|r| r.contains("/blobs/") && r.contains("Bearer registry-bearer")));
}
