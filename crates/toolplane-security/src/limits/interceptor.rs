//! Limits as interceptors on the tool and chat chains.

use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use async_trait::async_trait;
use futures_core::Stream;
use serde::{Deserialize, Serialize};
use toolplane_core::{
    CallContext, ChatInterceptor, ChatNext, ChatRequest, ChatResponse, ChatStream, Price, PriceBook, ProviderError,
    StaticPrices, StreamEvent, ToolError, ToolInterceptor, ToolInvocation, ToolNext, ToolOutput, Usage,
};

use super::{Amount, Budget, LimitError, RateKey, RateLimit, ReserveOutcome};

/// Rate-limits tool calls (keyed by principal and tool) and chat calls
/// (keyed by principal and provider). Which parts form the key is
/// configurable; each call costs one cell.
///
/// A refused tool call fails with `rate_limited` and a retry-after; a chat
/// call with a provider error of kind `rate_limited`. A cost above the burst
/// fails at once as a permanent error.
#[derive(Debug, Clone)]
pub struct RateLimitInterceptor {
    limiter: Arc<dyn RateLimit>,
    by_principal: bool,
    by_name: bool,
    cost: u32,
}

impl RateLimitInterceptor {
    /// Limits per (principal, tool or provider).
    pub fn new(limiter: Arc<dyn RateLimit>) -> Self {
        Self {
            limiter,
            by_principal: true,
            by_name: true,
            cost: 1,
        }
    }

    /// Chooses the key: by principal, by tool/provider name, both, or
    /// neither (one global limit).
    pub fn keyed_by(mut self, principal: bool, tool_or_provider: bool) -> Self {
        self.by_principal = principal;
        self.by_name = tool_or_provider;
        self
    }

    /// Sets the cost of one call.
    pub fn with_cost(mut self, cost: u32) -> Self {
        self.cost = cost;
        self
    }

    /// Charges one chat call to `provider`, refusing it with a provider error.
    async fn admit_chat(&self, ctx: &CallContext, provider: &str) -> Result<(), ProviderError> {
        let key = RateKey {
            principal: self.by_principal.then(|| ctx.principal_id()),
            tool: None,
            provider: self.by_name.then_some(provider),
        };
        self.limiter.check(&key, self.cost).await.map_err(|e| {
            e.trace_refusal();
            e.to_provider_error(provider)
        })
    }
}

#[async_trait]
impl ToolInterceptor for RateLimitInterceptor {
    async fn intercept(
        &self,
        inv: &ToolInvocation<'_>,
        ctx: &CallContext,
        next: ToolNext<'_>,
    ) -> Result<ToolOutput, ToolError> {
        let key = RateKey {
            principal: self.by_principal.then(|| ctx.principal_id()),
            tool: self.by_name.then_some(inv.spec.name.as_str()),
            provider: None,
        };
        self.limiter.check(&key, self.cost).await.map_err(|e| {
            e.trace_refusal();
            e.to_tool_error()
        })?;
        next.run(inv, ctx).await
    }
}

#[async_trait]
impl ChatInterceptor for RateLimitInterceptor {
    async fn chat(
        &self,
        req: &ChatRequest,
        ctx: &CallContext,
        next: ChatNext<'_>,
    ) -> Result<ChatResponse, ProviderError> {
        self.admit_chat(ctx, next.provider().name()).await?;
        next.chat(req, ctx).await
    }

    async fn chat_stream(
        &self,
        req: &ChatRequest,
        ctx: &CallContext,
        next: ChatNext<'_>,
    ) -> Result<ChatStream, ProviderError> {
        self.admit_chat(ctx, next.provider().name()).await?;
        next.chat_stream(req, ctx).await
    }
}

/// A reservation that is settled or released exactly once; released if dropped.
struct Held {
    budget: Option<Arc<dyn Budget>>,
    id: String,
    reserved: Amount,
    input_estimate: u64,
}

impl Held {
    async fn settle(mut self, actual: Amount) {
        if let Some(b) = self.budget.take() {
            let _ = b.settle(&self.id, actual).await;
        }
    }

    async fn release(mut self) {
        if let Some(b) = self.budget.take() {
            let _ = b.release(&self.id).await;
        }
    }

    fn finish_detached(&mut self, actual: Option<Amount>) {
        if let Some(b) = self.budget.take() {
            let id = std::mem::take(&mut self.id);
            if let Ok(h) = tokio::runtime::Handle::try_current() {
                h.spawn(async move {
                    let _ = match actual {
                        Some(a) => b.settle(&id, a).await,
                        None => b.release(&id).await,
                    };
                });
            }
        }
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        // Cancelled (the future or stream was dropped): give the reservation back.
        self.finish_detached(None);
    }
}

/// Where the price a budget charged came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PriceSource {
    /// The price book knows the model.
    PriceBook,
    /// The model is unpriced; the configured default price was charged.
    DefaultPrice,
    /// The model is unpriced and the budget limits tokens only, so no cost
    /// was counted (no cost limit could be bypassed).
    TokensOnly,
}

impl PriceSource {
    /// `price_book`, `default_price` or `tokens_only`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PriceBook => "price_book",
            Self::DefaultPrice => "default_price",
            Self::TokensOnly => "tokens_only",
        }
    }
}

/// What a [`BudgetInterceptor`] decided before a call: the reservation it
/// made and where the price came from. Passed to the hook set with
/// [`BudgetInterceptor::on_decision`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BudgetDecision {
    /// The reservation id (`<request id>#<128 random bits, hex>`).
    pub reservation_id: String,
    /// The provider the call goes to.
    pub provider: String,
    /// The request's model.
    pub model: String,
    /// Where the price came from.
    pub price_source: PriceSource,
    /// The price charged, USD per million tokens (`None` for tokens only).
    pub price: Option<Price>,
    /// What was reserved.
    pub reserved: Amount,
}

type DecisionHook = Arc<dyn Fn(&BudgetDecision) + Send + Sync>;

/// Token and cost budgets on the chat chain.
///
/// Before each call it reserves (estimated input + `max_tokens`) tokens and
/// their price; after the call it settles with the provider's reported
/// usage (or keeps the reservation when none is reported); on an error
/// before any output reached the caller, or when the call is cancelled (its
/// future or stream dropped), it releases the reservation. A stream that
/// fails after output was delivered is charged for what was delivered (the
/// reported usage, or the estimated input plus the delivered output at four
/// bytes a token).
///
/// Prices come from a [`PriceBook`] (the metrics `PricingTable`, or a
/// [`StaticPrices`]), by provider and model. A model the book does not know
/// is **never charged $0** when the budget limits cost: the call is refused
/// unless a default price is set with
/// [`with_default_price`](Self::with_default_price), and the
/// [`BudgetDecision`] says which ([`PriceSource`]).
///
/// Each call reserves under its own id, `<request id>#<128 random bits>`,
/// unique across interceptors, processes and restarts; a reservation that
/// does not come back `Reserved` refuses the call, so a shared request id
/// can never pass without reserving.
///
/// A refusal is a provider error of kind `quota_exceeded`, with a
/// retry-after until the period ends, or without one when the call alone
/// exceeds the budget or the model is unpriced.
///
/// ```
/// use std::sync::Arc;
/// use toolplane_core::{Price, StaticPrices};
/// use toolplane_security::limits::{BudgetInterceptor, BudgetRule, LocalBudget, Period};
/// let budget = Arc::new(LocalBudget::new(vec![BudgetRule::cost_per_team(Period::Day, 5_000_000)]));
/// let prices = StaticPrices::new().with("openai", "gpt-4o", Price::per_million(2.5, 10.0));
/// let interceptor = BudgetInterceptor::new(budget)
///     .with_prices(Arc::new(prices))
///     .with_default_price(Price::per_million(15.0, 75.0)); // or leave unset to refuse unpriced models
/// # let _ = interceptor;
/// ```
pub struct BudgetInterceptor {
    budget: Arc<dyn Budget>,
    prices: Arc<dyn PriceBook>,
    overrides: StaticPrices,
    default_price: Option<Price>,
    default_max_output: u32,
    on_decision: Option<DecisionHook>,
}

impl fmt::Debug for BudgetInterceptor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BudgetInterceptor")
            .field("budget", &self.budget)
            .field("prices", &self.prices)
            .field("overrides", &self.overrides)
            .field("default_price", &self.default_price)
            .field("default_max_output", &self.default_max_output)
            .finish_non_exhaustive()
    }
}

impl BudgetInterceptor {
    /// A budget with an empty price book: token budgets work as they are;
    /// a cost budget refuses every call until prices are set.
    pub fn new(budget: Arc<dyn Budget>) -> Self {
        Self {
            budget,
            prices: Arc::new(StaticPrices::new()),
            overrides: StaticPrices::new(),
            default_price: None,
            default_max_output: 4096,
            on_decision: None,
        }
    }

    /// Reads prices from `book` (by the provider's name and the request's model).
    pub fn with_prices(mut self, book: Arc<dyn PriceBook>) -> Self {
        self.prices = book;
        self
    }

    /// The price of a model under any provider; wins over the price book.
    pub fn with_price(mut self, model: impl Into<String>, price: impl Into<Price>) -> Self {
        self.overrides.insert_any_provider(model, price.into());
        self
    }

    /// The price charged for models the book does not know; without one,
    /// such calls are refused when the budget limits cost.
    pub fn with_default_price(mut self, price: impl Into<Price>) -> Self {
        self.default_price = Some(price.into());
        self
    }

    /// Output tokens reserved when a request sets no `max_tokens` (default 4096).
    pub fn with_default_max_output(mut self, tokens: u32) -> Self {
        self.default_max_output = tokens;
        self
    }

    /// Calls `hook` with each admitted call's [`BudgetDecision`] (for logs,
    /// audit or tests); it runs inline, so keep it short.
    pub fn on_decision(mut self, hook: impl Fn(&BudgetDecision) + Send + Sync + 'static) -> Self {
        self.on_decision = Some(Arc::new(hook));
        self
    }

    /// The price for this call and where it came from, or a refusal.
    fn price(&self, provider: &str, model: &str) -> Result<(Option<Price>, PriceSource), LimitError> {
        if let Some(p) = self
            .overrides
            .price(provider, model)
            .or_else(|| self.prices.price(provider, model))
        {
            return Ok((Some(p), PriceSource::PriceBook));
        }
        if let Some(p) = self.default_price {
            return Ok((Some(p), PriceSource::DefaultPrice));
        }
        if self.budget.counts_cost() {
            return Err(LimitError::Unpriced {
                provider: provider.to_owned(),
                model: model.to_owned(),
            });
        }
        Ok((None, PriceSource::TokensOnly))
    }

    async fn hold(
        &self,
        req: &ChatRequest,
        ctx: &CallContext,
        provider: &str,
    ) -> Result<(Held, Option<Price>), ProviderError> {
        let (price, source) = self.price(provider, &req.model).map_err(|e| {
            e.trace_refusal();
            e.to_provider_error(provider)
        })?;
        let id = format!("{}#{:032x}", ctx.request_id, rand::random::<u128>());
        let input = req.estimated_input_tokens();
        let output = u64::from(req.max_tokens.unwrap_or(self.default_max_output));
        let amount = Amount {
            tokens: input + output,
            cost_micros: price.map_or(0, |p| p.estimate_micros(input, output)),
        };
        let team = ctx.principal.as_ref().and_then(|p| p.team.as_deref());
        let outcome = self
            .budget
            .reserve(&id, ctx.principal_id(), team, amount)
            .await
            .map_err(|e| {
                e.trace_refusal();
                e.to_provider_error(provider)
            })?;
        if outcome != ReserveOutcome::Reserved {
            // Ids are random; a repeat means a broken backend, and admitting
            // without a reservation would bypass the budget.
            let e = LimitError::Unavailable(format!("reservation {id} was not made ({outcome:?}); call refused"));
            e.trace_refusal();
            return Err(e.to_provider_error(provider));
        }
        if let Some(hook) = &self.on_decision {
            hook(&BudgetDecision {
                reservation_id: id.clone(),
                provider: provider.to_owned(),
                model: req.model.clone(),
                price_source: source,
                price,
                reserved: amount,
            });
        }
        Ok((
            Held {
                budget: Some(self.budget.clone()),
                id,
                reserved: amount,
                input_estimate: input,
            },
            price,
        ))
    }
}

fn amount_of(price: Option<&Price>, usage: &Usage) -> Amount {
    Amount {
        tokens: usage.total_tokens(),
        cost_micros: price.map_or(0, |p| p.cost_micros(usage)),
    }
}

fn actual(price: Option<&Price>, usage: Option<&Usage>, reserved: Amount) -> Amount {
    match usage {
        Some(u) if *u != Usage::default() => amount_of(price, u),
        _ => reserved,
    }
}

#[async_trait]
impl ChatInterceptor for BudgetInterceptor {
    async fn chat(
        &self,
        req: &ChatRequest,
        ctx: &CallContext,
        next: ChatNext<'_>,
    ) -> Result<ChatResponse, ProviderError> {
        let (held, price) = self.hold(req, ctx, next.provider().name()).await?;
        match next.chat(req, ctx).await {
            Ok(resp) => {
                let a = actual(price.as_ref(), Some(&resp.usage), held.reserved);
                held.settle(a).await;
                Ok(resp)
            }
            Err(e) => {
                held.release().await;
                Err(e)
            }
        }
    }

    async fn chat_stream(
        &self,
        req: &ChatRequest,
        ctx: &CallContext,
        next: ChatNext<'_>,
    ) -> Result<ChatStream, ProviderError> {
        let (held, price) = self.hold(req, ctx, next.provider().name()).await?;
        match next.chat_stream(req, ctx).await {
            Ok(inner) => Ok(Box::pin(BudgetStream {
                inner,
                held: Some(held),
                usage: None,
                delivered_bytes: 0,
                price,
            })),
            Err(e) => {
                held.release().await;
                Err(e)
            }
        }
    }
}

/// Settles when the stream ends; on an error, charges what was delivered
/// (or releases when nothing was); releases when dropped early.
struct BudgetStream {
    inner: ChatStream,
    held: Option<Held>,
    usage: Option<Usage>,
    delivered_bytes: u64,
    price: Option<Price>,
}

impl BudgetStream {
    /// What the caller received so far, when anything.
    fn delivered(&self, held: &Held) -> Option<Amount> {
        if let Some(u) = self.usage.filter(|u| *u != Usage::default()) {
            return Some(amount_of(self.price.as_ref(), &u));
        }
        if self.delivered_bytes == 0 {
            return None;
        }
        let usage = Usage {
            input_tokens: held.input_estimate,
            output_tokens: self.delivered_bytes.div_ceil(4),
            ..Usage::default()
        };
        Some(amount_of(self.price.as_ref(), &usage))
    }
}

fn output_bytes(event: &StreamEvent) -> usize {
    match event {
        StreamEvent::TextDelta { text } | StreamEvent::RefusalDelta { text } | StreamEvent::ThinkingDelta { text } => {
            text.len()
        }
        StreamEvent::ToolCallStart { name, .. } => name.len(),
        StreamEvent::ToolCallDelta { fragment, .. } => fragment.len(),
        _ => 0,
    }
}

impl Stream for BudgetStream {
    type Item = Result<StreamEvent, ProviderError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        let next = this.inner.as_mut().poll_next(cx);
        match &next {
            Poll::Ready(Some(Ok(StreamEvent::Usage { usage }))) => this.usage = Some(*usage),
            Poll::Ready(Some(Ok(event))) => this.delivered_bytes += output_bytes(event) as u64,
            Poll::Ready(Some(Err(_))) => {
                if let Some(mut h) = this.held.take() {
                    let charge = this.delivered(&h);
                    h.finish_detached(charge);
                }
            }
            Poll::Ready(None) => {
                if let Some(mut h) = this.held.take() {
                    let a = actual(this.price.as_ref(), this.usage.as_ref(), h.reserved);
                    h.finish_detached(Some(a));
                }
            }
            _ => {}
        }
        next
    }
}
