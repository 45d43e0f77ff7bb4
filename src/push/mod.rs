//! Pushing images, in two ways: through the engine (`engine`, Docker's own semantics, its stream read
//! by `stream`) and directly (`direct`: export or archive, parallel gzip, our own uploads, with
//! `compress`, `digest` and `blob_cache`). Both report through the progress model (`progress`); `jobs`
//! queues, cancels and retries them. [`push`] is the front door the CLI and the app share.

pub mod blob_cache;
pub mod compress;
pub mod digest;
pub mod direct;
pub mod engine;
pub mod jobs;
pub mod progress;
pub mod stream;

use crate::config::Config;
use crate::engine::Engine;
use crate::error::{Code, Error, Result};
use crate::github::GitHub;
use crate::reference::Reference;
use crate::registry::session::Credentials;
use crate::secret::Secret;
use direct::{DirectOptions, DirectSource};
use progress::Snapshot;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// A finished push: what is on the registry now (the manifest's digest and size).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Pushed {
    pub reference: String,
    pub digest: String,
    pub size: u64,
}

impl Pushed {
    /// The command that pulls what was pushed.
    pub fn pull_command(&self) -> String {
        format!("docker pull {}", self.reference)
    }
}

/// The package's page on GitHub: `/users/OWNER/…` for the person's own packages, `/orgs/OWNER/…`
/// for an organization's.
pub fn package_page(config: &Config, target: &Reference, login: &str) -> String {
    let kind = if target.owner().eq_ignore_ascii_case(login) {
        "users"
    } else {
        "orgs"
    };
    format!(
        "{}/{kind}/{}/packages/container/package/{}",
        config.web_url.as_str().trim_end_matches('/'),
        target.owner(),
        target.name()
    )
}

/// Which way a push goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Via {
    /// GHCR Desktop uploads (export or archive, parallel gzip): the default, measured faster.
    #[default]
    Direct,
    /// The engine uploads (`docker push` semantics).
    Engine,
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
}

impl PushRequest {
    /// The target as a reference on the configured registry, and the request checked for sense.
    pub fn checked_target(&self, config: &Config) -> Result<Reference> {
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
                    "Push archives directly (--via direct, the default).",
                ));
            }
            if self.source_repository.is_some() {
                return Err(Error::new(
                    Code::ReferenceInvalid,
                    "Connecting a repository changes the image config, which the engine cannot do",
                    "Push directly (--via direct, the default) to add the source label.",
                ));
            }
        }
        if let Some(url) = &self.source_repository {
            direct::source_repository(config, url)?;
        }
        Ok(target)
    }
}

/// Pushes as `request` says, reporting progress (at most ten snapshots a second, and the last).
/// Through the engine, the image is tagged as the target first (when it isn't already).
pub async fn push(
    config: &Config,
    request: &PushRequest,
    credentials: Credentials,
    report: impl FnMut(&Snapshot),
) -> Result<Pushed> {
    let token = credentials.token.clone();
    match push_as_requested(config, request, credentials, report).await {
        Err(denied) if denied.code == Code::RegistryDenied => {
            Err(why_denied(config, &token, denied).await)
        }
        outcome => outcome,
    }
}

/// The registry says only "denied"; when the token itself is the reason (revoked, expired), GitHub's
/// `GET /user` says so, and that is the error a person can act on (set up a new token).
async fn why_denied(config: &Config, token: &Secret, denied: Error) -> Error {
    let Ok(github) = GitHub::new(config) else {
        return denied;
    };
    match github.authenticated_user(token).await {
        Err(invalid) if invalid.code == Code::TokenInvalid => invalid,
        _ => denied,
    }
}

async fn push_as_requested(
    config: &Config,
    request: &PushRequest,
    credentials: Credentials,
    report: impl FnMut(&Snapshot),
) -> Result<Pushed> {
    let target = request.checked_target(config)?;
    let picked;
    let config = match &request.engine {
        Some(endpoint) => {
            picked = Config {
                docker_host: Some(endpoint.clone()),
                ..config.clone()
            };
            &picked
        }
        None => config,
    };
    match (&request.source, request.via) {
        (PushSource::Image(image), Via::Engine) => {
            let engine = Engine::connect(config).await?;
            if image.trim() != target.to_string() {
                engine.tag(image, &target).await?;
            }
            engine::push_with_engine(
                &engine,
                &target,
                &credentials.login,
                &credentials.token,
                report,
            )
            .await
        }
        (PushSource::Image(image), Via::Direct) => {
            let engine = Engine::connect(config).await?;
            // The local name too, as `docker tag` + `docker push` would leave it.
            if image.trim() != target.to_string() {
                engine.tag(image, &target).await?;
            }
            let options = DirectOptions::with_source_repository(
                config,
                request.source_repository.as_deref(),
            )?;
            let source = DirectSource::Engine {
                engine: Box::new(engine),
                image: image.trim().to_string(),
            };
            direct::push_direct(config, source, &target, credentials, &options, report).await
        }
        (PushSource::Archive(path), _) => {
            let options = DirectOptions::with_source_repository(
                config,
                request.source_repository.as_deref(),
            )?;
            let source = DirectSource::Archive(path.clone());
            direct::push_direct(config, source, &target, credentials, &options, report).await
        }
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
        }
    }

    #[test]
    fn requests_that_cannot_work_are_refused_before_any_io() {
        let config = Config::github_com();
        let image = || PushSource::Image("app:1".into());
        assert_eq!(
            request(image(), "ghcr.io/o/app:1", Via::Engine, None)
                .checked_target(&config)
                .unwrap()
                .to_string(),
            "ghcr.io/o/app:1"
        );
        assert_eq!(
            request(image(), "o/app", Via::Direct, None)
                .checked_target(&config)
                .unwrap()
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
        ] {
            assert_eq!(
                bad.checked_target(&config).unwrap_err().code,
                Code::ReferenceInvalid,
                "{why}"
            );
        }
    }

    #[test]
    fn package_pages_are_the_users_or_the_orgs() {
        let config = Config::github_com();
        let target = Reference::parse("ghcr.io/octo/app:1").unwrap();
        assert_eq!(
            package_page(&config, &target, "Octo"),
            "https://github.com/users/octo/packages/container/package/app"
        );
        assert_eq!(
            package_page(&config, &target, "someone"),
            "https://github.com/orgs/octo/packages/container/package/app"
        );
    }

    #[test]
    fn the_pull_command_names_the_pushed_tag() {
        let pushed = Pushed {
            reference: "localhost:5000/o/app:1".into(),
            digest: "sha256:abc".into(),
            size: 1,
        };
        assert_eq!(pushed.pull_command(), "docker pull localhost:5000/o/app:1");
    }
}
