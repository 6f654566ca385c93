//! Descriptions that convert, but not as their author meant: each gets a
//! warning that names the place and says what was done.

#![allow(clippy::panic, clippy::unwrap_used)]

use serde_json::json;
use toolplane_openapi::{ConversionWarning, ConvertOptions, Converter, Filters, HttpMethod, OpenApiSpec};

fn spec(text: &str) -> OpenApiSpec {
    OpenApiSpec::from_str(text).unwrap()
}

/// Document-level and per-tool warnings together, as `pointer: message` lines.
fn all_warnings(c: &toolplane_openapi::Conversion) -> Vec<String> {
    c.warnings
        .iter()
        .chain(c.tools.iter().flat_map(|t| t.warnings.iter()))
        .map(ConversionWarning::to_string)
        .collect()
}

fn find<'a>(warnings: &'a [String], needle: &str) -> &'a str {
    warnings
        .iter()
        .find(|w| w.contains(needle))
        .unwrap_or_else(|| panic!("no warning containing {needle:?} in {warnings:#?}"))
}

#[test]
fn a_ref_only_cycle_is_named_and_becomes_any_value() {
    let s = spec(
        r##"
openapi: 3.1.0
info: {title: T, version: '1'}
paths:
  /a:
    post:
      operationId: makeA
      requestBody:
        content:
          application/json:
            schema: {type: object, properties: {x: {$ref: '#/components/schemas/A'}}}
components:
  schemas:
    A: {$ref: '#/components/schemas/B'}
    B: {$ref: '#/components/schemas/C'}
    C: {$ref: '#/components/schemas/A'}
"##,
    );
    let c = Converter::default().convert(&s);
    let w = all_warnings(&c);
    let cycle = find(&w, "`$ref` cycle");
    assert!(cycle.starts_with("/components/schemas/A:"), "{cycle}");
    assert!(
        cycle.contains("(A -> B -> C -> A)") && cycle.ends_with("accepted as any value"),
        "{cycle}"
    );
    // No definition is left pointing only at another: the schema validates.
    let schema = &c.tools[0].spec.input_schema;
    for (name, def) in schema["$defs"].as_object().unwrap() {
        assert_eq!(def, &json!({}), "{name}");
    }
    jsonschema::validator_for(schema).unwrap();
}

#[test]
fn duplicate_operation_ids_say_which_operations_and_names() {
    let s = spec(
        r#"
openapi: 3.1.0
info: {title: T, version: '1'}
paths:
  /a: {get: {operationId: list}}
  /b: {get: {operationId: list}}
  /c: {get: {operationId: other}}
"#,
    );
    let c = Converter::default().convert(&s);
    let names: Vec<&str> = c.tools.iter().map(|t| t.spec.name.as_str()).collect();
    assert_ne!(names[0], names[1]);
    let w = all_warnings(&c);
    let a = find(&w, "/paths/~1a/get: operationId `list` is used more than once");
    assert!(a.contains(&format!("as does GET /b (named `{}`)", names[1])), "{a}");
    assert!(a.ends_with(&format!("this tool is named `{}`", names[0])), "{a}");
    find(&w, "/paths/~1b/get: operationId `list` is used more than once");
    assert!(!w.iter().any(|x| x.contains("`other`")), "{w:#?}");
}

#[test]
fn unbalanced_path_braces_are_named_and_make_no_odd_parameter() {
    let s = spec(
        r#"
openapi: 3.1.0
info: {title: T, version: '1'}
paths:
  /c/{{id}}: {get: {operationId: getC}}
  /d/{id: {get: {operationId: getD}}
  /e/id}: {get: {operationId: getE}}
  /f/{id}: {get: {operationId: getF}}
"#,
    );
    let c = Converter::default().convert(&s);
    let w = all_warnings(&c);
    assert!(find(&w, "/paths/~1c~1{{id}}:").contains("unbalanced braces (a `{` inside a placeholder)"));
    assert!(find(&w, "/paths/~1d~1{id:").contains("a `{` that is never closed"));
    assert!(find(&w, "/paths/~1e~1id}:").contains("a `}` without its `{`"));
    assert!(
        !w.iter()
            .any(|x| x.contains("/paths/~1f~1{id}:") && x.contains("braces"))
    );
    let get_c = c.get("getC").unwrap();
    assert!(
        get_c.spec.input_schema["properties"].get("{id").is_none(),
        "{}",
        get_c.spec.input_schema
    );
}

#[test]
fn openapi_3_2_says_it_is_read_as_3_1_and_names_dropped_query_operations() {
    let s = spec(
        r#"
openapi: 3.2.0
info: {title: T, version: '1'}
paths:
  /search:
    get: {operationId: find}
    query: {operationId: search}
"#,
    );
    let c = Converter::default().convert(&s);
    let w = all_warnings(&c);
    assert!(find(&w, "/openapi:").contains("OpenAPI 3.2.0 is read as 3.1"));
    assert!(find(&w, "/paths/~1search/query:").contains("a `query` operation (OpenAPI 3.2): not converted"));
    assert_eq!(c.tools.len(), 1);
    // 3.1 has no such warning.
    let c = Converter::default().convert(&spec(
        "openapi: 3.1.0\ninfo: {title: T, version: '1'}\npaths:\n  /s: {get: {operationId: find}}\n",
    ));
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
}

#[test]
fn filters_that_match_nothing_are_named() {
    let s = spec(
        r#"
openapi: 3.1.0
info: {title: T, version: '1'}
paths:
  /repos/{id}/issues: {get: {operationId: issues, tags: [issues]}}
"#,
    );
    let options = ConvertOptions {
        filters: Filters {
            include_paths: vec!["/repo/**".into(), "/repos/**".into()],
            include_tags: vec!["isues".into()],
            exclude_methods: vec![HttpMethod::Delete],
            include_operation_ids: vec!["issues".into()],
            ..Default::default()
        },
        ..Default::default()
    };
    let c = Converter::new(options).convert(&s);
    let w = all_warnings(&c);
    find(
        &w,
        "the filter include_paths `/repo/**` (--include-path) matches no operation",
    );
    find(
        &w,
        "the filter include_tags `isues` (--include-tag) matches no operation",
    );
    find(
        &w,
        "the filter exclude_methods `DELETE` (--exclude-method) matches no operation",
    );
    assert!(
        !w.iter().any(|x| x.contains("`/repos/**`") || x.contains("`issues`")),
        "{w:#?}"
    );
}
