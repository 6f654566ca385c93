//! Racing work against the caller's cancel flag and deadline.

use std::future::Future;
use std::pin::pin;
use std::time::Duration;

use futures_util::future::{Either, select};
use toolplane_core::CallContext;

use super::StopCause;

/// How often a waiting run looks at the cancel flag and the deadline.
const INTERRUPT_POLL: Duration = Duration::from_millis(5);

/// Runs `work` unless the context is cancelled or its deadline passes first.
/// `work` is polled first, so work that is ready never starts a timer.
pub(super) async fn race<T>(work: impl Future<Output = T>, ctx: &CallContext) -> Either<T, StopCause> {
    match select(pin!(work), pin!(interrupted(ctx))).await {
        Either::Left((value, _)) => Either::Left(value),
        Either::Right((cause, _)) => Either::Right(cause),
    }
}

async fn interrupted(ctx: &CallContext) -> StopCause {
    loop {
        if ctx.cancel.is_cancelled() {
            return StopCause::Cancelled;
        }
        let wait = match ctx.remaining() {
            Some(Duration::ZERO) => return StopCause::Deadline,
            Some(left) => left.min(INTERRUPT_POLL),
            None => INTERRUPT_POLL,
        };
        tokio::time::sleep(wait).await;
    }
}
