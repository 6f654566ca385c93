//! The router's public face: how it is built, how requests are routed and
//! explained, and how outcomes and feedback reach it. What it knows is in
//! two parts: the [`Catalogue`] (fixed when built) and the [`LiveState`]
//! (what changes); selection is a function of the two and a query.

use std::sync::Arc;
use std::time::Duration;

use toolplane_core::{
    CallContext, ChatRequest, ChatResponse, Feedback, Price, PriceBook, ProviderError, ProviderStatsSource, StatsSink,
    Verdict,
};

use crate::catalogue::{Catalogue, Settings, TaskOf};
use crate::classify::{KeywordClassifier, TaskClassifier, TaskSource};
use crate::decision::{Decision, explain};
use crate::dispatch_log::{DispatchLog, DispatchRecord};
use crate::error::RouterError;
use crate::expert::Expert;
use crate::live::LiveState;
use crate::select::{Query, Want, select};
use crate::state::{BreakerConfig, Clock, ManualClock};
use crate::strategy::TaskPolicy;

/// Experts ranked per selection round; more are ranked only when these all fail.
pub(crate) const RANK_BATCH: usize = 4;

/// A mixture-of-experts router. Itself a [`ChatProvider`](toolplane_core::ChatProvider):
/// each request goes to the best expert for its task type, and to the next
/// ones in the ranking when an expert fails with a retryable error.
///
/// Cheap to clone (one `Arc`). See the [crate docs](crate) for an example.
#[derive(Debug, Clone)]
pub struct Router {
    pub(crate) inner: Arc<Inner>,
}

/// The catalogue, the live state, and the dispatch log.
#[derive(Debug)]
pub(crate) struct Inner {
    pub(crate) cat: Catalogue,
    pub(crate) live: LiveState,
    /// What dispatch did with recent requests (`None`: not kept).
    pub(crate) log: Option<DispatchLog>,
}

/// Builds a [`Router`] in code. See also [`RouterConfig`](crate::RouterConfig).
#[derive(Debug)]
pub struct RouterBuilder {
    experts: Vec<Expert>,
    default_policy: TaskPolicy,
    policies: Vec<(String, TaskPolicy)>,
    classifier: Option<Arc<dyn TaskClassifier>>,
    stats: Option<Arc<dyn ProviderStatsSource>>,
    sink: Option<Arc<dyn StatsSink>>,
    breaker: BreakerConfig,
    budget_usd: Option<f64>,
    prices: Option<Arc<dyn PriceBook>>,
    default_price: Option<Price>,
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
            sink: None,
            breaker: BreakerConfig::default(),
            budget_usd: None,
            prices: None,
            default_price: None,
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

    /// Where this router publishes the verdicts it applies and the breakers
    /// it opens, so routers in other processes reading the same store
    /// through their [`stats_source`](Self::stats_source) learn them at their
    /// next [`Router::refresh_stats`] (replicas of one gateway sharing Redis).
    pub fn stats_sink(mut self, sink: Arc<dyn StatsSink>) -> Self {
        self.sink = Some(sink);
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

    /// Where experts without a price of their own get one: `book.price(provider,
    /// model)` with the expert's provider and model, read once when the
    /// router is built. Use the same book as the budgets and the metrics
    /// (the metrics `PricingTable`) and one call costs the same everywhere.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use toolplane_core::{ChatRequest, Message, Price, ScriptedProvider, StaticPrices};
    /// use toolplane_router::{Expert, Router};
    /// let book = StaticPrices::new().with("openai", "gpt-4o-mini", Price::per_million(0.15, 0.60));
    /// let openai = Arc::new(ScriptedProvider::new("openai"));
    /// let router = Router::builder()
    ///     .expert(Expert::new(openai.clone(), "gpt-4o-mini"))
    ///     .expert(Expert::new(openai, "mystery"))
    ///     .prices(Arc::new(book))
    ///     .budget_usd(1.0)
    ///     .build()
    ///     .unwrap();
    /// let d = router.explain(&ChatRequest::new("", vec![Message::user("hi")]).with_max_tokens(1000));
    /// assert_eq!(d.chosen.as_deref(), Some("openai/gpt-4o-mini"));
    /// assert_eq!(d.candidates[0].price_source, "price_book");
    /// assert_eq!(d.candidates[0].estimated_cost_usd, Some(0.000601)); // ~5 input + 1000 output tokens
    /// assert_eq!(d.excluded[0].constraint, "unpriced"); // a budget never counts an unknown model as free
    /// ```
    pub fn prices(mut self, book: Arc<dyn PriceBook>) -> Self {
        self.prices = Some(book);
        self
    }

    /// The price of experts that have none of their own and that the price
    /// book does not know. Without one such experts are unpriced: ranked
    /// after priced ones by cost, and removed whenever a budget applies.
    pub fn default_price(mut self, price: Price) -> Self {
        self.default_price = Some(price);
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

    /// Checks the set-up and builds the router. Takes time linear in the
    /// number of experts times task slots.
    ///
    /// # Errors
    /// No experts, two experts with one id, a policy naming an unknown
    /// expert, an invalid policy, or a budget or price that is NaN, infinite
    /// or negative.
    pub fn build(self) -> Result<Router, RouterError> {
        let seed = self.seed.unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0x5eed, |d| d.as_nanos() as u64)
        });
        let settings = Settings {
            classifier: self
                .classifier
                .unwrap_or_else(|| Arc::new(KeywordClassifier::default())),
            stats: self.stats,
            sink: self.sink,
            origin: new_origin(),
            breaker: self.breaker,
            budget_usd: self.budget_usd,
            prices: self.prices,
            default_price: self.default_price,
            seed,
            max_attempts: self.max_attempts,
            default_output_tokens: self.default_output_tokens,
            latency_weight: self.latency_weight,
        };
        let cat = Catalogue::build(self.experts, self.default_policy, self.policies, settings)?;
        let clock = match self.clock {
            Some(c) => Clock::Manual(c),
            None => Clock::System(std::time::Instant::now()),
        };
        let live = LiveState::new(&cat, clock);
        live.refresh_stats(&cat);
        Ok(Router {
            inner: Arc::new(Inner {
                cat,
                live,
                log: (self.dispatch_log > 0).then(|| DispatchLog::new(self.dispatch_log)),
            }),
        })
    }
}

/// A router id unlikely to repeat across processes and within one.
fn new_origin() -> u64 {
    static COUNT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = COUNT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    // SplitMix64 of the mixed inputs, so close inputs give far-apart ids.
    let mut z = nanos ^ (u64::from(std::process::id()) << 32) ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
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
        &self.inner.cat.experts
    }

    /// One expert by index.
    pub fn expert(&self, index: usize) -> Option<&Expert> {
        self.inner.cat.experts.get(index)
    }

    /// The index of the expert with this id.
    pub fn expert_index(&self, id: &str) -> Option<usize> {
        self.inner.cat.expert_index(id)
    }

    /// The task types with a slot of their own (`default` first).
    pub fn task_types(&self) -> &[String] {
        &self.inner.cat.task_names
    }

    /// The seed of the random draws.
    pub fn seed(&self) -> u64 {
        self.inner.cat.settings.seed
    }

    /// Ranks the experts for a request without sending it: the hot path of
    /// [`chat`](toolplane_core::ChatProvider::chat), reading only precomputed state.
    pub fn route(&self, request: &ChatRequest) -> Route<'_> {
        let Inner { cat, live, .. } = &*self.inner;
        let task = cat.task_of(request, None).slot;
        let q = Query::new(cat, request, task, false);
        let want = Want::Top {
            top: cat.attempts(task).min(RANK_BATCH),
            exclude: &[],
        };
        let sel = select(cat, live, &q, want);
        Route {
            task_type: &cat.task_names[task],
            experts: sel.ranked.into_iter().map(|r| r.idx).collect(),
        }
    }

    /// Explains how a request would be routed now: task type (from the
    /// request's metadata, else the classifier), candidates and scores, the
    /// constraints that removed experts, and the draw. Uses a random stream
    /// of its own, like a real request.
    pub fn explain(&self, request: &ChatRequest) -> Decision {
        let task = self.inner.cat.task_of(request, None);
        self.decide(request, &task)
    }

    /// Like [`Router::explain`] for a request made with `ctx`: a task type
    /// set on the context counts, as it does in [`chat`](toolplane_core::ChatProvider::chat).
    pub fn explain_with_context(&self, request: &ChatRequest, ctx: &CallContext) -> Decision {
        let task = self.inner.cat.task_of(request, Some(ctx));
        self.decide(request, &task)
    }

    /// Like [`Router::explain`] with the task type given.
    pub fn explain_for(&self, task_type: &str, request: &ChatRequest) -> Decision {
        let task = TaskOf {
            slot: self.inner.cat.task_index(task_type),
            name: task_type,
            source: TaskSource::Given,
        };
        self.decide(request, &task)
    }

    fn decide(&self, request: &ChatRequest, task: &TaskOf<'_>) -> Decision {
        let Inner { cat, live, .. } = &*self.inner;
        let q = Query::new(cat, request, task.slot, false);
        let sel = select(cat, live, &q, Want::All);
        explain(cat, live, &q, task, &sel)
    }

    /// Reads figures from the statistics source into the router's state,
    /// per task type (else overall). Call it periodically (every second or
    /// so); selection never queries the source. It also opens the breakers
    /// other routers sharing the source reported open, and applies the
    /// verdicts they published (each once, this router's own skipped). Figures that make no sense
    /// (NaN, infinite, negative, a rate outside `[0, 1]`, more wins than
    /// judged) count as unknown, and explanations say so.
    pub fn refresh_stats(&self) {
        self.inner.live.refresh_stats(&self.inner.cat);
    }

    /// Records a successful call to an expert (the router does this itself
    /// for calls it makes; hosts that call experts directly can too).
    pub fn record_success(&self, expert: usize, latency: Duration, response: &ChatResponse) {
        self.inner
            .live
            .record_success(&self.inner.cat, expert, latency, response);
    }

    /// Records a failed call to an expert: feeds its circuit breaker.
    pub fn record_failure(&self, expert: usize, error: &ProviderError) {
        self.inner.live.record_failure(&self.inner.cat, expert, error);
    }

    /// Records a verdict on an answer of an expert for a task type (updates
    /// the win-rate posterior).
    ///
    /// # Errors
    /// [`RouterError::UnknownExpertIndex`] when there is no such expert.
    pub fn record_verdict(&self, expert: usize, task_type: &str, verdict: &Verdict) -> Result<(), RouterError> {
        let cat = &self.inner.cat;
        if expert >= cat.experts.len() {
            return Err(RouterError::UnknownExpertIndex(expert));
        }
        self.inner.live.verdict(cat, expert, cat.task_index(task_type), verdict);
        Ok(())
    }

    /// Applies feedback on an earlier call routed by this router, found by
    /// its request id (the request's `metadata.request_id`, else the
    /// context's). Returns false when the id is unknown or too old.
    pub fn feedback(&self, feedback: &Feedback) -> bool {
        let Inner { cat, live, .. } = &*self.inner;
        match live.recall(&feedback.request_id) {
            Some((expert, task)) => {
                live.verdict(cat, expert, task, &feedback.verdict);
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
        self.inner.log.as_ref().map(DispatchLog::snapshot).unwrap_or_default()
    }

    /// USD spent through this router so far: each answer's usage at its
    /// expert's price (cache reads and writes included), as
    /// [`Price::cost`] charges it.
    pub fn spent_usd(&self) -> f64 {
        self.inner.live.spent_usd()
    }
}
