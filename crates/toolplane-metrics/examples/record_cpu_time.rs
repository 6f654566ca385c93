//! CPU time per `record()`, for figures that a busy shared machine cannot
//! distort much: run under `perf stat` (or `/usr/bin/time`) and divide the
//! user time by the number of records. Criterion (`benches/record.rs`) gives
//! wall-clock figures; this gives the CPU cost alone.
//!
//! ```text
//! cargo build --release -p toolplane-metrics --example record_cpu_time
//! perf stat target/release/examples/record_cpu_time record   # seconds user / 20e6
//! ```
//!
//! Modes: `empty` (loop only), `raw` (one hdrhistogram record), `now`
//! (`SystemTime::now`), `record` (all fields), `record_id` (all fields and a
//! request id), `record_2_threads` (two threads on one series; time per thread).
#![allow(clippy::unwrap_used)]

use std::hint::black_box;
use std::sync::Arc;

use toolplane_core::Usage;
use toolplane_metrics::{Execution, ProviderMetricsCollector};

const N: u64 = 20_000_000;

fn execution(i: u64) -> Execution<'static> {
    let u = Usage {
        input_tokens: 1_200,
        output_tokens: 300,
        cache_read_tokens: 800,
        cache_write_tokens: 100,
        cache_write_1h_tokens: 0,
        reasoning_tokens: 50,
    };
    Execution::success("openai", "gpt-4o-mini", 100.0 + (i % 5000) as f64)
        .with_task_type("code")
        .with_usage(u)
        .with_ttft_ms(50.0)
}

fn main() {
    let mode = std::env::args().nth(1).unwrap_or_else(|| "record".to_owned());
    match mode.as_str() {
        "empty" => (0..N).for_each(|i| {
            black_box(i);
        }),
        "raw" => {
            let mut h = hdrhistogram::Histogram::<u64>::new_with_bounds(1, 3_600_000_000, 2).unwrap();
            (0..N).for_each(|i| h.record(black_box(100_000 + i % 5_000_000)).unwrap());
            black_box(h.len());
        }
        "now" => (0..N).for_each(|_| {
            black_box(std::time::SystemTime::now());
        }),
        "record" => {
            let m = ProviderMetricsCollector::new();
            (0..N).for_each(|i| {
                m.record(black_box(&execution(i))).unwrap();
            });
        }
        "record_id" => {
            let m = ProviderMetricsCollector::new();
            let ids: Vec<String> = (0..1_000_000).map(|n| format!("req-{n}")).collect();
            (0..N / 10).for_each(|i| {
                let id = &ids[(i % 1_000_000) as usize];
                m.record(black_box(&execution(i).with_request_id(id))).unwrap();
            });
        }
        "record_2_threads" => {
            let m = Arc::new(ProviderMetricsCollector::new());
            let handles: Vec<_> = (0..2)
                .map(|_| {
                    let m = Arc::clone(&m);
                    std::thread::spawn(move || {
                        (0..N / 2).for_each(|i| {
                            m.record(black_box(&execution(i))).unwrap();
                        })
                    })
                })
                .collect();
            handles.into_iter().for_each(|h| h.join().unwrap());
        }
        other => eprintln!("unknown mode {other}"),
    }
}
