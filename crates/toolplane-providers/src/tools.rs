//! Tool definitions and call ids in vendor form.

use serde_json::{Value, json};

/// A tool's parameters as vendors want them: an object schema, an empty one
/// when the tool takes no input.
pub(crate) fn parameters(schema: &Value) -> Value {
    match schema {
        Value::Object(o) if !o.is_empty() => schema.clone(),
        _ => json!({ "type": "object", "properties": {} }),
    }
}

/// Mistral accepts only tool-call ids of exactly 9 ASCII letters and digits.
/// Ids that already fit are kept; others are hashed (FNV-1a, 64 bits) into 9
/// base-62 characters, so one id maps to the same value in the call and in
/// its result, in every request.
///
/// ```
/// use toolplane_providers::mistral_call_id;
/// assert_eq!(mistral_call_id("abcDEF123"), "abcDEF123");
/// let id = mistral_call_id("call_CTf1nWJLqSeRgDqaCG27xZ74");
/// assert_eq!(id.len(), 9);
/// assert!(id.chars().all(|c| c.is_ascii_alphanumeric()));
/// assert_eq!(id, mistral_call_id("call_CTf1nWJLqSeRgDqaCG27xZ74"));
/// ```
pub fn mistral_call_id(id: &str) -> String {
    if id.len() == 9 && id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return id.to_owned();
    }
    const ALPHABET: &[u8; 62] = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in id.bytes() {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    let mut out = String::with_capacity(9);
    for _ in 0..9 {
        out.push(char::from(ALPHABET[(hash % 62) as usize]));
        hash /= 62;
    }
    out
}
