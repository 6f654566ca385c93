//! [`OutputCap`]: bounds what any [`ToolExecutor`] hands back to a model.

use std::io;
use std::sync::Arc;

use async_trait::async_trait;
use serde_json::Value;
use toolplane_core::{CallContext, ToolCall, ToolError, ToolExecutor, ToolOutput, ToolSpec};

/// Cuts the model text of `inner`'s output, and of its error messages, to at
/// most `max_bytes` (at a character boundary), marking what was cut: the
/// output gets `truncated = true` and a note saying how much was kept; an
/// error keeps its kind, details and retry-after.
///
/// ```
/// use toolplane_registry::{Executor, OutputCap, ToolRegistry};
/// let capped = OutputCap::new(Executor::new(ToolRegistry::new()), 16 * 1024);
/// assert_eq!(capped.max_bytes(), 16 * 1024);
/// ```
#[derive(Debug, Clone)]
pub struct OutputCap<E> {
    inner: E,
    max_bytes: usize,
}

impl<E> OutputCap<E> {
    /// Caps `inner`'s output and errors at `max_bytes` bytes of model text.
    pub fn new(inner: E, max_bytes: usize) -> Self {
        Self { inner, max_bytes }
    }

    /// The cap, in bytes.
    pub fn max_bytes(&self) -> usize {
        self.max_bytes
    }

    /// The wrapped executor.
    pub fn get_ref(&self) -> &E {
        &self.inner
    }
}

#[async_trait]
impl<E: ToolExecutor> ToolExecutor for OutputCap<E> {
    fn specs(&self) -> Arc<[ToolSpec]> {
        self.inner.specs()
    }

    async fn execute(&self, call: &ToolCall, ctx: &CallContext) -> Result<ToolOutput, ToolError> {
        match self.inner.execute(call, ctx).await {
            Ok(out) => Ok(cap_output(out, self.max_bytes)),
            Err(e) => Err(cap_error(e, self.max_bytes)),
        }
    }
}

/// Cuts output whose model text exceeds `max` bytes, at a character boundary,
/// and appends a marker saying how much was kept.
pub(crate) fn cap_output(mut out: ToolOutput, max: usize) -> ToolOutput {
    let fits = match &out.content {
        Value::String(s) => s.len() <= max,
        other => serde_json::to_writer(LimitWriter { left: max }, other).is_ok(),
    };
    if fits {
        return out;
    }
    let text = out.to_model_text();
    let mut cut = max.min(text.len());
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    let mut kept = text[..cut].to_string();
    kept.push_str(&format!(
        "\n[truncated: showing the first {cut} of {} bytes; ask for less data]",
        text.len()
    ));
    out.content = Value::String(kept);
    out.truncated = true;
    out
}

/// Cuts an error message longer than `max` bytes (an upstream body pasted
/// into it, say); kind, details and retry-after are kept.
pub(crate) fn cap_error(e: ToolError, max: usize) -> ToolError {
    if e.message().len() <= max {
        return e;
    }
    let text = e.message();
    let mut cut = max;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    let mut capped = ToolError::new(
        e.kind(),
        format!(
            "{} [truncated: showing the first {cut} of {} bytes]",
            &text[..cut],
            text.len()
        ),
    );
    if let Some(d) = e.details() {
        capped = capped.with_details(d.clone());
    }
    if let Some(after) = e.retry_after() {
        capped = capped.with_retry_after(after);
    }
    capped.with_source(e)
}

/// A sink that fails once more than `left` bytes are written: measures JSON
/// size without building the text.
struct LimitWriter {
    left: usize,
}

impl io::Write for LimitWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if buf.len() > self.left {
            return Err(io::Error::other("output limit"));
        }
        self.left -= buf.len();
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::time::Duration;
    use toolplane_core::ToolErrorKind;

    #[test]
    fn cap_error_keeps_kind_and_retry_after() {
        let e = ToolError::upstream("x".repeat(500)).with_retry_after(Duration::from_secs(3));
        let c = cap_error(e, 100);
        assert_eq!(c.kind(), ToolErrorKind::Upstream);
        assert_eq!(c.retry_after(), Some(Duration::from_secs(3)));
        assert!(c.message().ends_with("[truncated: showing the first 100 of 500 bytes]"));
        assert!(std::error::Error::source(&c).is_some());
        let small = cap_error(ToolError::internal("short"), 100);
        assert_eq!(small.message(), "short");
    }

    #[test]
    fn cap_output_cuts_at_char_boundaries_and_marks() {
        let out = cap_output(ToolOutput::text("ééééé"), 3);
        assert!(out.truncated);
        let text = out.to_model_text();
        assert!(
            text.starts_with("é\n[truncated: showing the first 2 of 10 bytes"),
            "{text}"
        );
        let small = cap_output(ToolOutput::json(json!({"a": 1})), 100);
        assert!(!small.truncated);
        let big = cap_output(ToolOutput::json(json!({"a": "x".repeat(200)})), 100);
        assert!(big.truncated);
        assert!(big.to_model_text().starts_with("{\"a\":\"xxx"));
    }
}
