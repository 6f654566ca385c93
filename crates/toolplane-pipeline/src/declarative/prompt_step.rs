//! Prompt steps: building the tool loop for a step, running or resuming it,
//! and settling its outcome into an attempt.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value;
use toolplane_core::{CallContext, ChatRequest, Message};

use super::definition::{PromptStep, StepDef};
use super::meter::{Meter, MeteredProvider, SettleOnDrop};
use super::report::StepStatus;
use super::run::{Attempt, Exec, Failure, Frame};
use super::template::render_str;
use crate::structured::{StructuredError, structured_answer, structured_answer_after};
use crate::{
    AgentLoop, ApprovalDecision, FilteredExecutor, LoopConfig, PendingApproval, RunError, RunOutcome, RunResult,
    RunState, SkillExecutor, StopCause, ToolExecutor,
};
use toolplane_registry::{Executor, ToolRegistry};
use toolplane_skills::{ACTIVATE_TOOL, SkillSession};

/// A prompt step's loop, its context, its skill session, and the guard that
/// charges a call still in flight when the attempt ends.
type PromptAgent = (AgentLoop, CallContext, Option<Arc<SkillSession>>, SettleOnDrop);

impl Exec<'_> {
    /// The agent loop and context a prompt step runs with. `paused` is the
    /// state a resumed loop continues: its limits count what that state
    /// already spent, which the ledgers have charged before.
    pub(super) fn prompt_agent(
        &self,
        step: &StepDef,
        p: &PromptStep,
        frame: &Frame,
        paused: Option<&RunState>,
    ) -> Result<PromptAgent, Failure> {
        let runtime = &self.pipeline.runtime;
        let provider = match &p.provider {
            Some(name) => runtime.providers.get(name).cloned(),
            None => runtime.default_provider.clone(),
        };
        let provider = provider.ok_or_else(|| Failure::new(StepStatus::Failed, "no provider for this step"))?;
        let mut executor: Arc<dyn ToolExecutor> = if p.tools.is_empty() {
            Arc::new(Executor::new(ToolRegistry::new()))
        } else {
            Arc::new(FilteredExecutor::new(Arc::clone(&runtime.executor), p.tools.clone()))
        };
        let mut session = None;
        if let (Some(_), Some(skills)) = (p.skills, &runtime.skills) {
            let s = SkillSession::new(Arc::clone(skills));
            executor = Arc::new(
                SkillExecutor::new(executor, Arc::clone(&s))
                    .map_err(|e| Failure::new(StepStatus::Failed, e.to_string()))?,
            );
            session = Some(s);
        }
        // Every budget up the chain (this step's, enclosing steps', the
        // pipeline's), as limits of a loop that may already have spent some.
        let left = frame.ledger.remaining();
        let (base_steps, base_tokens, base_cost) =
            paused.map_or((0, 0, 0.0), |s| (s.steps, s.usage.total_tokens(), s.cost_usd));
        // Without a `max_steps` of its own, a step's loop keeps the loop's default limit.
        let own_cap = if step.options.budget.max_steps.is_some() {
            u32::MAX
        } else {
            LoopConfig::default().max_steps
        };
        let config = LoopConfig {
            max_steps: left
                .max_steps
                .map_or(own_cap, |l| own_cap.min(base_steps.saturating_add(l))),
            max_total_tokens: left.max_tokens.map(|l| base_tokens.saturating_add(l)),
            max_cost_usd: left.max_cost_usd.map(|l| base_cost + l),
            ..LoopConfig::default()
        };
        // Calls are charged to the step's ledger as they happen, so that an
        // attempt cut off by its timeout is charged too.
        let meter = Meter::new(Arc::clone(&frame.ledger), runtime.prices.clone(), base_cost);
        let provider = Arc::new(MeteredProvider {
            inner: provider,
            meter: Arc::clone(&meter),
        });
        let agent = AgentLoop::new(provider, executor)
            .with_config(config)
            .with_events(Arc::clone(&meter) as Arc<dyn crate::EventSink>)
            .with_pricer(runtime.prices.clone());
        // The step's task type goes on the request (its one home), below.
        let ctx = self.ctx.clone();
        Ok((agent, ctx, session, SettleOnDrop(meter)))
    }

    pub(super) async fn run_prompt(&self, step: &StepDef, p: &PromptStep, data: &Value, frame: &Frame) -> Attempt {
        let runtime = &self.pipeline.runtime;
        let render = |t: &str| {
            render_str(t, data).map(|v| match v {
                Value::String(s) => s,
                other => other.to_string(),
            })
        };
        let prompt = match render(&p.prompt) {
            Ok(p) => p,
            Err(m) => return Attempt::done(Err(Failure::new(StepStatus::Failed, format!("prompt: {m}")))),
        };
        let (agent, ctx, session, _settle) = match self.prompt_agent(step, p, frame, None) {
            Ok(x) => x,
            Err(f) => return Attempt::done(Err(f)),
        };
        let mut system = match p.system.as_deref().map(render).transpose() {
            Ok(s) => s,
            Err(m) => return Attempt::done(Err(Failure::new(StepStatus::Failed, format!("system: {m}")))),
        };
        if let (Some(session), Some(k)) = (&session, p.skills) {
            // Names and descriptions only; bodies arrive when the model activates a skill.
            let catalog = session.prompt_for(&prompt, k);
            system = Some(match system {
                Some(s) => format!("{s}\n\n{catalog}"),
                None => catalog,
            });
        }
        let mut messages = Vec::with_capacity(2);
        if let Some(system) = system {
            messages.push(Message::system(system));
        }
        messages.push(Message::user(prompt));
        let model = p.model.clone().unwrap_or_else(|| runtime.default_model.clone());
        let mut request = ChatRequest::new(model, messages);
        request.metadata.task_type.clone_from(&p.task_type);
        let state = RunState::new(format!("{}:{}", self.pipeline.def.name, frame.name_of(step)), request);
        let outcome = match &p.output_schema {
            Some(schema) => structured_answer(&agent, state, schema, p.output_repairs, &ctx).await,
            None => plain_answer(agent.run(state, &ctx).await),
        };
        self.settle_prompt(outcome, step, frame)
    }

    /// Continues a prompt step whose tool loop paused for approval.
    pub(super) async fn resume_prompt(
        &self,
        step: &StepDef,
        p: &PromptStep,
        paused: RunState,
        frame: &Frame,
    ) -> Attempt {
        let (agent, ctx, session, _settle) = match self.prompt_agent(step, p, frame, Some(&paused)) {
            Ok(x) => x,
            Err(f) => return Attempt::done(Err(f)),
        };
        if let Some(session) = &session {
            // The skills the model had opened before the pause narrow its tools again.
            for call in paused.request.messages.iter().flat_map(|m| m.tool_calls()) {
                if call.name == ACTIVATE_TOOL {
                    if let Some(name) = call
                        .arguments_value()
                        .ok()
                        .and_then(|a| a["name"].as_str().map(str::to_string))
                    {
                        let _ = session.activate(&name);
                    }
                }
            }
        }
        let key = approval_key(step, frame);
        let decisions: HashMap<String, ApprovalDecision> = paused
            .pending_approvals()
            .iter()
            .filter_map(|a| {
                let id = a.call.id.as_str();
                let decision = self.resume.as_ref()?.decisions.get(&key(id))?;
                Some((id.to_string(), decision.clone()))
            })
            .collect();
        let resumed = match agent.resume(paused, &decisions, &ctx).await {
            Ok(r) => r,
            Err(RunError::InvalidDecisions { message, state }) => {
                let mut failure = stopped_failure(
                    &RunOutcome::NeedsApproval(state.pending_approvals().to_vec()),
                    &state,
                    &key,
                );
                failure.message = format!("{}; {message}", failure.message);
                return Attempt::done(Err(failure));
            }
            Err(e) => return self.settle_prompt(Err(StructuredError::Run(e)), step, frame),
        };
        let outcome = match &p.output_schema {
            Some(schema) => structured_answer_after(&agent, resumed, schema, p.output_repairs, &ctx).await,
            None => plain_answer(Ok(resumed)),
        };
        self.settle_prompt(outcome, step, frame)
    }

    pub(super) fn decisions_for<'i>(&self, ids: impl Iterator<Item = &'i str>) -> HashMap<String, ApprovalDecision> {
        let Some(resume) = &self.resume else {
            return HashMap::new();
        };
        ids.filter_map(|id| resume.decisions.get(id).map(|d| (id.to_string(), d.clone())))
            .collect()
    }

    /// Turns a prompt step's outcome into an attempt (its meter charged what it spent).
    fn settle_prompt(
        &self,
        outcome: Result<(Value, RunState), StructuredError>,
        step: &StepDef,
        frame: &Frame,
    ) -> Attempt {
        let key = approval_key(step, frame);
        let result = match outcome {
            Ok((value, _)) => Ok(value),
            Err(StructuredError::NoAnswer(run)) => Err(stopped_failure(&run.outcome, &run.state, &key)),
            Err(StructuredError::NonConforming { problems, .. }) => Err(Failure::new(
                StepStatus::Failed,
                format!("the answer never satisfied the output schema: {problems}"),
            )),
            Err(e) => Err(Failure::new(StepStatus::Failed, e.to_string())),
        };
        Attempt::done(result)
    }
}

// Same error type as `structured_answer`, so both paths settle alike; it is not on a hot path.
#[allow(clippy::result_large_err)]
fn plain_answer(run: Result<RunResult, RunError>) -> Result<(Value, RunState), StructuredError> {
    let run = run?;
    match &run.outcome {
        RunOutcome::Answered(r) => Ok((Value::String(r.text()), run.state)),
        _ => Err(StructuredError::NoAnswer(Box::new(run))),
    }
}

/// How the host names a prompt step's pending call: the model's id, prefixed
/// `STEP[i]/` inside map item `i` (models reuse ids across conversations).
fn approval_key(step: &StepDef, frame: &Frame) -> impl Fn(&str) -> String {
    let prefix = if frame.items.is_empty() {
        String::new()
    } else {
        format!("{}/", frame.name_of(step))
    };
    move |id| format!("{prefix}{id}")
}

pub(super) fn stopped_failure(outcome: &RunOutcome, state: &RunState, key: &dyn Fn(&str) -> String) -> Failure {
    match outcome {
        RunOutcome::NeedsApproval(pending) => {
            let approvals: Vec<PendingApproval> = pending
                .iter()
                .map(|p| {
                    let mut p = p.clone();
                    p.call.id = key(&p.call.id);
                    p
                })
                .collect();
            let ids: Vec<&str> = approvals.iter().map(|p| p.call.id.as_str()).collect();
            Failure {
                status: StepStatus::NeedsApproval,
                message: format!("tool call(s) {} wait for approval", ids.join(", ")),
                paused_run: Some(Box::new(state.clone())),
                approvals,
            }
        }
        RunOutcome::Stopped(cause) => {
            let status = match cause {
                StopCause::Cancelled => StepStatus::Cancelled,
                StopCause::Deadline => StepStatus::TimedOut,
                StopCause::TokenBudget | StopCause::CostBudget | StopCause::StepLimit => StepStatus::BudgetExceeded,
                StopCause::RepairBudget => StepStatus::Failed,
                StopCause::Unpriced => {
                    return Failure::new(
                        StepStatus::Failed,
                        "the tool loop stopped: unpriced (a cost budget applies and the model that answered has no \
                         price: give the runtime prices with with_prices or with_default_price)",
                    );
                }
            };
            Failure::new(status, format!("the tool loop stopped: {}", cause.as_str()))
        }
        RunOutcome::Answered(_) => Failure::new(StepStatus::Failed, "unexpected answer"),
    }
}
