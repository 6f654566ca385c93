#![allow(clippy::unwrap_used, clippy::panic, missing_docs)]
//! How fast are the stream decoders (bytes in, normalized events out)?
//!
//! Input: every recorded stream in `../shared/fixtures/providers` (12 OpenAI
//! chat streams, 7 Anthropic message streams). One iteration decodes all
//! streams of a vendor, each from fresh state.
//!
//! - `decoder`: SSE reader + vendor decoder ([`decode_all`]), producing `StreamEvent`s.
//! - `serde_json_baseline`: the same bodies, split into lines, every `data:`
//!   line parsed into a `serde_json::Value` and nothing else (no SSE rules, no
//!   event building).
//!
//! Criterion reports both as throughput (bytes/s); after it a paired run
//! prints MB/s of each and the ratio decoder / baseline.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group};
use serde_json::Value;
use toolplane_providers::anthropic::MessagesDecoder;
use toolplane_providers::decode::decode_all;
use toolplane_providers::openai::ChatChunkDecoder;

fn bodies(sub: &str) -> Vec<Vec<u8>> {
    let Some(dir) = toolplane_testkit::fixture(sub) else {
        return Vec::new();
    };
    let mut files: Vec<_> = std::fs::read_dir(dir).unwrap().flatten().map(|e| e.path()).collect();
    files.sort();
    files.iter().map(|p| std::fs::read(p).unwrap()).collect()
}

fn baseline(bodies: &[Vec<u8>]) -> usize {
    let mut n = 0;
    for b in bodies {
        for line in std::str::from_utf8(b).unwrap().lines() {
            if let Some(data) = line.strip_prefix("data: ").or_else(|| line.strip_prefix("data:")) {
                if data != "[DONE]" {
                    let v: Value = serde_json::from_str(data).unwrap();
                    n += usize::from(v.is_object());
                }
            }
        }
    }
    n
}

fn decode_openai(bodies: &[Vec<u8>]) -> usize {
    bodies
        .iter()
        .map(|b| decode_all(ChatChunkDecoder::new("openai"), b).len())
        .sum()
}

fn decode_anthropic(bodies: &[Vec<u8>]) -> usize {
    bodies
        .iter()
        .map(|b| decode_all(MessagesDecoder::new("anthropic"), b).len())
        .sum()
}

type Decode = fn(&[Vec<u8>]) -> usize;

fn vendors() -> Vec<(&'static str, Vec<Vec<u8>>, Decode)> {
    vec![
        (
            "openai_chat",
            bodies("providers/openai/chat-streams"),
            decode_openai as Decode,
        ),
        (
            "anthropic_messages",
            bodies("providers/anthropic/message-streams"),
            decode_anthropic as Decode,
        ),
    ]
}

fn bench(c: &mut Criterion) {
    for (name, bodies, decode) in vendors() {
        if bodies.is_empty() {
            continue;
        }
        let bytes: usize = bodies.iter().map(Vec::len).sum();
        let mut g = c.benchmark_group(name);
        g.throughput(Throughput::Bytes(bytes as u64));
        g.bench_function("decoder", |b| b.iter(|| black_box(decode(black_box(&bodies)))));
        g.bench_function("serde_json_baseline", |b| {
            b.iter(|| black_box(baseline(black_box(&bodies))))
        });
        g.finish();
    }
}

/// Alternates the two sides for about `budget` and returns MB/s of each.
fn paired(bodies: &[Vec<u8>], decode: Decode, budget: Duration) -> (f64, f64) {
    let bytes: usize = bodies.iter().map(Vec::len).sum();
    let (mut t_dec, mut t_base, mut rounds) = (Duration::ZERO, Duration::ZERO, 0u32);
    let start = Instant::now();
    while start.elapsed() < budget {
        let t = Instant::now();
        black_box(decode(black_box(bodies)));
        t_dec += t.elapsed();
        let t = Instant::now();
        black_box(baseline(black_box(bodies)));
        t_base += t.elapsed();
        rounds += 1;
    }
    let mbps = |d: Duration| (bytes as f64 * f64::from(rounds)) / d.as_secs_f64() / 1e6;
    (mbps(t_dec), mbps(t_base))
}

criterion_group!(benches, bench);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    for (name, bodies, decode) in vendors() {
        if bodies.is_empty() {
            continue;
        }
        let bytes: usize = bodies.iter().map(Vec::len).sum();
        let (dec, base) = paired(&bodies, decode, Duration::from_secs(3));
        println!(
            "{name}: {} streams, {bytes} bytes; decoder {dec:.0} MB/s, serde_json Value baseline {base:.0} MB/s, ratio {:.2}",
            bodies.len(),
            dec / base
        );
    }
}
