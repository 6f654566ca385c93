#![allow(clippy::unwrap_used, clippy::panic)]
//! `toolplane chat` and `toolplane serve` built with the `otel` feature send
//! their spans to the collector the standard variables name
//! (OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_SERVICE_NAME): a real OTLP/HTTP
//! receiver on 127.0.0.1 decodes them with the official protobuf
//! definitions. The upstream model server sees `traceparent` naming the
//! exported `chat` span, and the gateway continues an incoming one (in a
//! header, and in an MCP call's `_meta`).

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::http::HeaderMap;
use axum::routing::post;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as AnyValue;
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message as _;
use serde_json::{Value, json};
use tokio::process::Command;
use toolplane_core::trace_context::TraceParent;

mod support;
use support::start_serve;

type Log<T> = Arc<Mutex<Vec<T>>>;

/// An OTLP/HTTP receiver: the decoded requests, with each one's service name.
async fn receiver() -> (String, Log<(String, Span)>) {
    let spans: Log<(String, Span)> = Arc::default();
    let store = Arc::clone(&spans);
    let app = axum::Router::new().route(
        "/v1/traces",
        post(move |body: Bytes| {
            let store = Arc::clone(&store);
            async move {
                let req = ExportTraceServiceRequest::decode(body).unwrap();
                for rs in req.resource_spans {
                    let service = rs
                        .resource
                        .as_ref()
                        .and_then(|r| r.attributes.iter().find(|kv| kv.key == "service.name"))
                        .and_then(|kv| kv.value.as_ref())
                        .and_then(|v| match &v.value {
                            Some(AnyValue::StringValue(s)) => Some(s.clone()),
                            _ => None,
                        })
                        .unwrap_or_default();
                    for ss in rs.scope_spans {
                        for s in ss.spans {
                            store.lock().unwrap().push((service.clone(), s));
                        }
                    }
                }
                ([("content-type", "application/x-protobuf")], Vec::<u8>::new())
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}"), spans)
}

/// An OpenAI-compatible upstream recording each request's `traceparent`.
async fn upstream() -> (String, Log<Option<String>>) {
    let seen: Log<Option<String>> = Arc::default();
    let log = Arc::clone(&seen);
    let app = axum::Router::new().route(
        "/v1/chat/completions",
        post(move |headers: HeaderMap, axum::Json(body): axum::Json<Value>| {
            let log = Arc::clone(&log);
            async move {
                let tp = headers.get("traceparent").and_then(|v| v.to_str().ok()).map(str::to_owned);
                log.lock().unwrap().push(tp);
                axum::Json(json!({
                    "id": "up-1", "object": "chat.completion", "created": 1, "model": body["model"],
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": "hello"}, "finish_reason": "stop"}],
                    "usage": {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7}
                }))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}/v1"), seen)
}

fn text<'a>(span: &'a Span, key: &str) -> Option<&'a str> {
    span.attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref())
        .and_then(|v| match &v.value {
            Some(AnyValue::StringValue(s)) => Some(s.as_str()),
            _ => None,
        })
}

/// One JSON-RPC message to the gateway's `/mcp`: the status, the
/// `mcp-session-id` answered and the body.
async fn mcp_post(url: &str, key: &str, session: Option<&str>, body: Value) -> (u16, Option<String>, String) {
    let mut req = reqwest::Client::new()
        .post(format!("{url}/mcp"))
        .bearer_auth(key)
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

fn find(spans: &Log<(String, Span)>, name: &str) -> (String, Span) {
    let all = spans.lock().unwrap();
    all.iter().find(|(_, s)| s.name == name).cloned().unwrap_or_else(|| {
        panic!(
            "no span {name:?} in {:?}",
            all.iter().map(|(_, s)| &s.name).collect::<Vec<_>>()
        )
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn toolplane_chat_exports_its_chat_span_and_sends_traceparent() {
    let (otlp, spans) = receiver().await;
    let (base, seen) = upstream().await;
    let out = Command::new(env!("CARGO_BIN_EXE_toolplane"))
        .args([
            "chat",
            "--provider",
            "openai",
            "--model",
            "gpt-4o-mini",
            "--base-url",
            &base,
            "hi",
        ])
        .env("OPENAI_API_KEY", "sk-test-0123456789abcdef")
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", &otlp)
        .env("OTEL_SERVICE_NAME", "cli-test")
        .env_remove("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
        .env_remove("OTEL_SDK_DISABLED")
        .output()
        .await
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("hello"));

    let (service, chat) = find(&spans, "chat gpt-4o-mini");
    assert_eq!(service, "cli-test");
    assert_eq!(text(&chat, "gen_ai.operation.name"), Some("chat"));
    assert_eq!(text(&chat, "gen_ai.provider.name"), Some("openai"));
    assert_eq!(text(&chat, "gen_ai.response.id"), Some("up-1"));
    assert_eq!(text(&chat, "server.address"), Some("127.0.0.1"));
    // The upstream's parent is the exported chat span.
    let tp: TraceParent = seen.lock().unwrap()[0].clone().unwrap().parse().unwrap();
    assert_eq!(tp.trace_id.to_vec(), chat.trace_id);
    assert_eq!(tp.span_id.to_vec(), chat.span_id);
    assert!(!format!("{spans:?}").contains("sk-test-0123456789abcdef"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn toolplane_serve_continues_an_incoming_traceparent() {
    let (otlp, spans) = receiver().await;
    let (base, seen) = upstream().await;
    let dir = tempfile::tempdir().unwrap();
    let serve = start_serve(
        &["--state-dir", dir.path().to_str().unwrap()],
        &[
            ("OPENAI_API_KEY", Some("sk-test-from-env")),
            ("OPENAI_BASE_URL", Some(&base)),
            ("ANTHROPIC_API_KEY", None),
            ("MISTRAL_API_KEY", None),
            ("CO_API_KEY", None),
            ("GROQ_API_KEY", None),
            ("GOOGLE_API_KEY", None),
            ("GEMINI_API_KEY", None),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", Some(&otlp)),
            ("OTEL_SERVICE_NAME", Some("gateway-test")),
        ],
    );
    let (url, key) = (&serve.url, serve.key.clone().unwrap());
    let incoming: TraceParent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
        .parse()
        .unwrap();
    let r = reqwest::Client::new()
        .post(format!("{url}/v1/chat/completions"))
        .bearer_auth(&key)
        .header("traceparent", incoming.to_string())
        .json(&json!({"model": "auto", "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // An MCP tools/call whose _meta names another trace (SEP-414).
    let mcp_parent: TraceParent = "00-1bf92f3577b34da6a3ce929d0e0e4736-a0f067aa0ba902b7-01"
        .parse()
        .unwrap();
    let (status, session, body) = mcp_post(
        url,
        &key,
        None,
        json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "raw", "version": "1"}}}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let session = session.unwrap();
    let (status, _, _) = mcp_post(
        url,
        &key,
        Some(&session),
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
    )
    .await;
    assert_eq!(status, 202);
    let (status, _, body) = mcp_post(
        url,
        &key,
        Some(&session),
        json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {
            "name": "current_time", "arguments": {}, "_meta": {"traceparent": mcp_parent.to_string()}}}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(!body.contains("\"isError\":true"), "{body}");
    // SIGTERM: the server stops gracefully and flushes its spans on the way out.
    serve.sigterm();
    let status = serve.wait();
    assert!(status.success(), "{status:?}");

    let (service, server) = find(&spans, "POST /v1/chat/completions");
    assert_eq!(service, "gateway-test");
    assert_eq!(text(&server, "http.route"), Some("/v1/chat/completions"));
    assert_eq!(server.trace_id, incoming.trace_id.to_vec(), "the caller's trace");
    assert_eq!(
        server.parent_span_id,
        incoming.span_id.to_vec(),
        "the caller's span is the parent"
    );
    let (_, chat) = find(&spans, "chat auto");
    assert_eq!(chat.trace_id, server.trace_id);
    assert_eq!(chat.parent_span_id, server.span_id);
    assert_eq!(text(&chat, "gen_ai.provider.name"), Some("openai"));
    let tp: TraceParent = seen.lock().unwrap()[0].clone().unwrap().parse().unwrap();
    assert_eq!(tp.trace_id, incoming.trace_id, "the upstream continues the same trace");
    assert_eq!(tp.span_id.to_vec(), chat.span_id);

    // The MCP call's server span continues the trace its _meta named, and
    // holds the executor's execute_tool span.
    let (_, call) = find(&spans, "tools/call current_time");
    assert_eq!(call.trace_id, mcp_parent.trace_id.to_vec(), "the MCP caller's trace");
    assert_eq!(call.parent_span_id, mcp_parent.span_id.to_vec());
    assert_eq!(text(&call, "mcp.method.name"), Some("tools/call"));
    let (_, tool) = find(&spans, "execute_tool current_time");
    assert_eq!(tool.trace_id, call.trace_id);
    assert_eq!(tool.parent_span_id, call.span_id);
    let (_, mcp_request) = find(&spans, "POST /mcp");
    assert_eq!(text(&mcp_request, "http.route"), Some("/mcp"));
}
