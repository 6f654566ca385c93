//! Keyword-level helpers of the schema conversion: merging (`allOf`), null
//! unions, type sets, definition names and `$ref` walking.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value, json};

use super::TYPES;

pub(super) fn tag_for(mapping: &BTreeMap<String, String>, raw_name: &str, pointer: &str) -> String {
    mapping
        .iter()
        .find(|(_, v)| {
            v.as_str() == raw_name || v.ends_with(&format!("#{pointer}")) || v.ends_with(&format!("/{raw_name}"))
        })
        .map_or_else(|| raw_name.to_string(), |(k, _)| k.clone())
}

pub(super) fn is_string_lists(v: &Value) -> bool {
    v.as_object().is_some_and(|o| {
        o.values()
            .all(|a| a.as_array().is_some_and(|a| a.iter().all(Value::is_string)))
    })
}

pub(super) fn def_name(raw: &str) -> String {
    let s: String = raw
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if s.is_empty() { "schema".into() } else { s }
}

pub(super) fn type_value(v: &Value) -> Option<Value> {
    match v {
        Value::String(t) if TYPES.contains(&t.as_str()) => Some(v.clone()),
        Value::Array(a) => {
            let mut ts: Vec<&str> = a
                .iter()
                .filter_map(Value::as_str)
                .filter(|t| TYPES.contains(t))
                .collect();
            let mut seen = BTreeSet::new();
            ts.retain(|t| seen.insert(*t));
            if ts.is_empty() { None } else { Some(json!(ts)) }
        }
        _ => None,
    }
}

/// `merge(a, b)`: one schema meaning both (a's scalars win; properties and
/// required are united; a property in both becomes `allOf` of the two).
pub(crate) fn merge(mut a: Map<String, Value>, b: Value) -> Map<String, Value> {
    let Value::Object(b) = b else { return a };
    for (k, v) in b {
        match (k.as_str(), a.get_mut(&k), v) {
            ("properties", Some(Value::Object(ap)), Value::Object(bp)) => {
                for (pk, pv) in bp {
                    match ap.get(&pk) {
                        Some(existing) if existing != &pv && existing != &json!({}) => {
                            let both = json!({"allOf": [existing.clone(), pv]});
                            ap.insert(pk, both);
                        }
                        _ => {
                            ap.insert(pk, pv);
                        }
                    }
                }
            }
            ("required", Some(Value::Array(ar)), Value::Array(br)) => {
                for r in br {
                    if !ar.contains(&r) {
                        ar.push(r);
                    }
                }
            }
            ("type", Some(at), bt) => {
                let aset = type_set(at);
                let bset = type_set(&bt);
                let common: Vec<&String> = aset
                    .iter()
                    .filter(|t| bset.contains(t.as_str()) || (t.as_str() == "number" && bset.contains("integer")))
                    .collect();
                if !common.is_empty() && common.len() != aset.len() {
                    *at = if common.len() == 1 {
                        json!(common[0])
                    } else {
                        json!(common)
                    };
                }
            }
            (_, Some(_), _) => {}
            (_, None, v) => {
                a.insert(k, v);
            }
        }
    }
    a
}

fn type_set(v: &Value) -> BTreeSet<String> {
    match v {
        Value::String(s) => std::iter::once(s.clone()).collect(),
        Value::Array(a) => a.iter().filter_map(|t| t.as_str().map(str::to_string)).collect(),
        _ => BTreeSet::new(),
    }
}

/// Makes a converted schema also accept `null`.
pub(crate) fn make_nullable(v: Value) -> Value {
    let Value::Object(mut m) = v else { return v };
    let simple =
        m.contains_key("type") && !m.contains_key("$ref") && !m.contains_key("anyOf") && !m.contains_key("oneOf");
    if !simple {
        return json!({"anyOf": [Value::Object(m), {"type": "null"}]});
    }
    match m.get_mut("type") {
        Some(Value::String(t)) if t != "null" => {
            let t = t.clone();
            m.insert("type".into(), json!([t, "null"]));
        }
        Some(Value::Array(ts)) if !ts.contains(&json!("null")) => ts.push(json!("null")),
        _ => {}
    }
    if let Some(Value::Array(e)) = m.get_mut("enum") {
        if !e.contains(&Value::Null) {
            e.push(Value::Null);
        }
    }
    if let Some(c) = m.remove("const") {
        m.insert("enum".into(), json!([c, null]));
    }
    Value::Object(m)
}

pub(super) fn refs_in<'a>(v: &'a Value, f: &mut impl FnMut(&'a str)) {
    match v {
        Value::Object(m) => {
            if let Some(name) = m
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix("#/$defs/"))
            {
                f(name);
            }
            for (k, c) in m {
                if k != "$defs" && k != "enum" && k != "const" && k != "default" && k != "examples" {
                    refs_in(c, f);
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|c| refs_in(c, f)),
        _ => {}
    }
}
