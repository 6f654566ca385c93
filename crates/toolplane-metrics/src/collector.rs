//! The collector: series map, recording, feedback and the request index.

use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasher, BuildHasherDefault, Hash, Hasher, RandomState};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use parking_lot::{Mutex, RwLock};
use toolplane_core::{ExpertKey, ExpertStats, Feedback, Verdict};

use crate::clock::{minute_of, unix_millis};
use crate::expert::ExpertCache;
use crate::series::{
    Counters, DURATION_BUCKETS_S, Sample, SeriesState, TTFT_BUCKETS_S, VerdictDelta, WindowAgg, error_slot,
};
use crate::{Clock, Execution, MetricsError, MetricsErrorKind, ModelPrice, Outcome, PricingTable, SystemClock};

/// The label value used for provider, model and task type once
/// [`MetricsConfig::max_series`] distinct series exist.
pub const OVERFLOW_LABEL: &str = "_overflow";

/// Limits and windows of a collector.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricsConfig {
    /// How long per-minute data is kept for windowed queries (24 h by default).
    pub retention: Duration,
    /// Distinct (provider, model, task type) series kept (128 by default); later
    /// series are folded into one series labelled [`OVERFLOW_LABEL`].
    pub max_series: usize,
    /// Request ids remembered for late feedback (50,000 by default; oldest forgotten first).
    pub max_tracked_requests: usize,
    /// The window [`ExpertStats`] cover (60 minutes by default).
    pub expert_window: Duration,
    /// How stale the cached [`ExpertStats`] may get before a recorder refreshes them (5 s by default).
    pub expert_refresh: Duration,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        Self {
            retention: Duration::from_secs(24 * 3600),
            max_series: 128,
            max_tracked_requests: 50_000,
            expert_window: Duration::from_secs(3600),
            expert_refresh: Duration::from_secs(5),
        }
    }
}

/// The identity of one series.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct SeriesKey {
    pub provider: String,
    pub model: String,
    pub task_type: Option<String>,
}

impl SeriesKey {
    fn is(&self, provider: &str, model: &str, task: Option<&str>) -> bool {
        self.provider == provider && self.model == model && self.task_type.as_deref() == task
    }
}

type SeriesMap = HashMap<u64, Vec<Arc<Series>>, BuildHasherDefault<IdHasher>>;

static NEXT_COLLECTOR_ID: AtomicU64 = AtomicU64::new(1);

thread_local! {
    /// The series this thread recorded into last, per collector id.
    static LAST_SERIES: RefCell<Option<(u64, Arc<Series>)>> = const { RefCell::new(None) };
}

#[derive(Debug)]
pub(crate) struct Series {
    pub key: SeriesKey,
    /// Resolved once when the series is created: the pricing table never changes.
    price: Option<ModelPrice>,
    /// Shards picked by recording thread, so threads recording into the same
    /// series rarely meet on one lock. Each shard is a complete
    /// [`SeriesState`], allocated on first use; reads merge them.
    shards: [Mutex<Option<SeriesState>>; SHARDS],
}

/// Shards per series.
pub(crate) const SHARDS: usize = 4;

static NEXT_SHARD: AtomicU64 = AtomicU64::new(0);

thread_local! {
    /// This thread's shard, assigned round-robin on first use.
    static SHARD: usize = (NEXT_SHARD.fetch_add(1, Ordering::Relaxed) % SHARDS as u64) as usize;
}

impl Series {
    fn with_shard<R>(&self, shard: usize, f: impl FnOnce(&mut SeriesState) -> R) -> R {
        let mut g = self.shards[shard % SHARDS].lock();
        f(g.get_or_insert_with(SeriesState::new))
    }

    fn fold<T>(&self, init: T, mut f: impl FnMut(&mut T, &SeriesState)) -> T {
        let mut acc = init;
        for shard in &self.shards {
            if let Some(st) = shard.lock().as_ref() {
                f(&mut acc, st);
            }
        }
        acc
    }

    /// Minutes in `[from, to)`, all shards merged.
    pub(crate) fn window(&self, from: i64, to: i64) -> WindowAgg {
        self.fold(WindowAgg::empty(), |acc, st| acc.add(&st.window(from, to)))
    }

    /// All-time figures, all shards merged.
    pub(crate) fn all_time(&self) -> WindowAgg {
        self.fold(WindowAgg::empty(), |acc, st| acc.add(&st.all_time()))
    }

    /// All-time counters and the Prometheus bucket counts, all shards merged.
    pub(crate) fn totals_and_buckets(
        &self,
    ) -> (Counters, [u64; DURATION_BUCKETS_S.len()], [u64; TTFT_BUCKETS_S.len()]) {
        self.fold(
            (
                Counters::default(),
                [0; DURATION_BUCKETS_S.len()],
                [0; TTFT_BUCKETS_S.len()],
            ),
            |acc, st| {
                acc.0.add(&st.totals());
                for (a, b) in acc.1.iter_mut().zip(st.duration_buckets.iter()) {
                    *a += *b;
                }
                for (a, b) in acc.2.iter_mut().zip(st.ttft_buckets.iter()) {
                    *a += *b;
                }
            },
        )
    }

    fn bytes(&self) -> usize {
        self.fold(0, |acc, st| *acc += st.bytes())
    }
}

#[derive(Debug)]
struct RequestEntry {
    series: Arc<Series>,
    /// The shard holding the call, so its feedback lands in the same minute.
    shard: usize,
    minute: i64,
    judged: bool,
}

#[derive(Debug, Default)]
struct RequestIndex {
    /// One allocation per id, shared by the map and the eviction queue.
    map: HashMap<Arc<str>, RequestEntry>,
    order: VecDeque<Arc<str>>,
}

/// Records provider calls and answers statistics about them.
///
/// Cheap to share: wrap it in an [`Arc`]. Recording takes a read lock on the
/// series map and the mutex of one series; queries lock one series at a
/// time. See the crate docs for an example.
#[derive(Debug)]
pub struct ProviderMetricsCollector {
    pub(crate) config: MetricsConfig,
    clock: Arc<dyn Clock>,
    pricing: Arc<PricingTable>,
    /// Seed of the series-key hash (the map holds at most `max_series + 1`
    /// keys, so a weak but fast hash cannot be abused into long chains).
    seed: u64,
    series: RwLock<SeriesMap>,
    /// Distinguishes collectors in the per-thread last-series cache.
    id: u64,
    series_count: AtomicU64,
    requests: Mutex<RequestIndex>,
    rejected: AtomicU64,
    pub(crate) expert: ExpertCache,
}

impl Default for ProviderMetricsCollector {
    fn default() -> Self {
        Self::new()
    }
}

impl ProviderMetricsCollector {
    /// A collector with the built-in prices, the system clock and default limits.
    pub fn new() -> Self {
        Self::with_parts(MetricsConfig::default(), PricingTable::builtin(), Arc::new(SystemClock))
    }

    /// A collector with its configuration, prices and clock.
    pub fn with_parts(config: MetricsConfig, pricing: PricingTable, clock: Arc<dyn Clock>) -> Self {
        Self {
            config,
            clock,
            pricing: Arc::new(pricing),
            seed: RandomState::new().hash_one(0x746f_6f6c_706c_616e_u64),
            series: RwLock::new(SeriesMap::default()),
            id: NEXT_COLLECTOR_ID.fetch_add(1, Ordering::Relaxed),
            series_count: AtomicU64::new(0),
            requests: Mutex::new(RequestIndex::default()),
            rejected: AtomicU64::new(0),
            expert: ExpertCache::default(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &MetricsConfig {
        &self.config
    }

    /// The prices in use.
    pub fn pricing(&self) -> &PricingTable {
        &self.pricing
    }

    /// The current time on the collector's clock.
    pub fn now(&self) -> SystemTime {
        self.clock.now()
    }

    pub(crate) fn retention_minutes(&self) -> i64 {
        i64::try_from(self.config.retention.as_secs() / 60)
            .unwrap_or(i64::MAX)
            .max(1)
    }

    /// Records one call. Returns the cost charged in USD, or `None` when the
    /// model has no price (counted as unpriced, never as $0).
    ///
    /// A record that fails validation changes nothing but the
    /// [`rejected_records`](Self::rejected_records) count.
    pub fn record(&self, e: &Execution<'_>) -> Result<Option<f64>, MetricsError> {
        match self.try_record(e) {
            Ok(c) => Ok(c),
            Err(err) => {
                self.rejected.fetch_add(1, Ordering::Relaxed);
                Err(err)
            }
        }
    }

    fn try_record(&self, e: &Execution<'_>) -> Result<Option<f64>, MetricsError> {
        e.validate()?;
        let now = self.clock.now();
        let now_ms = unix_millis(now);
        let now_minute = i64::try_from(now_ms / 60_000).unwrap_or(i64::MAX);
        let oldest = now_minute.saturating_sub(self.retention_minutes() - 1);
        let minute = match e.timestamp {
            None => now_minute,
            Some(t) => {
                let m = minute_of(t);
                if unix_millis(t) > now_ms.saturating_add(300_000) {
                    return Err(MetricsError::record(
                        "timestamp is more than 5 minutes in the future of the collector's clock",
                    ));
                }
                if m < oldest {
                    return Err(MetricsError::record(format!(
                        "timestamp is older than the retention ({} minutes)",
                        self.retention_minutes()
                    )));
                }
                m.min(now_minute)
            }
        };
        let (provider, model, task) = (e.provider, e.model, e.task());
        let shard = SHARD.with(|s| *s);
        let apply = |series: &Series| {
            let cost_usd = match e.cost_usd {
                Some(c) => Some(c),
                None => series.price.map(|p| p.cost(&e.usage)),
            };
            let sample = Sample::new(
                minute,
                e.usage,
                cost_usd,
                e.latency_ms,
                e.ttft_ms,
                match e.outcome {
                    Outcome::Success => None,
                    Outcome::Error(k) => Some(error_slot(k)),
                },
            );
            series.with_shard(shard, |st| st.record(&sample, oldest));
            cost_usd
        };
        let request_id = e.request_id.filter(|id| !id.is_empty());
        // Fast path: the series this thread recorded last (no hash, no map lookup).
        let cached = LAST_SERIES.with(|last| {
            let last = last.borrow();
            match last.as_ref() {
                Some((id, s)) if *id == self.id && s.key.is(provider, model, task) => {
                    let c = apply(s);
                    if let Some(rid) = request_id {
                        self.remember(rid, s, shard, minute);
                    }
                    Some(c)
                }
                _ => None,
            }
        });
        let cost_usd = match cached {
            Some(c) => c,
            None => {
                let hash = self.hash_key(provider, model, task);
                let series = self.series_for(hash, provider, model, task);
                let c = apply(&series);
                if let Some(rid) = request_id {
                    self.remember(rid, &series, shard, minute);
                }
                LAST_SERIES.with(|last| *last.borrow_mut() = Some((self.id, series)));
                c
            }
        };
        self.expert.maybe_refresh(self, now, now_ms);
        Ok(cost_usd)
    }

    fn hash_key(&self, provider: &str, model: &str, task: Option<&str>) -> u64 {
        let mut h = FxHasher(self.seed);
        provider.hash(&mut h);
        model.hash(&mut h);
        task.hash(&mut h);
        h.finish()
    }

    fn find_ref<'m>(map: &'m SeriesMap, hash: u64, p: &str, m: &str, t: Option<&str>) -> Option<&'m Arc<Series>> {
        map.get(&hash)?.iter().find(|s| s.key.is(p, m, t))
    }

    fn find(map: &SeriesMap, hash: u64, p: &str, m: &str, t: Option<&str>) -> Option<Arc<Series>> {
        Self::find_ref(map, hash, p, m, t).cloned()
    }

    fn series_for(&self, hash: u64, provider: &str, model: &str, task: Option<&str>) -> Arc<Series> {
        if let Some(s) = Self::find(&self.series.read(), hash, provider, model, task) {
            return s;
        }
        let mut map = self.series.write();
        if let Some(s) = Self::find(&map, hash, provider, model, task) {
            return s;
        }
        let full = self.series_count.load(Ordering::Relaxed) >= self.config.max_series as u64;
        let (provider, model, task, hash) = if full {
            let o = OVERFLOW_LABEL;
            let h = self.hash_key(o, o, Some(o));
            if let Some(s) = Self::find(&map, h, o, o, Some(o)) {
                return s;
            }
            (o, o, Some(o), h)
        } else {
            (provider, model, task, hash)
        };
        let series = Arc::new(Series {
            key: SeriesKey {
                provider: provider.to_owned(),
                model: model.to_owned(),
                task_type: task.map(str::to_owned),
            },
            price: if full {
                None
            } else {
                self.pricing.lookup(provider, model).copied()
            },
            shards: Default::default(),
        });
        map.entry(hash).or_default().push(Arc::clone(&series));
        self.series_count.fetch_add(1, Ordering::Relaxed);
        series
    }

    fn remember(&self, id: &str, series: &Arc<Series>, shard: usize, minute: i64) {
        let mut idx = self.requests.lock();
        if idx.map.contains_key(id) {
            return;
        }
        while idx.order.len() >= self.config.max_tracked_requests.max(1) {
            if let Some(old) = idx.order.pop_front() {
                idx.map.remove(&*old);
            } else {
                break;
            }
        }
        let id: Arc<str> = Arc::from(id);
        idx.order.push_back(Arc::clone(&id));
        idx.map.insert(
            id,
            RequestEntry {
                series: Arc::clone(series),
                shard,
                minute,
                judged: false,
            },
        );
    }

    /// Records a judgement on an earlier call, found by its request id. It
    /// counts in the minute of the call, so windows select by call time.
    pub fn feedback(&self, feedback: &Feedback) -> Result<(), MetricsError> {
        let delta = match feedback.verdict {
            Verdict::Win => VerdictDelta::Win,
            Verdict::Loss => VerdictDelta::Loss,
            Verdict::Score { value } => {
                if !value.is_finite() || !(0.0..=1.0).contains(&value) {
                    return Err(MetricsError::record(format!(
                        "feedback score must be within [0, 1], got {value}"
                    )));
                }
                VerdictDelta::Score(value)
            }
        };
        let (series, minute, shard) = {
            let mut idx = self.requests.lock();
            let Some(entry) = idx.map.get_mut(feedback.request_id.as_str()) else {
                return Err(MetricsError::new(
                    MetricsErrorKind::UnknownRequest,
                    format!(
                        "no recorded call has request id {:?} (never recorded, or older than the last {} ids)",
                        feedback.request_id, self.config.max_tracked_requests
                    ),
                ));
            };
            if entry.judged {
                return Err(MetricsError::new(
                    MetricsErrorKind::AlreadyJudged,
                    format!("request id {:?} already has feedback", feedback.request_id),
                ));
            }
            entry.judged = true;
            (Arc::clone(&entry.series), entry.minute, entry.shard)
        };
        series.with_shard(shard, |st| st.add_verdict(minute, &delta));
        Ok(())
    }

    /// Records that the call `request_id` won (`true`) or lost.
    pub fn record_outcome(&self, request_id: &str, won: bool) -> Result<(), MetricsError> {
        self.feedback(&Feedback {
            request_id: request_id.to_owned(),
            verdict: if won { Verdict::Win } else { Verdict::Loss },
        })
    }

    /// Records rejected by validation so far.
    pub fn rejected_records(&self) -> u64 {
        self.rejected.load(Ordering::Relaxed)
    }

    /// Every series, sorted by key.
    pub(crate) fn all_series(&self) -> Vec<Arc<Series>> {
        let mut v: Vec<Arc<Series>> = self.series.read().values().flatten().cloned().collect();
        v.sort_by(|a, b| a.key.cmp(&b.key));
        v
    }

    /// Bytes currently held by series state (histograms, counters, sealed
    /// minutes), an estimate that leaves out map and string overheads.
    pub fn memory_bytes(&self) -> usize {
        self.all_series().iter().map(|s| s.bytes()).sum()
    }

    /// Cached figures for the router: see [`toolplane_core::ProviderStatsSource`].
    pub fn expert_stats_for(&self, key: &ExpertKey, task_type: Option<&str>) -> Option<ExpertStats> {
        self.expert.get(key, task_type)
    }

    /// Recomputes the cached [`ExpertStats`] now (recorders also do it when
    /// they are older than [`MetricsConfig::expert_refresh`]).
    pub fn refresh_expert_stats(&self) {
        self.expert.refresh(self, self.clock.now());
    }
}

/// FxHash (rustc's hasher), seeded per collector: a few cycles per word.
struct FxHasher(u64);

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x517c_c1b7_2722_0a95;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(w)).wrapping_mul(K);
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            w[..rest.len()].copy_from_slice(rest);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(w) ^ rest.len() as u64).wrapping_mul(K);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// The series map's keys are already hashes: pass them through.
#[derive(Default)]
struct IdHasher(u64);

impl Hasher for IdHasher {
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 << 8) | u64::from(*b);
        }
    }

    fn write_u64(&mut self, v: u64) {
        self.0 = v;
    }

    fn finish(&self) -> u64 {
        self.0
    }
}
