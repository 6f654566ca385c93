//! [`Executor`]: the validating [`ToolExecutor`]: every call resolved,
//! bounded, parsed, validated and intercepted, under the limit decorators.
//!
//! ```text
//!  OutputCap ─► Timeout ─► ConcurrencyLimit ─► Validated: resolve name ─► parse_arguments ─► cached validator ─► interceptors ─► tool.call
//!  (truncation   (config,    (permit; a cancel              (did you mean?)  (size, depth,       (every violation    (policy, audit,   (panics
//!   marker)       deadline)   while waiting ends it)                         dup keys, i64)      with its pointer)   limits)           caught)
//! ```
//!
//! `call_tool` runs its inner call on `Validated` directly: the outer call
//! already holds a permit and is already under the timeout and the cap.

use std::collections::HashMap;
use std::fmt;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Weak};
use std::time::Duration;

use async_trait::async_trait;
use futures_util::FutureExt;
use futures_util::future::join_all;
use parking_lot::{Mutex, RwLock};
use serde_json::json;
use toolplane_core::{CallContext, Tool, ToolCall, ToolError, ToolErrorKind, ToolExecutor, ToolInterceptor};
use toolplane_core::{ToolInvocation, ToolNext, ToolOutput, ToolSpec};
use toolplane_schema::{Profile, ProfiledSchema, profiled_tool};

use crate::args::{ArgumentLimits, arguments_from_bytes, parse_arguments};
use crate::concurrency_limit::ConcurrencyLimit;
use crate::names::SEARCH_TOOLS;
use crate::output_cap::OutputCap;
use crate::registry::{RegistryError, ToolRegistry};
use crate::timeout::Timeout;
use crate::trace::{ContentRedactor, traced};
use crate::validation::check_arguments;

/// Limits an [`Executor`] enforces on every call.
///
/// ```
/// use std::time::Duration;
/// use toolplane_registry::ExecutorConfig;
/// let cfg = ExecutorConfig { timeout: Some(Duration::from_secs(5)), max_concurrency: 4, ..Default::default() };
/// assert_eq!(cfg.arguments.max_depth, 64);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecutorConfig {
    /// Longest a call may take, waiting for a concurrency permit included
    /// (default 30 s; the [`Timeout`] decorator). The context's deadline,
    /// when sooner, wins; `None` leaves only the deadline.
    pub timeout: Option<Duration>,
    /// Calls running at once across all batches and clones (default 16; the
    /// [`ConcurrencyLimit`] decorator).
    pub max_concurrency: usize,
    /// Size and depth limits on argument text.
    pub arguments: ArgumentLimits,
    /// Largest output given to the model, in bytes of its model text
    /// (default 64 KiB; the [`OutputCap`] decorator); longer output is cut
    /// and marked `truncated`, longer error messages are cut.
    pub max_output_bytes: usize,
    /// Violations listed in one error (default 20; the total is still counted).
    pub max_violations: usize,
    /// The schema profile the tools were exported with, when it rewrites
    /// arguments: a model's arguments are turned back into the internal form
    /// before validation. `Some(Profile::OpenAiStrict)`: the `null`s strict
    /// mode forces on optional properties are dropped where the internal
    /// schema does not accept `null`; `Some(Profile::Gemini)`: safe property
    /// names are renamed back. `None` (default): arguments arrive in the
    /// internal form. Arguments valid in the internal form are never changed.
    pub arguments_profile: Option<Profile>,
    /// Record redacted argument and result text on each call's
    /// `execute_tool` span (`gen_ai.tool.call.arguments` and
    /// `gen_ai.tool.call.result`). Default false: spans hold the tool name,
    /// call id, argument size, outcome and duration, never the text. Text is
    /// recorded only when this is true **and** the executor has a
    /// [`ContentRedactor`] ([`ExecutorBuilder::content_redactor`]); without
    /// one, nothing more is recorded.
    pub capture_content: bool,
}

impl Default for ExecutorConfig {
    fn default() -> Self {
        Self {
            timeout: Some(Duration::from_secs(30)),
            max_concurrency: 16,
            arguments: ArgumentLimits::default(),
            max_output_bytes: 64 * 1024,
            max_violations: 20,
            arguments_profile: None,
            capture_content: false,
        }
    }
}

pub(crate) struct Inner {
    registry: RwLock<ToolRegistry>,
    specs: Mutex<Option<Arc<[ToolSpec]>>>,
    offered: RwLock<Option<Vec<String>>>,
    interceptors: Vec<Arc<dyn ToolInterceptor>>,
    config: ExecutorConfig,
    /// Per tool, the rewrite of `config.arguments_profile` (computed on first use).
    profiled: Mutex<HashMap<String, Arc<ProfiledSchema>>>,
    /// What argument and result text pass through before a span records
    /// them; `Some` only when `config.capture_content` is on too.
    capture: Option<ContentRedactor>,
}

/// The validating [`ToolExecutor`]: runs tool calls from a model against a
/// [`ToolRegistry`], validating every call before it runs, under the limits
/// of its [`ExecutorConfig`] (the [`OutputCap`], [`Timeout`] and
/// [`ConcurrencyLimit`] decorators, outermost first). Cheap to clone (all
/// clones share one registry and one concurrency limit).
///
/// Needs a tokio runtime with the time driver enabled (`enable_time` or
/// `enable_all`) when a timeout or deadline applies.
///
/// A quick set of tools, in one line:
///
/// ```
/// use std::sync::Arc;
/// use toolplane_core::{CallContext, EchoTool, ToolCall, ToolSpec};
/// use toolplane_registry::Executor;
/// # let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
/// # rt.block_on(async {
/// let tools = Executor::from_tools([Arc::new(EchoTool::new(ToolSpec::new("echo", "Returns its arguments."))) as _])?;
/// let out = tools.execute(&ToolCall::new("1", "echo", r#"{"text":"hi"}"#), &CallContext::new("r1")).await?;
/// assert_eq!(out.content["text"], "hi");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # }).unwrap();
/// ```
///
/// With interceptors, limits and the discovery tools:
///
/// ```
/// use toolplane_core::{CallContext, ToolCall, ToolErrorKind};
/// use toolplane_registry::{Executor, ExecutorConfig, ToolRegistry, builtin};
/// # let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
/// # rt.block_on(async {
/// let mut registry = ToolRegistry::new();
/// registry.register_all(builtin::builtin_tools()).unwrap();
/// let exec = Executor::builder(registry)
///     .config(ExecutorConfig { max_concurrency: 4, ..ExecutorConfig::default() })
///     .with_discovery_tools()
///     .build()
///     .unwrap();
/// let ctx = CallContext::new("req-1");
/// let calls = [
///     ToolCall::new("1", "json_query", r#"{"data": {"a": [1, 2]}, "query": "a[1]"}"#),
///     ToolCall::new("2", "json_qery", "{}"),
/// ];
/// let results = exec.execute_batch(&calls, &ctx).await;
/// assert_eq!(results[0].as_ref().unwrap().content["matches"], serde_json::json!([2]));
/// let err = results[1].as_ref().unwrap_err();
/// assert_eq!(err.kind(), ToolErrorKind::NotFound);
/// assert!(err.message().contains("did you mean `json_query`?"));
/// # });
/// ```
#[derive(Clone)]
pub struct Executor {
    inner: Arc<Inner>,
    limited: OutputCap<Timeout<ConcurrencyLimit<Validated>>>,
}

impl fmt::Debug for Executor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Executor")
            .field("tools", &self.inner.registry.read().len())
            .field("interceptors", &self.inner.interceptors)
            .field("config", &self.inner.config)
            .finish()
    }
}

/// What runs after `with_discovery_tools` and similar options once the
/// executor exists (tools that call back into it need its handle).
pub(crate) type Installer = fn(&Executor) -> Result<(), RegistryError>;

/// Builds an [`Executor`]: the registry, limits, interceptors and whether to
/// add the `search_tools` / `call_tool` pair.
pub struct ExecutorBuilder {
    registry: ToolRegistry,
    config: ExecutorConfig,
    interceptors: Vec<Arc<dyn ToolInterceptor>>,
    redactor: Option<ContentRedactor>,
    pub(crate) installers: Vec<Installer>,
}

impl fmt::Debug for ExecutorBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExecutorBuilder")
            .field("registry", &self.registry)
            .field("config", &self.config)
            .field("interceptors", &self.interceptors)
            .field("redactor", &self.redactor.is_some())
            .finish_non_exhaustive()
    }
}

impl ExecutorBuilder {
    /// Replaces the limits.
    pub fn config(mut self, config: ExecutorConfig) -> Self {
        self.config = config;
        self
    }

    /// Appends an interceptor (the first added runs first, outermost).
    pub fn interceptor(mut self, interceptor: Arc<dyn ToolInterceptor>) -> Self {
        self.interceptors.push(interceptor);
        self
    }

    /// Appends several interceptors, in order.
    pub fn interceptors(mut self, interceptors: impl IntoIterator<Item = Arc<dyn ToolInterceptor>>) -> Self {
        self.interceptors.extend(interceptors);
        self
    }

    /// Sets what argument and result text pass through before a span records
    /// them, when [`ExecutorConfig::capture_content`] is on (without a
    /// redactor, capture records nothing).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use toolplane_registry::{Executor, ExecutorConfig, ToolRegistry};
    /// let exec = Executor::builder(ToolRegistry::new())
    ///     .config(ExecutorConfig { capture_content: true, ..ExecutorConfig::default() })
    ///     .content_redactor(Arc::new(|text: &str| text.replace("hunter2", "[REDACTED]")))
    ///     .build()
    ///     .unwrap();
    /// assert!(exec.config().capture_content);
    /// ```
    pub fn content_redactor(mut self, redactor: ContentRedactor) -> Self {
        self.redactor = Some(redactor);
        self
    }

    /// Builds the executor.
    ///
    /// # Errors
    /// [`RegistryError`] when the discovery tools' names are taken.
    pub fn build(mut self) -> Result<Executor, RegistryError> {
        let installers = std::mem::take(&mut self.installers);
        let exec = self.assemble();
        for install in installers {
            install(&exec)?;
        }
        Ok(exec)
    }

    fn assemble(self) -> Executor {
        let config = self.config;
        let inner = Arc::new(Inner {
            registry: RwLock::new(self.registry),
            specs: Mutex::new(None),
            offered: RwLock::new(None),
            interceptors: self.interceptors,
            profiled: Mutex::new(HashMap::new()),
            capture: self.redactor.filter(|_| config.capture_content),
            config: config.clone(),
        });
        let validated = Validated(Arc::clone(&inner));
        let limited = ConcurrencyLimit::new(validated, config.max_concurrency);
        let limited = match config.timeout {
            Some(t) => Timeout::new(limited, t),
            None => Timeout::deadline_only(limited),
        };
        Executor {
            inner,
            limited: OutputCap::new(limited, config.max_output_bytes),
        }
    }
}

impl Executor {
    /// An executor over `registry` with default limits and no interceptors.
    pub fn new(registry: ToolRegistry) -> Self {
        Self::builder(registry).assemble()
    }

    /// An executor over a fresh registry holding `tools`, with default
    /// limits and no interceptors: the quick way to hand a few tools to a loop.
    ///
    /// # Errors
    /// As [`ToolRegistry::register`] (a bad name, a duplicate, a schema that
    /// does not compile).
    pub fn from_tools(tools: impl IntoIterator<Item = Arc<dyn Tool>>) -> Result<Self, RegistryError> {
        Ok(Self::new(ToolRegistry::from_tools(tools)?))
    }

    /// Starts building an executor over `registry`.
    pub fn builder(registry: ToolRegistry) -> ExecutorBuilder {
        ExecutorBuilder {
            registry,
            config: ExecutorConfig::default(),
            interceptors: Vec::new(),
            redactor: None,
            installers: Vec::new(),
        }
    }

    pub(crate) fn downgrade(&self) -> WeakExecutor {
        WeakExecutor(Arc::downgrade(&self.inner))
    }

    /// The limits in force.
    pub fn config(&self) -> &ExecutorConfig {
        &self.inner.config
    }

    /// Adds a tool (compiling its schema now).
    ///
    /// # Errors
    /// As [`ToolRegistry::register`].
    pub fn register(&self, tool: Arc<dyn Tool>) -> Result<(), RegistryError> {
        self.inner.registry.write().register(tool)?;
        *self.inner.specs.lock() = None;
        self.inner.profiled.lock().clear();
        Ok(())
    }

    /// Removes a tool by name or flat name.
    pub fn unregister(&self, name: &str) -> Option<Arc<dyn Tool>> {
        let removed = self.inner.registry.write().unregister(name);
        *self.inner.specs.lock() = None;
        self.inner.profiled.lock().clear();
        removed
    }

    /// Runs `f` with the registry (for listing, search and export).
    pub fn with_registry<R>(&self, f: impl FnOnce(&ToolRegistry) -> R) -> R {
        f(&self.inner.registry.read())
    }

    /// Limits [`Executor::specs`] to these names (`None`: every tool). Calls
    /// to other registered tools still run (through `call_tool`, or when a
    /// model names them); offering is about request size, not permission.
    ///
    /// # Errors
    /// A `not_found` error naming the first unknown name.
    pub fn set_offered(&self, names: Option<Vec<String>>) -> Result<(), ToolError> {
        if let Some(list) = &names {
            let reg = self.inner.registry.read();
            if let Some(unknown) = list.iter().find(|n| reg.get(n).is_none()) {
                return Err(ToolError::not_found(format!("cannot offer `{unknown}`: no such tool")));
            }
        }
        *self.inner.offered.write() = names;
        *self.inner.specs.lock() = None;
        Ok(())
    }

    /// The definitions to offer a model: every tool sorted by name, or the
    /// offered set in its given order. The same `Arc` is returned until the
    /// registry or the offered set changes.
    pub fn specs(&self) -> Arc<[ToolSpec]> {
        self.inner.specs()
    }

    /// Runs one call. Every failure is a [`ToolError`] whose
    /// [`ToolError::to_model_text`] can go straight back to the model.
    ///
    /// Each call runs in an `execute_tool {name}` span (see
    /// [`toolplane_core::semconv`] and `docs/tracing.md`).
    pub async fn execute(&self, call: &ToolCall, ctx: &CallContext) -> Result<ToolOutput, ToolError> {
        traced(call, self.inner.capture.as_ref(), self.limited.execute(call, ctx)).await
    }

    /// Runs a call whose argument bytes may not be UTF-8 (as read off a wire).
    pub async fn execute_bytes(
        &self,
        id: &str,
        name: &str,
        arguments: &[u8],
        ctx: &CallContext,
    ) -> Result<ToolOutput, ToolError> {
        let text = arguments_from_bytes(arguments)
            .map_err(|e| ToolError::invalid_arguments(format!("`{name}`: {}", e.message())))?;
        self.execute(&ToolCall::new(id, name, text), ctx).await
    }

    /// Runs a model's parallel calls concurrently (within the concurrency
    /// limit) and returns their results in call order; one failing or
    /// panicking call never stops the others.
    pub async fn execute_batch(&self, calls: &[ToolCall], ctx: &CallContext) -> Vec<Result<ToolOutput, ToolError>> {
        join_all(calls.iter().map(|c| self.execute(c, ctx))).await
    }
}

#[async_trait]
impl ToolExecutor for Executor {
    fn specs(&self) -> Arc<[ToolSpec]> {
        Executor::specs(self)
    }

    async fn execute(&self, call: &ToolCall, ctx: &CallContext) -> Result<ToolOutput, ToolError> {
        Executor::execute(self, call, ctx).await
    }
}

/// A handle that does not keep an [`Executor`] alive (the discovery tools
/// live inside the registry they search, so a strong handle would leak it).
#[derive(Clone)]
pub(crate) struct WeakExecutor(Weak<Inner>);

impl WeakExecutor {
    pub(crate) fn upgrade(&self) -> Option<UnlimitedExecutor> {
        self.0.upgrade().map(|inner| UnlimitedExecutor(Validated(inner)))
    }
}

/// The executor without its limit decorators, for a call made from inside a
/// call that is already under them (`call_tool`).
pub(crate) struct UnlimitedExecutor(Validated);

impl UnlimitedExecutor {
    pub(crate) async fn execute(&self, call: &ToolCall, ctx: &CallContext) -> Result<ToolOutput, ToolError> {
        traced(call, self.0.0.capture.as_ref(), self.0.run(call, ctx)).await
    }

    pub(crate) fn with_registry<R>(&self, f: impl FnOnce(&ToolRegistry) -> R) -> R {
        f(&self.0.0.registry.read())
    }
}

/// The validating core: resolve, parse, restore the export profile's
/// rewrites, validate, then the interceptor chain and the tool, with a
/// panic in either turned into an `internal` error.
#[derive(Clone)]
struct Validated(Arc<Inner>);

impl fmt::Debug for Validated {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Validated")
    }
}

impl Inner {
    fn specs(&self) -> Arc<[ToolSpec]> {
        let mut cache = self.specs.lock();
        if let Some(specs) = &*cache {
            return Arc::clone(specs);
        }
        let reg = self.registry.read();
        let specs: Arc<[ToolSpec]> = match &*self.offered.read() {
            None => reg.specs().into(),
            Some(names) => names
                .iter()
                .filter_map(|n| reg.get(n))
                .map(|t| t.spec().clone())
                .collect(),
        };
        *cache = Some(Arc::clone(&specs));
        specs
    }

    /// `spec`'s schema as `profile` rewrote it for export, cached per tool.
    fn profiled(&self, spec: &ToolSpec, profile: Profile) -> Arc<ProfiledSchema> {
        let mut cache = self.profiled.lock();
        if let Some(p) = cache.get(&spec.name) {
            return Arc::clone(p);
        }
        let p = Arc::new(profiled_tool(spec, profile).schema);
        cache.insert(spec.name.clone(), Arc::clone(&p));
        p
    }
}

impl Validated {
    async fn run(&self, call: &ToolCall, ctx: &CallContext) -> Result<ToolOutput, ToolError> {
        if ctx.cancel.is_cancelled() {
            return Err(ToolError::new(
                ToolErrorKind::Cancelled,
                format!("`{}` was cancelled", call.name),
            ));
        }
        let inner = &self.0;
        let found = {
            let reg = inner.registry.read();
            reg.entry(&call.name)
                .map(|e| (Arc::clone(&e.tool), Arc::clone(&e.validator)))
                .ok_or_else(|| unknown_tool(&reg, &call.name))
        };
        let (tool, validator) = found?;
        let spec = tool.spec();
        let cfg = &inner.config;
        let mut args = parse_arguments(&call.arguments, &cfg.arguments)
            .map_err(|e| ToolError::invalid_arguments(format!("`{}`: {}", spec.name, e.message())))?;
        if let Some(profile) = cfg.arguments_profile {
            args = inner
                .profiled(spec, profile)
                .restore_arguments(&spec.input_schema, args);
        }
        check_arguments(&validator, spec, &args, cfg.max_violations)?;
        let inv = ToolInvocation {
            call,
            args: &args,
            spec,
        };
        let chain = ToolNext::new(&inner.interceptors, tool.as_ref()).run(&inv, ctx);
        AssertUnwindSafe(chain)
            .catch_unwind()
            .await
            .unwrap_or_else(|panic| Err(panicked(&spec.name, panic.as_ref())))
    }
}

#[async_trait]
impl ToolExecutor for Validated {
    fn specs(&self) -> Arc<[ToolSpec]> {
        self.0.specs()
    }

    async fn execute(&self, call: &ToolCall, ctx: &CallContext) -> Result<ToolOutput, ToolError> {
        self.run(call, ctx).await
    }
}

fn unknown_tool(reg: &ToolRegistry, name: &str) -> ToolError {
    let shown: String = name.chars().take(80).collect();
    // A name far longer than any tool name gets no suggestion (and costs nothing to refuse).
    let suggestion = if name.len() <= 256 { reg.suggest(name) } else { None };
    match suggestion {
        Some(s) => {
            let flat = reg.flat_name(s).unwrap_or(s);
            ToolError::not_found(format!("no tool is named `{shown}`; did you mean `{flat}`?"))
                .with_details(json!({"tool": shown, "suggestion": flat}))
        }
        None => {
            let hint = if reg.get(SEARCH_TOOLS).is_some() {
                "; search_tools can find one"
            } else {
                ""
            };
            let message = format!("no tool is named `{shown}` ({} tools are registered{hint})", reg.len());
            ToolError::not_found(message).with_details(json!({"tool": shown}))
        }
    }
}

fn panicked(name: &str, panic: &(dyn std::any::Any + Send)) -> ToolError {
    let what = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "no message".into());
    ToolError::internal(format!("`{name}` panicked: {what}"))
}
