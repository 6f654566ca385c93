#![allow(clippy::unwrap_used, clippy::panic)]
//! Approvals inside `branch` and `map` steps: listed by `pending_approvals`,
//! unique call ids per map item, and resumed (succeeded items kept, waiting
//! items continued), also across serialization.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use toolplane_core::{
    ApprovalToken, CallContext, ChatResponse, Message, ScriptedProvider, StopReason, Tool, ToolCall, ToolError,
    ToolErrorKind, ToolOutput, ToolSpec, async_trait,
};
use toolplane_pipeline::{
    ApprovalDecision, Condition, Pipeline, PipelineDef, PipelineRun, PipelineRuntime, PromptStep, StepDef, StepStatus,
};
use toolplane_registry::Executor;

/// Deletes `tmp-*` freely; anything else needs a token naming the exact arguments.
#[derive(Debug)]
struct GuardedDelete {
    spec: ToolSpec,
    deleted: Mutex<Vec<Value>>,
}

impl GuardedDelete {
    fn new() -> Arc<Self> {
        Arc::new(Self {
            spec: ToolSpec::new("repo.delete", "Deletes a thing."),
            deleted: Mutex::new(Vec::new()),
        })
    }
    fn deleted(&self) -> Vec<Value> {
        self.deleted.lock().unwrap().clone()
    }
}

#[async_trait]
impl Tool for GuardedDelete {
    fn spec(&self) -> &ToolSpec {
        &self.spec
    }
    async fn call(&self, args: &Value, ctx: &CallContext) -> Result<ToolOutput, ToolError> {
        let expected = format!("ok:{args}");
        let free = args["what"].as_str().is_some_and(|w| w.starts_with("tmp-"));
        match ctx.extensions.get::<ApprovalToken>() {
            Some(t) if t.0 == expected => {}
            _ if free => {}
            _ => {
                return Err(
                    ToolError::new(ToolErrorKind::ApprovalRequired, "deleting needs a human")
                        .with_details(json!({"token_hint": expected})),
                );
            }
        }
        self.deleted.lock().unwrap().push(args["what"].clone());
        Ok(ToolOutput::json(json!({"deleted": args["what"]})))
    }
}

fn approve(pending: &[toolplane_pipeline::PendingApproval], ids: &[&str]) -> HashMap<String, ApprovalDecision> {
    pending
        .iter()
        .filter(|p| ids.contains(&p.call.id.as_str()))
        .map(|p| {
            let token = p.request.as_ref().unwrap()["token_hint"].as_str().unwrap().to_string();
            (
                p.call.id.clone(),
                ApprovalDecision::Approve {
                    token: ApprovalToken(token),
                },
            )
        })
        .collect()
}

fn ids(run: &PipelineRun) -> Vec<String> {
    run.pending_approvals().iter().map(|p| p.call.id.clone()).collect()
}

/// Saves and reads back, as a host would across a restart.
fn reload(run: &PipelineRun) -> PipelineRun {
    serde_json::from_str(&serde_json::to_string(run).unwrap()).unwrap()
}

#[tokio::test]
async fn a_map_of_tool_steps_waits_per_item_and_resumes_item_by_item() {
    let delete = GuardedDelete::new();
    let def = PipelineDef::new(
        "cleanup",
        vec![
            StepDef::transform("targets", json!("{{input.targets}}"), None),
            StepDef::map(
                "delete_all",
                "steps.targets",
                2,
                StepDef::tool("delete_one", "repo.delete", json!({"what": "{{item}}"})),
            ),
            StepDef::transform("done", json!("{{steps.delete_all}}"), None),
        ],
    );
    let runtime = PipelineRuntime::new(Arc::new(
        Executor::from_tools([delete.clone() as Arc<dyn Tool>]).unwrap(),
    ));
    let pipeline = Pipeline::new(def, runtime).unwrap();
    let input = json!({"targets": ["tmp-1", "prod-a", "prod-b"]});

    let first = pipeline.run(input.clone(), &CallContext::new("r1")).await;
    assert_eq!(first.report.status, StepStatus::NeedsApproval, "{}", first.report);
    assert_eq!(
        ids(&first),
        ["delete_one[1]-1", "delete_one[2]-1"],
        "each item's call has its own id"
    );
    assert_eq!(delete.deleted(), [json!("tmp-1")]);
    let pending: Vec<_> = first.pending_approvals().into_iter().cloned().collect();

    // Approve one item: the free item is not run again, the approved one runs, the other still waits.
    let second = pipeline
        .resume(
            input.clone(),
            &reload(&first),
            &approve(&pending, &["delete_one[1]-1"]),
            &CallContext::new("r2"),
        )
        .await;
    assert_eq!(second.report.status, StepStatus::NeedsApproval, "{}", second.report);
    assert_eq!(ids(&second), ["delete_one[2]-1"]);
    assert_eq!(delete.deleted(), [json!("tmp-1"), json!("prod-a")]);
    let map = second.report.step("delete_all").unwrap();
    let statuses: Vec<StepStatus> = map.children.iter().map(|c| c.status).collect();
    assert_eq!(
        statuses,
        [StepStatus::Succeeded, StepStatus::Succeeded, StepStatus::NeedsApproval]
    );

    // Approve the last: the map finishes with every output in item order, and the run goes on.
    let third = pipeline
        .resume(
            input,
            &reload(&second),
            &approve(&pending, &["delete_one[2]-1"]),
            &CallContext::new("r3"),
        )
        .await;
    assert!(third.succeeded(), "{}", third.report);
    assert!(third.pending_approvals().is_empty());
    assert_eq!(
        third.outputs["delete_all"],
        json!([{"deleted": "tmp-1"}, {"deleted": "prod-a"}, {"deleted": "prod-b"}])
    );
    assert_eq!(third.outputs["done"], third.outputs["delete_all"]);
    assert_eq!(
        delete.deleted(),
        [json!("tmp-1"), json!("prod-a"), json!("prod-b")],
        "each delete ran once"
    );
}

#[tokio::test]
async fn a_branch_waits_for_its_nested_step_and_resumes_after_a_restart() {
    let delete = GuardedDelete::new();
    let def = PipelineDef::new(
        "guarded",
        vec![
            StepDef::branch(
                "maybe_delete",
                Condition::Truthy("input.really".into()),
                vec![
                    StepDef::transform("label", json!("branch {{input.name}}"), None),
                    StepDef::tool("delete_branch", "repo.delete", json!({"what": "{{input.name}}"})),
                    StepDef::transform("after", json!("{{steps.label}}: {{steps.delete_branch.deleted}}"), None),
                ],
                vec![StepDef::transform("skip", json!("kept"), None)],
            ),
            StepDef::transform("done", json!("{{steps.maybe_delete}}"), None),
        ],
    );
    let runtime = PipelineRuntime::new(Arc::new(
        Executor::from_tools([delete.clone() as Arc<dyn Tool>]).unwrap(),
    ));
    let pipeline = Pipeline::new(def, runtime).unwrap();
    let input = json!({"really": true, "name": "main-old"});

    let first = pipeline.run(input.clone(), &CallContext::new("r1")).await;
    assert_eq!(first.report.status, StepStatus::NeedsApproval, "{}", first.report);
    assert_eq!(ids(&first), ["delete_branch-1"]);
    let pending: Vec<_> = first.pending_approvals().into_iter().cloned().collect();

    // No decision: still waiting, nothing deleted, nothing failed.
    let still = pipeline
        .resume(input.clone(), &reload(&first), &HashMap::new(), &CallContext::new("r2"))
        .await;
    assert_eq!(still.report.status, StepStatus::NeedsApproval, "{}", still.report);
    assert_eq!(ids(&still), ["delete_branch-1"]);

    let done = pipeline
        .resume(
            input,
            &reload(&still),
            &approve(&pending, &["delete_branch-1"]),
            &CallContext::new("r3"),
        )
        .await;
    assert!(done.succeeded(), "{}", done.report);
    assert_eq!(done.outputs["after"], "branch main-old: main-old");
    assert_eq!(done.outputs["done"], "branch main-old: main-old");
    assert_eq!(delete.deleted(), [json!("main-old")]);
    assert_eq!(
        done.report.step("label").unwrap().attempts,
        1,
        "the first nested step kept its run"
    );
}

fn tool_call(p: &ScriptedProvider, id: &str, what: &str) {
    p.push(Ok(ChatResponse::new(
        "p",
        "m",
        Message::assistant_tool_calls(vec![ToolCall::new(
            id,
            "repo.delete",
            json!({"what": what}).to_string(),
        )]),
        StopReason::ToolUse,
    )));
}

fn answer(p: &ScriptedProvider, text: &str) {
    p.push(Ok(ChatResponse::new(
        "p",
        "m",
        Message::assistant(text),
        StopReason::EndTurn,
    )));
}

#[tokio::test]
async fn prompt_steps_in_map_items_get_distinct_call_ids_and_resume() {
    let delete = GuardedDelete::new();
    let provider = Arc::new(ScriptedProvider::new("p"));
    // The model uses the same call id in both items, as real models do.
    tool_call(&provider, "call_1", "prod-a");
    tool_call(&provider, "call_1", "prod-b");
    let def = PipelineDef::new(
        "ask",
        vec![StepDef::map(
            "each",
            "input.targets",
            1,
            StepDef::prompt(
                "ask",
                PromptStep {
                    prompt: "Delete {{item}}.".into(),
                    tools: vec!["repo.*".into()],
                    ..Default::default()
                },
            ),
        )],
    );
    let runtime = PipelineRuntime::new(Arc::new(
        Executor::from_tools([delete.clone() as Arc<dyn Tool>]).unwrap(),
    ))
    .with_default_provider(provider.clone());
    let pipeline = Pipeline::new(def, runtime).unwrap();
    let input = json!({"targets": ["prod-a", "prod-b"]});

    let first = pipeline.run(input.clone(), &CallContext::new("r1")).await;
    assert_eq!(first.report.status, StepStatus::NeedsApproval, "{}", first.report);
    assert_eq!(ids(&first), ["ask[0]/call_1", "ask[1]/call_1"]);
    let pending: Vec<_> = first.pending_approvals().into_iter().cloned().collect();

    answer(&provider, "deleted a");
    answer(&provider, "deleted b");
    let done = pipeline
        .resume(
            input,
            &reload(&first),
            &approve(&pending, &["ask[0]/call_1", "ask[1]/call_1"]),
            &CallContext::new("r2"),
        )
        .await;
    assert!(done.succeeded(), "{}", done.report);
    assert_eq!(done.outputs["each"], json!(["deleted a", "deleted b"]));
    assert_eq!(delete.deleted(), [json!("prod-a"), json!("prod-b")]);
}
