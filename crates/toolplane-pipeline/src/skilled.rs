//! Skills on top of any tool executor.

use std::sync::Arc;

use async_trait::async_trait;
use toolplane_core::{CallContext, ToolCall, ToolError, ToolExecutor, ToolOutput, ToolSpec};
use toolplane_registry::{Executor, RegistryError, ToolRegistry};
use toolplane_skills::{ACTIVATE_TOOL, READ_RESOURCE_TOOL, SkillSession};

/// Adds a skill session to any executor (the registry's, a filtered view,
/// your own): the model also gets `skills.activate` and
/// `skills.read_resource`, the offered tools narrow to what the active skills
/// allow, and calls outside them are refused with `permission_denied`.
///
/// ```
/// use std::sync::Arc;
/// use toolplane_pipeline::{SkillExecutor, ToolExecutor};
/// use toolplane_registry::{Executor, ToolRegistry};
/// use toolplane_skills::{SkillSession, SkillSet};
/// let session = SkillSession::new(Arc::new(SkillSet::new()));
/// let tools = SkillExecutor::new(Arc::new(Executor::new(ToolRegistry::new())), session).unwrap();
/// let names: Vec<String> = tools.specs().iter().map(|s| s.name.clone()).collect();
/// assert_eq!(names, ["skills.activate", "skills.read_resource"]);
/// ```
#[derive(Debug, Clone)]
pub struct SkillExecutor {
    inner: Arc<dyn ToolExecutor>,
    session: Arc<SkillSession>,
    skill_tools: Executor,
}

impl SkillExecutor {
    /// Wraps `inner` with `session`.
    ///
    /// # Errors
    /// Only if the registry refused the skill tools, which it does not.
    pub fn new(inner: Arc<dyn ToolExecutor>, session: Arc<SkillSession>) -> Result<Self, RegistryError> {
        let skill_tools = Executor::new(ToolRegistry::from_tools(session.tools())?);
        Ok(Self {
            inner,
            session,
            skill_tools,
        })
    }

    /// The session.
    pub fn session(&self) -> &Arc<SkillSession> {
        &self.session
    }
}

#[async_trait]
impl ToolExecutor for SkillExecutor {
    fn specs(&self) -> Arc<[ToolSpec]> {
        let inner = self.inner.specs();
        let mut specs = self.session.narrow(&inner);
        specs.extend(self.skill_tools.specs().iter().cloned());
        specs.into()
    }

    async fn execute(&self, call: &ToolCall, ctx: &CallContext) -> Result<ToolOutput, ToolError> {
        if call.name == ACTIVATE_TOOL || call.name == READ_RESOURCE_TOOL {
            return self.skill_tools.execute(call, ctx).await;
        }
        if !self.session.allows_tool(&call.name) {
            return Err(ToolError::permission_denied(format!(
                "tool `{}` is outside the allowed tools of the active skills ({})",
                call.name,
                self.session.active().join(", ")
            )));
        }
        self.inner.execute(call, ctx).await
    }
}
