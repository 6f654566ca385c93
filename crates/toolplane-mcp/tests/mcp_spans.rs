//! The MCP server's `tools/call {tool}` span: a root in the server process
//! whose remote parent is the client's trace (from `_meta.traceparent`),
//! holding the executor's `execute_tool` span.
//!
//! Every test here installs the span collector (a test without one running
//! beside it in the same process can leave the collector's callsites
//! disabled).

#![cfg(feature = "http")]
#![allow(clippy::panic, clippy::unwrap_used)]

use std::sync::{Arc, Mutex};

use serde_json::json;
use toolplane_core::semconv as sc;
use toolplane_core::trace_context::TraceParent;
use toolplane_core::{CallContext, EchoTool, Tool, ToolCall, ToolSpec};
use toolplane_mcp::client::{HttpServer, McpClient, ServerConfig};
use toolplane_mcp::server::{HttpOptions, McpServer, ServerOptions, http_router};
use toolplane_registry::{Executor, ToolRegistry};

const PARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

/// The spans the remote-parent function was asked to continue: (span name,
/// trace id). Stands in for `toolplane_otel`'s, which needs an exporter.
static CONTINUED: Mutex<Vec<(&'static str, String)>> = Mutex::new(Vec::new());

fn record_remote_parent(span: &tracing::Span, parent: &TraceParent) -> bool {
    let name = span.metadata().map_or("?", |m| m.name());
    CONTINUED.lock().unwrap().push((name, parent.trace_id_hex()));
    true
}

/// Current-thread runtime: the collector sees the spans of this thread, and
/// client, server and transport all run on it.
#[tokio::test]
async fn the_server_call_span_continues_the_trace_and_holds_execute_tool() {
    let (spans, _guard) = toolplane_testkit::spans::Collector::install();
    toolplane_trace::set_remote_parent(record_remote_parent);
    let record: Arc<dyn Tool> = Arc::new(EchoTool::new(
        ToolSpec::new("record", "Returns its arguments.").with_input_schema(json!({"type": "object"})),
    ));
    let server = McpServer::new(
        Arc::new(Executor::new(ToolRegistry::from_tools([record]).unwrap())),
        ServerOptions::default(),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, http_router(server, HttpOptions::default())).await });
    let client = McpClient::connect(ServerConfig::http(
        "remote",
        HttpServer::new(format!("http://{addr}/mcp")),
    ))
    .await
    .unwrap();
    let exec = Executor::new(ToolRegistry::new());
    client.attach(&exec).unwrap();
    let ctx = CallContext::new("client-request").with_extension(PARENT.parse::<TraceParent>().unwrap());
    exec.execute(&ToolCall::new("c1", "remote.record", "{}"), &ctx)
        .await
        .unwrap();

    let server = spans.span_named("mcp_server_request");
    assert_eq!(server.target, "toolplane::mcp");
    assert_eq!(server.parent, None, "a root here; its parent is the remote caller");
    assert_eq!(server.get(sc::OTEL_NAME), Some("tools/call record"));
    assert_eq!(server.get(sc::OTEL_KIND), Some(sc::SPAN_KIND_SERVER));
    assert_eq!(server.get(sc::MCP_METHOD_NAME), Some("tools/call"));
    assert_eq!(server.get(sc::GEN_AI_TOOL_NAME), Some("record"));
    assert_eq!(server.get(sc::NETWORK_TRANSPORT), Some("tcp"));
    assert!(server.get(sc::JSONRPC_REQUEST_ID).is_some(), "{server:?}");
    assert!(
        server
            .get(sc::TOOLPLANE_REQUEST_ID)
            .is_some_and(|id| id.starts_with("mcp-")),
        "{server:?}"
    );
    assert_eq!(server.get(sc::ERROR_TYPE), None);
    assert!(server.closed);

    let tools = spans.spans_named(sc::OP_EXECUTE_TOOL);
    let inner = tools
        .iter()
        .find(|s| s.get(sc::GEN_AI_TOOL_NAME) == Some("record"))
        .expect("the server's execute_tool span");
    assert_eq!(inner.parent, Some(server.index));
    let outer = tools
        .iter()
        .find(|s| s.get(sc::GEN_AI_TOOL_NAME) == Some("remote.record"))
        .expect("the client's execute_tool span");
    assert_eq!(outer.parent, None);

    let continued = CONTINUED.lock().unwrap().clone();
    assert_eq!(
        continued,
        [("mcp_server_request", "4bf92f3577b34da6a3ce929d0e0e4736".to_owned())]
    );
}
