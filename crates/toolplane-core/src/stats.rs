//! Provider statistics as the router reads them, and feedback on answers.
//!
//! The metrics crate computes these figures; the router reads them through
//! [`ProviderStatsSource`], so either side can be swapped. Routers that
//! share what they learn (replicas behind one load balancer) publish
//! verdicts and breaker openings through a [`StatsSink`] and read the
//! others' back through the same source.

use std::collections::{HashMap, VecDeque};
use std::sync::RwLock;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

/// Names one expert: a provider and one of its models.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ExpertKey {
    /// The provider's name (`openai`).
    pub provider: String,
    /// The model id (`gpt-4o-mini`).
    pub model: String,
}

impl ExpertKey {
    /// A key.
    pub fn new(provider: impl Into<String>, model: impl Into<String>) -> Self {
        Self {
            provider: provider.into(),
            model: model.into(),
        }
    }
}

/// Recent performance of one expert, precomputed so reading it is cheap.
///
/// Latencies are in milliseconds; `None` means not enough data.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ExpertStats {
    /// Calls observed.
    pub calls: u64,
    /// Successful calls over all calls, in `[0, 1]`.
    pub success_rate: Option<f64>,
    /// Median latency.
    pub latency_p50_ms: Option<f64>,
    /// 95th percentile latency.
    pub latency_p95_ms: Option<f64>,
    /// 95th percentile time to first token, for streamed calls.
    pub ttft_p95_ms: Option<f64>,
    /// Average cost in USD per 1,000 tokens (input and output).
    pub cost_per_1k_tokens: Option<f64>,
    /// Answers judged better than the alternative.
    pub wins: u64,
    /// Answers judged at all.
    pub judged: u64,
}

impl ExpertStats {
    /// `wins / judged`, or `None` when nothing was judged.
    pub fn win_rate(&self) -> Option<f64> {
        (self.judged > 0).then(|| self.wins as f64 / self.judged as f64)
    }
}

/// Reads expert statistics. Implemented by the metrics collector; read by the router.
///
/// Required: [`ProviderStatsSource::expert_stats`]. Implementations should
/// answer from precomputed state: the router may call this on its hot path.
///
/// The other methods default to "nothing shared": a source shared by several
/// routers overrides them to pass on what the others published through a
/// [`StatsSink`].
pub trait ProviderStatsSource: Send + Sync + std::fmt::Debug {
    /// Statistics for `key`, overall (`task_type: None`) or for one task type.
    fn expert_stats(&self, key: &ExpertKey, task_type: Option<&str>) -> Option<ExpertStats>;

    /// How much longer `key`'s circuit breaker stays open, as a router sharing
    /// this source reported it; `None` when closed or unknown (the default).
    fn breaker_open_for(&self, key: &ExpertKey) -> Option<Duration> {
        let _ = key;
        None
    }

    /// The verdicts published after position `cursor` (0: from the oldest
    /// held), oldest first, and the position to ask from next time. The
    /// default holds none.
    fn verdicts_after(&self, cursor: u64) -> (Vec<SharedVerdict>, u64) {
        (Vec::new(), cursor)
    }
}

/// A verdict as routers share it: which router judged it, the expert, and
/// the task type the answer was routed under.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SharedVerdict {
    /// The publishing router's id, so it can skip its own verdicts when it reads them back.
    pub origin: u64,
    /// The expert judged.
    pub key: ExpertKey,
    /// The task type the answer was routed under.
    pub task_type: String,
    /// The judgement.
    pub verdict: Verdict,
}

/// Where a router publishes what it learns at run time, so routers reading
/// the same store through their [`ProviderStatsSource`] learn it too.
///
/// Both methods default to doing nothing; implement the ones you share.
/// They are called on the router's hot path: they must not block (queue
/// the write, drop it when the queue is full).
pub trait StatsSink: Send + Sync + std::fmt::Debug {
    /// A verdict the router applied to its own state.
    fn verdict(&self, verdict: &SharedVerdict) {
        let _ = verdict;
    }

    /// The router opened `key`'s circuit breaker for `open_for`.
    fn breaker_opened(&self, key: &ExpertKey, open_for: Duration) {
        let _ = (key, open_for);
    }
}

/// A [`ProviderStatsSource`] holding figures set by hand: for tests, docs and
/// hosts that import statistics from elsewhere. It is also an in-memory
/// [`StatsSink`]: routers in one process sharing it share verdicts (the
/// last 65,536) and breaker openings.
///
/// ```
/// use toolplane_core::{ExpertKey, ExpertStats, ProviderStatsSource, StaticStats};
/// let stats = StaticStats::default();
/// let key = ExpertKey::new("openai", "gpt-4o");
/// stats.set(key.clone(), Some("code"), ExpertStats { calls: 10, wins: 7, judged: 10, ..Default::default() });
/// assert_eq!(stats.expert_stats(&key, Some("code")).unwrap().win_rate(), Some(0.7));
/// assert!(stats.expert_stats(&key, None).is_none());
/// ```
#[derive(Debug, Default)]
pub struct StaticStats {
    map: RwLock<HashMap<(ExpertKey, Option<String>), ExpertStats>>,
    shared: RwLock<Shared>,
}

/// Verdicts held by [`StaticStats`].
const SHARED_VERDICTS: usize = 65_536;

#[derive(Debug, Default)]
struct Shared {
    /// Position of `verdicts[0]`, counted from 1.
    first: u64,
    verdicts: VecDeque<SharedVerdict>,
    open_until: HashMap<ExpertKey, Instant>,
}

impl StaticStats {
    /// Sets the figures for `key` and `task_type`.
    pub fn set(&self, key: ExpertKey, task_type: Option<&str>, stats: ExpertStats) {
        if let Ok(mut m) = self.map.write() {
            m.insert((key, task_type.map(str::to_owned)), stats);
        }
    }
}

impl ProviderStatsSource for StaticStats {
    fn expert_stats(&self, key: &ExpertKey, task_type: Option<&str>) -> Option<ExpertStats> {
        let m = self.map.read().ok()?;
        m.get(&(key.clone(), task_type.map(str::to_owned))).cloned()
    }

    fn breaker_open_for(&self, key: &ExpertKey) -> Option<Duration> {
        let s = self.shared.read().ok()?;
        let until = s.open_until.get(key)?;
        until.checked_duration_since(Instant::now()).filter(|d| !d.is_zero())
    }

    fn verdicts_after(&self, cursor: u64) -> (Vec<SharedVerdict>, u64) {
        let Ok(s) = self.shared.read() else {
            return (Vec::new(), cursor);
        };
        let first = s.first.max(1);
        let skip = cursor.saturating_sub(first - 1).min(s.verdicts.len() as u64) as usize;
        let out: Vec<SharedVerdict> = s.verdicts.iter().skip(skip).cloned().collect();
        (out, (first - 1 + s.verdicts.len() as u64).max(cursor))
    }
}

impl StatsSink for StaticStats {
    fn verdict(&self, verdict: &SharedVerdict) {
        if let Ok(mut s) = self.shared.write() {
            if s.first == 0 {
                s.first = 1;
            }
            s.verdicts.push_back(verdict.clone());
            if s.verdicts.len() > SHARED_VERDICTS {
                s.verdicts.pop_front();
                s.first += 1;
            }
        }
    }

    fn breaker_opened(&self, key: &ExpertKey, open_for: Duration) {
        if let (Ok(mut s), Some(until)) = (self.shared.write(), Instant::now().checked_add(open_for)) {
            let e = s.open_until.entry(key.clone()).or_insert(until);
            *e = (*e).max(until);
        }
    }
}

/// A judgement on an answer, arriving after the call (from a user, an
/// evaluator, or an A/B comparison).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Verdict {
    /// The answer was preferred.
    Win,
    /// The answer was not preferred.
    Loss,
    /// A score in `[0, 1]`.
    Score {
        /// The score.
        value: f64,
    },
}

/// Feedback on one earlier call, identified by its request id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Feedback {
    /// The request id of the call judged.
    pub request_id: String,
    /// The judgement.
    pub verdict: Verdict,
}
