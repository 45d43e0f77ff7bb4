//! A proxy in front of the test stack's real registry, test-only: every request passes through to the
//! registry unchanged (the Host header too, so the registry's upload Locations point back here),
//! unless a test's rule says to answer instead (after reading the request's body) — as ghcr.io answers
//! when it refuses — or to hold the request until the test lets it go. It keeps a log of what came, so
//! a test can count requests.

use bytes::Bytes;
use http_body_util::{combinators::BoxBody, BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio::sync::{Notify, Semaphore};

/// A request as the rules see it, before its body.
#[derive(Debug, Clone)]
pub struct Head {
    pub method: String,
    /// The path and query.
    pub path: String,
    pub content_range: Option<String>,
    pub content_length: Option<u64>,
    /// Whether it carried an `Authorization` header (credentials must not follow a redirect).
    pub authorized: bool,
    pub at: Instant,
}

/// What to do with a request.
pub enum Decision {
    /// Pass it to the registry.
    Forward,
    /// Answer it here with a status, headers and a body (the registry never sees it).
    Answer {
        status: u16,
        headers: Vec<(String, String)>,
        body: String,
    },
    /// Hold it until the gate is released, then pass it on.
    Hold(Arc<Gate>),
}

/// Where a held request waits: the test learns that one arrived and lets it go.
pub struct Gate {
    arrived: Notify,
    open: Semaphore,
}

impl Gate {
    pub fn new() -> Arc<Gate> {
        Arc::new(Gate {
            arrived: Notify::new(),
            open: Semaphore::new(0),
        })
    }

    /// Waits until a request is held here.
    pub async fn arrived(&self) {
        self.arrived.notified().await
    }

    /// Lets every held request (and every later one) through.
    pub fn release(&self) {
        self.open.add_permits(Semaphore::MAX_PERMITS / 2);
    }

    async fn pass(&self) {
        self.arrived.notify_one();
        let _ = self.open.acquire().await;
    }
}

type Rule = Box<dyn FnMut(&Head) -> Decision + Send>;

#[derive(Default)]
struct State {
    rules: Vec<Rule>,
    seen: Vec<Head>,
    /// Requests that have been answered, or whose client went away.
    ended: usize,
}

/// Counts a request as ended when its handling ends, however it ends.
struct Ending(Arc<Mutex<State>>);

impl Drop for Ending {
    fn drop(&mut self) {
        lock(&self.0).ended += 1;
    }
}

/// The proxy, listening on 127.0.0.1; stops when dropped.
pub struct RegistryProxy {
    /// `127.0.0.1:PORT`, to use as the registry's address.
    pub address: String,
    state: Arc<Mutex<State>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for RegistryProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

type Body = BoxBody<Bytes, hyper::Error>;

impl RegistryProxy {
    /// A proxy for the registry at `upstream` (`127.0.0.1:PORT`).
    pub async fn start(upstream: &str) -> RegistryProxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port");
        let address = listener.local_addr().expect("its address").to_string();
        let state = Arc::new(Mutex::new(State::default()));
        let client: Client<HttpConnector, Incoming> =
            Client::builder(TokioExecutor::new()).build_http();
        let upstream = upstream.to_string();
        let shared = state.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (state, client, upstream) = (shared.clone(), client.clone(), upstream.clone());
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |request| {
                        handle(request, state.clone(), client.clone(), upstream.clone())
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        RegistryProxy {
            address,
            state,
            task,
        }
    }

    /// Adds a rule; rules are asked in the order added, and the first that doesn't forward decides.
    pub fn rule(&self, rule: impl FnMut(&Head) -> Decision + Send + 'static) {
        lock(&self.state).rules.push(Box::new(rule));
    }

    /// Holds the first request that `matches` at a gate of its own (every other one passes), and
    /// returns the gate: the test learns when it came and may let it go.
    pub fn hold_first(&self, matches: impl Fn(&Head) -> bool + Send + 'static) -> Arc<Gate> {
        let gate = Gate::new();
        let held = gate.clone();
        let mut holding = true;
        self.rule(move |head| {
            if holding && matches(head) {
                holding = false;
                return Decision::Hold(held.clone());
            }
            Decision::Forward
        });
        gate
    }

    /// Every request so far, in the order they came.
    pub fn seen(&self) -> Vec<Head> {
        lock(&self.state).seen.clone()
    }

    /// Waits until every request that came has been answered (or its client went away): what a
    /// released request was carrying has reached the registry, so the test can look there.
    pub async fn quiet(&self) {
        let deadline = Instant::now() + std::time::Duration::from_secs(60);
        loop {
            let (seen, ended) = {
                let state = lock(&self.state);
                (state.seen.len(), state.ended)
            };
            if ended >= seen {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{} requests still open at the proxy after 60 s",
                seen - ended
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
}

fn lock(state: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|e| e.into_inner())
}

async fn handle(
    request: Request<Incoming>,
    state: Arc<Mutex<State>>,
    client: Client<HttpConnector, Incoming>,
    upstream: String,
) -> Result<Response<Body>, hyper::Error> {
    let header = |name: &str| {
        request
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let head = Head {
        method: request.method().to_string(),
        path: request
            .uri()
            .path_and_query()
            .map(|p| p.to_string())
            .unwrap_or_default(),
        content_range: header("content-range"),
        content_length: header("content-length").and_then(|v| v.parse().ok()),
        authorized: request.headers().contains_key("authorization"),
        at: Instant::now(),
    };
    let _ending = Ending(state.clone());
    let decision = {
        let mut state = lock(&state);
        state.seen.push(head.clone());
        state
            .rules
            .iter_mut()
            .map(|rule| rule(&head))
            .find(|decision| !matches!(decision, Decision::Forward))
            .unwrap_or(Decision::Forward)
    };
    match decision {
        Decision::Answer {
            status,
            headers,
            body,
        } => {
            // The request's body is read first, so the client always gets this answer (answered
            // while it still sends, it may see only a broken connection).
            let _ = request.into_body().collect().await;
            let mut response = Response::builder().status(status);
            for (name, value) in headers {
                response = response.header(name, value);
            }
            return Ok(response
                .body(Full::new(Bytes::from(body)).map_err(|e| match e {}).boxed())
                .expect("a valid answer"));
        }
        Decision::Hold(gate) => gate.pass().await,
        Decision::Forward => {}
    }
    let (mut parts, body) = request.into_parts();
    parts.uri = format!("http://{upstream}{}", head.path)
        .parse()
        .expect("the upstream address");
    match client.request(Request::from_parts(parts, body)).await {
        Ok(response) => Ok(response.map(|body| body.boxed())),
        Err(_) => Ok(Response::builder()
            .status(502)
            .body(
                Full::new(Bytes::from("the registry did not answer"))
                    .map_err(|e| match e {})
                    .boxed(),
            )
            .expect("a valid answer")),
    }
}
