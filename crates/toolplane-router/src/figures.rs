//! An expert's figures for one task type, resolved from what the router
//! holds: the stats source first, the router's own measurements where the
//! source has nothing, the resolved prices for cost (unknown when unpriced).
//!
//! Whenever an input changes (`refresh_stats`, a recorded outcome, a
//! verdict) the figures are resolved again into a packed task-major array,
//! so the weighted strategy reads four `f64`s per candidate.

use toolplane_core::ExpertStats;

use crate::expert::Hot;
use crate::state::{AtomicF64, ExpertState, TaskCell};
use crate::strategy::QualityMetric;

/// The four figures the strategies read, raw (`None`: unknown).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Figures {
    pub(crate) latency_ms: Option<f64>,
    pub(crate) success: Option<f64>,
    pub(crate) cost_1k: Option<f64>,
    pub(crate) win_rate: Option<f64>,
}

impl Figures {
    pub(crate) fn quality(&self, metric: QualityMetric) -> Option<f64> {
        match metric {
            QualityMetric::WinRate => self.win_rate,
            QualityMetric::SuccessRate => self.success,
        }
    }
}

/// An expert's resolved figures for one task: latency p95, success rate,
/// cost per 1k, win rate (`NaN`: unknown).
#[derive(Debug, Default)]
pub(crate) struct Packed(pub(crate) [AtomicF64; 4]);

impl Packed {
    pub(crate) fn store(&self, f: &Figures) {
        self.0[0].set_opt(f.latency_ms);
        self.0[1].set_opt(f.success);
        self.0[2].set_opt(f.cost_1k);
        self.0[3].set_opt(f.win_rate);
    }
}

/// The figures of one expert for one task: stats source first, the
/// router's own measurements (latency EWMA, success average, posterior
/// mean) where the source has nothing, configured prices for cost.
pub(crate) fn resolve(hot: &Hot, state: &ExpertState, cell: &TaskCell, prior: (f64, f64)) -> Figures {
    Figures {
        latency_ms: cell.src_p95_ms.get().or_else(|| state.ewma_latency_ms.get()),
        success: cell.src_success.get().or_else(|| state.ewma_success.get()),
        cost_1k: cell.src_cost_1k.get().or(hot.blended_per_1k),
        win_rate: cell.src_win.get().or_else(|| posterior_mean(cell, prior)),
    }
}

/// The posterior mean once it holds evidence beyond the prior.
pub(crate) fn posterior_mean(cell: &TaskCell, (pa, pb): (f64, f64)) -> Option<f64> {
    let (a, b) = cell.posterior.get();
    (a + b > pa + pb + 0.5).then(|| a / (a + b))
}

/// The figures of a stats source's answer that make sense, and a bit per
/// figure that did not (in the order of
/// [`SRC_FIGURES`](crate::state::SRC_FIGURES)). Nonsense (NaN, infinite,
/// negative, a rate outside `[0, 1]`, more wins than judged) counts as unknown.
pub(crate) fn sanitize(s: &ExpertStats) -> ([Option<f64>; 4], u8) {
    let amount = |v: Option<f64>| v.map(|v| if v.is_finite() && v >= 0.0 { Some(v) } else { None });
    let rate = |v: Option<f64>| v.map(|v| if (0.0..=1.0).contains(&v) { Some(v) } else { None });
    let win = if s.judged == 0 {
        None
    } else if s.wins > s.judged {
        Some(None)
    } else {
        Some(s.win_rate())
    };
    let raw = [
        amount(s.latency_p95_ms),
        rate(s.success_rate),
        amount(s.cost_per_1k_tokens),
        win,
    ];
    let mut rejected = 0u8;
    let mut out = [None; 4];
    for (i, v) in raw.into_iter().enumerate() {
        match v {
            Some(Some(v)) => out[i] = Some(v),
            Some(None) => rejected |= 1 << i,
            None => {}
        }
    }
    (out, rejected)
}

/// Min-max normalization where lower is better; 0.5 when unknown, 1 when all equal.
pub(crate) fn lower_better(v: Option<f64>, (lo, hi): (f64, f64)) -> f64 {
    match v {
        None => 0.5,
        Some(_) if hi <= lo => 1.0,
        Some(v) => (hi - v) / (hi - lo),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonsense_from_the_source_counts_as_unknown() {
        let s = ExpertStats {
            latency_p95_ms: Some(f64::INFINITY),
            success_rate: Some(f64::NAN),
            cost_per_1k_tokens: Some(0.002),
            wins: 9,
            judged: 4,
            ..ExpertStats::default()
        };
        let (figs, rejected) = sanitize(&s);
        assert_eq!(figs, [None, None, Some(0.002), None]);
        assert_eq!(rejected, 0b1011);
        let fine = ExpertStats {
            latency_p95_ms: Some(120.0),
            wins: 1,
            judged: 4,
            ..ExpertStats::default()
        };
        assert_eq!(sanitize(&fine), ([Some(120.0), None, None, Some(0.25)], 0));
    }
}
