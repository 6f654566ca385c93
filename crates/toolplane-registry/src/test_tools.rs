//! Tools for unit tests.

use async_trait::async_trait;
use serde_json::Value;
use toolplane_core::{CallContext, Tool, ToolError, ToolOutput, ToolSpec};

/// Returns "ok".
#[derive(Debug)]
pub(crate) struct NoOp(ToolSpec);

impl NoOp {
    pub(crate) fn new(spec: ToolSpec) -> Self {
        Self(spec)
    }
}

#[async_trait]
impl Tool for NoOp {
    fn spec(&self) -> &ToolSpec {
        &self.0
    }
    async fn call(&self, _args: &Value, _ctx: &CallContext) -> Result<ToolOutput, ToolError> {
        Ok(ToolOutput::text("ok"))
    }
}
