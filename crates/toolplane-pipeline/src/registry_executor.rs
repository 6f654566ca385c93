//! The registry's validating [`Executor`](toolplane_registry::Executor) as the
//! loop's [`ToolExecutor`]: the usual way to give a run the tools of a
//! [`ToolRegistry`](toolplane_registry::ToolRegistry), with its schema
//! validation, limits and interceptor chain.

use async_trait::async_trait;
use std::sync::Arc;
use toolplane_core::{CallContext, ToolCall, ToolError, ToolOutput, ToolSpec};
use toolplane_registry::Executor;

use crate::ToolExecutor;

#[async_trait]
impl ToolExecutor for Executor {
    fn specs(&self) -> Arc<[ToolSpec]> {
        Executor::specs(self)
    }

    async fn execute(&self, call: &ToolCall, ctx: &CallContext) -> Result<ToolOutput, ToolError> {
        Executor::execute(self, call, ctx).await
    }
}
