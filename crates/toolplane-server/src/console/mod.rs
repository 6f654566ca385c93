//! The web console (`console` feature): one shell page for `/`, `/tools`,
//! `/dashboard` and `/integrations`, its embedded scripts and styles under
//! `/console/`, sign-in with a gateway key (a session cookie, see
//! [`session`]), and the AI dock's conversation, kept per session.
//!
//! ```text
//! browser ── GET / ─────────────────► index.html (CSP: scripts and styles from 'self' only)
//!         ── GET /console/js/*.js ──► embedded files (build.rs)
//!         ── POST /console/session ─► key → cookies tp_session + tp_csrf
//!         ── /v1/... with the cookie ► authenticate (cookie → principal; non-GET: x-csrf-token)
//!         ── POST /console/conversation ► POST /v1/runs with the session's earlier turns
//! ```
//!
//! Everything else the pages show comes from the public API (`/v1/tools`,
//! `/v1/runs`, `/v1/models`, ...), so the console can do nothing a key cannot.

pub(crate) mod assets;
pub(crate) mod session;

use axum::Extension;
use axum::Router;
use axum::body::{Bytes, to_bytes};
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, delete, get, post};
use serde_json::{Value, json};
use toolplane_core::Principal;

use crate::app::{AppState, RequestId, json_body};
use crate::error::{ApiError, Dialect};
use crate::openapi_doc::EndpointDoc;
use crate::runs::RunRecord;
use session::{MAX_TURNS, SESSION_COOKIE, Turn, check_origin, clear_cookies, cookie, set_cookies};

/// Longest question the dock accepts, in characters.
const MAX_INPUT_CHARS: usize = 8_000;
/// Earlier turns sent along with a new question.
const HISTORY_TURNS: usize = 20;

/// The pages and files: open routes, not part of `/openapi.json`.
pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(assets::shell))
        .route("/tools", get(assets::shell))
        .route("/dashboard", get(assets::shell))
        .route("/integrations", get(assets::shell))
        .route("/console/{*path}", get(assets::console_file))
}

fn sign_in_schema() -> Value {
    json!({"type": "object", "required": ["key"], "properties": {"key": {"type": "string", "description": "A gateway key."}}})
}

fn ask_schema() -> Value {
    json!({"type": "object", "required": ["input"], "properties": {
        "input": {"type": "string", "maxLength": MAX_INPUT_CHARS},
        "model": {"type": "string", "description": "An expert, `auto` or a task type (GET /v1/models)."}}})
}

/// The console's API routes, documented in `/openapi.json`.
pub(crate) fn endpoints() -> Vec<(EndpointDoc, MethodRouter<AppState>)> {
    const JSON: &str = "application/json";
    let doc = |method, path, operation_id, summary, authenticated, request: Option<fn() -> Value>| EndpointDoc {
        method,
        path,
        operation_id,
        summary,
        authenticated,
        request,
        produces: JSON,
        query: &[],
    };
    vec![
        (
            doc(
                "post",
                "/console/session",
                "createConsoleSession",
                "Signs the console in with a key: sets the HttpOnly session cookie and the CSRF cookie.",
                false,
                Some(sign_in_schema),
            ),
            post(sign_in),
        ),
        (
            doc(
                "get",
                "/console/session",
                "getConsoleSession",
                "Who is signed in: principal and roles.",
                true,
                None,
            ),
            get(whoami),
        ),
        (
            doc(
                "delete",
                "/console/session",
                "deleteConsoleSession",
                "Signs the console out and clears its cookies.",
                true,
                None,
            ),
            delete(sign_out),
        ),
        (
            doc(
                "get",
                "/console/conversation",
                "getDockConversation",
                "The dock's conversation of this session: each question with its run, events and tool results.",
                true,
                None,
            ),
            get(conversation),
        ),
        (
            doc(
                "post",
                "/console/conversation",
                "askDock",
                "Asks the dock: starts a run with the session's earlier turns; answers like POST /v1/runs.",
                true,
                Some(ask_schema),
            ),
            post(ask),
        ),
        (
            doc(
                "delete",
                "/console/conversation",
                "clearDockConversation",
                "Starts a new conversation (the runs themselves stay).",
                true,
                None,
            ),
            delete(clear),
        ),
        (
            doc(
                "get",
                "/console/runs/{id}",
                "getRunDetails",
                "A run with its events, tool results, the expert that answered and the router's decisions.",
                true,
                None,
            ),
            get(run_details),
        ),
    ]
}

fn with_cookies(mut resp: Response, cookies: [String; 2]) -> Response {
    for c in cookies {
        if let Ok(v) = HeaderValue::from_str(&c) {
            resp.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    resp
}

fn principal_json(state: &AppState, p: &Principal) -> Value {
    json!({"principal": p.id, "roles": p.roles, "team": p.team, "scripted_only": state.gateway.scripted_only})
}

/// `POST /console/session` `{"key": "..."}`.
async fn sign_in(State(state): State<AppState>, headers: HeaderMap, body: Result<Bytes, BytesRejection>) -> Response {
    // A JSON body cannot come from a cross-site form, and a foreign Origin is refused outright.
    let json_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().starts_with("application/json"));
    if !json_type {
        return ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "invalid_request_error",
            "sign in with a JSON body `{\"key\": \"...\"}` and `content-type: application/json`",
        )
        .into_response();
    }
    if let Err(e) = check_origin(&headers) {
        return e.into_response();
    }
    let body = match json_body(body, Dialect::OpenAi) {
        Ok(b) => b,
        Err(e) => return e.into_response(),
    };
    let Some(key) = body
        .get("key")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|k| !k.is_empty())
    else {
        return ApiError::invalid("key", "give the gateway key as `key`").into_response();
    };
    let Some(principal) = state.gateway.keys.authenticate(key).cloned() else {
        return ApiError::unauthorized("this key is not valid for this server").into_response();
    };
    let secure = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("https"));
    let created = state.sessions.create(principal.clone());
    let resp = axum::Json(principal_json(&state, &principal)).into_response();
    with_cookies(resp, set_cookies(&created, secure))
}

/// `GET /console/session`.
async fn whoami(State(state): State<AppState>, Extension(principal): Extension<Principal>) -> Response {
    axum::Json(principal_json(&state, &principal)).into_response()
}

/// `DELETE /console/session`.
async fn sign_out(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let removed = cookie(&headers, SESSION_COOKIE).is_some_and(|t| state.sessions.remove(&t));
    with_cookies(
        axum::Json(json!({"signed_out": removed})).into_response(),
        clear_cookies(),
    )
}

fn session_token(headers: &HeaderMap) -> Result<String, ApiError> {
    cookie(headers, SESSION_COOKIE).ok_or_else(|| {
        ApiError::invalid(
            "cookie",
            "the dock's conversation belongs to a console session: sign in with POST /console/session",
        )
        .with_code("no_session")
    })
}

/// The run `id` if `principal` may see it (its owner, an approver or an admin).
fn visible_run(
    state: &AppState,
    id: &str,
    principal: &Principal,
) -> Result<std::sync::Arc<crate::runs::LiveRun>, ApiError> {
    let not_found = || ApiError::not_found(format!("no run `{id}`")).with_code("run_not_found");
    let run = state.gateway.runs.get(id).ok_or_else(not_found)?;
    let owner = run.record.lock().principal.id.clone();
    let privileged = crate::runs_api::APPROVER_ROLES.iter().any(|r| principal.has_role(r));
    if owner != principal.id && !privileged {
        return Err(not_found());
    }
    Ok(run)
}

/// A run as the dock shows it: events to replay, each tool call's result, the
/// expert that answered and what the router did for each step.
fn details(state: &AppState, r: &RunRecord) -> Value {
    let tool_results: Vec<Value> = r
        .state
        .request
        .messages
        .iter()
        .flat_map(|m| m.tool_call_results())
        .map(|t| json!({"call_id": t.call_id, "name": t.name, "content": t.content, "is_error": t.is_error}))
        .collect();
    let request_id = r.state.request.metadata.request_id.clone();
    let dispatches: Vec<Value> = request_id
        .as_deref()
        .map(|rid| {
            state
                .gateway
                .router
                .recent_dispatches()
                .into_iter()
                .filter(|d| d.request_id == rid)
                .filter_map(|d| serde_json::to_value(d).ok())
                .collect()
        })
        .unwrap_or_default();
    let named = state.gateway.expert(&r.state.request.model).map(|e| e.id.clone());
    let answered_by = named.clone().or_else(|| {
        dispatches
            .iter()
            .rev()
            .find_map(|d| d.get("answered_by").and_then(Value::as_str).map(str::to_owned))
    });
    let expert = answered_by
        .as_deref()
        .and_then(|id| state.gateway.experts.iter().find(|e| e.id == id))
        .map(|e| json!({"id": e.id, "provider": e.provider, "model": e.model, "scripted": e.provider == "scripted"}));
    json!({
        "id": r.id,
        "status": r.status,
        "model": r.state.request.model,
        "routed": named.is_none(),
        "answer": r.answer,
        "error": r.error,
        "usage": r.state.usage,
        "cost_usd": r.state.cost_usd,
        "steps": r.state.steps,
        "pending_approvals": r.state.pending_approvals(),
        "events": r.events,
        "tool_results": tool_results,
        "expert": expert,
        "dispatches": dispatches,
        "request_id": request_id,
    })
}

/// `GET /console/runs/{id}`.
async fn run_details(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<String>,
) -> Response {
    match visible_run(&state, &id, &principal) {
        Ok(run) => {
            let r = run.record.lock().clone();
            axum::Json(details(&state, &r)).into_response()
        }
        Err(e) => e.into_response(),
    }
}

/// `GET /console/conversation`.
async fn conversation(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    headers: HeaderMap,
) -> Response {
    let token = match session_token(&headers) {
        Ok(t) => t,
        Err(e) => return e.into_response(),
    };
    let turns = state.sessions.with(&token, |s| s.turns.clone()).unwrap_or_default();
    let data: Vec<Value> = turns
        .iter()
        .filter_map(|t| {
            let run = visible_run(&state, &t.run_id, &principal).ok()?;
            let r = run.record.lock().clone();
            let mut v = details(&state, &r);
            v["input"] = json!(t.input);
            v["asked_model"] = json!(t.model);
            Some(v)
        })
        .collect();
    axum::Json(json!({"object": "list", "data": data, "scripted_only": state.gateway.scripted_only})).into_response()
}

/// `DELETE /console/conversation`.
async fn clear(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let token = match session_token(&headers) {
        Ok(t) => t,
        Err(e) => return e.into_response(),
    };
    let cleared = state
        .sessions
        .with(&token, |s| std::mem::take(&mut s.turns).len())
        .unwrap_or(0);
    axum::Json(json!({"cleared": cleared})).into_response()
}

/// `POST /console/conversation` `{"input": "...", "model": "auto"}`.
async fn ask(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Extension(rid): Extension<RequestId>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    match ask_inner(state, principal, rid, headers, body).await {
        Ok(r) | Err(r) => r,
    }
}

async fn ask_inner(
    state: AppState,
    principal: Principal,
    rid: RequestId,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Response> {
    let token = session_token(&headers).map_err(IntoResponse::into_response)?;
    let body = json_body(body, Dialect::OpenAi).map_err(IntoResponse::into_response)?;
    let input = body
        .get("input")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::invalid("input", "ask something: `input` is empty").into_response())?;
    if input.chars().count() > MAX_INPUT_CHARS {
        return Err(
            ApiError::invalid("input", format!("`input` is longer than {MAX_INPUT_CHARS} characters")).into_response(),
        );
    }
    let model = match body.get("model") {
        None | Some(Value::Null) => "auto".to_owned(),
        Some(Value::String(m)) if !m.trim().is_empty() => m.trim().to_owned(),
        Some(_) => return Err(ApiError::invalid("model", "`model` must be a model or route name").into_response()),
    };
    // The conversation so far: each earlier question and its answer.
    let earlier = state.sessions.with(&token, |s| s.turns.clone()).unwrap_or_default();
    let mut messages = Vec::new();
    for t in earlier.iter().rev().take(HISTORY_TURNS).rev() {
        let answer = state
            .gateway
            .runs
            .get(&t.run_id)
            .and_then(|r| r.record.lock().answer.clone());
        if let Some(answer) = answer {
            messages.push(json!({"role": "user", "content": t.input}));
            messages.push(json!({"role": "assistant", "content": answer}));
        }
    }
    messages.push(json!({"role": "user", "content": input}));
    let run_body = json!({"model": model, "messages": messages});
    let started = crate::runs_api::start(
        State(state.clone()),
        Extension(principal),
        Extension(rid),
        Ok(Bytes::from(run_body.to_string())),
    )
    .await;
    if started.status() != StatusCode::CREATED {
        return Err(started);
    }
    let (parts, body) = started.into_parts();
    let bytes = to_bytes(body, 64 * 1024)
        .await
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "server_error", e.to_string()).into_response())?;
    let answer: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    if let Some(run_id) = answer.get("id").and_then(Value::as_str) {
        let turn = Turn {
            run_id: run_id.to_owned(),
            input: input.to_owned(),
            model,
        };
        state.sessions.with(&token, |s| {
            s.turns.push(turn);
            if s.turns.len() > MAX_TURNS {
                let extra = s.turns.len() - MAX_TURNS;
                s.turns.drain(..extra);
            }
        });
    }
    Ok(Response::from_parts(parts, axum::body::Body::from(bytes)))
}
