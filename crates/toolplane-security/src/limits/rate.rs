//! Local rate limits: governor's GCRA in a sharded, bounded keyed map.

use std::hash::{BuildHasher, Hash, RandomState};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use governor::clock::{Clock, DefaultClock};
use governor::state::keyed::HashMapStateStore;
use governor::{Quota, RateLimiter};
use parking_lot::RwLock;

use super::{LimitError, RateLimit};

type Shard = RateLimiter<u64, HashMapStateStore<u64>, DefaultClock>;

/// What a rate limit is keyed by. Absent parts are left out of the key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RateKey<'a> {
    /// The principal's id.
    pub principal: Option<&'a str>,
    /// The tool's name.
    pub tool: Option<&'a str>,
    /// The provider's name.
    pub provider: Option<&'a str>,
}

impl RateKey<'_> {
    /// A readable key, for errors and the Redis key name.
    pub fn to_key_string(&self) -> String {
        let mut s = String::new();
        for (label, part) in [
            ("principal", self.principal),
            ("tool", self.tool),
            ("provider", self.provider),
        ] {
            if let Some(p) = part {
                if !s.is_empty() {
                    s.push('|');
                }
                s.push_str(label);
                s.push('=');
                s.push_str(p);
            }
        }
        s
    }
}

/// `limit` calls per `per`, with bursts of up to `burst` calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateQuota {
    /// Calls per period.
    pub limit: u32,
    /// The period.
    pub per: Duration,
    /// The most calls (cost units) at once.
    pub burst: u32,
}

impl RateQuota {
    /// `limit` per minute with a burst of `limit`.
    pub fn per_minute(limit: u32) -> Self {
        Self {
            limit,
            per: Duration::from_secs(60),
            burst: limit,
        }
    }

    /// `limit` per second with a burst of `limit`.
    pub fn per_second(limit: u32) -> Self {
        Self {
            limit,
            per: Duration::from_secs(1),
            burst: limit,
        }
    }

    /// The time between two calls at the steady rate.
    pub fn interval(&self) -> Duration {
        self.per / self.limit.max(1)
    }

    fn governor(&self) -> Option<Quota> {
        let burst = NonZeroU32::new(self.burst)?;
        Quota::with_period(self.interval()).map(|q| q.allow_burst(burst))
    }
}

/// GCRA rate limits per key, in memory.
///
/// Keys live in 64 shards. Every 1,024 checks a shard over its share of
/// `max_keys` drops keys whose limit is fully replenished (they behave as new
/// keys, so nothing is lost); if it is still over, the shard is reset (its
/// keys start afresh) and [`LocalRateLimiter::resets`] counts it. Memory so
/// stays near `max_keys` × ~40 bytes, however many keys pass.
///
/// ```
/// use toolplane_security::limits::{LocalRateLimiter, RateKey, RateQuota};
/// let limiter = LocalRateLimiter::new(RateQuota::per_minute(2), 1_000_000).unwrap();
/// let key = RateKey { principal: Some("alice"), tool: Some("search"), provider: None };
/// assert!(limiter.check_now(&key, 1).is_ok());
/// assert!(limiter.check_now(&key, 1).is_ok());
/// let err = limiter.check_now(&key, 1).unwrap_err();
/// assert!(err.retry_after().unwrap().as_secs() <= 30);
/// assert!(limiter.check_now(&key, 3).unwrap_err().is_permanent()); // cost > burst
/// ```
#[derive(Debug)]
pub struct LocalRateLimiter {
    quota: RateQuota,
    shards: Box<[RwLock<Shard>]>,
    ops: Box<[AtomicU32]>,
    cap_per_shard: usize,
    resets: AtomicU64,
    clock: DefaultClock,
    hasher: RandomState,
}

const SHARDS: usize = 64;
const HOUSEKEEPING_EVERY: u32 = 1024;

impl LocalRateLimiter {
    /// A limiter with `quota` per key, holding about `max_keys` keys at most.
    /// `None` when the quota has a zero limit, period or burst.
    pub fn new(quota: RateQuota, max_keys: usize) -> Option<Self> {
        let q = quota.governor()?;
        if quota.limit == 0 {
            return None;
        }
        Some(Self {
            quota,
            shards: (0..SHARDS).map(|_| RwLock::new(RateLimiter::hashmap(q))).collect(),
            ops: (0..SHARDS).map(|_| AtomicU32::new(0)).collect(),
            cap_per_shard: (max_keys / SHARDS).max(16),
            resets: AtomicU64::new(0),
            clock: DefaultClock::default(),
            hasher: RandomState::new(),
        })
    }

    /// The quota.
    pub fn quota(&self) -> RateQuota {
        self.quota
    }

    /// The 64-bit map key of `key`: SipHash with this limiter's random keys,
    /// so nobody can craft two keys that share a limit.
    pub fn hash_key(&self, key: &RateKey<'_>) -> u64 {
        self.hasher.hash_one(key)
    }

    /// Checks a key given by [`LocalRateLimiter::hash_key`]; the fast path.
    pub fn check_hash(&self, hash: u64, cost: u32) -> Result<(), Option<Duration>> {
        let i = (hash as usize) % SHARDS;
        let n = NonZeroU32::new(cost.max(1)).unwrap_or(NonZeroU32::MIN);
        let res = {
            let shard = self.shards[i].read();
            match shard.check_key_n(&hash, n) {
                Ok(Ok(_)) => Ok(()),
                Ok(Err(not_until)) => Err(Some(not_until.wait_time_from(self.clock.now()))),
                Err(_) => Err(None),
            }
        };
        if self.ops[i].fetch_add(1, Ordering::Relaxed) % HOUSEKEEPING_EVERY == HOUSEKEEPING_EVERY - 1 {
            self.housekeep(i);
        }
        res
    }

    fn housekeep(&self, i: usize) {
        let over = self.shards[i].read().len() > self.cap_per_shard;
        if !over {
            return;
        }
        let mut shard = self.shards[i].write();
        shard.retain_recent();
        if shard.len() > self.cap_per_shard {
            if let Some(q) = self.quota.governor() {
                *shard = RateLimiter::hashmap(q);
                self.resets.fetch_add(1, Ordering::Relaxed);
            }
        } else {
            shard.shrink_to_fit();
        }
    }

    /// Checks `key` now (synchronously).
    pub fn check_now(&self, key: &RateKey<'_>, cost: u32) -> Result<(), LimitError> {
        self.check_hash(self.hash_key(key), cost).map_err(|e| match e {
            Some(retry_after) => LimitError::RateLimited {
                key: key.to_key_string(),
                retry_after,
            },
            None => LimitError::CostExceedsBurst {
                key: key.to_key_string(),
                cost,
                burst: self.quota.burst,
            },
        })
    }

    /// Keys held now.
    pub fn len(&self) -> usize {
        self.shards.iter().map(|s| s.read().len()).sum()
    }

    /// True when no key is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many times a shard was reset to keep memory bounded.
    pub fn resets(&self) -> u64 {
        self.resets.load(Ordering::Relaxed)
    }
}

#[async_trait]
impl RateLimit for LocalRateLimiter {
    async fn check(&self, key: &RateKey<'_>, cost: u32) -> Result<(), LimitError> {
        self.check_now(key, cost)
    }
}
