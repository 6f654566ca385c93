//! toolplane: embeddable Rust libraries for LLM tool calling.
//!
//! # Who should depend on this crate
//!
//! Applications. This facade re-exports the toolplane crates behind features so
//! one dependency line gives the common set, and `full` gives everything.
//! Libraries that only implement a tool, a provider or an interceptor should
//! depend on [`toolplane-core`](vocab) alone, which changes rarely.
//!
//! | feature | module | what it gives |
//! | --- | --- | --- |
//! | (always) | [`vocab`], [`serde_json`] | toolplane-core: tools, chat types, providers trait, errors, call context, interceptor chains; and the `serde_json` whose `Value` appears in their signatures |
//! | `schemars` (default) | `vocab::tool_fn`, `schemars` | Rust functions as typed tools with derived schemas, and the schemars version they use |
//! | `registry` (default) | `registry` | the tool registry and the validating executor |
//! | `providers` (default) | `providers` | OpenAI (and compatible), Anthropic, Mistral, Cohere |
//! | `pipeline` (default) | `pipeline` | the tool-calling loop, approvals, declarative pipelines (brings `registry` and `skills`) |
//! | `builtin` | `registry::builtin` | the demo tools `current_time` (with a time zone database) and `json_query` |
//! | `openapi` | `openapi` | OpenAPI 3.0/3.1 descriptions to tools, for every provider |
//! | `http` | `openapi::http` | those tools executed over HTTP (reqwest, rustls) |
//! | `schema` (with `openapi`) | `schema` | provider schema profiles and tool-name rules |
//! | `router` | `router` | the mixture-of-experts router |
//! | `metrics` | `metrics` | latency percentiles, tokens, cost, win rate, Prometheus |
//! | `security` | `security` | permissions, audit log, rate limits, budgets |
//! | `skills` | `skills` | skills from `SKILL.md` folders |
//! | `github` | `github` | curated GitHub tools |
//! | `redis` | `security::limits` | Redis backends for limits shared by several instances |
//! | `full` | all of the above | |
//!
//! toolplane-core is re-exported as `vocab`, not `core`, so that `use
//! toolplane::*` can never shadow Rust's own `core` crate.
//!
//! # Guide
//!
//! The path a request takes: a [`ChatProvider`](vocab::ChatProvider) (one
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
//! let tools = Executor::from_tools([Arc::new(add) as Arc<dyn Tool>])?;
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

/// toolplane-core, the vocabulary every crate shares (named so it cannot
/// shadow Rust's `core` in a glob import).
pub use toolplane_core as vocab;

/// The `serde_json` toolplane's signatures use (`Value`, `Map`), so versions
/// cannot mismatch.
pub use serde_json;

/// The `schemars` typed tools derive with. Depend on the same major version
/// (`schemars = "1"`) for `#[derive(JsonSchema)]`, or point the derive here
/// with `#[schemars(crate = "toolplane::schemars")]`.
#[cfg(feature = "schemars")]
pub use schemars;

#[cfg(feature = "github")]
pub use toolplane_github as github;
#[cfg(feature = "metrics")]
pub use toolplane_metrics as metrics;
#[cfg(feature = "openapi")]
pub use toolplane_openapi as openapi;
#[cfg(feature = "pipeline")]
pub use toolplane_pipeline as pipeline;
#[cfg(feature = "providers")]
pub use toolplane_providers as providers;
#[cfg(feature = "registry")]
pub use toolplane_registry as registry;
#[cfg(feature = "router")]
pub use toolplane_router as router;
#[cfg(feature = "schema")]
pub use toolplane_schema as schema;
#[cfg(feature = "security")]
pub use toolplane_security as security;
#[cfg(feature = "skills")]
pub use toolplane_skills as skills;

/// The names most programs need, in one import.
pub mod prelude {
    pub use toolplane_core::{
        ApprovalToken, CallContext, ChatInterceptor, ChatProvider, ChatRequest, ChatResponse, InterceptedProvider,
        Message, Principal, ProviderError, ScriptedProvider, StopReason, Tool, ToolCall, ToolError, ToolErrorKind,
        ToolInterceptor, ToolOutput, ToolResult, ToolSpec, Usage,
    };
    #[cfg(feature = "schemars")]
    pub use toolplane_core::{tool_fn, tool_fn_with_context};
    #[cfg(feature = "pipeline")]
    pub use toolplane_pipeline::{AgentLoop, ApprovalDecision, ApprovalDetails, RunOutcome, RunState};
    /// The one validating executor, and the trait every executor implements.
    #[cfg(feature = "registry")]
    pub use toolplane_registry::{Executor, ExecutorConfig, ToolExecutor, ToolRegistry};
    /// The one export: tools as a vendor's request carries them
    /// (`registry.export_all(Profile::OpenAiStrict).tools_field()`).
    #[cfg(feature = "registry")]
    pub use toolplane_registry::{Export, Profile};
}

/// The README's code, compiled and run as a doctest so it stays true.
#[doc = include_str!("../../../README.md")]
#[cfg(all(doctest, feature = "pipeline", feature = "schemars"))]
pub struct ReadmeDoctests;
