//! Hand-written descriptions in tests/fixtures: references, arguments, schemas, names, filters.

#![allow(clippy::panic, clippy::unwrap_used)]

use std::path::PathBuf;
use std::sync::Arc;

use serde_json::{Value, json};
use toolplane_openapi::binding::{BodyArgs, ParamLocation};
use toolplane_openapi::{ConvertOptions, Converter, Filters, HttpMethod, LoadError, LoadOptions, OpenApiSpec};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn convert(name: &str) -> toolplane_openapi::Conversion {
    let spec = OpenApiSpec::from_path(fixture(name)).expect("fixture loads");
    Converter::new(ConvertOptions::default()).convert(&spec)
}

#[test]
fn external_refs_resolve_relative_to_their_own_file() {
    let c = convert("external/main.yaml");
    let create = c.get("createPet").expect("path item from another file");
    let s = &create.spec.input_schema;
    assert_eq!(s["required"], json!(["name"]));
    assert!(s["properties"].get("id").is_none(), "readOnly dropped");
    assert_eq!(s["properties"]["name"]["minLength"], 1);
    // owner.json refers to itself with "#": recursion through $defs.
    let owner_ref = s["properties"]["owner"]["$ref"].as_str().expect("owner is a $ref");
    let def = owner_ref.strip_prefix("#/$defs/").expect("into $defs");
    assert_eq!(
        s["$defs"][def]["properties"]["friends"]["items"]["$ref"],
        json!(owner_ref)
    );
    let get = c.get("getPet").expect("getPet");
    let id = get.binding.param_for_arg("petId").expect("petId");
    assert_eq!(id.location, ParamLocation::Path);
    let id_schema = &get.spec.input_schema;
    let r = id_schema["properties"]["petId"]["$ref"].as_str().expect("ref");
    assert_eq!(
        id_schema["$defs"][r.trim_start_matches("#/$defs/")],
        json!({"type": "integer", "minimum": 1})
    );
    let server = &get.binding.servers[0];
    assert_eq!(server.variables["region"].default, "eu");
    assert_eq!(server.variables["region"].enum_values, ["eu", "us"]);
}

#[test]
fn remote_refs_are_refused_unless_a_fetcher_is_given() {
    let err = OpenApiSpec::from_path(fixture("remote.yaml")).expect_err("refused");
    assert!(matches!(err, LoadError::RemoteRefused { .. }), "{err}");
    let text = err.to_string();
    assert!(text.contains("/paths/~1things/get/parameters/0/schema/$ref"), "{text}");
    assert!(text.contains("https://schemas.example.test/filter.json"), "{text}");

    let fetched = Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = fetched.clone();
    let options = LoadOptions {
        remote: Some(Arc::new(move |url: &str| {
            log.lock().map(|mut l| l.push(url.to_string())).ok();
            Ok(r#"{"type": "string", "enum": ["new", "old"]}"#.to_string())
        })),
        ..Default::default()
    };
    let spec = OpenApiSpec::from_path_with(fixture("remote.yaml"), &options).expect("loads with a fetcher");
    assert_eq!(
        *fetched.lock().expect("lock"),
        ["https://schemas.example.test/filter.json"]
    );
    let c = Converter::default().convert(&spec);
    let s = &c.tools[0].spec.input_schema;
    let r = s["properties"]["filter"]["$ref"].as_str().expect("ref");
    assert_eq!(
        s["$defs"][r.trim_start_matches("#/$defs/")]["enum"],
        json!(["new", "old"])
    );
}

#[test]
fn shared_names_are_renamed_and_all_reach_the_wire() {
    let c = convert("kitchen.yaml");
    let t = c.get("replaceItem").expect("replaceItem");
    let args: Vec<(String, ParamLocation, String)> = t
        .binding
        .parameters
        .iter()
        .map(|p| (p.arg.clone(), p.location, p.name.clone()))
        .collect();
    assert_eq!(
        args,
        [
            ("id".to_string(), ParamLocation::Path, "id".to_string()),
            ("verbose".into(), ParamLocation::Query, "verbose".into()),
            ("query_id".into(), ParamLocation::Query, "id".into()),
            ("header_id".into(), ParamLocation::Header, "id".into()),
        ]
    );
    // The operation's `verbose` overrides the path-level one; Accept is ignored.
    let s = &t.spec.input_schema;
    assert_eq!(s["properties"]["verbose"]["type"], "integer");
    assert_eq!(s["properties"]["id"]["description"], "Path-level id.");
    let Some(body) = &t.binding.body else { panic!("body") };
    let BodyArgs::Properties { properties } = &body.args else {
        panic!("flat body")
    };
    let body_id = properties.iter().find(|p| p.name == "id").expect("body id");
    assert_eq!(body_id.arg, "body_id");
    assert!(body_id.required);
    // allOf merged: Base's properties and the extension's, readOnly dropped.
    assert!(s["properties"].get("created").is_none());
    assert_eq!(s["properties"]["size"]["exclusiveMinimum"], 0);
    assert!(s["properties"]["size"].get("minimum").is_none());
    assert_eq!(s["properties"]["label"]["type"], json!(["string", "null"]));
    assert_eq!(s["properties"]["label"]["enum"], json!(["a", "b", null]));
    let required: Vec<&str> = s["required"]
        .as_array()
        .expect("required")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for r in ["id", "body_id", "size"] {
        assert!(required.contains(&r), "{r} in {required:?}");
    }
    assert!(t.spec.description.starts_with("Replace an item.\n\nReplaces"));
    assert_eq!(t.spec.annotations.idempotent, Some(true));
    assert_eq!(t.spec.annotations.read_only, Some(false));
}

#[test]
fn non_object_bodies_go_under_body_and_discriminators_become_consts() {
    let c = convert("kitchen.yaml");
    let add = c.get("addItems").expect("addItems");
    assert_eq!(
        add.binding.body.as_ref().map(|b| &b.args),
        Some(&BodyArgs::Whole { arg: "body".into() })
    );
    let s = &add.spec.input_schema;
    assert_eq!(s["properties"]["body"]["type"], "array");
    let shape = s["$defs"]["Shape"]["oneOf"].as_array().expect("oneOf kept");
    assert_eq!(shape[0]["properties"]["kind"]["const"], "circle", "from the mapping");
    assert_eq!(
        shape[1]["properties"]["kind"]["const"], "Square",
        "from the schema name"
    );
    let v = jsonschema::draft202012::new(s).expect("compiles");
    assert!(v.is_valid(&json!({"body": [{"kind": "circle", "r": 1}, {"kind": "Square", "side": 2}]})));
    assert!(!v.is_valid(&json!({"body": [{"kind": "Circle", "r": 1}]})));
    let note = c.get("addNote").expect("addNote");
    assert_eq!(
        note.binding.body.as_ref().map(|b| b.media_type.as_str()),
        Some("text/plain")
    );
    assert_eq!(note.spec.input_schema["properties"]["body"]["type"], "string");
    assert_eq!(note.spec.input_schema["required"], json!(["body"]));
}

#[test]
fn missing_operation_ids_and_recursive_defs() {
    let c = convert("kitchen.yaml");
    let del = c.get("delete_items_id").expect("name from method and path");
    assert_eq!(del.spec.annotations.destructive, Some(true));
    let map = c.name_map();
    assert_eq!(map["delete_items_id"].method, HttpMethod::Delete);
    assert_eq!(map["delete_items_id"].path, "/items/{id}");
    assert_eq!(map["replaceItem"].operation_id.as_deref(), Some("replaceItem"));
    let s = &c.get("replaceItem").expect("tool").spec.input_schema;
    assert_eq!(
        s["properties"]["parent"]["$ref"], "#/$defs/Base",
        "self reference stays a $ref"
    );
    assert!(s["$defs"]["Base"]["properties"].get("created").is_none());
}

#[test]
fn filters_include_and_exclude() {
    let spec = OpenApiSpec::from_path(fixture("kitchen.yaml")).expect("loads");
    let run = |filters: Filters| {
        let c = Converter::new(ConvertOptions {
            filters,
            ..Default::default()
        })
        .convert(&spec);
        c.tools.iter().map(|t| t.spec.name.clone()).collect::<Vec<_>>()
    };
    assert_eq!(
        run(Filters {
            include_methods: vec![HttpMethod::Post],
            ..Default::default()
        }),
        ["addItems", "addNote"]
    );
    assert_eq!(
        run(Filters {
            include_paths: vec!["/items/*".into()],
            ..Default::default()
        }),
        ["replaceItem", "delete_items_id"]
    );
    assert_eq!(
        run(Filters {
            exclude_operation_ids: vec!["add*".into()],
            ..Default::default()
        }),
        ["replaceItem", "delete_items_id"]
    );
    let inspection = Converter::new(ConvertOptions {
        filters: Filters {
            include_operation_ids: vec!["addNote".into()],
            ..Default::default()
        },
        ..Default::default()
    })
    .inspect(&spec);
    assert_eq!(inspection.operations.iter().filter(|o| o.kept).count(), 1);
    assert!(inspection.to_string().contains("POST /notes -> addNote"));
}

#[test]
fn names_stay_unique_whatever_the_operation_order() {
    let make = |paths: &[&str]| {
        let mut p = serde_json::Map::new();
        for path in paths {
            p.insert(path.to_string(), json!({"get": {"operationId": "list things, please"}}));
        }
        let spec =
            OpenApiSpec::from_value(json!({"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "paths": p}))
                .expect("loads");
        Converter::default().convert(&spec).name_map()
    };
    let a = make(&["/a", "/b", "/c"]);
    let b = make(&["/c", "/a"]);
    assert_eq!(a.len(), 3);
    for (name, op) in &b {
        assert_eq!(a.get(name), Some(op), "{name} maps to the same operation in both");
    }
}

#[test]
fn errors_name_the_place() {
    let err = OpenApiSpec::from_str("openapi: 2.5\ninfo: {}\n").expect_err("bad version");
    assert!(err.to_string().contains("#/openapi"), "{err}");
    let err = OpenApiSpec::from_str("openapi: [unclosed").expect_err("bad yaml");
    assert_eq!(err.kind(), "parse");
    assert!(err.to_string().contains("line"), "{err}");
    let spec = OpenApiSpec::from_str(
        r##"{"openapi": "3.0.0", "info": {"title": "t", "version": "1"}, "paths": {"/x": {"get": {"parameters": [{"$ref": "#/components/parameters/nope"}]}}}}"##,
    )
    .expect("loads");
    let c = Converter::default().convert(&spec);
    let w = &c.tools[0].warnings;
    assert!(
        w.iter()
            .any(|w| w.pointer == "/paths/~1x/get/parameters/0" && w.message.contains("nope")),
        "{w:?}"
    );
}

#[test]
fn output_schemas_on_request_drop_write_only_properties() {
    let text = r##"{"openapi": "3.1.0", "info": {"title": "t", "version": "1"},
      "paths": {"/u": {"post": {"operationId": "makeUser",
        "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/User"}}}},
        "responses": {"201": {"description": "made", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/User"}}}}}}}},
      "components": {"schemas": {"User": {"type": "object", "properties": {
        "id": {"type": "integer", "readOnly": true}, "password": {"type": "string", "writeOnly": true}, "name": {"type": "string"}}}}}}"##;
    let spec = OpenApiSpec::from_str(text).expect("loads");
    let plain = Converter::default().convert(&spec);
    assert!(plain.tools[0].spec.output_schema.is_none(), "off by default");
    let options = ConvertOptions {
        output_schemas: true,
        ..Default::default()
    };
    let c = Converter::new(options).convert(&spec);
    let t = &c.tools[0];
    let input = &t.spec.input_schema["properties"];
    assert!(input.get("id").is_none() && input.get("password").is_some());
    let out = t.spec.output_schema.as_ref().expect("output schema");
    let user = &out["$defs"]["User"]["properties"];
    assert!(user.get("id").is_some() && user.get("password").is_none(), "{out}");
    assert!(
        jsonschema::draft202012::new(out)
            .expect("compiles")
            .is_valid(&json!({"id": 1, "name": "a"}))
    );
}
