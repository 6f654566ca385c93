//! Keywords a profile cannot keep: written into the description as text, so
//! the model still reads the constraint, unless it says nothing a model can use.

use serde_json::Value;

/// The `format`s schemars (and OpenAPI) put on numbers: `float`, `double`,
/// `int8` to `int128`, `uint8` to `uint128`, `int`, `uint`. They restate the
/// type (and schemars adds the range as `minimum`/`maximum` where it matters),
/// so a profile that cannot keep them drops them instead of writing
/// `(format: "double")` into every description.
pub(crate) fn is_number_format(format: &str) -> bool {
    matches!(
        format,
        "float"
            | "double"
            | "int"
            | "int8"
            | "int16"
            | "int32"
            | "int64"
            | "int128"
            | "uint"
            | "uint8"
            | "uint16"
            | "uint32"
            | "uint64"
            | "uint128"
    )
}

/// Records a keyword a profile could not keep (`key: value`, the value cut to
/// 160 bytes), so it can go into the description instead of being lost.
pub(crate) fn note_keyword(notes: &mut Vec<String>, key: &str, v: &Value) {
    let mut text = v.to_string();
    if text.len() > 160 {
        let mut end = 157;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        text.push_str("...");
    }
    notes.push(format!("{key}: {text}"));
}
