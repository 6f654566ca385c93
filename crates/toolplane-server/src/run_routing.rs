//! The `routing` event of a server-side run: after each model answer, which
//! expert answered and why (the router's ranking with scores, the experts
//! it excluded, every attempt including fallbacks), with that answer's usage
//! and cost. The run's loop sees a provider; this decorator around it reads
//! the router's dispatch log for the call just made and pushes the event
//! before the loop's own `usage` event for the step.

use std::sync::Arc;

use async_trait::async_trait;
use futures_util::StreamExt;
use serde_json::{Value, json};
use toolplane_core::{
    CallContext, ChatProvider, ChatRequest, ChatResponse, ChatStream, ProviderCapabilities, ProviderError, StreamEvent,
    Usage,
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

    fn report(&self, request: &ChatRequest, ctx: &CallContext, response: Option<&ChatResponse>, streamed: bool) {
        #[allow(deprecated)] // the router files a call under the request's own id when set
        let rid = request.metadata.request_id.as_deref().unwrap_or(&ctx.request_id);
        report(&self.gateway, &self.run, self.named.as_deref(), rid, response, streamed);
    }
}

/// Pushes the routing event of one answer (`response`: a whole answer, or a
/// stream's provider, model and usage gathered into one).
fn report(
    gateway: &Gateway,
    run: &LiveRun,
    named: Option<&str>,
    rid: &str,
    response: Option<&ChatResponse>,
    streamed: bool,
) {
    let step = {
        let r = run.record.lock();
        r.events
            .iter()
            .rev()
            .find(|e| e["type"] == "step_started")
            .and_then(|e| e["step"].as_u64())
    };
    {
        let dispatch = match named {
            Some(_) => None,
            None => gateway
                .router
                .recent_dispatches()
                .into_iter()
                .rev()
                .find(|d| d.request_id == rid && d.streamed == streamed),
        };
        let gw = gateway;
        let expert = match (response, &dispatch, named) {
            (_, _, Some(named)) => Some(named.to_owned()),
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
            "step": step,
            "expert": expert,
            "provider": response.map(|r| r.provider.clone())
                .or_else(|| expert.as_deref().and_then(|e| gw.expert(e)).map(|h| h.provider.clone())),
            "model": response.map(|r| r.model.clone())
                .or_else(|| expert.as_deref().and_then(|e| gw.expert(e)).map(|h| h.model.clone())),
            "routed": named.is_none(),
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
        run.push(event);
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

    /// Reported at the stream's stop event, with its usage.
    async fn chat_stream(&self, request: &ChatRequest, ctx: &CallContext) -> Result<ChatStream, ProviderError> {
        let stream = self.inner.chat_stream(request, ctx).await?;
        #[allow(deprecated)] // the router files a call under the request's own id when set
        let rid = request
            .metadata
            .request_id
            .clone()
            .unwrap_or_else(|| ctx.request_id.clone());
        let (gateway, run, named) = (self.gateway.clone(), self.run.clone(), self.named.clone());
        let provider = self.inner.name().to_owned();
        let mut model = request.model.clone();
        let mut usage = Usage::default();
        let mut reported = false;
        // Reported at the stop event, with the stream's usage (before the loop's `usage` event).
        Ok(Box::pin(stream.map(move |item| {
            match &item {
                Ok(StreamEvent::Start { model: Some(m), .. }) => model.clone_from(m),
                Ok(StreamEvent::Usage { usage: u }) => usage = *u,
                Ok(StreamEvent::Stop { .. }) if !reported => {
                    reported = true;
                    let answered = ChatResponse::new(
                        provider.clone(),
                        model.clone(),
                        toolplane_core::Message::assistant(""),
                        toolplane_core::StopReason::EndTurn,
                    )
                    .with_usage(usage);
                    report(&gateway, &run, named.as_deref(), &rid, Some(&answered), true);
                }
                _ => {}
            }
            item
        })))
    }
}
