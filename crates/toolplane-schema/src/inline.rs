//! Bounded inlining of local `$ref`s, for profiles that do not accept `$ref`.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

/// How deep a recursive definition is unrolled before the marker replaces it.
pub const DEFAULT_RECURSION_DEPTH: usize = 2;

/// How many schema nodes inlining may produce before further `$ref`s become markers.
pub const DEFAULT_NODE_BUDGET: usize = 20_000;

/// Deepest JSON nesting inlining produces before cutting (keeps recursion on the stack bounded).
const MAX_NESTING: usize = 256;

/// The text put into the description of a schema where inlining stopped.
pub const RECURSION_MARKER: &str = "[recursion cut]";

/// Resolves a local reference (`#/$defs/x`, `#/definitions/x`, `#`) in `root`.
pub fn resolve_local<'a>(root: &'a Value, reference: &str) -> Option<&'a Value> {
    let pointer = reference.strip_prefix('#')?;
    if pointer.is_empty() {
        return Some(root);
    }
    let decoded = percent_decode(pointer);
    root.pointer(&decoded)
}

fn hex(b: u8) -> Option<u8> {
    char::from(b).to_digit(16).map(|d| d as u8)
}

fn percent_decode(s: &str) -> String {
    if !s.contains('%') {
        return s.to_string();
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push(h * 16 + l);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Inlines every local `$ref` of `schema` (resolved against `schema` itself),
/// drops `$defs`/`definitions`, and returns the result plus the names of the
/// definitions whose recursion was cut. A definition already being expanded
/// `max_depth` times is replaced by `{"type": "object", "description": "... [recursion cut] ..."}`
/// (or its own `type` when it has a simple one); so is any `$ref` met after
/// `node_budget` nodes were produced, and any `$ref` that does not resolve.
pub fn inline_refs(schema: &Value, max_depth: usize, node_budget: usize) -> (Value, Vec<String>) {
    let mut st = Inliner {
        root: schema,
        stack: BTreeMap::new(),
        max_depth: max_depth.max(1),
        budget: node_budget,
        produced: 0,
        depth: 0,
        cut: Vec::new(),
    };
    let mut out = st.walk(schema);
    if let Value::Object(m) = &mut out {
        m.remove("$defs");
        m.remove("definitions");
    }
    st.cut.sort();
    st.cut.dedup();
    (out, st.cut)
}

struct Inliner<'a> {
    root: &'a Value,
    stack: BTreeMap<String, usize>,
    max_depth: usize,
    budget: usize,
    produced: usize,
    depth: usize,
    cut: Vec<String>,
}

impl Inliner<'_> {
    fn walk(&mut self, node: &Value) -> Value {
        self.produced += 1;
        if self.depth >= MAX_NESTING {
            self.cut.push("(nesting)".into());
            return serde_json::json!({"description": format!("{RECURSION_MARKER} (nesting limit reached)")});
        }
        self.depth += 1;
        let out = self.walk_inner(node);
        self.depth -= 1;
        out
    }

    fn walk_inner(&mut self, node: &Value) -> Value {
        match node {
            Value::Object(m) => {
                if let Some(Value::String(r)) = m.get("$ref") {
                    return self.expand(r, m);
                }
                let mut out = Map::with_capacity(m.len());
                for (k, v) in m {
                    if k == "$defs" || k == "definitions" {
                        continue;
                    }
                    let v = match k.as_str() {
                        // Keyword values that are data, not schemas.
                        "enum" | "const" | "default" | "examples" | "example" | "required" => v.clone(),
                        _ => self.walk(v),
                    };
                    out.insert(k.clone(), v);
                }
                Value::Object(out)
            }
            Value::Array(a) => Value::Array(a.iter().map(|v| self.walk(v)).collect()),
            other => other.clone(),
        }
    }

    fn expand(&mut self, reference: &str, node: &Map<String, Value>) -> Value {
        let name = reference.rsplit('/').next().unwrap_or(reference).to_string();
        let depth = self.stack.get(reference).copied().unwrap_or(0);
        let target = resolve_local(self.root, reference);
        let over_budget = self.produced >= self.budget;
        let Some(target) = target.filter(|_| depth < self.max_depth && !over_budget) else {
            self.cut.push(name.clone());
            return marker(&name, target, node);
        };
        *self.stack.entry(reference.to_string()).or_default() += 1;
        let mut expanded = self.walk(target);
        if let Some(n) = self.stack.get_mut(reference) {
            *n -= 1;
        }
        // Sibling keywords of `$ref` (2020-12 allows them) win over the target's.
        if let Value::Object(out) = &mut expanded {
            for (k, v) in node {
                if k != "$ref" {
                    let v = self.walk(v);
                    out.insert(k.clone(), v);
                }
            }
        }
        expanded
    }
}

fn marker(name: &str, target: Option<&Value>, node: &Map<String, Value>) -> Value {
    let ty = target
        .and_then(|t| t.get("type"))
        .filter(|t| t.is_string())
        .cloned()
        .unwrap_or_else(|| Value::String("object".into()));
    let mut text = String::new();
    if let Some(Value::String(d)) = node
        .get("description")
        .or_else(|| target.and_then(|t| t.get("description")))
    {
        text.push_str(d);
        text.push(' ');
    }
    text.push_str(&format!(
        "{RECURSION_MARKER} (`{name}`: same shape as its enclosing `{name}`; nesting limit reached)"
    ));
    let mut m = Map::new();
    m.insert("type".into(), ty);
    m.insert("description".into(), Value::String(text));
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn recursion_is_cut_with_marker() {
        let s = json!({
            "type": "object",
            "properties": {"node": {"$ref": "#/$defs/Node"}},
            "$defs": {"Node": {"type": "object", "properties": {"child": {"$ref": "#/$defs/Node"}}}}
        });
        let (out, cut) = inline_refs(&s, 2, 1000);
        assert_eq!(cut, ["Node"]);
        let deep = &out["properties"]["node"]["properties"]["child"]["properties"]["child"];
        assert!(
            deep["description"]
                .as_str()
                .is_some_and(|d| d.contains(RECURSION_MARKER)),
            "{out}"
        );
        assert!(out.get("$defs").is_none());
    }

    #[test]
    fn percent_encoded_pointer() {
        let s = json!({"$defs": {"a b": {"type": "string"}}});
        assert_eq!(resolve_local(&s, "#/$defs/a%20b"), Some(&json!({"type": "string"})));
    }
}
