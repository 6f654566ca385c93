//! Charging a prompt step's provider calls as they happen, so that an
//! attempt cut off by its timeout (or a cancellation) is still charged.
//!
//! Every call that answers is charged its reported usage and price when the
//! loop reports it; a call still in flight when the attempt is dropped is
//! charged its estimated input tokens (`ChatRequest::estimated_input_tokens`),
//! at the price of the step's provider and the request's model (nothing when
//! that is unpriced), and counts as a provider call.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use toolplane_core::{
    CallContext, ChatProvider, ChatRequest, ChatResponse, ChatStream, ProviderCapabilities, ProviderError, Usage,
    async_trait,
};

use super::ledger::{Ledger, Spent};
use crate::agent::Pricer;
use crate::{EventSink, RunEvent};

/// Charges one prompt attempt's provider calls to its step's ledger.
#[derive(Debug)]
pub(super) struct Meter {
    ledger: Arc<Ledger>,
    prices: Pricer,
    state: Mutex<MeterState>,
}

#[derive(Debug)]
struct MeterState {
    /// The run's cost so far as the loop reports it (a resumed run starts above zero).
    run_cost: f64,
    /// The estimate of the call on its way, until it answers or fails.
    in_flight: Option<Spent>,
}

impl Meter {
    pub(super) fn new(ledger: Arc<Ledger>, prices: Pricer, run_cost: f64) -> Arc<Self> {
        Arc::new(Self {
            ledger,
            prices,
            state: Mutex::new(MeterState {
                run_cost,
                in_flight: None,
            }),
        })
    }

    fn state(&self) -> MutexGuard<'_, MeterState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn begin(&self, provider: &str, request: &ChatRequest) {
        let usage = Usage {
            input_tokens: request.estimated_input_tokens(),
            ..Usage::default()
        };
        let cost_usd = self.prices.cost(provider, &request.model, &usage).unwrap_or(0.0);
        self.state().in_flight = Some(Spent {
            usage,
            cost_usd,
            calls: 1,
        });
    }

    /// A call that failed: providers do not bill refused requests.
    fn abandon(&self) {
        self.state().in_flight = None;
    }

    /// Charges the call in flight, if any, at its estimate.
    fn settle(&self) {
        let in_flight = self.state().in_flight.take();
        if let Some(spent) = in_flight {
            self.ledger.charge(&spent);
        }
    }
}

impl EventSink for Meter {
    fn emit(&self, event: RunEvent) {
        if let RunEvent::Usage { usage, cost_usd, .. } = event {
            let cost = {
                let mut state = self.state();
                state.in_flight = None;
                let cost = (cost_usd - state.run_cost).max(0.0);
                state.run_cost = cost_usd;
                cost
            };
            self.ledger.charge(&Spent {
                usage,
                cost_usd: cost,
                calls: 1,
            });
        }
    }
}

/// Settles the meter when the attempt ends, however it ends (a timeout drops it).
#[derive(Debug)]
pub(super) struct SettleOnDrop(pub(super) Arc<Meter>);

impl Drop for SettleOnDrop {
    fn drop(&mut self) {
        self.0.settle();
    }
}

/// The step's provider, telling the meter when a call leaves and whether it failed.
#[derive(Debug)]
pub(super) struct MeteredProvider {
    pub(super) inner: Arc<dyn ChatProvider>,
    pub(super) meter: Arc<Meter>,
}

#[async_trait]
impl ChatProvider for MeteredProvider {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn capabilities(&self) -> ProviderCapabilities {
        self.inner.capabilities()
    }

    async fn chat(&self, request: &ChatRequest, ctx: &CallContext) -> Result<ChatResponse, ProviderError> {
        self.meter.begin(self.inner.name(), request);
        let result = self.inner.chat(request, ctx).await;
        if result.is_err() {
            self.meter.abandon();
        }
        result
    }

    async fn chat_stream(&self, request: &ChatRequest, ctx: &CallContext) -> Result<ChatStream, ProviderError> {
        self.meter.begin(self.inner.name(), request);
        let result = self.inner.chat_stream(request, ctx).await;
        if result.is_err() {
            self.meter.abandon();
        }
        result
    }
}
