//! Request bodies: JSON, form-urlencoded, multipart, text and octet-stream.

use std::fmt::Write as _;

use base64::Engine as _;
use serde_json::Value;

use std::collections::BTreeMap;

use super::style::{query_string, serialize_query};
use crate::binding::{ParamStyle, PropertyEncoding};

/// How a request body is written, chosen from its media type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BodyKind {
    /// `application/json` and `*+json`: the value as JSON.
    Json,
    /// `application/x-www-form-urlencoded`: an object's properties, form style, exploded.
    FormUrlEncoded,
    /// `multipart/form-data`: one part per property.
    Multipart,
    /// `text/*`: a string as it is (other values as JSON text).
    Text,
    /// `application/octet-stream` and other binary types: a base64 string, decoded.
    Binary,
}

impl BodyKind {
    /// The kind for a media type (parameters such as `charset` ignored).
    pub fn for_media_type(media_type: &str) -> Self {
        let mt = media_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
        if mt == "application/json" || mt.ends_with("+json") || mt == "*/*" {
            Self::Json
        } else if mt == "application/x-www-form-urlencoded" {
            Self::FormUrlEncoded
        } else if mt.starts_with("multipart/") {
            Self::Multipart
        } else if mt.starts_with("text/") || mt == "application/xml" || mt.ends_with("+xml") {
            Self::Text
        } else {
            Self::Binary
        }
    }
}

/// A body ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodedBody {
    /// The `Content-Type` header value.
    pub content_type: String,
    /// The bytes.
    pub bytes: Vec<u8>,
}

/// A body value that cannot be written as its media type asks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BodyError {
    /// The media type needs an object (form, multipart).
    #[error("request body ({media_type}): expected an object of fields, got {got}")]
    NotAnObject {
        /// The media type.
        media_type: String,
        /// What arrived.
        got: &'static str,
    },
    /// A binary body or file field was not valid base64.
    #[error("request body ({media_type}){field}: expected base64 text for binary content")]
    NotBase64 {
        /// The media type.
        media_type: String,
        /// ` field `x`` when inside multipart, else empty.
        field: String,
    },
}

fn kind_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Decodes base64 in standard or URL-safe alphabet, padded or not, ignoring
/// whitespace (models wrap long text).
pub fn decode_base64(text: &str) -> Option<Vec<u8>> {
    let clean: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let trimmed = clean.trim_end_matches('=');
    base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(trimmed)
        .or_else(|_| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(trimmed))
        .ok()
}

/// Options for [`encode_body`].
#[derive(Debug, Clone, Default)]
pub struct BodyOptions<'a> {
    /// Multipart fields whose string value is base64 file content (OpenAPI
    /// `format: binary` or `contentEncoding: base64`); sent decoded as
    /// `application/octet-stream` parts with the field name as file name.
    pub binary_fields: &'a [String],
    /// Per-property `encoding` (style and explode of form fields).
    pub encoding: Option<&'a BTreeMap<String, PropertyEncoding>>,
    /// The multipart boundary (the caller makes it unique per request).
    pub boundary: &'a str,
}

/// Writes `value` as a body of `media_type`.
///
/// ```
/// use serde_json::json;
/// use toolplane_openapi::http::body::{encode_body, BodyOptions};
/// let v = json!({"a": "x y", "n": [1, 2]});
/// let b = encode_body("application/x-www-form-urlencoded", &v, &BodyOptions::default()).unwrap();
/// assert_eq!(b.bytes, b"a=x%20y&n=1&n=2");
/// ```
pub fn encode_body(media_type: &str, value: &Value, options: &BodyOptions<'_>) -> Result<EncodedBody, BodyError> {
    let binary_fields = options.binary_fields;
    let boundary = if options.boundary.is_empty() {
        "toolplane-boundary"
    } else {
        options.boundary
    };
    let kind = BodyKind::for_media_type(media_type);
    let content_type = media_type.to_owned();
    let not_object = || BodyError::NotAnObject {
        media_type: media_type.to_owned(),
        got: kind_name(value),
    };
    let bytes = match kind {
        BodyKind::Json => serde_json::to_vec(value).unwrap_or_default(),
        BodyKind::Text => match value {
            Value::String(s) => s.clone().into_bytes(),
            other => other.to_string().into_bytes(),
        },
        BodyKind::Binary => match value {
            Value::String(s) => decode_base64(s).ok_or_else(|| BodyError::NotBase64 {
                media_type: media_type.to_owned(),
                field: String::new(),
            })?,
            _ => {
                return Err(BodyError::NotBase64 {
                    media_type: media_type.to_owned(),
                    field: String::new(),
                });
            }
        },
        BodyKind::FormUrlEncoded => {
            let Value::Object(map) = value else {
                return Err(not_object());
            };
            let mut pairs = Vec::new();
            for (k, v) in map {
                if v.is_null() {
                    continue;
                }
                let enc = options.encoding.and_then(|e| e.get(k));
                let style = enc.and_then(|e| e.style).unwrap_or(ParamStyle::Form);
                let explode = enc.and_then(|e| e.explode).unwrap_or(style == ParamStyle::Form);
                let reserved = enc.is_some_and(|e| e.allow_reserved);
                let v = match v {
                    Value::Object(_) if style != ParamStyle::DeepObject => Value::String(v.to_string()),
                    other => other.clone(),
                };
                let style = if matches!(style, ParamStyle::DeepObject) && !v.is_object() {
                    ParamStyle::Form
                } else {
                    style
                };
                // Query styles only: path styles fall back to form.
                let pairs_for = serialize_query(k, style, explode, reserved, &v)
                    .or_else(|_| serialize_query(k, ParamStyle::Form, true, reserved, &v))
                    .unwrap_or_default();
                pairs.extend(pairs_for);
            }
            query_string(&pairs).into_bytes()
        }
        BodyKind::Multipart => {
            let Value::Object(map) = value else {
                return Err(not_object());
            };
            let mut out = Vec::new();
            for (k, v) in map {
                if v.is_null() {
                    continue;
                }
                let binary = binary_fields.iter().any(|f| f == k);
                let items: Vec<&Value> = match v {
                    Value::Array(a) if a.iter().all(|x| !x.is_object() && !x.is_array()) => a.iter().collect(),
                    other => vec![other],
                };
                for item in items {
                    write_part(&mut out, boundary, k, item, binary, media_type)?;
                }
            }
            let _ = write!(Vec8(&mut out), "--{boundary}--\r\n");
            return Ok(EncodedBody {
                content_type: format!("multipart/form-data; boundary={boundary}"),
                bytes: out,
            });
        }
    };
    Ok(EncodedBody { content_type, bytes })
}

/// `fmt::Write` onto a byte vector.
struct Vec8<'a>(&'a mut Vec<u8>);

impl std::fmt::Write for Vec8<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

/// Field names go inside a quoted header parameter: quotes, CR and LF escaped
/// as the HTML form encoding does.
fn quote_name(name: &str) -> String {
    name.replace('"', "%22").replace('\r', "%0D").replace('\n', "%0A")
}

fn write_part(
    out: &mut Vec<u8>,
    boundary: &str,
    name: &str,
    value: &Value,
    binary: bool,
    media_type: &str,
) -> Result<(), BodyError> {
    let qn = quote_name(name);
    let mut w = Vec8(out);
    let _ = write!(w, "--{boundary}\r\n");
    if binary {
        let bytes = value
            .as_str()
            .and_then(decode_base64)
            .ok_or_else(|| BodyError::NotBase64 {
                media_type: media_type.to_owned(),
                field: format!(" field `{name}`"),
            })?;
        let _ = write!(
            w,
            "Content-Disposition: form-data; name=\"{qn}\"; filename=\"{qn}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
        );
        out.extend_from_slice(&bytes);
    } else {
        match value {
            Value::Object(_) | Value::Array(_) => {
                let _ = write!(
                    w,
                    "Content-Disposition: form-data; name=\"{qn}\"\r\nContent-Type: application/json\r\n\r\n{value}"
                );
            }
            Value::String(s) => {
                let _ = write!(w, "Content-Disposition: form-data; name=\"{qn}\"\r\n\r\n{s}");
            }
            other => {
                let _ = write!(w, "Content-Disposition: form-data; name=\"{qn}\"\r\n\r\n{other}");
            }
        }
    }
    out.extend_from_slice(b"\r\n");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn encode_body(mt: &str, v: &Value, binary: &[String], boundary: &str) -> Result<EncodedBody, BodyError> {
        super::encode_body(
            mt,
            v,
            &BodyOptions {
                binary_fields: binary,
                encoding: None,
                boundary,
            },
        )
    }

    #[test]
    fn kinds_from_media_types() {
        assert_eq!(
            BodyKind::for_media_type("application/json; charset=utf-8"),
            BodyKind::Json
        );
        assert_eq!(BodyKind::for_media_type("application/merge-patch+json"), BodyKind::Json);
        assert_eq!(BodyKind::for_media_type("multipart/form-data"), BodyKind::Multipart);
        assert_eq!(BodyKind::for_media_type("text/plain"), BodyKind::Text);
        assert_eq!(BodyKind::for_media_type("image/png"), BodyKind::Binary);
    }

    #[test]
    fn json_text_and_binary() {
        let j = encode_body("application/json", &json!({"a": [1]}), &[], "b").unwrap();
        assert_eq!(j.bytes, br#"{"a":[1]}"#);
        let t = encode_body("text/plain", &json!("hi\nthere"), &[], "b").unwrap();
        assert_eq!(t.bytes, b"hi\nthere");
        let b = encode_body("application/octet-stream", &json!("AAEC/w=="), &[], "b").unwrap();
        assert_eq!(b.bytes, vec![0, 1, 2, 255]);
        let b = encode_body("application/octet-stream", &json!("AAEC_w"), &[], "b").unwrap();
        assert_eq!(b.bytes, vec![0, 1, 2, 255]);
        assert!(encode_body("application/octet-stream", &json!("not base64!"), &[], "b").is_err());
        assert!(encode_body("application/octet-stream", &json!(1), &[], "b").is_err());
    }

    #[test]
    fn form_needs_an_object() {
        let e = encode_body("application/x-www-form-urlencoded", &json!([1]), &[], "b").unwrap_err();
        assert!(e.to_string().contains("expected an object"));
        let f = encode_body(
            "application/x-www-form-urlencoded",
            &json!({"o": {"k": 1}, "z": null}),
            &[],
            "b",
        )
        .unwrap();
        assert_eq!(f.bytes, b"o=%7B%22k%22%3A1%7D");
    }

    #[test]
    fn multipart_parts() {
        let body = json!({"name": "n", "file": "aGk=", "meta": {"k": 1}, "tags": ["a", "b"]});
        let m = encode_body("multipart/form-data", &body, &["file".to_owned()], "XyZ").unwrap();
        assert_eq!(m.content_type, "multipart/form-data; boundary=XyZ");
        let text = String::from_utf8(m.bytes).unwrap();
        assert!(
            text.contains("name=\"file\"; filename=\"file\"\r\nContent-Type: application/octet-stream\r\n\r\nhi\r\n")
        );
        assert!(text.contains("name=\"meta\"\r\nContent-Type: application/json\r\n\r\n{\"k\":1}\r\n"));
        assert_eq!(text.matches("name=\"tags\"").count(), 2);
        assert!(text.ends_with("--XyZ--\r\n"));
    }
}
