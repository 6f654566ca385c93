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
//! DELETE /v1/integrations/openapi/{namespace} ─► executor.unregister its tools
//!
//! each change ─► [server] state_dir/integrations.json (atomic rewrite) ─► read at start
//! ```

pub(crate) mod mcp;
mod openapi;
mod state;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path as UrlPath, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post};
use parking_lot::Mutex;
use serde::Deserialize;
use serde_json::{Value, json};
use toolplane_core::{CallContext, ChatRequest, Message, Principal, Tool};
use toolplane_metrics::MetricsQuery;
use toolplane_security::audit::{AuditRecord, AuditSink};
use toolplane_security::redact::Redact;

pub(crate) use openapi::LoadedApi;

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
    /// Names `integrations.json` switches off that no tool has now (kept, so
    /// such a tool stays off when it comes back).
    disabled_pending: Mutex<BTreeSet<String>>,
    github: Option<GithubInfo>,
    /// `integrations.json`.
    state: state::StateStore,
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
            disabled_pending: Mutex::new(BTreeSet::new()),
            github,
            state: state::StateStore::new(&cfg.resolve(cfg.server.state_dir.as_deref().unwrap_or(".toolplane"))),
        }
    }

    /// True when an admin switched `name` off.
    pub(crate) fn is_disabled(&self, name: &str) -> bool {
        self.disabled.lock().contains_key(name)
    }

    /// What `integrations.json` holds now. Lock order: `apis`, `disabled`, `disabled_pending`.
    fn snapshot(&self) -> state::SavedState {
        let apis = self.apis.lock();
        let disabled = self.disabled.lock();
        let pending = self.disabled_pending.lock();
        let mut disabled_tools: Vec<String> = disabled.keys().cloned().collect();
        disabled_tools.extend(pending.iter().cloned());
        disabled_tools.sort();
        state::SavedState {
            version: 0,
            openapi: apis.iter().filter_map(|a| a.saved().cloned()).collect(),
            disabled_tools,
        }
    }
}

/// Reads `integrations.json` and applies it to the built gateway: adds the
/// descriptions again and switches the named tools off.
///
/// # Errors
/// The file cannot be read or parsed, or an entry cannot be applied; the
/// message names the file, the entry and the problem.
pub(crate) fn restore(gw: &crate::build::Gateway) -> Result<(), String> {
    let ints = &gw.integrations;
    let shown = ints.state.path().display().to_string();
    let saved = ints.state.load()?;
    openapi::restore_apis(gw, saved.openapi).map_err(|e| format!("{shown}: {e}"))?;
    let mut disabled = ints.disabled.lock();
    let mut pending = ints.disabled_pending.lock();
    for name in saved.disabled_tools {
        match gw.executor.unregister(&name) {
            Some(tool) => {
                disabled.insert(name, tool);
            }
            None => {
                pending.insert(name);
            }
        }
    }
    Ok(())
}

/// Writes `integrations.json` after a change (off the async threads: it fsyncs).
async fn persist(gw: &Arc<crate::build::Gateway>) -> Result<(), ApiError> {
    let gw = gw.clone();
    let written = tokio::task::spawn_blocking(move || {
        let ints = &gw.integrations;
        ints.state.save(|| ints.snapshot())
    })
    .await
    .unwrap_or_else(|e| Err(e.to_string()));
    written.map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            format!("the change is live in this process but was not saved ({e}); it will not survive a restart"),
        )
        .with_code("state_not_saved")
    })
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
            get(openapi::list_openapi),
        ),
        (
            doc(
                "post",
                "/v1/integrations/openapi",
                "addOpenApiIntegration",
                "Adds an OpenAPI description (the body itself, or {path} inside [tools] openapi_dir) and registers its tools under a namespace (admin).",
                Some(openapi::add_openapi_schema as fn() -> Value),
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
            post(openapi::add_openapi),
        ),
        (
            doc(
                "delete",
                "/v1/integrations/openapi/{namespace}",
                "removeOpenApiIntegration",
                "Removes a description added at run time and its tools, here and in the saved state (admin).",
                None,
                &[],
            ),
            axum::routing::delete(openapi::remove_openapi),
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
                "Each [[tools.mcp]] server: transport, state (connecting, connected, reconnecting, failed), last error, and its tools.",
                None,
                &[],
            ),
            get(mcp::list_mcp),
        ),
        (
            doc(
                "post",
                "/v1/integrations/mcp/{name}/reconnect",
                "reconnectMcpIntegration",
                "Closes and reopens an MCP server's connection, or tries a failed one now; answers the server's new state (admin).",
                None,
                &[],
            ),
            post(mcp::reconnect_mcp),
        ),
    ];
    v.extend(crate::dashboard::endpoints());
    v
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
                None if ints.disabled_pending.lock().remove(&name) => true,
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
        if let Err(e) = persist(gw).await {
            return e.into_response();
        }
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
