//! Run events: what a caller can watch while a run goes on.

use std::fmt;

use serde::Serialize;
use toolplane_core::{StopReason, ToolCall, Usage};

use super::state::{PendingApproval, StopCause};

/// The most of a tool's result a [`RunEvent::ToolCallFinished`] carries, in bytes.
pub const RESULT_PREVIEW_MAX_BYTES: usize = 8 * 1024;

/// `text` cut to at most [`RESULT_PREVIEW_MAX_BYTES`] bytes at a character
/// boundary, and whether it was cut.
pub(crate) fn result_preview(text: String) -> (String, bool) {
    if text.len() <= RESULT_PREVIEW_MAX_BYTES {
        return (text, false);
    }
    let mut end = RESULT_PREVIEW_MAX_BYTES;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    (text[..end].to_owned(), true)
}

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
        /// What the model is told about the call (the result's text, or the
        /// error's), cut to at most [`RESULT_PREVIEW_MAX_BYTES`] bytes at a
        /// character boundary, so a watcher can show it at once.
        result: String,
        /// True when `result` was cut (the run's messages hold all of it).
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        result_truncated: bool,
        /// True when the tool answered with an error result or failed.
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        is_error: bool,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_result_preview_is_cut_at_a_character_boundary() {
        assert_eq!(result_preview("short".into()), ("short".to_owned(), false));
        // 'é' is two bytes: a cut in its middle steps back before it.
        let long = format!("{}é{}", "a".repeat(RESULT_PREVIEW_MAX_BYTES - 1), "b".repeat(10));
        let (cut, truncated) = result_preview(long);
        assert!(truncated);
        assert_eq!(cut.len(), RESULT_PREVIEW_MAX_BYTES - 1);
        assert!(cut.chars().all(|c| c == 'a'));
    }
}
