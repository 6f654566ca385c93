//! `GET /v1/tools` (list and search) and `POST /v1/tools/{name}/call`
//! (through the validating executor: arguments checked against the schema,
//! the permission policy, the tool rate limit and the audit log).

use axum::Extension;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use toolplane_core::{ApprovalToken, CallContext, Principal, ToolCall, ToolSpec};

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
        Ok(_) => return ApiError::invalid("body", "the body must be the arguments as a JSON object").into_response(),
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
            if let Some(id) = e
                .details()
                .and_then(|d| d.pointer("/approval/id"))
                .and_then(Value::as_str)
            {
                api.message = format!("{} (approval request `{id}`)", api.message);
            }
            api.into_response()
        }
    }
}
