//! Limits as interceptors on the tool and chat chains.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};

use async_trait::async_trait;
use futures_core::Stream;
use toolplane_core::{
    CallContext, ChatInterceptor, ChatNext, ChatRequest, ChatResponse, ChatStream, ProviderError, StreamEvent,
    ToolError, ToolInterceptor, ToolInvocation, ToolNext, ToolOutput, Usage,
};

use super::{Amount, Budget, Pricing, RateKey, RateLimit};

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
        self.limiter
            .check(&key, self.cost)
            .await
            .map_err(|e| e.to_provider_error(provider))
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
        self.limiter
            .check(&key, self.cost)
            .await
            .map_err(|e| e.to_tool_error())?;
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

/// Token and cost budgets on the chat chain.
///
/// Before each call it reserves (estimated input + `max_tokens`) tokens and
/// their price; after the call it settles with the provider's reported
/// usage (or keeps the reservation when none is reported); on an error, or
/// when the call is cancelled (its future or stream dropped), it releases the
/// reservation. Each call gets its own reservation id
/// (`<request id>#<n>`), so settling happens exactly once per call.
///
/// A refusal is a provider error of kind `quota_exceeded`, with a
/// retry-after until the period ends, or without one when the call alone
/// exceeds the budget.
#[derive(Debug)]
pub struct BudgetInterceptor {
    budget: Arc<dyn Budget>,
    prices: HashMap<String, Pricing>,
    default_price: Pricing,
    default_max_output: u32,
    counter: AtomicU64,
}

impl BudgetInterceptor {
    /// Counts tokens only (price zero) until prices are set.
    pub fn new(budget: Arc<dyn Budget>) -> Self {
        Self {
            budget,
            prices: HashMap::new(),
            default_price: Pricing::default(),
            default_max_output: 4096,
            counter: AtomicU64::new(0),
        }
    }

    /// The price of a model (by the request's `model`).
    pub fn with_price(mut self, model: impl Into<String>, price: Pricing) -> Self {
        self.prices.insert(model.into(), price);
        self
    }

    /// The price of models without their own.
    pub fn with_default_price(mut self, price: Pricing) -> Self {
        self.default_price = price;
        self
    }

    /// Output tokens reserved when a request sets no `max_tokens` (default 4096).
    pub fn with_default_max_output(mut self, tokens: u32) -> Self {
        self.default_max_output = tokens;
        self
    }

    fn price(&self, model: &str) -> Pricing {
        self.prices.get(model).copied().unwrap_or(self.default_price)
    }

    async fn hold(&self, req: &ChatRequest, ctx: &CallContext, provider: &str) -> Result<Held, ProviderError> {
        let id = format!("{}#{}", ctx.request_id, self.counter.fetch_add(1, Ordering::Relaxed));
        let price = self.price(&req.model);
        let input = req.estimated_input_tokens();
        let output = u64::from(req.max_tokens.unwrap_or(self.default_max_output));
        let amount = Amount {
            tokens: input + output,
            cost_micros: price.cost_micros(input, output),
        };
        let team = ctx.principal.as_ref().and_then(|p| p.team.as_deref());
        self.budget
            .reserve(&id, ctx.principal_id(), team, amount)
            .await
            .map_err(|e| e.to_provider_error(provider))?;
        Ok(Held {
            budget: Some(self.budget.clone()),
            id,
            reserved: amount,
        })
    }
}

fn actual(price: &Pricing, usage: Option<&Usage>, reserved: Amount) -> Amount {
    match usage {
        Some(u) if *u != Usage::default() => price.amount(u),
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
        let held = self.hold(req, ctx, next.provider().name()).await?;
        match next.chat(req, ctx).await {
            Ok(resp) => {
                let a = actual(&self.price(&req.model), Some(&resp.usage), held.reserved);
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
        let held = self.hold(req, ctx, next.provider().name()).await?;
        match next.chat_stream(req, ctx).await {
            Ok(inner) => Ok(Box::pin(BudgetStream {
                inner,
                held: Some(held),
                usage: None,
                price: self.price(&req.model),
            })),
            Err(e) => {
                held.release().await;
                Err(e)
            }
        }
    }
}

/// Settles when the stream ends, releases on an error or when dropped early.
struct BudgetStream {
    inner: ChatStream,
    held: Option<Held>,
    usage: Option<Usage>,
    price: Pricing,
}

impl Stream for BudgetStream {
    type Item = Result<StreamEvent, ProviderError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        let next = this.inner.as_mut().poll_next(cx);
        match &next {
            Poll::Ready(Some(Ok(StreamEvent::Usage { usage }))) => this.usage = Some(*usage),
            Poll::Ready(Some(Err(_))) => {
                if let Some(mut h) = this.held.take() {
                    h.finish_detached(None);
                }
            }
            Poll::Ready(None) => {
                if let Some(mut h) = this.held.take() {
                    let a = actual(&this.price, this.usage.as_ref(), h.reserved);
                    h.finish_detached(Some(a));
                }
            }
            _ => {}
        }
        next
    }
}
