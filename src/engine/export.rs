//! What the direct push needs from the engine: an image's config digest and layer digests
//! (`GET /images/{name}/json`), and the image as a docker-archive stream (`GET /images/{name}/get`)
//! handed to a blocking reader, so that layers are compressed while the engine still exports.

use super::images::encode;
use super::Engine;
use crate::error::{Code, Error, Result};
use bytes::Bytes;
use http_body_util::BodyExt;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use std::io::Read;
use std::time::Duration;
use tokio::sync::mpsc;

const INSPECT_TIMEOUT: Duration = Duration::from_secs(10);
const OPEN_TIMEOUT: Duration = Duration::from_secs(30);
/// Frames waiting for the reader: a few MB of export in flight at most.
const FRAMES_IN_FLIGHT: usize = 64;

/// What the engine says of one image: its ID (the config digest; the manifest digest on the
/// containerd store), its layers' diff_ids, and the repositories it was pulled from or pushed to
/// (`REGISTRY/PATH@DIGEST`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageLayers {
    pub id: String,
    pub diff_ids: Vec<String>,
    pub repo_digests: Vec<String>,
    /// The image's size as the engine counts it (its layers' contents, uncompressed).
    pub size: u64,
}

#[derive(Deserialize)]
struct Inspect {
    #[serde(rename = "Id")]
    id: String,
    #[serde(rename = "RootFS")]
    root_fs: RootFs,
    #[serde(rename = "RepoDigests", default)]
    repo_digests: Option<Vec<String>>,
    #[serde(rename = "Size", default)]
    size: u64,
}

#[derive(Deserialize)]
struct RootFs {
    #[serde(rename = "Layers", default)]
    layers: Vec<String>,
}

impl Engine {
    /// `GET /images/{name}/json`: the image's ID and layer digests.
    pub async fn image_layers(&self, name: &str) -> Result<ImageLayers> {
        let inspect: Inspect = self.inspect(name).await?.ok_or_else(|| not_found(name))?;
        Ok(ImageLayers {
            id: inspect.id,
            diff_ids: inspect.root_fs.layers,
            repo_digests: inspect.repo_digests.unwrap_or_default(),
            size: inspect.size,
        })
    }

    /// `GET /images/{name}/json`, read as `T` (the fields a caller needs); `None` when the engine has
    /// no such image.
    pub(crate) async fn inspect<T: DeserializeOwned>(&self, name: &str) -> Result<Option<T>> {
        let path = format!("/v{}/images/{}/json", self.api, encode(name));
        let answer = self
            .transport
            .get(&path, INSPECT_TIMEOUT, super::SMALL_BODY * 4)
            .await
            .map_err(|e| self.lost(e))?;
        if answer.status.as_u16() == 404 {
            return Ok(None);
        }
        if !answer.status.is_success() {
            return Err(self.refused("inspect the image", answer.status, &answer.body));
        }
        serde_json::from_slice(&answer.body).map(Some).map_err(|e| {
            Error::new(
                Code::EngineProtocol,
                format!("The engine's description of {name} could not be read: {e}"),
                "Check that DOCKER_HOST points at a Docker or Podman engine.",
            )
        })
    }

    /// `GET /images/{name}/get`: the image as a docker-archive tar, to be read on a blocking thread.
    /// Dropping the reader stops the export.
    pub async fn export(&self, name: &str) -> Result<ExportReader> {
        let path = format!("/v{}/images/{}/get", self.api, encode(name));
        let response = self
            .transport
            .open(&path, OPEN_TIMEOUT)
            .await
            .map_err(|e| self.lost(e))?;
        if response.status().as_u16() == 404 {
            return Err(not_found(name));
        }
        if !response.status().is_success() {
            return Err(self.refused_stream("export the image", response).await);
        }
        let (sender, frames) = mpsc::channel(FRAMES_IN_FLIGHT);
        let mut body = response.into_body();
        tokio::spawn(async move {
            loop {
                let frame = match body.frame().await {
                    None => break,
                    Some(Ok(frame)) => match frame.into_data() {
                        Ok(data) => Ok(data),
                        Err(_) => continue,
                    },
                    Some(Err(e)) => Err(e.to_string()),
                };
                let failed = frame.is_err();
                // Waiting here for room is the back-pressure on the engine.
                let sent = sender.send(frame).await;
                if sent.is_err() || failed {
                    break;
                }
            }
        });
        Ok(ExportReader {
            frames,
            current: Bytes::new(),
            endpoint: self.transport.endpoint().to_string(),
        })
    }
}

fn not_found(name: &str) -> Error {
    Error::new(
        Code::ImageNotFound,
        format!("The engine has no image {name}"),
        "Check the name with `ghcr images` (or `docker images`).",
    )
}

/// The export stream as a `Read` for a blocking thread (never a runtime thread); an engine that stops mid-export is a read error.
pub struct ExportReader {
    frames: mpsc::Receiver<Result<Bytes, String>>,
    current: Bytes,
    endpoint: String,
}

impl ExportReader {
    /// The error a person sees when the export breaks off.
    pub fn broken(endpoint: &str, error: &std::io::Error) -> Error {
        Error::new(
            Code::EngineUnreachable,
            format!("The container engine at {endpoint} stopped exporting the image: {error}"),
            "Check that Docker or Podman is running, then push again.",
        )
    }

    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }
}

impl Read for ExportReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.current.is_empty() {
            match self.frames.blocking_recv() {
                Some(Ok(data)) => self.current = data,
                Some(Err(e)) => return Err(std::io::Error::other(e)),
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current.split_to(n));
        Ok(n)
    }
}
