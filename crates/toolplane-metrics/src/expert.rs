//! Precomputed [`ExpertStats`] for the router's hot path.
//!
//! The figures are rebuilt from the last [`MetricsConfig::expert_window`]
//! by whichever recorder first finds them older than
//! [`MetricsConfig::expert_refresh`] (one at a time: a `try_lock` keeps
//! others recording), or by [`ProviderMetricsCollector::refresh_expert_stats`].
//! Reading is a read lock, one hash lookup and a clone: no histogram work.
//!
//! [`MetricsConfig::expert_window`]: crate::MetricsConfig::expert_window
//! [`MetricsConfig::expert_refresh`]: crate::MetricsConfig::expert_refresh

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

use parking_lot::{Mutex, RwLock};
use toolplane_core::{ExpertKey, ExpertStats, ProviderStatsSource};

use crate::ProviderMetricsCollector;
use crate::clock::{minute_of, unix_millis};
use crate::series::WindowAgg;

type StatsMap = HashMap<ExpertKey, HashMap<Option<String>, ExpertStats>>;

#[derive(Debug, Default)]
pub(crate) struct ExpertCache {
    map: RwLock<Arc<StatsMap>>,
    /// Unix millis of the last rebuild; 0 = never.
    refreshed_at: AtomicU64,
    rebuilding: Mutex<()>,
}

impl ExpertCache {
    pub(crate) fn get(&self, key: &ExpertKey, task_type: Option<&str>) -> Option<ExpertStats> {
        let map = Arc::clone(&self.map.read());
        let by_task = map.get(key)?;
        by_task.get(&task_type.map(str::to_owned)).cloned()
    }

    pub(crate) fn maybe_refresh(&self, c: &ProviderMetricsCollector, now: SystemTime, now_ms: u64) {
        let last = self.refreshed_at.load(Ordering::Relaxed);
        let every = u64::try_from(c.config.expert_refresh.as_millis()).unwrap_or(u64::MAX);
        if last != 0 && now_ms.saturating_sub(last) < every {
            return;
        }
        if let Some(_guard) = self.rebuilding.try_lock() {
            self.rebuild(c, now);
        }
    }

    pub(crate) fn refresh(&self, c: &ProviderMetricsCollector, now: SystemTime) {
        let _guard = self.rebuilding.lock();
        self.rebuild(c, now);
    }

    fn rebuild(&self, c: &ProviderMetricsCollector, now: SystemTime) {
        // Mark first so concurrent recorders skip while we work.
        self.refreshed_at.store(unix_millis(now).max(1), Ordering::Relaxed);
        let to = minute_of(now) + 1;
        let window_min = i64::try_from(c.config.expert_window.as_secs() / 60)
            .unwrap_or(i64::MAX)
            .max(1);
        let from = to - window_min;
        let mut overall: HashMap<ExpertKey, WindowAgg> = HashMap::new();
        let mut out: StatsMap = HashMap::new();
        for s in c.all_series() {
            let agg = s.window(from, to);
            let key = ExpertKey::new(s.key.provider.clone(), s.key.model.clone());
            if let Some(t) = &s.key.task_type {
                out.entry(key.clone())
                    .or_default()
                    .insert(Some(t.clone()), to_expert(&agg));
            }
            overall.entry(key).or_insert_with(WindowAgg::empty).add(&agg);
        }
        for (key, agg) in overall {
            out.entry(key).or_default().insert(None, to_expert(&agg));
        }
        *self.map.write() = Arc::new(out);
    }
}

fn to_expert(a: &WindowAgg) -> ExpertStats {
    let c = &a.counters;
    let ms = |h: &hdrhistogram::Histogram<u64>, q: f64, min: Option<f64>, max: f64| {
        (!h.is_empty()).then(|| crate::series::quantile_ms(h, q, min, max))
    };
    let tokens = c.usage.total_tokens();
    ExpertStats {
        calls: c.calls,
        success_rate: (c.calls > 0).then(|| c.successes as f64 / c.calls as f64),
        latency_p50_ms: ms(&a.latency, 0.5, c.latency_min_ms, c.latency_max_ms),
        latency_p95_ms: ms(&a.latency, 0.95, c.latency_min_ms, c.latency_max_ms),
        ttft_p95_ms: ms(&a.ttft, 0.95, c.ttft_min_ms, c.ttft_max_ms),
        cost_per_1k_tokens: (c.priced_calls > 0 && tokens > 0 && c.unpriced_calls == 0)
            .then(|| c.cost_usd / tokens as f64 * 1000.0),
        wins: c.wins,
        judged: c.wins + c.losses,
    }
}

impl ProviderStatsSource for ProviderMetricsCollector {
    fn expert_stats(&self, key: &ExpertKey, task_type: Option<&str>) -> Option<ExpertStats> {
        self.expert_stats_for(key, task_type)
    }
}
