//! Selection: hard constraints, then the task's strategy ranks what is left.
//! Reads atomics only; allocates the candidate list and nothing else.

use std::cmp::Ordering as CmpOrdering;
use std::sync::atomic::Ordering;

use toolplane_core::ChatRequest;

use crate::router::Inner;
use crate::sample::Draws;
use crate::state::Health;
use crate::strategy::{QualityMetric, Strategy, Weights};

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
    pub(crate) stream: u64,
    pub(crate) draw: Draw,
}

/// The four figures of the weighted strategy, raw.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Figures {
    pub(crate) latency_ms: Option<f64>,
    pub(crate) success: Option<f64>,
    pub(crate) cost_1k: Option<f64>,
    pub(crate) win_rate: Option<f64>,
}

impl Inner {
    /// Latency for ranking: the stats source's p95, else the router's own EWMA.
    pub(crate) fn figures(&self, idx: usize, task: usize) -> Figures {
        let st = &self.states[idx];
        let cell = &st.tasks[task];
        Figures {
            latency_ms: cell.src_p95_ms.get().or_else(|| st.ewma_latency_ms.get()),
            success: cell.src_success.get().or_else(|| st.ewma_success.get()),
            cost_1k: cell
                .src_cost_1k
                .get()
                .or_else(|| Some(self.experts[idx].pricing.blended_per_1k())),
            win_rate: cell.src_win.get().or_else(|| self.posterior_mean(idx, task)),
        }
    }

    /// The posterior mean once it holds evidence beyond the prior.
    pub(crate) fn posterior_mean(&self, idx: usize, task: usize) -> Option<f64> {
        let (a, b) = self.states[idx].tasks[task].posterior.get();
        let (_, (pa, pb)) = self.policies[task].strategy.bandit();
        (a + b > pa + pb + 0.5).then(|| a / (a + b))
    }

    pub(crate) fn quality(&self, idx: usize, task: usize, metric: QualityMetric) -> Option<f64> {
        let f = self.figures(idx, task);
        match metric {
            QualityMetric::WinRate => f.win_rate,
            QualityMetric::SuccessRate => f.success,
        }
    }

    /// The hard constraints for one expert; `None` when it may take the request.
    pub(crate) fn constraint(&self, idx: usize, q: &Query, now: u64, router_left: Option<f64>) -> Option<Removed> {
        let e = &self.experts[idx];
        let st = &self.states[idx];
        if let Some(mask) = &self.allowed[q.task] {
            if !mask[idx] {
                return Some(Removed::Rule);
            }
        }
        if q.tools && !e.capabilities.tools {
            return Some(Removed::Tools);
        }
        if q.stream && !e.capabilities.streaming {
            return Some(Removed::Streaming);
        }
        if let Some(have) = e.capabilities.max_context_tokens {
            let need = q.input_tokens + q.max_output.unwrap_or(0);
            if need > have {
                return Some(Removed::Context { need, have });
            }
        }
        if let Health::Open { remaining_ms } = st.breaker.health(now) {
            return Some(Removed::Cooldown { remaining_ms });
        }
        if e.budget_usd.is_some() || router_left.is_some() {
            let estimate = e.pricing.estimate(q.input_tokens, q.output_estimate);
            if let Some(budget) = e.budget_usd {
                let left = (budget - st.spent_usd()).max(0.0);
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

    /// Ranks the experts for `q`; the first `top` are sorted, the rest dropped.
    /// Experts in `exclude` (already tried) are left out silently.
    pub(crate) fn select(&self, q: &Query, top: usize, keep_all: bool, exclude: &[usize]) -> Selection {
        let n = self.experts.len();
        let now = self.clock.now();
        let router_left = self
            .budget_usd
            .map(|b| (b - self.spent_nano_usd.load(Ordering::Relaxed) as f64 / 1e9).max(0.0));
        let mut ranked = Vec::with_capacity(n);
        let mut removed = Vec::new();
        for idx in 0..n {
            if exclude.contains(&idx) {
                continue;
            }
            match self.constraint(idx, q, now, router_left) {
                None => ranked.push(Ranked { idx, tier: 0, key: 0.0 }),
                Some(r) => removed.push((idx, r)),
            }
        }
        let stream = self.draws.fetch_add(1, Ordering::Relaxed);
        let mut draw = Draw::None;
        if !ranked.is_empty() {
            let strategy = &self.policies[q.task].strategy;
            draw = self.score(strategy, q.task, &mut ranked, stream);
        }
        let top = if keep_all { ranked.len() } else { top.min(ranked.len()) };
        if top > 0 && top < ranked.len() {
            ranked.select_nth_unstable_by(top - 1, by_rank);
            ranked.truncate(top);
        }
        ranked.sort_unstable_by(by_rank);
        Selection {
            ranked,
            removed,
            stream,
            draw,
        }
    }

    fn score(&self, strategy: &Strategy, task: usize, ranked: &mut [Ranked], stream: u64) -> Draw {
        match strategy {
            Strategy::Static { .. } => {
                let rank = &self.static_rank[task];
                for r in ranked.iter_mut() {
                    r.key = -f64::from(rank[r.idx]);
                }
                Draw::None
            }
            Strategy::Weighted { weights } => {
                self.weighted(weights, task, ranked);
                Draw::None
            }
            Strategy::Thompson { .. } => {
                let mut d = Draws::new(&self.rng, stream);
                for r in ranked.iter_mut() {
                    let (a, b) = self.states[r.idx].tasks[task].posterior.get();
                    r.key = d.beta(a, b);
                }
                Draw::Samples
            }
            Strategy::LeastLatency => {
                for r in ranked.iter_mut() {
                    let st = &self.states[r.idx];
                    let lat = st
                        .ewma_latency_ms
                        .get()
                        .or_else(|| st.tasks[task].src_p95_ms.get())
                        .unwrap_or(0.0);
                    r.key = -lat;
                }
                if ranked.len() < 2 {
                    return Draw::None;
                }
                let mut d = Draws::new(&self.rng, stream);
                let i = d.below(ranked.len());
                let mut j = d.below(ranked.len() - 1);
                if j >= i {
                    j += 1;
                }
                let (w, l) = if by_rank(&ranked[i], &ranked[j]) == CmpOrdering::Greater {
                    (j, i)
                } else {
                    (i, j)
                };
                ranked[w].tier = 1;
                Draw::TwoChoices {
                    winner: ranked[w].idx,
                    loser: ranked[l].idx,
                }
            }
            Strategy::Cheapest { quality_floor, quality } => {
                let mut any = false;
                for r in ranked.iter_mut() {
                    let q = self.quality(r.idx, task, *quality);
                    match q {
                        Some(q) if q >= *quality_floor => {
                            any = true;
                            r.tier = 1;
                            r.key = -self.figures(r.idx, task).cost_1k.unwrap_or(0.0);
                        }
                        _ => r.key = q.unwrap_or(-1.0),
                    }
                }
                if any { Draw::None } else { Draw::FloorUnmet }
            }
        }
    }

    fn weighted(&self, w: &Weights, task: usize, ranked: &mut [Ranked]) {
        let figs: Vec<Figures> = ranked.iter().map(|r| self.figures(r.idx, task)).collect();
        let range = |get: &dyn Fn(&Figures) -> Option<f64>| {
            figs.iter()
                .filter_map(get)
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)))
        };
        let lat = range(&|f| f.latency_ms);
        let cost = range(&|f| f.cost_1k);
        let total = (w.latency + w.success + w.cost + w.win_rate).max(f64::MIN_POSITIVE);
        for (r, f) in ranked.iter_mut().zip(&figs) {
            r.key = (w.latency * lower_better(f.latency_ms, lat)
                + w.success * f.success.map_or(0.5, |s| s.clamp(0.0, 1.0))
                + w.cost * lower_better(f.cost_1k, cost)
                + w.win_rate * f.win_rate.map_or(0.5, |s| s.clamp(0.0, 1.0)))
                / total;
        }
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
