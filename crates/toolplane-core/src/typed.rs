//! Typed tools: a Rust async function becomes a [`Tool`], its input schema
//! derived from the argument type by schemars (JSON Schema 2020-12).

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::{CallContext, Tool, ToolError, ToolOutput, ToolSpec};

/// The JSON Schema (draft 2020-12) of `T`, as a tool input schema: the
/// `$schema` and `title` keys are dropped, `$defs` kept.
///
/// ```
/// #[derive(schemars::JsonSchema, serde::Deserialize)]
/// struct Args { city: String, days: Option<u8> }
/// let s = toolplane_core::input_schema_for::<Args>();
/// assert_eq!(s["type"], "object");
/// assert_eq!(s["required"], serde_json::json!(["city"]));
/// ```
pub fn input_schema_for<T: JsonSchema>() -> Value {
    let generator = schemars::generate::SchemaSettings::draft2020_12().into_generator();
    let schema = generator.into_root_schema_for::<T>();
    let mut value = schema.to_value();
    if let Value::Object(map) = &mut value {
        map.remove("$schema");
        map.remove("title");
    }
    value
}

/// A [`Tool`] made from an async function of typed arguments.
///
/// Build one with [`tool_fn`] or [`tool_fn_with_context`].
pub struct FnTool<Args, F> {
    spec: ToolSpec,
    f: F,
    _args: PhantomData<fn(Args)>,
}

impl<Args, F> FnTool<Args, F> {
    /// Replaces the spec's annotations, tags included.
    pub fn with_annotations(mut self, annotations: crate::ToolAnnotations) -> Self {
        self.spec.annotations = annotations;
        self
    }

    /// Adds a tag.
    pub fn with_tag(mut self, tag: impl Into<String>) -> Self {
        self.spec.annotations.tags.push(tag.into());
        self
    }
}

impl<Args, F> fmt::Debug for FnTool<Args, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FnTool")
            .field("spec", &self.spec)
            .finish_non_exhaustive()
    }
}

/// Turns `f`, an async function of `Args`, into a tool named `name`.
///
/// The function's output is serialized to JSON; strings reach the model as
/// they are.
///
/// ```
/// use serde::Deserialize;
/// use schemars::JsonSchema;
/// use toolplane_core::{tool_fn, CallContext, Tool, ToolError};
///
/// #[derive(Deserialize, JsonSchema)]
/// struct Add { a: i64, b: i64 }
///
/// let add = tool_fn("add", "Adds two integers.", |x: Add| async move { Ok::<_, ToolError>(x.a + x.b) });
/// assert_eq!(add.spec().input_schema["properties"]["a"]["type"], "integer");
/// # let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
/// # rt.block_on(async {
/// let out = add.call(&serde_json::json!({"a": 2, "b": 3}), &CallContext::default()).await.unwrap();
/// assert_eq!(out.content, 5);
/// # });
/// ```
pub fn tool_fn<Args, Out, F, Fut>(
    name: impl Into<String>,
    description: impl Into<String>,
    f: F,
) -> FnTool<Args, impl Fn(Args, CallContext) -> Fut + Send + Sync>
where
    Args: DeserializeOwned + JsonSchema + Send + 'static,
    Out: Serialize,
    F: Fn(Args) -> Fut + Send + Sync,
    Fut: Future<Output = Result<Out, ToolError>> + Send,
{
    tool_fn_with_context(name, description, move |args, _ctx| f(args))
}

/// Like [`tool_fn`], for a function that also takes the [`CallContext`].
pub fn tool_fn_with_context<Args, Out, F, Fut>(
    name: impl Into<String>,
    description: impl Into<String>,
    f: F,
) -> FnTool<Args, F>
where
    Args: DeserializeOwned + JsonSchema + Send + 'static,
    Out: Serialize,
    F: Fn(Args, CallContext) -> Fut + Send + Sync,
    Fut: Future<Output = Result<Out, ToolError>> + Send,
{
    FnTool {
        spec: ToolSpec::new(name, description).with_input_schema(input_schema_for::<Args>()),
        f,
        _args: PhantomData,
    }
}

#[async_trait]
impl<Args, Out, F, Fut> Tool for FnTool<Args, F>
where
    Args: DeserializeOwned + JsonSchema + Send + 'static,
    Out: Serialize,
    F: Fn(Args, CallContext) -> Fut + Send + Sync,
    Fut: Future<Output = Result<Out, ToolError>> + Send,
{
    fn spec(&self) -> &ToolSpec {
        &self.spec
    }

    async fn call(&self, args: &Value, ctx: &CallContext) -> Result<ToolOutput, ToolError> {
        let parsed = Args::deserialize(args)
            .map_err(|e| ToolError::invalid_arguments(format!("arguments of `{}`: {e}", self.spec.name)))?;
        let out = (self.f)(parsed, ctx.clone()).await?;
        let value = serde_json::to_value(out)
            .map_err(|e| ToolError::internal(format!("result of `{}` is not JSON: {e}", self.spec.name)))?;
        Ok(ToolOutput::json(value))
    }
}
