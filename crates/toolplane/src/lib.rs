//! toolplane: embeddable Rust libraries for LLM tool calling.
//!
//! # Who should depend on this crate
//!
//! Applications. This facade re-exports the toolplane crates behind features so
//! one dependency line gives the common set, and `full` gives everything.
//! Libraries that only implement a tool, a provider or an interceptor should
//! depend on [`toolplane-core`](core) alone, which changes rarely.
//!
//! | feature | module | what it gives |
//! | --- | --- | --- |
//! | (always) | [`core`] | tools, chat types, providers trait, errors, call context, interceptor chains |
//! | `schemars` (default) | `core::tool_fn` | Rust functions as typed tools with derived schemas |
//! | `pipeline` (default) | `pipeline` | the tool-calling loop, approvals, declarative pipelines |
//! | `skills` (default) | `skills` | skills from `SKILL.md` folders |
//! | `full` | all of the above | |
//!
//! # Guide
//!
//! The path a request takes: a [`ChatProvider`](core::ChatProvider) (one
//! vendor, or the router over several) answers with tool calls; an executor
//! validates each call against the tool's JSON Schema and runs it through
//! the tool interceptor chain (permissions, rate limits, audit); the loop
//! feeds results back until the model answers or a budget stops it.
//!
//! ```
//! # #[cfg(all(feature = "pipeline", feature = "schemars"))] {
//! use std::sync::Arc;
//! use toolplane::prelude::*;
//!
//! #[derive(serde::Deserialize, schemars::JsonSchema)]
//! struct Add { a: i64, b: i64 }
//!
//! # let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
//! # rt.block_on(async {
//! // A Rust function becomes a tool with a derived JSON Schema.
//! let add = tool_fn("add", "Adds two integers.", |x: Add| async move { Ok::<_, ToolError>(x.a + x.b) });
//! let tools = ToolBox::new().with_tool(Arc::new(add))?;
//!
//! // A model that asks for the tool, then answers (a real provider or the router goes here).
//! let model = ScriptedProvider::new("scripted")
//!     .with_tool_calls(vec![ToolCall::new("c1", "add", r#"{"a": 2, "b": 3}"#)])
//!     .with_text("2 + 3 = 5");
//!
//! let agent = AgentLoop::new(Arc::new(model), Arc::new(tools));
//! let state = RunState::new("run-1", ChatRequest::new("demo", vec![Message::user("What is 2 + 3?")]));
//! let result = agent.run(state, &CallContext::new("req-1")).await?;
//! assert_eq!(result.answer().as_deref(), Some("2 + 3 = 5"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! # }
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]

pub use toolplane_core as core;

#[cfg(feature = "pipeline")]
pub use toolplane_pipeline as pipeline;
#[cfg(feature = "skills")]
pub use toolplane_skills as skills;

/// The names most programs need, in one import.
pub mod prelude {
    #[cfg(feature = "schemars")]
    pub use toolplane_core::{tool_fn, tool_fn_with_context};
    pub use toolplane_core::{
        CallContext, ChatProvider, ChatRequest, ChatResponse, Message, Principal, ProviderError, ScriptedProvider,
        StopReason, Tool, ToolCall, ToolError, ToolErrorKind, ToolOutput, ToolSpec, Usage,
    };
    #[cfg(feature = "pipeline")]
    pub use toolplane_pipeline::{AgentLoop, RunOutcome, RunState, ToolBox, ToolExecutor};
}
