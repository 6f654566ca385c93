//! Operations into tools: names, flat arguments, descriptions, annotations.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use toolplane_core::{ToolAnnotations, ToolSpec};
use toolplane_schema::{DEFAULT_MAX_NAME_LEN, Export, Profile, sanitize_name, unique_names};

use crate::binding::{ConversionWarning, ConvertedTool, HttpBinding, HttpMethod, ParamBinding, ParamLocation};
use crate::filter::Filters;
use crate::operation::{bound, build_body, build_security, build_servers, claim, collect_params};
use crate::paths::{RawOp, operations};
use crate::schema::SchemaCx;
use crate::spec::{OpenApiSpec, escape};

/// How operations become tools.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ConvertOptions {
    /// Which operations to convert.
    pub filters: Filters,
    /// Longest tool name (default 64; 48 leaves room for a host prefix).
    pub max_name_len: usize,
    /// Longest tool description, in characters (default 1024).
    pub max_description_len: usize,
    /// Convert operations marked `deprecated` (default true).
    pub include_deprecated: bool,
    /// Also convert the JSON schema of the first 2xx response into `ToolSpec::output_schema`
    /// (default false: it roughly doubles conversion time on large descriptions).
    pub output_schemas: bool,
}

impl Default for ConvertOptions {
    fn default() -> Self {
        ConvertOptions {
            filters: Filters::default(),
            max_name_len: DEFAULT_MAX_NAME_LEN,
            max_description_len: 1024,
            include_deprecated: true,
            output_schemas: false,
        }
    }
}

/// Where a tool came from: the answer to "which operation is this name?".
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct OperationRef {
    /// The method.
    pub method: HttpMethod,
    /// The path template.
    pub path: String,
    /// The operationId, when present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation_id: Option<String>,
}

/// The result of converting a description.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Conversion {
    /// One tool per kept operation, in path order then method order.
    pub tools: Vec<ConvertedTool>,
    /// Problems not tied to one kept operation (unsupported features, skipped operations).
    pub warnings: Vec<ConversionWarning>,
}

impl Conversion {
    /// Each tool name mapped back to its operation.
    pub fn name_map(&self) -> BTreeMap<String, OperationRef> {
        self.tools
            .iter()
            .map(|t| {
                let r = OperationRef {
                    method: t.binding.method,
                    path: t.binding.path_template.clone(),
                    operation_id: t.operation_id.clone(),
                };
                (t.spec.name.clone(), r)
            })
            .collect()
    }

    /// The tool with this name.
    pub fn get(&self, name: &str) -> Option<&ConvertedTool> {
        self.tools.iter().find(|t| t.spec.name == name)
    }

    /// The tool specs (internal form).
    pub fn specs(&self) -> Vec<ToolSpec> {
        self.tools.iter().map(|t| t.spec.clone()).collect()
    }

    /// All tools for `profile`, through [`toolplane_schema::export`] (the
    /// function the providers build their requests with): `tools_field()` is
    /// what `toolplane openapi convert` prints and what a model receives.
    pub fn export(&self, profile: Profile) -> Export {
        toolplane_schema::export(&self.specs(), profile)
    }

    /// The value of `profile`'s `tools` field for all tools.
    #[deprecated(note = "use `Conversion::export(profile).tools_field()`")]
    pub fn tools_field(&self, profile: Profile) -> Value {
        self.export(profile).into_tools_field()
    }
}

/// Converts descriptions into tools.
///
/// ```
/// use toolplane_openapi::{ConvertOptions, Converter, OpenApiSpec};
/// let spec = OpenApiSpec::from_str(r#"{
///   "openapi": "3.0.3", "info": {"title": "Pets", "version": "1"},
///   "paths": {"/pets/{id}": {
///     "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "integer"}}],
///     "get": {"operationId": "getPet", "summary": "One pet.",
///             "parameters": [{"name": "fields", "in": "query", "schema": {"type": "string", "nullable": true}}]}
///   }}
/// }"#).unwrap();
/// let conv = Converter::new(ConvertOptions::default()).convert(&spec);
/// let tool = &conv.tools[0];
/// assert_eq!(tool.spec.name, "getPet");
/// assert_eq!(tool.spec.input_schema["properties"]["id"]["type"], "integer");
/// assert_eq!(tool.spec.input_schema["properties"]["fields"]["type"], serde_json::json!(["string", "null"]));
/// assert_eq!(tool.binding.parameters.len(), 2);
/// ```
#[derive(Debug, Clone, Default)]
pub struct Converter {
    options: ConvertOptions,
}

/// Candidate names and their uniqueness keys, then the unique names.
pub(crate) fn tool_names(ops: &[RawOp<'_>], max_len: usize) -> Vec<String> {
    let cands: Vec<(String, String)> = ops
        .iter()
        .map(|o| {
            let c = o
                .operation_id
                .clone()
                .unwrap_or_else(|| format!("{} {}", o.method.key(), o.path));
            (c, format!("{} {}", o.method.as_str(), o.path))
        })
        .collect();
    let refs: Vec<(&str, &str)> = cands.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    unique_names(&refs, max_len)
}

impl Converter {
    /// A converter with these options.
    pub fn new(options: ConvertOptions) -> Self {
        Converter { options }
    }

    /// The options.
    pub fn options(&self) -> &ConvertOptions {
        &self.options
    }

    /// True when the operation passes the filters and the deprecation rule.
    pub(crate) fn keeps(&self, o: &RawOp<'_>) -> bool {
        let deprecated = o.op.get("deprecated") == Some(&Value::Bool(true));
        (self.options.include_deprecated || !deprecated)
            && self
                .options
                .filters
                .matches(o.method, &o.path, o.operation_id.as_deref(), &o.tags)
    }

    /// Converts every kept operation. Never fails: an operation that cannot be
    /// converted is skipped with a warning naming it.
    pub fn convert(&self, spec: &OpenApiSpec) -> Conversion {
        let (ops, mut warnings) = operations(spec);
        let seen: Vec<(HttpMethod, &str, Option<&str>, &[String])> = ops
            .iter()
            .map(|o| (o.method, o.path.as_str(), o.operation_id.as_deref(), o.tags.as_slice()))
            .collect();
        for rule in self.options.filters.unmatched(&seen) {
            warnings.push(ConversionWarning {
                pointer: "/paths".into(),
                message: format!("the filter {rule} matches no operation"),
            });
        }
        let kept: Vec<RawOp<'_>> = ops.into_iter().filter(|o| self.keeps(o)).collect();
        let names = tool_names(&kept, self.options.max_name_len);
        warnings.extend(rename_warnings(&kept, &names, self.options.max_name_len));
        let tools = kept
            .iter()
            .zip(names)
            .map(|(o, name)| self.convert_operation(spec, o, name))
            .collect();
        warnings.sort();
        Conversion { tools, warnings }
    }

    fn convert_operation(&self, spec: &OpenApiSpec, o: &RawOp<'_>, name: String) -> ConvertedTool {
        let mut cx = SchemaCx::new(spec);
        let mut params = collect_params(spec, o, &mut cx);
        // Path placeholders without a declared parameter still need a value.
        for placeholder in placeholders(&o.path) {
            if !params
                .iter()
                .any(|(p, _)| p.location == ParamLocation::Path && p.name == placeholder)
            {
                cx.warn(
                    0,
                    &o.pointer,
                    format!("path parameter `{placeholder}` is not declared; added as a required string"),
                );
                let mut p = ParamBinding::new(placeholder, ParamLocation::Path);
                p.schema = json!({"type": "string"});
                params.push((p, None));
            }
        }
        for (p, _) in &params {
            if p.location == ParamLocation::Path && !o.path.contains(&format!("{{{}}}", p.name)) {
                cx.warn(
                    0,
                    &o.pointer,
                    format!("path parameter `{}` does not appear in the path", p.name),
                );
            }
        }
        // Argument names: path, query, header, cookie, then body; a taken name gets the location as prefix.
        params.sort_by_key(|(p, _)| p.location);
        let mut taken: BTreeSet<String> = BTreeSet::new();
        let mut properties = Map::new();
        let mut required = Vec::new();
        for (p, description) in &mut params {
            p.arg = claim(&mut taken, &p.name, p.location.as_str());
            let mut s = p.schema.clone();
            if let (Value::Object(m), Some(d)) = (&mut s, description.as_ref()) {
                m.entry("description").or_insert_with(|| Value::String(d.clone()));
            }
            properties.insert(p.arg.clone(), s);
            if p.required {
                required.push(Value::String(p.arg.clone()));
            }
        }
        let body = build_body(spec, o, &mut cx, &mut taken, &mut properties, &mut required);
        let mut input_schema = json!({
            "type": "object",
            "properties": Value::Object(properties),
            "additionalProperties": false,
        });
        if !required.is_empty() {
            input_schema["required"] = Value::Array(required);
        }
        cx.attach_defs(&mut input_schema);
        let servers = build_servers(spec, o, &mut cx);
        let security = build_security(spec, o, &mut cx);
        if o.op.get("callbacks").is_some() {
            cx.warn(o.doc, &o.pointer, "callbacks are not converted");
        }
        let binding = HttpBinding {
            method: o.method,
            path_template: o.path.clone(),
            servers,
            parameters: params.into_iter().map(|(p, _)| p).collect(),
            body,
            security,
        };
        let spec_out = ToolSpec {
            name,
            description: self.description(o),
            input_schema,
            output_schema: if self.options.output_schemas {
                output_schema(spec, o)
            } else {
                None
            },
            annotations: annotations(o),
        };
        let mut warnings = cx.warnings;
        warnings.sort();
        warnings.dedup();
        ConvertedTool {
            spec: spec_out,
            binding,
            operation_id: o.operation_id.clone(),
            pointer: o.pointer.clone(),
            warnings,
        }
    }

    fn description(&self, o: &RawOp<'_>) -> String {
        let summary = o.op.get("summary").and_then(Value::as_str).unwrap_or("").trim();
        let details = o.op.get("description").and_then(Value::as_str).unwrap_or("").trim();
        let mut text = String::new();
        if o.op.get("deprecated") == Some(&Value::Bool(true)) {
            text.push_str("(Deprecated) ");
        }
        let body = if summary.is_empty() {
            details.to_string()
        } else if details.is_empty() {
            summary.to_string()
        } else if details.starts_with(summary) {
            details.to_string()
        } else {
            format!("{summary}\n\n{details}")
        };
        text.push_str(&body);
        if text.trim().is_empty() {
            text = format!("{} {}", o.method, o.path);
        }
        bound(&text, self.options.max_description_len)
    }
}

/// The JSON schema of the first 2xx response (or `default`), in the internal form.
fn output_schema(spec: &OpenApiSpec, o: &RawOp<'_>) -> Option<Value> {
    let responses = o.op.get("responses")?.as_object()?;
    let (code, raw) = responses
        .iter()
        .find(|(c, _)| c.starts_with('2'))
        .or_else(|| responses.iter().find(|(c, _)| c.as_str() == "default"))?;
    let (doc, response) = spec.deref(o.doc, raw).ok()?;
    let content = response.get("content")?.as_object()?;
    let (media, mt) = content
        .iter()
        .find(|(m, _)| m.starts_with("application/json") || m.contains("+json"))?;
    let at = format!("{}/responses/{code}/content/{}/schema", o.pointer, escape(media));
    let mut cx = SchemaCx::for_output(spec);
    let mut schema = cx.convert(doc, mt.get("schema")?, &at);
    cx.attach_defs(&mut schema);
    Some(schema)
}

/// Warnings for kept operations whose tool name is not the one their
/// operationId (or method and path) asks for, because another operation's
/// name came out the same: says which operations and what each got.
fn rename_warnings(kept: &[RawOp<'_>], names: &[String], max_len: usize) -> Vec<ConversionWarning> {
    let wanted: Vec<String> = kept
        .iter()
        .map(|o| {
            let c = o
                .operation_id
                .clone()
                .unwrap_or_else(|| format!("{} {}", o.method.key(), o.path));
            sanitize_name(&c, max_len)
        })
        .collect();
    let mut out = Vec::new();
    for (i, o) in kept.iter().enumerate() {
        if names[i] == wanted[i] {
            continue;
        }
        let others: Vec<String> = (0..kept.len())
            .filter(|&j| j != i && wanted[j] == wanted[i])
            .map(|j| format!("{} {} (named `{}`)", kept[j].method, kept[j].path, names[j]))
            .collect();
        let id = o.operation_id.as_deref();
        let duplicate = id.is_some() && kept.iter().filter(|k| k.operation_id.as_deref() == id).count() > 1;
        let source = match id {
            Some(id) if duplicate => format!("operationId `{id}` is used more than once"),
            Some(id) => format!("operationId `{id}` gives the name `{}`", wanted[i]),
            None => format!("the name `{}`", wanted[i]),
        };
        let also = if others.is_empty() {
            String::new()
        } else {
            format!(", as does {}", others.join(", "))
        };
        out.push(ConversionWarning {
            pointer: o.pointer.clone(),
            message: format!("{source}{also}; this tool is named `{}`", names[i]),
        });
    }
    out
}

fn placeholders(path: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = path;
    while let Some(start) = rest.find('{') {
        let Some(len) = rest[start..].find('}') else { break };
        let name = &rest[start + 1..start + len];
        let well_formed = !name.is_empty() && !name.contains('{');
        if well_formed && !out.iter().any(|n: &String| n == name) {
            out.push(name.to_string());
        }
        rest = &rest[start + len + 1..];
    }
    out
}

fn annotations(o: &RawOp<'_>) -> ToolAnnotations {
    let m = o.method;
    ToolAnnotations {
        title: o
            .op
            .get("summary")
            .and_then(Value::as_str)
            .map(|s| bound(s.trim(), 120)),
        read_only: Some(m.is_safe()),
        destructive: Some(m == HttpMethod::Delete),
        idempotent: Some(m.is_safe() || matches!(m, HttpMethod::Put | HttpMethod::Delete)),
        open_world: Some(true),
        tags: o.tags.clone(),
    }
}
