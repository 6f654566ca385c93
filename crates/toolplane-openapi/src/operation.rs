//! The parts of one operation's binding: parameters, body, servers, security,
//! and the argument names and bounded texts they share with the tool.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value, json};

use crate::binding::{
    ApiKeyLocation, BodyArgs, BodyBinding, BodyProperty, ParamBinding, ParamLocation, ParamStyle, PropertyEncoding,
    SchemeUse, SecurityRequirement, SecurityScheme, ServerBinding, ServerVariable,
};
use crate::paths::RawOp;
use crate::schema::SchemaCx;
use crate::spec::{OpenApiSpec, escape};

/// Path-level parameters merged with the operation's own (the operation wins
/// on the same name and location), each with its description.
pub(crate) fn collect_params(
    spec: &OpenApiSpec,
    o: &RawOp<'_>,
    cx: &mut SchemaCx<'_>,
) -> Vec<(ParamBinding, Option<String>)> {
    let mut by_key: BTreeMap<(ParamLocation, String), usize> = BTreeMap::new();
    let mut out: Vec<(ParamBinding, Option<String>)> = Vec::new();
    let item_at = o.pointer.rsplit_once('/').map_or("", |(a, _)| a).to_string();
    let sources = [(o.item_doc, o.item, item_at), (o.doc, o.op, o.pointer.clone())];
    for (doc, owner, owner_at) in sources {
        let Some(list) = owner.get("parameters") else { continue };
        let Value::Array(list) = list else {
            cx.warn(
                doc,
                &format!("{owner_at}/parameters"),
                "`parameters` is not an array; ignored",
            );
            continue;
        };
        for (i, raw) in list.iter().enumerate() {
            let at = format!("{owner_at}/parameters/{i}");
            let (pdoc, p) = match spec.deref(doc, raw) {
                Ok(x) => x,
                Err(e) => {
                    cx.warn(doc, &at, format!("parameter skipped: {e}"));
                    continue;
                }
            };
            let Some(binding) = param(p, pdoc, &at, cx) else {
                continue;
            };
            let description = p.get("description").and_then(Value::as_str).map(|d| {
                let d = bound(d.trim(), 512);
                if p.get("deprecated") == Some(&Value::Bool(true)) {
                    format!("(Deprecated) {d}")
                } else {
                    d
                }
            });
            let key = (binding.0.location, binding.0.name.clone());
            match by_key.get(&key) {
                Some(&idx) => out[idx] = (binding.0, description.or(binding.1)),
                None => {
                    by_key.insert(key, out.len());
                    out.push((binding.0, description.or(binding.1)));
                }
            }
        }
    }
    out
}

fn param(p: &Value, doc: usize, at: &str, cx: &mut SchemaCx<'_>) -> Option<(ParamBinding, Option<String>)> {
    let Some(name) = p.get("name").and_then(Value::as_str) else {
        cx.warn(doc, at, "parameter without a name; skipped");
        return None;
    };
    let location = match p.get("in").and_then(Value::as_str).and_then(ParamLocation::parse) {
        Some(l) => l,
        None => {
            cx.warn(doc, at, format!("parameter `{name}` has no valid `in`; skipped"));
            return None;
        }
    };
    if location == ParamLocation::Header
        && ["accept", "content-type", "authorization"].contains(&name.to_ascii_lowercase().as_str())
    {
        return None; // OpenAPI: these header parameters are ignored.
    }
    let mut b = ParamBinding::new(name, location);
    if let Some(s) = p.get("style").and_then(Value::as_str) {
        match ParamStyle::parse(s) {
            Some(style) => {
                b.style = style;
                b.explode = style.default_explode();
            }
            None => cx.warn(
                doc,
                &format!("{at}/style"),
                format!("unknown style `{s}`; the default is used"),
            ),
        }
    }
    if let Some(e) = p.get("explode").and_then(Value::as_bool) {
        b.explode = e;
    }
    b.required = location == ParamLocation::Path || p.get("required") == Some(&Value::Bool(true));
    if location == ParamLocation::Path && p.get("required") != Some(&Value::Bool(true)) {
        cx.warn(
            doc,
            at,
            format!("path parameter `{name}` is not marked required; treated as required"),
        );
    }
    b.allow_reserved = p.get("allowReserved") == Some(&Value::Bool(true));
    b.schema = if let Some(s) = p.get("schema") {
        cx.convert(doc, s, &format!("{at}/schema"))
    } else if let Some(Value::Object(content)) = p.get("content") {
        match content.iter().next() {
            Some((media, mt)) => {
                b.content_type = Some(media.clone());
                match mt.get("schema") {
                    Some(s) => cx.convert(doc, s, &format!("{at}/content/{}/schema", escape(media))),
                    None => json!({}),
                }
            }
            None => json!({}),
        }
    } else {
        json!({"type": "string"})
    };
    Some((b, None))
}

/// `text` cut to at most `max` characters, at a word boundary when one is near, with `…`.
pub(crate) fn bound(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let max = max.max(2);
    let end = text.char_indices().nth(max - 1).map_or(text.len(), |(i, _)| i);
    let head = &text[..end];
    let head = match head.rfind(char::is_whitespace) {
        Some(i) if i > end * 3 / 4 => &head[..i],
        _ => head,
    };
    format!("{}…", head.trim_end())
}

/// Takes `name` when free, else `{prefix}_{name}`, else with a number.
pub(crate) fn claim(taken: &mut BTreeSet<String>, name: &str, prefix: &str) -> String {
    if taken.insert(name.to_string()) {
        return name.to_string();
    }
    let base = format!("{prefix}_{name}");
    if taken.insert(base.clone()) {
        return base;
    }
    let mut n = 2;
    loop {
        let c = format!("{base}_{n}");
        if taken.insert(c.clone()) {
            return c;
        }
        n += 1;
    }
}

fn media_rank(media: &str) -> u8 {
    let m = media.to_ascii_lowercase();
    if m.starts_with("application/json") || m.contains("+json") {
        0
    } else if m.contains("json") {
        1
    } else if m.starts_with("application/x-www-form-urlencoded") {
        2
    } else if m.starts_with("multipart/form-data") {
        3
    } else if m.starts_with("text/") {
        4
    } else if m.starts_with("application/octet-stream") {
        5
    } else {
        6
    }
}

/// The request body: media type chosen, flattened into arguments when it is
/// an object with properties, else one `body` argument.
pub(crate) fn build_body(
    spec: &OpenApiSpec,
    o: &RawOp<'_>,
    cx: &mut SchemaCx<'_>,
    taken: &mut BTreeSet<String>,
    properties: &mut Map<String, Value>,
    required: &mut Vec<Value>,
) -> Option<BodyBinding> {
    let raw = o.op.get("requestBody")?;
    let at = format!("{}/requestBody", o.pointer);
    let (doc, rb) = match spec.deref(o.doc, raw) {
        Ok(x) => x,
        Err(e) => {
            cx.warn(o.doc, &at, format!("request body skipped: {e}"));
            return None;
        }
    };
    let Some(content) = rb.get("content").and_then(Value::as_object).filter(|c| !c.is_empty()) else {
        cx.warn(doc, &at, "request body without content; skipped");
        return None;
    };
    let body_required = rb.get("required") == Some(&Value::Bool(true));
    let mut medias: Vec<(&String, &Value)> = content.iter().collect();
    medias.sort_by_key(|(m, _)| media_rank(m));
    let (media, mt) = medias[0];
    let alternatives = medias[1..].iter().map(|(m, _)| (*m).clone()).collect();
    let rank = media_rank(media);
    let schema = match mt.get("schema") {
        Some(s) => cx.convert(doc, s, &format!("{at}/content/{}/schema", escape(media))),
        None if rank <= 3 => json!({}),
        None => json!({"type": "string"}),
    };
    let encoding = encodings(mt);
    let view = cx.look_through(&schema).clone();
    let flat = rank <= 3 && flattenable(&view);
    let args = if flat {
        let props = view
            .get("properties")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let inner_required: Vec<&str> = view
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        if view
            .get("additionalProperties")
            .is_some_and(|a| a != &Value::Bool(false))
        {
            cx.warn(
                doc,
                &at,
                "the body accepts more properties than it lists; only the listed ones are offered",
            );
        }
        let mut list = Vec::with_capacity(props.len());
        for (name, s) in props {
            let arg = claim(taken, &name, "body");
            let req = body_required && inner_required.contains(&name.as_str());
            if req {
                required.push(Value::String(arg.clone()));
            }
            properties.insert(arg.clone(), s);
            list.push(BodyProperty {
                name,
                arg,
                required: req,
            });
        }
        BodyArgs::Properties { properties: list }
    } else {
        let arg = claim(taken, "body", "request");
        let mut s = schema;
        if let (Value::Object(m), Some(d)) = (&mut s, rb.get("description").and_then(Value::as_str)) {
            m.entry("description")
                .or_insert_with(|| Value::String(bound(d.trim(), 512)));
        }
        properties.insert(arg.clone(), s);
        if body_required {
            required.push(Value::String(arg.clone()));
        }
        BodyArgs::Whole { arg }
    };
    Some(BodyBinding {
        media_type: media.clone(),
        alternatives,
        required: body_required,
        args,
        encoding,
    })
}

fn flattenable(view: &Value) -> bool {
    let Value::Object(m) = view else { return false };
    let has_props = m
        .get("properties")
        .and_then(Value::as_object)
        .is_some_and(|p| !p.is_empty());
    let object_type = match m.get("type") {
        None => true,
        Some(Value::String(t)) => t == "object",
        Some(_) => false,
    };
    let composite = ["anyOf", "oneOf", "allOf", "not", "if", "$ref", "patternProperties"]
        .iter()
        .any(|k| m.contains_key(*k));
    has_props && object_type && !composite
}

fn encodings(mt: &Value) -> BTreeMap<String, PropertyEncoding> {
    let Some(enc) = mt.get("encoding").and_then(Value::as_object) else {
        return BTreeMap::new();
    };
    enc.iter()
        .map(|(k, e)| {
            (
                k.clone(),
                PropertyEncoding {
                    content_type: e.get("contentType").and_then(Value::as_str).map(str::to_string),
                    style: e.get("style").and_then(Value::as_str).and_then(ParamStyle::parse),
                    explode: e.get("explode").and_then(Value::as_bool),
                    allow_reserved: e.get("allowReserved") == Some(&Value::Bool(true)),
                },
            )
        })
        .collect()
}

/// The effective servers: the operation's, else the path item's, else the document's.
pub(crate) fn build_servers(spec: &OpenApiSpec, o: &RawOp<'_>, cx: &mut SchemaCx<'_>) -> Vec<ServerBinding> {
    let non_empty = |v: &Value| {
        v.get("servers")
            .and_then(Value::as_array)
            .filter(|a| !a.is_empty())
            .cloned()
    };
    let (list, at) = if let Some(l) = non_empty(o.op) {
        (l, format!("{}/servers", o.pointer))
    } else if let Some(l) = non_empty(o.item) {
        (
            l,
            format!("{}/servers", o.pointer.rsplit_once('/').map_or("", |(a, _)| a)),
        )
    } else if let Some(l) = non_empty(spec.document()) {
        (l, "/servers".to_string())
    } else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (i, s) in list.iter().enumerate() {
        let Some(url) = s.get("url").and_then(Value::as_str) else {
            cx.warn(0, &format!("{at}/{i}"), "server without a url; skipped");
            continue;
        };
        let mut variables = BTreeMap::new();
        if let Some(vars) = s.get("variables").and_then(Value::as_object) {
            for (name, v) in vars {
                let enum_values: Vec<String> = v
                    .get("enum")
                    .and_then(Value::as_array)
                    .map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect())
                    .unwrap_or_default();
                let default = match v.get("default").and_then(Value::as_str) {
                    Some(d) => d.to_string(),
                    None => {
                        cx.warn(
                            0,
                            &format!("{at}/{i}/variables/{}", escape(name)),
                            "server variable without a default",
                        );
                        enum_values.first().cloned().unwrap_or_default()
                    }
                };
                let description = v.get("description").and_then(Value::as_str).map(str::to_string);
                variables.insert(
                    name.clone(),
                    ServerVariable {
                        default,
                        enum_values,
                        description,
                    },
                );
            }
        }
        out.push(ServerBinding {
            url: url.to_string(),
            description: s.get("description").and_then(Value::as_str).map(str::to_string),
            variables,
        });
    }
    out
}

/// The effective security requirements with their schemes resolved.
pub(crate) fn build_security(spec: &OpenApiSpec, o: &RawOp<'_>, cx: &mut SchemaCx<'_>) -> Vec<SecurityRequirement> {
    let (list, at) = match o.op.get("security") {
        Some(Value::Array(l)) => (l, format!("{}/security", o.pointer)),
        _ => match spec.document().get("security") {
            Some(Value::Array(l)) => (l, "/security".to_string()),
            _ => return Vec::new(),
        },
    };
    let schemes = spec
        .document()
        .pointer("/components/securitySchemes")
        .and_then(Value::as_object);
    let mut out = Vec::new();
    for (i, req) in list.iter().enumerate() {
        let Some(req) = req.as_object() else { continue };
        let mut uses = Vec::new();
        for (name, scopes) in req {
            let raw = schemes.and_then(|s| s.get(name));
            let resolved = raw.and_then(|r| spec.deref(0, r).ok()).map(|(_, v)| v);
            let Some(def) = resolved else {
                cx.warn(
                    0,
                    &format!("{at}/{i}/{}", escape(name)),
                    format!("security scheme `{name}` is not defined; ignored"),
                );
                continue;
            };
            let scopes = scopes
                .as_array()
                .map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_string)).collect())
                .unwrap_or_default();
            uses.push(SchemeUse {
                name: name.clone(),
                scheme: scheme(def),
                scopes,
            });
        }
        out.push(SecurityRequirement { schemes: uses });
    }
    out
}

fn scheme(def: &Value) -> SecurityScheme {
    let s = |k: &str| def.get(k).and_then(Value::as_str).unwrap_or("");
    match s("type") {
        "apiKey" => {
            let location = match s("in") {
                "query" => ApiKeyLocation::Query,
                "cookie" => ApiKeyLocation::Cookie,
                _ => ApiKeyLocation::Header,
            };
            SecurityScheme::ApiKey {
                location,
                name: s("name").to_string(),
            }
        }
        "http" => match s("scheme").to_ascii_lowercase().as_str() {
            "bearer" => SecurityScheme::HttpBearer {
                bearer_format: def.get("bearerFormat").and_then(Value::as_str).map(str::to_string),
            },
            "basic" => SecurityScheme::HttpBasic,
            other => SecurityScheme::Other {
                declared: format!("http:{other}"),
            },
        },
        "oauth2" => {
            let flows = def.get("flows").and_then(Value::as_object);
            match flows.and_then(|f| f.get("clientCredentials")) {
                Some(cc) => SecurityScheme::Oauth2ClientCredentials {
                    token_url: cc.get("tokenUrl").and_then(Value::as_str).unwrap_or("").to_string(),
                    scopes: cc
                        .get("scopes")
                        .and_then(Value::as_object)
                        .map(|o| {
                            o.iter()
                                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string()))
                                .collect()
                        })
                        .unwrap_or_default(),
                },
                None => SecurityScheme::Other {
                    declared: format!(
                        "oauth2:{}",
                        flows.and_then(|f| f.keys().next()).map_or("", |k| k.as_str())
                    ),
                },
            }
        }
        other => SecurityScheme::Other {
            declared: other.to_string(),
        },
    }
}
