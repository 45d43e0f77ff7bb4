//! The engine's push stream (`POST /images/{name}/push`), one JSON object per line, read as what
//! happened: per-layer steps and bytes, the pushed digest (`aux`), or a failure — which arrives under
//! HTTP 200 — turned into a stable error code with a hint. Pure; the lines are what dockerd sends.

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
    /// The pushed manifest: tag, digest and size (the `aux` line).
    Pushed {
        tag: String,
        digest: String,
        size: u64,
    },
    /// The push failed.
    Failed(Error),
    /// Anything else (the "TAG: digest: … size: …" status, blank lines, unknown statuses).
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
                StreamLine::Other,
                StreamLine::Pushed {
                    tag: "1".into(),
                    digest:
                        "sha256:0981b8fc9bd6eb50457f1aa20ecb19e3241bf97008acbf3bfac482560a87354f"
                            .into(),
                    size: 527
                },
            ]
        );
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
