//! The quickstart's assembly: every toolplane piece wired together once, so
//! the example (`main.rs`) and the end-to-end test use the same stack.

use std::error::Error;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use toolplane::metrics::{MetricsConfig, MetricsInterceptor, PricingTable, ProviderMetricsCollector, SystemClock};
use toolplane::openapi::http::{HttpConfig, Secret, http_tools};
use toolplane::openapi::{ConvertOptions, Converter, OpenApiSpec};
use toolplane::pipeline::{AgentLoop, EventSink, LoopConfig};
use toolplane::registry::{Executor, ToolRegistry, builtin};
use toolplane::router::{Expert, Router, Strategy, TaskPolicy};
use toolplane::security::audit::{AuditInterceptor, FileSink, FileSinkOptions};
use toolplane::security::limits::{
    BudgetInterceptor, BudgetRule, LocalBudget, LocalRateLimiter, Period, RateLimitInterceptor, RateQuota,
};
use toolplane::security::policy::{Layer, PolicyStore};
use toolplane::security::{ApprovalStore, PermissionInterceptor};
use toolplane::vocab::{ChatProvider, InterceptedProvider};

use crate::demo_model::DemoModel;
use crate::tasks_server;

/// Who may do what: reads and creates for members, deletes only with a human's approval.
pub(crate) const POLICY: &str = r#"
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

pub(crate) fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/data")
}

/// The router's experts, each measured by the metrics interceptor: real
/// providers when keys are set, scripted ones otherwise.
pub(crate) fn experts(
    metrics: &Arc<ProviderMetricsCollector>,
    allow_real: bool,
) -> Result<(Vec<Expert>, bool), Box<dyn Error>> {
    let measured = |p: Arc<dyn ChatProvider>| -> Arc<dyn ChatProvider> {
        Arc::new(InterceptedProvider::new(
            p,
            vec![Arc::new(MetricsInterceptor::new(metrics.clone()))],
        ))
    };
    let mut experts = Vec::new();
    if allow_real && has_key("OPENAI_API_KEY") {
        let p = toolplane::providers::provider_from_name("openai", "gpt-4o-mini", None)?;
        experts.push(Expert::new(measured(p), "gpt-4o-mini"));
    }
    if allow_real && has_key("ANTHROPIC_API_KEY") {
        let p = toolplane::providers::provider_from_name("anthropic", "claude-haiku-4-5", None)?;
        experts.push(Expert::new(measured(p), "claude-haiku-4-5"));
    }
    if !experts.is_empty() {
        return Ok((experts, true));
    }
    // The fast one answers "529 overloaded" every 4th call, to show a fallback.
    let fast = Arc::new(DemoModel::new("scripted-fast", Duration::from_millis(15)).failing_every(4));
    let careful = Arc::new(DemoModel::new("scripted-careful", Duration::from_millis(40)));
    let mut experts = Vec::new();
    // Their prices come from the metrics collector's table (`metrics_collector`), like the real ones'.
    for (provider, (p, model, _, _)) in [fast, careful].into_iter().zip(SCRIPTED_PRICES) {
        debug_assert_eq!(provider.name(), p);
        experts.push(Expert::new(measured(provider), model));
    }
    Ok((experts, false))
}

/// Everything the quickstart built, for printing or for a test to inspect.
#[derive(Debug)]
pub(crate) struct Stack {
    pub(crate) tool_names: Vec<(String, String, String)>,
    pub(crate) agent: AgentLoop,
    pub(crate) executor: Executor,
    pub(crate) approvals: Arc<ApprovalStore>,
    pub(crate) audit: Arc<FileSink>,
    pub(crate) metrics: Arc<ProviderMetricsCollector>,
    pub(crate) router: Arc<Router>,
    pub(crate) real_providers: bool,
}

/// Builds the stack against the Tasks API at `addr`, auditing into `audit_dir`.
pub(crate) fn build(
    addr: SocketAddr,
    audit_dir: &Path,
    experts: (Vec<Expert>, bool),
    metrics: Arc<ProviderMetricsCollector>,
    events: Option<Arc<dyn EventSink>>,
) -> Result<Stack, Box<dyn Error>> {
    // OpenAPI description -> tools that execute over HTTP.
    let spec = OpenApiSpec::from_path(data_dir().join("tasks-api.yaml"))?;
    let conversion = Converter::new(ConvertOptions::default()).convert(&spec);
    let tool_names = conversion
        .tools
        .iter()
        .map(|t| {
            (
                t.spec.name.clone(),
                t.binding.method.as_str().to_owned(),
                t.binding.path_template.clone(),
            )
        })
        .collect();
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

    // Permissions, a rate limit and the audit log around every tool call.
    let policy = Arc::new(PolicyStore::new());
    policy.load_str(Layer::Project, "quickstart-policy.toml", POLICY)?;
    let approvals = Arc::new(ApprovalStore::new());
    let audit = Arc::new(FileSink::open(audit_dir, FileSinkOptions::default())?);
    let limiter = LocalRateLimiter::new(RateQuota::per_minute(60), 100_000).ok_or("rate quota")?;
    let executor = Executor::builder(registry)
        .interceptor(Arc::new(AuditInterceptor::new(audit.clone())))
        .interceptor(Arc::new(PermissionInterceptor::new(policy, approvals.clone())))
        .interceptor(Arc::new(RateLimitInterceptor::new(Arc::new(limiter))))
        .build()?;

    // The router over the (measured) experts, keeping a log of its dispatches, behind a token budget.
    let (experts, real_providers) = experts;
    // One price book for the router, the loop and the metrics: the collector's table.
    let mut builder = Router::builder()
        .stats_source(metrics.clone())
        .prices(metrics.price_book())
        .default_policy(TaskPolicy::new(Strategy::Weighted {
            weights: Default::default(),
        }))
        .dispatch_log(64)
        .seed(7);
    for e in experts {
        builder = builder.expert(e);
    }
    let router = Arc::new(builder.build()?);
    let budget = LocalBudget::new(vec![BudgetRule::tokens_per_principal(Period::Day, 200_000)]);
    let provider = Arc::new(InterceptedProvider::new(
        router.clone(),
        vec![Arc::new(BudgetInterceptor::new(Arc::new(budget)))],
    ));

    let mut agent = AgentLoop::new(provider, Arc::new(executor.clone()))
        .with_config(LoopConfig {
            max_steps: 8,
            ..Default::default()
        })
        .with_prices(metrics.price_book());
    if let Some(events) = events {
        agent = agent.with_events(events);
    }
    Ok(Stack {
        tool_names,
        agent,
        executor,
        approvals,
        audit,
        metrics,
        router,
        real_providers,
    })
}

/// A metrics collector that knows the scripted experts' made-up prices.
pub(crate) fn metrics_collector() -> Result<Arc<ProviderMetricsCollector>, Box<dyn Error>> {
    let mut prices = PricingTable::builtin();
    for (provider, model, input, output) in SCRIPTED_PRICES {
        prices.insert(provider, model, toolplane::vocab::Price::per_million(input, output))?;
    }
    Ok(Arc::new(ProviderMetricsCollector::with_parts(
        MetricsConfig::default(),
        prices,
        Arc::new(SystemClock),
    )))
}

/// A fresh folder for the audit log under the system's temporary folder.
pub(crate) fn audit_dir(label: &str) -> PathBuf {
    std::env::temp_dir().join(format!("toolplane-{label}-audit-{}", std::process::id()))
}

/// A key variable that is set and not blank: `OPENAI_API_KEY=` (or spaces)
/// means no key, as everywhere in toolplane.
pub(crate) fn has_key(var: &str) -> bool {
    std::env::var(var).is_ok_and(|k| !k.trim().is_empty())
}
