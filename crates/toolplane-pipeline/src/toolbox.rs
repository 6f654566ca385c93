//! [`ToolBox`], kept for one release as a thin wrapper over the registry's
//! [`Executor`]: it no longer validates or limits anything itself.
#![allow(deprecated)]

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use toolplane_core::{CallContext, Tool, ToolCall, ToolError, ToolExecutor, ToolInterceptor, ToolOutput, ToolSpec};
use toolplane_registry::{ArgumentLimits, Executor, ExecutorConfig, RegistryError, ToolRegistry};
use toolplane_skills::{SkillSession, tool_pattern_matches};

use crate::SkillExecutor;

/// The largest argument text a [`ToolBox`] accepted by default: 256 KiB.
#[deprecated(
    since = "0.1.0",
    note = "configure `ExecutorConfig::arguments.max_bytes` of the registry's `Executor`"
)]
pub const DEFAULT_MAX_ARGUMENT_BYTES: usize = 256 * 1024;

/// Why a [`ToolBox`] could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
#[deprecated(since = "0.1.0", note = "use `toolplane_registry::RegistryError`")]
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
    /// Another refusal of the registry (a name it does not accept, a look-alike).
    #[error(transparent)]
    Registry(RegistryError),
}

impl From<RegistryError> for ToolBoxError {
    fn from(e: RegistryError) -> Self {
        match e {
            RegistryError::Duplicate(name) => Self::DuplicateName(name),
            RegistryError::InvalidSchema { tool, message } => Self::InvalidSchema { tool, message },
            other => Self::Registry(other),
        }
    }
}

/// A fixed list of tools with interceptors and limits, now built on the
/// registry's validating [`Executor`] (the one validating implementation).
///
/// Use `Executor::from_tools(tools)` for a quick set, `Executor::builder` for
/// interceptors and limits, [`FilteredExecutor`](crate::FilteredExecutor)
/// instead of [`ToolBox::select`] and [`SkillExecutor`] instead of
/// [`ToolBox::with_skills`]. Differences from the old `ToolBox`: tool names
/// follow the registry's name policy, and [`ToolExecutor::specs`] lists the
/// tools sorted by name.
#[deprecated(
    since = "0.1.0",
    note = "use the registry's `Executor` (`Executor::from_tools` or `Executor::builder`), with `FilteredExecutor` and `SkillExecutor`"
)]
#[derive(Clone)]
pub struct ToolBox {
    tools: Vec<Arc<dyn Tool>>,
    interceptors: Vec<Arc<dyn ToolInterceptor>>,
    timeout: Option<Duration>,
    max_argument_bytes: usize,
    executor: Arc<dyn ToolExecutor>,
    skills: Option<Arc<SkillSession>>,
}

impl fmt::Debug for ToolBox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ToolBox").field("executor", &self.executor).finish()
    }
}

impl Default for ToolBox {
    fn default() -> Self {
        Self::new()
    }
}

impl ToolBox {
    /// An empty tool box with no interceptors, no timeout and a 256 KiB argument limit.
    pub fn new() -> Self {
        Self {
            tools: Vec::new(),
            interceptors: Vec::new(),
            timeout: None,
            max_argument_bytes: DEFAULT_MAX_ARGUMENT_BYTES,
            executor: Arc::new(Executor::new(ToolRegistry::new())),
            skills: None,
        }
    }

    fn rebuild(mut self) -> Result<Self, ToolBoxError> {
        let registry = ToolRegistry::from_tools(self.tools.iter().cloned())?;
        let config = ExecutorConfig {
            timeout: self.timeout,
            arguments: ArgumentLimits {
                max_bytes: self.max_argument_bytes,
                ..ArgumentLimits::default()
            },
            ..ExecutorConfig::default()
        };
        let exec = Executor::builder(registry)
            .config(config)
            .interceptors(self.interceptors.iter().cloned())
            .build()?;
        self.executor = match &self.skills {
            Some(session) => Arc::new(SkillExecutor::new(Arc::new(exec), Arc::clone(session))?),
            None => Arc::new(exec),
        };
        Ok(self)
    }

    /// Adds a tool, compiling its input schema.
    ///
    /// # Errors
    /// [`ToolBoxError::DuplicateName`], [`ToolBoxError::InvalidSchema`], [`ToolBoxError::Registry`].
    pub fn with_tool(mut self, tool: Arc<dyn Tool>) -> Result<Self, ToolBoxError> {
        self.tools.push(tool);
        self.rebuild()
    }

    /// Adds several tools.
    ///
    /// # Errors
    /// As [`ToolBox::with_tool`].
    pub fn with_tools(mut self, tools: impl IntoIterator<Item = Arc<dyn Tool>>) -> Result<Self, ToolBoxError> {
        self.tools.extend(tools);
        self.rebuild()
    }

    /// Appends an interceptor (the first added runs first).
    pub fn with_interceptor(mut self, interceptor: Arc<dyn ToolInterceptor>) -> Self {
        self.interceptors.push(interceptor);
        self.rebuild_or_keep()
    }

    /// Bounds each call's run time (the context's deadline also applies).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self.rebuild_or_keep()
    }

    /// Sets the largest argument text accepted, in bytes.
    pub fn with_max_argument_bytes(mut self, max: usize) -> Self {
        self.max_argument_bytes = max;
        self.rebuild_or_keep()
    }

    /// Adds the skill tools and narrows the offered tools to what the active skills allow.
    ///
    /// # Errors
    /// [`ToolBoxError::DuplicateName`] when the box already has a tool of a skill tool's name.
    pub fn with_skills(mut self, session: Arc<SkillSession>) -> Result<Self, ToolBoxError> {
        self.skills = Some(session);
        self.rebuild()
    }

    /// A tool box holding only the tools whose names match one of `patterns`.
    pub fn select(&self, patterns: &[String]) -> Self {
        let mut out = self.clone();
        out.tools
            .retain(|t| patterns.iter().any(|p| tool_pattern_matches(p, &t.spec().name)));
        out.rebuild_or_keep()
    }

    /// The names of the tools, in the order they were added.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.tools.iter().map(|t| t.spec().name.as_str())
    }

    /// Only the limits changed, and those cannot make a build fail that
    /// succeeded before; keep the previous executor if it somehow does.
    fn rebuild_or_keep(self) -> Self {
        let kept = self.clone();
        self.rebuild().unwrap_or(kept)
    }
}

#[async_trait]
impl ToolExecutor for ToolBox {
    fn specs(&self) -> Arc<[ToolSpec]> {
        self.executor.specs()
    }

    async fn execute(&self, call: &ToolCall, ctx: &CallContext) -> Result<ToolOutput, ToolError> {
        self.executor.execute(call, ctx).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;
    use toolplane_core::{EchoTool, ToolErrorKind};

    fn echo(name: &str) -> Arc<dyn Tool> {
        Arc::new(EchoTool::new(ToolSpec::new(name, "Echoes.")))
    }

    /// Code written against the old `ToolBox` still builds and behaves,
    /// now through the registry's executor.
    #[tokio::test]
    async fn the_deprecated_tool_box_runs_on_the_registry_executor() {
        let tools = ToolBox::new()
            .with_tool(echo("fast"))
            .unwrap()
            .with_tool(echo("slow"))
            .unwrap()
            .with_timeout(Duration::from_secs(5))
            .with_max_argument_bytes(16);
        let ctx = CallContext::new("r");
        assert!(tools.execute(&ToolCall::new("1", "fast", "{}"), &ctx).await.is_ok());
        let e = tools
            .execute(&ToolCall::new("2", "fast", r#"{"padding": "xxxxxxxxxxxx"}"#), &ctx)
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ToolErrorKind::InvalidArguments);
        assert!(e.message().contains("limit is 16 bytes"), "{e}");
        assert_eq!(tools.select(&["s*".to_string()]).names().collect::<Vec<_>>(), ["slow"]);
        let e = ToolBox::new()
            .with_tool(echo("a"))
            .unwrap()
            .with_tool(echo("a"))
            .unwrap_err();
        assert!(matches!(e, ToolBoxError::DuplicateName(n) if n == "a"));
    }
}
