//! The vocabulary of toolplane: tools, chat messages, providers, errors, call
//! context and the interceptor chains that join them.
//!
//! # Who should depend on this crate
//!
//! Every toolplane crate does, and so should any crate that *implements* a
//! tool, a chat provider, an interceptor or a statistics source and wants to
//! plug into toolplane without pulling a runtime. It depends on serde,
//! serde_json, async-trait, thiserror and futures-core only (schemars behind
//! the `schemars` feature), and it changes rarely. Applications usually depend
//! on the `toolplane` facade instead, which re-exports this crate.
//!
//! # The pieces
//!
//! | area | types |
//! | --- | --- |
//! | tools | [`ToolSpec`], [`ToolAnnotations`], [`Tool`], [`ToolCall`], [`ToolOutput`], [`ToolError`] |
//! | running calls | [`ToolExecutor`] (the registry's `Executor` implements it; filters and limits wrap it) |
//! | typed tools (`schemars`) | `tool_fn`, `tool_fn_with_context`, `input_schema_for` |
//! | chat | [`Message`], [`ContentPart`], [`ChatRequest`], [`ChatResponse`], [`StopReason`], [`Usage`] |
//! | streaming | [`StreamEvent`], [`ChatStream`], [`StreamAccumulator`] |
//! | providers | [`ChatProvider`], [`ProviderError`], [`ProviderErrorKind`], [`RateLimitSnapshot`], [`ScriptedProvider`] |
//! | context | [`CallContext`], [`Principal`], [`CancelFlag`] |
//! | interception | [`ToolInterceptor`], [`ToolNext`], [`ChatInterceptor`], [`ChatNext`], [`InterceptedProvider`] |
//! | prices | [`Price`] (USD per million tokens, cache-aware), [`PriceBook`], [`StaticPrices`] |
//! | statistics | [`ProviderStatsSource`], [`ExpertStats`], [`ExpertKey`], [`Feedback`], [`StaticStats`], shared by replicas: [`StatsSink`], [`SharedVerdict`] |
//!
//! # Example
//!
//! A scripted provider asks for a tool; the host runs it and sends the result back.
//!
//! ```
//! use toolplane_core::*;
//! # let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
//! # rt.block_on(async {
//! let provider = ScriptedProvider::new("scripted")
//!     .with_tool_calls(vec![ToolCall::new("c1", "now", "{}")])
//!     .with_text("It is 12:00.");
//! let ctx = CallContext::new("req-1");
//! let mut req = ChatRequest::new("demo", vec![Message::user("What time is it?")])
//!     .with_tools(vec![ToolSpec::new("now", "The current time.")]);
//!
//! let first = provider.chat(&req, &ctx).await?;
//! let call = first.tool_calls().next().unwrap().clone();
//! req.messages.push(first.message.clone());
//! req.messages.push(Message::tool_results(vec![ToolResult::ok(call.id, "12:00")]));
//! let answer = provider.chat(&req, &ctx).await?;
//! assert_eq!(answer.text(), "It is 12:00.");
//! # Ok::<(), ProviderError>(())
//! # }).unwrap();
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]

mod chat;
mod context;
mod executor;
pub mod intercept;
mod message;
mod price;
mod provider;
mod scripted;
pub mod semconv;
mod stats;
mod stream;
mod tool;
mod tool_error;
pub mod trace_context;
#[cfg(feature = "schemars")]
mod typed;

pub use chat::{
    CacheTtl, ChatRequest, ChatResponse, PromptCache, RequestMetadata, ResponseFormat, StopReason, ToolChoice, Usage,
};
pub use context::{ApprovalToken, CallContext, CancelFlag, Cancelled, Extensions, Principal};
pub use executor::ToolExecutor;
pub use intercept::{ChatInterceptor, ChatNext, InterceptedProvider, ToolInterceptor, ToolNext};
pub use message::{ContentPart, ImageSource, Message, Role, ToolResult};
pub use price::{InvalidPrice, Price, PriceBook, StaticPrices};
pub use provider::{
    ChatProvider, ChatStream, ProviderCapabilities, ProviderError, ProviderErrorKind, RateLimitSnapshot,
};
pub use scripted::{EchoTool, ScriptedProvider};
pub use stats::{
    ExpertKey, ExpertStats, Feedback, ProviderStatsSource, SharedVerdict, StaticStats, StatsSink, Verdict,
};
pub use stream::{EventStream, StreamAccumulator, StreamEvent, response_to_events};
pub use tool::{Tool, ToolAnnotations, ToolCall, ToolInvocation, ToolOutput, ToolSpec};
pub use tool_error::{ToolError, ToolErrorKind};
#[cfg(feature = "schemars")]
pub use typed::{FnTool, input_schema_for, tool_fn, tool_fn_with_context};

/// Re-exported so implementors use the same version.
pub use async_trait::async_trait;
