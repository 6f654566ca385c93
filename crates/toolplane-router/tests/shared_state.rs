//! Routers sharing one stats store (a source and a sink): what one learns,
//! the other applies at its next refresh. Here the in-memory `StaticStats`;
//! the gateway's replicas use a Redis-backed one with the same contract.

#![allow(clippy::unwrap_used, clippy::panic)]

use std::sync::Arc;

use toolplane_core::{
    CallContext, ChatProvider, ChatRequest, Message, ProviderError, ProviderErrorKind, ProviderStatsSource,
    ScriptedProvider, StaticStats, StatsSink, Verdict,
};
use toolplane_router::{BreakerConfig, Expert, Router, Strategy, TaskPolicy, Weights};

/// Two experts ranked by win rate alone, sharing `store`.
fn router(store: &Arc<StaticStats>, a: Arc<ScriptedProvider>) -> Router {
    let weights = Weights {
        latency: 0.0,
        success: 0.0,
        cost: 0.0,
        win_rate: 1.0,
    };
    Router::builder()
        .expert(Expert::new(a, "m"))
        .expert(Expert::new(Arc::new(ScriptedProvider::new("b").with_text("b")), "m"))
        .default_policy(TaskPolicy::new(Strategy::Weighted { weights }))
        .breaker(BreakerConfig {
            failure_threshold: 1,
            cooldown_ms: 60_000,
            ..BreakerConfig::default()
        })
        .stats_source(store.clone() as Arc<dyn ProviderStatsSource>)
        .stats_sink(store.clone() as Arc<dyn StatsSink>)
        .seed(3)
        .build()
        .unwrap()
}

/// A request routed under the `default` task (the slot the verdicts go to).
fn request() -> ChatRequest {
    let mut r = ChatRequest::new("", vec![Message::user("hello")]);
    r.metadata.task_type = Some("default".into());
    r
}

fn win_rate(r: &Router, expert: &str) -> Option<f64> {
    let d = r.explain_for("default", &request());
    let c = d.candidates.iter().find(|c| c.expert == expert)?;
    c.figures.iter().find(|(n, _)| n == "win_rate").map(|(_, v)| *v)
}

#[test]
fn a_verdict_on_one_router_moves_the_other_after_its_refresh_and_counts_once() {
    let store = Arc::new(StaticStats::default());
    let one = router(&store, Arc::new(ScriptedProvider::new("a")));
    let two = router(&store, Arc::new(ScriptedProvider::new("a")));
    // Whichever wins the tie on both (no figures yet) gets the losses.
    let x = two.route(&request()).first().unwrap();
    assert_eq!(one.route(&request()).first(), Some(x));
    let y = 1 - x;
    let name = |i: usize| one.expert(i).unwrap().id.clone();

    for _ in 0..3 {
        one.record_verdict(x, "default", &Verdict::Loss).unwrap();
    }
    assert_eq!(
        one.route(&request()).first(),
        Some(y),
        "{}",
        one.explain_for("default", &request())
    );
    assert_eq!(two.route(&request()).first(), Some(x), "not before its refresh");

    two.refresh_stats();
    assert_eq!(two.route(&request()).first(), Some(y));
    // Read again, and read by their author: applied once each, own skipped.
    two.refresh_stats();
    one.refresh_stats();
    let (w1, w2) = (win_rate(&one, &name(x)).unwrap(), win_rate(&two, &name(x)).unwrap());
    assert_eq!(w1, w2, "both hold the same evidence");
    assert!(
        (0.19..0.21).contains(&w1),
        "prior 1:1 plus three (decayed) losses: about 1/5, got {w1}"
    );

    // Verdicts the other way travel back.
    for _ in 0..4 {
        two.record_verdict(y, "default", &Verdict::Loss).unwrap();
    }
    assert_eq!(one.route(&request()).first(), Some(y), "not before its refresh");
    one.refresh_stats();
    assert_eq!(one.route(&request()).first(), Some(x));
}

#[tokio::test]
async fn a_breaker_opened_on_one_router_is_open_on_the_other() {
    let store = Arc::new(StaticStats::default());
    let failing = Arc::new(ScriptedProvider::new("a").with_error(ProviderError::new(
        ProviderErrorKind::Server,
        "a",
        "injected 500",
    )));
    let one = router(&store, failing);
    let two = router(&store, Arc::new(ScriptedProvider::new("a").with_text("a")));
    let a = two.expert_index("a/m").unwrap();
    assert_eq!(two.route(&request()).first(), Some(a));

    let answer = one.chat(&request(), &CallContext::new("r1")).await.unwrap();
    assert_eq!(answer.provider, "b", "fell back");
    two.refresh_stats();
    let d = two.explain_for("default", &request());
    assert_eq!(d.chosen.as_deref(), Some("b/m"), "{d}");
    let gone = d.excluded.iter().find(|e| e.expert == "a/m").unwrap();
    assert_eq!(gone.constraint, "healthy", "{d}");
    // The healthy copy of `a` on the second router is not called while shared health says open.
    let answer = two.chat(&request(), &CallContext::new("r2")).await.unwrap();
    assert_eq!(answer.provider, "b");
}
