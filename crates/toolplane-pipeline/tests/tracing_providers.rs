#![allow(clippy::unwrap_used, clippy::panic, clippy::await_holding_lock)]
//! The loop's spans with a real provider over HTTP and the security crate's
//! interceptors: a streamed run with a tool call (one `chat` span per step,
//! the loop's, with the transport's facts added to it), a tool denied by a
//! policy rule (a `toolplane.permission` event naming the rule), and a rate
//! limit refusal (a `toolplane.refused` event).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use axum::response::IntoResponse;
use toolplane_core::semconv as sc;
use toolplane_core::{CallContext, ChatRequest, EchoTool, Message, ToolSpec};
use toolplane_pipeline::{AgentLoop, LoopConfig, RunState};
use toolplane_providers::{OpenAiProvider, ProviderConfig, RetryPolicy};
use toolplane_registry::{Executor, ToolRegistry};
use toolplane_security::limits::{LocalRateLimiter, RateLimitInterceptor, RateQuota};
use toolplane_security::policy::{Layer, PolicyStore};
use toolplane_security::{ApprovalStore, PermissionInterceptor};
use toolplane_testkit::spans::Collector;

fn sse(lines: &[&str]) -> String {
    lines.iter().map(|l| format!("data: {l}\n\n")).collect()
}

/// A server answering each request with the next SSE body.
async fn model_server(answers: Vec<String>) -> String {
    let answers = Arc::new(Mutex::new(VecDeque::from(answers)));
    let app = axum::Router::new().fallback(move || {
        let answers = Arc::clone(&answers);
        async move {
            let body = answers.lock().unwrap().pop_front().unwrap_or_default();
            ([("content-type", "text/event-stream")], body).into_response()
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

fn tool_call_answer(tool: &str) -> String {
    sse(&[
        &format!(
            r#"{{"id":"cc-1","model":"gpt-served","choices":[{{"index":0,"delta":{{"role":"assistant","tool_calls":[{{"index":0,"id":"call_1","type":"function","function":{{"name":"{tool}","arguments":"{{\"path\":\"/tmp/x\"}}"}}}}]}}}}]}}"#
        ),
        r#"{"id":"cc-1","model":"gpt-served","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}"#,
        r#"{"id":"cc-1","model":"gpt-served","choices":[],"usage":{"prompt_tokens":30,"completion_tokens":7}}"#,
        "[DONE]",
    ])
}

fn text_answer() -> String {
    sse(&[
        r#"{"id":"cc-2","model":"gpt-served","choices":[{"index":0,"delta":{"role":"assistant","content":"Done."}}]}"#,
        r#"{"id":"cc-2","model":"gpt-served","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"#,
        r#"{"id":"cc-2","model":"gpt-served","choices":[],"usage":{"prompt_tokens":50,"completion_tokens":2}}"#,
        "[DONE]",
    ])
}

fn provider(url: &str) -> Arc<OpenAiProvider> {
    Arc::new(
        OpenAiProvider::new(
            ProviderConfig::new(url)
                .with_api_key("sk-test-0123456789")
                .with_retry(RetryPolicy::none()),
        )
        .unwrap(),
    )
}

fn echo(name: &str) -> Arc<dyn toolplane_core::Tool> {
    Arc::new(EchoTool::new(ToolSpec::new(name, "Returns its arguments.")))
}

fn state() -> RunState {
    RunState::new(
        "run-7",
        ChatRequest::new("gpt-asked", vec![Message::user("clean up /tmp/x")]).with_tools(vec![
            ToolSpec::new("fs.read", "Reads a file."),
            ToolSpec::new("fs.delete", "Deletes a file."),
        ]),
    )
}

fn streaming() -> LoopConfig {
    LoopConfig {
        stream: true,
        ..LoopConfig::default()
    }
}

#[tokio::test]
async fn a_streamed_run_with_a_tool_call_has_one_chat_span_per_step() {
    let (spans, _g) = Collector::install();
    let url = model_server(vec![tool_call_answer("fs.read"), text_answer()]).await;
    let exec = Executor::builder(ToolRegistry::from_tools([echo("fs.read")]).unwrap())
        .build()
        .unwrap();
    let agent = AgentLoop::new(provider(&url), Arc::new(exec))
        .with_name("janitor")
        .with_config(streaming());
    let result = agent.run(state(), &CallContext::new("r")).await.unwrap();
    assert_eq!(result.answer().as_deref(), Some("Done."));

    let root = spans.span_named(sc::OP_INVOKE_AGENT);
    assert_eq!(root.get(sc::OTEL_NAME), Some("invoke_agent janitor"));
    let chats = spans.spans_named(sc::OP_CHAT);
    assert_eq!(chats.len(), 2, "one chat span per step, not one per layer: {chats:#?}");
    let kids: Vec<String> = spans
        .children(root.index)
        .iter()
        .map(|s| s.get(sc::OTEL_NAME).unwrap().to_owned())
        .collect();
    assert_eq!(kids, ["chat gpt-asked", "execute_tool fs.read", "chat gpt-asked"]);
    for (chat, id, reason, input) in [
        (&chats[0], "cc-1", "tool_use", "30"),
        (&chats[1], "cc-2", "end_turn", "50"),
    ] {
        assert_eq!(chat.target, "toolplane::agent", "the loop owns it");
        assert_eq!(chat.parent, Some(root.index));
        assert_eq!(chat.get(sc::GEN_AI_PROVIDER_NAME), Some("openai"));
        assert_eq!(chat.get(sc::GEN_AI_RESPONSE_ID), Some(id));
        assert_eq!(chat.get(sc::GEN_AI_RESPONSE_MODEL), Some("gpt-served"));
        assert_eq!(chat.get(sc::GEN_AI_RESPONSE_FINISH_REASONS), Some(reason));
        assert_eq!(chat.get(sc::GEN_AI_USAGE_INPUT_TOKENS), Some(input));
        // Added by the transport inside the loop's span:
        assert_eq!(chat.get(sc::SERVER_ADDRESS), Some("127.0.0.1"));
        assert!(chat.get(sc::GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK).is_some());
        assert!(chat.closed);
    }
    let tool = spans.span_named(sc::OP_EXECUTE_TOOL);
    assert_eq!(tool.get(sc::GEN_AI_TOOL_CALL_ID), Some("call_1"));
    assert_eq!(tool.get(sc::TOOLPLANE_TOOL_OUTCOME), Some("ok"));
}

#[tokio::test]
async fn a_tool_denied_by_a_rule_names_the_rule_on_its_span() {
    let (spans, _g) = Collector::install();
    let url = model_server(vec![tool_call_answer("fs.delete"), text_answer()]).await;
    let policy = Arc::new(PolicyStore::new());
    policy
        .load_str(
            Layer::Project,
            "policy.toml",
            "[[rule]]\nid='read-ok'\neffect='allow'\ntools=['fs.read']\n\
             [[rule]]\nid='no-deletes'\neffect='deny'\ntools=['fs.delete']\n",
        )
        .unwrap();
    let exec = Executor::builder(ToolRegistry::from_tools([echo("fs.read"), echo("fs.delete")]).unwrap())
        .interceptor(Arc::new(PermissionInterceptor::new(
            policy,
            Arc::new(ApprovalStore::new()),
        )))
        .build()
        .unwrap();
    let agent = AgentLoop::new(provider(&url), Arc::new(exec)).with_config(streaming());
    agent.run(state(), &CallContext::new("r")).await.unwrap();

    let tool = spans.span_named(sc::OP_EXECUTE_TOOL);
    assert_eq!(tool.get(sc::GEN_AI_TOOL_NAME), Some("fs.delete"));
    assert_eq!(tool.get(sc::ERROR_TYPE), Some("permission_denied"));
    let decisions = spans.events_named(sc::EVENT_PERMISSION);
    assert_eq!(decisions.len(), 1, "{:#?}", spans.events());
    let d = &decisions[0];
    assert_eq!(d.span, Some(tool.index), "on the tool's span");
    assert_eq!(d.get(sc::TOOLPLANE_PERMISSION_DECISION), Some("deny"));
    assert_eq!(d.get(sc::TOOLPLANE_PERMISSION_RULE), Some("no-deletes"));
    assert_eq!(d.get("toolplane.permission.rule_layer"), Some("project"));
    assert!(!spans.all_text().contains("/tmp/x"), "argument values stay out");
}

#[tokio::test]
async fn a_rate_limited_tool_call_is_a_refusal_event() {
    let (spans, _g) = Collector::install();
    let url = model_server(vec![
        tool_call_answer("fs.read"),
        tool_call_answer("fs.read"),
        text_answer(),
    ])
    .await;
    let limiter = Arc::new(LocalRateLimiter::new(RateQuota::per_minute(1), 1_000).unwrap());
    let exec = Executor::builder(ToolRegistry::from_tools([echo("fs.read")]).unwrap())
        .interceptor(Arc::new(RateLimitInterceptor::new(limiter)))
        .build()
        .unwrap();
    let agent = AgentLoop::new(provider(&url), Arc::new(exec)).with_config(streaming());
    agent.run(state(), &CallContext::new("r")).await.unwrap();

    let tools = spans.spans_named(sc::OP_EXECUTE_TOOL);
    assert_eq!(tools.len(), 2);
    assert_eq!(tools[0].get(sc::TOOLPLANE_TOOL_OUTCOME), Some("ok"));
    assert_eq!(tools[1].get(sc::ERROR_TYPE), Some("rate_limited"));
    let refusals = spans.events_named(sc::EVENT_REFUSED);
    assert_eq!(refusals.len(), 1, "{:#?}", spans.events());
    let r = &refusals[0];
    assert_eq!(r.span, Some(tools[1].index));
    assert_eq!(r.get(sc::TOOLPLANE_REFUSAL_BY), Some("rate_limit"));
    assert_eq!(r.get(sc::ERROR_TYPE), Some("rate_limited"));
    assert!(r.get(sc::TOOLPLANE_REFUSAL_SCOPE).is_some());
    assert!(r.get("toolplane.refusal.retry_after_ms").is_some());
}
