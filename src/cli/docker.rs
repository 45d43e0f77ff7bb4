//! `ghcr docker-setup [--undo]`: lets the docker CLI take the keyring's token through
//! docker-credential-ghcr-desktop, moving a plaintext token out of Docker's config.json; or undoes it.

use super::Failure;
use clap::Args;
use ghcr::{docker_config, Config};

#[derive(Args)]
pub struct Setup {
    /// Put config.json back as it was before the setup.
    #[arg(long)]
    undo: bool,
}

impl Setup {
    pub async fn run(self) -> Result<(), Failure> {
        let config = Config::from_env()?;
        if self.undo {
            let path = docker_config::undo(&config).await?;
            say!("Restored {} as it was before docker-setup.", path.display());
            return Ok(());
        }
        let done = docker_config::setup(&config).await?;
        if done.changes.is_empty() {
            say!(
                "{} already lets the docker CLI use the keyring for {}.",
                done.config.display(),
                config.registry
            );
        } else {
            say!("Changed {}:", done.config.display());
            for change in &done.changes {
                say!("  {change}");
            }
            say!("Undo with: ghcr docker-setup --undo");
        }
        match &done.login {
            Some(login) => say!(
                "docker push/pull for {} now use {login}'s token from the system keyring.",
                config.registry
            ),
            None => say!(
                "No token is saved yet: `docker login {}` now keeps it in the system keyring.",
                config.registry
            ),
        }
        Ok(())
    }
}
