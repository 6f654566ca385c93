//! Hard constraints, strategies, explanations and feedback.

use std::sync::Arc;

use toolplane_core::{
    CallContext, ChatProvider, ChatRequest, ExpertKey, ExpertStats, Feedback, Message, Price, ProviderCapabilities,
    ScriptedProvider, StaticStats, ToolSpec, Verdict,
};
use toolplane_router::{Expert, QualityMetric, Router, Strategy, TaskPolicy, Weights};

fn scripted(name: &str) -> Arc<ScriptedProvider> {
    Arc::new(ScriptedProvider::new(name))
}

fn ask(text: &str, task: &str) -> ChatRequest {
    ChatRequest::new("", vec![Message::user(text)]).with_task_type(task)
}

#[test]
fn tools_context_and_rules_remove_experts_and_say_why() {
    let no_tools = ProviderCapabilities {
        tools: false,
        ..ProviderCapabilities::default()
    };
    let router = Router::builder()
        .expert(
            Expert::new(scripted("small"), "s")
                .with_capabilities(no_tools)
                .with_priority(0),
        )
        .expert(
            Expert::new(scripted("short"), "c")
                .with_max_context_tokens(1_000)
                .with_priority(1),
        )
        .expert(
            Expert::new(scripted("big"), "b")
                .with_max_context_tokens(200_000)
                .with_priority(2),
        )
        .expert(Expert::new(scripted("other"), "o").with_priority(3))
        .default_policy(TaskPolicy::new(Strategy::Static { order: vec![] }).only(["small/s", "short/c", "big/b"]))
        .seed(3)
        .build()
        .expect("router");
    let req = ask(&"word ".repeat(2_000), "code").with_tools(vec![ToolSpec::new("run", "Runs code.")]);
    let d = router.explain(&req);
    assert_eq!(d.chosen.as_deref(), Some("big/b"));
    let why: Vec<(&str, &str)> = d
        .excluded
        .iter()
        .map(|x| (x.expert.as_str(), x.constraint.as_str()))
        .collect();
    assert_eq!(
        why,
        vec![("small/s", "tools"), ("short/c", "context_window"), ("other/o", "rule")]
    );
    let text = d.to_string();
    assert!(text.contains("context window is 1000"), "{text}");
    assert!(text.contains("chosen: big/b"), "{text}");
    let json = serde_json::to_value(&d).expect("serializes");
    assert_eq!(json["excluded"][1]["constraint"], "context_window");
}

#[tokio::test]
async fn budgets_stop_spending_when_exhausted() {
    let a = Arc::new(ScriptedProvider::new("a").with_text("one").with_text("two"));
    let b = Arc::new(ScriptedProvider::new("b").with_text("cheap"));
    let router = Router::builder()
        // 10 input + 5 output tokens per scripted answer at $1,000 per million: $0.015 a call.
        .expert(
            Expert::new(a.clone(), "m")
                .with_price(Price::per_million(1000.0, 1000.0))
                .with_budget_usd(0.02)
                .with_priority(0),
        )
        .expert(Expert::new(b.clone(), "m").with_priority(1))
        .default_policy(TaskPolicy::new(Strategy::Static { order: vec![] }))
        .default_output_tokens(1)
        .seed(1)
        .build()
        .expect("router");
    let req = ask("hi", "chat");
    let ctx = CallContext::new("r");
    assert_eq!(router.chat(&req, &ctx).await.expect("a").text(), "one");
    assert!((router.spent_usd() - 0.015).abs() < 1e-9);
    let d = router.explain(&req);
    assert_eq!(d.excluded[0].constraint, "budget", "{d}");
    assert_eq!(router.chat(&req, &ctx).await.expect("b").text(), "cheap");
    assert_eq!(a.remaining(), 1, "a was not called over budget");
}

#[test]
fn router_budget_applies_to_all_experts() {
    let router = Router::builder()
        .expert(Expert::new(scripted("a"), "m").with_price(Price::per_million(10_000.0, 10_000.0)))
        .budget_usd(0.001)
        .seed(1)
        .build()
        .expect("router");
    let d = router.explain(&ask("hello there", "chat"));
    assert_eq!(d.chosen, None);
    assert_eq!(d.excluded[0].constraint, "router_budget");
    assert!(d.to_string().contains("every expert was removed"));
}

fn stats_router(strategy: Strategy) -> Router {
    let stats = Arc::new(StaticStats::default());
    let figures = [
        // (p95 ms, success, cost per 1k, wins of 100)
        ("fast", 200.0, 0.95, 0.010, 60),
        ("good", 900.0, 0.99, 0.020, 85),
        ("cheap", 1500.0, 0.90, 0.001, 72),
    ];
    let mut b = Router::builder().seed(5).default_policy(TaskPolicy::new(strategy));
    for (name, p95, ok, cost, wins) in figures {
        stats.set(
            ExpertKey::new(name, "m"),
            Some("code"),
            ExpertStats {
                calls: 100,
                success_rate: Some(ok),
                latency_p95_ms: Some(p95),
                cost_per_1k_tokens: Some(cost),
                wins,
                judged: 100,
                ..ExpertStats::default()
            },
        );
        b = b.expert(Expert::new(scripted(name), "m"));
    }
    b.stats_source(stats).build().expect("router")
}

#[test]
fn weighted_scores_follow_the_weights() {
    let quality = stats_router(Strategy::Weighted {
        weights: Weights {
            latency: 0.0,
            success: 1.0,
            cost: 0.0,
            win_rate: 1.0,
        },
    });
    assert_eq!(quality.explain(&ask("x", "code")).chosen.as_deref(), Some("good/m"));
    let speed = stats_router(Strategy::Weighted {
        weights: Weights {
            latency: 5.0,
            success: 1.0,
            cost: 0.0,
            win_rate: 1.0,
        },
    });
    let d = speed.explain(&ask("x", "code"));
    assert_eq!(d.chosen.as_deref(), Some("fast/m"), "{d}");
    assert!(
        d.candidates[0]
            .figures
            .iter()
            .any(|(k, v)| k == "latency_norm" && *v == 1.0)
    );
}

#[test]
fn cheapest_above_the_floor() {
    let r = stats_router(Strategy::Cheapest {
        quality_floor: 0.7,
        quality: QualityMetric::WinRate,
    });
    assert_eq!(r.explain(&ask("x", "code")).chosen.as_deref(), Some("cheap/m"));
    let r = stats_router(Strategy::Cheapest {
        quality_floor: 0.8,
        quality: QualityMetric::WinRate,
    });
    let d = r.explain(&ask("x", "code"));
    assert_eq!(d.chosen.as_deref(), Some("good/m"));
    let r = stats_router(Strategy::Cheapest {
        quality_floor: 0.99,
        quality: QualityMetric::SuccessRate,
    });
    let d = r.explain(&ask("x", "code"));
    assert_eq!(d.chosen.as_deref(), Some("good/m"), "0.99 success meets the floor");
    let r = stats_router(Strategy::Cheapest {
        quality_floor: 1.0,
        quality: QualityMetric::WinRate,
    });
    let d = r.explain(&ask("x", "code"));
    assert_eq!(
        d.chosen.as_deref(),
        Some("good/m"),
        "best quality when none meets the floor"
    );
    assert!(d.draw.as_deref().unwrap_or("").contains("no candidate meets"));
}

#[test]
fn least_latency_uses_two_random_choices_and_prefers_the_faster() {
    let r = stats_router(Strategy::LeastLatency);
    let mut firsts = [0usize; 3];
    for _ in 0..600 {
        firsts[r.route(&ask("x", "code")).first().expect("one")] += 1;
    }
    // Pairs are drawn uniformly: fast wins both its pairs (2/3), good wins
    // against cheap (1/3), cheap never.
    assert_eq!(firsts[2], 0, "{firsts:?}");
    assert!(firsts[0] > 300 && firsts[1] > 120, "{firsts:?}");
    let d = r.explain(&ask("x", "code"));
    assert!(d.draw.as_deref().unwrap_or("").contains("power of two choices"), "{d}");
}

#[tokio::test]
async fn feedback_by_request_id_moves_the_posterior() {
    let a = Arc::new(ScriptedProvider::new("a").with_text("hi"));
    let router = Router::builder()
        .expert(Expert::new(a, "m"))
        .policy("chat", TaskPolicy::new(Strategy::thompson()))
        .seed(1)
        .build()
        .expect("router");
    let req = ask("hello", "chat");
    router.chat(&req, &CallContext::new("req-7")).await.expect("answer");
    for _ in 0..3 {
        assert!(router.feedback(&Feedback {
            request_id: "req-7".into(),
            verdict: Verdict::Win,
        }));
    }
    assert!(!router.feedback(&Feedback {
        request_id: "unknown".into(),
        verdict: Verdict::Loss,
    }));
    let d = router.explain(&req);
    let alpha = d.candidates[0]
        .figures
        .iter()
        .find(|(k, _)| k == "alpha")
        .map(|(_, v)| *v);
    let alpha = alpha.expect("alpha shown");
    assert!(
        alpha > 3.9 && alpha < 4.0,
        "three decayed wins on a prior of 1: {alpha}"
    );
}

#[test]
fn task_type_comes_from_metadata_context_or_classifier() {
    let router = Router::builder()
        .expert(Expert::new(scripted("a"), "m"))
        .seed(1)
        .build()
        .expect("router");
    let d = router.explain(&ChatRequest::new(
        "",
        vec![Message::user("Summarize this report in 3 bullets")],
    ));
    assert_eq!(d.task_type, "summarization");
    assert_eq!(format!("{:?}", d.task_source), "Classifier");
    let d = router.explain(&ask("anything", "legal-review"));
    assert_eq!(d.task_type, "legal-review");
    assert_eq!(d.policy, "default", "unknown task types use the default policy");
    assert!(router.task_types().iter().any(|t| t == "tool_use"));
}

#[test]
fn router_capabilities_are_the_union() {
    let router = Router::builder()
        .expert(Expert::new(scripted("a"), "m").with_max_context_tokens(8_000))
        .expert(Expert::new(scripted("b"), "m").with_max_context_tokens(100_000))
        .build()
        .expect("router");
    let caps = router.capabilities();
    assert!(caps.tools);
    assert_eq!(caps.max_context_tokens, Some(100_000));
    assert_eq!(router.name(), "router");
}

#[test]
fn build_errors_name_the_problem() {
    let e = Router::builder().build().expect_err("no experts");
    assert_eq!(e.to_string(), "router: no experts configured");
    let e = Router::builder()
        .expert(Expert::new(scripted("a"), "m"))
        .expert(Expert::new(scripted("a"), "m"))
        .build()
        .expect_err("duplicate");
    assert!(e.to_string().contains("two experts have the id `a/m`"));
    let e = Router::builder()
        .expert(Expert::new(scripted("a"), "m"))
        .policy(
            "code",
            TaskPolicy::new(Strategy::Static {
                order: vec!["zz".into()],
            }),
        )
        .build()
        .expect_err("unknown");
    assert_eq!(e.to_string(), "router: task `code`: `order` names unknown expert `zz`");
    let e = Router::builder()
        .expert(Expert::new(scripted("a"), "m"))
        .policy(
            "code",
            TaskPolicy::new(Strategy::Thompson {
                decay: 1.5,
                prior_alpha: 1.0,
                prior_beta: 1.0,
            }),
        )
        .build()
        .expect_err("decay");
    assert!(e.to_string().contains("decay must be in (0, 1]"));
}

#[tokio::test]
async fn streamed_calls_skip_experts_that_cannot_stream() {
    let no_stream = ProviderCapabilities {
        streaming: false,
        ..ProviderCapabilities::default()
    };
    let a = Arc::new(ScriptedProvider::new("a").with_text("from a").with_text("from a again"));
    let b = Arc::new(ScriptedProvider::new("b").with_text("from b"));
    let router = Router::builder()
        .expert(
            Expert::new(a.clone(), "m")
                .with_capabilities(no_stream)
                .with_priority(0),
        )
        .expert(Expert::new(b.clone(), "m").with_priority(1))
        .default_policy(TaskPolicy::new(Strategy::Static { order: vec![] }))
        .seed(1)
        .build()
        .expect("router");
    let req = ask("hi", "chat");
    let ctx = CallContext::new("r");
    assert_eq!(router.chat(&req, &ctx).await.expect("a").text(), "from a");
    let mut stream = router.chat_stream(&req, &ctx).await.expect("b streams");
    let mut acc = toolplane_core::StreamAccumulator::new("router", "m");
    while let Some(ev) = futures_util::StreamExt::next(&mut stream).await {
        acc.push(&ev.expect("event"));
    }
    assert_eq!(acc.finish().expect("complete").text(), "from b");
    assert_eq!(a.remaining(), 1);
}

/// An expert that answers every request (no script to run out of) and counts
/// what it answered, so the test below does not depend on how the draws fall.
#[derive(Debug)]
struct Counting {
    name: String,
    answered: std::sync::atomic::AtomicUsize,
}

#[async_trait::async_trait]
impl ChatProvider for Counting {
    fn name(&self) -> &str {
        &self.name
    }

    async fn chat(
        &self,
        _request: &ChatRequest,
        _ctx: &CallContext,
    ) -> Result<toolplane_core::ChatResponse, toolplane_core::ProviderError> {
        self.answered.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Ok(toolplane_core::ChatResponse::new(
            self.name.clone(),
            "m",
            Message::assistant("ok"),
            toolplane_core::StopReason::EndTurn,
        ))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_calls_and_feedback_from_many_tasks() {
    // Thompson sampling decides how the 800 calls spread over the experts, and
    // thread timing decides the order of draws and feedback: neither is asserted.
    // What must hold whatever the draws: each call answered exactly once, by one
    // expert, and every feedback accepted.
    let experts: Vec<Arc<Counting>> = (0..4)
        .map(|i| {
            Arc::new(Counting {
                name: format!("p{i}"),
                answered: std::sync::atomic::AtomicUsize::new(0),
            })
        })
        .collect();
    let mut b = Router::builder()
        .policy("chat", TaskPolicy::new(Strategy::thompson()))
        .seed(9);
    for e in &experts {
        b = b.expert(Expert::new(e.clone(), "m"));
    }
    let router = b.build().expect("router");
    let mut handles = Vec::new();
    for t in 0..8 {
        let router = router.clone();
        handles.push(tokio::spawn(async move {
            let mut accepted = 0;
            for i in 0..100 {
                let id = format!("t{t}-{i}");
                router
                    .chat(&ask("hi", "chat"), &CallContext::new(id.clone()))
                    .await
                    .expect("answered");
                let verdict = if i % 2 == 0 { Verdict::Win } else { Verdict::Loss };
                if router.feedback(&Feedback {
                    request_id: id,
                    verdict,
                }) {
                    accepted += 1;
                }
            }
            accepted
        }));
    }
    let mut accepted = 0;
    for h in handles {
        accepted += h.await.expect("task");
    }
    assert_eq!(accepted, 800, "every feedback accepted");
    let answered: usize = experts
        .iter()
        .map(|e| e.answered.load(std::sync::atomic::Ordering::SeqCst))
        .sum();
    assert_eq!(answered, 800, "every call answered exactly once");
}

#[tokio::test]
async fn a_request_no_expert_can_ever_take_is_the_callers_error_not_an_outage() {
    let router = Router::builder()
        .expert(Expert::new(scripted("short"), "c").with_max_context_tokens(1_000))
        .expert(Expert::new(scripted("mid"), "m").with_max_context_tokens(8_000))
        .seed(3)
        .build()
        .expect("router");
    // Too long for every expert: retrying cannot help, so it is not `NoProvider` (a 503).
    let mut req = ask("hello", "chat");
    req.max_tokens = Some(u32::MAX);
    let e = router.chat(&req, &CallContext::new("r")).await.expect_err("too long");
    assert_eq!(e.kind(), toolplane_core::ProviderErrorKind::ContextTooLong);
    assert!(e.message().contains("context window is 8000"), "{}", e.message());

    // Tools nobody takes, and too long for the one that would: still the request's fault.
    let no_tools = ProviderCapabilities {
        tools: false,
        ..ProviderCapabilities::default()
    };
    let router = Router::builder()
        .expert(Expert::new(scripted("plain"), "p").with_capabilities(no_tools))
        .expert(Expert::new(scripted("short"), "c").with_max_context_tokens(1_000))
        .seed(3)
        .build()
        .expect("router");
    let req = ask(&"word ".repeat(2_000), "code").with_tools(vec![ToolSpec::new("run", "Runs code.")]);
    let e = router.chat(&req, &CallContext::new("r")).await.expect_err("no fit");
    assert_eq!(e.kind(), toolplane_core::ProviderErrorKind::InvalidRequest);
}
