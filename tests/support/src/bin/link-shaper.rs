//! `link-shaper`: the test world's link between a pusher and a registry, as a program for `make bench`
//! (see `ghcr_test_support::link_shaper`). Writes what went over the link to `--stats FILE` (JSON) ten
//! times a second, and runs until killed.
//!
//! link-shaper --listen 127.0.0.1:PORT --upstream 127.0.0.1:PORT [--mbit N] [--delay-ms N]
//!             [--window BYTES] [--drop-every BYTES] [--stats FILE]

use ghcr_test_support::link_shaper::{Link, LinkShaper};
use std::sync::atomic::Ordering;
use std::time::Duration;

fn main() {
    let mut args = std::env::args().skip(1);
    let (mut listen, mut upstream, mut stats) = (None, None, None);
    let mut link = Link::profile(0, 0);
    while let Some(flag) = args.next() {
        let value = args
            .next()
            .unwrap_or_else(|| usage(&format!("{flag} needs a value")));
        let number = || -> u64 {
            value
                .parse()
                .unwrap_or_else(|_| usage(&format!("{flag}: not a number: {value}")))
        };
        match flag.as_str() {
            "--listen" => listen = Some(value.clone()),
            "--upstream" => upstream = Some(value.clone()),
            "--stats" => stats = Some(value.clone()),
            "--mbit" => {
                link.up_bits_per_s = number() * 1_000_000;
                link.down_bits_per_s = link.up_bits_per_s;
            }
            "--delay-ms" => link.delay = Duration::from_millis(number()),
            "--window" => link.window = number() as usize,
            "--drop-every" => link.drop_every = Some(number()),
            _ => usage(&format!("unknown flag {flag}")),
        }
    }
    let (Some(listen), Some(upstream)) = (listen, upstream) else {
        usage("--listen and --upstream are needed")
    };
    let shaper = LinkShaper::start(&listen, &upstream, link)
        .unwrap_or_else(|e| usage(&format!("cannot listen on {listen}: {e}")));
    loop {
        std::thread::sleep(Duration::from_millis(100));
        if let Some(path) = &stats {
            let c = shaper.counters();
            let json = format!(
                "{{\"uploaded\":{},\"downloaded\":{},\"connections\":{},\"drops\":{}}}\n",
                c.uploaded.load(Ordering::SeqCst),
                c.downloaded.load(Ordering::SeqCst),
                c.connections.load(Ordering::SeqCst),
                c.drops.load(Ordering::SeqCst)
            );
            let partial = format!("{path}.partial");
            if std::fs::write(&partial, json).is_ok() {
                let _ = std::fs::rename(&partial, path);
            }
        }
    }
}

fn usage(problem: &str) -> ! {
    eprintln!("link-shaper: {problem}\nusage: link-shaper --listen ADDR --upstream ADDR [--mbit N] [--delay-ms N] [--window BYTES] [--drop-every BYTES] [--stats FILE]");
    std::process::exit(2)
}
