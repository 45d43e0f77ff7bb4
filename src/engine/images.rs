//! The engine's local images as rows a person reads (one per repository:tag, untagged ones marked),
//! and tagging one for a registry. The row-building is pure; the calls to `GET /images/json`,
//! `GET /images/{name}/json` and `POST /images/{name}/tag` are thin. Events are in `events`.

use super::Engine;
use crate::error::{Code, Error, Result};
use crate::reference::{self, Reference, Translation};
use http::Method;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::time::Duration;

const LIST_TIMEOUT: Duration = Duration::from_secs(20);
const TAG_TIMEOUT: Duration = Duration::from_secs(10);
/// Enough for ~100,000 images' summaries.
const LIST_MAX: usize = 256 << 20;
const SMALL: usize = 1 << 20;
/// Docker's containerd image store and Podman fail a whole listing when an image is deleted while they
/// read it (Docker 26: "failed to calculate size of image …: content digest …: not found", 11 of 200
/// listings while another client imported and deleted images in a loop; Podman 4.3: "… image not
/// known" or "… layer not known"); the watcher lists right after such a delete, so the list is asked
/// again, a few times, before that is an error.
const LIST_ATTEMPTS: u32 = 8;
/// The pause before the next attempt grows by this much each time (0.1 s, 0.2 s, … 2.8 s in all): a
/// `docker image prune` deletes one image after another for as long as it runs.
const LIST_AGAIN_AFTER: Duration = Duration::from_millis(100);

/// One entry of `GET /images/json`, as the engine sends it.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ImageSummary {
    pub id: String,
    #[serde(default)]
    pub repo_tags: Option<Vec<String>>,
    #[serde(default)]
    pub repo_digests: Option<Vec<String>>,
    #[serde(default)]
    pub created: i64,
    #[serde(default)]
    pub size: i64,
}

/// One image as `GET /images/{name}/json` describes it: the fields a row needs (`Created` is RFC 3339
/// here, seconds in the list).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ImageInspect {
    id: String,
    #[serde(default)]
    repo_tags: Option<Vec<String>>,
    #[serde(default)]
    repo_digests: Option<Vec<String>>,
    #[serde(default)]
    created: String,
    #[serde(default)]
    size: i64,
}

impl From<ImageInspect> for ImageSummary {
    fn from(inspect: ImageInspect) -> Self {
        let created = time::OffsetDateTime::parse(
            &inspect.created,
            &time::format_description::well_known::Rfc3339,
        )
        .map(|at| at.unix_timestamp())
        .unwrap_or(0);
        ImageSummary {
            id: inspect.id,
            repo_tags: inspect.repo_tags,
            repo_digests: inspect.repo_digests,
            created,
            size: inspect.size,
        }
    }
}

/// One row of the Images view and `ghcr images`: an image under one of its names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LocalImage {
    /// The full image ID (`sha256:…`, the config digest).
    pub id: String,
    /// The first 12 hex digits, as `docker images` shows.
    pub short_id: String,
    /// `repository:tag`, or `None` for an untagged image.
    pub reference: Option<String>,
    /// The repository (`ghcr.io/octo/app`), `<none>` when untagged and never pushed.
    pub repository: String,
    /// The tag, `<none>` when untagged.
    pub tag: String,
    /// Bytes on disk (the engine's `Size`).
    pub size: u64,
    /// Seconds since the epoch.
    pub created: i64,
    /// This row's name is for the configured registry. Whether the registry has that tag is asked of
    /// the registry itself (`registry::tags_present`): a name is not a push.
    pub for_registry: bool,
    /// For an old `docker.pkg.github.com` name: its ghcr.io form and why it differs.
    pub translation: Option<Translation>,
}

impl LocalImage {
    pub fn untagged(&self) -> bool {
        self.reference.is_none()
    }

    /// What names this row among the others: its reference, or its ID when it has none (an image
    /// without tags has exactly one row).
    pub fn key(&self) -> &str {
        self.reference.as_deref().unwrap_or(&self.id)
    }
}

/// The rows after the engine described the image `name` (an ID or a reference) afresh: `found` is
/// what it said, `None` when it has no such image. The image's rows are replaced; a name it took from
/// another image (`docker tag` over an existing name) leaves that other image's rows, and the IDs of
/// such images are returned: they may have become untagged and are worth asking about too.
pub fn amend(
    rows_now: &mut Vec<LocalImage>,
    name: &str,
    found: Option<ImageSummary>,
    registry: &str,
) -> Vec<String> {
    let name = familiar(name);
    let Some(summary) = found else {
        // Gone: an ID names all its rows; a reference, its one row (the image may live on under
        // other names, so it is asked about again).
        let mut ask_again = Vec::new();
        rows_now.retain(|row| {
            let by_id = row.id == name || row.id.trim_start_matches("sha256:") == name;
            let by_reference = row.reference.as_deref() == Some(name);
            if by_reference && !by_id {
                ask_again.push(row.id.clone());
            }
            !(by_id || by_reference)
        });
        return ask_again;
    };
    let fresh = rows(std::slice::from_ref(&summary), registry);
    let taken: HashSet<&str> = fresh
        .iter()
        .filter_map(|row| row.reference.as_deref())
        .collect();
    let mut ask_again: Vec<String> = Vec::new();
    rows_now.retain(|row| {
        if row.id == summary.id {
            return false;
        }
        let lost_a_name = row.reference.as_deref().is_some_and(|r| taken.contains(r));
        if lost_a_name && !ask_again.contains(&row.id) {
            ask_again.push(row.id.clone());
        }
        !lost_a_name
    });
    rows_now.extend(fresh);
    ask_again
}

/// What differs from one listing to the next: the rows that are new or changed in `after`, and the
/// keys of the rows that are gone. A tag added to a 5,000-image engine is one row, not 5,000.
pub fn changes(before: &[LocalImage], after: &[LocalImage]) -> (Vec<LocalImage>, Vec<String>) {
    let before: HashMap<&str, &LocalImage> = before.iter().map(|row| (row.key(), row)).collect();
    let kept: HashSet<&str> = after.iter().map(LocalImage::key).collect();
    let changed = after
        .iter()
        .filter(|row| before.get(row.key()) != Some(row))
        .cloned()
        .collect();
    let mut removed: Vec<String> = before
        .keys()
        .filter(|key| !kept.contains(*key))
        .map(|key| key.to_string())
        .collect();
    removed.sort();
    (changed, removed)
}

/// Turns the engine's summaries into rows: one per tag, one for an image with none. Rows are sorted
/// by reference, untagged ones last, newest first.
pub fn rows(summaries: &[ImageSummary], registry: &str) -> Vec<LocalImage> {
    let mut rows = Vec::new();
    for summary in summaries {
        let tags: Vec<&str> = summary
            .repo_tags
            .iter()
            .flatten()
            .filter(|tag| tag.as_str() != "<none>:<none>")
            .map(|tag| familiar(tag))
            .collect();
        let parsed: Vec<Option<Reference>> =
            tags.iter().map(|tag| Reference::parse(tag).ok()).collect();
        let base = LocalImage {
            short_id: short_id(&summary.id),
            id: summary.id.clone(),
            reference: None,
            repository: "<none>".into(),
            tag: "<none>".into(),
            size: u64::try_from(summary.size).unwrap_or(0),
            created: summary.created,
            for_registry: false,
            translation: None,
        };
        if tags.is_empty() {
            let repository = summary.repo_digests.iter().flatten().find_map(|d| {
                d.split_once('@')
                    .map(|(repo, _)| familiar(repo).to_string())
            });
            rows.push(LocalImage {
                repository: repository.unwrap_or_else(|| "<none>".into()),
                ..base
            });
            continue;
        }
        for (text, reference) in tags.iter().zip(parsed) {
            let (repository, tag) = match &reference {
                Some(r) => (r.repository(), r.tag().unwrap_or("latest").to_string()),
                None => match text.rsplit_once(':') {
                    Some((repository, tag)) => (repository.to_string(), tag.to_string()),
                    None => (text.to_string(), String::new()),
                },
            };
            // An engine that sends a nameless tag ("", ":x") still gets a row a person can read.
            let repository = if repository.is_empty() {
                "<none>".to_string()
            } else {
                repository
            };
            rows.push(LocalImage {
                reference: Some(text.to_string()),
                repository,
                tag,
                for_registry: reference.as_ref().is_some_and(|r| r.is_on(registry)),
                translation: reference
                    .as_ref()
                    .and_then(|r| reference::translate_docker_pkg(r, registry)),
                ..base.clone()
            });
        }
    }
    rows.sort_by(|a, b| {
        a.untagged()
            .cmp(&b.untagged())
            .then_with(|| a.reference.cmp(&b.reference))
            .then_with(|| b.created.cmp(&a.created))
    });
    rows
}

/// A name as the docker CLI shows it: Podman's compatible API says `docker.io/library/app:1` where
/// Docker says `app:1` (both mean the same image; `localhost/app` stays, as Podman's own names do).
pub(crate) fn familiar(name: &str) -> &str {
    let name = name.strip_prefix("docker.io/").unwrap_or(name);
    match name.strip_prefix("library/") {
        Some(short) if !short.contains('/') => short,
        _ => name,
    }
}

fn short_id(id: &str) -> String {
    id.trim_start_matches("sha256:").chars().take(12).collect()
}

impl Engine {
    /// Every local image, as rows (see [`rows`]).
    pub async fn local_images(&self, registry: &str) -> Result<Vec<LocalImage>> {
        Ok(rows(&self.image_summaries().await?, registry))
    }

    /// `GET /images/json`, asked again while an image vanishes as the engine reads it.
    pub async fn image_summaries(&self) -> Result<Vec<ImageSummary>> {
        let path = format!("/v{}/images/json", self.api);
        let mut attempt = 1;
        let answer = loop {
            let answer = self
                .transport
                .get(&path, LIST_TIMEOUT, LIST_MAX)
                .await
                .map_err(|e| self.lost(e))?;
            if attempt == LIST_ATTEMPTS || !vanished_while_listed(answer.status, &answer.body) {
                break answer;
            }
            tokio::time::sleep(LIST_AGAIN_AFTER * attempt).await;
            attempt += 1;
        };
        if !answer.status.is_success() {
            return Err(self.refused("list the images", answer.status, &answer.body));
        }
        serde_json::from_slice(&answer.body).map_err(|e| {
            Error::new(
                Code::EngineProtocol,
                format!("The engine's image list could not be read: {e}"),
                "Check that DOCKER_HOST points at a Docker or Podman engine.",
            )
        })
    }

    /// `GET /images/{name}/json` as a list entry; `None` when the engine has no such image.
    pub async fn image_summary(&self, name: &str) -> Result<Option<ImageSummary>> {
        Ok(self
            .inspect::<ImageInspect>(name)
            .await?
            .map(ImageSummary::from))
    }

    /// Gives the local image `source` (a name or an ID) the name `target`, as `docker tag` does.
    pub async fn tag(&self, source: &str, target: &Reference) -> Result<()> {
        let source = source.trim();
        validate_source(source)?;
        let Some(tag) = target.tag() else {
            return Err(Error::new(
                Code::ReferenceInvalid,
                format!("{target} names no tag"),
                "Add one, e.g. :latest",
            ));
        };
        let path = format!(
            "/v{}/images/{}/tag?{}",
            self.api,
            encode(source),
            url::form_urlencoded::Serializer::new(String::new())
                .append_pair("repo", &target.repository())
                .append_pair("tag", tag)
                .finish()
        );
        let answer = self
            .transport
            .request(Method::POST, &path, TAG_TIMEOUT, SMALL)
            .await
            .map_err(|e| self.lost(e))?;
        match answer.status.as_u16() {
            200..=299 => Ok(()),
            404 => Err(Error::new(
                Code::ImageNotFound,
                format!("The engine has no image {source}"),
                "Check the name with `ghcr images` (or `docker images`).",
            )),
            _ => Err(self.refused("tag the image", answer.status, &answer.body)),
        }
    }
}

/// Whether a failed listing is an engine's race with a delete (see LIST_ATTEMPTS): Docker 26's
/// containerd store answers 404 (a list has no other reason to) saying the content of an image it was
/// reading is gone, Podman 500 saying an image, a layer or a blob's size it was reading is "not known".
fn vanished_while_listed(status: http::StatusCode, body: &[u8]) -> bool {
    let message = super::engine_message(body);
    let content_gone = message.contains("content digest") && message.ends_with("not found");
    // Podman names what it lost in several ways, each ending "not known": "image not known", "layer
    // not known", "size is not known" (the blob of an image being deleted).
    let image_gone = message.ends_with("not known");
    matches!(status.as_u16(), 404 | 500) && (content_gone || image_gone)
}

/// A tag source is an image ID (`sha256:…` or a hex prefix) or a reference; anything else is refused
/// before it reaches the engine.
fn validate_source(source: &str) -> Result<()> {
    let hex = source.strip_prefix("sha256:").unwrap_or(source);
    let is_id = !hex.is_empty() && hex.len() <= 64 && hex.chars().all(|c| c.is_ascii_hexdigit());
    if is_id {
        return Ok(());
    }
    Reference::parse(source).map(|_| ()).map_err(Error::from)
}

/// Percent-encodes what a path segment cannot carry as is; `/` and `:` stay (the engine's route takes
/// the rest of the path as the name).
pub(crate) fn encode(name: &str) -> String {
    name.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'/' | b':' | b'.' | b'_' | b'-' | b'@' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(id: &str, tags: &[&str], size: i64, created: i64) -> ImageSummary {
        ImageSummary {
            id: id.into(),
            repo_tags: Some(tags.iter().map(|t| t.to_string()).collect()),
            repo_digests: None,
            created,
            size,
        }
    }

    #[test]
    fn a_listing_that_lost_an_image_being_deleted_is_asked_again_and_nothing_else_is() {
        let race = br#"{"message":"failed to calculate size of image docker.io/library/live-161413e0:1: failed to get rootfs of image docker.io/library/live-161413e0:1: content digest sha256:9b604495e3467e7c6e9c921c1b0fdddf9373f9a6faa238cde65e028c7e696310: not found"}"#;
        let error = http::StatusCode::INTERNAL_SERVER_ERROR;
        assert!(vanished_while_listed(error, race));
        let config_gone = br#"{"message":"failed to read config content: rpc error: code = NotFound desc = content digest sha256:60a27c7954c6e9fa758f353b8fd33887192c33a24cf3c3ccc18f96bc6a88910d: not found"}"#;
        assert!(vanished_while_listed(
            http::StatusCode::NOT_FOUND,
            config_gone
        ));
        let podman = br#"{"cause":"image not known","message":"retrieving label for image \"ff312c615b2e\": you may need to remove the image to resolve the error: fallback error checking whether image is a manifest list: reading image \"ff312c615b2e\": locating image with ID \"ff312c615b2e\": image not known","response":500}"#;
        assert!(vanished_while_listed(error, podman));
        let layer = br#"{"message":"retrieving parent of image \"8de87460008a\": you may need to remove the image to resolve the error: layer not known"}"#;
        assert!(vanished_while_listed(error, layer));
        // CI caught this one on Podman 4.3 (the churn test in tests/images.rs).
        let size = br#"{"cause":"size is not known","message":"retrieving label for image \"2214b006ad2a\": you may need to remove the image to resolve the error: fallback error checking whether image is a manifest list: reading data blob size \"sha256:2214b006ad2a\" for \"2214b006ad2a\": size is not known","response":500}"#;
        assert!(vanished_while_listed(error, size));
        assert!(!vanished_while_listed(http::StatusCode::OK, race));
        assert!(!vanished_while_listed(http::StatusCode::BAD_REQUEST, race));
        assert!(!vanished_while_listed(
            error,
            br#"{"message":"no space left on device"}"#
        ));
        assert!(!vanished_while_listed(error, b"not json, not found"));
    }

    #[test]
    fn a_nameless_tag_from_the_engine_still_gets_a_repository_to_show() {
        // Found by tests/fuzz.rs: RepoTags [":x"] made a row with an empty repository.
        let rows = rows(&[summary("sha256:ab", &[":x", ""], 1, 1)], "ghcr.io");
        assert_eq!(rows.len(), 2);
        assert!(rows.iter().all(|r| r.repository == "<none>"), "{rows:?}");
    }

    #[test]
    fn amend_replaces_the_named_images_rows_and_points_at_the_image_a_name_was_taken_from() {
        let a = "sha256:aaaaaaaaaaaaaaaa";
        let b = "sha256:bbbbbbbbbbbbbbbb";
        let mut shown = rows(
            &[
                summary(a, &["web:1", "web:old"], 10, 5),
                summary(b, &["db:1"], 20, 6),
            ],
            "ghcr.io",
        );
        // `docker tag db:1 web:old`: the engine now says b is db:1 and web:old.
        let ask = amend(
            &mut shown,
            b,
            Some(summary(b, &["db:1", "web:old"], 20, 6)),
            "ghcr.io",
        );
        assert_eq!(ask, vec![a.to_string()], "a lost web:old");
        let names = |shown: &[LocalImage]| {
            let mut names: Vec<(String, String)> = shown
                .iter()
                .map(|row| (row.key().to_string(), row.id.clone()))
                .collect();
            names.sort();
            names
        };
        assert_eq!(
            names(&shown),
            vec![
                ("db:1".into(), b.into()),
                ("web:1".into(), a.into()),
                ("web:old".into(), b.into()),
            ],
            "web:old moved to b; a keeps web:1 until the engine answers about a"
        );
        amend(
            &mut shown,
            a,
            Some(summary(a, &["web:1"], 10, 5)),
            "ghcr.io",
        );
        assert_eq!(names(&shown).len(), 3);
        // `docker rmi`: the delete event names the ID, and the engine no longer knows it.
        assert!(amend(&mut shown, a, None, "ghcr.io").is_empty());
        assert!(shown.iter().all(|row| row.id == b));
        // A name the engine no longer knows: its row goes, and its image is asked about again.
        assert_eq!(
            amend(&mut shown, "web:old", None, "ghcr.io"),
            vec![b.to_string()]
        );
        assert_eq!(names(&shown), vec![("db:1".into(), b.into())]);
    }

    #[test]
    fn an_inspected_image_becomes_the_same_list_entry_with_its_creation_time_in_seconds() {
        let inspect: ImageInspect = serde_json::from_str(
            r#"{"Id":"sha256:ab","RepoTags":["web:1"],"RepoDigests":[],"Created":"2026-01-01T00:00:01.123456789Z","Size":42,"Config":{}}"#,
        )
        .unwrap();
        let summary = ImageSummary::from(inspect);
        assert_eq!(summary.created, 1_767_225_601);
        assert_eq!(summary.size, 42);
        assert_eq!(summary.repo_tags, Some(vec!["web:1".to_string()]));
        let odd: ImageInspect =
            serde_json::from_str(r#"{"Id":"sha256:ab","Created":"yesterday"}"#).unwrap();
        assert_eq!(
            ImageSummary::from(odd).created,
            0,
            "unreadable: unknown, not a panic"
        );
    }

    #[test]
    fn changes_name_only_the_rows_added_changed_or_gone() {
        let before = rows(
            &[
                summary("sha256:aaaaaaaaaaaaaaaa", &["web:1"], 10, 5),
                summary("sha256:bbbbbbbbbbbbbbbb", &["db:1"], 20, 6),
                summary("sha256:cccccccccccccccc", &[], 30, 7),
            ],
            "ghcr.io",
        );
        // web gets a registry name (so its first row changes: it is now on the registry), db is
        // deleted, the untagged image stays as it was.
        let after = rows(
            &[
                summary(
                    "sha256:aaaaaaaaaaaaaaaa",
                    &["web:1", "ghcr.io/octo/web:1"],
                    10,
                    5,
                ),
                summary("sha256:cccccccccccccccc", &[], 30, 7),
            ],
            "ghcr.io",
        );
        let (changed, removed) = changes(&before, &after);
        let keys: Vec<&str> = changed.iter().map(LocalImage::key).collect();
        assert_eq!(keys, vec!["ghcr.io/octo/web:1"]);
        assert!(changed.iter().all(|row| row.for_registry));
        assert_eq!(removed, vec!["db:1".to_string()]);
        assert_eq!(changes(&after, &after), (vec![], vec![]));
        // Applying the changes to the old rows gives the new ones.
        let mut applied: HashMap<String, LocalImage> = before
            .into_iter()
            .map(|row| (row.key().to_string(), row))
            .collect();
        for key in &removed {
            applied.remove(key);
        }
        for row in changed {
            applied.insert(row.key().to_string(), row);
        }
        let mut applied: Vec<LocalImage> = applied.into_values().collect();
        applied.sort_by(|a, b| a.key().cmp(b.key()));
        let mut expected = after.clone();
        expected.sort_by(|a, b| a.key().cmp(b.key()));
        assert_eq!(applied, expected);
    }

    #[test]
    fn one_row_per_tag_and_one_for_an_untagged_image() {
        let rows = rows(
            &[
                summary("sha256:aaaaaaaaaaaaaaaa", &["web:1", "web:latest"], 10, 5),
                summary("sha256:bbbbbbbbbbbbbbbb", &["<none>:<none>"], 20, 6),
                ImageSummary {
                    repo_tags: None,
                    ..summary("sha256:cccccccccccccccc", &[], 30, 7)
                },
            ],
            "ghcr.io",
        );
        let names: Vec<_> = rows.iter().map(|r| r.reference.clone()).collect();
        assert_eq!(
            names,
            vec![Some("web:1".into()), Some("web:latest".into()), None, None]
        );
        assert_eq!(rows[0].short_id, "aaaaaaaaaaaa");
        assert_eq!(
            (rows[0].repository.as_str(), rows[0].tag.as_str()),
            ("web", "1")
        );
        assert_eq!(rows[2].created, 7, "newest untagged first");
        assert_eq!(rows[3].tag, "<none>");
    }

    #[test]
    fn only_a_row_named_for_the_registry_is_for_it() {
        let rows = rows(
            &[
                summary("sha256:a", &["web:1", "ghcr.io/octo/web:1"], 1, 1),
                summary("sha256:b", &["tool:2"], 1, 1),
            ],
            "ghcr.io",
        );
        let on: Vec<_> = rows
            .iter()
            .map(|r| (r.reference.clone().unwrap(), r.for_registry))
            .collect();
        assert_eq!(
            on,
            vec![
                ("ghcr.io/octo/web:1".into(), true),
                ("tool:2".into(), false),
                ("web:1".into(), false)
            ]
        );
    }

    #[test]
    fn a_docker_pkg_name_carries_its_ghcr_translation() {
        let rows = rows(
            &[summary(
                "sha256:a",
                &["docker.pkg.github.com/octo/site/web:2"],
                1,
                1,
            )],
            "ghcr.io",
        );
        assert_eq!(
            rows[0].translation.as_ref().map(|t| t.to.as_str()),
            Some("ghcr.io/octo/web:2")
        );
    }

    #[test]
    fn an_image_known_only_by_digest_shows_its_repository_untagged() {
        let rows = rows(
            &[ImageSummary {
                repo_tags: Some(vec![]),
                repo_digests: Some(vec!["alpine@sha256:abc".into()]),
                ..summary("sha256:a", &[], 1, 1)
            }],
            "ghcr.io",
        );
        assert_eq!(rows[0].repository, "alpine");
        assert!(rows[0].untagged());
    }

    #[test]
    fn podmans_docker_io_names_are_shown_as_docker_shows_them() {
        let podman = |tags: &[&str]| {
            let rows = rows(&[summary("sha256:a", tags, 1, 1)], "ghcr.io");
            rows.into_iter()
                .map(|r| (r.reference.unwrap_or_default(), r.repository))
                .collect::<Vec<_>>()
        };
        let cases = [
            ("docker.io/library/app:1", "app:1", "app"),
            ("docker.io/octo/app:1", "octo/app:1", "octo/app"),
            ("localhost/app:1", "localhost/app:1", "localhost/app"),
            (
                "docker.io/library/team/app:1",
                "library/team/app:1",
                "library/team/app",
            ),
        ];
        for (engine_says, shown, repository) in cases {
            let expected = vec![(shown.to_string(), repository.to_string())];
            assert_eq!(podman(&[engine_says]), expected, "{engine_says}");
        }
    }

    #[test]
    fn tag_sources_are_ids_or_references() {
        assert!(validate_source("sha256:0123abcd").is_ok());
        assert!(validate_source("0123abcd").is_ok());
        assert!(validate_source("web:1").is_ok());
        for bad in ["web 1", ""] {
            assert_eq!(
                validate_source(bad).unwrap_err().code,
                Code::ReferenceInvalid
            );
        }
    }

    #[test]
    fn names_are_encoded_for_the_path() {
        assert_eq!(encode("ghcr.io/octo/web:1"), "ghcr.io/octo/web:1");
        assert_eq!(encode("a b?c"), "a%20b%3Fc");
    }
}
