//! The `routing` event of a server-side run: after each model answer, which
//! expert answered and why (the router's ranking with scores, the experts
//! it excluded, every attempt including fallbacks), with that answer's usage
//! and cost. The run's loop sees a provider; this decorator around it reads
//! the router's dispatch log for the call just made and pushes the event
//! before the loop's own `usage` event for the step.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{Value, json};
use toolplane_core::{
    CallContext, ChatProvider, ChatRequest, ChatResponse, ChatStream, ProviderCapabilities, ProviderError,
};

use crate::build::Gateway;
use crate::runs::LiveRun;

/// A run's provider, reporting each answer's routing to the run's events.
#[derive(Debug)]
pub(crate) struct RoutingEvents {
    inner: Arc<dyn ChatProvider>,
    gateway: Arc<Gateway>,
    run: Arc<LiveRun>,
    /// The expert the client named, when it named one (no routing then).
    named: Option<String>,
}

impl RoutingEvents {
    pub(crate) fn new(
        inner: Arc<dyn ChatProvider>,
        gateway: Arc<Gateway>,
        run: Arc<LiveRun>,
        named: Option<String>,
    ) -> Self {
        Self {
            inner,
            gateway,
            run,
            named,
        }
    }

    /// The step the loop announced last.
    fn step(&self) -> Option<u64> {
        let r = self.run.record.lock();
        r.events
            .iter()
            .rev()
            .find(|e| e["type"] == "step_started")
            .and_then(|e| e["step"].as_u64())
    }

    fn report(&self, request: &ChatRequest, ctx: &CallContext, response: Option<&ChatResponse>, streamed: bool) {
        #[allow(deprecated)] // the router files a call under the request's own id when set
        let rid = request.metadata.request_id.as_deref().unwrap_or(&ctx.request_id);
        let dispatch = match &self.named {
            Some(_) => None,
            None => self
                .gateway
                .router
                .recent_dispatches()
                .into_iter()
                .rev()
                .find(|d| d.request_id == rid && d.streamed == streamed),
        };
        let gw = &self.gateway;
        let expert = match (response, &dispatch, &self.named) {
            (_, _, Some(named)) => Some(named.clone()),
            (_, Some(d), _) if d.answered_by.is_some() => d.answered_by.clone(),
            (Some(r), _, _) => gw.expert_for(&r.provider, &r.model).map(|e| e.id.clone()),
            _ => None,
        };
        let (usage, cost) = match response {
            Some(r) => (
                serde_json::to_value(r.usage).unwrap_or(Value::Null),
                json!(gw.metrics.pricing().cost(&r.provider, &r.model, &r.usage)),
            ),
            None => (Value::Null, Value::Null),
        };
        let mut event = json!({
            "type": "routing",
            "step": self.step(),
            "expert": expert,
            "provider": response.map(|r| r.provider.clone()),
            "model": response.map(|r| r.model.clone()),
            "routed": self.named.is_none(),
            "usage": usage,
            "cost_usd": cost,
        });
        if let Some(d) = dispatch {
            let fallbacks: Vec<&str> = d
                .attempts
                .iter()
                .filter(|a| a.outcome != "ok")
                .map(|a| a.expert.as_str())
                .collect();
            event["task_type"] = json!(d.task_type);
            event["fallbacks"] = json!(fallbacks);
            event["candidates"] = json!(d.ranked);
            event["excluded"] = json!(
                d.excluded
                    .iter()
                    .map(|(e, why)| json!({"expert": e, "reason": why}))
                    .collect::<Vec<_>>()
            );
            event["attempts"] = json!(d.attempts);
        }
        self.run.push(event);
    }
}

#[async_trait]
impl ChatProvider for RoutingEvents {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn capabilities(&self) -> ProviderCapabilities {
        self.inner.capabilities()
    }

    async fn chat(&self, request: &ChatRequest, ctx: &CallContext) -> Result<ChatResponse, ProviderError> {
        let response = self.inner.chat(request, ctx).await?;
        self.report(request, ctx, Some(&response), false);
        Ok(response)
    }

    /// Reported when the stream opens (usage is then not known; the loop's
    /// `usage` event follows at its end).
    async fn chat_stream(&self, request: &ChatRequest, ctx: &CallContext) -> Result<ChatStream, ProviderError> {
        let stream = self.inner.chat_stream(request, ctx).await?;
        self.report(request, ctx, None, true);
        Ok(stream)
    }
}
