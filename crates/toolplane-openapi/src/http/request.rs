//! Turning validated arguments into the parts of an HTTP request.

use serde_json::{Map, Value};
use toolplane_core::ToolError;

use super::body::{BodyKind, BodyOptions, EncodedBody, encode_body};
use super::style::{check_header_value, serialize_cookie, serialize_header, serialize_path, serialize_query};
use crate::binding::{BodyArgs, ConvertedTool, ParamLocation};

/// The request of one call, before auth and the base URL are added.
#[derive(Debug, Default)]
pub(crate) struct RequestParts {
    /// The path with parameters filled in, percent-encoded.
    pub(crate) path: String,
    /// Encoded query pairs.
    pub(crate) query: Vec<(String, String)>,
    /// Header name and value (checked for CR/LF).
    pub(crate) headers: Vec<(String, String)>,
    /// Encoded cookie pairs.
    pub(crate) cookies: Vec<(String, String)>,
    /// The body.
    pub(crate) body: Option<EncodedBody>,
}

fn present<'a>(args: &'a Map<String, Value>, arg: &str) -> Option<&'a Value> {
    args.get(arg).filter(|v| !v.is_null())
}

/// Headers a parameter may not set.
const RESERVED_HEADERS: &[&str] = &[
    "accept",
    "content-type",
    "authorization",
    "cookie",
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
];

fn is_dot_segment(seg: &str) -> bool {
    let s = seg.to_ascii_lowercase().replace("%2e", ".");
    s == "." || s == ".."
}

fn invalid(e: impl std::fmt::Display) -> ToolError {
    ToolError::invalid_arguments(e.to_string())
}

/// A parameter declared with `content`: its value as JSON text (strings as they are
/// for non-JSON media types).
fn content_text(value: &Value, content_type: &str) -> String {
    match value {
        Value::String(s) if BodyKind::for_media_type(content_type) != BodyKind::Json => s.clone(),
        other => other.to_string(),
    }
}

/// Builds path, query, headers, cookies and body from the arguments.
pub(crate) fn build_parts(
    tool: &ConvertedTool,
    args: &Map<String, Value>,
    boundary: &str,
) -> Result<RequestParts, ToolError> {
    let b = &tool.binding;
    let mut parts = RequestParts {
        path: b.path_template.clone(),
        ..RequestParts::default()
    };
    for p in &b.parameters {
        let Some(value) = present(args, &p.arg) else {
            if p.required {
                return Err(ToolError::invalid_arguments(format!(
                    "missing required {} parameter `{}`",
                    p.location.as_str(),
                    p.arg
                )));
            }
            continue;
        };
        let content = p
            .content_type
            .as_deref()
            .map(|ct| Value::String(content_text(value, ct)));
        let value = content.as_ref().unwrap_or(value);
        match p.location {
            ParamLocation::Path => {
                let text = match value {
                    // A file path: slashes kept, each segment encoded (dot segments too).
                    Value::String(s) if p.allow_reserved => s
                        .split('/')
                        .map(|seg| serialize_path(&p.name, p.style, false, &Value::String(seg.to_owned())))
                        .collect::<Result<Vec<_>, _>>()
                        .map_err(invalid)?
                        .join("/"),
                    _ => serialize_path(&p.name, p.style, p.explode, value).map_err(invalid)?,
                };
                parts.path = parts.path.replace(&format!("{{{}}}", p.name), &text);
            }
            ParamLocation::Query => {
                parts
                    .query
                    .extend(serialize_query(&p.name, p.style, p.explode, p.allow_reserved, value).map_err(invalid)?);
            }
            // OpenAPI: header parameters named Accept, Content-Type or Authorization
            // are ignored; the others listed are the executor's to set.
            ParamLocation::Header if RESERVED_HEADERS.iter().any(|h| h.eq_ignore_ascii_case(&p.name)) => {}
            ParamLocation::Header => {
                let text = serialize_header(&p.name, p.explode, value).map_err(invalid)?;
                parts.headers.push((p.name.clone(), text));
            }
            ParamLocation::Cookie => parts
                .cookies
                .extend(serialize_cookie(&p.name, p.explode, value).map_err(invalid)?),
        }
    }
    // URL parsers resolve `.`, `..` and their encodings (`%2e%2E`): refuse them so
    // a value can never climb out of the operation's path.
    if parts.path.split('/').any(is_dot_segment) {
        return Err(ToolError::invalid_arguments(format!(
            "path parameters of `{}` may not be `.` or `..` segments",
            tool.spec.name
        )));
    }
    if parts
        .path
        .find('{')
        .is_some_and(|open| parts.path[open..].contains('}'))
    {
        return Err(ToolError::internal(format!(
            "path `{}` keeps a placeholder that no parameter fills",
            b.path_template
        )));
    }
    for (name, value) in &parts.headers {
        check_header_value(name, value).map_err(invalid)?;
    }
    if let Some(body) = &b.body {
        let value = match &body.args {
            BodyArgs::Whole { arg } => present(args, arg).cloned(),
            BodyArgs::Properties { properties } => {
                let mut obj = Map::new();
                for prop in properties {
                    match args.get(&prop.arg) {
                        Some(Value::Null) if !prop.required => {}
                        Some(v) => {
                            obj.insert(prop.name.clone(), v.clone());
                        }
                        None => {}
                    }
                }
                (!obj.is_empty() || body.required).then_some(Value::Object(obj))
            }
        };
        match value {
            Some(value) => {
                let binary = binary_fields(tool);
                let options = BodyOptions {
                    binary_fields: &binary,
                    encoding: Some(&body.encoding),
                    boundary,
                };
                parts.body = Some(encode_body(&body.media_type, &value, &options).map_err(invalid)?);
            }
            None if body.required => {
                let arg = match &body.args {
                    BodyArgs::Whole { arg } => arg.as_str(),
                    BodyArgs::Properties { .. } => "body",
                };
                return Err(ToolError::invalid_arguments(format!(
                    "missing required request body `{arg}`"
                )));
            }
            None => {}
        }
    }
    Ok(parts)
}

/// Body properties that carry binary content as base64: `format: binary`,
/// `contentEncoding: base64` in the argument's schema, or a non-text part
/// content type in the body's `encoding`.
fn binary_fields(tool: &ConvertedTool) -> Vec<String> {
    let Some(body) = &tool.binding.body else {
        return Vec::new();
    };
    let BodyArgs::Properties { properties } = &body.args else {
        return Vec::new();
    };
    let schema_props = tool.spec.input_schema.get("properties");
    properties
        .iter()
        .filter(|p| {
            let s = schema_props.and_then(|sp| sp.get(&p.arg));
            let by_schema = s.is_some_and(|s| {
                s.get("format").and_then(Value::as_str) == Some("binary")
                    || s.get("contentEncoding").and_then(Value::as_str) == Some("base64")
            });
            let by_encoding = body
                .encoding
                .get(&p.name)
                .and_then(|e| e.content_type.as_deref())
                .is_some_and(|ct| BodyKind::for_media_type(ct) == BodyKind::Binary);
            by_schema || by_encoding
        })
        .map(|p| p.name.clone())
        .collect()
}
