//! Wall-clock time for timestamps and windows, injectable for tests.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Where the collector reads "now" (for record timestamps and retention).
///
/// Latency is measured with [`std::time::Instant`] and never with this clock.
pub trait Clock: Send + Sync + fmt::Debug {
    /// The current time.
    fn now(&self) -> SystemTime;
}

/// The system clock ([`SystemTime::now`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// A clock set and advanced by hand, for tests and simulations.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use toolplane_metrics::{Clock, ManualClock};
/// let clock = ManualClock::new(UNIX_EPOCH + Duration::from_secs(600));
/// clock.advance(Duration::from_secs(60));
/// assert_eq!(clock.now(), UNIX_EPOCH + Duration::from_secs(660));
/// ```
#[derive(Debug, Default)]
pub struct ManualClock {
    millis: AtomicU64,
}

impl ManualClock {
    /// A clock reading `at` (times before the Unix epoch read as the epoch).
    pub fn new(at: SystemTime) -> Self {
        Self {
            millis: AtomicU64::new(unix_millis(at)),
        }
    }

    /// Sets the time.
    pub fn set(&self, at: SystemTime) {
        self.millis.store(unix_millis(at), Ordering::Relaxed);
    }

    /// Moves the time forward.
    pub fn advance(&self, by: Duration) {
        let add = u64::try_from(by.as_millis()).unwrap_or(u64::MAX);
        let _ = self
            .millis
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |m| Some(m.saturating_add(add)));
    }
}

impl Clock for ManualClock {
    fn now(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(self.millis.load(Ordering::Relaxed))
    }
}

/// Milliseconds since the Unix epoch (0 before it).
pub(crate) fn unix_millis(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// The minute index (minutes since the Unix epoch) that holds `t`.
pub(crate) fn minute_of(t: SystemTime) -> i64 {
    i64::try_from(unix_millis(t) / 60_000).unwrap_or(i64::MAX)
}
