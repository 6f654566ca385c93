//! The router: its experts, policies and live state, how it is built, and
//! how outcomes and feedback reach it.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand_chacha::ChaCha8Rng;
use toolplane_core::{
    CallContext, ChatRequest, ChatResponse, Feedback, ProviderError, ProviderErrorKind, ProviderStatsSource, Verdict,
};

use crate::classify::{KeywordClassifier, TaskClassifier};
use crate::decision::{Decision, TaskSource};
use crate::dispatch_log::{DispatchLog, DispatchRecord};
use crate::error::RouterError;
use crate::expert::Expert;
use crate::select::{Hot, Query};
use crate::state::{BreakerConfig, CellInit, Clock, ExpertState, ManualClock, TaskCell, add_spend};
use crate::strategy::TaskPolicy;
use crate::weighted::Packed;

/// Request ids remembered for feedback.
const PENDING_CAPACITY: usize = 65_536;
/// Experts ranked per selection round; more are ranked only when these all fail.
pub(crate) const RANK_BATCH: usize = 4;
/// The name of the catch-all task slot.
pub(crate) const DEFAULT_TASK: &str = "default";

/// A mixture-of-experts router. Itself a [`ChatProvider`](toolplane_core::ChatProvider):
/// each request goes to the best expert for its task type, and to the next
/// ones in the ranking when an expert fails with a retryable error.
///
/// Cheap to clone (one `Arc`). See the [crate docs](crate) for an example.
#[derive(Debug, Clone)]
pub struct Router {
    pub(crate) inner: Arc<Inner>,
}

#[derive(Debug)]
pub(crate) struct Inner {
    pub(crate) experts: Vec<Expert>,
    /// What selection reads about each expert, packed.
    pub(crate) hot: Vec<Hot>,
    /// Whether any expert has a budget (selection then runs the full checks).
    pub(crate) any_budget: bool,
    pub(crate) states: Vec<ExpertState>,
    /// Per task, per expert (`task * experts + expert`), so one task's cells are contiguous.
    pub(crate) cells: Vec<TaskCell>,
    /// The weighted strategy's resolved figures, laid out like `cells`.
    pub(crate) packed: Vec<Packed>,
    /// Task slots; 0 is [`DEFAULT_TASK`].
    pub(crate) tasks: Vec<String>,
    pub(crate) policies: Vec<TaskPolicy>,
    /// Per task: the Beta prior of its posteriors.
    pub(crate) priors: Vec<(f64, f64)>,
    /// Per task: expert index -> rank for the static strategy.
    pub(crate) static_rank: Vec<Box<[u32]>>,
    /// Per task: which experts the rule allows (`None`: all).
    pub(crate) allowed: Vec<Option<Box<[bool]>>>,
    pub(crate) classifier: Arc<dyn TaskClassifier>,
    pub(crate) stats: Option<Arc<dyn ProviderStatsSource>>,
    pub(crate) breaker: BreakerConfig,
    pub(crate) budget_usd: Option<f64>,
    pub(crate) spent_nano_usd: AtomicU64,
    /// The master generator and how many selections drew from it.
    pub(crate) rng: Mutex<(ChaCha8Rng, u64)>,
    pub(crate) seed: u64,
    pub(crate) clock: Clock,
    pub(crate) max_attempts: usize,
    pub(crate) default_output_tokens: u64,
    pub(crate) latency_weight: f64,
    pending: Mutex<Pending>,
    /// What dispatch did with recent requests (`None`: not kept).
    pub(crate) dispatch_log: Option<DispatchLog>,
}

#[derive(Debug, Default)]
struct Pending {
    map: HashMap<String, (usize, usize)>,
    order: VecDeque<String>,
}

/// Builds a [`Router`] in code. See also [`RouterConfig`](crate::RouterConfig).
#[derive(Debug)]
pub struct RouterBuilder {
    experts: Vec<Expert>,
    default_policy: TaskPolicy,
    policies: Vec<(String, TaskPolicy)>,
    classifier: Option<Arc<dyn TaskClassifier>>,
    stats: Option<Arc<dyn ProviderStatsSource>>,
    breaker: BreakerConfig,
    budget_usd: Option<f64>,
    seed: Option<u64>,
    clock: Option<ManualClock>,
    max_attempts: usize,
    default_output_tokens: u64,
    latency_weight: f64,
    dispatch_log: usize,
}

impl Default for RouterBuilder {
    fn default() -> Self {
        Self {
            experts: Vec::new(),
            default_policy: TaskPolicy::default(),
            policies: Vec::new(),
            classifier: None,
            stats: None,
            breaker: BreakerConfig::default(),
            budget_usd: None,
            seed: None,
            clock: None,
            max_attempts: usize::MAX,
            default_output_tokens: 512,
            latency_weight: 0.2,
            dispatch_log: 0,
        }
    }
}

impl RouterBuilder {
    /// Adds an expert.
    pub fn expert(mut self, expert: Expert) -> Self {
        self.experts.push(expert);
        self
    }

    /// The policy for task types without one of their own.
    pub fn default_policy(mut self, policy: TaskPolicy) -> Self {
        self.default_policy = policy;
        self
    }

    /// The policy for one task type (replaces an earlier one).
    pub fn policy(mut self, task_type: impl Into<String>, policy: TaskPolicy) -> Self {
        let task_type = task_type.into();
        self.policies.retain(|(t, _)| *t != task_type);
        self.policies.push((task_type, policy));
        self
    }

    /// The classifier for requests that do not name their task type
    /// (default: [`KeywordClassifier`]).
    pub fn classifier(mut self, classifier: Arc<dyn TaskClassifier>) -> Self {
        self.classifier = Some(classifier);
        self
    }

    /// Where latency, success, cost and win-rate figures come from (read by
    /// [`Router::refresh_stats`], never during selection).
    pub fn stats_source(mut self, source: Arc<dyn ProviderStatsSource>) -> Self {
        self.stats = Some(source);
        self
    }

    /// Circuit-breaker settings.
    pub fn breaker(mut self, breaker: BreakerConfig) -> Self {
        self.breaker = breaker;
        self
    }

    /// The most USD this router may spend over all experts.
    pub fn budget_usd(mut self, usd: f64) -> Self {
        self.budget_usd = Some(usd);
        self
    }

    /// Seeds the random draws (default: from the system clock). Same seed,
    /// same calls in the same order: same choices.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Uses a manual clock for cooldowns (tests and simulations).
    pub fn clock(mut self, clock: ManualClock) -> Self {
        self.clock = Some(clock);
        self
    }

    /// Experts tried at most per request, unless a task policy says otherwise
    /// (default: every expert that passes the constraints, while the deadline allows).
    pub fn max_attempts(mut self, n: usize) -> Self {
        self.max_attempts = n.max(1);
        self
    }

    /// Output tokens assumed for budget checks when a request sets no `max_tokens` (default 512).
    pub fn default_output_tokens(mut self, n: u64) -> Self {
        self.default_output_tokens = n;
        self
    }

    /// Weight of a new latency sample in the EWMA, in `(0, 1]` (default 0.2).
    pub fn latency_ewma_weight(mut self, w: f64) -> Self {
        self.latency_weight = w.clamp(1e-6, 1.0);
        self
    }

    /// Keeps a record of what dispatch did with the last `capacity` requests
    /// (the ranking it used, removed experts, every attempt and its outcome);
    /// read it with [`Router::recent_dispatches`]. Off (0) by default: the
    /// record costs an allocation or two per request.
    pub fn dispatch_log(mut self, capacity: usize) -> Self {
        self.dispatch_log = capacity;
        self
    }

    /// Checks the set-up and builds the router.
    ///
    /// # Errors
    /// No experts, two experts with one id, a policy naming an unknown expert
    /// or holding an invalid number.
    pub fn build(self) -> Result<Router, RouterError> {
        if self.experts.is_empty() {
            return Err(RouterError::NoExperts);
        }
        let number = |field: String, v: f64| {
            if v.is_finite() && v >= 0.0 {
                Ok(())
            } else {
                Err(RouterError::InvalidNumber {
                    field,
                    message: format!("must be a finite number >= 0, got {v}"),
                })
            }
        };
        if let Some(b) = self.budget_usd {
            number("budget_usd".into(), b)?;
        }
        let mut ids = HashMap::with_capacity(self.experts.len());
        for (i, e) in self.experts.iter().enumerate() {
            if ids.insert(e.id.as_str(), i).is_some() {
                return Err(RouterError::DuplicateExpert(e.id.clone()));
            }
            number(format!("experts[{i}].input_per_1k"), e.pricing.input_per_1k)?;
            number(format!("experts[{i}].output_per_1k"), e.pricing.output_per_1k)?;
            if let Some(b) = e.budget_usd {
                number(format!("experts[{i}].budget_usd"), b)?;
            }
        }
        let classifier: Arc<dyn TaskClassifier> = self
            .classifier
            .unwrap_or_else(|| Arc::new(KeywordClassifier::default()));
        let mut tasks = vec![DEFAULT_TASK.to_owned()];
        let mut policies = vec![self.default_policy];
        for (t, p) in self.policies {
            if t == DEFAULT_TASK {
                policies[0] = p;
            } else {
                tasks.push(t);
                policies.push(p);
            }
        }
        for label in classifier.labels() {
            if !tasks.contains(&label) {
                tasks.push(label);
                policies.push(policies[0].clone());
            }
        }
        let n = self.experts.len();
        let mut static_rank = Vec::with_capacity(tasks.len());
        let mut allowed = Vec::with_capacity(tasks.len());
        for (t, p) in tasks.iter().zip(&policies) {
            p.strategy.validate().map_err(|message| RouterError::InvalidPolicy {
                task: t.clone(),
                message,
            })?;
            let lookup = |id: &String, field: &'static str| {
                ids.get(id.as_str()).copied().ok_or_else(|| RouterError::UnknownExpert {
                    task: t.clone(),
                    field,
                    id: id.clone(),
                })
            };
            let mut rank: Vec<u32> = vec![0; n];
            let mut order: Vec<usize> = (0..n).collect();
            order.sort_by_key(|&i| (self.experts[i].priority, i));
            if let crate::Strategy::Static { order: named } = &p.strategy {
                let mut first = Vec::with_capacity(named.len());
                let mut named_mask = vec![false; n];
                for id in named {
                    let i = lookup(id, "order")?;
                    if !std::mem::replace(&mut named_mask[i], true) {
                        first.push(i);
                    }
                }
                order.retain(|&i| !named_mask[i]);
                first.extend(order);
                order = first;
            }
            for (r, &i) in order.iter().enumerate() {
                rank[i] = r as u32;
            }
            static_rank.push(rank.into_boxed_slice());
            if p.only.is_empty() {
                allowed.push(None);
            } else {
                let mut mask = vec![false; n];
                for id in &p.only {
                    mask[lookup(id, "only")?] = true;
                }
                allowed.push(Some(mask.into_boxed_slice()));
            }
        }
        let priors: Vec<(f64, f64)> = policies.iter().map(|p| p.strategy.bandit().1).collect();
        let seed = self.seed.unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0x5eed, |d| d.as_nanos() as u64)
        });
        let cells: Vec<TaskCell> = priors
            .iter()
            .flat_map(|p| {
                let init = CellInit::new(*p);
                (0..n).map(move |_| TaskCell::new(&init))
            })
            .collect();
        let inner = Inner {
            hot: self.experts.iter().map(Hot::new).collect(),
            any_budget: self.experts.iter().any(|e| e.budget_usd.is_some_and(f64::is_finite)),
            states: self.experts.iter().map(|_| ExpertState::default()).collect(),
            packed: (0..cells.len()).map(|_| Packed::default()).collect(),
            cells,
            experts: self.experts,
            tasks,
            policies,
            priors,
            static_rank,
            allowed,
            classifier,
            stats: self.stats,
            breaker: self.breaker,
            budget_usd: self.budget_usd,
            spent_nano_usd: AtomicU64::new(0),
            rng: Mutex::new((crate::sample::master(seed), 0)),
            seed,
            clock: match self.clock {
                Some(c) => Clock::Manual(c),
                None => Clock::System(std::time::Instant::now()),
            },
            max_attempts: self.max_attempts,
            default_output_tokens: self.default_output_tokens,
            latency_weight: self.latency_weight,
            pending: Mutex::new(Pending::default()),
            dispatch_log: (self.dispatch_log > 0).then(|| DispatchLog::new(self.dispatch_log)),
        };
        let router = Router { inner: Arc::new(inner) };
        for i in 0..n {
            router.inner.refigure_expert(i);
        }
        router.refresh_stats();
        Ok(router)
    }
}

/// The outcome of routing one request: its task type and the first experts
/// to try, best first (at most four; empty when hard constraints removed
/// every expert).
#[derive(Debug, Clone, PartialEq)]
pub struct Route<'a> {
    /// The task slot the request was routed under.
    pub task_type: &'a str,
    /// Expert indexes (see [`Router::expert`]), first choice first.
    pub experts: Vec<usize>,
}

impl Route<'_> {
    /// The first choice.
    pub fn first(&self) -> Option<usize> {
        self.experts.first().copied()
    }
}

impl Router {
    /// A builder.
    pub fn builder() -> RouterBuilder {
        RouterBuilder::default()
    }

    /// The experts, in declaration order; their positions are their indexes.
    pub fn experts(&self) -> &[Expert] {
        &self.inner.experts
    }

    /// One expert by index.
    pub fn expert(&self, index: usize) -> Option<&Expert> {
        self.inner.experts.get(index)
    }

    /// The index of the expert with this id.
    pub fn expert_index(&self, id: &str) -> Option<usize> {
        self.inner.experts.iter().position(|e| e.id == id)
    }

    /// The task types with a slot of their own (`default` first).
    pub fn task_types(&self) -> &[String] {
        &self.inner.tasks
    }

    /// The seed of the random draws.
    pub fn seed(&self) -> u64 {
        self.inner.seed
    }

    /// Ranks the experts for a request without sending it: the hot path of
    /// [`chat`](toolplane_core::ChatProvider::chat), reading only precomputed state.
    pub fn route(&self, request: &ChatRequest) -> Route<'_> {
        let (task, _) = self.inner.task_of(request, None);
        let q = Query::new(&self.inner, request, task, false);
        let sel = self
            .inner
            .select(&q, self.inner.attempts(task).min(RANK_BATCH), false, &[]);
        Route {
            task_type: &self.inner.tasks[task],
            experts: sel.ranked.into_iter().map(|r| r.idx).collect(),
        }
    }

    /// Explains how a request would be routed now: task type, candidates and
    /// scores, the constraints that removed experts, and the draw. Uses a
    /// random stream of its own, like a real request.
    pub fn explain(&self, request: &ChatRequest) -> Decision {
        let (task, source) = self.inner.task_of(request, None);
        let name = match source {
            TaskSource::Metadata | TaskSource::Context => request.metadata.task_type.clone(),
            _ => None,
        };
        self.inner.decide(
            request,
            task,
            name.unwrap_or_else(|| self.inner.tasks[task].clone()),
            source,
        )
    }

    /// Like [`Router::explain`] with the task type given.
    pub fn explain_for(&self, task_type: &str, request: &ChatRequest) -> Decision {
        let task = self.inner.task_index(task_type);
        self.inner
            .decide(request, task, task_type.to_owned(), TaskSource::Given)
    }

    /// Reads figures from the statistics source into the router's state.
    /// Call it periodically (every second or so); selection never queries the source.
    pub fn refresh_stats(&self) {
        let Some(src) = &self.inner.stats else { return };
        for (i, e) in self.inner.experts.iter().enumerate() {
            for (ti, t) in self.inner.tasks.iter().enumerate() {
                let cell = self.inner.cell(i, ti);
                let task = (t != DEFAULT_TASK).then_some(t.as_str());
                let s = src
                    .expert_stats(&e.key, task)
                    .or_else(|| task.and_then(|_| src.expert_stats(&e.key, None)));
                let s = s.unwrap_or_default();
                cell.src_p95_ms.set_opt(s.latency_p95_ms);
                cell.src_success.set_opt(s.success_rate);
                cell.src_cost_1k.set_opt(s.cost_per_1k_tokens);
                cell.src_win.set_opt(s.win_rate());
                self.inner.refigure(i, ti);
            }
        }
    }

    /// Records a successful call to an expert (the router does this itself
    /// for calls it makes; hosts that call experts directly can too).
    pub fn record_success(&self, expert: usize, latency: Duration, response: &ChatResponse) {
        self.inner.record_success(expert, latency, response);
    }

    /// Records a failed call to an expert: feeds its circuit breaker.
    pub fn record_failure(&self, expert: usize, error: &ProviderError) {
        self.inner.record_failure(expert, error);
    }

    /// Records a verdict on an answer of an expert for a task type (updates
    /// the win-rate posterior).
    ///
    /// # Errors
    /// [`RouterError::UnknownExpertIndex`] when there is no such expert.
    pub fn record_verdict(&self, expert: usize, task_type: &str, verdict: &Verdict) -> Result<(), RouterError> {
        if expert >= self.inner.experts.len() {
            return Err(RouterError::UnknownExpertIndex(expert));
        }
        self.inner.verdict(expert, self.inner.task_index(task_type), verdict);
        Ok(())
    }

    /// Applies feedback on an earlier call routed by this router, found by
    /// its request id (the request's `metadata.request_id`, else the
    /// context's). Returns false when the id is unknown or too old.
    pub fn feedback(&self, feedback: &Feedback) -> bool {
        let found = self
            .inner
            .pending
            .lock()
            .ok()
            .and_then(|p| p.map.get(&feedback.request_id).copied());
        match found {
            Some((expert, task)) => {
                self.inner.verdict(expert, task, &feedback.verdict);
                true
            }
            None => false,
        }
    }

    /// What dispatch did with the most recent requests, oldest first: empty
    /// unless the builder's [`dispatch_log`](RouterBuilder::dispatch_log) is on.
    /// Unlike [`Router::explain`], which ranks afresh, this is the ranking and
    /// the draw the calls actually used.
    pub fn recent_dispatches(&self) -> Vec<DispatchRecord> {
        self.inner
            .dispatch_log
            .as_ref()
            .map(DispatchLog::snapshot)
            .unwrap_or_default()
    }

    /// USD spent through this router so far (from usage and prices).
    pub fn spent_usd(&self) -> f64 {
        self.inner.spent_nano_usd.load(Ordering::Relaxed) as f64 / 1e9
    }
}

impl Inner {
    pub(crate) fn cell(&self, expert: usize, task: usize) -> &TaskCell {
        &self.cells[task * self.experts.len() + expert]
    }

    pub(crate) fn task_index(&self, name: &str) -> usize {
        self.tasks.iter().position(|t| t == name).unwrap_or(0)
    }

    /// The task slot of a request: metadata, then context, then classifier.
    pub(crate) fn task_of(&self, request: &ChatRequest, ctx: Option<&CallContext>) -> (usize, TaskSource) {
        if let Some(t) = request.metadata.task_type.as_deref() {
            return (self.task_index(t), TaskSource::Metadata);
        }
        if let Some(t) = ctx.and_then(|c| c.task_type.as_deref()) {
            return (self.task_index(t), TaskSource::Context);
        }
        (
            self.task_index(self.classifier.classify(request)),
            TaskSource::Classifier,
        )
    }

    pub(crate) fn attempts(&self, task: usize) -> usize {
        self.policies[task].max_attempts.unwrap_or(self.max_attempts).max(1)
    }

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

    pub(crate) fn verdict(&self, expert: usize, task: usize, verdict: &Verdict) {
        let reward = match verdict {
            Verdict::Win => 1.0,
            Verdict::Loss => 0.0,
            Verdict::Score { value } if value.is_finite() => *value,
            Verdict::Score { .. } => return,
        };
        let (decay, prior) = self.policies[task].strategy.bandit();
        if let Some(cell) = self
            .cells
            .get(task * self.experts.len() + expert)
            .filter(|_| expert < self.experts.len())
        {
            cell.observe(reward, decay, prior);
            self.refigure(expert, task);
        }
    }

    pub(crate) fn record_success(&self, expert: usize, latency: Duration, response: &ChatResponse) {
        let (Some(st), Some(e)) = (self.states.get(expert), self.experts.get(expert)) else {
            return;
        };
        st.breaker.on_success();
        st.ewma_latency_ms
            .ewma(latency.as_secs_f64() * 1000.0, self.latency_weight);
        st.ewma_success.ewma(1.0, 0.05);
        self.refigure_expert(expert);
        let cost = e
            .pricing
            .estimate(response.usage.input_tokens, response.usage.output_tokens);
        add_spend(&st.spent_nano_usd, cost);
        add_spend(&self.spent_nano_usd, cost);
        if let Some(rl) = &response.rate_limit {
            if rl.is_exhausted() {
                let wait = [rl.retry_after, rl.requests_reset, rl.tokens_reset]
                    .into_iter()
                    .flatten()
                    .max()
                    .unwrap_or(Duration::from_millis(self.breaker.cooldown_ms));
                let wait = wait.min(Duration::from_millis(self.breaker.max_cooldown_ms));
                st.breaker
                    .open_until(self.clock.now().saturating_add(wait.as_nanos() as u64));
            }
        }
    }

    pub(crate) fn record_failure(&self, expert: usize, error: &ProviderError) {
        let Some(st) = self.states.get(expert) else { return };
        match failure_class(error.kind()) {
            FailureClass::ExpertFault => {
                st.ewma_success.ewma(0.0, 0.05);
                self.refigure_expert(expert);
                let force = error.kind() == ProviderErrorKind::RateLimited && self.breaker.open_on_rate_limit;
                st.breaker
                    .on_failure(self.clock.now(), &self.breaker, force, error.retry_after());
            }
            FailureClass::RequestFault | FailureClass::NotThisExpert => st.breaker.release(),
        }
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
