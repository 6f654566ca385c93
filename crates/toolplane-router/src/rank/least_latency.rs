//! Least latency: the lower EWMA latency of two candidates drawn at random
//! (power of two choices); an expert with no latency yet counts as fastest.

use std::cmp::Ordering;

use super::{Rank, Shown, View, put};
use crate::ranking::{Draw, Ranked, Sink, by_rank};

#[derive(Debug)]
pub(crate) struct LeastLatency;

#[inline]
fn latency(v: &View<'_>, i: usize) -> f64 {
    v.states[i]
        .ewma_latency_ms
        .get()
        .or_else(|| v.cells[i].src_p95_ms.get())
        .unwrap_or(0.0)
}

impl Rank for LeastLatency {
    fn rank(&self, v: &View<'_>, cand: &mut [u32], sink: &mut Sink, stream: &mut u64) -> Draw {
        let v = &{ *v }; // a copy: its slices stay in registers across the sink's writes
        let ranked = |i: usize, tier: u8| Ranked {
            idx: i,
            tier,
            key: -latency(v, i),
        };
        if cand.len() < 2 {
            sink.push(ranked(cand[0] as usize, 0));
            return Draw::None;
        }
        let mut d = v.draws(stream);
        let x = d.below(cand.len());
        let mut y = d.below(cand.len() - 1);
        if y >= x {
            y += 1;
        }
        let (i, j) = (cand[x] as usize, cand[y] as usize);
        let (w, l) = if by_rank(&ranked(i, 0), &ranked(j, 0)) == Ordering::Greater {
            (j, i)
        } else {
            (i, j)
        };
        for &c in cand.iter() {
            let c = c as usize;
            sink.push(ranked(c, u8::from(c == w)));
        }
        Draw::TwoChoices { winner: w, loser: l }
    }

    fn score_meaning(&self) -> &'static str {
        "minus the EWMA latency in ms (the two-choice winner goes first)"
    }

    fn shown(&self, _v: &View<'_>, ranked: &[Ranked]) -> Vec<Shown> {
        ranked
            .iter()
            .map(|r| {
                let mut s = Shown::new();
                put(&mut s, "p2c_winner", Some(f64::from(r.tier)));
                s
            })
            .collect()
    }
}
