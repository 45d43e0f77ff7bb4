//! The manifest step, once every layer is on the registry: the image config (with the labels asked
//! for) and a Docker v2 manifest for docker-archives (an OCI one when a layer is zstd: Docker's schema
//! has no zstd type), or the OCI manifests and index of a layout as they are (changed only where a
//! layer was compressed here or a label added; a Docker-typed manifest given a zstd layer becomes an
//! OCI one, and its index with it). Always last: no tag before its blobs.

use super::walk::{stored_compression, Collected, Done};
use super::ReadAgain;
use super::{archive_invalid, failed, lock, short, ReadError, Work};
use crate::archive::{self, Descriptor, ImageManifest};
use crate::digest::sha256_digest;
use crate::error::{Code, Error, Result};
use crate::push::blob_cache::CachedBlob;
use crate::push::compress::Compression;
use crate::push::progress::LayerState;
use crate::push::Pushed;
use bytes::Bytes;
use std::collections::BTreeMap;
use std::sync::Arc;

impl Work {
    /// Config (with the labels) and a manifest of `layers` under the tag: Docker v2 when every layer
    /// is gzip (what `docker push` writes), OCI when one is zstd.
    pub(super) async fn put_image_manifest(
        &self,
        config: &[u8],
        layers: Vec<CachedBlob>,
    ) -> Result<Pushed> {
        let config = archive::with_labels(config, &self.labels)?;
        let config_digest = sha256_digest(&config);
        self.session
            .put_small_blob(&config_digest, Bytes::from(config.clone()))
            .await?;
        let oci = layers.iter().any(|l| l.compression == Compression::Zstd);
        let (manifest_type, config_type) = if oci {
            (archive::OCI_MANIFEST, archive::OCI_CONFIG)
        } else {
            (archive::DOCKER_MANIFEST, archive::DOCKER_CONFIG)
        };
        let layers = layers
            .iter()
            .map(|blob| {
                let media_type = if oci {
                    blob.compression.oci_layer_type()
                } else {
                    archive::DOCKER_LAYER_GZIP
                };
                layer_descriptor(media_type, blob)
            })
            .collect();
        let manifest = ImageManifest {
            schema_version: 2,
            media_type: Some(manifest_type.to_string()),
            config: Descriptor {
                media_type: config_type.to_string(),
                digest: config_digest,
                size: config.len() as u64,
                platform: None,
                annotations: None,
            },
            layers,
            annotations: None,
        };
        let bytes = serde_json::to_vec(&manifest).map_err(|e| failed(&e.to_string()))?;
        self.put_manifest(&self.tag, manifest_type, bytes).await
    }

    pub(super) async fn put_manifest(
        &self,
        reference: &str,
        media_type: &str,
        bytes: Vec<u8>,
    ) -> Result<Pushed> {
        // Writing the tag is the point of no return, decided under the cancel's lock; manifests
        // written by digest (an index's images) tag nothing.
        if reference == self.tag {
            self.cancel.commit(&self.reference)?;
        } else {
            self.check_cancelled()?;
        }
        // Every layer upload was waited for (`wait_for_uploads` takes them out of `pending`): a
        // manifest never goes up before its blobs.
        if !lock(&self.pending).is_empty() {
            return Err(failed(
                "A layer was still uploading when the manifest was ready",
            ));
        }
        let size = bytes.len() as u64;
        let digest = self
            .session
            .put_manifest(reference, media_type, Bytes::from(bytes))
            .await?;
        Ok(Pushed {
            reference: self.reference.clone(),
            digest,
            size,
            levels: lock(&self.pace).levels_used().clone(),
            compression: self.compression,
        })
    }

    /// Writes config and manifest for what the stream held: docker-archive or OCI layout. Docker 25+
    /// writes both; when its blobs are stored compressed (the containerd image store) only the layout
    /// describes them, and pushing it keeps the image's manifest digest.
    pub(super) fn assemble(&self, collected: &Collected) -> Result<Result<Pushed, ReadAgain>> {
        let docker = collected.small.contains_key("manifest.json");
        let oci = collected.small.contains_key("index.json");
        let layout_describes_it =
            oci && (collected.holds_compressed_blobs() || lacks_docker_files(collected));
        if docker && !layout_describes_it {
            self.assemble_docker(collected)
        } else if oci {
            self.assemble_oci(collected).map(Ok)
        } else {
            Err(archive_invalid(
                "The archive has neither a manifest.json (docker save) nor an index.json (OCI layout)",
            ))
        }
    }

    fn assemble_docker(&self, collected: &Collected) -> Result<Result<Pushed, ReadAgain>> {
        let images = archive::parse_docker_manifest(collected.small_file("manifest.json")?)?;
        let image = archive::pick_docker_image(&images, None)?;
        let config = collected.small_file(&image.config)?.to_vec();
        let diff_ids = archive::diff_ids(&config)?;
        if diff_ids.len() != image.layers.len() {
            return Err(archive_invalid(format!(
                "The archive lists {} layers but its image config {}",
                image.layers.len(),
                diff_ids.len()
            )));
        }
        let mut layers = Vec::new();
        for (path, diff_id) in image.layers.iter().zip(&diff_ids) {
            let path = collected.resolve(path);
            let done = match collected.done.get(path) {
                Some(done) => done.clone(),
                None => {
                    let bytes = collected.small_file(path)?;
                    let id = short(diff_id);
                    self.with_progress(|p, _| p.add_layer(&id, Some(bytes.len() as u64)));
                    let read_error: ReadError = Arc::new(|e| failed(&e.to_string()));
                    Done::Compressed(self.compress_and_upload(
                        &id,
                        bytes.len() as u64,
                        &mut &bytes[..],
                        &read_error,
                    )?)
                }
            };
            let blob = match done {
                Done::Compressed(layer) => {
                    if &layer.diff_id != diff_id {
                        return Err(archive_invalid(format!(
                            "The layer {path} does not match the image config (the archive is damaged)"
                        )));
                    }
                    CachedBlob {
                        digest: layer.digest,
                        size: layer.size,
                        uncompressed: layer.uncompressed,
                        repositories: Vec::new(),
                        compression: layer.compression,
                    }
                }
                Done::Hashed {
                    diff_id: read,
                    expected,
                } => {
                    if read != expected || &read != diff_id {
                        return Ok(Err(ReadAgain));
                    }
                    self.present_blob(diff_id)
                        .ok_or_else(|| failed("The blob cache changed during the push"))?
                }
                Done::AsIs {
                    digest,
                    size,
                    compression,
                } => CachedBlob {
                    digest,
                    size,
                    uncompressed: 0,
                    repositories: Vec::new(),
                    compression,
                },
            };
            layers.push(blob);
        }
        // Layers kept in memory were compressed just now: their uploads finish before the manifest.
        self.wait_for_uploads(0)?;
        self.cache().remember_config(&config);
        self.block_on(self.put_image_manifest(&config, layers))
            .map(Ok)
    }

    fn assemble_oci(&self, collected: &Collected) -> Result<Pushed> {
        let index = archive::parse_index(collected.small_file("index.json")?)?;
        let chosen = archive::pick_oci_image(&index, None)?;
        if !archive::is_index(&chosen.media_type) {
            return self
                .push_oci_manifest(collected, chosen, Some(&self.tag))
                .map(|(pushed, _)| pushed);
        }
        let original = collected
            .blob(&chosen.digest)
            .ok_or_else(|| archive_invalid(format!("The layout has no blob {}", chosen.digest)))?;
        let mut image_index = archive::parse_index(original)?;
        let mut changed = !self.labels.is_empty();
        let mut media_type = chosen.media_type.clone();
        for descriptor in image_index.manifests.iter_mut() {
            if archive::is_index(&descriptor.media_type) {
                return Err(archive_invalid("The layout nests an index in an index"));
            }
            let (pushed, pushed_type) = self.push_oci_manifest(collected, descriptor, None)?;
            if pushed.digest != descriptor.digest {
                descriptor.digest = pushed.digest;
                descriptor.size = pushed.size;
                changed = true;
            }
            // An image that became OCI (a zstd layer) makes a Docker manifest list an OCI index.
            if pushed_type != descriptor.media_type {
                descriptor.media_type = pushed_type;
                if media_type == archive::DOCKER_MANIFEST_LIST {
                    media_type = archive::OCI_INDEX.to_string();
                }
            }
        }
        if media_type != chosen.media_type {
            image_index.media_type = Some(media_type.clone());
        }
        let bytes = if changed {
            annotate(&mut image_index.annotations, &self.labels);
            serde_json::to_vec(&image_index).map_err(|e| failed(&e.to_string()))?
        } else {
            original.to_vec()
        };
        self.block_on(self.put_manifest(&self.tag, &media_type, bytes))
    }

    /// One image manifest of a layout: its blobs on the registry (compressed ones were uploaded as
    /// they passed; plain tar layers were compressed, and gzip ones compressed again as zstd when
    /// asked, which changes their digests), then the manifest, under `tag` or, inside an index, by
    /// digest. Returns what was pushed and its media type.
    fn push_oci_manifest(
        &self,
        collected: &Collected,
        descriptor: &Descriptor,
        tag: Option<&str>,
    ) -> Result<(Pushed, String)> {
        let original = collected.blob(&descriptor.digest).ok_or_else(|| {
            archive_invalid(format!("The layout has no blob {}", descriptor.digest))
        })?;
        let mut manifest = archive::parse_manifest(original)?;
        let mut changed = !self.labels.is_empty();
        // A layer compressed here must hold what the config says it holds.
        let diff_ids = collected
            .blob(&manifest.config.digest)
            .and_then(|config| archive::diff_ids(config).ok());
        for (index, layer) in manifest.layers.iter_mut().enumerate() {
            let path = format!(
                "blobs/sha256/{}",
                layer.digest.trim_start_matches("sha256:")
            );
            // A small gzip layer (kept in memory) is compressed again as zstd too, when asked.
            let small_recompressed = match (collected.done.get(&path), collected.small.get(&path)) {
                (None, Some(bytes))
                    if self.compression == Compression::Zstd
                        && stored_compression(bytes) == Some(Compression::Gzip) =>
                {
                    let id = short(&layer.digest);
                    self.with_progress(|p, now| {
                        p.add_layer(&id, Some(bytes.len() as u64));
                        p.set_state(&id, LayerState::Preparing, now);
                    });
                    let read_error: ReadError = Arc::new(|e| failed(&e.to_string()));
                    let layer = self.recompress_and_upload(
                        &id,
                        bytes.len() as u64,
                        &mut &bytes[..],
                        &read_error,
                    )?;
                    Some(Done::Compressed(layer))
                }
                _ => None,
            };
            match small_recompressed.as_ref().or(collected.done.get(&path)) {
                Some(Done::Compressed(compressed)) => {
                    if let Some(expected) = diff_ids.as_ref().and_then(|ids| ids.get(index)) {
                        if &compressed.diff_id != expected {
                            return Err(archive_invalid(format!(
                                "The layer {} does not match the image config (the layout is damaged)",
                                layer.digest
                            )));
                        }
                    }
                    layer.digest = compressed.digest.clone();
                    layer.size = compressed.size;
                    layer.media_type = match compressed.compression {
                        Compression::Gzip => gzip_media_type(&layer.media_type),
                        Compression::Zstd => archive::OCI_LAYER_ZSTD.to_string(),
                    };
                    changed = true;
                }
                Some(_) => {}
                None => match collected.small.get(&path) {
                    // A small layer (kept in memory) is a layer too: listed, checked, uploaded.
                    Some(bytes) => {
                        let id = short(&layer.digest);
                        let size = bytes.len() as u64;
                        self.with_progress(|p, now| {
                            p.add_layer(&id, Some(size));
                            p.set_state(&id, LayerState::Preparing, now);
                        });
                        let read_error: ReadError = Arc::new(|e| failed(&e.to_string()));
                        let mut reader = &bytes[..];
                        let stored = stored_compression(bytes).unwrap_or_default();
                        self.upload_as_is(
                            &id,
                            &layer.digest,
                            size,
                            stored,
                            &mut reader,
                            &read_error,
                        )?;
                    }
                    None => self.absent_blob(&layer.digest, Some(layer.size))?,
                },
            }
        }
        // Layers compressed just now (kept in memory) finish uploading before the manifest.
        self.wait_for_uploads(0)?;
        match collected.blob(&manifest.config.digest) {
            Some(config) => {
                let config = archive::with_labels(config, &self.labels)?;
                manifest.config.digest = sha256_digest(&config);
                manifest.config.size = config.len() as u64;
                self.block_on(
                    self.session
                        .put_small_blob(&manifest.config.digest, Bytes::from(config)),
                )?;
            }
            // Labels change the config, which then must be at hand; without them it can be found.
            None if self.labels.is_empty() => self.absent_blob(&manifest.config.digest, None)?,
            None => return Err(self.lacks("config", &manifest.config.digest)),
        }
        let zstd = manifest
            .layers
            .iter()
            .any(|l| l.media_type == archive::OCI_LAYER_ZSTD);
        let docker_typed = manifest
            .media_type
            .as_deref()
            .unwrap_or(&descriptor.media_type)
            == archive::DOCKER_MANIFEST;
        if zstd && docker_typed {
            archive::with_oci_types(&mut manifest);
        }
        let bytes = if changed {
            annotate(&mut manifest.annotations, &self.labels);
            serde_json::to_vec(&manifest).map_err(|e| failed(&e.to_string()))?
        } else {
            original.to_vec()
        };
        let media_type = manifest
            .media_type
            .clone()
            .unwrap_or_else(|| descriptor.media_type.clone());
        let reference = match tag {
            Some(tag) => tag.to_string(),
            None => sha256_digest(&bytes),
        };
        let pushed = self.block_on(self.put_manifest(&reference, &media_type, bytes))?;
        Ok((pushed, media_type))
    }
}

impl Work {
    /// A blob the source does not hold: fine if the registry has it, or lets it be mounted from a
    /// repository the image came from (a layer, `size` given, is listed as such).
    fn absent_blob(&self, digest: &str, size: Option<u64>) -> Result<()> {
        let id = short(digest);
        let found = if self.block_on(self.session.blob_size(digest))?.is_some() {
            Some(LayerState::Existed)
        } else {
            self.block_on(self.mount_from_any(digest, &self.pulled_from))
                .then_some(LayerState::Mounted)
        };
        let Some(state) = found else {
            return Err(self.lacks(if size.is_some() { "layer" } else { "config" }, digest));
        };
        if let Some(size) = size {
            self.with_progress(|p, now| {
                p.add_layer(&id, Some(size));
                p.set_state(&id, state, now);
            });
        }
        Ok(())
    }

    /// The error for a blob neither the source nor the registry has: an engine's doing for an engine
    /// image (never the archive's fault), a damaged layout for an archive.
    fn lacks(&self, what: &str, digest: &str) -> Error {
        match &self.engine_image {
            Some(image) => Error::new(
                Code::EngineFailed,
                format!(
                    "The engine's copy of {image} lacks its {what} {digest}, and the registry does not have it"
                ),
                "Docker's containerd image store keeps only the blobs a pull fetched: pull the image again where it came from, or push through the engine (--via engine).",
            ),
            None => archive_invalid(format!(
                "The layout has no {what} {digest} and the registry does not have it either"
            )),
        }
    }
}

/// Whether `manifest.json` names a file the stream did not hold (Docker 26's export of a pulled image
/// whose layers it already had unpacked: only the manifest blob is in it).
fn lacks_docker_files(collected: &Collected) -> bool {
    let Ok(images) = collected
        .small_file("manifest.json")
        .and_then(archive::parse_docker_manifest)
    else {
        return false;
    };
    images.iter().any(|image| {
        std::iter::once(&image.config)
            .chain(&image.layers)
            .map(|path| collected.resolve(path))
            .any(|path| !collected.small.contains_key(path) && !collected.done.contains_key(path))
    })
}

/// The labels, also as annotations of a manifest or index that is written anew.
fn annotate(annotations: &mut Option<BTreeMap<String, String>>, labels: &BTreeMap<String, String>) {
    if !labels.is_empty() {
        annotations
            .get_or_insert_with(BTreeMap::new)
            .extend(labels.clone());
    }
}

pub(super) fn layer_descriptor(media_type: &str, blob: &CachedBlob) -> Descriptor {
    Descriptor {
        media_type: media_type.to_string(),
        digest: blob.digest.clone(),
        size: blob.size,
        platform: None,
        annotations: None,
    }
}

/// The gzip form of a plain tar layer media type.
fn gzip_media_type(media_type: &str) -> String {
    match media_type {
        "application/vnd.docker.image.rootfs.diff.tar" => archive::DOCKER_LAYER_GZIP.to_string(),
        _ => archive::OCI_LAYER_GZIP.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_tar_layer_types_become_their_gzip_types() {
        assert_eq!(
            gzip_media_type("application/vnd.docker.image.rootfs.diff.tar"),
            archive::DOCKER_LAYER_GZIP
        );
        assert_eq!(
            gzip_media_type("application/vnd.oci.image.layer.v1.tar"),
            archive::OCI_LAYER_GZIP
        );
    }
}
