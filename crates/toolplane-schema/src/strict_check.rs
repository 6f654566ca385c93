//! An independent checker of OpenAI strict-mode rules, for tests and for
//! deciding before sending whether a schema will be accepted.

use serde_json::{Map, Value};

use crate::inline::resolve_local;
use crate::strict::{STRICT_FORMATS, STRICT_KEYWORDS, StrictBudget};

/// The budget check lives with [`StrictBudget`]; this path is kept for callers that used it here.
pub use crate::strict::check_budget;

/// Every strict-mode rule `schema` breaks, each naming the place (empty when it is fine).
///
/// ```
/// use serde_json::json;
/// use toolplane_schema::strict_check::strict_violations;
/// let ok = json!({"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"], "additionalProperties": false});
/// assert!(strict_violations(&ok).is_empty());
/// let bad = json!({"type": "object", "properties": {"a": {"type": "string", "minLength": 1}}});
/// assert_eq!(strict_violations(&bad).len(), 3);
/// ```
pub fn strict_violations(schema: &Value) -> Vec<String> {
    let mut out = Vec::new();
    if schema.get("type") != Some(&Value::String("object".into())) {
        out.push("the root: must be `\"type\": \"object\"`".to_string());
    }
    if schema.get("anyOf").is_some() {
        out.push("the root: must not be anyOf".to_string());
    }
    check(schema, schema, "", &mut out);
    if let Some(Value::Object(defs)) = schema.get("$defs") {
        for (k, v) in defs {
            check(schema, v, &format!("/$defs/{k}"), &mut out);
        }
    }
    if let Err(e) = check_budget(schema, &StrictBudget::default()) {
        out.push(e);
    }
    out
}

fn check(root: &Value, node: &Value, at: &str, out: &mut Vec<String>) {
    let Value::Object(m) = node else {
        out.push(format!("`{at}`: not a schema object"));
        return;
    };
    for k in m.keys() {
        if !STRICT_KEYWORDS.contains(&k.as_str()) {
            out.push(format!("`{at}`: keyword `{k}` is not supported"));
        }
    }
    if let Some(r) = m.get("$ref") {
        match r.as_str() {
            Some(r) if resolve_local(root, r).is_some() => {}
            _ => out.push(format!("`{at}`: $ref {r} does not resolve")),
        }
        if m.len() > 1 {
            out.push(format!("`{at}`: $ref with sibling keywords"));
        }
        return;
    }
    if let Some(branches) = m.get("anyOf") {
        match branches {
            Value::Array(bs) => {
                for (i, b) in bs.iter().enumerate() {
                    check(root, b, &format!("{at}/anyOf/{i}"), out);
                }
            }
            _ => out.push(format!("`{at}`: anyOf is not an array")),
        }
        return;
    }
    let types: Vec<&str> = match m.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    if types.is_empty() && m.get("enum").is_none() {
        out.push(format!("`{at}`: no type"));
    }
    for t in &types {
        if !matches!(
            *t,
            "string" | "number" | "integer" | "boolean" | "object" | "array" | "null"
        ) {
            out.push(format!("`{at}`: unknown type {t}"));
        }
    }
    if let (Some(Value::Array(vals)), true) = (m.get("enum"), types.contains(&"null")) {
        if !vals.contains(&Value::Null) {
            out.push(format!("`{at}`: nullable enum without null among its values"));
        }
    }
    if let Some(Value::String(f)) = m.get("format") {
        if !STRICT_FORMATS.contains(&f.as_str()) {
            out.push(format!("`{at}`: format {f} is not supported"));
        }
    }
    if types.contains(&"object") || m.contains_key("properties") {
        check_object(root, m, at, out);
    }
    if types.contains(&"array") {
        match m.get("items") {
            Some(items) => check(root, items, &format!("{at}/items"), out),
            None => out.push(format!("`{at}`: array without items")),
        }
    }
}

fn check_object(root: &Value, m: &Map<String, Value>, at: &str, out: &mut Vec<String>) {
    if m.get("additionalProperties") != Some(&Value::Bool(false)) {
        out.push(format!("`{at}`: object without `additionalProperties: false`"));
    }
    let Some(Value::Object(props)) = m.get("properties") else {
        out.push(format!("`{at}`: object without properties"));
        return;
    };
    let required: Vec<&str> = match m.get("required") {
        Some(Value::Array(r)) => r.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    for k in props.keys() {
        if !required.contains(&k.as_str()) {
            out.push(format!("`{at}`: property `{k}` is not required"));
        }
    }
    for (k, v) in props {
        check(root, v, &format!("{at}/properties/{k}"), out);
    }
}
