//! [`Timeout`]: a time bound around any [`ToolExecutor`].

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use toolplane_core::{CallContext, ToolCall, ToolError, ToolExecutor, ToolOutput, ToolSpec};

/// Bounds each call of `inner` by a duration and by the context's deadline,
/// whichever ends first; a call that overruns is dropped (its future is no
/// longer polled) and answered with a `timeout` [`ToolError`].
///
/// Needs a tokio runtime with the time driver (`enable_time` or `enable_all`)
/// whenever a bound applies. The registry's [`Executor`](crate::Executor)
/// puts one outside its concurrency limit, so waiting for a permit counts.
///
/// ```
/// use std::time::Duration;
/// use toolplane_core::{CallContext, ToolCall, ToolErrorKind, ToolExecutor};
/// use toolplane_registry::{Executor, Timeout};
/// # #[derive(Debug)] struct Slow(toolplane_core::ToolSpec);
/// # #[toolplane_core::async_trait]
/// # impl toolplane_core::Tool for Slow {
/// #     fn spec(&self) -> &toolplane_core::ToolSpec { &self.0 }
/// #     async fn call(&self, _: &serde_json::Value, _: &CallContext)
/// #         -> Result<toolplane_core::ToolOutput, toolplane_core::ToolError> {
/// #         tokio::time::sleep(Duration::from_secs(60)).await; Ok(toolplane_core::ToolOutput::text("late"))
/// #     }
/// # }
/// # let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
/// # rt.block_on(async {
/// let exec = Executor::from_tools([std::sync::Arc::new(Slow(toolplane_core::ToolSpec::new("slow", "Slow."))) as _])?;
/// let bounded = Timeout::new(exec, Duration::from_millis(10));
/// let err = bounded.execute(&ToolCall::new("1", "slow", "{}"), &CallContext::new("r")).await.unwrap_err();
/// assert_eq!(err.kind(), ToolErrorKind::Timeout);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # }).unwrap();
/// ```
#[derive(Debug, Clone)]
pub struct Timeout<E> {
    inner: E,
    limit: Option<Duration>,
}

impl<E> Timeout<E> {
    /// Bounds every call of `inner` by `limit` (and by the context's deadline).
    pub fn new(inner: E, limit: Duration) -> Self {
        Self {
            inner,
            limit: Some(limit),
        }
    }

    /// Bounds calls of `inner` by the context's deadline only (no fixed limit).
    pub fn deadline_only(inner: E) -> Self {
        Self { inner, limit: None }
    }

    /// The fixed limit, if any.
    pub fn limit(&self) -> Option<Duration> {
        self.limit
    }

    /// The wrapped executor.
    pub fn get_ref(&self) -> &E {
        &self.inner
    }

    /// The limit that applies to a call made under `ctx`: the sooner of the
    /// fixed limit and the time left before the deadline.
    fn bound(&self, ctx: &CallContext) -> Option<Duration> {
        match (self.limit, ctx.remaining()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

#[async_trait]
impl<E: ToolExecutor> ToolExecutor for Timeout<E> {
    fn specs(&self) -> Arc<[ToolSpec]> {
        self.inner.specs()
    }

    async fn execute(&self, call: &ToolCall, ctx: &CallContext) -> Result<ToolOutput, ToolError> {
        let run = self.inner.execute(call, ctx);
        match self.bound(ctx) {
            None => run.await,
            Some(limit) => tokio::time::timeout(limit, run).await.unwrap_or_else(|_| {
                Err(ToolError::timeout(format!(
                    "`{}` did not finish within {} ms",
                    call.name,
                    limit.as_millis()
                )))
            }),
        }
    }
}
