//! Who is calling, for what, and until when.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

/// The party on whose behalf a call is made.
///
/// ```
/// use toolplane_core::Principal;
/// let p = Principal::new("alice").with_role("admin").with_team("platform");
/// assert!(p.has_role("admin"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Principal {
    /// A stable id (user, service account, API key id).
    pub id: String,
    /// Roles, for permission rules.
    #[serde(default)]
    pub roles: Vec<String>,
    /// A team, for shared budgets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
}

impl Principal {
    /// A principal with an id.
    pub fn new(id: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            roles: Vec::new(),
            team: None,
        }
    }

    /// Adds a role.
    pub fn with_role(mut self, role: impl Into<String>) -> Self {
        self.roles.push(role.into());
        self
    }

    /// Sets the team.
    pub fn with_team(mut self, team: impl Into<String>) -> Self {
        self.team = Some(team.into());
        self
    }

    /// True when the principal holds `role`.
    pub fn has_role(&self, role: &str) -> bool {
        self.roles.iter().any(|r| r == role)
    }
}

/// Typed values a host attaches to a context, one per type.
///
/// Values are shared (`Arc`), so cloning a context is cheap.
#[derive(Clone, Default)]
pub struct Extensions {
    map: HashMap<TypeId, Arc<dyn Any + Send + Sync>>,
}

impl Extensions {
    /// Stores a value, replacing one of the same type.
    pub fn insert<T: Send + Sync + 'static>(&mut self, value: T) {
        self.map.insert(TypeId::of::<T>(), Arc::new(value));
    }

    /// The value of type `T`, if any.
    pub fn get<T: Send + Sync + 'static>(&self) -> Option<&T> {
        self.map.get(&TypeId::of::<T>()).and_then(|v| v.downcast_ref::<T>())
    }

    /// Number of values.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

impl fmt::Debug for Extensions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Extensions").field("len", &self.map.len()).finish()
    }
}

/// A flag a host sets to cancel work in flight. Cheap to clone; all clones
/// share one flag.
///
/// Work notices a cancel in one of two ways: by checking
/// [`CancelFlag::is_cancelled`] between steps, or by awaiting
/// [`CancelFlag::cancelled`], which completes as soon as any clone calls
/// [`CancelFlag::cancel`] (no timer, no polling: the waiting tasks' wakers
/// are woken by the cancel itself). Works on any executor; std only.
///
/// ```
/// use toolplane_core::CancelFlag;
/// let flag = CancelFlag::new();
/// let seen_by_worker = flag.clone();
/// flag.cancel();
/// assert!(seen_by_worker.is_cancelled());
/// ```
///
/// Racing work against a cancel:
///
/// ```
/// use toolplane_core::CancelFlag;
/// # let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
/// # rt.block_on(async {
/// let flag = CancelFlag::new();
/// let host = flag.clone();
/// tokio::spawn(async move { host.cancel() });
/// let outcome = tokio::select! {
///     () = flag.cancelled() => "cancelled",
///     () = tokio::time::sleep(std::time::Duration::from_secs(3600)) => "finished",
/// };
/// assert_eq!(outcome, "cancelled");
/// # });
/// ```
#[derive(Debug, Clone, Default)]
pub struct CancelFlag(Arc<CancelShared>);

#[derive(Debug, Default)]
struct CancelShared {
    set: AtomicBool,
    waiters: Mutex<Waiters>,
}

/// The tasks waiting in [`CancelFlag::cancelled`], each under a key so a
/// dropped wait removes its own waker.
#[derive(Debug, Default)]
struct Waiters {
    next_key: u64,
    wakers: Vec<(u64, Waker)>,
}

impl CancelShared {
    fn waiters(&self) -> MutexGuard<'_, Waiters> {
        // A panic while holding this lock cannot leave the list inconsistent
        // (each operation is one push, retain or take), so poisoning is ignored.
        self.waiters.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl CancelFlag {
    /// A flag not yet set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the flag and wakes every task awaiting [`CancelFlag::cancelled`].
    /// Setting it again does nothing.
    pub fn cancel(&self) {
        if self.0.set.swap(true, Ordering::AcqRel) {
            return;
        }
        let wakers = std::mem::take(&mut self.0.waiters().wakers);
        for (_, waker) in wakers {
            waker.wake();
        }
    }

    /// True once set.
    pub fn is_cancelled(&self) -> bool {
        self.0.set.load(Ordering::Acquire)
    }

    /// A future that completes once the flag is set (at once if it already
    /// is). It holds a clone of the flag, so it may outlive `self`; dropping
    /// it unregisters it.
    pub fn cancelled(&self) -> Cancelled {
        Cancelled {
            flag: self.clone(),
            key: None,
        }
    }
}

/// The future returned by [`CancelFlag::cancelled`].
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct Cancelled {
    flag: CancelFlag,
    key: Option<u64>,
}

impl Future for Cancelled {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let shared = Arc::clone(&self.flag.0);
        if shared.set.load(Ordering::Acquire) {
            return Poll::Ready(());
        }
        let mut waiters = shared.waiters();
        // Checked again under the lock: `cancel` sets the flag before it takes
        // the list, so a waker stored after this check is always woken.
        if shared.set.load(Ordering::Acquire) {
            return Poll::Ready(());
        }
        match self.key {
            Some(key) => match waiters.wakers.iter_mut().find(|(k, _)| *k == key) {
                Some((_, w)) => {
                    if !w.will_wake(cx.waker()) {
                        w.clone_from(cx.waker());
                    }
                }
                None => waiters.wakers.push((key, cx.waker().clone())),
            },
            None => {
                let key = waiters.next_key;
                waiters.next_key += 1;
                waiters.wakers.push((key, cx.waker().clone()));
                drop(waiters);
                self.key = Some(key);
            }
        }
        Poll::Pending
    }
}

impl Drop for Cancelled {
    fn drop(&mut self) {
        if let Some(key) = self.key {
            self.flag.0.waiters().wakers.retain(|(k, _)| *k != key);
        }
    }
}

/// The circumstances of one call: who, what kind of task, which request, until
/// when, and the host's own typed data.
///
/// ```
/// use std::time::Duration;
/// use toolplane_core::{CallContext, Principal};
/// let ctx = CallContext::new("req-42")
///     .with_principal(Principal::new("alice"))
///     .with_timeout(Duration::from_secs(30));
/// assert_eq!(ctx.principal_id(), "alice");
/// assert!(ctx.remaining().unwrap() <= Duration::from_secs(30));
/// ```
///
/// The request id lives here (it correlates a chat call with every tool call
/// and audit record it sets off); the task type lives in the request
/// (`ChatRequest::metadata.task_type`), see
/// [`RequestMetadata`](crate::RequestMetadata) for why.
#[derive(Debug, Clone, Default)]
pub struct CallContext {
    /// Correlates logs, audit records, metrics and feedback: the one home of
    /// a call's request id.
    pub request_id: String,
    /// Who the call is made for; `None` means anonymous.
    pub principal: Option<Principal>,
    /// **Deprecated**: the task type lives in `ChatRequest::metadata.task_type`
    /// (`ChatRequest::with_task_type`); set it there. Kept (without the
    /// `#[deprecated]` attribute, so crates built with `-D warnings` that
    /// still read it keep compiling) until the next breaking release.
    pub task_type: Option<String>,
    /// When the work must be done.
    pub deadline: Option<Instant>,
    /// Set by the host to cancel.
    pub cancel: CancelFlag,
    /// The host's own data.
    pub extensions: Extensions,
}

impl CallContext {
    /// A context with a request id.
    pub fn new(request_id: impl Into<String>) -> Self {
        Self {
            request_id: request_id.into(),
            ..Self::default()
        }
    }

    /// Sets the principal.
    pub fn with_principal(mut self, principal: Principal) -> Self {
        self.principal = Some(principal);
        self
    }

    /// Sets the deprecated context task type.
    #[deprecated(
        since = "0.1.0",
        note = "set the task type on the request: `ChatRequest::with_task_type`"
    )]
    pub fn with_task_type(mut self, task_type: impl Into<String>) -> Self {
        self.task_type = Some(task_type.into());
        self
    }

    /// Sets the deadline.
    pub fn with_deadline(mut self, deadline: Instant) -> Self {
        self.deadline = Some(deadline);
        self
    }

    /// Sets the deadline `timeout` from now.
    pub fn with_timeout(self, timeout: Duration) -> Self {
        self.with_deadline(Instant::now() + timeout)
    }

    /// Stores a typed value.
    pub fn with_extension<T: Send + Sync + 'static>(mut self, value: T) -> Self {
        self.extensions.insert(value);
        self
    }

    /// The principal's id, or `"anonymous"`.
    pub fn principal_id(&self) -> &str {
        self.principal.as_ref().map_or("anonymous", |p| p.id.as_str())
    }

    /// Time left before the deadline (zero once passed), or `None` without one.
    pub fn remaining(&self) -> Option<Duration> {
        self.deadline.map(|d| d.saturating_duration_since(Instant::now()))
    }

    /// True when the deadline has passed.
    pub fn is_expired(&self) -> bool {
        self.remaining() == Some(Duration::ZERO)
    }
}

/// A human's approval of one pending tool call, carried in a context's
/// [`Extensions`] when the call is run again.
///
/// A permission interceptor that answered "ask" (a
/// [`ToolErrorKind::ApprovalRequired`](crate::ToolErrorKind::ApprovalRequired)
/// error whose details describe the request) issues the token once a human
/// approves; the interceptor checks it is bound to the same principal, tool
/// definition and arguments, and consumes it.
///
/// ```
/// use toolplane_core::{ApprovalToken, CallContext};
/// let ctx = CallContext::new("r1").with_extension(ApprovalToken("tok-123".into()));
/// assert_eq!(ctx.extensions.get::<ApprovalToken>().unwrap().0, "tok-123");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ApprovalToken(pub String);

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use std::task::Wake;

    struct CountingWaker(AtomicUsize);

    impl Wake for CountingWaker {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn poll_once(fut: &mut Cancelled, waker: &Arc<CountingWaker>) -> Poll<()> {
        let waker = Waker::from(Arc::clone(waker));
        Pin::new(fut).poll(&mut Context::from_waker(&waker))
    }

    #[test]
    fn a_waiting_task_is_woken_once_by_the_cancel_and_then_ready() {
        let flag = CancelFlag::new();
        let waker = Arc::new(CountingWaker(AtomicUsize::new(0)));
        let mut wait = flag.cancelled();
        assert_eq!(poll_once(&mut wait, &waker), Poll::Pending);
        assert_eq!(poll_once(&mut wait, &waker), Poll::Pending);
        assert_eq!(flag.0.waiters().wakers.len(), 1, "a re-poll does not register twice");
        flag.clone().cancel();
        flag.cancel();
        assert_eq!(waker.0.load(Ordering::SeqCst), 1);
        assert_eq!(poll_once(&mut wait, &waker), Poll::Ready(()));
        let mut late = flag.cancelled();
        assert_eq!(poll_once(&mut late, &waker), Poll::Ready(()));
    }

    #[test]
    fn a_dropped_wait_leaves_no_waker_behind() {
        let flag = CancelFlag::new();
        let waker = Arc::new(CountingWaker(AtomicUsize::new(0)));
        for _ in 0..100 {
            let mut wait = flag.cancelled();
            assert_eq!(poll_once(&mut wait, &waker), Poll::Pending);
        }
        assert!(flag.0.waiters().wakers.is_empty());
        flag.cancel();
        assert_eq!(waker.0.load(Ordering::SeqCst), 0);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_cancel_from_another_thread_ends_the_wait() {
        let flag = CancelFlag::new();
        let remote = flag.clone();
        let thread = std::thread::spawn(move || remote.cancel());
        flag.cancelled().await;
        assert!(flag.is_cancelled());
        thread.join().unwrap();
    }
}
