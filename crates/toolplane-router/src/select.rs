//! Selection: hard constraints, then the task's strategy ranks what is left.
//! Reads atomics only; candidate and figure buffers are thread-local, so a
//! selection allocates only the short ranking it returns (and the list of
//! removed experts when a constraint removes one).

use std::cell::RefCell;
use std::cmp::Ordering as CmpOrdering;
use std::sync::atomic::Ordering;

use toolplane_core::ChatRequest;

use crate::expert::Expert;
use crate::router::Inner;
use crate::sample::{Draws, next_seed};
use crate::state::{Clock, Health};
use crate::strategy::Strategy;

/// What the constraints read about an expert, packed together.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Hot {
    tools: bool,
    streaming: bool,
    max_context: u64,
    budget: f64,
    input_per_1k: f64,
    output_per_1k: f64,
    pub(crate) blended_per_1k: f64,
}

impl Hot {
    pub(crate) fn new(e: &Expert) -> Self {
        Self {
            tools: e.capabilities.tools,
            streaming: e.capabilities.streaming,
            max_context: e.capabilities.max_context_tokens.unwrap_or(u64::MAX),
            budget: e.budget_usd.unwrap_or(f64::INFINITY),
            input_per_1k: e.pricing.input_per_1k,
            output_per_1k: e.pricing.output_per_1k,
            blended_per_1k: e.pricing.blended_per_1k(),
        }
    }
}

/// The clock, read at most once per selection and only when a breaker is not closed.
#[derive(Debug)]
pub(crate) struct LazyNow<'a> {
    clock: &'a Clock,
    now: std::cell::Cell<u64>,
}

impl<'a> LazyNow<'a> {
    pub(crate) fn new(clock: &'a Clock) -> Self {
        Self {
            clock,
            now: std::cell::Cell::new(0),
        }
    }

    pub(crate) fn get(&self) -> u64 {
        if self.now.get() == 0 {
            self.now.set(self.clock.now());
        }
        self.now.get()
    }
}

/// Up to this many candidates, Thompson sampling draws the k best posterior
/// means first (an O(k n) pass that pays for itself in skipped draws).
const PRESORT_MAX: usize = 32;

/// Buffers a selection reuses on its thread, so the hot path does not allocate them.
#[derive(Debug, Default)]
pub(crate) struct Scratch {
    /// Candidate indexes.
    cand: Vec<u32>,
    /// The weighted strategy's raw figures per candidate (`NaN`: missing).
    figs: Vec<[f64; 4]>,
}

thread_local! {
    /// The scratch of the selection running on this thread.
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// Where ranked candidates go: only the best `k`, or all of them (explain).
#[derive(Debug)]
pub(crate) struct Sink {
    k: usize,
    items: Vec<Ranked>,
}

impl Sink {
    fn new(k: usize, all: bool, n: usize) -> Self {
        let k = if all { usize::MAX } else { k };
        Self {
            k,
            items: Vec::with_capacity(k.min(n)),
        }
    }

    /// The key a candidate of tier 0 must beat to enter, once the sink is full.
    #[inline]
    fn floor(&self) -> Option<f64> {
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
                Some(last) if by_rank(&r, last) == CmpOrdering::Less => {
                    self.items.pop();
                }
                _ => return,
            }
        }
        let pos = self.items.partition_point(|x| by_rank(x, &r) == CmpOrdering::Less);
        self.items.insert(pos, r);
    }

    fn finish(mut self) -> Vec<Ranked> {
        if self.k == usize::MAX {
            self.items.sort_unstable_by(by_rank);
        }
        self.items
    }
}

/// What selection needs to know about a request.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Query {
    pub(crate) task: usize,
    pub(crate) tools: bool,
    pub(crate) stream: bool,
    pub(crate) input_tokens: u64,
    /// `max_tokens` when set.
    pub(crate) max_output: Option<u64>,
    /// For budget estimates: `max_tokens` or the router's default.
    pub(crate) output_estimate: u64,
}

impl Query {
    pub(crate) fn new(inner: &Inner, request: &ChatRequest, task: usize, stream: bool) -> Self {
        let max_output = request.max_tokens.map(u64::from);
        Self {
            task,
            tools: !request.tools.is_empty(),
            stream,
            input_tokens: request.estimated_input_tokens(),
            max_output,
            output_estimate: max_output.unwrap_or(inner.default_output_tokens),
        }
    }
}

/// One candidate's place: higher tier first, then higher key, then declaration order.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ranked {
    pub(crate) idx: usize,
    pub(crate) tier: u8,
    pub(crate) key: f64,
}

fn by_rank(a: &Ranked, b: &Ranked) -> CmpOrdering {
    b.tier
        .cmp(&a.tier)
        .then_with(|| b.key.partial_cmp(&a.key).unwrap_or(CmpOrdering::Equal))
        .then_with(|| a.idx.cmp(&b.idx))
}

/// Why a hard constraint removed an expert.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Removed {
    Rule,
    Tools,
    Streaming,
    Context { need: u64, have: u64 },
    Cooldown { remaining_ms: u64 },
    Budget { estimate: f64, left: f64 },
    RouterBudget { estimate: f64, left: f64 },
}

impl Removed {
    pub(crate) fn constraint(&self) -> &'static str {
        match self {
            Self::Rule => "rule",
            Self::Tools => "tools",
            Self::Streaming => "streaming",
            Self::Context { .. } => "context_window",
            Self::Cooldown { .. } => "healthy",
            Self::Budget { .. } => "budget",
            Self::RouterBudget { .. } => "router_budget",
        }
    }

    pub(crate) fn detail(&self) -> String {
        match self {
            Self::Rule => "the task's rule does not list this expert".into(),
            Self::Tools => "the request has tools and this expert does not take tools".into(),
            Self::Streaming => "the request streams and this expert does not".into(),
            Self::Context { need, have } => format!("needs about {need} tokens, context window is {have}"),
            Self::Cooldown { remaining_ms } => format!("circuit open, cooling down for {remaining_ms} ms"),
            Self::Budget { estimate, left } => {
                format!("estimated cost ${estimate:.6} is more than the ${left:.6} left on this expert")
            }
            Self::RouterBudget { estimate, left } => {
                format!("estimated cost ${estimate:.6} is more than the ${left:.6} left on the router")
            }
        }
    }
}

/// How the random part of a selection went.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Draw {
    None,
    /// Thompson sampling: each candidate's key is its draw.
    Samples,
    /// Power of two choices between two candidates; the first won.
    TwoChoices {
        winner: usize,
        loser: usize,
    },
    /// Cheapest: no candidate met the floor.
    FloorUnmet,
}

#[derive(Debug)]
pub(crate) struct Selection {
    pub(crate) ranked: Vec<Ranked>,
    pub(crate) removed: Vec<(usize, Removed)>,
    /// Which draw of the router's master generator seeded this selection (0: none).
    pub(crate) stream: u64,
    pub(crate) draw: Draw,
}

impl Inner {
    /// The hard constraints for one expert; `None` when it may take the request.
    pub(crate) fn constraint(
        &self,
        idx: usize,
        q: &Query,
        now: &LazyNow<'_>,
        router_left: Option<f64>,
    ) -> Option<Removed> {
        let h = &self.hot[idx];
        if let Some(mask) = &self.allowed[q.task] {
            if !mask[idx] {
                return Some(Removed::Rule);
            }
        }
        if q.tools && !h.tools {
            return Some(Removed::Tools);
        }
        if q.stream && !h.streaming {
            return Some(Removed::Streaming);
        }
        let need = q.input_tokens + q.max_output.unwrap_or(0);
        if need > h.max_context {
            return Some(Removed::Context {
                need,
                have: h.max_context,
            });
        }
        let st = &self.states[idx];
        if !st.breaker.is_closed() {
            if let Health::Open { remaining_ms } = st.breaker.health(now.get()) {
                return Some(Removed::Cooldown { remaining_ms });
            }
        }
        if h.budget.is_finite() || router_left.is_some() {
            let estimate =
                (q.input_tokens as f64 * h.input_per_1k + q.output_estimate as f64 * h.output_per_1k) / 1000.0;
            if h.budget.is_finite() {
                let left = (h.budget - st.spent_usd()).max(0.0);
                if estimate > left || left <= 0.0 {
                    return Some(Removed::Budget { estimate, left });
                }
            }
            if let Some(left) = router_left {
                if estimate > left || left <= 0.0 {
                    return Some(Removed::RouterBudget { estimate, left });
                }
            }
        }
        None
    }

    /// Ranks the experts for `q`: the best `top` in order (all when
    /// `keep_all`). Experts in `exclude` (already tried) are left out silently.
    pub(crate) fn select(&self, q: &Query, top: usize, keep_all: bool, exclude: &[usize]) -> Selection {
        SCRATCH.with(|cell| match cell.try_borrow_mut() {
            Ok(mut scratch) => self.select_with(q, top, keep_all, exclude, &mut scratch),
            Err(_) => self.select_with(q, top, keep_all, exclude, &mut Scratch::default()),
        })
    }

    fn select_with(
        &self,
        q: &Query,
        top: usize,
        keep_all: bool,
        exclude: &[usize],
        scratch: &mut Scratch,
    ) -> Selection {
        let n = self.experts.len();
        let now = LazyNow::new(&self.clock);
        let router_left = self
            .budget_usd
            .map(|b| (b - self.spent_nano_usd.load(Ordering::Relaxed) as f64 / 1e9).max(0.0));
        let Scratch { cand, figs } = scratch;
        cand.clear();
        let mut removed = Vec::new();
        // Without rules or budgets, a candidate that passes the cheap checks
        // needs nothing more; the full check runs only to say why one fails.
        let simple = self.allowed[q.task].is_none() && !self.any_budget && router_left.is_none();
        let need = q.input_tokens + q.max_output.unwrap_or(0);
        for idx in 0..n {
            if !exclude.is_empty() && exclude.contains(&idx) {
                continue;
            }
            if simple {
                let h = &self.hot[idx];
                if (h.tools || !q.tools)
                    && (h.streaming || !q.stream)
                    && need <= h.max_context
                    && self.states[idx].breaker.is_closed()
                {
                    cand.push(idx as u32);
                    continue;
                }
            }
            match self.constraint(idx, q, &now, router_left) {
                None => cand.push(idx as u32),
                Some(r) => removed.push((idx, r)),
            }
        }
        let mut stream = 0;
        let mut sink = Sink::new(top.max(1), keep_all, cand.len());
        let mut draw = Draw::None;
        if !cand.is_empty() {
            draw = self.score(
                &self.policies[q.task].strategy,
                q.task,
                cand,
                figs,
                &mut sink,
                &mut stream,
            );
        }
        Selection {
            ranked: sink.finish(),
            removed,
            stream,
            draw,
        }
    }

    /// Draws for one selection, seeded from the master generator; sets `stream`.
    fn draws(&self, stream: &mut u64) -> Draws {
        let mut guard = match self.rng.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        guard.1 += 1;
        *stream = guard.1;
        Draws::new(next_seed(&mut guard.0))
    }

    fn score(
        &self,
        strategy: &Strategy,
        task: usize,
        cand: &mut [u32],
        figs: &mut Vec<[f64; 4]>,
        sink: &mut Sink,
        stream: &mut u64,
    ) -> Draw {
        let n = self.experts.len();
        let cells = &self.cells[task * n..(task + 1) * n];
        let push = |sink: &mut Sink, idx: usize, tier: u8, key: f64| sink.push(Ranked { idx, tier, key });
        match strategy {
            Strategy::Static { .. } => {
                let rank = &self.static_rank[task];
                for &i in cand.iter() {
                    push(sink, i as usize, 0, -f64::from(rank[i as usize]));
                }
                Draw::None
            }
            Strategy::Weighted { weights } => {
                self.weighted(weights, task, cand, figs, sink);
                Draw::None
            }
            Strategy::Thompson { .. } => {
                // Pruning, exact: an expert with a bound `q` below the
                // current k-th best draw `t` is drawn as a mixture — with
                // probability `delta = P(X > q)` from its tail above `q`,
                // otherwise it lies below `q < t` and cannot enter the top
                // k, so its value is not needed. The farthest bound below
                // `t` (the smallest `delta`) is used.
                if cand.len() > sink.k && cand.len() <= PRESORT_MAX {
                    // The experts with the highest posterior means go first,
                    // so the k-th best draw is high early and the bounds skip
                    // more of the rest (order does not change the result).
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
                let mut d = self.draws(stream);
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
                    push(sink, i as usize, 0, key);
                }
                Draw::Samples
            }
            Strategy::LeastLatency => {
                let lat = |i: usize| {
                    let st = &self.states[i];
                    st.ewma_latency_ms
                        .get()
                        .or_else(|| cells[i].src_p95_ms.get())
                        .unwrap_or(0.0)
                };
                if cand.len() < 2 {
                    push(sink, cand[0] as usize, 0, -lat(cand[0] as usize));
                    return Draw::None;
                }
                let mut d = self.draws(stream);
                let x = d.below(cand.len());
                let mut y = d.below(cand.len() - 1);
                if y >= x {
                    y += 1;
                }
                let (i, j) = (cand[x] as usize, cand[y] as usize);
                let (ri, rj) = (
                    Ranked {
                        idx: i,
                        tier: 0,
                        key: -lat(i),
                    },
                    Ranked {
                        idx: j,
                        tier: 0,
                        key: -lat(j),
                    },
                );
                let (w, l) = if by_rank(&ri, &rj) == CmpOrdering::Greater {
                    (j, i)
                } else {
                    (i, j)
                };
                for &c in cand.iter() {
                    let c = c as usize;
                    push(sink, c, u8::from(c == w), -lat(c));
                }
                Draw::TwoChoices { winner: w, loser: l }
            }
            Strategy::Cheapest { quality_floor, quality } => {
                let mut any = false;
                for &i in cand.iter() {
                    let i = i as usize;
                    match self.quality(i, task, *quality) {
                        Some(q) if q >= *quality_floor => {
                            any = true;
                            push(sink, i, 1, -self.figures(i, task).cost_1k.unwrap_or(0.0));
                        }
                        q => push(sink, i, 0, q.unwrap_or(-1.0)),
                    }
                }
                if any { Draw::None } else { Draw::FloorUnmet }
            }
        }
    }
}
