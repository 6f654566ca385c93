//! The toolplane agent loop and declarative pipelines.
//!
//! # Who should depend on this crate
//!
//! Applications that let a model use tools: this crate sends the
//! conversation, runs the model's tool calls (in parallel, results in call
//! order), feeds the results back and repeats until the model answers or a
//! limit stops it. It composes the other toolplane crates through core
//! traits: any [`ChatProvider`](toolplane_core::ChatProvider) (one provider,
//! an intercepted one, or the router), any [`ToolExecutor`] (the registry's
//! validating [`Executor`](toolplane_registry::Executor), usually; wrapped by
//! [`FilteredExecutor`] to limit a step to some tools and by
//! [`SkillExecutor`] to add skills; or your own), tool interceptors
//! (permissions from toolplane-security pause the run for approval), and skills.
//!
//! - [`AgentLoop`]: the loop, with step/token/cost limits, a repair budget for
//!   invalid arguments, deadline and cancellation, run events, and approvals
//!   that pause into a serializable [`RunState`] and resume, also in another process.
//! - [`Pipeline`]: named steps (prompt, tool, transform, branch, map) defined
//!   in code or loaded from YAML/TOML, with per-step timeouts, retries and
//!   budgets, and a [`RunReport`].
//!
//! The spec-to-GitHub sample application (a markdown spec becomes labels, a
//! milestone and issues, idempotently) is built on this crate as the example
//! `cargo run -p toolplane-pipeline --example spec_to_github`; it is not part
//! of the library.
//!
//! The user guide, with the pipeline file reference, is `docs/pipeline.md` in
//! the repository.
//!
//! # Example
//!
//! ```no_run
//! use std::collections::HashMap;
//! use std::sync::Arc;
//! use toolplane_core::{ApprovalToken, CallContext, ChatRequest, Message, ScriptedProvider};
//! use toolplane_pipeline::{AgentLoop, ApprovalDecision, RunOutcome, RunState};
//! use toolplane_registry::Executor;
//!
//! # async fn demo(tools: Executor) -> Result<(), Box<dyn std::error::Error>> {
//! let agent = AgentLoop::new(Arc::new(ScriptedProvider::new("demo")), Arc::new(tools));
//! let state = RunState::new("run-1", ChatRequest::new("gpt-4o-mini", vec![Message::user("Close issue 7")]));
//! let ctx = CallContext::new("req-1");
//! let result = agent.run(state, &ctx).await?;
//! if let RunOutcome::NeedsApproval(pending) = &result.outcome {
//!     // Store the state anywhere, ask a human, come back later, maybe in another process.
//!     let saved = result.state.to_json()?;
//!     let state = RunState::from_json(&saved)?;
//!     let decisions: HashMap<_, _> = pending
//!         .iter()
//!         .map(|p| (p.call.id.clone(), ApprovalDecision::Approve { token: ApprovalToken("from-the-policy".into()) }))
//!         .collect();
//!     let done = agent.resume(state, &decisions, &ctx).await?;
//!     println!("{:?}", done.answer());
//! }
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]

mod agent;
mod declarative;
mod filtered;
mod skilled;
mod structured;
mod toolbox;

#[allow(deprecated)]
pub use agent::FlatPricing;
pub use agent::{
    AgentLoop, ApprovalDecision, ApprovalDetails, EventSink, LoopConfig, PendingApproval, PendingTurn,
    RESULT_PREVIEW_MAX_BYTES, RUN_STATE_VERSION, RunError, RunErrorKind, RunEvent, RunHandle, RunOutcome, RunResult,
    RunState, StopCause,
};
pub use declarative::{
    BranchStep, Budget, Condition, MapStep, Pipeline, PipelineDef, PipelineError, PipelineRun, PipelineRuntime,
    PromptStep, RunReport, StepDef, StepKind, StepOptions, StepReport, StepStatus, ToolStep, TransformFn,
    TransformStep,
};
pub use filtered::FilteredExecutor;
pub use skilled::SkillExecutor;
pub use structured::{StructuredError, extract_json, structured_answer, structured_answer_after};
#[allow(deprecated)]
pub use toolbox::{DEFAULT_MAX_ARGUMENT_BYTES, ToolBox, ToolBoxError};
/// The contract the loop runs tools through; defined in toolplane-core
/// (re-exported here, where it used to live).
pub use toolplane_core::ToolExecutor;

/// `docs/pipeline.md`, whose complete examples are compiled and run as doctests.
#[doc = include_str!("../../../docs/pipeline.md")]
#[cfg(doctest)]
pub struct PipelineGuideDoctests;
