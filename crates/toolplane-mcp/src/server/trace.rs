//! The MCP server span around a `tools/call`, after OpenTelemetry's MCP
//! conventions: named `tools/call {tool}` (kind server), the caller's trace
//! context from `_meta` (SEP-414) as its remote parent, the executor's
//! `execute_tool` span inside it.
//!
//! ```text
//!  client: execute_tool remote.get ── tools/call, _meta.traceparent ──►
//!  server: mcp_server_request "tools/call get"   (root here; remote parent = the client's span)
//!          └── execute_tool get                  (the executor's span)
//!              └── http_request GET              (an OpenAPI tool: traceparent goes on)
//! ```
//!
//! The span carries no `gen_ai.operation.name`: the `execute_tool` span
//! inside it does, and a backend counting tool calls by operation would
//! count one call twice.

use toolplane_core::semconv as sc;
use toolplane_core::trace_context::TraceParent;
use toolplane_core::{CallContext, ToolError, ToolOutput};
use toolplane_trace::label;
use tracing::Span;
use tracing::field::Empty;

/// The span for one `tools/call` of `tool` (its wire name), JSON-RPC id
/// `id`, over `transport` (`pipe` or `tcp`). It is a root in this process
/// (the session's own spans are not the call's cause); with a trace context
/// in `ctx` and a remote-parent function installed (`toolplane_otel`), it
/// continues the caller's trace.
pub(super) fn call_span(tool: &str, id: &str, transport: &'static str, ctx: &CallContext) -> Span {
    let tool = label(tool);
    let span = tracing::info_span!(
        target: "toolplane::mcp",
        parent: None,
        "mcp_server_request",
        otel.name = %sc::span_name(sc::MCP_METHOD_TOOLS_CALL, tool),
        otel.kind = sc::SPAN_KIND_SERVER,
        mcp.method.name = sc::MCP_METHOD_TOOLS_CALL,
        gen_ai.tool.name = tool,
        jsonrpc.request.id = label(id),
        network.transport = transport,
        toolplane.request.id = label(&ctx.request_id),
        error.type = Empty,
        otel.status_code = Empty,
    );
    if !span.is_disabled()
        && let Some(parent) = ctx.extensions.get::<TraceParent>()
    {
        toolplane_trace::continue_remote(&span, parent);
    }
    span
}

/// Records a failed call (`error.type`: the error's kind, or `tool_error`
/// for a result the tool marked as an error) on `span`.
pub(super) fn record_outcome(span: &Span, outcome: &Result<ToolOutput, ToolError>) {
    let failure = match outcome {
        Ok(out) if out.is_error => Some("tool_error"),
        Ok(_) => None,
        Err(e) => Some(e.kind().as_str()),
    };
    if let Some(kind) = failure {
        span.record(sc::ERROR_TYPE, kind);
        span.record(sc::OTEL_STATUS_CODE, sc::STATUS_ERROR);
    }
}
