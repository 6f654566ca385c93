//! The weighted strategy: a weighted sum of latency p95, success rate,
//! cost and win rate, each min-max normalized over the candidates.

use std::cell::RefCell;

use super::{Rank, Shown, View, put};
use crate::figures::lower_better;
use crate::ranking::{Draw, Ranked, Sink};
use crate::strategy::Weights;

thread_local! {
    /// The candidates' raw figures of the selection running on this thread.
    static FIGS: RefCell<Vec<[f64; 4]>> = const { RefCell::new(Vec::new()) };
}

#[derive(Debug)]
pub(crate) struct WeightedSum {
    w: Weights,
}

impl WeightedSum {
    pub(crate) fn new(w: Weights) -> Self {
        Self { w }
    }

    /// One pass reads each candidate's resolved figures into `figs` and
    /// tracks the ranges; a second pass over that packed buffer scores.
    fn score(&self, v: &View<'_>, cand: &[u32], figs: &mut Vec<[f64; 4]>, sink: &mut Sink) {
        let w = &self.w;
        let (mut lat, mut cost) = ((f64::INFINITY, f64::NEG_INFINITY), (f64::INFINITY, f64::NEG_INFINITY));
        figs.clear();
        for &i in cand {
            let p = &v.packed[i as usize].0;
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
}

impl Rank for WeightedSum {
    fn rank(&self, v: &View<'_>, cand: &mut [u32], sink: &mut Sink, _stream: &mut u64) -> Draw {
        FIGS.with(|cell| match cell.try_borrow_mut() {
            Ok(mut figs) => self.score(v, cand, &mut figs, sink),
            Err(_) => self.score(v, cand, &mut Vec::new(), sink),
        });
        Draw::None
    }

    fn score_meaning(&self) -> &'static str {
        "weighted sum of normalized figures, 0..1"
    }

    fn shown(&self, v: &View<'_>, ranked: &[Ranked]) -> Vec<Shown> {
        let figs: Vec<_> = ranked.iter().map(|r| v.figures(r.idx)).collect();
        let (mut lat, mut cost) = ((f64::INFINITY, f64::NEG_INFINITY), (f64::INFINITY, f64::NEG_INFINITY));
        for f in &figs {
            if let Some(x) = f.latency_ms {
                lat = (lat.0.min(x), lat.1.max(x));
            }
            if let Some(x) = f.cost_1k {
                cost = (cost.0.min(x), cost.1.max(x));
            }
        }
        figs.iter()
            .map(|f| {
                let mut s = Shown::new();
                put(&mut s, "latency_p95_ms", f.latency_ms);
                put(&mut s, "latency_norm", Some(lower_better(f.latency_ms, lat)));
                put(&mut s, "success_rate", f.success);
                put(&mut s, "cost_per_1k", f.cost_1k);
                put(&mut s, "cost_norm", Some(lower_better(f.cost_1k, cost)));
                put(&mut s, "win_rate", f.win_rate);
                s
            })
            .collect()
    }
}
