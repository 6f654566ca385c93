//! Run events: what a caller can watch while a run goes on.

use std::fmt;

use serde::Serialize;
use toolplane_core::{StopReason, ToolCall, Usage};

use super::state::{PendingApproval, StopCause};

/// One thing that happened during a run, in order.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum RunEvent {
    /// A provider call begins (steps count from 1).
    StepStarted {
        /// The step.
        step: u32,
    },
    /// Answer text (in pieces when streaming, whole otherwise).
    TextDelta {
        /// The step.
        step: u32,
        /// The text.
        text: String,
    },
    /// A tool call begins.
    ToolCallStarted {
        /// The step.
        step: u32,
        /// The call.
        call: ToolCall,
    },
    /// A tool call finished.
    ToolCallFinished {
        /// The step.
        step: u32,
        /// The call's id.
        call_id: String,
        /// The tool.
        name: String,
        /// `ok`, or the error kind (`invalid_arguments`, `approval_required`, ...).
        outcome: String,
        /// Wall time in microseconds.
        duration_us: u64,
    },
    /// Token counts after a provider call.
    Usage {
        /// The step.
        step: u32,
        /// This step's usage.
        usage: Usage,
        /// The run's total so far.
        total: Usage,
        /// The run's cost so far, in US dollars.
        cost_usd: f64,
        /// This call's cost in US dollars, at the price of the provider and
        /// model that answered; `None` when that model is unpriced (nothing
        /// was added to `cost_usd`).
        step_cost_usd: Option<f64>,
    },
    /// A step (provider call and its tool calls) is complete.
    StepDone {
        /// The step.
        step: u32,
        /// Why the model stopped.
        stop_reason: StopReason,
    },
    /// The run paused for approvals.
    ApprovalRequired {
        /// The calls waiting.
        approvals: Vec<PendingApproval>,
    },
    /// The run stopped on a limit or cancellation.
    Stopped {
        /// Why.
        cause: StopCause,
    },
    /// The model answered.
    Answered {
        /// The answer.
        text: String,
    },
}

/// Where run events go. Implemented for tokio unbounded senders; implement it
/// for a channel, a log or a UI of your own.
pub trait EventSink: Send + Sync + fmt::Debug {
    /// Receives one event; must not block.
    fn emit(&self, event: RunEvent);
}

impl EventSink for tokio::sync::mpsc::UnboundedSender<RunEvent> {
    fn emit(&self, event: RunEvent) {
        // A caller who stopped listening does not stop the run.
        let _ = self.send(event);
    }
}
