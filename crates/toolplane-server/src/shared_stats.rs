//! The router's feedback and expert health shared by replicas through Redis.
//!
//! ```text
//!  replica A's router                     Redis                      replica B's router
//!  verdict / breaker opened ─► sink ─► queue ─► XADD {p}:verdicts        refresh_stats (every
//!                                        └───► SET {p}:open:<expert> PX   stats_refresh_ms)
//!                                                     │                         ▲
//!                      poll task (every stats_refresh_ms): XREAD, PTTL ─► cache ┘
//! ```
//!
//! The router calls the sink on its hot path, so publishing only queues
//! (a bounded channel; a full queue drops and counts). A background task
//! writes the queue to Redis and polls Redis into a local cache, which the
//! router reads through [`ProviderStatsSource`] at its next refresh. Figures
//! other than these (latency, success, cost) come from the replica's own
//! metrics. Verdicts live in a capped stream, so a replica that starts later
//! replays the recent ones; breaker openings are keys that expire when the
//! breaker would half-open, so no replica's clock matters.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use parking_lot::{Mutex, RwLock};
use redis::Value;
use redis::aio::ConnectionManager;
use tokio::sync::mpsc;
use toolplane_core::{ExpertKey, ExpertStats, ProviderStatsSource, SharedVerdict, StatsSink};
use toolplane_security::limits::{LimitError, redis_connection};

/// Verdicts kept in the Redis stream (approximately) and in each replica's cache.
const KEEP_VERDICTS: usize = 10_000;
/// Writes waiting for Redis; more are dropped (and counted).
const QUEUE: usize = 4_096;
/// Verdicts read per poll.
const READ_BATCH: usize = 1_000;

/// A [`ProviderStatsSource`] and [`StatsSink`] over Redis: the replica's own
/// metrics for figures, and the verdicts and breaker openings of every
/// router sharing the prefix. Built with [`RedisRouterStats::start`].
#[derive(Debug)]
pub struct RedisRouterStats {
    local: Arc<dyn ProviderStatsSource>,
    shared: Arc<Shared>,
    tx: mpsc::Sender<Publish>,
}

#[derive(Debug, Default)]
struct Shared {
    cache: RwLock<Cache>,
    /// Experts whose breakers are polled (every one the router asked about or opened).
    watched: Mutex<HashSet<ExpertKey>>,
    dropped: AtomicU64,
    down: AtomicBool,
}

#[derive(Debug, Default)]
struct Cache {
    /// Position of `verdicts[0]`, counted from 1 (0: nothing read yet).
    first: u64,
    verdicts: VecDeque<SharedVerdict>,
    open_until: HashMap<ExpertKey, Instant>,
}

#[derive(Debug)]
enum Publish {
    Verdict(SharedVerdict),
    Opened(ExpertKey, Duration),
}

/// The Redis keys under one prefix.
#[derive(Debug, Clone)]
struct Keys {
    prefix: String,
}

impl Keys {
    fn verdicts(&self) -> String {
        format!("{}:verdicts", self.prefix)
    }

    fn open(&self, key: &ExpertKey) -> String {
        // JSON keeps provider and model apart whatever characters they hold.
        let name = serde_json::to_string(&(&key.provider, &key.model)).unwrap_or_default();
        format!("{}:open:{name}", self.prefix)
    }
}

impl RedisRouterStats {
    /// Connects lazily to `url` and starts the task that writes what this
    /// replica's router publishes and polls the others' every `poll`. Keys
    /// live under `prefix` (the gateway uses `toolplane:router`). Call inside
    /// a Tokio runtime; the task ends when the returned value is dropped.
    ///
    /// # Errors
    /// `url` is not a Redis URL.
    pub fn start(
        url: &str,
        prefix: &str,
        local: Arc<dyn ProviderStatsSource>,
        poll: Duration,
    ) -> Result<Arc<Self>, LimitError> {
        let conn = redis_connection(url)?;
        let (tx, rx) = mpsc::channel(QUEUE);
        let shared = Arc::new(Shared::default());
        let keys = Keys {
            prefix: prefix.to_owned(),
        };
        tokio::spawn(run(conn, keys, shared.clone(), rx, poll.max(Duration::from_millis(10))));
        Ok(Arc::new(Self { local, shared, tx }))
    }

    /// Writes dropped because the queue to Redis was full.
    pub fn dropped(&self) -> u64 {
        self.shared.dropped.load(Ordering::Relaxed)
    }

    /// True after the last exchange with Redis failed.
    pub fn is_down(&self) -> bool {
        self.shared.down.load(Ordering::Relaxed)
    }

    fn queue(&self, p: Publish) {
        if self.tx.try_send(p).is_err() {
            self.shared.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }
}

impl ProviderStatsSource for RedisRouterStats {
    /// The replica's own figures without its win counts: the win rate is
    /// the router's posterior, which the shared verdicts keep equal on every
    /// replica (one replica's own counts would override it there alone).
    fn expert_stats(&self, key: &ExpertKey, task_type: Option<&str>) -> Option<ExpertStats> {
        self.local.expert_stats(key, task_type).map(|s| ExpertStats {
            wins: 0,
            judged: 0,
            ..s
        })
    }

    fn breaker_open_for(&self, key: &ExpertKey) -> Option<Duration> {
        {
            let mut watched = self.shared.watched.lock();
            if !watched.contains(key) {
                watched.insert(key.clone());
            }
        }
        let cache = self.shared.cache.read();
        let until = cache.open_until.get(key)?;
        until.checked_duration_since(Instant::now()).filter(|d| !d.is_zero())
    }

    fn verdicts_after(&self, cursor: u64) -> (Vec<SharedVerdict>, u64) {
        let cache = self.shared.cache.read();
        let first = cache.first.max(1);
        let len = cache.verdicts.len() as u64;
        let skip = cursor.saturating_sub(first - 1).min(len) as usize;
        let out = cache.verdicts.iter().skip(skip).cloned().collect();
        (out, (first - 1 + len).max(cursor))
    }
}

impl StatsSink for RedisRouterStats {
    fn verdict(&self, verdict: &SharedVerdict) {
        self.queue(Publish::Verdict(verdict.clone()));
    }

    fn breaker_opened(&self, key: &ExpertKey, open_for: Duration) {
        self.shared.watched.lock().insert(key.clone());
        self.queue(Publish::Opened(key.clone(), open_for));
    }
}

async fn run(
    mut conn: ConnectionManager,
    keys: Keys,
    shared: Arc<Shared>,
    mut rx: mpsc::Receiver<Publish>,
    poll: Duration,
) {
    let mut tick = tokio::time::interval(poll);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // From the start of the capped stream: a new replica replays recent verdicts.
    let mut last_id = String::from("0-0");
    loop {
        tokio::select! {
            msg = rx.recv() => match msg {
                Some(p) => {
                    let r = publish(&mut conn, &keys, p).await;
                    shared.down.store(r.is_err(), Ordering::Relaxed);
                }
                None => break,
            },
            _ = tick.tick() => {
                let r = poll_once(&mut conn, &keys, &shared, &mut last_id).await;
                shared.down.store(r.is_err(), Ordering::Relaxed);
            }
        }
    }
}

async fn publish(conn: &mut ConnectionManager, keys: &Keys, p: Publish) -> redis::RedisResult<()> {
    match p {
        Publish::Verdict(v) => {
            let json = serde_json::to_string(&v).unwrap_or_default();
            redis::cmd("XADD")
                .arg(keys.verdicts())
                .arg("MAXLEN")
                .arg("~")
                .arg(KEEP_VERDICTS)
                .arg("*")
                .arg("v")
                .arg(json)
                .query_async::<Value>(conn)
                .await?;
        }
        Publish::Opened(key, open_for) => {
            let ms = (open_for.as_millis() as u64).max(1);
            // Only lengthen: a shorter opening must not cut another replica's.
            let current: i64 = redis::cmd("PTTL").arg(keys.open(&key)).query_async(conn).await?;
            if current < ms as i64 {
                redis::cmd("SET")
                    .arg(keys.open(&key))
                    .arg(ms)
                    .arg("PX")
                    .arg(ms)
                    .query_async::<Value>(conn)
                    .await?;
            }
        }
    }
    Ok(())
}

async fn poll_once(
    conn: &mut ConnectionManager,
    keys: &Keys,
    shared: &Shared,
    last_id: &mut String,
) -> redis::RedisResult<()> {
    let reply: Value = redis::cmd("XREAD")
        .arg("COUNT")
        .arg(READ_BATCH)
        .arg("STREAMS")
        .arg(keys.verdicts())
        .arg(last_id.as_str())
        .query_async(conn)
        .await?;
    let entries = stream_entries(reply);
    if !entries.is_empty() {
        let mut cache = shared.cache.write();
        for (id, verdict) in entries {
            *last_id = id;
            // An entry that does not parse (another version, a stray write) is skipped.
            let Some(v) = verdict.and_then(|j| serde_json::from_str::<SharedVerdict>(&j).ok()) else {
                continue;
            };
            if cache.first == 0 {
                cache.first = 1;
            }
            cache.verdicts.push_back(v);
            if cache.verdicts.len() > KEEP_VERDICTS {
                cache.verdicts.pop_front();
                cache.first += 1;
            }
        }
    }
    let watched: Vec<ExpertKey> = shared.watched.lock().iter().cloned().collect();
    if watched.is_empty() {
        return Ok(());
    }
    let mut pipe = redis::pipe();
    for k in &watched {
        pipe.cmd("PTTL").arg(keys.open(k));
    }
    let ttls: Vec<i64> = pipe.query_async(conn).await?;
    let now = Instant::now();
    let mut cache = shared.cache.write();
    for (k, ms) in watched.into_iter().zip(ttls) {
        match u64::try_from(ms).ok().filter(|ms| *ms > 0) {
            Some(ms) => {
                cache
                    .open_until
                    .insert(k, now + Duration::from_millis(ms.min(86_400_000)));
            }
            None => {
                cache.open_until.remove(&k);
            }
        }
    }
    Ok(())
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::BulkString(b) => String::from_utf8(b.clone()).ok(),
        Value::SimpleString(s) => Some(s.clone()),
        Value::VerbatimString { text, .. } => Some(text.clone()),
        _ => None,
    }
}

/// `(id, field "v")` of each entry of an `XREAD` reply of one stream, in
/// order (RESP2 arrays or RESP3 maps); an empty reply is nil.
fn stream_entries(reply: Value) -> Vec<(String, Option<String>)> {
    let streams: Vec<Value> = match reply {
        Value::Array(a) => a
            .into_iter()
            .filter_map(|s| match s {
                Value::Array(mut pair) if pair.len() == 2 => pair.pop(),
                _ => None,
            })
            .collect(),
        Value::Map(m) => m.into_iter().map(|(_, v)| v).collect(),
        _ => Vec::new(),
    };
    let mut out = Vec::new();
    for s in streams {
        let Value::Array(entries) = s else { continue };
        for e in entries {
            let Value::Array(parts) = e else { continue };
            let Some(id) = parts.first().and_then(text) else {
                continue;
            };
            let fields: Vec<Value> = match parts.into_iter().nth(1) {
                Some(Value::Array(f)) => f,
                Some(Value::Map(m)) => m.into_iter().flat_map(|(k, v)| [k, v]).collect(),
                _ => Vec::new(),
            };
            let v = fields
                .chunks(2)
                .find(|kv| kv.first().and_then(text).as_deref() == Some("v"))
                .and_then(|kv| kv.get(1).and_then(text));
            out.push((id, v));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bulk(s: &str) -> Value {
        Value::BulkString(s.as_bytes().to_vec())
    }

    #[test]
    fn xread_replies_in_both_protocols_give_ids_and_payloads_in_order() {
        let entry = |id: &str, v: &str| Value::Array(vec![bulk(id), Value::Array(vec![bulk("v"), bulk(v)])]);
        let resp2 = Value::Array(vec![Value::Array(vec![
            bulk("p:verdicts"),
            Value::Array(vec![entry("1-0", "a"), entry("2-0", "b")]),
        ])]);
        assert_eq!(
            stream_entries(resp2),
            vec![("1-0".into(), Some("a".into())), ("2-0".into(), Some("b".into()))]
        );
        let resp3 = Value::Map(vec![(bulk("p:verdicts"), Value::Array(vec![entry("3-0", "c")]))]);
        assert_eq!(stream_entries(resp3), vec![("3-0".into(), Some("c".into()))]);
        assert!(stream_entries(Value::Nil).is_empty());
        let odd = Value::Array(vec![Value::Array(vec![
            bulk("p:verdicts"),
            Value::Array(vec![
                Value::Array(vec![bulk("4-0"), Value::Array(vec![bulk("x")])]),
                Value::Int(3),
            ]),
        ])]);
        assert_eq!(stream_entries(odd), vec![("4-0".into(), None)]);
    }
}
