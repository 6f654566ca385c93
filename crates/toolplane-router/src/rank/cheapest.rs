//! Cheapest above a floor: the cheapest expert whose quality (win rate or
//! success rate) reaches the floor; when none does, the best quality first.

use super::{Rank, Shown, View, put};
use crate::ranking::{Draw, Ranked, Sink};
use crate::strategy::QualityMetric;

#[derive(Debug)]
pub(crate) struct Cheapest {
    pub(crate) floor: f64,
    pub(crate) quality: QualityMetric,
}

impl Rank for Cheapest {
    fn rank(&self, v: &View<'_>, cand: &mut [u32], sink: &mut Sink, _stream: &mut u64) -> Draw {
        let mut any = false;
        for &i in cand.iter() {
            let i = i as usize;
            let f = v.figures(i);
            match f.quality(self.quality) {
                Some(q) if q >= self.floor => {
                    any = true;
                    sink.push(Ranked {
                        idx: i,
                        tier: 1,
                        // An unpriced expert is never taken for the cheapest.
                        key: -f.cost_1k.unwrap_or(f64::INFINITY),
                    });
                }
                q => sink.push(Ranked {
                    idx: i,
                    tier: 0,
                    key: q.unwrap_or(-1.0),
                }),
            }
        }
        if any { Draw::None } else { Draw::FloorUnmet }
    }

    fn score_meaning(&self) -> &'static str {
        "minus the cost per 1k tokens above the floor, else the quality"
    }

    fn shown(&self, v: &View<'_>, ranked: &[Ranked]) -> Vec<Shown> {
        ranked
            .iter()
            .map(|r| {
                let f = v.figures(r.idx);
                let mut s = Shown::new();
                put(&mut s, "quality", f.quality(self.quality));
                put(&mut s, "cost_per_1k", f.cost_1k);
                put(&mut s, "above_floor", Some(f64::from(r.tier)));
                s
            })
            .collect()
    }
}
