//! Recording and query costs, each against a raw hdrhistogram baseline in the same run.
//!
//! `cargo bench -p toolplane-metrics --bench record`
#![allow(missing_docs, clippy::unwrap_used)]

use std::hint::black_box;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant, UNIX_EPOCH};

use criterion::{Criterion, criterion_group, criterion_main};
use hdrhistogram::Histogram;
use parking_lot::Mutex;
use toolplane_core::Usage;
use toolplane_metrics::{Execution, ManualClock, MetricsConfig, MetricsQuery, PricingTable, ProviderMetricsCollector};

fn usage() -> Usage {
    Usage {
        input_tokens: 1_200,
        output_tokens: 300,
        cache_read_tokens: 800,
        cache_write_tokens: 100,
        cache_write_1h_tokens: 0,
        reasoning_tokens: 50,
    }
}

fn all_fields(i: u64) -> Execution<'static> {
    Execution::success("openai", "gpt-4o-mini", 100.0 + (i % 5000) as f64)
        .with_task_type("code")
        .with_usage(usage())
        .with_ttft_ms(50.0)
}

fn single_thread(c: &mut Criterion) {
    let mut g = c.benchmark_group("record_1_thread");
    let mut h: Histogram<u64> = Histogram::new_with_bounds(1, 3_600_000_000, 2).unwrap();
    let mut i = 0u64;
    g.bench_function("raw_hdrhistogram_record", |b| {
        b.iter(|| {
            i += 1;
            h.record(black_box(100_000 + i % 5_000_000)).unwrap();
        })
    });
    // The collector reads the wall clock once per record; this is that cost alone.
    g.bench_function("system_time_now", |b| b.iter(std::time::SystemTime::now));
    let m = ProviderMetricsCollector::new();
    let mut i = 0u64;
    g.bench_function("collector_record_all_fields", |b| {
        b.iter(|| {
            i += 1;
            m.record(black_box(&all_fields(i))).unwrap()
        })
    });
    let ids: Vec<String> = (0..1_000_000).map(|n| format!("req-{n}")).collect();
    let mut i = 0usize;
    g.bench_function("collector_record_all_fields_and_request_id", |b| {
        b.iter(|| {
            i += 1;
            let id = &ids[i % ids.len()];
            m.record(black_box(&all_fields(i as u64).with_request_id(id))).unwrap()
        })
    });
    g.finish();
}

/// Per-record time of each of `threads` threads recording `n` calls at once.
fn contended(threads: usize, n: u64, f: Arc<dyn Fn(u64) + Send + Sync>) -> Duration {
    let barrier = Arc::new(Barrier::new(threads));
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let (f, barrier) = (Arc::clone(&f), Arc::clone(&barrier));
            std::thread::spawn(move || {
                barrier.wait();
                let t = Instant::now();
                for i in 0..n {
                    f(i);
                }
                t.elapsed()
            })
        })
        .collect();
    let total: Duration = handles.into_iter().map(|h| h.join().unwrap()).sum();
    total / threads as u32
}

fn two_threads(c: &mut Criterion) {
    let mut g = c.benchmark_group("record_2_threads_same_series");
    let raw = Arc::new(Mutex::new(
        Histogram::<u64>::new_with_bounds(1, 3_600_000_000, 2).unwrap(),
    ));
    let f: Arc<dyn Fn(u64) + Send + Sync> = Arc::new(move |i| {
        raw.lock().record(100_000 + i % 5_000_000).unwrap();
    });
    g.bench_function("raw_hdrhistogram_mutex_record", |b| {
        b.iter_custom(|iters| contended(2, iters, Arc::clone(&f)))
    });
    let m = Arc::new(ProviderMetricsCollector::new());
    let f: Arc<dyn Fn(u64) + Send + Sync> = Arc::new(move |i| {
        m.record(&all_fields(i)).unwrap();
    });
    g.bench_function("collector_record_all_fields", |b| {
        b.iter_custom(|iters| contended(2, iters, Arc::clone(&f)))
    });
    g.finish();
}

fn window_query(c: &mut Criterion) {
    let mut g = c.benchmark_group("query_60_minutes");
    let clock = Arc::new(ManualClock::new(UNIX_EPOCH + Duration::from_secs(1_800_000_000)));
    let m = ProviderMetricsCollector::with_parts(MetricsConfig::default(), PricingTable::builtin(), clock.clone());
    let start = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    // 3 providers x 2 models x 2 task types = 12 series, 50 calls each per minute, 60 minutes.
    let mut raw: Histogram<u64> = Histogram::new_with_bounds(1, 3_600_000_000, 2).unwrap();
    for minute in 0..60u64 {
        clock.set(start + Duration::from_secs(minute * 60));
        for p in ["openai", "anthropic", "mistral"] {
            for model in ["a", "b"] {
                for task in ["code", "chat"] {
                    for i in 0..50u64 {
                        let ms = 50.0 + ((minute * 131 + i * 977) % 20_000) as f64;
                        m.record(
                            &Execution::success(p, model, ms)
                                .with_task_type(task)
                                .with_ttft_ms(ms / 5.0),
                        )
                        .unwrap();
                        raw.record((ms * 1000.0) as u64).unwrap();
                    }
                }
            }
        }
    }
    let q = MetricsQuery::last(Duration::from_secs(3600));
    assert_eq!(m.snapshot(&q).unwrap().totals.calls, 36_000);
    g.bench_function("raw_hdrhistogram_p50_p95_p99", |b| {
        b.iter(|| {
            let h = black_box(&raw);
            (
                h.value_at_quantile(0.5),
                h.value_at_quantile(0.95),
                h.value_at_quantile(0.99),
            )
        })
    });
    g.bench_function("collector_snapshot_last_60_minutes", |b| {
        b.iter(|| m.snapshot(black_box(&q)).unwrap())
    });
    g.bench_function("collector_snapshot_one_provider_last_60_minutes", |b| {
        let q = q.clone().provider("openai");
        b.iter(|| m.snapshot(black_box(&q)).unwrap())
    });
    g.finish();
}

/// The same record with a clock that costs nothing, to show the clock's share.
fn manual_clock(c: &mut Criterion) {
    let mut g = c.benchmark_group("record_1_thread_manual_clock");
    let clock = Arc::new(ManualClock::new(UNIX_EPOCH + Duration::from_secs(1_800_000_000)));
    let m = ProviderMetricsCollector::with_parts(MetricsConfig::default(), PricingTable::builtin(), clock);
    let mut i = 0u64;
    g.bench_function("collector_record_all_fields", |b| {
        b.iter(|| {
            i += 1;
            m.record(black_box(&all_fields(i))).unwrap()
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    targets = single_thread, two_threads, window_query, manual_clock
}
criterion_main!(benches);
