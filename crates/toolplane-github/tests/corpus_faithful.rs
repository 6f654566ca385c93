#![allow(clippy::unwrap_used, clippy::panic)]
//! The hand-written operations agree with GitHub's own description
//! (`@octokit/openapi` 23.0.2, fetched by scripts/fetch-corpora.sh): same
//! operationId at the same method and path, every parameter present with the
//! same location, every body property present, and required flags matching
//! for parameters. Also checked against the GitHub Enterprise Server 3.19
//! description, since the base URL may point at one.

use serde_json::Value;
use toolplane_github::github_tool_definitions;
use toolplane_openapi::binding::BodyArgs;

fn resolve<'a>(doc: &'a Value, v: &'a Value) -> &'a Value {
    match v.get("$ref").and_then(Value::as_str) {
        Some(r) => {
            let ptr = r.trim_start_matches('#');
            resolve(doc, doc.pointer(ptr).unwrap_or_else(|| panic!("dangling $ref {r}")))
        }
        None => v,
    }
}

fn check(file: &str) {
    let Some(dir) = toolplane_testkit::corpus_dir("octokit-openapi-23.0.2") else {
        return;
    };
    let text = std::fs::read_to_string(dir.join("generated").join(file)).unwrap();
    let doc: Value = serde_json::from_str(&text).unwrap();
    for t in github_tool_definitions("") {
        let b = &t.binding;
        let op = doc["paths"][&b.path_template][b.method.key()].clone();
        assert!(op.is_object(), "{file}: {} {} is missing", b.method, b.path_template);
        assert_eq!(
            op["operationId"].as_str(),
            t.operation_id.as_deref(),
            "{file}: {}",
            t.spec.name
        );
        let declared: Vec<&Value> = op["parameters"]
            .as_array()
            .map(|ps| ps.iter().map(|p| resolve(&doc, p)).collect())
            .unwrap_or_default();
        for p in &b.parameters {
            let found = declared
                .iter()
                .find(|d| d["name"] == p.name.as_str() && d["in"] == p.location.as_str())
                .unwrap_or_else(|| {
                    panic!(
                        "{file}: {} has no {} parameter `{}`",
                        t.spec.name,
                        p.location.as_str(),
                        p.name
                    )
                });
            assert_eq!(
                found["required"].as_bool().unwrap_or(false),
                p.required,
                "{file}: {}.{}",
                t.spec.name,
                p.name
            );
        }
        if let Some(body) = &b.body {
            let schema = resolve(&doc, &op["requestBody"]);
            let schema = resolve(&doc, &schema["content"][&body.media_type]["schema"]);
            let BodyArgs::Properties { properties } = &body.args else {
                panic!("{}: whole body", t.spec.name)
            };
            for prop in properties {
                assert!(
                    schema["properties"].get(&prop.name).is_some(),
                    "{file}: {} body has no property `{}`",
                    t.spec.name,
                    prop.name
                );
            }
        }
    }
}

#[test]
fn curated_operations_match_api_github_com() {
    check("api.github.com.json");
}

#[test]
fn curated_operations_match_ghes() {
    check("ghes-3.19.json");
}
