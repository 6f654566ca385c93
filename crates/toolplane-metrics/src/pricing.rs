//! Prices per token, built in for current OpenAI, Anthropic, Mistral, Cohere and Gemini
//! models, or loaded from a LiteLLM `model_prices_and_context_window.json`.

use std::collections::HashMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use toolplane_core::{Price, PriceBook, Usage};

use crate::MetricsError;

/// The day the built-in prices were checked against the providers' pages.
pub const BUILTIN_PRICES_CHECKED: &str = "2026-11-25";

/// The price of one model, in USD per token, as LiteLLM's files give it.
///
/// This is the storage and file form; everything that charges a call uses
/// the core [`Price`] (USD per million tokens), and [`ModelPrice::cost`] is
/// [`Price::cost`], so a call costs the same in the metrics and in a budget.
/// Missing cache prices fall back to the input price and a missing reasoning
/// price to the output price, which is how the providers bill when they do
/// not publish a separate rate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ModelPrice {
    /// Input tokens that were neither read from nor written to a cache.
    pub input_per_token: f64,
    /// Output tokens (reasoning included unless priced separately).
    pub output_per_token: f64,
    /// Input tokens read from a prompt cache.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_read_per_token: Option<f64>,
    /// Input tokens written to a prompt cache (Anthropic: with the 5-minute lifetime).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_write_per_token: Option<f64>,
    /// Input tokens written to a prompt cache with a one-hour lifetime
    /// ([`Usage::cache_write_1h_tokens`]); falls back to the cache-write price.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_write_1h_per_token: Option<f64>,
    /// Output tokens spent on reasoning, when billed differently from output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_per_token: Option<f64>,
}

impl ModelPrice {
    /// A price from USD per million input and output tokens.
    pub fn per_million(input: f64, output: f64) -> Self {
        Self {
            input_per_token: input / 1e6,
            output_per_token: output / 1e6,
            cache_read_per_token: None,
            cache_write_per_token: None,
            cache_write_1h_per_token: None,
            reasoning_per_token: None,
        }
    }

    /// Sets the cache-read price, in USD per million tokens.
    pub fn with_cache_read(mut self, per_million: f64) -> Self {
        self.cache_read_per_token = Some(per_million / 1e6);
        self
    }

    /// Sets the cache-write price, in USD per million tokens.
    pub fn with_cache_write(mut self, per_million: f64) -> Self {
        self.cache_write_per_token = Some(per_million / 1e6);
        self
    }

    /// Sets the one-hour cache-write price, in USD per million tokens.
    pub fn with_cache_write_1h(mut self, per_million: f64) -> Self {
        self.cache_write_1h_per_token = Some(per_million / 1e6);
        self
    }

    /// Sets the reasoning price, in USD per million tokens.
    pub fn with_reasoning(mut self, per_million: f64) -> Self {
        self.reasoning_per_token = Some(per_million / 1e6);
        self
    }

    /// The cost of `usage` in USD.
    ///
    /// `usage.input_tokens` includes the cached tokens and
    /// `usage.output_tokens` includes the reasoning tokens (the core
    /// [`Usage`] convention), so each token is charged exactly once:
    ///
    /// ```
    /// use toolplane_core::{Price, PriceBook, Usage};
    /// use toolplane_metrics::ModelPrice;
    /// let p = ModelPrice::per_million(3.0, 15.0).with_cache_read(0.30).with_cache_write(3.75);
    /// let u = Usage { input_tokens: 1_000_000, cache_read_tokens: 600_000, cache_write_tokens: 100_000,
    ///                 output_tokens: 10_000, ..Default::default() };
    /// // 300k uncached * $3 + 600k * $0.30 + 100k * $3.75 + 10k * $15, per million
    /// assert!((p.cost(&u) - (0.9 + 0.18 + 0.375 + 0.15)).abs() < 1e-9);
    /// ```
    pub fn cost(&self, usage: &Usage) -> f64 {
        self.to_price().cost(usage)
    }

    /// The same price in the core unit, USD per million tokens.
    pub fn to_price(&self) -> Price {
        let m = |v: f64| v * 1e6;
        Price {
            input: m(self.input_per_token),
            output: m(self.output_per_token),
            cache_read: self.cache_read_per_token.map(m),
            cache_write_5m: self.cache_write_per_token.map(m),
            cache_write_1h: self.cache_write_1h_per_token.map(m),
            reasoning: self.reasoning_per_token.map(m),
        }
    }

    fn validate(&self, what: &str) -> Result<(), MetricsError> {
        let all = [
            Some(self.input_per_token),
            Some(self.output_per_token),
            self.cache_read_per_token,
            self.cache_write_per_token,
            self.cache_write_1h_per_token,
            self.reasoning_per_token,
        ];
        for v in all.into_iter().flatten() {
            if !v.is_finite() || v < 0.0 {
                return Err(MetricsError::pricing(format!(
                    "{what}: a price must be a finite number >= 0, got {v}"
                )));
            }
        }
        Ok(())
    }
}

/// Prices by provider and model.
///
/// Lookups try, in order: the exact `(provider, model)`; the model without a
/// `provider/` prefix; the model without a date suffix (`-2025-08-07`,
/// `-20251001`); then the same model ids under any provider, for hosts (such
/// as a router) that report a first-party model under their own name.
///
/// ```
/// use toolplane_core::{Price, PriceBook, Usage};
/// use toolplane_metrics::PricingTable;
/// let table = PricingTable::builtin();
/// let u = Usage { input_tokens: 1000, output_tokens: 1000, ..Default::default() };
/// assert!(table.cost("anthropic", "claude-sonnet-4-5-20250929", &u).is_some());
/// assert!(table.cost("acme", "mystery-model", &u).is_none()); // unpriced, never $0
/// ```
#[derive(Debug, Clone, Default)]
pub struct PricingTable {
    by_provider: HashMap<String, HashMap<String, ModelPrice>>,
    by_model: HashMap<String, ModelPrice>,
    skipped: usize,
}

impl PricingTable {
    /// A table with no prices: every model is unpriced.
    pub fn empty() -> Self {
        Self::default()
    }

    /// The built-in prices, checked on [`BUILTIN_PRICES_CHECKED`] (sources in
    /// `docs/metrics.md`). Standard tier, short-context rates; batch,
    /// priority and long-context surcharges are not modelled.
    pub fn builtin() -> Self {
        let mut t = Self::empty();
        for (provider, models) in crate::pricing_builtin::BUILTIN {
            for (model, price) in *models {
                t.insert_unchecked(provider, model, *price);
            }
        }
        t
    }

    /// Adds or replaces one price (a [`ModelPrice`] or a core [`Price`]).
    pub fn insert(&mut self, provider: &str, model: &str, price: impl Into<ModelPrice>) -> Result<(), MetricsError> {
        let price = price.into();
        price.validate(&format!("{provider}/{model}"))?;
        self.insert_unchecked(provider, model, price);
        Ok(())
    }

    fn insert_unchecked(&mut self, provider: &str, model: &str, price: ModelPrice) {
        self.by_provider
            .entry(provider.to_owned())
            .or_default()
            .insert(model.to_owned(), price);
        self.by_model.entry(model.to_owned()).or_insert(price);
    }

    /// Adds every price of `other`, replacing prices for the same models.
    pub fn merge(&mut self, other: &PricingTable) {
        for (p, models) in &other.by_provider {
            for (m, price) in models {
                self.by_provider.entry(p.clone()).or_default().insert(m.clone(), *price);
            }
        }
        for (m, price) in &other.by_model {
            self.by_model.insert(m.clone(), *price);
        }
        self.skipped += other.skipped;
    }

    /// Reads a LiteLLM price file (`model_prices_and_context_window.json`).
    pub fn from_litellm_file(path: &Path) -> Result<Self, MetricsError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| MetricsError::pricing(format!("{}: cannot read: {e}", path.display())))?;
        Self::from_litellm_json(&text)
            .map_err(|e| MetricsError::pricing(format!("{}: {}", path.display(), e.message())))
    }

    /// Parses LiteLLM's price JSON: an object keyed by model id whose values
    /// carry `litellm_provider`, `input_cost_per_token`,
    /// `output_cost_per_token` and optionally `cache_read_input_token_cost`,
    /// `cache_creation_input_token_cost`, `cache_creation_input_token_cost_above_1hr`
    /// and `output_cost_per_reasoning_token`.
    ///
    /// Entries without both token prices (images, audio, `sample_spec`) or
    /// with a negative or non-numeric price are skipped and counted in
    /// [`PricingTable::skipped`]. Provider `cohere_chat` is read as `cohere`.
    pub fn from_litellm_json(text: &str) -> Result<Self, MetricsError> {
        let root: Value =
            serde_json::from_str(text).map_err(|e| MetricsError::pricing(format!("not valid JSON: {e}")))?;
        let Value::Object(entries) = root else {
            return Err(MetricsError::pricing("expected a JSON object keyed by model id"));
        };
        let mut t = Self::empty();
        for (key, v) in &entries {
            let (Some(input), Some(output)) = (num(v, "input_cost_per_token"), num(v, "output_cost_per_token")) else {
                t.skipped += 1;
                continue;
            };
            let provider = match v.get("litellm_provider").and_then(Value::as_str) {
                Some("cohere_chat") => "cohere",
                Some(p) => p,
                None => "",
            };
            let price = ModelPrice {
                input_per_token: input,
                output_per_token: output,
                cache_read_per_token: num(v, "cache_read_input_token_cost"),
                cache_write_per_token: num(v, "cache_creation_input_token_cost"),
                cache_write_1h_per_token: num(v, "cache_creation_input_token_cost_above_1hr"),
                reasoning_per_token: num(v, "output_cost_per_reasoning_token"),
            };
            if price.validate(key).is_err() {
                t.skipped += 1;
                continue;
            }
            let raw_provider = v.get("litellm_provider").and_then(Value::as_str).unwrap_or("");
            let model = key
                .strip_prefix(provider)
                .or_else(|| key.strip_prefix(raw_provider))
                .and_then(|k| k.strip_prefix('/'))
                .unwrap_or(key);
            t.by_provider
                .entry(provider.to_owned())
                .or_default()
                .insert(model.to_owned(), price);
            // Only first-party ids (no prefix) answer provider-agnostic lookups.
            if !key.contains('/') {
                t.by_model.insert(model.to_owned(), price);
            }
        }
        Ok(t)
    }

    /// The price for `provider`'s `model`, if known.
    pub fn lookup(&self, provider: &str, model: &str) -> Option<&ModelPrice> {
        let candidates = candidates(provider, model);
        if let Some(models) = self.by_provider.get(provider) {
            for c in candidates.iter().flatten() {
                if let Some(p) = models.get(*c) {
                    return Some(p);
                }
            }
        }
        candidates.iter().flatten().find_map(|c| self.by_model.get(*c))
    }

    /// The cost of `usage` on `provider`'s `model`, or `None` when unpriced.
    pub fn cost(&self, provider: &str, model: &str, usage: &Usage) -> Option<f64> {
        self.lookup(provider, model).map(|p| p.cost(usage))
    }

    /// How many models have a price.
    pub fn len(&self) -> usize {
        self.by_provider.values().map(HashMap::len).sum()
    }

    /// True when no model has a price.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Entries skipped while loading (no token prices, or invalid ones).
    pub fn skipped(&self) -> usize {
        self.skipped
    }
}

impl From<Price> for ModelPrice {
    fn from(p: Price) -> Self {
        let t = |v: f64| v / 1e6;
        Self {
            input_per_token: t(p.input),
            output_per_token: t(p.output),
            cache_read_per_token: p.cache_read.map(t),
            cache_write_per_token: p.cache_write_5m.map(t),
            cache_write_1h_per_token: p.cache_write_1h.map(t),
            reasoning_per_token: p.reasoning.map(t),
        }
    }
}

impl From<ModelPrice> for Price {
    fn from(p: ModelPrice) -> Self {
        p.to_price()
    }
}

/// The table is the workspace's price book: budgets, the router and the
/// loop's cost limit read the same prices the metrics charge.
///
/// ```
/// use toolplane_core::PriceBook;
/// use toolplane_metrics::PricingTable;
/// let book = PricingTable::builtin();
/// let p = book.price("anthropic", "claude-sonnet-4-5-20250929").unwrap();
/// assert!(p.input > 0.0); // USD per million tokens
/// assert!(book.price("acme", "mystery-model").is_none());
/// ```
impl PriceBook for PricingTable {
    fn price(&self, provider: &str, model: &str) -> Option<Price> {
        self.lookup(provider, model).map(ModelPrice::to_price)
    }
}

fn num(v: &Value, field: &str) -> Option<f64> {
    v.get(field).and_then(Value::as_f64)
}

/// Model ids to try: as given, without `provider/`, without a date suffix.
fn candidates<'a>(provider: &str, model: &'a str) -> [Option<&'a str>; 4] {
    let unprefixed = model
        .strip_prefix(provider)
        .and_then(|m| m.strip_prefix('/'))
        .filter(|m| !m.is_empty());
    let base = unprefixed.unwrap_or(model);
    let undated = strip_date(base);
    [Some(model), unprefixed, undated, undated.and_then(strip_date)]
}

/// `gpt-5-2025-08-07` → `gpt-5`; `claude-haiku-4-5-20251001` → `claude-haiku-4-5`.
fn strip_date(model: &str) -> Option<&str> {
    let bytes = model.as_bytes();
    let digits = |s: &[u8]| s.iter().all(u8::is_ascii_digit);
    let n = bytes.len();
    // -YYYY-MM-DD
    if n > 11 && bytes[n - 11] == b'-' && bytes[n - 6] == b'-' && bytes[n - 3] == b'-' {
        let (y, m, d) = (&bytes[n - 10..n - 6], &bytes[n - 5..n - 3], &bytes[n - 2..]);
        if digits(y) && digits(m) && digits(d) {
            return model.get(..n - 11);
        }
    }
    // -YYYYMMDD
    if n > 9 && bytes[n - 9] == b'-' && digits(&bytes[n - 8..]) && bytes[n - 8] == b'2' {
        return model.get(..n - 9);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_suffixes_are_stripped() {
        assert_eq!(strip_date("gpt-5-2025-08-07"), Some("gpt-5"));
        assert_eq!(strip_date("claude-haiku-4-5-20251001"), Some("claude-haiku-4-5"));
        assert_eq!(strip_date("command-a-03-2025"), None);
        assert_eq!(strip_date("gpt-4o"), None);
        assert_eq!(strip_date(""), None);
    }
}
