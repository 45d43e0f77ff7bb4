//! HTTP clients for GitHub's API and the registry, built in one place: the user agent, the timeouts and
//! the rule that no client follows a redirect by itself (a redirect could carry the token elsewhere).
//! A leaf: it imports nothing of the core but the error type.

use crate::error::{Code, Error, Result};
use std::time::Duration;

const USER_AGENT: &str = concat!("ghcr-desktop/", env!("CARGO_PKG_VERSION"));
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// For answers that should be small and quick (GitHub's API, the registry's token service and
/// checks): 20 s for the whole exchange.
pub fn api_client() -> Result<reqwest::Client> {
    build(reqwest::Client::builder().timeout(Duration::from_secs(20)))
}

/// For blob and manifest transfers, which may take long on a slow link: no overall deadline, but a
/// connection that stops moving for 60 s ends.
pub fn transfer_client() -> Result<reqwest::Client> {
    build(reqwest::Client::builder().read_timeout(Duration::from_secs(60)))
}

fn build(builder: reqwest::ClientBuilder) -> Result<reqwest::Client> {
    builder
        .user_agent(USER_AGENT)
        .connect_timeout(CONNECT_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| {
            Error::new(
                Code::NetworkUnreachable,
                format!("Cannot set up HTTPS: {e}"),
                "Check the system's TLS libraries (OpenSSL).",
            )
        })
}

/// How much of an answer may be read, and for how long: a peer that sends without end, or a byte a
/// second, is cut off instead of filling memory or holding a push forever.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub bytes: usize,
    pub within: Duration,
}

impl Limit {
    /// At most `bytes`, within `seconds`.
    pub const fn of(bytes: usize, seconds: u64) -> Limit {
        Limit {
            bytes,
            within: Duration::from_secs(seconds),
        }
    }

    /// An image manifest or index (distribution itself refuses manifests over 4 MiB).
    pub const MANIFEST: Limit = Limit::of(4 << 20, 30);
    /// A page of GitHub's JSON (100 packages or versions are a few hundred KiB).
    pub const JSON: Limit = Limit::of(8 << 20, 30);
    /// A registry token answer (a JWT of a few KiB).
    pub const TOKEN: Limit = Limit::of(1 << 20, 20);
    /// The body of a refusal: only its first words are shown.
    pub const ERROR: Limit = Limit::of(64 << 10, 10);
}

/// Why an answer's body was not read to its end.
#[derive(Debug)]
pub enum BodyError {
    /// More than the limit (said by Content-Length, or seen while reading).
    TooLarge { limit: usize },
    /// Not all there within the limit's time.
    TimedOut,
    /// The connection broke.
    Broken(reqwest::Error),
}

impl BodyError {
    /// The words for "the peer at `at` sent …", for error messages.
    pub fn describe(&self) -> String {
        match self {
            BodyError::TooLarge { limit } => {
                format!("sent an answer larger than {} KiB", limit >> 10)
            }
            BodyError::TimedOut => "did not finish its answer in time".to_string(),
            BodyError::Broken(e) if e.is_timeout() => "did not answer in time".to_string(),
            BodyError::Broken(_) => "broke the connection during its answer".to_string(),
        }
    }
}

/// Reads `response`'s body within `limit`: Content-Length is checked first, then the body is read in
/// pieces, stopping as soon as it passes the limit or its time is up.
pub async fn read_body(
    mut response: reqwest::Response,
    limit: Limit,
) -> std::result::Result<bytes::Bytes, BodyError> {
    if response
        .content_length()
        .is_some_and(|length| length > limit.bytes as u64)
    {
        return Err(BodyError::TooLarge { limit: limit.bytes });
    }
    let read = async {
        let mut body = bytes::BytesMut::new();
        while let Some(piece) = response.chunk().await.map_err(BodyError::Broken)? {
            if body.len() + piece.len() > limit.bytes {
                return Err(BodyError::TooLarge { limit: limit.bytes });
            }
            body.extend_from_slice(&piece);
        }
        Ok(body.freeze())
    };
    tokio::time::timeout(limit.within, read)
        .await
        .map_err(|_| BodyError::TimedOut)?
}

/// The body of a refusal, as far as it is read within `Limit::ERROR` (empty when it isn't).
pub async fn error_body(response: reqwest::Response) -> bytes::Bytes {
    read_body(response, Limit::ERROR).await.unwrap_or_default()
}

/// The wait an answer asks for (`Retry-After` in seconds), if it asks.
pub fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<u64> {
    headers
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
}

/// Whether two addresses share an origin (scheme, host and port): the only test of "the same host"
/// credentials may rely on. `https://api.github.com.evil.tld` and `https://api.github.com@evil.tld`
/// are other origins, though their text starts like GitHub's.
pub fn same_origin(a: &url::Url, b: &url::Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str().map(str::to_ascii_lowercase) == b.host_str().map(str::to_ascii_lowercase)
        && a.port_or_known_default() == b.port_or_known_default()
}

/// Whether the address `text` is on `base`'s origin.
pub fn on_origin(text: &str, base: &url::Url) -> bool {
    url::Url::parse(text).is_ok_and(|url| same_origin(&url, base))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A one-shot HTTP server on loopback that answers with `head` and then calls `body` to write
    /// the rest; returns its address.
    async fn server<F, Fut>(head: &'static str, body: F) -> String
    where
        F: FnOnce(tokio::net::TcpStream) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = ()> + Send,
    {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = format!("http://{}/", listener.local_addr().unwrap());
        tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut request = [0u8; 4096];
            let _ = stream.read(&mut request).await;
            stream.write_all(head.as_bytes()).await.unwrap();
            body(stream).await;
        });
        address
    }

    #[tokio::test]
    async fn a_body_that_never_ends_is_cut_off_at_the_limit() {
        let address = server(
            "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n",
            |mut stream| async move {
                let piece = format!("10000\r\n{}\r\n", "x".repeat(0x10000));
                while stream.write_all(piece.as_bytes()).await.is_ok() {}
            },
        )
        .await;
        let response = api_client().unwrap().get(address).send().await.unwrap();
        let limit = Limit {
            bytes: 1 << 20,
            within: Duration::from_secs(10),
        };
        let started = std::time::Instant::now();
        let outcome = read_body(response, limit).await;
        assert!(
            matches!(outcome, Err(BodyError::TooLarge { limit: 1048576 })),
            "{outcome:?}"
        );
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[tokio::test]
    async fn a_declared_length_over_the_limit_is_refused_before_reading() {
        let address = server(
            "HTTP/1.1 200 OK\r\ncontent-length: 99999999999\r\n\r\n",
            |_stream| async move { std::future::pending::<()>().await },
        )
        .await;
        let response = api_client().unwrap().get(address).send().await.unwrap();
        let outcome = read_body(response, Limit::ERROR).await;
        assert!(
            matches!(outcome, Err(BodyError::TooLarge { .. })),
            "{outcome:?}"
        );
    }

    #[tokio::test]
    async fn a_body_that_trickles_a_byte_a_second_ends_at_the_deadline() {
        let address = server(
            "HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\n",
            |mut stream| async move {
                while stream.write_all(b"x").await.is_ok() {
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            },
        )
        .await;
        // The transfer client has no overall deadline: only the limit's time ends the read.
        let response = transfer_client()
            .unwrap()
            .get(address)
            .send()
            .await
            .unwrap();
        let limit = Limit {
            bytes: 1 << 20,
            within: Duration::from_secs(2),
        };
        let started = std::time::Instant::now();
        let outcome = read_body(response, limit).await;
        assert!(matches!(outcome, Err(BodyError::TimedOut)), "{outcome:?}");
        // TimedOut says the 2 s limit ended it; the time only guards against a hang.
        assert!(started.elapsed() < Duration::from_secs(20));
    }

    #[test]
    fn look_alike_hosts_are_other_origins() {
        let api = url::Url::parse("https://api.github.com").unwrap();
        assert!(on_origin("https://api.github.com/user/orgs?page=2", &api));
        assert!(on_origin("https://API.github.com:443/x", &api));
        for other in [
            "https://api.github.com.evil.tld/user/orgs",
            "https://api.github.com@evil.tld/user/orgs",
            "http://api.github.com/user/orgs",
            "https://api.github.com:8443/user/orgs",
            "//api.github.com/user",
            "not a url",
        ] {
            assert!(!on_origin(other, &api), "{other}");
        }
        let loopback = url::Url::parse("http://127.0.0.1:4000").unwrap();
        assert!(!on_origin("http://127.0.0.1:40001/user/orgs", &loopback));
        assert!(!on_origin(
            "http://127.0.0.1:4000@127.0.0.2:4000/",
            &loopback
        ));
    }
}
