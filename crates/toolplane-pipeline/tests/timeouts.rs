#![allow(clippy::unwrap_used, clippy::panic)]
//! A prompt attempt cut off by its `timeout_ms` is still charged: the
//! provider calls that answered, and the estimated input of the one in flight.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::{Value, json};
use toolplane_core::{
    CallContext, ChatProvider, ChatRequest, ChatResponse, Message, Price, ProviderError, StopReason, Tool, ToolCall,
    ToolError, ToolOutput, ToolSpec, Usage, async_trait,
};
use toolplane_pipeline::{Pipeline, PipelineDef, PipelineRuntime, PromptStep, StepDef, StepStatus};
use toolplane_registry::Executor;

/// Answers the first call with a tool call, then never answers again.
#[derive(Debug, Default)]
struct Stalls {
    calls: AtomicUsize,
}

#[async_trait]
impl ChatProvider for Stalls {
    fn name(&self) -> &str {
        "stalls"
    }
    async fn chat(&self, _request: &ChatRequest, _ctx: &CallContext) -> Result<ChatResponse, ProviderError> {
        if self.calls.fetch_add(1, Ordering::SeqCst) == 0 {
            return Ok(ChatResponse::new(
                "stalls",
                "m",
                Message::assistant_tool_calls(vec![ToolCall::new("c1", "echo", r#"{"x":1}"#)]),
                StopReason::ToolUse,
            )
            .with_usage(Usage {
                input_tokens: 10,
                output_tokens: 5,
                ..Default::default()
            }));
        }
        tokio::time::sleep(Duration::from_secs(600)).await;
        Ok(ChatResponse::new(
            "stalls",
            "m",
            Message::assistant("late"),
            StopReason::EndTurn,
        ))
    }
}

#[derive(Debug)]
struct Echo(ToolSpec);

#[async_trait]
impl Tool for Echo {
    fn spec(&self) -> &ToolSpec {
        &self.0
    }
    async fn call(&self, args: &Value, _ctx: &CallContext) -> Result<ToolOutput, ToolError> {
        Ok(ToolOutput::json(args.clone()))
    }
}

#[tokio::test]
async fn a_timed_out_prompt_attempt_is_charged_to_the_report_and_the_budget() {
    let provider = Arc::new(Stalls::default());
    let mut def = PipelineDef::new(
        "slow",
        vec![
            StepDef::prompt(
                "ask",
                PromptStep {
                    prompt: "Use the tool.".into(),
                    tools: vec!["echo".into()],
                    ..Default::default()
                },
            )
            .with_timeout_ms(200)
            .with_retries(1, 0),
        ],
    );
    def.budget.max_steps = Some(2);
    let tools = Executor::from_tools([Arc::new(Echo(ToolSpec::new("echo", "Echoes."))) as Arc<dyn Tool>]).unwrap();
    let runtime = PipelineRuntime::new(Arc::new(tools))
        .with_default_provider(provider.clone())
        .with_default_price(Price::per_million(1_000.0, 2_000.0));
    let run = Pipeline::new(def, runtime)
        .unwrap()
        .run(json!({}), &CallContext::new("r"))
        .await;

    let step = run.report.step("ask").unwrap();
    // The answered call (10 in, 5 out) and the call in flight at the
    // timeout (its estimated input) are both charged.
    assert_eq!(step.usage.output_tokens, 5, "{}", run.report);
    assert!(step.usage.input_tokens > 10, "{}", run.report);
    assert_eq!(step.provider_calls, 2);
    let priced = (step.usage.input_tokens as f64 * 1_000.0 + 5.0 * 2_000.0) / 1e6;
    assert!((step.cost_usd - priced).abs() < 1e-12, "{} vs {priced}", step.cost_usd);
    assert_eq!(run.report.usage, step.usage);
    assert_eq!(run.report.provider_calls, 2);

    // The pipeline budget (2 provider calls) saw both: the retry does not start.
    assert_eq!(
        (step.status, step.attempts),
        (StepStatus::BudgetExceeded, 2),
        "{}",
        run.report
    );
    assert_eq!(provider.calls.load(Ordering::SeqCst), 2);
}
