//! `@readme/oas-examples@8.2.2`: every 3.0 and 3.1 file (JSON and YAML) loads
//! and converts into valid tools; every 2.0 file is refused naming its version.

#![allow(clippy::panic, clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use toolplane_openapi::binding::{BodyArgs, ParamLocation, ParamStyle, SecurityScheme};
use toolplane_openapi::{Conversion, ConvertOptions, Converter, LoadError, OpenApiSpec};
use toolplane_schema::strict_check::strict_violations;
use toolplane_schema::{Profile, profiled_tool};

fn examples() -> Option<PathBuf> {
    toolplane_testkit::corpus_dir("readme-oas-examples-8.2.2")
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(files(&p));
        } else if matches!(p.extension().and_then(|x| x.to_str()), Some("json" | "yaml" | "yml")) {
            out.push(p);
        }
    }
    out.sort();
    out
}

fn convert(path: &Path) -> Conversion {
    let spec = OpenApiSpec::from_path(path).unwrap_or_else(|e| panic!("{} does not load: {e}", path.display()));
    Converter::new(ConvertOptions::default()).convert(&spec)
}

#[test]
fn every_3x_example_loads_and_converts_into_valid_schemas() {
    let Some(root) = examples() else { return };
    let mut count = 0;
    let mut tools = 0;
    for version in ["3.0", "3.1"] {
        for path in files(&root.join(version)) {
            count += 1;
            let conversion = convert(&path);
            for tool in &conversion.tools {
                tools += 1;
                let what = format!("{} {}", path.display(), tool.spec.name);
                jsonschema::draft202012::meta::validate(&tool.spec.input_schema)
                    .unwrap_or_else(|e| panic!("{what}: {e}"));
                jsonschema::draft202012::new(&tool.spec.input_schema).unwrap_or_else(|e| panic!("{what}: {e}"));
                for profile in Profile::ALL {
                    let p = profiled_tool(&tool.spec, profile);
                    jsonschema::draft202012::new(&p.schema.schema).unwrap_or_else(|e| panic!("{what} {profile}: {e}"));
                    if profile.is_strict() && p.schema.strict {
                        let v = strict_violations(&p.schema.schema);
                        assert!(v.is_empty(), "{what}: {v:?}");
                    }
                }
            }
        }
    }
    assert!(count >= 90, "found {count} files");
    assert!(tools > 300, "{tools} tools");
}

#[test]
fn swagger_2_files_are_refused_naming_the_version() {
    let Some(root) = examples() else { return };
    let list = files(&root.join("2.0"));
    assert!(!list.is_empty());
    for path in list {
        let err = OpenApiSpec::from_path(&path).expect_err("2.0 is refused");
        assert!(matches!(err, LoadError::Swagger2 { .. }), "{}: {err}", path.display());
        assert!(err.to_string().contains("Swagger 2.0"), "{err}");
    }
}

fn example(name: &str) -> Option<Conversion> {
    Some(convert(&examples()?.join(name)))
}

#[test]
fn circular_schemas_stay_finite_with_defs() {
    let Some(c) = example("3.0/json/circular-request-bodies.json") else {
        return;
    };
    let text = serde_json::to_string(&c).expect("serializes");
    assert!(text.len() < 2_000_000);
    let with_defs = c
        .tools
        .iter()
        .filter(|t| t.spec.input_schema.get("$defs").is_some())
        .count();
    assert!(with_defs > 0, "recursive bodies use $defs");
    // Gemini has no $ref: recursion is cut with a visible marker.
    let marked = c.tools.iter().any(|t| {
        profiled_tool(&t.spec, Profile::Gemini)
            .schema
            .schema
            .to_string()
            .contains(toolplane_schema::inline::RECURSION_MARKER)
    });
    assert!(marked, "a recursion marker appears for gemini");
    for name in [
        "3.0/json/circular.json",
        "3.0/json/circular-paths.json",
        "3.0/json/schema-circular.json",
    ] {
        let Some(c) = example(name) else { return };
        assert!(!c.tools.is_empty(), "{name}");
    }
}

#[test]
fn discriminators_become_const_tags() {
    let Some(c) = example("3.0/json/discriminators.json") else {
        return;
    };
    let text = serde_json::to_string(&c.specs()).expect("serializes");
    assert!(text.contains("\"const\""), "const tags present");
    let specs = serde_json::to_value(c.specs()).expect("serializes");
    assert!(!has_key(&specs, "discriminator"), "no OpenAPI keyword left");
    let Some(c) = example("3.0/json/polymorphism.json") else {
        return;
    };
    assert!(!c.tools.is_empty());
}

#[test]
fn parameter_styles_are_bound() {
    let Some(c) = example("3.0/json/parameters-style.json") else {
        return;
    };
    let styles: Vec<(ParamLocation, ParamStyle, bool)> = c
        .tools
        .iter()
        .flat_map(|t| t.binding.parameters.iter().map(|p| (p.location, p.style, p.explode)))
        .collect();
    for style in [
        ParamStyle::Form,
        ParamStyle::Simple,
        ParamStyle::Label,
        ParamStyle::Matrix,
        ParamStyle::DeepObject,
    ] {
        assert!(styles.iter().any(|s| s.1 == style), "{style:?} missing in {styles:?}");
    }
    assert!(
        styles.iter().any(|s| s.2) && styles.iter().any(|s| !s.2),
        "both explode values"
    );
}

#[test]
fn server_variables_and_security_schemes_are_bound() {
    let Some(c) = example("3.0/json/server-variables.json") else {
        return;
    };
    let vars = c
        .tools
        .iter()
        .flat_map(|t| &t.binding.servers)
        .flat_map(|s| s.variables.values())
        .count();
    assert!(vars > 0);
    let Some(c) = example("3.0/json/security.json") else {
        return;
    };
    let schemes: Vec<&SecurityScheme> = c
        .tools
        .iter()
        .flat_map(|t| &t.binding.security)
        .flat_map(|r| &r.schemes)
        .map(|u| &u.scheme)
        .collect();
    assert!(schemes.iter().any(|s| matches!(s, SecurityScheme::ApiKey { .. })));
    assert!(schemes.iter().any(|s| matches!(s, SecurityScheme::HttpBasic)));
    assert!(schemes.iter().any(|s| matches!(s, SecurityScheme::HttpBearer { .. })));
    assert!(
        schemes
            .iter()
            .any(|s| matches!(s, SecurityScheme::Oauth2ClientCredentials { .. })
                || matches!(s, SecurityScheme::Other { .. }))
    );
}

#[test]
fn file_uploads_and_forms_bind_their_media_types() {
    let Some(c) = example("3.0/json/file-uploads.json") else {
        return;
    };
    assert!(c.tools.iter().any(|t| {
        t.binding
            .body
            .as_ref()
            .is_some_and(|b| b.media_type.starts_with("multipart/"))
    }));
    let Some(c) = example("3.0/json/form-data.json") else {
        return;
    };
    let form = c
        .tools
        .iter()
        .filter_map(|t| t.binding.body.as_ref())
        .find(|b| b.media_type == "application/x-www-form-urlencoded")
        .expect("a form body");
    assert!(matches!(form.args, BodyArgs::Properties { .. }));
}

#[test]
fn type_arrays_const_and_examples_of_3_1_survive() {
    let Some(c) = example("3.1/json/schema-types.json") else {
        return;
    };
    let text = serde_json::to_value(c.specs()).expect("serializes");
    let s = text.to_string();
    assert!(s.contains("\"type\":[") || s.contains("\"null\""), "type arrays kept");
    assert!(!has_key(&text, "nullable"), "nullable became a null union");
    assert!(s.contains(&json!(["integer", "null"]).to_string()));
}

fn has_key(v: &Value, key: &str) -> bool {
    match v {
        Value::Object(m) => m.iter().any(|(k, c)| {
            if k == "properties" {
                // Property names are data, not keywords: look inside their schemas only.
                c.as_object().is_some_and(|p| p.values().any(|x| has_key(x, key)))
            } else {
                k == key || has_key(c, key)
            }
        }),
        Value::Array(a) => a.iter().any(|c| has_key(c, key)),
        _ => false,
    }
}
