#![allow(clippy::unwrap_used, clippy::panic)]
//! Spans exported over OTLP/HTTP to a real receiver on 127.0.0.1, decoded
//! with the official protobuf definitions (`opentelemetry-proto`): the
//! `execute_tool` span with its GenAI attributes, `traceparent` read from
//! the exported span's own context, an incoming `traceparent` continued,
//! and no secret from a tool's arguments in any exported byte, with content
//! capture off and on.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use axum::body::Bytes;
use axum::routing::post;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as AnyValue;
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message as _;
use serde_json::json;
use toolplane_core::semconv as sc;
use toolplane_core::trace_context::{TraceParent, current_traceparent};
use toolplane_core::{CallContext, EchoTool, ToolCall, ToolSpec};
use toolplane_otel::{OtelConfig, continue_trace, layer, tracer_provider};
use toolplane_registry::{Executor, ExecutorConfig, ToolRegistry};
use tracing_subscriber::layer::SubscriberExt;

/// What the receiver got: each request body, raw.
#[derive(Clone, Default)]
struct Received(Arc<Mutex<Vec<Vec<u8>>>>);

impl Received {
    fn bodies(&self) -> Vec<Vec<u8>> {
        self.0.lock().unwrap().clone()
    }

    /// Every exported span, decoded.
    fn spans(&self) -> Vec<Span> {
        let mut out = Vec::new();
        for body in self.bodies() {
            let req = ExportTraceServiceRequest::decode(body.as_slice()).unwrap();
            for rs in req.resource_spans {
                let service = rs
                    .resource
                    .as_ref()
                    .and_then(|r| r.attributes.iter().find(|kv| kv.key == "service.name"))
                    .and_then(|kv| kv.value.as_ref())
                    .and_then(|v| v.value.clone());
                assert_eq!(service, Some(AnyValue::StringValue("toolplane-test".into())));
                for ss in rs.scope_spans {
                    out.extend(ss.spans);
                }
            }
        }
        out
    }
}

/// An OTLP/HTTP receiver on 127.0.0.1 (its own runtime, so the exporter's
/// blocking client can reach it from any thread). Returns its base URL.
fn receiver() -> (String, Received) {
    let received = Received::default();
    let store = received.clone();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let app = axum::Router::new().route(
                "/v1/traces",
                post(move |body: Bytes| {
                    let store = store.clone();
                    async move {
                        store.0.lock().unwrap().push(body.to_vec());
                        ([("content-type", "application/x-protobuf")], Vec::<u8>::new())
                    }
                }),
            );
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            axum::serve(listener, app).await.unwrap();
        });
    });
    let addr = rx.recv().unwrap();
    (format!("http://{addr}"), received)
}

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Runs `work` on a current-thread runtime with a subscriber exporting to a
/// fresh receiver; returns what arrived after the provider shut down.
fn export<F>(work: impl FnOnce() -> F) -> Received
where
    F: Future<Output = ()>,
{
    let (url, received) = receiver();
    let provider = tracer_provider(&OtelConfig::new(&url, "toolplane-test")).unwrap();
    let subscriber = tracing_subscriber::registry().with(layer(&provider));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    tracing::subscriber::with_default(subscriber, || rt.block_on(work()));
    drop(rt);
    provider.force_flush().unwrap();
    provider.shutdown().unwrap();
    received
}

fn attr<'a>(span: &'a Span, key: &str) -> Option<&'a AnyValue> {
    span.attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref())
        .and_then(|v| v.value.as_ref())
}

fn text<'a>(span: &'a Span, key: &str) -> Option<&'a str> {
    match attr(span, key) {
        Some(AnyValue::StringValue(s)) => Some(s),
        _ => None,
    }
}

fn echo_executor(capture: bool) -> Executor {
    let tool = Arc::new(EchoTool::new(ToolSpec::new("get_weather", "Returns its arguments.")));
    Executor::builder(ToolRegistry::from_tools([tool as Arc<dyn toolplane_core::Tool>]).unwrap())
        .config(ExecutorConfig {
            capture_content: capture,
            ..ExecutorConfig::default()
        })
        .content_redactor(Arc::new(|t: &str| toolplane_security::redact::redact_text(t)))
        .build()
        .unwrap()
}

#[test]
fn a_tool_call_arrives_at_the_receiver_as_a_genai_span() {
    let _s = serial();
    let seen: Arc<Mutex<Option<TraceParent>>> = Arc::default();
    let inside = Arc::clone(&seen);
    let received = export(|| async move {
        let exec = echo_executor(false);
        let parent = tracing::info_span!("invoke_agent", otel.name = "invoke_agent weather");
        let _e = parent.enter();
        *inside.lock().unwrap() = current_traceparent();
        let call = ToolCall::new("call_9", "get_weather", r#"{"city":"Oslo"}"#);
        exec.execute(&call, &CallContext::new("r")).await.unwrap();
    });
    let spans = received.spans();
    let tool = spans
        .iter()
        .find(|s| s.name == "execute_tool get_weather")
        .unwrap_or_else(|| {
            panic!("{:#?}", spans.iter().map(|s| &s.name).collect::<Vec<_>>());
        });
    assert_eq!(text(tool, sc::GEN_AI_OPERATION_NAME), Some("execute_tool"));
    assert_eq!(text(tool, sc::GEN_AI_TOOL_NAME), Some("get_weather"));
    assert_eq!(text(tool, sc::GEN_AI_TOOL_CALL_ID), Some("call_9"));
    assert_eq!(text(tool, sc::TOOLPLANE_TOOL_OUTCOME), Some("ok"));
    let agent = spans.iter().find(|s| s.name == "invoke_agent weather").unwrap();
    assert_eq!(tool.parent_span_id, agent.span_id);
    assert_eq!(tool.trace_id, agent.trace_id);
    // The traceparent source names the exported span.
    let tp = seen.lock().unwrap().unwrap();
    assert_eq!(tp.trace_id.to_vec(), agent.trace_id);
    assert_eq!(tp.span_id.to_vec(), agent.span_id);
    assert!(tp.sampled());
}

#[test]
fn an_incoming_traceparent_is_continued() {
    let _s = serial();
    let incoming: TraceParent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
        .parse()
        .unwrap();
    let received = export(|| async move {
        let span = tracing::info_span!("http_server_request", otel.name = "POST", otel.kind = "server");
        assert!(continue_trace(&span, &incoming));
        let _e = span.enter();
        tracing::info_span!("chat", otel.name = "chat m").in_scope(|| {});
    });
    let spans = received.spans();
    let server = spans.iter().find(|s| s.name == "POST").unwrap();
    assert_eq!(server.trace_id, incoming.trace_id.to_vec());
    assert_eq!(server.parent_span_id, incoming.span_id.to_vec());
    let chat = spans.iter().find(|s| s.name == "chat m").unwrap();
    assert_eq!(chat.trace_id, incoming.trace_id.to_vec());
    assert_eq!(chat.parent_span_id, server.span_id);
}

const SK: &str = "sk-proj-abcdefghijklmnopqrstuvwxyz0123";
const BEARER: &str = "eyJhbGciOiJIUzI1NiJ9.c2VjcmV0LXBheWxvYWQ.c2lnbmF0dXJlLXZhbHVl";

#[test]
fn secrets_in_arguments_never_reach_the_collector() {
    let _s = serial();
    for capture in [false, true] {
        let received = export(|| async move {
            let exec = echo_executor(capture);
            let args = json!({"key": SK, "note": format!("Authorization: Bearer {BEARER}")});
            let call = ToolCall::new("c1", "get_weather", args.to_string());
            let out = exec.execute(&call, &CallContext::new("r")).await.unwrap();
            assert!(out.to_model_text().contains(SK), "the tool itself saw the secret");
        });
        let bodies = received.bodies();
        assert!(!bodies.is_empty());
        for body in &bodies {
            for secret in [SK, BEARER] {
                assert!(
                    !body.windows(secret.len()).any(|w| w == secret.as_bytes()),
                    "capture {capture}: a secret was exported"
                );
            }
        }
        let spans = received.spans();
        let tool = spans.iter().find(|s| s.name == "execute_tool get_weather").unwrap();
        match capture {
            false => assert_eq!(attr(tool, sc::GEN_AI_TOOL_CALL_ARGUMENTS), None),
            true => {
                let args = text(tool, sc::GEN_AI_TOOL_CALL_ARGUMENTS).unwrap();
                assert!(args.contains(toolplane_security::redact::MASK), "{args}");
                let result = text(tool, sc::GEN_AI_TOOL_CALL_RESULT).unwrap();
                assert!(result.contains(toolplane_security::redact::MASK), "{result}");
            }
        }
    }
}
