//! `GET/POST /v1/integrations/openapi`: the loaded descriptions, and
//! descriptions added at run time (an upload, or a file inside
//! `[tools] openapi_dir`), converted and registered in the live registry
//! under a namespace. Credentials are accepted, never echoed back.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path as UrlPath, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use toolplane_core::{Principal, Tool};
use toolplane_openapi::http::{HttpConfig, Secret, http_tools};
use toolplane_openapi::{
    Conversion, ConversionWarning, ConvertOptions, ConvertedTool, Converter, Filters, OpenApiSpec,
};

use super::state::SavedApi;
use super::{CHANGE_ROLES, audit};
use crate::app::{AppState, RequestId, require_role};
use crate::error::ApiError;

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
    /// What `integrations.json` keeps to add it again at start (run-time additions only).
    saved: Option<SavedApi>,
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
            saved: None,
        }
    }

    /// The entry `integrations.json` keeps, for a description added at run time.
    pub(super) fn saved(&self) -> Option<&SavedApi> {
        self.saved.as_ref()
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
            "persisted": self.saved.is_some(),
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

pub(super) fn add_openapi_schema() -> Value {
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

/// `GET /v1/integrations/openapi`.
pub(super) async fn list_openapi(State(state): State<AppState>) -> Response {
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
pub(super) struct AddQuery {
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
pub(super) async fn add_openapi(
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

/// What to load and how: the request's options, from an HTTP request or from `integrations.json`.
struct Plan {
    source: Source,
    namespace: Option<String>,
    base_url: Option<String>,
    include: Vec<String>,
    exclude: Vec<String>,
}

/// A converted description, its tools set up and not yet registered.
struct Prepared {
    record: LoadedApi,
    tools: Vec<Arc<dyn Tool>>,
}

/// Resolves a `path` source inside `[tools] openapi_dir`.
fn resolve_source(openapi_dir: Option<&Path>, source: Source) -> Result<(Source, Option<String>), ApiError> {
    match source {
        Source::File(_, rel) => {
            let Some(dir) = openapi_dir else {
                return Err(ApiError::invalid(
                    "path",
                    "this server has no [tools] openapi_dir, so no file can be loaded by path; upload the description instead",
                )
                .with_code("openapi_dir_not_configured"));
            };
            let real = inside_dir(dir, &rel)?;
            Ok((Source::File(real, rel.clone()), Some(rel)))
        }
        other => Ok((other, None)),
    }
}

/// Loads, converts and sets up the tools of `plan` (blocking: a large
/// description takes a while). `auth` holds credentials per scheme.
fn prepare(
    openapi_dir: Option<PathBuf>,
    plan: Plan,
    auth: &BTreeMap<String, Value>,
    added_by: Option<String>,
) -> Result<Prepared, ApiError> {
    let (source, location) = resolve_source(openapi_dir.as_deref(), plan.source)?;
    let source_name = match &source {
        Source::File(..) => "path",
        _ => "upload",
    };
    let mut filters = Filters::default();
    for r in &plan.include {
        filters.add_rule(true, r).map_err(|m| ApiError::invalid("include", m))?;
    }
    for r in &plan.exclude {
        filters
            .add_rule(false, r)
            .map_err(|m| ApiError::invalid("exclude", m))?;
    }
    if let Some(ns) = &plan.namespace {
        if !valid_namespace(ns) {
            return Err(ApiError::invalid(
                "namespace",
                format!("`{ns}`: a namespace is a lowercase letter then up to 31 lowercase letters, digits or `_`"),
            ));
        }
    }
    // What `integrations.json` keeps: the upload itself, or the path.
    let (kept_spec, kept_path) = match &source {
        Source::Value(v) => (Some(v.clone()), None),
        Source::Text(t) => (Some(Value::String(t.clone())), None),
        Source::File(..) => (None, location.clone()),
    };
    let spec = match source {
        Source::Value(v) => OpenApiSpec::from_value(v),
        Source::Text(t) => OpenApiSpec::from_str(&t),
        Source::File(real, _) => {
            let options = toolplane_openapi::LoadOptions {
                file_root: openapi_dir.and_then(|d| d.canonicalize().ok()),
                ..Default::default()
            };
            OpenApiSpec::from_path_with(&real, &options)
        }
    }
    .map_err(|e| {
        ApiError::invalid("spec", format!("the description does not load: {e}")).with_code("invalid_openapi")
    })?;
    let ns = plan.namespace.unwrap_or_else(|| namespace_from_title(spec.title()));
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
    if let Some(u) = &plan.base_url {
        http = http.with_base_url(u.clone());
    }
    let http = credential_config(http, auth)?;
    let tools = http_tools(conversion.tools.clone(), http).map_err(|e| {
        ApiError::invalid(
            "base_url",
            format!("the tools cannot be set up: {e} (a description without an absolute server URL needs `base_url`)"),
        )
        .with_code("openapi_setup_failed")
    })?;
    let added_ms = crate::runs::now_ms();
    let auth_schemes: Vec<String> = auth.keys().cloned().collect();
    let saved = SavedApi {
        namespace: ns.clone(),
        spec: kept_spec,
        path: kept_path,
        base_url: plan.base_url.clone(),
        include: plan.include,
        exclude: plan.exclude,
        auth_schemes: auth_schemes.clone(),
        added_by: added_by.clone(),
        added_unix_ms: added_ms,
    };
    let record = LoadedApi {
        namespace: Some(ns),
        source: source_name,
        location,
        title: spec.title().to_owned(),
        version: spec.api_version().to_owned(),
        base_url: plan.base_url,
        auth: auth_schemes,
        tools: conversion.tools.iter().map(api_tool).collect(),
        warnings: conversion.warnings.clone(),
        added_by,
        added_ms,
        saved: Some(saved),
    };
    Ok(Prepared { record, tools })
}

/// Registers `prepared`'s tools and records the description; with `replace`,
/// first removes the one under the same namespace. All or nothing.
fn install(gw: &crate::build::Gateway, prepared: Prepared, replace: bool) -> Result<(), ApiError> {
    let ints = &gw.integrations;
    let Prepared { record, tools } = prepared;
    let ns = record.namespace.clone().unwrap_or_default();
    let mut apis = ints.apis.lock();
    let existing = apis.iter().position(|a| a.namespace.as_deref() == Some(&ns));
    if let Some(i) = existing {
        if !replace {
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
    // A name switched off before the tool existed (kept in `integrations.json`) stays off.
    let mut disabled = ints.disabled.lock();
    let mut pending = ints.disabled_pending.lock();
    if !pending.is_empty() {
        for n in &added {
            if pending.remove(n)
                && let Some(t) = gw.executor.unregister(n)
            {
                disabled.insert(n.clone(), t);
            }
        }
    }
    apis.push(record);
    Ok(())
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
    let plan = Plan {
        source,
        namespace: req.namespace.clone(),
        base_url: req.base_url.clone(),
        include: req.include.clone(),
        exclude: req.exclude.clone(),
    };
    let root = gw.integrations.openapi_dir.clone();
    let added_by = Some(principal.id.clone());
    let auth = req.auth.clone();
    // Load and convert off the async threads: a large description takes a while.
    let prepared = tokio::task::spawn_blocking(move || prepare(root, plan, &auth, added_by))
        .await
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "server_error", e.to_string()))??;
    let record = prepared.record.clone();
    install(&gw, prepared, req.replace)?;
    super::persist(&gw).await?;
    let ns = record.namespace.clone().unwrap_or_default();
    audit(
        &gw,
        rid,
        principal,
        "integration_openapi_added",
        json!({"namespace": ns, "source": record.source, "tools": record.tools.len(), "auth_schemes": record.auth}),
    )
    .await;
    let disabled = gw.integrations.disabled.lock();
    Ok(record.to_json(&disabled))
}

/// `DELETE /v1/integrations/openapi/{namespace}`: unregisters a description
/// added at run time and its tools, and forgets it in `integrations.json`.
pub(super) async fn remove_openapi(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Extension(rid): Extension<RequestId>,
    UrlPath(namespace): UrlPath<String>,
) -> Response {
    if let Err(e) = require_role(&principal, CHANGE_ROLES, "removing an OpenAPI description") {
        return e.into_response();
    }
    let gw = state.gateway.clone();
    let ints = &gw.integrations;
    let removed = {
        let mut apis = ints.apis.lock();
        let Some(i) = apis.iter().position(|a| a.namespace.as_deref() == Some(&namespace)) else {
            let known: Vec<&str> = apis.iter().filter_map(|a| a.namespace.as_deref()).collect();
            return ApiError::not_found(format!(
                "no description added at run time under the namespace `{namespace}`; added: [{}] (descriptions from the configuration file are removed there)",
                known.join(", ")
            ))
            .with_code("openapi_not_found")
            .into_response();
        };
        let old = apis.remove(i);
        let mut disabled = ints.disabled.lock();
        for t in &old.tools {
            gw.executor.unregister(&t.name);
            disabled.remove(&t.name);
        }
        old
    };
    if let Err(e) = super::persist(&gw).await {
        return e.into_response();
    }
    audit(
        &gw,
        &rid,
        &principal,
        "integration_openapi_removed",
        json!({"namespace": namespace, "tools": removed.tools.len()}),
    )
    .await;
    axum::Json(json!({"namespace": namespace, "removed": true, "tools_removed": removed.tools.len()})).into_response()
}

/// Adds again, at start, the descriptions `integrations.json` keeps (without
/// credentials, which are never written), and switches off the tools it
/// names. Errors name the entry and the problem.
pub(super) fn restore_apis(gw: &crate::build::Gateway, saved: Vec<SavedApi>) -> Result<(), String> {
    for s in saved {
        let ns = s.namespace.clone();
        let source = match (s.spec.clone(), s.path.clone()) {
            (Some(Value::String(t)), None) => Source::Text(t),
            (Some(v), None) => Source::Value(v),
            (None, Some(p)) => Source::File(PathBuf::new(), p),
            _ => return Err(format!("openapi entry `{ns}`: has neither `spec` nor `path` (or both)")),
        };
        let plan = Plan {
            source,
            namespace: Some(ns.clone()),
            base_url: s.base_url.clone(),
            include: s.include.clone(),
            exclude: s.exclude.clone(),
        };
        let mut prepared = prepare(
            gw.integrations.openapi_dir.clone(),
            plan,
            &BTreeMap::new(),
            s.added_by.clone(),
        )
        .map_err(|e| format!("openapi entry `{ns}`: {}", e.message))?;
        let r = &mut prepared.record;
        r.added_ms = s.added_unix_ms;
        if !s.auth_schemes.is_empty() {
            r.warnings.push(ConversionWarning {
                pointer: String::new(),
                message: format!(
                    "credentials for {} were not kept across the restart (they are never written to disk); add the description again with them (replace: true)",
                    s.auth_schemes.join(", ")
                ),
            });
        }
        // Kept as saved, so the next write does not lose the schemes' names.
        r.saved = Some(s);
        install(gw, prepared, false).map_err(|e| format!("openapi entry `{ns}`: {}", e.message))?;
    }
    Ok(())
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
