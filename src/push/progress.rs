//! The progress model of a push (DESIGN principle 5): each layer moves waiting → preparing →
//! uploading(bytes) → done (pushed | existed | mounted) or failed; totals, speed and ETA derive from the
//! layers; a throttle keeps what reaches the UI to at most ~10 updates a second, however chatty the
//! source. Pure: time comes in as an argument.

use serde::Serialize;
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Speed is measured over this much recent time.
const SPEED_WINDOW: Duration = Duration::from_secs(3);
/// At most one update per this interval reaches the UI (≤ 10 a second).
pub const UPDATE_INTERVAL: Duration = Duration::from_millis(100);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LayerState {
    Waiting,
    Preparing,
    Uploading,
    Pushed,
    Existed,
    Mounted,
    Failed,
}

impl LayerState {
    pub fn is_done(self) -> bool {
        matches!(
            self,
            LayerState::Pushed | LayerState::Existed | LayerState::Mounted
        )
    }
}

/// One layer as the UI shows it: its bar is `bytes` of `total`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Layer {
    pub id: String,
    pub state: LayerState,
    /// Bytes done; never goes down, and equals `total` once the layer is done.
    pub bytes: u64,
    /// The layer's size, once known.
    pub total: Option<u64>,
}

/// What the UI receives: every layer, the totals, speed and ETA.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Snapshot {
    pub layers: Vec<Layer>,
    pub bytes: u64,
    pub total: u64,
    /// Bytes a second over the last few seconds.
    pub bytes_per_second: u64,
    /// Seconds left at that speed; `None` while unknown.
    pub eta_seconds: Option<u64>,
    /// The source tells nothing about layers or bytes until it is done (Podman's push): the push is
    /// shown as going on, with no numbers made up.
    pub unreported: bool,
    /// What happens while no byte moves yet ("Reading the image from the engine…").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phase: Option<String>,
    /// The way the push goes, once chosen (`direct` or `engine`; the request may have said `auto`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub way: Option<super::Via>,
}

/// The layers of one push and the recent history of bytes done (for the speed).
#[derive(Debug, Default)]
pub struct Progress {
    layers: Vec<Layer>,
    samples: VecDeque<(Instant, u64)>,
    unreported: bool,
    /// The bytes the push is expected to move, known before the first (the image's size).
    planned: Option<u64>,
    /// The total shown, fixed when the first byte moves if the push was planned: the bar never
    /// moves back as layers are discovered.
    fixed_total: Option<u64>,
    phase: Option<String>,
    way: Option<super::Via>,
    /// The push completed: a planned total is reached, whatever the plan's estimate left over.
    finished: bool,
}

impl Progress {
    pub fn new() -> Progress {
        Progress::default()
    }

    /// The push is expected to move about `total` bytes (the image's size from the engine, an
    /// archive's): the total shown from the first byte on, so that it doesn't grow as layers are found.
    pub fn plan(&mut self, total: u64) {
        if self.bytes_done() == 0 && total > 0 {
            self.planned = Some(total);
        }
    }

    /// The push completed (its manifest is written).
    pub fn finish(&mut self) {
        self.finished = true;
    }

    /// What the push is doing while no byte moves yet.
    pub fn set_phase(&mut self, phase: &str) {
        self.phase = Some(phase.to_string());
    }

    /// The source is not expected to report layers (see [`Snapshot::unreported`]); the first layer
    /// it does report ends that.
    pub fn expect_no_reports(&mut self) {
        self.unreported = self.layers.is_empty();
    }

    fn layer(&mut self, id: &str) -> &mut Layer {
        self.unreported = false;
        let index = match self.layers.iter().position(|l| l.id == id) {
            Some(index) => index,
            None => {
                self.layers.push(Layer {
                    id: id.to_string(),
                    state: LayerState::Waiting,
                    bytes: 0,
                    total: None,
                });
                self.layers.len() - 1
            }
        };
        &mut self.layers[index]
    }

    /// A layer is known (with its size if known) before anything happens to it.
    pub fn add_layer(&mut self, id: &str, total: Option<u64>) {
        let layer = self.layer(id);
        if total.is_some() {
            layer.total = total;
        }
    }

    /// Moves a layer to `state` (a done or failed layer stays so, except that a failed one may start
    /// again on a retry).
    pub fn set_state(&mut self, id: &str, state: LayerState, now: Instant) {
        let layer = self.layer(id);
        if layer.state.is_done() {
            return;
        }
        layer.state = state;
        if state.is_done() {
            // A layer done without a size said (Docker's containerd store says only "Pushed" of a
            // quick layer; "already exists" never has one) keeps none: no made-up 0 B.
            match layer.total {
                Some(total) => layer.bytes = layer.bytes.max(total),
                None => layer.total = (layer.bytes > 0).then_some(layer.bytes),
            }
        }
        self.sample(now);
    }

    /// `current` bytes of the layer are through (of `total`, when known). Bytes never go down: a
    /// retried layer's bar holds until the new attempt passes it.
    pub fn uploaded(&mut self, id: &str, current: u64, total: Option<u64>, now: Instant) {
        let layer = self.layer(id);
        if layer.state.is_done() {
            return;
        }
        if let Some(total) = total {
            layer.total = Some(layer.total.map_or(total, |t| t.max(total)));
        }
        layer.state = LayerState::Uploading;
        let ceiling = layer.total.unwrap_or(u64::MAX);
        layer.bytes = layer.bytes.max(current.min(ceiling));
        self.sample(now);
    }

    fn bytes_done(&self) -> u64 {
        self.layers.iter().map(|l| l.bytes).sum()
    }

    fn sample(&mut self, now: Instant) {
        let bytes = self.bytes_done();
        if bytes > 0 && self.fixed_total.is_none() {
            if let Some(planned) = self.planned {
                self.fixed_total = Some(planned.max(self.layer_sizes()));
            }
        }
        self.samples.push_back((now, bytes));
        while self
            .samples
            .front()
            .is_some_and(|(at, _)| now.duration_since(*at) > SPEED_WINDOW)
        {
            self.samples.pop_front();
        }
    }

    fn layer_sizes(&self) -> u64 {
        self.layers.iter().map(|l| l.total.unwrap_or(l.bytes)).sum()
    }

    /// Which way the push goes (said on the card: "direct" or "through the engine").
    pub fn set_way(&mut self, way: super::Via) {
        self.way = Some(way);
    }

    pub fn snapshot(&self, now: Instant) -> Snapshot {
        // A planned push shows the total it had when the first byte moved, bytes held under it until
        // the push completes (a plan from the image's size can be a little short of the tar bytes).
        let (bytes, total) = match self.fixed_total {
            Some(fixed) if self.finished => (fixed, fixed),
            Some(fixed) => (self.bytes_done().min(fixed), fixed),
            None => (self.bytes_done(), self.layer_sizes()),
        };
        let bytes_per_second = match self.samples.front() {
            Some(&(since, then)) if now.duration_since(since) >= Duration::from_millis(200) => {
                ((bytes.saturating_sub(then)) as f64 / now.duration_since(since).as_secs_f64())
                    as u64
            }
            _ => 0,
        };
        let all_sizes_known = self.fixed_total.is_some()
            || self
                .layers
                .iter()
                .all(|l| l.total.is_some() || l.state.is_done());
        let eta_seconds = (bytes_per_second > 0 && all_sizes_known)
            .then(|| total.saturating_sub(bytes).div_ceil(bytes_per_second));
        Snapshot {
            layers: self.layers.clone(),
            bytes,
            total,
            bytes_per_second,
            eta_seconds,
            unreported: self.unreported,
            phase: (bytes == 0 && !self.finished)
                .then(|| self.phase.clone())
                .flatten(),
            way: self.way,
        }
    }
}

/// Lets an update through at most once per [`UPDATE_INTERVAL`]; the caller always sends the last one.
#[derive(Debug, Default)]
pub struct Throttle {
    last: Option<Instant>,
}

impl Throttle {
    /// Whether an update may go out now (and, if so, counts it as sent).
    pub fn ready(&mut self, now: Instant) -> bool {
        match self.last {
            Some(last) if now.duration_since(last) < UPDATE_INTERVAL => false,
            _ => {
                self.last = Some(now);
                true
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A push of one layer, "a" of `size` bytes, and the moment it started.
    fn one_layer(size: u64) -> (Instant, Progress) {
        let mut progress = Progress::new();
        progress.add_layer("a", Some(size));
        (Instant::now(), progress)
    }

    fn at(start: Instant, ms: u64) -> Instant {
        start + Duration::from_millis(ms)
    }

    #[test]
    fn layers_move_from_waiting_to_done_with_bytes_ending_at_their_size() {
        let (start, mut progress) = one_layer(1000);
        progress.set_state("a", LayerState::Preparing, start);
        progress.uploaded("a", 400, Some(1000), at(start, 100));
        let layer = &progress.snapshot(at(start, 100)).layers[0];
        assert_eq!((layer.state, layer.bytes), (LayerState::Uploading, 400));
        progress.set_state("a", LayerState::Pushed, at(start, 200));
        let layer = &progress.snapshot(at(start, 200)).layers[0];
        assert_eq!(
            (layer.state, layer.bytes, layer.total),
            (LayerState::Pushed, 1000, Some(1000))
        );
    }

    #[test]
    fn bytes_never_go_down_even_when_an_attempt_starts_over() {
        let start = Instant::now();
        let mut progress = Progress::new();
        let mut seen = Vec::new();
        for (ms, current) in [(0, 100), (10, 600), (20, 50), (30, 700), (40, 650)] {
            progress.uploaded("a", current, Some(1000), at(start, ms));
            seen.push(progress.snapshot(at(start, ms)).layers[0].bytes);
        }
        assert_eq!(seen, vec![100, 600, 600, 700, 700]);
        progress.uploaded("a", 5000, Some(1000), at(start, 50));
        assert_eq!(
            progress.snapshot(at(start, 50)).layers[0].bytes,
            1000,
            "capped at the size"
        );
    }

    #[test]
    fn a_source_expected_silent_is_unreported_until_it_names_a_layer() {
        let start = Instant::now();
        let mut progress = Progress::new();
        progress.expect_no_reports();
        let silent = progress.snapshot(start);
        assert!(silent.unreported);
        assert_eq!(
            (silent.bytes, silent.total, silent.eta_seconds),
            (0, 0, None)
        );
        progress.uploaded("a", 10, Some(100), start);
        assert!(!progress.snapshot(start).unreported);
    }

    #[test]
    fn a_done_layer_stays_done() {
        let (start, mut progress) = one_layer(10);
        progress.set_state("a", LayerState::Existed, start);
        progress.uploaded("a", 3, Some(10), start);
        progress.set_state("a", LayerState::Failed, start);
        let layer = &progress.snapshot(start).layers[0];
        assert_eq!((layer.state, layer.bytes), (LayerState::Existed, 10));
    }

    #[test]
    fn a_layer_said_pushed_without_a_size_keeps_none_and_the_eta_still_counts_the_rest() {
        // Docker 26's containerd store: a quick layer's only line is "Pushed", with no progressDetail.
        let start = Instant::now();
        let mut progress = Progress::new();
        progress.set_state("quick", LayerState::Pushed, start);
        progress.uploaded("slow", 1_000, Some(3_000), start);
        progress.uploaded("slow", 2_000, Some(3_000), at(start, 1000));
        let snapshot = progress.snapshot(at(start, 1000));
        let quick = &snapshot.layers[0];
        assert_eq!(
            (quick.state, quick.bytes, quick.total),
            (LayerState::Pushed, 0, None)
        );
        assert_eq!((snapshot.bytes, snapshot.total), (2_000, 3_000));
        assert_eq!(snapshot.eta_seconds, Some(1));
        // One that moved bytes and then is done without a size: its bytes are its size.
        progress.uploaded("unsized", 500, None, at(start, 1000));
        progress.set_state("unsized", LayerState::Pushed, at(start, 1000));
        let unsized_layer = &progress.snapshot(at(start, 1000)).layers[2];
        assert_eq!((unsized_layer.bytes, unsized_layer.total), (500, Some(500)));
    }

    #[test]
    fn totals_speed_and_eta_derive_from_the_layers() {
        let (start, mut progress) = one_layer(4_000_000);
        progress.add_layer("b", Some(6_000_000));
        progress.uploaded("a", 0, None, start);
        progress.uploaded("a", 1_000_000, None, at(start, 500));
        progress.uploaded("b", 1_000_000, None, at(start, 1000));
        let snapshot = progress.snapshot(at(start, 1000));
        assert_eq!((snapshot.bytes, snapshot.total), (2_000_000, 10_000_000));
        assert_eq!(snapshot.bytes_per_second, 2_000_000);
        assert_eq!(snapshot.eta_seconds, Some(4));
    }

    #[test]
    fn eta_is_unknown_until_every_size_is_known_and_speed_forgets_old_bytes() {
        let start = Instant::now();
        let mut progress = Progress::new();
        progress.uploaded("a", 0, Some(100), start);
        progress.uploaded("b", 0, None, start);
        progress.uploaded("a", 50, None, at(start, 1000));
        assert_eq!(progress.snapshot(at(start, 1000)).eta_seconds, None);
        // Nothing moves for ten seconds: the window forgets the early bytes.
        progress.uploaded("a", 50, None, at(start, 11_000));
        assert_eq!(progress.snapshot(at(start, 11_000)).bytes_per_second, 0);
    }

    #[test]
    fn a_planned_push_shows_its_total_from_the_first_byte_and_says_what_it_does_before() {
        let start = Instant::now();
        let mut progress = Progress::new();
        progress.plan(1_000);
        progress.set_phase("Reading the image from the engine…");
        let waiting = progress.snapshot(start);
        assert_eq!(
            waiting.phase.as_deref(),
            Some("Reading the image from the engine…")
        );
        progress.uploaded("a", 100, Some(400), at(start, 10));
        let moving = progress.snapshot(at(start, 10));
        assert_eq!(
            (moving.bytes, moving.total, moving.phase),
            (100, 1_000, None)
        );
        // A second layer found later doesn't move the total; tar bytes beyond the plan are held.
        progress.uploaded("a", 400, None, at(start, 20));
        progress.set_state("a", LayerState::Pushed, at(start, 20));
        progress.uploaded("b", 700, Some(700), at(start, 30));
        let over = progress.snapshot(at(start, 30));
        assert_eq!((over.bytes, over.total), (1_000, 1_000));
        progress.finish();
        assert_eq!(progress.snapshot(at(start, 40)).bytes, 1_000);
    }

    proptest::proptest! {
        /// Whatever the source reports, in any order: once bytes move a planned push's total stays
        /// what it was, and the bar's fraction never goes back (issue 21's "bars that go backwards").
        #[test]
        fn a_planned_push_keeps_its_total_once_bytes_move_and_its_bar_never_goes_back(
            plan in 1u64..10_000_000,
            events in proptest::collection::vec(
                (0usize..4, 0u64..5_000_000, proptest::option::of(1u64..5_000_000), 0u8..5),
                1..80,
            ),
        ) {
            let start = Instant::now();
            let mut progress = Progress::new();
            progress.plan(plan);
            let (mut fixed, mut last) = (None, 0.0f64);
            for (i, (layer, current, total, kind)) in events.into_iter().enumerate() {
                let (id, now) = (format!("layer-{layer}"), at(start, i as u64 * 10));
                match kind {
                    0 => progress.add_layer(&id, total),
                    1 | 2 => progress.uploaded(&id, current, total, now),
                    3 => progress.set_state(&id, LayerState::Pushed, now),
                    _ => progress.set_state(&id, LayerState::Failed, now),
                }
                let snapshot = progress.snapshot(now);
                if snapshot.bytes > 0 {
                    match fixed {
                        Some(total) => proptest::prop_assert_eq!(snapshot.total, total),
                        None => fixed = Some(snapshot.total),
                    }
                }
                let fraction = if snapshot.total == 0 { 0.0 } else { snapshot.bytes as f64 / snapshot.total as f64 };
                proptest::prop_assert!(fraction <= 1.0 && fraction + 1e-12 >= last, "{last} then {fraction}");
                last = fraction;
            }
        }
    }

    #[test]
    fn the_throttle_lets_at_most_ten_updates_a_second_through() {
        let start = Instant::now();
        let mut throttle = Throttle::default();
        let passed = (0..1000)
            .filter(|ms| throttle.ready(at(start, *ms)))
            .count();
        assert_eq!(passed, 10);
    }
}
