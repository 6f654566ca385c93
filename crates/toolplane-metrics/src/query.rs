//! Queries: which calls, which span, ranked by what; and building the report.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, SystemTime};

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use crate::clock::unix_millis;
use crate::report::{
    CostBreakdown, CostLine, GroupStats, MemoryUse, MetricsReport, Percentiles, RankEntry, Ranking, TokenTotals,
    WinRate, WindowInfo,
};
use crate::series::{ERROR_SLOTS, WindowAgg, error_label};
use crate::{MetricsError, MetricsErrorKind, ProviderMetricsCollector};

/// The span a query covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TimeRange {
    /// Everything since the collector started (all-time totals).
    #[default]
    AllTime,
    /// The current minute and the whole minutes before it, `duration` long
    /// (rounded up to a minute).
    Last {
        /// How far back.
        duration: Duration,
    },
    /// `[from, to)`, widened to whole minutes.
    Between {
        /// Start (inclusive).
        from: SystemTime,
        /// End (exclusive).
        to: SystemTime,
    },
}

/// The figure a provider comparison ranks by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RankBy {
    /// Successful calls over calls (higher is better).
    #[default]
    SuccessRate,
    /// Median latency (lower is better).
    LatencyP50,
    /// 95th percentile latency (lower is better).
    LatencyP95,
    /// 99th percentile latency (lower is better).
    LatencyP99,
    /// 95th percentile time to first token (lower is better).
    TtftP95,
    /// Mean cost of a priced call (lower is better).
    CostPerCall,
    /// Output tokens per second (higher is better).
    OutputTokensPerSecond,
    /// Wins over judged answers (higher is better).
    WinRate,
    /// Number of calls (higher is better).
    Calls,
}

impl RankBy {
    /// A stable snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SuccessRate => "success_rate",
            Self::LatencyP50 => "latency_p50",
            Self::LatencyP95 => "latency_p95",
            Self::LatencyP99 => "latency_p99",
            Self::TtftP95 => "ttft_p95",
            Self::CostPerCall => "cost_per_call",
            Self::OutputTokensPerSecond => "output_tokens_per_second",
            Self::WinRate => "win_rate",
            Self::Calls => "calls",
        }
    }

    fn higher_is_better(self) -> bool {
        matches!(
            self,
            Self::SuccessRate | Self::OutputTokensPerSecond | Self::WinRate | Self::Calls
        )
    }

    fn value(self, g: &GroupStats) -> Option<f64> {
        match self {
            Self::SuccessRate => g.success_rate,
            Self::LatencyP50 => g.latency_ms.map(|p| p.p50),
            Self::LatencyP95 => g.latency_ms.map(|p| p.p95),
            Self::LatencyP99 => g.latency_ms.map(|p| p.p99),
            Self::TtftP95 => g.ttft_ms.map(|p| p.p95),
            Self::CostPerCall => g.cost_per_call_usd,
            Self::OutputTokensPerSecond => g.output_tokens_per_second,
            Self::WinRate => g.win_rate,
            Self::Calls => Some(g.calls as f64),
        }
    }
}

/// What to report on. Filters are exact matches; a filter naming something
/// never recorded is an error, not an empty report.
///
/// ```
/// use std::time::Duration;
/// use toolplane_metrics::{MetricsQuery, RankBy};
/// let q = MetricsQuery::last(Duration::from_secs(3600)).provider("openai").rank_by(RankBy::LatencyP95);
/// assert_eq!(q.provider.as_deref(), Some("openai"));
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct MetricsQuery {
    /// The span.
    pub range: TimeRange,
    /// Only this provider.
    pub provider: Option<String>,
    /// Only this model.
    pub model: Option<String>,
    /// Only this task type.
    pub task_type: Option<String>,
    /// The figure the provider ranking uses.
    pub rank_by: RankBy,
}

impl MetricsQuery {
    /// All-time totals of everything.
    pub fn all_time() -> Self {
        Self::default()
    }

    /// The last `duration` (whole minutes, up to now).
    pub fn last(duration: Duration) -> Self {
        Self {
            range: TimeRange::Last { duration },
            ..Self::default()
        }
    }

    /// `[from, to)`, widened to whole minutes.
    pub fn between(from: SystemTime, to: SystemTime) -> Self {
        Self {
            range: TimeRange::Between { from, to },
            ..Self::default()
        }
    }

    /// Only `provider`.
    pub fn provider(mut self, provider: impl Into<String>) -> Self {
        self.provider = Some(provider.into());
        self
    }

    /// Only `model`.
    pub fn model(mut self, model: impl Into<String>) -> Self {
        self.model = Some(model.into());
        self
    }

    /// Only `task_type`.
    pub fn task_type(mut self, task_type: impl Into<String>) -> Self {
        self.task_type = Some(task_type.into());
        self
    }

    /// Ranks providers by `by`.
    pub fn rank_by(mut self, by: RankBy) -> Self {
        self.rank_by = by;
        self
    }
}

fn percentiles(h: &Histogram<u64>, count: u64, sum_ms: f64, min_ms: Option<f64>, max_ms: f64) -> Option<Percentiles> {
    if count == 0 || h.is_empty() {
        return None;
    }
    let q = |x: f64| crate::series::quantile_ms(h, x, min_ms, max_ms);
    Some(Percentiles {
        count,
        p50: q(0.5),
        p95: q(0.95),
        p99: q(0.99),
        min: min_ms.unwrap_or(0.0),
        max: max_ms,
        mean: sum_ms / count as f64,
    })
}

fn stats(provider: Option<&str>, model: Option<&str>, task: Option<&str>, a: &WindowAgg) -> GroupStats {
    let c = &a.counters;
    let mut errors = BTreeMap::new();
    for slot in 0..ERROR_SLOTS {
        if c.errors[slot] > 0 {
            errors.insert(error_label(slot).to_owned(), c.errors[slot]);
        }
    }
    let judged = c.wins + c.losses;
    GroupStats {
        provider: provider.map(str::to_owned),
        model: model.map(str::to_owned),
        task_type: task.map(str::to_owned),
        calls: c.calls,
        successes: c.successes,
        failures: c.calls - c.successes,
        success_rate: (c.calls > 0).then(|| c.successes as f64 / c.calls as f64),
        errors,
        latency_ms: percentiles(
            &a.latency,
            c.calls,
            c.latency_sum_ms,
            c.latency_min_ms,
            c.latency_max_ms,
        ),
        ttft_ms: percentiles(&a.ttft, c.ttft_count, c.ttft_sum_ms, c.ttft_min_ms, c.ttft_max_ms),
        tokens: TokenTotals {
            input: c.usage.input_tokens,
            output: c.usage.output_tokens,
            cache_read: c.usage.cache_read_tokens,
            cache_write: c.usage.cache_write_tokens,
            reasoning: c.usage.reasoning_tokens,
        },
        output_tokens_per_second: (c.ok_latency_sum_ms > 0.0)
            .then(|| c.ok_output_tokens as f64 / (c.ok_latency_sum_ms / 1000.0)),
        cost_usd: c.cost_usd,
        priced_calls: c.priced_calls,
        unpriced_calls: c.unpriced_calls,
        cost_per_call_usd: (c.priced_calls > 0).then(|| c.cost_usd / c.priced_calls as f64),
        wins: c.wins,
        losses: c.losses,
        judged,
        win_rate: (judged > 0).then(|| c.wins as f64 / judged as f64),
        scores: c.scores,
        mean_score: (c.scores > 0).then(|| c.score_sum / c.scores as f64),
    }
}

fn cost_lines(rows: &[GroupStats], total: f64, name: impl Fn(&GroupStats) -> String) -> Vec<CostLine> {
    let mut v: Vec<CostLine> = rows
        .iter()
        .map(|g| CostLine {
            name: name(g),
            cost_usd: g.cost_usd,
            share: if total > 0.0 { g.cost_usd / total } else { 0.0 },
            calls: g.calls,
            unpriced_calls: g.unpriced_calls,
        })
        .collect();
    v.sort_by(|a, b| b.cost_usd.total_cmp(&a.cost_usd).then_with(|| a.name.cmp(&b.name)));
    v
}

fn unknown(what: &str, name: &str, known: &BTreeSet<String>) -> MetricsError {
    let list: Vec<&str> = known.iter().map(String::as_str).collect();
    MetricsError::new(
        MetricsErrorKind::UnknownSeries,
        format!(
            "no calls were recorded for {what} {name:?}; known: [{}]",
            list.join(", ")
        ),
    )
}

impl ProviderMetricsCollector {
    /// Resolves a range to `[from_minute, to_minute)`, or `None` for all time.
    fn minutes(&self, range: &TimeRange) -> Result<Option<(i64, i64)>, MetricsError> {
        let now_ms = unix_millis(self.now());
        let now_min = i64::try_from(now_ms / 60_000).unwrap_or(i64::MAX);
        let (from_ms, to_ms) = match *range {
            TimeRange::AllTime => return Ok(None),
            TimeRange::Last { duration } => {
                let d = u64::try_from(duration.as_millis()).unwrap_or(u64::MAX);
                if d == 0 {
                    return Err(MetricsError::window("the window is empty (duration 0)"));
                }
                // The current minute and the whole minutes before it: `duration` rounded up.
                let minutes = d.div_ceil(60_000);
                let to = (now_ms / 60_000 + 1) * 60_000;
                (to.saturating_sub(minutes.saturating_mul(60_000)), to)
            }
            TimeRange::Between { from, to } => (unix_millis(from), unix_millis(to)),
        };
        if from_ms > to_ms {
            return Err(MetricsError::window(format!(
                "from ({from_ms} ms) is after to ({to_ms} ms)"
            )));
        }
        if from_ms == to_ms {
            return Err(MetricsError::window("the window [from, to) is empty (from == to)"));
        }
        let from_min = i64::try_from(from_ms / 60_000).unwrap_or(i64::MAX);
        let to_min = i64::try_from(to_ms.div_ceil(60_000)).unwrap_or(i64::MAX);
        let oldest = now_min - (self.retention_minutes() - 1);
        if from_min < oldest {
            return Err(MetricsError::window(format!(
                "from is {} minutes ago, beyond the retention of {} minutes; use all-time totals",
                now_min - from_min,
                self.retention_minutes()
            )));
        }
        Ok(Some((from_min, to_min)))
    }

    /// Answers a query. Errors: a reversed or empty window, a window beyond
    /// the retention, or a filter naming something never recorded.
    pub fn snapshot(&self, query: &MetricsQuery) -> Result<MetricsReport, MetricsError> {
        let span = self.minutes(&query.range)?;
        let all = self.all_series();
        let mut known = [BTreeSet::new(), BTreeSet::new(), BTreeSet::new()];
        for s in &all {
            known[0].insert(s.key.provider.clone());
            known[1].insert(s.key.model.clone());
            if let Some(t) = &s.key.task_type {
                known[2].insert(t.clone());
            }
        }
        for (i, (what, f)) in [
            ("provider", &query.provider),
            ("model", &query.model),
            ("task type", &query.task_type),
        ]
        .into_iter()
        .enumerate()
        {
            if let Some(name) = f {
                if !known[i].contains(name) {
                    return Err(unknown(what, name, &known[i]));
                }
            }
        }

        let mut total = WindowAgg::empty();
        let mut by_provider: BTreeMap<String, WindowAgg> = BTreeMap::new();
        let mut by_model: BTreeMap<(String, String), WindowAgg> = BTreeMap::new();
        let mut by_task: BTreeMap<(String, Option<String>), WindowAgg> = BTreeMap::new();
        let mut win_rates = Vec::new();
        for s in &all {
            let k = &s.key;
            if query.provider.as_ref().is_some_and(|p| *p != k.provider)
                || query.model.as_ref().is_some_and(|m| *m != k.model)
                || query
                    .task_type
                    .as_ref()
                    .is_some_and(|t| Some(t) != k.task_type.as_ref())
            {
                continue;
            }
            let agg = match span {
                None => s.all_time(),
                Some((from, to)) => s.window(from, to),
            };
            if agg.counters.calls == 0 && agg.counters.wins + agg.counters.losses + agg.counters.scores == 0 {
                continue;
            }
            let judged = agg.counters.wins + agg.counters.losses;
            if judged > 0 {
                win_rates.push(WinRate {
                    task_type: k.task_type.clone(),
                    provider: k.provider.clone(),
                    model: k.model.clone(),
                    wins: agg.counters.wins,
                    losses: agg.counters.losses,
                    judged,
                    win_rate: Some(agg.counters.wins as f64 / judged as f64),
                });
            }
            total.add(&agg);
            by_provider
                .entry(k.provider.clone())
                .or_insert_with(WindowAgg::empty)
                .add(&agg);
            by_model
                .entry((k.provider.clone(), k.model.clone()))
                .or_insert_with(WindowAgg::empty)
                .add(&agg);
            by_task
                .entry((k.provider.clone(), k.task_type.clone()))
                .or_insert_with(WindowAgg::empty)
                .add(&agg);
        }
        win_rates.sort_by(|a, b| {
            a.task_type
                .cmp(&b.task_type)
                .then_with(|| b.win_rate.unwrap_or(0.0).total_cmp(&a.win_rate.unwrap_or(0.0)))
                .then_with(|| (&a.provider, &a.model).cmp(&(&b.provider, &b.model)))
        });

        let totals = stats(None, None, None, &total);
        let providers: Vec<GroupStats> = by_provider.iter().map(|(p, a)| stats(Some(p), None, None, a)).collect();
        let models: Vec<GroupStats> = by_model
            .iter()
            .map(|((p, m), a)| stats(Some(p), Some(m), None, a))
            .collect();
        let task_types: Vec<GroupStats> = by_task
            .iter()
            .map(|((p, t), a)| stats(Some(p), None, t.as_deref(), a))
            .collect();

        let label = |g: &GroupStats| {
            let mut s = g.provider.clone().unwrap_or_default();
            if let Some(m) = &g.model {
                s.push('/');
                s.push_str(m);
            }
            if let Some(t) = &g.task_type {
                s.push(':');
                s.push_str(t);
            }
            s
        };
        let cost = CostBreakdown {
            total_usd: totals.cost_usd,
            priced_calls: totals.priced_calls,
            unpriced_calls: totals.unpriced_calls,
            unpriced_models: models.iter().filter(|g| g.unpriced_calls > 0).map(label).collect(),
            by_provider: cost_lines(&providers, totals.cost_usd, label),
            by_model: cost_lines(&models, totals.cost_usd, label),
            by_task_type: cost_lines(&task_types, totals.cost_usd, label),
        };

        let by = query.rank_by;
        let mut entries: Vec<RankEntry> = providers
            .iter()
            .map(|g| RankEntry {
                rank: 0,
                provider: g.provider.clone().unwrap_or_default(),
                value: by.value(g),
                calls: g.calls,
            })
            .collect();
        entries.sort_by(|a, b| match (a.value, b.value) {
            (Some(x), Some(y)) => {
                let o = if by.higher_is_better() {
                    y.total_cmp(&x)
                } else {
                    x.total_cmp(&y)
                };
                o.then_with(|| a.provider.cmp(&b.provider))
            }
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => a.provider.cmp(&b.provider),
        });
        for (i, e) in entries.iter_mut().enumerate() {
            e.rank = i + 1;
        }

        Ok(MetricsReport {
            schema_version: 1,
            generated_at_unix_ms: unix_millis(self.now()),
            window: WindowInfo {
                all_time: span.is_none(),
                from_unix_ms: span.map(|(f, _)| u64::try_from(f).unwrap_or(0) * 60_000),
                to_unix_ms: span.map(|(_, t)| u64::try_from(t).unwrap_or(0) * 60_000),
            },
            totals,
            providers,
            models,
            task_types,
            win_rates,
            cost,
            ranking: Ranking { by, entries },
            rejected_records: self.rejected_records(),
            memory: MemoryUse {
                bytes: self.memory_bytes() as u64,
                budget_bytes: self.config.memory_budget_bytes as u64,
                evicted_minutes: self.evicted_minutes(),
                coarsened_intervals: self.coarsened_intervals(),
            },
        })
    }
}
