//! Tools: what a model may call, and how a call arrives.

use std::fmt;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{CallContext, ToolError};

/// Behaviour hints about a tool, in the spirit of MCP's tool annotations.
///
/// Hints are advisory: a permission policy may use them only to *tighten* what
/// it allows (a destructive tool defaults to "ask"), never to loosen it.
///
/// ```
/// use toolplane_core::ToolAnnotations;
/// let a = ToolAnnotations { destructive: Some(true), ..Default::default() };
/// assert!(a.is_destructive());
/// assert!(!a.is_read_only());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ToolAnnotations {
    /// A human-readable title.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The tool does not change its environment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read_only: Option<bool>,
    /// The tool may delete or overwrite data.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub destructive: Option<bool>,
    /// Calling the tool twice with the same arguments has no further effect.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub idempotent: Option<bool>,
    /// The tool reaches entities outside the host (the internet, a third-party API).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub open_world: Option<bool>,
    /// Free-form tags used for filtering and search (`"github"`, `"issues"`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
}

impl ToolAnnotations {
    /// True when the tool is declared read-only.
    pub fn is_read_only(&self) -> bool {
        self.read_only == Some(true)
    }

    /// True when the tool is declared destructive, or when it is declared
    /// *not* read-only and says nothing about destructiveness (MCP's default
    /// for a tool that writes).
    pub fn is_destructive(&self) -> bool {
        match self.destructive {
            Some(d) => d,
            None => !self.is_read_only() && self.read_only.is_some(),
        }
    }
}

/// The definition of a tool as the model sees it.
///
/// `input_schema` is a JSON Schema (draft 2020-12) describing one JSON object.
/// It is the *internal* form that the executor validates against; provider
/// schema profiles are derived from it when tools are sent to a provider.
///
/// ```
/// use toolplane_core::ToolSpec;
/// use serde_json::json;
/// let spec = ToolSpec::new("get_weather", "Current weather for a city.")
///     .with_input_schema(json!({
///         "type": "object",
///         "properties": {"city": {"type": "string"}},
///         "required": ["city"]
///     }))
///     .with_tag("weather");
/// assert_eq!(spec.name, "get_weather");
/// assert_eq!(spec.annotations.tags, ["weather"]);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolSpec {
    /// The tool's name, unique within a registry (`github.issues_create`).
    pub name: String,
    /// What the tool does, written for a model.
    #[serde(default)]
    pub description: String,
    /// JSON Schema of the arguments object.
    pub input_schema: Value,
    /// JSON Schema of the result, when the tool declares one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_schema: Option<Value>,
    /// Behaviour hints and tags.
    #[serde(default)]
    pub annotations: ToolAnnotations,
}

impl ToolSpec {
    /// A tool that takes an empty object; set the schema with [`ToolSpec::with_input_schema`].
    pub fn new(name: impl Into<String>, description: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            description: description.into(),
            input_schema: serde_json::json!({"type": "object", "properties": {}}),
            output_schema: None,
            annotations: ToolAnnotations::default(),
        }
    }

    /// Replaces the input schema.
    pub fn with_input_schema(mut self, schema: Value) -> Self {
        self.input_schema = schema;
        self
    }

    /// Sets the output schema.
    pub fn with_output_schema(mut self, schema: Value) -> Self {
        self.output_schema = Some(schema);
        self
    }

    /// Replaces the annotations.
    pub fn with_annotations(mut self, annotations: ToolAnnotations) -> Self {
        self.annotations = annotations;
        self
    }

    /// Adds one tag.
    pub fn with_tag(mut self, tag: impl Into<String>) -> Self {
        self.annotations.tags.push(tag.into());
        self
    }
}

/// A model's request to run one tool.
///
/// `arguments` is the raw JSON text exactly as the model produced it. Keeping the
/// text (rather than a parsed value) lets the executor bound its size before
/// parsing, reject duplicate keys, and send the model's own words back to it.
///
/// ```
/// use toolplane_core::ToolCall;
/// let call = ToolCall::new("call_1", "get_weather", r#"{"city":"Paris"}"#);
/// assert_eq!(call.arguments_value().unwrap()["city"], "Paris");
/// let same = ToolCall::from_value("call_1", "get_weather", &serde_json::json!({"city": "Paris"}));
/// assert_eq!(same, call);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolCall {
    /// The provider's id for this call, echoed back with the result.
    pub id: String,
    /// The tool's name as the model wrote it.
    pub name: String,
    /// The arguments as JSON text (an object, unless the model erred).
    pub arguments: String,
}

impl ToolCall {
    /// A call with raw JSON argument text.
    pub fn new(id: impl Into<String>, name: impl Into<String>, arguments: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            name: name.into(),
            arguments: arguments.into(),
        }
    }

    /// A call whose arguments are serialized from a JSON value.
    pub fn from_value(id: impl Into<String>, name: impl Into<String>, arguments: &Value) -> Self {
        Self::new(id, name, arguments.to_string())
    }

    /// Parses the argument text. An empty text counts as `{}`, as several
    /// providers send it for tools without parameters.
    pub fn arguments_value(&self) -> Result<Value, serde_json::Error> {
        if self.arguments.trim().is_empty() {
            return Ok(Value::Object(Default::default()));
        }
        serde_json::from_str(&self.arguments)
    }
}

/// What a tool returns on success.
///
/// `content` is any JSON value; a string is given to the model as it is, other
/// values as compact JSON. `is_error` marks a result that completed but reports
/// a failure the model should read (an HTTP 404, say), as opposed to a
/// [`ToolError`], which means the tool could not run.
///
/// ```
/// use toolplane_core::ToolOutput;
/// assert_eq!(ToolOutput::text("hi").to_model_text(), "hi");
/// assert_eq!(ToolOutput::json(serde_json::json!({"a": 1})).to_model_text(), r#"{"a":1}"#);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolOutput {
    /// The result.
    pub content: Value,
    /// The tool ran but reports a failure.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub is_error: bool,
    /// The content was cut to fit an output limit.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub truncated: bool,
}

impl ToolOutput {
    /// A JSON result.
    pub fn json(content: Value) -> Self {
        Self {
            content,
            is_error: false,
            truncated: false,
        }
    }

    /// A text result.
    pub fn text(text: impl Into<String>) -> Self {
        Self::json(Value::String(text.into()))
    }

    /// Marks the result as a reported failure.
    pub fn into_error(mut self) -> Self {
        self.is_error = true;
        self
    }

    /// The text given to the model: strings verbatim, other values as compact JSON.
    pub fn to_model_text(&self) -> String {
        match &self.content {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        }
    }
}

/// A validated call on its way through the tool interceptor chain.
///
/// Interceptors (permissions, limits, audit) see the original call, the parsed
/// and schema-validated arguments, and the definition of the tool that will run.
#[derive(Debug, Clone)]
pub struct ToolInvocation<'a> {
    /// The call as the model made it.
    pub call: &'a ToolCall,
    /// The parsed arguments, already validated against `spec.input_schema`.
    pub args: &'a Value,
    /// The definition of the tool being called.
    pub spec: &'a ToolSpec,
}

/// Something a model can call.
///
/// Required: [`Tool::spec`] and [`Tool::call`]. The trait is object safe; a
/// registry holds `Arc<dyn Tool>`.
///
/// Arguments arrive parsed and already validated against the input schema when
/// the tool runs through an executor; a tool may still reject them with
/// [`ToolError::invalid_arguments`].
///
/// ```
/// use async_trait::async_trait;
/// use serde_json::{json, Value};
/// use toolplane_core::{CallContext, Tool, ToolError, ToolOutput, ToolSpec};
///
/// #[derive(Debug)]
/// struct Echo(ToolSpec);
///
/// #[async_trait]
/// impl Tool for Echo {
///     fn spec(&self) -> &ToolSpec { &self.0 }
///     async fn call(&self, args: &Value, _ctx: &CallContext) -> Result<ToolOutput, ToolError> {
///         Ok(ToolOutput::json(args.clone()))
///     }
/// }
///
/// # tokio_test();
/// # fn tokio_test() {
/// # let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
/// # rt.block_on(async {
/// let echo = Echo(ToolSpec::new("echo", "Returns its arguments."));
/// let out = echo.call(&json!({"x": 1}), &CallContext::default()).await.unwrap();
/// assert_eq!(out.content, json!({"x": 1}));
/// # });
/// # }
/// ```
#[async_trait]
pub trait Tool: Send + Sync + fmt::Debug {
    /// The tool's definition.
    fn spec(&self) -> &ToolSpec;

    /// Runs the tool.
    async fn call(&self, args: &Value, ctx: &CallContext) -> Result<ToolOutput, ToolError>;
}
