//! OpenAI strict mode (structured outputs) rewriting.
//!
//! Rules applied: every object has `additionalProperties: false` and lists all
//! of its properties in `required`, optional ones made nullable (type union with
//! `null`, `null` added to an `enum`, or `anyOf` with `{"type": "null"}`);
//! `oneOf` becomes `anyOf`; `const` becomes a one-value `enum`; keywords strict
//! mode rejects (`default`, `minLength`, `examples`, unsupported string
//! `format`s, ...) are moved into the description as text; number formats
//! (`double`, `int32`, `uint8`, ...) are dropped, since the type says it. A schema that cannot be strict
//! (a free-form value or map, an array without `items`, `allOf` of several
//! schemas, a budget exceeded) is an error naming the place; callers then fall
//! back to non-strict.

use serde_json::{Map, Value, json};

use crate::keyword_notes::{is_number_format, note_keyword};

/// OpenAI's size limits for a strict schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StrictBudget {
    /// Object properties in total.
    pub max_properties: usize,
    /// Levels of object nesting.
    pub max_depth: usize,
    /// `enum` values in total.
    pub max_enum_values: usize,
    /// Characters of all property names, definition names, enum and const values together.
    pub max_string_chars: usize,
}

impl Default for StrictBudget {
    fn default() -> Self {
        StrictBudget {
            max_properties: 5000,
            max_depth: 10,
            max_enum_values: 1000,
            max_string_chars: 120_000,
        }
    }
}

/// String formats strict mode accepts.
pub const STRICT_FORMATS: &[&str] = &[
    "date-time",
    "time",
    "date",
    "duration",
    "email",
    "hostname",
    "ipv4",
    "ipv6",
    "uuid",
];

/// Keywords a strict schema may carry.
pub const STRICT_KEYWORDS: &[&str] = &[
    "type",
    "properties",
    "required",
    "additionalProperties",
    "items",
    "anyOf",
    "enum",
    "$ref",
    "$defs",
    "description",
    "pattern",
    "format",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "minItems",
    "maxItems",
];

/// Rewrites an internal JSON Schema into OpenAI strict form, or says why it cannot be.
pub fn to_openai_strict(schema: &Value, budget: &StrictBudget) -> Result<Value, String> {
    let mut root = strictify(schema, "")?;
    if let Some(Value::Object(defs)) = schema.get("$defs") {
        let mut out = Map::new();
        for (k, v) in defs {
            out.insert(k.clone(), strictify(v, &format!("/$defs/{k}"))?);
        }
        if let Value::Object(m) = &mut root {
            m.insert("$defs".into(), Value::Object(out));
        }
    }
    if root.get("type") != Some(&json!("object")) {
        return Err("the root is not a plain object schema".into());
    }
    check_budget(&root, budget)?;
    Ok(root)
}

/// Checks OpenAI's size limits; the error says which one is exceeded.
pub fn check_budget(schema: &Value, budget: &StrictBudget) -> Result<(), String> {
    let mut t = Tally::default();
    t.walk(schema, 0);
    if t.properties > budget.max_properties {
        return Err(format!(
            "{} properties exceed the budget of {}",
            t.properties, budget.max_properties
        ));
    }
    if t.depth > budget.max_depth {
        return Err(format!(
            "{} levels of nesting exceed the budget of {}",
            t.depth, budget.max_depth
        ));
    }
    if t.enum_values > budget.max_enum_values {
        return Err(format!(
            "{} enum values exceed the budget of {}",
            t.enum_values, budget.max_enum_values
        ));
    }
    if t.chars > budget.max_string_chars {
        return Err(format!(
            "{} characters of names and values exceed the budget of {}",
            t.chars, budget.max_string_chars
        ));
    }
    Ok(())
}

#[derive(Default)]
struct Tally {
    properties: usize,
    depth: usize,
    enum_values: usize,
    chars: usize,
}

impl Tally {
    fn walk(&mut self, node: &Value, depth: usize) {
        let Value::Object(m) = node else { return };
        let depth = if m.contains_key("properties") { depth + 1 } else { depth };
        self.depth = self.depth.max(depth);
        if let Some(Value::Object(p)) = m.get("properties") {
            self.properties += p.len();
            for (k, v) in p {
                self.chars += k.len();
                self.walk(v, depth);
            }
        }
        if let Some(Value::Object(d)) = m.get("$defs") {
            for (k, v) in d {
                self.chars += k.len();
                self.walk(v, 0);
            }
        }
        if let Some(Value::Array(e)) = m.get("enum") {
            self.enum_values += e.len();
            self.chars += e.iter().filter_map(Value::as_str).map(str::len).sum::<usize>();
        }
        if let Some(items) = m.get("items") {
            self.walk(items, depth);
        }
        if let Some(Value::Array(bs)) = m.get("anyOf") {
            for b in bs {
                self.walk(b, depth);
            }
        }
    }
}

fn types_of(m: &Map<String, Value>) -> Vec<String> {
    match m.get("type") {
        Some(Value::String(t)) => vec![t.clone()],
        Some(Value::Array(a)) => a.iter().filter_map(|t| t.as_str().map(str::to_string)).collect(),
        _ => {
            if m.contains_key("properties") {
                vec!["object".into()]
            } else if m.contains_key("items") {
                vec!["array".into()]
            } else if let Some(Value::Array(vals)) = m.get("enum") {
                let mut t: Vec<String> = vals.iter().map(json_type).map(str::to_string).collect();
                t.sort();
                t.dedup();
                t
            } else if let Some(c) = m.get("const") {
                vec![json_type(c).to_string()]
            } else {
                Vec::new()
            }
        }
    }
}

fn json_type(v: &Value) -> &'static str {
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

fn strictify(node: &Value, at: &str) -> Result<Value, String> {
    if at.len() > 4096 || at.bytes().filter(|b| *b == b'/').count() > 128 {
        return Err(format!("{}: nested too deeply", place(at)));
    }
    let Value::Object(m) = node else {
        return Err(format!(
            "{}: a free-form value (boolean schema) cannot be strict",
            place(at)
        ));
    };
    let mut notes = Vec::new();
    let mut out = Map::new();
    if let Some(Value::String(r)) = m.get("$ref") {
        // Strict mode accepts no keyword beside `$ref`: a description rides on a one-branch anyOf.
        let reference = json!({"$ref": r});
        return Ok(match m.get("description") {
            Some(Value::String(d)) if !d.is_empty() => json!({"anyOf": [reference], "description": d}),
            _ => reference,
        });
    }
    if let Some(Value::Array(all)) = m.get("allOf") {
        return match all.as_slice() {
            [one] => {
                let mut merged = m.clone();
                merged.remove("allOf");
                if let Value::Object(b) = one {
                    for (k, v) in b {
                        merged.entry(k.clone()).or_insert_with(|| v.clone());
                    }
                }
                strictify(&Value::Object(merged), at)
            }
            _ => Err(format!("{}: allOf of several schemas cannot be strict", place(at))),
        };
    }
    let union = m.get("anyOf").or_else(|| m.get("oneOf"));
    if let Some(Value::Array(branches)) = union {
        let mut out_branches = Vec::with_capacity(branches.len());
        for (i, b) in branches.iter().enumerate() {
            out_branches.push(strictify(b, &format!("{at}/anyOf/{i}"))?);
        }
        out.insert("anyOf".into(), Value::Array(out_branches));
        for (k, v) in m {
            let skip = matches!(
                k.as_str(),
                "anyOf" | "oneOf" | "description" | "title" | "discriminator" | "$defs" | "$schema" | "$id"
            );
            if !skip && !k.starts_with("x-") {
                note_keyword(&mut notes, k, v);
            }
        }
        set_description(&mut out, m, &notes);
        return Ok(Value::Object(out));
    }
    let types = types_of(m);
    if types.is_empty() {
        return Err(format!("{}: a value of any type cannot be strict", place(at)));
    }
    if let Some(Value::Array(vals)) = m.get("enum") {
        out.insert("enum".into(), Value::Array(vals.clone()));
    } else if let Some(c) = m.get("const") {
        out.insert("enum".into(), Value::Array(vec![c.clone()]));
    }
    out.insert(
        "type".into(),
        if types.len() == 1 {
            json!(types[0])
        } else {
            json!(types)
        },
    );
    let has = |t: &str| types.iter().any(|x| x == t);
    for (k, v) in m {
        match k.as_str() {
            "type"
            | "enum"
            | "const"
            | "description"
            | "title"
            | "properties"
            | "required"
            | "items"
            | "additionalProperties"
            | "$defs"
            | "definitions"
            | "$schema"
            | "$id"
            | "$comment" => {}
            _ if k.starts_with("x-") => {}
            "pattern" | "minimum" | "maximum" | "exclusiveMinimum" | "exclusiveMaximum" | "multipleOf" | "minItems"
            | "maxItems" => {
                out.insert(k.clone(), v.clone());
            }
            "format" if v.as_str().is_some_and(|f| STRICT_FORMATS.contains(&f)) => {
                out.insert(k.clone(), v.clone());
            }
            // `double`, `int32`, `uint8`...: the type says it; a note would only lengthen the description.
            "format" if v.as_str().is_some_and(is_number_format) => {}
            _ => note_keyword(&mut notes, k, v),
        }
    }
    if has("object") {
        let props = match m.get("properties") {
            Some(Value::Object(p)) => p.clone(),
            _ => Map::new(),
        };
        let extra = m.get("additionalProperties");
        let extra_open = !matches!(extra, Some(Value::Bool(false)));
        if props.is_empty() && extra_open {
            return Err(format!("{}: a free-form object (map) cannot be strict", place(at)));
        }
        if extra.is_some_and(|e| e != &Value::Bool(false)) {
            notes.push("other properties are accepted but not offered here".into());
        }
        let required: Vec<&str> = match m.get("required") {
            Some(Value::Array(r)) => r.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        let mut out_props = Map::new();
        for (k, v) in &props {
            let child = strictify(
                v,
                &format!("{at}/properties/{}", k.replace('~', "~0").replace('/', "~1")),
            )?;
            let child = if required.contains(&k.as_str()) {
                child
            } else {
                make_nullable(child)
            };
            out_props.insert(k.clone(), child);
        }
        out.insert(
            "required".into(),
            Value::Array(props.keys().map(|k| Value::String(k.clone())).collect()),
        );
        out.insert("properties".into(), Value::Object(out_props));
        out.insert("additionalProperties".into(), Value::Bool(false));
    }
    if has("array") {
        match m.get("items") {
            Some(items @ Value::Object(_)) => {
                out.insert("items".into(), strictify(items, &format!("{at}/items"))?);
            }
            _ => {
                return Err(format!(
                    "{}: an array without an items schema cannot be strict",
                    place(at)
                ));
            }
        }
    }
    set_description(&mut out, m, &notes);
    Ok(Value::Object(out))
}

fn place(at: &str) -> String {
    if at.is_empty() {
        "the root".into()
    } else {
        format!("`{at}`")
    }
}

fn set_description(out: &mut Map<String, Value>, m: &Map<String, Value>, notes: &[String]) {
    let mut d = m.get("description").and_then(Value::as_str).unwrap_or("").to_string();
    if !notes.is_empty() {
        if !d.is_empty() {
            d.push(' ');
        }
        d.push('(');
        d.push_str(&notes.join("; "));
        d.push(')');
    }
    if !d.is_empty() {
        out.insert("description".into(), Value::String(d));
    }
}

/// Makes a strict schema also accept `null` (for a property that was optional).
pub fn make_nullable(v: Value) -> Value {
    let Value::Object(mut m) = v else { return v };
    if m.contains_key("$ref") {
        return json!({"anyOf": [Value::Object(m), {"type": "null"}]});
    }
    if let Some(Value::Array(branches)) = m.get_mut("anyOf") {
        if !branches.iter().any(|b| b.get("type") == Some(&json!("null"))) {
            branches.push(json!({"type": "null"}));
        }
        return Value::Object(m);
    }
    match m.get_mut("type") {
        Some(Value::String(t)) if t != "null" => {
            let t = t.clone();
            m.insert("type".into(), json!([t, "null"]));
        }
        Some(Value::Array(ts)) if !ts.contains(&json!("null")) => ts.push(json!("null")),
        _ => {}
    }
    if let Some(Value::Array(vals)) = m.get_mut("enum") {
        if !vals.contains(&Value::Null) {
            vals.push(Value::Null);
        }
    }
    Value::Object(m)
}
