//! Router configuration from TOML or JSON files.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use toolplane_core::{
    CallContext, ChatProvider, ChatRequest, ChatResponse, ExpertKey, ExpertStats, Price, ProviderCapabilities,
    ProviderError, ProviderErrorKind, StaticStats,
};

use crate::catalogue::DEFAULT_TASK;
use crate::decision::Decision;
use crate::error::RouterError;
use crate::expert::Expert;
use crate::locate::{FieldPath, line_col, locate};
use crate::router::{Router, RouterBuilder};
use crate::state::BreakerConfig;
use crate::strategy::TaskPolicy;

/// A configuration error, naming the file, the line, the field and the problem.
///
/// Displays as `file:line:column: field: message`, leaving out what is not known.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{file}{}{}: {message}",
    location.as_ref().map(|l| format!(":{l}")).unwrap_or_default(),
    field.as_ref().filter(|f| Some(*f) != location.as_ref()).map(|f| format!(": {f}")).unwrap_or_default())]
pub struct ConfigError {
    /// The file, or `<toml>` / `<json>` for text.
    pub file: String,
    /// `line:column` in the file when known; the field path when the
    /// configuration was checked without its text ([`RouterConfig::validate`]).
    pub location: Option<String>,
    /// The field at fault, such as `experts[2].budget_usd`, when one is.
    pub field: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl ConfigError {
    fn new(file: &str, location: Option<String>, message: impl Into<String>) -> Self {
        Self {
            file: file.to_owned(),
            location,
            field: None,
            message: message.into(),
        }
    }

    fn at(file: &str, field: &FieldPath, message: impl Into<String>) -> Self {
        Self {
            file: file.to_owned(),
            location: None,
            field: Some(field.to_string()),
            message: message.into(),
        }
    }
}

/// One expert in a configuration file. The provider is named; the host
/// supplies the provider object (see [`RouterConfig::into_router`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpertConfig {
    /// The id (default `provider/model`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The provider's name (`openai`).
    pub provider: String,
    /// The model id.
    pub model: String,
    /// Takes tools (default: what the provider says).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tools: Option<bool>,
    /// Streams (default: what the provider says).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub streaming: Option<bool>,
    /// Context window in tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_window: Option<u64>,
    /// The price in USD per million tokens (`price = { input = 2.5, output
    /// = 10.0, cache_read = 1.25 }`); without one, the price book given to
    /// the builder decides, else the default price, else the expert is
    /// unpriced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price: Option<Price>,
    /// Static priority, lower first.
    #[serde(default)]
    pub priority: i32,
    /// Most USD to spend on this expert.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget_usd: Option<f64>,
    /// Known figures for all task types (used when no metrics source is attached).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stats: Option<ExpertStats>,
    /// Known figures per task type.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub stats_by_task: BTreeMap<String, ExpertStats>,
}

impl ExpertConfig {
    /// The id this expert gets.
    pub fn id(&self) -> String {
        self.id
            .clone()
            .unwrap_or_else(|| format!("{}/{}", self.provider, self.model))
    }
}

/// A router's configuration: experts, policies per task type, breaker,
/// budget and seed. Read from TOML or JSON, or built in code.
///
/// ```
/// use toolplane_core::{ChatRequest, Message};
/// use toolplane_router::RouterConfig;
/// let cfg = RouterConfig::from_toml_str(r#"
///     seed = 7
///     [default]
///     strategy = { kind = "weighted" }
///     [tasks.code]
///     strategy = { kind = "thompson", decay = 0.99 }
///     [[experts]]
///     provider = "openai"
///     model = "gpt-4o"
///     context_window = 128000
///     price = { input = 2.5, output = 10.0, cache_read = 1.25 }  # USD per million tokens
///     [[experts]]
///     provider = "local"
///     model = "llama-8b"
///     tools = false
///     context_window = 8192
/// "#).unwrap();
/// let req = ChatRequest::new("", vec![Message::user("x".repeat(40_000))]);
/// let decision = cfg.explain_for("code", &req).unwrap();
/// assert_eq!(decision.chosen.as_deref(), Some("openai/gpt-4o"));
/// assert_eq!(decision.excluded[0].constraint, "context_window");
/// println!("{decision}");
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouterConfig {
    /// Seed for the random draws (default: from the clock).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// Most USD to spend through the router.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget_usd: Option<f64>,
    /// The price (USD per million tokens) of experts with no price of their
    /// own and none in the price book.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_price: Option<Price>,
    /// Experts tried at most per request (default: all that pass the constraints).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_attempts: Option<usize>,
    /// Output tokens assumed for budget checks when a request sets no `max_tokens`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_output_tokens: Option<u64>,
    /// Circuit-breaker settings.
    #[serde(default)]
    pub breaker: BreakerConfig,
    /// The policy for task types without one.
    #[serde(default)]
    pub default: TaskPolicy,
    /// Policies by task type.
    #[serde(default)]
    pub tasks: BTreeMap<String, TaskPolicy>,
    /// The experts.
    #[serde(default)]
    pub experts: Vec<ExpertConfig>,
}

impl RouterConfig {
    /// Reads a `.toml` or `.json` file (other extensions: JSON when the text
    /// starts with `{`, else TOML).
    ///
    /// # Errors
    /// The file cannot be read, does not parse, or is not a valid router set-up.
    pub fn from_path(path: impl AsRef<Path>) -> Result<Self, ConfigError> {
        let path = path.as_ref();
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::new(&file, None, e.to_string()))?;
        let json = match path.extension().and_then(|e| e.to_str()) {
            Some("json") => true,
            Some("toml") => false,
            _ => text.trim_start().starts_with('{'),
        };
        if json {
            Self::parse_json(&text, &file)
        } else {
            Self::parse_toml(&text, &file)
        }
    }

    /// Parses TOML text.
    ///
    /// # Errors
    /// As [`RouterConfig::from_path`], with the file named `<toml>`.
    pub fn from_toml_str(text: &str) -> Result<Self, ConfigError> {
        Self::parse_toml(text, "<toml>")
    }

    /// Parses JSON text.
    ///
    /// # Errors
    /// As [`RouterConfig::from_path`], with the file named `<json>`.
    pub fn from_json_str(text: &str) -> Result<Self, ConfigError> {
        Self::parse_json(text, "<json>")
    }

    fn parse_toml(text: &str, file: &str) -> Result<Self, ConfigError> {
        let cfg: Self = toml::from_str(text).map_err(|e| {
            let location = e.span().map(|s| line_col(text, s.start));
            ConfigError::new(file, location, with_hint(e.message().trim()))
        })?;
        cfg.check()
            .map_err(|(field, msg)| located(file, text, false, &field, msg))?;
        Ok(cfg)
    }

    fn parse_json(text: &str, file: &str) -> Result<Self, ConfigError> {
        let cfg: Self = serde_json::from_str(text).map_err(|e| {
            let msg = e.to_string();
            let msg = with_hint(msg.split(" at line ").next().unwrap_or(&msg));
            ConfigError::new(file, Some(format!("{}:{}", e.line(), e.column())), msg)
        })?;
        cfg.check()
            .map_err(|(field, msg)| located(file, text, true, &field, msg))?;
        Ok(cfg)
    }

    /// Checks what the parser cannot: experts, ids, policies and numbers
    /// (prices, budgets and figures finite and not negative, rates within
    /// `[0, 1]`, no more wins than judged answers, a median latency not above
    /// the 95th percentile, cooldowns in order). Runs in time linear in the
    /// size of the configuration.
    ///
    /// # Errors
    /// The first problem found, with its field path in `field` and, as there
    /// is no text to find a line in, in `location` too (the parsing
    /// functions put the line there instead).
    pub fn validate(&self, file: &str) -> Result<(), ConfigError> {
        self.check().map_err(|(field, msg)| ConfigError {
            location: Some(field.to_string()),
            ..ConfigError::at(file, &field, msg)
        })
    }

    fn check(&self) -> Result<(), (FieldPath, String)> {
        let root = FieldPath::default;
        if self.experts.is_empty() {
            return Err((root().key("experts"), "at least one expert is needed".into()));
        }
        if let Some(b) = self.budget_usd {
            non_negative(b).map_err(|m| (root().key("budget_usd"), m))?;
        }
        if let Some(p) = &self.default_price {
            check_price(p, root().key("default_price"))?;
        }
        if self.max_attempts == Some(0) {
            return Err((root().key("max_attempts"), "must be at least 1".into()));
        }
        let br = &self.breaker;
        let breaker = || root().key("breaker");
        if br.failure_threshold == 0 {
            return Err((breaker().key("failure_threshold"), "must be at least 1".into()));
        }
        if br.cooldown_ms == 0 {
            return Err((breaker().key("cooldown_ms"), "must be at least 1".into()));
        }
        if br.max_cooldown_ms < br.cooldown_ms {
            return Err((
                breaker().key("max_cooldown_ms"),
                format!(
                    "must be at least cooldown_ms ({}), got {}",
                    br.cooldown_ms, br.max_cooldown_ms
                ),
            ));
        }
        let mut ids: HashMap<String, usize> = HashMap::with_capacity(self.experts.len());
        for (i, e) in self.experts.iter().enumerate() {
            let here = || root().key("experts").index(i);
            if e.provider.trim().is_empty() {
                return Err((here().key("provider"), "must not be empty".into()));
            }
            if e.model.trim().is_empty() {
                return Err((here().key("model"), "must not be empty".into()));
            }
            if let Some(p) = &e.price {
                check_price(p, here().key("price"))?;
            }
            if let Some(b) = e.budget_usd {
                non_negative(b).map_err(|m| (here().key("budget_usd"), m))?;
            }
            if e.context_window == Some(0) {
                return Err((here().key("context_window"), "must be at least 1 token".into()));
            }
            if let Some(s) = &e.stats {
                check_stats(s, here().key("stats"))?;
            }
            for (t, s) in &e.stats_by_task {
                if t.trim().is_empty() {
                    return Err((here().key("stats_by_task"), "a task type must not be empty".into()));
                }
                check_stats(s, here().key("stats_by_task").key(t))?;
            }
            if let Some(j) = ids.insert(e.id(), i) {
                return Err((here(), format!("id `{}` is already used by experts[{j}]", e.id())));
            }
        }
        let policies =
            std::iter::once((DEFAULT_TASK, &self.default)).chain(self.tasks.iter().map(|(k, v)| (k.as_str(), v)));
        for (task, p) in policies {
            let base = || {
                if task == DEFAULT_TASK {
                    root().key("default")
                } else {
                    root().key("tasks").key(task)
                }
            };
            p.strategy.validate().map_err(|m| (base().key("strategy"), m))?;
            if let crate::Strategy::Static { order } = &p.strategy {
                if let Some((n, bad)) = order.iter().enumerate().find(|(_, id)| !ids.contains_key(id.as_str())) {
                    return Err((
                        base().key("strategy").key("order").index(n),
                        format!("unknown expert `{bad}`"),
                    ));
                }
            }
            if let Some((n, bad)) = p.only.iter().enumerate().find(|(_, id)| !ids.contains_key(id.as_str())) {
                return Err((base().key("only").index(n), format!("unknown expert `{bad}`")));
            }
            if p.max_attempts == Some(0) {
                return Err((base().key("max_attempts"), "must be at least 1".into()));
            }
        }
        Ok(())
    }

    /// A builder holding this configuration, with providers from `resolve`
    /// (given each expert's configuration; `None` is an error naming the
    /// expert). Add a stats source or clock before building.
    ///
    /// # Errors
    /// A provider that `resolve` does not know.
    pub fn builder<F>(&self, mut resolve: F) -> Result<RouterBuilder, ConfigError>
    where
        F: FnMut(&ExpertConfig) -> Option<Arc<dyn ChatProvider>>,
    {
        let file = "<config>";
        self.validate(file)?;
        let mut b = Router::builder().breaker(self.breaker.clone());
        if let Some(n) = self.max_attempts {
            b = b.max_attempts(n);
        }
        if let Some(s) = self.seed {
            b = b.seed(s);
        }
        if let Some(u) = self.budget_usd {
            b = b.budget_usd(u);
        }
        if let Some(p) = self.default_price {
            b = b.default_price(p);
        }
        if let Some(n) = self.default_output_tokens {
            b = b.default_output_tokens(n);
        }
        b = b.default_policy(self.default.clone());
        for (t, p) in &self.tasks {
            b = b.policy(t.clone(), p.clone());
        }
        let stats = StaticStats::default();
        let mut any_stats = false;
        for (i, e) in self.experts.iter().enumerate() {
            let provider = resolve(e).ok_or_else(|| {
                ConfigError::at(
                    file,
                    &FieldPath::default().key("experts").index(i).key("provider"),
                    format!("no provider named `{}` is available", e.provider),
                )
            })?;
            let mut caps = provider.capabilities();
            if let Some(t) = e.tools {
                caps.tools = t;
            }
            if let Some(s) = e.streaming {
                caps.streaming = s;
            }
            if e.context_window.is_some() {
                caps.max_context_tokens = e.context_window;
            }
            let mut x = Expert::new(provider, e.model.clone()).with_capabilities(caps);
            x.key = ExpertKey::new(e.provider.clone(), e.model.clone());
            x.id = e.id();
            x.price = e.price;
            x.priority = e.priority;
            x.budget_usd = e.budget_usd;
            if let Some(s) = &e.stats {
                stats.set(x.key.clone(), None, s.clone());
                any_stats = true;
            }
            for (t, s) in &e.stats_by_task {
                stats.set(x.key.clone(), Some(t), s.clone());
                any_stats = true;
            }
            b = b.expert(x);
        }
        if any_stats {
            b = b.stats_source(Arc::new(stats));
        }
        Ok(b)
    }

    /// Builds the router with providers from `resolve`.
    ///
    /// # Errors
    /// A provider `resolve` does not know, or an invalid set-up.
    pub fn into_router<F>(&self, resolve: F) -> Result<Router, ConfigError>
    where
        F: FnMut(&ExpertConfig) -> Option<Arc<dyn ChatProvider>>,
    {
        self.builder(resolve)?.build().map_err(build_error)
    }

    /// A router whose experts answer nothing (each call fails with
    /// `no_provider`): for explaining decisions from a file alone.
    ///
    /// # Errors
    /// An invalid set-up.
    pub fn detached_router(&self) -> Result<Router, ConfigError> {
        self.into_router(|e| {
            Some(Arc::new(Detached {
                name: e.provider.clone(),
            }) as Arc<dyn ChatProvider>)
        })
    }

    /// How `request` would be routed with this configuration and the
    /// figures it holds, from the file alone: [`Router::explain`] on a
    /// [detached router](RouterConfig::detached_router) (the task type from
    /// the request's metadata, else the classifier).
    ///
    /// # Errors
    /// An invalid set-up.
    pub fn explain(&self, request: &ChatRequest) -> Result<Decision, ConfigError> {
        Ok(self.detached_router()?.explain(request))
    }

    /// Like [`RouterConfig::explain`] with the task type given, as
    /// [`Router::explain_for`] (what `toolplane route explain --task` prints).
    ///
    /// # Errors
    /// An invalid set-up.
    pub fn explain_for(&self, task_type: &str, request: &ChatRequest) -> Result<Decision, ConfigError> {
        Ok(self.detached_router()?.explain_for(task_type, request))
    }

    /// The way forward for `field` when it is a price field of the old
    /// format (`input_per_1k`, `output_per_1k`, USD per 1,000 tokens), with
    /// `value` converted when given; `None` for any other field. Every
    /// configuration that takes a `price` table (router.toml, the gateway's
    /// `[[experts]]`) refuses the old fields with this text.
    ///
    /// ```
    /// use toolplane_router::RouterConfig;
    /// let hint = RouterConfig::old_price_field_hint("input_per_1k", Some(0.003)).unwrap();
    /// assert!(hint.contains("price = { input = 3, output = .. }"), "{hint}");
    /// assert!(RouterConfig::old_price_field_hint("model", None).is_none());
    /// ```
    pub fn old_price_field_hint(field: &str, value: Option<f64>) -> Option<String> {
        let key = match field {
            "input_per_1k" => "input",
            "output_per_1k" => "output",
            _ => return None,
        };
        // Rounded to a billionth of a dollar so that 0.00015 reads 0.15, not 0.15000000000000002.
        let per_million = |v: f64| (v * 1e12).round() / 1e9;
        let example = match (key, value) {
            ("input", Some(v)) => format!(
                " (`{field} = {v}` is `price = {{ input = {}, output = .. }}`)",
                per_million(v)
            ),
            (_, Some(v)) => format!(
                " (`{field} = {v}` is `price = {{ input = .., output = {} }}`)",
                per_million(v)
            ),
            _ => String::new(),
        };
        Some(format!(
            "prices are now `price = {{ input = .., output = .. }}` in USD per million tokens \
             (the old per-1k figures times 1000){example}, with optional cache_read, cache_write_5m, \
             cache_write_1h and reasoning"
        ))
    }
}

fn build_error(e: RouterError) -> ConfigError {
    let base = |task: &str| {
        if task == DEFAULT_TASK {
            "default".to_owned()
        } else {
            format!("tasks.{task}")
        }
    };
    let field = match &e {
        RouterError::NoExperts => Some("experts".to_owned()),
        RouterError::UnknownExpert {
            task, field: "order", ..
        } => Some(format!("{}.strategy.order", base(task))),
        RouterError::UnknownExpert { task, field, .. } => Some(format!("{}.{field}", base(task))),
        RouterError::InvalidPolicy { task, .. } => Some(format!("{}.strategy", base(task))),
        RouterError::InvalidNumber { field, .. } => Some(field.clone()),
        _ => None,
    };
    ConfigError {
        field,
        ..ConfigError::new("<config>", None, e.to_string())
    }
}

/// A finite number that is not negative; the message says what it got.
fn non_negative(v: f64) -> Result<(), String> {
    if v.is_finite() && v >= 0.0 {
        Ok(())
    } else {
        Err(format!("must be a finite number >= 0, got {v}"))
    }
}

/// A price whose rates are all finite and not negative; the field named.
fn check_price(p: &Price, at: FieldPath) -> Result<(), (FieldPath, String)> {
    p.validate().map_err(|e| {
        (
            at.key(e.field),
            format!(
                "a price must be a finite number >= 0 (USD per million tokens), got {}",
                e.value
            ),
        )
    })
}

/// A parse error, with the way forward when it is a field of the old price
/// format (USD per 1,000 tokens).
fn with_hint(message: &str) -> String {
    match OLD_PRICE_FIELDS
        .iter()
        .find(|f| message.contains(&format!("`{f}`")))
        .and_then(|f| RouterConfig::old_price_field_hint(f, None))
    {
        Some(hint) => format!("{message}; {hint}"),
        None => message.to_owned(),
    }
}

/// The price fields of the old format, in USD per 1,000 tokens.
const OLD_PRICE_FIELDS: [&str; 2] = ["input_per_1k", "output_per_1k"];

/// Known figures that make sense: finite, not negative, rates in `[0, 1]`,
/// no more wins than judged answers, p50 not above p95.
pub(crate) fn check_stats(s: &ExpertStats, at: FieldPath) -> Result<(), (FieldPath, String)> {
    let field = |name: &str| at.clone().key(name);
    for (name, v) in [
        ("latency_p50_ms", s.latency_p50_ms),
        ("latency_p95_ms", s.latency_p95_ms),
        ("ttft_p95_ms", s.ttft_p95_ms),
        ("cost_per_1k_tokens", s.cost_per_1k_tokens),
    ] {
        if let Some(v) = v {
            non_negative(v).map_err(|m| (field(name), m))?;
        }
    }
    if let Some(r) = s.success_rate {
        if !(0.0..=1.0).contains(&r) {
            return Err((field("success_rate"), format!("must be within [0, 1], got {r}")));
        }
    }
    if s.wins > s.judged {
        return Err((
            field("wins"),
            format!("{} wins is more than the {} answers judged", s.wins, s.judged),
        ));
    }
    if let (Some(p50), Some(p95)) = (s.latency_p50_ms, s.latency_p95_ms) {
        if p50 > p95 {
            return Err((
                field("latency_p50_ms"),
                format!("the median ({p50} ms) is above the 95th percentile ({p95} ms)"),
            ));
        }
    }
    Ok(())
}

/// A validation error with the line of the field in `text`.
fn located(file: &str, text: &str, json: bool, field: &FieldPath, message: String) -> ConfigError {
    ConfigError {
        location: locate(text, json, field),
        ..ConfigError::at(file, field, message)
    }
}

/// A provider that answers nothing, standing in for a real one when a
/// configuration is only explained.
#[derive(Debug)]
struct Detached {
    name: String,
}

#[async_trait]
impl ChatProvider for Detached {
    fn name(&self) -> &str {
        &self.name
    }

    fn capabilities(&self) -> ProviderCapabilities {
        ProviderCapabilities::default()
    }

    async fn chat(&self, _request: &ChatRequest, _ctx: &CallContext) -> Result<ChatResponse, ProviderError> {
        Err(ProviderError::new(
            ProviderErrorKind::NoProvider,
            self.name.clone(),
            "detached expert: this router was built from a configuration alone",
        ))
    }
}

impl fmt::Display for ExpertConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.id())
    }
}
