//! Assembling a [`Gateway`] from a [`ServerConfig`]: providers, router,
//! tools and executor, permissions, limits, audit log and metrics.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use toolplane_core::{ChatInterceptor, ChatProvider, InterceptedProvider, Principal, ProviderStatsSource};
use toolplane_metrics::{MetricsConfig, MetricsInterceptor, PricingTable, ProviderMetricsCollector, SystemClock};
use toolplane_openapi::http::{HttpConfig, Secret, http_tools};
use toolplane_openapi::{ConvertOptions, Converter, Filters, OpenApiSpec};
use toolplane_providers::{
    AnthropicProvider, CohereProvider, MistralProvider, OpenAiProvider, ProviderConfig, provider_from_name,
};
use toolplane_registry::{Executor, ToolRegistry, builtin};
use toolplane_router::Router;
use toolplane_security::audit::{AuditInterceptor, AuditSink, FileSink, FileSinkOptions};
use toolplane_security::limits::{
    Budget, BudgetInterceptor, BudgetRule, BudgetScope, LocalBudget, LocalRateLimiter, Period, RateLimit,
    RateLimitInterceptor, RateQuota,
};
use toolplane_security::policy::{Layer, PolicyStore};
use toolplane_security::{ApprovalStore, PermissionInterceptor};

use crate::config::{ConfigError, ExpertEntry, KeyEntry, Origin, ServerConfig};
use crate::demo::{self, ScriptedExpert};
use crate::integrations::{GithubInfo, LoadedApi};
use crate::keys::{KeyStore, generate_key, hash_key};
use crate::runs::RunStore;

/// `minute`, `hour`, `day`, `month`.
pub(crate) fn period(name: &str) -> Option<Period> {
    Some(match name {
        "minute" => Period::Minute,
        "hour" => Period::Hour,
        "day" => Period::Day,
        "month" => Period::Month,
        _ => return None,
    })
}

/// A model clients can name: an expert of the router.
#[derive(Debug, Clone)]
pub struct ExpertHandle {
    /// The id clients name it by.
    pub id: String,
    /// The provider's name.
    pub provider: String,
    /// The upstream model id.
    pub model: String,
    /// The expert's provider (measured, under the budget) behind the server's chat chain (rate limit).
    pub chat: Arc<dyn ChatProvider>,
}

/// Everything the HTTP layer serves, built once at start.
#[derive(Debug)]
pub struct Gateway {
    /// The router behind the chat chain (rate limit); `model` = `auto` or a task type. Each
    /// expert it calls is under the budget at that expert's price.
    pub routed: Arc<dyn ChatProvider>,
    /// The router itself (decisions, task types, experts).
    pub router: Arc<Router>,
    /// Experts by id.
    pub experts: Vec<ExpertHandle>,
    /// The validating executor with audit, permission and rate-limit interceptors.
    pub executor: Executor,
    /// The permission policy.
    pub policy: Arc<PolicyStore>,
    /// Pending approvals and issued tokens.
    pub approvals: Arc<ApprovalStore>,
    /// Direct tool calls held for an approver, and the decisions taken.
    pub tool_approvals: Arc<crate::tool_approvals::ToolApprovals>,
    /// The audit log.
    pub audit: Arc<FileSink>,
    /// Where the audit log lives.
    pub audit_dir: PathBuf,
    /// Provider metrics (Prometheus and JSON).
    pub metrics: Arc<ProviderMetricsCollector>,
    /// Accepted API keys.
    pub keys: KeyStore,
    /// Paused and finished server-side runs.
    pub runs: RunStore,
    /// Limits of the HTTP server.
    pub limits: HttpLimits,
    /// The Redis URL, when limits are shared.
    pub redis_url: Option<String>,
    /// True when every expert is scripted (the offline demo).
    pub scripted_only: bool,
    /// Providers, descriptions and switched-off tools of the integrations endpoints.
    pub(crate) integrations: crate::integrations::Integrations,
    /// The `[[tools.mcp]]` servers and their connections.
    pub(crate) mcp_servers: crate::integrations::mcp::McpServers,
}

/// Limits of the HTTP server.
#[derive(Debug, Clone, Copy)]
pub struct HttpLimits {
    /// Largest request body.
    pub max_body_bytes: usize,
    /// Requests served at once.
    pub max_concurrent_requests: usize,
    /// Grace period after SIGTERM.
    pub shutdown_grace: Duration,
}

/// Why the gateway could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// A configuration field is wrong.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// Something at run time failed (a port, a folder).
    #[error("{0}")]
    Io(String),
}

/// The environment variables of the vendors `toolplane serve` configures by
/// itself, with the model it uses for each.
pub const VENDOR_DEFAULTS: [(&str, &str, &str); 5] = [
    ("OPENAI_API_KEY", "openai", "gpt-4o-mini"),
    ("ANTHROPIC_API_KEY", "anthropic", "claude-haiku-4-5"),
    ("MISTRAL_API_KEY", "mistral", "mistral-small-latest"),
    ("CO_API_KEY", "cohere", "command-r7b-12-2024"),
    ("GROQ_API_KEY", "groq", "llama-3.1-8b-instant"),
];

fn env_set(var: &str) -> bool {
    std::env::var(var).is_ok_and(|v| !v.trim().is_empty())
}

/// The configuration `toolplane serve` uses without `--config`: providers
/// whose keys are set in the environment (blank counts as unset), or the two
/// scripted experts; the demo Tasks API and `current_time`; one fresh key.
/// Returns the configuration and the key in clear, to print once.
pub fn default_config(state_dir: PathBuf) -> (ServerConfig, String) {
    let mut cfg = ServerConfig {
        origin: Origin {
            file: "<embedded default>".into(),
            base_dir: state_dir.clone(),
        },
        ..Default::default()
    };
    for (var, provider, model) in VENDOR_DEFAULTS {
        if env_set(var) {
            cfg.experts.push(expert(provider, model));
        }
    }
    if cfg.experts.is_empty() {
        for (name, _, price) in demo::SCRIPTED_EXPERTS {
            let mut e = expert("scripted", name);
            e.id = Some(name.to_owned());
            e.price = Some(price);
            cfg.experts.push(e);
        }
    }
    cfg.tools.demo_tasks = true;
    cfg.tools.builtins = vec!["current_time".into()];
    cfg.security.audit_dir = Some(state_dir.join("audit").display().to_string());
    cfg.server.runs_dir = Some(state_dir.join("runs").display().to_string());
    cfg.server.state_dir = Some(state_dir.display().to_string());
    let key = generate_key();
    cfg.server.keys.push(KeyEntry {
        sha256: hash_key(&key),
        principal: "local-user".into(),
        roles: vec!["member".into(), "approver".into(), "admin".into()],
        team: None,
    });
    (cfg, key)
}

fn expert(provider: &str, model: &str) -> ExpertEntry {
    ExpertEntry {
        id: None,
        provider: provider.into(),
        model: model.into(),
        base_url: None,
        api_key_env: None,
        price: None,
        context_window: None,
        tools: None,
        streaming: None,
        priority: 0,
        budget_usd: None,
    }
}

impl Gateway {
    /// Builds everything `cfg` describes; `text` is the file's text, for error lines.
    ///
    /// # Errors
    /// A provider without its key, a description that does not load, a policy
    /// that does not parse, an audit folder that cannot be opened.
    pub async fn build(cfg: &ServerConfig, text: Option<&str>) -> Result<Self, BuildError> {
        let file = cfg.origin.file.clone();
        let err = |field: String, message: String| ConfigError {
            file: file.clone(),
            line: None,
            field: Some(field),
            message,
        };
        let router_cfg = cfg.router_config(text)?;

        // One price book for metrics, router, budgets and runs: built-in
        // prices, a LiteLLM file, and the experts' own prices. An expert
        // none of them prices stays unpriced (never free).
        let mut prices = PricingTable::builtin();
        if let Some(f) = &cfg.pricing.litellm_file {
            let table = PricingTable::from_litellm_file(&cfg.resolve(f))
                .map_err(|e| err("pricing.litellm_file".into(), e.to_string()))?;
            prices.merge(&table);
        }
        for (i, e) in cfg.experts.iter().enumerate() {
            if let Some(price) = e.price {
                prices
                    .insert(&provider_name(e), &e.model, price)
                    .map_err(|x| err(format!("experts[{i}].price"), x.to_string()))?;
            }
        }
        let metrics = Arc::new(ProviderMetricsCollector::with_parts(
            MetricsConfig::default(),
            prices,
            Arc::new(SystemClock),
        ));

        // Shared limits.
        let audit_dir = cfg.resolve(cfg.security.audit_dir.as_deref().unwrap_or(".toolplane/audit"));
        let audit = Arc::new(
            FileSink::open(&audit_dir, FileSinkOptions::default())
                .map_err(|e| err("security.audit_dir".into(), format!("{}: {e}", audit_dir.display())))?,
        );
        let (chat_rate, tool_rate, budget) = limits(cfg, &audit).map_err(|(f, m)| err(f, m))?;
        // The budget sits on each expert's provider, not in front of the
        // router: it reserves at the price of the expert actually called
        // (a route such as `auto` has no price of its own), and each of the
        // router's fallbacks is reserved and settled on its own. A refusal is
        // `QuotaExceeded`, which the router answers by trying the next expert
        // without counting it against this one's health.
        let budget_layer: Option<Arc<dyn ChatInterceptor>> = budget.map(|b| {
            Arc::new(
                BudgetInterceptor::new(b)
                    .with_prices(metrics.price_book())
                    .with_default_max_output(1024),
            ) as Arc<dyn ChatInterceptor>
        });

        // Providers, each measured, then under the budget (a refused call
        // never reaches the metrics as a provider call).
        let mut providers: BTreeMap<String, Arc<dyn ChatProvider>> = BTreeMap::new();
        for (i, e) in cfg.experts.iter().enumerate() {
            let p = make_provider(i, e).map_err(|(f, m)| err(f, m))?;
            let mut provider: Arc<dyn ChatProvider> = Arc::new(InterceptedProvider::new(
                p,
                vec![Arc::new(MetricsInterceptor::new(metrics.clone()))],
            ));
            if let Some(b) = &budget_layer {
                provider = Arc::new(InterceptedProvider::new(provider, vec![b.clone()]));
            }
            providers.insert(e.id(), provider);
        }
        let scripted_only = cfg.experts.iter().all(|e| e.provider == "scripted");
        let refresh = Duration::from_millis(cfg.server.stats_refresh_ms);
        let builder = router_cfg
            .builder(|e| providers.get(&e.id()).cloned())
            .map_err(|e| err(e.location.unwrap_or_default(), e.message))?
            .prices(metrics.price_book())
            .dispatch_log(256);
        let local: Arc<dyn ProviderStatsSource> = metrics.clone();
        // Replicas: verdicts and breaker openings go through Redis; figures stay local.
        #[cfg(feature = "redis")]
        let builder = if let Some(url) = cfg.security.redis_url.as_deref() {
            let shared = crate::shared_stats::RedisRouterStats::start(url, "toolplane:router", local, refresh)
                .map_err(|e| err("security.redis_url".into(), e.to_string()))?;
            builder.stats_source(shared.clone()).stats_sink(shared)
        } else {
            builder.stats_source(local)
        };
        #[cfg(not(feature = "redis"))]
        let builder = builder.stats_source(local);
        let router = Arc::new(builder.build().map_err(|e| err("router".into(), e.to_string()))?);
        spawn_stats_refresh(&router, refresh);

        // The chat chain in front of the router and of each named expert:
        // the rate limit per principal, once per request (the budget is on
        // the experts' providers above).
        let mut chain: Vec<Arc<dyn ChatInterceptor>> = Vec::new();
        if let Some(rate) = chat_rate {
            chain.push(Arc::new(RateLimitInterceptor::new(rate).keyed_by(true, false)));
        }
        let routed: Arc<dyn ChatProvider> = Arc::new(InterceptedProvider::new(router.clone(), chain.clone()));
        let experts = router
            .experts()
            .iter()
            .map(|x| ExpertHandle {
                id: x.id.clone(),
                provider: x.key.provider.clone(),
                model: x.key.model.clone(),
                chat: Arc::new(InterceptedProvider::new(x.provider.clone(), chain.clone())),
            })
            .collect();

        // Tools.
        let (registry, apis, github) = tools(cfg).await.map_err(|(f, m)| err(f, m))?;
        let integrations = crate::integrations::Integrations::new(cfg, apis, github);
        let policy = Arc::new(PolicyStore::new());
        match &cfg.security.policy {
            Some(p) => policy
                .load_file(Layer::Project, &cfg.resolve(p))
                .map_err(|e| err("security.policy".into(), e.to_string()))?,
            None if cfg.tools.demo_tasks => policy
                .load_str(Layer::Project, "<demo policy>", demo::DEMO_POLICY)
                .map_err(|e| err("security.policy".into(), e.to_string()))?,
            // No policy file: every tool for every authenticated principal;
            // destructive ones still ask (annotations only tighten).
            None => policy
                .load_str(
                    Layer::Project,
                    "<no policy file>",
                    "[[rule]]\nid = \"no-policy-file\"\neffect = \"allow\"\ntools = [\"*\"]\n",
                )
                .map_err(|e| err("security.policy".into(), e.to_string()))?,
        }
        // MCP servers' annotations are hints from a third party unless the entry trusts them.
        if let Some(text) = crate::integrations::mcp::McpServers::untrusted_policy(cfg) {
            policy
                .load_str(Layer::Managed, "<[[tools.mcp]] untrusted annotations>", &text)
                .map_err(|e| err("tools.mcp".into(), e.to_string()))?;
        }
        let approvals = Arc::new(ApprovalStore::new());
        let mut exec = Executor::builder(registry)
            .interceptor(Arc::new(AuditInterceptor::new(audit.clone() as Arc<dyn AuditSink>)))
            .interceptor(Arc::new(PermissionInterceptor::new(policy.clone(), approvals.clone())));
        if let Some(rate) = tool_rate {
            exec = exec.interceptor(Arc::new(RateLimitInterceptor::new(rate)));
        }
        let executor = exec.build().map_err(|e| err("tools".into(), e.to_string()))?;
        let mcp_servers = crate::integrations::mcp::McpServers::start(cfg, &executor).await;

        let mut keys = KeyStore::default();
        for (i, k) in cfg.server.keys.iter().enumerate() {
            let mut p = Principal::new(k.principal.clone());
            for r in &k.roles {
                p = p.with_role(r.clone());
            }
            if let Some(t) = &k.team {
                p = p.with_team(t.clone());
            }
            keys.insert(&k.sha256, p)
                .map_err(|m| err(format!("server.keys[{i}].sha256"), m))?;
        }
        let runs_dir = cfg.resolve(cfg.server.runs_dir.as_deref().unwrap_or(".toolplane/runs"));
        let runs = RunStore::open(&runs_dir)
            .map_err(|e| err("server.runs_dir".into(), format!("{}: {e}", runs_dir.display())))?;
        let gateway = Self {
            routed,
            router,
            experts,
            executor,
            policy,
            approvals,
            tool_approvals: Arc::default(),
            audit,
            audit_dir,
            metrics,
            keys,
            runs,
            limits: HttpLimits {
                max_body_bytes: cfg.server.max_body_bytes,
                max_concurrent_requests: cfg.server.max_concurrent_requests,
                shutdown_grace: Duration::from_secs(cfg.server.shutdown_grace_secs),
            },
            redis_url: cfg.security.redis_url.clone(),
            scripted_only,
            integrations,
            mcp_servers,
        };
        // The run-time changes kept across restarts; a bad file stops the
        // start-up rather than switching tools an admin switched off back on.
        crate::integrations::restore(&gateway).map_err(|m| err("server.state_dir".into(), m))?;
        Ok(gateway)
    }

    /// The expert `name` names: by id, or by upstream model id.
    pub fn expert(&self, name: &str) -> Option<&ExpertHandle> {
        self.experts
            .iter()
            .find(|e| e.id == name)
            .or_else(|| self.experts.iter().find(|e| e.model == name))
    }

    /// The expert that answered, from the provider and model of a response.
    pub fn expert_for(&self, provider: &str, model: &str) -> Option<&ExpertHandle> {
        self.experts
            .iter()
            .find(|e| e.provider == provider && e.model == model)
            .or_else(|| self.experts.iter().find(|e| e.model == model))
    }
}

/// Reads the stats source into the router every `every` while the router lives.
fn spawn_stats_refresh(router: &Arc<Router>, every: Duration) {
    let weak = Arc::downgrade(router);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match weak.upgrade() {
                Some(router) => router.refresh_stats(),
                None => break,
            }
        }
    });
}

fn provider_name(e: &ExpertEntry) -> String {
    e.provider.clone()
}

type FieldError = (String, String);

fn make_provider(i: usize, e: &ExpertEntry) -> Result<Arc<dyn ChatProvider>, FieldError> {
    let at = |f: &str| format!("experts[{i}].{f}");
    if e.provider == "scripted" {
        let latency = demo::SCRIPTED_EXPERTS
            .iter()
            .find(|(name, ..)| *name == e.model)
            .map_or(Duration::from_millis(5), |(_, latency, ..)| *latency);
        return Ok(Arc::new(ScriptedExpert::new(&e.model, latency)));
    }
    let Some(var) = &e.api_key_env else {
        return provider_from_name(&e.provider, &e.model, e.base_url.as_deref())
            .map_err(|x| (at("provider"), x.to_string()));
    };
    let key = std::env::var(var)
        .ok()
        .filter(|k| !k.trim().is_empty())
        .ok_or_else(|| {
            (
                at("api_key_env"),
                format!("the environment variable `{var}` is not set"),
            )
        })?;
    let default_url = match e.provider.as_str() {
        "openai" => toolplane_providers::openai::OPENAI_BASE_URL,
        "anthropic" => toolplane_providers::anthropic::ANTHROPIC_BASE_URL,
        "mistral" => toolplane_providers::mistral::MISTRAL_BASE_URL,
        "cohere" => toolplane_providers::cohere::COHERE_BASE_URL,
        "groq" => "https://api.groq.com/openai/v1",
        "ollama" => "http://localhost:11434/v1",
        "vllm" => "http://localhost:8000/v1",
        _ => "",
    };
    let url = e.base_url.clone().unwrap_or_else(|| default_url.to_owned());
    if url.is_empty() {
        return Err((at("base_url"), format!("provider `{}` needs a base_url", e.provider)));
    }
    let cfg = ProviderConfig::new(url)
        .with_api_key(key)
        .with_default_model(e.model.clone());
    let made: Result<Arc<dyn ChatProvider>, _> = match e.provider.as_str() {
        "anthropic" => AnthropicProvider::new(cfg).map(|p| Arc::new(p) as _),
        "mistral" => MistralProvider::new(cfg).map(|p| Arc::new(p) as _),
        "cohere" => CohereProvider::new(cfg).map(|p| Arc::new(p) as _),
        "openai" => OpenAiProvider::new(cfg).map(|p| Arc::new(p) as _),
        "groq" | "ollama" | "vllm" | "openai-compatible" => {
            OpenAiProvider::compatible(&e.provider, cfg).map(|p| Arc::new(p) as _)
        }
        other => {
            return Err((
                at("provider"),
                format!(
                    "unknown provider `{other}`; known: scripted, {}",
                    toolplane_providers::KNOWN_PROVIDERS.join(", ")
                ),
            ));
        }
    };
    made.map_err(|x| (at("provider"), x.to_string()))
}

type Limits = (
    Option<Arc<dyn RateLimit>>,
    Option<Arc<dyn RateLimit>>,
    Option<Arc<dyn Budget>>,
);

fn limits(cfg: &ServerConfig, audit: &Arc<FileSink>) -> Result<Limits, FieldError> {
    let s = &cfg.security;
    let rules: Vec<BudgetRule> = s
        .budgets
        .iter()
        .map(|b| BudgetRule {
            scope: match (b.scope.as_str(), &b.only) {
                ("team", None) => BudgetScope::EachTeam,
                ("team", Some(t)) => BudgetScope::Team(t.clone()),
                (_, None) => BudgetScope::EachPrincipal,
                (_, Some(p)) => BudgetScope::Principal(p.clone()),
            },
            period: period(&b.period).unwrap_or(Period::Day),
            max_tokens: b.tokens,
            max_cost_micros: b.cost_usd.map(|c| (c * 1e6).round() as u64),
        })
        .collect();
    let local_rate = |per_minute: u32| -> Result<Arc<LocalRateLimiter>, FieldError> {
        LocalRateLimiter::new(RateQuota::per_minute(per_minute), 100_000)
            .map(Arc::new)
            .ok_or_else(|| ("security".into(), "rate limit must be at least 1 per minute".into()))
    };
    #[cfg(feature = "redis")]
    if let Some(url) = &s.redis_url {
        use toolplane_security::limits::{RedisBudget, RedisRateLimiter};
        let sink: Arc<dyn AuditSink> = audit.clone();
        let at = |e: toolplane_security::limits::LimitError| ("security.redis_url".to_owned(), e.to_string());
        let rate = |per_minute: Option<u32>, prefix: &str| -> Result<Option<Arc<dyn RateLimit>>, FieldError> {
            let Some(n) = per_minute else {
                return Ok(None);
            };
            let r = RedisRateLimiter::new(url, prefix, RateQuota::per_minute(n)).map_err(at)?;
            Ok(Some(Arc::new(
                r.with_local_fallback(local_rate(n)?).with_audit(sink.clone()),
            )))
        };
        let chat = rate(s.requests_per_minute, "toolplane:rl:chat")?;
        let tools = rate(s.tool_calls_per_minute, "toolplane:rl:tools")?;
        let budget = if rules.is_empty() {
            None
        } else {
            Some(Arc::new(
                RedisBudget::new(url, "toolplane:budget", rules.clone())
                    .map_err(at)?
                    .with_local_fallback(Arc::new(LocalBudget::new(rules)))
                    .with_audit(sink),
            ) as Arc<dyn Budget>)
        };
        return Ok((chat, tools, budget));
    }
    #[cfg(not(feature = "redis"))]
    if s.redis_url.is_some() {
        let _ = audit;
        return Err((
            "security.redis_url".into(),
            "this build has no Redis support (build toolplane-server with the `redis` feature)".into(),
        ));
    }
    let _ = audit;
    let chat = s
        .requests_per_minute
        .map(|n| local_rate(n).map(|r| r as Arc<dyn RateLimit>))
        .transpose()?;
    let tools = s
        .tool_calls_per_minute
        .map(|n| local_rate(n).map(|r| r as Arc<dyn RateLimit>))
        .transpose()?;
    let budget = (!rules.is_empty()).then(|| Arc::new(LocalBudget::new(rules)) as Arc<dyn Budget>);
    Ok((chat, tools, budget))
}

type LoadedTools = (ToolRegistry, Vec<LoadedApi>, Option<GithubInfo>);

async fn tools(cfg: &ServerConfig) -> Result<LoadedTools, FieldError> {
    let mut registry = ToolRegistry::new();
    let mut apis = Vec::new();
    let mut github = None;
    let builtins = builtin::builtin_tools()
        .into_iter()
        .filter(|t| cfg.tools.builtins.iter().any(|b| b == "*" || *b == t.spec().name));
    registry
        .register_all(builtins)
        .map_err(|e| ("tools.builtins".to_owned(), e.to_string()))?;
    if cfg.tools.demo_tasks {
        let token = generate_key();
        let addr = demo::serve_tasks_api(&token).await.map_err(|e| {
            (
                "tools.demo_tasks".to_owned(),
                format!("cannot start the demo Tasks API: {e}"),
            )
        })?;
        let spec =
            OpenApiSpec::from_str(demo::TASKS_API_YAML).map_err(|e| ("tools.demo_tasks".to_owned(), e.to_string()))?;
        let converted = Converter::new(ConvertOptions::default()).convert(&spec);
        apis.push(LoadedApi::at_start(
            "demo",
            None,
            &spec,
            &converted,
            Some(format!("http://{addr}/v1")),
            vec!["bearerAuth".into()],
        ));
        let http = HttpConfig::new()
            .with_base_url(format!("http://{addr}/v1"))
            .with_secret("bearerAuth", Secret::new(token));
        let tools = http_tools(converted.tools, http).map_err(|e| ("tools.demo_tasks".to_owned(), e.to_string()))?;
        registry
            .register_all(tools)
            .map_err(|e| ("tools.demo_tasks".to_owned(), e.to_string()))?;
    }
    for (i, o) in cfg.tools.openapi.iter().enumerate() {
        let at = |f: &str| format!("tools.openapi[{i}].{f}");
        let path = cfg.resolve(&o.spec);
        let spec = OpenApiSpec::from_path(&path).map_err(|e| (at("spec"), format!("{}: {e}", path.display())))?;
        let mut filters = Filters::default();
        for r in &o.include {
            filters.add_rule(true, r).map_err(|m| (at("include"), m))?;
        }
        for r in &o.exclude {
            filters.add_rule(false, r).map_err(|m| (at("exclude"), m))?;
        }
        let options = ConvertOptions {
            filters,
            ..ConvertOptions::default()
        };
        let converted = Converter::new(options).convert(&spec);
        apis.push(LoadedApi::at_start(
            "config",
            Some(o.spec.clone()),
            &spec,
            &converted,
            o.base_url.clone(),
            o.auth.keys().cloned().collect(),
        ));
        let mut http = HttpConfig::new();
        if let Some(u) = &o.base_url {
            http = http.with_base_url(u.clone());
        }
        for (scheme, var) in &o.auth {
            http = http
                .with_secret_from_env(scheme.clone(), var)
                .map_err(|e| (format!("tools.openapi[{i}].auth.{scheme}"), e.to_string()))?;
        }
        let tools = http_tools(converted.tools, http).map_err(|e| (at("spec"), e.to_string()))?;
        registry.register_all(tools).map_err(|e| (at("spec"), e.to_string()))?;
    }
    if let Some(g) = &cfg.tools.github {
        let mut gc = toolplane_github::GithubConfig::default();
        let var = g.token_env.as_deref().unwrap_or("GITHUB_TOKEN");
        if let Some(t) = std::env::var(var).ok().filter(|t| !t.trim().is_empty()) {
            gc.token = Some(Secret::new(t));
        }
        if let Some(u) = &g.base_url {
            gc.base_url = u.clone();
        }
        gc.read_only = g.read_only;
        let tools = toolplane_github::github_tools(&gc).map_err(|e| ("tools.github".to_owned(), e.to_string()))?;
        github = Some(GithubInfo {
            names: tools.iter().map(|t| t.spec().name.clone()).collect(),
            token_env: var.to_owned(),
            token_present: gc.token.is_some(),
            read_only: g.read_only,
            base_url: gc.base_url.clone(),
        });
        registry
            .register_all(tools)
            .map_err(|e| ("tools.github".to_owned(), e.to_string()))?;
    }
    Ok((registry, apis, github))
}

/// What `toolplane serve --check` found in a valid file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckSummary {
    /// Expert ids.
    pub experts: Vec<String>,
    /// Router task types with their own policy.
    pub routes: Vec<String>,
    /// Tools the OpenAPI descriptions give (after filters), and built-ins.
    pub tools: usize,
    /// Accepted keys.
    pub keys: usize,
    /// The `[[tools.mcp]]` servers' names (checked, not connected).
    pub mcp_servers: Vec<String>,
}

/// Checks a configuration without starting anything: the file itself, the
/// router policies, the policy file and the OpenAPI descriptions it names,
/// and the keys' environment variables.
///
/// # Errors
/// The first problem, naming the file, line and field.
pub fn check(cfg: &ServerConfig, text: Option<&str>) -> Result<CheckSummary, ConfigError> {
    let file = cfg.origin.file.clone();
    let err = |field: String, message: String| ConfigError {
        file: file.clone(),
        line: None,
        field: Some(field),
        message,
    };
    let router = cfg.router_config(text)?;
    if let Some(p) = &cfg.security.policy {
        PolicyStore::new()
            .load_file(Layer::Project, &cfg.resolve(p))
            .map_err(|e| err("security.policy".into(), e.to_string()))?;
    }
    for (i, e) in cfg.experts.iter().enumerate() {
        if let Some(var) = &e.api_key_env {
            if !env_set(var) {
                return Err(err(
                    format!("experts[{i}].api_key_env"),
                    format!("the environment variable `{var}` is not set"),
                ));
            }
        }
    }
    let mut tools = builtin::builtin_specs()
        .iter()
        .filter(|s| cfg.tools.builtins.iter().any(|b| b == "*" || *b == s.name))
        .count();
    for (i, o) in cfg.tools.openapi.iter().enumerate() {
        let path = cfg.resolve(&o.spec);
        let spec = OpenApiSpec::from_path(&path)
            .map_err(|e| err(format!("tools.openapi[{i}].spec"), format!("{}: {e}", path.display())))?;
        let mut filters = Filters::default();
        for r in &o.include {
            filters
                .add_rule(true, r)
                .map_err(|m| err(format!("tools.openapi[{i}].include"), m))?;
        }
        for r in &o.exclude {
            filters
                .add_rule(false, r)
                .map_err(|m| err(format!("tools.openapi[{i}].exclude"), m))?;
        }
        let options = ConvertOptions {
            filters,
            ..ConvertOptions::default()
        };
        tools += Converter::new(options).convert(&spec).tools.len();
    }
    for i in 0..cfg.tools.mcp.len() {
        crate::integrations::mcp::check_entry(cfg, i)?;
    }
    Ok(CheckSummary {
        experts: router.experts.iter().map(|e| e.id()).collect(),
        routes: router.tasks.keys().cloned().collect(),
        tools,
        keys: cfg.server.keys.len(),
        mcp_servers: cfg.tools.mcp.iter().map(|m| m.name.clone()).collect(),
    })
}
