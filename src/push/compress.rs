//! Layer compression for the direct push, across every core, in either of two encodings:
//!
//! - **gzip** (the default: every client pulls it): the layer's tar is cut into 4 MiB pieces, each
//!   becomes an independent gzip member (libdeflate), and the members are emitted in order — a
//!   multi-member gzip stream is a valid gzip stream, which `docker pull` reads like any other.
//! - **zstd** (the person's choice: Docker 23+, containerd, Podman and skopeo pull it, Docker 20.10
//!   can't): one zstd frame per layer from libzstd's multithreaded encoder, with long-distance
//!   matching over a 2^27-byte window — an image's layer often holds the same file many times, far
//!   apart (on /usr/share/doc + /usr/lib/python3, 194 MB of tar: gzip -6 107.6 MB, zstd -3 with the
//!   default window 101.5 MB, with the long window 58.8 MB).
//!
//! Either way the level is chosen per batch of input for the link ([`Pace`]): low while the upload
//! keeps up with the cores, higher while the cores wait for the upload — on a slow link bytes are the
//! time. So the same layer may compress to another blob on another push; the blob cache remembers
//! what was sent.

use super::as_background_work;
use crate::digest::Hasher;
use crate::error::{Code, Error, Result};
use libdeflater::{CompressionLvl, Compressor};
use serde::{Deserialize, Serialize};
use std::io::{Read, Write};
use std::time::{Duration, Instant};

/// Uncompressed bytes per gzip member, and per piece of a batch.
pub const PIECE: usize = 4 << 20;
/// Names the output format in the blob cache: change it when PIECE, the levels, the sampling or the
/// library change what comes out.
pub const COMPRESSOR: &str = "libdeflate-1.26-paced-4m-s8x8k97";

/// How a layer is compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[serde(rename_all = "snake_case")]
pub enum Compression {
    /// gzip, which every client can pull.
    #[default]
    Gzip,
    /// zstd: fewer bytes; Docker 23+, containerd 1.5+, Podman, CRI-O and skopeo pull it, Docker 20.10
    /// can't.
    Zstd,
}

impl Compression {
    /// The OCI media type of a layer in this encoding.
    pub fn oci_layer_type(self) -> &'static str {
        match self {
            Compression::Gzip => crate::archive::OCI_LAYER_GZIP,
            Compression::Zstd => crate::archive::OCI_LAYER_ZSTD,
        }
    }

    /// Its name, as `--compression` takes it.
    pub fn name(self) -> &'static str {
        match self {
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
        }
    }
}

/// zstd's window: 2^27 bytes, the largest libzstd's decoder takes by default (Go's take 512 MB).
const ZSTD_WINDOW_LOG: u32 = 27;

/// The levels the pace chooses from, fastest first, with their time per byte relative to the first.
/// gzip: libdeflate on 2 cores of this machine, /usr/share/doc + /usr/lib/python3 (README
/// "Compression chosen for the link"); levels between these sent no fewer bytes than the next one
/// down. zstd: libzstd on 2 threads with the long window, the same files (levels 1, 3, 6, 9, 12:
/// 0.50, 0.76, 1.30, 2.25, 4.74 s; 61.2, 58.8, 57.4, 56.3, 55.5 MB); past 12 the time grows ~7× for
/// under 1 % of bytes.
const GZIP_LADDER: [(i32, f64); 6] = [
    (1, 1.0),
    (2, 1.5),
    (4, 1.65),
    (6, 1.85),
    (9, 3.4),
    (12, 25.0),
];
const ZSTD_LADDER: [(i32, f64); 5] = [(1, 1.0), (3, 1.5), (6, 2.6), (9, 4.5), (12, 9.5)];

fn ladder(compression: Compression) -> &'static [(i32, f64)] {
    match compression {
        Compression::Gzip => &GZIP_LADDER,
        Compression::Zstd => &ZSTD_LADDER,
    }
}

/// Bytes a second above which a link counts as fast (480 Mbit/s): see `Pace::learn`.
const FAST_LINK: f64 = 60e6;
/// Batches of a layer that don't lower the level (see `Pace::batches`).
const FILLING_BATCHES: usize = 2;

/// How the level of the next batch of pieces is chosen, and which levels were used.
#[derive(Debug, Clone)]
pub struct Pace {
    compression: Compression,
    /// Index into the encoding's ladder.
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
    /// batches of gzip, ×2.6 of zstd) while a slow one gets most of the bytes the higher levels save.
    pub fn for_the_link(compression: Compression) -> Pace {
        Pace {
            compression,
            rung: ladder(compression)
                .iter()
                .position(|(l, _)| *l == 6)
                .unwrap_or(0),
            adaptive: true,
            batches: 0,
            used: Default::default(),
        }
    }

    /// Always the gzip ladder's level nearest `level` (the tests' fixed output).
    #[cfg(test)]
    pub fn fixed(level: i32) -> Pace {
        Pace::fixed_in(Compression::Gzip, level)
    }

    /// Always the ladder's level nearest `level` (at or below it).
    #[cfg(test)]
    pub fn fixed_in(compression: Compression, level: i32) -> Pace {
        let rung = ladder(compression)
            .iter()
            .rposition(|(l, _)| *l <= level)
            .unwrap_or(0);
        Pace {
            compression,
            rung,
            adaptive: false,
            batches: 0,
            used: Default::default(),
        }
    }

    /// The encoding the levels are of.
    pub fn compression(&self) -> Compression {
        self.compression
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
        ladder(self.compression)[self.rung].0
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
        let ladder = ladder(self.compression);
        let (making, waiting) = (batch.making.as_secs_f64(), batch.waiting.as_secs_f64());
        let link_rate = batch.sent as f64 / (making + waiting).max(1e-6);
        let ceiling = if link_rate > FAST_LINK {
            1
        } else {
            ladder.len() - 1
        };
        let per_cost = batch.compressing.as_secs_f64() / ladder[self.rung].1;
        let budget = 0.8 * (making + waiting);
        let fits = ladder
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
    pub compression: Compression,
}

/// The number of threads compressing: every core the machine offers.
pub fn threads() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
}

/// Reads `source` to its end and compresses it on `threads` threads in the pace's encoding, passing
/// the output in order to `emit` (which may block: that is the back-pressure of the upload) and the
/// uncompressed bytes read so far to `progress`. `read_error` turns a read failure into the error the
/// person sees.
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
    if pace.compression == Compression::Zstd {
        return zstd_layer(source, threads, pace, read_error, emit, progress);
    }
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
        compression: Compression::Gzip,
    })
}

/// The zstd half of [`compress_layer`]: one frame, libzstd's own worker threads, the long window; the
/// input goes in a batch (a piece per thread) at a time, the output that is ready then goes out, and
/// the level for the next batch is set mid-frame (libzstd allows that for the level).
fn zstd_layer(
    source: &mut dyn Read,
    threads: usize,
    pace: &mut Pace,
    read_error: &dyn Fn(std::io::Error) -> Error,
    emit: &mut dyn FnMut(Vec<u8>) -> Result<()>,
    progress: &mut dyn FnMut(u64),
) -> Result<CompressedLayer> {
    // libzstd's workers are started by this thread and inherit its priority: the push's, under the
    // app's push runtime; from `ghcr push`, this thread does the push's work and nothing else.
    as_background_work();
    let mut uncompressed = Hasher::default();
    let mut compressed = Hasher::default();
    let mut level = pace.level();
    let mut encoder = zstd_encoder(level, threads).map_err(|_| compression_failed())?;
    loop {
        let batch = read_batch(source, threads).map_err(read_error)?;
        if batch.is_empty() {
            break;
        }
        let full = batch.len() == threads && batch.iter().all(|p| p.len() == PIECE);
        let started = Instant::now();
        for piece in &batch {
            uncompressed.update(piece);
            encoder.write_all(piece).map_err(|_| compression_failed())?;
        }
        // The workers compress in the background; taking the input is as fast as they go once their
        // queue is full, so the time to take a batch is the cores' time for it.
        let making = started.elapsed();
        let ready = std::mem::take(encoder.get_mut());
        let handing_over = Instant::now();
        let sent = ready.len() as u64;
        if !ready.is_empty() {
            compressed.update(&ready);
            emit(ready)?;
        }
        *pace.used.entry(level).or_default() += batch.len() as u64;
        pace.learn(Batch {
            compressing: making,
            making,
            waiting: handing_over.elapsed(),
            sent,
            compressed_pieces: batch.len(),
            full,
        });
        if pace.level() != level {
            level = pace.level();
            encoder
                .set_parameter(zstd::stream::raw::CParameter::CompressionLevel(level))
                .map_err(|_| compression_failed())?;
        }
        progress(uncompressed.bytes);
    }
    let rest = encoder.finish().map_err(|_| compression_failed())?;
    if !rest.is_empty() {
        compressed.update(&rest);
        emit(rest)?;
    }
    let (uncompressed_size, size) = (uncompressed.bytes, compressed.bytes);
    Ok(CompressedLayer {
        diff_id: uncompressed.digest(),
        uncompressed: uncompressed_size,
        digest: compressed.digest(),
        size,
        compression: Compression::Zstd,
    })
}

/// A zstd encoder writing into memory: `threads` workers (fewer if libzstd was built without them),
/// long-distance matching over a 2^27-byte window, a checksum of the content in the frame.
fn zstd_encoder(
    level: i32,
    threads: usize,
) -> std::io::Result<zstd::stream::write::Encoder<'static, Vec<u8>>> {
    let mut encoder = zstd::stream::write::Encoder::new(Vec::new(), level)?;
    if threads > 1 {
        // A libzstd without threads refuses workers: it then compresses on this thread.
        let _ = encoder.multithread(threads as u32);
    }
    encoder.long_distance_matching(true)?;
    encoder.window_log(ZSTD_WINDOW_LOG)?;
    encoder.include_checksum(true)?;
    Ok(encoder)
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
        let mut loopback = Pace::for_the_link(Compression::Gzip);
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
        let mut pace = Pace::for_the_link(Compression::Gzip);
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
        let mut high = Pace::for_the_link(Compression::Gzip);
        high.learn(batch(50, 50, 10));
        assert_eq!(high.level(), 4, "from above, one level down a batch");
    }

    #[test]
    fn a_batch_of_stored_pieces_or_a_short_last_batch_leaves_the_level_as_it_is() {
        let mut pace = Pace::for_the_link(Compression::Gzip);
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

    fn unzstd(out: &[u8]) -> Vec<u8> {
        let mut decoder = zstd::stream::read::Decoder::new(out).unwrap();
        decoder.window_log_max(ZSTD_WINDOW_LOG).unwrap();
        let mut back = Vec::new();
        decoder.read_to_end(&mut back).unwrap();
        back
    }

    #[test]
    fn a_zstd_layer_is_one_frame_that_reads_back_with_the_same_diff_id() {
        let data = sample(PIECE * 3 + 12345);
        let (gzip, _, _) = compress_at(&data, 2, &mut Pace::fixed(6));
        let mut pace = Pace::fixed_in(Compression::Zstd, 3);
        let (zstd, out, progress) = compress_at(&data, 2, &mut pace);
        assert_eq!(zstd.compression, Compression::Zstd);
        assert_eq!(zstd.diff_id, gzip.diff_id);
        assert_eq!(zstd.digest, crate::digest::sha256_digest(&out));
        assert_eq!(zstd.size, out.len() as u64);
        assert!(out.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]), "a zstd frame");
        assert_eq!(unzstd(&out), data);
        assert_eq!(progress.last(), Some(&(data.len() as u64)));
        assert_eq!(
            pace.levels_used().get(&3),
            Some(&4),
            "four pieces at level 3"
        );
        // An empty layer is a valid frame too.
        let (empty, out, _) = compress_at(&[], 2, &mut Pace::fixed_in(Compression::Zstd, 1));
        assert!(unzstd(&out).is_empty());
        assert_eq!(empty.uncompressed, 0);
    }

    #[test]
    fn the_long_window_finds_a_file_met_again_far_apart() {
        // 8 MiB of noise, 40 MiB of other noise, the first 8 MiB again: gzip's 32 KiB window and
        // zstd's default one miss the repeat; the long window sends it as a reference.
        let first = ghcr_test_support::noise("repeated", 8 << 20);
        let mut data = first.clone();
        data.extend(ghcr_test_support::noise("between", 40 << 20));
        data.extend(&first);
        let (layer, out, _) = compress_at(&data, 2, &mut Pace::fixed_in(Compression::Zstd, 1));
        assert!(
            layer.size < 49 << 20,
            "{} bytes: the repeat was not found",
            layer.size
        );
        assert_eq!(unzstd(&out), data);
    }

    #[test]
    fn the_level_can_change_mid_frame_and_the_frame_still_reads_back() {
        // What zstd_layer does when the pace moves: libzstd takes a new level between writes.
        let data = sample(PIECE * 4);
        let mut encoder = zstd_encoder(1, 2).unwrap();
        for (piece, level) in data.chunks(PIECE).zip([1, 9, 3, 12]) {
            encoder
                .set_parameter(zstd::stream::raw::CParameter::CompressionLevel(level))
                .unwrap();
            encoder.write_all(piece).unwrap();
        }
        let out = encoder.finish().unwrap();
        assert_eq!(unzstd(&out), data);
    }

    #[test]
    fn the_zstd_ladder_starts_at_6_and_stays_at_3_or_below_over_a_fast_link() {
        let mut pace = Pace::for_the_link(Compression::Zstd);
        assert_eq!(pace.level(), 6);
        pace.learn(batch(29, 30, 40));
        assert_eq!(pace.level(), 3, "66 MB/s: the shared cores' ceiling");
        let mut slow = Pace::fixed_in(Compression::Zstd, 1).adapting();
        slow.learn(batch(29, 30, 1900));
        assert_eq!(slow.level(), 12);
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
