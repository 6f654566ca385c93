//! The loop's spans: `invoke_agent {name}` around a run (or a resume) and
//! `chat {model}` around each provider call, named after the OpenTelemetry
//! GenAI conventions in [`toolplane_core::semconv`]. Tool calls get their
//! `execute_tool {name}` spans from the executor (the registry's
//! [`Executor`](toolplane_registry::Executor)), as children of the run span.
//!
//! No message content is recorded here: names, ids, counts and outcomes only.

use toolplane_core::semconv as sc;
use toolplane_trace::label;
use tracing::Span;
use tracing::field::Empty;

use super::error::RunError;
use super::state::{RunOutcome, RunResult, RunState};

/// The span of one `run` or `resume`.
pub(super) fn agent_span(name: Option<&str>, provider: &str, state: &RunState, resumed: bool) -> Span {
    let span = tracing::info_span!(
        target: "toolplane::agent",
        "invoke_agent",
        otel.name = %sc::span_name(sc::OP_INVOKE_AGENT, label(name.unwrap_or(""))),
        gen_ai.operation.name = sc::OP_INVOKE_AGENT,
        gen_ai.agent.name = Empty,
        gen_ai.provider.name = label(provider),
        gen_ai.request.model = label(&state.request.model),
        gen_ai.conversation.id = label(&state.run_id),
        toolplane.run.id = label(&state.run_id),
        toolplane.run.resumes = Empty,
        toolplane.run.resumed_at_step = Empty,
        toolplane.run.outcome = Empty,
        toolplane.run.pause_reason = Empty,
        toolplane.run.pending_approvals = Empty,
        toolplane.run.stop_cause = Empty,
        toolplane.run.steps = Empty,
        gen_ai.usage.input_tokens = Empty,
        gen_ai.usage.output_tokens = Empty,
        error.type = Empty,
        otel.status_code = Empty,
    );
    if span.is_disabled() {
        return span;
    }
    if let Some(name) = name {
        span.record(sc::GEN_AI_AGENT_NAME, label(name));
    }
    if resumed {
        span.record(sc::TOOLPLANE_RUN_RESUMES, label(&state.run_id));
        if let Some(pending) = &state.pending {
            span.record(sc::TOOLPLANE_RUN_RESUMED_AT_STEP, pending.step);
        }
    }
    span
}

/// Records how a run span ended.
pub(super) fn record_run(span: &Span, result: &Result<RunResult, RunError>) {
    if span.is_disabled() {
        return;
    }
    let state = match result {
        Ok(r) => Some(&r.state),
        Err(RunError::Provider { state, .. } | RunError::InvalidDecisions { state, .. }) => Some(&**state),
        Err(_) => None,
    };
    if let Some(state) = state {
        span.record(sc::TOOLPLANE_RUN_STEPS, state.steps);
        span.record(sc::GEN_AI_USAGE_INPUT_TOKENS, state.usage.input_tokens);
        span.record(sc::GEN_AI_USAGE_OUTPUT_TOKENS, state.usage.output_tokens);
    }
    match result {
        Ok(r) => match &r.outcome {
            RunOutcome::Answered(_) => {
                span.record(sc::TOOLPLANE_RUN_OUTCOME, "answered");
            }
            RunOutcome::NeedsApproval(approvals) => {
                span.record(sc::TOOLPLANE_RUN_OUTCOME, "paused");
                span.record(sc::TOOLPLANE_RUN_PAUSE_REASON, "approval_required");
                span.record(sc::TOOLPLANE_RUN_PENDING_APPROVALS, approvals.len());
            }
            RunOutcome::Stopped(cause) => {
                span.record(sc::TOOLPLANE_RUN_OUTCOME, "stopped");
                span.record(sc::TOOLPLANE_RUN_STOP_CAUSE, cause.as_str());
            }
        },
        Err(e) => {
            let kind = match e {
                RunError::Provider { source, .. } => source.kind().as_str(),
                RunError::InvalidDecisions { .. } => "invalid_decisions",
                RunError::InvalidState(_) => "invalid_state",
                RunError::Aborted(_) => "aborted",
            };
            span.record(sc::TOOLPLANE_RUN_OUTCOME, "error");
            span.record(sc::ERROR_TYPE, kind);
            span.record(sc::OTEL_STATUS_CODE, sc::STATUS_ERROR);
        }
    }
}

/// The span of one provider call. The loop owns it: a toolplane provider
/// or router called inside it adds its own facts (server, time to first
/// chunk, retries, routing) to this span rather than opening a second
/// `chat` span, and the loop records the answer or the error it got.
pub(super) fn chat_span(provider: &str, model: &str, max_tokens: Option<u32>, step: u32) -> Span {
    let span = toolplane_trace::chat_span!(
        target: "toolplane::agent",
        provider: label(provider),
        model: label(model),
        extra: {
            gen_ai.request.max_tokens = Empty,
            toolplane.step = step,
        },
    );
    if let Some(max) = max_tokens.filter(|_| !span.is_disabled()) {
        span.record(sc::GEN_AI_REQUEST_MAX_TOKENS, max);
    }
    span
}
