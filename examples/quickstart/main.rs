//! The toolplane quickstart: `cargo run --example quickstart`.
//!
//! Offline and without keys it:
//! 1. serves a small Tasks API (`examples/data/tasks-api.yaml`) on 127.0.0.1;
//! 2. converts that OpenAPI description into tools that call it over HTTP;
//! 3. puts them in a registry behind a validating executor with permissions,
//!    a rate limit and a tamper-evident audit log (a file sink with fsync);
//! 4. routes the model calls through the mixture-of-experts router, with
//!    metrics recorded for every call and a token budget per principal;
//! 5. runs the tool-calling loop twice: a plain request, and one that needs a
//!    human's approval (the run pauses, is approved, and resumes);
//! 6. prints the tool calls, the answers, the router's reasons, a metrics
//!    table, and the audit log verified from disk.
//!
//! With `OPENAI_API_KEY` or `ANTHROPIC_API_KEY` set, the router's experts are
//! the real providers instead of the scripted ones.

mod demo_model;
mod tasks_server;

use std::collections::HashMap;
use std::error::Error;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use toolplane::core::{
    CallContext, ChatInterceptor, ChatNext, ChatProvider, ChatRequest, ChatResponse, InterceptedProvider, Message,
    Principal, ProviderError,
};
use toolplane::metrics::{
    MetricsConfig, MetricsInterceptor, MetricsQuery, ModelPrice, PricingTable, ProviderMetricsCollector, SystemClock,
};
use toolplane::openapi::http::{HttpConfig, Secret, http_tools};
use toolplane::openapi::{ConvertOptions, Converter, OpenApiSpec};
use toolplane::pipeline::{AgentLoop, ApprovalDecision, LoopConfig, RunEvent, RunOutcome, RunState};
use toolplane::registry::{Executor, ToolRegistry, builtin};
use toolplane::router::{Expert, Router, Strategy, TaskPolicy};
use toolplane::security::audit::{AuditInterceptor, FileSink, FileSinkOptions, verify_dir};
use toolplane::security::limits::{
    BudgetInterceptor, BudgetRule, LocalBudget, LocalRateLimiter, Period, RateLimitInterceptor, RateQuota,
};
use toolplane::security::policy::{Layer, PolicyStore};
use toolplane::security::{ApprovalStore, PermissionInterceptor};

use demo_model::DemoModel;

/// Who may do what: reads and creates for members, deletes only with a human's approval.
const POLICY: &str = r#"
[[rule]]
id = "members-read-and-write"
effect = "allow"
roles = ["member"]
tools = ["listTasks", "getTask", "getProjectSummary", "createTask", "updateTask", "current_time"]

[[rule]]
id = "deletes-need-a-human"
effect = "ask"
roles = ["member"]
tools = ["deleteTask"]
allow_destructive = true
"#;

/// Made-up prices (USD per million input and output tokens) for the scripted experts.
const SCRIPTED_PRICES: [(&str, &str, f64, f64); 2] = [
    ("scripted-fast", "fast-mini", 0.15, 0.60),
    ("scripted-careful", "careful-large", 2.50, 10.0),
];

fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/data")
}

/// Prints what the router would decide for each call, before it is dispatched.
#[derive(Debug)]
struct ExplainEachCall {
    router: Arc<Router>,
    log: Mutex<Vec<String>>,
}

#[async_trait]
impl ChatInterceptor for ExplainEachCall {
    async fn chat(
        &self,
        request: &ChatRequest,
        ctx: &CallContext,
        next: ChatNext<'_>,
    ) -> Result<ChatResponse, ProviderError> {
        let decision = self.router.explain(request);
        let result = next.chat(request, ctx).await;
        let answered = match &result {
            Ok(r) => format!("answered by {} / {}", r.provider, r.model),
            Err(e) => format!("failed: {e}"),
        };
        if let Ok(mut log) = self.log.lock() {
            log.push(format!("{decision}=> {answered}"));
        }
        result
    }
}

/// The router's experts, each measured by the metrics interceptor: real
/// providers when keys are set, scripted ones otherwise.
fn experts(metrics: &Arc<ProviderMetricsCollector>) -> Result<(Vec<Expert>, bool), Box<dyn Error>> {
    let measured = |p: Arc<dyn ChatProvider>| -> Arc<dyn ChatProvider> {
        Arc::new(InterceptedProvider::new(
            p,
            vec![Arc::new(MetricsInterceptor::new(metrics.clone()))],
        ))
    };
    let mut experts = Vec::new();
    if std::env::var_os("OPENAI_API_KEY").is_some() {
        let p = toolplane::providers::provider_from_name("openai", "gpt-4o-mini", None)?;
        experts.push(Expert::new(measured(p), "gpt-4o-mini").with_pricing(0.00015, 0.0006));
    }
    if std::env::var_os("ANTHROPIC_API_KEY").is_some() {
        let p = toolplane::providers::provider_from_name("anthropic", "claude-haiku-4-5", None)?;
        experts.push(Expert::new(measured(p), "claude-haiku-4-5").with_pricing(0.001, 0.005));
    }
    if !experts.is_empty() {
        return Ok((experts, true));
    }
    // The fast one answers "529 overloaded" every 4th call, to show a fallback.
    let fast = Arc::new(DemoModel::new("scripted-fast", Duration::from_millis(15)).failing_every(4));
    let careful = Arc::new(DemoModel::new("scripted-careful", Duration::from_millis(40)));
    let mut experts = Vec::new();
    for (provider, (p, model, input, output)) in [fast, careful].into_iter().zip(SCRIPTED_PRICES) {
        debug_assert_eq!(provider.name(), p);
        experts.push(Expert::new(measured(provider), model).with_pricing(input / 1000.0, output / 1000.0));
    }
    Ok((experts, false))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    // 1. The API the tools will call, on an ephemeral loopback port.
    let addr = tasks_server::serve().await?;
    println!("Tasks API listening on http://{addr}/v1\n");

    // 2. OpenAPI description -> tools that execute over HTTP.
    let spec = OpenApiSpec::from_path(data_dir().join("tasks-api.yaml"))?;
    let conversion = Converter::new(ConvertOptions::default()).convert(&spec);
    println!("Converted {} operations into tools:", conversion.tools.len());
    for t in &conversion.tools {
        println!(
            "  {:<20} {} {}",
            t.spec.name,
            t.binding.method.as_str(),
            t.binding.path_template
        );
    }
    let http = HttpConfig::new()
        .with_base_url(format!("http://{addr}/v1"))
        .with_secret("bearerAuth", Secret::new(tasks_server::TOKEN));
    let mut registry = ToolRegistry::new();
    registry.register_all(http_tools(conversion.tools, http)?)?;
    registry.register_all(
        builtin::builtin_tools()
            .into_iter()
            .filter(|t| t.spec().name == "current_time"),
    )?;

    // 3. Permissions, a rate limit and the audit log around every tool call.
    let policy = Arc::new(PolicyStore::new());
    policy.load_str(Layer::Project, "quickstart-policy.toml", POLICY)?;
    let approvals = Arc::new(ApprovalStore::new());
    let audit_dir = std::env::temp_dir().join(format!("toolplane-quickstart-audit-{}", std::process::id()));
    let audit = Arc::new(FileSink::open(&audit_dir, FileSinkOptions::default())?);
    let limiter = LocalRateLimiter::new(RateQuota::per_minute(60), 100_000).ok_or("rate quota")?;
    let executor = Executor::builder(registry)
        .interceptor(Arc::new(AuditInterceptor::new(audit.clone())))
        .interceptor(Arc::new(PermissionInterceptor::new(policy, approvals.clone())))
        .interceptor(Arc::new(RateLimitInterceptor::new(Arc::new(limiter))))
        .build()?;

    // 4. Metrics on every expert call, the router over the experts, a token budget in front.
    let mut prices = PricingTable::builtin();
    for (provider, model, input, output) in SCRIPTED_PRICES {
        prices.insert(provider, model, ModelPrice::per_million(input, output))?;
    }
    let metrics = Arc::new(ProviderMetricsCollector::with_parts(
        MetricsConfig::default(),
        prices,
        Arc::new(SystemClock),
    ));
    let (experts, real) = experts(&metrics)?;
    if real {
        println!("Using real providers (API keys found).\n");
    } else {
        println!("No OPENAI_API_KEY or ANTHROPIC_API_KEY: using two SCRIPTED experts (not real models).\n");
    }
    let mut builder = Router::builder()
        .stats_source(metrics.clone())
        .default_policy(TaskPolicy::new(Strategy::Weighted {
            weights: Default::default(),
        }))
        .seed(7);
    for e in experts {
        builder = builder.expert(e);
    }
    let router = Arc::new(builder.build()?);
    let explain = Arc::new(ExplainEachCall {
        router: router.clone(),
        log: Mutex::new(Vec::new()),
    });
    let budget = LocalBudget::new(vec![BudgetRule::tokens_per_principal(Period::Day, 200_000)]);
    let provider = Arc::new(InterceptedProvider::new(
        router.clone(),
        vec![explain.clone(), Arc::new(BudgetInterceptor::new(Arc::new(budget)))],
    ));

    // 5. The tool-calling loop, printing tool calls as they happen.
    let (events_tx, mut events_rx) = tokio::sync::mpsc::unbounded_channel();
    let printer = tokio::spawn(async move {
        while let Some(event) = events_rx.recv().await {
            match event {
                RunEvent::ToolCallStarted { call, .. } => println!("  -> {}({})", call.name, call.arguments),
                RunEvent::ToolCallFinished {
                    name,
                    outcome,
                    duration_us,
                    ..
                } => {
                    println!("  <- {name}: {outcome} ({:.1} ms)", duration_us as f64 / 1000.0)
                }
                _ => {}
            }
        }
    });
    let agent = AgentLoop::new(provider, Arc::new(executor))
        .with_config(LoopConfig {
            max_steps: 8,
            ..Default::default()
        })
        .with_events(Arc::new(events_tx));
    let ada = Principal::new("ada").with_role("member");

    println!("Run 1: create a task, then report on the project");
    let request = ChatRequest::new(
        "",
        vec![Message::user(
            "Add a task 'Write the release notes' to project docs, then tell me where docs stands.",
        )],
    )
    .with_task_type("tool_use");
    let ctx = CallContext::new("run-1").with_principal(ada.clone());
    let first = agent.run(RunState::new("run-1", request), &ctx).await?;
    println!("Answer: {}\n", first.answer().unwrap_or_default());

    println!("Run 2: a delete, which the policy holds for a human");
    let request =
        ChatRequest::new("", vec![Message::user("Delete task 1, it was a mistake.")]).with_task_type("tool_use");
    let ctx = CallContext::new("run-2").with_principal(ada.clone());
    let paused = agent.run(RunState::new("run-2", request), &ctx).await?;
    let mut result = paused;
    if let RunOutcome::NeedsApproval(pending) = &result.outcome {
        let mut decisions = HashMap::new();
        for p in pending {
            let request = p
                .request
                .as_ref()
                .and_then(|d| d.get("approval"))
                .ok_or("no approval request")?;
            let id = request["id"].as_str().ok_or("approval request without an id")?;
            println!("  paused: {} needs approval ({})", p.call.name, p.message);
            // A real host asks a person here; the state is serializable and can wait.
            let saved = result.state.to_json()?;
            let token = approvals.approve(id, Duration::from_secs(300))?;
            println!(
                "  approved by a human; resuming from {} bytes of saved state",
                saved.len()
            );
            decisions.insert(p.call.id.clone(), ApprovalDecision::Approve { token });
        }
        result = agent.resume(result.state, &decisions, &ctx).await?;
    }
    println!("Answer: {}\n", result.answer().unwrap_or_default());

    // 6. What happened.
    drop(agent);
    let _ = printer.await;
    println!(
        "Router decisions ({}):",
        explain.log.lock().map(|l| l.len()).unwrap_or(0)
    );
    if let Ok(log) = explain.log.lock() {
        for (i, d) in log.iter().enumerate() {
            println!("--- call {} ---\n{d}", i + 1);
        }
    }
    let report = metrics.snapshot(&MetricsQuery::last(Duration::from_secs(3600)))?;
    println!("\nMetrics:\n{report}");

    audit.close();
    let verified = verify_dir(&audit_dir)?;
    println!("Audit log {}: {verified}", audit_dir.display());
    Ok(())
}
