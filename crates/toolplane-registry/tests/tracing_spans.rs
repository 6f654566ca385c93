//! The executor's `execute_tool` spans, collected by an in-memory subscriber:
//! names, OpenTelemetry GenAI attributes, parent/child structure, and that
//! secrets in arguments never reach a span.
// The tests of this file run one at a time (the testkit collector's lock,
// held across awaits): a thread-local subscriber in one test must not race
// callsite registration in another, so what a test collects never depends
// on thread timing.
#![allow(clippy::unwrap_used, clippy::panic, clippy::await_holding_lock, missing_docs)]

use std::fmt::Debug;
use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{Value, json};
use toolplane_core::semconv as sc;
use toolplane_core::{
    CallContext, EchoTool, ToolCall, ToolError, ToolErrorKind, ToolInterceptor, ToolInvocation, ToolNext, ToolOutput,
    ToolSpec,
};
use toolplane_registry::{Executor, ExecutorConfig, ToolRegistry, builtin};
use toolplane_testkit::spans::{Collector, serial};

fn echo(name: &str) -> Arc<dyn toolplane_core::Tool> {
    Arc::new(EchoTool::new(ToolSpec::new(name, "Returns its arguments.")))
}

#[derive(Debug)]
struct DenyAll;

#[async_trait]
impl ToolInterceptor for DenyAll {
    async fn intercept(
        &self,
        inv: &ToolInvocation<'_>,
        _: &CallContext,
        _: ToolNext<'_>,
    ) -> Result<ToolOutput, ToolError> {
        Err(ToolError::new(
            ToolErrorKind::PermissionDenied,
            format!("`{}` is not allowed", inv.spec.name),
        ))
    }
}

#[tokio::test]
async fn a_call_is_one_execute_tool_span_with_genai_attributes() {
    let (c, _g) = Collector::install();
    let exec = Executor::from_tools([echo("echo")]).unwrap();
    let out = exec
        .execute(
            &ToolCall::new("call-7", "echo", r#"{"text":"hi"}"#),
            &CallContext::new("r"),
        )
        .await
        .unwrap();
    assert_eq!(out.content["text"], "hi");
    let spans = c.spans();
    assert_eq!(spans.len(), 1, "{spans:?}");
    let s = &spans[0];
    assert_eq!(s.name, sc::OP_EXECUTE_TOOL);
    assert!(s.closed);
    assert_eq!(s.parent, None);
    assert_eq!(s.get(sc::OTEL_NAME), Some("execute_tool echo"));
    assert_eq!(s.get(sc::GEN_AI_OPERATION_NAME), Some("execute_tool"));
    assert_eq!(s.get(sc::GEN_AI_TOOL_NAME), Some("echo"));
    assert_eq!(s.get(sc::GEN_AI_TOOL_CALL_ID), Some("call-7"));
    assert_eq!(s.get(sc::GEN_AI_TOOL_TYPE), Some("function"));
    assert_eq!(s.get(sc::TOOLPLANE_TOOL_OUTCOME), Some("ok"));
    assert_eq!(s.get(sc::TOOLPLANE_TOOL_ARGUMENTS_BYTES), Some("13"));
    let micros: u64 = s.get(sc::TOOLPLANE_TOOL_DURATION_US).unwrap().parse().unwrap();
    assert!(micros < 60_000_000);
    assert_eq!(s.get(sc::ERROR_TYPE), None);
    assert_eq!(s.get(sc::OTEL_STATUS_CODE), None);
    assert_eq!(s.get(sc::GEN_AI_TOOL_CALL_ARGUMENTS), None);
    assert_eq!(s.get(sc::GEN_AI_TOOL_CALL_RESULT), None);
}

#[tokio::test]
async fn failures_carry_their_kind_as_error_type() {
    let (c, _g) = Collector::install();
    let mut registry = ToolRegistry::new();
    registry.register(echo("echo")).unwrap();
    let mut strict = ToolSpec::new("strict", "Needs n.");
    strict.input_schema = json!({"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]});
    registry.register(Arc::new(EchoTool::new(strict))).unwrap();
    let exec = Executor::new(registry);
    let ctx = CallContext::new("r");
    let missing = exec.execute(&ToolCall::new("1", "ecko", "{}"), &ctx).await.unwrap_err();
    assert_eq!(missing.kind(), ToolErrorKind::NotFound);
    let invalid = exec
        .execute(&ToolCall::new("2", "strict", r#"{"n":"x"}"#), &ctx)
        .await
        .unwrap_err();
    assert_eq!(invalid.kind(), ToolErrorKind::InvalidArguments);
    let broken = exec
        .execute(&ToolCall::new("3", "echo", "{not json"), &ctx)
        .await
        .unwrap_err();
    assert_eq!(broken.kind(), ToolErrorKind::InvalidArguments);

    let denying = Executor::builder(ToolRegistry::from_tools([echo("rm")]).unwrap())
        .interceptor(Arc::new(DenyAll))
        .build()
        .unwrap();
    let denied = denying
        .execute(&ToolCall::new("4", "rm", "{}"), &ctx)
        .await
        .unwrap_err();
    assert_eq!(denied.kind(), ToolErrorKind::PermissionDenied);

    let spans = c.spans();
    let by_id = |id: &str| {
        spans
            .iter()
            .find(|s| s.get(sc::GEN_AI_TOOL_CALL_ID) == Some(id))
            .unwrap()
    };
    for (id, tool, kind) in [
        ("1", "ecko", "not_found"),
        ("2", "strict", "invalid_arguments"),
        ("3", "echo", "invalid_arguments"),
        ("4", "rm", "permission_denied"),
    ] {
        let s = by_id(id);
        assert_eq!(s.get(sc::GEN_AI_TOOL_NAME), Some(tool));
        assert_eq!(s.get(sc::ERROR_TYPE), Some(kind), "{s:?}");
        assert_eq!(s.get(sc::TOOLPLANE_TOOL_OUTCOME), Some(kind));
        assert_eq!(s.get(sc::OTEL_STATUS_CODE), Some(sc::STATUS_ERROR));
        assert!(s.closed);
    }
    assert_eq!(spans.len(), 4);
}

#[tokio::test]
async fn call_tool_nests_the_target_call_under_its_own_span() {
    let (c, _g) = Collector::install();
    let mut registry = ToolRegistry::new();
    registry.register_all(builtin::builtin_tools()).unwrap();
    let exec = Executor::builder(registry).with_discovery_tools().build().unwrap();
    let args = json!({"name": "json_query", "arguments": {"data": {"a": [1, 2]}, "query": "a[1]"}});
    exec.execute(
        &ToolCall::new("outer", "call_tool", args.to_string()),
        &CallContext::new("r"),
    )
    .await
    .unwrap();
    let spans = c.spans();
    assert_eq!(spans.len(), 2, "{spans:?}");
    let outer = spans
        .iter()
        .position(|s| s.get(sc::GEN_AI_TOOL_NAME) == Some("call_tool"))
        .unwrap();
    let inner = spans
        .iter()
        .find(|s| s.get(sc::GEN_AI_TOOL_NAME) == Some("json_query"))
        .unwrap();
    assert_eq!(inner.parent, Some(outer));
    assert_eq!(inner.get(sc::OTEL_NAME), Some("execute_tool json_query"));
    assert_eq!(inner.get(sc::TOOLPLANE_TOOL_OUTCOME), Some("ok"));
    assert_eq!(spans[outer].parent, None);
}

#[tokio::test]
async fn a_tool_error_output_is_an_error_outcome() {
    #[derive(Debug)]
    struct Fails(ToolSpec);
    #[async_trait]
    impl toolplane_core::Tool for Fails {
        fn spec(&self) -> &ToolSpec {
            &self.0
        }
        async fn call(&self, _: &Value, _: &CallContext) -> Result<ToolOutput, ToolError> {
            Ok(ToolOutput::text("disk full").into_error())
        }
    }
    let (c, _g) = Collector::install();
    let exec = Executor::from_tools([Arc::new(Fails(ToolSpec::new("save", "Saves."))) as _]).unwrap();
    let out = exec
        .execute(&ToolCall::new("1", "save", "{}"), &CallContext::new("r"))
        .await
        .unwrap();
    assert!(out.is_error);
    let s = &c.spans()[0];
    assert_eq!(s.get(sc::TOOLPLANE_TOOL_OUTCOME), Some("tool_error"));
    assert_eq!(s.get(sc::ERROR_TYPE), Some("tool_error"));
}

const SK: &str = "sk-proj-abcdefghijklmnopqrstuvwxyz0123";
const BEARER: &str = "eyJhbGciOiJIUzI1NiJ9.c2VjcmV0LXBheWxvYWQ.c2lnbmF0dXJlLXZhbHVl";

fn secret_call() -> ToolCall {
    let args = json!({"text": format!("use {SK} please"), "headers": {"authorization": format!("Bearer {BEARER}")}});
    ToolCall::new("s1", "echo", args.to_string())
}

/// Masks `sk-...` keys and bearer tokens (a stand-in for the security
/// crate's redactor, which the pipeline's tests use).
fn mask(text: &str) -> String {
    text.split_inclusive([' ', '"'])
        .map(|word| {
            let bare = word.trim_end_matches([' ', '"']);
            if bare.starts_with("sk-") || bare.starts_with("eyJ") {
                word.replacen(bare, "[REDACTED]", 1)
            } else {
                word.to_string()
            }
        })
        .collect()
}

#[tokio::test]
async fn secrets_in_arguments_never_reach_a_span() {
    let ctx = CallContext::new("r");
    // Capture off (the default): no text at all.
    {
        let (c, _g) = Collector::install();
        let exec = Executor::from_tools([echo("echo")]).unwrap();
        let out = exec.execute(&secret_call(), &ctx).await.unwrap();
        assert!(
            out.to_model_text().contains(SK),
            "the tool itself does see its arguments"
        );
        let text = c.all_text();
        assert!(!text.contains(SK) && !text.contains(BEARER), "{text}");
        assert!(!text.contains(sc::GEN_AI_TOOL_CALL_ARGUMENTS));
    }
    // Capture on but no redactor: still no text.
    {
        let (c, _g) = Collector::install();
        let exec = Executor::builder(ToolRegistry::from_tools([echo("echo")]).unwrap())
            .config(ExecutorConfig {
                capture_content: true,
                ..ExecutorConfig::default()
            })
            .build()
            .unwrap();
        exec.execute(&secret_call(), &ctx).await.unwrap();
        let text = c.all_text();
        assert!(!text.contains(SK) && !text.contains(BEARER), "{text}");
        assert!(!text.contains(sc::GEN_AI_TOOL_CALL_ARGUMENTS));
    }
    // Capture on with a redactor: redacted text, arguments and result.
    {
        let (c, _g) = Collector::install();
        let exec = Executor::builder(ToolRegistry::from_tools([echo("echo")]).unwrap())
            .config(ExecutorConfig {
                capture_content: true,
                ..ExecutorConfig::default()
            })
            .content_redactor(Arc::new(mask))
            .build()
            .unwrap();
        exec.execute(&secret_call(), &ctx).await.unwrap();
        let text = c.all_text();
        assert!(!text.contains(SK) && !text.contains(BEARER), "{text}");
        let s = &c.spans()[0];
        let args = s.get(sc::GEN_AI_TOOL_CALL_ARGUMENTS).unwrap();
        assert!(args.contains("use [REDACTED] please"), "{args}");
        assert!(args.contains("Bearer [REDACTED]"), "{args}");
        assert!(s.get(sc::GEN_AI_TOOL_CALL_RESULT).unwrap().contains("[REDACTED]"));
    }
    // A redactor without capture on records nothing.
    {
        let (c, _g) = Collector::install();
        let exec = Executor::builder(ToolRegistry::from_tools([echo("echo")]).unwrap())
            .content_redactor(Arc::new(mask))
            .build()
            .unwrap();
        exec.execute(&secret_call(), &ctx).await.unwrap();
        assert!(!c.all_text().contains(sc::GEN_AI_TOOL_CALL_ARGUMENTS));
    }
}

#[tokio::test]
async fn without_a_subscriber_calls_run_the_same() {
    let _serial = serial();
    let exec = Executor::from_tools([echo("echo")]).unwrap();
    let out = exec
        .execute(&ToolCall::new("1", "echo", r#"{"text":"hi"}"#), &CallContext::new("r"))
        .await
        .unwrap();
    assert_eq!(out.content["text"], "hi");
}
