//! `POST /v1/feedback`: a verdict on an earlier answer, for the router's
//! win rates. With a Redis URL the verdict reaches every replica (see
//! `shared_stats.rs`).

use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, post};
use serde_json::{Value, json};
use toolplane_core::{Feedback, Verdict};

use crate::app::{AppState, json_body};
use crate::error::{ApiError, Dialect};
use crate::openapi_doc::EndpointDoc;

/// The route of this module, for the table in `app.rs`.
pub(crate) fn endpoints() -> Vec<(EndpointDoc, MethodRouter<AppState>)> {
    vec![(
        EndpointDoc {
            method: "post",
            path: "/v1/feedback",
            operation_id: "recordFeedback",
            summary: "A verdict (win, loss or a score in [0, 1]) on an earlier answer, by request id or by expert; \
                      it moves the router's win rates (on every replica sharing Redis).",
            authenticated: true,
            request: Some(feedback_schema),
            produces: "application/json",
            query: &[],
        },
        post(record),
    )]
}

fn feedback_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "request_id": {"type": "string", "description": "the x-request-id of the answer judged (known to the replica that answered it)"},
            "expert": {"type": "string", "description": "instead of request_id: the expert judged (x-toolplane-expert)"},
            "task_type": {"type": "string", "description": "with expert: the task type (default `default`)"},
            "verdict": {
                "oneOf": [
                    {"type": "string", "enum": ["win", "loss"]},
                    {"type": "number", "minimum": 0, "maximum": 1}
                ]
            }
        },
        "required": ["verdict"]
    })
}

fn verdict_of(v: &Value) -> Result<Verdict, ApiError> {
    match v {
        Value::String(s) if s == "win" => Ok(Verdict::Win),
        Value::String(s) if s == "loss" => Ok(Verdict::Loss),
        Value::Number(n) => match n.as_f64() {
            Some(x) if (0.0..=1.0).contains(&x) => Ok(Verdict::Score { value: x }),
            _ => Err(ApiError::invalid(
                "verdict",
                format!("a score must be within [0, 1], got {n}"),
            )),
        },
        Value::Null => Err(ApiError::invalid(
            "verdict",
            "`verdict` is required: \"win\", \"loss\" or a score in [0, 1]",
        )),
        other => Err(ApiError::invalid(
            "verdict",
            format!("`verdict` must be \"win\", \"loss\" or a score in [0, 1], got {other}"),
        )),
    }
}

fn string_field<'a>(body: &'a Value, name: &str) -> Result<Option<&'a str>, ApiError> {
    match body.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if !s.is_empty() => Ok(Some(s)),
        Some(_) => Err(ApiError::invalid(name, format!("`{name}` must be a non-empty string"))),
    }
}

async fn record(State(state): State<AppState>, body: Result<Bytes, BytesRejection>) -> Response {
    match handle(&state, body) {
        Ok(v) => axum::Json(v).into_response(),
        Err(e) => e.into_response(),
    }
}

fn handle(state: &AppState, body: Result<Bytes, BytesRejection>) -> Result<Value, ApiError> {
    let body = json_body(body, Dialect::OpenAi)?;
    if !body.is_object() {
        return Err(ApiError::invalid("body", "the body must be a JSON object"));
    }
    let verdict = verdict_of(body.get("verdict").unwrap_or(&Value::Null))?;
    let router = &state.gateway.router;
    let request_id = string_field(&body, "request_id")?;
    let expert = string_field(&body, "expert")?;
    let task_type = string_field(&body, "task_type")?;
    match (request_id, expert) {
        (Some(_), Some(_)) => Err(ApiError::invalid(
            "expert",
            "give either `request_id` or `expert` (with an optional `task_type`), not both",
        )),
        (Some(id), None) => {
            let feedback = Feedback {
                request_id: id.to_owned(),
                verdict: verdict.clone(),
            };
            if !router.feedback(&feedback) {
                return Err(ApiError::not_found(format!(
                    "request `{id}` was not routed by this replica, or is too old to remember; \
                     name the `expert` (the x-toolplane-expert header) instead"
                ))
                .with_param("request_id")
                .with_code("unknown_request"));
            }
            // The metrics count verdicts too, when they still hold the call.
            let _ = state.gateway.metrics.feedback(&feedback);
            Ok(json!({"recorded": true, "request_id": id, "verdict": verdict}))
        }
        (None, Some(name)) => {
            let Some(idx) = router
                .expert_index(name)
                .or_else(|| state.gateway.expert(name).and_then(|e| router.expert_index(&e.id)))
            else {
                return Err(
                    ApiError::not_found(format!("no expert `{name}`; GET /v1/models lists them"))
                        .with_param("expert")
                        .with_code("expert_not_found"),
                );
            };
            let task = task_type.unwrap_or("default");
            router
                .record_verdict(idx, task, &verdict)
                .map_err(|e| ApiError::invalid("expert", e.to_string()))?;
            let id = router.expert(idx).map(|e| e.id.clone()).unwrap_or_default();
            Ok(json!({"recorded": true, "expert": id, "task_type": task, "verdict": verdict}))
        }
        (None, None) => Err(ApiError::invalid(
            "request_id",
            "name the answer judged: `request_id` (x-request-id) or `expert`",
        )),
    }
}
