//! `ghcr images` and `ghcr tag`: the engine's local images as `docker images` shows them (marked when
//! on the registry or named for the old docker.pkg.github.com), and naming one for the registry after
//! checking the name.

use super::{Failure, Output};
use clap::Args;
use ghcr::engine::Engine;
use ghcr::{Config, Error};

#[derive(Args)]
pub struct List {}

impl List {
    pub async fn run(self, out: Output) -> Result<(), Failure> {
        let (config, engine) = super::engine().await?;
        let rows = engine.local_images(&config.registry).await?;
        if out.json {
            out.print_json(&rows);
            return Ok(());
        }
        if rows.is_empty() {
            say!(
                "No local images. Pull or build one, or push an archive with `ghcr push FILE.tar`."
            );
            return Ok(());
        }
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or_default();
        let width = super::column_width(rows.iter().map(|r| r.repository.as_str()), "REPOSITORY");
        let tag_width = super::column_width(rows.iter().map(|r| r.tag.as_str()), "TAG");
        say!(
            "{:width$}  {:tag_width$}  {:12}  {:14}  {:>8}",
            "REPOSITORY",
            "TAG",
            "IMAGE ID",
            "CREATED",
            "SIZE"
        );
        for row in &rows {
            let mark = if row.for_registry {
                format!("  named for {}", config.registry)
            } else if let Some(translation) = &row.translation {
                format!("  old registry: now {}", translation.to)
            } else {
                String::new()
            };
            say!(
                "{:width$}  {:tag_width$}  {:12}  {:14}  {:>8}{mark}",
                row.repository,
                row.tag,
                row.short_id,
                relative_time(now.saturating_sub(row.created)),
                human_size(row.size),
            );
        }
        Ok(())
    }
}

#[derive(Args)]
pub struct Tag {
    /// A local image: name[:tag] or image ID.
    source: String,
    /// The new name, e.g. ghcr.io/OWNER/NAME:TAG (OWNER in lowercase).
    target: String,
}

impl Tag {
    pub async fn run(self) -> Result<(), Failure> {
        let config = Config::from_env()?;
        let target =
            ghcr::reference::tag_target(&self.target, &config.registry).map_err(Error::from)?;
        let engine = Engine::connect(&config).await?;
        engine.tag(&self.source, &target).await?;
        say!("Tagged {} as {target}", self.source);
        Ok(())
    }
}

/// "3 minutes ago", as `docker images` says it (`seconds` is an age, `now − created`, computed
/// saturating: an engine may send any number as a creation time).
fn relative_time(seconds: i64) -> String {
    let seconds = seconds.max(0);
    let (n, unit) = match seconds {
        0..=59 => return "just now".into(),
        60..=3599 => (seconds / 60, "minute"),
        3600..=86_399 => (seconds / 3600, "hour"),
        86_400..=2_591_999 => (seconds / 86_400, "day"),
        2_592_000..=31_535_999 => (seconds / 2_592_000, "month"),
        _ => (seconds / 31_536_000, "year"),
    };
    format!("{n} {unit}{} ago", if n == 1 { "" } else { "s" })
}

/// Bytes in decimal units with three significant digits, as `docker images` shows them.
fn human_size(bytes: u64) -> String {
    let mut value = bytes as f64;
    for unit in ["B", "kB", "MB", "GB", "TB"] {
        if value < 999.5 {
            return if unit == "B" || value >= 99.95 {
                format!("{value:.0}{unit}")
            } else if value >= 9.995 {
                format!("{value:.1}{unit}")
            } else {
                format!("{value:.2}{unit}")
            };
        }
        value /= 1000.0;
    }
    format!("{value:.0}PB")
}
