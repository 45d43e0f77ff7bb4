//! Pushing images, in two ways: through the engine (`engine`, Docker's own semantics, its stream read
//! by `stream`) and directly (`direct`: export or archive, parallel gzip, our own uploads, with
//! `compress`, `digest` and `blob_cache`). Both report through the progress model (`progress`); `jobs`
//! queues, cancels and retries them. [`push`] is the front door the CLI and the app share.

pub mod blob_cache;
pub mod compress;
pub mod direct;
pub mod engine;
pub mod jobs;
pub mod link_memory;
pub mod progress;
pub mod stream;

mod cancel;

pub use cancel::Cancel;

use crate::config::Config;
use crate::engine::Selection;
use crate::engine::{Engine, ImageStore};
use crate::error::{Code, Error, Result};
use crate::github::GitHub;
use crate::reference::Reference;
use crate::registry::session::Credentials;
use crate::registry::PushCheck;
use crate::secret::Secret;
use crate::token::scopes::WRITE;
pub use compress::Compression;
use direct::DirectSource;
use progress::Snapshot;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// The label (and OCI annotation) that connects a package to its repository on GitHub.
pub const SOURCE_LABEL: &str = "org.opencontainers.image.source";

/// A finished push: what is on the registry now (the manifest's digest and size).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Pushed {
    pub reference: String,
    pub digest: String,
    pub size: u64,
    /// Direct push: the 4 MiB pieces of the layers it compressed, by the level each got (gzip's 0:
    /// stored, they did not shrink); the level follows the link (`push::compress::Pace`).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub levels: BTreeMap<i32, u64>,
    /// The encoding of the layers this push compressed (layers found on the registry keep theirs).
    pub compression: Compression,
}

impl Pushed {
    /// The command that pulls what was pushed.
    pub fn pull_command(&self) -> String {
        format!("docker pull {}", self.reference)
    }
}

/// Which way a push goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[serde(rename_all = "snake_case")]
pub enum Via {
    /// The faster of the two for the source, the engine and the link, as `make bench` measured them:
    /// the engine on Docker's containerd image store and on Podman (they send the layers as they
    /// store them, while their exports are slow); on Docker's classic store, the engine over a link
    /// an earlier direct push measured slower than its gzip (`link_memory`: there the export costs
    /// more than the engine's one-thread gzip), direct otherwise (it compresses on every core); direct
    /// for archives, and wherever the engine can't do what was asked (a source label, zstd layers).
    #[default]
    Auto,
    /// GHCR Desktop uploads (parallel gzip; no engine needed for archives).
    Direct,
    /// The engine uploads, as `docker push` does.
    Engine,
}

impl Via {
    /// The way a push of a local image of an engine keeping images in `store` goes, when
    /// `direct_needed` (labels to add or zstd layers to make, which only the direct push can do), over
    /// a link last measured at `link` bytes a second (if it was).
    pub fn for_engine(self, store: ImageStore, direct_needed: bool, link: Option<f64>) -> Via {
        match self {
            Via::Auto if direct_needed => Via::Direct,
            Via::Auto => match store {
                ImageStore::Containerd | ImageStore::Podman => Via::Engine,
                ImageStore::Classic => match link {
                    Some(rate) if rate < link_memory::SLOW_LINK => Via::Engine,
                    _ => Via::Direct,
                },
            },
            chosen => chosen,
        }
    }
}

/// What is pushed: a local image of the engine, or an archive file or layout folder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum PushSource {
    Image(String),
    Archive(PathBuf),
}

/// One push, as the CLI and the app describe it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushRequest {
    pub source: PushSource,
    /// Where to: `ghcr.io/OWNER/NAME:TAG` (checked by `reference::tag_target`).
    pub target: String,
    #[serde(default)]
    pub via: Via,
    /// `https://github.com/OWNER/REPO`, added as `org.opencontainers.image.source` (direct only).
    #[serde(default)]
    pub source_repository: Option<String>,
    /// The engine to take a local image from (a `DOCKER_HOST` value); the configured one if `None`.
    #[serde(default)]
    pub engine: Option<String>,
    /// How the layers the push compresses are encoded (gzip unless asked).
    #[serde(default)]
    pub compression: Compression,
}

/// A push request checked once: the target parsed as a reference on the configured registry, the
/// labels to add, the engine to take a local image from. Everything after this works on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushPlan {
    pub source: PushSource,
    pub target: Reference,
    pub via: Via,
    /// Labels for the image config (and annotations on OCI manifests), e.g.
    /// `org.opencontainers.image.source` to connect the package to a repository.
    pub labels: BTreeMap<String, String>,
    /// The engine to take a local image from (a `DOCKER_HOST` value); the configured one if `None`.
    pub engine: Option<String>,
    pub compression: Compression,
}

impl PushPlan {
    /// The request this plan was made from, in its checked form (the target written out in full).
    pub fn request(&self) -> PushRequest {
        PushRequest {
            source: self.source.clone(),
            target: self.target.to_string(),
            via: self.via,
            source_repository: self.labels.get(SOURCE_LABEL).cloned(),
            engine: self.engine.clone(),
            compression: self.compression,
        }
    }

    /// Whether only the direct push can do what this plan asks.
    fn needs_direct(&self) -> bool {
        !self.labels.is_empty() || self.compression == Compression::Zstd
    }
}

impl PushRequest {
    /// The request checked for sense before any I/O, as the plan a push follows.
    pub fn checked(&self, config: &Config) -> Result<PushPlan> {
        let target = crate::reference::tag_target(&self.target, &config.registry)?;
        if !target.is_on(&config.registry) {
            return Err(Error::new(
                Code::ReferenceInvalid,
                format!("{target} is not on {}", config.registry),
                format!("Push to {}/OWNER/NAME:TAG.", config.registry),
            ));
        }
        if self.via == Via::Engine {
            if let PushSource::Archive(path) = &self.source {
                return Err(Error::new(
                    Code::ReferenceInvalid,
                    format!(
                        "{} is an archive: the engine pushes only its own images",
                        path.display()
                    ),
                    "Push archives directly (--via direct or auto, the default).",
                ));
            }
            if self.source_repository.is_some() {
                return Err(Error::new(
                    Code::ReferenceInvalid,
                    "Connecting a repository changes the image config, which the engine cannot do",
                    "Push directly (--via direct or auto, the default) to add the source label.",
                ));
            }
            if self.compression == Compression::Zstd {
                return Err(Error::new(
                    Code::ReferenceInvalid,
                    "The engine pushes the layers as gzip: zstd layers are made by the direct push",
                    "Push directly (--via direct or auto, the default) for zstd layers.",
                ));
            }
        }
        let mut labels = BTreeMap::new();
        if let Some(url) = &self.source_repository {
            labels.insert(
                SOURCE_LABEL.to_string(),
                crate::github::source_repository(config, url)?,
            );
        }
        Ok(PushPlan {
            source: self.source.clone(),
            target,
            via: self.via,
            labels,
            engine: self.engine.clone(),
            compression: self.compression,
        })
    }

    /// The request from the engine `selection` (the one the person picked in the app), unless it
    /// names an engine already.
    pub fn from_engine(mut self, selection: &Selection) -> PushRequest {
        if let (None, Selection::Picked(candidate)) = (&self.engine, selection) {
            self.engine = Some(candidate.endpoint.to_string());
        }
        self
    }
}

/// Pushes as `plan` says, reporting progress (at most ten snapshots a second, and the last).
/// Through the engine, the image is tagged as the target first (when it isn't already).
pub async fn push(
    config: &Config,
    plan: &PushPlan,
    credentials: Credentials,
    report: impl FnMut(&Snapshot),
) -> Result<Pushed> {
    push_until_cancelled(config, plan, credentials, &Cancel::default(), report).await
}

/// `push`, stopped by `cancel`: it returns (with `push.cancelled`) only once nothing of it runs any
/// more, and a cancel that comes after the tag started to be written is refused (`Cancel::cancel`).
pub async fn push_until_cancelled(
    config: &Config,
    plan: &PushPlan,
    credentials: Credentials,
    cancel: &Cancel,
    report: impl FnMut(&Snapshot),
) -> Result<Pushed> {
    let token = credentials.token.clone();
    let credentials_login = credentials.login.clone();
    let outcome: Result<Pushed> = async {
        let target = &plan.target;
        let picked;
        let config = match &plan.engine {
            Some(endpoint) => {
                picked = Config {
                    docker_host: Some(endpoint.clone()),
                    ..config.clone()
                };
                &picked
            }
            None => config,
        };
        let source = match &plan.source {
            PushSource::Image(image) => {
                let engine = Engine::connect(config).await?;
                // The local name too, as `docker tag` + `docker push` would leave it.
                if image.trim() != target.to_string() {
                    engine.tag(image, target).await?;
                }
                let via = plan.via.for_engine(
                    engine.info().image_store,
                    plan.needs_direct(),
                    link_memory::recall(config),
                );
                if via == Via::Engine {
                    return engine::push_with_engine(
                        &engine,
                        target,
                        &credentials.login,
                        &credentials.token,
                        cancel,
                        report,
                    )
                    .await;
                }
                DirectSource::Engine {
                    engine: Box::new(engine),
                    image: image.trim().to_string(),
                }
            }
            PushSource::Archive(path) => DirectSource::Archive(path.clone()),
        };
        direct::push_direct(config, source, plan, credentials, cancel, report).await
    }
    .await;
    match outcome {
        // A refusal from the registry (the push itself talks to nothing else) — "denied", or
        // "unauthorized" from a registry that answers so — is asked of GitHub before it is blamed on
        // the token.
        Err(denied) if matches!(denied.code, Code::RegistryDenied | Code::TokenInvalid) => {
            Err(why_denied(config, &plan.target, &credentials_login, &token, denied).await)
        }
        outcome => outcome,
    }
}

/// The wait before trying again after a bare 403 the registry no longer gives.
const PASSED_REFUSAL_WAIT_S: u64 = 10;

/// The registry says only "denied" or "unauthorized" (containerd and Podman not even that: "403
/// Forbidden"); when the token itself is the reason, GitHub's `GET /user` says so — revoked or expired
/// (401), or a classic token without write:packages (its X-OAuth-Scopes) — and when the owner is
/// neither the token's login nor one of its organizations, that is the reason: the error a person can
/// act on.
/// A bare 403 from a token that is fine is asked of the registry itself, with an upload session on
/// the target opened and cancelled: ghcr.io's secondary rate limit is a 403 whose words the engine
/// dropped, and a wait, not a token problem.
async fn why_denied(
    config: &Config,
    target: &Reference,
    login: &str,
    token: &Secret,
    denied: Error,
) -> Error {
    let Ok(github) = GitHub::new(config) else {
        return denied;
    };
    match github.authenticated_user(token).await {
        Err(invalid) if invalid.code == Code::TokenInvalid => return invalid,
        Ok(user)
            if user
                .scopes
                .as_ref()
                .is_some_and(|s| !s.iter().any(|s| s == WRITE)) =>
        {
            return Error::new(
                Code::TokenMissingScope,
                format!(
                    "The registry refused the push: this token of {} lacks {WRITE}",
                    user.login
                ),
                format!("Create a classic token with {WRITE} (Account → Create a token)."),
            )
            .arg("scope", WRITE);
        }
        Ok(user) => {
            if let Some(owner) = target.path().split('/').next() {
                let member = user.login.eq_ignore_ascii_case(owner)
                    || github
                        .organizations(token)
                        .await
                        .is_ok_and(|orgs| orgs.iter().any(|o| o.eq_ignore_ascii_case(owner)));
                if !member {
                    return Error::new(
                        Code::RegistryDenied,
                        format!(
                            "The registry refused the push: {} can't push to {owner} (the token is {}'s, who is neither {owner} nor a member of it)",
                            user.login, user.login
                        ),
                        format!(
                            "Push to {}/{} instead, or use a token of an account that may write {owner}'s packages.",
                            config.registry,
                            user.login.to_lowercase()
                        ),
                    );
                }
            }
        }
        _ => {}
    }
    if denied.code == Code::TokenInvalid {
        return denied; // GitHub takes the token; the registry's own refusal says the rest
    }
    if denied.message.to_ascii_lowercase().contains("denied") {
        return denied; // the registry's own words came through
    }
    match crate::registry::check_push_to(config, target.path(), login, token).await {
        Ok(PushCheck::NotChecked { reason }) => Error::new(
            Code::RegistryRateLimited,
            format!("The registry refused the push (403) and asks to slow down: {reason}"),
            "GHCR Desktop waits and tries again by itself; layers already uploaded are skipped.",
        ),
        // It has passed already: a short wait is enough.
        Ok(PushCheck::Allowed { .. }) => Error::new(
            Code::RegistryRateLimited,
            "The registry refused the engine's upload (403) but accepts pushes now: a passing refusal, such as ghcr.io's secondary rate limit",
            "GHCR Desktop waits and tries again by itself; layers already uploaded are skipped.",
        )
        .with_retry_after(Some(PASSED_REFUSAL_WAIT_S)),
        Ok(PushCheck::Denied { message, .. }) => Error::new(
            Code::RegistryDenied,
            format!("The registry refused the push: {message}"),
            denied.hint,
        ),
        Err(_) => denied,
    }
}

/// Makes the calling thread background work: nice 10 (on Linux the nice value is per thread, and
/// threads it starts inherit it), so the window, and whatever else the person is doing, get a core
/// first during a push. It cannot be undone (raising a priority needs privileges): call it only on
/// threads that do push work and nothing else.
pub(crate) fn as_background_work() {
    #[cfg(target_os = "linux")]
    // SAFETY: setpriority(2) on the calling thread (who = 0); no memory is involved.
    unsafe {
        libc::setpriority(libc::PRIO_PROCESS, 0, 10);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(source: PushSource, target: &str, via: Via, repo: Option<&str>) -> PushRequest {
        PushRequest {
            source,
            target: target.into(),
            via,
            source_repository: repo.map(str::to_string),
            engine: None,
            compression: Compression::Gzip,
        }
    }

    #[test]
    fn auto_goes_through_the_engine_where_that_measured_faster_and_direct_elsewhere() {
        let auto = |store| Via::Auto.for_engine(store, false, None);
        assert_eq!(auto(ImageStore::Containerd), Via::Engine);
        assert_eq!(auto(ImageStore::Podman), Via::Engine);
        assert_eq!(
            auto(ImageStore::Classic),
            Via::Direct,
            "a link not measured"
        );
        let over = |rate| Via::Auto.for_engine(ImageStore::Classic, false, Some(rate));
        assert_eq!(
            over(12.5e6),
            Via::Engine,
            "100 Mbit/s: docker's gzip keeps up"
        );
        assert_eq!(over(110e6), Via::Direct, "1 Gbit/s: every core compresses");
        assert_eq!(
            Via::Auto.for_engine(ImageStore::Classic, true, Some(2.5e6)),
            Via::Direct,
            "labels or zstd: only the direct push"
        );
        assert_eq!(
            Via::Auto.for_engine(ImageStore::Podman, true, None),
            Via::Direct,
            "labels"
        );
        assert_eq!(
            Via::Direct.for_engine(ImageStore::Podman, false, None),
            Via::Direct
        );
        assert_eq!(
            Via::Engine.for_engine(ImageStore::Classic, false, Some(1e9)),
            Via::Engine
        );
        let zstd = PushRequest {
            compression: Compression::Zstd,
            ..request(
                PushSource::Image("app:1".into()),
                "o/app:1",
                Via::Auto,
                None,
            )
        }
        .checked(&Config::github_com())
        .unwrap();
        assert!(
            zstd.needs_direct(),
            "only the direct push makes zstd layers"
        );
    }

    #[test]
    fn requests_that_cannot_work_are_refused_before_any_io() {
        let config = Config::github_com();
        let image = || PushSource::Image("app:1".into());
        assert_eq!(
            request(image(), "ghcr.io/o/app:1", Via::Engine, None)
                .checked(&config)
                .unwrap()
                .target
                .to_string(),
            "ghcr.io/o/app:1"
        );
        assert_eq!(
            request(image(), "o/app", Via::Direct, None)
                .checked(&config)
                .unwrap()
                .target
                .to_string(),
            "ghcr.io/o/app:latest"
        );
        for (bad, why) in [
            (
                request(image(), "ghcr.io/O/app:1", Via::Direct, None),
                "uppercase owner",
            ),
            (
                request(image(), "docker.io/o/app:1", Via::Direct, None),
                "another registry",
            ),
            (
                request(
                    PushSource::Archive("a.tar".into()),
                    "o/app",
                    Via::Engine,
                    None,
                ),
                "archive through the engine",
            ),
            (
                request(
                    image(),
                    "o/app",
                    Via::Engine,
                    Some("https://github.com/o/r"),
                ),
                "label through the engine",
            ),
            (
                request(
                    image(),
                    "o/app",
                    Via::Direct,
                    Some("https://example.com/o/r"),
                ),
                "repository elsewhere",
            ),
            (
                PushRequest {
                    compression: Compression::Zstd,
                    ..request(image(), "o/app", Via::Engine, None)
                },
                "zstd through the engine",
            ),
        ] {
            assert_eq!(
                bad.checked(&config).unwrap_err().code,
                Code::ReferenceInvalid,
                "{why}"
            );
        }
    }

    #[test]
    fn the_pull_command_names_the_pushed_tag() {
        let pushed = Pushed {
            reference: "localhost:5000/o/app:1".into(),
            digest: "sha256:abc".into(),
            size: 1,
            levels: BTreeMap::new(),
            compression: Compression::Gzip,
        };
        assert_eq!(pushed.pull_command(), "docker pull localhost:5000/o/app:1");
    }
}
