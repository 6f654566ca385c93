//! Reading a model's argument text defensively.
//!
//! ```text
//!  raw text ──► size limit ──► one byte scan: nesting depth, integers beyond i64 ──► parse (duplicate keys refused) ──► Value
//!               (no parsing yet)   (no allocation)                                       (serde_json, our own visitor)
//! ```
//!
//! Each step refuses with a [`ToolError`] of kind `invalid_arguments` that
//! names the place (byte offset, or line and column) and the limit.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, MapAccess, SeqAccess, Visitor};
use serde_json::map::Entry;
use serde_json::{Map, Number, Value};
use toolplane_core::ToolError;

/// Limits on the argument text of one call.
///
/// ```
/// use toolplane_registry::{ArgumentLimits, parse_arguments};
/// let limits = ArgumentLimits::default();
/// assert!(parse_arguments(r#"{"a":1}"#, &limits).is_ok());
/// let err = parse_arguments(r#"{"a":1,"a":2}"#, &limits).unwrap_err();
/// assert!(err.message().contains("duplicate key `a`"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArgumentLimits {
    /// Largest argument text in bytes (default 1 MiB).
    pub max_bytes: usize,
    /// Deepest nesting of objects and arrays (default 64; serde_json stops at 128 anyway).
    pub max_depth: usize,
}

impl Default for ArgumentLimits {
    fn default() -> Self {
        Self {
            max_bytes: 1 << 20,
            max_depth: 64,
        }
    }
}

/// Checks a model's argument bytes are UTF-8, naming the first bad byte.
///
/// ```
/// let err = toolplane_registry::arguments_from_bytes(b"{\"a\":\"\xff\"}").unwrap_err();
/// assert!(err.message().contains("byte 6"));
/// ```
pub fn arguments_from_bytes(bytes: &[u8]) -> Result<&str, ToolError> {
    std::str::from_utf8(bytes).map_err(|e| {
        ToolError::invalid_arguments(format!(
            "the arguments are not valid UTF-8: invalid byte at byte {} (the text must be UTF-8 JSON)",
            e.valid_up_to()
        ))
    })
}

/// Parses argument text under `limits`: an empty text is `{}`; the result
/// must be a JSON object; duplicate keys, nesting beyond the limit and
/// integers outside the i64 range are refused (never silently rounded or
/// last-wins).
///
/// # Errors
/// A [`ToolError`] of kind `invalid_arguments`.
pub fn parse_arguments(text: &str, limits: &ArgumentLimits) -> Result<Value, ToolError> {
    if text.len() > limits.max_bytes {
        return Err(ToolError::invalid_arguments(format!(
            "the arguments are {} bytes; the limit is {} bytes (send less data, or page through it)",
            text.len(),
            limits.max_bytes
        )));
    }
    if text.trim().is_empty() {
        return Ok(Value::Object(Map::new()));
    }
    scan(text, limits.max_depth)?;
    let mut de = serde_json::Deserializer::from_str(text);
    let StrictValue(value) = StrictValue::deserialize(&mut de).map_err(json_error)?;
    de.end().map_err(json_error)?;
    if !value.is_object() {
        return Err(ToolError::invalid_arguments(format!(
            "the arguments must be a JSON object, not {}",
            kind_of(&value)
        )));
    }
    Ok(value)
}

fn json_error(e: serde_json::Error) -> ToolError {
    ToolError::invalid_arguments(format!("the arguments are not valid JSON: {e}"))
}

pub(crate) fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// One pass over the bytes, skipping string contents with memchr: refuses
/// nesting deeper than `max_depth` and integer literals outside i64. Malformed
/// JSON passes through untouched for the parser to report.
fn scan(text: &str, max_depth: usize) -> Result<(), ToolError> {
    let b = text.as_bytes();
    let mut i = 0;
    let mut depth = 0usize;
    while let Some(&c) = b.get(i) {
        match c {
            b'"' => {
                i += 1;
                loop {
                    let Some(rest) = b.get(i..) else { return Ok(()) };
                    match memchr::memchr2(b'"', b'\\', rest) {
                        None => return Ok(()),
                        Some(off) if rest[off] == b'\\' => i += off + 2,
                        Some(off) => {
                            i += off + 1;
                            break;
                        }
                    }
                }
            }
            b'{' | b'[' => {
                depth += 1;
                if depth > max_depth {
                    return Err(ToolError::invalid_arguments(format!(
                        "the arguments nest deeper than {max_depth} levels (at byte {i}); flatten the data"
                    )));
                }
                i += 1;
            }
            b'}' | b']' => {
                depth = depth.saturating_sub(1);
                i += 1;
            }
            b'-' | b'0'..=b'9' => {
                let start = i;
                let mut integer = true;
                i += 1;
                while let Some(&d) = b.get(i) {
                    match d {
                        b'0'..=b'9' | b'+' | b'-' => {}
                        b'.' | b'e' | b'E' => integer = false,
                        _ => break,
                    }
                    i += 1;
                }
                let token = &text[start..i];
                if integer && token.len() > 18 {
                    if let Err(e) = token.parse::<i64>() {
                        use std::num::IntErrorKind::{NegOverflow, PosOverflow};
                        if matches!(e.kind(), PosOverflow | NegOverflow) {
                            let shown: String = token.chars().take(24).collect();
                            let more = if token.len() > 24 { "..." } else { "" };
                            return Err(ToolError::invalid_arguments(format!(
                                "the integer {shown}{more} at byte {start} is outside the 64-bit range \
                                 [-9223372036854775808, 9223372036854775807]; send it as a string"
                            )));
                        }
                    }
                }
            }
            _ => i += 1,
        }
    }
    Ok(())
}

/// A JSON value read with duplicate keys refused.
struct StrictValue(Value);

impl<'de> Deserialize<'de> for StrictValue {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(StrictVisitor).map(StrictValue)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        if i64::try_from(v).is_err() {
            return Err(E::custom(format_args!(
                "the integer {v} is outside the 64-bit signed range"
            )));
        }
        Ok(Value::Number(v.into()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| E::custom("a number is not finite"))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
        while let Some(StrictValue(v)) = seq.next_element()? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let StrictValue(v) = map.next_value()?;
            match out.entry(key) {
                Entry::Vacant(slot) => {
                    slot.insert(v);
                }
                Entry::Occupied(taken) => {
                    let shown: String = taken.key().chars().take(64).collect();
                    return Err(de::Error::custom(format_args!(
                        "duplicate key `{shown}` in one object (each key may appear once)"
                    )));
                }
            }
        }
        Ok(Value::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(text: &str) -> Result<Value, String> {
        parse_arguments(text, &ArgumentLimits::default()).map_err(|e| e.message().to_string())
    }

    #[test]
    fn accepts_ordinary_objects() {
        assert_eq!(parse("").unwrap(), json!({}));
        assert_eq!(
            parse(r#"{"a":[1,-2,3.5,"x\"{[",null,true],"b":{"c":9223372036854775807}}"#).unwrap(),
            json!({"a":[1,-2,3.5,"x\"{[",null,true],"b":{"c":9223372036854775807i64}})
        );
        assert_eq!(parse(r#"{"big":1e300}"#).unwrap()["big"], json!(1e300));
    }

    #[test]
    fn refuses_with_places() {
        assert!(
            parse(r#"{"a":1,"b":{"c":1,"c":2}}"#)
                .unwrap_err()
                .contains("duplicate key `c`")
        );
        assert!(parse(r#"{"a":1"#).unwrap_err().contains("line 1"));
        assert!(parse("[1]").unwrap_err().contains("not an array"));
        assert!(
            parse(r#"{"n":92233720368547758070}"#)
                .unwrap_err()
                .contains("at byte 5")
        );
        assert!(parse(r#"{"n":-9223372036854775809}"#).unwrap_err().contains("64-bit"));
        assert!(parse(r#"{"n":18446744073709551615}"#).unwrap_err().contains("64-bit"));
        assert!(parse(r#"{"n":1e400}"#).unwrap_err().contains("out of range"));
        assert!(parse(r#"{"s":"\ud800"}"#).unwrap_err().contains("not valid JSON"));
        let deep = format!("{{\"a\":{}{}}}", "[".repeat(100), "]".repeat(100));
        assert!(parse(&deep).unwrap_err().contains("deeper than 64"));
    }

    #[test]
    fn strings_hide_brackets_and_digits_from_the_scan() {
        let text = format!(
            r#"{{"s":"{}","t":"\\","n":"123456789012345678901234"}}"#,
            "[".repeat(500)
        );
        assert!(parse(&text).is_ok());
    }
}
