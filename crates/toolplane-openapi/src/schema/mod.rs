//! One schema code path for 3.0 and 3.1: OpenAPI Schema Objects (as JSON
//! values) into the tool's internal JSON Schema 2020-12 form.
//!
//! `$ref`s become `#/$defs/<name>` (trimmed to what the tool reaches, so
//! recursion stays finite), `allOf` is merged, 3.0 `nullable` becomes a null
//! union, boolean `exclusiveMinimum`/`exclusiveMaximum` become numeric,
//! `example` becomes `examples`, `readOnly` properties are dropped (inputs),
//! discriminators become `const` tags, and OpenAPI-only keywords (`xml`,
//! `externalDocs`, `x-*`) are removed.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::{Map, Value, json};

mod keywords;

use keywords::{def_name, is_string_lists, refs_in, tag_for, type_value};
pub(crate) use keywords::{make_nullable, merge};

use crate::binding::ConversionWarning;
use crate::spec::{OpenApiSpec, escape};

const MAX_DEPTH: usize = 64;
const NODE_BUDGET: usize = 200_000;

const SCHEMA_MAPS: &[&str] = &["properties", "patternProperties", "dependentSchemas"];
const SCHEMA_ONE: &[&str] = &[
    "additionalProperties",
    "not",
    "if",
    "then",
    "else",
    "contains",
    "propertyNames",
    "unevaluatedProperties",
    "unevaluatedItems",
    "contentSchema",
];
const SCHEMA_LISTS: &[&str] = &["prefixItems", "anyOf", "oneOf"];
const NUMBERS: &[&str] = &["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"];
const COUNTS: &[&str] = &[
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
    "minProperties",
    "maxProperties",
    "minContains",
    "maxContains",
];
const STRINGS: &[&str] = &[
    "pattern",
    "format",
    "title",
    "description",
    "contentMediaType",
    "contentEncoding",
    "$comment",
];
const BOOLS: &[&str] = &["deprecated", "readOnly", "writeOnly", "uniqueItems"];
const TYPES: &[&str] = &["string", "number", "integer", "boolean", "object", "array", "null"];

struct DefFrame {
    depth: usize,
    name: String,
    raw_name: String,
    pointer: String,
}

/// Converts the schemas of one tool, collecting the `$defs` they reach.
pub(crate) struct SchemaCx<'s> {
    spec: &'s OpenApiSpec,
    defs: BTreeMap<String, Value>,
    def_names: HashMap<(usize, String), String>,
    in_progress: BTreeSet<String>,
    discriminators: BTreeMap<String, (String, BTreeMap<String, String>)>,
    stack: Vec<DefFrame>,
    depth: usize,
    nodes: usize,
    /// Properties dropped from objects: `readOnly` for inputs, `writeOnly` for outputs.
    hidden: &'static str,
    pub(crate) warnings: Vec<ConversionWarning>,
}

impl<'s> SchemaCx<'s> {
    pub(crate) fn new(spec: &'s OpenApiSpec) -> Self {
        SchemaCx {
            spec,
            defs: BTreeMap::new(),
            def_names: HashMap::new(),
            in_progress: BTreeSet::new(),
            discriminators: BTreeMap::new(),
            stack: Vec::new(),
            depth: 0,
            nodes: 0,
            hidden: "readOnly",
            warnings: Vec::new(),
        }
    }

    /// A context for response schemas: `writeOnly` properties are dropped instead of `readOnly` ones.
    pub(crate) fn for_output(spec: &'s OpenApiSpec) -> Self {
        SchemaCx {
            hidden: "writeOnly",
            ..SchemaCx::new(spec)
        }
    }

    pub(crate) fn warn(&mut self, doc: usize, at: &str, message: impl Into<String>) {
        let pointer = if doc == 0 {
            at.to_string()
        } else {
            format!("{}#{at}", self.spec.doc_name(doc))
        };
        self.warnings.push(ConversionWarning {
            pointer,
            message: message.into(),
        });
    }

    /// The converted definition a `{"$ref": "#/$defs/x"}` points at, when complete.
    pub(crate) fn def_of(&self, v: &Value) -> Option<&Value> {
        let name = v.get("$ref")?.as_str()?.strip_prefix("#/$defs/")?;
        if self.in_progress.contains(name) {
            return None;
        }
        self.defs.get(name)
    }

    /// Follows a converted `$ref` to its definition (when complete), else returns `v`.
    pub(crate) fn look_through<'a>(&'a self, v: &'a Value) -> &'a Value {
        self.def_of(v).unwrap_or(v)
    }

    /// Adds the `$defs` reachable from `schemas` to `root` (an object schema).
    pub(crate) fn attach_defs(&self, root: &mut Value) {
        let mut reach = BTreeSet::new();
        let mut todo = vec![&*root];
        while let Some(v) = todo.pop() {
            refs_in(v, &mut |name| {
                if reach.insert(name.to_string()) {
                    if let Some(d) = self.defs.get(name) {
                        todo.push(d);
                    }
                }
            });
        }
        if reach.is_empty() {
            return;
        }
        let defs: Map<String, Value> = reach
            .into_iter()
            .filter_map(|n| self.defs.get(&n).map(|d| (n, d.clone())))
            .collect();
        if let Value::Object(m) = root {
            m.insert("$defs".into(), Value::Object(defs));
        }
    }

    /// Converts one schema found at `at` in document `doc`.
    pub(crate) fn convert(&mut self, doc: usize, node: &Value, at: &str) -> Value {
        self.nodes += 1;
        if self.nodes > NODE_BUDGET {
            if self.nodes == NODE_BUDGET + 1 {
                self.warn(doc, at, "schema too large; the rest is accepted as any value");
            }
            return json!({});
        }
        if self.depth >= MAX_DEPTH {
            self.warn(
                doc,
                at,
                format!("schema nested deeper than {MAX_DEPTH} levels; accepted as any value here"),
            );
            return json!({});
        }
        self.depth += 1;
        let out = self.convert_inner(doc, node, at);
        self.depth -= 1;
        out
    }

    fn convert_inner(&mut self, doc: usize, node: &Value, at: &str) -> Value {
        let m = match node {
            Value::Bool(_) => return node.clone(),
            Value::Object(m) => m,
            _ => {
                self.warn(
                    doc,
                    at,
                    "not a schema (neither an object nor a boolean); accepted as any value",
                );
                return json!({});
            }
        };
        if let Some(r) = m.get("$ref") {
            return self.convert_ref(doc, m, r, at);
        }
        let mut out = Map::new();
        let nullable = m.get("nullable") == Some(&Value::Bool(true));
        for (k, v) in m {
            let key = k.as_str();
            let child_at = || format!("{at}/{}", escape(k));
            match key {
                "type" => match type_value(v) {
                    Some(t) => {
                        out.insert(k.clone(), t);
                    }
                    None => self.warn(doc, &child_at(), format!("unknown type {v}; dropped")),
                },
                "items" => {
                    if let Value::Array(a) = v {
                        let list = self.convert_list(doc, a, &child_at());
                        out.insert("prefixItems".into(), list);
                    } else {
                        let c = self.convert(doc, v, &child_at());
                        out.insert(k.clone(), c);
                    }
                }
                _ if SCHEMA_MAPS.contains(&key) || key == "$defs" || key == "definitions" => {
                    if key == "$defs" || key == "definitions" {
                        continue; // reached through `$ref`s only, as top-level $defs
                    }
                    let Value::Object(map) = v else {
                        self.warn(doc, &child_at(), format!("`{k}` is not an object; dropped"));
                        continue;
                    };
                    let mut conv = Map::new();
                    for (pk, pv) in map {
                        if key == "properties" && self.is_read_only(doc, pv) {
                            continue;
                        }
                        let c = self.convert(doc, pv, &format!("{}/{}", child_at(), escape(pk)));
                        conv.insert(pk.clone(), c);
                    }
                    out.insert(k.clone(), Value::Object(conv));
                }
                _ if SCHEMA_ONE.contains(&key) => {
                    let c = self.convert(doc, v, &child_at());
                    out.insert(k.clone(), c);
                }
                _ if SCHEMA_LISTS.contains(&key) => match v {
                    Value::Array(a) if !a.is_empty() => {
                        let list = self.convert_list(doc, a, &child_at());
                        out.insert(k.clone(), list);
                    }
                    _ => self.warn(doc, &child_at(), format!("`{k}` is not a non-empty array; dropped")),
                },
                "allOf" => {}
                "exclusiveMinimum" | "exclusiveMaximum" if v.is_boolean() => {}
                _ if NUMBERS.contains(&key) || key == "multipleOf" => {
                    let ok = v.as_f64().is_some_and(|n| key != "multipleOf" || n > 0.0);
                    if ok {
                        out.insert(k.clone(), v.clone());
                    } else {
                        self.warn(doc, &child_at(), format!("`{k}` is not a valid number; dropped"));
                    }
                }
                _ if COUNTS.contains(&key) => match v.as_f64() {
                    Some(n) if n >= 0.0 && n.fract() == 0.0 && n <= 9.0e15 => {
                        out.insert(k.clone(), json!(n as u64));
                    }
                    _ => self.warn(
                        doc,
                        &child_at(),
                        format!("`{k}` is not a non-negative integer; dropped"),
                    ),
                },
                "pattern" => match v.as_str() {
                    Some(p) if regex::Regex::new(p).is_ok() => {
                        out.insert(k.clone(), v.clone());
                    }
                    Some(p) => {
                        self.warn(
                            doc,
                            &child_at(),
                            format!("pattern `{p}` is not a portable regular expression; dropped"),
                        );
                        let d = out
                            .get("description")
                            .and_then(Value::as_str)
                            .map_or(String::new(), |d| format!("{d} "));
                        out.insert("description".into(), Value::String(format!("{d}(pattern: {p})")));
                    }
                    None => {}
                },
                _ if (STRINGS.contains(&key) && v.is_string()) || (BOOLS.contains(&key) && v.is_boolean()) => {
                    out.insert(k.clone(), v.clone());
                }
                "required" => match v {
                    Value::Array(a) => {
                        let mut names: Vec<&str> = a.iter().filter_map(Value::as_str).collect();
                        let mut seen = BTreeSet::new();
                        names.retain(|n| seen.insert(*n));
                        out.insert(k.clone(), json!(names));
                    }
                    _ => self.warn(doc, &child_at(), "`required` is not an array; dropped"),
                },
                "enum" => match v {
                    Value::Array(a) => {
                        out.insert(k.clone(), Value::Array(a.clone()));
                    }
                    _ => self.warn(doc, &child_at(), "`enum` is not an array; dropped"),
                },
                "const" | "default" => {
                    out.insert(k.clone(), v.clone());
                }
                "examples" => {
                    if let Value::Array(a) = v {
                        out.insert(k.clone(), Value::Array(a.clone()));
                    }
                }
                "example" if !m.contains_key("examples") => {
                    out.insert("examples".into(), json!([v]));
                }
                "dependentRequired" if is_string_lists(v) => {
                    out.insert(k.clone(), v.clone());
                }
                "nullable" => {}
                _ => {} // xml, externalDocs, discriminator (handled below), x-*, $id, $schema, ...
            }
        }
        // Boolean exclusive bounds (3.0) become numeric ones.
        for (flag, bound, excl) in [
            ("exclusiveMinimum", "minimum", "exclusiveMinimum"),
            ("exclusiveMaximum", "maximum", "exclusiveMaximum"),
        ] {
            if m.get(flag) == Some(&Value::Bool(true)) {
                if let Some(b) = out.remove(bound) {
                    out.insert(excl.into(), b);
                }
            }
        }
        // Required names of dropped readOnly properties go too.
        if let (Some(Value::Object(props)), Some(Value::Object(raw))) = (out.get("properties"), m.get("properties")) {
            if props.len() != raw.len() {
                let keep: BTreeSet<String> = props.keys().cloned().collect();
                if let Some(Value::Array(req)) = out.get_mut("required") {
                    req.retain(|r| r.as_str().is_some_and(|r| keep.contains(r) || !raw.contains_key(r)));
                }
            }
        }
        if let Some(d) = m.get("discriminator") {
            self.apply_discriminator(doc, m, d, &mut out);
        }
        let mut out = Value::Object(out);
        if let Some(Value::Array(all)) = m.get("allOf") {
            out = self.merge_all_of(doc, out, all, &format!("{at}/allOf"));
        }
        if nullable { make_nullable(out) } else { out }
    }

    fn convert_list(&mut self, doc: usize, a: &[Value], at: &str) -> Value {
        Value::Array(
            a.iter()
                .enumerate()
                .map(|(i, b)| self.convert(doc, b, &format!("{at}/{i}")))
                .collect(),
        )
    }

    fn is_read_only(&self, doc: usize, v: &Value) -> bool {
        let flag = self.hidden;
        match v.get(flag) {
            Some(Value::Bool(b)) => *b,
            _ => match self.spec.deref(doc, v) {
                Ok((_, t)) => t.get(flag) == Some(&Value::Bool(true)),
                Err(_) => false,
            },
        }
    }

    fn convert_ref(&mut self, doc: usize, m: &Map<String, Value>, r: &Value, at: &str) -> Value {
        let Some(r) = r.as_str() else {
            self.warn(doc, at, "`$ref` is not a string; accepted as any value");
            return json!({});
        };
        let (tdoc, pointer, target) = match self.spec.resolve(doc, r) {
            Ok(t) => t,
            Err(e) => {
                self.warn(doc, at, format!("{e}; accepted as any value"));
                return json!({"description": format!("(unresolved reference {r})")});
            }
        };
        let key = (tdoc, pointer.clone());
        let name = match self.def_names.get(&key) {
            Some(n) => n.clone(),
            None => {
                let raw_name = pointer
                    .rsplit('/')
                    .next()
                    .unwrap_or("schema")
                    .replace("~1", "/")
                    .replace("~0", "~");
                let mut name = def_name(&raw_name);
                let mut n = 2;
                while self.defs.contains_key(&name) || self.in_progress.contains(&name) {
                    name = format!("{}_{n}", def_name(&raw_name));
                    n += 1;
                }
                self.def_names.insert(key, name.clone());
                self.in_progress.insert(name.clone());
                self.defs.insert(name.clone(), json!({}));
                self.stack.push(DefFrame {
                    depth: self.depth,
                    name: name.clone(),
                    raw_name,
                    pointer: pointer.clone(),
                });
                let converted = self.convert(tdoc, target, &pointer);
                self.stack.pop();
                self.in_progress.remove(&name);
                self.defs.insert(name.clone(), converted);
                if let Some(cycle) = self.ref_only_cycle(&name) {
                    self.warn(
                        tdoc,
                        &pointer,
                        format!(
                            "`$ref` cycle with no schema in it ({}); accepted as any value",
                            cycle.join(" -> ")
                        ),
                    );
                    for n in cycle {
                        self.defs.insert(n, json!({}));
                    }
                }
                name
            }
        };
        let reference = json!({"$ref": format!("#/$defs/{name}")});
        let mut rest = m.clone();
        rest.remove("$ref");
        if rest.is_empty() {
            return reference;
        }
        let nullable = rest.remove("nullable") == Some(Value::Bool(true));
        let siblings = self.convert(doc, &Value::Object(rest), at);
        let mut out = match siblings {
            Value::Object(mut s) if !s.is_empty() => {
                s.insert("$ref".into(), reference["$ref"].clone());
                Value::Object(s)
            }
            _ => reference,
        };
        if nullable {
            out = make_nullable(out);
        }
        out
    }

    /// The definitions of a cycle of bare `$ref`s through `start` (`A -> B -> C -> A`),
    /// which no value could ever satisfy or be checked against.
    fn ref_only_cycle(&self, start: &str) -> Option<Vec<String>> {
        fn bare_ref(v: &Value) -> Option<&str> {
            match v {
                Value::Object(m) if m.len() == 1 => m.get("$ref")?.as_str()?.strip_prefix("#/$defs/"),
                _ => None,
            }
        }
        let mut chain = vec![start.to_string()];
        let mut cur = start;
        loop {
            let next = bare_ref(self.defs.get(cur)?)?;
            if next == start {
                chain.push(start.to_string());
                return Some(chain);
            }
            if chain.iter().any(|c| c == next) {
                return None; // a cycle that does not pass through `start`: reported from its own start
            }
            chain.push(next.to_string());
            cur = self.defs.get_key_value(next)?.0;
        }
    }

    fn merge_all_of(&mut self, doc: usize, own: Value, all: &[Value], at: &str) -> Value {
        let Value::Object(mut acc) = own else { return own };
        let mut residual = Vec::new();
        for (i, raw) in all.iter().enumerate() {
            let c = self.convert(doc, raw, &format!("{at}/{i}"));
            let def_name = c
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix("#/$defs/"))
                .map(str::to_string);
            let branch = match self.def_of(&c) {
                Some(d) => d.clone(),
                None if def_name.is_some() => {
                    residual.push(c);
                    continue;
                }
                None => c,
            };
            if let Some(tag) = def_name.as_deref().and_then(|n| self.inherited_tag(n)) {
                acc = merge(
                    acc,
                    json!({"properties": {tag.0.clone(): {"const": tag.1}}, "required": [tag.0]}),
                );
            }
            match branch {
                Value::Object(b) => {
                    acc = merge(acc, Value::Object(b));
                }
                Value::Bool(false) => return Value::Bool(false),
                _ => {}
            }
        }
        if !residual.is_empty() {
            acc.insert("allOf".into(), Value::Array(residual));
        }
        Value::Object(acc)
    }

    /// When the definition being converted inherits (allOf) from a base with a
    /// discriminator: (property, this definition's tag).
    fn inherited_tag(&self, base: &str) -> Option<(String, String)> {
        let (prop, mapping) = self.discriminators.get(base)?;
        let me = self.stack.last()?;
        if me.name == base {
            return None;
        }
        Some((prop.clone(), tag_for(mapping, &me.raw_name, &me.pointer)))
    }

    fn apply_discriminator(&mut self, doc: usize, m: &Map<String, Value>, d: &Value, out: &mut Map<String, Value>) {
        let Some(prop) = d.get("propertyName").and_then(Value::as_str) else {
            return;
        };
        let mapping: BTreeMap<String, String> = d
            .get("mapping")
            .and_then(Value::as_object)
            .map(|o| {
                o.iter()
                    .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string())))
                    .collect()
            })
            .unwrap_or_default();
        if let Some(me) = self.stack.last() {
            if self.depth == me.depth + 1 {
                self.discriminators
                    .insert(me.name.clone(), (prop.to_string(), mapping.clone()));
            }
        }
        for key in ["oneOf", "anyOf"] {
            let (Some(Value::Array(raw)), Some(Value::Array(conv))) = (m.get(key), out.get(key).cloned()) else {
                continue;
            };
            let mut tagged = Vec::with_capacity(conv.len());
            for (r, c) in raw.iter().zip(conv) {
                let Some(reference) = r.get("$ref").and_then(Value::as_str) else {
                    tagged.push(c);
                    continue;
                };
                let pointer = match self.spec.resolve(doc, reference) {
                    Ok((_, p, _)) => p,
                    Err(_) => reference.to_string(),
                };
                let raw_name = pointer.rsplit('/').next().unwrap_or("").to_string();
                let tag = tag_for(&mapping, &raw_name, &pointer);
                let constraint = json!({"properties": {prop: {"const": tag}}, "required": [prop]});
                let branch = match self.def_of(&c) {
                    Some(Value::Object(def)) => {
                        let mut def = def.clone();
                        if let Some(Value::Object(p)) = def.get_mut("properties") {
                            p.remove(prop);
                        }
                        Value::Object(merge(def, constraint))
                    }
                    _ => json!({"allOf": [c, constraint]}),
                };
                tagged.push(branch);
            }
            out.insert(key.into(), Value::Array(tagged));
        }
    }
}
