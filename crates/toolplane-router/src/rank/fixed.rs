//! The static strategy: a fixed order (named experts first, then by
//! priority, then by declaration), computed once when the router is built.

use super::{Rank, Shown, View, put};
use crate::error::RouterError;
use crate::expert::Expert;
use crate::ranking::{Draw, Ranked, Sink};

#[derive(Debug)]
pub(crate) struct Fixed {
    /// Expert index -> place, 0 first.
    rank: Box<[u32]>,
}

impl Fixed {
    pub(crate) fn new(
        named: &[String],
        experts: &[Expert],
        lookup: &dyn Fn(&str, &'static str) -> Result<usize, RouterError>,
    ) -> Result<Self, RouterError> {
        let n = experts.len();
        let mut first = Vec::with_capacity(named.len());
        let mut is_named = vec![false; n];
        for id in named {
            let i = lookup(id, "order")?;
            if !std::mem::replace(&mut is_named[i], true) {
                first.push(i);
            }
        }
        let mut rest: Vec<usize> = (0..n).filter(|&i| !is_named[i]).collect();
        rest.sort_by_key(|&i| (experts[i].priority, i));
        first.extend(rest);
        let mut rank = vec![0u32; n];
        for (r, &i) in first.iter().enumerate() {
            rank[i] = r as u32;
        }
        Ok(Self {
            rank: rank.into_boxed_slice(),
        })
    }
}

impl Rank for Fixed {
    fn rank(&self, _v: &View<'_>, cand: &mut [u32], sink: &mut Sink, _stream: &mut u64) -> Draw {
        let rank = &*self.rank;
        for &i in cand.iter() {
            sink.push(Ranked {
                idx: i as usize,
                tier: 0,
                key: -f64::from(rank[i as usize]),
            });
        }
        Draw::None
    }

    fn score_meaning(&self) -> &'static str {
        "minus the static rank"
    }

    fn shown(&self, v: &View<'_>, ranked: &[Ranked]) -> Vec<Shown> {
        ranked
            .iter()
            .map(|r| {
                let mut s = Shown::new();
                put(&mut s, "priority", Some(f64::from(v.experts[r.idx].priority)));
                s
            })
            .collect()
    }
}
