#![allow(clippy::unwrap_used, clippy::panic, clippy::await_holding_lock)]
//! An OpenAPI tool's HTTP request as a client span under the executor's
//! `execute_tool` span: method, the URL without query values, the server,
//! the status; `traceparent` on the request.
#![cfg(feature = "http")]

mod http_support;

use std::sync::Arc;

use http_support::*;
use serde_json::json;
use toolplane_core::semconv as sc;
use toolplane_core::trace_context::TraceParent;
use toolplane_core::{CallContext, Tool, ToolCall};
use toolplane_openapi::binding::{HttpMethod, ParamLocation as L, ParamStyle as S};
use toolplane_openapi::http::{HttpConfig, HttpRuntime, HttpTool};
use toolplane_registry::{Executor, ToolRegistry};
use toolplane_testkit::spans::Collector;

const SECRET: &str = "sk-proj-abcdefghijklmnop0123456789";
const PARENT: &str = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

fn executor(base: &str) -> Executor {
    let t = tool(
        "search",
        HttpMethod::Get,
        "/items/{id}",
        vec![
            {
                let mut p = param("id", L::Path, S::Simple, false);
                p.required = true;
                p
            },
            param("q", L::Query, S::Form, true),
        ],
    );
    let rt = HttpRuntime::new(HttpConfig::new().with_base_url(base)).unwrap();
    let tool: Arc<dyn Tool> = Arc::new(HttpTool::new(t, rt).unwrap());
    Executor::builder(ToolRegistry::from_tools([tool]).unwrap())
        .build()
        .unwrap()
}

#[tokio::test]
async fn the_http_request_is_a_client_span_under_execute_tool() {
    let (spans, _g) = Collector::install();
    let addr = echo_server().await;
    let exec = executor(&format!("http://{addr}"));
    let mut ctx = CallContext::new("t");
    ctx.extensions.insert(PARENT.parse::<TraceParent>().unwrap());
    let call = ToolCall::new("c1", "search", json!({"id": 7, "q": SECRET}).to_string());
    let out = exec.execute(&call, &ctx).await.unwrap();
    assert_eq!(out.content["status"], 200, "{}", out.content);
    let echoed = &out.content["body"];
    assert_eq!(echoed["headers"]["traceparent"], PARENT, "{echoed}");

    let tool = spans.span_named(sc::OP_EXECUTE_TOOL);
    let http = spans.span_named("http_request");
    assert_eq!(http.parent, Some(tool.index));
    assert!(http.closed);
    assert_eq!(http.target, "toolplane::http");
    assert_eq!(http.get(sc::OTEL_NAME), Some("GET"));
    assert_eq!(http.get(sc::OTEL_KIND), Some(sc::SPAN_KIND_CLIENT));
    assert_eq!(http.get(sc::HTTP_REQUEST_METHOD), Some("GET"));
    assert_eq!(
        http.get(sc::URL_FULL),
        Some(format!("http://{addr}/items/7?q=REDACTED").as_str())
    );
    assert_eq!(http.get(sc::SERVER_ADDRESS), Some("127.0.0.1"));
    assert_eq!(http.get(sc::SERVER_PORT), Some(addr.port().to_string().as_str()));
    assert_eq!(http.get(sc::HTTP_RESPONSE_STATUS_CODE), Some("200"));
    assert_eq!(http.get(sc::ERROR_TYPE), None);
    assert!(!spans.all_text().contains(SECRET), "{}", spans.all_text());
}

#[tokio::test]
async fn an_error_status_is_the_spans_error_type() {
    let (spans, _g) = Collector::install();
    let addr =
        serve(axum::Router::new().fallback(|| async { (axum::http::StatusCode::SERVICE_UNAVAILABLE, "down") })).await;
    let exec = executor(&format!("http://{addr}"));
    let call = ToolCall::new("c1", "search", json!({"id": 1}).to_string());
    let _ = exec.execute(&call, &CallContext::new("t")).await;
    let http = spans.span_named("http_request");
    assert_eq!(http.get(sc::HTTP_RESPONSE_STATUS_CODE), Some("503"));
    assert_eq!(http.get(sc::ERROR_TYPE), Some("503"));
    assert_eq!(http.get(sc::OTEL_STATUS_CODE), Some(sc::STATUS_ERROR));
}
