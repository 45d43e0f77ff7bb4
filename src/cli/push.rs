//! `ghcr push`: a local image or an archive to the registry, with a bar per layer and a total bar on
//! stderr (indicatif; hidden when stderr is not a terminal), or with `--json` one event per line on
//! stdout: `{"event":"progress",…snapshot}` at most ten a second, then `{"event":"pushed",…}`.

use super::{Failure, Output};
use clap::Args;
use ghcr::push::progress::{LayerState, Snapshot};
use ghcr::push::{Compression, PushRequest, PushSource, Pushed, Via};
use ghcr::{token, Code, Config, Error};
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use std::collections::HashMap;
use std::path::Path;

#[derive(Args)]
pub struct Push {
    /// A local image (name[:tag] or ID), or the path of an archive or layout folder.
    source: String,
    /// Where to: ghcr.io/OWNER/NAME:TAG. Optional when SOURCE is a local image named so already.
    target: Option<String>,
    /// auto: the faster way for the engine and the link: through the engine on Docker's
    /// containerd store and Podman; on Docker's classic store through the engine over a link an
    /// earlier push found slow (under 200 Mbit/s), else direct; direct for archives, --source-repo
    /// and zstd. The progress says which way it went.
    /// direct: GHCR Desktop compresses (on every core) and uploads; no engine needed for archives.
    /// engine: the engine uploads, as `docker push` does.
    #[arg(long, value_enum, default_value_t = Via::Auto)]
    via: Via,
    /// Connect the package to this repository (https://github.com/OWNER/REPO): adds the
    /// org.opencontainers.image.source label. Direct pushes only.
    #[arg(long)]
    source_repo: Option<String>,
    /// gzip: every client pulls it. zstd: fewer bytes (often far fewer: repeated files are found
    /// across the whole layer); Docker 23+, containerd, Podman and skopeo pull it, Docker 20.10
    /// (Debian 12's docker.io, Synology) can't. Either way the level follows the link. zstd pushes
    /// directly.
    #[arg(long, value_enum, default_value_t = Compression::Gzip)]
    compression: Compression,
}

impl Push {
    /// `--json`: one JSON event per line on stdout instead of progress bars.
    pub async fn run(self, out: Output) -> Result<(), Failure> {
        let config = Config::from_env()?;
        let plan = request(
            &config,
            &self.source,
            self.target.as_deref(),
            self.via,
            self.source_repo,
            self.compression,
        )?
        .checked(&config)?;
        let credentials = token::push_credentials(&config).await?;
        // A push over a tag is never silent: what it pointed to is said first.
        if let Some(existing) =
            ghcr::registry::existing_tag(&config, credentials.clone(), &plan.target).await
        {
            let when = existing
                .pushed_at
                .map(|at| format!(", pushed {at}"))
                .unwrap_or_default();
            eprintln!(
                "note: {} is on the registry already ({}{when}); this push replaces it (the image it pointed to stays as an untagged version)",
                existing.reference, existing.digest
            );
        }
        let mut display = Display::new(out.json);
        let pushed = ghcr::push::push(&config, &plan, credentials, |snapshot| {
            display.show(snapshot)
        })
        .await?;
        display.finish(&pushed);
        Ok(())
    }
}

/// The request the command line describes. A SOURCE that names an existing file or folder is an
/// archive; anything else is a local image of the engine.
fn request(
    config: &Config,
    source: &str,
    target: Option<&str>,
    via: Via,
    source_repository: Option<String>,
    compression: Compression,
) -> Result<PushRequest, Error> {
    let is_archive = Path::new(source).exists();
    let source = if is_archive {
        PushSource::Archive(Path::new(source).to_path_buf())
    } else {
        PushSource::Image(source.to_string())
    };
    let target = match (target, &source) {
        (Some(target), _) => target.to_string(),
        (None, PushSource::Image(image)) if image.starts_with(&format!("{}/", config.registry)) => {
            image.clone()
        }
        (None, _) => {
            return Err(Error::new(
                Code::ReferenceInvalid,
                "Say where to push: ghcr push SOURCE TARGET",
                format!("e.g. ghcr push app:1 {}/OWNER/app:1", config.registry),
            ))
        }
    };
    Ok(PushRequest {
        source,
        target,
        via,
        source_repository,
        engine: None,
        compression,
    })
}

/// The terminal display: one bar per layer under a total bar.
struct Display {
    bars: MultiProgress,
    total: ProgressBar,
    layers: HashMap<String, ProgressBar>,
    json: bool,
}

impl Display {
    fn new(json: bool) -> Display {
        let bars = MultiProgress::new();
        let total = bars.add(ProgressBar::new(0));
        total.set_style(
            ProgressStyle::with_template(
                "{prefix:>12} [{bar:32.cyan/blue}] {bytes}/{total_bytes} {binary_bytes_per_sec} ETA {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        total.set_prefix("total");
        if json {
            bars.set_draw_target(indicatif::ProgressDrawTarget::hidden());
        }
        Display {
            bars,
            total,
            layers: HashMap::new(),
            json,
        }
    }

    fn show(&mut self, snapshot: &Snapshot) {
        if self.json {
            let mut event = serde_json::to_value(snapshot).unwrap_or_default();
            event["event"] = "progress".into();
            say!("{event}");
            return;
        }
        self.total.set_length(snapshot.total);
        self.total.set_position(snapshot.bytes);
        for layer in &snapshot.layers {
            let bar = self.layers.entry(layer.id.clone()).or_insert_with(|| {
                let bar = self
                    .bars
                    .insert_before(&self.total, ProgressBar::new(layer.total.unwrap_or(0)));
                bar.set_style(
                    ProgressStyle::with_template(
                        "{prefix:>12} [{bar:32}] {bytes}/{total_bytes} {msg}",
                    )
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
                );
                bar.set_prefix(layer.id.clone());
                bar
            });
            bar.set_length(layer.total.unwrap_or(layer.bytes));
            bar.set_position(layer.bytes);
            bar.set_message(match layer.state {
                LayerState::Waiting => "waiting",
                LayerState::Preparing => "preparing",
                LayerState::Uploading => "uploading",
                LayerState::Pushed => "pushed",
                LayerState::Existed => "already there",
                LayerState::Mounted => "mounted",
                LayerState::Failed => "failed",
            });
        }
    }

    fn finish(&self, pushed: &Pushed) {
        if self.json {
            let mut event = serde_json::to_value(pushed).unwrap_or_default();
            event["event"] = "pushed".into();
            event["pull"] = pushed.pull_command().into();
            say!("{event}");
            return;
        }
        let _ = self.bars.clear();
        say!(
            "{}: digest: {} size: {}",
            pushed.reference,
            pushed.digest,
            pushed.size
        );
        say!("{}", pushed.pull_command());
    }
}
