//! Redis backends: limits shared by several instances, on the server's clock.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use parking_lot::Mutex;
use redis::Script;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use serde_json::json;

use super::{
    Amount, Budget, BudgetRule, LimitError, LocalBudget, LocalRateLimiter, Period, RateKey, RateLimit, RateQuota,
    ReserveOutcome, Settlement,
};
use crate::audit::{AuditRecord, AuditSink};
use crate::redact::Redact;

/// What to do while Redis cannot be reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DownPolicy {
    /// Refuse every call (`LimitError::Unavailable`).
    FailClosed,
    /// Apply the local fallback limiter or budget given to the backend
    /// (configure it conservatively, e.g. the shared limit divided by the
    /// number of instances).
    LocalFallback,
}

const GCRA: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local new_tat = tat + interval * cost
local allow_at = new_tat - interval * burst
if allow_at > now then
  return {0, allow_at - now}
end
redis.call('SET', KEYS[1], string.format('%.0f', new_tat), 'PX', math.ceil((new_tat - now) / 1000) + 1000)
return {1, 0}
";

const WINDOW: &str = r"
local function window(period, s)
  if period == 'minute' then return math.floor(s / 60), (math.floor(s / 60) + 1) * 60 end
  if period == 'hour' then return math.floor(s / 3600), (math.floor(s / 3600) + 1) * 3600 end
  if period == 'day' then return math.floor(s / 86400), (math.floor(s / 86400) + 1) * 86400 end
  local z = math.floor(s / 86400) + 719468
  local era = math.floor(z / 146097)
  local doe = z - era * 146097
  local yoe = math.floor((doe - math.floor(doe / 1460) + math.floor(doe / 36524) - math.floor(doe / 146096)) / 365)
  local doy = doe - (365 * yoe + math.floor(yoe / 4) - math.floor(yoe / 100))
  local mp = math.floor((5 * doy + 2) / 153)
  local m = mp < 10 and mp + 3 or mp - 9
  local y = yoe + era * 400 + (m <= 2 and 1 or 0)
  local ny, nm = y, m + 1
  if m == 12 then ny, nm = y + 1, 1 end
  local yy = nm <= 2 and ny - 1 or ny
  local era2 = math.floor(yy / 400)
  local yoe2 = yy - era2 * 400
  local mp2 = nm > 2 and nm - 3 or nm + 9
  local doe2 = yoe2 * 365 + math.floor(yoe2 / 4) - math.floor(yoe2 / 100) + math.floor((153 * mp2 + 2) / 5)
  return y * 12 + (m - 1), (era2 * 146097 + doe2 - 719468) * 86400
end
";

const RESERVE: &str = r"
local now = tonumber(redis.call('TIME')[1])
local st = redis.call('HGET', KEYS[1], 'state')
if st then return {1, 'already_' .. st, 0, '', 0, 0, 0} end
local want = {t = tonumber(ARGV[1]), c = tonumber(ARGV[2])}
local n = tonumber(ARGV[4])
local buckets, ends = {}, {}
for i = 0, n - 1 do
  local base = 5 + i * 4
  local w, e = window(ARGV[base + 1], now)
  local b = ARGV[base] .. ':' .. w
  local max = {t = tonumber(ARGV[base + 2]), c = tonumber(ARGV[base + 3])}
  for _, u in ipairs({'t', 'c'}) do
    if max[u] >= 0 then
      local used = tonumber(redis.call('HGET', b, u) or '0')
      if want[u] > max[u] then return {0, 'too_large', i, u, max[u], used, 0} end
      if used + want[u] > max[u] then return {0, 'exceeded', i, u, max[u], used, e - now} end
    end
  end
  buckets[#buckets + 1] = b
  ends[#ends + 1] = e
end
for j = 1, #buckets do
  redis.call('HINCRBY', buckets[j], 't', want.t)
  redis.call('HINCRBY', buckets[j], 'c', want.c)
  redis.call('EXPIREAT', buckets[j], ends[j] + 3600)
end
redis.call('HSET', KEYS[1], 'state', 'reserved', 't', want.t, 'c', want.c, 'b', table.concat(buckets, '\n'))
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3]))
return {1, 'reserved', 0, '', 0, 0, 0}
";

const FINISH: &str = r"
local st = redis.call('HGET', KEYS[1], 'state')
if not st then return 'unknown' end
if st ~= 'reserved' then return 'finished' end
local rt = tonumber(redis.call('HGET', KEYS[1], 't'))
local rc = tonumber(redis.call('HGET', KEYS[1], 'c'))
local b = redis.call('HGET', KEYS[1], 'b') or ''
for bucket in string.gmatch(b, '[^\n]+') do
  if redis.call('EXISTS', bucket) == 1 then
    redis.call('HINCRBY', bucket, 't', tonumber(ARGV[1]) - rt)
    redis.call('HINCRBY', bucket, 'c', tonumber(ARGV[2]) - rc)
  end
end
redis.call('HSET', KEYS[1], 'state', ARGV[3])
return 'done'
";

/// Tracks whether Redis is reachable and writes each change to the audit log.
#[derive(Debug)]
struct Health {
    what: &'static str,
    policy: DownPolicy,
    down: AtomicBool,
    audit: Option<Arc<dyn AuditSink>>,
}

impl Health {
    /// Up, failing closed, with no audit log until one is set.
    fn new(what: &'static str) -> Self {
        Self {
            what,
            policy: DownPolicy::FailClosed,
            down: AtomicBool::new(false),
            audit: None,
        }
    }

    async fn report(&self, err: Option<&redis::RedisError>) {
        let now_down = err.is_some();
        if self.down.swap(now_down, Ordering::SeqCst) == now_down {
            return;
        }
        let Some(sink) = &self.audit else { return };
        let mut r = AuditRecord::event("limit_backend", "", "system");
        r.status = if now_down { "down" } else { "up" }.into();
        r.error = err.map(|e| e.to_string());
        r.detail = Some(json!({
            "backend": self.what,
            "policy": match self.policy {
                DownPolicy::FailClosed => "fail_closed",
                DownPolicy::LocalFallback => "local_fallback",
            },
        }));
        let _ = sink.append(r.redacted()).await;
    }

    fn is_down(&self) -> bool {
        self.down.load(Ordering::SeqCst)
    }
}

/// A lazily connecting, reconnecting Redis connection with the timeouts the
/// limit backends use (500 ms to connect and per answer, one retry): for
/// other shared state a host keeps beside its limits, so every Redis user
/// in a process behaves alike. Call inside a Tokio runtime.
///
/// # Errors
/// [`LimitError::Unavailable`] when `url` is not a Redis URL.
pub fn redis_connection(url: &str) -> Result<ConnectionManager, LimitError> {
    manager(url)
}

fn manager(url: &str) -> Result<ConnectionManager, LimitError> {
    let client = redis::Client::open(url).map_err(|e| LimitError::Unavailable(format!("{url}: {e}")))?;
    let config = ConnectionManagerConfig::new()
        .set_connection_timeout(Some(Duration::from_millis(500)))
        .set_response_timeout(Some(Duration::from_millis(500)))
        .set_number_of_retries(1)
        .set_max_delay(Duration::from_millis(200));
    ConnectionManager::new_lazy_with_config(client, config).map_err(|e| LimitError::Unavailable(e.to_string()))
}

/// A GCRA rate limit kept in Redis, so every instance shares it. The script
/// reads the server's clock (`TIME`), so instances' clocks do not matter.
#[derive(Debug)]
pub struct RedisRateLimiter {
    conn: ConnectionManager,
    quota: RateQuota,
    prefix: String,
    script: Script,
    fallback: Option<Arc<LocalRateLimiter>>,
    health: Health,
}

impl RedisRateLimiter {
    /// Connects lazily to `url` (call inside a Tokio runtime); fails closed
    /// while Redis is down unless a fallback is set.
    pub fn new(url: &str, prefix: &str, quota: RateQuota) -> Result<Self, LimitError> {
        Ok(Self {
            conn: manager(url)?,
            quota,
            prefix: prefix.to_string(),
            script: Script::new(GCRA),
            fallback: None,
            health: Health::new("redis rate limit"),
        })
    }

    /// While Redis is down, use this local limiter instead of refusing.
    pub fn with_local_fallback(mut self, local: Arc<LocalRateLimiter>) -> Self {
        self.fallback = Some(local);
        self.health.policy = DownPolicy::LocalFallback;
        self
    }

    /// Records Redis going down and coming back in this audit log.
    pub fn with_audit(mut self, sink: Arc<dyn AuditSink>) -> Self {
        self.health.audit = Some(sink);
        self
    }

    /// True after the last call found Redis unreachable.
    pub fn is_down(&self) -> bool {
        self.health.is_down()
    }
}

#[async_trait]
impl RateLimit for RedisRateLimiter {
    async fn check(&self, key: &RateKey<'_>, cost: u32) -> Result<(), LimitError> {
        let name = key.to_key_string();
        if cost > self.quota.burst {
            return Err(LimitError::CostExceedsBurst {
                key: name,
                cost,
                burst: self.quota.burst,
            });
        }
        let mut conn = self.conn.clone();
        let interval = self.quota.interval().as_micros() as u64;
        let res: Result<(i64, i64), _> = self
            .script
            .key(format!("{}:rl:{name}", self.prefix))
            .arg(interval)
            .arg(self.quota.burst)
            .arg(cost.max(1))
            .invoke_async(&mut conn)
            .await;
        match res {
            Ok((ok, wait_us)) => {
                self.health.report(None).await;
                if ok == 1 {
                    Ok(())
                } else {
                    Err(LimitError::RateLimited {
                        key: name,
                        retry_after: Duration::from_micros(wait_us.max(0) as u64),
                    })
                }
            }
            Err(e) => {
                self.health.report(Some(&e)).await;
                match &self.fallback {
                    Some(local) => local.check_now(key, cost),
                    None => Err(LimitError::Unavailable(e.to_string())),
                }
            }
        }
    }
}

/// Token and cost budgets kept in Redis: reserve, settle and release are Lua
/// scripts (atomic, on the server's clock), idempotent by reservation id.
#[derive(Debug)]
pub struct RedisBudget {
    conn: ConnectionManager,
    rules: Vec<BudgetRule>,
    prefix: String,
    reserve: Script,
    finish: Script,
    fallback: Option<Arc<LocalBudget>>,
    local_ids: Mutex<HashSet<String>>,
    health: Health,
}

impl RedisBudget {
    /// Budgets with `rules` in Redis at `url` under `prefix`; fails closed
    /// while Redis is down unless a fallback is set.
    pub fn new(url: &str, prefix: &str, rules: Vec<BudgetRule>) -> Result<Self, LimitError> {
        Ok(Self {
            conn: manager(url)?,
            rules,
            prefix: prefix.to_string(),
            reserve: Script::new(&format!("{WINDOW}{RESERVE}")),
            finish: Script::new(FINISH),
            fallback: None,
            local_ids: Mutex::new(HashSet::new()),
            health: Health::new("redis budget"),
        })
    }

    /// While Redis is down, reserve in this local budget instead of refusing.
    pub fn with_local_fallback(mut self, local: Arc<LocalBudget>) -> Self {
        self.fallback = Some(local);
        self.health.policy = DownPolicy::LocalFallback;
        self
    }

    /// Records Redis going down and coming back in this audit log.
    pub fn with_audit(mut self, sink: Arc<dyn AuditSink>) -> Self {
        self.health.audit = Some(sink);
        self
    }

    /// True after the last call found Redis unreachable.
    pub fn is_down(&self) -> bool {
        self.health.is_down()
    }

    async fn finish_remote(&self, id: &str, actual: Amount, state: &str) -> Result<Settlement, LimitError> {
        if self.local_ids.lock().remove(id) {
            if let Some(local) = &self.fallback {
                return Ok(if state == "settled" {
                    local.settle_now(id, actual)
                } else {
                    local.release_now(id)
                });
            }
        }
        let mut conn = self.conn.clone();
        let res: Result<String, _> = self
            .finish
            .key(format!("{}:r:{id}", self.prefix))
            .arg(actual.tokens)
            .arg(actual.cost_micros)
            .arg(state)
            .invoke_async(&mut conn)
            .await;
        match res {
            Ok(s) => {
                self.health.report(None).await;
                Ok(match s.as_str() {
                    "done" => Settlement::Done,
                    "finished" => Settlement::AlreadyFinished,
                    _ => Settlement::Unknown,
                })
            }
            Err(e) => {
                self.health.report(Some(&e)).await;
                Err(LimitError::Unavailable(e.to_string()))
            }
        }
    }
}

fn unit_name(u: &str) -> &'static str {
    if u == "t" { "token" } else { "cost (micro-USD)" }
}

#[async_trait]
impl Budget for RedisBudget {
    async fn reserve(
        &self,
        id: &str,
        principal: &str,
        team: Option<&str>,
        amount: Amount,
    ) -> Result<ReserveOutcome, LimitError> {
        let applicable: Vec<(&BudgetRule, String)> = self
            .rules
            .iter()
            .filter_map(|r| r.subject(principal, team).map(|s| (r, s)))
            .collect();
        let mut conn = self.conn.clone();
        let mut inv = self.reserve.key(format!("{}:r:{id}", self.prefix));
        inv.arg(amount.tokens)
            .arg(amount.cost_micros)
            .arg(7 * 86_400)
            .arg(applicable.len());
        for (r, subject) in &applicable {
            inv.arg(format!("{}:b:{subject}:{}", self.prefix, r.period))
                .arg(r.period.as_str())
                .arg(r.max_tokens.map_or(-1, |m| m as i64))
                .arg(r.max_cost_micros.map_or(-1, |m| m as i64));
        }
        let res: Result<(i64, String, i64, String, i64, i64, i64), _> = inv.invoke_async(&mut conn).await;
        match res {
            Ok((ok, state, rule, unit, limit, used, wait)) => {
                self.health.report(None).await;
                if ok == 1 {
                    return Ok(match state.as_str() {
                        "reserved" => ReserveOutcome::Reserved,
                        "already_reserved" => ReserveOutcome::AlreadyReserved,
                        _ => ReserveOutcome::AlreadyFinished,
                    });
                }
                let (r, scope) = applicable
                    .get(rule as usize)
                    .map(|(r, s)| (r.period, s.clone()))
                    .unwrap_or((Period::Minute, "?".into()));
                let requested = if unit == "t" { amount.tokens } else { amount.cost_micros };
                Err(if state == "too_large" {
                    LimitError::RequestTooLarge {
                        scope,
                        period: r,
                        unit: unit_name(&unit),
                        limit: limit.max(0) as u64,
                        requested,
                    }
                } else {
                    LimitError::BudgetExceeded {
                        scope,
                        period: r,
                        unit: unit_name(&unit),
                        limit: limit.max(0) as u64,
                        used: used.max(0) as u64,
                        requested,
                        retry_after: Duration::from_secs(wait.max(1) as u64),
                    }
                })
            }
            Err(e) => {
                self.health.report(Some(&e)).await;
                match &self.fallback {
                    Some(local) => {
                        let out = local.reserve(id, principal, team, amount).await?;
                        self.local_ids.lock().insert(id.to_string());
                        Ok(out)
                    }
                    None => Err(LimitError::Unavailable(e.to_string())),
                }
            }
        }
    }

    async fn settle(&self, id: &str, actual: Amount) -> Result<Settlement, LimitError> {
        self.finish_remote(id, actual, "settled").await
    }

    async fn release(&self, id: &str) -> Result<Settlement, LimitError> {
        self.finish_remote(id, Amount::default(), "released").await
    }

    fn counts_cost(&self) -> bool {
        self.rules.iter().any(|r| r.max_cost_micros.is_some())
    }
}
