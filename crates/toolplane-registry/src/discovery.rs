//! `search_tools` and `call_tool`: a model works with a registry far larger
//! than one request may carry by searching it, then calling what it found.
//! [`ExecutorBuilder::with_discovery_tools`] adds the pair.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{Value, json};
use toolplane_core::{CallContext, Tool, ToolAnnotations, ToolCall, ToolError, ToolOutput, ToolSpec};

use crate::executor::{Executor, ExecutorBuilder, WeakExecutor};
use crate::names::{CALL_TOOL, SEARCH_TOOLS};
use crate::registry::{RegistryError, ToolFilter};

impl ExecutorBuilder {
    /// Registers `search_tools` and `call_tool`, which let a model find and
    /// run any registered tool without every definition in the request.
    /// `call_tool` runs its target with the same validation and interceptors
    /// as a direct call, inside the limits of the `call_tool` call itself.
    pub fn with_discovery_tools(mut self) -> Self {
        self.installers.push(install);
        self
    }
}

fn install(exec: &Executor) -> Result<(), RegistryError> {
    let weak = exec.downgrade();
    exec.register(Arc::new(SearchTools::new(weak.clone())))?;
    exec.register(Arc::new(CallTool::new(weak)))
}

/// True when `name` resolves to one of the discovery tools of `reg`.
fn is_discovery_tool(reg: &crate::ToolRegistry, name: &str) -> bool {
    reg.get(name).is_some_and(|t| {
        let n = t.spec().name.as_str();
        n == SEARCH_TOOLS || n == CALL_TOOL
    })
}

/// The definitions of `search_tools` and `call_tool`.
#[cfg_attr(not(feature = "builtin"), allow(dead_code))] // listed by builtin::builtin_specs
pub(crate) fn discovery_specs() -> [ToolSpec; 2] {
    [search_spec(), call_spec()]
}

fn gone() -> ToolError {
    ToolError::internal("the executor behind this tool has been dropped")
}

/// Finds registered tools by keywords (BM25 over names and descriptions) and
/// returns their definitions, so the model can call them with `call_tool`.
struct SearchTools {
    spec: ToolSpec,
    exec: WeakExecutor,
}

impl fmt::Debug for SearchTools {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SearchTools").finish_non_exhaustive()
    }
}

impl SearchTools {
    fn new(exec: WeakExecutor) -> Self {
        Self {
            spec: search_spec(),
            exec,
        }
    }
}

fn search_spec() -> ToolSpec {
    ToolSpec::new(
        SEARCH_TOOLS,
        "Search the catalogue of available tools by keywords and get the best matches with their input \
         schemas. Use it when no tool you have fits the task, then run a match with call_tool.",
    )
    .with_input_schema(json!({
        "type": "object",
        "properties": {
            "query": {"type": "string", "minLength": 1, "maxLength": 500,
                      "description": "Keywords describing what the tool should do."},
            "limit": {"type": "integer", "minimum": 1, "maximum": 50, "default": 5,
                      "description": "How many tools to return."},
            "namespace": {"type": "string", "description": "Only tools under this namespace (e.g. `github`)."}
        },
        "required": ["query"],
        "additionalProperties": false
    }))
    .with_annotations(ToolAnnotations {
        read_only: Some(true),
        idempotent: Some(true),
        open_world: Some(false),
        tags: vec!["discovery".into()],
        ..ToolAnnotations::default()
    })
}

#[async_trait]
impl Tool for SearchTools {
    fn spec(&self) -> &ToolSpec {
        &self.spec
    }

    async fn call(&self, args: &Value, _ctx: &CallContext) -> Result<ToolOutput, ToolError> {
        let exec = self.exec.upgrade().ok_or_else(gone)?;
        let query = args["query"].as_str().unwrap_or_default();
        let limit = args["limit"].as_u64().unwrap_or(5).clamp(1, 50) as usize;
        let mut filter = ToolFilter::default();
        if let Some(ns) = args["namespace"].as_str() {
            filter = filter.namespace(ns);
        }
        let tools = exec.with_registry(|reg| {
            // Two extra, in case the discovery tools themselves match.
            reg.search_filtered(query, limit + 2, &filter)
                .into_iter()
                .filter(|h| h.name != SEARCH_TOOLS && h.name != CALL_TOOL)
                .take(limit)
                .filter_map(|h| reg.get(&h.name).map(|t| t.spec().clone()))
                .map(|s| json!({"name": s.name, "description": s.description, "input_schema": s.input_schema}))
                .collect::<Vec<_>>()
        });
        let total = exec.with_registry(|reg| reg.len());
        Ok(ToolOutput::json(json!({"tools": tools, "registered": total})))
    }
}

/// Runs any registered tool by name, with the same validation, interceptors
/// and limits as a direct call.
struct CallTool {
    spec: ToolSpec,
    exec: WeakExecutor,
}

impl fmt::Debug for CallTool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallTool").finish_non_exhaustive()
    }
}

impl CallTool {
    fn new(exec: WeakExecutor) -> Self {
        Self {
            spec: call_spec(),
            exec,
        }
    }
}

fn call_spec() -> ToolSpec {
    ToolSpec::new(
        CALL_TOOL,
        "Call a tool found with search_tools by its name, with arguments that match its input schema.",
    )
    .with_input_schema(json!({
        "type": "object",
        "properties": {
            "name": {"type": "string", "minLength": 1, "description": "The tool's name, as search_tools returned it."},
            "arguments": {"type": "object", "description": "The tool's arguments.", "default": {}}
        },
        "required": ["name"],
        "additionalProperties": false
    }))
    .with_annotations(ToolAnnotations {
        tags: vec!["discovery".into()],
        ..ToolAnnotations::default()
    })
}

#[async_trait]
impl Tool for CallTool {
    fn spec(&self) -> &ToolSpec {
        &self.spec
    }

    async fn call(&self, args: &Value, ctx: &CallContext) -> Result<ToolOutput, ToolError> {
        let exec = self.exec.upgrade().ok_or_else(gone)?;
        let name = args["name"].as_str().unwrap_or_default();
        if exec.with_registry(|reg| is_discovery_tool(reg, name)) {
            return Err(ToolError::invalid_arguments(format!(
                "call `{name}` directly, not through {CALL_TOOL}"
            )));
        }
        let empty = Value::Object(Default::default());
        let arguments = args.get("arguments").unwrap_or(&empty);
        let call = ToolCall::from_value(format!("{CALL_TOOL}:{name}"), name, arguments);
        Box::pin(exec.execute(&call, ctx)).await
    }
}
