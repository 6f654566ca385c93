//! [`FilteredExecutor`]: a view of any [`ToolExecutor`] limited to some tool names.

use std::sync::Arc;

use async_trait::async_trait;
use toolplane_core::{CallContext, ToolCall, ToolError, ToolExecutor, ToolOutput, ToolSpec};
use toolplane_skills::tool_pattern_matches;

/// An executor that offers and runs only the tools of `inner` whose names
/// match one of a list of patterns (`*` wildcards); other calls get
/// [`ToolErrorKind::NotFound`](toolplane_core::ToolErrorKind::NotFound), as
/// if the tool did not exist. A declarative pipeline's `tools:` list is one.
///
/// ```
/// use std::sync::Arc;
/// use toolplane_core::{EchoTool, ToolExecutor, ToolSpec};
/// use toolplane_pipeline::FilteredExecutor;
/// use toolplane_registry::Executor;
/// let echo = |name: &str| Arc::new(EchoTool::new(ToolSpec::new(name, "Echoes."))) as _;
/// let all = Executor::from_tools([echo("github.issues_create"), echo("github.issues_list"), echo("slack.post")])?;
/// let github = FilteredExecutor::new(Arc::new(all), vec!["github.*".into()]);
/// assert_eq!(github.specs().len(), 2);
/// # Ok::<(), toolplane_registry::RegistryError>(())
/// ```
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
    use std::time::Duration;
    use toolplane_core::{Tool, ToolErrorKind};
    use toolplane_registry::{Executor, ExecutorConfig, ToolRegistry};

    #[derive(Debug)]
    struct Sleepy(ToolSpec, u64);

    #[async_trait]
    impl Tool for Sleepy {
        fn spec(&self) -> &ToolSpec {
            &self.0
        }
        async fn call(&self, _args: &serde_json::Value, _ctx: &CallContext) -> Result<ToolOutput, ToolError> {
            tokio::time::sleep(Duration::from_millis(self.1)).await;
            Ok(ToolOutput::text("awake"))
        }
    }

    fn sleepy(name: &str, ms: u64) -> Arc<dyn Tool> {
        Arc::new(Sleepy(ToolSpec::new(name, "Sleeps."), ms))
    }

    #[tokio::test]
    async fn a_filter_hides_and_refuses_what_it_does_not_match() {
        let registry = ToolRegistry::from_tools([sleepy("fast", 0), sleepy("slow", 5_000)]).unwrap();
        let tools = Executor::builder(registry)
            .config(ExecutorConfig {
                timeout: Some(Duration::from_millis(20)),
                ..ExecutorConfig::default()
            })
            .build()
            .unwrap();
        let ctx = CallContext::default();
        let e = tools
            .execute(&ToolCall::new("2", "slow", "{}"), &ctx)
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ToolErrorKind::Timeout);

        let only_fast = FilteredExecutor::new(Arc::new(tools), vec!["f*".into()]);
        assert_eq!(only_fast.specs().len(), 1);
        assert!(only_fast.execute(&ToolCall::new("1", "fast", "{}"), &ctx).await.is_ok());
        let e = only_fast
            .execute(&ToolCall::new("5", "slow", "{}"), &ctx)
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ToolErrorKind::NotFound);
        assert!(e.message().contains("available: fast"), "{e}");
    }
}
