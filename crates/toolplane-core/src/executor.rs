//! [`ToolExecutor`]: how anything that runs a model's tool calls is reached.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;

use crate::{CallContext, ToolCall, ToolError, ToolOutput, ToolSpec};

/// Runs the model's tool calls: the one contract between whatever holds the
/// tools and whatever drives a model (the agent loop, a server, an MCP bridge).
///
/// Required: [`ToolExecutor::specs`] and [`ToolExecutor::execute`]. An
/// executor resolves the name, parses and validates the arguments, runs the
/// interceptor chain (permissions, limits, audit) and the tool, and reports
/// every failure as a [`ToolError`] the model can act on; it never panics on
/// a model's input.
///
/// The validating implementation is `toolplane_registry::Executor`; views
/// and limits are decorators over any `ToolExecutor` (a name filter, skill
/// narrowing, a timeout, a concurrency limit, an output cap), so they stack
/// on the registry's executor or on your own. `Arc<E>` and `Box<E>` are
/// executors too, so `Arc<dyn ToolExecutor>` can be wrapped like any other.
///
/// ```
/// use std::sync::Arc;
/// use toolplane_core::*;
///
/// /// Answers every call with its own arguments.
/// #[derive(Debug)]
/// struct Parrot(Arc<[ToolSpec]>);
///
/// #[async_trait]
/// impl ToolExecutor for Parrot {
///     fn specs(&self) -> Arc<[ToolSpec]> {
///         Arc::clone(&self.0)
///     }
///     async fn execute(&self, call: &ToolCall, _ctx: &CallContext) -> Result<ToolOutput, ToolError> {
///         Ok(ToolOutput::text(call.arguments.clone()))
///     }
/// }
///
/// # let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
/// # rt.block_on(async {
/// let tools: Arc<dyn ToolExecutor> = Arc::new(Parrot(vec![ToolSpec::new("parrot", "Repeats.")].into()));
/// let out = tools.execute(&ToolCall::new("c1", "parrot", r#"{"a":1}"#), &CallContext::new("r1")).await?;
/// assert_eq!(out.to_model_text(), r#"{"a":1}"#);
/// # Ok::<(), ToolError>(())
/// # }).unwrap();
/// ```
#[async_trait]
pub trait ToolExecutor: Send + Sync + fmt::Debug {
    /// The tools to offer the model now. The loop asks before every step, so
    /// the set may change during a run (an active skill narrows it); return
    /// the same `Arc` while the set is unchanged, so the loop can skip copying it.
    fn specs(&self) -> Arc<[ToolSpec]>;

    /// Runs one call.
    async fn execute(&self, call: &ToolCall, ctx: &CallContext) -> Result<ToolOutput, ToolError>;
}

#[async_trait]
impl<E: ToolExecutor + ?Sized> ToolExecutor for Arc<E> {
    fn specs(&self) -> Arc<[ToolSpec]> {
        (**self).specs()
    }

    async fn execute(&self, call: &ToolCall, ctx: &CallContext) -> Result<ToolOutput, ToolError> {
        (**self).execute(call, ctx).await
    }
}

#[async_trait]
impl<E: ToolExecutor + ?Sized> ToolExecutor for Box<E> {
    fn specs(&self) -> Arc<[ToolSpec]> {
        (**self).specs()
    }

    async fn execute(&self, call: &ToolCall, ctx: &CallContext) -> Result<ToolOutput, ToolError> {
        (**self).execute(call, ctx).await
    }
}
