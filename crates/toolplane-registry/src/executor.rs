//! [`Executor`]: every call resolved, bounded, parsed, validated, intercepted
//! and run under limits.
//!
//! ```text
//!  ToolCall ─► resolve name ─► parse_arguments ─► cached validator ─► [permit] ─► interceptors ─► tool.call ─► output cap
//!             (did you mean?)  (size, depth,       (every violation    (concurrency  (policy, audit,   (timeout,    (truncation
//!                              dup keys, i64)      with its pointer)   limit)         limits)          panics)      marker)
//! ```

use std::collections::HashMap;
use std::fmt;
use std::io;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Weak};
use std::time::Duration;

use futures_util::FutureExt;
use futures_util::future::join_all;
use parking_lot::{Mutex, RwLock};
use serde_json::{Value, json};
use tokio::sync::Semaphore;
use toolplane_core::{CallContext, Tool, ToolCall, ToolError, ToolErrorKind, ToolInterceptor, ToolInvocation};
use toolplane_core::{ToolNext, ToolOutput, ToolSpec};
use toolplane_schema::{Profile, ProfiledSchema, profiled_tool};

use crate::args::{ArgumentLimits, arguments_from_bytes, parse_arguments};
use crate::builtin::discovery::{CallTool, SearchTools};
use crate::registry::{RegistryError, ToolRegistry};
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
    /// Longest a call may take once validated: waiting for a concurrency
    /// permit, interceptors and the tool (default 30 s). The context's
    /// deadline, when sooner, wins.
    pub timeout: Option<Duration>,
    /// Calls running at once across all batches (default 16).
    pub max_concurrency: usize,
    /// Size and depth limits on argument text.
    pub arguments: ArgumentLimits,
    /// Largest output given to the model, in bytes of its model text
    /// (default 64 KiB); longer output is cut and marked `truncated`.
    pub max_output_bytes: usize,
    /// Violations listed in one error (default 20; the total is still counted).
    pub max_violations: usize,
    /// The tools were exported with OpenAI strict mode, which makes optional
    /// properties nullable: drop a `null` the internal schema does not accept
    /// before validating (default `false`). Valid arguments are never touched.
    pub strict_nulls: bool,
    /// The schema profile the tools were exported with, when it rewrites
    /// arguments: a model's arguments are turned back into the internal form
    /// before validation (Gemini's safe property names renamed back; strict
    /// mode's forced `null`s dropped). `None` (default): arguments arrive in
    /// the internal form.
    pub arguments_profile: Option<Profile>,
}

impl Default for ExecutorConfig {
    fn default() -> Self {
        Self {
            timeout: Some(Duration::from_secs(30)),
            max_concurrency: 16,
            arguments: ArgumentLimits::default(),
            max_output_bytes: 64 * 1024,
            max_violations: 20,
            strict_nulls: false,
            arguments_profile: None,
        }
    }
}

pub(crate) struct Inner {
    registry: RwLock<ToolRegistry>,
    specs: Mutex<Option<Arc<[ToolSpec]>>>,
    offered: RwLock<Option<Vec<String>>>,
    interceptors: Vec<Arc<dyn ToolInterceptor>>,
    semaphore: Semaphore,
    config: ExecutorConfig,
    /// Per tool, the rewrite of `config.arguments_profile` (computed on first use).
    profiled: Mutex<HashMap<String, Arc<ProfiledSchema>>>,
}

/// Runs tool calls from a model against a [`ToolRegistry`], validating every
/// call before it runs. Cheap to clone (all clones share one registry and one
/// concurrency limit).
///
/// Needs a tokio runtime with the time driver enabled (`enable_time` or
/// `enable_all`) when a timeout or deadline applies.
///
/// ```
/// use toolplane_core::{CallContext, ToolCall, ToolErrorKind};
/// use toolplane_registry::{Executor, ToolRegistry, builtin};
/// # let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
/// # rt.block_on(async {
/// let mut registry = ToolRegistry::new();
/// registry.register_all(builtin::builtin_tools()).unwrap();
/// let exec = Executor::builder(registry).with_discovery_tools().build().unwrap();
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

/// Builds an [`Executor`]: the registry, limits, interceptors and whether to
/// add the `search_tools` / `call_tool` pair.
#[derive(Debug)]
pub struct ExecutorBuilder {
    registry: ToolRegistry,
    config: ExecutorConfig,
    interceptors: Vec<Arc<dyn ToolInterceptor>>,
    discovery: bool,
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

    /// Registers `search_tools` and `call_tool`, which let a model find and
    /// run any registered tool without every definition in the request.
    pub fn with_discovery_tools(mut self) -> Self {
        self.discovery = true;
        self
    }

    /// Builds the executor.
    ///
    /// # Errors
    /// [`RegistryError`] when the discovery tools' names are taken.
    pub fn build(self) -> Result<Executor, RegistryError> {
        let discovery = self.discovery;
        let exec = self.assemble();
        if discovery {
            let weak = Arc::downgrade(&exec.inner);
            exec.register(Arc::new(SearchTools::new(weak.clone())))?;
            exec.register(Arc::new(CallTool::new(weak)))?;
        }
        Ok(exec)
    }

    fn assemble(self) -> Executor {
        let permits = self.config.max_concurrency.clamp(1, Semaphore::MAX_PERMITS);
        Executor {
            inner: Arc::new(Inner {
                registry: RwLock::new(self.registry),
                specs: Mutex::new(None),
                offered: RwLock::new(None),
                interceptors: self.interceptors,
                semaphore: Semaphore::new(permits),
                config: self.config,
                profiled: Mutex::new(HashMap::new()),
            }),
        }
    }
}

impl Executor {
    /// An executor over `registry` with default limits and no interceptors.
    pub fn new(registry: ToolRegistry) -> Self {
        Self::builder(registry).assemble()
    }

    /// Starts building an executor over `registry`.
    pub fn builder(registry: ToolRegistry) -> ExecutorBuilder {
        ExecutorBuilder {
            registry,
            config: ExecutorConfig::default(),
            interceptors: Vec::new(),
            discovery: false,
        }
    }

    pub(crate) fn from_weak(weak: &Weak<Inner>) -> Option<Self> {
        weak.upgrade().map(|inner| Self { inner })
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
        let mut cache = self.inner.specs.lock();
        if let Some(specs) = &*cache {
            return Arc::clone(specs);
        }
        let reg = self.inner.registry.read();
        let specs: Arc<[ToolSpec]> = match &*self.inner.offered.read() {
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

    /// Runs one call. Every failure is a [`ToolError`] whose
    /// [`ToolError::to_model_text`] can go straight back to the model.
    pub async fn execute(&self, call: &ToolCall, ctx: &CallContext) -> Result<ToolOutput, ToolError> {
        self.run(call, ctx, false).await
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
        join_all(calls.iter().map(|c| self.run(c, ctx, false))).await
    }

    /// `spec`'s schema as `profile` rewrote it for export, cached per tool.
    fn profiled(&self, spec: &ToolSpec, profile: Profile) -> Arc<ProfiledSchema> {
        let mut cache = self.inner.profiled.lock();
        if let Some(p) = cache.get(&spec.name) {
            return Arc::clone(p);
        }
        let p = Arc::new(profiled_tool(spec, profile).schema);
        cache.insert(spec.name.clone(), Arc::clone(&p));
        p
    }

    /// `nested`: run from inside `call_tool`, which already holds a permit.
    pub(crate) async fn run(&self, call: &ToolCall, ctx: &CallContext, nested: bool) -> Result<ToolOutput, ToolError> {
        if ctx.cancel.is_cancelled() {
            return Err(ToolError::new(
                ToolErrorKind::Cancelled,
                format!("`{}` was cancelled", call.name),
            ));
        }
        let found = {
            let reg = self.inner.registry.read();
            reg.entry(&call.name)
                .map(|e| (Arc::clone(&e.tool), Arc::clone(&e.validator)))
                .ok_or_else(|| unknown_tool(&reg, &call.name))
        };
        let (tool, validator) = found?;
        let spec = tool.spec();
        let cfg = &self.inner.config;
        let mut args = parse_arguments(&call.arguments, &cfg.arguments)
            .map_err(|e| ToolError::invalid_arguments(format!("`{}`: {}", spec.name, e.message())))?;
        if let Some(profile) = cfg.arguments_profile {
            args = self.profiled(spec, profile).restore_arguments(&spec.input_schema, args);
        }
        if cfg.strict_nulls && !validator.is_valid(&args) {
            args = drop_forced_nulls(spec, args);
        }
        check_arguments(&validator, spec, &args, cfg.max_violations)?;
        let inv = ToolInvocation {
            call,
            args: &args,
            spec,
        };
        let work = async {
            let _permit = if nested {
                None
            } else {
                Some(
                    self.inner
                        .semaphore
                        .acquire()
                        .await
                        .map_err(|_| ToolError::internal("the executor is shutting down"))?,
                )
            };
            if ctx.cancel.is_cancelled() {
                return Err(ToolError::new(
                    ToolErrorKind::Cancelled,
                    format!("`{}` was cancelled", spec.name),
                ));
            }
            let chain = ToolNext::new(&self.inner.interceptors, tool.as_ref()).run(&inv, ctx);
            AssertUnwindSafe(chain)
                .catch_unwind()
                .await
                .unwrap_or_else(|panic| Err(panicked(&spec.name, panic.as_ref())))
        };
        let limit = match (cfg.timeout, ctx.remaining()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let out = match limit {
            None => work.await,
            Some(limit) => tokio::time::timeout(limit, work).await.unwrap_or_else(|_| {
                Err(ToolError::timeout(format!(
                    "`{}` did not finish within {} ms",
                    spec.name,
                    limit.as_millis()
                )))
            }),
        }
        .map_err(|e| cap_error(e, cfg.max_output_bytes))?;
        Ok(cap_output(out, cfg.max_output_bytes))
    }

    pub(crate) fn is_discovery_tool(&self, name: &str) -> bool {
        self.inner.registry.read().get(name).is_some_and(|t| {
            let n = t.spec().name.as_str();
            n == crate::builtin::discovery::SEARCH_TOOLS || n == crate::builtin::discovery::CALL_TOOL
        })
    }
}

/// Undoes what OpenAI strict mode forces on optional properties (`null`
/// where the internal schema has no `null`), with toolplane-schema's rule.
fn drop_forced_nulls(spec: &ToolSpec, args: Value) -> Value {
    let strict = toolplane_schema::ProfiledSchema {
        profile: toolplane_schema::Profile::OpenAiStrict,
        schema: Value::Null,
        strict: true,
        renames: toolplane_schema::RenameTree::default(),
        notes: Vec::new(),
    };
    strict.restore_arguments(&spec.input_schema, args)
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
            let hint = if reg.get(crate::builtin::SEARCH_TOOLS).is_some() {
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

/// Cuts output whose model text exceeds `max` bytes, at a character boundary,
/// and appends a marker saying how much was kept.
pub(crate) fn cap_output(mut out: ToolOutput, max: usize) -> ToolOutput {
    let fits = match &out.content {
        Value::String(s) => s.len() <= max,
        other => serde_json::to_writer(LimitWriter { left: max }, other).is_ok(),
    };
    if fits {
        return out;
    }
    let text = out.to_model_text();
    let mut cut = max.min(text.len());
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    let mut kept = text[..cut].to_string();
    kept.push_str(&format!(
        "\n[truncated: showing the first {cut} of {} bytes; ask for less data]",
        text.len()
    ));
    out.content = Value::String(kept);
    out.truncated = true;
    out
}

/// Cuts an error message longer than `max` bytes (an upstream body pasted
/// into it, say); kind, details and retry-after are kept.
fn cap_error(e: ToolError, max: usize) -> ToolError {
    if e.message().len() <= max {
        return e;
    }
    let text = e.message();
    let mut cut = max;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    let mut capped = ToolError::new(
        e.kind(),
        format!(
            "{} [truncated: showing the first {cut} of {} bytes]",
            &text[..cut],
            text.len()
        ),
    );
    if let Some(d) = e.details() {
        capped = capped.with_details(d.clone());
    }
    if let Some(after) = e.retry_after() {
        capped = capped.with_retry_after(after);
    }
    capped.with_source(e)
}

/// A sink that fails once more than `left` bytes are written: measures JSON
/// size without building the text.
struct LimitWriter {
    left: usize,
}

impl io::Write for LimitWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if buf.len() > self.left {
            return Err(io::Error::other("output limit"));
        }
        self.left -= buf.len();
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cap_error_keeps_kind_and_retry_after() {
        let e = ToolError::upstream("x".repeat(500)).with_retry_after(Duration::from_secs(3));
        let c = cap_error(e, 100);
        assert_eq!(c.kind(), ToolErrorKind::Upstream);
        assert_eq!(c.retry_after(), Some(Duration::from_secs(3)));
        assert!(c.message().ends_with("[truncated: showing the first 100 of 500 bytes]"));
        assert!(std::error::Error::source(&c).is_some());
        let small = cap_error(ToolError::internal("short"), 100);
        assert_eq!(small.message(), "short");
    }

    #[test]
    fn cap_output_cuts_at_char_boundaries_and_marks() {
        let out = cap_output(ToolOutput::text("ééééé"), 3);
        assert!(out.truncated);
        let text = out.to_model_text();
        assert!(
            text.starts_with("é\n[truncated: showing the first 2 of 10 bytes"),
            "{text}"
        );
        let small = cap_output(ToolOutput::json(json!({"a": 1})), 100);
        assert!(!small.truncated);
        let big = cap_output(ToolOutput::json(json!({"a": "x".repeat(200)})), 100);
        assert!(big.truncated);
        assert!(big.to_model_text().starts_with("{\"a\":\"xxx"));
    }
}
