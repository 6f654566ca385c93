//! Property tests: names from any string are valid and unique; conversion never panics.

#![allow(clippy::panic, clippy::unwrap_used)]

use std::collections::BTreeSet;

use proptest::prelude::*;
use serde_json::{Value, json};
use toolplane_openapi::{ConvertOptions, Converter, OpenApiSpec};
use toolplane_schema::{Profile, is_valid_name, profiled_tool, sanitize_name, unique_names};

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i32>().prop_map(|n| json!(n)),
        prop_oneof![
            Just("object".to_string()),
            Just("#/components/schemas/A".to_string()),
            Just("string".to_string()),
            Just("{id}".to_string()),
            "\\PC{0,8}",
        ]
        .prop_map(Value::String),
    ];
    let keys = prop_oneof![
        Just("type".to_string()),
        Just("properties".to_string()),
        Just("$ref".to_string()),
        Just("allOf".to_string()),
        Just("oneOf".to_string()),
        Just("items".to_string()),
        Just("nullable".to_string()),
        Just("required".to_string()),
        Just("discriminator".to_string()),
        Just("parameters".to_string()),
        Just("requestBody".to_string()),
        Just("schema".to_string()),
        Just("in".to_string()),
        Just("name".to_string()),
        "[a-z]{1,4}",
    ];
    leaf.prop_recursive(5, 64, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(keys.clone(), inner, 0..5).prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_string_sanitizes_to_a_valid_name(s in "\\PC*", max in 0usize..80) {
        let n = sanitize_name(&s, max);
        prop_assert!(is_valid_name(&n, max.max(12)), "{:?} -> {:?}", s, n);
    }

    #[test]
    fn names_stay_unique(raw in prop::collection::vec("\\PC{0,70}", 1..30), max in 12usize..70) {
        let items: Vec<(String, String)> = raw.iter().enumerate().map(|(i, s)| (s.clone(), format!("{i}"))).collect();
        let refs: Vec<(&str, &str)> = items.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        let names = unique_names(&refs, max);
        let set: BTreeSet<&String> = names.iter().collect();
        prop_assert_eq!(set.len(), names.len());
        prop_assert!(names.iter().all(|n| is_valid_name(n, max)));
    }

    #[test]
    fn conversion_never_panics_on_arbitrary_json(schema in arb_json(), op in arb_json(), item in arb_json()) {
        let mut item = match item { Value::Object(m) => m, _ => Default::default() };
        item.insert("post".into(), op);
        let doc = json!({
            "openapi": "3.0.3",
            "info": {"title": "t", "version": "1"},
            "paths": {"/x/{id}": Value::Object(item), "/y": {"get": {"parameters": [{"name": "q", "in": "query", "schema": schema.clone()}]}}},
            "components": {"schemas": {"A": schema}}
        });
        if let Ok(spec) = OpenApiSpec::from_value(doc) {
            let c = Converter::new(ConvertOptions::default()).convert(&spec);
            for t in &c.tools {
                for p in Profile::ALL {
                    let _ = profiled_tool(&t.spec, p);
                }
            }
        }
    }

    #[test]
    fn loading_never_panics_on_arbitrary_json(doc in arb_json()) {
        let _ = OpenApiSpec::from_value(doc.clone());
        let mut doc = doc;
        if let Value::Object(m) = &mut doc {
            m.insert("openapi".into(), json!("3.1.0"));
        }
        if let Ok(spec) = OpenApiSpec::from_value(doc) {
            let _ = Converter::default().inspect(&spec);
        }
    }
}
