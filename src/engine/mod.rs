//! The container engine on this machine (Docker, Docker Desktop or Podman), through its Engine API:
//! finding it, negotiating the API version, and saying what it is — or clearly why there is none.

pub mod discovery;
pub mod events;
pub mod export;
pub mod images;
mod push;
mod transport;
pub mod version;
pub mod watch;

use crate::config::Config;
use crate::error::{Code, Error, Result};
use discovery::{Candidate, Endpoint, Origin};
use serde::Serialize;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use transport::{Answer, Transport, TransportError};
pub use version::ImageStore;
use version::{ApiVersion, InfoResponse, VersionResponse};

/// How long an engine's `/_ping` may take: whether anything answers at a socket at all.
const PING_TIMEOUT: Duration = Duration::from_secs(2);
/// How long `/version` and `/info` may take once the ping answered. The engine is there then, only
/// busy: Podman runs conmon and runc for `/version` (0.5–0.7 s idle), and with other work on its
/// store it took over 2 s here (`make flaky` saw a busy Podman called "no engine answers").
const IDENTIFY_TIMEOUT: Duration = Duration::from_secs(20);
/// How long looking for a socket whose ping answers may take in all, however many answer slowly.
const DISCOVERY_DEADLINE: Duration = Duration::from_millis(4500);
const SMALL_BODY: usize = 1 << 20;

/// What the app's status bar and `ghcr engine` show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EngineInfo {
    /// "Docker Engine", "Docker Desktop" or "Podman".
    pub product: String,
    /// The engine's own version, e.g. "20.10.24".
    pub version: String,
    /// The API version GHCR Desktop speaks with it (negotiated).
    pub api_version: String,
    /// The newest API version the engine offers.
    pub server_api_version: String,
    /// Where it answers, as a `DOCKER_HOST` value.
    pub endpoint: String,
    /// Why that place was tried.
    pub origin: Origin,
    pub os: String,
    pub arch: String,
    /// Where it keeps images (from `GET /info`; classic when it does not say).
    pub image_store: ImageStore,
}

/// Which engine to use: the automatic choice (`DOCKER_HOST`, else the first usual socket that answers),
/// or one the person picked among those that answer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Selection {
    #[default]
    Automatic,
    Picked(Candidate),
}

/// An engine found on this machine, for the engine switcher: what it is, or why it does not answer.
#[derive(Debug, Clone, Serialize)]
pub struct EngineChoice {
    /// Where it is, as a `DOCKER_HOST` value.
    pub endpoint: String,
    pub origin: Origin,
    pub info: Option<EngineInfo>,
    pub error: Option<Error>,
}

/// A connected engine: its address, the negotiated API version and what it said of itself.
#[derive(Debug, Clone)]
pub struct Engine {
    transport: Transport,
    api: ApiVersion,
    info: EngineInfo,
}

impl Engine {
    /// Finds the engine to use: `DOCKER_HOST` if set, else the first usual socket that answers.
    /// Gives up within ~5 s when no ping answers, with an error that says what was tried and how to
    /// start an engine.
    pub async fn connect(config: &Config) -> Result<Engine> {
        let candidates = candidates_here(config.docker_host.as_deref())?;
        first_answering(&candidates).await
    }

    /// Connects to the selected engine.
    pub async fn select(config: &Config, selection: &Selection) -> Result<Engine> {
        match selection {
            Selection::Automatic => Engine::connect(config).await,
            Selection::Picked(candidate) => {
                Engine::connect_to(candidate.endpoint.clone(), candidate.origin).await
            }
        }
    }

    /// Every place an engine may be (`DOCKER_HOST` and the usual sockets), each probed at once: those
    /// whose socket file exists or that `DOCKER_HOST` names, with what answers there.
    pub async fn available(config: &Config) -> Result<Vec<EngineChoice>> {
        Ok(Engine::probe_all(all_candidates_here(config)?).await)
    }

    /// Probes `candidates` concurrently; skips socket files that do not exist and repeated places.
    pub async fn probe_all(candidates: Vec<Candidate>) -> Vec<EngineChoice> {
        let mut seen = Vec::new();
        let mut probes = tokio::task::JoinSet::new();
        for (order, candidate) in candidates.into_iter().enumerate() {
            let resolved = match &candidate.endpoint {
                Endpoint::Unix(path) if candidate.origin != Origin::DockerHost => {
                    match std::fs::canonicalize(path) {
                        Ok(real) => Endpoint::Unix(real),
                        Err(_) => continue,
                    }
                }
                Endpoint::Unix(path) => {
                    Endpoint::Unix(std::fs::canonicalize(path).unwrap_or_else(|_| path.clone()))
                }
                endpoint => endpoint.clone(),
            };
            if seen.contains(&resolved) {
                continue;
            }
            seen.push(resolved);
            probes.spawn(async move {
                let outcome =
                    Engine::connect_to(candidate.endpoint.clone(), candidate.origin).await;
                (order, candidate, outcome)
            });
        }
        let mut found = Vec::new();
        while let Some(Ok(probe)) = probes.join_next().await {
            found.push(probe);
        }
        found.sort_by_key(|(order, _, _)| *order);
        found
            .into_iter()
            .map(|(_, candidate, outcome)| EngineChoice {
                endpoint: candidate.endpoint.to_string(),
                origin: candidate.origin,
                info: outcome.as_ref().ok().map(|engine| engine.info().clone()),
                error: outcome.err(),
            })
            .collect()
    }

    /// Connects to one endpoint: `GET /_ping` for the API version, then `GET /vX/version`.
    pub async fn connect_to(endpoint: Endpoint, origin: Origin) -> Result<Engine> {
        Pinged::ping(endpoint, origin).await?.identify().await
    }

    pub fn info(&self) -> &EngineInfo {
        &self.info
    }

    pub fn api_version(&self) -> ApiVersion {
        self.api
    }

    pub fn endpoint(&self) -> &Endpoint {
        self.transport.endpoint()
    }
}

/// An engine whose `/_ping` answered: it is there, and speaks this API version.
struct Pinged {
    transport: Transport,
    origin: Origin,
    api: ApiVersion,
    podman: bool,
}

impl Pinged {
    async fn ping(endpoint: Endpoint, origin: Origin) -> Result<Pinged> {
        let transport = Transport::new(endpoint);
        let ping = transport
            .get("/_ping", PING_TIMEOUT, SMALL_BODY)
            .await
            .map_err(|error| transport_failure(&transport, origin, error))?;
        if !ping.status.is_success() {
            return Err(not_an_engine(&transport, &ping));
        }
        let api = version::negotiate(
            ping.headers
                .get("api-version")
                .and_then(|v| v.to_str().ok()),
        )?;
        let podman = ping.headers.contains_key("libpod-api-version");
        Ok(Pinged {
            transport,
            origin,
            api,
            podman,
        })
    }

    /// What the engine is: `/version`, and `/info` for its image store.
    async fn identify(self) -> Result<Engine> {
        let Pinged {
            transport,
            origin,
            api,
            podman,
        } = self;
        let failed = |error| transport_failure(&transport, origin, error);
        // `/version` and `/info` are asked at once: Podman runs conmon and runc for each (0.5–0.7 s
        // and 0.3 s here, which every `ghcr` command used to wait for in turn), and asks for no
        // `/info` at all: its ping names it (`Libpod-Api-Version`), and its store is its own.
        let version_path = format!("/v{api}/version");
        let info_path = format!("/v{api}/info");
        let (answer, details) = tokio::join!(
            transport.get(&version_path, IDENTIFY_TIMEOUT, SMALL_BODY),
            async {
                if podman {
                    return InfoResponse::default();
                }
                // What the store is changes only how a push reads the image; an engine that will
                // not say is taken for the classic store rather than refused.
                match transport
                    .get(&info_path, IDENTIFY_TIMEOUT, SMALL_BODY)
                    .await
                {
                    Ok(answer) if answer.status.is_success() => {
                        serde_json::from_slice(&answer.body).unwrap_or_default()
                    }
                    _ => InfoResponse::default(),
                }
            }
        );
        let answer = answer.map_err(failed)?;
        if !answer.status.is_success() {
            return Err(not_an_engine(&transport, &answer));
        }
        let reply: VersionResponse =
            serde_json::from_slice(&answer.body).map_err(|_| not_an_engine(&transport, &answer))?;
        let product = version::product_name(&reply);
        let info = EngineInfo {
            image_store: version::image_store(product, &details),
            product: product.to_string(),
            version: reply.version,
            api_version: api.to_string(),
            server_api_version: reply.api_version,
            endpoint: transport.endpoint().to_string(),
            origin,
            os: reply.os,
            arch: reply.arch,
        };
        Ok(Engine {
            transport,
            api,
            info,
        })
    }
}

/// The places to try on this machine (`discovery::candidates` with this process's HOME and
/// XDG_RUNTIME_DIR).
fn candidates_here(docker_host: Option<&str>) -> Result<Vec<Candidate>> {
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let runtime_dir = std::env::var_os("XDG_RUNTIME_DIR").map(PathBuf::from);
    discovery::candidates(docker_host, home.as_deref(), runtime_dir.as_deref())
}

/// `DOCKER_HOST` (if set) and every usual place, for the switcher.
fn all_candidates_here(config: &Config) -> Result<Vec<Candidate>> {
    let mut candidates = match config.docker_host.as_deref() {
        Some(docker_host) => candidates_here(Some(docker_host))?,
        None => Vec::new(),
    };
    candidates.extend(candidates_here(None)?);
    Ok(candidates)
}

impl Selection {
    /// The engine at `endpoint` (a `DOCKER_HOST` value, as `Engine::available` lists them), with the
    /// origin it is listed under (`DOCKER_HOST` for a place not in the list). No connection is made.
    pub fn picked(config: &Config, endpoint: &str) -> Result<Selection> {
        let endpoint = discovery::parse_docker_host(endpoint)?;
        let origin = all_candidates_here(config)?
            .into_iter()
            .find(|candidate| candidate.endpoint == endpoint)
            .map_or(Origin::DockerHost, |candidate| candidate.origin);
        Ok(Selection::Picked(Candidate { endpoint, origin }))
    }
}

/// Tries each candidate in order; a socket file that is not there is skipped without a connection.
/// The deadline is for the pings: an engine whose ping answered has `IDENTIFY_TIMEOUT` to say what it is.
async fn first_answering(candidates: &[Candidate]) -> Result<Engine> {
    let deadline = Instant::now() + DISCOVERY_DEADLINE;
    let mut first_failure = None;
    for candidate in candidates {
        if let Endpoint::Unix(path) = &candidate.endpoint {
            if candidate.origin != Origin::DockerHost && !path.exists() {
                continue;
            }
        }
        let left = deadline.saturating_duration_since(Instant::now());
        let pinged = Pinged::ping(candidate.endpoint.clone(), candidate.origin);
        let outcome = match tokio::time::timeout(left, pinged).await {
            Ok(Ok(pinged)) => pinged.identify().await,
            Ok(Err(error)) => Err(error),
            Err(_) => {
                return Err(Error::new(
                    Code::EngineUnreachable,
                    "No container engine answered in time",
                    start_engine_hint(candidates),
                ))
            }
        };
        match outcome {
            Ok(engine) => return Ok(engine),
            Err(error) if candidate.origin == Origin::DockerHost => return Err(error),
            Err(error) => {
                first_failure.get_or_insert(error);
            }
        }
    }
    Err(first_failure.unwrap_or_else(|| {
        Error::new(
            Code::EngineUnreachable,
            "No container engine found",
            start_engine_hint(candidates),
        )
    }))
}

fn start_engine_hint(candidates: &[Candidate]) -> String {
    let looked: Vec<String> = candidates.iter().map(|c| c.endpoint.to_string()).collect();
    format!(
        "Start Docker (`sudo systemctl start docker`), Docker Desktop, or Podman (`systemctl --user start podman.socket`), or set DOCKER_HOST. Looked at: {}.",
        looked.join(", ")
    )
}

fn transport_failure(transport: &Transport, origin: Origin, error: TransportError) -> Error {
    let at = transport.endpoint();
    match error {
        TransportError::Connect(_) | TransportError::Timeout(_) => Error::new(
            Code::EngineUnreachable,
            format!("No container engine answers at {at}: {error}"),
            match origin {
                Origin::DockerHost => "Start Docker or Podman there, or unset DOCKER_HOST so GHCR Desktop looks in the usual places.".to_string(),
                _ => format!("Start the engine ({}), or set DOCKER_HOST to where yours listens.", origin.describe()),
            },
        ),
        TransportError::Http(_) | TransportError::TooLarge(_) => Error::new(
            Code::EngineProtocol,
            format!("What answers at {at} is not a Docker Engine API: {error}"),
            "Point DOCKER_HOST at a Docker or Podman engine socket.",
        ),
    }
}

fn not_an_engine(transport: &Transport, answer: &Answer) -> Error {
    let said = String::from_utf8_lossy(&answer.body);
    let said: String = said.trim().chars().take(200).collect();
    Error::new(
        Code::EngineProtocol,
        format!(
            "What answers at {} is not a Docker Engine API (HTTP {}{}{})",
            transport.endpoint(),
            answer.status.as_u16(),
            if said.is_empty() { "" } else { ": " },
            said
        ),
        "Point DOCKER_HOST at a Docker or Podman engine socket.",
    )
}

/// The failures every Engine API call can meet, worded once.
impl Engine {
    fn lost(&self, error: TransportError) -> Error {
        Error::new(
            Code::EngineUnreachable,
            format!(
                "The container engine at {} stopped answering: {error}",
                self.transport.endpoint()
            ),
            "Check that Docker or Podman is running; GHCR Desktop reconnects by itself.",
        )
    }

    fn refused(&self, what: &str, status: http::StatusCode, body: &[u8]) -> Error {
        let message = engine_message(body);
        // An export is staged in the engine's temporary directory first: a full disk shows up here.
        let hint = if message.contains("no space left on device") {
            "The engine's disk is full: free space where it keeps temporary files (DOCKER_TMPDIR, or \
             its data root, e.g. /var/lib/docker/tmp), then push again. Nothing was pushed."
        } else {
            "The engine's own message says why; `docker` would show the same."
        };
        Error::new(
            Code::EngineFailed,
            format!(
                "The engine could not {what} (HTTP {}): {message}",
                status.as_u16(),
            ),
            hint,
        )
    }

    /// `refused` for a streamed answer that turned out to be an error (its body read first).
    async fn refused_stream(
        &self,
        what: &str,
        response: http::Response<hyper::body::Incoming>,
    ) -> Error {
        use http_body_util::BodyExt;
        let status = response.status();
        let body = http_body_util::Limited::new(response.into_body(), SMALL_BODY)
            .collect()
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        self.refused(what, status, &body)
    }
}

/// The `message` of an engine error body, or the body's first 200 characters.
pub(super) fn engine_message(body: &[u8]) -> String {
    #[derive(serde::Deserialize)]
    struct Message {
        message: String,
    }
    match serde_json::from_slice::<Message>(body) {
        Ok(m) => m.message,
        Err(_) => String::from_utf8_lossy(body)
            .trim()
            .chars()
            .take(200)
            .collect(),
    }
}
