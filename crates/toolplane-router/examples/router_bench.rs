//! Prints routing decisions for a few prompts with the example
//! configuration, then times selection for 4 to 1,000 experts per strategy.
//!
//! `cargo run --release -p toolplane-router --example router_bench`
//! (criterion figures: `cargo bench -p toolplane-router --bench select`).

use std::hint::black_box;
use std::sync::Arc;
use std::time::Instant;

use toolplane_core::{ChatRequest, ExpertKey, ExpertStats, Message, ScriptedProvider, StaticStats, ToolSpec, Verdict};
use toolplane_router::{Expert, Router, RouterConfig, Strategy, TaskPolicy};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/router.toml");
    let cfg = RouterConfig::from_path(path)?;
    let router = cfg.detached_router()?;
    let prompts = [
        ChatRequest::new("", vec![Message::user("Why does this Rust function not compile?")]),
        ChatRequest::new("", vec![Message::user("hey! any tips for a rainy Sunday?")]),
        ChatRequest::new(
            "",
            vec![Message::user("Extract every invoice number and total as JSON.")],
        ),
        ChatRequest::new("", vec![Message::user("What's the weather in Lisbon?")])
            .with_tools(vec![ToolSpec::new("weather", "Current weather for a city.")]),
        ChatRequest::new(
            "",
            vec![Message::user(format!("Summarize: {}", "lorem ipsum ".repeat(4_000)))],
        ),
    ];
    for p in &prompts {
        println!("{}", router.explain(p));
    }

    println!("selection time per call (median of 31 batches, one thread):");
    println!("{:<14} {:>8} {:>12}", "strategy", "experts", "median");
    for n in [4usize, 16, 100, 1_000] {
        for (name, strategy) in [
            ("static", Strategy::Static { order: vec![] }),
            ("weighted", Strategy::default()),
            ("thompson", Strategy::thompson()),
            ("least_latency", Strategy::LeastLatency),
        ] {
            let r = synthetic(n, strategy)?;
            let req = ChatRequest::new("", vec![Message::user("x")]).with_task_type("code");
            let per_batch = (200_000 / n).max(20);
            let mut samples: Vec<f64> = (0..31)
                .map(|_| {
                    let t = Instant::now();
                    for _ in 0..per_batch {
                        black_box(r.route(black_box(&req)));
                    }
                    t.elapsed().as_nanos() as f64 / per_batch as f64
                })
                .collect();
            samples.sort_by(f64::total_cmp);
            println!("{name:<14} {n:>8} {:>9.0} ns", samples[15]);
        }
    }
    Ok(())
}

/// `n` experts with figures from a stats source and warm posteriors.
fn synthetic(n: usize, strategy: Strategy) -> Result<Router, toolplane_router::RouterError> {
    let stats = Arc::new(StaticStats::default());
    let mut b = Router::builder().seed(1).policy("code", TaskPolicy::new(strategy));
    for i in 0..n {
        let name = format!("p{i}");
        let f = (i % 10) as f64 / 10.0;
        stats.set(
            ExpertKey::new(name.clone(), "m"),
            Some("code"),
            ExpertStats {
                calls: 100,
                success_rate: Some(0.9 + f / 10.0),
                latency_p95_ms: Some(300.0 + 1000.0 * f),
                cost_per_1k_tokens: Some(0.001 + f / 100.0),
                wins: (100.0 * f) as u64,
                judged: 100,
                ..ExpertStats::default()
            },
        );
        b = b.expert(Expert::new(Arc::new(ScriptedProvider::new(name)), "m"));
    }
    let r = b.stats_source(stats).build()?;
    for i in 0..n {
        for k in 0..30 {
            let v = if (k + i) % 3 == 0 { Verdict::Loss } else { Verdict::Win };
            r.record_verdict(i, "code", &v)?;
        }
    }
    Ok(r)
}
