//! Where GHCR Desktop talks to: GitHub's API and web host, the container registry, and the engine.
//! github.com is the default; GitHub Enterprise Server and the test world are chosen by environment.
//! Reading the environment happens once, in `Config::from_env`; everything else here is pure.

use crate::error::{Code, Error, Result};
use std::net::IpAddr;
use std::path::PathBuf;
use url::{Host, Url};

/// The endpoints one session of the app or the CLI works against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// GitHub's REST API root: `https://api.github.com`, or `https://HOST/api/v3` on GHES.
    pub api_url: Url,
    /// GitHub's web root, for token pages and package settings: `https://github.com`.
    pub web_url: Url,
    /// The registry host (and port): `ghcr.io`, or `containers.HOST` on GHES.
    pub registry: String,
    /// `DOCKER_HOST` as given, if any: the engine to use instead of looking in the usual places.
    pub docker_host: Option<String>,
    /// `GHCR_OAUTH_CLIENT_ID`: an OAuth app with the device flow enabled, for browser sign-in.
    pub oauth_client_id: Option<String>,
    /// Where the direct push keeps its blob cache (`GHCR_CACHE_DIR`, else the OS cache dir); `None`
    /// keeps no cache.
    pub cache_dir: Option<PathBuf>,
}

const GITHUB_WEB: &str = "https://github.com";
const GITHUB_API: &str = "https://api.github.com";
const GITHUB_REGISTRY: &str = "ghcr.io";

impl Config {
    /// The defaults: github.com and ghcr.io, engine found by discovery.
    pub fn github_com() -> Config {
        Config::from_vars(|_| None).expect("the built-in defaults are valid")
    }

    /// Reads `GHCR_API_URL`, `GHCR_WEB_URL`, `GHCR_REGISTRY`, `DOCKER_HOST` and `GHCR_OAUTH_CLIENT_ID`.
    pub fn from_env() -> Result<Config> {
        Config::from_vars(|name| std::env::var(name).ok().filter(|v| !v.trim().is_empty()))
    }

    /// Builds the configuration from a lookup of variables. A web URL other than github.com means
    /// GitHub Enterprise Server: its API defaults to `https://HOST/api/v3`, its registry to `containers.HOST`.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Config> {
        let web_url = parse_http_url(
            "GHCR_WEB_URL",
            &var("GHCR_WEB_URL").unwrap_or_else(|| GITHUB_WEB.into()),
        )?;
        let web_host = web_url.host_str().unwrap_or_default().to_ascii_lowercase();
        let is_github_com = web_host == "github.com";

        let api_url = match var("GHCR_API_URL") {
            Some(value) => parse_http_url("GHCR_API_URL", &value)?,
            None if is_github_com => parse_http_url("GHCR_API_URL", GITHUB_API)?,
            None => parse_http_url("GHCR_API_URL", &format!("{}/api/v3", trimmed(&web_url)))?,
        };
        let registry = match var("GHCR_REGISTRY") {
            Some(value) => parse_registry(&value)?,
            None if is_github_com => GITHUB_REGISTRY.to_string(),
            None if matches!(web_url.host(), Some(Host::Domain(_))) => {
                parse_registry(&format!("containers.{web_host}"))?
            }
            None => return Err(Error::new(
                Code::ConfigInvalid,
                "GHCR_WEB_URL names an IP address, so the registry host cannot be derived from it",
                "Set GHCR_REGISTRY too (and GHCR_API_URL if the API is elsewhere).",
            )),
        };
        Ok(Config {
            api_url,
            web_url,
            registry,
            docker_host: var("DOCKER_HOST"),
            oauth_client_id: var("GHCR_OAUTH_CLIENT_ID"),
            cache_dir: cache_dir(&var),
        })
    }
}

/// `GHCR_CACHE_DIR`, or the OS's per-user cache directory with `ghcr-desktop` in it.
fn cache_dir(var: &impl Fn(&str) -> Option<String>) -> Option<PathBuf> {
    if let Some(dir) = var("GHCR_CACHE_DIR") {
        return Some(PathBuf::from(dir));
    }
    let base = if cfg!(target_os = "windows") {
        PathBuf::from(var("LOCALAPPDATA")?)
    } else if cfg!(target_os = "macos") {
        PathBuf::from(var("HOME")?).join("Library/Caches")
    } else {
        var("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .or_else(|| Some(PathBuf::from(var("HOME")?).join(".cache")))?
    };
    Some(base.join("ghcr-desktop"))
}

impl Config {
    /// The registry's base URL: https, or plain http for a loopback registry (the test world).
    pub fn registry_url(&self) -> String {
        let scheme = if is_loopback_authority(&self.registry) {
            "http"
        } else {
            "https"
        };
        format!("{scheme}://{}", self.registry)
    }
}

/// The URL as text without the trailing slash `Url` adds to a bare host.
fn trimmed(url: &Url) -> &str {
    url.as_str().trim_end_matches('/')
}

fn invalid(variable: &str, value: &str, why: &str, hint: &str) -> Error {
    Error::new(
        Code::ConfigInvalid,
        format!("{variable}={value:?} {why}"),
        hint.to_string(),
    )
}

/// An http(s) URL with a host; plain http only on loopback, where the test world lives.
fn parse_http_url(variable: &str, value: &str) -> Result<Url> {
    let value = value.trim();
    let url = Url::parse(value).map_err(|_| {
        invalid(
            variable,
            value,
            "is not a URL",
            "Use a full URL such as https://github.example.com.",
        )
    })?;
    let Some(host) = url.host() else {
        return Err(invalid(
            variable,
            value,
            "has no host",
            "Use a full URL such as https://github.example.com.",
        ));
    };
    match url.scheme() {
        "https" => {}
        "http" if is_loopback_host(&host) => {}
        "http" => {
            return Err(invalid(
                variable,
                value,
                "uses plain http",
                "Use https: a token must never travel unencrypted (plain http is only allowed on loopback).",
            ))
        }
        _ => {
            return Err(invalid(
                variable,
                value,
                "is not an http(s) URL",
                "Use a URL that starts with https://.",
            ))
        }
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid(
            variable,
            value,
            "has a query or fragment",
            "Give only the scheme, host and path.",
        ));
    }
    Ok(url)
}

/// A registry is named by host and optional port (`ghcr.io`, `127.0.0.1:5000`); `https://` is tolerated.
fn parse_registry(value: &str) -> Result<String> {
    let value = value.trim();
    let hint = "Give the registry's host, such as ghcr.io or containers.github.example.com.";
    if value.starts_with("http://") {
        return Err(invalid(
            "GHCR_REGISTRY",
            value,
            "names a URL",
            "Give only the host; plain http is used by itself for loopback registries.",
        ));
    }
    let authority = value.strip_prefix("https://").unwrap_or(value);
    let authority = authority.trim_end_matches('/');
    let url = Url::parse(&format!("https://{authority}"))
        .map_err(|_| invalid("GHCR_REGISTRY", value, "is not a host name", hint))?;
    if url.path() != "/" || url.query().is_some() || !url.username().is_empty() {
        return Err(invalid(
            "GHCR_REGISTRY",
            value,
            "has more than a host and port",
            hint,
        ));
    }
    let host = url.host_str().unwrap_or_default();
    Ok(match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_string(),
    })
}

fn is_loopback_host(host: &Host<&str>) -> bool {
    match host {
        Host::Domain(name) => name.eq_ignore_ascii_case("localhost"),
        Host::Ipv4(ip) => ip.is_loopback(),
        Host::Ipv6(ip) => ip.is_loopback(),
    }
}

/// Whether `host[:port]` names this machine.
fn is_loopback_authority(authority: &str) -> bool {
    let host = match authority.rsplit_once(':') {
        Some((host, port)) if port.chars().all(|c| c.is_ascii_digit()) => host,
        _ => authority,
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_vars(|name| vars.get(name).cloned())
    }

    #[test]
    fn defaults_are_github_com_and_ghcr_io() {
        let config = Config::github_com();
        assert_eq!(config.api_url.as_str(), "https://api.github.com/");
        assert_eq!(config.web_url.as_str(), "https://github.com/");
        assert_eq!(config.registry, "ghcr.io");
        assert_eq!(config.registry_url(), "https://ghcr.io");
        assert_eq!(config.docker_host, None);
    }

    #[test]
    fn enterprise_web_url_derives_api_v3_and_containers_host() {
        let config = config(&[("GHCR_WEB_URL", "https://GHE.example.com")]).unwrap();
        assert_eq!(config.api_url.as_str(), "https://ghe.example.com/api/v3");
        assert_eq!(config.registry, "containers.ghe.example.com");
    }

    #[test]
    fn each_endpoint_can_be_overridden_alone() {
        let config = config(&[
            ("GHCR_API_URL", "http://127.0.0.1:8080"),
            ("GHCR_REGISTRY", "127.0.0.1:5000"),
            ("DOCKER_HOST", "unix:///tmp/d.sock"),
        ])
        .unwrap();
        assert_eq!(config.api_url.as_str(), "http://127.0.0.1:8080/");
        assert_eq!(config.web_url.as_str(), "https://github.com/");
        assert_eq!(config.registry, "127.0.0.1:5000");
        assert_eq!(config.registry_url(), "http://127.0.0.1:5000");
        assert_eq!(config.docker_host.as_deref(), Some("unix:///tmp/d.sock"));
    }

    #[test]
    fn plain_http_is_refused_except_on_loopback() {
        let error = config(&[("GHCR_API_URL", "http://api.example.com")]).unwrap_err();
        assert_eq!(error.code, Code::ConfigInvalid);
        assert!(error.message.contains("GHCR_API_URL"), "{error}");
        assert!(error.hint.contains("https"), "{error}");
        assert!(config(&[("GHCR_WEB_URL", "http://localhost:9000")]).is_ok());
        assert!(config(&[
            ("GHCR_WEB_URL", "http://[::1]:9000"),
            ("GHCR_REGISTRY", "[::1]:5000")
        ])
        .is_ok());
        let error = config(&[("GHCR_WEB_URL", "http://127.0.0.1:9000")]).unwrap_err();
        assert!(error.hint.contains("GHCR_REGISTRY"), "{error}");
        let error = config(&[("GHCR_REGISTRY", "http://ghcr.io")]).unwrap_err();
        assert_eq!(error.code, Code::ConfigInvalid);
    }

    #[test]
    fn registry_accepts_https_prefix_and_rejects_paths() {
        assert_eq!(
            config(&[("GHCR_REGISTRY", "https://ghcr.io/")])
                .unwrap()
                .registry,
            "ghcr.io"
        );
        let error = config(&[("GHCR_REGISTRY", "ghcr.io/owner")]).unwrap_err();
        assert!(error.message.contains("more than a host"), "{error}");
        assert!(config(&[("GHCR_REGISTRY", "not a host")]).is_err());
    }

    #[test]
    fn malformed_urls_name_the_variable_and_never_panic() {
        for bad in [
            "",
            "github.com",
            "ftp://github.com",
            "https://",
            "https://x/?a=b",
            "\u{0}",
        ] {
            let error = config(&[("GHCR_WEB_URL", bad)]).unwrap_err();
            assert_eq!(error.code, Code::ConfigInvalid, "{bad:?}");
            assert!(error.message.starts_with("GHCR_WEB_URL="), "{error}");
        }
    }

    #[test]
    fn loopback_registries_use_plain_http() {
        for registry in [
            "localhost:5000",
            "127.0.0.1:5000",
            "[::1]:5000",
            "127.1.2.3",
        ] {
            let config = config(&[("GHCR_REGISTRY", registry)]).unwrap();
            assert!(
                config.registry_url().starts_with("http://"),
                "{registry} -> {}",
                config.registry_url()
            );
        }
        let config = config(&[("GHCR_REGISTRY", "registry.example.com:443")]).unwrap();
        assert!(config.registry_url().starts_with("https://"));
    }
}
