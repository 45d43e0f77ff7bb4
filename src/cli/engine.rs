//! `ghcr engine`: the container engine in use — product, version, socket and the API version agreed.

use super::{Failure, Output};
use clap::Args;

#[derive(Args)]
pub struct Show {}

impl Show {
    pub async fn run(self, out: Output) -> Result<(), Failure> {
        let (_, engine) = super::engine().await?;
        let info = engine.info();
        if out.json {
            out.print_json(info);
            return Ok(());
        }
        say!(
            "{} {} ({}/{})",
            info.product,
            info.version,
            info.os,
            info.arch
        );
        say!("socket  {} ({})", info.endpoint, info.origin.describe());
        say!("images  {}", info.image_store.describe());
        say!(
            "API     {} (the engine offers up to {})",
            info.api_version,
            info.server_api_version
        );
        Ok(())
    }
}
