//! Provider statistics as the router reads them, and feedback on answers.
//!
//! The metrics crate computes these figures; the router reads them through
//! [`ProviderStatsSource`], so either side can be swapped.

use std::collections::HashMap;
use std::sync::RwLock;

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
pub trait ProviderStatsSource: Send + Sync + std::fmt::Debug {
    /// Statistics for `key`, overall (`task_type: None`) or for one task type.
    fn expert_stats(&self, key: &ExpertKey, task_type: Option<&str>) -> Option<ExpertStats>;
}

/// A [`ProviderStatsSource`] holding figures set by hand: for tests, docs and
/// hosts that import statistics from elsewhere.
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
