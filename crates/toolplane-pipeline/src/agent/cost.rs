//! Pricing a provider call, for cost budgets.

use std::fmt;

use toolplane_core::ChatResponse;

/// Prices one response in US dollars. The metrics crate's pricing table can
/// implement it; [`FlatPricing`] is the simple case.
pub trait CostModel: Send + Sync + fmt::Debug {
    /// The cost of `response`, or `None` when the model is unknown (counted as zero).
    fn cost_usd(&self, response: &ChatResponse) -> Option<f64>;
}

/// One price for every model, per million tokens.
///
/// ```
/// use toolplane_core::{ChatResponse, Message, StopReason, Usage};
/// use toolplane_pipeline::{CostModel, FlatPricing};
/// let p = FlatPricing { input_per_million: 2.0, output_per_million: 8.0 };
/// let r = ChatResponse::new("p", "m", Message::assistant("hi"), StopReason::EndTurn)
///     .with_usage(Usage { input_tokens: 1_000_000, output_tokens: 500_000, ..Default::default() });
/// assert_eq!(p.cost_usd(&r), Some(6.0));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FlatPricing {
    /// Dollars per million input tokens.
    pub input_per_million: f64,
    /// Dollars per million output tokens.
    pub output_per_million: f64,
}

impl CostModel for FlatPricing {
    fn cost_usd(&self, response: &ChatResponse) -> Option<f64> {
        let u = &response.usage;
        Some((u.input_tokens as f64 * self.input_per_million + u.output_tokens as f64 * self.output_per_million) / 1e6)
    }
}
