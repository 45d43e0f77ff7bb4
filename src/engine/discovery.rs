//! Where a container engine may be listening: `DOCKER_HOST`, or the usual sockets of Docker, rootless
//! Docker, Docker Desktop and Podman, in that order. Pure: it names places, it does not connect.

use crate::error::{Code, Error, Result};
use serde::Serialize;
use std::fmt;
use std::path::{Path, PathBuf};

/// How to reach an engine's API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// A Unix socket (the common case on Linux and macOS).
    Unix(PathBuf),
    /// Plain TCP to `host:port` (`DOCKER_HOST=tcp://…` without TLS).
    Tcp { host: String, port: u16 },
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Endpoint::Unix(path) => write!(f, "unix://{}", path.display()),
            Endpoint::Tcp { host, port } => write!(f, "tcp://{host}:{port}"),
        }
    }
}

/// Why a socket is a candidate: what usually listens there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    DockerHost,
    SystemDocker,
    RootlessDocker,
    DockerDesktop,
    RootlessPodman,
    SystemPodman,
}

impl Origin {
    /// A short phrase for people: "from DOCKER_HOST", "rootless Podman", …
    pub fn describe(self) -> &'static str {
        match self {
            Origin::DockerHost => "from DOCKER_HOST",
            Origin::SystemDocker => "system Docker",
            Origin::RootlessDocker => "rootless Docker",
            Origin::DockerDesktop => "Docker Desktop",
            Origin::RootlessPodman => "rootless Podman",
            Origin::SystemPodman => "system Podman",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub endpoint: Endpoint,
    pub origin: Origin,
}

/// Parses `DOCKER_HOST`: `unix:///path`, a bare absolute path, `tcp://host[:port]` or `http://host[:port]`.
/// ssh://, npipe:// and fd:// are named but not supported by this build.
pub fn parse_docker_host(value: &str) -> Result<Endpoint> {
    let value = value.trim();
    let bad = |why: &str| {
        Error::new(
            Code::ConfigInvalid,
            format!("DOCKER_HOST={value:?} {why}"),
            "Use unix:///path/to/docker.sock or tcp://HOST:PORT, or unset DOCKER_HOST.",
        )
    };
    if let Some(path) = value.strip_prefix("unix://") {
        if !path.starts_with('/') {
            return Err(bad("needs an absolute socket path"));
        }
        return Ok(Endpoint::Unix(PathBuf::from(path)));
    }
    if value.starts_with('/') {
        return Ok(Endpoint::Unix(PathBuf::from(value)));
    }
    let rest = value
        .strip_prefix("tcp://")
        .or_else(|| value.strip_prefix("http://"));
    if let Some(rest) = rest {
        let authority = rest.trim_end_matches('/');
        let (host, port) = match authority.rsplit_once(':') {
            Some((host, port)) if !host.ends_with(':') => {
                let port = port
                    .parse::<u16>()
                    .map_err(|_| bad("has an invalid port"))?;
                (host, port)
            }
            _ => (authority, 2375),
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if host.is_empty() || authority.contains('/') {
            return Err(bad("needs HOST or HOST:PORT after tcp://"));
        }
        return Ok(Endpoint::Tcp {
            host: host.to_string(),
            port,
        });
    }
    if let Some((scheme, _)) = value.split_once("://") {
        return Err(Error::new(
            Code::EngineUnsupportedHost,
            format!("DOCKER_HOST uses {scheme}://, which GHCR Desktop cannot open yet"),
            "Forward the engine to a local socket (for ssh: `ssh -nNT -L /tmp/docker.sock:/var/run/docker.sock HOST`) and set DOCKER_HOST=unix:///tmp/docker.sock.",
        ));
    }
    Err(bad("is not an engine address"))
}

/// The places to try, best first. With `DOCKER_HOST` set it is the only one, as for the docker CLI.
pub fn candidates(
    docker_host: Option<&str>,
    home: Option<&Path>,
    runtime_dir: Option<&Path>,
) -> Result<Vec<Candidate>> {
    if let Some(value) = docker_host {
        return Ok(vec![Candidate {
            endpoint: parse_docker_host(value)?,
            origin: Origin::DockerHost,
        }]);
    }
    let mut found = vec![(PathBuf::from("/var/run/docker.sock"), Origin::SystemDocker)];
    if let Some(dir) = runtime_dir {
        found.push((dir.join("docker.sock"), Origin::RootlessDocker));
    }
    if let Some(home) = home {
        found.push((home.join(".docker/run/docker.sock"), Origin::DockerDesktop));
        found.push((
            home.join(".docker/desktop/docker.sock"),
            Origin::DockerDesktop,
        ));
    }
    if let Some(dir) = runtime_dir {
        found.push((dir.join("podman/podman.sock"), Origin::RootlessPodman));
    }
    found.push((
        PathBuf::from("/run/podman/podman.sock"),
        Origin::SystemPodman,
    ));
    Ok(found
        .into_iter()
        .map(|(path, origin)| Candidate {
            endpoint: Endpoint::Unix(path),
            origin,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_host_forms_parse_to_endpoints() {
        assert_eq!(
            parse_docker_host("unix:///run/user/1000/docker.sock").unwrap(),
            Endpoint::Unix("/run/user/1000/docker.sock".into())
        );
        assert_eq!(
            parse_docker_host("/tmp/d.sock").unwrap(),
            Endpoint::Unix("/tmp/d.sock".into())
        );
        assert_eq!(
            parse_docker_host("tcp://127.0.0.1:2375").unwrap(),
            Endpoint::Tcp {
                host: "127.0.0.1".into(),
                port: 2375
            }
        );
        assert_eq!(
            parse_docker_host("tcp://engine.local").unwrap(),
            Endpoint::Tcp {
                host: "engine.local".into(),
                port: 2375
            }
        );
        assert_eq!(
            parse_docker_host("http://[::1]:2375/").unwrap(),
            Endpoint::Tcp {
                host: "::1".into(),
                port: 2375
            }
        );
    }

    #[test]
    fn endpoints_display_as_docker_host_values() {
        for value in ["unix:///var/run/docker.sock", "tcp://10.0.0.2:2375"] {
            assert_eq!(parse_docker_host(value).unwrap().to_string(), value);
        }
    }

    #[test]
    fn unsupported_and_malformed_docker_hosts_are_clear_errors() {
        let error = parse_docker_host("ssh://me@build-box").unwrap_err();
        assert_eq!(error.code, Code::EngineUnsupportedHost);
        assert!(error.message.contains("ssh://"), "{error}");
        assert!(error.hint.contains("DOCKER_HOST=unix://"), "{error}");
        for bad in [
            "unix://relative.sock",
            "tcp://",
            "tcp://host:99999",
            "tcp://host:port",
            "tcp://h/x",
            "docker.sock",
            "",
        ] {
            let error = parse_docker_host(bad).unwrap_err();
            assert_eq!(error.code, Code::ConfigInvalid, "{bad:?}");
            assert!(error.message.starts_with("DOCKER_HOST="), "{error}");
        }
    }

    #[test]
    fn docker_host_is_the_only_candidate_when_set() {
        let found = candidates(
            Some("unix:///x.sock"),
            Some(Path::new("/home/me")),
            Some(Path::new("/run/user/1000")),
        )
        .unwrap();
        assert_eq!(
            found,
            vec![Candidate {
                endpoint: Endpoint::Unix("/x.sock".into()),
                origin: Origin::DockerHost
            }]
        );
    }

    #[test]
    fn usual_sockets_are_tried_docker_first_then_podman() {
        let found = candidates(
            None,
            Some(Path::new("/home/me")),
            Some(Path::new("/run/user/1000")),
        )
        .unwrap();
        let listed: Vec<(String, Origin)> = found
            .iter()
            .map(|c| (c.endpoint.to_string(), c.origin))
            .collect();
        assert_eq!(
            listed,
            vec![
                ("unix:///var/run/docker.sock".into(), Origin::SystemDocker),
                (
                    "unix:///run/user/1000/docker.sock".into(),
                    Origin::RootlessDocker
                ),
                (
                    "unix:///home/me/.docker/run/docker.sock".into(),
                    Origin::DockerDesktop
                ),
                (
                    "unix:///home/me/.docker/desktop/docker.sock".into(),
                    Origin::DockerDesktop
                ),
                (
                    "unix:///run/user/1000/podman/podman.sock".into(),
                    Origin::RootlessPodman
                ),
                (
                    "unix:///run/podman/podman.sock".into(),
                    Origin::SystemPodman
                ),
            ]
        );
    }

    #[test]
    fn without_home_or_runtime_dir_only_system_sockets_remain() {
        let found = candidates(None, None, None).unwrap();
        let origins: Vec<Origin> = found.iter().map(|c| c.origin).collect();
        assert_eq!(origins, vec![Origin::SystemDocker, Origin::SystemPodman]);
    }
}
