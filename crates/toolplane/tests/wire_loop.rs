//! End to end over real wire protocols: the router over an OpenAI client and
//! an Anthropic client, each talking HTTP to a local server that plays the
//! vendor's API; the loop runs the registry's tools and sends the results
//! back in each vendor's own form. The OpenAI server is rate limited
//! (429 with `retry-after`), so the router must fall back to Anthropic and
//! keep OpenAI cooling down for the rest of the run.

#![allow(clippy::unwrap_used, clippy::panic)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};
use toolplane::metrics::{MetricsInterceptor, MetricsQuery, ProviderMetricsCollector};
use toolplane::pipeline::{AgentLoop, RunState};
use toolplane::providers::{AnthropicProvider, OpenAiProvider, ProviderConfig, RetryPolicy};
use toolplane::registry::{Executor, ToolRegistry, builtin};
use toolplane::router::{Expert, Router, Strategy, TaskPolicy};
use toolplane::vocab::{CallContext, ChatProvider, ChatRequest, Message};

type Seen = Arc<Mutex<Vec<(HeaderMap, Value)>>>;

async fn serve(app: axum::Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

/// OpenAI: always 429 with a retry-after and the vendor's error body.
async fn openai(State(seen): State<Seen>, headers: HeaderMap, Json(body): Json<Value>) -> Response {
    seen.lock().unwrap().push((headers, body));
    let error = json!({"error": {"message": "Rate limit reached for requests", "type": "requests", "code": "rate_limit_exceeded"}});
    (
        StatusCode::TOO_MANY_REQUESTS,
        [("retry-after", "30"), ("x-request-id", "req_openai_1")],
        Json(error),
    )
        .into_response()
}

/// Anthropic: asks for `current_time` until it sees a `tool_result`, then answers with it.
async fn anthropic(State(seen): State<Seen>, headers: HeaderMap, Json(body): Json<Value>) -> Response {
    seen.lock().unwrap().push((headers, body.clone()));
    let result = body["messages"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|m| m["content"].as_array().cloned().unwrap_or_default())
        .find(|block| block["type"] == "tool_result");
    let (content, stop) = match result {
        None => (
            json!([{"type": "text", "text": "Let me check."},
                   {"type": "tool_use", "id": "toolu_01", "name": "current_time", "input": {"time_zone": "Asia/Tokyo"}}]),
            "tool_use",
        ),
        Some(r) => {
            let text = r["content"]
                .as_str()
                .map(str::to_owned)
                .unwrap_or_else(|| r["content"].to_string());
            (
                json!([{"type": "text", "text": format!("The tool said: {text}")}]),
                "end_turn",
            )
        }
    };
    Json(json!({
        "id": "msg_01", "type": "message", "role": "assistant", "model": "claude-haiku-4-5",
        "content": content, "stop_reason": stop, "stop_sequence": null,
        "usage": {"input_tokens": 120, "output_tokens": 30, "cache_read_input_tokens": 100, "cache_creation_input_tokens": 0}
    }))
    .into_response()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn router_falls_back_across_vendors_and_the_loop_completes_on_the_wire() {
    let openai_seen: Seen = Arc::default();
    let anthropic_seen: Seen = Arc::default();
    let openai_addr = serve(
        axum::Router::new()
            .route("/v1/chat/completions", post(openai))
            .with_state(openai_seen.clone()),
    )
    .await;
    let anthropic_addr = serve(
        axum::Router::new()
            .route("/v1/messages", post(anthropic))
            .with_state(anthropic_seen.clone()),
    )
    .await;

    // Real clients, no client-side retries: the router decides what happens after a 429.
    let openai = OpenAiProvider::new(
        ProviderConfig::new(format!("http://{openai_addr}/v1"))
            .with_api_key("sk-test-openai")
            .with_retry(RetryPolicy::none()),
    )
    .unwrap();
    let anthropic = AnthropicProvider::new(
        ProviderConfig::new(format!("http://{anthropic_addr}"))
            .with_api_key("sk-ant-test")
            .with_retry(RetryPolicy::none()),
    )
    .unwrap();
    let metrics = Arc::new(ProviderMetricsCollector::new());
    let measured = |p: Arc<dyn ChatProvider>| -> Arc<dyn ChatProvider> {
        Arc::new(toolplane::vocab::InterceptedProvider::new(
            p,
            vec![Arc::new(MetricsInterceptor::new(metrics.clone()))],
        ))
    };
    let router = Arc::new(
        Router::builder()
            .expert(Expert::new(measured(Arc::new(openai)), "gpt-4o-mini").with_priority(0))
            .expert(Expert::new(measured(Arc::new(anthropic)), "claude-haiku-4-5").with_priority(1))
            .default_policy(TaskPolicy::new(Strategy::Static { order: vec![] }))
            .seed(1)
            .build()
            .unwrap(),
    );

    let mut registry = ToolRegistry::new();
    registry.register_all(builtin::builtin_tools()).unwrap();
    let agent = AgentLoop::new(router.clone(), Arc::new(Executor::new(registry)));
    let request = ChatRequest::new("", vec![Message::user("What time is it in Tokyo?")]).with_task_type("tool_use");
    let result = agent
        .run(RunState::new("wire-1", request), &CallContext::new("wire-1"))
        .await
        .unwrap();

    // The answer came from Anthropic and carries the real tool result.
    let answer = result.answer().unwrap();
    assert!(answer.starts_with("The tool said:"), "{answer}");
    assert!(answer.contains("Asia/Tokyo"), "{answer}");

    // OpenAI was tried once, got its 429, and then cooled down (retry-after 30 s) for the rest of the run.
    let openai_calls = openai_seen.lock().unwrap();
    assert_eq!(openai_calls.len(), 1);
    assert_eq!(openai_calls[0].0["authorization"], "Bearer sk-test-openai");
    assert_eq!(openai_calls[0].1["tools"][0]["type"], "function");
    let why = router.explain(&ChatRequest::new("", vec![Message::user("again")]).with_task_type("tool_use"));
    assert!(why.excluded.iter().any(|x| x.constraint == "healthy"), "{why}");

    // Anthropic saw its own wire form: x-api-key, tools with input_schema, then the tool_result in a user turn.
    let calls = anthropic_seen.lock().unwrap();
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0].0["x-api-key"], "sk-ant-test");
    assert!(calls[0].0.contains_key("anthropic-version"));
    assert!(
        calls[0].1["tools"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["name"] == "current_time" && t["input_schema"].is_object())
    );
    let last = calls[1].1["messages"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["role"], "user");
    assert_eq!(last["content"][0]["type"], "tool_result");
    assert_eq!(last["content"][0]["tool_use_id"], "toolu_01");

    // Metrics saw three calls: one rate limited, two successes with Anthropic's usage normalized
    // (input includes the 100 cache-read tokens).
    let report = metrics.snapshot(&MetricsQuery::all_time()).unwrap();
    assert_eq!(report.totals.calls, 3, "{report}");
    let usage = &result.state.usage;
    assert_eq!(usage.input_tokens, 2 * 220, "{usage:?}");
    assert_eq!(usage.cache_read_tokens, 2 * 100, "{usage:?}");
}
