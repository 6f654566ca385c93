//! Rate limits and token/cost budgets.
//!
//! - [`LocalRateLimiter`]: GCRA limits (governor) keyed by principal, tool or
//!   provider, in a sharded map whose memory stays bounded for millions of keys.
//! - [`LocalBudget`]: token and cost budgets per principal or team per minute,
//!   hour, day or month: reserve before a call, settle with the real usage
//!   after, release on error or cancellation; exactly once, by reservation id.
//! - [`RateLimitInterceptor`] (tool and chat chains) and [`BudgetInterceptor`]
//!   (chat chain) put them in front of tools and providers.
//! - With the `redis` feature, `RedisRateLimiter` and `RedisBudget` share
//!   limits between instances, with Lua scripts on the server's clock.

mod budget;
mod interceptor;
mod rate;
#[cfg(feature = "redis")]
mod redis_backend;

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use toolplane_core::{ProviderError, ProviderErrorKind, ToolError, ToolErrorKind};

#[allow(deprecated)]
pub use budget::Pricing;
pub use budget::{BudgetRule, BudgetScope, LocalBudget, ReserveOutcome, Settlement};
pub use interceptor::{BudgetDecision, BudgetInterceptor, PriceSource, RateLimitInterceptor};
pub use rate::{LocalRateLimiter, RateKey, RateQuota};
#[cfg(feature = "redis")]
pub use redis_backend::{DownPolicy, RedisBudget, RedisRateLimiter, redis_connection};

/// A budget period, aligned to UTC calendar boundaries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Period {
    /// A calendar minute.
    Minute,
    /// A calendar hour.
    Hour,
    /// A UTC day.
    Day,
    /// A UTC calendar month.
    Month,
}

impl Period {
    /// `minute`, `hour`, `day` or `month`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Minute => "minute",
            Self::Hour => "hour",
            Self::Day => "day",
            Self::Month => "month",
        }
    }

    /// The window holding `unix_s`: its index and the second it ends.
    pub fn window(self, unix_s: u64) -> (u64, u64) {
        let fixed = |len: u64| (unix_s / len, (unix_s / len + 1) * len);
        match self {
            Self::Minute => fixed(60),
            Self::Hour => fixed(3600),
            Self::Day => fixed(86_400),
            Self::Month => {
                let (y, m) = civil_month(unix_s / 86_400);
                let index = y * 12 + (m - 1);
                let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
                (index, days_from_civil(ny, nm) * 86_400)
            }
        }
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// (year, month 1..=12) of a day count since 1970-01-01 (H. Hinnant's algorithm).
fn civil_month(days: u64) -> (u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + u64::from(m <= 2);
    (y, m)
}

/// Days since 1970-01-01 of the first day of (year, month).
fn days_from_civil(y: u64, m: u64) -> u64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y / 400;
    let yoe = y - era * 400;
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// A call refused by a limit, or a limit that could not be checked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LimitError {
    /// Too many calls for now; try again after `retry_after`.
    #[error("rate limit for {key} reached; retry after {} ms", retry_after.as_millis())]
    RateLimited {
        /// The limited key.
        key: String,
        /// When a call of the same cost may pass.
        retry_after: Duration,
    },
    /// The call costs more than the burst: it can never pass.
    #[error("a call of cost {cost} can never pass the rate limit for {key} (burst {burst})")]
    CostExceedsBurst {
        /// The key.
        key: String,
        /// The call's cost.
        cost: u32,
        /// The most a call may cost.
        burst: u32,
    },
    /// The budget has not enough left in this period.
    #[error("{unit} budget of {scope} per {period} exhausted: {used} used or reserved of {limit}, this call needs {requested}; retry after {} s", retry_after.as_secs())]
    BudgetExceeded {
        /// `principal:alice` or `team:platform`.
        scope: String,
        /// The period.
        period: Period,
        /// `token` or `cost (micro-USD)`.
        unit: &'static str,
        /// The limit.
        limit: u64,
        /// Used and reserved so far.
        used: u64,
        /// What this call would reserve.
        requested: u64,
        /// Until the period ends.
        retry_after: Duration,
    },
    /// The call alone needs more than the whole budget: it can never pass.
    #[error(
        "this call needs {requested} {unit}s but the budget of {scope} per {period} is {limit}; lower max_tokens or the input"
    )]
    RequestTooLarge {
        /// The scope.
        scope: String,
        /// The period.
        period: Period,
        /// The unit.
        unit: &'static str,
        /// The limit.
        limit: u64,
        /// What this call would reserve.
        requested: u64,
    },
    /// The model has no price and the budget limits cost: charging it $0
    /// would bypass the limit, so the call is refused (set a default price
    /// to charge unpriced models instead).
    #[error(
        "model {model:?} of provider {provider:?} has no price and the budget limits cost; call refused (add its price to the price book or set a default price)"
    )]
    Unpriced {
        /// The provider.
        provider: String,
        /// The model.
        model: String,
    },
    /// The shared backend is unavailable and the policy is to fail closed.
    #[error("limit backend unavailable, call refused (fail closed): {0}")]
    Unavailable(String),
}

impl LimitError {
    /// When a retry may pass; `None` for permanent refusals.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::RateLimited { retry_after, .. } | Self::BudgetExceeded { retry_after, .. } => Some(*retry_after),
            Self::Unavailable(_) => Some(Duration::from_secs(1)),
            _ => None,
        }
    }

    /// True when retrying cannot help.
    pub fn is_permanent(&self) -> bool {
        matches!(
            self,
            Self::CostExceedsBurst { .. } | Self::RequestTooLarge { .. } | Self::Unpriced { .. }
        )
    }

    /// The variant as a label: `rate_limited`, `cost_exceeds_burst`,
    /// `budget_exceeded`, `request_too_large`, `unpriced`, `unavailable`.
    pub fn kind_str(&self) -> &'static str {
        match self {
            Self::RateLimited { .. } => "rate_limited",
            Self::CostExceedsBurst { .. } => "cost_exceeds_burst",
            Self::BudgetExceeded { .. } => "budget_exceeded",
            Self::RequestTooLarge { .. } => "request_too_large",
            Self::Unpriced { .. } => "unpriced",
            Self::Unavailable(_) => "unavailable",
        }
    }

    /// Emits the refusal as a `toolplane.refused` event on the current span
    /// (the `chat` or `execute_tool` span of the refused call): what refused
    /// (`rate_limit` or `budget`), the kind, the key or scope, the wait.
    pub(crate) fn trace_refusal(&self) {
        let (by, scope) = match self {
            Self::RateLimited { key, .. } | Self::CostExceedsBurst { key, .. } => ("rate_limit", Some(key.as_str())),
            Self::BudgetExceeded { scope, .. } | Self::RequestTooLarge { scope, .. } => {
                ("budget", Some(scope.as_str()))
            }
            Self::Unpriced { .. } => ("budget", None),
            Self::Unavailable(_) => ("limit_backend", None),
        };
        let retry_after_ms = self
            .retry_after()
            .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        tracing::event!(
            target: "toolplane::limits",
        tracing::Level::INFO,
            toolplane.refusal.by = by,
            toolplane.refusal.scope = scope,
            error.type = self.kind_str(),
            toolplane.refusal.retry_after_ms = retry_after_ms,
            "toolplane.refused"
        );
    }

    /// As a tool error: `rate_limited` with a retry-after, or
    /// `permission_denied` for refusals that no wait can cure.
    pub fn to_tool_error(&self) -> ToolError {
        let e = if self.is_permanent() {
            ToolError::permission_denied(self.to_string())
        } else {
            ToolError::new(ToolErrorKind::RateLimited, self.to_string())
        };
        match self.retry_after() {
            Some(d) => e.with_retry_after(d),
            None => e,
        }
    }

    /// As a provider error: `rate_limited` for rate limits, `quota_exceeded`
    /// for budgets (with a retry-after when waiting helps).
    pub fn to_provider_error(&self, provider: &str) -> ProviderError {
        let kind = match self {
            Self::RateLimited { .. } | Self::Unavailable(_) => ProviderErrorKind::RateLimited,
            _ => ProviderErrorKind::QuotaExceeded,
        };
        let e = ProviderError::new(kind, provider, self.to_string());
        match self.retry_after() {
            Some(d) => e.with_retry_after(d),
            None => e,
        }
    }
}

/// Something that rate-limits keys: [`LocalRateLimiter`] or the Redis one.
#[async_trait]
pub trait RateLimit: Send + Sync + fmt::Debug {
    /// Takes `cost` cells for `key` or says when to come back.
    async fn check(&self, key: &RateKey<'_>, cost: u32) -> Result<(), LimitError>;
}

/// What a call would use, or did use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Amount {
    /// Tokens (input + output).
    pub tokens: u64,
    /// Cost in micro-USD.
    pub cost_micros: u64,
}

/// Something that keeps budgets: [`LocalBudget`] or the Redis one.
///
/// Every method is idempotent by reservation id: reserving an id again
/// returns the first outcome, and settling or releasing an id a second time
/// changes nothing.
#[async_trait]
pub trait Budget: Send + Sync + fmt::Debug {
    /// Reserves `amount` for `id` in every budget that applies to the
    /// principal and team, or refuses without reserving anything.
    async fn reserve(
        &self,
        id: &str,
        principal: &str,
        team: Option<&str>,
        amount: Amount,
    ) -> Result<ReserveOutcome, LimitError>;

    /// Replaces the reservation with the actual use (once).
    async fn settle(&self, id: &str, actual: Amount) -> Result<Settlement, LimitError>;

    /// Gives the reservation back (once; nothing after a settle).
    async fn release(&self, id: &str) -> Result<Settlement, LimitError>;

    /// True when some rule limits cost, so an unpriced call must not pass
    /// at $0. Defaults to `true` (the safe answer).
    fn counts_cost(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn month_windows_follow_the_calendar() {
        // 2024-02-29T12:00:00Z
        let t = 1_709_208_000;
        let (_, end) = Period::Month.window(t);
        assert_eq!(end, 1_709_251_200); // 2024-03-01T00:00:00Z
        let (_, end) = Period::Month.window(1_703_980_800); // 2023-12-31
        assert_eq!(end, 1_704_067_200); // 2024-01-01
        assert_eq!(Period::Minute.window(119), (1, 120));
        assert_eq!(Period::Day.window(86_400), (1, 172_800));
    }
}
