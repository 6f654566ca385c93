//! The collector: series map, recording, feedback and the request index.

use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasher, BuildHasherDefault, Hash, Hasher, RandomState};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
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
    /// The most bytes the series may hold (256 MiB by default), by the
    /// collector's own accounting ([`ProviderMetricsCollector::memory_bytes`]).
    /// When a record takes it past this, the oldest sealed minutes of every
    /// series are dropped until it fits again, and
    /// [`ProviderMetricsCollector::evicted_minutes`] counts them: windowed
    /// queries then reach less far back; all-time figures are unaffected.
    pub memory_budget_bytes: usize,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        Self {
            retention: Duration::from_secs(24 * 3600),
            max_series: 128,
            max_tracked_requests: 50_000,
            expert_window: Duration::from_secs(3600),
            expert_refresh: Duration::from_secs(5),
            memory_budget_bytes: DEFAULT_MEMORY_BUDGET,
        }
    }
}

/// The default memory budget of a collector, 256 MiB.
pub const DEFAULT_MEMORY_BUDGET: usize = 256 << 20;

/// Bytes held by all series, by the collector's accounting: a fixed part per
/// shard in use, plus the sealed minutes.
#[derive(Debug, Default)]
pub(crate) struct MemoryAccount {
    bytes: AtomicUsize,
}

impl MemoryAccount {
    pub(crate) fn get(&self) -> usize {
        self.bytes.load(Ordering::Relaxed)
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
    account: Arc<MemoryAccount>,
}

/// Shards per series.
pub(crate) const SHARDS: usize = 4;

static NEXT_SHARD: AtomicU64 = AtomicU64::new(0);

thread_local! {
    /// This thread's shard, assigned round-robin on first use.
    static SHARD: usize = (NEXT_SHARD.fetch_add(1, Ordering::Relaxed) % SHARDS as u64) as usize;
}

impl Series {
    /// Runs `f` on one shard (created on first use), keeping the memory
    /// account in step with what `f` sealed, added or dropped.
    fn with_shard<R>(&self, shard: usize, f: impl FnOnce(&mut SeriesState) -> R) -> R {
        let mut g = self.shards[shard % SHARDS].lock();
        let st = match g.as_mut() {
            Some(st) => st,
            None => {
                self.account
                    .bytes
                    .fetch_add(SeriesState::fixed_bytes(), Ordering::Relaxed);
                g.insert(SeriesState::new())
            }
        };
        let before = st.sealed_bytes();
        let r = f(st);
        let after = st.sealed_bytes();
        if after > before {
            self.account.bytes.fetch_add(after - before, Ordering::Relaxed);
        } else if before > after {
            self.account.bytes.fetch_sub(before - after, Ordering::Relaxed);
        }
        r
    }

    /// The oldest sealed minute over all shards.
    fn oldest_sealed(&self) -> Option<i64> {
        self.fold(None, |acc: &mut Option<i64>, st| {
            if let Some(m) = st.oldest_sealed() {
                *acc = Some(acc.map_or(m, |a| a.min(m)));
            }
        })
    }

    /// Drops sealed minutes up to and including `minute` in every shard
    /// that exists; returns how many.
    fn evict_through(&self, minute: i64) -> u64 {
        let mut n = 0;
        for shard in 0..SHARDS {
            if self.shards[shard].lock().is_some() {
                n += self.with_shard(shard, |st| st.prune(minute + 1));
            }
        }
        n
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

    /// Bytes by recounting every shard (tests compare it with the account).
    #[cfg(test)]
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
    account: Arc<MemoryAccount>,
    evicted_minutes: AtomicU64,
    /// One evictor at a time; others record on and leave it to that one.
    evicting: Mutex<()>,
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
            account: Arc::default(),
            evicted_minutes: AtomicU64::new(0),
            evicting: Mutex::new(()),
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

    /// The prices in use, shared: hand this to the router
    /// (`RouterBuilder::prices`), the budgets (`BudgetInterceptor::with_prices`)
    /// and the loop (`AgentLoop::with_prices`) so that each charges a call
    /// exactly what this collector reports.
    pub fn price_book(&self) -> Arc<PricingTable> {
        Arc::clone(&self.pricing)
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
            if self.account.get() > self.config.memory_budget_bytes {
                self.enforce_memory_budget();
            }
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
            account: Arc::clone(&self.account),
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
    /// minutes), an estimate that leaves out map and string overheads. This
    /// is the figure [`MetricsConfig::memory_budget_bytes`] bounds.
    pub fn memory_bytes(&self) -> usize {
        self.account.get()
    }

    /// Sealed per-minute entries dropped (oldest first) to stay within
    /// [`MetricsConfig::memory_budget_bytes`] since the collector started.
    pub fn evicted_minutes(&self) -> u64 {
        self.evicted_minutes.load(Ordering::Relaxed)
    }

    /// Drops the oldest sealed minutes of all series until the account fits
    /// the budget again (or nothing sealed is left).
    fn enforce_memory_budget(&self) {
        let Some(_one) = self.evicting.try_lock() else {
            return;
        };
        let budget = self.config.memory_budget_bytes;
        let series = self.all_series();
        while self.account.get() > budget {
            let Some(oldest) = series.iter().filter_map(|s| s.oldest_sealed()).min() else {
                break;
            };
            let n: u64 = series.iter().map(|s| s.evict_through(oldest)).sum();
            self.evicted_minutes.fetch_add(n, Ordering::Relaxed);
        }
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

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;
    use crate::ManualClock;

    #[test]
    fn the_running_account_equals_a_recount_through_seals_late_records_and_evictions() {
        let clock = Arc::new(ManualClock::new(UNIX_EPOCH + Duration::from_secs(1_800_000_000)));
        let config = MetricsConfig {
            memory_budget_bytes: 800_000,
            ..MetricsConfig::default()
        };
        let c = ProviderMetricsCollector::with_parts(config, PricingTable::empty(), clock.clone());
        let start = clock.now();
        for minute in 0..120u64 {
            for i in 0..50u64 {
                let model = format!("m{}", i % 7);
                let e = Execution::success("p", &model, (minute * 50 + i) as f64 * 0.37 + 1.0);
                c.record(&e).unwrap();
                if i % 10 == 0 && minute > 3 {
                    // A late record lands in a sealed minute.
                    let late = Execution::success("p", &model, i as f64 + 0.5)
                        .at(start + Duration::from_secs((minute - 3) * 60));
                    c.record(&late).unwrap();
                }
            }
            clock.advance(Duration::from_secs(60));
        }
        let recount: usize = c.all_series().iter().map(|s| s.bytes()).sum();
        assert_eq!(c.memory_bytes(), recount);
        assert!(c.evicted_minutes() > 0);
        assert!(c.memory_bytes() <= 800_000);
    }
}
