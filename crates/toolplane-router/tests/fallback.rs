//! Fallbacks and circuit breakers under injected 429s, 529s, timeouts and
//! server errors, through the router's `chat` and `chat_stream`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{RngCore, SeedableRng};
use toolplane_core::{
    CallContext, ChatProvider, ChatRequest, ChatResponse, Message, ProviderError, ProviderErrorKind, RateLimitSnapshot,
    StopReason, StreamAccumulator, Usage, async_trait,
};
use toolplane_router::{BreakerConfig, Expert, ManualClock, Router, Strategy, TaskPolicy};

type Script = Box<dyn Fn(u64) -> Result<(), ProviderError> + Send + Sync>;

/// A fake expert: `script(call_number)` decides whether a call fails.
struct Fake {
    name: String,
    calls: AtomicU64,
    script: Script,
    rate_limit: Mutex<Option<RateLimitSnapshot>>,
}

impl std::fmt::Debug for Fake {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fake").field("name", &self.name).finish()
    }
}

impl Fake {
    fn new(name: &str, script: impl Fn(u64) -> Result<(), ProviderError> + Send + Sync + 'static) -> Arc<Self> {
        Arc::new(Self {
            name: name.to_owned(),
            calls: AtomicU64::new(0),
            script: Box::new(script),
            rate_limit: Mutex::new(None),
        })
    }

    fn ok(name: &str) -> Arc<Self> {
        Self::new(name, |_| Ok(()))
    }

    fn calls(&self) -> u64 {
        self.calls.load(Ordering::SeqCst)
    }
}

fn err(kind: ProviderErrorKind, who: &str) -> ProviderError {
    ProviderError::new(kind, who, "injected")
}

#[async_trait]
impl ChatProvider for Fake {
    fn name(&self) -> &str {
        &self.name
    }

    async fn chat(&self, request: &ChatRequest, _ctx: &CallContext) -> Result<ChatResponse, ProviderError> {
        let n = self.calls.fetch_add(1, Ordering::SeqCst);
        (self.script)(n)?;
        let mut r = ChatResponse::new(
            self.name.clone(),
            request.model.clone(),
            Message::assistant(format!("from {}", self.name)),
            StopReason::EndTurn,
        )
        .with_usage(Usage {
            input_tokens: 100,
            output_tokens: 50,
            ..Usage::default()
        });
        r.rate_limit = self.rate_limit.lock().ok().and_then(|g| g.clone());
        Ok(r)
    }
}

fn static_router(experts: &[&Arc<Fake>], clock: &ManualClock, breaker: BreakerConfig) -> Router {
    let mut b = Router::builder()
        .seed(1)
        .clock(clock.clone())
        .breaker(breaker)
        .default_policy(TaskPolicy::new(Strategy::Static { order: vec![] }));
    for (i, f) in experts.iter().enumerate() {
        let p: Arc<dyn ChatProvider> = Arc::clone(f) as Arc<dyn ChatProvider>;
        b = b.expert(Expert::new(p, "m").with_priority(i as i32));
    }
    b.build().expect("router")
}

fn req() -> ChatRequest {
    ChatRequest::new("", vec![Message::user("hello")]).with_task_type("chat")
}

fn ctx() -> CallContext {
    CallContext::new("r")
}

#[tokio::test]
async fn rate_limited_expert_cools_down_for_retry_after_then_one_probe_closes_it() {
    let clock = ManualClock::new();
    let a = Fake::new("a", |n| {
        if n == 0 {
            Err(err(ProviderErrorKind::RateLimited, "a").with_retry_after(Duration::from_secs(10)))
        } else {
            Ok(())
        }
    });
    let b = Fake::ok("b");
    let router = static_router(&[&a, &b], &clock, BreakerConfig::default());
    assert_eq!(router.chat(&req(), &ctx()).await.expect("b answers").text(), "from b");
    assert_eq!((a.calls(), b.calls()), (1, 1));
    clock.advance(Duration::from_secs(9));
    let d = router.explain(&req());
    assert_eq!(d.excluded.len(), 1);
    assert_eq!(d.excluded[0].constraint, "healthy");
    assert!(d.excluded[0].detail.contains("1000 ms"), "{}", d.excluded[0].detail);
    router.chat(&req(), &ctx()).await.expect("b again");
    assert_eq!((a.calls(), b.calls()), (1, 2), "a is not called while cooling down");
    clock.advance(Duration::from_secs(1));
    let r = router.chat(&req(), &ctx()).await.expect("probe");
    assert_eq!(r.text(), "from a", "half-open probe goes to a and closes the breaker");
    router.chat(&req(), &ctx()).await.expect("closed");
    assert_eq!((a.calls(), b.calls()), (3, 2));
}

#[tokio::test]
async fn overloaded_529s_open_the_breaker_after_the_threshold_and_failed_probes_back_off() {
    let clock = ManualClock::new();
    let a = Fake::new("a", |_| Err(err(ProviderErrorKind::Overloaded, "a").with_status(529)));
    let b = Fake::ok("b");
    let cfg = BreakerConfig {
        failure_threshold: 3,
        cooldown_ms: 1_000,
        ..BreakerConfig::default()
    };
    let router = static_router(&[&a, &b], &clock, cfg);
    for _ in 0..10 {
        assert_eq!(router.chat(&req(), &ctx()).await.expect("served").text(), "from b");
    }
    assert_eq!(a.calls(), 3, "three failures open the breaker");
    clock.advance(Duration::from_millis(1_000));
    router.chat(&req(), &ctx()).await.expect("served");
    assert_eq!(a.calls(), 4, "one half-open probe");
    clock.advance(Duration::from_millis(1_000));
    router.chat(&req(), &ctx()).await.expect("served");
    assert_eq!(a.calls(), 4, "the failed probe doubled the cooldown to 2 s");
    clock.advance(Duration::from_millis(1_000));
    router.chat(&req(), &ctx()).await.expect("served");
    assert_eq!(a.calls(), 5);
    assert_eq!(b.calls(), 13);
}

#[tokio::test]
async fn timeouts_and_server_errors_fall_through_to_the_next_expert() {
    let clock = ManualClock::new();
    let a = Fake::new("a", |_| Err(err(ProviderErrorKind::Timeout, "a")));
    let b = Fake::new("b", |_| Err(err(ProviderErrorKind::Server, "b").with_status(500)));
    let c = Fake::ok("c");
    let router = static_router(&[&a, &b, &c], &clock, BreakerConfig::default());
    let r = router.chat(&req(), &ctx()).await.expect("c answers");
    assert_eq!(r.text(), "from c");
    assert_eq!((a.calls(), b.calls(), c.calls()), (1, 1, 1));
}

#[tokio::test]
async fn a_fault_of_the_request_is_returned_at_once() {
    let clock = ManualClock::new();
    let a = Fake::new("a", |_| {
        Err(err(ProviderErrorKind::InvalidRequest, "a").with_status(400))
    });
    let b = Fake::ok("b");
    let router = static_router(&[&a, &b], &clock, BreakerConfig::default());
    let e = router.chat(&req(), &ctx()).await.expect_err("invalid request");
    assert_eq!(e.kind(), ProviderErrorKind::InvalidRequest);
    assert_eq!(b.calls(), 0);
    // It does not count against a.
    let d = router.explain(&req());
    assert!(d.excluded.is_empty());
}

#[tokio::test]
async fn when_every_expert_fails_the_last_error_is_returned_and_then_no_provider() {
    let clock = ManualClock::new();
    let a = Fake::new("a", |_| {
        Err(err(ProviderErrorKind::RateLimited, "a").with_retry_after(Duration::from_secs(5)))
    });
    let b = Fake::new("b", |_| {
        Err(err(ProviderErrorKind::RateLimited, "b").with_retry_after(Duration::from_secs(5)))
    });
    let router = static_router(&[&a, &b], &clock, BreakerConfig::default());
    let e = router.chat(&req(), &ctx()).await.expect_err("both limited");
    assert_eq!(e.kind(), ProviderErrorKind::RateLimited);
    assert_eq!(e.provider(), "b");
    let e = router.chat(&req(), &ctx()).await.expect_err("both cooling down");
    assert_eq!(e.kind(), ProviderErrorKind::NoProvider);
    assert!(e.message().contains("a/m: circuit open"), "{}", e.message());
}

#[tokio::test]
async fn no_request_is_lost_while_one_expert_works() {
    // Five experts; four fail at random (429, 529, timeout, 500) 60-90% of
    // the time; the fifth, ranked last, always works. Every one of 2,000
    // requests is answered, and the breakers keep most calls off the
    // failing experts.
    let clock = ManualClock::new();
    let kinds = [
        ProviderErrorKind::RateLimited,
        ProviderErrorKind::Overloaded,
        ProviderErrorKind::Timeout,
        ProviderErrorKind::Server,
    ];
    let flaky: Vec<Arc<Fake>> = (0..4u64)
        .map(|i| {
            let rng = Mutex::new(ChaCha8Rng::seed_from_u64(i));
            let fail = 0.6 + 0.1 * i as f64;
            let kind = kinds[i as usize];
            Fake::new(&format!("flaky{i}"), move |_| {
                let x = rng.lock().map(|mut r| r.next_u64()).unwrap_or(0);
                if (x >> 11) as f64 / (1u64 << 53) as f64 <= fail {
                    let e = err(kind, "flaky");
                    Err(if kind == ProviderErrorKind::RateLimited {
                        e.with_retry_after(Duration::from_millis(300))
                    } else {
                        e
                    })
                } else {
                    Ok(())
                }
            })
        })
        .collect();
    let steady = Fake::ok("steady");
    let mut all: Vec<&Arc<Fake>> = flaky.iter().collect();
    all.push(&steady);
    let cfg = BreakerConfig {
        failure_threshold: 2,
        cooldown_ms: 200,
        max_cooldown_ms: 2_000,
        ..BreakerConfig::default()
    };
    let router = static_router(&all, &clock, cfg);
    let mut answered = 0;
    for _ in 0..2_000 {
        clock.advance(Duration::from_millis(10));
        if router.chat(&req(), &ctx()).await.is_ok() {
            answered += 1;
        }
    }
    let flaky_calls: u64 = flaky.iter().map(|f| f.calls()).sum();
    println!(
        "answered {answered}/2000; calls to flaky experts {flaky_calls}, to steady {}",
        steady.calls()
    );
    assert_eq!(answered, 2_000);
    assert!(flaky_calls < 4 * 2_000, "breakers spared calls: {flaky_calls}");
}

#[tokio::test]
async fn a_passed_deadline_stops_before_calling_and_cancellation_too() {
    let clock = ManualClock::new();
    let a = Fake::ok("a");
    let router = static_router(&[&a], &clock, BreakerConfig::default());
    let late = CallContext::new("r").with_deadline(Instant::now() - Duration::from_millis(1));
    let e = router.chat(&req(), &late).await.expect_err("deadline passed");
    assert_eq!(e.kind(), ProviderErrorKind::Timeout);
    let cancelled = CallContext::new("r");
    cancelled.cancel.cancel();
    let e = router.chat(&req(), &cancelled).await.expect_err("cancelled");
    assert_eq!(e.kind(), ProviderErrorKind::Cancelled);
    assert_eq!(a.calls(), 0);
}

#[tokio::test]
async fn an_exhausted_rate_limit_snapshot_cools_the_expert_until_reset() {
    let clock = ManualClock::new();
    let a = Fake::ok("a");
    if let Ok(mut g) = a.rate_limit.lock() {
        *g = Some(RateLimitSnapshot {
            requests_remaining: Some(0),
            requests_reset: Some(Duration::from_secs(3)),
            ..RateLimitSnapshot::default()
        });
    }
    let b = Fake::ok("b");
    let router = static_router(&[&a, &b], &clock, BreakerConfig::default());
    assert_eq!(router.chat(&req(), &ctx()).await.expect("a").text(), "from a");
    assert_eq!(router.chat(&req(), &ctx()).await.expect("b").text(), "from b");
    clock.advance(Duration::from_secs(3));
    if let Ok(mut g) = a.rate_limit.lock() {
        *g = None;
    }
    assert_eq!(router.chat(&req(), &ctx()).await.expect("a again").text(), "from a");
}

#[tokio::test]
async fn streams_fall_back_while_opening_and_record_the_outcome() {
    let clock = ManualClock::new();
    let a = Fake::new("a", |_| Err(err(ProviderErrorKind::Overloaded, "a").with_status(529)));
    let b = Fake::ok("b");
    let router = static_router(&[&a, &b], &clock, BreakerConfig::default());
    let mut stream = router.chat_stream(&req(), &ctx()).await.expect("b streams");
    let mut acc = StreamAccumulator::new("router", "m");
    while let Some(ev) = stream.next().await {
        acc.push(&ev.expect("event"));
    }
    let resp = acc.finish().expect("complete");
    assert_eq!(resp.text(), "from b");
    assert_eq!(resp.usage.output_tokens, 50);
    assert_eq!((a.calls(), b.calls()), (1, 1));
}
