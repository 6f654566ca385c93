//! The loop's spans, collected by an in-memory subscriber: `invoke_agent`
//! around a run, `chat {model}` per provider call and the executor's
//! `execute_tool` spans as the run's children; a paused run's reason, a
//! resumed run's link back; secrets kept out with content capture off and on
//! (capture through the security crate's redactor).
// The tests of this file run one at a time (the testkit collector's lock,
// held across awaits): a thread-local subscriber in one test must not race
// callsite registration in another, so what a test collects never depends
// on thread timing.
#![allow(clippy::unwrap_used, clippy::panic, clippy::await_holding_lock, missing_docs)]

use std::collections::HashMap;
use std::fmt::Debug;
use std::sync::Arc;

use async_trait::async_trait;
use serde_json::json;
use toolplane_core::semconv as sc;
use toolplane_core::{
    ApprovalToken, CallContext, ChatRequest, EchoTool, Message, ProviderError, ProviderErrorKind, ScriptedProvider,
    ToolCall, ToolError, ToolErrorKind, ToolInterceptor, ToolInvocation, ToolNext, ToolOutput, ToolSpec,
};
use toolplane_pipeline::{AgentLoop, ApprovalDecision, RunOutcome, RunState};
use toolplane_registry::{Executor, ExecutorConfig, ToolRegistry};
use toolplane_testkit::spans::{Collector, SpanRec};

fn echo(name: &str) -> Arc<dyn toolplane_core::Tool> {
    Arc::new(EchoTool::new(ToolSpec::new(name, "Returns its arguments.")))
}

fn state(text: &str) -> RunState {
    RunState::new("run-42", ChatRequest::new("gpt-test", vec![Message::user(text)]))
}

/// Denies `rm`; asks for approval for `deploy` unless the context holds a token.
#[derive(Debug)]
struct Policy;

#[async_trait]
impl ToolInterceptor for Policy {
    async fn intercept(
        &self,
        inv: &ToolInvocation<'_>,
        ctx: &CallContext,
        next: ToolNext<'_>,
    ) -> Result<ToolOutput, ToolError> {
        match inv.spec.name.as_str() {
            "rm" => Err(ToolError::new(ToolErrorKind::PermissionDenied, "rm is not allowed")),
            "deploy" if ctx.extensions.get::<ApprovalToken>().is_none() => Err(ToolError::new(
                ToolErrorKind::ApprovalRequired,
                "deploying needs a human",
            )),
            _ => next.run(inv, ctx).await,
        }
    }
}

fn tools() -> Executor {
    Executor::builder(ToolRegistry::from_tools([echo("echo"), echo("rm"), echo("deploy")]).unwrap())
        .interceptor(Arc::new(Policy))
        .build()
        .unwrap()
}

fn children(spans: &[SpanRec], parent: usize) -> Vec<&SpanRec> {
    spans.iter().filter(|s| s.parent == Some(parent)).collect()
}

#[tokio::test]
async fn a_run_with_a_tool_call_is_invoke_agent_over_chats_and_tools() {
    let (c, _g) = Collector::install();
    let provider = Arc::new(
        ScriptedProvider::new("scripted")
            .with_tool_calls(vec![ToolCall::new("c1", "echo", r#"{"text":"hi"}"#)])
            .with_text("done"),
    );
    let agent = AgentLoop::new(provider, Arc::new(tools())).with_name("helper");
    let result = agent.run(state("hi"), &CallContext::new("r")).await.unwrap();
    assert_eq!(result.answer().as_deref(), Some("done"));

    let spans = c.spans();
    assert_eq!(spans.len(), 4, "{spans:#?}");
    let root = spans.iter().position(|s| s.name == sc::OP_INVOKE_AGENT).unwrap();
    let r = &spans[root];
    assert_eq!(r.parent, None);
    assert!(r.closed);
    assert_eq!(r.get(sc::OTEL_NAME), Some("invoke_agent helper"));
    assert_eq!(r.get(sc::GEN_AI_OPERATION_NAME), Some("invoke_agent"));
    assert_eq!(r.get(sc::GEN_AI_AGENT_NAME), Some("helper"));
    assert_eq!(r.get(sc::GEN_AI_PROVIDER_NAME), Some("scripted"));
    assert_eq!(r.get(sc::GEN_AI_REQUEST_MODEL), Some("gpt-test"));
    assert_eq!(r.get(sc::TOOLPLANE_RUN_ID), Some("run-42"));
    assert_eq!(r.get(sc::GEN_AI_CONVERSATION_ID), Some("run-42"));
    assert_eq!(r.get(sc::TOOLPLANE_RUN_OUTCOME), Some("answered"));
    assert_eq!(r.get(sc::TOOLPLANE_RUN_STEPS), Some("2"));
    assert_eq!(r.get(sc::GEN_AI_USAGE_INPUT_TOKENS), Some("20"));
    assert_eq!(r.get(sc::GEN_AI_USAGE_OUTPUT_TOKENS), Some("10"));
    assert_eq!(r.get(sc::TOOLPLANE_RUN_RESUMES), None);

    let kids = children(&spans, root);
    let names: Vec<&str> = kids.iter().map(|s| s.get(sc::OTEL_NAME).unwrap()).collect();
    assert_eq!(names, ["chat gpt-test", "execute_tool echo", "chat gpt-test"]);
    let (chat1, tool, chat2) = (kids[0], kids[1], kids[2]);
    for (chat, step, reason) in [(chat1, "1", "tool_use"), (chat2, "2", "end_turn")] {
        assert_eq!(chat.name, sc::OP_CHAT);
        assert_eq!(chat.get(sc::OTEL_KIND), Some(sc::SPAN_KIND_CLIENT));
        assert_eq!(chat.get(sc::GEN_AI_OPERATION_NAME), Some("chat"));
        assert_eq!(chat.get(sc::GEN_AI_PROVIDER_NAME), Some("scripted"));
        assert_eq!(chat.get(sc::GEN_AI_REQUEST_MODEL), Some("gpt-test"));
        // The scripted provider answers as the model the request named.
        assert_eq!(chat.get(sc::GEN_AI_RESPONSE_MODEL), Some("gpt-test"));
        assert_eq!(chat.get(sc::GEN_AI_RESPONSE_FINISH_REASONS), Some(reason));
        assert_eq!(chat.get(sc::GEN_AI_USAGE_INPUT_TOKENS), Some("10"));
        assert_eq!(chat.get(sc::GEN_AI_USAGE_OUTPUT_TOKENS), Some("5"));
        assert_eq!(chat.get(sc::TOOLPLANE_STEP), Some(step));
        assert_eq!(chat.get(sc::ERROR_TYPE), None);
        assert!(chat.closed);
    }
    assert_eq!(tool.get(sc::GEN_AI_TOOL_CALL_ID), Some("c1"));
    assert_eq!(tool.get(sc::TOOLPLANE_TOOL_OUTCOME), Some("ok"));
}

#[tokio::test]
async fn a_denied_tool_is_an_error_span_and_the_run_goes_on() {
    let (c, _g) = Collector::install();
    let provider = Arc::new(
        ScriptedProvider::new("scripted")
            .with_tool_calls(vec![
                ToolCall::new("c1", "rm", r#"{"path":"/"}"#),
                ToolCall::new("c2", "echo", "{}"),
            ])
            .with_text("could not"),
    );
    let agent = AgentLoop::new(provider, Arc::new(tools()));
    let result = agent.run(state("clean up"), &CallContext::new("r")).await.unwrap();
    assert!(matches!(result.outcome, RunOutcome::Answered(_)));
    let spans = c.spans();
    let root = spans.iter().position(|s| s.name == sc::OP_INVOKE_AGENT).unwrap();
    assert_eq!(spans[root].get(sc::OTEL_NAME), Some("invoke_agent"), "unnamed agent");
    assert_eq!(spans[root].get(sc::GEN_AI_AGENT_NAME), None);
    let tools: Vec<&SpanRec> = children(&spans, root)
        .into_iter()
        .filter(|s| s.name == sc::OP_EXECUTE_TOOL)
        .collect();
    assert_eq!(tools.len(), 2);
    let rm = tools
        .iter()
        .find(|s| s.get(sc::GEN_AI_TOOL_NAME) == Some("rm"))
        .unwrap();
    assert_eq!(rm.get(sc::ERROR_TYPE), Some("permission_denied"));
    assert_eq!(rm.get(sc::OTEL_STATUS_CODE), Some(sc::STATUS_ERROR));
    let ok = tools
        .iter()
        .find(|s| s.get(sc::GEN_AI_TOOL_NAME) == Some("echo"))
        .unwrap();
    assert_eq!(ok.get(sc::TOOLPLANE_TOOL_OUTCOME), Some("ok"));
    assert_eq!(spans[root].get(sc::TOOLPLANE_RUN_OUTCOME), Some("answered"));
}

#[tokio::test]
async fn an_approval_pause_ends_the_span_with_its_reason_and_the_resume_links_back() {
    let (c, _g) = Collector::install();
    let provider = Arc::new(
        ScriptedProvider::new("scripted")
            .with_tool_calls(vec![ToolCall::new("d1", "deploy", r#"{"env":"prod"}"#)])
            .with_text("deployed"),
    );
    let agent = AgentLoop::new(provider, Arc::new(tools())).with_name("ops");
    let ctx = CallContext::new("r");
    let paused = agent.run(state("deploy"), &ctx).await.unwrap();
    assert!(matches!(paused.outcome, RunOutcome::NeedsApproval(_)));
    let decisions = HashMap::from([(
        "d1".to_string(),
        ApprovalDecision::Approve {
            token: ApprovalToken("ok".into()),
        },
    )]);
    let resumed = agent.resume(paused.state, &decisions, &ctx).await.unwrap();
    assert_eq!(resumed.answer().as_deref(), Some("deployed"));

    let spans = c.spans();
    let roots: Vec<usize> = (0..spans.len())
        .filter(|&i| spans[i].name == sc::OP_INVOKE_AGENT)
        .collect();
    assert_eq!(roots.len(), 2, "{spans:#?}");
    let (first, second) = (&spans[roots[0]], &spans[roots[1]]);
    assert_eq!(first.parent, None);
    assert_eq!(second.parent, None, "a resume is its own run span");
    assert!(first.closed);
    assert_eq!(first.get(sc::TOOLPLANE_RUN_OUTCOME), Some("paused"));
    assert_eq!(first.get(sc::TOOLPLANE_RUN_PAUSE_REASON), Some("approval_required"));
    assert_eq!(first.get(sc::TOOLPLANE_RUN_PENDING_APPROVALS), Some("1"));
    assert_eq!(first.get(sc::TOOLPLANE_RUN_RESUMES), None);
    let first_tool = children(&spans, roots[0])
        .into_iter()
        .find(|s| s.name == sc::OP_EXECUTE_TOOL)
        .unwrap();
    assert_eq!(first_tool.get(sc::ERROR_TYPE), Some("approval_required"));

    assert_eq!(second.get(sc::TOOLPLANE_RUN_RESUMES), Some("run-42"));
    assert_eq!(second.get(sc::TOOLPLANE_RUN_RESUMED_AT_STEP), Some("1"));
    assert_eq!(second.get(sc::TOOLPLANE_RUN_ID), Some("run-42"));
    assert_eq!(second.get(sc::TOOLPLANE_RUN_OUTCOME), Some("answered"));
    let kids = children(&spans, roots[1]);
    let names: Vec<&str> = kids.iter().map(|s| s.get(sc::OTEL_NAME).unwrap()).collect();
    assert_eq!(names, ["execute_tool deploy", "chat gpt-test"]);
    assert_eq!(kids[0].get(sc::TOOLPLANE_TOOL_OUTCOME), Some("ok"));
    assert_eq!(kids[1].get(sc::TOOLPLANE_STEP), Some("2"));
}

#[tokio::test]
async fn a_provider_failure_is_an_error_on_the_chat_and_the_run() {
    let (c, _g) = Collector::install();
    let provider = Arc::new(ScriptedProvider::new("scripted").with_error(ProviderError::new(
        ProviderErrorKind::RateLimited,
        "scripted",
        "slow down",
    )));
    let agent = AgentLoop::new(provider, Arc::new(tools()));
    let err = agent.run(state("hi"), &CallContext::new("r")).await.unwrap_err();
    assert!(err.provider_error().is_some());
    let spans = c.spans();
    let chat = spans.iter().find(|s| s.name == sc::OP_CHAT).unwrap();
    assert_eq!(chat.get(sc::ERROR_TYPE), Some("rate_limited"));
    assert_eq!(chat.get(sc::OTEL_STATUS_CODE), Some(sc::STATUS_ERROR));
    let run = spans.iter().find(|s| s.name == sc::OP_INVOKE_AGENT).unwrap();
    assert_eq!(run.get(sc::TOOLPLANE_RUN_OUTCOME), Some("error"));
    assert_eq!(run.get(sc::ERROR_TYPE), Some("rate_limited"));
}

const SK: &str = "sk-proj-abcdefghijklmnopqrstuvwxyz0123";
const BEARER: &str = "eyJhbGciOiJIUzI1NiJ9.c2VjcmV0LXBheWxvYWQ.c2lnbmF0dXJlLXZhbHVl";

async fn run_with_secret(capture: bool) -> Collector {
    let (c, _g) = Collector::install();
    let args = json!({"text": format!("key {SK}"), "note": format!("send Authorization: Bearer {BEARER}")});
    let provider = Arc::new(
        ScriptedProvider::new("scripted")
            .with_tool_calls(vec![ToolCall::new("c1", "echo", args.to_string())])
            .with_text("ok"),
    );
    let exec = Executor::builder(ToolRegistry::from_tools([echo("echo")]).unwrap())
        .config(ExecutorConfig {
            capture_content: capture,
            ..ExecutorConfig::default()
        })
        .content_redactor(Arc::new(|text: &str| toolplane_security::redact::redact_text(text)))
        .build()
        .unwrap();
    let agent = AgentLoop::new(provider, Arc::new(exec));
    let result = agent.run(state("go"), &CallContext::new("r")).await.unwrap();
    assert!(
        format!("{:?}", result.state).contains(SK),
        "the conversation itself holds the secret"
    );
    c
}

#[tokio::test]
async fn secrets_in_tool_arguments_never_reach_a_span() {
    for capture in [false, true] {
        let c = run_with_secret(capture).await;
        let text = c.all_text();
        assert!(!text.contains(SK), "capture {capture}: {text}");
        assert!(!text.contains(BEARER), "capture {capture}: {text}");
        let tool = c.spans().into_iter().find(|s| s.name == sc::OP_EXECUTE_TOOL).unwrap();
        match capture {
            false => assert_eq!(tool.get(sc::GEN_AI_TOOL_CALL_ARGUMENTS), None),
            true => {
                let args = tool.get(sc::GEN_AI_TOOL_CALL_ARGUMENTS).unwrap();
                assert!(args.contains(toolplane_security::redact::MASK), "{args}");
                assert!(
                    tool.get(sc::GEN_AI_TOOL_CALL_RESULT)
                        .unwrap()
                        .contains(toolplane_security::redact::MASK)
                );
            }
        }
    }
}
