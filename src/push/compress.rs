//! Layer compression for the direct push, across every core: the layer's tar is cut into 4 MiB pieces,
//! each becomes an independent gzip member (libdeflate), and the members are emitted in order — a
//! multi-member gzip stream is a valid gzip stream, which `docker pull` reads like any other. The level
//! is chosen per batch of pieces for the link ([`Pace`]): level 1 while the upload keeps up with the
//! cores, higher while the cores wait for the upload — on a slow link bytes are the time. So the same
//! layer may compress to another blob on another push; the blob cache remembers what was sent.

use super::as_background_work;
use crate::digest::Hasher;
use crate::error::{Code, Error, Result};
use libdeflater::{CompressionLvl, Compressor};
use std::io::Read;
use std::time::{Duration, Instant};

/// Uncompressed bytes per gzip member.
pub const PIECE: usize = 4 << 20;
/// Names the output format in the blob cache: change it when PIECE, the levels, the sampling or the
/// library change what comes out.
pub const COMPRESSOR: &str = "libdeflate-1.26-paced-4m-s8x8k97";

/// The levels the pace chooses from, fastest first, with their time per byte relative to level 1
/// (libdeflate on 2 cores of this machine, /usr/share/doc + /usr/lib/python3; README "Compression
/// chosen for the link"). Levels between these sent no fewer bytes than the next one down.
const LADDER: [(i32, f64); 6] = [
    (1, 1.0),
    (2, 1.5),
    (4, 1.65),
    (6, 1.85),
    (9, 3.4),
    (12, 25.0),
];

/// Bytes a second above which a link counts as fast (480 Mbit/s): see `Pace::learn`.
const FAST_LINK: f64 = 60e6;
/// Batches of a layer that don't lower the level (see `Pace::batches`).
const FILLING_BATCHES: usize = 2;

/// How the level of the next batch of pieces is chosen, and which levels were used.
#[derive(Debug, Clone)]
pub struct Pace {
    /// Index into LADDER.
    rung: usize,
    adaptive: bool,
    /// Batches of the current layer so far: the first ones fill an upload that has just started
    /// (its queue and socket buffer take them at once), which says nothing about the link.
    batches: usize,
    /// Pieces compressed at each level (0: stored).
    used: std::collections::BTreeMap<i32, u64>,
}

impl Pace {
    /// Chosen for the link as the push goes. Starts at level 6: the first batches fill the upload's
    /// queue before it can tell anything, and level 6 costs a fast link little (×1.85 for a few
    /// batches) while a slow one gets most of the bytes the higher levels save.
    pub fn for_the_link() -> Pace {
        Pace {
            rung: 3,
            adaptive: true,
            batches: 0,
            used: Default::default(),
        }
    }

    /// Always the LADDER level nearest `level` (the tests' fixed output).
    #[cfg(test)]
    pub fn fixed(level: i32) -> Pace {
        let rung = LADDER.iter().rposition(|(l, _)| *l <= level).unwrap_or(0);
        Pace {
            rung,
            adaptive: false,
            batches: 0,
            used: Default::default(),
        }
    }

    /// This pace, learning from now on.
    #[cfg(test)]
    pub fn adapting(self) -> Pace {
        Pace {
            adaptive: true,
            ..self
        }
    }

    /// A new layer starts: its upload starts empty.
    pub fn new_layer(&mut self) {
        self.batches = 0;
    }

    /// The level of the next batch.
    pub fn level(&self) -> i32 {
        LADDER[self.rung].0
    }

    /// Pieces compressed at each level so far (0: stored, they did not shrink).
    pub fn levels_used(&self) -> &std::collections::BTreeMap<i32, u64> {
        &self.used
    }

    /// Learns from a batch. Its making and waiting together are about the time the link needed for
    /// it: a higher level whose compression fits in 80 % of that is taken at once; hardly waiting
    /// (under a tenth of the making) means the cores hold the upload back: one level down. Over a link
    /// faster than FAST_LINK the level stays at 2 or below: there the cores are shared with whatever
    /// takes the bytes (on loopback, the registry itself), and higher levels save 1–2 % of the bytes.
    /// A batch whose pieces were all stored says nothing about what compressing costs, nor does a
    /// layer's last, short batch (its small piece once took level 12 on a 100 Mbit/s link).
    pub fn learn(&mut self, batch: Batch) {
        self.batches += 1;
        if !self.adaptive || batch.compressed_pieces == 0 || !batch.full {
            return;
        }
        let (making, waiting) = (batch.making.as_secs_f64(), batch.waiting.as_secs_f64());
        let link_rate = batch.sent as f64 / (making + waiting).max(1e-6);
        let ceiling = if link_rate > FAST_LINK {
            1
        } else {
            LADDER.len() - 1
        };
        let per_cost = batch.compressing.as_secs_f64() / LADDER[self.rung].1;
        let budget = 0.8 * (making + waiting);
        let fits = LADDER
            .iter()
            .rposition(|(_, cost)| per_cost * cost <= budget)
            .unwrap_or(0)
            .min(ceiling);
        if fits > self.rung {
            self.rung = fits;
        } else if self.rung > ceiling || (waiting < making / 10.0 && self.batches > FILLING_BATCHES)
        {
            self.rung = self.rung.saturating_sub(1);
        }
    }
}

/// What one batch of pieces showed.
#[derive(Debug, Clone, Copy, Default)]
pub struct Batch {
    /// How long its pieces took on the cores.
    pub compressing: Duration,
    /// How long the batch took to be ready (the next batch is read meanwhile).
    pub making: Duration,
    /// How long handing its members to the upload blocked.
    pub waiting: Duration,
    /// Bytes it handed to the upload.
    pub sent: u64,
    /// Pieces that were compressed (not stored).
    pub compressed_pieces: usize,
    /// A piece for every thread, each PIECE long (not a layer's last batch).
    pub full: bool,
}

/// A layer's digests: uncompressed (`diff_id`) and compressed (the blob), and their sizes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompressedLayer {
    pub diff_id: String,
    pub uncompressed: u64,
    pub digest: String,
    pub size: u64,
}

/// The number of threads compressing: every core the machine offers.
pub fn threads() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
}

/// Reads `source` to its end and gzips it on `threads` threads, passing each member in order to `emit`
/// (which may block: that is the back-pressure of the upload) and the uncompressed bytes read so far to
/// `progress`. `read_error` turns a read failure into the error the person sees.
pub fn compress_layer(
    source: &mut dyn Read,
    threads: usize,
    pace: &mut Pace,
    read_error: &dyn Fn(std::io::Error) -> Error,
    emit: &mut dyn FnMut(Vec<u8>) -> Result<()>,
    progress: &mut dyn FnMut(u64),
) -> Result<CompressedLayer> {
    let threads = threads.max(1);
    pace.new_layer();
    let mut uncompressed = Hasher::default();
    let mut compressed = Hasher::default();
    let mut batch = read_batch(source, threads).map_err(read_error)?;
    if batch.is_empty() {
        batch.push(Vec::new());
    }
    while !batch.is_empty() {
        let level = pace.level();
        // Only a batch of whole pieces may be followed by more input, and only one of a piece per
        // thread tells the pace about the link.
        let whole_pieces = batch.iter().all(|p| p.len() == PIECE);
        let full = whole_pieces && batch.len() == threads;
        let started = Instant::now();
        let (members, following) = std::thread::scope(|scope| {
            let workers: Vec<_> = batch
                .iter()
                .map(|piece| {
                    // Under the app's push runtime the thread is background work already; from
                    // `ghcr push` it becomes so here.
                    scope.spawn(move || {
                        as_background_work();
                        let member = gzip_member(piece, level);
                        (member, started.elapsed())
                    })
                })
                .collect();
            for piece in &batch {
                uncompressed.update(piece);
            }
            let following = if whole_pieces {
                read_batch(source, threads)
            } else {
                Ok(Vec::new())
            };
            let members: Vec<(Result<Member>, Duration)> = workers
                .into_iter()
                .map(|worker| {
                    worker
                        .join()
                        .unwrap_or_else(|_| (Err(compression_failed()), Duration::ZERO))
                })
                .collect();
            (members, following)
        });
        let making = started.elapsed();
        let compressing = members
            .iter()
            .map(|(_, took)| *took)
            .max()
            .unwrap_or_default();
        let handing_over = Instant::now();
        let (mut sent, mut compressed_pieces) = (0, 0);
        for (member, _) in members {
            let (level, member) = member?;
            *pace.used.entry(level).or_default() += 1;
            compressed_pieces += usize::from(level > 0);
            sent += member.len() as u64;
            compressed.update(&member);
            emit(member)?;
        }
        pace.learn(Batch {
            compressing,
            making,
            waiting: handing_over.elapsed(),
            sent,
            compressed_pieces,
            full,
        });
        progress(uncompressed.bytes);
        batch = following.map_err(read_error)?;
    }
    let (uncompressed_size, size) = (uncompressed.bytes, compressed.bytes);
    Ok(CompressedLayer {
        diff_id: uncompressed.digest(),
        uncompressed: uncompressed_size,
        digest: compressed.digest(),
        size,
    })
}

/// Up to `count` pieces of PIECE bytes; only the last may be shorter; empty at the end of input.
fn read_batch(source: &mut dyn Read, count: usize) -> std::io::Result<Vec<Vec<u8>>> {
    let mut batch = Vec::with_capacity(count);
    for _ in 0..count {
        let mut piece = vec![0u8; PIECE];
        let mut filled = 0;
        while filled < PIECE {
            match source.read(&mut piece[filled..]) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
        if filled == 0 {
            break;
        }
        piece.truncate(filled);
        let short = filled < PIECE;
        batch.push(piece);
        if short {
            break;
        }
    }
    Ok(batch)
}

/// A piece whose SAMPLES samples of SAMPLE bytes, spread over it, shrink by less than this (in 1/100)
/// at level 1 is stored, not compressed: random or already compressed data (libdeflate gets ~120 MB/s
/// a core on it, 80 at level 12; storing is memcpy). A compressed piece that did not get smaller is
/// stored too.
const SAMPLES: usize = 8;
const SAMPLE: usize = 8 << 10;
const WORTH_IT_PERCENT: usize = 97;

/// A gzip member and the level it was compressed at (0: stored).
type Member = (i32, Vec<u8>);

/// `piece` as one gzip member at `level`, and the level it really got (0: stored).
fn gzip_member(piece: &[u8], level: i32) -> Result<Member> {
    if !compresses(piece)? {
        return Ok((0, gzip_at(0, piece)?));
    }
    let member = gzip_at(level, piece)?;
    if member.len() < piece.len() + GZIP_FRAMING {
        return Ok((level, member));
    }
    Ok((0, gzip_at(0, piece)?))
}

/// `data` as one gzip member, compressed at `level` (0 stores it).
fn gzip_at(level: i32, data: &[u8]) -> Result<Vec<u8>> {
    let level = CompressionLvl::new(level).map_err(|_| compression_failed())?;
    let mut compressor = Compressor::new(level);
    let mut out = vec![0u8; compressor.gzip_compress_bound(data.len())];
    let written = compressor
        .gzip_compress(data, &mut out)
        .map_err(|_| compression_failed())?;
    out.truncate(written);
    Ok(out)
}

/// What libdeflate's gzip adds around the deflate stream: a 10-byte header and an 8-byte trailer.
const GZIP_FRAMING: usize = 18;

/// Whether level 1 shrinks samples spread over `piece` enough to be worth it (a piece that starts
/// with a compressed file may still be mostly text).
fn compresses(piece: &[u8]) -> Result<bool> {
    if piece.len() <= SAMPLE * SAMPLES {
        let written = gzip_at(1, piece)?.len() - GZIP_FRAMING;
        return Ok(written * 100 < piece.len().max(1) * WORTH_IT_PERCENT);
    }
    let stride = (piece.len() - SAMPLE) / (SAMPLES - 1);
    let mut written = 0;
    for i in 0..SAMPLES {
        let sample = &piece[i * stride..i * stride + SAMPLE];
        written += gzip_at(1, sample)?.len() - GZIP_FRAMING;
    }
    Ok(written * 100 < SAMPLE * SAMPLES * WORTH_IT_PERCENT)
}

fn compression_failed() -> Error {
    Error::new(
        Code::PushFailed,
        "Compressing a layer failed",
        "Push again; if it keeps failing, push through the engine (--via engine).",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::read::MultiGzDecoder;

    fn compress(data: &[u8], threads: usize) -> (CompressedLayer, Vec<u8>, Vec<u64>) {
        compress_at(data, threads, &mut Pace::fixed(1))
    }

    fn compress_at(
        data: &[u8],
        threads: usize,
        pace: &mut Pace,
    ) -> (CompressedLayer, Vec<u8>, Vec<u64>) {
        let mut out = Vec::new();
        let mut seen = Vec::new();
        let layer = compress_layer(
            &mut &data[..],
            threads,
            pace,
            &|e| Error::new(Code::PushFailed, e.to_string(), ""),
            &mut |member| {
                out.extend_from_slice(&member);
                Ok(())
            },
            &mut |bytes| seen.push(bytes),
        )
        .unwrap();
        (layer, out, seen)
    }

    fn sample(len: usize) -> Vec<u8> {
        (0..len)
            .map(|i| ((i * 7919) % 251) as u8 ^ (i >> 12) as u8)
            .collect()
    }

    #[test]
    fn members_decompress_to_the_input_and_digests_describe_both_sides() {
        let data = sample(PIECE * 3 + 12_345);
        let (layer, out, progress) = compress(&data, 2);
        let mut back = Vec::new();
        MultiGzDecoder::new(&out[..])
            .read_to_end(&mut back)
            .unwrap();
        assert_eq!(back, data);
        assert_eq!(layer.diff_id, crate::digest::sha256_digest(&data));
        assert_eq!(layer.digest, crate::digest::sha256_digest(&out));
        assert_eq!(layer.size, out.len() as u64);
        assert_eq!(layer.uncompressed, data.len() as u64);
        assert!(progress.windows(2).all(|w| w[0] < w[1]), "{progress:?}");
        assert_eq!(progress.last(), Some(&(data.len() as u64)));
    }

    #[test]
    fn output_does_not_depend_on_the_number_of_threads() {
        let data = sample(PIECE * 2 + 1);
        assert_eq!(compress(&data, 1).1, compress(&data, 3).1);
    }

    #[test]
    fn incompressible_pieces_are_stored_and_still_read_back() {
        let random = ghcr_test_support::noise("incompressible", PIECE + 100);
        let (layer, out, _) = compress(&random, 2);
        assert!(
            layer.size < random.len() as u64 + 1024,
            "stored, barely bigger: {}",
            layer.size
        );
        let mut back = Vec::new();
        MultiGzDecoder::new(&out[..])
            .read_to_end(&mut back)
            .unwrap();
        assert_eq!(back, random);
        let text = sample(PIECE);
        assert!(
            compress(&text, 2).0.size < text.len() as u64 / 2,
            "text still compresses"
        );
    }

    #[test]
    fn an_empty_layer_is_one_valid_gzip_member() {
        let (layer, out, _) = compress(&[], 2);
        let mut back = Vec::new();
        MultiGzDecoder::new(&out[..])
            .read_to_end(&mut back)
            .unwrap();
        assert!(back.is_empty());
        assert_eq!(layer.uncompressed, 0);
        assert!(layer.size > 0);
    }

    #[test]
    fn read_failures_become_the_callers_error() {
        struct Broken;
        impl Read for Broken {
            fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
                Err(std::io::Error::other("gone"))
            }
        }
        let error = compress_layer(
            &mut Broken,
            2,
            &mut Pace::fixed(1),
            &|e| Error::new(Code::EngineUnreachable, format!("export broke: {e}"), ""),
            &mut |_| Ok(()),
            &mut |_| {},
        )
        .unwrap_err();
        assert_eq!(error.code, Code::EngineUnreachable);
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// A batch of two compressed pieces (~4.6 MB out) that took `compressing`, `making`, `waiting` ms.
    fn batch(compressing: u64, making: u64, waiting: u64) -> Batch {
        Batch {
            compressing: ms(compressing),
            making: ms(making),
            waiting: ms(waiting),
            sent: 4_600_000,
            compressed_pieces: 2,
            full: true,
        }
    }

    #[test]
    fn a_link_slower_than_the_cores_raises_the_level_as_far_as_the_link_leaves_time() {
        // 100 Mbit/s: the batch took 30 ms on the cores, the link needed 380 ms for it.
        let mut pace = Pace::fixed(1).adapting();
        pace.learn(batch(29, 30, 350));
        assert_eq!(
            pace.level(),
            9,
            "3.4× the time fits in 0.8 × 380 ms, 25× does not"
        );
        // 20 Mbit/s: ~1.9 s a batch.
        let mut slow = Pace::fixed(1).adapting();
        slow.learn(batch(29, 30, 1900));
        assert_eq!(slow.level(), 12);
        // 1 Gbit/s: the link needs a little more than the cores; nothing higher fits.
        let mut fast = Pace::fixed(1).adapting();
        fast.learn(batch(29, 30, 8));
        assert_eq!(fast.level(), 1);
        // Loopback: the upload never waits; from the start level down to 1, a level a batch.
        let mut loopback = Pace::for_the_link();
        for _ in 0..5 {
            loopback.learn(batch(50, 50, 0));
        }
        assert_eq!(loopback.level(), 1);
        loopback.new_layer();
        loopback.learn(batch(29, 30, 350));
        assert_eq!(loopback.level(), 9, "a new layer can still go up at once");
    }

    #[test]
    fn cores_that_hold_the_upload_back_step_the_level_down_one_at_a_time() {
        let mut pace = Pace::for_the_link();
        pace.learn(batch(29, 30, 1900));
        assert_eq!(pace.level(), 12);
        pace.learn(batch(700, 700, 0));
        assert_eq!(
            pace.level(),
            12,
            "a layer's first batches fill its upload: no step down"
        );
        pace.learn(batch(700, 700, 0));
        assert_eq!(pace.level(), 9);
        pace.learn(batch(100, 100, 1));
        assert_eq!(pace.level(), 6);
        // Waiting, but not enough for the next level up: the level stays.
        pace.learn(batch(90, 90, 15));
        assert_eq!(pace.level(), 6);
    }

    #[test]
    fn over_a_link_faster_than_480_mbit_the_level_stays_at_2_or_below() {
        // Loopback: the registry takes 4.6 MB in 30 + 40 ms (66 MB/s) on the cores the push uses.
        let mut pace = Pace::fixed(1).adapting();
        pace.learn(batch(29, 30, 40));
        assert_eq!(
            pace.level(),
            2,
            "level 4 would fit the time, but not the shared cores"
        );
        let mut high = Pace::for_the_link();
        high.learn(batch(50, 50, 10));
        assert_eq!(high.level(), 4, "from above, one level down a batch");
    }

    #[test]
    fn a_batch_of_stored_pieces_or_a_short_last_batch_leaves_the_level_as_it_is() {
        let mut pace = Pace::for_the_link();
        pace.learn(Batch {
            compressing: ms(1),
            making: ms(2),
            waiting: ms(500),
            sent: 8_400_000,
            compressed_pieces: 0,
            full: true,
        });
        assert_eq!(pace.level(), 6);
        // A layer's last piece, 100 KB, compressed in 1 ms: no reason for level 12.
        pace.learn(Batch {
            full: false,
            ..batch(1, 2, 300)
        });
        assert_eq!(pace.level(), 6);
    }

    #[test]
    fn a_fixed_pace_never_moves() {
        let mut pace = Pace::fixed(6);
        pace.learn(batch(29, 30, 1900));
        pace.learn(batch(29, 30, 0));
        assert_eq!(pace.level(), 6);
        assert_eq!(
            Pace::fixed(5).level(),
            4,
            "the nearest level of the ladder below"
        );
    }

    #[test]
    fn higher_levels_send_fewer_bytes_that_read_back_the_same() {
        let data = sample(PIECE * 2);
        let (fast, fast_out, _) = compress_at(&data, 2, &mut Pace::fixed(1));
        let mut pace = Pace::fixed(9);
        let (small, small_out, _) = compress_at(&data, 2, &mut pace);
        assert!(small.size < fast.size, "{} < {}", small.size, fast.size);
        assert_eq!(small.diff_id, fast.diff_id);
        for out in [fast_out, small_out] {
            let mut back = Vec::new();
            MultiGzDecoder::new(&out[..])
                .read_to_end(&mut back)
                .unwrap();
            assert_eq!(back, data);
        }
        assert_eq!(pace.levels_used().get(&9), Some(&2));
    }

    #[test]
    fn a_piece_that_starts_with_compressed_bytes_but_is_mostly_text_is_compressed() {
        let mut piece = ghcr_test_support::noise("a .gz file first", 256 << 10);
        piece.extend(sample(PIECE - piece.len()));
        let mut pace = Pace::fixed(1);
        let (layer, _, _) = compress_at(&piece, 1, &mut pace);
        assert!(layer.size < piece.len() as u64 * 3 / 4, "{}", layer.size);
        assert_eq!(pace.levels_used().get(&1), Some(&1));
    }
}
