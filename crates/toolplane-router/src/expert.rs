//! Experts: a provider, one of its models, what it can do and what it costs.

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use toolplane_core::{ChatProvider, ExpertKey, ProviderCapabilities};

/// Prices in USD per 1,000 tokens.
///
/// ```
/// use toolplane_router::Pricing;
/// let p = Pricing::new(0.003, 0.015);
/// assert!((p.estimate(1000, 1000) - 0.018).abs() < 1e-12);
/// assert!((p.blended_per_1k() - 0.006).abs() < 1e-12);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Pricing {
    /// USD per 1,000 input tokens.
    pub input_per_1k: f64,
    /// USD per 1,000 output tokens.
    pub output_per_1k: f64,
}

impl Pricing {
    /// Prices per 1,000 input and output tokens.
    pub fn new(input_per_1k: f64, output_per_1k: f64) -> Self {
        Self {
            input_per_1k,
            output_per_1k,
        }
    }

    /// The cost of a call with these token counts.
    pub fn estimate(&self, input_tokens: u64, output_tokens: u64) -> f64 {
        (input_tokens as f64 * self.input_per_1k + output_tokens as f64 * self.output_per_1k) / 1000.0
    }

    /// One price per 1,000 tokens for ranking, at three input tokens for one
    /// output token (the usual blend of price lists).
    pub fn blended_per_1k(&self) -> f64 {
        (3.0 * self.input_per_1k + self.output_per_1k) / 4.0
    }
}

/// One expert the router can send a request to.
///
/// The id names it in decisions, rules and errors (default
/// `provider/model`); the key names it to the statistics source.
///
/// ```
/// use std::sync::Arc;
/// use toolplane_core::ScriptedProvider;
/// use toolplane_router::Expert;
/// let e = Expert::new(Arc::new(ScriptedProvider::new("openai")), "gpt-4o-mini")
///     .with_pricing(0.00015, 0.0006)
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
    /// What it costs.
    pub pricing: Pricing,
    /// Order for the static strategy: lower goes first.
    pub priority: i32,
    /// Most USD this router may spend on this expert, if limited.
    pub budget_usd: Option<f64>,
}

impl Expert {
    /// An expert for `model` on `provider`, with the provider's capabilities,
    /// no prices, priority 0 and no budget.
    pub fn new(provider: Arc<dyn ChatProvider>, model: impl Into<String>) -> Self {
        let model = model.into();
        let key = ExpertKey::new(provider.name(), model);
        Self {
            id: format!("{}/{}", key.provider, key.model),
            capabilities: provider.capabilities(),
            key,
            provider,
            pricing: Pricing::default(),
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

    /// Sets the prices per 1,000 input and output tokens.
    pub fn with_pricing(mut self, input_per_1k: f64, output_per_1k: f64) -> Self {
        self.pricing = Pricing::new(input_per_1k, output_per_1k);
        self
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
            .field("pricing", &self.pricing)
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
    pub(crate) input_per_1k: f64,
    pub(crate) output_per_1k: f64,
    pub(crate) blended_per_1k: f64,
}

impl Hot {
    pub(crate) fn new(e: &Expert) -> Self {
        Self {
            tools: e.capabilities.tools,
            streaming: e.capabilities.streaming,
            max_context: e.capabilities.max_context_tokens.unwrap_or(u64::MAX),
            budget: e.budget_usd.unwrap_or(f64::INFINITY),
            input_per_1k: e.pricing.input_per_1k,
            output_per_1k: e.pricing.output_per_1k,
            blended_per_1k: e.pricing.blended_per_1k(),
        }
    }
}
