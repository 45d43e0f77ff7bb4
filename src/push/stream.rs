//! The engine's push stream (`POST /images/{name}/push`), one JSON object per line, read as what
//! happened: per-layer steps and bytes, the pushed digest (`aux`), or a failure — which arrives under
//! HTTP 200 — turned into a stable error code with a hint. Pure; the lines are what dockerd sends.

use crate::archive::is_sha256_digest;
use crate::error::Error;
use crate::registry::refusal::error_for;
use serde::Deserialize;

/// What one line of the push stream says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamLine {
    /// "The push refers to repository [HOST/OWNER/NAME]".
    Repository(String),
    /// A step of one layer (the engine names layers by a short ID).
    Layer { id: String, event: LayerEvent },
    /// The pushed manifest: tag, digest and size (the `aux` line, or the "TAG: digest: … size: N"
    /// status, which is all Docker 26 on the containerd store and Podman send).
    Pushed {
        tag: String,
        digest: String,
        size: u64,
    },
    /// The push failed.
    Failed(Error),
    /// Anything else (blank lines, unknown statuses).
    Other,
}

/// One layer's step, as the engine reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LayerEvent {
    Preparing,
    Waiting,
    /// Bytes of the layer read so far; `total` is its uncompressed size.
    Uploading {
        current: u64,
        total: Option<u64>,
    },
    /// The engine will try this layer again.
    Retrying,
    Pushed,
    Existed,
    Mounted {
        from: String,
    },
}

#[derive(Deserialize)]
struct RawLine {
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    id: Option<String>,
    #[serde(rename = "progressDetail", default)]
    progress: Option<RawProgress>,
    #[serde(default)]
    aux: Option<RawAux>,
    #[serde(rename = "errorDetail", default)]
    error_detail: Option<RawErrorDetail>,
    #[serde(default)]
    error: Option<String>,
}

#[derive(Deserialize, Default)]
struct RawProgress {
    current: Option<u64>,
    total: Option<u64>,
}

#[derive(Deserialize)]
struct RawAux {
    #[serde(rename = "Tag")]
    tag: Option<String>,
    #[serde(rename = "Digest")]
    digest: Option<String>,
    #[serde(rename = "Size")]
    size: Option<u64>,
}

#[derive(Deserialize)]
struct RawErrorDetail {
    message: Option<String>,
}

/// Reads one line of the push stream. Lines that are not JSON are `Other` (never a panic).
pub fn parse_line(line: &[u8]) -> StreamLine {
    let Ok(raw) = serde_json::from_slice::<RawLine>(line) else {
        return StreamLine::Other;
    };
    let message = raw.error_detail.and_then(|d| d.message).or(raw.error);
    if let Some(message) = message {
        return StreamLine::Failed(error_for(&message));
    }
    if let Some(aux) = raw.aux {
        if let (Some(digest), Some(size)) = (aux.digest, aux.size) {
            return StreamLine::Pushed {
                tag: aux.tag.unwrap_or_default(),
                digest,
                size,
            };
        }
    }
    let Some(status) = raw.status else {
        return StreamLine::Other;
    };
    if let Some(rest) = status.strip_prefix("The push refers to repository [") {
        return StreamLine::Repository(rest.trim_end_matches(']').to_string());
    }
    if let Some(pushed) = pushed_status(&status) {
        return pushed;
    }
    let Some(id) = raw.id.filter(|id| !id.is_empty()) else {
        return StreamLine::Other;
    };
    let event = match status.as_str() {
        "Preparing" => LayerEvent::Preparing,
        "Waiting" => LayerEvent::Waiting,
        "Pushing" => {
            let progress = raw.progress.unwrap_or_default();
            LayerEvent::Uploading {
                current: progress.current.unwrap_or(0),
                total: progress.total.filter(|&t| t > 0),
            }
        }
        "Pushed" => LayerEvent::Pushed,
        "Layer already exists" => LayerEvent::Existed,
        other if other.starts_with("Mounted from ") => LayerEvent::Mounted {
            from: other["Mounted from ".len()..].to_string(),
        },
        other if other.starts_with("Retrying in ") => LayerEvent::Retrying,
        _ => return StreamLine::Other,
    };
    StreamLine::Layer { id, event }
}

/// "TAG: digest: sha256:HEX size: N", the status every engine ends a push with.
fn pushed_status(status: &str) -> Option<StreamLine> {
    let (tag, rest) = status.split_once(": digest: ")?;
    let (digest, size) = rest.split_once(" size: ")?;
    if !is_sha256_digest(digest) || tag.is_empty() || tag.contains(char::is_whitespace) {
        return None;
    }
    Some(StreamLine::Pushed {
        tag: tag.to_string(),
        digest: digest.to_string(),
        size: size.trim().parse().ok()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Code;

    // Lines as the stack's dockerd 20.10 sent them.
    const PUSH: &str = r#"{"status":"The push refers to repository [127.0.0.1:50699/octo/fixture]"}
{"status":"Preparing","progressDetail":{},"id":"65edbf9f7e57"}
{"status":"Pushing","progressDetail":{"current":33280,"total":3000000},"progress":"[\u003e    ]  33.28kB/3MB","id":"65edbf9f7e57"}
{"status":"Pushed","progressDetail":{},"id":"65edbf9f7e57"}
{"status":"1: digest: sha256:0981b8fc9bd6eb50457f1aa20ecb19e3241bf97008acbf3bfac482560a87354f size: 527"}
{"progressDetail":{},"aux":{"Tag":"1","Digest":"sha256:0981b8fc9bd6eb50457f1aa20ecb19e3241bf97008acbf3bfac482560a87354f","Size":527}}"#;

    #[test]
    fn reads_the_repository_the_layer_steps_and_the_pushed_digest() {
        let lines: Vec<StreamLine> = PUSH.lines().map(|l| parse_line(l.as_bytes())).collect();
        let layer = |event| StreamLine::Layer {
            id: "65edbf9f7e57".into(),
            event,
        };
        let pushed = StreamLine::Pushed {
            tag: "1".into(),
            digest: "sha256:0981b8fc9bd6eb50457f1aa20ecb19e3241bf97008acbf3bfac482560a87354f"
                .into(),
            size: 527,
        };
        assert_eq!(
            lines,
            vec![
                StreamLine::Repository("127.0.0.1:50699/octo/fixture".into()),
                layer(LayerEvent::Preparing),
                layer(LayerEvent::Uploading {
                    current: 33280,
                    total: Some(3_000_000)
                }),
                layer(LayerEvent::Pushed),
                pushed.clone(),
                pushed,
            ]
        );
    }

    // Docker 26.1 on the containerd image store, as the stack's sent them: no Preparing, a layer first
    // seen uploading, and no `aux` at the end; then the same image to a second repository, and again.
    const PUSH_CONTAINERD: &str = r#"{"status":"The push refers to repository [127.0.0.1:56629/octo/big]"}
{"status":"Pushing","progressDetail":{"current":2097152,"total":5001725},"progress":"[====================\u003e                              ]  2.097MB/5.002MB","id":"708861313bbf"}
{"status":"Pushed","progressDetail":{},"id":"708861313bbf"}
{"status":"1: digest: sha256:a768c1be26c694778cd446678daa3f6351daa5e211e6a1a742157020d72108f4 size: 761"}"#;
    const MOUNTED_CONTAINERD: &str =
        r#"{"status":"Mounted from octo/big","progressDetail":{},"id":"f23c3a945693"}"#;
    const EXISTED_CONTAINERD: &str =
        r#"{"status":"Layer already exists","progressDetail":{},"id":"708861313bbf"}"#;

    // Podman 4.3: the repository (with the tag) and the digest, nothing in between.
    const PUSH_PODMAN: &str = r#"{"status":"The push refers to repository [127.0.0.1:56629/octo/cap:1]"}
{"status":"1: digest: sha256:e9f6d28cc1f7c300180ace6e2cd265e4fff5bab9e21b4b8589c9abbefa31a8a5 size: 422"}"#;

    #[test]
    fn the_digest_comes_from_the_status_line_when_no_aux_follows() {
        let last = |stream: &str| {
            let lines: Vec<StreamLine> = stream.lines().map(|l| parse_line(l.as_bytes())).collect();
            lines.last().cloned().unwrap()
        };
        assert_eq!(
            last(PUSH_CONTAINERD),
            StreamLine::Pushed {
                tag: "1".into(),
                digest: "sha256:a768c1be26c694778cd446678daa3f6351daa5e211e6a1a742157020d72108f4"
                    .into(),
                size: 761
            }
        );
        assert_eq!(
            last(PUSH_PODMAN),
            StreamLine::Pushed {
                tag: "1".into(),
                digest: "sha256:e9f6d28cc1f7c300180ace6e2cd265e4fff5bab9e21b4b8589c9abbefa31a8a5"
                    .into(),
                size: 422
            }
        );
        let first = parse_line(PUSH_CONTAINERD.lines().nth(1).unwrap().as_bytes());
        let uploading = LayerEvent::Uploading {
            current: 2_097_152,
            total: Some(5_001_725),
        };
        assert_eq!(
            first,
            StreamLine::Layer {
                id: "708861313bbf".into(),
                event: uploading
            }
        );
        let event = |line: &str| match parse_line(line.as_bytes()) {
            StreamLine::Layer { event, .. } => event,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            event(MOUNTED_CONTAINERD),
            LayerEvent::Mounted {
                from: "octo/big".into()
            }
        );
        assert_eq!(event(EXISTED_CONTAINERD), LayerEvent::Existed);
    }

    #[test]
    fn a_status_that_only_looks_like_a_digest_is_not_one() {
        for status in [
            "1: digest: sha256:abc size: 5",
            "1: digest: sha512:4d1aff0cb4534d2e550f9de8f265a840d14296be1168c2ddba546eeff539e5bb size: 5",
            "1: digest: sha256:4d1aff0cb4534d2e550f9de8f265a840d14296be1168c2ddba546eeff539e5bb size: many",
            ": digest: sha256:4d1aff0cb4534d2e550f9de8f265a840d14296be1168c2ddba546eeff539e5bb size: 5",
        ] {
            let line = serde_json::json!({ "status": status }).to_string();
            assert_eq!(parse_line(line.as_bytes()), StreamLine::Other, "{status}");
        }
    }

    #[test]
    fn existing_mounted_waiting_and_retrying_layers_are_told_apart() {
        let event = |status: &str| match parse_line(
            format!(r#"{{"status":"{status}","progressDetail":{{}},"id":"abc"}}"#).as_bytes(),
        ) {
            StreamLine::Layer { event, .. } => event,
            other => panic!("{status}: {other:?}"),
        };
        assert_eq!(event("Layer already exists"), LayerEvent::Existed);
        assert_eq!(
            event("Mounted from octo/base"),
            LayerEvent::Mounted {
                from: "octo/base".into()
            }
        );
        assert_eq!(event("Waiting"), LayerEvent::Waiting);
        assert_eq!(event("Retrying in 5 seconds"), LayerEvent::Retrying);
    }

    #[test]
    fn a_missing_write_scope_under_http_200_is_the_scope_error() {
        let line = br#"{"errorDetail":{"message":"denied: permission_denied: The token provided does not match expected scopes"},"error":"denied: permission_denied: The token provided does not match expected scopes"}"#;
        let StreamLine::Failed(error) = parse_line(line) else {
            panic!("a failure");
        };
        assert_eq!(error.code, Code::TokenMissingScope);
        assert!(error.hint.contains("write:packages"), "{}", error.hint);
    }

    #[test]
    fn garbage_and_partial_lines_are_other_never_a_panic() {
        for line in [
            &b""[..],
            b"not json",
            b"{",
            b"[]",
            b"{\"status\":5}",
            b"\xff\xfe",
        ] {
            assert_eq!(parse_line(line), StreamLine::Other, "{line:?}");
        }
        assert_eq!(
            parse_line(br#"{"status":"Pushing","id":"a","progressDetail":{"current":-1}}"#),
            StreamLine::Other
        );
    }
}
