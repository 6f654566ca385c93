//! One series (provider, model, task type): all-time totals, the active
//! minute and a ring of sealed per-minute interval histograms.

use std::collections::VecDeque;

use hdrhistogram::Histogram;
use toolplane_core::{ProviderErrorKind, Usage};

/// Histogram unit: microseconds, 1 µs to 1 hour, 2 significant digits (1 %).
pub(crate) const HIST_MAX_US: u64 = 3_600_000_000;
const SIGFIG: u8 = 2;

/// Error kinds with a slot in [`Counters::errors`]; the last slot is "other".
pub(crate) const ERROR_KINDS: [ProviderErrorKind; 16] = [
    ProviderErrorKind::RateLimited,
    ProviderErrorKind::Overloaded,
    ProviderErrorKind::Authentication,
    ProviderErrorKind::PermissionDenied,
    ProviderErrorKind::NotFound,
    ProviderErrorKind::InvalidRequest,
    ProviderErrorKind::ContextTooLong,
    ProviderErrorKind::ContentFiltered,
    ProviderErrorKind::Timeout,
    ProviderErrorKind::Transport,
    ProviderErrorKind::Server,
    ProviderErrorKind::Incomplete,
    ProviderErrorKind::Decode,
    ProviderErrorKind::Cancelled,
    ProviderErrorKind::QuotaExceeded,
    ProviderErrorKind::NoProvider,
];
pub(crate) const ERROR_SLOTS: usize = ERROR_KINDS.len() + 1;

pub(crate) fn error_slot(kind: ProviderErrorKind) -> usize {
    ERROR_KINDS.iter().position(|k| *k == kind).unwrap_or(ERROR_KINDS.len())
}

pub(crate) fn error_label(slot: usize) -> &'static str {
    ERROR_KINDS.get(slot).map_or("other", |k| k.as_str())
}

/// Prometheus `le` bounds for call duration, in seconds (OpenTelemetry GenAI advice).
pub(crate) const DURATION_BUCKETS_S: [f64; 14] = [
    0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
];
/// Prometheus `le` bounds for time to first token, in seconds (OpenTelemetry GenAI advice).
pub(crate) const TTFT_BUCKETS_S: [f64; 16] = [
    0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
];

pub(crate) fn new_hist<T: hdrhistogram::Counter>() -> Histogram<T> {
    #[allow(clippy::expect_used)] // Constant, valid bounds: cannot fail.
    Histogram::new_with_bounds(1, HIST_MAX_US, SIGFIG).expect("valid histogram bounds")
}

fn min_of(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, None) => x,
        (None, y) => y,
    }
}

/// A quantile of an HDR histogram of microseconds, in milliseconds, clamped
/// to the exact `[min, max]` observed: `value_at_quantile` answers the upper
/// edge of a bucket (16.8 ms lands in a bucket that ends at 16.9 ms), and the
/// microsecond recording truncates, so unclamped figures can leave the range
/// of what was seen.
pub(crate) fn quantile_ms(h: &Histogram<u64>, q: f64, min_ms: Option<f64>, max_ms: f64) -> f64 {
    let v = h.value_at_quantile(q) as f64 / 1000.0;
    let lo = min_ms.unwrap_or(0.0).min(max_ms);
    v.clamp(lo, max_ms)
}

/// Additive figures for a set of calls.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Counters {
    pub calls: u64,
    pub successes: u64,
    pub errors: [u64; ERROR_SLOTS],
    pub usage: Usage,
    pub cost_usd: f64,
    pub priced_calls: u64,
    pub unpriced_calls: u64,
    pub latency_sum_ms: f64,
    pub latency_max_ms: f64,
    /// Exact smallest latency (`None` before the first call).
    pub latency_min_ms: Option<f64>,
    pub ttft_sum_ms: f64,
    pub ttft_max_ms: f64,
    pub ttft_min_ms: Option<f64>,
    pub ttft_count: u64,
    /// Output tokens and latency of successful calls, for tokens per second.
    pub ok_output_tokens: u64,
    pub ok_latency_sum_ms: f64,
    pub wins: u64,
    pub losses: u64,
    pub score_sum: f64,
    pub scores: u64,
}

impl Counters {
    pub(crate) fn add(&mut self, o: &Counters) {
        self.calls += o.calls;
        self.successes += o.successes;
        for (a, b) in self.errors.iter_mut().zip(o.errors.iter()) {
            *a += *b;
        }
        self.usage.add(&o.usage);
        self.cost_usd += o.cost_usd;
        self.priced_calls += o.priced_calls;
        self.unpriced_calls += o.unpriced_calls;
        self.latency_sum_ms += o.latency_sum_ms;
        self.latency_max_ms = self.latency_max_ms.max(o.latency_max_ms);
        self.latency_min_ms = min_of(self.latency_min_ms, o.latency_min_ms);
        self.ttft_sum_ms += o.ttft_sum_ms;
        self.ttft_max_ms = self.ttft_max_ms.max(o.ttft_max_ms);
        self.ttft_min_ms = min_of(self.ttft_min_ms, o.ttft_min_ms);
        self.ttft_count += o.ttft_count;
        self.ok_output_tokens += o.ok_output_tokens;
        self.ok_latency_sum_ms += o.ok_latency_sum_ms;
        self.wins += o.wins;
        self.losses += o.losses;
        self.score_sum += o.score_sum;
        self.scores += o.scores;
    }

    fn record(&mut self, s: &Sample) {
        self.calls += 1;
        match s.error_slot {
            None => {
                self.successes += 1;
                self.ok_output_tokens += s.usage.output_tokens;
                self.ok_latency_sum_ms += s.latency_ms;
            }
            Some(slot) => self.errors[slot] += 1,
        }
        self.usage.add(&s.usage);
        match s.cost_usd {
            Some(c) => {
                self.cost_usd += c;
                self.priced_calls += 1;
            }
            None => self.unpriced_calls += 1,
        }
        self.latency_sum_ms += s.latency_ms;
        self.latency_max_ms = self.latency_max_ms.max(s.latency_ms);
        self.latency_min_ms = min_of(self.latency_min_ms, Some(s.latency_ms));
        if let Some(t) = s.ttft_ms {
            self.ttft_sum_ms += t;
            self.ttft_max_ms = self.ttft_max_ms.max(t);
            self.ttft_min_ms = min_of(self.ttft_min_ms, Some(t));
            self.ttft_count += 1;
        }
    }

    pub(crate) fn add_verdict(&mut self, v: &VerdictDelta) {
        match *v {
            VerdictDelta::Win => self.wins += 1,
            VerdictDelta::Loss => self.losses += 1,
            VerdictDelta::Score(x) => {
                self.score_sum += x;
                self.scores += 1;
            }
        }
    }
}

/// A validated, priced record, ready to add.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sample {
    pub minute: i64,
    pub usage: Usage,
    pub cost_usd: Option<f64>,
    pub latency_ms: f64,
    pub ttft_ms: Option<f64>,
    pub error_slot: Option<usize>,
    /// Derived before the series lock is taken.
    lat_us: u64,
    ttft_us: Option<u64>,
    duration_bucket: usize,
    ttft_bucket: usize,
}

impl Sample {
    pub(crate) fn new(
        minute: i64,
        usage: Usage,
        cost_usd: Option<f64>,
        latency_ms: f64,
        ttft_ms: Option<f64>,
        error_slot: Option<usize>,
    ) -> Self {
        Self {
            minute,
            usage,
            cost_usd,
            latency_ms,
            ttft_ms,
            error_slot,
            lat_us: to_us(latency_ms),
            ttft_us: ttft_ms.map(to_us),
            duration_bucket: DURATION_BUCKETS_S.partition_point(|b| *b < latency_ms / 1000.0),
            ttft_bucket: ttft_ms.map_or(usize::MAX, |ms| TTFT_BUCKETS_S.partition_point(|b| *b < ms / 1000.0)),
        }
    }
}

/// Feedback to add to a call's minute and to the totals.
#[derive(Debug, Clone, Copy)]
pub(crate) enum VerdictDelta {
    Win,
    Loss,
    Score(f64),
}

fn to_us(ms: f64) -> u64 {
    // Validated finite and within [0, 24 h] before reaching here; clamp to the histogram range.
    ((ms * 1000.0 + 0.5) as u64).min(HIST_MAX_US)
}

/// The minute being filled.
#[derive(Debug)]
struct ActiveMinute {
    minute: i64,
    counters: Counters,
    latency: Histogram<u32>,
    ttft: Histogram<u32>,
}

/// A closed minute, or a run of `width` minutes merged into one entry by
/// [`SeriesState::coarsen`]: counters plus the non-empty histogram bins as
/// `(highest equivalent value in µs, count)`, ascending.
#[derive(Debug, Clone)]
pub(crate) struct SealedMinute {
    /// The first minute covered.
    pub minute: i64,
    /// Minutes covered: 1 when sealed; a power of two, with `minute` a
    /// multiple of it, once merged.
    pub width: u32,
    pub counters: Counters,
    pub latency: Box<[(u32, u32)]>,
    pub ttft: Box<[(u32, u32)]>,
}

impl SealedMinute {
    /// Bytes held, for the memory figure.
    fn bytes(&self) -> usize {
        std::mem::size_of::<Self>() + (self.latency.len() + self.ttft.len()) * 8
    }
}

fn seal(h: &Histogram<u32>) -> Box<[(u32, u32)]> {
    h.iter_recorded()
        .map(|v| {
            let value = u32::try_from(v.value_iterated_to()).unwrap_or(u32::MAX);
            let count = v.count_at_value();
            (value, count)
        })
        .collect()
}

/// Adds a minute's histogram to an all-time one (same bounds: no value is lost).
fn merge_into(total: &mut Histogram<u64>, minute: &Histogram<u32>) {
    for v in minute.iter_recorded() {
        let _ = total.record_n(v.value_iterated_to(), u64::from(v.count_at_value()));
    }
}

/// The union of two sorted bin lists, counts added (bins are the same HDR
/// buckets on both sides, so nothing is lost).
fn merge_bins(a: &[(u32, u32)], b: &[(u32, u32)]) -> Box<[(u32, u32)]> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        let ((ka, ca), (kb, cb)) = (a[i], b[j]);
        if ka == kb {
            out.push((ka, ca.saturating_add(cb)));
            i += 1;
            j += 1;
        } else if ka < kb {
            out.push((ka, ca));
            i += 1;
        } else {
            out.push((kb, cb));
            j += 1;
        }
    }
    out.extend_from_slice(&a[i..]);
    out.extend_from_slice(&b[j..]);
    out.into_boxed_slice()
}

/// Adds one raw value to a sealed bin list (for records that arrive late).
fn add_sparse(bins: &mut Box<[(u32, u32)]>, reference: &Histogram<u32>, value_us: u64) {
    let key = u32::try_from(reference.highest_equivalent(value_us)).unwrap_or(u32::MAX);
    let mut v = std::mem::take(bins).into_vec();
    match v.binary_search_by_key(&key, |(k, _)| *k) {
        Ok(i) => v[i].1 = v[i].1.saturating_add(1),
        Err(i) => v.insert(i, (key, 1)),
    }
    *bins = v.into_boxed_slice();
}

/// A series' mutable state, behind its mutex.
#[derive(Debug)]
pub(crate) struct SeriesState {
    /// All-time counters of every minute but the active one (which is added
    /// when sealed, and by [`SeriesState::totals`]).
    total: Counters,
    pub total_latency: Histogram<u64>,
    pub total_ttft: Histogram<u64>,
    /// Cumulative Prometheus buckets are derived from these per-bound counts.
    pub duration_buckets: [u64; DURATION_BUCKETS_S.len()],
    pub ttft_buckets: [u64; TTFT_BUCKETS_S.len()],
    active: Option<ActiveMinute>,
    pub sealed: VecDeque<SealedMinute>,
    /// Bytes of `sealed` ([`SealedMinute::bytes`] summed), kept up to date so
    /// the collector's memory budget costs nothing to check.
    sealed_bytes: usize,
}

/// What the merge of a window produced for one series.
#[derive(Debug)]
pub(crate) struct WindowAgg {
    pub counters: Counters,
    pub latency: Histogram<u64>,
    pub ttft: Histogram<u64>,
}

impl WindowAgg {
    pub(crate) fn empty() -> Self {
        Self {
            counters: Counters::default(),
            latency: new_hist(),
            ttft: new_hist(),
        }
    }

    pub(crate) fn add(&mut self, o: &WindowAgg) {
        self.counters.add(&o.counters);
        // Same bounds and precision on both sides: cannot fail.
        let _ = self.latency.add(&o.latency);
        let _ = self.ttft.add(&o.ttft);
    }
}

impl SeriesState {
    pub(crate) fn new() -> Self {
        Self {
            total: Counters::default(),
            total_latency: new_hist(),
            total_ttft: new_hist(),
            duration_buckets: [0; DURATION_BUCKETS_S.len()],
            ttft_buckets: [0; TTFT_BUCKETS_S.len()],
            active: None,
            sealed: VecDeque::new(),
            sealed_bytes: 0,
        }
    }

    /// Bytes of one shard's state before any minute is sealed: the state,
    /// two all-time `u64` histograms and two active-minute `u32` ones.
    pub(crate) fn fixed_bytes() -> usize {
        let bins = new_hist::<u32>().distinct_values();
        std::mem::size_of::<Self>() + bins * 8 * 2 + bins * 4 * 2
    }

    /// Bytes of the sealed minutes.
    pub(crate) fn sealed_bytes(&self) -> usize {
        self.sealed_bytes
    }

    /// The oldest sealed minute, if any.
    pub(crate) fn oldest_sealed(&self) -> Option<i64> {
        self.sealed.front().map(|m| m.minute)
    }

    /// Adds a validated sample; drops minutes older than `oldest_minute`.
    pub(crate) fn record(&mut self, s: &Sample, oldest_minute: i64) {
        let (lat_us, ttft_us) = (s.lat_us, s.ttft_us);
        // The all-time histograms receive the active minute when it is sealed
        // (or late samples directly): one histogram write per value here.
        // Values above the last bound count only in `+Inf` (the total).
        if let Some(n) = self.duration_buckets.get_mut(s.duration_bucket) {
            *n += 1;
        }
        if let Some(n) = self.ttft_buckets.get_mut(s.ttft_bucket) {
            *n += 1;
        }

        let active_minute = self.active.as_ref().map(|a| a.minute);
        match active_minute {
            Some(m) if m == s.minute => {}
            Some(m) if s.minute < m => {
                self.total.record(s);
                self.total_latency.saturating_record(lat_us);
                if let Some(us) = ttft_us {
                    self.total_ttft.saturating_record(us);
                }
                self.record_late(s, lat_us, ttft_us);
                return;
            }
            _ => self.roll_to(s.minute),
        }
        let _ = self.prune(oldest_minute);
        if let Some(a) = self.active.as_mut() {
            a.counters.record(s);
            a.latency.saturating_record(lat_us);
            if let Some(us) = ttft_us {
                a.ttft.saturating_record(us);
            }
        }
    }

    /// Seals the active minute (if any) and starts `minute`.
    fn roll_to(&mut self, minute: i64) {
        match self.active.as_mut() {
            Some(a) => {
                self.total.add(&a.counters);
                merge_into(&mut self.total_latency, &a.latency);
                merge_into(&mut self.total_ttft, &a.ttft);
                if a.counters.calls > 0 || a.counters.wins + a.counters.losses + a.counters.scores > 0 {
                    let m = SealedMinute {
                        minute: a.minute,
                        width: 1,
                        counters: std::mem::take(&mut a.counters),
                        latency: seal(&a.latency),
                        ttft: seal(&a.ttft),
                    };
                    self.sealed_bytes += m.bytes();
                    self.sealed.push_back(m);
                }
                a.minute = minute;
                a.counters = Counters::default();
                a.latency.reset();
                a.ttft.reset();
            }
            None => {
                self.active = Some(ActiveMinute {
                    minute,
                    counters: Counters::default(),
                    latency: new_hist(),
                    ttft: new_hist(),
                });
            }
        }
    }

    fn record_late(&mut self, s: &Sample, lat_us: u64, ttft_us: Option<u64>) {
        let Some(reference) = self.active.as_ref().map(|a| &a.latency) else {
            return;
        };
        let i = match self.entry_of(s.minute) {
            Ok(i) => i,
            Err(i) => {
                let m = SealedMinute {
                    minute: s.minute,
                    width: 1,
                    counters: Counters::default(),
                    latency: Box::new([]),
                    ttft: Box::new([]),
                };
                self.sealed_bytes += m.bytes();
                self.sealed.insert(i, m);
                i
            }
        };
        if let Some(m) = self.sealed.get_mut(i) {
            let before = m.bytes();
            m.counters.record(s);
            add_sparse(&mut m.latency, reference, lat_us);
            if let Some(us) = ttft_us {
                add_sparse(&mut m.ttft, reference, us);
            }
            self.sealed_bytes = self.sealed_bytes + m.bytes() - before;
        }
    }

    /// Adds feedback to the totals and to the call's minute, if still held.
    pub(crate) fn add_verdict(&mut self, minute: i64, v: &VerdictDelta) {
        if let Some(a) = self.active.as_mut().filter(|a| a.minute == minute) {
            // Reaches the totals when the minute is sealed.
            a.counters.add_verdict(v);
            return;
        }
        self.total.add_verdict(v);
        if let Ok(i) = self.entry_of(minute) {
            if let Some(m) = self.sealed.get_mut(i) {
                m.counters.add_verdict(v);
            }
        }
    }

    /// The sealed entry covering `minute` (`Ok`), or where one for it would go.
    fn entry_of(&self, minute: i64) -> Result<usize, usize> {
        let i = self.sealed.partition_point(|m| m.minute <= minute);
        match i.checked_sub(1).and_then(|j| self.sealed.get(j).map(|m| (j, m))) {
            Some((j, m)) if minute < m.minute + i64::from(m.width) => Ok(j),
            _ => Err(i),
        }
    }

    /// Coarser resolution for old data: merges the sealed entries of every
    /// whole aligned run of `width` minutes (a power of two) that ends by
    /// `before_minute` into one entry, counters added and histogram bins
    /// united (the same HDR buckets, so percentiles over whole runs are
    /// unchanged). Returns how many entries were merged away.
    pub(crate) fn coarsen(&mut self, before_minute: i64, width: u32) -> u64 {
        let w = i64::from(width.max(1));
        let mut merged = 0;
        let mut out: VecDeque<SealedMinute> = VecDeque::with_capacity(self.sealed.len());
        for mut m in std::mem::take(&mut self.sealed) {
            let start = m.minute.div_euclid(w) * w;
            if m.width > width || start + w > before_minute {
                out.push_back(m);
                continue;
            }
            match out.back_mut() {
                Some(b) if b.minute == start && b.width == width => {
                    b.counters.add(&m.counters);
                    b.latency = merge_bins(&b.latency, &m.latency);
                    b.ttft = merge_bins(&b.ttft, &m.ttft);
                    merged += 1;
                }
                _ => {
                    m.minute = start;
                    m.width = width;
                    out.push_back(m);
                }
            }
        }
        self.sealed = out;
        self.sealed_bytes = self.sealed.iter().map(SealedMinute::bytes).sum();
        merged
    }

    /// Drops sealed minutes before `oldest_minute`; returns how many.
    pub(crate) fn prune(&mut self, oldest_minute: i64) -> u64 {
        let mut n = 0;
        while self.sealed.front().is_some_and(|m| m.minute < oldest_minute) {
            if let Some(m) = self.sealed.pop_front() {
                self.sealed_bytes -= m.bytes();
                n += 1;
            }
        }
        n
    }

    /// Merges minutes in `[from_minute, to_minute)` (an entry merged by
    /// [`SeriesState::coarsen`] counts where it starts).
    pub(crate) fn window(&self, from_minute: i64, to_minute: i64) -> WindowAgg {
        let mut out = WindowAgg::empty();
        let start = self.sealed.partition_point(|m| m.minute < from_minute);
        for m in self.sealed.iter().skip(start).take_while(|m| m.minute < to_minute) {
            out.counters.add(&m.counters);
            for (v, c) in m.latency.iter() {
                let _ = out.latency.record_n(u64::from(*v), u64::from(*c));
            }
            for (v, c) in m.ttft.iter() {
                let _ = out.ttft.record_n(u64::from(*v), u64::from(*c));
            }
        }
        if let Some(a) = self
            .active
            .as_ref()
            .filter(|a| a.minute >= from_minute && a.minute < to_minute)
        {
            out.counters.add(&a.counters);
            for v in a.latency.iter_recorded() {
                let _ = out
                    .latency
                    .record_n(v.value_iterated_to(), u64::from(v.count_at_value()));
            }
            for v in a.ttft.iter_recorded() {
                let _ = out.ttft.record_n(v.value_iterated_to(), u64::from(v.count_at_value()));
            }
        }
        out
    }

    /// All-time counters, the active minute included.
    pub(crate) fn totals(&self) -> Counters {
        let mut c = self.total.clone();
        if let Some(a) = &self.active {
            c.add(&a.counters);
        }
        c
    }

    /// All-time figures.
    pub(crate) fn all_time(&self) -> WindowAgg {
        let mut latency = self.total_latency.clone();
        let mut ttft = self.total_ttft.clone();
        if let Some(a) = &self.active {
            merge_into(&mut latency, &a.latency);
            merge_into(&mut ttft, &a.ttft);
        }
        WindowAgg {
            counters: self.totals(),
            latency,
            ttft,
        }
    }

    /// Bytes held by this state, recounted from the sealed minutes (tests
    /// check the running account against it).
    #[cfg(test)]
    pub(crate) fn bytes(&self) -> usize {
        Self::fixed_bytes() + self.sealed.iter().map(SealedMinute::bytes).sum::<usize>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_used_in_the_documented_memory_bound() {
        let h64 = new_hist::<u64>();
        let h32 = new_hist::<u32>();
        assert_eq!(h64.distinct_values(), 3328);
        assert_eq!(h32.distinct_values(), 3328);
        let sealed = std::mem::size_of::<SealedMinute>();
        let state = std::mem::size_of::<SeriesState>();
        // docs/metrics.md quotes these figures; keep them in step.
        assert!(sealed <= 392, "SealedMinute is {sealed} bytes");
        assert!(state <= 1400, "SeriesState is {state} bytes");
    }

    #[test]
    fn coarsening_keeps_counts_and_percentiles_of_whole_runs() {
        let mut s = SeriesState::new();
        for minute in 0..10i64 {
            for i in 1..=50u32 {
                let ms = f64::from(i) * 7.3 + minute as f64 * 101.0;
                s.record(&Sample::new(minute, Usage::default(), None, ms, None, None), 0);
            }
        }
        s.roll_to(10);
        let before = s.window(0, 8);
        let bytes = s.sealed_bytes();
        assert_eq!(s.coarsen(8, 4), 6, "minutes 0-3 and 4-7 became one entry each");
        assert!(s.sealed_bytes() < bytes);
        assert_eq!(
            s.sealed.iter().map(|m| (m.minute, m.width)).collect::<Vec<_>>(),
            [(0, 4), (4, 4), (8, 1), (9, 1)]
        );
        let after = s.window(0, 8);
        assert_eq!(after.counters, before.counters);
        for q in [0.5, 0.95, 0.99] {
            assert_eq!(after.latency.value_at_quantile(q), before.latency.value_at_quantile(q));
        }
        // Twice as coarse again, only for runs that end in time; a late record finds its entry.
        assert_eq!(s.coarsen(8, 8), 1);
        s.record(&Sample::new(5, Usage::default(), None, 3.0, None, None), 0);
        assert_eq!(s.sealed.len(), 3);
        assert_eq!(s.window(0, 10).counters.calls, 501);
        assert_eq!(s.bytes(), SeriesState::fixed_bytes() + s.sealed_bytes());
    }

    #[test]
    fn sealing_keeps_percentiles() {
        let mut s = SeriesState::new();
        for i in 1..=1000u32 {
            let sample = Sample::new(10, Usage::default(), None, f64::from(i), None, None);
            s.record(&sample, 0);
        }
        let before = s.window(10, 11).latency.value_at_quantile(0.99);
        s.roll_to(11);
        let after = s.window(10, 11).latency.value_at_quantile(0.99);
        assert_eq!(before, after);
        assert!(s.sealed[0].latency.len() < 1000);
    }
}
