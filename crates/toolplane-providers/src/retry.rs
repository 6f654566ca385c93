//! The one retry policy: exponential backoff with full jitter, capped, for
//! retryable error kinds only, honouring the provider's `retry-after`.
//!
//! Streams are retried only until the first event reaches the caller; after
//! that an error is returned as it is (the providers enforce this, the policy
//! only answers "how long to wait before attempt `n`").

use std::time::Duration;

use rand::Rng;
use toolplane_core::ProviderError;

/// When and how often to retry a failed call.
///
/// ```
/// use std::time::Duration;
/// use toolplane_core::{ProviderError, ProviderErrorKind};
/// use toolplane_providers::RetryPolicy;
/// let policy = RetryPolicy::default().with_max_retries(3);
/// let limited = ProviderError::new(ProviderErrorKind::RateLimited, "openai", "slow down")
///     .with_retry_after(Duration::from_secs(2));
/// assert_eq!(policy.delay(0, &limited), Some(Duration::from_secs(2)));
/// let bad = ProviderError::new(ProviderErrorKind::InvalidRequest, "openai", "bad");
/// assert_eq!(policy.delay(0, &bad), None);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// Retries after the first attempt (0 turns retrying off).
    pub max_retries: u32,
    /// The backoff before the first retry.
    pub initial_backoff: Duration,
    /// The longest backoff; also caps a provider's `retry-after`.
    pub max_backoff: Duration,
    /// Growth factor per attempt.
    pub multiplier: f64,
    /// Randomize each backoff between half and all of its value.
    pub jitter: bool,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 2,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
            multiplier: 2.0,
            jitter: true,
        }
    }
}

impl RetryPolicy {
    /// A policy that never retries.
    pub fn none() -> Self {
        Self {
            max_retries: 0,
            ..Self::default()
        }
    }

    /// Sets the retry count.
    pub fn with_max_retries(mut self, n: u32) -> Self {
        self.max_retries = n;
        self
    }

    /// Sets the first and the longest backoff.
    pub fn with_backoff(mut self, initial: Duration, max: Duration) -> Self {
        self.initial_backoff = initial;
        self.max_backoff = max;
        self
    }

    /// Turns jitter on or off.
    pub fn with_jitter(mut self, jitter: bool) -> Self {
        self.jitter = jitter;
        self
    }

    /// The backoff before retry number `retry` (0-based) without jitter,
    /// capped at `max_backoff`.
    pub fn backoff(&self, retry: u32) -> Duration {
        let factor = self.multiplier.max(1.0).powi(retry.min(64) as i32);
        let secs = self.initial_backoff.as_secs_f64() * factor;
        let max = self.max_backoff.as_secs_f64();
        Duration::from_secs_f64(if secs.is_finite() { secs.min(max) } else { max })
    }

    /// How long to wait before retry number `retry` (0-based) after `err`,
    /// or `None` when the call must not be retried: the kind is not
    /// retryable, the retries are used up, or the provider's `retry-after`
    /// is longer than `max_backoff`.
    pub fn delay(&self, retry: u32, err: &ProviderError) -> Option<Duration> {
        if retry >= self.max_retries || !err.is_retryable() {
            return None;
        }
        if let Some(after) = err.retry_after() {
            return (after <= self.max_backoff).then_some(after);
        }
        let base = self.backoff(retry);
        if !self.jitter || base.is_zero() {
            return Some(base);
        }
        let half = base / 2;
        let extra = rand::rng().random_range(0..=half.as_nanos().min(u128::from(u64::MAX)) as u64);
        Some(half + Duration::from_nanos(extra))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use toolplane_core::ProviderErrorKind;

    #[test]
    fn backoff_grows_and_is_capped() {
        let p = RetryPolicy::default()
            .with_backoff(Duration::from_millis(100), Duration::from_secs(1))
            .with_max_retries(10)
            .with_jitter(false);
        let e = ProviderError::new(ProviderErrorKind::Server, "p", "boom");
        assert_eq!(p.delay(0, &e), Some(Duration::from_millis(100)));
        assert_eq!(p.delay(1, &e), Some(Duration::from_millis(200)));
        assert_eq!(p.delay(5, &e), Some(Duration::from_secs(1)));
        assert_eq!(p.delay(10, &e), None);
    }

    #[test]
    fn jitter_stays_within_half_and_full() {
        let p = RetryPolicy::default().with_max_retries(3);
        let e = ProviderError::new(ProviderErrorKind::Overloaded, "p", "busy");
        for _ in 0..100 {
            let d = p.delay(1, &e).expect("retryable");
            assert!(d >= Duration::from_millis(500) && d <= Duration::from_secs(1), "{d:?}");
        }
    }

    #[test]
    fn retry_after_too_long_is_not_waited_for() {
        let p = RetryPolicy::default();
        let e = ProviderError::new(ProviderErrorKind::RateLimited, "p", "later")
            .with_retry_after(Duration::from_secs(3600));
        assert_eq!(p.delay(0, &e), None);
        assert_eq!(RetryPolicy::none().delay(0, &e.with_retry_after(Duration::ZERO)), None);
    }
}
