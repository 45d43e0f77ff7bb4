//! The GitHub CLI's token: if `gh auth token` works for the configured host, GHCR Desktop can offer to
//! use it (after the same check as a pasted one), and name the exact `gh auth refresh` command that adds
//! a missing scope. Only `gh` itself is asked; its files are never read here.

use super::web_host;
use crate::config::Config;
use crate::error::Result;
use crate::secret::Secret;
use std::path::PathBuf;
use std::time::Duration;

/// How to run `gh`: the program (found on PATH by default) and, optionally, its config directory.
#[derive(Debug, Clone)]
pub struct GhCli {
    pub program: PathBuf,
    pub config_dir: Option<PathBuf>,
}

impl GhCli {
    /// The `gh` on PATH with its usual configuration.
    pub fn system() -> GhCli {
        GhCli {
            program: PathBuf::from("gh"),
            config_dir: None,
        }
    }

    /// The token `gh` holds for the configured GitHub host; `None` when gh is missing, signed out,
    /// slow (5 s) or prints something that is not a token.
    pub async fn token(&self, config: &Config) -> Result<Option<Secret>> {
        let mut command = tokio::process::Command::new(&self.program);
        command
            .args(["auth", "token", "--hostname", &web_host(config)])
            .stdin(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true);
        if let Some(dir) = &self.config_dir {
            command.env("GH_CONFIG_DIR", dir);
        }
        let Ok(Ok(output)) = tokio::time::timeout(Duration::from_secs(5), command.output()).await
        else {
            return Ok(None);
        };
        if !output.status.success() {
            return Ok(None);
        }
        let text = String::from_utf8_lossy(&output.stdout);
        Ok(super::from_pasted(&text).ok())
    }
}

/// The command that adds `scopes` to gh's token: `gh auth refresh -h github.com -s write:packages`.
pub fn refresh_command(config: &Config, scopes: &[&str]) -> String {
    let mut command = format!("gh auth refresh -h {}", web_host(config));
    for scope in scopes {
        command.push_str(" -s ");
        command.push_str(scope);
    }
    command
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_refresh_command_names_the_host_and_each_scope() {
        assert_eq!(
            refresh_command(&Config::github_com(), &["write:packages"]),
            "gh auth refresh -h github.com -s write:packages"
        );
        let config = Config::from_vars(|name| match name {
            "GHCR_WEB_URL" => Some("http://127.0.0.1:8080".into()),
            "GHCR_REGISTRY" => Some("127.0.0.1:5000".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(
            refresh_command(&config, &["write:packages", "delete:packages"]),
            "gh auth refresh -h 127.0.0.1:8080 -s write:packages -s delete:packages"
        );
    }
}
