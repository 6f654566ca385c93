//! The server's configuration file (`toolplane.toml`): experts, router
//! policies, tools, security, pricing and the server itself.
//!
//! Every error names the file, the line and the field, like the router's
//! configuration does: `toolplane.toml:12: experts[1].api_key_env: ...`.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toolplane_core::Price;
use toolplane_router::{ExpertConfig, RouterConfig};

pub mod mcp;

pub use mcp::McpEntry;

/// A configuration problem: the file, the line (when known), the field and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConfigError {
    /// The file, or `<embedded default>`.
    pub file: String,
    /// The 1-based line, when the field could be found in the text.
    pub line: Option<usize>,
    /// The field path (`experts[1].model`), when the problem has one.
    pub field: Option<String>,
    /// What is wrong and what to do.
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        write!(f, ": ")?;
        if let Some(field) = &self.field {
            write!(f, "{field}: ")?;
        }
        write!(f, "{}", self.message)
    }
}

/// The whole file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// Bind address, keys and limits of the HTTP server.
    #[serde(default)]
    pub server: ServerSection,
    /// The models, each a provider and a model id.
    #[serde(default)]
    pub experts: Vec<ExpertEntry>,
    /// Router policies: the router's own configuration without `experts`
    /// (`seed`, `default`, `tasks`, `breaker`, `max_attempts`, ...).
    #[serde(default)]
    pub router: Option<toml::Table>,
    /// The tools offered to models and callable over HTTP.
    #[serde(default)]
    pub tools: ToolsSection,
    /// Permissions, audit, rate limits and budgets.
    #[serde(default)]
    pub security: SecuritySection,
    /// Prices used by metrics and cost budgets.
    #[serde(default)]
    pub pricing: PricingSection,
    /// Where the file was read from (for relative paths and errors); not in the file.
    #[serde(skip)]
    pub origin: Origin,
}

/// Where a configuration came from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Origin {
    /// The file name used in errors.
    pub file: String,
    /// The folder relative paths are resolved against.
    pub base_dir: PathBuf,
}

/// `[server]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerSection {
    /// Address to listen on. Default `127.0.0.1:8080`.
    pub bind: String,
    /// Largest accepted request body in bytes. Default 4 MiB.
    pub max_body_bytes: usize,
    /// Requests handled at once; more are answered 503 with `retry-after`. Default 512.
    pub max_concurrent_requests: usize,
    /// How long in-flight requests may finish after SIGTERM, in seconds. Default 30.
    pub shutdown_grace_secs: u64,
    /// Folder for paused runs (default: `.toolplane/runs` beside the file).
    pub runs_dir: Option<String>,
    /// Folder for state changed at run time (default: `.toolplane` beside the
    /// file): `integrations.json` keeps the OpenAPI descriptions added and the
    /// tools switched off over HTTP, so a restart keeps them.
    pub state_dir: Option<String>,
    /// API keys, stored as SHA-256 hex digests.
    pub keys: Vec<KeyEntry>,
    /// How often the router reads the metrics (and, with a Redis URL, the
    /// other replicas' verdicts and breakers), in milliseconds. Default 1000.
    pub stats_refresh_ms: u64,
}

impl Default for ServerSection {
    fn default() -> Self {
        Self {
            bind: "127.0.0.1:8080".into(),
            max_body_bytes: 4 * 1024 * 1024,
            max_concurrent_requests: 512,
            shutdown_grace_secs: 30,
            runs_dir: None,
            state_dir: None,
            keys: Vec::new(),
            stats_refresh_ms: 1000,
        }
    }
}

/// `[[server.keys]]`: one API key, as the principal it stands for.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyEntry {
    /// SHA-256 of the key, 64 hex digits (`toolplane serve --hash-key KEY` prints it).
    pub sha256: String,
    /// The principal's id (audit records, rate-limit and budget keys).
    pub principal: String,
    /// Roles the permission policy matches.
    #[serde(default)]
    pub roles: Vec<String>,
    /// A team, for team budgets.
    #[serde(default)]
    pub team: Option<String>,
}

/// `[[experts]]`: a model behind a provider.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpertEntry {
    /// The id clients use as `model` (default `provider/model`).
    #[serde(default)]
    pub id: Option<String>,
    /// `openai`, `anthropic`, `mistral`, `cohere`, `groq`, `ollama`, `vllm`,
    /// `openai-compatible`, `azure`, or `scripted` (offline demo, not a model).
    pub provider: String,
    /// The model id sent upstream.
    pub model: String,
    /// Overrides the provider's base URL.
    #[serde(default)]
    pub base_url: Option<String>,
    /// The environment variable holding the key (default: the vendor's usual one).
    #[serde(default)]
    pub api_key_env: Option<String>,
    /// The price in USD per million tokens, as in router.toml (`price = {
    /// input = 2.5, output = 10.0, cache_read = 1.25 }`). Unset: the price
    /// book's (`[pricing]`, built-in prices), else the expert is unpriced
    /// (ranked last by cost, refused under a cost budget), never free.
    #[serde(default)]
    pub price: Option<Price>,
    /// Context window in tokens.
    #[serde(default)]
    pub context_window: Option<u64>,
    /// Takes tools (default: what the provider says).
    #[serde(default)]
    pub tools: Option<bool>,
    /// Streams (default: what the provider says).
    #[serde(default)]
    pub streaming: Option<bool>,
    /// Static priority, lower first.
    #[serde(default)]
    pub priority: i32,
    /// Most USD the router spends on this expert.
    #[serde(default)]
    pub budget_usd: Option<f64>,
}

impl ExpertEntry {
    /// The id clients name it by.
    pub fn id(&self) -> String {
        self.id
            .clone()
            .unwrap_or_else(|| format!("{}/{}", self.provider, self.model))
    }

    fn router_entry(&self) -> ExpertConfig {
        ExpertConfig {
            id: Some(self.id()),
            provider: self.provider.clone(),
            model: self.model.clone(),
            tools: self.tools,
            streaming: self.streaming,
            context_window: self.context_window,
            price: self.price,
            priority: self.priority,
            budget_usd: self.budget_usd,
            stats: None,
            stats_by_task: BTreeMap::new(),
        }
    }
}

/// `[tools]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ToolsSection {
    /// Built-in tools by name (`current_time`, `json_query`), or `["*"]` for all.
    #[serde(default)]
    pub builtins: Vec<String>,
    /// OpenAPI descriptions whose operations become tools.
    #[serde(default)]
    pub openapi: Vec<OpenApiEntry>,
    /// The curated GitHub tools.
    #[serde(default)]
    pub github: Option<GithubEntry>,
    /// Serve the demo Tasks API in-process and offer its tools (the default set-up does).
    #[serde(default)]
    pub demo_tasks: bool,
    /// The folder `POST /v1/integrations/openapi {"path": ...}` may load
    /// descriptions from (relative to the configuration file); paths outside
    /// it are refused. Unset: only uploads.
    #[serde(default)]
    pub openapi_dir: Option<String>,
    /// MCP servers whose tools are offered, each under its name as namespace.
    #[serde(default)]
    pub mcp: Vec<McpEntry>,
}

/// `[[tools.openapi]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenApiEntry {
    /// Path of the description (JSON or YAML), relative to the configuration file.
    pub spec: String,
    /// Overrides the description's server URL.
    #[serde(default)]
    pub base_url: Option<String>,
    /// Keep rules: `tag:NAME`, `method:GET`, `path:GLOB`, `op:GLOB`.
    #[serde(default)]
    pub include: Vec<String>,
    /// Drop rules, same forms.
    #[serde(default)]
    pub exclude: Vec<String>,
    /// Credentials per security scheme: scheme name -> environment variable.
    #[serde(default)]
    pub auth: BTreeMap<String, String>,
}

/// `[tools.github]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GithubEntry {
    /// Environment variable with the token (default `GITHUB_TOKEN`).
    #[serde(default)]
    pub token_env: Option<String>,
    /// Offer only reading tools.
    #[serde(default)]
    pub read_only: bool,
    /// Overrides `https://api.github.com` (GitHub Enterprise).
    #[serde(default)]
    pub base_url: Option<String>,
}

/// `[security]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecuritySection {
    /// The permission policy file (TOML rules). Without one every tool is allowed
    /// to every authenticated principal.
    #[serde(default)]
    pub policy: Option<String>,
    /// Folder of the hash-chained audit log (default `.toolplane/audit`).
    #[serde(default)]
    pub audit_dir: Option<String>,
    /// Redis URL: rate limits and budgets shared by every replica using it.
    #[serde(default)]
    pub redis_url: Option<String>,
    /// Requests per minute per principal on the model endpoints.
    #[serde(default)]
    pub requests_per_minute: Option<u32>,
    /// Tool calls per minute per principal and tool.
    #[serde(default)]
    pub tool_calls_per_minute: Option<u32>,
    /// Token and cost budgets.
    #[serde(default)]
    pub budgets: Vec<BudgetEntry>,
}

/// `[[security.budgets]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BudgetEntry {
    /// `principal` (each principal) or `team` (each team).
    pub scope: String,
    /// Limit only this principal (with `scope = "principal"`) or team (with `scope = "team"`).
    #[serde(default)]
    pub only: Option<String>,
    /// `minute`, `hour`, `day` or `month`.
    pub period: String,
    /// A token budget.
    #[serde(default)]
    pub tokens: Option<u64>,
    /// A cost budget in US dollars.
    #[serde(default)]
    pub cost_usd: Option<f64>,
}

/// `[pricing]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PricingSection {
    /// A LiteLLM-format price file (`model_prices_and_context_window.json`).
    #[serde(default)]
    pub litellm_file: Option<String>,
}

/// One step of a field path.
#[derive(Debug, Clone)]
enum Seg {
    Key(String),
    Index(usize),
}

fn field_name(path: &[Seg]) -> String {
    let mut s = String::new();
    for seg in path {
        match seg {
            Seg::Key(k) => {
                if !s.is_empty() {
                    s.push('.');
                }
                s.push_str(k);
            }
            Seg::Index(i) => s.push_str(&format!("[{i}]")),
        }
    }
    s
}

/// `experts[1].model` -> segments.
fn parse_path(field: &str) -> Vec<Seg> {
    let mut out = Vec::new();
    for part in field.split('.') {
        let (key, rest) = part.split_once('[').map_or((part, ""), |(k, r)| (k, r));
        if !key.is_empty() {
            out.push(Seg::Key(key.to_owned()));
        }
        for idx in rest.split('[') {
            if let Ok(i) = idx.trim_end_matches(']').parse() {
                out.push(Seg::Index(i));
            }
        }
    }
    out
}

fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

/// The line where the deepest existing part of `path` is written.
fn locate(text: &str, path: &[Seg]) -> Option<usize> {
    let root = toml::de::DeValue::Table(toml::de::DeTable::parse(text).ok()?.into_inner());
    let mut node: &toml::de::DeValue<'_> = &root;
    let mut best = None;
    for seg in path {
        let next = match seg {
            Seg::Key(k) => node.get(k.as_str()),
            Seg::Index(i) => node.get(*i),
        };
        match next {
            Some(n) => {
                best = Some(n.span().start);
                node = n.get_ref();
            }
            None => break,
        }
    }
    best.map(|o| line_of(text, o))
}

/// The first `[[experts]]` price field of the old format (USD per 1,000
/// tokens), refused with the router's conversion, named with its line.
fn old_price_field(text: &str, origin: &Origin) -> Option<ConfigError> {
    let root = toml::de::DeTable::parse(text).ok()?.into_inner();
    let experts = root.get("experts")?.get_ref().as_array()?;
    experts.iter().enumerate().find_map(|(i, e)| {
        let table = e.get_ref().as_table()?;
        table.iter().find_map(|(key, value)| {
            let key_name: &str = key.get_ref();
            let number = match value.get_ref() {
                toml::de::DeValue::Float(f) => f.as_str().replace('_', "").parse().ok(),
                toml::de::DeValue::Integer(n) => n.as_str().replace('_', "").parse().ok(),
                _ => None,
            };
            let message = RouterConfig::old_price_field_hint(key_name, number)?;
            Some(ConfigError {
                file: origin.file.clone(),
                line: Some(line_of(text, key.span().start)),
                field: Some(format!("experts[{i}].{key_name}")),
                message: format!("`{key_name}` is no longer read; {message}"),
            })
        })
    })
}

impl ServerConfig {
    /// Reads and checks a configuration file.
    ///
    /// # Errors
    /// The file cannot be read, does not parse, or a field is wrong.
    pub fn from_path(path: &Path) -> Result<Self, ConfigError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            file: file.clone(),
            line: None,
            field: None,
            message: format!("cannot read the file: {e}"),
        })?;
        let base_dir = path
            .parent()
            .map(Path::to_path_buf)
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or_else(|| PathBuf::from("."));
        Self::from_toml_str(&text, Origin { file, base_dir })
    }

    /// Parses TOML text from `origin`.
    ///
    /// # Errors
    /// As [`ServerConfig::from_path`].
    pub fn from_toml_str(text: &str, origin: Origin) -> Result<Self, ConfigError> {
        let mut cfg: Self = toml::from_str(text).map_err(|e| {
            old_price_field(text, &origin).unwrap_or_else(|| ConfigError {
                file: origin.file.clone(),
                line: e.span().map(|s| line_of(text, s.start)),
                field: None,
                message: e.message().trim().to_owned(),
            })
        })?;
        cfg.origin = origin;
        cfg.validate(text)?;
        Ok(cfg)
    }

    fn error(&self, text: &str, field: &str, message: impl Into<String>) -> ConfigError {
        let path = parse_path(field);
        ConfigError {
            file: self.origin.file.clone(),
            line: locate(text, &path),
            field: Some(field_name(&path)),
            message: message.into(),
        }
    }

    /// A path from the file, resolved against the file's folder.
    pub fn resolve(&self, path: &str) -> PathBuf {
        let p = Path::new(path);
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.origin.base_dir.join(p)
        }
    }

    /// The bind address.
    ///
    /// # Errors
    /// When `server.bind` is not `host:port`.
    pub fn bind_addr(&self) -> Result<SocketAddr, ConfigError> {
        self.server.bind.parse().map_err(|e| ConfigError {
            file: self.origin.file.clone(),
            line: None,
            field: Some("server.bind".into()),
            message: format!("`{}` is not an address like 127.0.0.1:8080: {e}", self.server.bind),
        })
    }

    /// The router's configuration: `[router]` with the experts added.
    ///
    /// # Errors
    /// A router field is wrong (named as `router.<field>`).
    pub fn router_config(&self, text: Option<&str>) -> Result<RouterConfig, ConfigError> {
        let table = self.router.clone().unwrap_or_default();
        if table.contains_key("experts") {
            return Err(self.error(
                text.unwrap_or(""),
                "router.experts",
                "experts are listed at the top level as [[experts]], not under [router]",
            ));
        }
        let mut cfg: RouterConfig = toml::Value::Table(table)
            .try_into()
            .map_err(|e: toml::de::Error| self.error(text.unwrap_or(""), "router", e.message().trim().to_owned()))?;
        cfg.experts = self.experts.iter().map(ExpertEntry::router_entry).collect();
        cfg.validate(&self.origin.file).map_err(|e| {
            let field = e.location.clone().unwrap_or_else(|| "router".into());
            // The router names its own fields; policies live under [router].
            let field = if field.starts_with("experts") {
                field
            } else {
                format!("router.{field}")
            };
            self.error(text.unwrap_or(""), &field, e.message)
        })?;
        Ok(cfg)
    }

    /// Checks what the parser cannot.
    fn validate(&self, text: &str) -> Result<(), ConfigError> {
        self.bind_addr().map_err(|e| ConfigError {
            line: locate(text, &parse_path("server.bind")),
            ..e
        })?;
        if self.server.max_body_bytes == 0 {
            return Err(self.error(text, "server.max_body_bytes", "must be at least 1"));
        }
        if self.server.max_concurrent_requests == 0 {
            return Err(self.error(text, "server.max_concurrent_requests", "must be at least 1"));
        }
        if !(10..=3_600_000).contains(&self.server.stats_refresh_ms) {
            return Err(self.error(
                text,
                "server.stats_refresh_ms",
                "must be between 10 (ten times a second) and 3600000 (an hour)",
            ));
        }
        for (i, k) in self.server.keys.iter().enumerate() {
            if k.sha256.len() != 64 || !k.sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(self.error(
                    text,
                    &format!("server.keys[{i}].sha256"),
                    "must be the SHA-256 of the key as 64 hex digits (`toolplane serve --hash-key KEY` prints it)",
                ));
            }
            if k.principal.trim().is_empty() {
                return Err(self.error(text, &format!("server.keys[{i}].principal"), "must not be empty"));
            }
        }
        if self.experts.is_empty() {
            return Err(self.error(
                text,
                "experts",
                "at least one [[experts]] entry is needed (provider and model)",
            ));
        }
        for (i, e) in self.experts.iter().enumerate() {
            if let Some(var) = &e.api_key_env {
                if var.trim().is_empty() || var.contains(char::is_whitespace) {
                    return Err(self.error(
                        text,
                        &format!("experts[{i}].api_key_env"),
                        "must be the name of an environment variable, not a key",
                    ));
                }
            }
            if let Some(url) = &e.base_url {
                if !(url.starts_with("http://") || url.starts_with("https://")) {
                    return Err(self.error(
                        text,
                        &format!("experts[{i}].base_url"),
                        format!("`{url}` is not an http(s) URL"),
                    ));
                }
            }
        }
        self.router_config(Some(text))?;
        for (i, o) in self.tools.openapi.iter().enumerate() {
            let mut filters = toolplane_openapi::Filters::default();
            for (include, list, name) in [(true, &o.include, "include"), (false, &o.exclude, "exclude")] {
                for (j, rule) in list.iter().enumerate() {
                    filters
                        .add_rule(include, rule)
                        .map_err(|m| self.error(text, &format!("tools.openapi[{i}].{name}[{j}]"), m))?;
                }
            }
        }
        mcp::validate(self, text)?;
        for (i, name) in self.tools.builtins.iter().enumerate() {
            let known = toolplane_registry::builtin::builtin_specs();
            if name != "*" && !known.iter().any(|s| &s.name == name) {
                let names: Vec<_> = known.iter().map(|s| s.name.as_str()).collect();
                return Err(self.error(
                    text,
                    &format!("tools.builtins[{i}]"),
                    format!("no built-in tool `{name}`; known: {}", names.join(", ")),
                ));
            }
        }
        for (i, b) in self.security.budgets.iter().enumerate() {
            let at = |f: &str| format!("security.budgets[{i}].{f}");
            if !matches!(b.scope.as_str(), "principal" | "team") {
                return Err(self.error(text, &at("scope"), "must be `principal` or `team`"));
            }
            if crate::build::period(&b.period).is_none() {
                return Err(self.error(text, &at("period"), "must be `minute`, `hour`, `day` or `month`"));
            }
            match (b.tokens, b.cost_usd) {
                (Some(_), None) => {}
                (None, Some(c)) if c.is_finite() && c >= 0.0 => {}
                (None, Some(c)) => return Err(self.error(text, &at("cost_usd"), format!("must be >= 0, got {c}"))),
                _ => return Err(self.error(text, &at("tokens"), "give exactly one of `tokens` or `cost_usd`")),
            }
        }
        for (field, v) in [
            ("security.requests_per_minute", self.security.requests_per_minute),
            ("security.tool_calls_per_minute", self.security.tool_calls_per_minute),
        ] {
            if v == Some(0) {
                return Err(self.error(text, field, "must be at least 1 (leave it out for no limit)"));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin() -> Origin {
        Origin {
            file: "toolplane.toml".into(),
            base_dir: PathBuf::from("."),
        }
    }

    const OK: &str = r#"
[server]
bind = "127.0.0.1:9000"

[[experts]]
provider = "scripted"
model = "fast"

[router.default]
strategy = { kind = "weighted" }
"#;

    #[test]
    fn a_small_file_parses() {
        let cfg = ServerConfig::from_toml_str(OK, origin()).unwrap();
        assert_eq!(cfg.bind_addr().unwrap().port(), 9000);
        let r = cfg.router_config(None).unwrap();
        assert_eq!(r.experts[0].id(), "scripted/fast");
    }

    #[test]
    fn a_stats_refresh_out_of_range_is_named_with_its_line() {
        let text = OK.replace(
            "bind = \"127.0.0.1:9000\"",
            "bind = \"127.0.0.1:9000\"\nstats_refresh_ms = 1",
        );
        let e = ServerConfig::from_toml_str(&text, origin()).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("toolplane.toml:4: server.stats_refresh_ms: must be between 10"),
            "{e}"
        );
        let ok = OK.replace(
            "bind = \"127.0.0.1:9000\"",
            "bind = \"127.0.0.1:9000\"\nstats_refresh_ms = 250",
        );
        assert_eq!(
            ServerConfig::from_toml_str(&ok, origin())
                .unwrap()
                .server
                .stats_refresh_ms,
            250
        );
    }

    #[test]
    fn errors_name_file_line_and_field() {
        let text = OK.replace("model = \"fast\"", "model = \"fast\"\nbase_url = \"ftp://x\"");
        let e = ServerConfig::from_toml_str(&text, origin()).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("experts[0].base_url"));
        assert_eq!(e.line, Some(8), "{e}");
        assert!(
            e.to_string().starts_with("toolplane.toml:8: experts[0].base_url:"),
            "{e}"
        );

        let text = OK.replace("[server]", "[server]\nport = 3");
        let e = ServerConfig::from_toml_str(&text, origin()).unwrap_err();
        assert_eq!(e.line, Some(3), "{e}");
        assert!(e.message.contains("unknown field `port`"), "{e}");

        let text = OK.replace("kind = \"weighted\"", "kind = \"telepathy\"");
        let e = ServerConfig::from_toml_str(&text, origin()).unwrap_err();
        assert!(e.field.as_deref().unwrap_or("").starts_with("router"), "{e}");

        let text = format!("{OK}\n[[server.keys]]\nsha256 = \"abc\"\nprincipal = \"a\"\n");
        let e = ServerConfig::from_toml_str(&text, origin()).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("server.keys[0].sha256"));
        assert_eq!(e.line, Some(13), "{e}");
    }

    #[test]
    fn old_price_fields_are_refused_with_the_conversion_and_their_place() {
        let text = OK.replace("model = \"fast\"", "model = \"fast\"\noutput_per_1k = 0.0006");
        let e = ServerConfig::from_toml_str(&text, origin()).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("experts[0].output_per_1k"));
        assert!(
            e.to_string()
                .starts_with("toolplane.toml:8: experts[0].output_per_1k: `output_per_1k` is no longer read"),
            "{e}"
        );
        assert!(e.message.contains("price = { input = .., output = 0.6 }"), "{e}");
        assert!(e.message.contains("USD per million tokens"), "{e}");
    }

    #[test]
    fn a_price_is_the_routers_price_table_and_unset_is_unpriced() {
        let text = OK.replace(
            "model = \"fast\"",
            "model = \"fast\"\nprice = { input = 2.5, output = 10.0, cache_read = 1.25 }",
        );
        let r = ServerConfig::from_toml_str(&text, origin())
            .unwrap()
            .router_config(None)
            .unwrap();
        assert_eq!(
            r.experts[0].price,
            Some(Price::per_million(2.5, 10.0).with_cache_read(1.25))
        );
        let r = ServerConfig::from_toml_str(OK, origin())
            .unwrap()
            .router_config(None)
            .unwrap();
        assert_eq!(r.experts[0].price, None, "no price is unpriced, not $0");

        let text = OK.replace(
            "model = \"fast\"",
            "model = \"fast\"\nprice = { input = -1.0, output = 1.0 }",
        );
        let e = ServerConfig::from_toml_str(&text, origin()).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("experts[0].price.input"), "{e}");
        assert_eq!(e.line, Some(8), "{e}");
        assert!(e.message.contains("USD per million tokens"), "{e}");
    }

    #[test]
    fn budgets_and_builtins_are_checked() {
        let text = format!("{OK}\n[[security.budgets]]\nscope = \"team\"\nperiod = \"week\"\ntokens = 5\n");
        let e = ServerConfig::from_toml_str(&text, origin()).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("security.budgets[0].period"));
        let text = format!("{OK}\n[tools]\nbuiltins = [\"nope\"]\n");
        let e = ServerConfig::from_toml_str(&text, origin()).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("tools.builtins[0]"));
        assert!(e.message.contains("current_time"));
    }
}
