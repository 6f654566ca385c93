//! Experts: a provider, one of its models, what it can do and what it costs.

use std::fmt;
use std::sync::Arc;

use toolplane_core::{ChatProvider, ExpertKey, Price, ProviderCapabilities};

/// One expert the router can send a request to.
///
/// The id names it in decisions, rules and errors (default
/// `provider/model`); the key names it to the statistics source.
///
/// ```
/// use std::sync::Arc;
/// use toolplane_core::{Price, ScriptedProvider};
/// use toolplane_router::Expert;
/// let e = Expert::new(Arc::new(ScriptedProvider::new("openai")), "gpt-4o-mini")
///     .with_price(Price::per_million(0.15, 0.60).with_cache_read(0.075))
///     .with_max_context_tokens(128_000)
///     .with_priority(2);
/// assert_eq!(e.id, "openai/gpt-4o-mini");
/// assert_eq!(e.capabilities.max_context_tokens, Some(128_000));
/// ```
#[derive(Clone)]
pub struct Expert {
    /// The name used in decisions and rules.
    pub id: String,
    /// Provider and model, as the statistics source knows them.
    pub key: ExpertKey,
    /// Who answers.
    pub provider: Arc<dyn ChatProvider>,
    /// What the model can do (tools, streaming, context window).
    pub capabilities: ProviderCapabilities,
    /// What it costs, in USD per million tokens (cache-aware). `None`: the
    /// router's price book decides ([`RouterBuilder::prices`]), else its
    /// default price ([`RouterBuilder::default_price`]), else the expert is
    /// unpriced (never counted as free: a budget removes it).
    ///
    /// [`RouterBuilder::prices`]: crate::RouterBuilder::prices
    /// [`RouterBuilder::default_price`]: crate::RouterBuilder::default_price
    pub price: Option<Price>,
    /// Order for the static strategy: lower goes first.
    pub priority: i32,
    /// Most USD this router may spend on this expert, if limited.
    pub budget_usd: Option<f64>,
}

impl Expert {
    /// An expert for `model` on `provider`, with the provider's capabilities,
    /// no price of its own, priority 0 and no budget.
    pub fn new(provider: Arc<dyn ChatProvider>, model: impl Into<String>) -> Self {
        let model = model.into();
        let key = ExpertKey::new(provider.name(), model);
        Self {
            id: format!("{}/{}", key.provider, key.model),
            capabilities: provider.capabilities(),
            key,
            provider,
            price: None,
            priority: 0,
            budget_usd: None,
        }
    }

    /// Sets the id.
    pub fn with_id(mut self, id: impl Into<String>) -> Self {
        self.id = id.into();
        self
    }

    /// Sets the capabilities.
    pub fn with_capabilities(mut self, capabilities: ProviderCapabilities) -> Self {
        self.capabilities = capabilities;
        self
    }

    /// Sets the context window in tokens.
    pub fn with_max_context_tokens(mut self, tokens: u64) -> Self {
        self.capabilities.max_context_tokens = Some(tokens);
        self
    }

    /// Sets the price (USD per million tokens), which wins over the router's
    /// price book.
    pub fn with_price(mut self, price: Price) -> Self {
        self.price = Some(price);
        self
    }

    /// Sets the price from USD per **1,000** input and output tokens.
    #[deprecated(
        since = "0.2.0",
        note = "use `with_price(toolplane_core::Price::per_million(..))` (USD per million tokens, cache-aware), \
                or give the router a price book"
    )]
    pub fn with_pricing(self, input_per_1k: f64, output_per_1k: f64) -> Self {
        self.with_price(Price::per_million(input_per_1k * 1000.0, output_per_1k * 1000.0))
    }

    /// Sets the static priority (lower goes first).
    pub fn with_priority(mut self, priority: i32) -> Self {
        self.priority = priority;
        self
    }

    /// Limits what this router spends on this expert.
    pub fn with_budget_usd(mut self, usd: f64) -> Self {
        self.budget_usd = Some(usd);
        self
    }

    /// The model id sent to the provider.
    pub fn model(&self) -> &str {
        &self.key.model
    }
}

impl fmt::Debug for Expert {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Expert")
            .field("id", &self.id)
            .field("key", &self.key)
            .field("provider", &self.provider.name())
            .field("capabilities", &self.capabilities)
            .field("price", &self.price)
            .field("priority", &self.priority)
            .field("budget_usd", &self.budget_usd)
            .finish()
    }
}

/// What the constraints and the cost figure read about an expert, packed
/// together and fixed when the router is built.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Hot {
    pub(crate) tools: bool,
    pub(crate) streaming: bool,
    pub(crate) max_context: u64,
    /// `INFINITY` when the expert has no budget.
    pub(crate) budget: f64,
    /// [`Price::blended_per_1k`] of the resolved price (`None`: unpriced).
    pub(crate) blended_per_1k: Option<f64>,
}

impl Hot {
    pub(crate) fn new(e: &Expert, price: Option<&Price>) -> Self {
        Self {
            tools: e.capabilities.tools,
            streaming: e.capabilities.streaming,
            max_context: e.capabilities.max_context_tokens.unwrap_or(u64::MAX),
            budget: e.budget_usd.unwrap_or(f64::INFINITY),
            blended_per_1k: price.map(Price::blended_per_1k),
        }
    }
}

/// Where an expert's price came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PriceSource {
    /// Set on the expert.
    Expert,
    /// The router's price book knows the provider and model.
    PriceBook,
    /// Neither: the router's default price.
    DefaultPrice,
    /// No price at all.
    Unpriced,
}

impl PriceSource {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Expert => "expert",
            Self::PriceBook => "price_book",
            Self::DefaultPrice => "default_price",
            Self::Unpriced => "unpriced",
        }
    }
}

/// An expert's price as the router resolved it when built.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Priced {
    pub(crate) price: Option<Price>,
    pub(crate) source: PriceSource,
}
