//! The weighted strategy and the figures behind it.
//!
//! Each expert's four figures per task are resolved (stats source first,
//! then the router's own measurements) whenever one of their inputs changes
//! — `refresh_stats`, a recorded outcome, a verdict — into a packed
//! task-major array, so selection reads four `f64`s per candidate.

use crate::router::Inner;
use crate::select::{Ranked, Sink};
use crate::state::AtomicF64;
use crate::strategy::{QualityMetric, Weights};

/// The four figures of the weighted strategy, raw.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Figures {
    pub(crate) latency_ms: Option<f64>,
    pub(crate) success: Option<f64>,
    pub(crate) cost_1k: Option<f64>,
    pub(crate) win_rate: Option<f64>,
}

/// An expert's resolved figures for one task: latency p95, success rate,
/// cost per 1k, win rate (`NaN`: missing).
#[derive(Debug, Default)]
pub(crate) struct Packed([AtomicF64; 4]);

impl Inner {
    /// The four figures of an expert for a task: stats source first, the
    /// router's own measurements (latency EWMA, success average, posterior
    /// mean) where the source has nothing, configured prices for cost.
    pub(crate) fn figures(&self, idx: usize, task: usize) -> Figures {
        let st = &self.states[idx];
        let cell = self.cell(idx, task);
        Figures {
            latency_ms: cell.src_p95_ms.get().or_else(|| st.ewma_latency_ms.get()),
            success: cell.src_success.get().or_else(|| st.ewma_success.get()),
            cost_1k: Some(cell.src_cost_1k.get().unwrap_or(self.hot[idx].blended_per_1k)),
            win_rate: cell.src_win.get().or_else(|| self.posterior_mean(idx, task)),
        }
    }

    /// The posterior mean once it holds evidence beyond the prior.
    pub(crate) fn posterior_mean(&self, idx: usize, task: usize) -> Option<f64> {
        let (a, b) = self.cell(idx, task).posterior.get();
        let (pa, pb) = self.priors[task];
        (a + b > pa + pb + 0.5).then(|| a / (a + b))
    }

    pub(crate) fn quality(&self, idx: usize, task: usize, metric: QualityMetric) -> Option<f64> {
        let f = self.figures(idx, task);
        match metric {
            QualityMetric::WinRate => f.win_rate,
            QualityMetric::SuccessRate => f.success,
        }
    }

    /// Resolves the figures of an expert for a task into the packed array.
    /// Concurrent writers may leave a figure one update behind until the next change.
    pub(crate) fn refigure(&self, idx: usize, task: usize) {
        let f = self.figures(idx, task);
        if let Some(p) = self.packed.get(task * self.experts.len() + idx) {
            p.0[0].set_opt(f.latency_ms);
            p.0[1].set_opt(f.success);
            p.0[2].set_opt(f.cost_1k);
            p.0[3].set_opt(f.win_rate);
        }
    }

    /// Resolves an expert's figures for every task (its own measurements changed).
    pub(crate) fn refigure_expert(&self, idx: usize) {
        for task in 0..self.tasks.len() {
            self.refigure(idx, task);
        }
    }

    /// One pass reads each candidate's figures into `figs` and tracks the
    /// ranges; a second pass over that packed buffer scores.
    pub(crate) fn weighted(&self, w: &Weights, task: usize, cand: &[u32], figs: &mut Vec<[f64; 4]>, sink: &mut Sink) {
        let (mut lat, mut cost) = ((f64::INFINITY, f64::NEG_INFINITY), (f64::INFINITY, f64::NEG_INFINITY));
        figs.clear();
        let n = self.experts.len();
        let packed = &self.packed[task * n..(task + 1) * n];
        for &i in cand {
            let p = &packed[i as usize].0;
            let (l, s, c, win) = (p[0].load(), p[1].load(), p[2].load(), p[3].load());
            if !l.is_nan() {
                lat = (lat.0.min(l), lat.1.max(l));
            }
            if !c.is_nan() {
                cost = (cost.0.min(c), cost.1.max(c));
            }
            let unit = |v: f64| if v.is_nan() { 0.5 } else { v.clamp(0.0, 1.0) };
            figs.push([l, unit(s), c, unit(win)]);
        }
        // The score is linear in each figure once the ranges are known, so the
        // per-candidate pass is multiply-adds: weight / total / range folded
        // into one factor per figure (no division per candidate).
        let total = (w.latency + w.success + w.cost + w.win_rate).max(f64::MIN_POSITIVE);
        // (factor, constant) of a lower-is-better figure: an empty range scores 1.
        let term = |weight: f64, (lo, hi): (f64, f64)| {
            let wt = weight / total;
            if hi > lo { (wt / (hi - lo), 0.0) } else { (0.0, wt) }
        };
        let ((lat_k, lat_flat), lat_hi) = (term(w.latency, lat), lat.1);
        let ((cost_k, cost_flat), cost_hi) = (term(w.cost, cost), cost.1);
        let lat_missing = 0.5 * w.latency / total;
        let cost_missing = 0.5 * w.cost / total;
        let (ws, ww) = (w.success / total, w.win_rate / total);
        for (&i, f) in cand.iter().zip(figs.iter()) {
            let l = if f[0].is_nan() {
                lat_missing
            } else {
                lat_k * (lat_hi - f[0]) + lat_flat
            };
            let c = if f[2].is_nan() {
                cost_missing
            } else {
                cost_k * (cost_hi - f[2]) + cost_flat
            };
            let key = l + c + ws * f[1] + ww * f[3];
            sink.push(Ranked {
                idx: i as usize,
                tier: 0,
                key,
            });
        }
    }

    /// The normalization ranges of the weighted strategy over the candidates of a selection.
    pub(crate) fn ranges(&self, task: usize, idxs: impl Iterator<Item = usize>) -> ((f64, f64), (f64, f64)) {
        let (mut lat, mut cost) = ((f64::INFINITY, f64::NEG_INFINITY), (f64::INFINITY, f64::NEG_INFINITY));
        for i in idxs {
            let f = self.figures(i, task);
            if let Some(v) = f.latency_ms {
                lat = (lat.0.min(v), lat.1.max(v));
            }
            if let Some(v) = f.cost_1k {
                cost = (cost.0.min(v), cost.1.max(v));
            }
        }
        (lat, cost)
    }
}

/// Min-max normalization where lower is better; 0.5 when missing, 1 when all equal.
pub(crate) fn lower_better(v: Option<f64>, (lo, hi): (f64, f64)) -> f64 {
    match v {
        None => 0.5,
        Some(_) if hi <= lo => 1.0,
        Some(v) => (hi - v) / (hi - lo),
    }
}
