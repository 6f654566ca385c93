#![allow(clippy::unwrap_used, clippy::panic)]
//! Budgets: the pipeline's `max_steps` caps provider calls over the run; a
//! step budget covers a prompt step's attempts, or everything nested in a
//! branch or map; a budget on a tool or transform step is refused at load.

use std::sync::Arc;

use serde_json::{Value, json};
use toolplane_core::{
    CallContext, ChatResponse, Message, ScriptedProvider, StopReason, Tool, ToolCall, ToolError, ToolOutput, ToolSpec,
    Usage, async_trait,
};
use toolplane_pipeline::{
    Budget, Condition, Pipeline, PipelineDef, PipelineError, PipelineRuntime, PromptStep, StepDef, StepStatus,
};
use toolplane_registry::Executor;

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

fn tool_call(p: &ScriptedProvider) {
    p.push(Ok(ChatResponse::new(
        "p",
        "m",
        Message::assistant_tool_calls(vec![ToolCall::new("c1", "echo", r#"{"x":1}"#)]),
        StopReason::ToolUse,
    )
    .with_usage(Usage {
        input_tokens: 10,
        output_tokens: 5,
        ..Default::default()
    })));
}

fn prompt(name: &str) -> StepDef {
    StepDef::prompt(
        name,
        PromptStep {
            prompt: format!("Do {name}."),
            tools: vec!["echo".into()],
            ..Default::default()
        },
    )
}

/// A prompt step without tools: a small request, well inside small token budgets.
fn plain(name: &str) -> StepDef {
    StepDef::prompt(
        name,
        PromptStep {
            prompt: format!("Do {name}."),
            ..Default::default()
        },
    )
}

fn runtime(provider: Arc<ScriptedProvider>) -> PipelineRuntime {
    let tools = Executor::from_tools([Arc::new(Echo(ToolSpec::new("echo", "Echoes."))) as Arc<dyn Tool>]).unwrap();
    PipelineRuntime::new(Arc::new(tools)).with_default_provider(provider)
}

#[tokio::test]
async fn the_pipeline_max_steps_caps_provider_calls_over_the_run() {
    // Three one-call steps, two calls allowed: the third never calls.
    let p = Arc::new(ScriptedProvider::new("p"));
    for t in ["a", "b", "c"] {
        answer(&p, t);
    }
    let mut def = PipelineDef::new("calls", vec![prompt("one"), prompt("two"), prompt("three")]);
    def.budget.max_steps = Some(2);
    let run = Pipeline::new(def, runtime(p.clone()))
        .unwrap()
        .run(json!({}), &CallContext::new("r"))
        .await;
    assert_eq!(run.report.status, StepStatus::BudgetExceeded, "{}", run.report);
    let three = run.report.step("three").unwrap();
    assert_eq!(three.status, StepStatus::BudgetExceeded);
    assert!(
        three
            .error
            .as_ref()
            .unwrap()
            .contains("pipeline's provider-call budget"),
        "{three:?}"
    );
    assert_eq!(p.requests().len(), 2);
    assert_eq!(run.report.provider_calls, 2);

    // A tool loop that wants more calls than are left is cut at the limit.
    let p = Arc::new(ScriptedProvider::new("p"));
    answer(&p, "a");
    tool_call(&p);
    answer(&p, "never sent");
    let mut def = PipelineDef::new("calls", vec![prompt("one"), prompt("two")]);
    def.budget.max_steps = Some(2);
    let run = Pipeline::new(def, runtime(p.clone()))
        .unwrap()
        .run(json!({}), &CallContext::new("r"))
        .await;
    let two = run.report.step("two").unwrap();
    assert_eq!(two.status, StepStatus::BudgetExceeded, "{}", run.report);
    assert_eq!((two.provider_calls, p.requests().len()), (1, 2));
}

#[test]
fn a_budget_on_a_tool_or_transform_step_is_refused_at_load() {
    let err = PipelineDef::from_yaml_str(
        "name: p\nsteps:\n  - name: create\n    tool: {name: echo}\n    budget: {max_tokens: 100}\n",
    )
    .unwrap_err();
    match &err {
        PipelineError::Invalid { step, message } => {
            assert_eq!(step, "create");
            assert!(message.contains("budget") && message.contains("tool step"), "{message}");
        }
        other => panic!("{other}"),
    }

    // Nested, built in code: found by Pipeline::new too.
    let def = PipelineDef::new(
        "p",
        vec![StepDef::branch(
            "maybe",
            Condition::Truthy("input.x".into()),
            vec![
                StepDef::transform("shape", json!("{{input}}"), None).with_budget(Budget {
                    max_cost_usd: Some(1.0),
                    ..Budget::default()
                }),
            ],
            vec![],
        )],
    );
    let err = Pipeline::new(def, runtime(Arc::new(ScriptedProvider::new("p")))).unwrap_err();
    assert!(err.to_string().starts_with("step `shape`: "), "{err}");
    assert!(err.to_string().contains("transform step"), "{err}");
}

#[tokio::test]
async fn a_branch_budget_covers_its_nested_steps() {
    let p = Arc::new(ScriptedProvider::new("p"));
    for t in ["a", "b", "c"] {
        answer(&p, t);
    }
    let def = PipelineDef::new(
        "b",
        vec![
            StepDef::branch(
                "guarded",
                Condition::Exists("input".into()),
                vec![plain("one"), plain("two"), plain("three")],
                vec![],
            )
            .with_budget(Budget {
                max_tokens: Some(30),
                ..Budget::default()
            }),
        ],
    );
    let run = Pipeline::new(def, runtime(p.clone()))
        .unwrap()
        .run(json!({}), &CallContext::new("r"))
        .await;
    let three = run.report.step("three").unwrap();
    assert_eq!(three.status, StepStatus::BudgetExceeded, "{}", run.report);
    assert!(
        three
            .error
            .as_ref()
            .unwrap()
            .contains("token budget of step `guarded` is used up"),
        "{three:?}"
    );
    assert_eq!(run.report.step("guarded").unwrap().status, StepStatus::BudgetExceeded);
    assert_eq!(p.requests().len(), 2);
}

#[tokio::test]
async fn a_map_budget_covers_all_its_items() {
    let p = Arc::new(ScriptedProvider::new("p"));
    for t in ["a", "b", "c"] {
        answer(&p, t);
    }
    let def = PipelineDef::new(
        "m",
        vec![
            StepDef::map(
                "each",
                "input.items",
                1,
                StepDef::prompt(
                    "ask",
                    PromptStep {
                        prompt: "About {{item}}.".into(),
                        ..Default::default()
                    },
                ),
            )
            .with_budget(Budget {
                max_steps: Some(2),
                ..Budget::default()
            }),
        ],
    );
    let run = Pipeline::new(def, runtime(p.clone()))
        .unwrap()
        .run(json!({"items": [1, 2, 3]}), &CallContext::new("r"))
        .await;
    let each = run.report.step("each").unwrap();
    let statuses: Vec<StepStatus> = each.children.iter().map(|c| c.status).collect();
    assert_eq!(
        statuses,
        [StepStatus::Succeeded, StepStatus::Succeeded, StepStatus::BudgetExceeded],
        "{}",
        run.report
    );
    assert_eq!(each.status, StepStatus::BudgetExceeded);
    assert_eq!(p.requests().len(), 2);
}

#[tokio::test]
async fn a_prompt_step_budget_covers_all_its_attempts() {
    let p = Arc::new(ScriptedProvider::new("p"));
    answer(&p, "not json");
    answer(&p, r#"{"ok": true}"#);
    let def = PipelineDef::new(
        "retry",
        vec![
            StepDef::prompt(
                "structured",
                PromptStep {
                    prompt: "Answer in JSON.".into(),
                    output_schema: Some(json!({"type": "object", "required": ["ok"]})),
                    output_repairs: 0,
                    ..Default::default()
                },
            )
            .with_retries(2, 0)
            .with_budget(Budget {
                max_tokens: Some(15),
                ..Budget::default()
            }),
        ],
    );
    let run = Pipeline::new(def, runtime(p.clone()))
        .unwrap()
        .run(json!({}), &CallContext::new("r"))
        .await;
    let step = run.report.step("structured").unwrap();
    assert_eq!(
        (step.status, step.attempts),
        (StepStatus::BudgetExceeded, 2),
        "{}",
        run.report
    );
    assert_eq!(p.requests().len(), 1, "the retry found the step's budget used up");
    assert_eq!(step.usage.total_tokens(), 15);
}
