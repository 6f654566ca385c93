//! The loop's spans: `invoke_agent {name}` around a run (or a resume) and
//! `chat {model}` around each provider call, named after the OpenTelemetry
//! GenAI conventions in [`toolplane_core::semconv`]. Tool calls get their
//! `execute_tool {name}` spans from the executor (the registry's
//! [`Executor`](toolplane_registry::Executor)), as children of the run span.
//!
//! No message content is recorded here: names, ids, counts and outcomes only.

use toolplane_core::semconv as sc;
use toolplane_core::{ChatResponse, ProviderError, StopReason};
use tracing::Span;
use tracing::field::Empty;

use super::error::RunError;
use super::state::{RunOutcome, RunResult, RunState};

/// Model names and agent names are cut to this many characters in spans.
const MAX_LABEL_CHARS: usize = 128;

fn label(text: &str) -> &str {
    match text.char_indices().nth(MAX_LABEL_CHARS) {
        Some((end, _)) => &text[..end],
        None => text,
    }
}

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
    let span = tracing::info_span!(
        target: "toolplane::agent",
        "chat",
        otel.name = %sc::span_name(sc::OP_CHAT, label(model)),
        otel.kind = sc::SPAN_KIND_CLIENT,
        gen_ai.operation.name = sc::OP_CHAT,
        gen_ai.provider.name = label(provider),
        gen_ai.request.model = label(model),
        gen_ai.request.max_tokens = Empty,
        toolplane.step = step,
        server.address = Empty,
        server.port = Empty,
        gen_ai.response.model = Empty,
        gen_ai.response.id = Empty,
        gen_ai.response.finish_reasons = Empty,
        gen_ai.response.time_to_first_chunk = Empty,
        gen_ai.usage.input_tokens = Empty,
        gen_ai.usage.output_tokens = Empty,
        gen_ai.usage.cache_read.input_tokens = Empty,
        gen_ai.usage.cache_creation.input_tokens = Empty,
        toolplane.usage.reasoning_tokens = Empty,
        error.type = Empty,
        otel.status_code = Empty,
    );
    if let Some(max) = max_tokens.filter(|_| !span.is_disabled()) {
        span.record(sc::GEN_AI_REQUEST_MAX_TOKENS, max);
    }
    span
}

/// Records a provider call's response or error on its span.
pub(super) fn record_chat(span: &Span, result: &Result<ChatResponse, ProviderError>) {
    if span.is_disabled() {
        return;
    }
    match result {
        Ok(response) => {
            span.record(sc::GEN_AI_RESPONSE_MODEL, label(&response.model));
            if let Some(id) = &response.id {
                span.record(sc::GEN_AI_RESPONSE_ID, label(id));
            }
            span.record(sc::GEN_AI_RESPONSE_FINISH_REASONS, finish_reason(&response.stop_reason));
            let usage = &response.usage;
            span.record(sc::GEN_AI_USAGE_INPUT_TOKENS, usage.input_tokens);
            span.record(sc::GEN_AI_USAGE_OUTPUT_TOKENS, usage.output_tokens);
            if usage.cache_read_tokens > 0 {
                span.record(sc::GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS, usage.cache_read_tokens);
            }
            let written = usage.cache_write_tokens.saturating_add(usage.cache_write_1h_tokens);
            if written > 0 {
                span.record(sc::GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS, written);
            }
            if usage.reasoning_tokens > 0 {
                span.record(sc::TOOLPLANE_USAGE_REASONING_TOKENS, usage.reasoning_tokens);
            }
        }
        Err(e) => {
            span.record(sc::ERROR_TYPE, e.kind().as_str());
            span.record(sc::OTEL_STATUS_CODE, sc::STATUS_ERROR);
        }
    }
}

/// toolplane's normalized stop reason, as a label.
fn finish_reason(reason: &StopReason) -> &str {
    match reason {
        StopReason::EndTurn => "end_turn",
        StopReason::MaxTokens => "max_tokens",
        StopReason::ToolUse => "tool_use",
        StopReason::StopSequence => "stop_sequence",
        StopReason::ContentFilter => "content_filter",
        StopReason::Refusal => "refusal",
        StopReason::PauseTurn => "pause_turn",
        StopReason::Other(other) => label(other),
    }
}
