//! [`McpTool`]: one tool of an MCP server, as a toolplane [`Tool`].

use std::fmt;
use std::sync::{Arc, Weak};

use async_trait::async_trait;
use serde_json::Value;
use toolplane_core::{CallContext, Tool, ToolError, ToolOutput, ToolSpec};

use super::Inner;

/// One tool of an MCP server. Its spec carries the server's input schema (the
/// executor validates arguments against it before anything is sent), its
/// output schema and its annotations as hints, and the tags `mcp` and
/// `mcp:<server>`.
///
/// A result with `structuredContent` is checked against the tool's
/// `outputSchema`; a mismatch is an `upstream` error rather than data the
/// model would trust.
pub struct McpTool {
    spec: ToolSpec,
    remote: String,
    client: Weak<Inner>,
    output_validator: Option<Arc<jsonschema::Validator>>,
}

impl fmt::Debug for McpTool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("McpTool")
            .field("name", &self.spec.name)
            .field("remote", &self.remote)
            .finish()
    }
}

impl McpTool {
    pub(crate) fn new(spec: ToolSpec, remote: String, client: Weak<Inner>) -> Self {
        // A schema that does not compile is not used to judge results; the
        // input schema is still checked by the registry at registration.
        let output_validator = spec
            .output_schema
            .as_ref()
            .and_then(|s| jsonschema::validator_for(s).ok())
            .map(Arc::new);
        Self {
            spec,
            remote,
            client,
            output_validator,
        }
    }

    /// The tool's name on its server.
    pub fn remote_name(&self) -> &str {
        &self.remote
    }
}

#[async_trait]
impl Tool for McpTool {
    fn spec(&self) -> &ToolSpec {
        &self.spec
    }

    async fn call(&self, args: &Value, ctx: &CallContext) -> Result<ToolOutput, ToolError> {
        let Some(client) = self.client.upgrade() else {
            return Err(ToolError::upstream(format!(
                "`{}`: the MCP client was closed (every McpClient handle was dropped)",
                self.spec.name
            )));
        };
        let out = client.call(&self.remote, args, ctx).await?;
        if let Some(validator) = &self.output_validator
            && !out.is_error
            && out.content.is_object()
        {
            let problems: Vec<String> = validator
                .iter_errors(&out.content)
                .take(5)
                .map(|e| format!("{}: {e}", e.instance_path()))
                .collect();
            if !problems.is_empty() {
                return Err(ToolError::upstream(format!(
                    "`{}`: the server's structuredContent does not match its outputSchema: {}",
                    self.spec.name,
                    problems.join("; ")
                )));
            }
        }
        Ok(out)
    }
}
