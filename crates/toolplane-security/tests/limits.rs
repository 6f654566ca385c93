//! Evidence for rate limits and budgets: clear errors, nothing lost.

#![allow(clippy::unwrap_used, clippy::panic)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures_util::StreamExt;
use serde_json::json;
use toolplane_core::*;
use toolplane_security::limits::{
    Amount, Budget, BudgetDecision, BudgetInterceptor, BudgetRule, LimitError, LocalBudget, LocalRateLimiter, Period,
    PriceSource, RateKey, RateLimitInterceptor, RateQuota, ReserveOutcome, Settlement,
};

/// Answers after a pause with a fixed usage; can fail on demand.
#[derive(Debug)]
struct Slow {
    delay: Duration,
    output: u64,
    fail: bool,
    calls: AtomicUsize,
}

impl Slow {
    fn new(delay_ms: u64, output: u64) -> Self {
        Self {
            delay: Duration::from_millis(delay_ms),
            output,
            fail: false,
            calls: AtomicUsize::new(0),
        }
    }
}

#[async_trait]
impl ChatProvider for Slow {
    fn name(&self) -> &str {
        "slow"
    }
    async fn chat(&self, req: &ChatRequest, _: &CallContext) -> Result<ChatResponse, ProviderError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(self.delay).await;
        if self.fail {
            return Err(ProviderError::new(ProviderErrorKind::Server, "slow", "boom"));
        }
        Ok(
            ChatResponse::new("slow", &req.model, Message::assistant("ok"), StopReason::EndTurn).with_usage(Usage {
                input_tokens: req.estimated_input_tokens(),
                output_tokens: self.output,
                ..Usage::default()
            }),
        )
    }
}

fn ctx(who: &str, team: Option<&str>) -> CallContext {
    let mut p = Principal::new(who);
    if let Some(t) = team {
        p = p.with_team(t);
    }
    CallContext::new(format!("req-{who}")).with_principal(p)
}

fn request(max_tokens: u32) -> ChatRequest {
    ChatRequest::new("m1", vec![Message::user("hello there")]).with_max_tokens(max_tokens)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hundred_concurrent_calls_against_ten_thousand_tpm_admit_at_most_ten() {
    let budget = Arc::new(LocalBudget::new(vec![BudgetRule::tokens_per_principal(
        Period::Minute,
        10_000,
    )]));
    let slow = Arc::new(Slow::new(100, 1000));
    let provider = Arc::new(InterceptedProvider::new(
        slow.clone(),
        vec![Arc::new(BudgetInterceptor::new(budget.clone()))],
    ));
    let minute = || {
        Period::Minute
            .window(
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_secs(),
            )
            .0
    };
    let started_in = minute();
    let mut tasks = Vec::new();
    for _ in 0..100 {
        let p = provider.clone();
        tasks.push(tokio::spawn(async move {
            p.chat(&request(1000), &ctx("alice", None)).await
        }));
    }
    let mut ok = 0;
    let mut refused = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => ok += 1,
            Err(e) => {
                assert_eq!(e.kind(), ProviderErrorKind::QuotaExceeded);
                assert!(e.retry_after().is_some_and(|d| d <= Duration::from_secs(60)), "{e}");
                assert!(
                    e.message()
                        .contains("token budget of principal:alice per minute exhausted"),
                    "{e}"
                );
                refused += 1;
            }
        }
    }
    assert!((1..=10).contains(&ok), "admitted {ok}");
    assert_eq!(ok + refused, 100);
    assert_eq!(
        slow.calls.load(Ordering::SeqCst),
        ok,
        "refused calls never reached the provider"
    );
    // Settled with the actual usage: each call used input estimate + 1000.
    let per_call = request(1000).estimated_input_tokens() + 1000;
    let used = budget.used(0, "alice", None).unwrap().tokens;
    if minute() == started_in {
        assert_eq!(used, per_call * ok as u64, "the budget holds exactly the settled usage");
    }
}

#[tokio::test]
async fn reservations_are_idempotent_and_finish_exactly_once() {
    let b = LocalBudget::new(vec![BudgetRule::tokens_per_principal(Period::Day, 1000)]);
    let a = Amount {
        tokens: 400,
        cost_micros: 0,
    };
    assert_eq!(b.reserve("r1", "bob", None, a).await.unwrap(), ReserveOutcome::Reserved);
    assert_eq!(
        b.reserve("r1", "bob", None, a).await.unwrap(),
        ReserveOutcome::AlreadyReserved
    );
    assert_eq!(
        b.used(0, "bob", None).unwrap().tokens,
        400,
        "a repeated reserve is not counted twice"
    );
    let actual = Amount {
        tokens: 250,
        cost_micros: 0,
    };
    assert_eq!(b.settle("r1", actual).await.unwrap(), Settlement::Done);
    assert_eq!(b.settle("r1", actual).await.unwrap(), Settlement::AlreadyFinished);
    assert_eq!(b.release("r1").await.unwrap(), Settlement::AlreadyFinished);
    assert_eq!(
        b.reserve("r1", "bob", None, a).await.unwrap(),
        ReserveOutcome::AlreadyFinished
    );
    assert_eq!(b.used(0, "bob", None).unwrap().tokens, 250);
    assert_eq!(b.release("nope").await.unwrap(), Settlement::Unknown);
    // Too large for the whole budget: permanent, no retry-after.
    let err = b
        .reserve(
            "big",
            "bob",
            None,
            Amount {
                tokens: 5000,
                cost_micros: 0,
            },
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, LimitError::RequestTooLarge { .. }) && err.retry_after().is_none(),
        "{err}"
    );
    assert!(err.to_string().contains("lower max_tokens"), "{err}");
}

#[tokio::test]
async fn errors_and_cancellation_release_the_reservation() {
    let budget = Arc::new(LocalBudget::new(vec![BudgetRule::tokens_per_principal(
        Period::Hour,
        5000,
    )]));
    let mut failing = Slow::new(1, 10);
    failing.fail = true;
    let p = InterceptedProvider::new(
        Arc::new(failing),
        vec![Arc::new(BudgetInterceptor::new(budget.clone()))],
    );
    let e = p.chat(&request(1000), &ctx("carol", None)).await.unwrap_err();
    assert_eq!(e.kind(), ProviderErrorKind::Server);
    assert_eq!(
        budget.used(0, "carol", None).unwrap().tokens,
        0,
        "released after the error"
    );

    let slow = InterceptedProvider::new(
        Arc::new(Slow::new(10_000, 10)),
        vec![Arc::new(BudgetInterceptor::new(budget.clone()))],
    );
    let cancelled = tokio::time::timeout(
        Duration::from_millis(50),
        slow.chat(&request(1000), &ctx("carol", None)),
    )
    .await;
    assert!(cancelled.is_err(), "timed out");
    for _ in 0..100 {
        if budget.used(0, "carol", None).unwrap().tokens == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(
        budget.used(0, "carol", None).unwrap().tokens,
        0,
        "released after cancellation"
    );
}

#[tokio::test]
async fn streams_settle_at_the_end_and_release_when_dropped() {
    let budget = Arc::new(LocalBudget::new(vec![BudgetRule::tokens_per_principal(
        Period::Hour,
        50_000,
    )]));
    let usage = Usage {
        input_tokens: 7,
        output_tokens: 3,
        ..Usage::default()
    };
    let scripted = ScriptedProvider::new("s")
        .with_response(ChatResponse::new("s", "m1", Message::assistant("hi"), StopReason::EndTurn).with_usage(usage))
        .with_text("second");
    let p = InterceptedProvider::new(
        Arc::new(scripted),
        vec![Arc::new(BudgetInterceptor::new(budget.clone()))],
    );
    let mut s = p.chat_stream(&request(1000), &ctx("dave", None)).await.unwrap();
    while s.next().await.is_some() {}
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert_eq!(
        budget.used(0, "dave", None).unwrap().tokens,
        10,
        "settled with the streamed usage"
    );

    let mut s = p.chat_stream(&request(1000), &ctx("dave", None)).await.unwrap();
    let _first = s.next().await;
    drop(s);
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert_eq!(
        budget.used(0, "dave", None).unwrap().tokens,
        10,
        "released when dropped"
    );
}

#[tokio::test]
async fn team_cost_budgets_are_shared_by_members() {
    let budget = Arc::new(LocalBudget::new(vec![BudgetRule::cost_per_team(Period::Month, 30_000)]));
    let price = Price::per_million(3.0, 15.0);
    let p = InterceptedProvider::new(
        Arc::new(Slow::new(1, 1000)),
        vec![Arc::new(BudgetInterceptor::new(budget.clone()).with_price("m1", price))],
    );
    // Each call reserves ~15,000+ micro-USD (1000 output tokens at $15/M).
    p.chat(&request(1000), &ctx("erin", Some("red"))).await.unwrap();
    let e = p.chat(&request(1000), &ctx("frank", Some("red"))).await;
    let used = budget.used(0, "erin", Some("red")).unwrap().cost_micros;
    assert!(used >= 15_000, "{used}");
    if let Err(e) = e {
        assert!(e.message().contains("team:red"), "{e}");
    }
    let e = p.chat(&request(1000), &ctx("gina", Some("red"))).await.unwrap_err();
    assert!(
        e.message().contains("cost (micro-USD) budget of team:red per month"),
        "{e}"
    );
    // Another team is unaffected.
    p.chat(&request(1000), &ctx("hal", Some("blue"))).await.unwrap();
}

#[tokio::test]
async fn tool_rate_limits_give_retry_after_and_refuse_costs_above_the_burst() {
    let limiter = Arc::new(LocalRateLimiter::new(RateQuota::per_minute(3), 10_000).unwrap());
    let chain: Vec<Arc<dyn ToolInterceptor>> = vec![Arc::new(RateLimitInterceptor::new(limiter.clone()))];
    let tool = EchoTool::new(ToolSpec::new("search", ""));
    let call = ToolCall::new("c", "search", "{}");
    let args = json!({});
    let inv = ToolInvocation {
        call: &call,
        args: &args,
        spec: &tool.0,
    };
    for _ in 0..3 {
        ToolNext::new(&chain, &tool).run(&inv, &ctx("ian", None)).await.unwrap();
    }
    let e = ToolNext::new(&chain, &tool)
        .run(&inv, &ctx("ian", None))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ToolErrorKind::RateLimited);
    assert!(e.retry_after().unwrap() <= Duration::from_secs(20), "{e}");
    assert!(e.message().contains("principal=ian|tool=search"), "{e}");
    // Another principal has its own limit.
    ToolNext::new(&chain, &tool).run(&inv, &ctx("jo", None)).await.unwrap();

    let heavy: Vec<Arc<dyn ToolInterceptor>> = vec![Arc::new(RateLimitInterceptor::new(limiter).with_cost(4))];
    let e = ToolNext::new(&heavy, &tool)
        .run(&inv, &ctx("kim", None))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ToolErrorKind::PermissionDenied);
    assert!(
        e.retry_after().is_none() && e.message().contains("can never pass"),
        "{e}"
    );
}

#[test]
fn rate_limiter_memory_stays_bounded() {
    let limiter = LocalRateLimiter::new(RateQuota::per_second(5), 20_000).unwrap();
    for i in 0..300_000u64 {
        let _ = limiter.check_hash(i.wrapping_mul(0x9E37_79B9_7F4A_7C15), 1);
    }
    let held = limiter.len();
    assert!(held <= 20_000 + 64 * 1024, "{held} keys held");
    assert!(limiter.resets() > 0);
    // A key checked right now is still limited correctly.
    let key = RateKey {
        principal: Some("z"),
        tool: None,
        provider: None,
    };
    for _ in 0..5 {
        limiter.check_now(&key, 1).unwrap();
    }
    assert!(matches!(
        limiter.check_now(&key, 1),
        Err(LimitError::RateLimited { .. })
    ));
}

#[tokio::test]
async fn chat_rate_limits_key_by_provider() {
    let limiter = Arc::new(LocalRateLimiter::new(RateQuota::per_minute(1), 100).unwrap());
    let p = InterceptedProvider::new(
        Arc::new(ScriptedProvider::new("s").with_text("a").with_text("b")),
        vec![Arc::new(RateLimitInterceptor::new(limiter))],
    );
    p.chat(&request(10), &ctx("lee", None)).await.unwrap();
    let e = p.chat(&request(10), &ctx("lee", None)).await.unwrap_err();
    assert_eq!(e.kind(), ProviderErrorKind::RateLimited);
    assert!(e.message().contains("provider=s"), "{e}");
    assert!(e.retry_after().is_some());
}

/// Waits (bounded) until `f` holds; the settle after a stream runs on a spawned task.
async fn eventually(mut f: impl FnMut() -> bool) {
    for _ in 0..400 {
        if f() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test]
async fn two_interceptors_sharing_a_request_id_cannot_bypass_the_budget() {
    // One budget of 1,500 tokens; each call reserves ~1,000 and uses ~1,003.
    let budget = Arc::new(LocalBudget::new(vec![BudgetRule::tokens_per_principal(
        Period::Hour,
        1500,
    )]));
    let mk = || {
        InterceptedProvider::new(
            Arc::new(Slow::new(1, 1000)),
            vec![Arc::new(BudgetInterceptor::new(budget.clone()))],
        )
    };
    let (a, b) = (mk(), mk());
    let same = || CallContext::new("shared-request").with_principal(Principal::new("zed"));
    a.chat(&request(1000), &same()).await.unwrap();
    let used = budget.used(0, "zed", None).unwrap().tokens;
    assert!(used > 1000, "{used}");
    // Before: B's id was `shared-request#0` too, the budget answered
    // AlreadyFinished and B was admitted without reserving.
    let e = b.chat(&request(1000), &same()).await.unwrap_err();
    assert_eq!(e.kind(), ProviderErrorKind::QuotaExceeded, "{e}");
    assert!(e.message().contains("principal:zed"), "{e}");
    // And the same interceptor twice with one request id.
    let e = a.chat(&request(1000), &same()).await.unwrap_err();
    assert_eq!(e.kind(), ProviderErrorKind::QuotaExceeded, "{e}");
    assert_eq!(budget.used(0, "zed", None).unwrap().tokens, used);
}

#[tokio::test]
async fn a_reservation_that_is_not_fresh_refuses_the_call() {
    /// A backend that claims every id was finished before.
    #[derive(Debug)]
    struct Replaying;
    #[async_trait]
    impl Budget for Replaying {
        async fn reserve(&self, _: &str, _: &str, _: Option<&str>, _: Amount) -> Result<ReserveOutcome, LimitError> {
            Ok(ReserveOutcome::AlreadyFinished)
        }
        async fn settle(&self, _: &str, _: Amount) -> Result<Settlement, LimitError> {
            Ok(Settlement::AlreadyFinished)
        }
        async fn release(&self, _: &str) -> Result<Settlement, LimitError> {
            Ok(Settlement::AlreadyFinished)
        }
        fn counts_cost(&self) -> bool {
            false
        }
    }
    let slow = Arc::new(Slow::new(1, 10));
    let p = InterceptedProvider::new(
        slow.clone(),
        vec![Arc::new(BudgetInterceptor::new(Arc::new(Replaying)))],
    );
    let e = p.chat(&request(100), &ctx("yan", None)).await.unwrap_err();
    assert!(e.message().contains("was not made"), "{e}");
    assert_eq!(slow.calls.load(Ordering::SeqCst), 0, "the provider was never called");
}

#[tokio::test]
async fn unpriced_models_are_refused_or_charged_the_default_and_say_which() {
    let cost_budget = || {
        Arc::new(LocalBudget::new(vec![BudgetRule::cost_per_team(
            Period::Day,
            1_000_000,
        )]))
    };
    let decisions: Arc<parking_lot::Mutex<Vec<BudgetDecision>>> = Arc::default();
    let record = |d: &Arc<parking_lot::Mutex<Vec<BudgetDecision>>>| {
        let d = d.clone();
        move |x: &BudgetDecision| d.lock().push(x.clone())
    };
    let book = Arc::new(StaticPrices::new().with("slow", "priced", Price::per_million(1.0, 2.0)));

    // No price, no default, a cost limit: refused, never charged $0.
    let budget = cost_budget();
    let slow = Arc::new(Slow::new(1, 10));
    let p = InterceptedProvider::new(
        slow.clone(),
        vec![Arc::new(
            BudgetInterceptor::new(budget.clone())
                .with_prices(book.clone())
                .on_decision(record(&decisions)),
        )],
    );
    let e = p.chat(&request(100), &ctx("ann", Some("t"))).await.unwrap_err();
    assert_eq!(e.kind(), ProviderErrorKind::QuotaExceeded);
    assert!(e.message().contains("\"m1\" of provider \"slow\" has no price"), "{e}");
    assert!(e.retry_after().is_none(), "waiting does not help: {e}");
    assert_eq!(slow.calls.load(Ordering::SeqCst), 0);
    // A priced model passes and says where its price came from.
    let priced = ChatRequest::new("priced", vec![Message::user("hi")]).with_max_tokens(100);
    p.chat(&priced, &ctx("ann", Some("t"))).await.unwrap();
    let d = decisions.lock().pop().unwrap();
    assert_eq!(d.price_source, PriceSource::PriceBook);
    assert_eq!(d.price, Some(Price::per_million(1.0, 2.0)));
    assert!(d.reserved.cost_micros >= 200, "{d:?}");
    assert!(d.reservation_id.starts_with("req-ann#"), "{d:?}");

    // With a default price, the unpriced model is charged that, and the decision says so.
    let budget = cost_budget();
    let p = InterceptedProvider::new(
        Arc::new(Slow::new(1, 1000)),
        vec![Arc::new(
            BudgetInterceptor::new(budget.clone())
                .with_prices(book.clone())
                .with_default_price(Price::per_million(10.0, 100.0))
                .on_decision(record(&decisions)),
        )],
    );
    p.chat(&request(1000), &ctx("bob", Some("t"))).await.unwrap();
    let d = decisions.lock().pop().unwrap();
    assert_eq!(d.price_source, PriceSource::DefaultPrice);
    // 1000 output tokens at $100/M = 100,000 micro-USD, plus the input.
    let used = budget.used(0, "bob", Some("t")).unwrap().cost_micros;
    assert!(used >= 100_000, "{used}");

    // A token-only budget counts tokens for unpriced models and says so.
    let budget = Arc::new(LocalBudget::new(vec![BudgetRule::tokens_per_principal(
        Period::Day,
        10_000,
    )]));
    let p = InterceptedProvider::new(
        Arc::new(Slow::new(1, 10)),
        vec![Arc::new(
            BudgetInterceptor::new(budget.clone()).on_decision(record(&decisions)),
        )],
    );
    p.chat(&request(100), &ctx("cy", None)).await.unwrap();
    assert_eq!(decisions.lock().pop().unwrap().price_source, PriceSource::TokensOnly);
    assert!(budget.used(0, "cy", None).unwrap().tokens > 10);
}

/// Streams three text deltas of 400 bytes each, then fails; optionally
/// reports usage before failing.
#[derive(Debug)]
struct FailsMidStream {
    usage: Option<Usage>,
    deltas: usize,
}

#[async_trait]
impl ChatProvider for FailsMidStream {
    fn name(&self) -> &str {
        "slow"
    }
    async fn chat(&self, _: &ChatRequest, _: &CallContext) -> Result<ChatResponse, ProviderError> {
        Err(ProviderError::new(ProviderErrorKind::Server, "slow", "stream only"))
    }
    async fn chat_stream(&self, _: &ChatRequest, _: &CallContext) -> Result<ChatStream, ProviderError> {
        let mut events: Vec<Result<StreamEvent, ProviderError>> = (0..self.deltas)
            .map(|_| Ok(StreamEvent::TextDelta { text: "x".repeat(400) }))
            .collect();
        if let Some(usage) = self.usage {
            events.push(Ok(StreamEvent::Usage { usage }));
        }
        events.push(Err(ProviderError::new(
            ProviderErrorKind::Transport,
            "slow",
            "connection reset",
        )));
        Ok(Box::pin(futures_util::stream::iter(events)))
    }
}

#[tokio::test]
async fn a_stream_that_fails_after_output_is_charged_for_what_was_delivered() {
    let price = Price::per_million(1.0, 1.0); // a micro-USD a token
    let run = |provider: FailsMidStream, who: &'static str| {
        let budget = Arc::new(LocalBudget::new(vec![BudgetRule::cost_per_team(
            Period::Day,
            100_000_000,
        )]));
        let p = InterceptedProvider::new(
            Arc::new(provider),
            vec![Arc::new(BudgetInterceptor::new(budget.clone()).with_price("m1", price))],
        );
        async move {
            let mut s = p.chat_stream(&request(4000), &ctx(who, Some(who))).await.unwrap();
            let mut failed = false;
            while let Some(e) = s.next().await {
                failed |= e.is_err();
            }
            assert!(failed);
            let reserved = 4000 + request(4000).estimated_input_tokens();
            // Settled (or released) once the reservation leaves the reserved figure.
            eventually(|| budget.used(0, who, Some(who)).unwrap().cost_micros != reserved).await;
            budget.used(0, who, Some(who)).unwrap()
        }
    };
    // Reported usage wins.
    let used = run(
        FailsMidStream {
            usage: Some(Usage {
                input_tokens: 20,
                output_tokens: 290,
                ..Usage::default()
            }),
            deltas: 3,
        },
        "u1",
    )
    .await;
    assert_eq!(
        used,
        Amount {
            tokens: 310,
            cost_micros: 310
        }
    );
    // Without usage: the estimated input plus 1,200 bytes / 4 = 300 output tokens.
    let used = run(FailsMidStream { usage: None, deltas: 3 }, "u2").await;
    let input = request(4000).estimated_input_tokens();
    assert_eq!(
        used,
        Amount {
            tokens: input + 300,
            cost_micros: input + 300
        }
    );
    // Nothing delivered: released.
    let used = run(FailsMidStream { usage: None, deltas: 0 }, "u3").await;
    assert_eq!(used, Amount::default());
}
