//! Thompson sampling on win rate: one draw from each expert's Beta
//! posterior, highest first, with exact pruning of experts that cannot place.

use super::{Rank, Shown, View, put};
use crate::ranking::{Draw, Ranked, Sink};

/// Up to this many candidates, the k best posterior means are drawn first
/// (an O(k n) pass that pays for itself in skipped draws).
const PRESORT_MAX: usize = 32;

#[derive(Debug)]
pub(crate) struct Thompson;

impl Rank for Thompson {
    fn rank(&self, v: &View<'_>, cand: &mut [u32], sink: &mut Sink, stream: &mut u64) -> Draw {
        let cells = v.cells;
        // Pruning, exact: an expert with a bound `q` below the current k-th
        // best draw `t` is drawn as a mixture — with probability
        // `delta = P(X > q)` from its tail above `q`, otherwise it lies below
        // `q < t` and cannot enter the top k, so its value is not needed.
        // The farthest bound below `t` (the smallest `delta`) is used.
        if cand.len() > sink.k && cand.len() <= PRESORT_MAX {
            // The experts with the highest posterior means go first, so the
            // k-th best draw is high early and the bounds skip more of the
            // rest (order does not change the result).
            for slot in 0..sink.k {
                let mean = |j: usize| {
                    let (a, b) = cells[cand[j] as usize].posterior.get();
                    (a, a + b)
                };
                let (mut best, (mut ba, mut bs)) = (slot, mean(slot));
                for j in slot + 1..cand.len() {
                    let (a, s) = mean(j);
                    if a * bs > ba * s {
                        (best, ba, bs) = (j, a, s);
                    }
                }
                cand.swap(slot, best);
            }
        }
        let mut d = v.draws(stream);
        for &i in cand.iter() {
            let snap = cells[i as usize].read();
            let ((a, b), (ca, cb)) = (snap.ab, snap.mt);
            let key = match sink.floor() {
                Some(t) if snap.bounds[2].0 < t => {
                    let [far, mid, near] = snap.bounds;
                    let (q, delta) = if far.0 < t {
                        far
                    } else if mid.0 < t {
                        mid
                    } else {
                        near
                    };
                    if d.uniform() >= delta {
                        continue;
                    }
                    d.beta_tail(a, b, q)
                }
                _ => d.beta_c(a, b, ca, cb),
            };
            sink.push(Ranked {
                idx: i as usize,
                tier: 0,
                key,
            });
        }
        Draw::Samples
    }

    fn score_meaning(&self) -> &'static str {
        "a draw from the win-rate posterior"
    }

    fn shown(&self, v: &View<'_>, ranked: &[Ranked]) -> Vec<Shown> {
        ranked
            .iter()
            .map(|r| {
                let (a, b) = v.cells[r.idx].posterior.get();
                let mut s = Shown::new();
                put(&mut s, "alpha", Some(a));
                put(&mut s, "beta", Some(b));
                put(&mut s, "mean", Some(a / (a + b)));
                s
            })
            .collect()
    }
}
