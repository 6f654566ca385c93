//! The tool-calling loop.
//!
//! ```text
//!            ┌────────────────────────────── repeat ───────────────────────────────┐
//!  state ──► │ limits? ─► provider.chat(_stream) ─► tool calls? ─no─► Answered      │
//!            │                                        │ yes                          │
//!            │        executor.execute × n (parallel, results in call order)        │
//!            │             │ approval required ─► pause: NeedsApproval(state)        │
//!            │             └► results appended to the conversation ─────────────────┘
//!            └─ step limit, token/cost budget, deadline, cancel ─► Stopped(cause)
//! ```

mod approval;
mod cost;
mod error;
mod events;
mod handle;
mod interrupt;
mod state;
mod trace;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use futures_util::future::Either;
use futures_util::{StreamExt, stream};
use serde::{Deserialize, Serialize};
use toolplane_core::{
    CallContext, ChatInterceptor, ChatProvider, ChatRequest, ChatResponse, InterceptedProvider, Message, Price,
    PriceBook, ProviderError, StopReason, StreamAccumulator, StreamEvent, ToolCall, ToolError, ToolErrorKind,
    ToolOutput, ToolResult, ToolSpec,
};

pub use approval::ApprovalDetails;
#[allow(deprecated)]
pub use cost::FlatPricing;
pub(crate) use cost::Pricer;
pub use error::{RunError, RunErrorKind};
pub use events::{EventSink, RESULT_PREVIEW_MAX_BYTES, RunEvent};
pub use handle::RunHandle;
pub use state::{
    ApprovalDecision, PendingApproval, PendingTurn, RUN_STATE_VERSION, RunOutcome, RunResult, RunState, StopCause,
};

use crate::ToolExecutor;
use interrupt::race;
use tracing::Instrument;

/// Limits and behaviour of a run.
///
/// ```
/// use toolplane_pipeline::LoopConfig;
/// let c = LoopConfig { max_steps: 8, max_total_tokens: Some(50_000), ..LoopConfig::default() };
/// assert_eq!(c.repair_budget, 3);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LoopConfig {
    /// The most provider calls in one run (a resumed run keeps counting). Default 16.
    pub max_steps: u32,
    /// A token budget (input + output, all steps). Before each call the rest
    /// is reserved: the call's `max_tokens` is capped to what is left after
    /// its estimated input, and the run stops when the input alone would not fit.
    pub max_total_tokens: Option<u64>,
    /// Stop before the next provider call once this much is spent, in US
    /// dollars at the prices of [`AgentLoop::with_prices`] (or
    /// [`with_default_price`](AgentLoop::with_default_price)). A call whose
    /// model has no price is never counted as free: the run stops with
    /// [`StopCause::Unpriced`] before the next call (before the first when
    /// no prices are set at all).
    pub max_cost_usd: Option<f64>,
    /// Invalid or unknown tool calls the model may make and repair. Default 3.
    pub repair_budget: u32,
    /// Tool calls of one turn run at once, at most. Default 8.
    pub max_parallel_tools: usize,
    /// Use `chat_stream` and emit text deltas as they arrive. Default false.
    pub stream: bool,
}

impl Default for LoopConfig {
    fn default() -> Self {
        Self {
            max_steps: 16,
            max_total_tokens: None,
            max_cost_usd: None,
            repair_budget: 3,
            max_parallel_tools: 8,
            stream: false,
        }
    }
}

/// The agent loop: a provider (one provider, an intercepted provider or the
/// router), a tool executor, limits, and optionally prices and an event sink.
///
/// ```
/// use std::sync::Arc;
/// use toolplane_core::{CallContext, ChatRequest, Message, ScriptedProvider, ToolCall};
/// use toolplane_pipeline::{AgentLoop, RunOutcome, RunState};
/// use toolplane_registry::Executor;
/// # #[derive(Debug)] struct Now(toolplane_core::ToolSpec);
/// # #[toolplane_core::async_trait]
/// # impl toolplane_core::Tool for Now {
/// #     fn spec(&self) -> &toolplane_core::ToolSpec { &self.0 }
/// #     async fn call(&self, _: &serde_json::Value, _: &CallContext)
/// #         -> Result<toolplane_core::ToolOutput, toolplane_core::ToolError> { Ok(toolplane_core::ToolOutput::text("12:00")) }
/// # }
/// # let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
/// # rt.block_on(async {
/// let provider = Arc::new(ScriptedProvider::new("scripted")
///     .with_tool_calls(vec![ToolCall::new("c1", "now", "{}")])
///     .with_text("It is 12:00."));
/// let tools = Executor::from_tools([Arc::new(Now(toolplane_core::ToolSpec::new("now", "The time."))) as _])?;
/// let agent = AgentLoop::new(provider, Arc::new(tools));
/// let state = RunState::new("run-1", ChatRequest::new("any-model", vec![Message::user("Time?")]));
/// let result = agent.run(state, &CallContext::new("req-1")).await?;
/// assert_eq!(result.answer().as_deref(), Some("It is 12:00."));
/// assert_eq!(result.state.steps, 2);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # }).unwrap();
/// ```
#[derive(Debug, Clone)]
pub struct AgentLoop {
    provider: Arc<dyn ChatProvider>,
    executor: Arc<dyn ToolExecutor>,
    config: LoopConfig,
    prices: Pricer,
    events: Option<Arc<dyn EventSink>>,
    name: Option<String>,
}

impl AgentLoop {
    /// A loop with default limits.
    pub fn new(provider: Arc<dyn ChatProvider>, executor: Arc<dyn ToolExecutor>) -> Self {
        Self {
            provider,
            executor,
            config: LoopConfig::default(),
            prices: Pricer::default(),
            events: None,
            name: None,
        }
    }

    /// Names the agent: its runs' spans become `invoke_agent {name}` with
    /// `gen_ai.agent.name` (unnamed: `invoke_agent`, no name attribute).
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Puts a chat interceptor chain (budgets, metrics, audit) in front of the
    /// provider; the first interceptor runs first.
    pub fn with_chat_interceptors(mut self, chain: Vec<Arc<dyn ChatInterceptor>>) -> Self {
        if !chain.is_empty() {
            self.provider = Arc::new(InterceptedProvider::new(Arc::clone(&self.provider), chain));
        }
        self
    }

    /// Sets the limits.
    pub fn with_config(mut self, config: LoopConfig) -> Self {
        self.config = config;
        self
    }

    /// Prices each response from `book` by the provider and model that
    /// answered it (cache reads and writes at their own rates), for
    /// `max_cost_usd`, the [`RunEvent::Usage`] events and reports. Give it the
    /// book the budgets and the metrics read (the metrics `PricingTable`) and
    /// a call costs the same everywhere.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use toolplane_core::{Price, StaticPrices};
    /// use toolplane_pipeline::{AgentLoop, LoopConfig};
    /// # let provider = Arc::new(toolplane_core::ScriptedProvider::new("openai"));
    /// # let tools = Arc::new(toolplane_registry::Executor::from_tools([]).unwrap());
    /// let book = StaticPrices::new().with("openai", "gpt-4o-mini", Price::per_million(0.15, 0.60).with_cache_read(0.075));
    /// let agent = AgentLoop::new(provider, tools)
    ///     .with_config(LoopConfig { max_cost_usd: Some(0.50), ..LoopConfig::default() })
    ///     .with_prices(Arc::new(book));
    /// # let _ = agent;
    /// ```
    pub fn with_prices(mut self, book: Arc<dyn PriceBook>) -> Self {
        self.prices.book = Some(book);
        self
    }

    /// The price of models the book does not know (of every model, without a
    /// book), USD per million tokens.
    pub fn with_default_price(mut self, price: impl Into<Price>) -> Self {
        self.prices.default = Some(price.into());
        self
    }

    /// Both at once (the declarative runtime hands its prices down).
    pub(crate) fn with_pricer(mut self, prices: Pricer) -> Self {
        self.prices = prices;
        self
    }

    /// Sends run events to `sink`.
    pub fn with_events(mut self, sink: Arc<dyn EventSink>) -> Self {
        self.events = Some(sink);
        self
    }

    /// The limits.
    pub fn config(&self) -> &LoopConfig {
        &self.config
    }

    /// Runs until the model answers, a call needs approval, or a limit stops it.
    ///
    /// # Errors
    /// [`RunError::Provider`] (with the state, to retry), [`RunError::InvalidState`]
    /// when the state is paused (use [`AgentLoop::resume`]).
    ///
    /// The run is traced as an `invoke_agent` span with a `chat {model}` child
    /// per provider call and the executor's `execute_tool` spans (see
    /// `docs/tracing.md`).
    pub async fn run(&self, state: RunState, ctx: &CallContext) -> Result<RunResult, RunError> {
        let span = trace::agent_span(self.name.as_deref(), self.provider.name(), &state, false);
        let result = self.run_untraced(state, ctx).instrument(span.clone()).await;
        trace::record_run(&span, &result);
        result
    }

    async fn run_untraced(&self, state: RunState, ctx: &CallContext) -> Result<RunResult, RunError> {
        if state.pending.is_some() {
            return Err(RunError::InvalidState(
                "the run is paused for approvals; call resume with decisions".into(),
            ));
        }
        state.validate()?;
        self.drive(state, ctx).await
    }

    /// Continues a run: applies `decisions` (by call id) to the calls waiting
    /// for approval, runs the approved ones with their [`ApprovalToken`](toolplane_core::ApprovalToken)
    /// in the context's extensions, tells the model about rejected ones, and
    /// goes on. A run that is not paused (stopped by a limit, say) simply continues.
    ///
    /// # Errors
    /// [`RunError::InvalidDecisions`] when a pending call has no decision or a
    /// decision names a call that is not pending; otherwise as [`AgentLoop::run`].
    ///
    /// Traced as a new `invoke_agent` span carrying `toolplane.run.resumes`
    /// (the run id it continues) and `toolplane.run.resumed_at_step`.
    pub async fn resume(
        &self,
        state: RunState,
        decisions: &HashMap<String, ApprovalDecision>,
        ctx: &CallContext,
    ) -> Result<RunResult, RunError> {
        let span = trace::agent_span(self.name.as_deref(), self.provider.name(), &state, true);
        let result = self
            .resume_untraced(state, decisions, ctx)
            .instrument(span.clone())
            .await;
        trace::record_run(&span, &result);
        result
    }

    async fn resume_untraced(
        &self,
        mut state: RunState,
        decisions: &HashMap<String, ApprovalDecision>,
        ctx: &CallContext,
    ) -> Result<RunResult, RunError> {
        state.validate()?;
        let Some(mut pending) = state.pending.take() else {
            if let Some(id) = decisions.keys().next() {
                return Err(RunError::InvalidDecisions {
                    message: format!("the run is not paused, but a decision names call `{id}`"),
                    state: Box::new(state),
                });
            }
            return self.drive(state, ctx).await;
        };
        let missing: Vec<&str> = pending
            .approvals
            .iter()
            .map(|a| a.call.id.as_str())
            .filter(|id| !decisions.contains_key(*id))
            .collect();
        let unknown: Vec<&str> = decisions
            .keys()
            .map(String::as_str)
            .filter(|id| !pending.approvals.iter().any(|a| a.call.id == *id))
            .collect();
        if !missing.is_empty() || !unknown.is_empty() {
            let mut message = String::new();
            if !missing.is_empty() {
                message.push_str(&format!("no decision for pending call(s) {}", missing.join(", ")));
            }
            if !unknown.is_empty() {
                if !message.is_empty() {
                    message.push_str("; ");
                }
                message.push_str(&format!(
                    "decision(s) for call(s) that are not pending: {}",
                    unknown.join(", ")
                ));
            }
            state.pending = Some(pending);
            return Err(RunError::InvalidDecisions {
                message,
                state: Box::new(state),
            });
        }

        let step = pending.step;
        let approvals = std::mem::take(&mut pending.approvals);
        let mut approved: Vec<(usize, ToolCall, CallContext)> = Vec::new();
        for approval in approvals {
            let Some(index) = pending.calls.iter().position(|c| c.id == approval.call.id) else {
                continue;
            };
            match decisions.get(&approval.call.id) {
                Some(ApprovalDecision::Approve { token }) => {
                    let approved_ctx = ctx.clone().with_extension(token.clone());
                    approved.push((index, approval.call, approved_ctx));
                }
                Some(ApprovalDecision::Reject { reason }) => {
                    pending.results[index] = Some(
                        ToolResult::error(
                            approval.call.id.clone(),
                            format!(
                                "error (permission_denied): a human rejected this call: {reason} Do not retry it; choose another approach."
                            ),
                        )
                        .with_name(approval.call.name.clone()),
                    );
                }
                None => {}
            }
        }
        let outputs = self
            .run_calls(
                step,
                &approved.iter().map(|(_, call, c)| (call, c)).collect::<Vec<_>>(),
                ctx,
            )
            .await;
        let outputs = match outputs {
            Ok(outputs) => outputs,
            Err(cause) => {
                for (index, call, _) in &approved {
                    pending.results[*index] = Some(cancelled_result(call));
                }
                return Ok(self.finish_turn_interrupted(state, pending, cause));
            }
        };
        for ((index, call, _), output) in approved.iter().zip(outputs) {
            state.repairs += u32::from(needs_repair(&output));
            match output {
                Err(e) if e.kind() == ToolErrorKind::ApprovalRequired => {
                    pending.approvals.push(pending_approval(call, &e));
                }
                other => pending.results[*index] = Some(to_result(call, other)),
            }
        }
        if let Some(result) = self.settle_turn(&mut state, pending) {
            return Ok(result);
        }
        self.drive(state, ctx).await
    }

    /// Runs on a spawned task and streams events through a channel. The
    /// loop's own sink, if any, is replaced for this run.
    pub fn spawn(&self, state: RunState, ctx: CallContext) -> RunHandle {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let agent = self.clone().with_events(Arc::new(tx));
        let task = tokio::spawn(async move { agent.run(state, &ctx).await });
        RunHandle { events: rx, task }
    }

    fn emit(&self, make: impl FnOnce() -> RunEvent) {
        if let Some(sink) = &self.events {
            sink.emit(make());
        }
    }

    async fn drive(&self, mut state: RunState, ctx: &CallContext) -> Result<RunResult, RunError> {
        let mut offered: Option<Arc<[ToolSpec]>> = None;
        // Under a cost limit, a call that could not be priced stops the run
        // before the next one; with no prices at all, before the first.
        let cost_limited = self.config.max_cost_usd.is_some();
        let mut unpriced = cost_limited && self.prices.is_empty();
        loop {
            if let Some(cause) = self.limit_reached(&state, ctx) {
                return Ok(self.stopped(state, cause));
            }
            if unpriced {
                return Ok(self.stopped(state, StopCause::Unpriced));
            }
            let specs = self.executor.specs();
            if !offered.as_ref().is_some_and(|o| Arc::ptr_eq(o, &specs)) {
                state.request.tools = specs.to_vec();
                offered = Some(specs);
            }
            // Reserve the rest of the token budget for this call: cap its output
            // so that input + output fit, and do not send a call whose input alone
            // would overrun it.
            let caller_max_tokens = state.request.max_tokens;
            if let Some(max) = self.config.max_total_tokens {
                let left = max.saturating_sub(state.usage.total_tokens());
                let input = state.request.estimated_input_tokens();
                if input >= left {
                    return Ok(self.stopped(state, StopCause::TokenBudget));
                }
                let cap = u32::try_from(left - input).unwrap_or(u32::MAX);
                state.request.max_tokens = Some(caller_max_tokens.map_or(cap, |m| m.min(cap)));
            }
            let step = state.steps + 1;
            self.emit(|| RunEvent::StepStarted { step });
            let outcome = race(self.call_provider(&state.request, ctx, step), ctx).await;
            state.request.max_tokens = caller_max_tokens;
            let response = match outcome {
                Either::Left(Ok(response)) => response,
                Either::Left(Err(source)) => {
                    return Err(RunError::Provider {
                        step,
                        source,
                        state: Box::new(state),
                    });
                }
                Either::Right(cause) => return Ok(self.stopped(state, cause)),
            };
            state.steps = step;
            state.usage.add(&response.usage);
            let step_cost_usd = self.prices.cost_of(&response);
            match step_cost_usd {
                Some(cost) => state.cost_usd += cost,
                None => unpriced = cost_limited,
            }
            self.emit(|| RunEvent::Usage {
                step,
                usage: response.usage,
                total: state.usage,
                cost_usd: state.cost_usd,
                step_cost_usd,
            });
            state.request.messages.push(response.message.clone());
            let calls: Vec<ToolCall> = response.tool_calls().cloned().collect();
            if calls.is_empty() {
                self.emit(|| RunEvent::StepDone {
                    step,
                    stop_reason: response.stop_reason.clone(),
                });
                if response.stop_reason == StopReason::PauseTurn {
                    // The provider paused a long turn; sending the conversation back continues it.
                    continue;
                }
                self.emit(|| RunEvent::Answered { text: response.text() });
                return Ok(RunResult {
                    outcome: RunOutcome::Answered(Box::new(response)),
                    state,
                });
            }
            let outputs = match self
                .run_calls(step, &calls.iter().map(|c| (c, ctx)).collect::<Vec<_>>(), ctx)
                .await
            {
                Ok(outputs) => outputs,
                Err(cause) => {
                    let pending = PendingTurn {
                        step,
                        results: calls.iter().map(|c| Some(cancelled_result(c))).collect(),
                        calls,
                        approvals: Vec::new(),
                    };
                    return Ok(self.finish_turn_interrupted(state, pending, cause));
                }
            };
            let mut pending = PendingTurn {
                step,
                results: Vec::with_capacity(calls.len()),
                calls: Vec::new(),
                approvals: Vec::new(),
            };
            for (call, output) in calls.iter().zip(outputs) {
                state.repairs += u32::from(needs_repair(&output));
                match output {
                    Err(e) if e.kind() == ToolErrorKind::ApprovalRequired => {
                        pending.approvals.push(pending_approval(call, &e));
                        pending.results.push(None);
                    }
                    other => pending.results.push(Some(to_result(call, other))),
                }
            }
            pending.calls = calls;
            if let Some(result) = self.settle_turn(&mut state, pending) {
                return Ok(result);
            }
            if state.repairs > self.config.repair_budget {
                return Ok(self.stopped(state, StopCause::RepairBudget));
            }
        }
    }

    /// Appends a finished turn's results, or parks it when calls wait for approval.
    fn settle_turn(&self, state: &mut RunState, pending: PendingTurn) -> Option<RunResult> {
        if !pending.approvals.is_empty() {
            let approvals = pending.approvals.clone();
            self.emit(|| RunEvent::ApprovalRequired {
                approvals: approvals.clone(),
            });
            state.pending = Some(pending);
            return Some(RunResult {
                outcome: RunOutcome::NeedsApproval(approvals),
                state: state.clone(),
            });
        }
        let mut results = Vec::with_capacity(pending.results.len());
        results.extend(pending.results.into_iter().flatten());
        state.request.messages.push(Message::tool_results(results));
        self.emit(|| RunEvent::StepDone {
            step: state.steps,
            stop_reason: StopReason::ToolUse,
        });
        None
    }

    fn finish_turn_interrupted(&self, mut state: RunState, mut pending: PendingTurn, cause: StopCause) -> RunResult {
        // Calls still waiting for approval are answered as cancelled too, so the
        // conversation stays valid for any provider.
        for approval in std::mem::take(&mut pending.approvals) {
            if let Some(i) = pending.calls.iter().position(|c| c.id == approval.call.id) {
                pending.results[i] = Some(cancelled_result(&approval.call));
            }
        }
        let results: Vec<ToolResult> = pending.results.into_iter().flatten().collect();
        state.request.messages.push(Message::tool_results(results));
        self.stopped(state, cause)
    }

    fn stopped(&self, state: RunState, cause: StopCause) -> RunResult {
        self.emit(|| RunEvent::Stopped { cause });
        RunResult {
            outcome: RunOutcome::Stopped(cause),
            state,
        }
    }

    fn limit_reached(&self, state: &RunState, ctx: &CallContext) -> Option<StopCause> {
        if ctx.cancel.is_cancelled() {
            return Some(StopCause::Cancelled);
        }
        if ctx.is_expired() {
            return Some(StopCause::Deadline);
        }
        if state.steps >= self.config.max_steps {
            return Some(StopCause::StepLimit);
        }
        if self
            .config
            .max_total_tokens
            .is_some_and(|max| state.usage.total_tokens() >= max)
        {
            return Some(StopCause::TokenBudget);
        }
        if self.config.max_cost_usd.is_some_and(|max| state.cost_usd >= max) {
            return Some(StopCause::CostBudget);
        }
        None
    }

    async fn call_provider(
        &self,
        request: &ChatRequest,
        ctx: &CallContext,
        step: u32,
    ) -> Result<ChatResponse, ProviderError> {
        let span = trace::chat_span(self.provider.name(), &request.model, request.max_tokens, step);
        if span.is_disabled() {
            return self.call_provider_untraced(request, ctx, step).await;
        }
        let result = self
            .call_provider_untraced(request, ctx, step)
            .instrument(span.clone())
            .await;
        toolplane_trace::record_chat(&span, &result);
        result
    }

    async fn call_provider_untraced(
        &self,
        request: &ChatRequest,
        ctx: &CallContext,
        step: u32,
    ) -> Result<ChatResponse, ProviderError> {
        if !self.config.stream {
            let response = self.provider.chat(request, ctx).await?;
            if self.events.is_some() {
                let text = response.text();
                if !text.is_empty() {
                    self.emit(|| RunEvent::TextDelta { step, text });
                }
            }
            return Ok(response);
        }
        let mut events = self.provider.chat_stream(request, ctx).await?;
        let mut acc = StreamAccumulator::new(self.provider.name(), request.model.clone());
        while let Some(event) = events.next().await {
            let event = event?;
            if let StreamEvent::TextDelta { text } = &event {
                self.emit(|| RunEvent::TextDelta {
                    step,
                    text: text.clone(),
                });
            }
            acc.push(&event);
        }
        acc.finish()
    }

    /// Runs calls concurrently (bounded), results in the given order; stops
    /// early with the cause when cancelled or out of time.
    async fn run_calls(
        &self,
        step: u32,
        calls: &[(&ToolCall, &CallContext)],
        ctx: &CallContext,
    ) -> Result<Vec<Result<ToolOutput, ToolError>>, StopCause> {
        let mut futures = Vec::with_capacity(calls.len());
        for (call, call_ctx) in calls {
            futures.push(self.run_call(step, call, call_ctx));
        }
        let work = stream::iter(futures)
            .buffered(self.config.max_parallel_tools.max(1))
            .collect::<Vec<_>>();
        match race(work, ctx).await {
            Either::Left(outputs) => Ok(outputs),
            Either::Right(cause) => Err(cause),
        }
    }

    async fn run_call(&self, step: u32, call: &ToolCall, ctx: &CallContext) -> Result<ToolOutput, ToolError> {
        self.emit(|| RunEvent::ToolCallStarted {
            step,
            call: call.clone(),
        });
        let started = Instant::now();
        let output = self.executor.execute(call, ctx).await;
        self.emit(|| {
            let (text, is_error) = match &output {
                Ok(out) => (out.to_model_text(), out.is_error),
                Err(e) => (e.to_model_text(), true),
            };
            let (result, result_truncated) = events::result_preview(text);
            RunEvent::ToolCallFinished {
                step,
                call_id: call.id.clone(),
                name: call.name.clone(),
                outcome: match &output {
                    Ok(_) => "ok".to_string(),
                    Err(e) => e.kind().as_str().to_string(),
                },
                duration_us: u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
                result,
                result_truncated,
                is_error,
            }
        });
        output
    }
}

fn to_result(call: &ToolCall, output: Result<ToolOutput, ToolError>) -> ToolResult {
    let result = match output {
        Ok(out) if out.is_error => ToolResult::error(call.id.clone(), out.to_model_text()),
        Ok(out) => ToolResult::ok(call.id.clone(), out.to_model_text()),
        Err(e) => ToolResult::error(call.id.clone(), e.to_model_text()),
    };
    result.with_name(call.name.clone())
}

/// A call the model must correct: arguments that fail validation, or a tool that does not exist.
fn needs_repair(output: &Result<ToolOutput, ToolError>) -> bool {
    matches!(output, Err(e) if matches!(e.kind(), ToolErrorKind::InvalidArguments | ToolErrorKind::NotFound))
}

fn cancelled_result(call: &ToolCall) -> ToolResult {
    ToolResult::error(
        call.id.clone(),
        "error (cancelled): the run was stopped before this call finished.",
    )
    .with_name(call.name.clone())
}

fn pending_approval(call: &ToolCall, e: &ToolError) -> PendingApproval {
    PendingApproval {
        call: call.clone(),
        message: e.message().to_string(),
        request: e.details().cloned(),
    }
}
