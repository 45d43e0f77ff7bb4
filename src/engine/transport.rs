//! HTTP/1.1 to an engine over its Unix socket or plain TCP, one connection per request, every step
//! bounded by a timeout. Knows nothing of the Engine API's paths or JSON; `engine` does.

use super::discovery::Endpoint;
use bytes::Bytes;
use http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use std::fmt;
use std::io;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpStream, UnixStream};

/// Why a request got no usable answer.
#[derive(Debug)]
pub enum TransportError {
    /// Nothing listens there (no socket file, connection refused, …).
    Connect(io::Error),
    /// Connected, but no complete answer within the time allowed.
    Timeout(Duration),
    /// The peer did not speak HTTP, or closed the connection mid-answer.
    Http(String),
    /// The answer was larger than this request accepts.
    TooLarge(usize),
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TransportError::Connect(error) if error.kind() == io::ErrorKind::NotFound => {
                f.write_str("no socket there")
            }
            TransportError::Connect(error) if error.kind() == io::ErrorKind::ConnectionRefused => {
                f.write_str("connection refused")
            }
            TransportError::Connect(error) => write!(f, "cannot connect: {error}"),
            TransportError::Timeout(limit) => {
                write!(f, "no answer within {} s", limit.as_secs_f32())
            }
            TransportError::Http(detail) => write!(f, "not an HTTP answer ({detail})"),
            TransportError::TooLarge(limit) => write!(f, "answer larger than {limit} bytes"),
        }
    }
}

/// A complete answer.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

#[derive(Debug, Clone)]
pub struct Transport {
    endpoint: Endpoint,
}

impl Transport {
    pub fn new(endpoint: Endpoint) -> Self {
        Transport { endpoint }
    }

    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// `GET path`, the whole answer within `limit`, its body at most `max_body` bytes.
    pub async fn get(
        &self,
        path: &str,
        limit: Duration,
        max_body: usize,
    ) -> Result<Answer, TransportError> {
        self.request(Method::GET, path, limit, max_body).await
    }

    /// `method path` with an empty body; the whole answer within `limit`, at most `max_body` bytes.
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        limit: Duration,
        max_body: usize,
    ) -> Result<Answer, TransportError> {
        let exchange = async {
            let response = self.open_unbounded(method, path).await?;
            let (parts, body) = response.into_parts();
            let body = Limited::new(body, max_body)
                .collect()
                .await
                .map_err(|e| {
                    if e.is::<http_body_util::LengthLimitError>() {
                        TransportError::TooLarge(max_body)
                    } else {
                        TransportError::Http(e.to_string())
                    }
                })?
                .to_bytes();
            Ok(Answer {
                status: parts.status,
                headers: parts.headers,
                body,
            })
        };
        tokio::time::timeout(limit, exchange)
            .await
            .unwrap_or(Err(TransportError::Timeout(limit)))
    }

    /// `GET path` for a stream (events): status and headers within `limit`, then the body as it comes,
    /// for as long as the engine keeps it open.
    pub async fn open(
        &self,
        path: &str,
        limit: Duration,
    ) -> Result<http::Response<Incoming>, TransportError> {
        tokio::time::timeout(limit, self.open_unbounded(Method::GET, path))
            .await
            .unwrap_or(Err(TransportError::Timeout(limit)))
    }

    /// `POST path` with `headers`, for a stream (push): status and headers within `limit`, then the
    /// body as it comes. Dropping the answer closes the connection, which cancels the engine's work.
    pub async fn open_post(
        &self,
        path: &str,
        headers: Vec<(&'static str, http::HeaderValue)>,
        limit: Duration,
    ) -> Result<http::Response<Incoming>, TransportError> {
        tokio::time::timeout(limit, self.open_with(Method::POST, path, headers))
            .await
            .unwrap_or(Err(TransportError::Timeout(limit)))
    }

    async fn open_unbounded(
        &self,
        method: Method,
        path: &str,
    ) -> Result<http::Response<Incoming>, TransportError> {
        self.open_with(method, path, Vec::new()).await
    }

    async fn open_with(
        &self,
        method: Method,
        path: &str,
        headers: Vec<(&'static str, http::HeaderValue)>,
    ) -> Result<http::Response<Incoming>, TransportError> {
        let mut request = Request::builder()
            .method(method)
            .uri(path)
            .header(http::header::HOST, "docker")
            .header(
                http::header::USER_AGENT,
                concat!("ghcr-desktop/", env!("CARGO_PKG_VERSION")),
            )
            .body(Full::new(Bytes::new()))
            .map_err(|e| TransportError::Http(e.to_string()))?;
        for (name, value) in headers {
            request.headers_mut().insert(name, value);
        }
        match &self.endpoint {
            Endpoint::Unix(path) => {
                let stream = UnixStream::connect(path)
                    .await
                    .map_err(TransportError::Connect)?;
                send(stream, request).await
            }
            Endpoint::Tcp { host, port } => {
                let stream = TcpStream::connect((host.as_str(), *port))
                    .await
                    .map_err(TransportError::Connect)?;
                send(stream, request).await
            }
        }
    }
}

async fn send<S>(
    stream: S,
    request: Request<Full<Bytes>>,
) -> Result<http::Response<Incoming>, TransportError>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| TransportError::Http(e.to_string()))?;
    tokio::spawn(connection);
    sender
        .send_request(request)
        .await
        .map_err(|e| TransportError::Http(e.to_string()))
}

/// A streamed body read one line at a time (the events and push streams are JSON lines).
pub struct Lines {
    body: Incoming,
    buffer: bytes::BytesMut,
}

/// A line longer than this is not one the engine sends; the stream is treated as broken.
const LINE_MAX: usize = 1 << 20;

impl Lines {
    pub fn new(body: Incoming) -> Lines {
        Lines {
            body,
            buffer: bytes::BytesMut::new(),
        }
    }

    /// The next line without its newline; `None` when the stream ended or broke.
    pub async fn next_line(&mut self) -> Option<Bytes> {
        use http_body_util::BodyExt;
        loop {
            if let Some(end) = self.buffer.iter().position(|&b| b == b'\n') {
                let line = self.buffer.split_to(end + 1).freeze();
                return Some(line.slice(..end));
            }
            if self.buffer.len() > LINE_MAX {
                return None;
            }
            match self.body.frame().await? {
                Ok(frame) => {
                    if let Ok(data) = frame.into_data() {
                        self.buffer.extend_from_slice(&data);
                    }
                }
                Err(_) => return None,
            }
        }
    }
}
