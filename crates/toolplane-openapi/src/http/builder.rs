//! [`OperationBuilder`]: an executable tool for one HTTP operation, written by
//! hand in a few lines when there is no OpenAPI description (or only a few
//! operations of a large one are wanted).
//!
//! The result is the same [`ConvertedTool`] that conversion produces, so it
//! runs with [`HttpTool`](super::HttpTool) like any converted operation.

use serde_json::{Map, Value, json};
use toolplane_core::{ToolAnnotations, ToolSpec};

use crate::binding::{
    BodyArgs, BodyBinding, BodyProperty, ConvertedTool, HttpBinding, HttpMethod, ParamBinding, ParamLocation,
    SchemeUse, SecurityRequirement, SecurityScheme,
};

/// Builds one [`ConvertedTool`] by hand.
///
/// GET, HEAD and OPTIONS operations are annotated read-only, DELETE
/// destructive; the input schema is assembled from the parameters and body
/// properties in the order they are added.
///
/// ```
/// use serde_json::json;
/// use toolplane_openapi::http::OperationBuilder;
/// let tool = OperationBuilder::get("weather_current", "/v1/current/{city}")
///     .description("Current weather for a city.")
///     .path_param("city", "City name, e.g. Paris")
///     .query("units", json!({"type": "string", "enum": ["metric", "imperial"]}), "Unit system", false)
///     .build();
/// assert_eq!(tool.spec.input_schema["required"], json!(["city"]));
/// assert_eq!(tool.binding.parameters.len(), 2);
/// assert!(tool.spec.annotations.is_read_only());
/// ```
#[derive(Debug, Clone)]
pub struct OperationBuilder {
    name: String,
    description: String,
    operation_id: Option<String>,
    binding: HttpBinding,
    properties: Map<String, Value>,
    required: Vec<String>,
    body_media_type: String,
    body_props: Vec<BodyProperty>,
    tags: Vec<String>,
}

fn with_description(mut schema: Value, description: &str) -> Value {
    if let Value::Object(m) = &mut schema {
        if !description.is_empty() {
            m.insert("description".into(), Value::String(description.to_owned()));
        }
    }
    schema
}

impl OperationBuilder {
    /// A tool `name` for `method` on `path` (`/repos/{owner}/{repo}`).
    pub fn new(name: impl Into<String>, method: HttpMethod, path: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            description: String::new(),
            operation_id: None,
            binding: HttpBinding {
                method,
                path_template: path.into(),
                servers: Vec::new(),
                parameters: Vec::new(),
                body: None,
                security: Vec::new(),
            },
            properties: Map::new(),
            required: Vec::new(),
            body_media_type: "application/json".into(),
            body_props: Vec::new(),
            tags: Vec::new(),
        }
    }

    /// A GET operation.
    pub fn get(name: impl Into<String>, path: impl Into<String>) -> Self {
        Self::new(name, HttpMethod::Get, path)
    }

    /// A POST operation.
    pub fn post(name: impl Into<String>, path: impl Into<String>) -> Self {
        Self::new(name, HttpMethod::Post, path)
    }

    /// A PATCH operation.
    pub fn patch(name: impl Into<String>, path: impl Into<String>) -> Self {
        Self::new(name, HttpMethod::Patch, path)
    }

    /// A PUT operation.
    pub fn put(name: impl Into<String>, path: impl Into<String>) -> Self {
        Self::new(name, HttpMethod::Put, path)
    }

    /// A DELETE operation.
    pub fn delete(name: impl Into<String>, path: impl Into<String>) -> Self {
        Self::new(name, HttpMethod::Delete, path)
    }

    /// The description the model reads.
    pub fn description(mut self, text: impl Into<String>) -> Self {
        self.description = text.into();
        self
    }

    /// The operationId this tool mirrors.
    pub fn operation_id(mut self, id: impl Into<String>) -> Self {
        self.operation_id = Some(id.into());
        self
    }

    /// Adds a tag.
    pub fn tag(mut self, tag: impl Into<String>) -> Self {
        self.tags.push(tag.into());
        self
    }

    /// A required string path parameter.
    pub fn path_param(self, name: &str, description: &str) -> Self {
        self.param(ParamLocation::Path, name, json!({"type": "string"}), description, true)
    }

    /// A path parameter whose value may hold `/` (a file path): slashes are
    /// kept, every other character encoded, `.` and `..` segments refused.
    pub fn path_param_with_slashes(mut self, name: &str, description: &str) -> Self {
        self = self.path_param(name, description);
        if let Some(p) = self.binding.parameters.last_mut() {
            p.allow_reserved = true;
        }
        self
    }

    /// A path parameter of another type (integer ids).
    pub fn path_param_typed(self, name: &str, schema: Value, description: &str) -> Self {
        self.param(ParamLocation::Path, name, schema, description, true)
    }

    /// A query parameter (style form, exploded).
    pub fn query(self, name: &str, schema: Value, description: &str, required: bool) -> Self {
        self.param(ParamLocation::Query, name, schema, description, required)
    }

    /// A header parameter.
    pub fn header(self, name: &str, schema: Value, description: &str, required: bool) -> Self {
        self.param(ParamLocation::Header, name, schema, description, required)
    }

    /// Any parameter with OpenAPI's default style for its location.
    pub fn param(
        mut self,
        location: ParamLocation,
        name: &str,
        schema: Value,
        description: &str,
        required: bool,
    ) -> Self {
        let mut p = ParamBinding::new(name, location);
        p.required = required || location == ParamLocation::Path;
        p.schema = schema.clone();
        self.properties
            .insert(name.to_owned(), with_description(schema, description));
        if p.required {
            self.required.push(name.to_owned());
        }
        self.binding.parameters.push(p);
        self
    }

    /// Adds a property of the (JSON unless changed) request body. When a
    /// parameter already uses the name, the argument is `body_<name>`.
    pub fn body_property(mut self, name: &str, schema: Value, description: &str, required: bool) -> Self {
        let arg = if self.properties.contains_key(name) {
            format!("body_{name}")
        } else {
            name.to_owned()
        };
        self.properties
            .insert(arg.clone(), with_description(schema, description));
        if required {
            self.required.push(arg.clone());
        }
        self.body_props.push(BodyProperty {
            name: name.to_owned(),
            arg,
            required,
        });
        self
    }

    /// The body's media type (default `application/json`).
    pub fn body_media_type(mut self, media_type: impl Into<String>) -> Self {
        self.body_media_type = media_type.into();
        self
    }

    /// A body that is the whole value of argument `arg` (text, binary as base64, or any JSON).
    pub fn whole_body(mut self, arg: &str, media_type: &str, schema: Value, description: &str, required: bool) -> Self {
        self.properties
            .insert(arg.to_owned(), with_description(schema, description));
        if required {
            self.required.push(arg.to_owned());
        }
        self.binding.body = Some(BodyBinding {
            media_type: media_type.to_owned(),
            alternatives: Vec::new(),
            required,
            args: BodyArgs::Whole { arg: arg.to_owned() },
            encoding: Default::default(),
        });
        self
    }

    /// Requires a security scheme (configured by `name` in
    /// [`HttpConfig`](super::HttpConfig)); several calls add alternatives.
    pub fn security(mut self, name: &str, scheme: SecurityScheme) -> Self {
        self.binding.security.push(SecurityRequirement {
            schemes: vec![SchemeUse {
                name: name.to_owned(),
                scheme,
                scopes: Vec::new(),
            }],
        });
        self
    }

    /// The tool.
    pub fn build(mut self) -> ConvertedTool {
        if !self.body_props.is_empty() && self.binding.body.is_none() {
            let required = self.body_props.iter().any(|p| p.required);
            self.binding.body = Some(BodyBinding {
                media_type: self.body_media_type.clone(),
                alternatives: Vec::new(),
                required,
                args: BodyArgs::Properties {
                    properties: self.body_props,
                },
                encoding: Default::default(),
            });
        }
        let mut schema = json!({"type": "object", "properties": self.properties, "additionalProperties": false});
        if !self.required.is_empty() {
            schema["required"] = json!(self.required);
        }
        let method = self.binding.method;
        let annotations = ToolAnnotations {
            read_only: Some(method.is_safe()),
            destructive: (method == HttpMethod::Delete).then_some(true),
            idempotent: matches!(
                method,
                HttpMethod::Get | HttpMethod::Put | HttpMethod::Delete | HttpMethod::Head
            )
            .then_some(true),
            open_world: Some(true),
            tags: self.tags,
            ..ToolAnnotations::default()
        };
        let pointer = format!(
            "/paths/{}/{}",
            self.binding.path_template.replace('~', "~0").replace('/', "~1"),
            method.key()
        );
        ConvertedTool {
            spec: ToolSpec::new(self.name, self.description)
                .with_input_schema(schema)
                .with_annotations(annotations),
            binding: self.binding,
            operation_id: self.operation_id,
            pointer,
            warnings: Vec::new(),
        }
    }
}
