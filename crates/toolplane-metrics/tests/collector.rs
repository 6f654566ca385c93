//! Recording, statistics, windows, feedback, bad input and limits.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use toolplane_core::{ExpertKey, Feedback, ProviderErrorKind, ProviderStatsSource, Usage, Verdict};
use toolplane_metrics::{
    Clock, Execution, ManualClock, MetricsConfig, MetricsErrorKind, MetricsQuery, OVERFLOW_LABEL, PricingTable,
    ProviderMetricsCollector, RankBy,
};

const T0: u64 = 1_800_000_000; // a whole minute

fn setup(config: MetricsConfig) -> (ProviderMetricsCollector, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(UNIX_EPOCH + Duration::from_secs(T0)));
    let c = ProviderMetricsCollector::with_parts(config, PricingTable::builtin(), clock.clone());
    (c, clock)
}

fn near(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= b.abs() * rel + 1e-9
}

#[test]
fn percentiles_rates_tokens_and_throughput() {
    let (c, _) = setup(MetricsConfig::default());
    // Latencies 1..=100 ms; every tenth call fails with a timeout.
    for i in 1..=100u64 {
        let e = if i % 10 == 0 {
            Execution::failure("openai", "gpt-4o", i as f64, ProviderErrorKind::Timeout)
        } else {
            Execution::success("openai", "gpt-4o", i as f64).with_usage(Usage {
                input_tokens: 100,
                output_tokens: 50,
                ..Default::default()
            })
        };
        c.record(&e.with_task_type(if i % 2 == 0 { "code" } else { "chat" }))
            .unwrap();
    }
    let r = c.snapshot(&MetricsQuery::all_time()).unwrap();
    let t = &r.totals;
    assert_eq!((t.calls, t.successes, t.failures), (100, 90, 10));
    assert_eq!(t.success_rate, Some(0.9));
    assert_eq!(t.errors.get("timeout"), Some(&10));
    let l = t.latency_ms.unwrap();
    assert!(near(l.p50, 50.0, 0.01), "p50 {}", l.p50);
    assert!(near(l.p95, 95.0, 0.01), "p95 {}", l.p95);
    assert!(near(l.p99, 99.0, 0.01), "p99 {}", l.p99);
    assert_eq!(l.max, 100.0);
    assert!(near(l.mean, 50.5, 1e-9));
    assert_eq!(t.ttft_ms, None);
    assert_eq!((t.tokens.input, t.tokens.output), (9_000, 4_500));
    // Successful calls: 4,500 output tokens over the sum of their latencies.
    let ok_ms: f64 = (1..=100u64).filter(|i| i % 10 != 0).map(|i| i as f64).sum();
    assert!(near(
        t.output_tokens_per_second.unwrap(),
        4_500.0 / (ok_ms / 1000.0),
        1e-9
    ));
    // gpt-4o: $2.50 in, $10 out per million.
    assert!(near(t.cost_usd, 90.0 * (100.0 * 2.5 + 50.0 * 10.0) / 1e6, 1e-9));
    assert_eq!(r.providers.len(), 1);
    assert_eq!(r.models.len(), 1);
    assert_eq!(r.task_types.len(), 2);
    let code = r
        .task_types
        .iter()
        .find(|g| g.task_type.as_deref() == Some("code"))
        .unwrap();
    assert_eq!((code.calls, code.failures), (50, 10));
}

#[test]
fn windows_select_minutes_and_all_time_keeps_everything() {
    let (c, clock) = setup(MetricsConfig::default());
    let start = clock.now();
    for minute in 0..90u64 {
        clock.set(start + Duration::from_secs(minute * 60 + 30));
        c.record(&Execution::success("anthropic", "claude-haiku-4-5", (minute + 1) as f64).with_ttft_ms(1.0))
            .unwrap();
    }
    let now = clock.now();
    // Last 60 minutes, up to now: minutes 30..=89.
    let r = c.snapshot(&MetricsQuery::last(Duration::from_secs(3600))).unwrap();
    assert_eq!(r.totals.calls, 60);
    assert_eq!(r.totals.latency_ms.unwrap().max, 90.0);
    assert_eq!(r.totals.ttft_ms.unwrap().count, 60);
    // [start+10 min, start+20 min): ten minutes.
    let q = MetricsQuery::between(start + Duration::from_secs(600), start + Duration::from_secs(1200));
    let r = c.snapshot(&q).unwrap();
    assert_eq!(r.totals.calls, 10);
    assert!(near(r.totals.latency_ms.unwrap().mean, 15.5, 1e-9));
    assert_eq!(r.window.from_unix_ms, Some((T0 + 600) * 1000));
    // All time: sealed minutes and the active one together.
    let all = c.snapshot(&MetricsQuery::all_time()).unwrap().totals;
    assert_eq!(all.calls, 90);
    let l = all.latency_ms.unwrap();
    assert!(near(l.p50, 45.0, 0.01) && near(l.p99, 90.0, 0.01), "{l:?}");
    assert_eq!(all.ttft_ms.unwrap().count, 90);

    // Two days later the minutes are gone but the all-time totals remain.
    clock.set(now + Duration::from_secs(48 * 3600));
    c.record(&Execution::success("anthropic", "claude-haiku-4-5", 5.0))
        .unwrap();
    let r = c.snapshot(&MetricsQuery::last(Duration::from_secs(24 * 3600))).unwrap();
    assert_eq!(r.totals.calls, 1);
    assert_eq!(c.snapshot(&MetricsQuery::all_time()).unwrap().totals.calls, 91);
}

#[test]
fn late_records_land_in_their_minute() {
    let (c, clock) = setup(MetricsConfig::default());
    let start = clock.now();
    clock.set(start + Duration::from_secs(600));
    c.record(&Execution::success("mistral", "mistral-small-latest", 10.0))
        .unwrap();
    c.record(&Execution::success("mistral", "mistral-small-latest", 20.0).at(start + Duration::from_secs(120)))
        .unwrap();
    c.record(&Execution::success("mistral", "mistral-small-latest", 30.0).at(start + Duration::from_secs(125)))
        .unwrap();
    let q = MetricsQuery::between(start + Duration::from_secs(120), start + Duration::from_secs(180));
    let r = c.snapshot(&q).unwrap();
    assert_eq!(r.totals.calls, 2);
    assert!(near(r.totals.latency_ms.unwrap().p99, 30.0, 0.01));
}

#[test]
fn bad_input_is_rejected_without_touching_totals() {
    let (c, clock) = setup(MetricsConfig::default());
    c.record(&Execution::success("openai", "gpt-4o", 100.0)).unwrap();
    let before = c.snapshot(&MetricsQuery::all_time()).unwrap();
    let huge = Usage {
        input_tokens: u64::MAX,
        ..Default::default()
    };
    let cases: Vec<(Execution<'_>, &str)> = vec![
        (Execution::success("openai", "gpt-4o", f64::NAN), "latency_ms is NaN"),
        (Execution::success("openai", "gpt-4o", -1.0), "latency_ms is negative"),
        (Execution::success("openai", "gpt-4o", f64::INFINITY), "latency_ms"),
        (
            Execution::success("openai", "gpt-4o", 10.0).with_cost_usd(-0.01),
            "cost_usd",
        ),
        (
            Execution::success("openai", "gpt-4o", 10.0).with_cost_usd(f64::NAN),
            "cost_usd",
        ),
        (
            Execution::success("openai", "gpt-4o", 10.0).with_usage(huge),
            "usage.input_tokens",
        ),
        (
            Execution::success("openai", "gpt-4o", 10.0).with_ttft_ms(20.0),
            "ttft_ms",
        ),
        (Execution::success("", "gpt-4o", 10.0), "provider is empty"),
        (
            Execution::success("openai", "gpt-4o", 10.0).with_usage(Usage {
                input_tokens: 10,
                cache_read_tokens: 20,
                ..Default::default()
            }),
            "cache_read_tokens",
        ),
        (
            Execution::success("openai", "gpt-4o", 10.0).at(clock.now() + Duration::from_secs(3600)),
            "future",
        ),
        (
            Execution::success("openai", "gpt-4o", 10.0).at(clock.now() - Duration::from_secs(25 * 3600)),
            "retention",
        ),
    ];
    let n = cases.len() as u64;
    for (e, needle) in cases {
        let err = c.record(&e).unwrap_err();
        assert_eq!(err.kind(), MetricsErrorKind::InvalidRecord);
        assert!(err.to_string().contains(needle), "{err} should mention {needle}");
    }
    let after = c.snapshot(&MetricsQuery::all_time()).unwrap();
    assert_eq!(before.totals, after.totals);
    assert_eq!(after.rejected_records, n);

    // Queries.
    let e = c.snapshot(&MetricsQuery::all_time().provider("nobody")).unwrap_err();
    assert_eq!(e.kind(), MetricsErrorKind::UnknownSeries);
    assert!(e.to_string().contains("openai"), "lists the known providers: {e}");
    let now = clock.now();
    let e = c
        .snapshot(&MetricsQuery::between(now, now - Duration::from_secs(60)))
        .unwrap_err();
    assert_eq!(e.kind(), MetricsErrorKind::InvalidWindow);
    assert!(e.to_string().contains("after"), "{e}");
    let e = c.snapshot(&MetricsQuery::between(now, now)).unwrap_err();
    assert_eq!(e.kind(), MetricsErrorKind::InvalidWindow);
    let e = c
        .snapshot(&MetricsQuery::last(Duration::from_secs(48 * 3600)))
        .unwrap_err();
    assert!(e.to_string().contains("retention"), "{e}");
}

#[test]
fn feedback_win_rates_and_errors() {
    let (c, _) = setup(MetricsConfig::default());
    for i in 0..10 {
        let id = format!("a{i}");
        c.record(
            &Execution::success("openai", "gpt-4o", 10.0)
                .with_task_type("code")
                .with_request_id(&id),
        )
        .unwrap();
        c.record_outcome(&id, i < 7).unwrap();
        let id = format!("b{i}");
        c.record(
            &Execution::success("anthropic", "claude-sonnet-4-5", 10.0)
                .with_task_type("code")
                .with_request_id(&id),
        )
        .unwrap();
        c.record_outcome(&id, i < 3).unwrap();
    }
    c.record(&Execution::success("openai", "gpt-4o", 10.0).with_request_id("s1"))
        .unwrap();
    c.feedback(&Feedback {
        request_id: "s1".into(),
        verdict: Verdict::Score { value: 0.25 },
    })
    .unwrap();

    let e = c.record_outcome("a0", true).unwrap_err();
    assert_eq!(e.kind(), MetricsErrorKind::AlreadyJudged);
    let e = c.record_outcome("zzz", true).unwrap_err();
    assert_eq!(e.kind(), MetricsErrorKind::UnknownRequest);
    c.record(&Execution::success("openai", "gpt-4o", 10.0).with_request_id("s2"))
        .unwrap();
    let e = c
        .feedback(&Feedback {
            request_id: "s2".into(),
            verdict: Verdict::Score { value: f64::NAN },
        })
        .unwrap_err();
    assert_eq!(e.kind(), MetricsErrorKind::InvalidRecord);

    let r = c
        .snapshot(&MetricsQuery::last(Duration::from_secs(600)).rank_by(RankBy::WinRate))
        .unwrap();
    let code: Vec<_> = r
        .win_rates
        .iter()
        .filter(|w| w.task_type.as_deref() == Some("code"))
        .collect();
    assert_eq!(code.len(), 2);
    assert_eq!(
        (code[0].provider.as_str(), code[0].wins, code[0].judged),
        ("openai", 7, 10)
    );
    assert_eq!(
        (code[1].provider.as_str(), code[1].wins, code[1].judged),
        ("anthropic", 3, 10)
    );
    assert_eq!(r.ranking.entries[0].provider, "openai");
    let openai = r
        .providers
        .iter()
        .find(|g| g.provider.as_deref() == Some("openai"))
        .unwrap();
    assert_eq!(openai.mean_score, Some(0.25));

    c.refresh_expert_stats();
    let key = ExpertKey::new("openai", "gpt-4o");
    let s = c.expert_stats(&key, Some("code")).unwrap();
    assert_eq!((s.calls, s.wins, s.judged), (10, 7, 10));
    assert_eq!(s.success_rate, Some(1.0));
    assert!(near(s.latency_p50_ms.unwrap(), 10.0, 0.01));
    let all = c.expert_stats(&key, None).unwrap();
    assert_eq!(all.calls, 12);
    assert!(c.expert_stats(&ExpertKey::new("nobody", "x"), None).is_none());
}

#[test]
fn series_beyond_the_limit_fold_into_overflow() {
    let (c, _) = setup(MetricsConfig {
        max_series: 2,
        ..MetricsConfig::default()
    });
    for m in ["m1", "m2", "m3", "m4"] {
        c.record(&Execution::success("p", m, 1.0)).unwrap();
    }
    let r = c.snapshot(&MetricsQuery::all_time()).unwrap();
    let names: Vec<_> = r.models.iter().map(|g| g.model.clone().unwrap_or_default()).collect();
    assert_eq!(names, vec![OVERFLOW_LABEL, "m1", "m2"]);
    assert_eq!(r.models[0].calls, 2);
    assert_eq!(r.totals.calls, 4);
}

#[test]
fn memory_stays_bounded_by_the_retention() {
    let (c, clock) = setup(MetricsConfig {
        retention: Duration::from_secs(3600),
        ..MetricsConfig::default()
    });
    let start = clock.now();
    let mut peak = 0;
    for minute in 0..600u64 {
        clock.set(start + Duration::from_secs(minute * 60));
        for i in 0..20u64 {
            c.record(&Execution::success("openai", "gpt-4o", (i * 37 % 5000) as f64 + 1.0).with_ttft_ms(1.0))
                .unwrap();
        }
        if minute == 120 {
            peak = c.memory_bytes();
        }
    }
    // After the ring is full the footprint no longer grows.
    let end = c.memory_bytes();
    assert!(end <= peak + peak / 10, "grew from {peak} to {end} bytes");
    assert_eq!(c.snapshot(&MetricsQuery::all_time()).unwrap().totals.calls, 12_000);
}

#[test]
fn report_serializes_and_prints() {
    let (c, _) = setup(MetricsConfig::default());
    c.record(&Execution::success("openai", "gpt-4o", 120.0).with_ttft_ms(40.0))
        .unwrap();
    c.record(&Execution::failure(
        "cohere",
        "command-a-03-2025",
        900.0,
        ProviderErrorKind::RateLimited,
    ))
    .unwrap();
    let r = c
        .snapshot(&MetricsQuery::all_time().rank_by(RankBy::LatencyP95))
        .unwrap();
    let json = r.to_json();
    let back: toolplane_metrics::MetricsReport = serde_json::from_str(&json).unwrap();
    assert_eq!(back, r);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["schema_version"], 1);
    assert_eq!(v["ranking"]["by"], "latency_p95");
    assert_eq!(v["providers"][0]["errors"]["rate_limited"], 1);
    let table = r.to_table();
    assert!(table.contains("Ranking by latency_p95"), "{table}");
    assert!(table.contains("openai"), "{table}");
    let _ = SystemTime::now();
}

#[test]
fn recorders_refresh_router_stats_when_stale() {
    let (c, clock) = setup(MetricsConfig {
        expert_refresh: Duration::from_secs(5),
        ..MetricsConfig::default()
    });
    let key = ExpertKey::new("openai", "gpt-4o");
    c.record(&Execution::success("openai", "gpt-4o", 10.0)).unwrap();
    // The first record builds the cache.
    assert_eq!(c.expert_stats(&key, None).unwrap().calls, 1);
    c.record(&Execution::success("openai", "gpt-4o", 10.0)).unwrap();
    // Not stale yet: the router still sees the cached figure.
    assert_eq!(c.expert_stats(&key, None).unwrap().calls, 1);
    clock.advance(Duration::from_secs(6));
    c.record(&Execution::failure("openai", "gpt-4o", 10.0, ProviderErrorKind::Server))
        .unwrap();
    let s = c.expert_stats(&key, None).unwrap();
    assert_eq!(s.calls, 3);
    assert!(near(s.success_rate.unwrap(), 2.0 / 3.0, 1e-9));
    assert_eq!(s.cost_per_1k_tokens, None, "no tokens, no rate");
}

#[test]
fn concurrent_recorders_lose_nothing() {
    let c = Arc::new(ProviderMetricsCollector::new());
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let c = Arc::clone(&c);
            std::thread::spawn(move || {
                let models = ["gpt-4o", "gpt-4o-mini"];
                for i in 0..5_000u64 {
                    let u = Usage {
                        input_tokens: 10,
                        output_tokens: 1,
                        ..Default::default()
                    };
                    let id = format!("t{t}-{i}");
                    let e = Execution::success("openai", models[((i + t) % 2) as usize], (i % 700) as f64)
                        .with_usage(u)
                        .with_request_id(&id);
                    c.record(&e).unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    // Feedback from another thread reaches the shard that holds each call.
    for t in 0..4 {
        c.record_outcome(&format!("t{t}-7"), true).unwrap();
        c.record_outcome(&format!("t{t}-8"), false).unwrap();
    }
    let r = c.snapshot(&MetricsQuery::all_time()).unwrap();
    assert_eq!(r.totals.calls, 20_000);
    assert_eq!((r.totals.wins, r.totals.judged), (4, 8));
    let w = c.snapshot(&MetricsQuery::last(Duration::from_secs(600))).unwrap();
    assert_eq!((w.totals.calls, w.totals.wins), (20_000, 4));
    assert_eq!(w.totals.latency_ms.unwrap().count, 20_000);
    assert_eq!(r.totals.tokens.input, 200_000);
    assert_eq!(r.models.iter().map(|g| g.calls).sum::<u64>(), 20_000);
    let text = c.to_prometheus();
    let count: u64 = text
        .lines()
        .filter(|l| l.starts_with("gen_ai_client_operation_duration_seconds_count"))
        .map(|l| l.rsplit_once(' ').unwrap().1.parse::<u64>().unwrap())
        .sum();
    assert_eq!(count, 20_000);
}

#[test]
fn queries_round_trip_through_json() {
    let q = MetricsQuery::between(
        UNIX_EPOCH + Duration::from_secs(T0),
        UNIX_EPOCH + Duration::from_secs(T0 + 600),
    )
    .provider("openai")
    .rank_by(RankBy::CostPerCall);
    let json = serde_json::to_string(&q).unwrap();
    assert!(json.contains("\"rank_by\":\"cost_per_call\""), "{json}");
    let back: MetricsQuery = serde_json::from_str(&json).unwrap();
    assert_eq!(back, q);
    let minimal: MetricsQuery = serde_json::from_str("{}").unwrap();
    assert_eq!(minimal, MetricsQuery::all_time());
}

#[test]
fn percentiles_never_leave_the_observed_range() {
    // One call of 16.8 ms: HDR puts it in a bucket whose upper edge is
    // 16.9 ms, which is what value_at_quantile answers. Exact, no tolerance.
    let (c, _) = setup(MetricsConfig::default());
    c.record(&Execution::success("openai", "gpt-4o", 16.8).with_ttft_ms(16.8))
        .unwrap();
    let r = c.snapshot(&MetricsQuery::all_time()).unwrap();
    let l = r.totals.latency_ms.unwrap();
    assert_eq!(
        (l.min, l.p50, l.p95, l.p99, l.max),
        (16.8, 16.8, 16.8, 16.8, 16.8),
        "{l:?}"
    );
    let t = r.totals.ttft_ms.unwrap();
    assert_eq!((t.p50, t.p99, t.max), (16.8, 16.8, 16.8), "{t:?}");
    let s = c.expert_stats(&ExpertKey::new("openai", "gpt-4o"), None).unwrap();
    assert_eq!(s.latency_p50_ms, Some(16.8));
    assert_eq!(s.latency_p95_ms, Some(16.8));
    assert_eq!(s.ttft_p95_ms, Some(16.8));

    // Many values at bucket edges and below a microsecond: every percentile
    // of every group stays within [min, max].
    let (c, _) = setup(MetricsConfig::default());
    let values = [0.0004, 0.0009, 1.0001, 16.8, 41.6, 41.61, 999.99, 12_345.678];
    for (i, v) in values.iter().enumerate() {
        let e = Execution::success("openai", if i % 2 == 0 { "a" } else { "b" }, *v);
        c.record(&e).unwrap();
    }
    let r = c.snapshot(&MetricsQuery::all_time()).unwrap();
    let groups = r
        .models
        .iter()
        .map(|g| g.latency_ms.unwrap())
        .chain([r.totals.latency_ms.unwrap()]);
    for l in groups {
        for p in [l.p50, l.p95, l.p99] {
            assert!(l.min <= p && p <= l.max, "{p} outside [{}, {}]: {l:?}", l.min, l.max);
        }
    }
    let l = r.totals.latency_ms.unwrap();
    assert_eq!((l.min, l.max, l.p99), (0.0004, 12_345.678, 12_345.678));
}

#[test]
fn the_memory_budget_holds_for_many_series_with_many_distinct_latencies() {
    // 40 series, 150 minutes, 20 distinct latencies per series and minute:
    // ~6.4 MB by the collector's accounting without a budget.
    let budget = 5 << 20;
    let (c, clock) = setup(MetricsConfig {
        memory_budget_bytes: budget,
        max_series: 200,
        ..MetricsConfig::default()
    });
    let (unbounded, clock2) = setup(MetricsConfig::default());
    let mut peak = 0;
    for minute in 0..150u64 {
        for s in 0..40u64 {
            let model = format!("model-{s}");
            for i in 0..20u64 {
                // Distinct values spread over 1 ms .. 1 h, so each lands in its own bin.
                let ms = 1.0 + ((minute * 7919 + s * 104_729 + i * 15_485_863) % 3_500_000) as f64;
                let e = Execution::success("acme", &model, ms);
                c.record(&e).unwrap();
                unbounded.record(&e).unwrap();
            }
        }
        peak = peak.max(c.memory_bytes());
        assert!(
            c.memory_bytes() <= budget,
            "{} > {budget} at minute {minute}",
            c.memory_bytes()
        );
        clock.advance(Duration::from_secs(60));
        clock2.advance(Duration::from_secs(60));
    }
    assert!(unbounded.memory_bytes() > budget, "the load needs more than the budget");
    assert_eq!(unbounded.evicted_minutes(), 0);
    assert!(peak > budget / 2, "peak {peak}");
    // Coarser resolution for old minutes comes first (and is enough here;
    // the unit test of the running account drives both steps).
    assert!(c.coarsened_intervals() > 0);
    let evicted = c.evicted_minutes();

    // Reported in Prometheus and in JSON.
    let prom = c.to_prometheus();
    assert!(
        prom.contains(&format!("toolplane_metrics_evicted_intervals_total {evicted}")),
        "{prom}"
    );
    assert!(prom.contains(&format!("toolplane_metrics_memory_budget_bytes {budget}")));
    let r = c.snapshot(&MetricsQuery::all_time()).unwrap();
    assert_eq!(r.memory.evicted_minutes, evicted);
    assert_eq!(r.memory.budget_bytes, budget as u64);
    let json: serde_json::Value = serde_json::from_str(&r.to_json()).unwrap();
    assert_eq!(json["memory"]["evicted_minutes"], evicted);

    // All-time figures are whole; the last hour is still there.
    assert_eq!(r.totals.calls, 150 * 40 * 20);
    let hour = c.snapshot(&MetricsQuery::last(Duration::from_secs(3600))).unwrap();
    let full = unbounded
        .snapshot(&MetricsQuery::last(Duration::from_secs(3600)))
        .unwrap();
    assert_eq!(hour.totals.calls, full.totals.calls);
}

/// Drives `series` series for `minutes` minutes with 20 distinct latencies
/// per series and minute into `c`, calling `each_minute` after every minute.
fn drive_distinct_latencies(
    c: &ProviderMetricsCollector,
    clock: &ManualClock,
    series: u64,
    minutes: u64,
    mut each_minute: impl FnMut(u64),
) {
    for minute in 0..minutes {
        for s in 0..series {
            let model = format!("model-{s}");
            for i in 0..20u64 {
                let ms = 1.0 + ((minute * 7919 + s * 104_729 + i * 15_485_863) % 3_500_000) as f64;
                c.record(&Execution::success("acme", &model, ms)).unwrap();
            }
        }
        each_minute(minute);
        clock.advance(Duration::from_secs(60));
    }
}

#[test]
fn coarser_resolution_comes_before_dropping_minutes() {
    // The same load without a budget: its size, and its fixed part (one
    // shard per series before anything is sealed).
    let (unbounded, clock) = setup(MetricsConfig::default());
    let mut fixed = 0;
    drive_distinct_latencies(&unbounded, &clock, 10, 120, |m| {
        if m == 0 {
            fixed = unbounded.memory_bytes();
        }
    });
    let full = unbounded.memory_bytes();
    assert!(full > fixed);
    // A budget that holds the fixed part and 80 % of the sealed minutes.
    let budget = fixed + (full - fixed) * 8 / 10;
    let (c, clock) = setup(MetricsConfig {
        memory_budget_bytes: budget,
        ..MetricsConfig::default()
    });
    drive_distinct_latencies(&c, &clock, 10, 120, |m| {
        assert!(
            c.memory_bytes() <= budget,
            "{} > {budget} at minute {m}",
            c.memory_bytes()
        );
    });
    let coarsened = c.coarsened_intervals();
    assert!(coarsened > 0);
    assert_eq!(
        c.evicted_minutes(),
        0,
        "coarser resolution was enough: nothing was dropped"
    );

    // Counts and percentiles over the whole retention are those of the unbounded collector.
    let day = MetricsQuery::last(Duration::from_secs(24 * 3600));
    let (got, want) = (c.snapshot(&day).unwrap(), unbounded.snapshot(&day).unwrap());
    assert_eq!(got.totals.calls, 10 * 120 * 20);
    assert_eq!(got.totals.calls, want.totals.calls);
    assert_eq!(got.totals.latency_ms, want.totals.latency_ms);

    // Reported in Prometheus, in JSON and in the text report.
    let prom = c.to_prometheus();
    assert!(
        prom.contains(&format!("toolplane_metrics_coarsened_intervals_total {coarsened}")),
        "{prom}"
    );
    assert_eq!(got.memory.coarsened_intervals, coarsened);
    let json: serde_json::Value = serde_json::from_str(&got.to_json()).unwrap();
    assert_eq!(json["memory"]["coarsened_intervals"], coarsened);
    assert!(got.to_string().contains("merged into coarser ones"), "{got}");
}
