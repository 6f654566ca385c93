//! The report a query returns: serde types and a plain-text table.

use std::collections::BTreeMap;
use std::fmt::{self, Write as _};

use serde::{Deserialize, Serialize};

use crate::RankBy;

/// Latency or time-to-first-token figures in milliseconds. Percentiles come
/// from HDR histograms (1 % precision); `mean` and `max` are exact.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Percentiles {
    /// Observations.
    pub count: u64,
    /// Median.
    pub p50: f64,
    /// 95th percentile.
    pub p95: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Smallest observation. Every percentile lies in `[min, max]`.
    #[serde(default)]
    pub min: f64,
    /// Largest observation.
    pub max: f64,
    /// Mean.
    pub mean: f64,
}

/// Token sums.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenTotals {
    /// Input tokens (cache reads and writes included).
    pub input: u64,
    /// Output tokens (reasoning included).
    pub output: u64,
    /// Input tokens read from a cache.
    pub cache_read: u64,
    /// Input tokens written to a cache.
    pub cache_write: u64,
    /// Output tokens spent on reasoning.
    pub reasoning: u64,
}

/// Figures for one group: a provider, a (provider, model), a (provider,
/// task type), or everything. Absent dimensions are `null` in JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupStats {
    /// The provider, if the group is per provider.
    pub provider: Option<String>,
    /// The model, if the group is per model.
    pub model: Option<String>,
    /// The task type, if the group is per task type.
    pub task_type: Option<String>,
    /// Calls.
    pub calls: u64,
    /// Successful calls.
    pub successes: u64,
    /// Failed calls.
    pub failures: u64,
    /// `successes / calls`.
    pub success_rate: Option<f64>,
    /// Failures by error type (`rate_limited`, `timeout`, ...).
    pub errors: BTreeMap<String, u64>,
    /// Call latency, all calls.
    pub latency_ms: Option<Percentiles>,
    /// Time to first token, streamed calls only.
    pub ttft_ms: Option<Percentiles>,
    /// Token sums.
    pub tokens: TokenTotals,
    /// Output tokens of successful calls over their total latency.
    pub output_tokens_per_second: Option<f64>,
    /// Cost of the priced calls, in USD.
    pub cost_usd: f64,
    /// Calls with a price.
    pub priced_calls: u64,
    /// Calls whose model has no price: their cost is unknown, not zero.
    pub unpriced_calls: u64,
    /// `cost_usd / priced_calls`.
    pub cost_per_call_usd: Option<f64>,
    /// Answers judged better.
    pub wins: u64,
    /// Answers judged worse.
    pub losses: u64,
    /// `wins + losses`.
    pub judged: u64,
    /// `wins / judged`.
    pub win_rate: Option<f64>,
    /// Scores received.
    pub scores: u64,
    /// Mean score in `[0, 1]`.
    pub mean_score: Option<f64>,
}

/// Win rate of one (provider, model) on one task type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WinRate {
    /// The task type (`null` for calls without one).
    pub task_type: Option<String>,
    /// The provider.
    pub provider: String,
    /// The model.
    pub model: String,
    /// Wins.
    pub wins: u64,
    /// Losses.
    pub losses: u64,
    /// `wins + losses`: the sample size behind the rate.
    pub judged: u64,
    /// `wins / judged`.
    pub win_rate: Option<f64>,
}

/// Cost of one group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CostLine {
    /// `provider`, `provider/model` or `provider:task_type`.
    pub name: String,
    /// Cost in USD.
    pub cost_usd: f64,
    /// Share of the total cost, in `[0, 1]`.
    pub share: f64,
    /// Calls.
    pub calls: u64,
    /// Calls with no price.
    pub unpriced_calls: u64,
}

/// Where the money went.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CostBreakdown {
    /// Total cost of priced calls, in USD.
    pub total_usd: f64,
    /// Calls with a price.
    pub priced_calls: u64,
    /// Calls with no price (their cost is unknown, not zero).
    pub unpriced_calls: u64,
    /// `provider/model` of every model with unpriced calls.
    pub unpriced_models: Vec<String>,
    /// By provider, most expensive first.
    pub by_provider: Vec<CostLine>,
    /// By provider and model, most expensive first.
    pub by_model: Vec<CostLine>,
    /// By provider and task type, most expensive first.
    pub by_task_type: Vec<CostLine>,
}

/// One row of a ranking.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RankEntry {
    /// 1 for the best.
    pub rank: usize,
    /// The provider.
    pub provider: String,
    /// The figure ranked by (`null` when the provider has no data for it; ranked last).
    pub value: Option<f64>,
    /// Calls behind the figure.
    pub calls: u64,
}

/// Providers ranked by one figure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ranking {
    /// The figure.
    pub by: RankBy,
    /// Best first.
    pub entries: Vec<RankEntry>,
}

/// The time span a report covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WindowInfo {
    /// True for all-time totals.
    pub all_time: bool,
    /// Start (inclusive, whole minute), Unix milliseconds.
    pub from_unix_ms: Option<u64>,
    /// End (exclusive, whole minute), Unix milliseconds.
    pub to_unix_ms: Option<u64>,
}

/// The answer to a [`MetricsQuery`](crate::MetricsQuery). Serializes to the
/// JSON documented in `docs/metrics.md`; `Display` prints text tables.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricsReport {
    /// Format version of this JSON (currently 1).
    pub schema_version: u32,
    /// When the report was made, Unix milliseconds.
    pub generated_at_unix_ms: u64,
    /// The span covered.
    pub window: WindowInfo,
    /// Everything matching the query.
    pub totals: GroupStats,
    /// Per provider.
    pub providers: Vec<GroupStats>,
    /// Per (provider, model).
    pub models: Vec<GroupStats>,
    /// Per (provider, task type).
    pub task_types: Vec<GroupStats>,
    /// Win rates by task type, for every (provider, model) with judged calls.
    pub win_rates: Vec<WinRate>,
    /// Cost analysis.
    pub cost: CostBreakdown,
    /// Providers ranked by the query's figure.
    pub ranking: Ranking,
    /// Records rejected by validation since the collector started.
    pub rejected_records: u64,
    /// The collector's memory use against its budget.
    #[serde(default)]
    pub memory: MemoryUse,
}

/// Memory held by the collector's series against its budget.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemoryUse {
    /// Bytes held, by the collector's accounting.
    pub bytes: u64,
    /// The budget ([`MetricsConfig::memory_budget_bytes`](crate::MetricsConfig::memory_budget_bytes)).
    pub budget_bytes: u64,
    /// Per-minute entries dropped (oldest first) to stay within it. Nonzero
    /// means windowed queries reach less far back than the retention.
    pub evicted_minutes: u64,
    /// Entries merged into coarser ones (2 to 64 minutes wide) to stay
    /// within it, before anything is dropped. Nonzero means old windows
    /// start and end on those coarser edges.
    #[serde(default)]
    pub coarsened_intervals: u64,
}

impl MetricsReport {
    /// The report as pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// The report as plain-text tables (the same as `Display`).
    pub fn to_table(&self) -> String {
        self.to_string()
    }
}

fn opt(v: Option<f64>, digits: usize) -> String {
    v.map_or_else(|| "-".to_owned(), |x| format!("{x:.digits$}"))
}

fn pct(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_owned(), |x| format!("{:.1}%", x * 100.0))
}

fn group_table(out: &mut String, title: &str, rows: &[GroupStats]) {
    let _ = writeln!(out, "{title}");
    let _ = writeln!(
        out,
        "{:<36} {:>7} {:>7} {:>9} {:>9} {:>9} {:>9} {:>9} {:>8} {:>11} {:>8} {:>9}",
        "group",
        "calls",
        "ok%",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "max ms",
        "ttft p95",
        "out t/s",
        "cost $",
        "unpriced",
        "win%"
    );
    for g in rows {
        let name = [g.provider.as_deref(), g.model.as_deref(), g.task_type.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" / ");
        let name = if name.is_empty() { "all".to_owned() } else { name };
        let l = g.latency_ms;
        let _ = writeln!(
            out,
            "{:<36} {:>7} {:>7} {:>9} {:>9} {:>9} {:>9} {:>9} {:>8} {:>11.6} {:>8} {:>9}",
            truncate(&name, 36),
            g.calls,
            pct(g.success_rate),
            opt(l.map(|p| p.p50), 1),
            opt(l.map(|p| p.p95), 1),
            opt(l.map(|p| p.p99), 1),
            opt(l.map(|p| p.max), 1),
            opt(g.ttft_ms.map(|p| p.p95), 1),
            opt(g.output_tokens_per_second, 1),
            g.cost_usd,
            g.unpriced_calls,
            pct(g.win_rate),
        );
    }
}

/// `YYYY-MM-DD HH:MM` for Unix milliseconds (proleptic Gregorian, UTC).
fn utc_minute(unix_ms: u64) -> String {
    let minutes = unix_ms / 60_000;
    let (days, min_of_day) = (minutes / 1440, minutes % 1440);
    // Howard Hinnant's days-to-civil algorithm.
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02} {:02}:{:02}", min_of_day / 60, min_of_day % 60)
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_owned()
    } else {
        let mut t: String = s.chars().take(n.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

impl fmt::Display for MetricsReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = String::new();
        let span = if self.window.all_time {
            "all time".to_owned()
        } else {
            format!(
                "[{}, {}) UTC",
                utc_minute(self.window.from_unix_ms.unwrap_or(0)),
                utc_minute(self.window.to_unix_ms.unwrap_or(0))
            )
        };
        let _ = writeln!(out, "Provider metrics, {span}");
        let _ = writeln!(out, "\nRanking by {}", self.ranking.by.as_str());
        for e in &self.ranking.entries {
            let _ = writeln!(
                out,
                "  {:>2}. {:<24} {:>14} ({} calls)",
                e.rank,
                e.provider,
                opt(e.value, 4),
                e.calls
            );
        }
        let _ = writeln!(out);
        group_table(&mut out, "Providers", &self.providers);
        let _ = writeln!(out);
        group_table(&mut out, "Models", &self.models);
        let _ = writeln!(out);
        group_table(&mut out, "Task types", &self.task_types);
        if !self.win_rates.is_empty() {
            let _ = writeln!(out, "\nWin rate by task type");
            for w in &self.win_rates {
                let _ = writeln!(
                    out,
                    "  {:<16} {:<32} {:>7} ({} of {} judged)",
                    w.task_type.as_deref().unwrap_or("-"),
                    truncate(&format!("{}/{}", w.provider, w.model), 32),
                    pct(w.win_rate),
                    w.wins,
                    w.judged
                );
            }
        }
        let c = &self.cost;
        let _ = writeln!(
            out,
            "\nCost: ${:.6} over {} priced calls; {} unpriced calls{}",
            c.total_usd,
            c.priced_calls,
            c.unpriced_calls,
            if c.unpriced_models.is_empty() {
                String::new()
            } else {
                format!(" (no price for: {})", c.unpriced_models.join(", "))
            }
        );
        for line in &c.by_model {
            let _ = writeln!(
                out,
                "  {:<40} ${:>12.6} {:>6.1}%",
                truncate(&line.name, 40),
                line.cost_usd,
                line.share * 100.0
            );
        }
        if self.rejected_records > 0 {
            let _ = writeln!(out, "\nRejected records: {}", self.rejected_records);
        }
        if self.memory.coarsened_intervals > 0 {
            let _ = writeln!(
                out,
                "\nMemory budget reached: {} entries merged into coarser ones (old data at 2 to 64 minutes)",
                self.memory.coarsened_intervals
            );
        }
        if self.memory.evicted_minutes > 0 {
            let _ = writeln!(
                out,
                "\nMemory budget reached: {} per-minute entries dropped (oldest first)",
                self.memory.evicted_minutes
            );
        }
        f.write_str(&out)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn utc_minutes_format() {
        assert_eq!(super::utc_minute(0), "1970-01-01 00:00");
        assert_eq!(super::utc_minute(1_800_000_000_000), "2027-01-15 08:00");
        assert_eq!(super::utc_minute(951_782_400_000), "2000-02-29 00:00");
    }
}
