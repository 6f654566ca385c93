//! The toolplane tool registry and validating executor.
//!
//! # Who should depend on this crate
//!
//! A host that gives tools to a model: it keeps the tools ([`ToolRegistry`]:
//! namespaced names, duplicate and look-alike rejection, filtering, BM25
//! search, export in each provider's format) and runs the model's calls
//! ([`Executor`]: every call resolved, size- and depth-bounded, parsed with
//! duplicate keys refused, validated against a compiled JSON Schema, passed
//! through the [`ToolInterceptor`](toolplane_core::ToolInterceptor) chain,
//! run under a timeout and a concurrency limit, its output capped). Tool
//! *authors* need only `toolplane-core`.
//!
//! ```text
//!  ToolRegistry ──(export)──► provider request `tools`
//!       │                          │ model answers with ToolCalls (flat names)
//!       ▼                          ▼
//!  Executor::execute_batch ──► resolve ─► limits ─► parse ─► validate ─► interceptors ─► tool ─► cap
//!                                  results in call order, one ToolError per bad call
//! ```
//!
//! # Example
//!
//! ```
//! use std::sync::Arc;
//! use toolplane_core::{CallContext, ToolCall, ToolErrorKind};
//! use toolplane_registry::{builtin, Executor, Profile, ToolRegistry};
//! # let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
//! # rt.block_on(async {
//! let mut registry = ToolRegistry::new();
//! registry.register_all(builtin::builtin_tools())?;
//! // What the model receives: every tool as OpenAI's `tools` field wants it.
//! let tools = registry.export_all(Profile::OpenAiStrict).tools_field();
//! assert_eq!(tools[0]["function"]["name"], "current_time");
//!
//! let exec = Executor::new(registry);
//! let ctx = CallContext::new("req-1");
//! let ok = exec.execute(&ToolCall::new("c1", "current_time", r#"{"time_zone":"Asia/Tokyo"}"#), &ctx).await?;
//! assert_eq!(ok.content["time_zone"], "Asia/Tokyo");
//! let bad = exec.execute(&ToolCall::new("c2", "current_time", r#"{"time_zone":1}"#), &ctx).await.unwrap_err();
//! assert_eq!(bad.kind(), ToolErrorKind::InvalidArguments);
//! assert!(bad.message().contains("/time_zone"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]

mod args;
#[cfg(feature = "builtin")]
pub mod builtin;
mod concurrency_limit;
mod discovery;
mod executor;
mod export;
mod names;
mod nearest;
mod output_cap;
mod registry;
mod search;
#[cfg(test)]
mod test_tools;
mod timeout;
mod trace;
mod validation;

pub use args::{ArgumentLimits, arguments_from_bytes, parse_arguments};
pub use concurrency_limit::ConcurrencyLimit;
pub use executor::{Executor, ExecutorBuilder, ExecutorConfig};
pub use export::ExportError;
pub use names::{
    CALL_TOOL, FLAT_SEPARATOR, NAMESPACE_SEPARATOR, NamePolicy, SEARCH_TOOLS, flatten, namespace_of, skeleton,
};
pub use output_cap::OutputCap;
pub use registry::{RegistryError, SearchHit, ToolFilter, ToolRegistry};
pub use timeout::Timeout;
/// The contract [`Executor`] implements, defined in toolplane-core.
pub use toolplane_core::ToolExecutor;
/// The one export ([`ToolRegistry::export_all`], [`ToolRegistry::export`]
/// and the providers' requests go through it), from toolplane-schema.
pub use toolplane_schema::{Export, ExportWarning, ExportedTool, Profile};
pub use trace::ContentRedactor;

/// `docs/registry.md`, whose complete examples are compiled as doctests.
#[doc = include_str!("../../../docs/registry.md")]
#[cfg(all(doctest, feature = "builtin"))]
pub struct RegistryGuideDoctests;
