//! Server-side runs of the tool-calling loop: start, watch (SSE), approve,
//! cancel. A run that pauses for approvals is written to disk and can be
//! resumed after a restart of the server.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::{StreamExt, stream};
use serde_json::{Value, json};
use tokio::sync::broadcast;
use toolplane_core::{CallContext, Principal};
use toolplane_pipeline::{
    AgentLoop, ApprovalDecision, EventSink, LoopConfig, RunError, RunEvent, RunOutcome, RunResult, RunState,
};
use toolplane_security::ApprovalError;

use crate::app::{AppState, RequestId, json_body, require_role};
use crate::error::{ApiError, Dialect};
use crate::runs::{LiveRun, RunRecord, RunStatus, now_ms};

/// Roles that may decide on approvals.
pub(crate) const APPROVER_ROLES: &[&str] = &["approver", "admin"];

/// How long an approval token stays valid.
const APPROVAL_TTL: Duration = Duration::from_secs(600);

/// Sends loop events into the run's record and listeners.
#[derive(Debug)]
struct RunSink(Arc<LiveRun>);

impl EventSink for RunSink {
    fn emit(&self, event: RunEvent) {
        let mut v = serde_json::to_value(&event).unwrap_or_else(|e| json!({"type": "error", "message": e.to_string()}));
        // A tool's result goes to watchers (and the run's file) with secret-shaped text masked.
        if let Some(Value::String(text)) = v.get_mut("result") {
            *text = toolplane_security::redact::redact_text(text);
        }
        self.0.push(v);
    }
}

fn new_run_id() -> String {
    format!("run_{:016x}{:08x}", rand::random::<u64>(), rand::random::<u32>())
}

/// `POST /v1/runs`: `{"model": "auto", "messages": [...] | "input": "text", "max_steps": 8}`.
pub(crate) async fn start(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Extension(rid): Extension<RequestId>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let body = match json_body(body, Dialect::OpenAi) {
        Ok(Value::Object(o)) => o,
        Ok(_) => return ApiError::invalid("body", "the body must be a JSON object").into_response(),
        Err(e) => return e.into_response(),
    };
    let max_steps = match body.get("max_steps") {
        None | Some(Value::Null) => 8,
        Some(v) => match v.as_u64().filter(|n| (1..=64).contains(n)) {
            Some(n) => n as u32,
            None => {
                return ApiError::invalid("max_steps", "`max_steps` must be an integer from 1 to 64").into_response();
            }
        },
    };
    // The messages use the Chat Completions format; `input` is a shortcut for one user message.
    let mut chat = serde_json::Map::new();
    chat.insert(
        "model".into(),
        body.get("model").cloned().unwrap_or_else(|| json!("auto")),
    );
    let messages = match (body.get("messages"), body.get("input").and_then(Value::as_str)) {
        (Some(m), _) => m.clone(),
        (None, Some(text)) => json!([{"role": "user", "content": text}]),
        (None, None) => return ApiError::invalid("input", "give `input` (text) or `messages`").into_response(),
    };
    chat.insert("messages".into(), messages);
    let (mut request, _) = match crate::openai_wire::parse_request(Value::Object(chat)) {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    if let Err(e) = crate::chat::resolve(&state.gateway, &mut request.clone()) {
        return e.into_response();
    }
    let id = new_run_id();
    request.metadata.request_id = Some(rid.0.clone());
    let mut run_state = RunState::new(id.clone(), request);
    run_state.request.max_tokens = run_state.request.max_tokens.or(Some(1024));
    let now = now_ms();
    let live = state.gateway.runs.insert(RunRecord {
        id: id.clone(),
        principal: principal.clone(),
        status: RunStatus::Running,
        state: run_state.clone(),
        events: Vec::new(),
        answer: None,
        error: None,
        created_ms: now,
        updated_ms: now,
    });
    // Streamed, so watchers (the console's dock) see the text as it arrives.
    let config = LoopConfig {
        max_steps,
        stream: true,
        ..LoopConfig::default()
    };
    spawn_drive(state, live, principal, config, Drive::Start(run_state));
    (
        StatusCode::CREATED,
        axum::Json(json!({"id": id, "object": "run", "status": "running",
            "events_url": format!("/v1/runs/{id}/events")})),
    )
        .into_response()
}

enum Drive {
    Start(RunState),
    Resume(RunState, HashMap<String, ApprovalDecision>),
}

fn spawn_drive(state: AppState, live: Arc<LiveRun>, principal: Principal, config: LoopConfig, drive: Drive) {
    tokio::spawn(async move {
        let gw = &state.gateway;
        let request = match &drive {
            Drive::Start(s) | Drive::Resume(s, _) => s.request.clone(),
        };
        let mut resolved = request.clone();
        let target = match crate::chat::resolve(gw, &mut resolved) {
            Ok(t) => t,
            Err(e) => {
                finish(&state, &live, Err(e.message));
                return;
            }
        };
        let provider = crate::run_routing::RoutingEvents::new(target.provider, gw.clone(), live.clone(), target.expert);
        let agent = AgentLoop::new(Arc::new(provider), Arc::new(gw.executor.clone()))
            .with_config(config)
            .with_prices(gw.metrics.price_book())
            .with_events(Arc::new(RunSink(live.clone())));
        let run_id = live.record.lock().id.clone();
        let mut ctx = CallContext::new(run_id).with_principal(principal);
        ctx.cancel = live.cancel.clone();
        let result = match drive {
            Drive::Start(mut s) => {
                s.request.model = resolved.model;
                s.request.metadata = resolved.metadata;
                agent.run(s, &ctx).await
            }
            Drive::Resume(s, decisions) => agent.resume(s, &decisions, &ctx).await,
        };
        finish(
            &state,
            &live,
            result.map_err(|e: RunError| {
                let msg = e.to_string();
                if let Some(s) = e.into_state() {
                    live.record.lock().state = s;
                }
                msg
            }),
        );
    });
}

/// Records how a drive ended, saves the run, then emits `done` (or `paused`):
/// a client that saw the event can rely on the run being on disk.
fn finish(state: &AppState, live: &Arc<LiveRun>, result: Result<RunResult, String>) {
    let runs = &state.gateway.runs;
    let saved = live.update_durably(
        |r| {
            r.updated_ms = now_ms();
            match result {
                Ok(res) => {
                    r.status = match &res.outcome {
                        RunOutcome::Answered(_) => RunStatus::Answered,
                        RunOutcome::NeedsApproval(_) => RunStatus::Paused,
                        RunOutcome::Stopped(toolplane_pipeline::StopCause::Cancelled) => RunStatus::Cancelled,
                        RunOutcome::Stopped(_) => RunStatus::Stopped,
                    };
                    r.answer = res.answer();
                    r.state = res.state;
                }
                Err(message) => {
                    r.status = RunStatus::Failed;
                    r.error = Some(message);
                }
            }
            json!({
                "type": if r.status == RunStatus::Paused { "paused" } else { "done" },
                "status": r.status,
                "answer": r.answer,
                "error": r.error,
                "usage": r.state.usage,
                "cost_usd": r.state.cost_usd,
                "steps": r.state.steps,
            })
        },
        |r| runs.save_record(r),
    );
    if let Err(e) = saved {
        live.push(json!({"type": "error", "message": format!("the run could not be saved: {e}")}));
    }
}

fn find(state: &AppState, id: &str, principal: &Principal) -> Result<Arc<LiveRun>, ApiError> {
    let run = state
        .gateway
        .runs
        .get(id)
        .ok_or_else(|| ApiError::not_found(format!("no run `{id}`")).with_code("run_not_found"))?;
    let owner = run.record.lock().principal.id.clone();
    if owner != principal.id && !APPROVER_ROLES.iter().any(|r| principal.has_role(r)) {
        // Other principals' runs are not even confirmed to exist.
        return Err(ApiError::not_found(format!("no run `{id}`")).with_code("run_not_found"));
    }
    Ok(run)
}

fn summary(r: &RunRecord) -> Value {
    json!({
        "id": r.id,
        "object": "run",
        "status": r.status,
        "principal": r.principal.id,
        "answer": r.answer,
        "error": r.error,
        "pending_approvals": r.state.pending_approvals(),
        "usage": r.state.usage,
        "cost_usd": r.state.cost_usd,
        "steps": r.state.steps,
        "events": r.events.len(),
        "created_ms": r.created_ms,
        "updated_ms": r.updated_ms,
    })
}

/// `GET /v1/runs/{id}`.
pub(crate) async fn get_run(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<String>,
) -> Response {
    match find(&state, &id, &principal) {
        Ok(run) => axum::Json(summary(&run.record.lock())).into_response(),
        Err(e) => e.into_response(),
    }
}

fn sse_event(v: &Value, seq: usize) -> Event {
    let name = v.get("type").and_then(Value::as_str).unwrap_or("message");
    Event::default().event(name).id(seq.to_string()).data(v.to_string())
}

fn is_rest(v: &Value) -> bool {
    matches!(v.get("type").and_then(Value::as_str), Some("done" | "paused"))
}

/// `GET /v1/runs/{id}/events`: every event so far, then live ones until the
/// run rests (answered, stopped, failed, cancelled or paused).
pub(crate) async fn events(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<String>,
    headers: axum::http::HeaderMap,
) -> Response {
    let run = match find(&state, &id, &principal) {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    let after: usize = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
        .map_or(0, |n| n + 1);
    // Copy the history and subscribe under the record's lock: events are
    // pushed under it too, so none is missed or sent twice.
    let (history, live_rx, resting) = {
        let r = run.record.lock();
        let rx = run.events.subscribe();
        (r.events.clone(), rx, r.status.is_resting())
    };
    let start = history.len();
    // A resting run has all its events in the history (status and last event
    // change together); a working one goes on until its next rest event.
    let ended_in_history = resting;
    let past: Vec<Event> = history
        .iter()
        .enumerate()
        .skip(after)
        .map(|(i, v)| sse_event(v, i))
        .collect();
    let live = stream::unfold((live_rx, start, ended_in_history), |(mut rx, seq, ended)| async move {
        if ended {
            return None;
        }
        loop {
            match rx.recv().await {
                Ok(v) => {
                    let rest = is_rest(&v);
                    return Some((sse_event(&v, seq), (rx, seq + 1, rest)));
                }
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    });
    let body = stream::iter(past).chain(live).map(Ok::<_, Infallible>);
    Sse::new(body).keep_alive(KeepAlive::default()).into_response()
}

/// `POST /v1/runs/{id}/approvals`: `{"decisions": [{"call_id" | "approval_id": "...",
/// "decision": "approve" | "reject", "reason": "..."}]}`; needs the `approver` or `admin` role.
pub(crate) async fn approvals(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    match decide(state, principal, id, body).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

async fn decide(
    state: AppState,
    principal: Principal,
    id: String,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    require_role(&principal, APPROVER_ROLES, "deciding on approvals")?;
    let body = json_body(body, Dialect::OpenAi)?;
    let run = find(&state, &id, &principal)?;
    let list = body
        .get("decisions")
        .and_then(Value::as_array)
        .ok_or_else(|| ApiError::invalid("decisions", "`decisions` must be an array"))?;
    let (run_state, owner) = {
        let r = run.record.lock();
        if r.status != RunStatus::Paused {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "invalid_request_error",
                format!("run `{id}` is {:?}, not paused for approvals", r.status).to_lowercase(),
            )
            .with_code("run_not_paused"));
        }
        (r.state.clone(), r.principal.clone())
    };
    let pending = run_state.pending_approvals().to_vec();
    let specs = state.gateway.executor.specs();
    let mut decisions = HashMap::new();
    for (i, d) in list.iter().enumerate() {
        let at = |f: &str| format!("decisions[{i}].{f}");
        let approval_id_of = |p: &toolplane_pipeline::PendingApproval| {
            p.request
                .as_ref()
                .and_then(|r| r.pointer("/approval/id"))
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        let p = if let Some(call_id) = d.get("call_id").and_then(Value::as_str) {
            pending.iter().find(|p| p.call.id == call_id)
        } else if let Some(aid) = d.get("approval_id").and_then(Value::as_str) {
            pending.iter().find(|p| approval_id_of(p).as_deref() == Some(aid))
        } else {
            return Err(ApiError::invalid(
                at("call_id"),
                "name the call by `call_id` or `approval_id`",
            ));
        }
        .ok_or_else(|| ApiError::invalid(at("call_id"), "no pending approval has this id"))?;
        let decision = match d.get("decision").and_then(Value::as_str) {
            Some("approve") => {
                let args = p.call.arguments_value().unwrap_or(Value::Null);
                let spec = specs.iter().find(|s| s.name == p.call.name).ok_or_else(|| {
                    ApiError::invalid(at("call_id"), format!("tool `{}` is no longer offered", p.call.name))
                })?;
                // The request may be gone after a restart (approvals are kept in
                // memory); ask again for the same binding and approve that.
                let token = match approval_id_of(p).map(|a| state.gateway.approvals.approve(&a, APPROVAL_TTL)) {
                    Some(Ok(t)) => t,
                    Some(Err(ApprovalError::NoRequest(_))) | None => {
                        let again = state.gateway.approvals.request(Some(&owner), spec, &args, &p.message);
                        state
                            .gateway
                            .approvals
                            .approve(&again.id, APPROVAL_TTL)
                            .map_err(|e| ApiError::invalid(at("call_id"), e.to_string()))?
                    }
                    Some(Err(e)) => return Err(ApiError::invalid(at("call_id"), e.to_string())),
                };
                ApprovalDecision::Approve { token }
            }
            Some("reject") => {
                if let Some(a) = approval_id_of(p) {
                    let _ = state.gateway.approvals.reject(&a);
                }
                ApprovalDecision::Reject {
                    reason: d.get("reason").and_then(Value::as_str).unwrap_or("rejected").to_owned(),
                }
            }
            _ => return Err(ApiError::invalid(at("decision"), "must be `approve` or `reject`")),
        };
        decisions.insert(p.call.id.clone(), decision);
    }
    if let Some(missing) = pending.iter().find(|p| !decisions.contains_key(&p.call.id)) {
        return Err(ApiError::invalid(
            "decisions",
            format!(
                "no decision for pending call `{}` ({})",
                missing.call.id, missing.call.name
            ),
        ));
    }
    {
        let mut r = run.record.lock();
        if r.status != RunStatus::Paused {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "invalid_request_error",
                "the run is no longer paused",
            )
            .with_code("run_not_paused"));
        }
        r.status = RunStatus::Running;
        r.updated_ms = now_ms();
    }
    let config = LoopConfig {
        max_steps: run_state.steps + 8,
        stream: true,
        ..LoopConfig::default()
    };
    spawn_drive(state, run.clone(), owner, config, Drive::Resume(run_state, decisions));
    Ok((
        StatusCode::ACCEPTED,
        axum::Json(json!({"id": id, "object": "run", "status": "running",
            "events_url": format!("/v1/runs/{id}/events")})),
    )
        .into_response())
}

/// `DELETE /v1/runs/{id}`: cancels a working or paused run.
pub(crate) async fn cancel(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<String>,
) -> Response {
    let run = match find(&state, &id, &principal) {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    run.cancel.cancel();
    let paused = matches!(run.record.lock().status, RunStatus::Paused | RunStatus::Interrupted);
    if paused {
        let runs = &state.gateway.runs;
        let saved = run.update_durably(
            |r| {
                r.status = RunStatus::Cancelled;
                r.updated_ms = now_ms();
                json!({"type": "done", "status": "cancelled"})
            },
            |r| runs.save_record(r),
        );
        if let Err(e) = saved {
            return ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "server_error", e.to_string()).into_response();
        }
    }
    let status = run.record.lock().status;
    axum::Json(json!({"id": id, "object": "run", "cancel_requested": true, "status": status})).into_response()
}
