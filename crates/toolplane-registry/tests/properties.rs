#![allow(clippy::unwrap_used, clippy::panic)]
//! Property tests: the argument reader, the query parser, names and search
//! never panic, and the reader agrees with serde_json on well-formed input.

use proptest::prelude::*;
use serde_json::{Map, Value, json};
use toolplane_registry::builtin::query_json;
use toolplane_registry::{ArgumentLimits, NamePolicy, parse_arguments, skeleton};

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        (-1e15f64..1e15).prop_map(|f| json!(f)),
        "[a-z\"\\\\{}\\[\\] \u{e9}\u{1F600}]{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(6, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map("[a-z]{1,6}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect::<Map<String, Value>>())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn reader_never_panics(text in "\\PC{0,200}") {
        let _ = parse_arguments(&text, &ArgumentLimits::default());
    }

    #[test]
    fn reader_never_panics_on_json_like_noise(text in "[\\[\\]{}\",:0-9eE.+\\-a\\\\ ]{0,300}") {
        let _ = parse_arguments(&text, &ArgumentLimits { max_bytes: 1 << 20, max_depth: 8 });
    }

    #[test]
    fn reader_agrees_with_serde_json(v in prop::collection::btree_map("[a-z]{1,6}", json_value(), 0..6)) {
        let obj = Value::Object(v.into_iter().collect());
        let text = obj.to_string();
        let parsed = parse_arguments(&text, &ArgumentLimits::default()).unwrap();
        prop_assert_eq!(parsed, obj);
    }

    #[test]
    fn a_repeated_key_is_always_refused(key in "[a-z]{1,8}", a in any::<i64>(), b in any::<i64>(), nested in any::<bool>()) {
        let inner = format!(r#"{{"{key}":{a},"other":true,"{key}":{b}}}"#);
        let text = if nested { format!(r#"{{"outer":[{inner}]}}"#) } else { inner };
        let err = parse_arguments(&text, &ArgumentLimits::default()).unwrap_err();
        prop_assert!(err.message().contains("duplicate key"), "{}", err.message());
    }

    #[test]
    fn queries_never_panic(data in json_value(), q in "[$.a-z0-9\\[\\]*?@()=<>!'\" :\\-/]{0,40}") {
        let _ = query_json(&data, &q);
    }

    #[test]
    fn skeleton_is_stable_under_case_and_separators(name in "[a-z][a-z0-9_]{0,20}(\\.[a-z][a-z0-9_]{0,10})?") {
        prop_assert_eq!(skeleton(&name.to_uppercase()), skeleton(&name));
        prop_assert_eq!(skeleton(&name.replace('_', "-")), skeleton(&name));
        let _ = NamePolicy::default().check(&name);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Whatever the argument text, the executor answers with output or a
    /// typed error, never a panic; invalid input is always `invalid_arguments`.
    #[test]
    fn the_executor_never_panics(args in prop_oneof![
        "\\PC{0,120}",
        json_value().prop_map(|v| v.to_string()),
        json_value().prop_map(|v| json!({"data": v, "query": "$..a"}).to_string()),
    ]) {
        use toolplane_core::{CallContext, ToolCall, ToolErrorKind};
        use toolplane_registry::{Executor, ToolRegistry, builtin};
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let mut reg = ToolRegistry::new();
        reg.register_all(builtin::builtin_tools()).unwrap();
        let exec = Executor::new(reg);
        let calls = [ToolCall::new("1", "json_query", args.clone()), ToolCall::new("2", "current_time", args)];
        let results = rt.block_on(exec.execute_batch(&calls, &CallContext::new("p")));
        for r in results {
            if let Err(e) = r {
                prop_assert_eq!(e.kind(), ToolErrorKind::InvalidArguments, "{}", e);
            }
        }
    }
}
