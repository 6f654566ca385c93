//! The answer as the model sees it: `{status, headers, body}` within a byte budget.

use base64::Engine as _;
use serde_json::{Map, Value, json};
use toolplane_core::ToolOutput;

use super::body::BodyKind;

/// A response read up to the byte budget.
#[derive(Debug)]
pub(crate) struct ReadBody {
    pub(crate) bytes: Vec<u8>,
    /// True when more bytes existed than the budget.
    pub(crate) cut: bool,
    /// The total size when the server declared it.
    pub(crate) declared_len: Option<u64>,
}

/// Reads at most `budget` bytes (plus one, to know whether there was more).
pub(crate) async fn read_limited(resp: &mut reqwest::Response, budget: usize) -> Result<ReadBody, reqwest::Error> {
    let declared_len = resp.content_length();
    let mut bytes = Vec::new();
    let mut cut = false;
    while let Some(chunk) = resp.chunk().await? {
        let room = budget.saturating_sub(bytes.len());
        if chunk.len() > room {
            bytes.extend_from_slice(&chunk[..room]);
            cut = true;
            break;
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(ReadBody {
        bytes,
        cut,
        declared_len,
    })
}

/// Builds the tool result. Non-2xx answers are results with `is_error` set.
pub(crate) fn to_output(status: u16, headers: Map<String, Value>, content_type: &str, read: ReadBody) -> ToolOutput {
    let ReadBody {
        bytes,
        cut,
        declared_len,
    } = read;
    let shown = bytes.len();
    let marker = || match declared_len {
        Some(total) => format!("…[truncated: {shown} of {total} bytes shown]"),
        None => format!("…[truncated: first {shown} bytes shown]"),
    };
    let kind = BodyKind::for_media_type(content_type);
    let body = if bytes.is_empty() {
        Value::Null
    } else if !cut && kind == BodyKind::Json {
        serde_json::from_slice(&bytes).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
    } else if let Some(v) = untyped_json(&bytes, content_type, cut) {
        v
    } else {
        match std::str::from_utf8(&bytes) {
            Ok(text) => text_body(text, cut, &marker),
            Err(e) if cut && e.error_len().is_none() => {
                // Cut inside a multi-byte character: keep the valid prefix.
                let text = String::from_utf8_lossy(&bytes[..e.valid_up_to()]).into_owned();
                text_body(&text, cut, &marker)
            }
            Err(_) => {
                let mut obj = Map::new();
                obj.insert(
                    "base64".into(),
                    Value::String(base64::engine::general_purpose::STANDARD.encode(&bytes)),
                );
                obj.insert("bytes".into(), json!(shown));
                if cut {
                    obj.insert("truncated".into(), Value::String(marker()));
                }
                Value::Object(obj)
            }
        }
    };
    let mut out = ToolOutput::json(json!({"status": status, "headers": headers, "body": body}));
    out.truncated = cut;
    if !(200..300).contains(&status) {
        out = out.into_error();
    }
    out
}

/// A body without a content type that is a JSON object or array.
fn untyped_json(bytes: &[u8], content_type: &str, cut: bool) -> Option<Value> {
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace())?;
    if cut || !content_type.trim().is_empty() || !matches!(first, b'{' | b'[') {
        return None;
    }
    serde_json::from_slice(bytes).ok()
}

fn text_body(text: &str, cut: bool, marker: &dyn Fn() -> String) -> Value {
    if cut {
        Value::String(format!("{text}{}", marker()))
    } else {
        Value::String(text.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(bytes: &[u8], cut: bool) -> ReadBody {
        ReadBody {
            bytes: bytes.to_vec(),
            cut,
            declared_len: Some(100),
        }
    }

    #[test]
    fn json_text_binary_and_cut() {
        let o = to_output(200, Map::new(), "application/json", read(br#"{"a":1}"#, false));
        assert_eq!(o.content["body"]["a"], 1);
        assert!(!o.is_error && !o.truncated);
        let o = to_output(
            404,
            Map::new(),
            "application/json",
            read(br#"{"message":"Not Found"}"#, false),
        );
        assert!(o.is_error);
        assert_eq!(o.content["status"], 404);
        let o = to_output(200, Map::new(), "application/json", read(br#"{"a":"#, true));
        assert!(o.truncated);
        assert_eq!(o.content["body"], r#"{"a":…[truncated: 5 of 100 bytes shown]"#);
        let o = to_output(200, Map::new(), "text/plain", read("é".as_bytes()[..1].as_ref(), true));
        assert_eq!(o.content["body"], "…[truncated: 1 of 100 bytes shown]");
        let o = to_output(200, Map::new(), "image/png", read(&[0xff, 0xfe], false));
        assert_eq!(o.content["body"]["base64"], "//4=");
        let o = to_output(200, Map::new(), "", read(br#" {"a":1}"#, false));
        assert_eq!(o.content["body"]["a"], 1);
        let o = to_output(200, Map::new(), "text/plain", read(br#"{"a":1}"#, false));
        assert_eq!(o.content["body"], r#"{"a":1}"#);
        let o = to_output(204, Map::new(), "", read(b"", false));
        assert_eq!(o.content["body"], Value::Null);
    }
}
