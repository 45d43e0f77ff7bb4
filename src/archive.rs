//! Image archives as files describe them, parsed by pure functions: docker-archive's `manifest.json`
//! (`docker save`, also the engine's `GET /images/{name}/get`), the image config's `rootfs.diff_ids` and
//! labels, and the OCI image layout's `index.json`, manifests and indexes. What is read from disk or a
//! stream, and what is pushed, lives in `push::direct`.

use crate::error::{Code, Error, Result};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const DOCKER_MANIFEST_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
pub const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
pub const DOCKER_LAYER_GZIP: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
pub const OCI_LAYER_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
/// A zstd layer as OCI names it (BuildKit's Docker-style zstd type is refused by Podman from ghcr.io).
pub const OCI_LAYER_ZSTD: &str = "application/vnd.oci.image.layer.v1.tar+zstd";
/// Every manifest and index type, for an `Accept` that takes whatever the registry stores (ghcr.io
/// answers 404, not 406, when the stored type isn't accepted).
pub const MANIFEST_TYPES: [&str; 4] = [
    OCI_INDEX,
    OCI_MANIFEST,
    DOCKER_MANIFEST,
    DOCKER_MANIFEST_LIST,
];

/// One image of a docker-archive's `manifest.json`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct DockerArchiveImage {
    /// The config's path in the archive (`<hex>.json` or `blobs/sha256/<hex>`).
    #[serde(rename = "Config")]
    pub config: String,
    #[serde(rename = "RepoTags", default)]
    pub repo_tags: Option<Vec<String>>,
    /// Layer tar paths, base first.
    #[serde(rename = "Layers")]
    pub layers: Vec<String>,
}

fn invalid(what: impl Into<String>) -> Error {
    Error::new(
        Code::ArchiveInvalid,
        what,
        "Give a file made by `docker save` (.tar or .tar.gz) or an OCI image layout (folder or .tar).",
    )
}

/// Parses `manifest.json`; an archive with no image is invalid.
pub fn parse_docker_manifest(bytes: &[u8]) -> Result<Vec<DockerArchiveImage>> {
    let images: Vec<DockerArchiveImage> = serde_json::from_slice(bytes)
        .map_err(|e| invalid(format!("The archive's manifest.json is unreadable: {e}")))?;
    if images.is_empty() {
        return Err(invalid("The archive's manifest.json names no image"));
    }
    Ok(images)
}

/// The image of a docker-archive to push: the only one, or the one tagged `wanted`.
pub fn pick_docker_image<'a>(
    images: &'a [DockerArchiveImage],
    wanted: Option<&str>,
) -> Result<&'a DockerArchiveImage> {
    if let [only] = images {
        return Ok(only);
    }
    let tagged = |tag: &str| {
        images.iter().find(|image| {
            image
                .repo_tags
                .iter()
                .flatten()
                .any(|t| t == tag || t.strip_prefix("docker.io/library/") == Some(tag))
        })
    };
    wanted.and_then(tagged).ok_or_else(|| {
        let tags: Vec<String> = images
            .iter()
            .flat_map(|i| i.repo_tags.clone().unwrap_or_default())
            .collect();
        invalid(format!(
            "The archive holds {} images ({}); say which one to push",
            images.len(),
            tags.join(", ")
        ))
    })
}

/// `rootfs.diff_ids` of an image config.
pub fn diff_ids(config: &[u8]) -> Result<Vec<String>> {
    #[derive(Deserialize)]
    struct RootFs {
        #[serde(default)]
        diff_ids: Vec<String>,
    }
    #[derive(Deserialize)]
    struct Config {
        rootfs: RootFs,
    }
    let config: Config = serde_json::from_slice(config)
        .map_err(|e| invalid(format!("The image config is unreadable: {e}")))?;
    if let Some(bad) = config.rootfs.diff_ids.iter().find(|d| !is_sha256_digest(d)) {
        return Err(invalid(format!(
            "The image config names a bad layer digest {bad:?}"
        )));
    }
    Ok(config.rootfs.diff_ids)
}

/// `sha256:` and 64 lowercase hex digits.
pub fn is_sha256_digest(text: &str) -> bool {
    text.strip_prefix("sha256:").is_some_and(|hex| {
        hex.len() == 64
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

/// The config with `labels` added to `config.Labels` (existing labels of the same name replaced);
/// unchanged bytes when there is nothing to add.
pub fn with_labels(config: &[u8], labels: &BTreeMap<String, String>) -> Result<Vec<u8>> {
    if labels.is_empty() {
        return Ok(config.to_vec());
    }
    let mut value: Value = serde_json::from_slice(config)
        .map_err(|e| invalid(format!("The image config is unreadable: {e}")))?;
    let object = value
        .as_object_mut()
        .ok_or_else(|| invalid("The image config is not a JSON object"))?;
    let inner = object
        .entry("config")
        .or_insert_with(|| Value::Object(Default::default()));
    if inner.is_null() {
        *inner = Value::Object(Default::default());
    }
    let inner = inner
        .as_object_mut()
        .ok_or_else(|| invalid("The image config's config is not an object"))?;
    let existing = inner
        .entry("Labels")
        .or_insert_with(|| Value::Object(Default::default()));
    if existing.is_null() {
        *existing = Value::Object(Default::default());
    }
    let existing = existing
        .as_object_mut()
        .ok_or_else(|| invalid("The image config's labels are not an object"))?;
    for (key, text) in labels {
        existing.insert(key.clone(), Value::String(text.clone()));
    }
    serde_json::to_vec(&value).map_err(|e| invalid(e.to_string()))
}

/// An OCI descriptor (also what a Docker v2 manifest lists).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Descriptor {
    #[serde(rename = "mediaType")]
    pub media_type: String,
    pub digest: String,
    pub size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
}

/// An image manifest (Docker v2 schema 2 or OCI): what the registry stores under a tag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageManifest {
    #[serde(rename = "schemaVersion")]
    pub schema_version: u32,
    #[serde(rename = "mediaType", default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    pub config: Descriptor,
    pub layers: Vec<Descriptor>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
}

/// An image index (OCI) or manifest list (Docker), and the OCI layout's own `index.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageIndex {
    #[serde(rename = "schemaVersion")]
    pub schema_version: u32,
    #[serde(rename = "mediaType", default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    pub manifests: Vec<Descriptor>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
}

pub fn parse_manifest(bytes: &[u8]) -> Result<ImageManifest> {
    let manifest: ImageManifest = serde_json::from_slice(bytes).map_err(|e| {
        invalid(format!(
            "An image manifest in the archive is unreadable: {e}"
        ))
    })?;
    check_descriptors(std::iter::once(&manifest.config).chain(&manifest.layers))?;
    Ok(manifest)
}

pub fn parse_index(bytes: &[u8]) -> Result<ImageIndex> {
    let index: ImageIndex = serde_json::from_slice(bytes)
        .map_err(|e| invalid(format!("An image index in the archive is unreadable: {e}")))?;
    check_descriptors(&index.manifests)?;
    if index.manifests.is_empty() {
        return Err(invalid("The archive's index names no image"));
    }
    Ok(index)
}

fn check_descriptors<'a>(descriptors: impl IntoIterator<Item = &'a Descriptor>) -> Result<()> {
    for descriptor in descriptors {
        if !is_sha256_digest(&descriptor.digest) {
            return Err(invalid(format!(
                "The archive names a blob by {:?}; only sha256 digests are supported",
                descriptor.digest
            )));
        }
    }
    Ok(())
}

/// Whether a descriptor's media type is an index (multi-platform) rather than one image.
pub fn is_index(media_type: &str) -> bool {
    media_type == OCI_INDEX || media_type == DOCKER_MANIFEST_LIST
}

/// The one image of an OCI layout's `index.json` to push: the only one, or the one whose
/// `org.opencontainers.image.ref.name` is `wanted`.
pub fn pick_oci_image<'a>(index: &'a ImageIndex, wanted: Option<&str>) -> Result<&'a Descriptor> {
    if let [only] = index.manifests.as_slice() {
        return Ok(only);
    }
    let name = |d: &Descriptor| {
        d.annotations
            .as_ref()
            .and_then(|a| a.get("org.opencontainers.image.ref.name"))
            .cloned()
    };
    wanted
        .and_then(|wanted| {
            index
                .manifests
                .iter()
                .find(|d| name(d).as_deref() == Some(wanted))
        })
        .ok_or_else(|| {
            let names: Vec<String> = index.manifests.iter().filter_map(name).collect();
            invalid(format!(
                "The layout holds {} images ({}); say which one to push",
                index.manifests.len(),
                names.join(", ")
            ))
        })
}

/// A blob path of an OCI layout (`blobs/sha256/<hex>`) as its digest.
pub fn blob_path_digest(path: &str) -> Option<String> {
    let path = path.trim_start_matches("./");
    let hex = path.strip_prefix("blobs/sha256/")?;
    let digest = format!("sha256:{hex}");
    is_sha256_digest(&digest).then_some(digest)
}

/// Whether a layer media type is already compressed (pushed as it is) or a plain tar (compressed first).
/// The manifest with Docker's media types given their OCI equivalents (a zstd layer exists only as an
/// OCI type, and an OCI type in a Docker-typed manifest is refused by some clients): the manifest,
/// its config and its layers. Types without an equivalent are left as they are.
pub fn with_oci_types(manifest: &mut ImageManifest) {
    let oci = |media_type: &str| -> Option<&'static str> {
        Some(match media_type {
            DOCKER_MANIFEST => OCI_MANIFEST,
            DOCKER_CONFIG => OCI_CONFIG,
            DOCKER_LAYER_GZIP => OCI_LAYER_GZIP,
            "application/vnd.docker.image.rootfs.diff.tar" => {
                "application/vnd.oci.image.layer.v1.tar"
            }
            "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip" => {
                "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"
            }
            _ => return None,
        })
    };
    manifest.media_type = Some(OCI_MANIFEST.to_string());
    for descriptor in std::iter::once(&mut manifest.config).chain(manifest.layers.iter_mut()) {
        if let Some(media_type) = oci(&descriptor.media_type) {
            descriptor.media_type = media_type.to_string();
        }
    }
}

pub fn is_compressed_layer(media_type: &str) -> bool {
    media_type.ends_with("+gzip") || media_type.ends_with("+zstd") || media_type.ends_with(".gzip")
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    #[test]
    fn docker_save_manifests_parse_and_the_image_is_picked_by_tag() {
        let manifest = format!(
            r#"[{{"Config":"{HEX}.json","RepoTags":["a:1"],"Layers":["x/layer.tar","y/layer.tar"]}},
                {{"Config":"b.json","RepoTags":["ghcr.io/o/b:2"],"Layers":[]}}]"#
        );
        let images = parse_docker_manifest(manifest.as_bytes()).unwrap();
        assert_eq!(images[0].layers, ["x/layer.tar", "y/layer.tar"]);
        assert_eq!(
            pick_docker_image(&images, Some("ghcr.io/o/b:2"))
                .unwrap()
                .config,
            "b.json"
        );
        let error = pick_docker_image(&images, None).unwrap_err();
        assert_eq!(error.code, Code::ArchiveInvalid);
        assert!(
            error.message.contains("a:1, ghcr.io/o/b:2"),
            "{}",
            error.message
        );
        assert!(parse_docker_manifest(b"[]").is_err());
        assert!(parse_docker_manifest(b"{").is_err());
    }

    #[test]
    fn diff_ids_are_read_and_checked() {
        let config = format!(r#"{{"rootfs":{{"type":"layers","diff_ids":["sha256:{HEX}"]}}}}"#);
        assert_eq!(
            diff_ids(config.as_bytes()).unwrap(),
            [format!("sha256:{HEX}")]
        );
        assert!(diff_ids(br#"{"rootfs":{"diff_ids":["md5:00"]}}"#).is_err());
        assert!(diff_ids(b"[]").is_err());
    }

    #[test]
    fn labels_are_added_keeping_the_rest_of_the_config() {
        let labels = BTreeMap::from([(
            "org.opencontainers.image.source".to_string(),
            "https://github.com/o/r".to_string(),
        )]);
        let config = br#"{"architecture":"amd64","config":{"Labels":{"keep":"1"},"Env":["A=1"]},"rootfs":{"diff_ids":[]}}"#;
        let out: Value = serde_json::from_slice(&with_labels(config, &labels).unwrap()).unwrap();
        assert_eq!(out["config"]["Labels"]["keep"], "1");
        assert_eq!(
            out["config"]["Labels"]["org.opencontainers.image.source"],
            "https://github.com/o/r"
        );
        assert_eq!(out["config"]["Env"][0], "A=1");
        let bare: Value = serde_json::from_slice(
            &with_labels(br#"{"config":{"Labels":null}}"#, &labels).unwrap(),
        )
        .unwrap();
        assert_eq!(
            bare["config"]["Labels"]["org.opencontainers.image.source"],
            "https://github.com/o/r"
        );
        assert_eq!(
            with_labels(config, &BTreeMap::new()).unwrap(),
            config.to_vec()
        );
    }

    #[test]
    fn oci_indexes_and_manifests_parse_and_refuse_other_digests() {
        let index = format!(
            r#"{{"schemaVersion":2,"manifests":[{{"mediaType":"{OCI_MANIFEST}","digest":"sha256:{HEX}","size":7,
               "annotations":{{"org.opencontainers.image.ref.name":"v1"}}}}]}}"#
        );
        let index = parse_index(index.as_bytes()).unwrap();
        assert_eq!(pick_oci_image(&index, None).unwrap().size, 7);
        let manifest = format!(
            r#"{{"schemaVersion":2,"mediaType":"{OCI_MANIFEST}","config":{{"mediaType":"c","digest":"sha256:{HEX}","size":1}},
               "layers":[{{"mediaType":"{OCI_LAYER_GZIP}","digest":"sha512:00","size":2}}]}}"#
        );
        assert_eq!(
            parse_manifest(manifest.as_bytes()).unwrap_err().code,
            Code::ArchiveInvalid
        );
        assert!(parse_index(br#"{"schemaVersion":2,"manifests":[]}"#).is_err());
    }

    #[test]
    fn blob_paths_name_their_digest() {
        assert_eq!(
            blob_path_digest(&format!("blobs/sha256/{HEX}")),
            Some(format!("sha256:{HEX}"))
        );
        assert_eq!(
            blob_path_digest(&format!("./blobs/sha256/{HEX}")),
            Some(format!("sha256:{HEX}"))
        );
        assert_eq!(blob_path_digest("blobs/sha256/zz"), None);
        assert_eq!(blob_path_digest("manifest.json"), None);
        assert!(is_compressed_layer(OCI_LAYER_GZIP));
        assert!(is_compressed_layer(OCI_LAYER_ZSTD));
        assert!(is_compressed_layer(DOCKER_LAYER_GZIP));
        assert!(!is_compressed_layer(
            "application/vnd.oci.image.layer.v1.tar"
        ));
    }

    #[test]
    fn a_docker_manifest_takes_the_oci_types_and_keeps_what_has_none() {
        let layer = |media_type: &str| Descriptor {
            media_type: media_type.to_string(),
            digest: format!("sha256:{HEX}"),
            size: 1,
            platform: None,
            annotations: None,
        };
        let mut manifest = ImageManifest {
            schema_version: 2,
            media_type: Some(DOCKER_MANIFEST.to_string()),
            config: layer(DOCKER_CONFIG),
            layers: vec![
                layer(DOCKER_LAYER_GZIP),
                layer(OCI_LAYER_ZSTD),
                layer("application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"),
                layer("application/x-something-else"),
            ],
            annotations: None,
        };
        with_oci_types(&mut manifest);
        assert_eq!(manifest.media_type.as_deref(), Some(OCI_MANIFEST));
        assert_eq!(manifest.config.media_type, OCI_CONFIG);
        let types: Vec<&str> = manifest
            .layers
            .iter()
            .map(|l| l.media_type.as_str())
            .collect();
        assert_eq!(
            types,
            [
                OCI_LAYER_GZIP,
                OCI_LAYER_ZSTD,
                "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
                "application/x-something-else"
            ]
        );
    }
}
