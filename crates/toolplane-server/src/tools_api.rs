//! `GET /v1/tools` (list and search) and `POST /v1/tools/{name}/call`
//! (through the validating executor: arguments checked against the schema,
//! the permission policy, the tool rate limit and the audit log).
//!
//! Two refusals carry what a UI needs beside the message: bad arguments are
//! 400 `invalid_arguments` with `error.details.errors = [{path, message}]`
//! (JSON pointers into the arguments), and a policy `ask` rule is 403
//! `approval_required` with `error.approval` (see `tool_approvals.rs`).

use axum::Extension;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use toolplane_core::{ApprovalToken, CallContext, Principal, ToolCall, ToolError, ToolErrorKind, ToolSpec};

use crate::app::{AppState, RequestId, json_body};
use crate::error::{ApiError, Dialect};

/// Query of `GET /v1/tools`.
#[derive(Debug, Deserialize)]
pub(crate) struct ListQuery {
    /// Keyword search over names and descriptions.
    q: Option<String>,
    /// Most results (search only). Default 10.
    limit: Option<usize>,
}

pub(crate) fn spec_json(s: &ToolSpec) -> Value {
    json!({
        "name": s.name,
        "description": s.description,
        "input_schema": s.input_schema,
        "output_schema": s.output_schema,
        "annotations": s.annotations,
    })
}

/// `GET /v1/tools[?q=words&limit=n]`.
pub(crate) async fn list(State(state): State<AppState>, Query(q): Query<ListQuery>) -> Response {
    let exec = &state.gateway.executor;
    let specs = exec.specs();
    let data: Vec<Value> = match q.q.as_deref().filter(|q| !q.trim().is_empty()) {
        None => specs.iter().map(spec_json).collect(),
        Some(query) => {
            let hits = exec.with_registry(|r| r.search(query, q.limit.unwrap_or(10).clamp(1, 100)));
            hits.iter()
                .filter_map(|h| {
                    specs.iter().find(|s| s.name == h.name).map(|s| {
                        let mut v = spec_json(s);
                        v["score"] = json!(h.score);
                        v
                    })
                })
                .collect()
        }
    };
    axum::Json(json!({"object": "list", "data": data})).into_response()
}

/// `POST /v1/tools/{name}/call` with the arguments object as the body. An
/// approval token from a run's approval goes in `x-toolplane-approval`.
pub(crate) async fn call(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Extension(rid): Extension<RequestId>,
    Path(name): Path<String>,
    headers: axum::http::HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let args = match json_body(body, Dialect::OpenAi) {
        Ok(v) if v.is_object() => v,
        Ok(_) => {
            let message = "the body must be the arguments as a JSON object";
            return ApiError::invalid("arguments", message)
                .with_code("invalid_arguments")
                .with_extra("details", json!({"errors": [{"path": "", "message": message}]}))
                .into_response();
        }
        Err(e) => return e.into_response(),
    };
    let exec = &state.gateway.executor;
    if state.gateway.integrations.is_disabled(&name) {
        return crate::integrations::disabled_error(&name).into_response();
    }
    if !exec.specs().iter().any(|s| s.name == name) {
        return ApiError::not_found(format!("no tool `{name}`; GET /v1/tools lists them"))
            .with_code("tool_not_found")
            .into_response();
    }
    let requester = principal.id.clone();
    let mut ctx = CallContext::new(rid.0.clone()).with_principal(principal);
    if let Some(token) = headers.get("x-toolplane-approval").and_then(|v| v.to_str().ok()) {
        ctx = ctx.with_extension(ApprovalToken(token.to_owned()));
    }
    let call = ToolCall::from_value(format!("call_{}", rid.0), &name, &args);
    match exec.execute(&call, &ctx).await {
        Ok(out) => axum::Json(json!({
            "tool": name,
            "output": out.content,
            "is_error": out.is_error,
            "truncated": out.truncated,
        }))
        .into_response(),
        Err(e) => {
            let mut api = ApiError::from_tool(&e);
            match e.kind() {
                ToolErrorKind::ApprovalRequired => {
                    if let Some(shown) = state.gateway.tool_approvals.hold(&e, &name, &args, &requester) {
                        if let Some(id) = shown["id"].as_str() {
                            api.message = format!(
                                "{} (approval request `{id}`: an approver answers POST /v1/tools/approvals/{id})",
                                api.message
                            );
                        }
                        api = api.with_extra("approval", shown);
                    }
                }
                ToolErrorKind::InvalidArguments => {
                    api = api.with_extra("details", json!({"errors": field_errors(&e)}));
                }
                _ => {}
            }
            api.into_response()
        }
    }
}

/// One `{path, message}` per violation, `path` a JSON pointer into the
/// arguments (`""`: the whole object). A missing required property points at
/// where it belongs (`/title`), so a form can show the message beside it.
fn field_errors(e: &ToolError) -> Vec<Value> {
    let violations = e
        .details()
        .and_then(|d| d.get("violations"))
        .and_then(Value::as_array)
        .filter(|v| !v.is_empty());
    let Some(violations) = violations else {
        return vec![json!({"path": "", "message": e.message()})];
    };
    violations
        .iter()
        .map(|v| {
            let mut path = v["pointer"].as_str().unwrap_or("").to_owned();
            if path == "/" {
                path.clear();
            }
            let message = v["message"].as_str().unwrap_or_default();
            if v["keyword"] == "required" {
                if let Some(name) = leading_json_string(message) {
                    path = format!("{path}/{}", name.replace('~', "~0").replace('/', "~1"));
                }
            }
            json!({"path": path, "message": message})
        })
        .collect()
}

/// The JSON string a message starts with (`"title" is a required property`).
fn leading_json_string(message: &str) -> Option<String> {
    if !message.starts_with('"') {
        return None;
    }
    let mut it = serde_json::Deserializer::from_str(message).into_iter::<String>();
    it.next()?.ok()
}
