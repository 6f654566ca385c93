//! Profiles on hand-written schemas: what each provider receives, and the way back.

#![allow(clippy::panic, clippy::unwrap_used)]

use proptest::prelude::*;
use serde_json::{Value, json};
use toolplane_core::ToolSpec;
use toolplane_schema::strict_check::strict_violations;
use toolplane_schema::{Profile, apply_profile, export, profiled_tool};

fn sample() -> Value {
    json!({
        "type": "object",
        "properties": {
            "title": {"type": "string", "minLength": 1, "default": "x"},
            "kind": {"type": "string", "enum": ["a", "b"]},
            "count": {"type": "integer", "format": "int32", "exclusiveMinimum": 0},
            "node": {"$ref": "#/$defs/Node"},
            "shape": {"oneOf": [{"type": "string"}, {"type": "object", "properties": {"r": {"type": "number"}}, "required": ["r"]}]},
            "$filter": {"type": ["string", "null"]},
            "tags": {"type": "array", "items": {"type": "object", "properties": {"tag-name": {"type": "string"}}}},
            "version": {"const": 2}
        },
        "required": ["title"],
        "additionalProperties": false,
        "$defs": {
            "Node": {"type": "object", "properties": {"value": {"type": "string"}, "next": {"$ref": "#/$defs/Node"}}, "required": ["value"]}
        }
    })
}

fn has_key(v: &Value, key: &str) -> bool {
    match v {
        Value::Object(m) => m.iter().any(|(k, c)| {
            if k == "properties" {
                c.as_object().is_some_and(|p| p.values().any(|x| has_key(x, key)))
            } else {
                k == key || has_key(c, key)
            }
        }),
        Value::Array(a) => a.iter().any(|c| has_key(c, key)),
        _ => false,
    }
}

#[test]
fn strict_closes_objects_requires_everything_and_keeps_meaning_in_descriptions() {
    let p = apply_profile(&sample(), Profile::OpenAiStrict);
    assert!(p.strict, "{:?}", p.notes);
    let s = &p.schema;
    assert_eq!(strict_violations(s), Vec::<String>::new());
    let props = &s["properties"];
    assert_eq!(s["required"].as_array().unwrap().len(), 8);
    assert_eq!(props["title"]["type"], "string", "required stays non-null");
    assert!(props["title"]["description"].as_str().unwrap().contains("minLength: 1"));
    assert!(
        props["title"]["description"]
            .as_str()
            .unwrap()
            .contains("default: \"x\"")
    );
    assert_eq!(props["kind"]["enum"], json!(["a", "b", null]));
    assert_eq!(props["node"]["anyOf"][1], json!({"type": "null"}));
    assert!(props["shape"].get("anyOf").is_some() && props["shape"].get("oneOf").is_none());
    assert_eq!(props["version"]["enum"], json!([2, null]));
    assert_eq!(s["$defs"]["Node"]["additionalProperties"], false);
    assert!(jsonschema::draft202012::new(s).is_ok());
    // The model's forced nulls go away before validation against the internal form.
    let internal = sample();
    let args = json!({"title": "t", "kind": null, "count": null, "node": {"value": "v", "next": null}, "shape": "s",
        "$filter": null, "tags": [{"tag-name": null}], "version": null});
    let restored = p.restore_arguments(&internal, args);
    assert_eq!(
        restored,
        json!({"title": "t", "node": {"value": "v"}, "shape": "s", "$filter": null, "tags": [{}]})
    );
    assert!(jsonschema::draft202012::new(&internal).unwrap().is_valid(&restored));
}

#[test]
fn strict_falls_back_for_maps_and_budgets() {
    let map = json!({"type": "object", "properties": {"labels": {"type": "object", "additionalProperties": {"type": "string"}}}});
    let p = apply_profile(&map, Profile::OpenAiStrict);
    assert!(!p.strict);
    assert!(p.notes[0].contains("/properties/labels"), "{:?}", p.notes);
    let def = export(&[ToolSpec::new("t", "d").with_input_schema(map)], Profile::OpenAiStrict).tools_field()[0].clone();
    assert_eq!(def["function"]["strict"], false);
    let props: serde_json::Map<String, Value> = (0..5001)
        .map(|i| (format!("p{i}"), json!({"type": "string"})))
        .collect();
    let big = json!({"type": "object", "properties": props});
    let p = apply_profile(&big, Profile::OpenAiStrict);
    assert!(!p.strict && p.notes[0].contains("5001 properties"), "{:?}", p.notes);
    assert!(!strict_violations(&big).is_empty());
}

#[test]
fn gemini_gets_its_subset_and_safe_names() {
    let p = apply_profile(&sample(), Profile::Gemini);
    let s = &p.schema;
    for k in [
        "$ref",
        "$defs",
        "oneOf",
        "const",
        "additionalProperties",
        "exclusiveMinimum",
        "default",
    ] {
        assert!(!has_key(s, k), "{k} left in {s}");
    }
    assert!(s.to_string().contains("[recursion cut]"), "visible marker");
    assert_eq!(s["properties"]["filter"]["nullable"], true);
    assert_eq!(s["properties"]["filter"]["type"], "string");
    assert_eq!(s["properties"]["count"]["format"], "int32");
    assert!(
        s["properties"]["version"]["description"]
            .as_str()
            .unwrap()
            .contains("one of: [2]")
    );
    let item = &s["properties"]["tags"]["items"]["properties"];
    assert!(item.get("tag_name").is_some(), "{item}");
    let back = p.renames.restore(json!({"filter": "f", "tags": [{"tag_name": "x"}]}));
    assert_eq!(back, json!({"$filter": "f", "tags": [{"tag-name": "x"}]}));
    assert!(jsonschema::draft202012::new(s).is_ok());
}

#[test]
fn each_provider_gets_its_own_tool_object() {
    let spec = ToolSpec::new("find", "Finds.").with_input_schema(sample());
    let empty = ToolSpec::new("ping", "");
    let specs = [spec.clone(), empty];
    let openai = export(&specs, Profile::OpenAi).into_tools_field();
    assert_eq!(openai[0]["type"], "function");
    assert!(openai[0]["function"].get("strict").is_none());
    assert!(openai[1]["function"].get("description").is_none());
    let anthropic = export(&specs, Profile::Anthropic).into_tools_field();
    assert_eq!(anthropic[0]["input_schema"]["$defs"]["Node"]["type"], "object");
    assert_eq!(
        anthropic[1]["input_schema"],
        json!({"type": "object", "properties": {}})
    );
    let gemini = export(&specs, Profile::Gemini).into_tools_field();
    let decls = gemini[0]["functionDeclarations"].as_array().unwrap();
    assert_eq!(decls.len(), 2);
    assert!(
        decls[1].get("parameters").is_none(),
        "no empty OBJECT parameters for Gemini"
    );
    for profile in [Profile::Cohere, Profile::Mistral] {
        let d = profiled_tool(&spec, profile).definition;
        assert_eq!(d["function"]["name"], "find");
        assert!(!has_key(&d, "$ref"), "{profile} has refs inlined");
    }
    assert_eq!("openai-strict".parse::<Profile>().unwrap(), Profile::OpenAiStrict);
    assert!(
        "gpt"
            .parse::<Profile>()
            .unwrap_err()
            .to_string()
            .contains("openai-strict")
    );
}

fn arb_schema() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(json!({"type": "string"})),
        Just(json!({"type": "integer", "minimum": 1})),
        Just(json!({"type": ["number", "null"]})),
        Just(json!({"enum": ["a", 1, null]})),
        Just(json!({"$ref": "#/$defs/D"})),
        Just(json!({})),
        Just(json!(true)),
        Just(json!({"const": "x"})),
    ];
    leaf.prop_recursive(4, 40, 5, |inner| {
        prop_oneof![
            (
                prop::collection::btree_map("[a-z$-]{1,6}", inner.clone(), 0..4),
                prop::collection::btree_set("[a-z]{1,3}", 0..3)
            )
                .prop_map(|(p, r)| json!({"type": "object", "properties": p, "required": r})),
            inner.clone().prop_map(|i| json!({"type": "array", "items": i})),
            prop::collection::vec(inner.clone(), 1..3).prop_map(|v| json!({"anyOf": v})),
            prop::collection::vec(inner, 1..3).prop_map(|v| json!({"oneOf": v, "nullable": true})),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn profiles_never_panic_and_strict_output_is_strict(props in prop::collection::btree_map("[a-z_$]{1,5}", arb_schema(), 0..4), def in arb_schema()) {
        let schema = json!({"type": "object", "properties": props, "$defs": {"D": def}});
        for profile in Profile::ALL {
            let p = profiled_tool(&ToolSpec::new("t", "d").with_input_schema(schema.clone()), profile);
            if profile.is_strict() && p.schema.strict {
                let v = strict_violations(&p.schema.schema);
                prop_assert!(v.is_empty(), "{:?} in {}", v, p.schema.schema);
            }
            prop_assert!(jsonschema::draft202012::new(&p.schema.schema).is_ok(), "{} {}", profile, p.schema.schema);
        }
    }
}

#[test]
fn strict_keeps_descriptions_of_references_without_siblings() {
    let s = json!({"type": "object", "properties": {"n": {"$ref": "#/$defs/N", "description": "The node."}},
        "required": ["n"], "$defs": {"N": {"type": "string"}}});
    let p = apply_profile(&s, Profile::OpenAiStrict);
    assert!(p.strict);
    assert_eq!(
        p.schema["properties"]["n"],
        json!({"anyOf": [{"$ref": "#/$defs/N"}], "description": "The node."})
    );
    assert!(strict_violations(&p.schema).is_empty());
    assert!(!strict_violations(&s).is_empty());
}

#[test]
fn very_deep_schemas_do_not_overflow() {
    let mut s = json!({"type": "string"});
    for _ in 0..120 {
        s = json!({"type": "array", "items": s});
    }
    let mut deep = json!({"type": "object", "properties": {"x": s}});
    for _ in 0..40 {
        deep = json!({"type": "object", "properties": {"x": deep, "r": {"$ref": "#/$defs/R"}}});
    }
    deep["$defs"] = json!({"R": {"type": "object", "properties": {"r": {"$ref": "#/$defs/R"}}}});
    let spec = ToolSpec::new("deep", "").with_input_schema(deep);
    let handle = std::thread::Builder::new()
        .stack_size(2 * 1024 * 1024)
        .spawn(move || {
            for profile in Profile::ALL {
                let p = profiled_tool(&spec, profile);
                if profile.is_strict() {
                    assert!(!p.schema.strict, "too deep for strict");
                }
            }
        })
        .unwrap();
    handle.join().unwrap();
}
