//! What a strategy produces: ranked candidates, kept best first in a
//! bounded sink, and how the random part of the ranking went.

use std::cmp::Ordering;

/// One candidate's place: higher tier first, then higher key, then declaration order.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ranked {
    pub(crate) idx: usize,
    pub(crate) tier: u8,
    pub(crate) key: f64,
}

#[inline]
pub(crate) fn by_rank(a: &Ranked, b: &Ranked) -> Ordering {
    b.tier
        .cmp(&a.tier)
        .then_with(|| b.key.partial_cmp(&a.key).unwrap_or(Ordering::Equal))
        .then_with(|| a.idx.cmp(&b.idx))
}

/// Where ranked candidates go: only the best `k`, or all of them (explain).
#[derive(Debug)]
pub(crate) struct Sink {
    pub(crate) k: usize,
    items: Vec<Ranked>,
}

impl Sink {
    pub(crate) fn new(k: usize, all: bool, n: usize) -> Self {
        let k = if all { usize::MAX } else { k };
        Self {
            k,
            items: Vec::with_capacity(k.min(n)),
        }
    }

    /// The key a candidate of tier 0 must beat to enter, once the sink is full.
    #[inline]
    pub(crate) fn floor(&self) -> Option<f64> {
        match self.items.last() {
            Some(last) if self.items.len() >= self.k && last.tier == 0 => Some(last.key),
            _ => None,
        }
    }

    #[inline]
    pub(crate) fn push(&mut self, r: Ranked) {
        if self.items.len() >= self.k {
            if let Some(last) = self.items.last() {
                // Fast reject: strictly worse than the last kept (ties go the slow way).
                if r.tier < last.tier || (r.tier == last.tier && r.key < last.key) {
                    return;
                }
            }
        }
        self.insert(r);
    }

    fn insert(&mut self, r: Ranked) {
        if self.k == usize::MAX {
            self.items.push(r);
            return;
        }
        if self.items.len() == self.k {
            match self.items.last() {
                Some(last) if by_rank(&r, last) == Ordering::Less => {
                    self.items.pop();
                }
                _ => return,
            }
        }
        let pos = self.items.partition_point(|x| by_rank(x, &r) == Ordering::Less);
        self.items.insert(pos, r);
    }

    pub(crate) fn finish(mut self) -> Vec<Ranked> {
        if self.k == usize::MAX {
            self.items.sort_unstable_by(by_rank);
        }
        self.items
    }
}

/// How the random part of a ranking went.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Draw {
    None,
    /// Each candidate's key is a random draw.
    Samples,
    /// Power of two choices between two candidates; the first won.
    TwoChoices {
        winner: usize,
        loser: usize,
    },
    /// No candidate met the strategy's floor.
    FloorUnmet,
}
