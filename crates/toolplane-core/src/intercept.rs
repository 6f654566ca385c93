//! Interceptor chains around tool calls and chat calls.
//!
//! ```text
//!  executor ──► [permissions] ──► [rate limit] ──► [audit] ──► tool.call()
//!                    │ deny: returns early, the tool never runs
//!
//!  caller ──► [budget] ──► [metrics] ──► provider.chat() / chat_stream()
//! ```
//!
//! An interceptor receives the call, the context and a `Next` for the rest of
//! the chain, in the shape of axum's `from_fn` middleware: it may act before,
//! call `next.run(..)` (or not), and act after. Chains are plain
//! `Vec<Arc<dyn ...>>`, so a host can build them from configuration at run time.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;

use crate::{CallContext, ChatProvider, ChatRequest, ChatResponse, ChatStream, ProviderCapabilities, ProviderError};
use crate::{Tool, ToolError, ToolInvocation, ToolOutput};

/// Runs around every tool call that goes through an executor.
///
/// ```
/// use async_trait::async_trait;
/// use toolplane_core::{CallContext, ToolError, ToolInterceptor, ToolInvocation, ToolNext, ToolOutput};
///
/// /// Refuses every tool whose name starts with `admin.`.
/// #[derive(Debug)]
/// struct NoAdmin;
///
/// #[async_trait]
/// impl ToolInterceptor for NoAdmin {
///     async fn intercept(&self, inv: &ToolInvocation<'_>, ctx: &CallContext, next: ToolNext<'_>)
///         -> Result<ToolOutput, ToolError>
///     {
///         if inv.spec.name.starts_with("admin.") {
///             return Err(ToolError::permission_denied("admin tools are off"));
///         }
///         next.run(inv, ctx).await
///     }
/// }
/// ```
#[async_trait]
pub trait ToolInterceptor: Send + Sync + fmt::Debug {
    /// Handles one call; call `next.run(inv, ctx)` to continue the chain.
    async fn intercept(
        &self,
        inv: &ToolInvocation<'_>,
        ctx: &CallContext,
        next: ToolNext<'_>,
    ) -> Result<ToolOutput, ToolError>;
}

/// The rest of a tool chain: the interceptors still to run, then the tool.
#[derive(Clone, Copy)]
pub struct ToolNext<'a> {
    rest: &'a [Arc<dyn ToolInterceptor>],
    tool: &'a dyn Tool,
}

impl<'a> ToolNext<'a> {
    /// A chain of `interceptors` (run in order) ending in `tool`.
    pub fn new(interceptors: &'a [Arc<dyn ToolInterceptor>], tool: &'a dyn Tool) -> Self {
        Self {
            rest: interceptors,
            tool,
        }
    }

    /// Runs the rest of the chain.
    pub async fn run(self, inv: &ToolInvocation<'_>, ctx: &CallContext) -> Result<ToolOutput, ToolError> {
        match self.rest.split_first() {
            Some((first, rest)) => first.intercept(inv, ctx, ToolNext { rest, tool: self.tool }).await,
            None => self.tool.call(inv.args, ctx).await,
        }
    }
}

impl fmt::Debug for ToolNext<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ToolNext")
            .field("remaining", &self.rest.len())
            .field("tool", &self.tool.spec().name)
            .finish()
    }
}

/// Runs around every chat call made through an [`InterceptedProvider`].
///
/// Both methods default to passing the call on, so an interceptor overrides
/// only what it cares about. A streaming interceptor that needs to see the
/// events wraps the returned stream.
#[async_trait]
pub trait ChatInterceptor: Send + Sync + fmt::Debug {
    /// Handles one complete-answer call.
    async fn chat(
        &self,
        req: &ChatRequest,
        ctx: &CallContext,
        next: ChatNext<'_>,
    ) -> Result<ChatResponse, ProviderError> {
        next.chat(req, ctx).await
    }

    /// Handles one streamed call.
    async fn chat_stream(
        &self,
        req: &ChatRequest,
        ctx: &CallContext,
        next: ChatNext<'_>,
    ) -> Result<ChatStream, ProviderError> {
        next.chat_stream(req, ctx).await
    }
}

/// The rest of a chat chain: the interceptors still to run, then the provider.
#[derive(Clone, Copy)]
pub struct ChatNext<'a> {
    rest: &'a [Arc<dyn ChatInterceptor>],
    provider: &'a dyn ChatProvider,
}

impl<'a> ChatNext<'a> {
    /// A chain of `interceptors` (run in order) ending in `provider`.
    pub fn new(interceptors: &'a [Arc<dyn ChatInterceptor>], provider: &'a dyn ChatProvider) -> Self {
        Self {
            rest: interceptors,
            provider,
        }
    }

    /// The provider at the end of the chain.
    pub fn provider(&self) -> &'a dyn ChatProvider {
        self.provider
    }

    /// Runs the rest of the chain for a complete answer.
    pub async fn chat(self, req: &ChatRequest, ctx: &CallContext) -> Result<ChatResponse, ProviderError> {
        match self.rest.split_first() {
            Some((first, rest)) => {
                first
                    .chat(
                        req,
                        ctx,
                        ChatNext {
                            rest,
                            provider: self.provider,
                        },
                    )
                    .await
            }
            None => self.provider.chat(req, ctx).await,
        }
    }

    /// Runs the rest of the chain for a streamed answer.
    pub async fn chat_stream(self, req: &ChatRequest, ctx: &CallContext) -> Result<ChatStream, ProviderError> {
        match self.rest.split_first() {
            Some((first, rest)) => {
                first
                    .chat_stream(
                        req,
                        ctx,
                        ChatNext {
                            rest,
                            provider: self.provider,
                        },
                    )
                    .await
            }
            None => self.provider.chat_stream(req, ctx).await,
        }
    }
}

impl fmt::Debug for ChatNext<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChatNext")
            .field("remaining", &self.rest.len())
            .field("provider", &self.provider.name())
            .finish()
    }
}

/// A provider with a chat interceptor chain in front of it; itself a provider.
///
/// ```
/// use std::sync::Arc;
/// use toolplane_core::{ChatProvider, InterceptedProvider, ScriptedProvider};
/// let inner = Arc::new(ScriptedProvider::new("scripted").with_text("hi"));
/// let wrapped = InterceptedProvider::new(inner, vec![]);
/// assert_eq!(wrapped.name(), "scripted");
/// ```
#[derive(Debug, Clone)]
pub struct InterceptedProvider {
    inner: Arc<dyn ChatProvider>,
    chain: Vec<Arc<dyn ChatInterceptor>>,
}

impl InterceptedProvider {
    /// Wraps `inner` with `chain` (the first interceptor runs first).
    pub fn new(inner: Arc<dyn ChatProvider>, chain: Vec<Arc<dyn ChatInterceptor>>) -> Self {
        Self { inner, chain }
    }

    /// Appends an interceptor at the end of the chain (closest to the provider).
    pub fn with(mut self, interceptor: Arc<dyn ChatInterceptor>) -> Self {
        self.chain.push(interceptor);
        self
    }

    /// The wrapped provider.
    pub fn inner(&self) -> &Arc<dyn ChatProvider> {
        &self.inner
    }
}

#[async_trait]
impl ChatProvider for InterceptedProvider {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn capabilities(&self) -> ProviderCapabilities {
        self.inner.capabilities()
    }

    async fn chat(&self, request: &ChatRequest, ctx: &CallContext) -> Result<ChatResponse, ProviderError> {
        ChatNext::new(&self.chain, self.inner.as_ref()).chat(request, ctx).await
    }

    async fn chat_stream(&self, request: &ChatRequest, ctx: &CallContext) -> Result<ChatStream, ProviderError> {
        ChatNext::new(&self.chain, self.inner.as_ref())
            .chat_stream(request, ctx)
            .await
    }
}
