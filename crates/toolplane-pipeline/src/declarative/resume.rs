//! Continuing steps that waited for approval: a tool call, a prompt step's
//! paused tool loop, or a branch or map step with waiting steps inside.

use std::time::{Duration, Instant};

use serde_json::Value;

use super::definition::{StepDef, StepKind};
use super::ledger::{Ledger, Spent};
use super::report::{StepReport, StepStatus};
use super::run::{Attempt, Exec, Failure, Frame, record_spent};
use crate::ApprovalDecision;

impl Exec<'_> {
    /// Continues a step that waited for approval, with the host's decisions.
    /// Its report keeps its attempts and adds this part's time and spending.
    pub(super) async fn continue_step(
        &self,
        step: &StepDef,
        previous: &StepReport,
        data: &mut Value,
        frame: &Frame,
    ) -> (StepReport, Result<Option<Value>, StepStatus>) {
        let started = Instant::now();
        let inner = Frame {
            ledger: Ledger::child(
                &frame.ledger,
                &previous.name,
                self.step_budget(step),
                Spent::of_step(previous),
            ),
            items: frame.items.clone(),
        };
        // The continuation is one more attempt: cancellation and the step's timeout apply.
        let attempt = if self.ctx.cancel.is_cancelled() {
            Attempt::done(Err(Failure::new(StepStatus::Cancelled, "the run was cancelled")))
        } else {
            let work = self.resume_step(step, previous, data, &inner);
            match step.options.timeout_ms {
                None => work.await,
                Some(ms) => match tokio::time::timeout(Duration::from_millis(ms), work).await {
                    Ok(a) => a,
                    Err(_) => Attempt::done(Err(Failure::new(
                        StepStatus::TimedOut,
                        format!("the resumed attempt took longer than {ms} ms"),
                    ))),
                },
            }
        };
        let mut report = previous.clone();
        record_spent(&mut report, &inner.ledger);
        report.duration_ms += started.elapsed().as_secs_f64() * 1e3;
        report.paused_run = None;
        report.approvals = Vec::new();
        report.children = attempt.children;
        match attempt.result {
            Ok(value) => {
                report.status = StepStatus::Succeeded;
                report.error = None;
                if !frame.items.is_empty() {
                    report.output = Some(value.clone());
                }
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

    async fn resume_step(&self, step: &StepDef, previous: &StepReport, data: &mut Value, frame: &Frame) -> Attempt {
        match &step.kind {
            StepKind::Prompt(p) => match &previous.paused_run {
                Some(state) => self.resume_prompt(step, p, (**state).clone(), frame).await,
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
            StepKind::Branch(b) => {
                // The list that ran before, known by its steps' names (not by the
                // condition, whose data may have changed since).
                let ran = |list: &[StepDef]| {
                    list.iter()
                        .any(|s| previous.children.iter().any(|c| c.name == frame.name_of(s)))
                };
                let chosen = if ran(&b.then) { &b.then } else { &b.otherwise };
                let (children, outcome) = self.run_steps(chosen, data, frame, Some(&previous.children)).await;
                Attempt {
                    result: outcome.map_err(|s| Failure::new(s, "a step of the branch did not succeed")),
                    children,
                }
            }
            StepKind::Map(m) => self.run_map(m, data, frame, Some(previous)).await,
            StepKind::Transform(_) => Attempt::done(Err(Failure::new(
                StepStatus::Failed,
                "a transform step cannot wait for approval",
            ))),
        }
    }
}
