//! Selection, a function of (catalogue, live state, query): the hard
//! constraints remove experts, then the task's compiled strategy ranks the
//! rest. The [`Selection`] it returns is what dispatch, its log and
//! explanations consume.
//!
//! Reads atomics only; the candidate buffer is thread-local, so a selection
//! allocates only the short ranking it returns (and the list of removed
//! experts when a constraint removes one).

use std::cell::{Cell, RefCell};

use toolplane_core::ChatRequest;

use crate::catalogue::Catalogue;
use crate::live::LiveState;
use crate::ranking::{Draw, Ranked, Sink};
use crate::state::{Clock, Health};

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
    pub(crate) fn new(cat: &Catalogue, request: &ChatRequest, task: usize, stream: bool) -> Self {
        let max_output = request.max_tokens.map(u64::from);
        Self {
            task,
            tools: !request.tools.is_empty(),
            stream,
            input_tokens: request.estimated_input_tokens(),
            max_output,
            output_estimate: max_output.unwrap_or(cat.settings.default_output_tokens),
        }
    }
}

/// How much of the ranking a caller wants.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Want<'a> {
    /// The best `top`, leaving out `exclude` (already tried) silently.
    Top { top: usize, exclude: &'a [usize] },
    /// Every candidate, ranked (explanations).
    All,
}

/// Why a hard constraint removed an expert.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Removed {
    Rule,
    Tools,
    Streaming,
    Context { need: u64, have: u64 },
    Cooldown { remaining_ms: u64 },
    Unpriced,
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
            Self::Unpriced => "unpriced",
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
            Self::Unpriced => "a budget applies and this expert has no price (none set, none in the price \
                               book, no default price): an unpriced expert is never counted as free"
                .into(),
            Self::Budget { estimate, left } => {
                format!("estimated cost ${estimate:.6} is more than the ${left:.6} left on this expert")
            }
            Self::RouterBudget { estimate, left } => {
                format!("estimated cost ${estimate:.6} is more than the ${left:.6} left on the router")
            }
        }
    }
}

/// The outcome of one selection.
#[derive(Debug)]
pub(crate) struct Selection {
    /// The task slot.
    pub(crate) task: usize,
    /// Best first.
    pub(crate) ranked: Vec<Ranked>,
    pub(crate) removed: Vec<(usize, Removed)>,
    /// Which draw of the router's master generator seeded this selection (0: none).
    pub(crate) stream: u64,
    pub(crate) draw: Draw,
}

/// The clock, read at most once per selection and only when a breaker is not closed.
#[derive(Debug)]
struct LazyNow<'a> {
    clock: &'a Clock,
    now: Cell<u64>,
}

impl LazyNow<'_> {
    fn get(&self) -> u64 {
        if self.now.get() == 0 {
            self.now.set(self.clock.now());
        }
        self.now.get()
    }
}

thread_local! {
    /// The candidate buffer of the selection running on this thread.
    static CANDIDATES: RefCell<Vec<u32>> = const { RefCell::new(Vec::new()) };
}

/// Ranks the experts for `q`.
pub(crate) fn select(cat: &Catalogue, live: &LiveState, q: &Query, want: Want<'_>) -> Selection {
    CANDIDATES.with(|cell| match cell.try_borrow_mut() {
        Ok(mut cand) => select_with(cat, live, q, want, &mut cand),
        Err(_) => select_with(cat, live, q, want, &mut Vec::new()),
    })
}

fn select_with(cat: &Catalogue, live: &LiveState, q: &Query, want: Want<'_>, cand: &mut Vec<u32>) -> Selection {
    let (top, all, exclude) = match want {
        Want::Top { top, exclude } => (top, false, exclude),
        Want::All => (usize::MAX, true, &[][..]),
    };
    let n = cat.experts.len();
    let now = LazyNow {
        clock: &live.clock,
        now: Cell::new(0),
    };
    let router_left = live.router_left(cat);
    let plan = &cat.tasks[q.task];
    cand.clear();
    let mut removed = Vec::new();
    // Without rules or budgets, a candidate that passes the cheap checks
    // needs nothing more; the full check runs only to say why one fails.
    let simple = plan.allowed.is_none() && !cat.any_budget && router_left.is_none();
    let need = q.input_tokens + q.max_output.unwrap_or(0);
    for idx in 0..n {
        if !exclude.is_empty() && exclude.contains(&idx) {
            continue;
        }
        if simple {
            let h = &cat.hot[idx];
            if (h.tools || !q.tools)
                && (h.streaming || !q.stream)
                && need <= h.max_context
                && live.states[idx].breaker.is_closed()
            {
                cand.push(idx as u32);
                continue;
            }
        }
        match constraint(cat, live, idx, q, &now, router_left) {
            None => cand.push(idx as u32),
            Some(r) => removed.push((idx, r)),
        }
    }
    let mut stream = 0;
    let mut sink = Sink::new(top.max(1), all, cand.len());
    let mut draw = Draw::None;
    if !cand.is_empty() {
        draw = plan.ranker.rank(&live.view(cat, q.task), cand, &mut sink, &mut stream);
    }
    Selection {
        task: q.task,
        ranked: sink.finish(),
        removed,
        stream,
        draw,
    }
}

/// The hard constraints for one expert; `None` when it may take the request.
fn constraint(
    cat: &Catalogue,
    live: &LiveState,
    idx: usize,
    q: &Query,
    now: &LazyNow<'_>,
    router_left: Option<f64>,
) -> Option<Removed> {
    let h = &cat.hot[idx];
    if let Some(mask) = &cat.tasks[q.task].allowed {
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
    let st = &live.states[idx];
    if !st.breaker.is_closed() {
        if let Health::Open { remaining_ms } = st.breaker.health(now.get()) {
            return Some(Removed::Cooldown { remaining_ms });
        }
    }
    if h.budget.is_finite() || router_left.is_some() {
        let Some(estimate) = estimate_usd(cat, idx, q) else {
            return Some(Removed::Unpriced);
        };
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

/// The most `q` can cost on expert `idx`, in USD: what a budget reserves
/// ([`Price::estimate_micros`](toolplane_core::Price::estimate_micros) of
/// the estimated input and `max_tokens` or the default output), `None`
/// when the expert is unpriced.
pub(crate) fn estimate_usd(cat: &Catalogue, idx: usize, q: &Query) -> Option<f64> {
    let price = cat.prices.get(idx)?.price?;
    Some(price.estimate_micros(q.input_tokens, q.output_estimate) as f64 / 1e6)
}
