#![allow(clippy::unwrap_used, clippy::panic)]
//! Property tests of the HTTP serialization: whatever value a model sends,
//! path text stays one segment (or slash-separated segments, for file paths),
//! query pairs cannot add parameters, header values never carry a line break,
//! and nothing panics.

#![cfg(feature = "http")]

use proptest::prelude::*;
use serde_json::{Value, json};
use toolplane_openapi::binding::ParamStyle;
use toolplane_openapi::http::body::{BodyOptions, encode_body};
use toolplane_openapi::http::style::{serialize_cookie, serialize_header, serialize_path, serialize_query};

fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        any::<String>().prop_map(Value::String),
        any::<i64>().prop_map(|n| json!(n)),
        any::<bool>().prop_map(Value::Bool),
        Just(Value::Null),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(any::<String>(), inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

const PATH_STYLES: [ParamStyle; 3] = [ParamStyle::Simple, ParamStyle::Label, ParamStyle::Matrix];
const QUERY_STYLES: [ParamStyle; 4] = [
    ParamStyle::Form,
    ParamStyle::SpaceDelimited,
    ParamStyle::PipeDelimited,
    ParamStyle::DeepObject,
];

/// Characters a path value may produce: unreserved, `%XX`, and the styles' delimiters.
fn path_safe(text: &str) -> bool {
    text.chars()
        .all(|c| c.is_ascii_alphanumeric() || "-._~%,;=".contains(c))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn path_values_stay_in_their_segment(name in "[a-z]{1,8}", v in value(), s in 0usize..3, explode: bool) {
        let text = serialize_path(&name, PATH_STYLES[s], explode, &v).unwrap();
        prop_assert!(path_safe(&text), "{text}");
        prop_assert!(!text.contains('/') && !text.contains('?') && !text.contains('#'));
    }

    #[test]
    fn query_values_cannot_add_parameters(name in "[a-z]{1,8}", v in value(), s in 0usize..4, explode: bool, reserved: bool) {
        if let Ok(pairs) = serialize_query(&name, QUERY_STYLES[s], explode, reserved, &v) {
            for (k, val) in pairs {
                for t in [&k, &val] {
                    prop_assert!(!t.contains('&') && !t.contains('#') && !t.contains('=') && !t.contains(' '), "{t}");
                }
            }
        }
    }

    #[test]
    fn headers_and_cookies_never_break_lines(v in value(), explode: bool) {
        if let Ok(h) = serialize_header("X-A", explode, &v) {
            prop_assert!(!h.contains('\r') && !h.contains('\n') && !h.contains('\0'));
        }
        for (k, c) in serialize_cookie("c", explode, &v).unwrap() {
            for t in [&k, &c] {
                prop_assert!(!t.contains(';') && !t.contains('\r') && !t.contains('\n') && !t.contains(' '), "{t}");
            }
        }
    }

    #[test]
    fn bodies_never_panic(v in value(), mt in prop::sample::select(vec![
        "application/json", "application/x-www-form-urlencoded", "multipart/form-data", "text/plain",
        "application/octet-stream",
    ])) {
        let binary = vec!["file".to_owned()];
        let options = BodyOptions { binary_fields: &binary, encoding: None, boundary: "b0undary" };
        let _ = encode_body(mt, &v, &options);
    }
}
