//! Racing work against the caller's cancel flag and deadline.

use std::future::Future;
use std::pin::pin;

use futures_util::future::{Either, select};
use toolplane_core::CallContext;

use super::StopCause;

/// Runs `work` unless the context is cancelled or its deadline passes first.
/// `work` is polled first, so work that is ready never starts a timer.
pub(super) async fn race<T>(work: impl Future<Output = T>, ctx: &CallContext) -> Either<T, StopCause> {
    match select(pin!(work), pin!(interrupted(ctx))).await {
        Either::Left((value, _)) => Either::Left(value),
        Either::Right((cause, _)) => Either::Right(cause),
    }
}

/// Completes when the cancel flag is set (woken by the cancel itself) or the
/// deadline passes (one timer for the deadline, none without one). A flag
/// already set wins over a deadline already passed.
async fn interrupted(ctx: &CallContext) -> StopCause {
    let cancelled = pin!(ctx.cancel.cancelled());
    let Some(deadline) = ctx.deadline else {
        cancelled.await;
        return StopCause::Cancelled;
    };
    let expired = pin!(tokio::time::sleep_until(deadline.into()));
    match select(cancelled, expired).await {
        Either::Left(_) => StopCause::Cancelled,
        Either::Right(_) => StopCause::Deadline,
    }
}
