//! Pricing a provider call, for the cost limit and reports: through a core
//! [`PriceBook`], the one price path of the workspace, so the loop charges a
//! call what a budget, the router and the metrics charge it.

use std::sync::Arc;

use toolplane_core::{ChatResponse, Price, PriceBook, Usage};

/// Where the loop's prices come from: a price book (by the response's
/// provider and model), then a default price; otherwise a call is unpriced.
#[derive(Debug, Clone, Default)]
pub(crate) struct Pricer {
    pub(crate) book: Option<Arc<dyn PriceBook>>,
    pub(crate) default: Option<Price>,
}

impl Pricer {
    /// True when nothing can be priced (no book, no default).
    pub(crate) fn is_empty(&self) -> bool {
        self.book.is_none() && self.default.is_none()
    }

    /// The price of `provider`'s `model`: the book's, else the default.
    pub(crate) fn price(&self, provider: &str, model: &str) -> Option<Price> {
        self.book
            .as_ref()
            .and_then(|b| b.price(provider, model))
            .or(self.default)
    }

    /// What `usage` on `provider`'s `model` costs in USD (`None`: unpriced).
    pub(crate) fn cost(&self, provider: &str, model: &str, usage: &Usage) -> Option<f64> {
        self.price(provider, model).map(|p| p.cost(usage))
    }

    /// What a response costs, by the provider and model that answered it.
    pub(crate) fn cost_of(&self, response: &ChatResponse) -> Option<f64> {
        self.cost(&response.provider, &response.model, &response.usage)
    }
}

/// One price for every model, per million tokens.
///
/// Kept for the old `with_cost_model(Arc::new(FlatPricing { .. }))`: pass it
/// to [`AgentLoop::with_default_price`](crate::AgentLoop::with_default_price)
/// instead, or better a [`Price`] with its cache rates.
#[deprecated(
    since = "0.2.0",
    note = "use AgentLoop::with_default_price(toolplane_core::Price::per_million(..)) or with_prices(book)"
)]
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FlatPricing {
    /// Dollars per million input tokens.
    pub input_per_million: f64,
    /// Dollars per million output tokens.
    pub output_per_million: f64,
}

#[allow(deprecated)]
impl From<FlatPricing> for Price {
    fn from(p: FlatPricing) -> Self {
        Price::per_million(p.input_per_million, p.output_per_million)
    }
}
