//! The `execute_tool {name}` span around every call an [`Executor`](crate::Executor) runs.
//!
//! Names and attributes follow the OpenTelemetry GenAI conventions (see
//! [`toolplane_core::semconv`]). Argument and result text are recorded only
//! when the host opts in ([`ExecutorConfig::capture_content`](crate::ExecutorConfig::capture_content))
//! *and* gives a [`ContentRedactor`]; otherwise the span holds the argument
//! size and never the text. With no subscriber interested, the span costs one
//! disabled-callsite check and nothing is formatted.

use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use toolplane_core::semconv as sc;
use toolplane_core::{ToolCall, ToolError, ToolOutput};
use tracing::Instrument;
use tracing::field::Empty;

/// Turns argument or result text into what may go into a trace (remove
/// secrets here). `toolplane_security::redact::redact_text` fits:
/// `Arc::new(|text: &str| toolplane_security::redact::redact_text(text))`.
pub type ContentRedactor = Arc<dyn Fn(&str) -> String + Send + Sync>;

/// Model-supplied names and ids are cut to this many characters in spans.
const MAX_LABEL_CHARS: usize = 128;

fn label(text: &str) -> &str {
    match text.char_indices().nth(MAX_LABEL_CHARS) {
        Some((end, _)) => &text[..end],
        None => text,
    }
}

fn tool_span(call: &ToolCall) -> tracing::Span {
    let name = label(&call.name);
    tracing::info_span!(
        target: "toolplane::tool",
        "execute_tool",
        otel.name = %sc::span_name(sc::OP_EXECUTE_TOOL, name),
        gen_ai.operation.name = sc::OP_EXECUTE_TOOL,
        gen_ai.tool.name = name,
        gen_ai.tool.call.id = label(&call.id),
        gen_ai.tool.type = sc::TOOL_TYPE_FUNCTION,
        toolplane.tool.arguments_bytes = call.arguments.len(),
        gen_ai.tool.call.arguments = Empty,
        gen_ai.tool.call.result = Empty,
        toolplane.tool.outcome = Empty,
        toolplane.tool.duration_us = Empty,
        error.type = Empty,
        otel.status_code = Empty,
    )
}

/// Runs `work` (the call) inside its span and records the outcome.
pub(crate) async fn traced<F>(
    call: &ToolCall,
    capture: Option<&ContentRedactor>,
    work: F,
) -> Result<ToolOutput, ToolError>
where
    F: Future<Output = Result<ToolOutput, ToolError>>,
{
    let span = tool_span(call);
    if span.is_disabled() {
        return work.await;
    }
    let started = Instant::now();
    if let Some(redact) = capture {
        span.record(sc::GEN_AI_TOOL_CALL_ARGUMENTS, redact(&call.arguments).as_str());
    }
    let output = work.instrument(span.clone()).await;
    let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
    span.record(sc::TOOLPLANE_TOOL_DURATION_US, micros);
    let failure = match &output {
        Ok(out) if out.is_error => Some("tool_error"),
        Ok(_) => None,
        Err(e) => Some(e.kind().as_str()),
    };
    match failure {
        None => {
            span.record(sc::TOOLPLANE_TOOL_OUTCOME, "ok");
        }
        Some(kind) => {
            span.record(sc::TOOLPLANE_TOOL_OUTCOME, kind);
            span.record(sc::ERROR_TYPE, kind);
            span.record(sc::OTEL_STATUS_CODE, sc::STATUS_ERROR);
        }
    }
    if let Some(redact) = capture {
        let text = match &output {
            Ok(out) => out.to_model_text(),
            Err(e) => e.to_model_text(),
        };
        span.record(sc::GEN_AI_TOOL_CALL_RESULT, redact(&text).as_str());
    }
    output
}
