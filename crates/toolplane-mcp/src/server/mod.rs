//! MCP server: any [`ToolExecutor`] served to MCP clients.
//!
//! ```text
//!  MCP client ── initialize ─► McpServer (tools capability)
//!             ── tools/list ─► executor.specs() → MCP Tool JSON (cached per specs Arc)
//!             ── tools/call ─► executor.execute(ToolCall, CallContext)
//!                                 validation, interceptors (permissions, limits, audit), timeout
//!                              ◄─ CallToolResult: text (+ structuredContent for objects), isError
//!                 approval_required + client supports elicitation + an Approver
//!                              ─► elicitation/create "approve?" ─► accept: approve, run again with the token
//!             ── notifications/cancelled ─► the call's CancelFlag is set and its future dropped
//! ```
//!
//! Transports: [`McpServer::serve_stdio`] and, with the `http` feature,
//! [`http_router`] (Streamable HTTP at `/mcp` as an axum `Router`, with a
//! bearer-key hook).

#[cfg(feature = "http")]
mod http;
mod trace;

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use parking_lot::Mutex;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ElicitRequestParams, ElicitationAction, Implementation,
    ListToolsResult, PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool as McpToolDef,
};
use rmcp::service::{ElicitationMode, RequestContext};
use rmcp::{ErrorData, RoleServer, ServerHandler, ServiceExt};
use serde_json::{Value, json};
use toolplane_core::trace_context::{TraceParent, TraceState};
use toolplane_core::{ApprovalToken, CallContext, Principal, ToolCall, ToolError, ToolErrorKind, ToolSpec};
use tracing::Instrument;

#[cfg(feature = "http")]
pub use http::{BearerAuth, HttpOptions, HttpRequestId, McpHttpService, StaticKeys, http_router};
/// The executor contract served here (re-exported so hosts need not name its crate).
pub use toolplane_pipeline::ToolExecutor;

use crate::wire;

/// Turns a pending approval into a token when the human at the MCP client
/// accepted it (through an elicitation).
///
/// `request` is the `approval` object of an `approval_required` error's
/// details (toolplane-security's `ApprovalRequest`: `id`, `principal`,
/// `tool`, `binding`, `reason`). A host using toolplane-security implements
/// it with `ApprovalStore::approve(id, ttl)`; [`FnApprover`] wraps a closure.
pub trait Approver: Send + Sync + fmt::Debug {
    /// Approves the pending call.
    ///
    /// # Errors
    /// A message saying why the approval cannot be granted (an unknown or
    /// expired request).
    fn approve(&self, request: &Value) -> Result<ApprovalToken, String>;

    /// Whether the caller may approve its own pending calls, checked before
    /// the human is asked (default: everyone may).
    ///
    /// # Errors
    /// Why `principal` may not approve (a role missing, say); the call then
    /// fails with `approval_required` and this reason, without an elicitation.
    fn may_approve(&self, principal: Option<&Principal>) -> Result<(), String> {
        let _ = principal;
        Ok(())
    }
}

/// An [`Approver`] made from a closure.
pub struct FnApprover<F>(pub F);

impl<F> fmt::Debug for FnApprover<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("FnApprover")
    }
}

impl<F> Approver for FnApprover<F>
where
    F: Fn(&Value) -> Result<ApprovalToken, String> + Send + Sync,
{
    fn approve(&self, request: &Value) -> Result<ApprovalToken, String> {
        (self.0)(request)
    }
}

/// How the server presents itself and names its tools.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// The `serverInfo.name` sent at `initialize` (default `toolplane`).
    pub name: String,
    /// The `serverInfo.version` (default this crate's version).
    pub version: String,
    /// Instructions for the client's model, sent at `initialize`.
    pub instructions: Option<String>,
    /// Serve flat names (`github__issues_create`) instead of dotted ones, for
    /// clients that accept only `[A-Za-z0-9_-]` (default `false`). The
    /// registry's executor resolves either form.
    pub flat_names: bool,
    /// Who the calls are made for when the transport says nothing (stdio;
    /// HTTP without a principal from the bearer-key hook).
    pub principal: Option<Principal>,
}

impl Default for ServerOptions {
    fn default() -> Self {
        Self {
            name: "toolplane".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            instructions: None,
            flat_names: false,
            principal: None,
        }
    }
}

struct Listing {
    specs: Arc<[ToolSpec]>,
    tools: Vec<McpToolDef>,
    /// Wire name to the index in `specs`.
    by_name: HashMap<String, usize>,
}

struct Inner {
    executor: Arc<dyn ToolExecutor>,
    approver: Option<Arc<dyn Approver>>,
    options: ServerOptions,
    listing: Mutex<Option<Arc<Listing>>>,
}

/// Serves a [`ToolExecutor`] (the registry's validating `Executor`, a
/// filtered or skill-narrowed one, a `ToolBox`) over MCP. Cheap to clone;
/// clones share the tool listing cache.
///
/// ```
/// use std::sync::Arc;
/// use toolplane_mcp::server::{McpServer, ServerOptions};
/// use toolplane_registry::{builtin, Executor, ToolRegistry};
/// let mut registry = ToolRegistry::new();
/// registry.register_all(builtin::builtin_tools()).unwrap();
/// let server = McpServer::new(Arc::new(Executor::new(registry)), ServerOptions::default());
/// assert!(server.tool_names().contains(&"current_time".to_string()));
/// ```
#[derive(Clone)]
pub struct McpServer {
    inner: Arc<Inner>,
}

impl fmt::Debug for McpServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("McpServer")
            .field("executor", &self.inner.executor)
            .field("approver", &self.inner.approver)
            .field("options", &self.inner.options)
            .finish()
    }
}

impl McpServer {
    /// Serves `executor`.
    pub fn new(executor: Arc<dyn ToolExecutor>, options: ServerOptions) -> Self {
        Self {
            inner: Arc::new(Inner {
                executor,
                approver: None,
                options,
                listing: Mutex::new(None),
            }),
        }
    }

    /// Asks the MCP client's human (an elicitation) when a call needs an
    /// approval, and approves through `approver` on acceptance.
    pub fn with_approver(self, approver: Arc<dyn Approver>) -> Self {
        let inner = Inner {
            executor: Arc::clone(&self.inner.executor),
            approver: Some(approver),
            options: self.inner.options.clone(),
            listing: Mutex::new(None),
        };
        Self { inner: Arc::new(inner) }
    }

    /// The tool names as served.
    pub fn tool_names(&self) -> Vec<String> {
        self.listing().tools.iter().map(|t| t.name.to_string()).collect()
    }

    /// Serves one client on this process's stdin/stdout until it disconnects.
    ///
    /// # Errors
    /// The handshake failed or the transport broke.
    pub async fn serve_stdio(self) -> Result<(), std::io::Error> {
        let running = self
            .serve(rmcp::transport::stdio())
            .await
            .map_err(|e| std::io::Error::other(format!("MCP initialize failed: {e}")))?;
        running
            .waiting()
            .await
            .map_err(|e| std::io::Error::other(format!("the MCP session ended abnormally: {e}")))?;
        Ok(())
    }

    /// Serves one client over any byte stream pair (a socket, an in-memory
    /// duplex in tests) until it disconnects.
    ///
    /// # Errors
    /// The handshake failed or the transport broke.
    pub async fn serve_io<R, W>(self, read: R, write: W) -> Result<(), std::io::Error>
    where
        R: tokio::io::AsyncRead + Send + Unpin + 'static,
        W: tokio::io::AsyncWrite + Send + Unpin + 'static,
    {
        let running = self
            .serve((read, write))
            .await
            .map_err(|e| std::io::Error::other(format!("MCP initialize failed: {e}")))?;
        running
            .waiting()
            .await
            .map_err(|e| std::io::Error::other(format!("the MCP session ended abnormally: {e}")))?;
        Ok(())
    }

    fn listing(&self) -> Arc<Listing> {
        let specs = self.inner.executor.specs();
        let mut cache = self.inner.listing.lock();
        if let Some(l) = &*cache
            && Arc::ptr_eq(&l.specs, &specs)
        {
            return Arc::clone(l);
        }
        let mut tools = Vec::with_capacity(specs.len());
        let mut by_name = HashMap::with_capacity(specs.len());
        for (i, spec) in specs.iter().enumerate() {
            let name = self.wire_name(&spec.name);
            // A definition rmcp cannot represent is left out rather than sent broken.
            if let Ok(tool) = serde_json::from_value::<McpToolDef>(wire::mcp_tool_from_spec(spec, &name)) {
                by_name.insert(name, i);
                tools.push(tool);
            }
        }
        let listing = Arc::new(Listing { specs, tools, by_name });
        *cache = Some(Arc::clone(&listing));
        listing
    }

    fn wire_name(&self, name: &str) -> String {
        if self.inner.options.flat_names {
            name.replace('.', "__")
        } else {
            name.to_string()
        }
    }

    /// The call's context: the HTTP request's id when the host's HTTP layer
    /// gave one (`HttpRequestId`), else `mcp-<JSON-RPC id>`; the
    /// principal; and the caller's W3C trace context from `_meta` (SEP-414),
    /// else from the HTTP request's `traceparent` header, when valid, so the
    /// call's spans and its downstream requests continue the caller's trace.
    fn context(&self, rc: &RequestContext<RoleServer>) -> CallContext {
        let http = http_request(rc);
        let request_id = http
            .and_then(|h| h.request_id())
            .unwrap_or_else(|| format!("mcp-{}", rc.id));
        let mut ctx = CallContext::new(request_id);
        ctx.principal = http
            .and_then(|h| h.principal())
            .or_else(|| self.inner.options.principal.clone());
        let trace = wire::read_trace_meta(&rc.meta.0.0).or_else(|| http.and_then(|h| h.trace_headers()));
        if let Some((parent, state)) = trace {
            ctx.extensions.insert(parent);
            if let Some(state) = state {
                ctx.extensions.insert(state);
            }
        }
        ctx
    }

    async fn run_call(
        &self,
        request: CallToolRequestParams,
        rc: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        let listing = self.listing();
        let Some(&index) = listing.by_name.get(request.name.as_ref()) else {
            let shown: String = request.name.chars().take(80).collect();
            return Err(ErrorData::invalid_params(
                format!(
                    "unknown tool `{shown}` ({} tools are served; see tools/list)",
                    listing.tools.len()
                ),
                Some(json!({"tool": shown})),
            ));
        };
        let spec = &listing.specs[index];
        let arguments = match &request.arguments {
            Some(map) => serde_json::to_string(map).unwrap_or_else(|_| "{}".into()),
            None => "{}".into(),
        };
        let call = ToolCall::new(rc.id.to_string(), spec.name.clone(), arguments);
        let ctx = self.context(&rc);
        let transport = if http_request(&rc).is_some() { "tcp" } else { "pipe" };
        let span = trace::call_span(request.name.as_ref(), &call.id, transport, &ctx);
        let outcome = async {
            match self.execute_cancellable(&call, &ctx, &rc).await {
                Err(e) if e.kind() == ToolErrorKind::ApprovalRequired => self.ask(&call, ctx, e, &rc).await,
                other => other,
            }
        }
        .instrument(span.clone())
        .await;
        trace::record_outcome(&span, &outcome);
        let result = match outcome {
            Ok(out) => wire::call_result_from_output(&out, Some(spec)),
            Err(e) => wire::call_result_from_error(&e),
        };
        serde_json::from_value(result)
            .map_err(|e| ErrorData::internal_error(format!("cannot encode the result: {e}"), None))
    }

    async fn execute_cancellable(
        &self,
        call: &ToolCall,
        ctx: &CallContext,
        rc: &RequestContext<RoleServer>,
    ) -> Result<toolplane_core::ToolOutput, ToolError> {
        tokio::select! {
            out = self.inner.executor.execute(call, ctx) => out,
            () = rc.ct.cancelled() => {
                ctx.cancel.cancel();
                Err(ToolError::new(ToolErrorKind::Cancelled, format!("`{}` was cancelled by the MCP client", call.name)))
            }
        }
    }

    /// An `approval_required` answer: elicit the human's decision when the
    /// client can show a form and an approver is configured, otherwise return
    /// the error (whose message names the rule that asked).
    async fn ask(
        &self,
        call: &ToolCall,
        ctx: CallContext,
        err: ToolError,
        rc: &RequestContext<RoleServer>,
    ) -> Result<toolplane_core::ToolOutput, ToolError> {
        let Some(approver) = &self.inner.approver else {
            return Err(err);
        };
        if let Err(why) = approver.may_approve(ctx.principal.as_ref()) {
            return Err(ToolError::new(
                ToolErrorKind::ApprovalRequired,
                format!("{} (it cannot be approved from this MCP client: {why})", err.message()),
            )
            .with_details(err.details().cloned().unwrap_or(Value::Null)));
        }
        if !rc.peer.supported_elicitation_modes().contains(&ElicitationMode::Form) {
            return Err(ToolError::new(
                ToolErrorKind::ApprovalRequired,
                format!(
                    "{} (the MCP client does not support elicitation, so the call cannot be approved from it)",
                    err.message()
                ),
            )
            .with_details(err.details().cloned().unwrap_or(Value::Null)));
        }
        let request = err
            .details()
            .and_then(|d| d.get("approval"))
            .cloned()
            .unwrap_or(Value::Null);
        let params: ElicitRequestParams = serde_json::from_value(json!({
            "mode": "form",
            "message": format!("Approve this call? {}\narguments: {}", err.message(), truncate(&call.arguments, 2000)),
            "requestedSchema": {
                "type": "object",
                "properties": {
                    "approve": {"type": "boolean", "title": "Approve", "description": format!("Run `{}` with these arguments", call.name)}
                },
                "required": ["approve"]
            }
        }))
        .map_err(|e| ToolError::internal(format!("cannot build the elicitation: {e}")))?;
        let answer = rc.peer.create_elicitation(params).await.map_err(|e| {
            ToolError::new(
                ToolErrorKind::ApprovalRequired,
                format!("{} (asking the MCP client failed: {e})", err.message()),
            )
        })?;
        let approved = answer.action == ElicitationAction::Accept
            && answer
                .content
                .as_ref()
                .and_then(|c| c.get("approve"))
                .and_then(Value::as_bool)
                == Some(true);
        if !approved {
            return Err(ToolError::permission_denied(format!(
                "`{}` was not approved by the user at the MCP client ({})",
                call.name,
                match answer.action {
                    ElicitationAction::Accept => "approve was not checked",
                    ElicitationAction::Decline => "declined",
                    ElicitationAction::Cancel => "cancelled",
                    _ => "not accepted",
                }
            )));
        }
        let token = approver.approve(&request).map_err(|e| {
            ToolError::new(
                ToolErrorKind::ApprovalRequired,
                format!("{} (approving failed: {e})", err.message()),
            )
        })?;
        let ctx = ctx.with_extension(token);
        self.execute_cancellable(call, &ctx, rc).await
    }
}

fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut cut = max;
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}... ({} bytes)", &s[..cut], s.len())
}

/// The HTTP request that carried the call (Streamable HTTP only): rmcp puts
/// its parts in the request context.
#[cfg(feature = "http")]
fn http_request(rc: &RequestContext<RoleServer>) -> Option<&::http::request::Parts> {
    rc.extensions.get::<::http::request::Parts>()
}

/// Without the `http` feature no call comes over HTTP.
#[cfg(not(feature = "http"))]
fn http_request(rc: &RequestContext<RoleServer>) -> Option<&NoHttp> {
    let _ = rc;
    None
}

/// Stands in for the HTTP request's parts when the `http` feature is off.
#[cfg(not(feature = "http"))]
enum NoHttp {}

#[cfg(not(feature = "http"))]
impl NoHttp {
    fn principal(&self) -> Option<Principal> {
        match *self {}
    }
    fn request_id(&self) -> Option<String> {
        match *self {}
    }
    fn trace_headers(&self) -> Option<(TraceParent, Option<TraceState>)> {
        match *self {}
    }
}

/// What a call reads from the HTTP request that carried it.
#[cfg(feature = "http")]
trait HttpRequestParts {
    fn principal(&self) -> Option<Principal>;
    fn request_id(&self) -> Option<String>;
    fn trace_headers(&self) -> Option<(TraceParent, Option<TraceState>)>;
}

#[cfg(feature = "http")]
impl HttpRequestParts for ::http::request::Parts {
    /// The principal an HTTP authentication hook attached to the request.
    fn principal(&self) -> Option<Principal> {
        self.extensions.get::<Principal>().cloned()
    }

    /// The id the host's HTTP layer gave the request ([`HttpRequestId`]).
    fn request_id(&self) -> Option<String> {
        self.extensions.get::<HttpRequestId>().map(|id| id.0.clone())
    }

    /// The request's trace context (one valid `traceparent` header, and its
    /// `tracestate`), for clients that propagate at the HTTP layer rather
    /// than in `_meta`.
    fn trace_headers(&self) -> Option<(TraceParent, Option<TraceState>)> {
        use toolplane_core::trace_context::{TRACEPARENT, TRACESTATE};
        let mut values = self.headers.get_all(TRACEPARENT).iter();
        let first = values.next()?;
        if values.next().is_some() {
            return None;
        }
        let parent: TraceParent = first.to_str().ok()?.parse().ok()?;
        let state = self
            .headers
            .get(TRACESTATE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok());
        Some((parent, state))
    }
}

impl ServerHandler for McpServer {
    fn get_info(&self) -> ServerConfig {
        let mut info = ServerConfig::new(ServerCapabilities::builder().enable_tools().build());
        info.server_info = Implementation::new(self.inner.options.name.clone(), self.inner.options.version.clone());
        info.instructions = self.inner.options.instructions.clone();
        info
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(self.listing().tools.clone()))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        self.run_call(request, context).await.map(CallToolResponse::from)
    }
}
