//! schemars' number formats (`double`, `int32`, `uint8`, `uint`...) restate
//! the type: profiles that cannot keep them drop them instead of writing
//! `(format: "double")` into descriptions.

#![allow(clippy::panic, clippy::unwrap_used)]

use serde_json::Value;
use toolplane_schema::{Profile, apply_profile};

#[derive(schemars::JsonSchema)]
#[allow(dead_code)]
struct Order {
    /// Price in euros.
    price: f64,
    ratio: f32,
    quantity: i32,
    total: i64,
    level: u8,
    index: usize,
    count: Option<u32>,
    /// Contact address.
    #[schemars(email)]
    email: String,
    #[schemars(length(min = 2))]
    code: String,
}

fn descriptions(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            if let Some(Value::String(d)) = m.get("description") {
                out.push(d.clone());
            }
            m.values().for_each(|c| descriptions(c, out));
        }
        Value::Array(a) => a.iter().for_each(|c| descriptions(c, out)),
        _ => {}
    }
}

#[test]
fn strict_and_gemini_do_not_write_number_formats_into_descriptions() {
    let schema = serde_json::to_value(schemars::schema_for!(Order)).unwrap();
    for profile in [Profile::OpenAiStrict, Profile::Gemini] {
        let p = apply_profile(&schema, profile);
        let mut texts = Vec::new();
        descriptions(&p.schema, &mut texts);
        for f in ["double", "float", "int32", "int64", "uint8", "uint32", "uint"] {
            let note = format!("format: \"{f}\"");
            assert!(!texts.iter().any(|d| d.contains(&note)), "{profile:?}: {texts:#?}");
        }
        // What a model can use stays: the doc comment, the ranges, the string constraints.
        let props = &p.schema["properties"];
        assert!(
            props["price"]["description"]
                .as_str()
                .unwrap()
                .starts_with("Price in euros.")
        );
        assert_eq!(props["level"]["maximum"], 255, "{profile:?}");
        let code = &props["code"];
        let kept = code["minLength"] == 2 || code["description"].as_str().is_some_and(|d| d.contains("minLength: 2"));
        assert!(kept, "{profile:?}: {code}");
    }
    let strict = apply_profile(&schema, Profile::OpenAiStrict);
    assert!(strict.strict, "{:?}", strict.notes);
    assert_eq!(
        strict.schema["properties"]["email"]["format"], "email",
        "a format strict mode supports stays"
    );
    assert!(strict.schema["properties"]["quantity"].get("format").is_none());
    let gemini = apply_profile(&schema, Profile::Gemini);
    assert_eq!(
        gemini.schema["properties"]["price"]["format"], "double",
        "Gemini keeps the formats it knows"
    );
    assert_eq!(gemini.schema["properties"]["quantity"]["format"], "int32");
}
