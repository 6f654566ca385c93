//! One call costs the same everywhere: the router (its explained choice and
//! its spend), a security budget, the loop's cost limit and the metrics
//! report all read one price book, cache reads and writes included.

use std::sync::{Arc, Mutex};

use toolplane_core::{
    CallContext, ChatInterceptor, ChatProvider, ChatRequest, ChatResponse, InterceptedProvider, Message, Price,
    PriceBook, Principal, ScriptedProvider, StopReason, Usage,
};
use toolplane_metrics::{
    MetricsConfig, MetricsInterceptor, MetricsQuery, PricingTable, ProviderMetricsCollector, SystemClock,
};
use toolplane_pipeline::{AgentLoop, LoopConfig, RunEvent, RunOutcome, RunState, StopCause};
use toolplane_registry::Executor;
use toolplane_router::{Expert, Router};
use toolplane_security::limits::{BudgetDecision, BudgetInterceptor, BudgetRule, LocalBudget, Period};

/// $3 in, $15 out, $0.30 cache reads, $3.75 cache writes, per million tokens.
fn price() -> Price {
    Price::per_million(3.0, 15.0)
        .with_cache_read(0.30)
        .with_cache_write_5m(3.75)
}

/// 100k input tokens of which 60k read from the cache and 20k written to
/// it, and 2k output tokens: 20k × $3 + 60k × $0.30 + 20k × $3.75 + 2k × $15
/// per million = $0.183.
fn usage() -> Usage {
    Usage {
        input_tokens: 100_000,
        cache_read_tokens: 60_000,
        cache_write_tokens: 20_000,
        output_tokens: 2_000,
        ..Usage::default()
    }
}

#[derive(Debug, Default)]
struct Events(Mutex<Vec<RunEvent>>);

impl toolplane_pipeline::EventSink for Events {
    fn emit(&self, event: RunEvent) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).push(event);
    }
}

#[tokio::test]
async fn one_call_costs_the_same_through_router_budget_loop_and_metrics() {
    const EXPECTED: f64 = 0.183;
    assert_eq!(price().cost_micros(&usage()), 183_000);

    // The one price book: the metrics table.
    let mut table = PricingTable::empty();
    table.insert("acme", "big", price()).unwrap();
    let metrics = Arc::new(ProviderMetricsCollector::with_parts(
        MetricsConfig::default(),
        table,
        Arc::new(SystemClock),
    ));
    let book: Arc<dyn PriceBook> = metrics.price_book();

    // The expert: a provider answering with that usage, behind a budget and the metrics.
    let budget = Arc::new(LocalBudget::new(vec![BudgetRule::cost_per_team(
        Period::Day,
        10_000_000,
    )]));
    let decisions: Arc<Mutex<Vec<BudgetDecision>>> = Arc::default();
    let seen = decisions.clone();
    let answer = ChatResponse::new("acme", "big", Message::assistant("done"), StopReason::EndTurn).with_usage(usage());
    let acme = Arc::new(ScriptedProvider::new("acme").with_response(answer));
    let chain: Vec<Arc<dyn ChatInterceptor>> = vec![
        Arc::new(
            BudgetInterceptor::new(budget.clone())
                .with_prices(book.clone())
                .on_decision(move |d| seen.lock().unwrap().push(d.clone())),
        ),
        Arc::new(MetricsInterceptor::new(metrics.clone())),
    ];
    let expert: Arc<dyn ChatProvider> = Arc::new(InterceptedProvider::new(acme, chain));
    let router = Router::builder()
        .expert(Expert::new(expert.clone(), "big"))
        // Not in the book: under a budget it is removed, never taken as free.
        .expert(Expert::new(expert, "mystery").with_id("acme/mystery"))
        .prices(book.clone())
        .budget_usd(100.0)
        .seed(1)
        .build()
        .unwrap();

    // Before the call: the router's estimate is what the budget reserves.
    let request = ChatRequest::new("", vec![Message::user("summarize the cached report")])
        .with_max_tokens(4_000)
        .with_task_type("chat");
    let d = router.explain(&request);
    assert_eq!(d.chosen.as_deref(), Some("acme/big"), "{d}");
    assert_eq!(d.candidates[0].price_source, "price_book");
    assert_eq!(d.candidates[0].price, book.price("acme", "big"));
    assert_eq!(d.excluded.len(), 1, "{d}");
    assert_eq!(
        (d.excluded[0].expert.as_str(), d.excluded[0].constraint.as_str()),
        ("acme/mystery", "unpriced")
    );
    let router_estimate = d.candidates[0].estimated_cost_usd.expect("priced");

    // The call, through the loop with a cost limit on the same book.
    let events = Arc::new(Events::default());
    let agent = AgentLoop::new(Arc::new(router.clone()), Arc::new(Executor::from_tools([]).unwrap()))
        .with_prices(book.clone())
        .with_config(LoopConfig {
            max_cost_usd: Some(1.0),
            ..LoopConfig::default()
        })
        .with_events(events.clone());
    let ctx = CallContext::new("r1").with_principal(Principal::new("ann").with_team("t"));
    let result = agent.run(RunState::new("run-1", request), &ctx).await.unwrap();
    assert!(
        matches!(result.outcome, RunOutcome::Answered(_)),
        "{:?}",
        result.outcome
    );

    let decision = decisions.lock().unwrap().pop().expect("the budget decided");
    assert_eq!(decision.model, "big");
    assert_eq!(decision.price, book.price("acme", "big"));
    assert_eq!(
        (router_estimate * 1e6).round() as u64,
        decision.reserved.cost_micros,
        "the router's estimate is the budget's reservation"
    );

    // After the call: one cost, four places.
    let close = |what: &str, v: f64| assert!((v - EXPECTED).abs() < 1e-12, "{what}: {v} != {EXPECTED}");
    close("loop", result.state.cost_usd);
    close("router", router.spent_usd());
    let report = metrics.snapshot(&MetricsQuery::all_time()).unwrap();
    close("metrics", report.cost.total_usd);
    assert_eq!(report.cost.unpriced_calls, 0);
    let used = budget.used(0, "ann", Some("t")).unwrap();
    assert_eq!(used.cost_micros, 183_000, "budget");
    let step_cost = events.0.lock().unwrap().iter().find_map(|e| match e {
        RunEvent::Usage { step_cost_usd, .. } => Some(*step_cost_usd),
        _ => None,
    });
    close("the loop's usage event", step_cost.flatten().expect("priced"));
}

/// Under a cost limit, a call whose model has no price stops the run before
/// the next call, and with no prices at all the run does not start.
#[tokio::test]
async fn the_loop_never_counts_an_unpriced_model_as_free() {
    let limited = LoopConfig {
        max_cost_usd: Some(1.0),
        ..LoopConfig::default()
    };
    let tools = || Arc::new(Executor::from_tools([]).unwrap());
    let request = || ChatRequest::new("m", vec![Message::user("hi")]);

    // No prices at all: nothing is sent.
    let provider = Arc::new(ScriptedProvider::new("acme").with_text("hello"));
    let agent = AgentLoop::new(provider.clone(), tools()).with_config(limited.clone());
    let r = agent
        .run(RunState::new("a", request()), &CallContext::new("a"))
        .await
        .unwrap();
    assert_eq!(r.outcome, RunOutcome::Stopped(StopCause::Unpriced));
    assert_eq!(provider.remaining(), 1, "no call was made");

    // A book that does not know the model: the answer is kept, the next call is not made.
    let book = Arc::new(toolplane_core::StaticPrices::new().with("acme", "other", price()));
    let provider = Arc::new(
        ScriptedProvider::new("acme")
            .with_tool_calls(vec![toolplane_core::ToolCall::new("c1", "nope", "{}")])
            .with_text("never sent"),
    );
    let agent = AgentLoop::new(provider.clone(), tools())
        .with_config(limited.clone())
        .with_prices(book.clone());
    let r = agent
        .run(RunState::new("b", request()), &CallContext::new("b"))
        .await
        .unwrap();
    assert_eq!(r.outcome, RunOutcome::Stopped(StopCause::Unpriced));
    assert_eq!((r.state.steps, r.state.cost_usd), (1, 0.0));
    assert_eq!(provider.remaining(), 1);

    // With a default price the same run goes on, charged that price.
    let agent = AgentLoop::new(provider.clone(), tools())
        .with_config(limited)
        .with_prices(book)
        .with_default_price(Price::per_million(1_000.0, 1_000.0));
    let r = agent.run(r.state, &CallContext::new("b")).await.unwrap();
    assert_eq!(r.answer().as_deref(), Some("never sent"));
    // The scripted answer: 10 input and 5 output tokens at $1,000 per million.
    assert!((r.state.cost_usd - 0.015).abs() < 1e-12, "{}", r.state.cost_usd);
}
