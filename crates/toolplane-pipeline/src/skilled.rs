//! Skills on top of any tool executor.

use std::sync::Arc;

use async_trait::async_trait;
use toolplane_core::{CallContext, ToolCall, ToolError, ToolOutput, ToolSpec};
use toolplane_skills::{ACTIVATE_TOOL, READ_RESOURCE_TOOL, SkillSession};

use crate::{ToolBox, ToolBoxError, ToolExecutor};

/// Adds a skill session to any executor (the registry's, a [`ToolBox`], a
/// filtered view): the model also gets `skills.activate` and
/// `skills.read_resource`, the offered tools narrow to what the active skills
/// allow, and calls outside them are refused with `permission_denied`.
///
/// ```
/// use std::sync::Arc;
/// use toolplane_pipeline::{SkillExecutor, ToolBox, ToolExecutor};
/// use toolplane_skills::{SkillSession, SkillSet};
/// let session = SkillSession::new(Arc::new(SkillSet::new()));
/// let tools = SkillExecutor::new(Arc::new(ToolBox::new()), session).unwrap();
/// let names: Vec<String> = tools.specs().iter().map(|s| s.name.clone()).collect();
/// assert_eq!(names, ["skills.activate", "skills.read_resource"]);
/// ```
#[derive(Debug, Clone)]
pub struct SkillExecutor {
    inner: Arc<dyn ToolExecutor>,
    session: Arc<SkillSession>,
    skill_tools: ToolBox,
}

impl SkillExecutor {
    /// Wraps `inner` with `session`.
    ///
    /// # Errors
    /// Only if the skill tools' schemas failed to compile, which they do not.
    pub fn new(inner: Arc<dyn ToolExecutor>, session: Arc<SkillSession>) -> Result<Self, ToolBoxError> {
        let skill_tools = ToolBox::new().with_tools(session.tools())?;
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
