//! Selection latency: `Router::route` (hard constraints plus the task's
//! strategy over precomputed state) with 4, 16, 100 and 1,000 experts, from
//! one thread and from two threads at once, next to two baselines in the
//! same run: a uniform random pick (O(1)) and a scan that loads one atomic
//! per expert and keeps the largest (the O(n) floor of any selection that
//! looks at every expert).
//!
//! `cargo bench -p toolplane-router --bench select`; medians are in
//! `target/criterion/<group>/<bench>/new/estimates.json`.

use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{RngCore, SeedableRng};
use toolplane_core::{ChatRequest, ExpertKey, ExpertStats, Message, ScriptedProvider, StaticStats, Verdict};
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
                .with_pricing(0.001, 0.002),
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

/// Per-operation time with `threads` threads each doing `iters` operations at once.
fn parallel(threads: usize, iters: u64, op: &(dyn Fn() + Sync)) -> Duration {
    let start = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                for _ in 0..iters {
                    op();
                }
            });
        }
    });
    start.elapsed()
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
            g.bench_with_input(BenchmarkId::new("baseline_uniform", n), &n, |b, &n| {
                b.iter_custom(|iters| {
                    parallel(threads, iters, &|| {
                        let mut rng = ChaCha8Rng::seed_from_u64(seed.fetch_add(1, Ordering::Relaxed));
                        black_box((rng.next_u64() % n as u64) as usize);
                    })
                })
            });
            let cells: Vec<AtomicU64> = (0..n as u64).map(|i| AtomicU64::new(i.wrapping_mul(0x9e37))).collect();
            g.bench_with_input(BenchmarkId::new("baseline_scan", n), &n, |b, _| {
                b.iter_custom(|iters| {
                    parallel(threads, iters, &|| {
                        let best = cells
                            .iter()
                            .enumerate()
                            .max_by_key(|(_, c)| c.load(Ordering::Relaxed))
                            .map(|(i, _)| i);
                        black_box(best);
                    })
                })
            });
            for (name, strategy) in strategies() {
                if threads == 2 && name == "static" {
                    continue;
                }
                let r = router(n, strategy);
                g.bench_with_input(BenchmarkId::new(name, n), &n, |b, _| {
                    b.iter_custom(|iters| {
                        parallel(threads, iters, &|| {
                            black_box(r.route(black_box(&req)));
                        })
                    })
                });
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
