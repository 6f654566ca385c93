//! What changes while a router runs: breakers, latency and success
//! averages, spend, win-rate posteriors, figures from the stats source, the
//! random generator, and the calls awaiting feedback. Outcomes and feedback
//! write it (lock-free cells); selection reads it.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use toolplane_core::{ChatResponse, ProviderError, ProviderErrorKind, SharedVerdict, Verdict};

use crate::catalogue::{Catalogue, DEFAULT_TASK};
use crate::figures::{Packed, resolve, sanitize};
use crate::rank::View;
use crate::sample::Master;
use crate::state::{CellInit, Clock, ExpertState, TaskCell, add_spend};

/// Request ids remembered for feedback.
const PENDING_CAPACITY: usize = 65_536;

/// The live state of a router, laid out by the catalogue's indexes.
#[derive(Debug)]
pub(crate) struct LiveState {
    pub(crate) states: Vec<ExpertState>,
    /// Per task, per expert (`task * experts + expert`), so one task's cells are contiguous.
    pub(crate) cells: Vec<TaskCell>,
    /// The resolved figures, laid out like `cells`.
    pub(crate) packed: Vec<Packed>,
    pub(crate) spent_nano_usd: AtomicU64,
    pub(crate) master: Master,
    pub(crate) clock: Clock,
    pending: Mutex<Pending>,
    /// How far the stats source's shared verdicts have been read.
    verdict_cursor: AtomicU64,
}

#[derive(Debug, Default)]
struct Pending {
    map: HashMap<String, (usize, usize)>,
    order: VecDeque<String>,
}

impl LiveState {
    /// Fresh state for a catalogue: priors, no figures, breakers closed.
    pub(crate) fn new(cat: &Catalogue, clock: Clock) -> Self {
        let n = cat.experts.len();
        let cells: Vec<TaskCell> = cat
            .tasks
            .iter()
            .flat_map(|t| {
                let init = CellInit::new(t.prior);
                (0..n).map(move |_| TaskCell::new(&init))
            })
            .collect();
        let live = Self {
            states: (0..n).map(|_| ExpertState::default()).collect(),
            packed: (0..cells.len()).map(|_| Packed::default()).collect(),
            cells,
            spent_nano_usd: AtomicU64::new(0),
            master: Master::new(cat.settings.seed),
            clock,
            pending: Mutex::new(Pending::default()),
            verdict_cursor: AtomicU64::new(0),
        };
        for i in 0..n {
            live.refigure_expert(cat, i);
        }
        live
    }

    /// What a strategy reads for one task.
    #[inline]
    pub(crate) fn view<'a>(&'a self, cat: &'a Catalogue, task: usize) -> View<'a> {
        let n = cat.experts.len();
        View {
            experts: &cat.experts,
            hot: &cat.hot,
            states: &self.states,
            cells: &self.cells[task * n..(task + 1) * n],
            packed: &self.packed[task * n..(task + 1) * n],
            prior: cat.tasks[task].prior,
            master: &self.master,
        }
    }

    pub(crate) fn cell(&self, cat: &Catalogue, expert: usize, task: usize) -> &TaskCell {
        &self.cells[cat.cell_index(expert, task)]
    }

    #[inline]
    pub(crate) fn spent_usd(&self) -> f64 {
        self.spent_nano_usd.load(Ordering::Relaxed) as f64 / 1e9
    }

    /// USD left on the router's budget, if it has one.
    #[inline]
    pub(crate) fn router_left(&self, cat: &Catalogue) -> Option<f64> {
        cat.settings.budget_usd.map(|b| (b - self.spent_usd()).max(0.0))
    }

    /// Resolves the figures of an expert for a task into the packed array.
    /// Concurrent writers may leave a figure one update behind until the next change.
    pub(crate) fn refigure(&self, cat: &Catalogue, idx: usize, task: usize) {
        let at = cat.cell_index(idx, task);
        let f = resolve(&cat.hot[idx], &self.states[idx], &self.cells[at], cat.tasks[task].prior);
        self.packed[at].store(&f);
    }

    /// Resolves an expert's figures for every task (its own measurements changed).
    pub(crate) fn refigure_expert(&self, cat: &Catalogue, idx: usize) {
        for task in 0..cat.tasks.len() {
            self.refigure(cat, idx, task);
        }
    }

    /// Copies figures from the stats source, per task type (else overall);
    /// figures that make no sense count as unknown and are flagged for explain.
    pub(crate) fn refresh_stats(&self, cat: &Catalogue) {
        let Some(src) = &cat.settings.stats else { return };
        for (i, e) in cat.experts.iter().enumerate() {
            let overall = src.expert_stats(&e.key, None);
            for (ti, t) in cat.tasks.iter().enumerate() {
                let per_task = if t.name == DEFAULT_TASK {
                    None
                } else {
                    src.expert_stats(&e.key, Some(&t.name))
                };
                let s = per_task.as_ref().or(overall.as_ref());
                let (figs, rejected) = s.map(sanitize).unwrap_or_default();
                let cell = self.cell(cat, i, ti);
                cell.src_p95_ms.set_opt(figs[0]);
                cell.src_success.set_opt(figs[1]);
                cell.src_cost_1k.set_opt(figs[2]);
                cell.src_win.set_opt(figs[3]);
                cell.src_rejected.store(rejected, Ordering::Relaxed);
                self.refigure(cat, i, ti);
            }
            // A breaker another router opened: open ours until the same time.
            if let Some(d) = src.breaker_open_for(&e.key).filter(|d| !d.is_zero()) {
                let until = self
                    .clock
                    .now()
                    .saturating_add(d.as_nanos().min(u128::from(u64::MAX)) as u64);
                self.states[i].breaker.open_until(until);
            }
        }
        // Verdicts other routers published: applied once each, ours skipped.
        let cursor = self.verdict_cursor.load(Ordering::Acquire);
        let (verdicts, next) = src.verdicts_after(cursor);
        if self
            .verdict_cursor
            .compare_exchange(cursor, next, Ordering::AcqRel, Ordering::Acquire)
            .is_err()
        {
            return; // a concurrent refresh applies them
        }
        for v in verdicts.iter().filter(|v| v.origin != cat.settings.origin) {
            if let Some(expert) = cat.experts.iter().position(|e| e.key == v.key) {
                self.apply_verdict(cat, expert, cat.task_index(&v.task_type), &v.verdict);
            }
        }
    }

    /// Tells the sink, if any, that an expert's breaker opened.
    fn publish_opened(&self, cat: &Catalogue, expert: usize, ms: u64) {
        if let (Some(sink), Some(e)) = (&cat.settings.sink, cat.experts.get(expert)) {
            sink.breaker_opened(&e.key, Duration::from_millis(ms));
        }
    }

    pub(crate) fn record_success(&self, cat: &Catalogue, expert: usize, latency: Duration, response: &ChatResponse) {
        let (Some(st), Some(priced)) = (self.states.get(expert), cat.prices.get(expert)) else {
            return;
        };
        let breaker = &cat.settings.breaker;
        st.breaker.on_success();
        st.ewma_latency_ms
            .ewma(latency.as_secs_f64() * 1000.0, cat.settings.latency_weight);
        st.ewma_success.ewma(1.0, 0.05);
        self.refigure_expert(cat, expert);
        // The same cost a budget or the metrics charge: cache reads and
        // writes and reasoning at their own rates. An unpriced expert adds
        // nothing, and a budget never lets one through (`select::constraint`).
        if let Some(price) = &priced.price {
            let cost = price.cost(&response.usage);
            add_spend(&st.spent_nano_usd, cost);
            add_spend(&self.spent_nano_usd, cost);
        }
        if let Some(rl) = &response.rate_limit {
            if rl.is_exhausted() {
                let wait = [rl.retry_after, rl.requests_reset, rl.tokens_reset]
                    .into_iter()
                    .flatten()
                    .max()
                    .unwrap_or(Duration::from_millis(breaker.cooldown_ms));
                let wait = wait.min(Duration::from_millis(breaker.max_cooldown_ms));
                st.breaker
                    .open_until(self.clock.now().saturating_add(wait.as_nanos() as u64));
                self.publish_opened(cat, expert, wait.as_millis() as u64);
            }
        }
    }

    pub(crate) fn record_failure(&self, cat: &Catalogue, expert: usize, error: &ProviderError) {
        let Some(st) = self.states.get(expert) else { return };
        let breaker = &cat.settings.breaker;
        match failure_class(error.kind()) {
            FailureClass::ExpertFault => {
                st.ewma_success.ewma(0.0, 0.05);
                self.refigure_expert(cat, expert);
                let force = error.kind() == ProviderErrorKind::RateLimited && breaker.open_on_rate_limit;
                if let Some(ms) = st
                    .breaker
                    .on_failure(self.clock.now(), breaker, force, error.retry_after())
                {
                    self.publish_opened(cat, expert, ms);
                }
            }
            FailureClass::RequestFault | FailureClass::NotThisExpert => st.breaker.release(),
        }
    }

    /// Applies a verdict to an expert's posterior for a task slot and
    /// publishes it to the sink, if any.
    pub(crate) fn verdict(&self, cat: &Catalogue, expert: usize, task: usize, verdict: &Verdict) {
        if !self.apply_verdict(cat, expert, task, verdict) {
            return;
        }
        if let (Some(sink), Some(e), Some(t)) = (&cat.settings.sink, cat.experts.get(expert), cat.tasks.get(task)) {
            sink.verdict(&SharedVerdict {
                origin: cat.settings.origin,
                key: e.key.clone(),
                task_type: t.name.clone(),
                verdict: verdict.clone(),
            });
        }
    }

    /// Applies a verdict to an expert's posterior for a task slot; false
    /// when it did not apply (a score that is not a number, no such expert).
    fn apply_verdict(&self, cat: &Catalogue, expert: usize, task: usize, verdict: &Verdict) -> bool {
        let reward = match verdict {
            Verdict::Win => 1.0,
            Verdict::Loss => 0.0,
            Verdict::Score { value } if value.is_finite() => *value,
            Verdict::Score { .. } => return false,
        };
        let (Some(plan), true) = (cat.tasks.get(task), expert < cat.experts.len()) else {
            return false;
        };
        self.cell(cat, expert, task).observe(reward, plan.decay, plan.prior);
        self.refigure(cat, expert, task);
        true
    }

    /// Remembers which expert answered a request, for feedback.
    pub(crate) fn remember(&self, request_id: &str, expert: usize, task: usize) {
        if request_id.is_empty() {
            return;
        }
        if let Ok(mut p) = self.pending.lock() {
            if p.map.insert(request_id.to_owned(), (expert, task)).is_none() {
                p.order.push_back(request_id.to_owned());
            }
            while p.order.len() > PENDING_CAPACITY {
                if let Some(old) = p.order.pop_front() {
                    p.map.remove(&old);
                }
            }
        }
    }

    /// The expert and task slot of a remembered request.
    pub(crate) fn recall(&self, request_id: &str) -> Option<(usize, usize)> {
        self.pending.lock().ok()?.map.get(request_id).copied()
    }
}

/// Whose fault an error is, which decides fallback and breaker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FailureClass {
    /// The expert is failing: count it, try the next one.
    ExpertFault,
    /// This expert cannot take this request (context too long, local
    /// quota): try the next one, do not count it.
    NotThisExpert,
    /// The request itself is wrong or was cancelled: stop.
    RequestFault,
}

pub(crate) fn failure_class(kind: ProviderErrorKind) -> FailureClass {
    use ProviderErrorKind as K;
    match kind {
        K::RateLimited
        | K::Overloaded
        | K::Timeout
        | K::Transport
        | K::Server
        | K::Incomplete
        | K::Decode
        | K::Authentication
        | K::PermissionDenied
        | K::NotFound => FailureClass::ExpertFault,
        K::ContextTooLong | K::QuotaExceeded | K::NoProvider => FailureClass::NotThisExpert,
        _ => FailureClass::RequestFault,
    }
}
