//! [`ConcurrencyLimit`]: at most N calls of any [`ToolExecutor`] at once.

use std::sync::Arc;

use async_trait::async_trait;
use futures_util::future::{Either, select};
use tokio::sync::Semaphore;
use toolplane_core::{CallContext, ToolCall, ToolError, ToolErrorKind, ToolExecutor, ToolOutput, ToolSpec};

/// Lets at most `max` calls of `inner` run at once; the others wait their
/// turn (first come, first served). A call cancelled while it waits leaves
/// the queue with a `cancelled` [`ToolError`] and never runs. Clones share
/// one limit.
///
/// ```
/// use toolplane_registry::{ConcurrencyLimit, Executor, ToolRegistry};
/// let limited = ConcurrencyLimit::new(Executor::new(ToolRegistry::new()), 4);
/// assert_eq!(limited.max(), 4);
/// ```
#[derive(Debug, Clone)]
pub struct ConcurrencyLimit<E> {
    inner: E,
    permits: Arc<Semaphore>,
    max: usize,
}

impl<E> ConcurrencyLimit<E> {
    /// At most `max` concurrent calls (`0` is taken as 1).
    pub fn new(inner: E, max: usize) -> Self {
        let max = max.clamp(1, Semaphore::MAX_PERMITS);
        Self {
            inner,
            permits: Arc::new(Semaphore::new(max)),
            max,
        }
    }

    /// The limit.
    pub fn max(&self) -> usize {
        self.max
    }

    /// The wrapped executor.
    pub fn get_ref(&self) -> &E {
        &self.inner
    }
}

fn cancelled(call: &ToolCall) -> ToolError {
    ToolError::new(ToolErrorKind::Cancelled, format!("`{}` was cancelled", call.name))
}

#[async_trait]
impl<E: ToolExecutor> ToolExecutor for ConcurrencyLimit<E> {
    fn specs(&self) -> Arc<[ToolSpec]> {
        self.inner.specs()
    }

    async fn execute(&self, call: &ToolCall, ctx: &CallContext) -> Result<ToolOutput, ToolError> {
        let permit = match self.permits.try_acquire() {
            Ok(p) => p,
            Err(_) => {
                let wait = std::pin::pin!(self.permits.acquire());
                match select(wait, ctx.cancel.cancelled()).await {
                    Either::Left((p, _)) => p.map_err(|_| ToolError::internal("the executor is shutting down"))?,
                    Either::Right(((), _)) => return Err(cancelled(call)),
                }
            }
        };
        if ctx.cancel.is_cancelled() {
            return Err(cancelled(call));
        }
        let out = self.inner.execute(call, ctx).await;
        drop(permit);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Executor;
    use toolplane_core::{Tool, ToolCall};

    /// Waits until its context is cancelled.
    #[derive(Debug)]
    struct UntilCancelled(ToolSpec);

    #[async_trait]
    impl Tool for UntilCancelled {
        fn spec(&self) -> &ToolSpec {
            &self.0
        }
        async fn call(&self, _args: &serde_json::Value, ctx: &CallContext) -> Result<ToolOutput, ToolError> {
            ctx.cancel.cancelled().await;
            Ok(ToolOutput::text("saw the cancel"))
        }
    }

    #[tokio::test]
    async fn a_call_cancelled_while_waiting_for_a_permit_never_runs() {
        let exec = Executor::from_tools([Arc::new(UntilCancelled(ToolSpec::new("wait", "Waits."))) as _]).unwrap();
        let limited = ConcurrencyLimit::new(exec, 1);
        let holder_ctx = CallContext::new("holder");
        let waiter_ctx = CallContext::new("waiter");
        let (first, second) = (ToolCall::new("1", "wait", "{}"), ToolCall::new("2", "wait", "{}"));
        // join! polls in order on one task: the holder takes the only permit
        // on its first poll and waits for its cancel; the waiter queues.
        let holder = limited.execute(&first, &holder_ctx);
        let waiter = limited.execute(&second, &waiter_ctx);
        let cancel_waiter = async {
            tokio::task::yield_now().await;
            waiter_ctx.cancel.cancel();
        };
        let (held, waited, ()) = tokio::join!(
            holder,
            async {
                let out = waiter.await;
                holder_ctx.cancel.cancel();
                out
            },
            cancel_waiter
        );
        assert_eq!(waited.unwrap_err().kind(), ToolErrorKind::Cancelled);
        assert_eq!(held.unwrap().to_model_text(), "saw the cancel");
    }
}
