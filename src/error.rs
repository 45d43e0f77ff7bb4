//! The one error type of GHCR Desktop: a stable code, a one-line message and a hint that says what to do.
//! The UI turns codes into actions and the CLI into exit codes; nothing here ever holds a secret.

use serde::{Serialize, Serializer};
use std::collections::BTreeMap;
use std::fmt;

/// Every failure a person can meet, named by a stable code (`area.reason`) that the UI and scripts match on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    /// A setting (environment variable or settings file) has a value that cannot work.
    ConfigInvalid,
    /// No container engine answers at the socket(s) tried.
    EngineUnreachable,
    /// `DOCKER_HOST` names a kind of connection this build cannot open (ssh://, npipe://, …).
    EngineUnsupportedHost,
    /// The engine speaks an API older than the oldest one GHCR Desktop supports.
    EngineTooOld,
    /// Something answers at the socket, but not like a Docker Engine API.
    EngineProtocol,
    /// Nothing was pasted or given.
    TokenEmpty,
    /// The text cannot be a token (spaces inside, far too long, not ASCII).
    TokenMalformed,
    /// GitHub answers 401: the token is invalid, expired or revoked.
    TokenInvalid,
    /// A fine-grained, GitHub App or other token that ghcr.io does not accept.
    TokenUnsupportedKind,
    /// A classic token without a scope GHCR Desktop needs.
    TokenMissingScope,
    /// No token is configured (not logged in).
    TokenMissing,
    /// The device-flow sign-in was not approved in time.
    DeviceFlowExpired,
    /// The person declined the device-flow sign-in.
    DeviceFlowDenied,
    /// The device flow cannot be used (no or a wrong OAuth app client id).
    DeviceFlowUnavailable,
    /// No OS keyring to keep the token in (and no file fallback, by design).
    KeyringUnavailable,
    /// The registry refuses what the token asked for.
    RegistryDenied,
    /// The registry cannot be reached.
    RegistryUnreachable,
    /// The registry answers in a way GHCR Desktop does not understand.
    RegistryProtocol,
    /// The registry asks to slow down (429 toomanyrequests).
    RegistryRateLimited,
    /// GitHub's API cannot be reached (no network, wrong GHCR_API_URL).
    NetworkUnreachable,
    /// GitHub's API answers with a server error.
    GithubUnavailable,
    /// GitHub's rate limit is spent.
    GithubRateLimited,
    /// GitHub's API answers in a way GHCR Desktop does not understand.
    GithubProtocol,
    /// GitHub refused a change and said why (400/422: the last tagged version, a much-downloaded one).
    GithubRefused,
    /// An organization forbids classic personal access tokens (or ones that live this long).
    TokenClassicForbidden,
    /// An organization with SAML single sign-on needs the token authorised for it first.
    TokenSsoRequired,
    /// The system could not open a web page in the browser.
    BrowserUnavailable,
    /// An image name or reference does not follow the distribution grammar (or GitHub's rules).
    ReferenceInvalid,
    /// The engine has no image by that name or ID.
    ImageNotFound,
    /// The engine refused or failed an image operation.
    EngineFailed,
    /// A file given as an image archive is not a docker-archive or OCI layout, or is damaged.
    ArchiveInvalid,
    /// A push failed for a reason none of the other codes names (compression, a local file).
    PushFailed,
    /// The person cancelled the push.
    PushCancelled,
    /// `docker-credential-ghcr-desktop` is not where Docker looks (PATH), or does not answer.
    DockerHelperMissing,
    /// `docker-setup --undo` with no setup to undo.
    DockerNotSetUp,
    /// GitHub has no such package or version (or the token can't see it).
    PackageNotFound,
}

impl Code {
    /// Every code, for checks that each one is told (the window's catalogs).
    pub const ALL: [Code; 36] = [
        Code::ConfigInvalid,
        Code::EngineUnreachable,
        Code::EngineUnsupportedHost,
        Code::EngineTooOld,
        Code::EngineProtocol,
        Code::TokenEmpty,
        Code::TokenMalformed,
        Code::TokenInvalid,
        Code::TokenUnsupportedKind,
        Code::TokenMissingScope,
        Code::TokenMissing,
        Code::DeviceFlowExpired,
        Code::DeviceFlowDenied,
        Code::DeviceFlowUnavailable,
        Code::KeyringUnavailable,
        Code::RegistryDenied,
        Code::RegistryUnreachable,
        Code::RegistryProtocol,
        Code::RegistryRateLimited,
        Code::NetworkUnreachable,
        Code::GithubUnavailable,
        Code::GithubRateLimited,
        Code::GithubProtocol,
        Code::GithubRefused,
        Code::TokenClassicForbidden,
        Code::TokenSsoRequired,
        Code::BrowserUnavailable,
        Code::ReferenceInvalid,
        Code::ImageNotFound,
        Code::EngineFailed,
        Code::ArchiveInvalid,
        Code::PushFailed,
        Code::PushCancelled,
        Code::DockerHelperMissing,
        Code::DockerNotSetUp,
        Code::PackageNotFound,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Code::ConfigInvalid => "config.invalid",
            Code::EngineUnreachable => "engine.unreachable",
            Code::EngineUnsupportedHost => "engine.unsupported_host",
            Code::EngineTooOld => "engine.too_old",
            Code::EngineProtocol => "engine.protocol",
            Code::TokenEmpty => "token.empty",
            Code::TokenMalformed => "token.malformed",
            Code::TokenInvalid => "token.invalid",
            Code::TokenUnsupportedKind => "token.unsupported_kind",
            Code::TokenMissingScope => "token.missing_scope",
            Code::TokenMissing => "token.missing",
            Code::DeviceFlowExpired => "token.device_expired",
            Code::DeviceFlowDenied => "token.device_denied",
            Code::DeviceFlowUnavailable => "token.device_unavailable",
            Code::KeyringUnavailable => "keyring.unavailable",
            Code::RegistryDenied => "registry.denied",
            Code::RegistryUnreachable => "registry.unreachable",
            Code::RegistryProtocol => "registry.protocol",
            Code::RegistryRateLimited => "registry.rate_limited",
            Code::NetworkUnreachable => "network.unreachable",
            Code::GithubUnavailable => "github.unavailable",
            Code::GithubRateLimited => "github.rate_limited",
            Code::GithubProtocol => "github.protocol",
            Code::GithubRefused => "github.refused",
            Code::TokenClassicForbidden => "token.classic_forbidden",
            Code::TokenSsoRequired => "token.sso_required",
            Code::BrowserUnavailable => "app.browser_unavailable",
            Code::ReferenceInvalid => "reference.invalid",
            Code::ImageNotFound => "image.not_found",
            Code::EngineFailed => "engine.failed",
            Code::ArchiveInvalid => "archive.invalid",
            Code::PushFailed => "push.failed",
            Code::PushCancelled => "push.cancelled",
            Code::DockerHelperMissing => "docker.helper_missing",
            Code::DockerNotSetUp => "docker.not_set_up",
            Code::PackageNotFound => "package.not_found",
        }
    }

    /// The `ghcr` exit code for this failure (DESIGN: 2 usage, 3 token or permission, 4 engine, 5 registry
    /// or network, 1 other).
    pub fn exit_code(self) -> i32 {
        match self {
            Code::ConfigInvalid | Code::ReferenceInvalid => 2,
            Code::EngineUnreachable
            | Code::EngineUnsupportedHost
            | Code::EngineTooOld
            | Code::EngineProtocol => 4,
            Code::TokenEmpty
            | Code::TokenMalformed
            | Code::TokenInvalid
            | Code::TokenUnsupportedKind
            | Code::TokenMissingScope
            | Code::TokenMissing
            | Code::DeviceFlowExpired
            | Code::DeviceFlowDenied
            | Code::DeviceFlowUnavailable
            | Code::KeyringUnavailable
            | Code::TokenClassicForbidden
            | Code::TokenSsoRequired
            | Code::RegistryDenied => 3,
            Code::RegistryUnreachable
            | Code::RegistryProtocol
            | Code::RegistryRateLimited
            | Code::NetworkUnreachable
            | Code::GithubUnavailable
            | Code::GithubRateLimited
            | Code::GithubProtocol => 5,
            Code::BrowserUnavailable
            | Code::ImageNotFound
            | Code::EngineFailed
            | Code::PushFailed
            | Code::PushCancelled
            | Code::DockerHelperMissing
            | Code::DockerNotSetUp
            | Code::GithubRefused
            | Code::PackageNotFound => 1,
            Code::ArchiveInvalid => 2,
        }
    }
}

impl Serialize for Code {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A failure as a person sees it. Serialised as `{"code","message","hint"}` for the UI and `--json`
/// (with `"retry_after_s"` when the peer said how long to wait, and `"args"` when the words name
/// something: the window tells the error in its own language by code, with these).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Error {
    pub code: Code,
    pub message: String,
    pub hint: String,
    /// The wait the peer asked for before trying again (`Retry-After`), in seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after_s: Option<u64>,
    /// A page where the person can do what the hint says (the page a browser couldn't open, an org's
    /// SSO authorisation): the window shows it with Copy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// What the message names (`scope`, `image`, …), for the window's catalogs (`errors.<code>` with
    /// `{scope}`); never a secret.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub args: BTreeMap<&'static str, String>,
}

impl Error {
    pub fn new(code: Code, message: impl Into<String>, hint: impl Into<String>) -> Self {
        Error {
            code,
            message: message.into(),
            hint: hint.into(),
            retry_after_s: None,
            url: None,
            args: BTreeMap::new(),
        }
    }

    /// The same error, with the page where it can be acted on.
    pub fn with_url(mut self, url: impl Into<String>) -> Self {
        self.url = Some(url.into());
        self
    }

    /// The same error, naming `value` as `name` for the window's catalogs.
    pub fn arg(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.args.insert(name, value.into());
        self
    }

    /// The same error, with the wait the peer asked for.
    pub fn with_retry_after(mut self, seconds: Option<u64>) -> Self {
        self.retry_after_s = seconds;
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.message)?;
        if !self.hint.is_empty() {
            write!(f, "\nhint: {}", self.hint)?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialises_as_code_message_hint_for_the_ui() {
        let error = Error::new(Code::EngineUnreachable, "No engine", "Start one");
        let json = serde_json::to_value(&error).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"code": "engine.unreachable", "message": "No engine", "hint": "Start one"})
        );
    }

    #[test]
    fn arguments_are_sent_beside_the_words() {
        let error = Error::new(Code::TokenMissingScope, "lacks write:packages", "")
            .arg("scope", "write:packages");
        let json = serde_json::to_value(&error).unwrap();
        assert_eq!(json["args"], serde_json::json!({"scope": "write:packages"}));
    }

    #[test]
    fn engine_failures_exit_with_4_and_bad_settings_with_2() {
        for code in [
            Code::EngineUnreachable,
            Code::EngineUnsupportedHost,
            Code::EngineTooOld,
            Code::EngineProtocol,
        ] {
            assert_eq!(code.exit_code(), 4, "{code}");
            assert!(code.as_str().starts_with("engine."));
        }
        assert_eq!(Code::ConfigInvalid.exit_code(), 2);
    }

    #[test]
    fn token_problems_exit_with_3_and_network_problems_with_5() {
        assert_eq!(Code::TokenMissingScope.exit_code(), 3);
        assert_eq!(Code::TokenUnsupportedKind.exit_code(), 3);
        assert_eq!(Code::RegistryDenied.exit_code(), 3);
        assert_eq!(Code::NetworkUnreachable.exit_code(), 5);
        assert_eq!(Code::GithubUnavailable.exit_code(), 5);
    }

    #[test]
    fn display_shows_the_hint_on_its_own_line() {
        let error = Error::new(
            Code::EngineTooOld,
            "Engine API 1.30 is too old",
            "Update Docker",
        );
        assert_eq!(
            error.to_string(),
            "Engine API 1.30 is too old\nhint: Update Docker"
        );
    }
}
