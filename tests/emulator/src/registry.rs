//! The emulator's side of the real registry: it learns packages from the registry's push notifications
//! (reading the image's `org.opencontainers.image.source` to link a repository), and deletes or restores
//! manifests when the API deletes or restores versions, with its own all-powerful registry token.

use crate::app::Shared;
use crate::token_service::{Access, Signer};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::Value;
use std::time::Duration;

pub const MANIFEST_TYPES: [&str; 4] = [
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
];

const SOURCE_LABEL: &str = "org.opencontainers.image.source";

pub struct Registry {
    base: String,
    http: reqwest::Client,
}

impl Registry {
    /// `authority` is the registry's `host:port` on loopback.
    pub fn new(authority: &str) -> Result<Registry, String> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Registry {
            base: format!("http://{authority}"),
            http,
        })
    }

    fn admin(&self, signer: &Signer, repository: &str) -> Result<String, String> {
        signer.sign(
            "ghcr-emulator",
            vec![Access {
                kind: "repository".into(),
                name: repository.into(),
                actions: vec!["pull".into(), "push".into(), "delete".into(), "*".into()],
            }],
        )
    }

    /// A manifest's media type and bytes.
    pub async fn manifest(
        &self,
        signer: &Signer,
        repository: &str,
        reference: &str,
    ) -> Result<(String, Vec<u8>), String> {
        let response = self
            .http
            .get(format!(
                "{}/v2/{repository}/manifests/{reference}",
                self.base
            ))
            .bearer_auth(self.admin(signer, repository)?)
            .header("accept", MANIFEST_TYPES.join(", "))
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if !response.status().is_success() {
            return Err(format!(
                "manifest {repository}@{reference}: HTTP {}",
                response.status()
            ));
        }
        let media_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let bytes = response.bytes().await.map_err(|e| e.to_string())?;
        Ok((media_type, bytes.to_vec()))
    }

    async fn blob(
        &self,
        signer: &Signer,
        repository: &str,
        digest: &str,
    ) -> Result<Vec<u8>, String> {
        let response = self
            .http
            .get(format!("{}/v2/{repository}/blobs/{digest}", self.base))
            .bearer_auth(self.admin(signer, repository)?)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if !response.status().is_success() {
            return Err(format!(
                "blob {repository}@{digest}: HTTP {}",
                response.status()
            ));
        }
        Ok(response.bytes().await.map_err(|e| e.to_string())?.to_vec())
    }

    pub async fn delete_manifest(
        &self,
        signer: &Signer,
        repository: &str,
        digest: &str,
    ) -> Result<(), String> {
        let response = self
            .http
            .delete(format!("{}/v2/{repository}/manifests/{digest}", self.base))
            .bearer_auth(self.admin(signer, repository)?)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        match response.status() {
            status if status.is_success() || status == StatusCode::NOT_FOUND => Ok(()),
            status => Err(format!("delete {repository}@{digest}: HTTP {status}")),
        }
    }

    pub async fn put_manifest(
        &self,
        signer: &Signer,
        repository: &str,
        reference: &str,
        media_type: &str,
        bytes: Vec<u8>,
    ) -> Result<(), String> {
        let response = self
            .http
            .put(format!(
                "{}/v2/{repository}/manifests/{reference}",
                self.base
            ))
            .bearer_auth(self.admin(signer, repository)?)
            .header("content-type", media_type)
            .body(bytes)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if !response.status().is_success() {
            return Err(format!(
                "put {repository}:{reference}: HTTP {}",
                response.status()
            ));
        }
        Ok(())
    }

    /// The `org.opencontainers.image.source` an image names: a manifest or index annotation, or a
    /// label in the image config.
    async fn source_label(
        &self,
        signer: &Signer,
        repository: &str,
        manifest: &Value,
    ) -> Option<String> {
        if let Some(source) = manifest["annotations"][SOURCE_LABEL].as_str() {
            return Some(source.to_string());
        }
        let config_digest = manifest["config"]["digest"].as_str()?;
        let config = self.blob(signer, repository, config_digest).await.ok()?;
        let config: Value = serde_json::from_slice(&config).ok()?;
        config["config"]["Labels"][SOURCE_LABEL]
            .as_str()
            .map(str::to_string)
    }
}

/// `https://github.com/OWNER/REPO` (or `.git`, or any host) → (OWNER, REPO).
pub fn repository_of_source(url: &str) -> Option<(String, String)> {
    let rest = url.split_once("://")?.1;
    let mut parts = rest.split('/').skip(1).filter(|p| !p.is_empty());
    let owner = parts.next()?;
    let repo = parts.next()?.trim_end_matches(".git");
    if parts.next().is_some() || repo.is_empty() {
        return None;
    }
    Some((owner.to_string(), repo.to_string()))
}

#[derive(Deserialize)]
struct Envelope {
    events: Vec<Event>,
}

#[derive(Deserialize)]
struct Event {
    action: String,
    target: Target,
}

#[derive(Deserialize)]
struct Target {
    #[serde(rename = "mediaType", default)]
    media_type: String,
    #[serde(default)]
    digest: String,
    #[serde(default)]
    repository: String,
    tag: Option<String>,
}

/// `POST /_emulator/registry-events`: the registry's notification endpoint. Manifest pushes become
/// package versions and tags; everything else (blob pushes, pulls) is acknowledged and ignored.
pub async fn registry_events(State(app): State<Shared>, body: Bytes) -> StatusCode {
    let Ok(envelope) = serde_json::from_slice::<Envelope>(&body) else {
        return StatusCode::BAD_REQUEST;
    };
    for event in envelope.events {
        let target = event.target;
        if event.action != "push" || !MANIFEST_TYPES.contains(&target.media_type.as_str()) {
            continue;
        }
        let source = match app
            .registry
            .manifest(&app.signer, &target.repository, &target.digest)
            .await
        {
            Ok((_, bytes)) => match serde_json::from_slice::<Value>(&bytes) {
                Ok(manifest) => {
                    app.registry
                        .source_label(&app.signer, &target.repository, &manifest)
                        .await
                }
                Err(_) => None,
            },
            Err(error) => {
                eprintln!("emulator: cannot read pushed manifest: {error}");
                None
            }
        };
        let recorded = app.world().record_push(
            &target.repository,
            &target.digest,
            target.tag.as_deref(),
            source.as_deref().and_then(repository_of_source),
        );
        if recorded.is_none() {
            eprintln!(
                "emulator: push to {} names no known owner",
                target.repository
            );
        }
    }
    StatusCode::OK
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_urls_name_owner_and_repository() {
        assert_eq!(
            repository_of_source("https://github.com/Octo-Cat/hello"),
            Some(("Octo-Cat".into(), "hello".into()))
        );
        assert_eq!(
            repository_of_source("https://github.com/octo-cat/hello.git/"),
            Some(("octo-cat".into(), "hello".into()))
        );
        for bad in [
            "",
            "github.com/a/b",
            "https://github.com/a",
            "https://github.com/a/b/tree/main",
        ] {
            assert_eq!(repository_of_source(bad), None, "{bad:?}");
        }
    }
}
