//! The integrations endpoints the console's integrations page reads and
//! drives: providers (key present or missing, never the key; a test call;
//! live figures), OpenAPI descriptions (loaded at start or added at run time
//! into the live registry under a namespace), single tools switched off and
//! on, GitHub and MCP.
//!
//! ```text
//! POST /v1/integrations/openapi ─► load (upload or a file inside [tools] openapi_dir)
//!        │                          ─► convert ─► HTTP tools ─► executor.register (ns.name)
//!        └─ answers tools + warnings; auth scheme names only, never a secret
//! POST /v1/integrations/tools/{name} {enabled:false} ─► executor.unregister, kept here
//!        (gone from GET /v1/tools and search; a call answers 403 `tool_disabled`)
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path as UrlPath, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post};
use parking_lot::Mutex;
use serde::Deserialize;
use serde_json::{Value, json};
use toolplane_core::{CallContext, ChatRequest, Message, Principal, Tool};
use toolplane_metrics::MetricsQuery;
use toolplane_openapi::http::{HttpConfig, Secret, http_tools};
use toolplane_openapi::{
    Conversion, ConversionWarning, ConvertOptions, ConvertedTool, Converter, Filters, OpenApiSpec,
};
use toolplane_security::audit::{AuditRecord, AuditSink};
use toolplane_security::redact::Redact;

use crate::admin::ADMIN_ROLES;
use crate::app::{AppState, RequestId, require_role};
use crate::config::{ExpertEntry, ServerConfig};
use crate::error::ApiError;
use crate::openapi_doc::EndpointDoc;

/// Roles that may change integrations (add descriptions, switch tools, test providers).
const CHANGE_ROLES: &[&str] = &["admin"];

/// Whether a provider's key is set, without the key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyState {
    Present,
    Missing,
    NotNeeded,
}

impl KeyState {
    fn as_str(self) -> &'static str {
        match self {
            Self::Present => "present",
            Self::Missing => "missing",
            Self::NotNeeded => "not_needed",
        }
    }
}

/// One configured expert as the integrations page shows it.
#[derive(Debug, Clone)]
struct ProviderInfo {
    id: String,
    provider: String,
    model: String,
    base_url: Option<String>,
    key_env: Option<String>,
    key: KeyState,
}

/// One operation that became a tool.
#[derive(Debug, Clone)]
struct ApiTool {
    name: String,
    method: &'static str,
    path: String,
    operation_id: Option<String>,
    tags: Vec<String>,
    summary: String,
    warnings: Vec<ConversionWarning>,
}

/// A description whose operations are tools.
#[derive(Debug, Clone)]
pub(crate) struct LoadedApi {
    namespace: Option<String>,
    /// `config`, `demo`, `upload` or `path`.
    source: &'static str,
    /// The file, for `config` and `path`.
    location: Option<String>,
    title: String,
    version: String,
    base_url: Option<String>,
    /// Security scheme names with a credential configured (never the credential).
    auth: Vec<String>,
    tools: Vec<ApiTool>,
    warnings: Vec<ConversionWarning>,
    added_by: Option<String>,
    added_ms: u64,
}

impl LoadedApi {
    /// The record of a conversion loaded at start (`source`: `config` or `demo`).
    pub(crate) fn at_start(
        source: &'static str,
        location: Option<String>,
        spec: &OpenApiSpec,
        conversion: &Conversion,
        base_url: Option<String>,
        auth: Vec<String>,
    ) -> Self {
        Self {
            namespace: None,
            source,
            location,
            title: spec.title().to_owned(),
            version: spec.api_version().to_owned(),
            base_url,
            auth,
            tools: conversion.tools.iter().map(api_tool).collect(),
            warnings: conversion.warnings.clone(),
            added_by: None,
            added_ms: crate::runs::now_ms(),
        }
    }

    fn to_json(&self, disabled: &BTreeMap<String, Arc<dyn Tool>>) -> Value {
        let tools: Vec<Value> = self
            .tools
            .iter()
            .map(|t| {
                json!({
                    "name": t.name, "method": t.method, "path": t.path, "operation_id": t.operation_id,
                    "tags": t.tags, "summary": t.summary, "enabled": !disabled.contains_key(&t.name),
                    "warnings": warnings_json(&t.warnings),
                })
            })
            .collect();
        json!({
            "namespace": self.namespace, "source": self.source, "location": self.location,
            "title": self.title, "version": self.version, "base_url": self.base_url,
            "auth": self.auth, "tools": tools, "warnings": warnings_json(&self.warnings),
            "tool_count": self.tools.len(), "added_by": self.added_by, "added_unix_ms": self.added_ms,
        })
    }
}

fn warnings_json(w: &[ConversionWarning]) -> Vec<Value> {
    w.iter()
        .map(|w| json!({"pointer": w.pointer, "message": w.message}))
        .collect()
}

fn api_tool(t: &ConvertedTool) -> ApiTool {
    let summary = t
        .spec
        .annotations
        .title
        .clone()
        .unwrap_or_else(|| t.spec.description.lines().next().unwrap_or("").to_owned());
    ApiTool {
        name: t.spec.name.clone(),
        method: t.binding.method.as_str(),
        path: t.binding.path_template.clone(),
        operation_id: t.operation_id.clone(),
        tags: t.spec.annotations.tags.clone(),
        summary,
        warnings: t.warnings.clone(),
    }
}

/// The GitHub tools as configured at start.
#[derive(Debug, Clone)]
pub(crate) struct GithubInfo {
    pub(crate) names: Vec<String>,
    pub(crate) token_env: String,
    pub(crate) token_present: bool,
    pub(crate) read_only: bool,
    pub(crate) base_url: String,
}

/// What the integrations endpoints know beyond the executor: the
/// configuration's providers, the loaded descriptions and the switched-off tools.
#[derive(Debug)]
pub(crate) struct Integrations {
    providers: Vec<ProviderInfo>,
    openapi_dir: Option<PathBuf>,
    apis: Mutex<Vec<LoadedApi>>,
    /// Tools taken out of the registry, by name, to put back when enabled.
    disabled: Mutex<BTreeMap<String, Arc<dyn Tool>>>,
    github: Option<GithubInfo>,
}

/// The variable holding a vendor's key when the entry names none, and its default base URL.
fn vendor_defaults(provider: &str) -> (Option<&'static str>, Option<&'static str>) {
    use toolplane_providers::{anthropic, cohere, mistral, openai};
    match provider {
        "openai" | "openai-responses" => (Some("OPENAI_API_KEY"), Some(openai::OPENAI_BASE_URL)),
        "anthropic" => (Some("ANTHROPIC_API_KEY"), Some(anthropic::ANTHROPIC_BASE_URL)),
        "mistral" => (Some("MISTRAL_API_KEY"), Some(mistral::MISTRAL_BASE_URL)),
        "cohere" => (Some("CO_API_KEY"), Some(cohere::COHERE_BASE_URL)),
        "gemini" => (Some("GOOGLE_API_KEY"), None),
        "azure" => (Some("AZURE_OPENAI_API_KEY"), None),
        "openai-compatible" => (Some("OPENAI_API_KEY"), None),
        other => match toolplane_providers::presets::by_name(other) {
            Some(p) if p.key_required => (p.key_env, Some(p.base_url)),
            Some(p) => (None, Some(p.base_url)),
            None => (None, None),
        },
    }
}

fn env_present(var: &str) -> bool {
    std::env::var(var).is_ok_and(|v| !v.trim().is_empty())
}

fn provider_info(e: &ExpertEntry) -> ProviderInfo {
    let (default_env, default_url) = vendor_defaults(&e.provider);
    let key_env = e.api_key_env.clone().or_else(|| default_env.map(str::to_owned));
    let key = if e.provider == "scripted" {
        KeyState::NotNeeded
    } else {
        match &key_env {
            Some(var) if env_present(var) => KeyState::Present,
            Some(var) if e.provider == "gemini" && env_present("GEMINI_API_KEY") && var == "GOOGLE_API_KEY" => {
                KeyState::Present
            }
            Some(_) => KeyState::Missing,
            None => KeyState::NotNeeded,
        }
    };
    ProviderInfo {
        id: e.id(),
        provider: e.provider.clone(),
        model: e.model.clone(),
        base_url: e.base_url.clone().or_else(|| default_url.map(str::to_owned)),
        key_env,
        key,
    }
}

impl Integrations {
    /// Built once with the gateway.
    pub(crate) fn new(cfg: &ServerConfig, apis: Vec<LoadedApi>, github: Option<GithubInfo>) -> Self {
        Self {
            providers: cfg.experts.iter().map(provider_info).collect(),
            openapi_dir: cfg.tools.openapi_dir.as_deref().map(|d| cfg.resolve(d)),
            apis: Mutex::new(apis),
            disabled: Mutex::new(BTreeMap::new()),
            github,
        }
    }

    /// True when an admin switched `name` off.
    pub(crate) fn is_disabled(&self, name: &str) -> bool {
        self.disabled.lock().contains_key(name)
    }
}

/// The refusal of a call to a switched-off tool.
pub(crate) fn disabled_error(name: &str) -> ApiError {
    ApiError::forbidden(format!(
        "the tool `{name}` is disabled on this server; an admin can enable it again \
         (POST /v1/integrations/tools/{name} {{\"enabled\": true}})"
    ))
    .with_code("tool_disabled")
}

/// The routes of this module (and the dashboard's), for `app::endpoints`.
pub(crate) fn endpoints() -> Vec<(EndpointDoc, MethodRouter<AppState>)> {
    const JSON: &str = "application/json";
    let doc = |method, path, operation_id, summary, request: Option<fn() -> Value>, query| EndpointDoc {
        method,
        path,
        operation_id,
        summary,
        authenticated: true,
        request,
        produces: JSON,
        query,
    };
    let mut v = vec![
        (
            doc(
                "get",
                "/v1/integrations/providers",
                "listProviderIntegrations",
                "Each configured expert: provider, model, base URL, whether its key is set (never the key), and live figures.",
                None,
                &[],
            ),
            get(providers),
        ),
        (
            doc(
                "post",
                "/v1/integrations/providers/{id}/test",
                "testProviderIntegration",
                "Sends one tiny chat request to the expert and answers the result and the latency (admin).",
                None,
                &[],
            ),
            post(test_provider),
        ),
        (
            doc(
                "get",
                "/v1/integrations/openapi",
                "listOpenApiIntegrations",
                "The loaded OpenAPI descriptions with the tools they gave and the conversion warnings.",
                None,
                &[],
            ),
            get(list_openapi),
        ),
        (
            doc(
                "post",
                "/v1/integrations/openapi",
                "addOpenApiIntegration",
                "Adds an OpenAPI description (the body itself, or {path} inside [tools] openapi_dir) and registers its tools under a namespace (admin).",
                Some(add_openapi_schema as fn() -> Value),
                &[
                    ("namespace", "string", "tool name prefix (default: from the title)"),
                    ("base_url", "string", "overrides the description's servers"),
                    (
                        "replace",
                        "boolean",
                        "replace a description loaded under the same namespace",
                    ),
                ],
            ),
            post(add_openapi),
        ),
        (
            doc(
                "post",
                "/v1/integrations/tools/{name}",
                "setToolEnabled",
                "Switches one tool off (gone from listings, calls refused) or on again (admin).",
                Some(tool_enabled_schema as fn() -> Value),
                &[],
            ),
            post(set_tool_enabled),
        ),
        (
            doc(
                "get",
                "/v1/integrations/github",
                "getGithubIntegration",
                "Whether the GitHub tools are configured, the token present, and how many tools they give.",
                None,
                &[],
            ),
            get(github),
        ),
        (
            doc(
                "get",
                "/v1/integrations/mcp",
                "listMcpIntegrations",
                "Connected MCP servers and their tools (an empty list when none).",
                None,
                &[],
            ),
            get(mcp),
        ),
    ];
    v.extend(crate::dashboard::endpoints());
    v
}

fn add_openapi_schema() -> Value {
    json!({
        "description": "An OpenAPI description (JSON object with `openapi`, or YAML text), or this object.",
        "type": "object",
        "properties": {
            "spec": {"description": "The description: an object, or JSON/YAML text."},
            "path": {"type": "string", "description": "A file inside [tools] openapi_dir."},
            "namespace": {"type": "string", "pattern": "^[a-z][a-z0-9_]{0,31}$"},
            "base_url": {"type": "string"},
            "include": {"type": "array", "items": {"type": "string"}},
            "exclude": {"type": "array", "items": {"type": "string"}},
            "auth": {"type": "object", "description": "Per security scheme: a token, or {username, password}. Never echoed back.",
                "additionalProperties": {}},
            "replace": {"type": "boolean"}
        }
    })
}

fn tool_enabled_schema() -> Value {
    json!({"type": "object", "required": ["enabled"], "properties": {"enabled": {"type": "boolean"}}})
}

/// `GET /v1/integrations/providers`.
async fn providers(State(state): State<AppState>, Extension(principal): Extension<Principal>) -> Response {
    if let Err(e) = require_role(&principal, ADMIN_ROLES, "reading provider integrations") {
        return e.into_response();
    }
    let gw = &state.gateway;
    let report = gw.metrics.snapshot(&MetricsQuery::all_time()).ok();
    let data: Vec<Value> = gw
        .integrations
        .providers
        .iter()
        .map(|p| {
            // The expert's provider name in the metrics is the router's (`scripted` too).
            let handle = gw.experts.iter().find(|e| e.id == p.id);
            let metric_provider = handle.map_or(p.provider.as_str(), |h| h.provider.as_str());
            let stats = report.as_ref().and_then(|r| {
                r.models
                    .iter()
                    .find(|m| m.provider.as_deref() == Some(metric_provider) && m.model.as_deref() == Some(&p.model))
            });
            let figures = match stats {
                Some(s) => json!({
                    "calls": s.calls, "successes": s.successes, "failures": s.failures,
                    "success_rate": s.success_rate,
                    "latency_p50_ms": s.latency_ms.map(|l| l.p50), "latency_p95_ms": s.latency_ms.map(|l| l.p95),
                    "cost_usd": s.cost_usd, "unpriced_calls": s.unpriced_calls, "errors": s.errors,
                }),
                None => json!({"calls": 0, "successes": 0, "failures": 0, "success_rate": null,
                    "latency_p50_ms": null, "latency_p95_ms": null, "cost_usd": 0.0, "unpriced_calls": 0,
                    "errors": {}}),
            };
            json!({
                "id": p.id, "provider": p.provider, "model": p.model, "base_url": p.base_url,
                "key_env": p.key_env, "key": p.key.as_str(), "key_present": p.key == KeyState::Present,
                "scripted": p.provider == "scripted", "figures": figures,
            })
        })
        .collect();
    axum::Json(json!({"object": "list", "data": data, "figures_window": "all_time"})).into_response()
}

/// `POST /v1/integrations/providers/{id}/test`: one short request through
/// the expert's chain (rate limit and budget apply, the metrics record it).
async fn test_provider(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Extension(rid): Extension<RequestId>,
    UrlPath(id): UrlPath<String>,
) -> Response {
    if let Err(e) = require_role(&principal, CHANGE_ROLES, "testing a provider") {
        return e.into_response();
    }
    let gw = &state.gateway;
    let Some(expert) = gw.experts.iter().find(|e| e.id == id) else {
        let known: Vec<&str> = gw.experts.iter().map(|e| e.id.as_str()).collect();
        return ApiError::not_found(format!("no expert `{id}`; known: {}", known.join(", ")))
            .with_code("expert_not_found")
            .into_response();
    };
    let req = ChatRequest::new(
        expert.model.clone(),
        vec![Message::user(
            "Connection test from toolplane: reply with the single word OK.",
        )],
    )
    .with_max_tokens(16);
    let ctx = CallContext::new(rid.0.clone()).with_principal(principal);
    let started = Instant::now();
    let result = expert.chat.chat(&req, &ctx).await;
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    let body = match result {
        Ok(r) => json!({
            "id": id, "ok": true, "latency_ms": latency_ms, "model": r.model,
            "text": r.text().chars().take(200).collect::<String>(),
            "usage": {"input_tokens": r.usage.input_tokens, "output_tokens": r.usage.output_tokens},
        }),
        Err(e) => json!({
            "id": id, "ok": false, "latency_ms": latency_ms,
            "error": {"kind": e.kind().as_str(), "message": e.to_string()},
        }),
    };
    axum::Json(body).into_response()
}

/// `GET /v1/integrations/openapi`.
async fn list_openapi(State(state): State<AppState>) -> Response {
    let ints = &state.gateway.integrations;
    // Lock order everywhere: `apis` before `disabled`.
    let apis = ints.apis.lock();
    let disabled = ints.disabled.lock();
    let data: Vec<Value> = apis.iter().map(|a| a.to_json(&disabled)).collect();
    axum::Json(json!({
        "object": "list", "data": data,
        "openapi_dir": ints.openapi_dir.as_ref().map(|d| d.display().to_string()),
    }))
    .into_response()
}

/// Query of `POST /v1/integrations/openapi` (for a raw description body).
#[derive(Debug, Default, Deserialize)]
struct AddQuery {
    namespace: Option<String>,
    base_url: Option<String>,
    replace: Option<bool>,
}

/// The JSON form of `POST /v1/integrations/openapi`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct AddRequest {
    spec: Option<Value>,
    path: Option<String>,
    namespace: Option<String>,
    base_url: Option<String>,
    #[serde(default)]
    include: Vec<String>,
    #[serde(default)]
    exclude: Vec<String>,
    #[serde(default)]
    auth: BTreeMap<String, Value>,
    #[serde(default)]
    replace: bool,
}

/// Where the description comes from.
enum Source {
    Value(Value),
    Text(String),
    File(PathBuf, String),
}

fn valid_namespace(ns: &str) -> bool {
    let mut chars = ns.chars();
    ns.len() <= 32
        && chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// `My Pet Store API` → `my_pet_store_api` (at most 24 characters; `api` when nothing is left).
fn namespace_from_title(title: &str) -> String {
    let mut ns = String::new();
    for c in title.chars() {
        if c.is_ascii_alphanumeric() {
            ns.push(c.to_ascii_lowercase());
        } else if !ns.ends_with('_') && !ns.is_empty() {
            ns.push('_');
        }
        if ns.len() >= 24 {
            break;
        }
    }
    let ns = ns.trim_matches('_').trim_start_matches(|c: char| c.is_ascii_digit());
    if ns.is_empty() { "api".into() } else { ns.to_owned() }
}

/// `rel` inside `dir`, after resolving `..` and symbolic links; refuses anything outside.
fn inside_dir(dir: &Path, rel: &str) -> Result<PathBuf, ApiError> {
    let dir = dir.canonicalize().map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            format!("[tools] openapi_dir `{}` cannot be read: {e}", dir.display()),
        )
    })?;
    let candidate = dir.join(rel);
    let real = candidate
        .canonicalize()
        .map_err(|e| ApiError::invalid("path", format!("`{rel}`: {e}")).with_code("openapi_path_not_found"))?;
    if !real.starts_with(&dir) {
        return Err(ApiError::invalid(
            "path",
            format!("`{rel}` is outside [tools] openapi_dir; only files inside it can be loaded"),
        )
        .with_code("openapi_path_outside_dir"));
    }
    if !real.is_file() {
        return Err(ApiError::invalid("path", format!("`{rel}` is not a file")).with_code("openapi_path_not_found"));
    }
    Ok(real)
}

fn credential_config(mut http: HttpConfig, auth: &BTreeMap<String, Value>) -> Result<HttpConfig, ApiError> {
    for (scheme, v) in auth {
        http = match v {
            Value::String(token) if !token.is_empty() => http.with_secret(scheme.clone(), Secret::new(token.clone())),
            Value::Object(o) => {
                let user = o.get("username").and_then(Value::as_str);
                let pass = o.get("password").and_then(Value::as_str);
                match (user, pass) {
                    (Some(u), Some(p)) => http.with_basic(scheme.clone(), u, Secret::new(p)),
                    _ => {
                        return Err(ApiError::invalid(
                            format!("auth.{scheme}"),
                            "a credential is a token string or {\"username\", \"password\"}",
                        ));
                    }
                }
            }
            _ => {
                return Err(ApiError::invalid(
                    format!("auth.{scheme}"),
                    "a credential is a non-empty token string or {\"username\", \"password\"}",
                ));
            }
        };
    }
    Ok(http)
}

/// `POST /v1/integrations/openapi`.
async fn add_openapi(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Extension(rid): Extension<RequestId>,
    Query(q): Query<AddQuery>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    match add_openapi_inner(&state, &principal, &rid, q, &headers, body).await {
        Ok(v) => (StatusCode::OK, axum::Json(v)).into_response(),
        Err(e) => e.into_response(),
    }
}

fn parse_add_body(q: AddQuery, headers: &HeaderMap, bytes: &[u8]) -> Result<(Source, AddRequest), ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let from_query = |req: AddRequest| AddRequest {
        namespace: q.namespace.clone().or(req.namespace),
        base_url: q.base_url.clone().or(req.base_url),
        replace: q.replace.unwrap_or(req.replace),
        ..req
    };
    let text = std::str::from_utf8(bytes)
        .map_err(|_| ApiError::invalid("body", "the body is not UTF-8 text").with_code("malformed_body"))?;
    if text.trim().is_empty() {
        return Err(ApiError::invalid(
            "body",
            "the body is empty: send a description, or {\"path\": ...} for a file inside [tools] openapi_dir",
        ));
    }
    let json: Option<Value> = if content_type.contains("json") || text.trim_start().starts_with('{') {
        Some(serde_json::from_str(text).map_err(|e| {
            ApiError::invalid("body", format!("the body is not valid JSON: {e}")).with_code("malformed_json")
        })?)
    } else {
        None
    };
    match json {
        Some(v) if v.get("openapi").is_some() || v.get("swagger").is_some() => {
            Ok((Source::Value(v), from_query(AddRequest::default())))
        }
        Some(v) => {
            let req: AddRequest = serde_json::from_value(v).map_err(|e| {
                ApiError::invalid(
                    "body",
                    format!("not a description (no `openapi` field) nor a request: {e}"),
                )
            })?;
            let mut req = from_query(req);
            let source = match (req.spec.take(), req.path.clone()) {
                (Some(_), Some(_)) => return Err(ApiError::invalid("path", "send either `spec` or `path`, not both")),
                (Some(Value::String(t)), None) => Source::Text(t),
                (Some(v @ Value::Object(_)), None) => Source::Value(v),
                (Some(_), None) => {
                    return Err(ApiError::invalid(
                        "spec",
                        "`spec` is a description object or its JSON/YAML text",
                    ));
                }
                (None, Some(p)) => Source::File(PathBuf::new(), p),
                (None, None) => {
                    return Err(ApiError::invalid("body", "send `spec` (the description) or `path`"));
                }
            };
            Ok((source, req))
        }
        None => Ok((Source::Text(text.to_owned()), from_query(AddRequest::default()))),
    }
}

async fn add_openapi_inner(
    state: &AppState,
    principal: &Principal,
    rid: &RequestId,
    q: AddQuery,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Value, ApiError> {
    require_role(principal, CHANGE_ROLES, "adding an OpenAPI description")?;
    let bytes = body.map_err(|e| {
        ApiError::new(
            e.status(),
            "invalid_request_error",
            format!("cannot read the request body: {e}"),
        )
        .with_code(if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            "request_too_large"
        } else {
            "malformed_body"
        })
    })?;
    let (source, req) = parse_add_body(q, headers, &bytes)?;
    let gw = state.gateway.clone();
    let ints = &gw.integrations;
    let (source, location) = match source {
        Source::File(_, rel) => {
            let Some(dir) = &ints.openapi_dir else {
                return Err(ApiError::invalid(
                    "path",
                    "this server has no [tools] openapi_dir, so no file can be loaded by path; upload the description instead",
                )
                .with_code("openapi_dir_not_configured"));
            };
            let real = inside_dir(dir, &rel)?;
            (Source::File(real, rel.clone()), Some(rel))
        }
        other => (other, None),
    };
    let source_name = match &source {
        Source::File(..) => "path",
        _ => "upload",
    };
    let root = ints.openapi_dir.clone();
    let mut filters = Filters::default();
    for r in &req.include {
        filters.add_rule(true, r).map_err(|m| ApiError::invalid("include", m))?;
    }
    for r in &req.exclude {
        filters
            .add_rule(false, r)
            .map_err(|m| ApiError::invalid("exclude", m))?;
    }
    let requested_ns = req.namespace.clone();
    if let Some(ns) = &requested_ns {
        if !valid_namespace(ns) {
            return Err(ApiError::invalid(
                "namespace",
                format!("`{ns}`: a namespace is a lowercase letter then up to 31 lowercase letters, digits or `_`"),
            ));
        }
    }
    // Load and convert off the async threads: a large description takes a while.
    let loaded = tokio::task::spawn_blocking(move || -> Result<(OpenApiSpec, Conversion, String), ApiError> {
        let spec = match source {
            Source::Value(v) => OpenApiSpec::from_value(v),
            Source::Text(t) => OpenApiSpec::from_str(&t),
            Source::File(real, _) => {
                let options = toolplane_openapi::LoadOptions {
                    file_root: root.and_then(|d| d.canonicalize().ok()),
                    ..Default::default()
                };
                OpenApiSpec::from_path_with(&real, &options)
            }
        }
        .map_err(|e| {
            ApiError::invalid("spec", format!("the description does not load: {e}")).with_code("invalid_openapi")
        })?;
        let ns = requested_ns.unwrap_or_else(|| namespace_from_title(spec.title()));
        let options = ConvertOptions {
            filters,
            max_name_len: 64usize.saturating_sub(ns.len() + 2).max(8),
            ..ConvertOptions::default()
        };
        let mut conversion = Converter::new(options).convert(&spec);
        for t in &mut conversion.tools {
            t.spec.name = format!("{ns}.{}", t.spec.name);
            if !t.spec.annotations.tags.contains(&ns) {
                t.spec.annotations.tags.push(ns.clone());
            }
        }
        Ok((spec, conversion, ns))
    })
    .await
    .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "server_error", e.to_string()))??;
    let (spec, conversion, ns) = loaded;
    if conversion.tools.is_empty() {
        return Err(ApiError::invalid(
            "spec",
            format!(
                "the description gave no tools (no operations, or the filters kept none); {} warning(s): {}",
                conversion.warnings.len(),
                conversion
                    .warnings
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
        )
        .with_code("openapi_no_tools"));
    }
    let mut http = HttpConfig::new();
    if let Some(u) = &req.base_url {
        http = http.with_base_url(u.clone());
    }
    let http = credential_config(http, &req.auth)?;
    let tools = http_tools(conversion.tools.clone(), http).map_err(|e| {
        ApiError::invalid(
            "base_url",
            format!("the tools cannot be set up: {e} (a description without an absolute server URL needs `base_url`)"),
        )
        .with_code("openapi_setup_failed")
    })?;

    let record = LoadedApi {
        namespace: Some(ns.clone()),
        source: source_name,
        location,
        title: spec.title().to_owned(),
        version: spec.api_version().to_owned(),
        base_url: req.base_url.clone(),
        auth: req.auth.keys().cloned().collect(),
        tools: conversion.tools.iter().map(api_tool).collect(),
        warnings: conversion.warnings.clone(),
        added_by: Some(principal.id.clone()),
        added_ms: crate::runs::now_ms(),
    };
    {
        let mut apis = ints.apis.lock();
        let existing = apis.iter().position(|a| a.namespace.as_deref() == Some(&ns));
        if let Some(i) = existing {
            if !req.replace {
                return Err(ApiError::new(
                    StatusCode::CONFLICT,
                    "invalid_request_error",
                    format!("a description is already loaded under the namespace `{ns}`; send `replace: true` or another `namespace`"),
                )
                .with_param("namespace")
                .with_code("namespace_taken"));
            }
            let old = apis.remove(i);
            let mut disabled = ints.disabled.lock();
            for t in &old.tools {
                gw.executor.unregister(&t.name);
                disabled.remove(&t.name);
            }
        }
        let mut added: Vec<String> = Vec::new();
        for tool in tools {
            let name = tool.spec().name.clone();
            if let Err(e) = gw.executor.register(tool) {
                for n in &added {
                    gw.executor.unregister(n);
                }
                return Err(ApiError::new(
                    StatusCode::CONFLICT,
                    "invalid_request_error",
                    format!("tool `{name}` cannot be registered: {e}; nothing from this description was added"),
                )
                .with_code("tool_conflict"));
            }
            added.push(name);
        }
        apis.push(record.clone());
    }
    audit(
        &gw,
        rid,
        principal,
        "integration_openapi_added",
        json!({"namespace": ns, "source": source_name, "tools": record.tools.len(), "auth_schemes": record.auth}),
    )
    .await;
    let disabled = ints.disabled.lock();
    Ok(record.to_json(&disabled))
}

/// Appends an admin action to the audit log (a failure to write is logged in the answer's place: not fatal).
async fn audit(gw: &crate::build::Gateway, rid: &RequestId, principal: &Principal, event: &str, detail: Value) {
    let mut r = AuditRecord::event(event, rid.0.clone(), principal.id.clone());
    r.roles.clone_from(&principal.roles);
    r.status = "ok".into();
    r.detail = Some(detail);
    let _ = gw.audit.append(r.redacted()).await;
}

/// Body of `POST /v1/integrations/tools/{name}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EnabledBody {
    enabled: bool,
}

/// `POST /v1/integrations/tools/{name}` `{"enabled": bool}`.
async fn set_tool_enabled(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Extension(rid): Extension<RequestId>,
    UrlPath(name): UrlPath<String>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    if let Err(e) = require_role(&principal, CHANGE_ROLES, "switching a tool on or off") {
        return e.into_response();
    }
    let v = match crate::app::json_body(body, crate::error::Dialect::OpenAi) {
        Ok(v) => v,
        Err(e) => return e.into_response(),
    };
    let Ok(EnabledBody { enabled }) = serde_json::from_value::<EnabledBody>(v) else {
        return ApiError::invalid("enabled", "the body is {\"enabled\": true|false}").into_response();
    };
    let gw = &state.gateway;
    let ints = &gw.integrations;
    let changed = {
        let mut disabled = ints.disabled.lock();
        if enabled {
            match disabled.remove(&name) {
                Some(tool) => {
                    if let Err(e) = gw.executor.register(tool.clone()) {
                        disabled.insert(name.clone(), tool);
                        return ApiError::new(
                            StatusCode::CONFLICT,
                            "invalid_request_error",
                            format!("`{name}` cannot be enabled again: {e}"),
                        )
                        .into_response();
                    }
                    true
                }
                None if gw.executor.with_registry(|r| r.get(&name).is_some()) => false,
                None => {
                    return ApiError::not_found(format!("no tool `{name}`"))
                        .with_code("tool_not_found")
                        .into_response();
                }
            }
        } else if disabled.contains_key(&name) {
            false
        } else {
            // The registered name, when `name` is the flat form.
            let canonical = gw
                .executor
                .with_registry(|r| r.get(&name).map(|t| t.spec().name.clone()));
            match canonical.and_then(|n| gw.executor.unregister(&n).map(|t| (n, t))) {
                Some((n, tool)) => {
                    disabled.insert(n, tool);
                    true
                }
                None => {
                    return ApiError::not_found(format!("no tool `{name}`; GET /v1/tools lists them"))
                        .with_code("tool_not_found")
                        .into_response();
                }
            }
        }
    };
    if changed {
        let event = if enabled { "tool_enabled" } else { "tool_disabled" };
        audit(gw, &rid, &principal, event, json!({"tool": name})).await;
    }
    axum::Json(json!({"tool": name, "enabled": enabled, "changed": changed})).into_response()
}

/// `GET /v1/integrations/github`.
async fn github(State(state): State<AppState>) -> Response {
    let gw = &state.gateway;
    let body = match &gw.integrations.github {
        None => json!({"configured": false, "tools": 0, "enabled_tools": 0,
            "hint": "add [tools.github] to the configuration (token in GITHUB_TOKEN)"}),
        Some(g) => {
            let disabled = gw.integrations.disabled.lock();
            let enabled = g.names.iter().filter(|n| !disabled.contains_key(*n)).count();
            json!({"configured": true, "tools": g.names.len(), "enabled_tools": enabled,
                "token_env": g.token_env, "token_present": g.token_present,
                "read_only": g.read_only, "base_url": g.base_url,
                "prefix": toolplane_github::DEFAULT_PREFIX})
        }
    };
    axum::Json(body).into_response()
}

/// `GET /v1/integrations/mcp`: the gateway connects to no MCP server yet;
/// `served` says whether it serves its own tools over MCP.
async fn mcp() -> Response {
    let served = crate::app::endpoints().iter().any(|(d, _)| d.path == "/mcp");
    axum::Json(json!({"object": "list", "data": [], "served": served.then_some("/mcp")})).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespaces_come_from_titles_and_are_checked() {
        assert_eq!(namespace_from_title("My Pet-Store API"), "my_pet_store_api");
        assert_eq!(namespace_from_title("<script>"), "script");
        assert_eq!(namespace_from_title("42"), "api");
        assert_eq!(namespace_from_title(""), "api");
        assert!(valid_namespace("petstore"));
        assert!(valid_namespace("p2_x"));
        assert!(!valid_namespace("Pet"));
        assert!(!valid_namespace("2pet"));
        assert!(!valid_namespace("a.b"));
        assert!(!valid_namespace(""));
    }

    #[test]
    fn paths_outside_the_folder_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let inner = dir.path().join("specs");
        std::fs::create_dir(&inner).unwrap();
        std::fs::write(inner.join("a.yaml"), "openapi: 3.1.0").unwrap();
        std::fs::write(dir.path().join("secret.yaml"), "x").unwrap();
        assert!(inside_dir(&inner, "a.yaml").is_ok());
        let e = inside_dir(&inner, "../secret.yaml").unwrap_err();
        assert_eq!(e.code.as_deref(), Some("openapi_path_outside_dir"));
        let e = inside_dir(&inner, dir.path().join("secret.yaml").to_str().unwrap()).unwrap_err();
        assert_eq!(e.code.as_deref(), Some("openapi_path_outside_dir"));
        let e = inside_dir(&inner, "missing.yaml").unwrap_err();
        assert_eq!(e.code.as_deref(), Some("openapi_path_not_found"));
    }
}
