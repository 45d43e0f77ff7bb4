//! Engine API versions and their negotiation: speak the newest version both sides know, as the docker
//! CLI does (Debian's dockerd 20.10 and Podman's compat API stop at 1.41). Also names the product from
//! `GET /version`. Pure.

use crate::error::{Code, Error, Result};
use serde::{Deserialize, Serialize};
use std::fmt;

/// An Engine API version such as `1.41`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ApiVersion {
    pub major: u32,
    pub minor: u32,
}

impl ApiVersion {
    pub const fn new(major: u32, minor: u32) -> Self {
        ApiVersion { major, minor }
    }

    pub fn parse(text: &str) -> Option<ApiVersion> {
        let (major, minor) = text.trim().split_once('.')?;
        Some(ApiVersion {
            major: major.parse().ok()?,
            minor: minor.parse().ok()?,
        })
    }
}

impl fmt::Display for ApiVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// The newest API this build knows (Docker 27).
pub const NEWEST_KNOWN: ApiVersion = ApiVersion::new(1, 47);
/// The oldest API this build can work with (Docker 19.03).
pub const OLDEST_SUPPORTED: ApiVersion = ApiVersion::new(1, 40);
/// What the docker CLI assumes when `/_ping` names no version.
const UNNAMED: ApiVersion = ApiVersion::new(1, 24);

/// Chooses the version to speak from the `API-Version` header of `GET /_ping`.
pub fn negotiate(server_header: Option<&str>) -> Result<ApiVersion> {
    let server = match server_header {
        None => UNNAMED,
        Some(text) => ApiVersion::parse(text).ok_or_else(|| {
            Error::new(
                Code::EngineProtocol,
                format!("The engine announced an API version GHCR Desktop cannot read ({text:?})"),
                "Check that DOCKER_HOST points at a Docker or Podman engine.",
            )
        })?,
    };
    if server < OLDEST_SUPPORTED {
        return Err(Error::new(
            Code::EngineTooOld,
            format!(
                "The engine speaks API {server}; GHCR Desktop needs {OLDEST_SUPPORTED} or newer"
            ),
            "Update Docker to 19.03 or newer, or Podman to 3.0 or newer.",
        ));
    }
    Ok(server.min(NEWEST_KNOWN))
}

/// The parts of `GET /version` that GHCR Desktop shows.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct VersionResponse {
    #[serde(default)]
    pub version: String,
    #[serde(default)]
    pub api_version: String,
    #[serde(default, rename = "MinAPIVersion")]
    pub min_api_version: String,
    #[serde(default)]
    pub os: String,
    #[serde(default)]
    pub arch: String,
    #[serde(default)]
    pub platform: Option<Platform>,
    #[serde(default)]
    pub components: Option<Vec<Component>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Platform {
    #[serde(default)]
    pub name: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Component {
    #[serde(default)]
    pub name: String,
}

/// Where an engine keeps its images, which decides what its export holds and what an image ID is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ImageStore {
    /// Docker's graph drivers (overlay2, vfs): IDs are config digests, the export has plain tar layers.
    Classic,
    /// Docker's containerd image store (new installs of Docker 29, Docker Desktop): IDs are manifest
    /// digests, the export is an OCI layout of the stored (compressed) blobs.
    Containerd,
    /// Podman's containers/storage.
    Podman,
}

impl ImageStore {
    /// For people: where the engine keeps its images.
    pub fn describe(self) -> &'static str {
        match self {
            ImageStore::Classic => "classic image store (graph driver)",
            ImageStore::Containerd => "containerd image store",
            ImageStore::Podman => "Podman's containers-storage",
        }
    }
}

/// The parts of `GET /info` that tell the image store.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct InfoResponse {
    #[serde(default)]
    pub driver_status: Option<Vec<Vec<String>>>,
}

/// The image store of an engine that calls itself `product` and answered `GET /info` with `info`.
pub fn image_store(product: &str, info: &InfoResponse) -> ImageStore {
    let snapshotter = info.driver_status.iter().flatten().any(|pair| {
        pair.iter()
            .any(|v| v.starts_with("io.containerd.snapshotter"))
    });
    if product == "Podman" {
        ImageStore::Podman
    } else if snapshotter {
        ImageStore::Containerd
    } else {
        ImageStore::Classic
    }
}

/// "Docker Engine", "Docker Desktop" or "Podman", from what the engine says of itself.
pub fn product_name(version: &VersionResponse) -> &'static str {
    let components = version.components.as_deref().unwrap_or_default();
    let platform = version
        .platform
        .as_ref()
        .map(|p| p.name.as_str())
        .unwrap_or_default();
    if components.iter().any(|c| c.name.contains("Podman")) || platform.contains("Podman") {
        "Podman"
    } else if platform.contains("Docker Desktop") {
        "Docker Desktop"
    } else {
        "Docker Engine"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_containerd_store_is_told_by_its_snapshotter_driver_type() {
        let info = |json: &str| serde_json::from_str::<InfoResponse>(json).unwrap();
        let docker_26 = info(
            r#"{"Driver":"overlayfs","DriverStatus":[["driver-type","io.containerd.snapshotter.v1"]]}"#,
        );
        let docker_20 = info(
            r#"{"Driver":"overlay2","DriverStatus":[["Backing Filesystem","extfs"],["Supports d_type","true"]]}"#,
        );
        assert_eq!(
            image_store("Docker Engine", &docker_26),
            ImageStore::Containerd
        );
        assert_eq!(
            image_store("Docker Desktop", &docker_26),
            ImageStore::Containerd
        );
        assert_eq!(
            image_store("Docker Engine", &docker_20),
            ImageStore::Classic
        );
        assert_eq!(
            image_store("Docker Engine", &info("{}")),
            ImageStore::Classic
        );
        assert_eq!(
            image_store("Podman", &info(r#"{"DriverStatus":null}"#)),
            ImageStore::Podman
        );
    }

    #[test]
    fn negotiates_down_to_an_older_engine() {
        assert_eq!(negotiate(Some("1.41")).unwrap(), ApiVersion::new(1, 41));
    }

    #[test]
    fn newer_engines_are_spoken_to_in_the_newest_known_version() {
        assert_eq!(negotiate(Some("1.52")).unwrap(), NEWEST_KNOWN);
        assert_eq!(negotiate(Some("2.0")).unwrap(), NEWEST_KNOWN);
    }

    #[test]
    fn versions_compare_numerically_not_as_text() {
        assert!(ApiVersion::parse("1.9").unwrap() < ApiVersion::parse("1.41").unwrap());
        assert_eq!(ApiVersion::parse(" 1.41 ").unwrap().to_string(), "1.41");
    }

    #[test]
    fn too_old_or_unnamed_versions_are_refused_with_an_update_hint() {
        for header in [Some("1.39"), Some("1.12"), None] {
            let error = negotiate(header).unwrap_err();
            assert_eq!(error.code, Code::EngineTooOld, "{header:?}");
            assert!(error.hint.contains("Update"), "{error}");
        }
    }

    #[test]
    fn unreadable_versions_are_protocol_errors() {
        for header in ["", "one.two", "1", "1.", "1.-3", "99999999999.1"] {
            let error = negotiate(Some(header)).unwrap_err();
            assert_eq!(error.code, Code::EngineProtocol, "{header:?}");
        }
    }

    #[test]
    fn product_is_named_from_components_and_platform() {
        let docker: VersionResponse = serde_json::from_str(
            r#"{"Platform":{"Name":""},"Components":[{"Name":"Engine"}],"Version":"20.10.24"}"#,
        )
        .unwrap();
        assert_eq!(product_name(&docker), "Docker Engine");
        let desktop: VersionResponse =
            serde_json::from_str(r#"{"Platform":{"Name":"Docker Desktop 4.36.0 (175267)"}}"#)
                .unwrap();
        assert_eq!(product_name(&desktop), "Docker Desktop");
        let podman: VersionResponse = serde_json::from_str(
            r#"{"Platform":{"Name":"linux/amd64/debian-12"},"Components":[{"Name":"Podman Engine"}]}"#,
        )
        .unwrap();
        assert_eq!(product_name(&podman), "Podman");
        assert_eq!(product_name(&VersionResponse::default()), "Docker Engine");
    }
}
