//! The serializable state of a run, and what a run returns.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use toolplane_core::{ApprovalToken, ChatRequest, ChatResponse, Role, ToolCall, ToolResult, Usage};

use super::error::RunError;

/// The version of the [`RunState`] JSON layout this library writes.
pub const RUN_STATE_VERSION: u32 = 1;

/// Everything needed to continue a run, in another process if need be:
/// serialize it with serde (JSON), store it, drop everything, and later hand
/// it to [`AgentLoop::resume`](crate::AgentLoop::resume) with a fresh loop.
///
/// The conversation always stays well formed for a provider: every assistant
/// turn with tool calls is followed by their results, except while the run is
/// paused, when the turn's finished results wait in `pending`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunState {
    /// The layout version ([`RUN_STATE_VERSION`]).
    pub version: u32,
    /// The host's id for the run.
    pub run_id: String,
    /// The request: model, conversation and parameters. Its tools are refreshed
    /// from the executor before every step.
    pub request: ChatRequest,
    /// Provider calls made so far.
    pub steps: u32,
    /// Tokens used so far.
    pub usage: Usage,
    /// Money spent so far, in US dollars, at the loop's prices.
    pub cost_usd: f64,
    /// Invalid or unknown tool calls sent back to the model so far.
    pub repairs: u32,
    /// The turn waiting for approvals, when paused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending: Option<PendingTurn>,
}

impl RunState {
    /// A new run over a request (its conversation so far: system and user messages).
    pub fn new(run_id: impl Into<String>, request: ChatRequest) -> Self {
        Self {
            version: RUN_STATE_VERSION,
            run_id: run_id.into(),
            request,
            steps: 0,
            usage: Usage::default(),
            cost_usd: 0.0,
            repairs: 0,
            pending: None,
        }
    }

    /// The calls waiting for a human's decision (empty unless paused).
    pub fn pending_approvals(&self) -> &[PendingApproval] {
        self.pending.as_ref().map_or(&[], |p| p.approvals.as_slice())
    }

    /// Serializes to JSON.
    ///
    /// # Errors
    /// Only if a tool's JSON held something serde cannot write (it cannot, for `serde_json::Value`).
    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string(self)
    }

    /// Reads a state written by [`RunState::to_json`], and checks it with
    /// [`RunState::validate`]: a saved state may come from another process or
    /// a file a person edited.
    ///
    /// # Errors
    /// [`RunError::InvalidState`] with a message naming the problem:
    /// malformed JSON, a wrong shape, a layout version this library does not
    /// know, or an inconsistency (see [`RunState::validate`]).
    pub fn from_json(json: &str) -> Result<Self, RunError> {
        let state: Self = serde_json::from_str(json)
            .map_err(|e| RunError::InvalidState(format!("the saved run state cannot be read: {e}")))?;
        state.validate()?;
        Ok(state)
    }

    /// Checks the state can be run or resumed: a known layout version, a
    /// finite cost, and a paused turn that agrees with itself and with the
    /// conversation (one result slot per call, unique call ids, every slot
    /// either finished or waiting for exactly one approval of that very call,
    /// results answering their own calls, the conversation ending with the
    /// assistant turn that made the calls). [`AgentLoop::run`](crate::AgentLoop::run)
    /// and [`AgentLoop::resume`](crate::AgentLoop::resume) check it too.
    ///
    /// # Errors
    /// [`RunError::InvalidState`] naming the first problem found.
    pub fn validate(&self) -> Result<(), RunError> {
        self.problem().map_or(Ok(()), |p| Err(RunError::InvalidState(p)))
    }

    fn problem(&self) -> Option<String> {
        if self.version != RUN_STATE_VERSION {
            return Some(format!(
                "run state version {} is not supported (this library reads version {RUN_STATE_VERSION})",
                self.version
            ));
        }
        if !self.cost_usd.is_finite() || self.cost_usd < 0.0 {
            return Some(format!(
                "cost_usd is {}; it must be a finite amount of at least 0",
                self.cost_usd
            ));
        }
        let pending = self.pending.as_ref()?;
        pending.problem(self)
    }
}

impl PendingTurn {
    fn problem(&self, state: &RunState) -> Option<String> {
        let calls = &self.calls;
        if calls.is_empty() {
            return Some("the paused turn has no calls".into());
        }
        if self.results.len() != calls.len() {
            return Some(format!(
                "the paused turn has {} calls but {} result slots (one slot per call)",
                calls.len(),
                self.results.len()
            ));
        }
        if self.approvals.is_empty() {
            return Some("the paused turn waits for no approval".into());
        }
        if self.step == 0 || self.step > state.steps {
            return Some(format!(
                "the paused turn is from step {} but the run has made {} steps",
                self.step, state.steps
            ));
        }
        for (i, call) in calls.iter().enumerate() {
            if call.id.is_empty() {
                return Some(format!("call {i} of the paused turn has no id"));
            }
            if calls[..i].iter().any(|c| c.id == call.id) {
                return Some(format!("the paused turn has two calls with id `{}`", call.id));
            }
        }
        for (i, approval) in self.approvals.iter().enumerate() {
            let id = &approval.call.id;
            let Some(index) = calls.iter().position(|c| c.id == *id) else {
                return Some(format!(
                    "an approval waits for call `{id}`, which is not in the paused turn"
                ));
            };
            if approval.call != calls[index] {
                return Some(format!(
                    "the approval for call `{id}` names another tool or other arguments than the call in the turn"
                ));
            }
            if self.approvals[..i].iter().any(|a| a.call.id == *id) {
                return Some(format!("two approvals wait for call `{id}`"));
            }
        }
        for (call, slot) in calls.iter().zip(&self.results) {
            let waiting = self.approvals.iter().any(|a| a.call.id == call.id);
            match slot {
                Some(_) if waiting => {
                    return Some(format!("call `{}` has both a result and a pending approval", call.id));
                }
                Some(result) if result.call_id != call.id => {
                    return Some(format!(
                        "the result slot of call `{}` holds the result of call `{}`",
                        call.id, result.call_id
                    ));
                }
                None if !waiting => {
                    return Some(format!(
                        "call `{}` has neither a result nor a pending approval",
                        call.id
                    ));
                }
                _ => {}
            }
        }
        let last = state.request.messages.last();
        let turn_matches = last.is_some_and(|m| {
            m.role == Role::Assistant
                && m.tool_calls()
                    .map(|c| c.id.as_str())
                    .eq(calls.iter().map(|c| c.id.as_str()))
        });
        if !turn_matches {
            return Some("the conversation does not end with the assistant turn whose calls are paused".into());
        }
        None
    }
}

/// A model turn whose tool calls could not all run because some wait for approval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PendingTurn {
    /// The step that produced the calls.
    pub step: u32,
    /// The turn's calls, in the model's order.
    pub calls: Vec<ToolCall>,
    /// One slot per call: the result when the call already finished.
    pub results: Vec<Option<ToolResult>>,
    /// The calls waiting for a decision.
    pub approvals: Vec<PendingApproval>,
}

/// One call a permission policy holds for a human.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PendingApproval {
    /// The call, with its exact arguments.
    pub call: ToolCall,
    /// The policy's explanation.
    pub message: String,
    /// The approval request the policy attached (who may approve, why, a request id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<Value>,
}

/// A human's decision on one pending call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum ApprovalDecision {
    /// Run the call, carrying this token in the context's extensions.
    Approve {
        /// The token the permission policy issued for this call.
        token: ApprovalToken,
    },
    /// Do not run the call; the model is told why.
    Reject {
        /// The reason, shown to the model.
        reason: String,
    },
}

/// Why a run stopped before the model answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopCause {
    /// The step limit was reached.
    StepLimit,
    /// The token budget is used up.
    TokenBudget,
    /// The cost budget is used up.
    CostBudget,
    /// A cost budget is set and a call's model has no price (in the price
    /// book, nor a default price): it is never counted as free, so the run
    /// stops before the next call. Resume with prices to go on.
    Unpriced,
    /// The context's deadline passed.
    Deadline,
    /// The caller set the cancel flag.
    Cancelled,
    /// The model made more invalid tool calls than the repair budget allows.
    RepairBudget,
}

impl StopCause {
    /// A stable snake_case label.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::StepLimit => "step_limit",
            Self::TokenBudget => "token_budget",
            Self::CostBudget => "cost_budget",
            Self::Unpriced => "unpriced",
            Self::Deadline => "deadline",
            Self::Cancelled => "cancelled",
            Self::RepairBudget => "repair_budget",
        }
    }
}

/// How a run ended (for now).
#[derive(Debug, Clone, PartialEq)]
pub enum RunOutcome {
    /// The model answered without calling tools.
    Answered(Box<ChatResponse>),
    /// The run paused: these calls wait for decisions; resume with them.
    NeedsApproval(Vec<PendingApproval>),
    /// A limit or the caller stopped the run; the state can be resumed with new limits.
    Stopped(StopCause),
}

/// The outcome and the state to keep.
#[derive(Debug, Clone)]
pub struct RunResult {
    /// How the run ended.
    pub outcome: RunOutcome,
    /// The state, for resuming, auditing or the next user turn.
    pub state: RunState,
}

impl RunResult {
    /// The answer text, when the model answered.
    pub fn answer(&self) -> Option<String> {
        match &self.outcome {
            RunOutcome::Answered(r) => Some(r.text()),
            _ => None,
        }
    }
}
