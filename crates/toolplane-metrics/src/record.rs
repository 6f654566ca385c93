//! One execution as the collector records it, and the checks it must pass.

use std::time::SystemTime;

use serde::{Deserialize, Serialize};
use toolplane_core::{ProviderErrorKind, Usage};

use crate::MetricsError;

/// The most tokens of any one kind a single call may report (100 million).
/// Anything above is treated as a bug upstream and rejected.
pub const MAX_TOKENS_PER_CALL: u64 = 100_000_000;
/// The longest latency accepted for one call: 24 hours, in milliseconds.
pub const MAX_LATENCY_MS: f64 = 86_400_000.0;
/// The highest cost accepted for one call, in USD.
pub const MAX_COST_USD: f64 = 1_000_000.0;
/// The longest provider, model or task-type name accepted, in bytes.
pub const MAX_NAME_LEN: usize = 200;

/// How a call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "status", content = "error_type", rename_all = "snake_case")]
pub enum Outcome {
    /// The call returned an answer.
    Success,
    /// The call failed with this kind of error.
    Error(ProviderErrorKind),
}

impl Outcome {
    /// True for [`Outcome::Success`].
    pub fn is_success(self) -> bool {
        matches!(self, Self::Success)
    }
}

/// One call to a provider, as recorded by
/// [`ProviderMetricsCollector::record`](crate::ProviderMetricsCollector::record).
///
/// Borrowed, so recording does not allocate. Build one with
/// [`Execution::success`] or [`Execution::failure`] and the `with_*` methods.
///
/// ```
/// use toolplane_core::Usage;
/// use toolplane_metrics::Execution;
/// let e = Execution::success("openai", "gpt-4o-mini", 840.0)
///     .with_task_type("code")
///     .with_usage(Usage { input_tokens: 1200, output_tokens: 300, ..Default::default() })
///     .with_ttft_ms(210.0)
///     .with_request_id("req-1");
/// assert!(e.outcome.is_success());
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Execution<'a> {
    /// The provider's name (`openai`).
    pub provider: &'a str,
    /// The model id (`gpt-4o-mini`).
    pub model: &'a str,
    /// The task type, if the request had one.
    pub task_type: Option<&'a str>,
    /// The caller's request id, for feedback that arrives later.
    pub request_id: Option<&'a str>,
    /// Tokens used (input includes cache reads and writes; output includes reasoning).
    pub usage: Usage,
    /// The cost in USD when the caller knows it; `None` prices the usage from
    /// the collector's [`PricingTable`](crate::PricingTable).
    pub cost_usd: Option<f64>,
    /// Wall time of the whole call, in milliseconds.
    pub latency_ms: f64,
    /// Time to the first content event of a streamed call, in milliseconds.
    pub ttft_ms: Option<f64>,
    /// Success or the kind of error.
    pub outcome: Outcome,
    /// When the call finished; `None` reads the collector's clock.
    pub timestamp: Option<SystemTime>,
}

impl<'a> Execution<'a> {
    /// A successful call.
    pub fn success(provider: &'a str, model: &'a str, latency_ms: f64) -> Self {
        Self {
            provider,
            model,
            task_type: None,
            request_id: None,
            usage: Usage::default(),
            cost_usd: None,
            latency_ms,
            ttft_ms: None,
            outcome: Outcome::Success,
            timestamp: None,
        }
    }

    /// A failed call.
    pub fn failure(provider: &'a str, model: &'a str, latency_ms: f64, kind: ProviderErrorKind) -> Self {
        Self {
            outcome: Outcome::Error(kind),
            ..Self::success(provider, model, latency_ms)
        }
    }

    /// Sets the task type (an empty string means none).
    pub fn with_task_type(mut self, task_type: &'a str) -> Self {
        self.task_type = Some(task_type);
        self
    }

    /// Sets the request id.
    pub fn with_request_id(mut self, request_id: &'a str) -> Self {
        self.request_id = Some(request_id);
        self
    }

    /// Sets the usage.
    pub fn with_usage(mut self, usage: Usage) -> Self {
        self.usage = usage;
        self
    }

    /// Sets a known cost, instead of pricing the usage.
    pub fn with_cost_usd(mut self, cost_usd: f64) -> Self {
        self.cost_usd = Some(cost_usd);
        self
    }

    /// Sets the time to first token.
    pub fn with_ttft_ms(mut self, ttft_ms: f64) -> Self {
        self.ttft_ms = Some(ttft_ms);
        self
    }

    /// Sets when the call finished.
    pub fn at(mut self, timestamp: SystemTime) -> Self {
        self.timestamp = Some(timestamp);
        self
    }

    /// The task type with an empty string read as none.
    pub(crate) fn task(&self) -> Option<&'a str> {
        self.task_type.filter(|t| !t.is_empty())
    }

    /// Checks every field; the error names the first bad one.
    pub fn validate(&self) -> Result<(), MetricsError> {
        check_name("provider", self.provider, true)?;
        check_name("model", self.model, true)?;
        if let Some(t) = self.task_type {
            check_name("task_type", t, false)?;
        }
        if let Some(id) = self.request_id {
            if id.len() > 256 {
                return Err(MetricsError::record(format!(
                    "request_id is {} bytes long; at most 256 are accepted",
                    id.len()
                )));
            }
        }
        check_ms("latency_ms", self.latency_ms)?;
        if let Some(t) = self.ttft_ms {
            check_ms("ttft_ms", t)?;
            if t > self.latency_ms {
                return Err(MetricsError::record(format!(
                    "ttft_ms ({t}) is greater than latency_ms ({})",
                    self.latency_ms
                )));
            }
        }
        if let Some(c) = self.cost_usd {
            if !c.is_finite() || c < 0.0 {
                return Err(MetricsError::record(format!(
                    "cost_usd must be a finite number >= 0, got {c}"
                )));
            }
            if c > MAX_COST_USD {
                return Err(MetricsError::record(format!(
                    "cost_usd {c} is absurd for one call (limit {MAX_COST_USD})"
                )));
            }
        }
        let u = &self.usage;
        for (field, v) in [
            ("usage.input_tokens", u.input_tokens),
            ("usage.output_tokens", u.output_tokens),
            ("usage.cache_read_tokens", u.cache_read_tokens),
            ("usage.cache_write_tokens", u.cache_write_tokens),
            ("usage.reasoning_tokens", u.reasoning_tokens),
        ] {
            if v > MAX_TOKENS_PER_CALL {
                return Err(MetricsError::record(format!(
                    "{field} = {v} is absurd for one call (limit {MAX_TOKENS_PER_CALL})"
                )));
            }
        }
        if u.cache_read_tokens.saturating_add(u.cache_write_tokens) > u.input_tokens {
            return Err(MetricsError::record(format!(
                "usage: cache_read_tokens ({}) + cache_write_tokens ({}) exceed input_tokens ({}); \
                 input_tokens must include cached tokens",
                u.cache_read_tokens, u.cache_write_tokens, u.input_tokens
            )));
        }
        if u.reasoning_tokens > u.output_tokens {
            return Err(MetricsError::record(format!(
                "usage: reasoning_tokens ({}) exceed output_tokens ({}); output_tokens must include reasoning",
                u.reasoning_tokens, u.output_tokens
            )));
        }
        Ok(())
    }
}

fn check_name(field: &str, value: &str, required: bool) -> Result<(), MetricsError> {
    if required && value.bytes().all(|b| b.is_ascii_whitespace()) {
        return Err(MetricsError::record(format!("{field} is empty")));
    }
    if value.len() > MAX_NAME_LEN {
        return Err(MetricsError::record(format!(
            "{field} is {} bytes long; at most {MAX_NAME_LEN} are accepted",
            value.len()
        )));
    }
    Ok(())
}

fn check_ms(field: &str, v: f64) -> Result<(), MetricsError> {
    if v.is_nan() {
        return Err(MetricsError::record(format!("{field} is NaN")));
    }
    if v < 0.0 {
        return Err(MetricsError::record(format!("{field} is negative ({v})")));
    }
    if v > MAX_LATENCY_MS {
        return Err(MetricsError::record(format!(
            "{field} = {v} is absurd (limit {MAX_LATENCY_MS} ms, 24 h)"
        )));
    }
    Ok(())
}
