//! The engine's image events (`GET /events` filtered to images): each line read as what happened
//! (tag, untag, delete, load, …) to which image, for the live image list. Pure but for the
//! subscription.

use super::transport::Lines;
use super::Engine;
use crate::archive::is_sha256_digest;
use crate::error::Result;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// How long the engine may take to start the event stream.
const OPEN_TIMEOUT: Duration = Duration::from_secs(3);

/// What the engine said happened to an image (`GET /events`, type image).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImageEvent {
    /// tag, untag, delete, load, import, pull, push, save, …
    pub action: String,
    /// The image ID or name the event is about.
    pub id: String,
    /// The name involved, when there is one (the new tag for `tag`).
    pub name: Option<String>,
    /// Seconds since the epoch.
    pub time: i64,
}

#[derive(Deserialize)]
struct RawEvent {
    #[serde(rename = "Type", default)]
    kind: String,
    #[serde(rename = "Action", default)]
    action: String,
    #[serde(rename = "Actor", default)]
    actor: RawActor,
    #[serde(default)]
    time: i64,
}

#[derive(Deserialize, Default)]
struct RawActor {
    #[serde(rename = "ID", default)]
    id: String,
    #[serde(rename = "Attributes", default)]
    attributes: std::collections::HashMap<String, String>,
}

/// Parses one line of the event stream; `None` for blank lines and events about other things.
pub fn parse_event(line: &[u8]) -> Option<ImageEvent> {
    let raw: RawEvent = serde_json::from_slice(line).ok()?;
    if raw.kind != "image" || raw.action.is_empty() {
        return None;
    }
    // Podman names images by bare hex where Docker writes `sha256:HEX`.
    let prefixed = format!("sha256:{}", raw.actor.id);
    let id = if is_sha256_digest(&prefixed) {
        prefixed
    } else {
        raw.actor.id
    };
    Some(ImageEvent {
        action: raw.action,
        id,
        name: raw
            .actor
            .attributes
            .get("name")
            .map(|name| super::images::familiar(name).to_string()),
        time: raw.time,
    })
}

/// The engine's image events as they happen. Ends (`None`) when the engine goes away.
pub struct ImageEvents {
    lines: Lines,
}

impl ImageEvents {
    /// The next image event; `None` once the engine closed the stream (stopped, restarted).
    pub async fn next(&mut self) -> Option<ImageEvent> {
        loop {
            if let Some(event) = parse_event(&self.lines.next_line().await?) {
                return Some(event);
            }
        }
    }
}

impl Engine {
    /// Subscribes to the engine's image events (`GET /events?filters={"type":["image"]}`).
    pub async fn image_events(&self) -> Result<ImageEvents> {
        let filters =
            url::form_urlencoded::byte_serialize(br#"{"type":["image"]}"#).collect::<String>();
        let path = format!("/v{}/events?filters={filters}", self.api);
        let response = self
            .transport
            .open(&path, OPEN_TIMEOUT)
            .await
            .map_err(|e| self.lost(e))?;
        if !response.status().is_success() {
            return Err(self.refused_stream("follow image events", response).await);
        }
        Ok(ImageEvents {
            lines: Lines::new(response.into_body()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn podmans_event_names_read_as_docker_writes_them() {
        let line = br#"{"status":"tag","id":"5dd49a79b0916a30e72db15d13e4389f061ef7518d3b2f24d3bfa3fcf78f25f9","Type":"image","Action":"tag","Actor":{"ID":"5dd49a79b0916a30e72db15d13e4389f061ef7518d3b2f24d3bfa3fcf78f25f9","Attributes":{"containerExitCode":"0","image":"","name":"docker.io/library/evtest:1","podId":""}},"scope":"local","time":1796027492}"#;
        let event = parse_event(line).unwrap();
        assert_eq!(event.name.as_deref(), Some("evtest:1"));
        assert_eq!(
            event.id,
            "sha256:5dd49a79b0916a30e72db15d13e4389f061ef7518d3b2f24d3bfa3fcf78f25f9"
        );
    }

    #[test]
    fn reads_tag_and_delete_events_and_skips_others() {
        let tag = br#"{"status":"tag","id":"sha256:ab","Type":"image","Action":"tag","Actor":{"ID":"sha256:ab","Attributes":{"name":"web:2"}},"scope":"local","time":1700000000,"timeNano":1}"#;
        assert_eq!(
            parse_event(tag),
            Some(ImageEvent {
                action: "tag".into(),
                id: "sha256:ab".into(),
                name: Some("web:2".into()),
                time: 1_700_000_000
            })
        );
        let container = br#"{"Type":"container","Action":"start","Actor":{"ID":"x"}}"#;
        assert_eq!(parse_event(container), None);
        assert_eq!(parse_event(b""), None);
        assert_eq!(parse_event(b"not json"), None);
    }
}
