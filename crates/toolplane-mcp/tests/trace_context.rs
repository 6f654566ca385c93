//! W3C trace context across MCP (SEP-414: `traceparent` and `tracestate` in
//! `params._meta`): our client sends the caller's context, our server runs
//! the call with it, and an OpenAPI tool behind the server passes it on to
//! its upstream. A malformed value is ignored and never echoed.
//!
//! No trace-context source is installed in this test process, so the
//! context travels as the `TraceParent` in each side's `CallContext`.

#![cfg(feature = "http")]
#![allow(clippy::panic, clippy::unwrap_used)]

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use axum::http::HeaderMap;
use serde_json::{Value, json};
use toolplane_core::trace_context::{TraceParent, TraceState};
use toolplane_core::{CallContext, Tool, ToolCall, ToolError, ToolOutput, ToolSpec};
use toolplane_mcp::client::{HttpServer, McpClient, ServerConfig};
use toolplane_mcp::server::{HttpOptions, McpServer, ServerOptions, http_router};
use toolplane_openapi::http::{HttpConfig, http_tools};
use toolplane_openapi::{ConvertOptions, Converter, OpenApiSpec};
use toolplane_registry::{Executor, ToolRegistry};

const PARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
const STATE: &str = "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE";

/// What the server-side tool saw in its call's context.
#[derive(Debug, Clone, Default)]
struct Seen {
    request_id: String,
    parent: Option<TraceParent>,
    state: Option<String>,
}

/// A tool that records the trace context of its `CallContext`.
#[derive(Debug)]
struct RecordContext {
    spec: ToolSpec,
    seen: Arc<Mutex<Vec<Seen>>>,
}

#[async_trait]
impl Tool for RecordContext {
    fn spec(&self) -> &ToolSpec {
        &self.spec
    }

    async fn call(&self, _args: &Value, ctx: &CallContext) -> Result<ToolOutput, ToolError> {
        self.seen.lock().unwrap().push(Seen {
            request_id: ctx.request_id.clone(),
            parent: ctx.extensions.get::<TraceParent>().copied(),
            state: ctx.extensions.get::<TraceState>().map(|s| s.as_str().to_owned()),
        });
        Ok(ToolOutput::text("recorded"))
    }
}

/// Serves `executor` over Streamable HTTP on 127.0.0.1; returns the URL.
async fn serve(executor: Executor) -> String {
    let server = McpServer::new(Arc::new(executor), ServerOptions::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, http_router(server, HttpOptions::default())).await });
    format!("http://{addr}/mcp")
}

fn record_context_server() -> (Executor, Arc<Mutex<Vec<Seen>>>) {
    let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
    let tool: Arc<dyn Tool> = Arc::new(RecordContext {
        spec: ToolSpec::new("record", "Records its call context.")
            .with_input_schema(json!({"type": "object", "properties": {}})),
        seen: Arc::clone(&seen),
    });
    let exec = Executor::builder(ToolRegistry::from_tools([tool]).unwrap())
        .build()
        .unwrap();
    (exec, seen)
}

/// An executor holding the tools of the MCP server at `url`, under `remote.`.
async fn client_of(url: &str) -> (McpClient, Executor) {
    let client = McpClient::connect(ServerConfig::http("remote", HttpServer::new(url)))
        .await
        .unwrap();
    let exec = Executor::new(ToolRegistry::new());
    client.attach(&exec).unwrap();
    (client, exec)
}

fn traced_context() -> CallContext {
    CallContext::new("client-request")
        .with_extension(PARENT.parse::<TraceParent>().unwrap())
        .with_extension(STATE.parse::<TraceState>().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_side_call_continues_the_clients_trace() {
    let (server_exec, seen) = record_context_server();
    let url = serve(server_exec).await;
    let (_client, exec) = client_of(&url).await;

    let out = exec
        .execute(&ToolCall::new("c1", "remote.record", "{}"), &traced_context())
        .await
        .unwrap();
    assert_eq!(out.to_model_text(), "recorded");
    // A call made without a trace context carries none.
    exec.execute(&ToolCall::new("c2", "remote.record", "{}"), &CallContext::new("plain"))
        .await
        .unwrap();

    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2, "{seen:?}");
    let parent = seen[0]
        .parent
        .expect("the server-side call has the client's trace parent");
    let sent: TraceParent = PARENT.parse().unwrap();
    assert_eq!(parent.trace_id_hex(), sent.trace_id_hex());
    assert_eq!(parent.span_id_hex(), sent.span_id_hex());
    assert!(parent.sampled());
    assert_eq!(seen[0].state.as_deref(), Some(STATE));
    // Without an HTTP layer naming the request, the id is the JSON-RPC id's.
    assert!(seen[0].request_id.starts_with("mcp-"), "{:?}", seen[0]);
    assert_eq!(seen[1].parent, None);
    assert_eq!(seen[1].state, None);
}

/// A fake upstream API on 127.0.0.1 that records every `traceparent` it gets.
async fn upstream() -> (String, Arc<Mutex<Vec<Option<String>>>>) {
    let got: Arc<Mutex<Vec<Option<String>>>> = Arc::default();
    let record = Arc::clone(&got);
    let app = axum::Router::new().route(
        "/items/{id}",
        axum::routing::get(move |headers: HeaderMap| {
            let record = Arc::clone(&record);
            async move {
                let tp = headers.get("traceparent").map(|v| v.to_str().unwrap().to_owned());
                record.lock().unwrap().push(tp);
                axum::Json(json!({"id": 7, "name": "widget"}))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}"), got)
}

fn openapi_executor(base: &str) -> Executor {
    let spec = OpenApiSpec::from_value(json!({
        "openapi": "3.1.0",
        "info": {"title": "items", "version": "1"},
        "paths": {"/items/{id}": {"get": {
            "operationId": "getItem",
            "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "integer"}}],
            "responses": {"200": {"description": "the item"}}
        }}}
    }))
    .unwrap();
    let conversion = Converter::new(ConvertOptions::default()).convert(&spec);
    let tools = http_tools(conversion.tools, HttpConfig::new().with_base_url(base)).unwrap();
    let mut registry = ToolRegistry::new();
    registry.register_all(tools).unwrap();
    Executor::builder(registry).build().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_openapi_tool_served_over_mcp_sends_the_clients_trace_upstream() {
    let (base, got) = upstream().await;
    let server_exec = openapi_executor(&base);
    let name = server_exec.specs()[0].name.clone();
    let url = serve(server_exec).await;
    let (_client, exec) = client_of(&url).await;

    let out = exec
        .execute(
            &ToolCall::new("c1", format!("remote.{name}"), r#"{"id": 7}"#),
            &traced_context(),
        )
        .await
        .unwrap();
    assert!(!out.is_error, "{}", out.to_model_text());

    let got = got.lock().unwrap().clone();
    assert_eq!(got.len(), 1, "{got:?}");
    let header: TraceParent = got[0]
        .as_deref()
        .expect("the upstream request carries a traceparent")
        .parse()
        .unwrap();
    assert_eq!(header.trace_id_hex(), "4bf92f3577b34da6a3ce929d0e0e4736");
}

/// Posts one JSON-RPC message to the MCP endpoint; returns the answer to `id`.
async fn rpc(client: &reqwest::Client, url: &str, session: Option<&str>, body: Value) -> (u16, Option<String>, String) {
    let mut req = client
        .post(url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2025-06-18");
    if let Some(s) = session {
        req = req.header("mcp-session-id", s);
    }
    let resp = req.body(body.to_string()).send().await.unwrap();
    let status = resp.status().as_u16();
    let session = resp
        .headers()
        .get("mcp-session-id")
        .map(|v| v.to_str().unwrap().to_owned());
    (status, session, resp.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_meta_traceparent_is_ignored_and_not_echoed() {
    let (server_exec, seen) = record_context_server();
    let url = serve(server_exec).await;
    let http = reqwest::Client::new();
    let (status, session, _) = rpc(
        &http,
        &url,
        None,
        json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "raw", "version": "1"}}}),
    )
    .await;
    assert_eq!(status, 200);
    let session = session.expect("a session id");
    let (status, _, _) = rpc(
        &http,
        &url,
        Some(&session),
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
    )
    .await;
    assert_eq!(status, 202);

    let bad = [
        json!("00-NOT-A-TRACE-01-marker"),
        json!("00-00000000000000000000000000000000-00f067aa0ba902b7-01"),
        json!(42),
        json!({"nested": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}),
    ];
    for (i, value) in bad.iter().enumerate() {
        let id = i as u64 + 1;
        let (status, _, text) = rpc(
            &http,
            &url,
            Some(&session),
            json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": {
                "name": "record", "arguments": {},
                "_meta": {"traceparent": value, "tracestate": "marker=1", "progressToken": id}}}),
        )
        .await;
        assert_eq!(status, 200, "{text}");
        assert!(text.contains("recorded"), "the call still runs: {text}");
        assert!(!text.contains("NOT-A-TRACE"), "the bad value is not echoed: {text}");
        assert!(!text.contains("marker"), "the tracestate is not echoed: {text}");
    }
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), bad.len());
    for s in &seen {
        assert_eq!(s.parent, None, "{s:?}");
        assert_eq!(
            s.state, None,
            "a tracestate without a valid traceparent is dropped: {s:?}"
        );
    }
}
