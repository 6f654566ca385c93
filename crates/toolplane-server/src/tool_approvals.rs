//! Approvals for direct tool calls (`POST /v1/tools/{name}/call`).
//!
//! ```text
//! caller ── POST /v1/tools/t/call {args} ──► policy says ask ──► 403 approval_required
//!                                                                error.approval = {id, tool, arguments, rule, explanation}
//! approver ── POST /v1/tools/approvals/{id} {"decision": "approve"} ──► {"id", "decision", "token"}  (audited)
//! caller ── POST /v1/tools/t/call {same args}, x-toolplane-approval: token ──► runs, once
//! ```
//!
//! The token itself is the security crate's: single use, bound to the
//! caller, the tool's definition and the exact arguments, valid for
//! [`APPROVAL_TTL`]. This module keeps what the approver is shown and what
//! was decided, so a rejected or decided request answers 409.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use axum::Extension;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, post};
use parking_lot::Mutex;
use serde_json::{Value, json};
use toolplane_core::{Principal, ToolError};
use toolplane_security::ApprovalError;
use toolplane_security::audit::{AuditRecord, AuditSink};
use toolplane_security::redact::Redact;

use crate::app::{AppState, RequestId, json_body, require_role};
use crate::error::{ApiError, Dialect};
use crate::openapi_doc::EndpointDoc;
use crate::runs_api::APPROVER_ROLES;

/// How long an approval token for a direct call stays valid.
pub const APPROVAL_TTL: Duration = Duration::from_secs(600);
/// Requests kept at most; the oldest go first.
const MAX_KEPT: usize = 10_000;
/// How long an undecided request, or the memory of a decision, is kept.
const KEPT_FOR: Duration = Duration::from_secs(86_400);

/// What an approver decided.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Decided {
    Pending,
    Approved,
    Rejected,
}

#[derive(Debug)]
struct Held {
    tool: String,
    arguments: Value,
    rule: Option<String>,
    explanation: String,
    requester: String,
    state: Decided,
    at: Instant,
}

/// Direct tool calls waiting for (or given) an approver's decision, in memory.
#[derive(Debug, Default)]
pub struct ToolApprovals {
    held: Mutex<HashMap<String, Held>>,
}

impl ToolApprovals {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Remembers the approval a refused call asked for (from the
    /// `approval_required` error's details) and returns the object shown to
    /// clients: `{id, tool, arguments, rule, explanation}`.
    pub(crate) fn hold(&self, err: &ToolError, tool: &str, arguments: &Value, requester: &str) -> Option<Value> {
        let details = err.details()?;
        let id = details.pointer("/approval/id").and_then(Value::as_str)?.to_owned();
        let rule = details
            .pointer("/decision/explanation/matched/0/id")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let explanation = details
            .pointer("/approval/reason")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let shown = json!({
            "id": id, "tool": tool, "arguments": arguments, "rule": rule, "explanation": explanation,
        });
        let mut held = self.held.lock();
        if held.len() >= MAX_KEPT {
            held.retain(|_, h| h.at.elapsed() < KEPT_FOR);
            while held.len() >= MAX_KEPT {
                let Some(oldest) = held.iter().min_by_key(|(_, h)| h.at).map(|(k, _)| k.clone()) else {
                    break;
                };
                held.remove(&oldest);
            }
        }
        held.insert(
            id,
            Held {
                tool: tool.to_owned(),
                arguments: arguments.clone(),
                rule,
                explanation,
                requester: requester.to_owned(),
                state: Decided::Pending,
                at: Instant::now(),
            },
        );
        Some(shown)
    }
}

/// The route of this module, for the table in `app.rs`.
pub(crate) fn endpoints() -> Vec<(EndpointDoc, MethodRouter<AppState>)> {
    vec![(
        EndpointDoc {
            method: "post",
            path: "/v1/tools/approvals/{id}",
            operation_id: "decideToolApproval",
            summary: "Approves (answering a single-use token for the caller to send as `x-toolplane-approval`) \
                      or rejects a direct tool call that a policy `ask` rule held; needs the approver or admin role.",
            authenticated: true,
            request: Some(decision_schema),
            produces: "application/json",
            query: &[],
        },
        post(decide),
    )]
}

fn decision_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "decision": {"type": "string", "enum": ["approve", "reject"]},
            "reason": {"type": "string"}
        },
        "required": ["decision"]
    })
}

fn conflict(message: String, code: &str) -> ApiError {
    ApiError::new(StatusCode::CONFLICT, "invalid_request_error", message).with_code(code)
}

async fn decide(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Extension(rid): Extension<RequestId>,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    match decision(&state, &principal, &rid, &id, body).await {
        Ok(v) => axum::Json(v).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn decision(
    state: &AppState,
    principal: &Principal,
    rid: &RequestId,
    id: &str,
    body: Result<Bytes, BytesRejection>,
) -> Result<Value, ApiError> {
    require_role(principal, APPROVER_ROLES, "deciding on approvals")?;
    let body = json_body(body, Dialect::OpenAi)?;
    let approve = match body.get("decision").and_then(Value::as_str) {
        Some("approve") => true,
        Some("reject") => false,
        _ => {
            return Err(ApiError::invalid(
                "decision",
                "`decision` must be \"approve\" or \"reject\"",
            ));
        }
    };
    let reason = match body.get("reason") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(ApiError::invalid("reason", "`reason` must be a string")),
    };
    let gw = &state.gateway;
    // Decide under the lock, so two approvers racing cannot both succeed.
    let (outcome, record) = {
        let mut held = gw.tool_approvals.held.lock();
        let Some(h) = held.get_mut(id) else {
            return Err(ApiError::not_found(format!(
                "no approval request `{id}` for a direct tool call (unknown, or older than a day)"
            ))
            .with_param("id")
            .with_code("approval_not_found"));
        };
        match h.state {
            Decided::Pending => {}
            Decided::Approved => {
                return Err(conflict(
                    format!("approval request `{id}` was already approved"),
                    "approval_already_decided",
                ));
            }
            Decided::Rejected => {
                return Err(conflict(
                    format!("approval request `{id}` was rejected"),
                    "approval_rejected",
                ));
            }
        }
        let outcome = if approve {
            match gw.approvals.approve(id, APPROVAL_TTL) {
                Ok(token) => Ok(token.0),
                Err(ApprovalError::NoRequest(_)) => Err(conflict(
                    format!("approval request `{id}` expired; call the tool again for a new one"),
                    "approval_expired",
                )),
                Err(e) => Err(conflict(e.to_string(), "approval_expired")),
            }
        } else {
            // The security store may have forgotten it already; the decision stands here.
            let _ = gw.approvals.reject(id);
            Ok(String::new())
        };
        if outcome.is_ok() {
            h.state = if approve { Decided::Approved } else { Decided::Rejected };
            h.at = Instant::now();
        }
        let mut r = AuditRecord::event("approval_decision", rid.0.clone(), principal.id.clone());
        r.roles = principal.roles.clone();
        r.tool = Some(h.tool.clone());
        r.arguments = h.arguments.clone();
        r.decision = Some(if approve { "approved" } else { "rejected" }.into());
        r.explanation = Some(h.explanation.clone());
        match &outcome {
            Ok(_) => r.status = "ok".into(),
            Err(e) => {
                r.status = "expired".into();
                r.error = Some(e.message.clone());
            }
        }
        r.detail = Some(json!({
            "approval_id": id, "requested_by": h.requester, "rule": h.rule, "reason": reason,
            "ttl_secs": approve.then_some(APPROVAL_TTL.as_secs()),
        }));
        (outcome, r)
    };
    gw.audit.append(record.redacted()).await.map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            format!("the decision could not be written to the audit log: {e}"),
        )
    })?;
    let token = outcome?;
    Ok(if approve {
        json!({"id": id, "decision": "approve", "token": token})
    } else {
        json!({"id": id, "decision": "reject"})
    })
}
