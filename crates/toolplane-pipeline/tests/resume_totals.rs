#![allow(clippy::unwrap_used, clippy::panic)]
//! A resumed pipeline run reports the totals of the whole run (earlier parts
//! included), and its budget goes on from what was already spent.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{Value, json};
use toolplane_core::{
    ApprovalToken, CallContext, ChatResponse, Message, Price, ScriptedProvider, StopReason, Tool, ToolError,
    ToolErrorKind, ToolOutput, ToolSpec, Usage, async_trait,
};
use toolplane_pipeline::{
    ApprovalDecision, Pipeline, PipelineDef, PipelineRun, PipelineRuntime, PromptStep, StepDef, StepStatus,
};
use toolplane_registry::Executor;

#[derive(Debug)]
struct Guarded(ToolSpec);

#[async_trait]
impl Tool for Guarded {
    fn spec(&self) -> &ToolSpec {
        &self.0
    }
    async fn call(&self, args: &Value, ctx: &CallContext) -> Result<ToolOutput, ToolError> {
        match ctx.extensions.get::<ApprovalToken>() {
            Some(t) if t.0 == "yes" => Ok(ToolOutput::json(json!({"deleted": args["what"]}))),
            _ => Err(ToolError::new(ToolErrorKind::ApprovalRequired, "ask first")),
        }
    }
}

fn answer(p: &ScriptedProvider, text: &str) {
    p.push(Ok(ChatResponse::new(
        "p",
        "m",
        Message::assistant(text),
        StopReason::EndTurn,
    )
    .with_usage(Usage {
        input_tokens: 10,
        output_tokens: 5,
        ..Default::default()
    })));
}

fn prompt(name: &str, text: &str) -> StepDef {
    StepDef::prompt(
        name,
        PromptStep {
            prompt: text.into(),
            ..Default::default()
        },
    )
}

fn pipeline(provider: Arc<ScriptedProvider>) -> Pipeline {
    let mut def = PipelineDef::new(
        "totals",
        vec![
            prompt("one", "1"),
            StepDef::tool("delete", "repo.delete", json!({"what": "x"})),
            prompt("two", "2"),
            prompt("three", "3"),
        ],
    );
    def.budget.max_tokens = Some(25);
    let tools =
        Executor::from_tools([Arc::new(Guarded(ToolSpec::new("repo.delete", "Deletes."))) as Arc<dyn Tool>]).unwrap();
    let runtime = PipelineRuntime::new(Arc::new(tools))
        .with_default_provider(provider)
        .with_default_price(Price::per_million(1_000.0, 2_000.0));
    Pipeline::new(def, runtime).unwrap()
}

#[tokio::test]
async fn a_resumed_run_reports_whole_run_totals_and_keeps_its_budget() {
    let provider = Arc::new(ScriptedProvider::new("p"));
    answer(&provider, "first");
    let first = pipeline(provider).run(json!({}), &CallContext::new("r1")).await;
    assert_eq!(first.report.status, StepStatus::NeedsApproval, "{}", first.report);
    assert_eq!(first.report.usage.total_tokens(), 15);
    assert_eq!(first.report.provider_calls, 1);
    let saved: PipelineRun = serde_json::from_str(&serde_json::to_string(&first).unwrap()).unwrap();

    // Another process: the budget (25 tokens) has 10 left, enough for `two` only.
    let provider = Arc::new(ScriptedProvider::new("p"));
    answer(&provider, "second");
    answer(&provider, "third");
    let decisions = HashMap::from([(
        "delete-1".to_string(),
        ApprovalDecision::Approve {
            token: ApprovalToken("yes".into()),
        },
    )]);
    let resumed = pipeline(provider.clone())
        .resume(json!({}), &saved, &decisions, &CallContext::new("r2"))
        .await;
    assert_eq!(resumed.report.step("two").unwrap().status, StepStatus::Succeeded);
    let three = resumed.report.step("three").unwrap();
    assert_eq!(three.status, StepStatus::BudgetExceeded, "{}", resumed.report);
    assert!(
        three.error.as_ref().unwrap().contains("pipeline's token budget"),
        "{three:?}"
    );
    assert_eq!(
        provider.requests().len(),
        1,
        "the used part of the budget was not spent again"
    );

    // Totals cover both parts of the run.
    assert_eq!(resumed.report.usage.total_tokens(), 30, "{}", resumed.report);
    assert_eq!(resumed.report.provider_calls, 2);
    let per_answer = (10.0 * 1_000.0 + 5.0 * 2_000.0) / 1e6;
    assert!(
        (resumed.report.cost_usd - 2.0 * per_answer).abs() < 1e-12,
        "{}",
        resumed.report.cost_usd
    );
    assert!(resumed.report.duration_ms >= saved.report.duration_ms);
    let steps: u64 = resumed.report.steps.iter().map(|s| s.usage.total_tokens()).sum();
    assert_eq!(
        steps,
        resumed.report.usage.total_tokens(),
        "the steps add up to the total"
    );
}

#[tokio::test]
async fn a_paused_prompt_step_keeps_its_own_budget_across_the_resume() {
    use toolplane_core::ToolCall;
    use toolplane_pipeline::Budget;

    let make = |provider: Arc<ScriptedProvider>| {
        let def = PipelineDef::new(
            "tidy",
            vec![
                StepDef::prompt(
                    "tidy",
                    PromptStep {
                        prompt: "Delete the stale tag.".into(),
                        tools: vec!["repo.*".into()],
                        ..Default::default()
                    },
                )
                .with_budget(Budget {
                    max_steps: Some(2),
                    max_tokens: Some(1_000),
                    ..Budget::default()
                }),
            ],
        );
        let tools =
            Executor::from_tools([Arc::new(Guarded(ToolSpec::new("repo.delete", "Deletes."))) as Arc<dyn Tool>])
                .unwrap();
        Pipeline::new(
            def,
            PipelineRuntime::new(Arc::new(tools)).with_default_provider(provider),
        )
        .unwrap()
    };
    let provider = Arc::new(ScriptedProvider::new("p"));
    provider.push(Ok(ChatResponse::new(
        "p",
        "m",
        Message::assistant_tool_calls(vec![ToolCall::new("t1", "repo.delete", r#"{"what":"v0"}"#)]),
        StopReason::ToolUse,
    )
    .with_usage(Usage {
        input_tokens: 10,
        output_tokens: 5,
        ..Default::default()
    })));
    let first = make(provider).run(json!({}), &CallContext::new("r1")).await;
    assert_eq!(first.report.status, StepStatus::NeedsApproval, "{}", first.report);
    assert_eq!(first.report.step("tidy").unwrap().provider_calls, 1);

    // The step's second (and last allowed) call happens after the approval.
    let provider = Arc::new(ScriptedProvider::new("p"));
    answer(&provider, "tag removed");
    let decisions = HashMap::from([(
        "t1".to_string(),
        ApprovalDecision::Approve {
            token: ApprovalToken("yes".into()),
        },
    )]);
    let done = make(provider.clone())
        .resume(json!({}), &first, &decisions, &CallContext::new("r2"))
        .await;
    assert!(done.succeeded(), "{}", done.report);
    assert_eq!(done.outputs["tidy"], "tag removed");
    let tidy = done.report.step("tidy").unwrap();
    assert_eq!((tidy.provider_calls, tidy.usage.total_tokens()), (2, 30));
    assert_eq!(done.report.usage, tidy.usage, "counted once, not twice");
}

/// Needs approval; once approved, takes far too long.
#[derive(Debug)]
struct SlowOnceApproved(ToolSpec);

#[async_trait]
impl Tool for SlowOnceApproved {
    fn spec(&self) -> &ToolSpec {
        &self.0
    }
    async fn call(&self, _args: &Value, ctx: &CallContext) -> Result<ToolOutput, ToolError> {
        if ctx.extensions.get::<ApprovalToken>().is_none() {
            return Err(ToolError::new(ToolErrorKind::ApprovalRequired, "ask first"));
        }
        tokio::time::sleep(std::time::Duration::from_secs(600)).await;
        Ok(ToolOutput::text("done"))
    }
}

#[tokio::test]
async fn a_continued_step_keeps_its_timeout() {
    let tools =
        Executor::from_tools([Arc::new(SlowOnceApproved(ToolSpec::new("repo.migrate", "Migrates."))) as Arc<dyn Tool>])
            .unwrap();
    let def = PipelineDef::new(
        "migrate",
        vec![StepDef::tool("migrate", "repo.migrate", json!({})).with_timeout_ms(100)],
    );
    let pipeline = Pipeline::new(def, PipelineRuntime::new(Arc::new(tools))).unwrap();
    let first = pipeline.run(json!({}), &CallContext::new("r1")).await;
    assert_eq!(first.report.status, StepStatus::NeedsApproval);
    let decisions = HashMap::from([(
        "migrate-1".to_string(),
        ApprovalDecision::Approve {
            token: ApprovalToken("yes".into()),
        },
    )]);
    let resumed = pipeline
        .resume(json!({}), &first, &decisions, &CallContext::new("r2"))
        .await;
    let step = resumed.report.step("migrate").unwrap();
    assert_eq!(step.status, StepStatus::TimedOut, "{}", resumed.report);
    assert!(step.error.as_ref().unwrap().contains("100 ms"), "{step:?}");
}
