//! Running a pipeline's steps: conditions, attempts, timeouts, budgets, and the report.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::future::BoxFuture;
use futures_util::{FutureExt, StreamExt, stream};
use serde_json::{Map, Value, json};
use toolplane_core::{CallContext, ToolCall, ToolErrorKind, Usage};

use super::definition::{Budget, MapStep, StepDef, StepKind};
use super::ledger::{Ledger, Spent};
use super::report::{RunReport, StepReport, StepStatus};
use super::template::{lookup, render_value};
use super::{Pipeline, PipelineRun};
use crate::{ApprovalDecision, PendingApproval, RunState};

/// A run to continue, and the host's decisions on its pending calls.
pub(super) struct Resume<'a> {
    pub(super) previous: &'a PipelineRun,
    pub(super) decisions: &'a HashMap<String, ApprovalDecision>,
}

/// The outcome of one attempt (or of a whole step).
pub(super) struct Failure {
    pub(super) status: StepStatus,
    pub(super) message: String,
    pub(super) paused_run: Option<Box<RunState>>,
    pub(super) approvals: Vec<PendingApproval>,
}

impl Failure {
    pub(super) fn new(status: StepStatus, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            paused_run: None,
            approvals: Vec::new(),
        }
    }
}

/// What one attempt produced; what it spent is on the step's ledger.
pub(super) struct Attempt {
    pub(super) result: Result<Value, Failure>,
    pub(super) children: Vec<StepReport>,
}

impl Attempt {
    pub(super) fn done(result: Result<Value, Failure>) -> Self {
        Self {
            result,
            children: Vec::new(),
        }
    }
}

/// Where a step runs: the ledger it charges, and the map items it is inside
/// (`[2]`, `[2][0]` for nested maps; empty outside maps), which make its
/// report name and its tool call ids unique.
#[derive(Clone)]
pub(super) struct Frame {
    pub(super) ledger: Arc<Ledger>,
    pub(super) items: String,
}

impl Frame {
    /// The name of `step` run here: `name`, or `name[i]` inside map item `i`.
    pub(super) fn name_of(&self, step: &StepDef) -> String {
        format!("{}{}", step.name, self.items)
    }
}

pub(super) struct Exec<'a> {
    pub(super) pipeline: &'a Pipeline,
    pub(super) ctx: &'a CallContext,
    pub(super) resume: Option<Resume<'a>>,
}

pub(super) async fn run_pipeline(
    pipeline: &Pipeline,
    input: Value,
    ctx: &CallContext,
    resume: Option<Resume<'_>>,
) -> PipelineRun {
    let started = Instant::now();
    let steps = resume.as_ref().map_or_else(Map::new, |r| r.previous.outputs.clone());
    // A resumed run goes on from the totals of its earlier parts (the time
    // spent waiting for decisions is not counted).
    let prior = resume
        .as_ref()
        .map_or_else(Spent::default, |r| Spent::of_run(&r.previous.report));
    let earlier_ms = resume.as_ref().map_or(0.0, |r| r.previous.report.duration_ms);
    let root = Ledger::root(pipeline.def.budget.clone(), prior);
    let frame = Frame {
        ledger: Arc::clone(&root),
        items: String::new(),
    };
    let exec = Exec { pipeline, ctx, resume };
    let previous = exec.resume.as_ref().map(|r| r.previous.report.steps.as_slice());
    let mut data = json!({"input": input, "steps": steps});
    let (reports, outcome) = exec.run_steps(&pipeline.def.steps, &mut data, &frame, previous).await;
    let spent = root.spent();
    let status = match outcome {
        Ok(_) => StepStatus::Succeeded,
        Err(status) => status,
    };
    let outputs = match data.get_mut("steps").map(Value::take) {
        Some(Value::Object(m)) => m,
        _ => Map::new(),
    };
    PipelineRun {
        outputs,
        report: RunReport {
            pipeline: pipeline.def.name.clone(),
            status,
            duration_ms: earlier_ms + started.elapsed().as_secs_f64() * 1e3,
            usage: spent.usage,
            cost_usd: spent.cost_usd,
            provider_calls: spent.calls,
            steps: reports,
        },
    }
}

pub(super) fn skipped(name: String, step: &StepDef, why: &str) -> StepReport {
    StepReport {
        name,
        kind: step.kind.as_str().into(),
        status: StepStatus::Skipped,
        attempts: 0,
        duration_ms: 0.0,
        usage: Usage::default(),
        cost_usd: 0.0,
        provider_calls: 0,
        error: Some(why.to_string()).filter(|w| !w.is_empty()),
        paused_run: None,
        approvals: Vec::new(),
        output: None,
        children: Vec::new(),
    }
}

/// Fills a report's spending from its step's ledger.
pub(super) fn record_spent(report: &mut StepReport, ledger: &Ledger) {
    let spent = ledger.spent();
    report.usage = spent.usage;
    report.cost_usd = spent.cost_usd;
    report.provider_calls = spent.calls;
}

type StepOutcome = (StepReport, Result<Option<Value>, StepStatus>);

impl Exec<'_> {
    /// The budget a step's own ledger enforces: over all its attempts, and
    /// for a branch or map over everything nested in it.
    pub(super) fn step_budget(&self, step: &StepDef) -> Budget {
        step.options.budget.clone()
    }

    /// Runs steps in order, storing outputs; the first failure skips the rest.
    /// With `previous` (the reports of a run being resumed), a step that
    /// succeeded keeps its output and report, a step that waited for approval
    /// continues, and the others run as usual.
    /// Returns the reports and the last output (or the failing status).
    pub(super) fn run_steps<'s>(
        &'s self,
        steps: &'s [StepDef],
        data: &'s mut Value,
        frame: &'s Frame,
        previous: Option<&'s [StepReport]>,
    ) -> BoxFuture<'s, (Vec<StepReport>, Result<Value, StepStatus>)> {
        async move {
            let mut reports = Vec::with_capacity(steps.len());
            let mut last = Value::Null;
            let mut failed: Option<StepStatus> = None;
            for step in steps {
                let name = frame.name_of(step);
                if let Some(status) = failed {
                    reports.push(skipped(
                        name,
                        step,
                        &format!("an earlier step ended {}", status.as_str()),
                    ));
                    continue;
                }
                let prev = previous.and_then(|p| p.iter().find(|r| r.name == name));
                let (report, output) = self.run_or_resume(step, data, frame, prev).await;
                match output {
                    Ok(Some(value)) => {
                        if let Some(Value::Object(outputs)) = data.get_mut("steps") {
                            outputs.insert(step.name.clone(), value.clone());
                        }
                        last = value;
                    }
                    Ok(None) => {}
                    Err(status) => failed = Some(status),
                }
                reports.push(report);
            }
            (reports, failed.map_or(Ok(last), Err))
        }
        .boxed()
    }

    /// Keeps a step that succeeded before, continues one that waited, runs the others.
    pub(super) async fn run_or_resume(
        &self,
        step: &StepDef,
        data: &mut Value,
        frame: &Frame,
        prev: Option<&StepReport>,
    ) -> StepOutcome {
        match prev {
            Some(p) if p.status == StepStatus::Succeeded => {
                // Outputs inside map items are kept in their reports; others by name.
                let kept = p
                    .output
                    .clone()
                    .or_else(|| data.get("steps").and_then(|s| s.get(&step.name)).cloned());
                match kept {
                    Some(out) => (p.clone(), Ok(Some(out))),
                    None => self.run_step(step, data, frame).await,
                }
            }
            Some(p) if p.status == StepStatus::NeedsApproval => self.continue_step(step, p, data, frame).await,
            _ => self.run_step(step, data, frame).await,
        }
    }

    /// One step with its condition, attempts, timeout and retries. `Ok(None)`: skipped.
    pub(super) fn run_step<'s>(
        &'s self,
        step: &'s StepDef,
        data: &'s mut Value,
        frame: &'s Frame,
    ) -> BoxFuture<'s, StepOutcome> {
        async move {
            let name = frame.name_of(step);
            if let Some(cond) = &step.options.when {
                if !cond.holds(data) {
                    return (skipped(name, step, ""), Ok(None));
                }
            }
            let started = Instant::now();
            let inner = Frame {
                ledger: Ledger::child(&frame.ledger, &name, self.step_budget(step), Spent::default()),
                items: frame.items.clone(),
            };
            let mut report = skipped(name, step, "");
            let mut last_failure = None;
            let max_attempts = step.options.retries.saturating_add(1);
            for attempt in 0..max_attempts {
                if attempt > 0 {
                    let factor = 1u64 << (attempt - 1).min(16);
                    let delay = Duration::from_millis(step.options.retry_delay_ms.saturating_mul(factor));
                    if !delay.is_zero() {
                        tokio::time::sleep(delay).await;
                    }
                }
                report.attempts = attempt + 1;
                let result = if self.ctx.cancel.is_cancelled() {
                    Attempt::done(Err(Failure::new(StepStatus::Cancelled, "the run was cancelled")))
                } else if self.ctx.is_expired() {
                    Attempt::done(Err(Failure::new(StepStatus::TimedOut, "the run's deadline passed")))
                } else if let Some(over) = inner.ledger.exhausted() {
                    Attempt::done(Err(Failure::new(StepStatus::BudgetExceeded, over)))
                } else {
                    let work = self.run_kind(step, data, attempt, &inner);
                    match step.options.timeout_ms {
                        None => work.await,
                        Some(ms) => match tokio::time::timeout(Duration::from_millis(ms), work).await {
                            Ok(a) => a,
                            Err(_) => Attempt::done(Err(Failure::new(
                                StepStatus::TimedOut,
                                format!("the attempt took longer than {ms} ms"),
                            ))),
                        },
                    }
                };
                record_spent(&mut report, &inner.ledger);
                report.children = result.children;
                match result.result {
                    Ok(value) => {
                        report.status = StepStatus::Succeeded;
                        report.error = None;
                        report.duration_ms = started.elapsed().as_secs_f64() * 1e3;
                        if !frame.items.is_empty() {
                            // Inside a map item no one stores the output by name; a resume needs it.
                            report.output = Some(value.clone());
                        }
                        return (report, Ok(Some(value)));
                    }
                    Err(failure) => {
                        let final_status = matches!(
                            failure.status,
                            StepStatus::NeedsApproval | StepStatus::Cancelled | StepStatus::BudgetExceeded
                        );
                        last_failure = Some(failure);
                        if final_status {
                            break;
                        }
                    }
                }
            }
            let failure = last_failure.unwrap_or_else(|| Failure::new(StepStatus::Failed, "no attempt was made"));
            report.status = failure.status;
            report.error = Some(failure.message);
            report.paused_run = failure.paused_run;
            report.approvals = failure.approvals;
            report.duration_ms = started.elapsed().as_secs_f64() * 1e3;
            (report, Err(failure.status))
        }
        .boxed()
    }

    fn run_kind<'s>(
        &'s self,
        step: &'s StepDef,
        data: &'s mut Value,
        attempt: u32,
        frame: &'s Frame,
    ) -> BoxFuture<'s, Attempt> {
        async move {
            match &step.kind {
                StepKind::Prompt(p) => self.run_prompt(step, p, data, frame).await,
                StepKind::Tool(t) => {
                    let args = match render_value(&t.args, data) {
                        Ok(a) => a,
                        Err(m) => return Attempt::done(Err(Failure::new(StepStatus::Failed, format!("args: {m}")))),
                    };
                    let call = ToolCall::from_value(format!("{}-{}", frame.name_of(step), attempt + 1), &t.name, &args);
                    self.call_tool(&call, self.ctx).await
                }
                StepKind::Transform(t) => {
                    let result = render_value(&t.input, data)
                        .map_err(|m| format!("input: {m}"))
                        .and_then(|input| match &t.function {
                            None => Ok(input),
                            Some(name) => match self.pipeline.runtime.functions.get(name) {
                                Some(f) => f(input).map_err(|m| format!("function `{name}`: {m}")),
                                None => Err(format!("no transform function is named `{name}`")),
                            },
                        })
                        .map_err(|m| Failure::new(StepStatus::Failed, m));
                    Attempt::done(result)
                }
                StepKind::Branch(b) => {
                    let chosen = if b.condition.holds(data) { &b.then } else { &b.otherwise };
                    let (children, outcome) = self.run_steps(chosen, data, frame, None).await;
                    Attempt {
                        result: outcome.map_err(|s| Failure::new(s, "a step of the branch did not succeed")),
                        children,
                    }
                }
                StepKind::Map(m) => self.run_map(m, data, frame, None).await,
            }
        }
        .boxed()
    }

    /// Runs the map's step for every item; with `previous` (the map's report
    /// in a run being resumed), items that succeeded keep their output and
    /// items that waited continue.
    pub(super) async fn run_map(
        &self,
        m: &MapStep,
        data: &Value,
        frame: &Frame,
        previous: Option<&StepReport>,
    ) -> Attempt {
        let items = match lookup(data, &m.over) {
            Some(Value::Array(items)) => items.clone(),
            Some(other) => {
                return Attempt::done(Err(Failure::new(
                    StepStatus::Failed,
                    format!("`{}` holds {}, not a list", m.over, kind_of(other)),
                )));
            }
            None => {
                return Attempt::done(Err(Failure::new(
                    StepStatus::Failed,
                    format!("nothing at `{}`", m.over),
                )));
            }
        };
        let mut futures = Vec::with_capacity(items.len());
        for (index, item) in items.into_iter().enumerate() {
            let mut item_data = data.clone();
            if let Value::Object(o) = &mut item_data {
                o.insert("item".into(), item);
                o.insert("index".into(), json!(index));
            }
            let inner: &StepDef = &m.step;
            let item_frame = Frame {
                ledger: Arc::clone(&frame.ledger),
                items: format!("{}[{index}]", frame.items),
            };
            let prev = previous.and_then(|p| {
                let name = item_frame.name_of(inner);
                p.children.iter().find(|c| c.name == name)
            });
            futures.push(async move {
                let mut item_data = item_data;
                self.run_or_resume(inner, &mut item_data, &item_frame, prev).await
            });
        }
        let results: Vec<_> = stream::iter(futures).buffered(m.concurrency.max(1)).collect().await;
        let mut outputs = Vec::with_capacity(results.len());
        let mut children = Vec::with_capacity(results.len());
        // A failure outranks a wait: approving calls of a run that failed anyway helps no one.
        let mut failure: Option<Failure> = None;
        for (report, out) in results {
            match out {
                Ok(v) => outputs.push(v.unwrap_or(Value::Null)),
                Err(status) => {
                    let replaces = match &failure {
                        None => true,
                        Some(f) => f.status == StepStatus::NeedsApproval && status != StepStatus::NeedsApproval,
                    };
                    if replaces {
                        failure = Some(Failure::new(
                            status,
                            format!("item `{}` ended {}", report.name, status.as_str()),
                        ));
                    }
                }
            }
            children.push(report);
        }
        if failure.as_ref().is_none_or(|f| f.status != StepStatus::NeedsApproval) {
            // Item outputs are kept only while the map waits: the map's own output has them.
            strip_outputs(&mut children);
        }
        Attempt {
            result: failure.map_or(Ok(Value::Array(outputs)), Err),
            children,
        }
    }

    /// Runs a tool call, with an approval token when the host gave one.
    pub(super) async fn call_tool(&self, call: &ToolCall, ctx: &CallContext) -> Attempt {
        let result = match self.pipeline.runtime.executor.execute(call, ctx).await {
            Ok(out) if out.is_error => Err(Failure::new(StepStatus::Failed, out.to_model_text())),
            Ok(out) => Ok(out.content),
            Err(e) => {
                let status = match e.kind() {
                    ToolErrorKind::ApprovalRequired => StepStatus::NeedsApproval,
                    ToolErrorKind::Cancelled => StepStatus::Cancelled,
                    ToolErrorKind::Timeout => StepStatus::TimedOut,
                    _ => StepStatus::Failed,
                };
                let mut failure = Failure::new(status, e.to_string());
                if status == StepStatus::NeedsApproval {
                    failure.approvals = vec![PendingApproval {
                        call: call.clone(),
                        message: e.message().to_string(),
                        request: e.details().cloned(),
                    }];
                }
                Err(failure)
            }
        };
        Attempt::done(result)
    }
}

fn strip_outputs(reports: &mut [StepReport]) {
    for r in reports {
        r.output = None;
        strip_outputs(&mut r.children);
    }
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}
