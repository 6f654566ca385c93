#![allow(clippy::unwrap_used, clippy::panic)]
//! Declarative pipelines: every step kind, loaded from YAML and TOML, retries,
//! timeouts, budgets, conditions, bounded map concurrency and the report.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use toolplane_core::{
    CallContext, ChatResponse, Message, Price, ScriptedProvider, StopReason, Tool, ToolError, ToolErrorKind,
    ToolOutput, ToolSpec, Usage, async_trait,
};
use toolplane_pipeline::{Condition, Pipeline, PipelineDef, PipelineError, PipelineRuntime, StepDef, StepStatus};
use toolplane_registry::{Executor, ToolRegistry};

/// Records calls; fails the first `fail_first` calls; sleeps `delay_ms`; tracks concurrency.
#[derive(Debug)]
struct Recorder {
    spec: ToolSpec,
    calls: Mutex<Vec<Value>>,
    fail_first: usize,
    delay_ms: u64,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
}

impl Recorder {
    fn new(name: &str, fail_first: usize, delay_ms: u64) -> Arc<Self> {
        Arc::new(Self {
            spec: ToolSpec::new(name, "Records its calls."),
            calls: Mutex::new(Vec::new()),
            fail_first,
            delay_ms,
            in_flight: AtomicUsize::new(0),
            max_in_flight: AtomicUsize::new(0),
        })
    }
}

#[async_trait]
impl Tool for Recorder {
    fn spec(&self) -> &ToolSpec {
        &self.spec
    }
    async fn call(&self, args: &Value, _ctx: &CallContext) -> Result<ToolOutput, ToolError> {
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_in_flight.fetch_max(now, Ordering::SeqCst);
        if self.delay_ms > 0 {
            tokio::time::sleep(Duration::from_millis(self.delay_ms)).await;
        }
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        let n = {
            let mut calls = self.calls.lock().unwrap();
            calls.push(args.clone());
            calls.len()
        };
        if n <= self.fail_first {
            return Err(ToolError::upstream(format!("flaky failure #{n}")));
        }
        Ok(ToolOutput::json(json!({"created": args, "number": n})))
    }
}

fn text(p: &ScriptedProvider, t: &str, tokens: (u64, u64)) {
    p.push(Ok(ChatResponse::new(
        "scripted",
        "m",
        Message::assistant(t),
        StopReason::EndTurn,
    )
    .with_usage(Usage {
        input_tokens: tokens.0,
        output_tokens: tokens.1,
        ..Default::default()
    })));
}

const PLAN_YAML: &str = r#"
name: plan-and-file
description: Plan tasks, file each one, and report.
steps:
  - name: plan
    prompt:
      provider: planner
      task_type: planning
      system: "You plan work."
      prompt: "Plan tasks for: {{input.goal}}"
      output_schema:
        type: object
        required: [tasks]
        properties:
          tasks:
            type: array
            items:
              type: object
              required: [title]
              properties:
                title: {type: string}
    retries: 1
  - name: titles
    transform:
      input: "{{steps.plan.tasks}}"
      function: titles
  - name: file
    map:
      over: steps.plan.tasks
      concurrency: 2
      step:
        name: file_one
        tool:
          name: tracker.create
          args:
            title: "{{item.title}}"
            position: "{{index}}"
    timeout_ms: 5000
  - name: announce
    branch:
      if:
        greater_than: {path: steps.file, value: 2}
      then:
        - name: big_summary
          prompt:
            prompt: "Announce {{steps.titles}}"
      else:
        - name: small_summary
          transform:
            input: "only {{steps.titles}}"
  - name: never
    when:
      truthy: input.dry_run
    tool:
      name: tracker.create
      args: {title: "should not run"}
"#;

const PLAN_TOML: &str = r#"
name = "plan-and-file"
description = "Plan tasks, file each one, and report."

[[steps]]
name = "plan"
retries = 1
[steps.prompt]
provider = "planner"
task_type = "planning"
system = "You plan work."
prompt = "Plan tasks for: {{input.goal}}"
[steps.prompt.output_schema]
type = "object"
required = ["tasks"]
[steps.prompt.output_schema.properties.tasks]
type = "array"
[steps.prompt.output_schema.properties.tasks.items]
type = "object"
required = ["title"]
properties = { title = { type = "string" } }

[[steps]]
name = "titles"
transform = { input = "{{steps.plan.tasks}}", function = "titles" }

[[steps]]
name = "file"
timeout_ms = 5000
[steps.map]
over = "steps.plan.tasks"
concurrency = 2
[steps.map.step]
name = "file_one"
tool = { name = "tracker.create", args = { title = "{{item.title}}", position = "{{index}}" } }

[[steps]]
name = "announce"
[steps.branch]
if = { greater_than = { path = "steps.file", value = 2 } }
then = [ { name = "big_summary", prompt = { prompt = "Announce {{steps.titles}}" } } ]
else = [ { name = "small_summary", transform = { input = "only {{steps.titles}}" } } ]

[[steps]]
name = "never"
when = { truthy = "input.dry_run" }
tool = { name = "tracker.create", args = { title = "should not run" } }
"#;

fn runtime(tracker: Arc<Recorder>, planner: Arc<ScriptedProvider>, default: Arc<ScriptedProvider>) -> PipelineRuntime {
    PipelineRuntime::new(Arc::new(Executor::from_tools([tracker as Arc<dyn Tool>]).unwrap()))
        .with_provider("planner", planner)
        .with_default_provider(default)
        .with_default_model("test-model")
        .with_default_price(Price::per_million(1.0, 2.0))
        .with_function("titles", |v| {
            let titles: Vec<Value> = v
                .as_array()
                .ok_or("expected a list")?
                .iter()
                .map(|t| t["title"].clone())
                .collect();
            Ok(Value::Array(titles))
        })
}

#[test]
fn yaml_and_toml_define_the_same_pipeline() {
    let yaml = PipelineDef::from_yaml_str(PLAN_YAML).unwrap();
    let toml = PipelineDef::from_toml_str(PLAN_TOML).unwrap();
    assert_eq!(yaml, toml);
    assert_eq!(yaml.all_steps().len(), 8);
    // A definition survives a round trip through its serialized form.
    let again: PipelineDef = serde_yaml_ng::from_str(&serde_yaml_ng::to_string(&yaml).unwrap()).unwrap();
    assert_eq!(again, yaml);
}

#[tokio::test]
async fn every_step_kind_runs_and_the_report_accounts_for_it() {
    let tracker = Recorder::new("tracker.create", 0, 20);
    let planner = Arc::new(ScriptedProvider::new("planner"));
    // First answer breaks the schema; the step repairs it within the same attempt.
    text(&planner, r#"{"tasks": [{"name": "wrong key"}]}"#, (100, 20));
    text(
        &planner,
        "```json\n{\"tasks\": [{\"title\": \"A\"}, {\"title\": \"B\"}, {\"title\": \"C\"}]}\n```",
        (150, 30),
    );
    let default = Arc::new(ScriptedProvider::new("default"));
    text(&default, "Filed A, B and C.", (40, 10));
    let def = PipelineDef::from_yaml_str(PLAN_YAML).unwrap();
    let pipeline = Pipeline::new(def, runtime(tracker.clone(), planner.clone(), default.clone())).unwrap();

    let run = pipeline
        .run(json!({"goal": "launch", "dry_run": false}), &CallContext::new("r"))
        .await;
    assert!(run.succeeded(), "{}", run.report);
    assert_eq!(run.outputs["plan"]["tasks"].as_array().unwrap().len(), 3);
    assert_eq!(run.outputs["titles"], json!(["A", "B", "C"]));
    assert_eq!(run.outputs["file"].as_array().unwrap().len(), 3);
    assert_eq!(run.outputs["file"][2]["created"], json!({"title": "C", "position": 2}));
    assert_eq!(run.outputs["big_summary"], "Filed A, B and C.");
    assert_eq!(run.outputs["announce"], "Filed A, B and C.");
    assert!(!run.outputs.contains_key("never"));

    // The planner got the rendered prompt, the task type and the schema; the repair message went back.
    let reqs = planner.requests();
    assert_eq!(reqs.len(), 2);
    assert_eq!(reqs[0].messages[1].text(), "Plan tasks for: launch");
    assert_eq!(reqs[0].metadata.task_type.as_deref(), Some("planning"));
    assert_eq!(reqs[0].model, "test-model");
    assert!(reqs[0].response_format.is_some());
    assert!(
        reqs[1].messages.last().unwrap().text().contains("/tasks/0"),
        "names the place"
    );
    assert_eq!(default.requests()[0].messages[0].text(), r#"Announce ["A","B","C"]"#);

    // Map concurrency is bounded by 2 and used.
    assert_eq!(tracker.max_in_flight.load(Ordering::SeqCst), 2);

    let r = &run.report;
    assert_eq!(r.status, StepStatus::Succeeded);
    assert_eq!(r.usage.total_tokens(), 120 + 180 + 50);
    assert!((r.cost_usd - (290.0 * 1.0 + 60.0 * 2.0) / 1e6).abs() < 1e-12);
    let plan = r.step("plan").unwrap();
    assert_eq!(
        (plan.kind.as_str(), plan.status, plan.attempts),
        ("prompt", StepStatus::Succeeded, 1)
    );
    assert_eq!(plan.usage.total_tokens(), 300);
    let file = r.step("file").unwrap();
    assert_eq!(file.children.len(), 3);
    assert_eq!(file.children[1].name, "file_one[1]");
    assert!(file.duration_ms > 0.0);
    let announce = r.step("announce").unwrap();
    assert_eq!(announce.children[0].name, "big_summary");
    assert_eq!(announce.usage.total_tokens(), 50);
    assert_eq!(r.step("never").unwrap().status, StepStatus::Skipped);
    let table = r.to_string();
    assert!(table.contains("file_one[2]") && table.contains("succeeded"), "{table}");
}

#[tokio::test]
async fn the_else_branch_and_a_json_report() {
    let tracker = Recorder::new("tracker.create", 0, 0);
    let planner = Arc::new(ScriptedProvider::new("planner"));
    text(&planner, r#"{"tasks": [{"title": "Only"}]}"#, (10, 5));
    let default = Arc::new(ScriptedProvider::new("default"));
    let pipeline = Pipeline::new(
        PipelineDef::from_toml_str(PLAN_TOML).unwrap(),
        runtime(tracker, planner, default.clone()),
    )
    .unwrap();
    let run = pipeline.run(json!({"goal": "small"}), &CallContext::new("r")).await;
    assert!(run.succeeded(), "{}", run.report);
    assert_eq!(run.outputs["small_summary"], r#"only ["Only"]"#);
    assert!(default.requests().is_empty());
    let json = serde_json::to_value(&run.report).unwrap();
    assert_eq!(json["steps"][3]["children"][0]["name"], "small_summary");
    assert_eq!(json["steps"][4]["status"], "skipped");
}

#[tokio::test]
async fn a_failing_step_is_retried_and_a_persistent_failure_stops_the_run() {
    let flaky = Recorder::new("tracker.create", 1, 0);
    let tools = Arc::new(Executor::from_tools([flaky.clone() as Arc<dyn Tool>]).unwrap());
    let def = PipelineDef::new(
        "retry",
        vec![StepDef::tool("create", "tracker.create", json!({"title": "{{input.t}}"})).with_retries(2, 1)],
    );
    let pipeline = Pipeline::new(def, PipelineRuntime::new(tools)).unwrap();
    let run = pipeline.run(json!({"t": "x"}), &CallContext::new("r")).await;
    assert!(run.succeeded(), "{}", run.report);
    let step = run.report.step("create").unwrap();
    assert_eq!(step.attempts, 2);
    assert_eq!(step.error, None);
    assert_eq!(run.outputs["create"]["number"], 2);

    let broken = Recorder::new("tracker.create", usize::MAX, 0);
    let tools = Arc::new(Executor::from_tools([broken.clone() as Arc<dyn Tool>]).unwrap());
    let def = PipelineDef::new(
        "retry",
        vec![
            StepDef::tool("create", "tracker.create", json!({})).with_retries(2, 1),
            StepDef::transform("after", json!("unreached"), None),
        ],
    );
    let run = Pipeline::new(def, PipelineRuntime::new(tools))
        .unwrap()
        .run(json!({}), &CallContext::new("r"))
        .await;
    assert_eq!(run.report.status, StepStatus::Failed);
    let step = run.report.step("create").unwrap();
    assert_eq!((step.status, step.attempts), (StepStatus::Failed, 3));
    assert!(step.error.as_ref().unwrap().contains("flaky failure #3"));
    assert_eq!(broken.calls.lock().unwrap().len(), 3);
    assert_eq!(run.report.step("after").unwrap().status, StepStatus::Skipped);
}

#[tokio::test]
async fn a_step_that_runs_too_long_times_out() {
    let slow = Recorder::new("tracker.create", 0, 10_000);
    let tools = Arc::new(Executor::from_tools([slow as Arc<dyn Tool>]).unwrap());
    let def = PipelineDef::new(
        "slow",
        vec![
            StepDef::tool("create", "tracker.create", json!({}))
                .with_timeout_ms(30)
                .with_retries(1, 0),
        ],
    );
    let run = Pipeline::new(def, PipelineRuntime::new(tools))
        .unwrap()
        .run(json!({}), &CallContext::new("r"))
        .await;
    let step = run.report.step("create").unwrap();
    assert_eq!((step.status, step.attempts), (StepStatus::TimedOut, 2));
    assert!(step.error.as_ref().unwrap().contains("30 ms"));
}

#[tokio::test]
async fn the_pipeline_budget_stops_the_next_prompt_step() {
    let p = Arc::new(ScriptedProvider::new("p"));
    for _ in 0..3 {
        text(&p, "ok", (10, 5));
    }
    let mut def = PipelineDef::new(
        "budget",
        vec![
            StepDef::prompt(
                "one",
                toolplane_pipeline::PromptStep {
                    prompt: "1".into(),
                    ..Default::default()
                },
            ),
            StepDef::prompt(
                "two",
                toolplane_pipeline::PromptStep {
                    prompt: "2".into(),
                    ..Default::default()
                },
            ),
            StepDef::prompt(
                "three",
                toolplane_pipeline::PromptStep {
                    prompt: "3".into(),
                    ..Default::default()
                },
            )
            .with_retries(3, 0),
        ],
    );
    def.budget.max_tokens = Some(30);
    let run = Pipeline::new(
        def,
        PipelineRuntime::new(Arc::new(Executor::new(ToolRegistry::new()))).with_default_provider(p.clone()),
    )
    .unwrap()
    .run(json!({}), &CallContext::new("r"))
    .await;
    assert_eq!(run.report.status, StepStatus::BudgetExceeded);
    assert_eq!(run.report.step("two").unwrap().status, StepStatus::Succeeded);
    let three = run.report.step("three").unwrap();
    assert_eq!(
        (three.status, three.attempts),
        (StepStatus::BudgetExceeded, 1),
        "budgets are not retried"
    );
    assert_eq!(p.requests().len(), 2);
    assert_eq!(run.report.usage.total_tokens(), 30);
}

#[derive(Debug)]
struct NeedsApproval(ToolSpec);

#[async_trait]
impl Tool for NeedsApproval {
    fn spec(&self) -> &ToolSpec {
        &self.0
    }
    async fn call(&self, _args: &Value, _ctx: &CallContext) -> Result<ToolOutput, ToolError> {
        Err(ToolError::new(ToolErrorKind::ApprovalRequired, "ask first"))
    }
}

#[tokio::test]
async fn approvals_and_cancellation_end_steps_with_their_own_status() {
    let tools = Arc::new(
        Executor::from_tools([Arc::new(NeedsApproval(ToolSpec::new("repo.delete", "Deletes."))) as Arc<dyn Tool>])
            .unwrap(),
    );
    let def = PipelineDef::new(
        "guarded",
        vec![StepDef::tool("delete", "repo.delete", json!({})).with_retries(3, 0)],
    );
    let pipeline = Pipeline::new(def, PipelineRuntime::new(tools)).unwrap();
    let run = pipeline.run(json!({}), &CallContext::new("r")).await;
    let step = run.report.step("delete").unwrap();
    assert_eq!((step.status, step.attempts), (StepStatus::NeedsApproval, 1));

    let ctx = CallContext::new("r");
    ctx.cancel.cancel();
    let run = pipeline.run(json!({}), &ctx).await;
    assert_eq!(run.report.status, StepStatus::Cancelled);
}

#[tokio::test]
async fn when_conditions_built_in_code_skip_steps() {
    let tracker = Recorder::new("tracker.create", 0, 0);
    let def = PipelineDef::new(
        "cond",
        vec![
            StepDef::transform("count", json!("{{input.n}}"), None),
            StepDef::tool("create", "tracker.create", json!({"n": "{{steps.count}}"})).when(Condition::GreaterThan {
                path: "steps.count".into(),
                value: 5.0,
            }),
            StepDef::branch(
                "pick",
                Condition::Equals {
                    path: "input.mode".into(),
                    value: json!("fast"),
                },
                vec![StepDef::transform("fast", json!(1), None)],
                vec![],
            ),
        ],
    );
    let pipeline = Pipeline::new(
        def,
        PipelineRuntime::new(Arc::new(
            Executor::from_tools([tracker.clone() as Arc<dyn Tool>]).unwrap(),
        )),
    )
    .unwrap();
    let run = pipeline
        .run(json!({"n": 3, "mode": "slow"}), &CallContext::new("r"))
        .await;
    assert!(run.succeeded());
    assert_eq!(run.report.step("create").unwrap().status, StepStatus::Skipped);
    assert_eq!(run.outputs["pick"], Value::Null);
    let run = pipeline
        .run(json!({"n": 9, "mode": "fast"}), &CallContext::new("r"))
        .await;
    assert_eq!(run.outputs["create"]["created"], json!({"n": 9}));
    assert_eq!(run.outputs["fast"], 1);
}

#[test]
fn bad_definitions_get_errors_naming_the_place() {
    let e =
        PipelineDef::from_yaml_str("name: x\nsteps:\n  - name: a\n    tool: {name: t}\n    retry: 3\n").unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, PipelineError::Parse { line: Some(5), .. }), "{msg}");
    assert!(msg.contains("retry"), "{msg}");

    let e =
        PipelineDef::from_yaml_str("name: x\nsteps:\n  - name: a\n    tool: {name: t}\n    transform: {input: 1}\n")
            .unwrap_err();
    assert!(e.to_string().contains("exactly one of"), "{e}");

    let e = PipelineDef::from_toml_str("name = \"x\"\n[[steps]]\nname = \"a\"\ntool = { name = 5 }\n").unwrap_err();
    assert!(matches!(e, PipelineError::Parse { line: Some(4), .. }), "{e}");

    let e = PipelineDef::from_yaml_str(
        "name: x\nsteps:\n  - name: a\n    transform: {input: 1}\n  - name: a\n    transform: {input: 2}\n",
    )
    .unwrap_err();
    assert!(e.to_string().contains("step `a`: two steps share this name"), "{e}");

    let e =
        PipelineDef::from_yaml_str("name: x\nsteps:\n  - name: a\n    prompt: {prompt: \"hi {{input\"}\n").unwrap_err();
    assert!(e.to_string().contains("never closed"), "{e}");

    let e = PipelineDef::from_yaml_str(
        "name: x\nsteps:\n  - name: m\n    map: {over: xs, concurrency: 0, step: {name: i, transform: {input: 1}}}\n",
    )
    .unwrap_err();
    assert!(e.to_string().contains("concurrency"), "{e}");

    let runtime = PipelineRuntime::new(Arc::new(Executor::new(ToolRegistry::new())));
    let e = Pipeline::new(
        PipelineDef::new("x", vec![StepDef::tool("a", "nope", json!({}))]),
        runtime.clone(),
    )
    .unwrap_err();
    assert_eq!(e.to_string(), "step `a`: no tool is named `nope`");
    let e = Pipeline::new(
        PipelineDef::new("x", vec![StepDef::transform("a", json!(1), Some("missing"))]),
        runtime.clone(),
    )
    .unwrap_err();
    assert!(e.to_string().contains("no transform function is named `missing`"));
    let e = Pipeline::new(
        PipelineDef::new(
            "x",
            vec![StepDef::prompt(
                "a",
                toolplane_pipeline::PromptStep {
                    prompt: "p".into(),
                    ..Default::default()
                },
            )],
        ),
        runtime,
    )
    .unwrap_err();
    assert!(e.to_string().contains("no default provider"), "{e}");

    let dir = std::env::temp_dir().join(format!("tp-pipeline-{}.yaml", std::process::id()));
    std::fs::write(&dir, "name: [").unwrap();
    let e = PipelineDef::from_path(&dir).unwrap_err();
    assert!(e.to_string().contains(dir.to_str().unwrap()), "{e}");
    std::fs::remove_file(&dir).unwrap();
}

#[test]
fn the_shipped_example_pipeline_is_valid() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/data/triage.yaml");
    let def = PipelineDef::from_path(path).unwrap();
    let kinds: Vec<&str> = def.all_steps().iter().map(|s| s.kind.as_str()).collect();
    assert_eq!(
        kinds,
        ["prompt", "transform", "map", "tool", "branch", "prompt", "transform"]
    );
}

/// Deletes, but only with a token naming the exact arguments (the shape of
/// toolplane-security's approvals).
#[derive(Debug, Default)]
struct GuardedDelete {
    spec: Option<ToolSpec>,
    deleted: Mutex<Vec<Value>>,
}

#[async_trait]
impl Tool for GuardedDelete {
    fn spec(&self) -> &ToolSpec {
        self.spec.as_ref().unwrap()
    }
    async fn call(&self, args: &Value, ctx: &CallContext) -> Result<ToolOutput, ToolError> {
        let expected = format!("ok:{args}");
        match ctx.extensions.get::<toolplane_core::ApprovalToken>() {
            Some(t) if t.0 == expected => {
                self.deleted.lock().unwrap().push(args.clone());
                Ok(ToolOutput::json(json!({"deleted": args["what"]})))
            }
            _ => Err(
                ToolError::new(ToolErrorKind::ApprovalRequired, "deleting needs a human")
                    .with_details(json!({"token_hint": expected})),
            ),
        }
    }
}

#[tokio::test]
async fn a_pipeline_waiting_for_approvals_resumes_after_a_restart() {
    use std::collections::HashMap;
    use toolplane_core::{ApprovalToken, ToolCall};
    use toolplane_pipeline::{ApprovalDecision, PipelineRun, PromptStep};

    let make = |provider: Arc<ScriptedProvider>| {
        let delete = Arc::new(GuardedDelete {
            spec: Some(ToolSpec::new("repo.delete", "Deletes a thing.")),
            ..Default::default()
        });
        let def = PipelineDef::new(
            "cleanup",
            vec![
                StepDef::transform("target", json!("{{input.branch}}"), None),
                StepDef::tool("delete_branch", "repo.delete", json!({"what": "{{steps.target}}"})),
                StepDef::prompt(
                    "tidy",
                    PromptStep {
                        prompt: "Delete the stale tag.".into(),
                        tools: vec!["repo.*".into()],
                        ..Default::default()
                    },
                ),
                StepDef::transform(
                    "done",
                    json!("deleted {{steps.delete_branch.deleted}}; {{steps.tidy}}"),
                    None,
                ),
            ],
        );
        let runtime = PipelineRuntime::new(Arc::new(
            Executor::from_tools([delete.clone() as Arc<dyn Tool>]).unwrap(),
        ))
        .with_default_provider(provider);
        (Pipeline::new(def, runtime).unwrap(), delete)
    };

    // Process one: the tool step waits for approval; nothing after it runs.
    let (pipeline, _) = make(Arc::new(ScriptedProvider::new("p")));
    let input = json!({"branch": "old-branch"});
    let first = pipeline.run(input.clone(), &CallContext::new("r1")).await;
    assert_eq!(first.report.status, StepStatus::NeedsApproval);
    let pending: Vec<_> = first.pending_approvals().into_iter().cloned().collect();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].call.name, "repo.delete");
    let token = pending[0].request.as_ref().unwrap()["token_hint"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(first.report.step("tidy").unwrap().status, StepStatus::Skipped);
    let saved = serde_json::to_string(&first).unwrap();
    drop((pipeline, first));

    // Process two: approve; the prompt step's own tool loop then pauses on its delete.
    let provider = Arc::new(ScriptedProvider::new("p").with_tool_calls(vec![ToolCall::new(
        "t1",
        "repo.delete",
        r#"{"what":"v0-tag"}"#,
    )]));
    provider.push(Ok(toolplane_core::ChatResponse::new(
        "p",
        "m",
        toolplane_core::Message::assistant("tag removed"),
        toolplane_core::StopReason::EndTurn,
    )));
    let (pipeline, delete) = make(provider.clone());
    let first: PipelineRun = serde_json::from_str(&saved).unwrap();
    let decisions = HashMap::from([(
        pending[0].call.id.clone(),
        ApprovalDecision::Approve {
            token: ApprovalToken(token),
        },
    )]);
    let second = pipeline
        .resume(input.clone(), &first, &decisions, &CallContext::new("r2"))
        .await;
    assert_eq!(second.report.status, StepStatus::NeedsApproval, "{}", second.report);
    assert_eq!(second.outputs["delete_branch"], json!({"deleted": "old-branch"}));
    assert_eq!(
        second.report.step("delete_branch").unwrap().status,
        StepStatus::Succeeded
    );
    let tidy = second.report.step("tidy").unwrap();
    assert_eq!(tidy.status, StepStatus::NeedsApproval);
    assert!(tidy.paused_run.is_some());
    let waiting: Vec<_> = second.pending_approvals().into_iter().cloned().collect();
    assert_eq!(waiting[0].call.id, "t1");

    // Resuming without a decision leaves it waiting; with one, the run completes.
    let still = pipeline
        .resume(input.clone(), &second, &HashMap::new(), &CallContext::new("r3"))
        .await;
    assert_eq!(still.report.step("tidy").unwrap().status, StepStatus::NeedsApproval);
    let token = waiting[0].request.as_ref().unwrap()["token_hint"]
        .as_str()
        .unwrap()
        .to_string();
    let decisions = HashMap::from([(
        "t1".to_string(),
        ApprovalDecision::Approve {
            token: ApprovalToken(token),
        },
    )]);
    let third = pipeline
        .resume(input, &still, &decisions, &CallContext::new("r4"))
        .await;
    assert!(third.succeeded(), "{}", third.report);
    assert_eq!(third.outputs["done"], "deleted old-branch; tag removed");
    assert_eq!(
        *delete.deleted.lock().unwrap(),
        [json!({"what": "old-branch"}), json!({"what": "v0-tag"})],
        "each delete ran once, after its approval"
    );
    assert_eq!(
        provider.requests().len(),
        2,
        "the model was asked once before and once after the approval"
    );
}

#[tokio::test]
async fn a_prompt_step_offers_the_best_skills_and_narrows_tools_once_one_is_active() {
    use toolplane_core::ToolCall;
    use toolplane_pipeline::PromptStep;
    use toolplane_skills::{Skill, SkillSet};

    let skill = |name: &str, description: &str, extra: &str| {
        Skill::parse(
            format!("{name}/SKILL.md"),
            &format!("---\nname: {name}\ndescription: {description}\n{extra}---\nInstructions of {name}."),
            None,
        )
        .unwrap()
    };
    let skills = SkillSet::from_skills([
        skill(
            "issue-triage",
            "Triage tracker issues - list them and label duplicates.",
            "allowed-tools: [tracker.list]\n",
        ),
        skill("release-notes", "Write release notes from merged changes.", ""),
        skill("sql-reports", "Query the warehouse with SQL.", ""),
    ])
    .unwrap();
    let list = Recorder::new("tracker.list", 0, 0);
    let create = Recorder::new("tracker.create", 0, 0);
    let tools = Executor::from_tools([list.clone() as Arc<dyn Tool>, create.clone()]).unwrap();
    let provider = Arc::new(
        ScriptedProvider::new("p")
            .with_tool_calls(vec![ToolCall::new(
                "a",
                "skills.activate",
                r#"{"name":"issue-triage"}"#,
            )])
            .with_tool_calls(vec![
                ToolCall::new("c", "tracker.create", "{}"),
                ToolCall::new("l", "tracker.list", "{}"),
            ])
            .with_text("triaged"),
    );
    let def = PipelineDef::new(
        "skilled",
        vec![StepDef::prompt(
            "triage",
            PromptStep {
                prompt: "Please triage the new tracker issues".into(),
                tools: vec!["tracker.*".into()],
                skills: Some(1),
                ..Default::default()
            },
        )],
    );
    let runtime = PipelineRuntime::new(Arc::new(tools))
        .with_default_provider(provider.clone())
        .with_skills(Arc::new(skills));
    let run = Pipeline::new(def, runtime)
        .unwrap()
        .run(json!({}), &CallContext::new("r"))
        .await;
    assert!(run.succeeded(), "{}", run.report);

    let reqs = provider.requests();
    let system = reqs[0].messages[0].text();
    assert!(
        system.contains("issue-triage: Triage tracker issues - list"),
        "{system}"
    );
    assert!(
        !system.contains("release-notes") && !system.contains("Instructions of"),
        "top 1, names only: {system}"
    );
    let offered = |i: usize| -> Vec<String> { reqs[i].tools.iter().map(|t| t.name.clone()).collect() };
    assert_eq!(
        offered(0),
        // The registry offers its tools sorted by name.
        [
            "tracker.create",
            "tracker.list",
            "skills.activate",
            "skills.read_resource"
        ]
    );
    assert_eq!(offered(1), ["tracker.list", "skills.activate", "skills.read_resource"]);
    let results: Vec<_> = reqs[2].messages.last().unwrap().tool_call_results().cloned().collect();
    assert!(results[0].is_error && results[0].content.contains("permission_denied"));
    assert!(!results[1].is_error);
    assert!(create.calls.lock().unwrap().is_empty());
    assert_eq!(list.calls.lock().unwrap().len(), 1);
}
