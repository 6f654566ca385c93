//! The task type the router resolves reaches the experts and the
//! interceptors around them, so the metrics it reads back fill per task
//! type; explanations agree with dispatch on where the task type comes
//! from; figures that make no sense never become NaN scores; scores never
//! print as `-0`.
// The context's task type is deprecated; these tests check it is still honoured.
#![allow(deprecated)]

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use toolplane_core::{
    CallContext, ChatProvider, ChatRequest, ChatResponse, ExpertKey, ExpertStats, Feedback, InterceptedProvider,
    Message, Price, ProviderCapabilities, ProviderError, StaticStats, StopReason, Usage, Verdict,
};
use toolplane_metrics::{MetricsInterceptor, ProviderMetricsCollector};
use toolplane_router::{Expert, KeywordClassifier, Router, Strategy, TaskClassifier, TaskPolicy, TaskSource, Weights};

/// An expert that always answers, keeping the task types its calls carried
/// (the request's, the context's).
#[derive(Debug)]
struct Answers {
    name: String,
    seen: Mutex<Vec<(Option<String>, Option<String>)>>,
}

impl Answers {
    fn new(name: &str) -> Arc<Self> {
        Arc::new(Self {
            name: name.to_owned(),
            seen: Mutex::new(Vec::new()),
        })
    }

    fn seen(&self) -> Vec<(Option<String>, Option<String>)> {
        self.seen.lock().expect("lock").clone()
    }
}

#[async_trait]
impl ChatProvider for Answers {
    fn name(&self) -> &str {
        &self.name
    }

    fn capabilities(&self) -> ProviderCapabilities {
        ProviderCapabilities {
            tools: true,
            streaming: true,
            ..ProviderCapabilities::default()
        }
    }

    async fn chat(&self, request: &ChatRequest, ctx: &CallContext) -> Result<ChatResponse, ProviderError> {
        self.seen
            .lock()
            .expect("lock")
            .push((request.metadata.task_type.clone(), ctx.task_type.clone()));
        Ok(ChatResponse::new(
            self.name.clone(),
            request.model.clone(),
            Message::assistant("ok"),
            StopReason::EndTurn,
        )
        .with_usage(Usage {
            input_tokens: 20,
            output_tokens: 10,
            ..Usage::default()
        }))
    }
}

const CODE: &str = "Why does this Rust function not compile?";
const MATH: &str = "Solve the equation 3x + 5 = 20 and prove the answer";

fn ask(text: &str) -> ChatRequest {
    ChatRequest::new("", vec![Message::user(text)])
}

/// Only the classifier knows the task type: the experts and the metrics
/// interceptor around each see it, the collector's per-task figures fill,
/// and after feedback the router's per-task figures and choices differ by
/// task type.
#[tokio::test]
async fn the_classified_task_type_closes_the_loop_through_the_metrics() {
    let classifier = KeywordClassifier::default();
    assert_eq!(classifier.classify(&ask(CODE)), "code");
    assert_eq!(classifier.classify(&ask(MATH)), "math");

    let metrics = Arc::new(ProviderMetricsCollector::new());
    let measured = |p: Arc<Answers>| -> Arc<dyn ChatProvider> {
        Arc::new(InterceptedProvider::new(
            p,
            vec![Arc::new(MetricsInterceptor::new(Arc::clone(&metrics)))],
        ))
    };
    let (alpha, beta) = (Answers::new("alpha"), Answers::new("beta"));
    // Win rate only, so the choice follows the per-task win rates alone.
    let by_wins = TaskPolicy::new(Strategy::Weighted {
        weights: Weights {
            latency: 0.0,
            success: 0.0,
            cost: 0.0,
            win_rate: 1.0,
        },
    });
    let router = Router::builder()
        .expert(Expert::new(measured(Arc::clone(&alpha)), "m"))
        .expert(Expert::new(measured(Arc::clone(&beta)), "m"))
        .policy("code", by_wins.clone())
        .policy("math", by_wins)
        .stats_source(metrics.clone())
        .seed(3)
        .build()
        .expect("router");
    // Nothing known yet: a tie, declaration order, alpha for both.
    assert_eq!(router.route(&ask(CODE)).first(), Some(0));
    assert_eq!(router.route(&ask(MATH)).first(), Some(0));

    for i in 0..20 {
        for (prompt, task) in [(CODE, "code"), (MATH, "math")] {
            let id = format!("{task}-{i}");
            let answer = router.chat(&ask(prompt), &CallContext::new(id)).await.expect("answer");
            assert_eq!(answer.provider, "alpha");
        }
    }
    // What alpha (and the interceptor around it) saw: the classified task
    // type, on the request (its home); the caller's context is passed as is.
    let seen = alpha.seen();
    assert_eq!(seen.len(), 40);
    for (i, (on_request, on_ctx)) in seen.iter().enumerate() {
        let want = if i % 2 == 0 { "code" } else { "math" };
        assert_eq!(on_request.as_deref(), Some(want), "call {i}");
        assert_eq!(on_ctx.as_deref(), None, "call {i}");
    }

    // Judges prefer alpha's math and reject its code.
    for i in 0..20 {
        for (task, verdict) in [("code", Verdict::Loss), ("math", Verdict::Win)] {
            let fb = Feedback {
                request_id: format!("{task}-{i}"),
                verdict,
            };
            metrics.feedback(&fb).expect("the metrics know the call");
            assert!(router.feedback(&fb), "the router knows the call");
        }
    }
    metrics.refresh_expert_stats();
    let key = ExpertKey::new("alpha", "m");
    let code = metrics
        .expert_stats_for(&key, Some("code"))
        .expect("per-task figures for code");
    let math = metrics
        .expert_stats_for(&key, Some("math"))
        .expect("per-task figures for math");
    assert_eq!((code.calls, code.wins, code.judged), (20, 0, 20));
    assert_eq!((math.calls, math.wins, math.judged), (20, 20, 20));

    router.refresh_stats();
    let d = router.explain(&ask(CODE));
    assert_eq!((d.task_type.as_str(), d.task_source), ("code", TaskSource::Classifier));
    let alpha_code = d.candidates.iter().find(|c| c.expert == "alpha/m").expect("alpha");
    assert!(alpha_code.figures.contains(&("win_rate".to_owned(), 0.0)), "{d}");
    // The choices now differ by task type.
    assert_eq!(d.chosen.as_deref(), Some("beta/m"), "{d}");
    assert_eq!(router.route(&ask(CODE)).first(), Some(1));
    assert_eq!(router.route(&ask(MATH)).first(), Some(0));
    let answer = router
        .chat(&ask(CODE), &CallContext::new("code-next"))
        .await
        .expect("answer");
    assert_eq!(answer.provider, "beta");
    assert_eq!(beta.seen(), vec![(Some("code".to_owned()), None)]);
}

/// A task type the caller gives is passed on as given, and never replaced.
#[tokio::test]
async fn a_given_task_type_is_passed_on_unchanged() {
    let a = Answers::new("a");
    let router = Router::builder()
        .expert(Expert::new(Arc::clone(&a) as Arc<dyn ChatProvider>, "m"))
        .build()
        .expect("router");
    router
        .chat(&ask(CODE).with_task_type("review"), &CallContext::new("1"))
        .await
        .expect("answer");
    router
        .chat(&ask(CODE), &CallContext::new("2").with_task_type("triage"))
        .await
        .expect("answer");
    assert_eq!(
        a.seen(),
        vec![
            (Some("review".to_owned()), None),
            (Some("triage".to_owned()), Some("triage".to_owned()))
        ]
    );
}

fn two_experts(stats: Option<Arc<StaticStats>>, strategy: Strategy) -> Router {
    let mut b = Router::builder()
        .expert(Expert::new(Answers::new("a"), "m").with_price(Price::per_million(0.0, 0.0)))
        .expert(Expert::new(Answers::new("b"), "m").with_price(Price::per_million(0.1, 0.2)))
        .default_policy(TaskPolicy::new(strategy.clone()))
        .policy("code", TaskPolicy::new(strategy))
        .policy("math", TaskPolicy::new(Strategy::Static { order: vec![] }))
        .seed(1);
    if let Some(s) = stats {
        b = b.stats_source(s);
    }
    b.build().expect("router")
}

/// `explain` and `explain_with_context` find the task type where dispatch does.
#[test]
fn explain_honours_the_task_type_of_the_context() {
    let router = two_experts(None, Strategy::default());
    let req = ask("hello there");
    let plain = router.explain(&req);
    assert_eq!(plain.task_source, TaskSource::Classifier);
    let d = router.explain_with_context(&req, &CallContext::new("r").with_task_type("math"));
    assert_eq!((d.task_type.as_str(), d.task_source), ("math", TaskSource::Context));
    assert_eq!(d.policy, "math");
    assert_eq!(d.strategy, "static (by priority)");
    // The request's own task type still comes first, as in dispatch.
    let d = router.explain_with_context(
        &req.clone().with_task_type("code"),
        &CallContext::new("r").with_task_type("math"),
    );
    assert_eq!((d.task_type.as_str(), d.task_source), ("code", TaskSource::Metadata));
    // A task type without a slot keeps its name and uses the default policy.
    let d = router.explain_with_context(&req, &CallContext::new("r").with_task_type("poetry"));
    assert_eq!((d.task_type.as_str(), d.policy.as_str()), ("poetry", "default"));
}

/// Zero scores print as 0, never as `-0.0000`, in text and in JSON.
#[test]
fn scores_never_print_as_negative_zero() {
    let router = two_experts(None, Strategy::Static { order: vec![] });
    let d = router.explain_for("code", &ask("x"));
    assert_eq!(d.candidates[0].score, 0.0);
    assert!(d.candidates[0].score.is_sign_positive());
    let text = d.to_string();
    assert!(!text.contains("-0.0000") && !text.contains(" -0 "), "{text}");
    let json = serde_json::to_string(&d).expect("json");
    assert!(!json.contains("-0.0"), "{json}");
    // Figures below 0.001 print with their digits instead of as 0.0000.
    let d = two_experts(None, Strategy::default()).explain_for("code", &ask("x"));
    let text = d.to_string();
    assert!(text.contains("cost_per_1k 1.25e-4"), "{text}");
    assert!(text.contains("cost_per_1k 0,"), "{text}");
}

/// A stats source that answers NaN, infinite or impossible figures: the
/// expert's figures count as unknown, every score is a number, and explain
/// says what was ignored.
#[test]
fn nonsense_from_the_stats_source_never_becomes_a_nan_score() {
    let stats = Arc::new(StaticStats::default());
    stats.set(
        ExpertKey::new("a", "m"),
        None,
        ExpertStats {
            latency_p95_ms: Some(f64::INFINITY),
            success_rate: Some(f64::NAN),
            cost_per_1k_tokens: Some(-3.0),
            wins: 12,
            judged: 4,
            ..ExpertStats::default()
        },
    );
    stats.set(
        ExpertKey::new("b", "m"),
        None,
        ExpertStats {
            latency_p95_ms: Some(900.0),
            success_rate: Some(0.99),
            wins: 3,
            judged: 4,
            ..ExpertStats::default()
        },
    );
    for strategy in [
        Strategy::default(),
        Strategy::Cheapest {
            quality_floor: 0.5,
            quality: Default::default(),
        },
        Strategy::LeastLatency,
    ] {
        let router = two_experts(Some(Arc::clone(&stats)), strategy.clone());
        let d = router.explain_for("code", &ask("x"));
        assert_eq!(d.candidates.len(), 2, "{d}");
        for c in &d.candidates {
            assert!(c.score.is_finite(), "{strategy}: {d}");
            assert!(c.figures.iter().all(|(_, v)| v.is_finite()), "{strategy}: {d}");
        }
        let a = d.candidates.iter().find(|c| c.expert == "a/m").expect("a");
        assert_eq!(a.notes.len(), 4, "{d}");
        assert!(a.notes[0].contains("latency_p95_ms"), "{d}");
        assert!(
            d.to_string()
                .contains("note: the stats source gave a win_rate that makes no sense")
        );
        let b = d.candidates.iter().find(|c| c.expert == "b/m").expect("b");
        assert!(b.notes.is_empty());
        assert!(router.route(&ask("x").with_task_type("code")).first().is_some());
    }
    // Weighted: a's unknown figures score 0.5 each; b's known ones win.
    let d = two_experts(Some(stats), Strategy::default()).explain_for("code", &ask("x"));
    assert_eq!(d.chosen.as_deref(), Some("b/m"), "{d}");
    let a = d.candidates.iter().find(|c| c.expert == "a/m").expect("a");
    assert!(
        !a.figures
            .iter()
            .any(|(k, _)| k == "latency_p95_ms" || k == "success_rate")
    );
}
