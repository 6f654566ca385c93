//! The router's live state: lock-free cells that outcomes and feedback write
//! and selection reads.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU32, AtomicU64, Ordering, fence};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

/// An `f64` in an `AtomicU64`. `NaN` means "no data yet".
#[derive(Debug)]
pub(crate) struct AtomicF64(AtomicU64);

impl AtomicF64 {
    pub(crate) fn new(v: f64) -> Self {
        Self(AtomicU64::new(v.to_bits()))
    }

    pub(crate) fn missing() -> Self {
        Self::new(f64::NAN)
    }

    pub(crate) fn load(&self) -> f64 {
        f64::from_bits(self.0.load(Ordering::Relaxed))
    }

    pub(crate) fn get(&self) -> Option<f64> {
        let v = self.load();
        (!v.is_nan()).then_some(v)
    }

    pub(crate) fn store(&self, v: f64) {
        self.0.store(v.to_bits(), Ordering::Relaxed);
    }

    pub(crate) fn set_opt(&self, v: Option<f64>) {
        self.store(v.unwrap_or(f64::NAN));
    }

    /// Exponentially weighted moving average; the first sample is taken as is.
    pub(crate) fn ewma(&self, sample: f64, weight: f64) {
        let _ = self.0.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |bits| {
            let old = f64::from_bits(bits);
            let new = if old.is_nan() {
                sample
            } else {
                old + weight * (sample - old)
            };
            Some(new.to_bits())
        });
    }
}

/// A Beta posterior `(alpha, beta)` packed as two `f32` in one atomic, so an
/// update (decay, then evidence) is one compare-and-swap and a read is never torn.
#[derive(Debug)]
pub(crate) struct Posterior(AtomicU64);

fn pack(a: f64, b: f64) -> u64 {
    (u64::from((a as f32).to_bits()) << 32) | u64::from((b as f32).to_bits())
}

fn unpack(bits: u64) -> (f64, f64) {
    (
        f64::from(f32::from_bits((bits >> 32) as u32)),
        f64::from(f32::from_bits(bits as u32)),
    )
}

impl Posterior {
    pub(crate) fn new(alpha: f64, beta: f64) -> Self {
        Self(AtomicU64::new(pack(alpha, beta)))
    }

    pub(crate) fn get(&self) -> (f64, f64) {
        unpack(self.0.load(Ordering::Relaxed))
    }

    pub(crate) fn store(&self, a: f64, b: f64) {
        self.0.store(pack(a, b), Ordering::Relaxed);
    }

    /// Decays the evidence toward the prior by `gamma`, then adds a reward
    /// in `[0, 1]`. Returns the new `(alpha, beta)`.
    pub(crate) fn observe(&self, reward: f64, gamma: f64, prior: (f64, f64)) -> (f64, f64) {
        let r = reward.clamp(0.0, 1.0);
        let step = |bits: u64| {
            let (a, b) = unpack(bits);
            let a = prior.0 + gamma * (a - prior.0) + r;
            let b = prior.1 + gamma * (b - prior.1) + (1.0 - r);
            pack(a, b)
        };
        let old = self
            .0
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |bits| Some(step(bits)))
            .unwrap_or_else(|bits| bits);
        unpack(step(old))
    }
}

/// When the circuit breaker opens and for how long.
///
/// ```
/// use toolplane_router::BreakerConfig;
/// let b = BreakerConfig { failure_threshold: 2, ..BreakerConfig::default() };
/// assert_eq!(b.cooldown_ms, 30_000);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BreakerConfig {
    /// Consecutive failures that open the breaker.
    pub failure_threshold: u32,
    /// The first cooldown, in milliseconds; it doubles each time a half-open probe fails.
    pub cooldown_ms: u64,
    /// The longest cooldown, in milliseconds (also caps a provider's `retry-after`).
    pub max_cooldown_ms: u64,
    /// Open at once on a rate-limit error (429), for its `retry-after` or the cooldown.
    pub open_on_rate_limit: bool,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        Self {
            failure_threshold: 3,
            cooldown_ms: 30_000,
            max_cooldown_ms: 300_000,
            open_on_rate_limit: true,
        }
    }
}

/// The health of one expert as selection sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Health {
    Closed,
    Open { remaining_ms: u64 },
    HalfOpen,
}

/// A per-expert circuit breaker: closed, open until a time, then half-open
/// with one probe at a time.
#[derive(Debug, Default)]
pub(crate) struct Breaker {
    consecutive: AtomicU32,
    trips: AtomicU32,
    /// Nanoseconds on the router clock; 0 = closed.
    open_until: AtomicU64,
    probe: AtomicBool,
}

impl Breaker {
    pub(crate) fn health(&self, now: u64) -> Health {
        let until = self.open_until.load(Ordering::Acquire);
        if until == 0 {
            Health::Closed
        } else if now < until {
            Health::Open {
                remaining_ms: (until - now) / 1_000_000,
            }
        } else {
            Health::HalfOpen
        }
    }

    /// True when closed (one atomic load, no clock).
    pub(crate) fn is_closed(&self) -> bool {
        self.open_until.load(Ordering::Acquire) == 0
    }

    /// Claims the right to send a request: always when closed, once when half-open.
    pub(crate) fn try_acquire(&self, now: u64) -> bool {
        match self.health(now) {
            Health::Closed => true,
            Health::Open { .. } => false,
            Health::HalfOpen => self
                .probe
                .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
                .is_ok(),
        }
    }

    /// Gives back a claimed probe without a verdict (the call was not made).
    pub(crate) fn release(&self) {
        self.probe.store(false, Ordering::Release);
    }

    pub(crate) fn on_success(&self) {
        self.consecutive.store(0, Ordering::Relaxed);
        if self.open_until.swap(0, Ordering::AcqRel) != 0 {
            self.trips.store(0, Ordering::Relaxed);
        }
        self.probe.store(false, Ordering::Release);
    }

    /// Records a failure; opens when the threshold is reached, when `force`
    /// is set (rate limited) or when a half-open probe failed. Returns how
    /// long it opened for, in milliseconds, when it did.
    pub(crate) fn on_failure(
        &self,
        now: u64,
        cfg: &BreakerConfig,
        force: bool,
        retry_after: Option<Duration>,
    ) -> Option<u64> {
        let n = self.consecutive.fetch_add(1, Ordering::Relaxed).saturating_add(1);
        let was_probe = self.probe.swap(false, Ordering::AcqRel);
        if !(force || was_probe || n >= cfg.failure_threshold.max(1)) {
            return None;
        }
        let trips = self.trips.fetch_add(1, Ordering::Relaxed).min(16);
        let backoff = cfg.cooldown_ms.saturating_mul(1u64 << trips).min(cfg.max_cooldown_ms);
        let ms = match retry_after {
            Some(d) => (d.as_millis() as u64).min(cfg.max_cooldown_ms).max(1),
            None => backoff.max(1),
        };
        self.open_until.store(
            now.saturating_add(ms.saturating_mul(1_000_000)).max(1),
            Ordering::Release,
        );
        Some(ms)
    }

    /// Opens until `until` (router-clock nanoseconds) unless already open longer.
    pub(crate) fn open_until(&self, until: u64) {
        self.open_until.fetch_max(until.max(1), Ordering::AcqRel);
    }

    pub(crate) fn consecutive_failures(&self) -> u32 {
        self.consecutive.load(Ordering::Relaxed)
    }
}

/// The router's state about one expert for one task type: its win-rate
/// posterior and the figures last read from the stats source.
///
/// The posterior, its Marsaglia-Tsang constants and its pruning bound are
/// written together under a sequence lock (`seq` odd while a verdict writes),
/// so a reader can tell whether the three belong to one posterior.
#[derive(Debug)]
pub(crate) struct TaskCell {
    pub(crate) seq: AtomicU32,
    pub(crate) posterior: Posterior,
    /// Marsaglia-Tsang constants for the posterior's alpha and beta, kept
    /// up to date by verdicts and checked by the sampler.
    pub(crate) mt: Posterior,
    /// The pruning bounds `(q, P(X > q))` of the posterior, farthest first
    /// (see `sample::tail_bound`).
    pub(crate) bounds: [Posterior; 3],
    pub(crate) src_p95_ms: AtomicF64,
    pub(crate) src_success: AtomicF64,
    pub(crate) src_cost_1k: AtomicF64,
    pub(crate) src_win: AtomicF64,
    /// Which figures the stats source last gave as nonsense (NaN, infinite,
    /// negative, a rate outside `[0, 1]`): bits in the order of [`SRC_FIGURES`].
    pub(crate) src_rejected: AtomicU8,
}

/// The names of the figures read from the stats source, in bit order of `src_rejected`.
pub(crate) const SRC_FIGURES: [&str; 4] = ["latency_p95_ms", "success_rate", "cost_per_1k", "win_rate"];

/// The starting values of the cells of one prior, computed once (the
/// pruning bounds take an incomplete beta each) and copied into every cell.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CellInit {
    prior: (f64, f64),
    mt: (f64, f64),
    bounds: [(f64, f64); 3],
}

impl CellInit {
    pub(crate) fn new(prior: (f64, f64)) -> Self {
        let (a, b) = unpack(pack(prior.0, prior.1));
        Self {
            prior,
            mt: (crate::sample::mt_c(prior.0), crate::sample::mt_c(prior.1)),
            bounds: crate::sample::TAIL_Z.map(|z| crate::sample::tail_bound(a, b, z)),
        }
    }
}

impl TaskCell {
    pub(crate) fn new(init: &CellInit) -> Self {
        let prior = init.prior;
        Self {
            seq: AtomicU32::new(0),
            posterior: Posterior::new(prior.0, prior.1),
            mt: Posterior::new(init.mt.0, init.mt.1),
            bounds: init.bounds.map(|(q, delta)| Posterior::new(q, delta)),
            src_p95_ms: AtomicF64::missing(),
            src_success: AtomicF64::missing(),
            src_cost_1k: AtomicF64::missing(),
            src_win: AtomicF64::missing(),
            src_rejected: AtomicU8::new(0),
        }
    }

    /// Records a verdict: the posterior, its constants and its bound, under the lock.
    pub(crate) fn observe(&self, reward: f64, gamma: f64, prior: (f64, f64)) {
        let seq = self.lock();
        let (a, b) = self.posterior.observe(reward, gamma, prior);
        self.mt.store(crate::sample::mt_c(a), crate::sample::mt_c(b));
        for (cell, z) in self.bounds.iter().zip(crate::sample::TAIL_Z) {
            let (q, delta) = crate::sample::tail_bound(a, b, z);
            cell.store(q, delta);
        }
        self.seq.store(seq.wrapping_add(2), Ordering::Release);
    }

    /// Takes the writer side of the sequence lock; returns the even value it held.
    fn lock(&self) -> u32 {
        loop {
            let seq = self.seq.load(Ordering::Relaxed);
            if seq & 1 == 0
                && self
                    .seq
                    .compare_exchange_weak(seq, seq.wrapping_add(1), Ordering::Acquire, Ordering::Relaxed)
                    .is_ok()
            {
                fence(Ordering::Release);
                return seq;
            }
            std::hint::spin_loop();
        }
    }

    /// The posterior with its Marsaglia-Tsang constants and pruning bounds;
    /// the bounds are [`NO_BOUND`](crate::sample::NO_BOUND)
    /// when a verdict was writing meanwhile (the posterior itself is always
    /// one consistent pair).
    #[inline]
    pub(crate) fn read(&self) -> Snapshot {
        let s1 = self.seq.load(Ordering::Acquire);
        let ab = self.posterior.get();
        let mt = self.mt.get();
        let bounds = [self.bounds[0].get(), self.bounds[1].get(), self.bounds[2].get()];
        fence(Ordering::Acquire);
        let s2 = self.seq.load(Ordering::Relaxed);
        if s1 == s2 && s1 & 1 == 0 {
            Snapshot { ab, mt, bounds }
        } else {
            Snapshot {
                ab,
                mt,
                bounds: [crate::sample::NO_BOUND; 3],
            }
        }
    }
}

/// One consistent read of a [`TaskCell`]'s posterior: `(alpha, beta)`, the
/// Marsaglia-Tsang constants, and the bounds `(q, P(X > q))`, farthest first.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Snapshot {
    pub(crate) ab: (f64, f64),
    pub(crate) mt: (f64, f64),
    pub(crate) bounds: [(f64, f64); 3],
}

/// What the router knows about one expert across task types, updated in place.
#[derive(Debug, Default)]
pub(crate) struct ExpertState {
    pub(crate) breaker: Breaker,
    pub(crate) ewma_latency_ms: AtomicF64,
    pub(crate) ewma_success: AtomicF64,
    pub(crate) spent_nano_usd: AtomicU64,
}

impl Default for AtomicF64 {
    fn default() -> Self {
        Self::missing()
    }
}

impl ExpertState {
    pub(crate) fn spent_usd(&self) -> f64 {
        self.spent_nano_usd.load(Ordering::Relaxed) as f64 / 1e9
    }
}

/// Adds `usd` to a spend counter kept in nano-dollars.
pub(crate) fn add_spend(counter: &AtomicU64, usd: f64) {
    if usd.is_finite() && usd > 0.0 {
        counter.fetch_add((usd * 1e9) as u64, Ordering::Relaxed);
    }
}

/// The router's clock: real time, or a manual clock tests and simulations advance.
///
/// ```
/// use std::time::Duration;
/// use toolplane_router::ManualClock;
/// let clock = ManualClock::new();
/// clock.advance(Duration::from_secs(5));
/// assert_eq!(clock.now(), Duration::from_secs(5));
/// ```
#[derive(Debug, Clone, Default)]
pub struct ManualClock(Arc<AtomicU64>);

impl ManualClock {
    /// A clock at zero.
    pub fn new() -> Self {
        Self::default()
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: Duration) {
        self.0.fetch_add(by.as_nanos() as u64, Ordering::Relaxed);
    }

    /// Time since the clock started.
    pub fn now(&self) -> Duration {
        Duration::from_nanos(self.0.load(Ordering::Relaxed))
    }
}

#[derive(Debug, Clone)]
pub(crate) enum Clock {
    System(Instant),
    Manual(ManualClock),
}

impl Clock {
    /// Nanoseconds since the router started, plus one (so 0 can mean "never").
    pub(crate) fn now(&self) -> u64 {
        let d = match self {
            Self::System(epoch) => epoch.elapsed(),
            Self::Manual(m) => m.now(),
        };
        (d.as_nanos() as u64).saturating_add(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn posterior_decays_toward_prior_and_counts_evidence() {
        let p = Posterior::new(1.0, 1.0);
        for _ in 0..10 {
            let _ = p.observe(1.0, 1.0, (1.0, 1.0));
        }
        assert_eq!(p.get(), (11.0, 1.0));
        for _ in 0..2000 {
            let _ = p.observe(0.0, 0.99, (1.0, 1.0));
        }
        let (a, b) = p.get();
        assert!(a < 1.01, "old wins forgotten: {a}");
        assert!((b - 101.0).abs() < 0.5, "about 1/(1-gamma) losses kept: {b}");
    }

    #[test]
    fn breaker_opens_after_threshold_then_probes_once() {
        let cfg = BreakerConfig {
            failure_threshold: 2,
            cooldown_ms: 100,
            ..BreakerConfig::default()
        };
        let b = Breaker::default();
        let _ = b.on_failure(1, &cfg, false, None);
        assert_eq!(b.health(2), Health::Closed);
        let _ = b.on_failure(1, &cfg, false, None);
        assert!(matches!(b.health(2), Health::Open { .. }));
        let later = 1 + 100_000_000;
        assert_eq!(b.health(later), Health::HalfOpen);
        assert!(b.try_acquire(later));
        assert!(!b.try_acquire(later), "one probe at a time");
        let _ = b.on_failure(later, &cfg, false, None);
        // Second trip doubles the cooldown.
        assert!(matches!(b.health(later + 150_000_000), Health::Open { .. }));
        assert_eq!(b.health(later + 200_000_000), Health::HalfOpen);
        assert!(b.try_acquire(later + 200_000_000));
        b.on_success();
        assert_eq!(b.health(later + 200_000_000), Health::Closed);
    }

    #[test]
    fn breaker_honours_retry_after_capped() {
        let cfg = BreakerConfig::default();
        let b = Breaker::default();
        let _ = b.on_failure(1, &cfg, true, Some(Duration::from_secs(2)));
        assert_eq!(b.health(1 + 1_999_000_000), Health::Open { remaining_ms: 1 });
        assert_eq!(b.health(1 + 2_000_000_000), Health::HalfOpen);
        let c = Breaker::default();
        let _ = c.on_failure(1, &cfg, true, Some(Duration::from_secs(3600)));
        assert_eq!(
            c.health(1 + 300_000_000_000),
            Health::HalfOpen,
            "capped by max_cooldown_ms"
        );
    }

    #[test]
    fn ewma_starts_at_first_sample() {
        let a = AtomicF64::missing();
        assert_eq!(a.get(), None);
        a.ewma(100.0, 0.2);
        a.ewma(200.0, 0.2);
        assert_eq!(a.get(), Some(120.0));
    }
}
