//! Gemini's schema subset (an OpenAPI 3.0 Schema subset) and safe property names.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::inline::{DEFAULT_NODE_BUDGET, DEFAULT_RECURSION_DEPTH, inline_refs};
use crate::keyword_notes::{is_number_format, note_keyword};
use crate::names::{DEFAULT_MAX_NAME_LEN, is_valid_name, unique_names};

/// Property renames made for a provider, to map the model's arguments back.
///
/// Mirrors the argument structure: `renamed` maps a provider-side property
/// name to the original at this level; `children` holds the renames inside a
/// property (by provider-side name); `items` those inside array items.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RenameTree {
    /// Provider-side name → original name, at this level.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub renamed: BTreeMap<String, String>,
    /// Renames below a property, by provider-side name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub children: BTreeMap<String, RenameTree>,
    /// Renames inside array items.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub items: Option<Box<RenameTree>>,
}

impl RenameTree {
    /// True when nothing was renamed.
    pub fn is_empty(&self) -> bool {
        self.renamed.is_empty() && self.children.is_empty() && self.items.is_none()
    }

    /// Puts the original property names back into arguments written with provider-side names.
    ///
    /// ```
    /// use serde_json::json;
    /// let (schema, renames) = toolplane_schema::gemini::to_gemini(&json!({
    ///     "type": "object", "properties": {"$filter": {"type": "string"}}
    /// }));
    /// assert!(schema["properties"]["filter"].is_object());
    /// assert_eq!(renames.restore(json!({"filter": "x"})), json!({"$filter": "x"}));
    /// ```
    pub fn restore(&self, args: Value) -> Value {
        if self.is_empty() {
            return args;
        }
        match args {
            Value::Object(m) => Value::Object(
                m.into_iter()
                    .map(|(k, v)| {
                        let v = match self.children.get(&k) {
                            Some(c) => c.restore(v),
                            None => v,
                        };
                        (self.renamed.get(&k).cloned().unwrap_or(k), v)
                    })
                    .collect(),
            ),
            Value::Array(a) => match &self.items {
                Some(t) => Value::Array(a.into_iter().map(|v| t.restore(v)).collect()),
                None => Value::Array(a),
            },
            other => other,
        }
    }

    fn prune(&mut self) {
        for c in self.children.values_mut() {
            c.prune();
        }
        self.children.retain(|_, c| !c.is_empty());
        if let Some(i) = &mut self.items {
            i.prune();
            if i.is_empty() {
                self.items = None;
            }
        }
    }
}

const KEEP: &[&str] = &[
    "description",
    "title",
    "minLength",
    "maxLength",
    "pattern",
    "minimum",
    "maximum",
    "minItems",
    "maxItems",
    "minProperties",
    "maxProperties",
];

/// Rewrites an internal JSON Schema into Gemini's `parameters` subset: `$ref`s
/// inlined (recursion cut after a bounded depth with a visible marker), type
/// unions as `nullable` or `anyOf`, `oneOf` as `anyOf`, non-string enums and
/// other unsupported keywords moved into descriptions, property names made
/// `^[A-Za-z_][A-Za-z0-9_]*$` (the returned tree maps them back).
pub fn to_gemini(schema: &Value) -> (Value, RenameTree) {
    let (inlined, _cut) = inline_refs(schema, DEFAULT_RECURSION_DEPTH, DEFAULT_NODE_BUDGET);
    let mut tree = RenameTree::default();
    let out = convert(&inlined, &mut tree);
    tree.prune();
    (out, tree)
}

fn any_value() -> Value {
    json!({"anyOf": [
        {"type": "string"}, {"type": "number"}, {"type": "boolean"}, {"type": "object"},
        {"type": "array", "items": {"type": "string"}}
    ]})
}

fn convert(node: &Value, tree: &mut RenameTree) -> Value {
    let Value::Object(m) = node else {
        return any_value();
    };
    let mut m = m.clone();
    if let Some(Value::Array(all)) = m.remove("allOf") {
        for b in all {
            if let Value::Object(b) = b {
                for (k, v) in b {
                    match (m.get_mut(&k), v) {
                        (Some(Value::Object(a)), Value::Object(bv)) if k == "properties" => a.extend(bv),
                        (Some(Value::Array(a)), Value::Array(bv)) if k == "required" => a.extend(bv),
                        (None, v) => {
                            m.insert(k, v);
                        }
                        _ => {}
                    }
                }
            }
        }
    }
    let mut notes = Vec::new();
    let mut out = Map::new();
    let mut nullable = m.get("nullable") == Some(&Value::Bool(true));
    if let Some(Value::Array(branches)) = m.get("anyOf").or_else(|| m.get("oneOf")).cloned() {
        let mut kept: Vec<Value> = Vec::new();
        for b in &branches {
            if b.get("type") == Some(&json!("null")) {
                nullable = true;
            } else {
                kept.push(convert(b, tree));
            }
        }
        let mut base = match kept.len() {
            1 => match kept.pop() {
                Some(Value::Object(o)) => o,
                _ => Map::new(),
            },
            _ => {
                let mut o = Map::new();
                o.insert("anyOf".into(), Value::Array(kept));
                o
            }
        };
        if let Some(d) = m.get("description") {
            base.insert("description".into(), d.clone());
        }
        if nullable {
            base.insert("nullable".into(), Value::Bool(true));
        }
        return Value::Object(base);
    }
    let mut types: Vec<String> = match m.get("type") {
        Some(Value::String(t)) => vec![t.clone()],
        Some(Value::Array(a)) => a.iter().filter_map(|t| t.as_str().map(str::to_string)).collect(),
        _ => Vec::new(),
    };
    if types.iter().any(|t| t == "null") {
        nullable = true;
        types.retain(|t| t != "null");
    }
    if types.is_empty() {
        if m.contains_key("properties") {
            types.push("object".into());
        } else if m.contains_key("items") {
            types.push("array".into());
        } else if m
            .get("enum")
            .is_some_and(|e| e.as_array().is_some_and(|a| a.iter().all(Value::is_string)))
        {
            types.push("string".into());
        } else if let Some(Value::String(_)) = m.get("const") {
            types.push("string".into());
        } else {
            let values: Vec<&Value> = match (m.get("const"), m.get("enum")) {
                (Some(c), _) => vec![c],
                (None, Some(Value::Array(e))) => e.iter().collect(),
                _ => Vec::new(),
            };
            let mut kinds: Vec<&str> = values.iter().filter(|v| !v.is_null()).map(|v| json_kind(v)).collect();
            kinds.sort_unstable();
            kinds.dedup();
            if values.iter().any(|v| v.is_null()) {
                nullable = true;
            }
            if let [one] = kinds.as_slice() {
                types.push((*one).to_string());
            }
        }
    }
    if types.len() > 1 {
        let branches: Vec<Value> = types
            .iter()
            .map(|t| {
                let mut single = m.clone();
                single.insert("type".into(), json!(t));
                single.remove("description");
                convert(&Value::Object(single), tree)
            })
            .collect();
        let mut o = Map::new();
        o.insert("anyOf".into(), Value::Array(branches));
        if let Some(d) = m.get("description") {
            o.insert("description".into(), d.clone());
        }
        if nullable {
            o.insert("nullable".into(), Value::Bool(true));
        }
        return Value::Object(o);
    }
    let Some(ty) = types.pop() else {
        let mut any = any_value();
        if let (Value::Object(a), Some(d)) = (&mut any, m.get("description")) {
            a.insert("description".into(), d.clone());
        }
        return any;
    };
    out.insert("type".into(), json!(ty));
    for (k, v) in &m {
        match k.as_str() {
            "type" | "nullable" | "properties" | "required" | "items" | "enum" | "const" | "format" => {}
            "additionalProperties" if v == &Value::Bool(false) => {}
            "exclusiveMinimum" if v.is_number() => {
                out.insert("minimum".into(), v.clone());
                note_keyword(&mut notes, "exclusive minimum", v);
            }
            "exclusiveMaximum" if v.is_number() => {
                out.insert("maximum".into(), v.clone());
                note_keyword(&mut notes, "exclusive maximum", v);
            }
            _ if KEEP.contains(&k.as_str()) => {
                out.insert(k.clone(), v.clone());
            }
            _ if k.starts_with("x-") || k.starts_with('$') => {}
            _ => note_keyword(&mut notes, k, v),
        }
    }
    let values = match (m.get("enum"), m.get("const")) {
        (Some(Value::Array(e)), _) => Some(e.clone()),
        (None, Some(c)) => Some(vec![c.clone()]),
        _ => None,
    };
    if let Some(values) = values {
        if ty == "string" && values.iter().all(Value::is_string) {
            out.insert("enum".into(), Value::Array(values));
        } else {
            note_keyword(&mut notes, "one of", &Value::Array(values));
        }
    }
    if let Some(Value::String(f)) = m.get("format") {
        let ok = match ty.as_str() {
            "string" => matches!(f.as_str(), "enum" | "date-time"),
            "number" => matches!(f.as_str(), "float" | "double"),
            "integer" => matches!(f.as_str(), "int32" | "int64"),
            _ => false,
        };
        if ok {
            out.insert("format".into(), Value::String(f.clone()));
        } else if !is_number_format(f) {
            note_keyword(&mut notes, "format", &Value::String(f.clone()));
        }
    }
    if ty == "object" {
        convert_properties(&m, &mut out, tree);
    }
    if ty == "array" {
        let items = m.get("items").cloned().unwrap_or(Value::Bool(true));
        let sub = tree.items.get_or_insert_with(Default::default);
        out.insert("items".into(), convert(&items, sub));
    }
    if nullable {
        out.insert("nullable".into(), Value::Bool(true));
    }
    if !notes.is_empty() {
        let mut d = out.get("description").and_then(Value::as_str).unwrap_or("").to_string();
        if !d.is_empty() {
            d.push(' ');
        }
        d.push_str(&format!("({})", notes.join("; ")));
        out.insert("description".into(), Value::String(d));
    }
    Value::Object(out)
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn convert_properties(m: &Map<String, Value>, out: &mut Map<String, Value>, tree: &mut RenameTree) {
    let Some(Value::Object(props)) = m.get("properties") else {
        return;
    };
    if props.is_empty() {
        return;
    }
    let keys: Vec<(&str, &str)> = props.keys().map(|k| (k.as_str(), k.as_str())).collect();
    let safe: Vec<String> = if keys.iter().all(|(k, _)| is_valid_name(k, DEFAULT_MAX_NAME_LEN)) {
        keys.iter().map(|(k, _)| k.to_string()).collect()
    } else {
        unique_names(&keys, DEFAULT_MAX_NAME_LEN)
    };
    let required: Vec<&str> = match m.get("required") {
        Some(Value::Array(r)) => r.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let mut out_props = Map::new();
    let mut out_required = Vec::new();
    for ((orig, v), new) in props.iter().zip(safe) {
        if &new != orig {
            tree.renamed.insert(new.clone(), orig.clone());
        }
        let child = tree.children.entry(new.clone()).or_default();
        out_props.insert(new.clone(), convert(v, child));
        if required.contains(&orig.as_str()) {
            out_required.push(Value::String(new));
        }
    }
    out.insert("properties".into(), Value::Object(out_props));
    if !out_required.is_empty() {
        out.insert("required".into(), Value::Array(out_required));
    }
}
