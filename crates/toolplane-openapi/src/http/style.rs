//! Parameter serialization: the OpenAPI 3 `style` / `explode` table, with
//! percent-encoding chosen by the parameter's location.
//!
//! Each function takes the parameter's wire name and its JSON value and
//! returns text ready for the wire:
//!
//! | location | styles | function |
//! | --- | --- | --- |
//! | path | simple (default), label, matrix | [`serialize_path`] |
//! | query | form (default), spaceDelimited, pipeDelimited, deepObject | [`serialize_query`] |
//! | header | simple | [`serialize_header`] |
//! | cookie | form | [`serialize_cookie`] |
//!
//! Values inside the path and the query are percent-encoded except for RFC
//! 3986 unreserved characters (`A-Z a-z 0-9 - . _ ~`); the delimiters a style
//! adds (`,` `;` `=` `.` `|` `%20`) are literal. Header values are not encoded
//! but a CR, LF or NUL is refused. Nested values that the table does not cover
//! (an object inside an array) are sent as compact JSON.
//!
//! ```
//! use serde_json::json;
//! use toolplane_openapi::binding::ParamStyle;
//! use toolplane_openapi::http::style::{serialize_path, serialize_query};
//! assert_eq!(serialize_path("id", ParamStyle::Matrix, true, &json!([3, 4])).unwrap(), ";id=3;id=4");
//! let q = serialize_query("id", ParamStyle::DeepObject, true, false, &json!({"role": "admin"})).unwrap();
//! assert_eq!(q, vec![("id%5Brole%5D".to_string(), "admin".to_string())]);
//! ```

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::Value;

use crate::binding::ParamStyle;

/// Everything but RFC 3986 unreserved characters is encoded.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// `allowReserved: true`: reserved characters stay, except those that would
/// change the query's structure (`&`, `=`, `#`, `+`) and `%` itself.
const RESERVED_ALLOWED: &AsciiSet = &COMPONENT
    .remove(b':')
    .remove(b'/')
    .remove(b'?')
    .remove(b'@')
    .remove(b'!')
    .remove(b'$')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')')
    .remove(b'*')
    .remove(b',')
    .remove(b';')
    .remove(b'[')
    .remove(b']');

/// Cookie values: RFC 6265 cookie-octets stay; controls, space, `"`, `,`,
/// `;`, `\`, `%` and non-ASCII are encoded.
const COOKIE: &AsciiSet = &percent_encoding::CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b',')
    .add(b';')
    .add(b'\\')
    .add(b'%');

/// The OpenAPI spelling of a style, for messages.
pub fn style_name(style: ParamStyle) -> &'static str {
    match style {
        ParamStyle::Form => "form",
        ParamStyle::Simple => "simple",
        ParamStyle::Label => "label",
        ParamStyle::Matrix => "matrix",
        ParamStyle::DeepObject => "deepObject",
        ParamStyle::SpaceDelimited => "spaceDelimited",
        ParamStyle::PipeDelimited => "pipeDelimited",
    }
}

/// A parameter value that cannot go on the wire as asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StyleError {
    /// The style does not apply to this location.
    #[error("parameter `{name}`: style {style} cannot be used in the {location}")]
    StyleNotAllowed {
        /// The parameter.
        name: String,
        /// The style (`deepObject`).
        style: &'static str,
        /// `path`, `query`, `header` or `cookie`.
        location: &'static str,
    },
    /// The style cannot express this kind of value.
    #[error("parameter `{name}`: style {style} cannot serialize {kind} values")]
    UnsupportedValue {
        /// The parameter.
        name: String,
        /// The style (`deepObject`).
        style: &'static str,
        /// `a primitive`, `an array`, `an object`.
        kind: &'static str,
    },
    /// A header value holds CR, LF or NUL, which could inject headers.
    #[error("header `{name}`: the value contains a CR, LF or NUL character, which is refused")]
    HeaderInjection {
        /// The header.
        name: String,
    },
}

/// A value split into the shapes the style table knows, atoms as raw text.
enum Shape {
    Primitive(String),
    Array(Vec<String>),
    Object(Vec<(String, String)>),
}

fn atom(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        other => other.to_string(),
    }
}

fn shape(v: &Value) -> Shape {
    match v {
        Value::Array(items) => Shape::Array(items.iter().map(atom).collect()),
        Value::Object(map) => Shape::Object(map.iter().map(|(k, v)| (k.clone(), atom(v))).collect()),
        other => Shape::Primitive(atom(other)),
    }
}

fn enc(text: &str) -> String {
    utf8_percent_encode(text, COMPONENT).to_string()
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
pub(crate) fn encode_component(text: &str) -> String {
    enc(text)
}

/// Path values: like [`enc`], and a whole value of `.` or `..` is encoded too,
/// so a parameter can never walk up the path.
fn enc_path(text: &str) -> String {
    match text {
        "." => "%2E".to_owned(),
        ".." => "%2E%2E".to_owned(),
        other => enc(other),
    }
}

fn join(items: impl IntoIterator<Item = String>, sep: &str) -> String {
    items.into_iter().collect::<Vec<_>>().join(sep)
}

fn flat_pairs(pairs: &[(String, String)], e: fn(&str) -> String) -> Vec<String> {
    pairs.iter().flat_map(|(k, v)| [e(k), e(v)]).collect()
}

/// Serializes a path parameter; the result replaces `{name}` in the path.
pub fn serialize_path(name: &str, style: ParamStyle, explode: bool, value: &Value) -> Result<String, StyleError> {
    let s = shape(value);
    let e = enc_path;
    Ok(match style {
        ParamStyle::Simple => simple(&s, explode, e),
        ParamStyle::Label => {
            let body = match &s {
                Shape::Primitive(p) => e(p),
                Shape::Array(a) => join(a.iter().map(|x| e(x)), if explode { "." } else { "," }),
                Shape::Object(o) if explode => join(o.iter().map(|(k, v)| format!("{}={}", e(k), e(v))), "."),
                Shape::Object(o) => flat_pairs(o, e).join(","),
            };
            format!(".{body}")
        }
        ParamStyle::Matrix => {
            let n = e(name);
            let kv = |k: &str, v: &str| {
                if v.is_empty() {
                    format!(";{k}")
                } else {
                    format!(";{k}={v}")
                }
            };
            match &s {
                Shape::Primitive(p) => kv(&n, &e(p)),
                Shape::Array(a) if explode && !a.is_empty() => a.iter().map(|x| kv(&n, &e(x))).collect(),
                Shape::Array(a) => kv(&n, &join(a.iter().map(|x| e(x)), ",")),
                Shape::Object(o) if explode => o.iter().map(|(k, v)| kv(&e(k), &e(v))).collect(),
                Shape::Object(o) => kv(&n, &flat_pairs(o, e).join(",")),
            }
        }
        other => {
            return Err(StyleError::StyleNotAllowed {
                name: name.to_owned(),
                style: style_name(other),
                location: "path",
            });
        }
    })
}

fn simple(s: &Shape, explode: bool, e: fn(&str) -> String) -> String {
    match s {
        Shape::Primitive(p) => e(p),
        Shape::Array(a) => join(a.iter().map(|x| e(x)), ","),
        Shape::Object(o) if explode => join(o.iter().map(|(k, v)| format!("{}={}", e(k), e(v))), ","),
        Shape::Object(o) => flat_pairs(o, e).join(","),
    }
}

/// Serializes a query parameter into percent-encoded `(key, value)` pairs, to
/// be joined as `key=value` with `&`. An empty list means "send nothing" (an
/// empty array exploded).
///
/// `allow_reserved` keeps RFC 3986 reserved characters in values, except
/// `&`, `=`, `#` and `+`, which would change the query's meaning.
pub fn serialize_query(
    name: &str,
    style: ParamStyle,
    explode: bool,
    allow_reserved: bool,
    value: &Value,
) -> Result<Vec<(String, String)>, StyleError> {
    let ev: fn(&str) -> String = if allow_reserved {
        |t| utf8_percent_encode(t, RESERVED_ALLOWED).to_string()
    } else {
        enc
    };
    let n = enc(name);
    let s = shape(value);
    let delimited = |sep: &str| -> Vec<(String, String)> {
        match &s {
            Shape::Primitive(p) => vec![(n.clone(), ev(p))],
            Shape::Array(a) if explode => a.iter().map(|x| (n.clone(), ev(x))).collect(),
            Shape::Array(a) => vec![(n.clone(), join(a.iter().map(|x| ev(x)), sep))],
            Shape::Object(o) if explode => o.iter().map(|(k, v)| (enc(k), ev(v))).collect(),
            Shape::Object(o) => vec![(n.clone(), flat_pairs(o, ev).join(sep))],
        }
    };
    match style {
        ParamStyle::Form => Ok(delimited(",")),
        ParamStyle::SpaceDelimited => Ok(delimited("%20")),
        ParamStyle::PipeDelimited => Ok(delimited("|")),
        ParamStyle::DeepObject => match value {
            Value::Object(_) => {
                let mut out = Vec::new();
                deep(&n, value, ev, &mut out);
                Ok(out)
            }
            other => Err(StyleError::UnsupportedValue {
                name: name.to_owned(),
                style: style_name(style),
                kind: kind_of(other),
            }),
        },
        other => Err(StyleError::StyleNotAllowed {
            name: name.to_owned(),
            style: style_name(other),
            location: "query",
        }),
    }
}

/// `deepObject`, recursing into nested objects (`a[b][c]=v`) as most servers
/// read it; arrays inside repeat the key (`a[tags]=x&a[tags]=y`).
fn deep(prefix: &str, value: &Value, ev: fn(&str) -> String, out: &mut Vec<(String, String)>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                deep(&format!("{prefix}%5B{}%5D", enc(k)), v, ev, out);
            }
        }
        Value::Array(items) => out.extend(items.iter().map(|x| (prefix.to_owned(), ev(&atom(x))))),
        other => out.push((prefix.to_owned(), ev(&atom(other)))),
    }
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
        _ => "a primitive",
    }
}

/// Refuses a header value holding CR, LF or NUL.
pub fn check_header_value(name: &str, value: &str) -> Result<(), StyleError> {
    if value.bytes().any(|b| matches!(b, b'\r' | b'\n' | 0)) {
        return Err(StyleError::HeaderInjection { name: name.to_owned() });
    }
    Ok(())
}

/// Serializes a header parameter (style `simple`); values are not
/// percent-encoded, and CR, LF or NUL anywhere is refused.
pub fn serialize_header(name: &str, explode: bool, value: &Value) -> Result<String, StyleError> {
    let text = simple(&shape(value), explode, str::to_owned);
    check_header_value(name, &text)?;
    Ok(text)
}

/// Serializes a cookie parameter (style `form`) into `(name, value)` pairs to
/// be joined as `name=value` with `; ` in one `Cookie` header.
pub fn serialize_cookie(name: &str, explode: bool, value: &Value) -> Result<Vec<(String, String)>, StyleError> {
    let e: fn(&str) -> String = |t| utf8_percent_encode(t, COOKIE).to_string();
    let n = e(name);
    Ok(match shape(value) {
        Shape::Primitive(p) => vec![(n, e(&p))],
        Shape::Array(a) if explode => a.iter().map(|x| (n.clone(), e(x))).collect(),
        Shape::Array(a) => vec![(n, join(a.iter().map(|x| e(x)), ","))],
        Shape::Object(o) if explode => o.iter().map(|(k, v)| (e(k), e(v))).collect(),
        Shape::Object(o) => vec![(n, flat_pairs(&o, e).join(","))],
    })
}

/// Joins encoded pairs as a query string (`a=1&b=2`).
pub fn query_string(pairs: &[(String, String)]) -> String {
    join(pairs.iter().map(|(k, v)| format!("{k}={v}")), "&")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn prim() -> Value {
        json!(5)
    }
    fn arr() -> Value {
        json!([3, 4, 5])
    }
    fn obj() -> Value {
        json!({"firstName": "Alex", "role": "admin"})
    }

    fn q(style: ParamStyle, explode: bool, v: &Value) -> String {
        query_string(&serialize_query("id", style, explode, false, v).unwrap())
    }

    /// The rows of the OpenAPI 3.1 style examples table.
    #[test]
    fn path_styles_follow_the_table() {
        use ParamStyle::*;
        let cases = [
            (Simple, false, prim(), "5"),
            (Simple, false, arr(), "3,4,5"),
            (Simple, false, obj(), "firstName,Alex,role,admin"),
            (Simple, true, obj(), "firstName=Alex,role=admin"),
            (Label, false, prim(), ".5"),
            (Label, false, arr(), ".3,4,5"),
            (Label, true, arr(), ".3.4.5"),
            (Label, false, obj(), ".firstName,Alex,role,admin"),
            (Label, true, obj(), ".firstName=Alex.role=admin"),
            (Matrix, false, prim(), ";id=5"),
            (Matrix, false, arr(), ";id=3,4,5"),
            (Matrix, true, arr(), ";id=3;id=4;id=5"),
            (Matrix, false, obj(), ";id=firstName,Alex,role,admin"),
            (Matrix, true, obj(), ";firstName=Alex;role=admin"),
            (Matrix, false, json!(""), ";id"),
        ];
        // Keys are in alphabetical order, so the order is the same with or without preserve_order.
        for (style, explode, value, want) in cases {
            let got = serialize_path("id", style, explode, &value).unwrap();
            assert_eq!(got, want, "{style:?} explode={explode} {value}");
        }
    }

    #[test]
    fn query_styles_follow_the_table() {
        use ParamStyle::*;
        assert_eq!(q(Form, true, &prim()), "id=5");
        assert_eq!(q(Form, false, &arr()), "id=3,4,5");
        assert_eq!(q(Form, true, &arr()), "id=3&id=4&id=5");
        assert_eq!(q(Form, true, &json!("")), "id=");
        assert_eq!(q(SpaceDelimited, false, &arr()), "id=3%204%205");
        assert_eq!(q(PipeDelimited, false, &arr()), "id=3|4|5");
        assert_eq!(q(PipeDelimited, true, &arr()), "id=3&id=4&id=5");
        let form_obj = q(Form, true, &obj());
        assert!(form_obj.contains("role=admin") && form_obj.contains("firstName=Alex"));
        let form_obj = q(Form, false, &obj());
        assert!(form_obj.starts_with("id=") && form_obj.contains("role,admin"));
        let deep = q(DeepObject, true, &obj());
        assert!(deep.contains("id%5Brole%5D=admin") && deep.contains("id%5BfirstName%5D=Alex"));
        assert_eq!(q(DeepObject, true, &json!({"a": {"b": 1}})), "id%5Ba%5D%5Bb%5D=1");
        assert!(serialize_query("id", DeepObject, true, false, &arr()).is_err());
        assert!(serialize_query("id", Matrix, true, false, &arr()).is_err());
        assert_eq!(q(Form, true, &json!([])), "");
    }

    #[test]
    fn values_are_encoded_delimiters_are_not() {
        let got = serialize_query("q", ParamStyle::Form, false, false, &json!(["a b", "c,d", "é&="])).unwrap();
        assert_eq!(query_string(&got), "q=a%20b,c%2Cd,%C3%A9%26%3D");
        let reserved = serialize_query("u", ParamStyle::Form, true, true, &json!("http://x/y?z&w")).unwrap();
        assert_eq!(query_string(&reserved), "u=http://x/y?z%26w");
        assert_eq!(
            serialize_path("p", ParamStyle::Simple, false, &json!("a/b")).unwrap(),
            "a%2Fb"
        );
        assert_eq!(
            serialize_path("p", ParamStyle::Simple, false, &json!("..")).unwrap(),
            "%2E%2E"
        );
        assert!(serialize_path("p", ParamStyle::Form, false, &json!("x")).is_err());
    }

    #[test]
    fn headers_refuse_crlf_and_are_not_encoded() {
        assert_eq!(serialize_header("X-A", false, &json!([1, "a b"])).unwrap(), "1,a b");
        assert_eq!(serialize_header("X-A", true, &json!({"k": "v"})).unwrap(), "k=v");
        for bad in ["a\r\nX-Evil: 1", "a\nb", "a\rb", "a\0b"] {
            let e = serialize_header("X-A", false, &json!(bad)).unwrap_err();
            assert!(matches!(e, StyleError::HeaderInjection { .. }), "{bad:?}");
        }
    }

    #[test]
    fn cookies_use_form_and_encode_separators() {
        assert_eq!(
            serialize_cookie("id", true, &json!(5)).unwrap(),
            vec![("id".into(), "5".into())]
        );
        assert_eq!(
            serialize_cookie("id", false, &json!([3, 4])).unwrap(),
            vec![("id".into(), "3,4".into())]
        );
        assert_eq!(
            serialize_cookie("s", true, &json!("a; b=c")).unwrap(),
            vec![("s".into(), "a%3B%20b=c".into())]
        );
    }
}
