//! The registry's refusals and failures as errors a person can act on: its JSON error body read as
//! docker prints it (`denied: permission_denied: write_package`), each text and status mapped to a
//! stable code with a hint. Pure but for the error type; the engine's push stream uses the same words.

use crate::error::{Code, Error};
use reqwest::StatusCode;
use serde::Deserialize;

#[derive(Deserialize)]
struct RegistryErrors {
    #[serde(default)]
    errors: Vec<RegistryError>,
}

#[derive(Deserialize)]
struct RegistryError {
    #[serde(default)]
    code: String,
    #[serde(default)]
    message: String,
}

/// A registry refusal in docker's words: `denied: permission_denied: write_package`.
pub(crate) fn refusal_text(body: &[u8], status: reqwest::StatusCode) -> String {
    serde_json::from_slice::<RegistryErrors>(body)
        .ok()
        .and_then(|e| e.errors.into_iter().next())
        .map(|e| format!("{}: {}", e.code.to_ascii_lowercase(), e.message))
        .unwrap_or_else(|| format!("HTTP {status}"))
}

pub(crate) fn unreachable(base: &str, e: &reqwest::Error) -> Error {
    Error::new(
        Code::RegistryUnreachable,
        format!(
            "Cannot reach the registry at {base}: {}",
            if e.is_timeout() {
                "no answer in time"
            } else if e.is_connect() {
                "cannot connect"
            } else {
                "the connection broke"
            }
        ),
        "Check your network connection (and GHCR_REGISTRY if you set it); pushing again skips the layers already uploaded.",
    )
}

pub(crate) fn protocol(base: &str, what: &str) -> Error {
    Error::new(
        Code::RegistryProtocol,
        format!("The registry at {base} {what}"),
        "Check GHCR_REGISTRY: it should name ghcr.io or your GHES containers host.",
    )
}

/// The refusal `response` carries, read within `Limit::ERROR`, with the wait it asked for.
pub(crate) async fn refused(response: reqwest::Response) -> Error {
    let status = response.status();
    let retry_after = crate::http::retry_after(response.headers());
    let body = crate::http::error_body(response).await;
    refusal(status, &body).with_retry_after(retry_after)
}

/// A refusal in the registry's words, with the code a person can act on. ghcr.io's secondary rate
/// limit answers 403 `DENIED` "You have exceeded a secondary rate limit": that is a wait, never a
/// token problem (FACTS).
pub(crate) fn refusal(status: StatusCode, body: &[u8]) -> Error {
    match status.as_u16() {
        429 => Error::new(
            Code::RegistryRateLimited,
            "The registry asks to slow down (HTTP 429)",
            "GHCR Desktop waits and tries again by itself; layers already uploaded are skipped.",
        ),
        500..=599 => Error::new(
            Code::RegistryUnreachable,
            format!("The registry failed: {}", refusal_text(body, status)),
            "Push again in a moment: layers already uploaded are skipped.",
        ),
        401 | 403 => error_for(&refusal_text(body, status)),
        _ => {
            let text = refusal_text(body, status);
            let mut error = error_for(&text);
            if error.code == Code::RegistryProtocol {
                error.message = format!("The registry refused: {text}");
            }
            error
        }
    }
}

/// The error a person should see for a push failure the engine relayed (registry texts as ghcr.io and
/// the distribution registry word them).
pub fn error_for(message: &str) -> Error {
    let said = message.trim();
    let lower = said.to_ascii_lowercase();
    let says = |needles: &[&str]| needles.iter().any(|needle| lower.contains(needle));
    let (code, hint) = if lower.contains("does not match expected scopes") {
        (
            Code::TokenMissingScope,
            "The token lacks write:packages: create a classic token with write:packages (Account → Create a token).",
        )
    } else if lower.contains("write_package") || lower.contains("not allowed to write") {
        (
            Code::RegistryDenied,
            "This account may not write to that owner's packages: push under your own login or an org you can write to.",
        )
    } else if lower.contains("name unknown") || lower.contains("name_unknown") {
        (
            Code::RegistryDenied,
            "The registry does not know that repository name: check the owner and the name (lowercase).",
        )
    } else if lower.contains("unauthorized") || lower.contains("authentication required") {
        (
            Code::TokenInvalid,
            "The registry did not accept the credentials: check the token in Account (it may be revoked or expired).",
        )
    } else if lower.contains("rate limit") {
        (
            Code::RegistryRateLimited,
            "The registry limits how many requests an account makes a minute: GHCR Desktop waits and tries again by itself; layers already uploaded are skipped.",
        )
    // containerd (Docker's containerd store) and Podman say only that the token service refused.
    } else if lower.starts_with("denied") || says(&["403 forbidden", "403 (forbidden)"]) {
        (
            Code::RegistryDenied,
            "The registry refused the token: it may be invalid, expired, revoked, or fine-grained (ghcr.io needs a classic token).",
        )
    } else if lower.contains("toomanyrequests") || lower.contains("too many requests") {
        (
            Code::RegistryRateLimited,
            "The registry asks to slow down: retry in a minute.",
        )
    } else if says(&["does not exist locally", "no such image"])
        || lower.starts_with("tag does not")
    {
        (
            Code::ImageNotFound,
            "Tag the image for the registry first (Tag for GitHub, or `ghcr tag`).",
        )
    } else if lower.contains("server gave http response to https client") {
        (
            Code::RegistryUnreachable,
            "The registry speaks plain http and the engine wants https: for Podman mark it insecure in registries.conf ([[registry]] location = \"HOST:PORT\", insecure = true); for Docker list it under insecure-registries in daemon.json.",
        )
    } else if [
        "connection refused",
        "dial tcp",
        "no such host",
        "i/o timeout",
        "connection reset",
        "eof",
    ]
    .iter()
    .any(|needle| lower.contains(needle))
    {
        (
            Code::RegistryUnreachable,
            "Check the network and the registry address; pushing again skips the layers already uploaded.",
        )
    } else {
        (
            Code::RegistryProtocol,
            "The registry's own words are above; pushing again skips the layers already uploaded.",
        )
    };
    let text: String = said.chars().take(500).collect();
    let error = Error::new(code, format!("The push failed: {text}"), hint);
    if code == Code::TokenMissingScope {
        return error.arg("scope", "write:packages");
    }
    error
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn containerd_and_podman_refusals_get_the_codes_docker_20s_get() {
        let containerd_forbidden = "failed to authorize: failed to fetch oauth token: unexpected status from GET request to http://127.0.0.1:1/token?scope=repository%3Ao%2Fa%3Apull%2Cpush&service=s: 403 Forbidden";
        let podman_forbidden = "trying to reuse blob sha256:d56d at destination: Requesting bearer token: invalid status code from registry 403 (Forbidden)";
        for said in [containerd_forbidden, podman_forbidden] {
            assert_eq!(error_for(said).code, Code::RegistryDenied, "{said}");
        }
        let podman_tls = error_for("pinging container registry 127.0.0.1:58107: Get \"https://127.0.0.1:58107/v2/\": http: server gave HTTP response to HTTPS client");
        assert_eq!(podman_tls.code, Code::RegistryUnreachable);
        assert!(podman_tls.hint.contains("insecure"), "{}", podman_tls.hint);
        let missing = error_for("tag does not exist: 127.0.0.1:1/o/absent:1");
        assert_eq!(missing.code, Code::ImageNotFound);
    }

    #[test]
    fn registry_refusals_read_like_docker_prints_them() {
        let body =
            br#"{"errors":[{"code":"DENIED","message":"permission_denied: write_package"}]}"#;
        assert_eq!(
            refusal_text(body, reqwest::StatusCode::FORBIDDEN),
            "denied: permission_denied: write_package"
        );
        assert_eq!(
            refusal_text(b"<html>", reqwest::StatusCode::FORBIDDEN),
            "HTTP 403 Forbidden"
        );
    }

    #[test]
    fn registry_refusals_and_outages_get_their_own_codes() {
        let code = |message: &str| error_for(message).code;
        assert_eq!(code("denied: denied"), Code::RegistryDenied);
        assert_eq!(
            code("denied: permission_denied: write_package"),
            Code::RegistryDenied
        );
        assert_eq!(
            code("denied: installation not allowed to Write organization package"),
            Code::RegistryDenied
        );
        assert_eq!(
            code("unauthorized: authentication required"),
            Code::TokenInvalid
        );
        assert_eq!(
            code("name unknown: repository name not known to registry"),
            Code::RegistryDenied
        );
        assert_eq!(
            code("toomanyrequests: retry later"),
            Code::RegistryRateLimited
        );
        assert_eq!(
            code("An image does not exist locally with the tag: 127.0.0.1:1/x/fixture"),
            Code::ImageNotFound
        );
        assert_eq!(
            code(
                r#"Get "http://127.0.0.1:1/v2/": dial tcp 127.0.0.1:1: connect: connection refused"#
            ),
            Code::RegistryUnreachable
        );
        assert_eq!(code("blob upload invalid"), Code::RegistryProtocol);
    }

    #[test]
    fn ghcr_ios_secondary_rate_limit_is_a_wait_not_a_token_problem() {
        let body = br#"{"errors":[{"code":"DENIED","message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again."}]}"#;
        let error = refusal(StatusCode::FORBIDDEN, body);
        assert_eq!(error.code, Code::RegistryRateLimited);
        assert!(!error.hint.to_lowercase().contains("token"), "{error:?}");
        // The same words relayed by the engine's push stream.
        assert_eq!(
            error_for("denied: You have exceeded a secondary rate limit").code,
            Code::RegistryRateLimited
        );
    }

    #[test]
    fn refusals_get_codes_a_person_can_act_on() {
        let scopes = br#"{"errors":[{"code":"DENIED","message":"permission_denied: The token provided does not match expected scopes"}]}"#;
        assert_eq!(
            refusal(StatusCode::FORBIDDEN, scopes).code,
            Code::TokenMissingScope
        );
        assert_eq!(
            refusal(StatusCode::TOO_MANY_REQUESTS, b"").code,
            Code::RegistryRateLimited
        );
        assert_eq!(
            refusal(StatusCode::BAD_GATEWAY, b"<html>").code,
            Code::RegistryUnreachable
        );
        let unknown = br#"{"errors":[{"code":"MANIFEST_INVALID","message":"manifest invalid"}]}"#;
        let error = refusal(StatusCode::BAD_REQUEST, unknown);
        assert_eq!(error.code, Code::RegistryProtocol);
        assert!(error.message.contains("manifest_invalid: manifest invalid"));
    }
}
