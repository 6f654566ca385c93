//! `/mcp`: the gateway's tools served to MCP clients over Streamable HTTP
//! (toolplane-mcp), behind the gateway's keys.
//!
//! ```text
//! POST|GET|DELETE /mcp ─► request id ─► load shedding ─► key → principal (401) ─► McpHttpService
//!                                                                    │
//!   tools/list ─► gateway.executor.specs()                           │ the principal and the request
//!   tools/call ─► gateway.executor.execute(call, ctx with principal) ◄┘ id ride in the request's
//!                 ctx.request_id = the HTTP request's x-request-id      extensions
//!                 call.id = the JSON-RPC id; _meta.traceparent → ctx
//!                 validation, permissions, rate limits, audit
//!   "ask" rule ─► elicitation at the client (callers with role approver or admin)
//! ```

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::extract::{Request, State};
use axum::routing::{MethodRouter, any};
use serde_json::Value;
use toolplane_core::{ApprovalToken, Principal};
use toolplane_mcp::server::{Approver, HttpOptions, HttpRequestId, McpHttpService, McpServer, ServerOptions};
use toolplane_security::ApprovalStore;

use crate::app::{AppState, RequestId};
use crate::build::Gateway;
use crate::openapi_doc::EndpointDoc;
use crate::runs_api::APPROVER_ROLES;

/// How long an approval given through an elicitation stays valid (the call
/// runs at once; the margin covers a slow tool start).
const APPROVAL_TTL: Duration = Duration::from_secs(120);

/// The `/mcp` route: one handler for every method, sharing one set of MCP
/// sessions per application (built on the first request, from the gateway).
pub(crate) fn endpoints() -> Vec<(EndpointDoc, MethodRouter<AppState>)> {
    let service: Arc<OnceLock<McpHttpService>> = Arc::default();
    let handler = any(move |State(state): State<AppState>, mut req: Request| {
        let service = Arc::clone(&service);
        // A tools/call runs (and is audited) under this HTTP request's
        // x-request-id, so gateway logs, audit and traces join.
        if let Some(RequestId(id)) = req.extensions().get::<RequestId>().cloned() {
            req.extensions_mut().insert(HttpRequestId(id));
        }
        async move { service.get_or_init(|| mcp_service(&state.gateway)).handle(req).await }
    });
    vec![(
        EndpointDoc {
            method: "post",
            path: "/mcp",
            operation_id: "mcpStreamableHttp",
            summary: "Model Context Protocol (Streamable HTTP; GET and DELETE too): the gateway's tools for MCP clients, \
                      called through the same validation, permissions, limits and audit.",
            authenticated: true,
            request: Some(crate::openapi_doc::any_object),
            produces: "text/event-stream",
            query: &[],
        },
        handler,
    )]
}

fn mcp_service(gateway: &Gateway) -> McpHttpService {
    let options = ServerOptions {
        name: "toolplane".into(),
        instructions: Some("The tools of a toolplane gateway.".into()),
        ..ServerOptions::default()
    };
    let server = McpServer::new(Arc::new(gateway.executor.clone()), options).with_approver(Arc::new(GatewayApprover {
        approvals: Arc::clone(&gateway.approvals),
    }));
    let http = HttpOptions {
        // The gateway checks keys; any Host may reach it (a key is required,
        // so a rebound browser page has nothing to present).
        allowed_hosts: None,
        max_request_body_bytes: gateway.limits.max_body_bytes,
        ..HttpOptions::default()
    };
    McpHttpService::new(server, &http)
}

/// Approves a call held by an "ask" rule when the human at the MCP client
/// accepts the elicitation, for callers who may decide on approvals (the
/// roles of `POST /v1/runs/{id}/approvals`).
#[derive(Debug)]
struct GatewayApprover {
    approvals: Arc<ApprovalStore>,
}

impl Approver for GatewayApprover {
    fn approve(&self, request: &Value) -> Result<ApprovalToken, String> {
        let id = request
            .get("id")
            .and_then(Value::as_str)
            .ok_or("the approval request has no id")?;
        self.approvals.approve(id, APPROVAL_TTL).map_err(|e| e.to_string())
    }

    fn may_approve(&self, principal: Option<&Principal>) -> Result<(), String> {
        match principal {
            Some(p) if APPROVER_ROLES.iter().any(|r| p.has_role(r)) => Ok(()),
            Some(p) => Err(format!(
                "principal `{}` needs one of the roles {} to approve",
                p.id,
                APPROVER_ROLES.join(", ")
            )),
            None => Err("the request has no principal".into()),
        }
    }
}
