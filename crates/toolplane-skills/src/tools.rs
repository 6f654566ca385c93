//! The internal tools a model uses to open skills, and the guard that keeps
//! calls inside an active skill's allowed tools.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{Value, json};
use toolplane_core::{
    CallContext, Tool, ToolError, ToolErrorKind, ToolInterceptor, ToolInvocation, ToolNext, ToolOutput, ToolSpec,
};

use crate::{SkillError, SkillErrorKind, SkillSession};

/// The name of the tool that activates a skill.
pub const ACTIVATE_TOOL: &str = "skills.activate";
/// The name of the tool that reads a skill's resource file.
pub const READ_RESOURCE_TOOL: &str = "skills.read_resource";

fn to_tool_error(e: SkillError) -> ToolError {
    let kind = match e.kind() {
        SkillErrorKind::UnknownSkill => ToolErrorKind::NotFound,
        SkillErrorKind::InvalidResourcePath | SkillErrorKind::ResourceTooLarge => ToolErrorKind::InvalidArguments,
        SkillErrorKind::Io => ToolErrorKind::Upstream,
        _ => ToolErrorKind::Internal,
    };
    ToolError::new(kind, e.to_string())
}

fn string_arg<'a>(args: &'a Value, key: &str) -> Result<&'a str, ToolError> {
    args.get(key)
        .and_then(Value::as_str)
        .ok_or_else(|| ToolError::invalid_arguments(format!("/{key}: a string is required")))
}

/// `skills.activate {"name": ...}`: activates a skill and returns its instructions.
#[derive(Debug)]
pub struct ActivateSkillTool {
    session: Arc<SkillSession>,
    spec: ToolSpec,
}

impl ActivateSkillTool {
    /// The tool over a session.
    pub fn new(session: Arc<SkillSession>) -> Self {
        let spec = ToolSpec::new(
            ACTIVATE_TOOL,
            "Load a skill's full instructions by name before following it. Returns the instructions and the skill's resource files.",
        )
        .with_input_schema(json!({
            "type": "object",
            "properties": {"name": {"type": "string", "description": "The skill's name from the catalog."}},
            "required": ["name"],
            "additionalProperties": false
        }))
        .with_annotations(toolplane_core::ToolAnnotations {
            read_only: Some(true),
            idempotent: Some(true),
            ..Default::default()
        });
        Self { session, spec }
    }
}

#[async_trait]
impl Tool for ActivateSkillTool {
    fn spec(&self) -> &ToolSpec {
        &self.spec
    }

    async fn call(&self, args: &Value, _ctx: &CallContext) -> Result<ToolOutput, ToolError> {
        let name = string_arg(args, "name")?;
        let body = self.session.activate(name).map_err(to_tool_error)?;
        let resources = self
            .session
            .skills()
            .get(name)
            .map(|s| s.resources().to_vec())
            .unwrap_or_default();
        Ok(ToolOutput::json(
            json!({"name": name, "instructions": body, "resources": resources}),
        ))
    }
}

/// `skills.read_resource {"skill": ..., "path": ...}`: reads one resource file
/// of an active skill, confined to its folder.
#[derive(Debug)]
pub struct ReadResourceTool {
    session: Arc<SkillSession>,
    spec: ToolSpec,
}

impl ReadResourceTool {
    /// The tool over a session.
    pub fn new(session: Arc<SkillSession>) -> Self {
        let spec = ToolSpec::new(
            READ_RESOURCE_TOOL,
            "Read a resource file of an active skill, by its path relative to the skill folder.",
        )
        .with_input_schema(json!({
            "type": "object",
            "properties": {
                "skill": {"type": "string", "description": "The active skill's name."},
                "path": {"type": "string", "description": "The resource path, e.g. `reference/forms.md`."}
            },
            "required": ["skill", "path"],
            "additionalProperties": false
        }))
        .with_annotations(toolplane_core::ToolAnnotations {
            read_only: Some(true),
            idempotent: Some(true),
            ..Default::default()
        });
        Self { session, spec }
    }
}

#[async_trait]
impl Tool for ReadResourceTool {
    fn spec(&self) -> &ToolSpec {
        &self.spec
    }

    async fn call(&self, args: &Value, _ctx: &CallContext) -> Result<ToolOutput, ToolError> {
        let skill = string_arg(args, "skill")?;
        let path = string_arg(args, "path")?;
        self.session
            .read_resource(skill, path)
            .map(ToolOutput::text)
            .map_err(to_tool_error)
    }
}

/// Refuses, with [`ToolErrorKind::PermissionDenied`], calls to tools that the
/// active skills' `allowed-tools` leave out.
#[derive(Debug)]
pub struct SkillToolGuard {
    session: Arc<SkillSession>,
}

impl SkillToolGuard {
    /// A guard over a session.
    pub fn new(session: Arc<SkillSession>) -> Self {
        Self { session }
    }
}

#[async_trait]
impl ToolInterceptor for SkillToolGuard {
    async fn intercept(
        &self,
        inv: &ToolInvocation<'_>,
        ctx: &CallContext,
        next: ToolNext<'_>,
    ) -> Result<ToolOutput, ToolError> {
        if !self.session.allows_tool(&inv.spec.name) {
            return Err(ToolError::permission_denied(format!(
                "tool `{}` is outside the allowed tools of the active skills ({})",
                inv.spec.name,
                self.session.active().join(", ")
            )));
        }
        next.run(inv, ctx).await
    }
}
