//! Running a pipeline's steps: conditions, attempts, timeouts, budgets, and the report.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use futures_util::future::BoxFuture;
use futures_util::{FutureExt, StreamExt, stream};
use serde_json::{Map, Value, json};
use toolplane_core::{CallContext, ToolCall, ToolErrorKind, Usage};

use super::definition::{Budget, MapStep, StepDef, StepKind};
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

pub(super) struct Attempt {
    pub(super) result: Result<Value, Failure>,
    pub(super) usage: Usage,
    pub(super) cost_usd: f64,
    pub(super) children: Vec<StepReport>,
}

impl Attempt {
    pub(super) fn done(result: Result<Value, Failure>) -> Self {
        Self {
            result,
            usage: Usage::default(),
            cost_usd: 0.0,
            children: Vec::new(),
        }
    }
}

pub(super) struct Exec<'a> {
    pub(super) pipeline: &'a Pipeline,
    pub(super) ctx: &'a CallContext,
    spent: Mutex<(Usage, f64)>,
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
    let exec = Exec {
        pipeline,
        ctx,
        spent: Mutex::new((Usage::default(), 0.0)),
        resume,
    };
    let mut data = json!({"input": input, "steps": steps});
    let (reports, outcome) = exec.run_top_level(&mut data).await;
    let (usage, cost_usd) = exec.spent();
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
            duration_ms: started.elapsed().as_secs_f64() * 1e3,
            usage,
            cost_usd,
            steps: reports,
        },
    }
}

fn skipped(step: &StepDef, why: &str) -> StepReport {
    StepReport {
        name: step.name.clone(),
        kind: step.kind.as_str().into(),
        status: StepStatus::Skipped,
        attempts: 0,
        duration_ms: 0.0,
        usage: Usage::default(),
        cost_usd: 0.0,
        error: Some(why.to_string()).filter(|w| !w.is_empty()),
        paused_run: None,
        approvals: Vec::new(),
        children: Vec::new(),
    }
}

pub(super) fn min_opt<T: PartialOrd>(a: Option<T>, b: Option<T>) -> Option<T> {
    match (a, b) {
        (Some(a), Some(b)) => Some(if b < a { b } else { a }),
        (a, b) => a.or(b),
    }
}

impl Exec<'_> {
    fn spent(&self) -> (Usage, f64) {
        *self.spent.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(super) fn charge(&self, usage: &Usage, cost: f64) {
        let mut spent = self.spent.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        spent.0.add(usage);
        spent.1 += cost;
    }

    /// What is left of the pipeline budget, as a budget.
    pub(super) fn remaining(&self) -> Budget {
        let (usage, cost) = self.spent();
        let b = &self.pipeline.def.budget;
        Budget {
            max_tokens: b.max_tokens.map(|m| m.saturating_sub(usage.total_tokens())),
            max_cost_usd: b.max_cost_usd.map(|m| (m - cost).max(0.0)),
            max_steps: None,
        }
    }

    /// The pipeline's own steps. When resuming, steps that succeeded keep
    /// their output and report, and steps that waited for approval continue
    /// with the host's decisions; the rest run as usual.
    async fn run_top_level(&self, data: &mut Value) -> (Vec<StepReport>, Result<Value, StepStatus>) {
        let Some(resume) = &self.resume else {
            return self.run_steps(&self.pipeline.def.steps, data).await;
        };
        let mut reports = Vec::new();
        let mut last = Value::Null;
        let mut failed: Option<StepStatus> = None;
        for step in &self.pipeline.def.steps {
            if let Some(status) = failed {
                reports.push(skipped(step, &format!("an earlier step ended {}", status.as_str())));
                continue;
            }
            let previous = resume.previous.report.steps.iter().find(|r| r.name == step.name);
            let (report, output) = match previous {
                Some(prev)
                    if prev.status == StepStatus::Succeeded && resume.previous.outputs.contains_key(&step.name) =>
                {
                    let out = resume.previous.outputs.get(&step.name).cloned();
                    (prev.clone(), Ok(out))
                }
                Some(prev) if prev.status == StepStatus::NeedsApproval => self.continue_step(step, prev).await,
                _ => self.run_step(step, data).await,
            };
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

    async fn continue_step(
        &self,
        step: &StepDef,
        previous: &StepReport,
    ) -> (StepReport, Result<Option<Value>, StepStatus>) {
        let started = Instant::now();
        let attempt = self.resume_step(step, previous).await;
        let mut report = previous.clone();
        report.usage.add(&attempt.usage);
        report.cost_usd += attempt.cost_usd;
        report.duration_ms += started.elapsed().as_secs_f64() * 1e3;
        report.paused_run = None;
        report.approvals = Vec::new();
        match attempt.result {
            Ok(value) => {
                report.status = StepStatus::Succeeded;
                report.error = None;
                (report, Ok(Some(value)))
            }
            Err(failure) => {
                report.status = failure.status;
                report.error = Some(failure.message);
                report.paused_run = failure.paused_run;
                report.approvals = failure.approvals;
                (report, Err(failure.status))
            }
        }
    }

    /// Runs steps in order, storing outputs; the first failure skips the rest.
    /// Returns the reports and the last output (or the failing status).
    fn run_steps<'s>(
        &'s self,
        steps: &'s [StepDef],
        data: &'s mut Value,
    ) -> BoxFuture<'s, (Vec<StepReport>, Result<Value, StepStatus>)> {
        async move {
            let mut reports = Vec::with_capacity(steps.len());
            let mut last = Value::Null;
            let mut failed: Option<StepStatus> = None;
            for step in steps {
                if let Some(status) = failed {
                    reports.push(skipped(step, &format!("an earlier step ended {}", status.as_str())));
                    continue;
                }
                let (report, output) = self.run_step(step, data).await;
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

    /// One step with its condition, attempts, timeout and retries. `Ok(None)`: skipped.
    fn run_step<'s>(
        &'s self,
        step: &'s StepDef,
        data: &'s mut Value,
    ) -> BoxFuture<'s, (StepReport, Result<Option<Value>, StepStatus>)> {
        async move {
            if let Some(cond) = &step.options.when {
                if !cond.holds(data) {
                    return (skipped(step, ""), Ok(None));
                }
            }
            let started = Instant::now();
            let mut report = skipped(step, "");
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
                } else if let Some(over) = self.budget_exhausted() {
                    Attempt::done(Err(Failure::new(StepStatus::BudgetExceeded, over)))
                } else {
                    let work = self.run_kind(step, data, attempt);
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
                report.usage.add(&result.usage);
                report.cost_usd += result.cost_usd;
                report.children = result.children;
                match result.result {
                    Ok(value) => {
                        report.status = StepStatus::Succeeded;
                        report.error = None;
                        report.duration_ms = started.elapsed().as_secs_f64() * 1e3;
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

    fn budget_exhausted(&self) -> Option<String> {
        let left = self.remaining();
        if left.max_tokens == Some(0) {
            return Some("the pipeline's token budget is used up".into());
        }
        if left.max_cost_usd.is_some_and(|c| c <= 0.0) {
            return Some("the pipeline's cost budget is used up".into());
        }
        None
    }

    fn run_kind<'s>(&'s self, step: &'s StepDef, data: &'s mut Value, attempt: u32) -> BoxFuture<'s, Attempt> {
        async move {
            match &step.kind {
                StepKind::Prompt(p) => self.run_prompt(step, p, data).await,
                StepKind::Tool(t) => {
                    let args = match render_value(&t.args, data) {
                        Ok(a) => a,
                        Err(m) => return Attempt::done(Err(Failure::new(StepStatus::Failed, format!("args: {m}")))),
                    };
                    let call = ToolCall::from_value(format!("{}-{}", step.name, attempt + 1), &t.name, &args);
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
                    let (children, outcome) = self.run_steps(chosen, data).await;
                    let mut usage = Usage::default();
                    let mut cost_usd = 0.0;
                    for c in &children {
                        usage.add(&c.usage);
                        cost_usd += c.cost_usd;
                    }
                    Attempt {
                        result: outcome.map_err(|s| Failure::new(s, "a step of the branch did not succeed")),
                        usage,
                        cost_usd,
                        children,
                    }
                }
                StepKind::Map(m) => self.run_map(m, data).await,
            }
        }
        .boxed()
    }

    async fn run_map(&self, m: &MapStep, data: &Value) -> Attempt {
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
            futures.push(async move {
                let mut item_data = item_data;
                let (mut report, out) = self.run_step(inner, &mut item_data).await;
                report.name = format!("{}[{index}]", inner.name);
                (report, out)
            });
        }
        let results: Vec<_> = stream::iter(futures).buffered(m.concurrency.max(1)).collect().await;
        let mut outputs = Vec::with_capacity(results.len());
        let mut children = Vec::with_capacity(results.len());
        let mut failure: Option<Failure> = None;
        let (mut usage, mut cost) = (Usage::default(), 0.0);
        for (report, out) in results {
            usage.add(&report.usage);
            cost += report.cost_usd;
            match out {
                Ok(v) => outputs.push(v.unwrap_or(Value::Null)),
                Err(status) => {
                    if failure.is_none() {
                        failure = Some(Failure::new(
                            status,
                            format!("item `{}` ended {}", report.name, status.as_str()),
                        ));
                    }
                }
            }
            children.push(report);
        }
        Attempt {
            result: failure.map_or(Ok(Value::Array(outputs)), Err),
            usage,
            cost_usd: cost,
            children,
        }
    }

    /// Runs a tool call, with an approval token when the host gave one.
    async fn call_tool(&self, call: &ToolCall, ctx: &CallContext) -> Attempt {
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

    /// Continues a step that waited for approval, using the host's decisions.
    async fn resume_step(&self, step: &StepDef, previous: &StepReport) -> Attempt {
        match &step.kind {
            StepKind::Prompt(p) => match &previous.paused_run {
                Some(state) => self.resume_prompt(step, p, (**state).clone()).await,
                None => Attempt::done(Err(Failure::new(StepStatus::Failed, "the paused run was not kept"))),
            },
            StepKind::Tool(_) => {
                let Some(pending) = previous.approvals.first() else {
                    return Attempt::done(Err(Failure::new(StepStatus::Failed, "the pending call was not kept")));
                };
                match self
                    .decisions_for(std::iter::once(pending.call.id.as_str()))
                    .remove(&pending.call.id)
                {
                    Some(ApprovalDecision::Approve { token }) => {
                        let ctx = self.ctx.clone().with_extension(token);
                        self.call_tool(&pending.call, &ctx).await
                    }
                    Some(ApprovalDecision::Reject { reason }) => Attempt::done(Err(Failure::new(
                        StepStatus::Failed,
                        format!("a human rejected call `{}`: {reason}", pending.call.id),
                    ))),
                    None => {
                        let mut failure = Failure::new(
                            StepStatus::NeedsApproval,
                            format!("call `{}` still waits for a decision", pending.call.id),
                        );
                        failure.approvals = previous.approvals.clone();
                        Attempt::done(Err(failure))
                    }
                }
            }
            _ => Attempt::done(Err(Failure::new(
                StepStatus::Failed,
                "only prompt and tool steps can wait for approval at the top level",
            ))),
        }
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
