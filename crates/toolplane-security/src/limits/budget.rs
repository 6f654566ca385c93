//! Token and cost budgets kept in memory.

use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use toolplane_core::{Price, Usage};

use super::{Amount, Budget, LimitError, Period};

/// Whom a budget counts.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BudgetScope {
    /// Each principal separately.
    EachPrincipal,
    /// Each team separately (principals without a team are not counted).
    EachTeam,
    /// One principal.
    Principal(String),
    /// One team.
    Team(String),
}

/// A limit on tokens and/or cost per period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BudgetRule {
    /// Whom it counts.
    pub scope: BudgetScope,
    /// Per what.
    pub period: Period,
    /// The most tokens (input + output).
    pub max_tokens: Option<u64>,
    /// The most cost, micro-USD.
    pub max_cost_micros: Option<u64>,
}

impl BudgetRule {
    /// `max` tokens per `period` for each principal.
    pub fn tokens_per_principal(period: Period, max: u64) -> Self {
        Self {
            scope: BudgetScope::EachPrincipal,
            period,
            max_tokens: Some(max),
            max_cost_micros: None,
        }
    }

    /// `max` micro-USD per `period` for each team.
    pub fn cost_per_team(period: Period, max_micros: u64) -> Self {
        Self {
            scope: BudgetScope::EachTeam,
            period,
            max_tokens: None,
            max_cost_micros: Some(max_micros),
        }
    }

    /// The scope label this rule gives a principal/team, if it applies.
    pub(crate) fn subject(&self, principal: &str, team: Option<&str>) -> Option<String> {
        match &self.scope {
            BudgetScope::EachPrincipal => Some(format!("principal:{principal}")),
            BudgetScope::EachTeam => team.map(|t| format!("team:{t}")),
            BudgetScope::Principal(p) => (p == principal).then(|| format!("principal:{p}")),
            BudgetScope::Team(t) => (Some(t.as_str()) == team).then(|| format!("team:{t}")),
        }
    }
}

/// Prices of one model, USD per million tokens.
#[deprecated(
    since = "0.2.0",
    note = "use toolplane_core::Price (cache-aware, the same unit) and a PriceBook"
)]
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Pricing {
    /// Input tokens.
    pub input_per_mtok: f64,
    /// Output tokens.
    pub output_per_mtok: f64,
}

#[allow(deprecated)]
impl Pricing {
    /// Cost in micro-USD, rounded up.
    pub fn cost_micros(&self, input_tokens: u64, output_tokens: u64) -> u64 {
        Price::from(*self).estimate_micros(input_tokens, output_tokens)
    }

    /// The amount of an actual usage (cache reads and writes at the input price).
    pub fn amount(&self, usage: &Usage) -> Amount {
        Amount {
            tokens: usage.total_tokens(),
            cost_micros: Price::from(*self).cost_micros(usage),
        }
    }
}

#[allow(deprecated)]
impl From<Pricing> for Price {
    fn from(p: Pricing) -> Self {
        Price::per_million(p.input_per_mtok, p.output_per_mtok)
    }
}

/// The result of a reservation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReserveOutcome {
    /// Reserved now.
    Reserved,
    /// The id was reserved before (an idempotent repeat); nothing changed.
    AlreadyReserved,
    /// The id was already settled or released; nothing changed.
    AlreadyFinished,
}

/// The result of a settle or release.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Settlement {
    /// Done now.
    Done,
    /// It was already settled or released; nothing changed.
    AlreadyFinished,
    /// No reservation with that id.
    Unknown,
}

#[derive(Debug, Default, Clone, Copy)]
struct Counter {
    tokens: u64,
    cost: u64,
    ends: u64,
}

#[derive(Debug)]
struct Reservation {
    buckets: Vec<String>,
    amount: Amount,
    finished: bool,
    at: Instant,
}

#[derive(Debug, Default)]
struct State {
    buckets: HashMap<String, Counter>,
    reservations: HashMap<String, Reservation>,
    ops: u64,
}

/// Budgets in memory, for one process.
///
/// ```
/// use toolplane_security::limits::{Amount, Budget, BudgetRule, LocalBudget, Period, ReserveOutcome};
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let budget = LocalBudget::new(vec![BudgetRule::tokens_per_principal(Period::Minute, 1000)]);
/// let a = Amount { tokens: 600, cost_micros: 0 };
/// assert_eq!(budget.reserve("r1", "alice", None, a).await.unwrap(), ReserveOutcome::Reserved);
/// let err = budget.reserve("r2", "alice", None, a).await.unwrap_err();
/// assert!(err.retry_after().is_some());
/// budget.settle("r1", Amount { tokens: 100, cost_micros: 0 }).await.unwrap();
/// assert!(budget.reserve("r2", "alice", None, a).await.is_ok()); // 100 + 600 fits
/// # });
/// ```
#[derive(Debug)]
pub struct LocalBudget {
    rules: Vec<BudgetRule>,
    state: Mutex<State>,
    keep_finished: Duration,
}

pub(crate) fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

impl LocalBudget {
    /// Budgets with these rules.
    pub fn new(rules: Vec<BudgetRule>) -> Self {
        Self {
            rules,
            state: Mutex::new(State::default()),
            keep_finished: Duration::from_secs(3600),
        }
    }

    /// The rules.
    pub fn rules(&self) -> &[BudgetRule] {
        &self.rules
    }

    /// Used plus reserved in the current window of a rule's subject.
    pub fn used(&self, rule: usize, principal: &str, team: Option<&str>) -> Option<Amount> {
        let r = self.rules.get(rule)?;
        let subject = r.subject(principal, team)?;
        let (w, _) = r.period.window(unix_now());
        let c = self
            .state
            .lock()
            .buckets
            .get(&format!("{subject}:{}:{w}", r.period))
            .copied()
            .unwrap_or_default();
        Some(Amount {
            tokens: c.tokens,
            cost_micros: c.cost,
        })
    }

    /// Reserves at a given time (seconds since the epoch); for tests and replays.
    pub fn reserve_at(
        &self,
        now: u64,
        id: &str,
        principal: &str,
        team: Option<&str>,
        amount: Amount,
    ) -> Result<ReserveOutcome, LimitError> {
        let mut st = self.state.lock();
        if let Some(r) = st.reservations.get(id) {
            return Ok(if r.finished {
                ReserveOutcome::AlreadyFinished
            } else {
                ReserveOutcome::AlreadyReserved
            });
        }
        let mut buckets = Vec::new();
        for r in &self.rules {
            let Some(subject) = r.subject(principal, team) else {
                continue;
            };
            let (w, ends) = r.period.window(now);
            let key = format!("{subject}:{}:{w}", r.period);
            let c = st.buckets.get(&key).copied().unwrap_or_default();
            let checks = [
                ("token", r.max_tokens, c.tokens, amount.tokens),
                ("cost (micro-USD)", r.max_cost_micros, c.cost, amount.cost_micros),
            ];
            for (unit, max, used, want) in checks {
                let Some(limit) = max else { continue };
                if want > limit {
                    return Err(LimitError::RequestTooLarge {
                        scope: subject,
                        period: r.period,
                        unit,
                        limit,
                        requested: want,
                    });
                }
                if used.saturating_add(want) > limit {
                    return Err(LimitError::BudgetExceeded {
                        scope: subject,
                        period: r.period,
                        unit,
                        limit,
                        used,
                        requested: want,
                        retry_after: Duration::from_secs(ends.saturating_sub(now).max(1)),
                    });
                }
            }
            buckets.push((key, ends));
        }
        let mut keys = Vec::with_capacity(buckets.len());
        for (key, ends) in buckets {
            let c = st.buckets.entry(key.clone()).or_default();
            c.tokens = c.tokens.saturating_add(amount.tokens);
            c.cost = c.cost.saturating_add(amount.cost_micros);
            c.ends = ends;
            keys.push(key);
        }
        st.reservations.insert(
            id.to_string(),
            Reservation {
                buckets: keys,
                amount,
                finished: false,
                at: Instant::now(),
            },
        );
        st.ops += 1;
        if st.ops % 1024 == 0 {
            let keep = self.keep_finished;
            st.buckets.retain(|_, c| c.ends > now);
            st.reservations.retain(|_, r| !r.finished || r.at.elapsed() < keep);
        }
        Ok(ReserveOutcome::Reserved)
    }

    fn finish(&self, id: &str, actual: Amount) -> Settlement {
        let mut st = self.state.lock();
        let State {
            buckets, reservations, ..
        } = &mut *st;
        let Some(r) = reservations.get_mut(id) else {
            return Settlement::Unknown;
        };
        if r.finished {
            return Settlement::AlreadyFinished;
        }
        r.finished = true;
        r.at = Instant::now();
        for key in &r.buckets {
            if let Some(c) = buckets.get_mut(key) {
                c.tokens = c.tokens.saturating_sub(r.amount.tokens).saturating_add(actual.tokens);
                c.cost = c
                    .cost
                    .saturating_sub(r.amount.cost_micros)
                    .saturating_add(actual.cost_micros);
            }
        }
        Settlement::Done
    }

    /// Settles synchronously.
    pub fn settle_now(&self, id: &str, actual: Amount) -> Settlement {
        self.finish(id, actual)
    }

    /// Releases synchronously.
    pub fn release_now(&self, id: &str) -> Settlement {
        self.finish(id, Amount::default())
    }
}

#[async_trait]
impl Budget for LocalBudget {
    async fn reserve(
        &self,
        id: &str,
        principal: &str,
        team: Option<&str>,
        amount: Amount,
    ) -> Result<ReserveOutcome, LimitError> {
        self.reserve_at(unix_now(), id, principal, team, amount)
    }

    async fn settle(&self, id: &str, actual: Amount) -> Result<Settlement, LimitError> {
        Ok(self.finish(id, actual))
    }

    async fn release(&self, id: &str) -> Result<Settlement, LimitError> {
        Ok(self.finish(id, Amount::default()))
    }

    fn counts_cost(&self) -> bool {
        self.rules.iter().any(|r| r.max_cost_micros.is_some())
    }
}
