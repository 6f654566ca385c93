//! One price per model, in one unit, read through one trait.
//!
//! [`Price`] is what one model costs, cache-aware, in **USD per million
//! tokens** (the unit the providers publish). [`PriceBook`] answers "what does
//! `provider`'s `model` cost?"; the metrics crate's `PricingTable` implements
//! it, and so does [`StaticPrices`] here for tests and small hosts. Budgets,
//! the router and the loop's cost limit read prices through a `PriceBook`, so
//! one call costs the same everywhere, cache reads and writes included.
//!
//! A `PriceBook` answers `None` for a model it does not know: an unknown
//! model is *unpriced*, never free. What to do then (refuse, or charge a
//! configured default) is the reader's decision, and it says which.

use std::collections::HashMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{CacheTtl, Usage};

/// The price of one model, in USD per million tokens.
///
/// Only `input` and `output` are required. A missing cache-read or
/// cache-write price is billed at the input price, a missing 1-hour write
/// price at the 5-minute one, and a missing reasoning price at the output
/// price: how the providers bill when they publish no separate rate.
///
/// ```
/// use toolplane_core::{Price, Usage};
/// let p = Price::per_million(3.0, 15.0).with_cache_read(0.30).with_cache_write_5m(3.75);
/// let u = Usage { input_tokens: 1_000_000, cache_read_tokens: 600_000, cache_write_tokens: 100_000,
///                 output_tokens: 10_000, ..Default::default() };
/// // 300k uncached * $3 + 600k * $0.30 + 100k * $3.75 + 10k * $15, per million
/// assert!((p.cost(&u) - (0.9 + 0.18 + 0.375 + 0.15)).abs() < 1e-9);
/// assert_eq!(p.cost_micros(&u), 1_605_000);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Price {
    /// Input tokens that were neither read from nor written to a cache.
    pub input: f64,
    /// Output tokens (reasoning included unless priced separately).
    pub output: f64,
    /// Input tokens read from a prompt cache.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_read: Option<f64>,
    /// Input tokens written to a prompt cache kept 5 minutes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_write_5m: Option<f64>,
    /// Input tokens written to a prompt cache kept 1 hour.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_write_1h: Option<f64>,
    /// Output tokens spent on reasoning, when billed differently from output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning: Option<f64>,
}

/// A price that is not a finite number `>= 0`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("price {field} must be a finite number >= 0 (USD per million tokens), got {value}")]
pub struct InvalidPrice {
    /// The field (`input`, `cache_read`, ...).
    pub field: &'static str,
    /// The value found.
    pub value: f64,
}

impl Price {
    /// A price from USD per million input and output tokens.
    pub const fn per_million(input: f64, output: f64) -> Self {
        Self {
            input,
            output,
            cache_read: None,
            cache_write_5m: None,
            cache_write_1h: None,
            reasoning: None,
        }
    }

    /// Sets the cache-read price (USD per million tokens).
    pub const fn with_cache_read(mut self, per_million: f64) -> Self {
        self.cache_read = Some(per_million);
        self
    }

    /// Sets the 5-minute cache-write price (USD per million tokens).
    pub const fn with_cache_write_5m(mut self, per_million: f64) -> Self {
        self.cache_write_5m = Some(per_million);
        self
    }

    /// Sets the 1-hour cache-write price (USD per million tokens).
    pub const fn with_cache_write_1h(mut self, per_million: f64) -> Self {
        self.cache_write_1h = Some(per_million);
        self
    }

    /// Sets the reasoning price (USD per million tokens).
    pub const fn with_reasoning(mut self, per_million: f64) -> Self {
        self.reasoning = Some(per_million);
        self
    }

    /// One figure for ranking experts by price: USD per 1,000 tokens at
    /// three uncached input tokens for one output token (the usual blend of
    /// price lists).
    ///
    /// ```
    /// use toolplane_core::Price;
    /// assert!((Price::per_million(3.0, 15.0).blended_per_1k() - 0.006).abs() < 1e-12);
    /// ```
    pub fn blended_per_1k(&self) -> f64 {
        (3.0 * self.input + self.output) / 4.0 / 1000.0
    }

    /// Checks every rate is a finite number `>= 0`.
    pub fn validate(&self) -> Result<(), InvalidPrice> {
        let fields = [
            ("input", Some(self.input)),
            ("output", Some(self.output)),
            ("cache_read", self.cache_read),
            ("cache_write_5m", self.cache_write_5m),
            ("cache_write_1h", self.cache_write_1h),
            ("reasoning", self.reasoning),
        ];
        for (field, v) in fields {
            if let Some(value) = v {
                if !value.is_finite() || value < 0.0 {
                    return Err(InvalidPrice { field, value });
                }
            }
        }
        Ok(())
    }

    /// The cost of `usage` in USD, cache writes at the 5-minute rate.
    ///
    /// `usage.input_tokens` includes the cached tokens and
    /// `usage.output_tokens` includes the reasoning tokens (the [`Usage`]
    /// convention), so each token is charged exactly once.
    pub fn cost(&self, usage: &Usage) -> f64 {
        self.cost_with_ttl(usage, CacheTtl::FiveMinutes)
    }

    /// The cost of `usage` in USD, cache writes at the rate of `ttl`.
    pub fn cost_with_ttl(&self, usage: &Usage, ttl: CacheTtl) -> f64 {
        self.micros_with_ttl(usage, ttl) / 1e6
    }

    /// The cost in micro-USD, unrounded (tokens × USD per million tokens).
    fn micros_with_ttl(&self, usage: &Usage, ttl: CacheTtl) -> f64 {
        let rate_5m = self.cache_write_5m.unwrap_or(self.input);
        let rate_1h = self.cache_write_1h.or(self.cache_write_5m).unwrap_or(self.input);
        // Writes the usage marks as one-hour are billed at that rate; the
        // rest at the rate of `ttl`.
        let writes_1h = usage.cache_write_1h_tokens.min(usage.cache_write_tokens);
        let writes_rest = usage.cache_write_tokens - writes_1h;
        let rest_rate = match ttl {
            CacheTtl::FiveMinutes => rate_5m,
            CacheTtl::OneHour => rate_1h,
        };
        let reasoning = usage.reasoning_tokens.min(usage.output_tokens);
        let plain_out = usage.output_tokens - reasoning;
        usage.uncached_input_tokens() as f64 * self.input
            + usage.cache_read_tokens as f64 * self.cache_read.unwrap_or(self.input)
            + writes_rest as f64 * rest_rate
            + writes_1h as f64 * rate_1h
            + plain_out as f64 * self.output
            + reasoning as f64 * self.reasoning.unwrap_or(self.output)
    }

    /// The cost of `usage` in micro-USD, rounded up (what budgets count).
    pub fn cost_micros(&self, usage: &Usage) -> u64 {
        to_micros(self.micros_with_ttl(usage, CacheTtl::FiveMinutes))
    }

    /// The most `input` uncached input and `output` output tokens can cost,
    /// in micro-USD rounded up: what a budget reserves before a call.
    ///
    /// Reasoning is charged at the higher of the output and reasoning rates,
    /// since the split is not known before the call.
    pub fn estimate_micros(&self, input: u64, output: u64) -> u64 {
        let out_rate = self.output.max(self.reasoning.unwrap_or(0.0));
        to_micros(input as f64 * self.input + output as f64 * out_rate)
    }
}

/// Whole micro-USD from a product of tokens and USD per million tokens,
/// rounded up; a value within 1e-6 of a whole number is that number, so
/// binary rounding (0.3 × 600,000 = 180,000.00000000003) adds nothing.
fn to_micros(v: f64) -> u64 {
    if v.is_finite() && v > 0.0 {
        let r = v.round();
        let whole = if (v - r).abs() < 1e-6 { r } else { v.ceil() };
        // Saturates at u64::MAX for absurd inputs (Rust's float-to-int cast).
        whole as u64
    } else {
        0
    }
}

/// Where prices come from: answers what `provider`'s `model` costs.
///
/// [`price`](PriceBook::price) is the one required method; `None` means the
/// model is unpriced (never "free"). Implementations: [`StaticPrices`] here,
/// and the metrics crate's `PricingTable` (built-in prices and LiteLLM JSON).
pub trait PriceBook: Send + Sync + fmt::Debug {
    /// The price of `provider`'s `model`, or `None` when unknown.
    fn price(&self, provider: &str, model: &str) -> Option<Price>;

    /// The cost of `usage` in USD, or `None` when the model is unpriced.
    fn cost(&self, provider: &str, model: &str, usage: &Usage) -> Option<f64> {
        self.price(provider, model).map(|p| p.cost(usage))
    }
}

impl<T: PriceBook + ?Sized> PriceBook for std::sync::Arc<T> {
    fn price(&self, provider: &str, model: &str) -> Option<Price> {
        (**self).price(provider, model)
    }
}

impl<T: PriceBook + ?Sized> PriceBook for &T {
    fn price(&self, provider: &str, model: &str) -> Option<Price> {
        (**self).price(provider, model)
    }
}

/// A price book held in memory: exact `(provider, model)` prices, then
/// model-only prices that apply under any provider.
///
/// ```
/// use toolplane_core::{Price, PriceBook, StaticPrices};
/// let book = StaticPrices::new()
///     .with("openai", "gpt-4o", Price::per_million(2.5, 10.0))
///     .with_any_provider("claude-sonnet-4-5", Price::per_million(3.0, 15.0));
/// assert_eq!(book.price("openai", "gpt-4o").unwrap().input, 2.5);
/// assert!(book.price("router", "claude-sonnet-4-5").is_some());
/// assert!(book.price("openai", "unknown").is_none()); // unpriced, not free
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StaticPrices {
    exact: HashMap<(String, String), Price>,
    any_provider: HashMap<String, Price>,
}

impl StaticPrices {
    /// An empty book: every model is unpriced.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds or replaces the price of `provider`'s `model`.
    pub fn insert(&mut self, provider: impl Into<String>, model: impl Into<String>, price: Price) {
        self.exact.insert((provider.into(), model.into()), price);
    }

    /// Adds or replaces the price of `model` under any provider.
    pub fn insert_any_provider(&mut self, model: impl Into<String>, price: Price) {
        self.any_provider.insert(model.into(), price);
    }

    /// [`insert`](Self::insert), by value.
    pub fn with(mut self, provider: impl Into<String>, model: impl Into<String>, price: Price) -> Self {
        self.insert(provider, model, price);
        self
    }

    /// [`insert_any_provider`](Self::insert_any_provider), by value.
    pub fn with_any_provider(mut self, model: impl Into<String>, price: Price) -> Self {
        self.insert_any_provider(model, price);
        self
    }

    /// How many prices are held.
    pub fn len(&self) -> usize {
        self.exact.len() + self.any_provider.len()
    }

    /// True when no price is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl PriceBook for StaticPrices {
    fn price(&self, provider: &str, model: &str) -> Option<Price> {
        self.exact
            .get(&(provider.to_owned(), model.to_owned()))
            .or_else(|| self.any_provider.get(model))
            .copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_hour_writes_fall_back_to_five_minute_then_input() {
        let u = Usage {
            input_tokens: 1_000_000,
            cache_write_tokens: 1_000_000,
            ..Default::default()
        };
        let p = Price::per_million(3.0, 15.0);
        assert_eq!(p.cost_with_ttl(&u, CacheTtl::OneHour), 3.0);
        let p = p.with_cache_write_5m(3.75);
        assert_eq!(p.cost_with_ttl(&u, CacheTtl::OneHour), 3.75);
        let p = p.with_cache_write_1h(6.0);
        assert_eq!(p.cost_with_ttl(&u, CacheTtl::OneHour), 6.0);
        assert_eq!(p.cost(&u), 3.75);
    }

    #[test]
    fn reasoning_is_part_of_output_and_charged_once() {
        let u = Usage {
            output_tokens: 1_000_000,
            reasoning_tokens: 400_000,
            ..Default::default()
        };
        let p = Price::per_million(1.0, 10.0).with_reasoning(20.0);
        assert!((p.cost(&u) - (6.0 + 8.0)).abs() < 1e-9);
        assert_eq!(p.estimate_micros(0, 1_000_000), 20_000_000);
    }

    #[test]
    fn invalid_prices_name_the_field() {
        let e = Price::per_million(1.0, 1.0)
            .with_cache_read(-1.0)
            .validate()
            .unwrap_err();
        assert_eq!(e.field, "cache_read");
        assert!(Price::per_million(f64::NAN, 1.0).validate().is_err());
        assert!(Price::per_million(0.0, 0.0).validate().is_ok());
    }

    #[test]
    fn micros_round_up_and_never_go_negative() {
        let p = Price::per_million(0.1, 0.0);
        assert_eq!(p.estimate_micros(1, 0), 1);
        assert_eq!(Price::per_million(0.0, 0.0).estimate_micros(10, 10), 0);
    }
}
