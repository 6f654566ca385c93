//! The run report: per step, what happened, how long it took, what it used.

use std::fmt;

use serde::{Deserialize, Serialize};
use toolplane_core::Usage;

use crate::{PendingApproval, RunState};

/// How a step (or a pipeline) ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepStatus {
    /// It finished.
    Succeeded,
    /// It failed (after its retries).
    Failed,
    /// Its `when` condition did not hold, or an earlier step failed.
    Skipped,
    /// Its last attempt ran out of time.
    TimedOut,
    /// A budget stopped it.
    BudgetExceeded,
    /// A tool call in it waits for a human's approval.
    NeedsApproval,
    /// The caller cancelled the run.
    Cancelled,
}

impl StepStatus {
    /// A stable snake_case label.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Skipped => "skipped",
            Self::TimedOut => "timed_out",
            Self::BudgetExceeded => "budget_exceeded",
            Self::NeedsApproval => "needs_approval",
            Self::Cancelled => "cancelled",
        }
    }
}

/// One step's record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepReport {
    /// The step's name (a map item: `name[i]`).
    pub name: String,
    /// `prompt`, `tool`, `transform`, `branch` or `map`.
    pub kind: String,
    /// How it ended.
    pub status: StepStatus,
    /// Attempts made (retries + 1 at most).
    pub attempts: u32,
    /// Wall time over all attempts, in milliseconds.
    pub duration_ms: f64,
    /// Tokens used, nested steps included.
    pub usage: Usage,
    /// Money spent, nested steps included, in US dollars.
    pub cost_usd: f64,
    /// Provider calls made, nested steps included.
    #[serde(default)]
    pub provider_calls: u64,
    /// The last error, when it did not succeed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The paused agent run, when a prompt step waits for approval: resume it
    /// with [`AgentLoop::resume`](crate::AgentLoop::resume).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paused_run: Option<Box<RunState>>,
    /// The calls waiting for a decision, when the step waits for approval;
    /// decide them by call id and pass the decisions to [`Pipeline::resume`](crate::Pipeline::resume).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub approvals: Vec<PendingApproval>,
    /// The output of a step inside a map item that succeeded, kept while
    /// the map waits for approval so that resuming does not run it again
    /// (other outputs are in [`PipelineRun::outputs`](crate::PipelineRun::outputs)).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<serde_json::Value>,
    /// Nested steps (a branch's steps, a map's items).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<StepReport>,
}

/// The report of one pipeline run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunReport {
    /// The pipeline's name.
    pub pipeline: String,
    /// How the run ended: the status of the first top-level step that did not
    /// succeed (steps skipped by their condition do not count), else succeeded.
    pub status: StepStatus,
    /// Wall time, in milliseconds.
    pub duration_ms: f64,
    /// Tokens used.
    pub usage: Usage,
    /// Money spent, in US dollars.
    pub cost_usd: f64,
    /// Provider calls made.
    #[serde(default)]
    pub provider_calls: u64,
    /// The top-level steps, in order.
    pub steps: Vec<StepReport>,
}

impl RunReport {
    /// The record of a step by name, searching nested steps too.
    pub fn step(&self, name: &str) -> Option<&StepReport> {
        fn find<'a>(steps: &'a [StepReport], name: &str) -> Option<&'a StepReport> {
            steps.iter().find_map(|s| {
                if s.name == name {
                    Some(s)
                } else {
                    find(&s.children, name)
                }
            })
        }
        find(&self.steps, name)
    }
}

impl fmt::Display for RunReport {
    /// A plain-text table, one line per step, nested steps indented.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "pipeline {}: {} in {:.1} ms, {} tokens, ${:.4}",
            self.pipeline,
            self.status.as_str(),
            self.duration_ms,
            self.usage.total_tokens(),
            self.cost_usd
        )?;
        writeln!(
            f,
            "{:<28} {:<9} {:<15} {:>8} {:>10} {:>8} {:>9}",
            "step", "kind", "status", "attempts", "ms", "tokens", "cost $"
        )?;
        fn rows(f: &mut fmt::Formatter<'_>, steps: &[StepReport], depth: usize) -> fmt::Result {
            for s in steps {
                let name = format!("{}{}", "  ".repeat(depth), s.name);
                writeln!(
                    f,
                    "{:<28} {:<9} {:<15} {:>8} {:>10.1} {:>8} {:>9.4}",
                    name,
                    s.kind,
                    s.status.as_str(),
                    s.attempts,
                    s.duration_ms,
                    s.usage.total_tokens(),
                    s.cost_usd
                )?;
                if let Some(e) = &s.error {
                    writeln!(f, "{}  error: {e}", "  ".repeat(depth))?;
                }
                rows(f, &s.children, depth + 1)?;
            }
            Ok(())
        }
        rows(f, &self.steps, 0)
    }
}
