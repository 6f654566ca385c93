//! Selection latency: `Router::route` (hard constraints plus the task's
//! strategy over precomputed state) with 4, 16, 100 and 1,000 experts, from
//! one thread and from two threads at once (started before timing, so no
//! sample times a thread being spawned), next to two baselines in the
//! same run: a uniform random pick (O(1)) and a scan that loads one atomic
//! per expert and keeps the largest (the O(n) floor of any selection that
//! looks at every expert).
//!
//! `cargo bench -p toolplane-router --bench select`; medians are in
//! `target/criterion/<group>/<bench>/new/estimates.json`.

use std::hint::black_box;
use std::sync::Arc;
use std::sync::Barrier;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{RngCore, SeedableRng};
use toolplane_core::{ChatRequest, ExpertKey, ExpertStats, Message, Price, ScriptedProvider, StaticStats, Verdict};
use toolplane_router::{Expert, KeywordClassifier, Router, Strategy, TaskClassifier, TaskPolicy};

const SIZES: [usize; 4] = [4, 16, 100, 1_000];

/// A router over `n` experts with figures in its stats source and a few
/// hundred verdicts in its posteriors, so every strategy works on warm state.
fn router(n: usize, strategy: Strategy) -> Router {
    let stats = Arc::new(StaticStats::default());
    let mut rng = ChaCha8Rng::seed_from_u64(n as u64);
    let mut b = Router::builder().seed(7).policy("code", TaskPolicy::new(strategy));
    for i in 0..n {
        let name = format!("p{i}");
        let u = |rng: &mut ChaCha8Rng| (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        stats.set(
            ExpertKey::new(name.clone(), "m"),
            Some("code"),
            ExpertStats {
                calls: 1000,
                success_rate: Some(0.9 + 0.1 * u(&mut rng)),
                latency_p95_ms: Some(200.0 + 3000.0 * u(&mut rng)),
                cost_per_1k_tokens: Some(0.01 * u(&mut rng)),
                wins: (1000.0 * u(&mut rng)) as u64,
                judged: 1000,
                ..ExpertStats::default()
            },
        );
        b = b.expert(
            Expert::new(Arc::new(ScriptedProvider::new(name)), "m")
                .with_max_context_tokens(128_000)
                .with_price(Price::per_million(1.0, 2.0)),
        );
    }
    let r = b.stats_source(stats).build().expect("router");
    for i in 0..n {
        let p = u64::from(i as u32 % 7 + 2);
        for k in 0..40u64 {
            let v = if k % 9 < p { Verdict::Win } else { Verdict::Loss };
            let _ = r.record_verdict(i, "code", &v);
        }
    }
    r
}

fn request() -> ChatRequest {
    ChatRequest::new("", vec![Message::user("Refactor this function to return a Result.")]).with_task_type("code")
}

/// Times `op` on `threads` threads at once, per operation per thread. The
/// threads are started once, before the first sample, and wait at a
/// barrier between samples, so no sample times a thread being spawned.
fn bench_parallel<M: criterion::measurement::Measurement<Value = Duration>>(
    g: &mut criterion::BenchmarkGroup<'_, M>,
    id: BenchmarkId,
    threads: usize,
    op: &(dyn Fn() + Sync),
) {
    if threads == 1 {
        g.bench_function(id, |b| b.iter(op));
        return;
    }
    let start = Barrier::new(threads + 1);
    let done = Barrier::new(threads + 1);
    let iters = AtomicU64::new(0);
    let stop = AtomicBool::new(false);
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                loop {
                    start.wait();
                    if stop.load(Ordering::Acquire) {
                        return;
                    }
                    for _ in 0..iters.load(Ordering::Acquire) {
                        op();
                    }
                    done.wait();
                }
            });
        }
        g.bench_function(id, |b| {
            b.iter_custom(|n| {
                iters.store(n, Ordering::Release);
                let t = Instant::now();
                start.wait();
                done.wait();
                t.elapsed()
            })
        });
        stop.store(true, Ordering::Release);
        start.wait();
    });
}

fn strategies() -> Vec<(&'static str, Strategy)> {
    vec![
        ("thompson", Strategy::thompson()),
        ("weighted", Strategy::default()),
        ("least_latency", Strategy::LeastLatency),
        ("static", Strategy::Static { order: vec![] }),
    ]
}

fn bench_select(c: &mut Criterion) {
    let req = request();
    for threads in [1usize, 2] {
        let mut g = c.benchmark_group(format!("select_{threads}t"));
        g.warm_up_time(Duration::from_millis(300));
        g.measurement_time(Duration::from_secs(1));
        g.sample_size(30);
        for n in SIZES {
            // Baselines.
            let seed = AtomicU64::new(1);
            let uniform = || {
                let mut rng = ChaCha8Rng::seed_from_u64(seed.fetch_add(1, Ordering::Relaxed));
                black_box((rng.next_u64() % n as u64) as usize);
            };
            bench_parallel(&mut g, BenchmarkId::new("baseline_uniform", n), threads, &uniform);
            let cells: Vec<AtomicU64> = (0..n as u64).map(|i| AtomicU64::new(i.wrapping_mul(0x9e37))).collect();
            let scan = || {
                let best = cells
                    .iter()
                    .enumerate()
                    .max_by_key(|(_, c)| c.load(Ordering::Relaxed))
                    .map(|(i, _)| i);
                black_box(best);
            };
            bench_parallel(&mut g, BenchmarkId::new("baseline_scan", n), threads, &scan);
            for (name, strategy) in strategies() {
                if threads == 2 && name == "static" {
                    continue;
                }
                let r = router(n, strategy);
                let route = || {
                    black_box(r.route(black_box(&req)));
                };
                bench_parallel(&mut g, BenchmarkId::new(name, n), threads, &route);
            }
        }
        g.finish();
    }
}

fn bench_classify(c: &mut Criterion) {
    let k = KeywordClassifier::default();
    let short = ChatRequest::new("", vec![Message::user("Why does this Rust function not compile?")]);
    let long = ChatRequest::new(
        "",
        vec![Message::user(format!(
            "Summarize the following report. {}",
            "The quarter closed with revenue up. ".repeat(100)
        ))],
    );
    let mut g = c.benchmark_group("classify");
    g.warm_up_time(Duration::from_millis(300));
    g.measurement_time(Duration::from_secs(1));
    g.bench_function("short_prompt", |b| b.iter(|| black_box(k.classify(black_box(&short)))));
    g.bench_function("long_prompt_3600_bytes", |b| {
        b.iter(|| black_box(k.classify(black_box(&long))))
    });
    g.finish();
}

criterion_group!(benches, bench_select, bench_classify);
criterion_main!(benches);
