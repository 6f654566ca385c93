//! Built-in tools with real behaviour: `current_time` (IANA time zones),
//! `json_query` (JSON Pointer and a small path syntax). The
//! `search_tools` / `call_tool` pair that an [`Executor`](crate::Executor)
//! adds with [`ExecutorBuilder::with_discovery_tools`](crate::ExecutorBuilder::with_discovery_tools)
//! is listed by [`builtin_specs`] too.

use std::sync::Arc;

use toolplane_core::{Tool, ToolSpec};

mod current_time;
mod json_query;

pub use crate::names::{CALL_TOOL, SEARCH_TOOLS};
pub use current_time::CurrentTime;
pub use json_query::{JsonQuery, query_json};

/// `current_time` and `json_query`, ready to register.
pub fn builtin_tools() -> Vec<Arc<dyn Tool>> {
    vec![Arc::new(CurrentTime::new()), Arc::new(JsonQuery::new())]
}

/// The definitions of every built-in tool, the discovery pair included,
/// sorted by name (what `toolplane tools` prints).
pub fn builtin_specs() -> Vec<ToolSpec> {
    let mut specs: Vec<ToolSpec> = builtin_tools().iter().map(|t| t.spec().clone()).collect();
    specs.extend(crate::discovery::discovery_specs());
    specs.sort_by(|a, b| a.name.cmp(&b.name));
    specs
}
