//! A link between a pusher and the registry, as a TCP proxy: one shared link for every connection with an
//! upload and a download rate, a one-way delay each way, a TCP window per connection (the bytes one
//! connection may have on the wire), and faults — drop the connection that carries the link's upload
//! past every N bytes, stall the link for T seconds once past N bytes. Used by the integration tests and,
//! as the `link-shaper` program, by `make bench`. Runs on a thread of its own (its own runtime), so a test
//! that blocks does not slow the link.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, Notify, Semaphore};
use tokio::time::Instant;

/// What the link is like.
#[derive(Debug, Clone)]
pub struct Link {
    /// Client to server (the pusher's uplink), bits per second; 0: unlimited.
    pub up_bits_per_s: u64,
    /// Server to client, bits per second; 0: unlimited.
    pub down_bits_per_s: u64,
    /// One-way delay, each way.
    pub delay: Duration,
    /// Bytes one connection may have in flight (Linux's default send buffer grows to 4 MiB).
    pub window: usize,
    /// Drop the connection whose upload carries the link's total past every multiple of this many bytes.
    pub drop_every: Option<u64>,
    /// Once the link's upload total passes this many bytes, hold every byte for this long.
    pub stall: Option<(u64, Duration)>,
}

impl Link {
    /// A link of `mbit_per_s` both ways with `delay_ms` one-way delay (the bench's profiles).
    pub fn profile(mbit_per_s: u64, delay_ms: u64) -> Link {
        Link {
            up_bits_per_s: mbit_per_s * 1_000_000,
            down_bits_per_s: mbit_per_s * 1_000_000,
            delay: Duration::from_millis(delay_ms),
            window: 4 << 20,
            drop_every: None,
            stall: None,
        }
    }
}

/// What went over the link so far.
#[derive(Debug, Default)]
pub struct Counters {
    /// Bytes the link carried from the client to the server.
    pub uploaded: AtomicU64,
    /// Bytes from the server to the client.
    pub downloaded: AtomicU64,
    /// Connections accepted.
    pub connections: AtomicU64,
    /// Connections the drop fault cut.
    pub drops: AtomicU64,
}

/// A running shaper: connect to `address()` to reach the upstream through the link.
pub struct LinkShaper {
    address: SocketAddr,
    counters: Arc<Counters>,
    stop: Arc<Notify>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl LinkShaper {
    /// Listens on `listen` (e.g. "127.0.0.1:0") and forwards to `upstream` ("host:port") over `link`.
    pub fn start(listen: &str, upstream: &str, link: Link) -> std::io::Result<LinkShaper> {
        let listen: SocketAddr = listen
            .parse()
            .map_err(|_| std::io::Error::other(format!("not an address: {listen}")))?;
        let (listening, listener) = std::sync::mpsc::channel();
        let counters = Arc::new(Counters::default());
        let stop = Arc::new(Notify::new());
        let (upstream, shared, stopped) = (upstream.to_string(), counters.clone(), stop.clone());
        let thread = std::thread::Builder::new()
            .name("link-shaper".into())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("a runtime for the link");
                runtime.block_on(async move {
                    let listener = match bind(listen) {
                        Ok(listener) => {
                            let _ = listening.send(listener.local_addr());
                            listener
                        }
                        Err(e) => {
                            let _ = listening.send(Err(e));
                            return;
                        }
                    };
                    tokio::select! {
                        _ = serve(listener, upstream, link, shared) => {}
                        _ = stopped.notified() => {}
                    }
                });
            })?;
        let address = listener
            .recv()
            .map_err(|_| std::io::Error::other("the link did not start"))??;
        Ok(LinkShaper {
            address,
            counters,
            stop,
            thread: Some(thread),
        })
    }

    /// "127.0.0.1:PORT".
    pub fn address(&self) -> String {
        self.address.to_string()
    }

    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    /// Bytes uploaded through the link so far.
    pub fn uploaded(&self) -> u64 {
        self.counters.uploaded.load(Ordering::SeqCst)
    }

    /// Connections the drop fault cut so far.
    pub fn drops(&self) -> u64 {
        self.counters.drops.load(Ordering::SeqCst)
    }
}

impl Drop for LinkShaper {
    fn drop(&mut self) {
        self.stop.notify_one();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// How far ahead of the link a connection's reader may run.
const SLACK: Duration = Duration::from_millis(10);

/// The shaper's listening socket. Its receive buffer is small and fixed (accepted connections inherit
/// it): the link holds the bytes a link would, not the megabytes a loopback socket buffers — the
/// pusher's own send buffer is what a pusher has in front of a real link.
fn bind(listen: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = match listen {
        SocketAddr::V4(_) => tokio::net::TcpSocket::new_v4()?,
        SocketAddr::V6(_) => tokio::net::TcpSocket::new_v6()?,
    };
    socket.set_reuseaddr(true)?;
    socket.set_recv_buffer_size(128 << 10)?;
    socket.bind(listen)?;
    socket.listen(128)
}

/// One direction of the shared link: when it is next free.
struct Lane {
    bits_per_s: u64,
    free_at: Mutex<Instant>,
}

impl Lane {
    fn new(bits_per_s: u64) -> Lane {
        Lane {
            bits_per_s,
            free_at: Mutex::new(Instant::now()),
        }
    }

    /// Books the lane for `bytes`; when they have left.
    fn book(&self, bytes: usize) -> Instant {
        let now = Instant::now();
        let on_the_wire = match self.bits_per_s {
            0 => Duration::ZERO,
            rate => Duration::from_nanos(bytes as u64 * 8 * 1_000_000_000 / rate),
        };
        let mut free_at = self.free_at.lock().unwrap_or_else(|e| e.into_inner());
        let start = (*free_at).max(now);
        *free_at = start + on_the_wire;
        *free_at
    }

    /// Carries nothing for `hold` from now (the stall fault).
    fn hold(&self, hold: Duration) {
        let mut free_at = self.free_at.lock().unwrap_or_else(|e| e.into_inner());
        *free_at = (*free_at).max(Instant::now()) + hold;
    }
}

struct Shared {
    link: Link,
    up: Lane,
    down: Lane,
    counters: Arc<Counters>,
    stalled: AtomicBool,
}

async fn serve(listener: TcpListener, upstream: String, link: Link, counters: Arc<Counters>) {
    let shared = Arc::new(Shared {
        up: Lane::new(link.up_bits_per_s),
        down: Lane::new(link.down_bits_per_s),
        link,
        counters,
        stalled: AtomicBool::new(false),
    });
    loop {
        let Ok((client, _)) = listener.accept().await else {
            continue;
        };
        shared.counters.connections.fetch_add(1, Ordering::SeqCst);
        let (shared, upstream) = (shared.clone(), upstream.clone());
        tokio::spawn(async move {
            let Ok(server) = TcpStream::connect(&upstream).await else {
                return;
            };
            let _ = client.set_nodelay(true);
            let _ = server.set_nodelay(true);
            let cut = Arc::new(Notify::new());
            let (client_read, client_write) = client.into_split();
            let (server_read, server_write) = server.into_split();
            let up = carry(client_read, server_write, &shared, true, cut.clone());
            let down = carry(server_read, client_write, &shared, false, cut.clone());
            // A cut ends both directions at once: the halves are dropped, both sockets close.
            tokio::select! {
                _ = async { tokio::join!(up, down) } => {}
                _ = cut.notified() => {}
            }
        });
    }
}

/// Moves bytes one way: read at the lane's pace, deliver after the delay, at most a window in flight.
async fn carry(
    mut from: OwnedReadHalf,
    mut to: OwnedWriteHalf,
    shared: &Shared,
    upload: bool,
    cut: Arc<Notify>,
) {
    let link = &shared.link;
    let lane = if upload { &shared.up } else { &shared.down };
    let window = Arc::new(Semaphore::new(link.window.max(64 << 10)));
    let (queue, mut arrivals) = mpsc::unbounded_channel::<(Instant, Vec<u8>)>();
    let delay = link.delay;
    let deliver = {
        let window = window.clone();
        async move {
            while let Some((at, bytes)) = arrivals.recv().await {
                tokio::time::sleep_until(at).await;
                if to.write_all(&bytes).await.is_err() {
                    return;
                }
                window.add_permits(bytes.len());
            }
            let _ = to.shutdown().await;
        }
    };
    let send = async move {
        // Small pieces keep connections sharing the link fairly (16 KiB: 6.5 ms at 20 Mbit/s).
        let mut buffer = vec![0u8; 16 << 10];
        loop {
            let n = match from.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            let mut piece = buffer[..n].to_vec();
            let mut cut_here = false;
            if upload {
                let before = shared
                    .counters
                    .uploaded
                    .fetch_add(n as u64, Ordering::SeqCst);
                let after = before + n as u64;
                if let Some(every) = link.drop_every.filter(|e| *e > 0) {
                    if after / every > before / every {
                        // Deliver up to the boundary, then cut.
                        piece.truncate(((after / every) * every - before) as usize);
                        cut_here = true;
                    }
                }
                if let Some((after_bytes, hold)) = link.stall {
                    if after > after_bytes && !shared.stalled.swap(true, Ordering::SeqCst) {
                        shared.up.hold(hold);
                        shared.down.hold(hold);
                    }
                }
            } else {
                shared
                    .counters
                    .downloaded
                    .fetch_add(n as u64, Ordering::SeqCst);
            }
            let Ok(permits) = window.acquire_many(piece.len().max(1) as u32).await else {
                break;
            };
            permits.forget();
            let left = lane.book(piece.len());
            if queue.send((left + delay, piece)).is_err() {
                break;
            }
            // Read on once the link is nearly free (the timer's 1 ms ticks are longer than a piece
            // takes at 100 Mbit/s: sleeping to the instant would slow the link down).
            if left > Instant::now() + SLACK {
                tokio::time::sleep_until(left - SLACK).await;
            }
            if cut_here {
                shared.counters.drops.fetch_add(1, Ordering::SeqCst);
                // Let what was on the wire before the cut arrive, then cut the connection.
                tokio::time::sleep(delay).await;
                cut.notify_one();
                return;
            }
        }
        drop(queue);
    };
    tokio::join!(send, deliver);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    /// An upstream that counts what it receives and echoes a byte back once the client closes.
    fn sink() -> (String, std::thread::JoinHandle<u64>) {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap().to_string();
        let thread = std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            let mut total = 0u64;
            let mut buffer = [0u8; 65536];
            loop {
                match stream.read(&mut buffer) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => total += n as u64,
                }
            }
            let _ = stream.write_all(b"!");
            total
        });
        (address, thread)
    }

    #[test]
    fn a_capped_link_takes_as_long_as_its_rate_says_and_delays_each_way() {
        let (upstream, received) = sink();
        let shaper = LinkShaper::start("127.0.0.1:0", &upstream, Link::profile(40, 50)).unwrap();
        let start = std::time::Instant::now();
        let mut stream = std::net::TcpStream::connect(shaper.address()).unwrap();
        let data = vec![7u8; 2_000_000];
        stream.write_all(&data).unwrap();
        stream.shutdown(std::net::Shutdown::Write).unwrap();
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).unwrap();
        let elapsed = start.elapsed();
        assert_eq!(received.join().unwrap(), 2_000_000);
        assert_eq!(answer, b"!");
        // 2 MB at 40 Mbit/s is 0.4 s, plus 50 ms there and 50 ms back: never faster (the shaper's
        // own clock); the upper bound, ten times that, only catches a shaper that lost the link's
        // rate — a busy machine may run late, and `make bench` prints what the link really did.
        assert!(
            elapsed >= Duration::from_millis(480) && elapsed < Duration::from_secs(5),
            "{elapsed:?}"
        );
        assert_eq!(shaper.uploaded(), 2_000_000);
    }

    #[test]
    fn the_drop_fault_cuts_the_connection_at_the_boundary() {
        let (upstream, received) = sink();
        let link = Link {
            drop_every: Some(300_000),
            ..Link::profile(0, 1)
        };
        let shaper = LinkShaper::start("127.0.0.1:0", &upstream, link).unwrap();
        let mut stream = std::net::TcpStream::connect(shaper.address()).unwrap();
        let data = vec![1u8; 1_000_000];
        let written = stream.write_all(&data);
        let _ = stream.shutdown(std::net::Shutdown::Write);
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer);
        assert_eq!(received.join().unwrap(), 300_000);
        assert!(answer.is_empty(), "the server's answer never came back");
        assert_eq!(shaper.drops(), 1);
        let _ = written;
    }
}
