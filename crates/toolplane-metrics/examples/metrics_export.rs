//! Drives synthetic traffic through a collector, then prints a provider
//! comparison table and the Prometheus exposition.
//!
//! `cargo run -p toolplane-metrics --example metrics_export`
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use toolplane_core::{
    CallContext, ChatProvider, ChatRequest, InterceptedProvider, Message, ProviderErrorKind, ScriptedProvider, Usage,
};
use toolplane_metrics::{
    Execution, ManualClock, MetricsConfig, MetricsInterceptor, MetricsQuery, PricingTable, ProviderMetricsCollector,
    RankBy,
};

/// A small deterministic generator (no dependency needed for a demo).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let start = SystemTime::now() - Duration::from_secs(3600);
    let clock = Arc::new(ManualClock::new(start));
    let metrics = Arc::new(ProviderMetricsCollector::with_parts(
        MetricsConfig::default(),
        PricingTable::builtin(),
        clock.clone(),
    ));

    // (provider, model, median latency ms, failure rate, chance its answer wins)
    let experts = [
        ("openai", "gpt-4o-mini", 700.0, 0.02, 0.55),
        ("anthropic", "claude-haiku-4-5", 900.0, 0.04, 0.60),
        ("mistral", "mistral-small-latest", 500.0, 0.03, 0.40),
        ("cohere", "command-r-08-2024", 1100.0, 0.06, 0.35),
    ];
    let tasks = ["code", "summarize", "chat"];
    let mut rng = Lcg(7);
    let mut n = 0u64;
    for minute in 0..60u64 {
        clock.set(start + Duration::from_secs(minute * 60));
        for _ in 0..20 {
            for (provider, model, median, fail, win) in experts {
                let task = tasks[(rng.next() * 3.0) as usize % 3];
                // A long-tailed latency: median times a log-normal-ish factor.
                let latency = median * (0.5 + rng.next()) * if rng.next() < 0.05 { 4.0 } else { 1.0 };
                let id = format!("req-{n}");
                n += 1;
                let e = if rng.next() < fail {
                    Execution::failure(provider, model, latency, ProviderErrorKind::RateLimited)
                } else {
                    let input = 500 + (rng.next() * 3000.0) as u64;
                    Execution::success(provider, model, latency)
                        .with_ttft_ms(latency * 0.2)
                        .with_usage(Usage {
                            input_tokens: input,
                            cache_read_tokens: input / 2,
                            output_tokens: 100 + (rng.next() * 600.0) as u64,
                            ..Default::default()
                        })
                };
                metrics.record(&e.with_task_type(task).with_request_id(&id)).unwrap();
                if rng.next() < 0.3 {
                    metrics.record_outcome(&id, rng.next() < win).ok();
                }
            }
        }
    }

    // The one-line integration: an interceptor in front of any provider
    // (measured with the real clock, so kept in a collector of its own).
    let live = Arc::new(ProviderMetricsCollector::new());
    let scripted = Arc::new(ScriptedProvider::new("scripted").with_text("hello").with_text("again"));
    let provider = InterceptedProvider::new(scripted, vec![Arc::new(MetricsInterceptor::new(Arc::clone(&live)))]);
    let req = ChatRequest::new("demo-model", vec![Message::user("hi")]).with_task_type("chat");
    provider.chat(&req, &CallContext::new("live-1")).await.unwrap();
    provider.chat(&req, &CallContext::new("live-2")).await.unwrap();
    let t = live.snapshot(&MetricsQuery::all_time()).unwrap().totals;
    println!(
        "Interceptor: {} calls through {:?}, {} unpriced (no price for demo-model)\n",
        t.calls,
        provider.name(),
        t.unpriced_calls
    );

    let report = metrics
        .snapshot(&MetricsQuery::last(Duration::from_secs(3600)).rank_by(RankBy::LatencyP95))
        .unwrap();
    println!("{report}");
    println!(
        "---- Prometheus ({} lines) ----",
        metrics.to_prometheus().lines().count()
    );
    print!("{}", metrics.to_prometheus());
}
