//! What the loop calls tools through: the [`ToolExecutor`] trait, and
//! [`ToolBox`], a validating executor over a list of tools.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde_json::{Value, json};
use toolplane_core::{CallContext, Tool, ToolCall, ToolError, ToolErrorKind, ToolInterceptor, ToolInvocation};
use toolplane_core::{ToolNext, ToolOutput, ToolSpec};
use toolplane_skills::{SkillSession, tool_pattern_matches};

/// Runs the model's tool calls for the agent loop.
///
/// Required: [`ToolExecutor::specs`] and [`ToolExecutor::execute`]. An
/// executor resolves the name, parses and validates the arguments, runs the
/// interceptor chain (permissions, limits, audit) and the tool, and reports
/// every failure as a [`ToolError`] the model can act on; it never panics on
/// a model's input. [`ToolBox`], [`FilteredExecutor`] and
/// [`SkillExecutor`](crate::SkillExecutor) implement it, and so does the
/// registry's validating [`Executor`](toolplane_registry::Executor).
#[async_trait]
pub trait ToolExecutor: Send + Sync + fmt::Debug {
    /// The tools to offer the model now. The loop asks before every step, so
    /// the set may change during a run (an active skill narrows it); return
    /// the same `Arc` while the set is unchanged, so the loop can skip copying it.
    fn specs(&self) -> Arc<[ToolSpec]>;

    /// Runs one call.
    async fn execute(&self, call: &ToolCall, ctx: &CallContext) -> Result<ToolOutput, ToolError>;
}

/// Why a [`ToolBox`] could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ToolBoxError {
    /// Two tools share a name.
    #[error("tool `{0}` is added twice")]
    DuplicateName(String),
    /// A tool's input schema is not a valid JSON Schema.
    #[error("tool `{tool}`: the input schema is invalid: {message}")]
    InvalidSchema {
        /// The tool.
        tool: String,
        /// What the schema compiler said.
        message: String,
    },
}

#[derive(Clone)]
struct Entry {
    tool: Arc<dyn Tool>,
    validator: Arc<jsonschema::Validator>,
}

/// A validating executor over a fixed list of tools: arguments are bounded
/// in size, parsed, validated against the tool's input schema (compiled once),
/// then passed through the interceptor chain to the tool, under a timeout.
///
/// ```
/// use std::sync::Arc;
/// use toolplane_pipeline::{ToolBox, ToolExecutor};
/// # #[derive(Debug)] struct Now(toolplane_core::ToolSpec);
/// # #[toolplane_core::async_trait]
/// # impl toolplane_core::Tool for Now {
/// #     fn spec(&self) -> &toolplane_core::ToolSpec { &self.0 }
/// #     async fn call(&self, _: &serde_json::Value, _: &toolplane_core::CallContext)
/// #         -> Result<toolplane_core::ToolOutput, toolplane_core::ToolError> { Ok(toolplane_core::ToolOutput::text("12:00")) }
/// # }
/// let tools = ToolBox::new().with_tool(Arc::new(Now(toolplane_core::ToolSpec::new("now", "The time."))))?;
/// assert_eq!(tools.specs()[0].name, "now");
/// # Ok::<(), toolplane_pipeline::ToolBoxError>(())
/// ```
#[derive(Clone)]
pub struct ToolBox {
    entries: HashMap<String, Entry>,
    specs: Arc<[ToolSpec]>,
    interceptors: Vec<Arc<dyn ToolInterceptor>>,
    timeout: Option<Duration>,
    max_argument_bytes: usize,
    skills: Option<Arc<SkillSession>>,
}

impl fmt::Debug for ToolBox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ToolBox")
            .field("tools", &self.specs.iter().map(|s| s.name.as_str()).collect::<Vec<_>>())
            .field("interceptors", &self.interceptors)
            .field("timeout", &self.timeout)
            .field("max_argument_bytes", &self.max_argument_bytes)
            .finish()
    }
}

impl Default for ToolBox {
    fn default() -> Self {
        Self::new()
    }
}

/// The default largest argument text accepted: 256 KiB.
pub const DEFAULT_MAX_ARGUMENT_BYTES: usize = 256 * 1024;

impl ToolBox {
    /// An empty tool box with no interceptors, no timeout and a 256 KiB argument limit.
    pub fn new() -> Self {
        Self {
            entries: HashMap::new(),
            specs: Arc::from(Vec::new()),
            interceptors: Vec::new(),
            timeout: None,
            max_argument_bytes: DEFAULT_MAX_ARGUMENT_BYTES,
            skills: None,
        }
    }

    /// Adds a tool, compiling its input schema.
    ///
    /// # Errors
    /// [`ToolBoxError::DuplicateName`], [`ToolBoxError::InvalidSchema`].
    pub fn with_tool(mut self, tool: Arc<dyn Tool>) -> Result<Self, ToolBoxError> {
        let spec = tool.spec().clone();
        if self.entries.contains_key(&spec.name) {
            return Err(ToolBoxError::DuplicateName(spec.name));
        }
        let validator = jsonschema::validator_for(&spec.input_schema).map_err(|e| ToolBoxError::InvalidSchema {
            tool: spec.name.clone(),
            message: e.to_string(),
        })?;
        self.entries.insert(
            spec.name.clone(),
            Entry {
                tool,
                validator: Arc::new(validator),
            },
        );
        let mut specs = self.specs.to_vec();
        specs.push(spec);
        self.specs = specs.into();
        Ok(self)
    }

    /// Adds several tools.
    ///
    /// # Errors
    /// As [`ToolBox::with_tool`].
    pub fn with_tools(self, tools: impl IntoIterator<Item = Arc<dyn Tool>>) -> Result<Self, ToolBoxError> {
        tools.into_iter().try_fold(self, Self::with_tool)
    }

    /// Appends an interceptor (the first added runs first).
    pub fn with_interceptor(mut self, interceptor: Arc<dyn ToolInterceptor>) -> Self {
        self.interceptors.push(interceptor);
        self
    }

    /// Bounds each call's run time (the context's deadline also applies).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Sets the largest argument text accepted, in bytes.
    pub fn with_max_argument_bytes(mut self, max: usize) -> Self {
        self.max_argument_bytes = max;
        self
    }

    /// Adds the skill tools (`skills.activate`, `skills.read_resource`) and
    /// the skill guard, and narrows the offered tools to what the active
    /// skills allow.
    ///
    /// # Errors
    /// [`ToolBoxError::DuplicateName`] when the box already has a tool of a skill tool's name.
    pub fn with_skills(self, session: Arc<SkillSession>) -> Result<Self, ToolBoxError> {
        let mut this = self.with_tools(session.tools())?;
        this.interceptors.insert(0, session.guard());
        this.skills = Some(session);
        Ok(this)
    }

    /// A tool box holding only the tools whose names match one of `patterns`
    /// (`*` wildcards), with the same interceptors and limits.
    pub fn select(&self, patterns: &[String]) -> Self {
        let mut out = self.clone();
        out.entries
            .retain(|name, _| patterns.iter().any(|p| tool_pattern_matches(p, name)));
        out.specs = self
            .specs
            .iter()
            .filter(|s| out.entries.contains_key(&s.name))
            .cloned()
            .collect::<Vec<_>>()
            .into();
        out
    }

    /// The names of the tools, in the order they were added.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.specs.iter().map(|s| s.name.as_str())
    }
}

#[async_trait]
impl ToolExecutor for ToolBox {
    fn specs(&self) -> Arc<[ToolSpec]> {
        match &self.skills {
            Some(session) if !session.active().is_empty() => session.narrow(&self.specs).into(),
            _ => Arc::clone(&self.specs),
        }
    }

    async fn execute(&self, call: &ToolCall, ctx: &CallContext) -> Result<ToolOutput, ToolError> {
        let Some(entry) = self.entries.get(&call.name) else {
            let mut known: Vec<&str> = self.names().take(30).collect();
            if self.specs.len() > 30 {
                known.push("...");
            }
            return Err(ToolError::not_found(format!(
                "no tool is named `{}`; available tools: {}",
                call.name,
                known.join(", ")
            )));
        };
        if call.arguments.len() > self.max_argument_bytes {
            return Err(ToolError::invalid_arguments(format!(
                "the arguments of `{}` are {} bytes; the limit is {}",
                call.name,
                call.arguments.len(),
                self.max_argument_bytes
            )));
        }
        let args = call.arguments_value().map_err(|e| {
            ToolError::invalid_arguments(format!(
                "the arguments of `{}` are not valid JSON (line {}, column {}): {e}",
                call.name,
                e.line(),
                e.column()
            ))
        })?;
        let violations: Vec<Value> = entry
            .validator
            .iter_errors(&args)
            .take(20)
            .map(|e| {
                let path = e.instance_path().to_string();
                json!({"path": if path.is_empty() { "/".to_string() } else { path }, "message": e.to_string()})
            })
            .collect();
        if !violations.is_empty() {
            let summary: Vec<String> = violations
                .iter()
                .map(|v| {
                    format!(
                        "{}: {}",
                        v["path"].as_str().unwrap_or("/"),
                        v["message"].as_str().unwrap_or("")
                    )
                })
                .collect();
            return Err(ToolError::invalid_arguments(format!(
                "the arguments of `{}` do not satisfy its input schema: {}",
                call.name,
                summary.join("; ")
            ))
            .with_details(json!({"violations": violations})));
        }
        let inv = ToolInvocation {
            call,
            args: &args,
            spec: entry.tool.spec(),
        };
        let run = ToolNext::new(&self.interceptors, entry.tool.as_ref()).run(&inv, ctx);
        let limit = match (self.timeout, ctx.remaining()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        match limit {
            None => run.await,
            Some(limit) => tokio::time::timeout(limit, run).await.unwrap_or_else(|_| {
                Err(ToolError::new(
                    ToolErrorKind::Timeout,
                    format!("`{}` did not finish within {} ms", call.name, limit.as_millis()),
                ))
            }),
        }
    }
}

/// An executor that offers and runs only the tools of `inner` whose names
/// match one of a list of patterns; other calls get [`ToolErrorKind::NotFound`].
#[derive(Debug, Clone)]
pub struct FilteredExecutor {
    inner: Arc<dyn ToolExecutor>,
    patterns: Vec<String>,
}

impl FilteredExecutor {
    /// A view of `inner` limited to `patterns` (`*` wildcards).
    pub fn new(inner: Arc<dyn ToolExecutor>, patterns: Vec<String>) -> Self {
        Self { inner, patterns }
    }

    fn allows(&self, name: &str) -> bool {
        self.patterns.iter().any(|p| tool_pattern_matches(p, name))
    }
}

#[async_trait]
impl ToolExecutor for FilteredExecutor {
    fn specs(&self) -> Arc<[ToolSpec]> {
        self.inner
            .specs()
            .iter()
            .filter(|s| self.allows(&s.name))
            .cloned()
            .collect::<Vec<_>>()
            .into()
    }

    async fn execute(&self, call: &ToolCall, ctx: &CallContext) -> Result<ToolOutput, ToolError> {
        if !self.allows(&call.name) {
            return Err(ToolError::not_found(format!(
                "tool `{}` is not available in this step; available: {}",
                call.name,
                self.specs()
                    .iter()
                    .map(|s| s.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        self.inner.execute(call, ctx).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Sleepy(ToolSpec, u64);

    #[async_trait]
    impl Tool for Sleepy {
        fn spec(&self) -> &ToolSpec {
            &self.0
        }
        async fn call(&self, _args: &Value, _ctx: &CallContext) -> Result<ToolOutput, ToolError> {
            tokio::time::sleep(Duration::from_millis(self.1)).await;
            Ok(ToolOutput::text("awake"))
        }
    }

    fn sleepy(name: &str, ms: u64) -> Arc<dyn Tool> {
        Arc::new(Sleepy(ToolSpec::new(name, "Sleeps."), ms))
    }

    #[tokio::test]
    async fn limits_and_lookups() {
        let tools = ToolBox::new()
            .with_tool(sleepy("fast", 0))
            .unwrap()
            .with_tool(sleepy("slow", 5_000))
            .unwrap()
            .with_timeout(Duration::from_millis(20))
            .with_max_argument_bytes(16);
        let ctx = CallContext::default();
        assert!(tools.execute(&ToolCall::new("1", "fast", "{}"), &ctx).await.is_ok());
        let e = tools
            .execute(&ToolCall::new("2", "slow", "{}"), &ctx)
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ToolErrorKind::Timeout);
        let e = tools
            .execute(&ToolCall::new("3", "fast", r#"{"padding": "xxxxxxxxxxxx"}"#), &ctx)
            .await
            .unwrap_err();
        assert!(e.message().contains("limit is 16"), "{e}");
        let e = tools
            .execute(&ToolCall::new("4", "nope", "{}"), &ctx)
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ToolErrorKind::NotFound);
        assert!(e.message().contains("fast, slow"));

        let only_fast = FilteredExecutor::new(Arc::new(tools.clone()), vec!["f*".into()]);
        assert_eq!(only_fast.specs().len(), 1);
        let e = only_fast
            .execute(&ToolCall::new("5", "slow", "{}"), &ctx)
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ToolErrorKind::NotFound);
        assert_eq!(tools.select(&["s*".to_string()]).names().collect::<Vec<_>>(), ["slow"]);
    }

    #[test]
    fn building_errors() {
        let e = ToolBox::new()
            .with_tool(sleepy("a", 0))
            .unwrap()
            .with_tool(sleepy("a", 0))
            .unwrap_err();
        assert!(matches!(e, ToolBoxError::DuplicateName(n) if n == "a"));
        let bad: Arc<dyn Tool> = Arc::new(Sleepy(
            ToolSpec::new("b", "").with_input_schema(json!({"type": "no-such-type"})),
            0,
        ));
        let e = ToolBox::new().with_tool(bad).unwrap_err();
        assert!(
            e.to_string().starts_with("tool `b`: the input schema is invalid"),
            "{e}"
        );
    }
}
