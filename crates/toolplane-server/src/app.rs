//! The axum application: routes, and the layers every request passes.
//!
//! ```text
//! request ─► request id ─► load shedding (503) ─► key → principal (401) ─► handler
//!                │                 │                                          │
//!                │                 └─ permit held until the body is sent ◄────┘
//!                └─ x-request-id on every answer
//! ```

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, delete, get, post};
use futures_util::StreamExt;
use serde_json::Value;
use tokio::sync::Semaphore;
use toolplane_core::Principal;

use crate::build::Gateway;
use crate::error::{ApiError, Dialect};
use crate::openapi_doc::EndpointDoc;

/// Shared by every handler.
#[derive(Debug, Clone)]
pub struct AppState {
    /// What is served.
    pub gateway: Arc<Gateway>,
    /// Permits for requests in flight.
    pub permits: Arc<Semaphore>,
    /// Signed-in console sessions.
    #[cfg(feature = "console")]
    pub(crate) sessions: Arc<crate::console::session::SessionStore>,
}

/// The request id of this request (from `x-request-id`, or generated).
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// The header naming the expert that answered.
pub const EXPERT_HEADER: &str = "x-toolplane-expert";

/// Every route: its documentation and its handler, in one table, so
/// `GET /openapi.json` and the router cannot disagree.
pub(crate) fn endpoints() -> Vec<(EndpointDoc, MethodRouter<AppState>)> {
    use crate::openapi_doc::{
        any_object, approvals_schema, chat_request_schema, messages_request_schema, run_request_schema,
    };
    const JSON: &str = "application/json";
    const SSE: &str = "text/event-stream";
    let doc = |method, path, operation_id, summary, authenticated, request, produces, query| EndpointDoc {
        method,
        path,
        operation_id,
        summary,
        authenticated,
        request,
        produces,
        query,
    };
    let mut table = vec![
        (
            doc(
                "post",
                "/v1/chat/completions",
                "createChatCompletion",
                "OpenAI-compatible chat completion, plain or streamed (SSE).",
                true,
                Some(chat_request_schema as fn() -> Value),
                JSON,
                &[],
            ),
            post(crate::chat::chat_completions),
        ),
        (
            doc(
                "post",
                "/v1/messages",
                "createMessage",
                "Anthropic-compatible message, plain or streamed (SSE).",
                true,
                Some(messages_request_schema),
                JSON,
                &[],
            ),
            post(crate::chat::messages),
        ),
        (
            doc(
                "get",
                "/v1/models",
                "listModels",
                "The experts and routes a request may name as `model`.",
                true,
                None,
                JSON,
                &[],
            ),
            get(crate::admin::models),
        ),
        (
            doc(
                "get",
                "/v1/tools",
                "listTools",
                "The tools, or a keyword search over them.",
                true,
                None,
                JSON,
                &[("q", "string", "search words"), ("limit", "integer", "most results")],
            ),
            get(crate::tools_api::list),
        ),
        (
            doc(
                "post",
                "/v1/tools/{name}/call",
                "callTool",
                "Calls a tool with its arguments (validated, permission-checked, rate-limited, audited).",
                true,
                Some(any_object),
                JSON,
                &[],
            ),
            post(crate::tools_api::call),
        ),
        (
            doc(
                "post",
                "/v1/runs",
                "startRun",
                "Starts a server-side run of the tool-calling loop.",
                true,
                Some(run_request_schema),
                JSON,
                &[],
            ),
            post(crate::runs_api::start),
        ),
        (
            doc(
                "get",
                "/v1/runs/{id}",
                "getRun",
                "A run's status, answer, pending approvals and usage.",
                true,
                None,
                JSON,
                &[],
            ),
            get(crate::runs_api::get_run),
        ),
        (
            doc(
                "delete",
                "/v1/runs/{id}",
                "cancelRun",
                "Cancels a working or paused run.",
                true,
                None,
                JSON,
                &[],
            ),
            delete(crate::runs_api::cancel),
        ),
        (
            doc(
                "get",
                "/v1/runs/{id}/events",
                "streamRunEvents",
                "A run's events as server-sent events.",
                true,
                None,
                SSE,
                &[],
            ),
            get(crate::runs_api::events),
        ),
        (
            doc(
                "post",
                "/v1/runs/{id}/approvals",
                "decideApprovals",
                "Approves or rejects the calls a paused run waits on.",
                true,
                Some(approvals_schema),
                JSON,
                &[],
            ),
            post(crate::runs_api::approvals),
        ),
        (
            doc(
                "get",
                "/metrics",
                "getPrometheusMetrics",
                "Provider metrics in the Prometheus text format.",
                true,
                None,
                "text/plain",
                &[],
            ),
            get(crate::admin::prometheus),
        ),
        (
            doc(
                "get",
                "/v1/metrics",
                "getMetricsReport",
                "The metrics report as JSON for a time range.",
                true,
                None,
                JSON,
                &[("from", "integer", "Unix seconds"), ("to", "integer", "Unix seconds")],
            ),
            get(crate::admin::metrics_json),
        ),
        (
            doc(
                "get",
                "/v1/audit",
                "listAuditRecords",
                "The most recent audit records, filtered by principal, tool and decision.",
                true,
                None,
                JSON,
                &[
                    ("limit", "integer", "most records"),
                    ("principal", "string", "only this principal"),
                    ("tool", "string", "only this tool"),
                    (
                        "decision",
                        "string",
                        "only this decision: allow, ask, deny, approved, or none",
                    ),
                ],
            ),
            get(crate::admin::audit),
        ),
        (
            doc(
                "post",
                "/v1/audit/verify",
                "verifyAuditLog",
                "Verifies the audit log's frames and hash chain.",
                true,
                None,
                JSON,
                &[],
            ),
            post(crate::admin::audit_verify),
        ),
        (
            doc(
                "get",
                "/healthz",
                "getHealth",
                "The process answers.",
                false,
                None,
                JSON,
                &[],
            ),
            get(crate::admin::healthz),
        ),
        (
            doc(
                "get",
                "/readyz",
                "getReadiness",
                "Providers configured, Redis reachable, audit writable.",
                false,
                None,
                JSON,
                &[],
            ),
            get(crate::admin::readyz),
        ),
        (
            doc(
                "get",
                "/openapi.json",
                "getOpenApi",
                "This description.",
                false,
                None,
                JSON,
                &[],
            ),
            get(openapi_json),
        ),
    ];
    table.extend(crate::feedback_api::endpoints());
    table.extend(crate::tool_approvals::endpoints());
    table.extend(crate::mcp::endpoints());
    #[cfg(feature = "console")]
    table.extend(crate::console::endpoints());
    table.extend(crate::integrations::endpoints());
    table
}

async fn openapi_json(State(state): State<AppState>) -> Response {
    let docs: Vec<EndpointDoc> = endpoints().into_iter().map(|(d, _)| d).collect();
    let gw = &state.gateway;
    let mut models: Vec<String> = gw.experts.iter().map(|e| e.id.clone()).collect();
    models.push("auto".into());
    models.extend(gw.router.task_types().iter().filter(|t| *t != "default").cloned());
    let offered = crate::openapi_doc::Offered {
        models,
        tools: gw.executor.specs().iter().map(|s| s.name.clone()).collect(),
    };
    axum::Json(crate::openapi_doc::document_for(&docs, &offered)).into_response()
}

/// Builds the application over `gateway`.
pub fn app(gateway: Arc<Gateway>) -> Router {
    let limits = gateway.limits;
    let state = AppState {
        gateway,
        permits: Arc::new(Semaphore::new(limits.max_concurrent_requests)),
        #[cfg(feature = "console")]
        sessions: Arc::default(),
    };
    let mut authed = Router::new();
    let mut open = Router::new();
    for (doc, handler) in endpoints() {
        if doc.authenticated {
            authed = authed.route(doc.path, handler);
        } else {
            open = open.route(doc.path, handler);
        }
    }
    let authed = authed.layer(middleware::from_fn_with_state(state.clone(), authenticate));
    #[cfg(feature = "console")]
    let open = open.merge(crate::console::router());
    open.merge(authed)
        .route_layer(middleware::from_fn(crate::trace_context::enter_route))
        .fallback(not_found)
        .layer(middleware::from_fn(json_rejections))
        .layer(DefaultBodyLimit::max(limits.max_body_bytes))
        .layer(middleware::from_fn_with_state(state.clone(), shed_load))
        .layer(middleware::from_fn(request_id))
        .layer(middleware::from_fn(crate::trace_context::continue_trace))
        .with_state(state)
}

fn dialect_of(path: &str) -> Dialect {
    if path.starts_with("/v1/messages") {
        Dialect::Anthropic
    } else {
        Dialect::OpenAi
    }
}

async fn not_found(req: Request) -> Response {
    ApiError::not_found(format!("no route for {} {}", req.method(), req.uri().path()))
        .in_dialect(dialect_of(req.uri().path()))
        .into_response()
}

/// Rewrites the plain-text answers axum's extractors and router give (a
/// query string or path parameter that does not parse, a method the route
/// lacks) into the SDK-shaped error body, so every error answer is JSON.
async fn json_rejections(req: Request, next: Next) -> Response {
    let dialect = dialect_of(req.uri().path());
    let resp = next.run(req).await;
    let status = resp.status();
    let is_json = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return resp;
    }
    let (parts, body) = resp.into_parts();
    let text = axum::body::to_bytes(body, 16 * 1024)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_owned())
        .unwrap_or_default();
    let message = if text.is_empty() {
        status
            .canonical_reason()
            .unwrap_or("the request cannot be served")
            .to_owned()
    } else {
        text
    };
    let kind = match status.as_u16() {
        401 => "authentication_error",
        403 => "permission_error",
        404 => "not_found_error",
        429 => "rate_limit_error",
        s if s >= 500 => "server_error",
        _ => "invalid_request_error",
    };
    let mut out = ApiError::new(status, kind, message).in_dialect(dialect).into_response();
    for name in [header::ALLOW, header::RETRY_AFTER] {
        if let Some(v) = parts.headers.get(&name) {
            out.headers_mut().insert(name, v.clone());
        }
    }
    out
}

fn new_request_id() -> String {
    format!("req_{:016x}{:08x}", rand::random::<u64>(), rand::random::<u32>())
}

async fn request_id(mut req: Request, next: Next) -> Response {
    let id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 128 && v.bytes().all(|b| b.is_ascii_graphic()))
        .map_or_else(new_request_id, str::to_owned);
    req.extensions_mut().insert(RequestId(id.clone()));
    let mut resp = next.run(req).await;
    if let Ok(v) = HeaderValue::from_str(&id) {
        resp.headers_mut().insert("x-request-id", v);
    }
    resp
}

/// Answers 503 with `retry-after` when the server is full; otherwise holds a
/// permit until the whole body (a stream included) is sent or dropped.
async fn shed_load(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let dialect = dialect_of(req.uri().path());
    let Ok(permit) = state.permits.clone().try_acquire_owned() else {
        return ApiError::overloaded(
            "the server is at its limit of concurrent requests; retry shortly",
            Duration::from_secs(1),
        )
        .with_code("server_busy")
        .in_dialect(dialect)
        .into_response();
    };
    let resp = next.run(req).await;
    if axum::body::HttpBody::size_hint(resp.body()).exact().is_some() {
        // A body already in memory: the handler's work is done.
        return resp;
    }
    let (parts, body) = resp.into_parts();
    let body = body.into_data_stream().map(move |chunk| {
        let _held = &permit;
        chunk
    });
    Response::from_parts(parts, Body::from_stream(body))
}

fn presented_key(headers: &HeaderMap) -> Option<&str> {
    headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .or_else(|| headers.get("x-api-key").and_then(|v| v.to_str().ok()))
        .map(str::trim)
}

async fn authenticate(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let dialect = dialect_of(req.uri().path());
    // Without a key, the console's session cookie (non-GET: with its CSRF token).
    #[cfg(feature = "console")]
    if presented_key(req.headers()).is_none() {
        match state.sessions.authenticate(req.method(), req.headers()) {
            Ok(Some(p)) => {
                req.extensions_mut().insert(p);
                return next.run(req).await;
            }
            Ok(None) => {}
            Err(e) => return e.in_dialect(dialect).into_response(),
        }
    }
    let principal: Option<Principal> =
        presented_key(req.headers()).and_then(|k| state.gateway.keys.authenticate(k).cloned());
    match principal {
        Some(p) => {
            req.extensions_mut().insert(p);
            next.run(req).await
        }
        None => {
            let message = if presented_key(req.headers()).is_some() {
                "the API key is not valid for this server"
            } else {
                "no API key: send `Authorization: Bearer <key>` (or `x-api-key`)"
            };
            let mut resp = ApiError::unauthorized(message).in_dialect(dialect).into_response();
            // RFC 9110 §11.6.1; MCP clients read it as the start of their auth flow.
            resp.headers_mut()
                .insert("www-authenticate", HeaderValue::from_static("Bearer"));
            resp
        }
    }
}

/// A JSON request body, read by hand so errors are shaped for the client:
/// 413 over the size limit, 400 naming the syntax problem and its place.
pub(crate) fn json_body(
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
    dialect: Dialect,
) -> Result<Value, ApiError> {
    let bytes = body.map_err(|e| {
        let status = e.status();
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                status,
                "invalid_request_error",
                format!("the request body is too large: {e}"),
            )
            .with_code("request_too_large")
        } else {
            ApiError::new(
                status,
                "invalid_request_error",
                format!("cannot read the request body: {e}"),
            )
        }
        .in_dialect(dialect)
    })?;
    serde_json::from_slice(&bytes).map_err(|e| {
        ApiError::invalid("body", format!("the request body is not valid JSON: {e}"))
            .with_code("malformed_json")
            .in_dialect(dialect)
    })
}

/// Checks that `principal` holds one of `roles`.
pub(crate) fn require_role(principal: &Principal, roles: &[&str], what: &str) -> Result<(), ApiError> {
    if roles.iter().any(|r| principal.has_role(r)) {
        Ok(())
    } else {
        Err(ApiError::forbidden(format!(
            "{what} needs one of the roles {}; principal `{}` has {:?}",
            roles.join(", "),
            principal.id,
            principal.roles
        )))
    }
}
