//! The GitHub REST description (`@octokit/openapi@23.0.2`, fetched by
//! `scripts/fetch-corpora.sh`): every operation becomes a tool under every profile.

#![allow(clippy::panic, clippy::unwrap_used)]

use std::collections::BTreeSet;

use serde_json::Value;
use toolplane_openapi::{ConvertOptions, Converter, OpenApiSpec};
use toolplane_schema::strict_check::strict_violations;
use toolplane_schema::{Profile, is_valid_name, profiled_tool};

fn github_spec_path() -> Option<std::path::PathBuf> {
    let dir = toolplane_testkit::corpus_dir("octokit-openapi-23.0.2")?;
    let path = dir.join("generated/api.github.com.json");
    if path.is_file() {
        Some(path)
    } else {
        toolplane_testkit::missing("api.github.com.json", &format!("no {}", path.display()))
    }
}

fn compile(schema: &Value, what: &str) {
    if let Err(e) = jsonschema::draft202012::meta::validate(schema) {
        panic!("{what}: not a valid 2020-12 schema: {e}\n{schema}");
    }
    if let Err(e) = jsonschema::draft202012::new(schema) {
        panic!("{what}: does not compile: {e}\n{schema}");
    }
}

#[test]
fn all_github_operations_become_valid_tools_under_every_profile() {
    let Some(path) = github_spec_path() else { return };
    let spec = OpenApiSpec::from_path(&path).expect("the GitHub description loads");
    let conversion = Converter::new(ConvertOptions::default()).convert(&spec);
    assert_eq!(conversion.tools.len(), 1223, "one tool per operation");

    let names: BTreeSet<&str> = conversion.tools.iter().map(|t| t.spec.name.as_str()).collect();
    assert_eq!(names.len(), 1223, "names are unique");
    assert_eq!(conversion.name_map().len(), 1223);

    let mut strict = 0;
    for tool in &conversion.tools {
        compile(&tool.spec.input_schema, &tool.spec.name);
        for profile in Profile::ALL {
            let p = profiled_tool(&tool.spec, profile);
            let def = &p.definition;
            let name = def
                .get("name")
                .or_else(|| def.pointer("/function/name"))
                .and_then(Value::as_str)
                .expect("every definition has a name");
            assert!(is_valid_name(name, 64), "{profile}: invalid name {name}");
            compile(&p.schema.schema, &format!("{} under {profile}", tool.spec.name));
            if profile.is_strict() && p.schema.strict {
                if profile == Profile::OpenAiStrict {
                    strict += 1;
                }
                let v = strict_violations(&p.schema.schema);
                assert!(v.is_empty(), "{}: strict output breaks rules: {v:?}", tool.spec.name);
                let flag = def.pointer("/function/strict").or_else(|| def.get("strict"));
                assert_eq!(flag, Some(&Value::Bool(true)), "{profile}");
            }
            if profile == Profile::Gemini {
                assert!(
                    !p.schema.schema.to_string().contains("\"$ref\""),
                    "gemini schemas have no $ref"
                );
            }
        }
    }
    eprintln!("openai-strict: {strict} of 1223 tools strict, the rest fall back to non-strict");
    assert!(strict > 900, "most GitHub tools can be strict ({strict})");

    // The one export: every name fits the vendor's rule unchanged (the
    // converter's names are identifiers), and OpenAI's 128-tool cap is a warning.
    for profile in Profile::ALL {
        let exported = conversion.export(profile);
        assert_eq!(exported.tools.len(), 1223, "{profile}");
        assert_eq!(exported.renamed().count(), 0, "{profile}");
        assert!(exported.tools.iter().all(|t| profile.name_rule().accepts(&t.wire_name)));
        let too_many = exported
            .warnings
            .iter()
            .any(|w| matches!(w, toolplane_schema::ExportWarning::TooManyTools { count: 1223, .. }));
        assert_eq!(too_many, profile.max_tools().is_some(), "{profile}");
    }
}

#[test]
fn max_name_len_48_keeps_names_valid_and_unique() {
    let Some(path) = github_spec_path() else { return };
    let spec = OpenApiSpec::from_path(&path).expect("loads");
    let options = ConvertOptions {
        max_name_len: 48,
        ..Default::default()
    };
    let conversion = Converter::new(options).convert(&spec);
    let names: BTreeSet<&str> = conversion.tools.iter().map(|t| t.spec.name.as_str()).collect();
    assert_eq!(names.len(), conversion.tools.len());
    assert!(names.iter().all(|n| is_valid_name(n, 48)));
}

#[test]
fn two_runs_are_byte_identical() {
    let Some(path) = github_spec_path() else { return };
    let run = || {
        let spec = OpenApiSpec::from_path(&path).expect("loads");
        let conversion = Converter::new(ConvertOptions::default()).convert(&spec);
        let mut out = serde_json::to_string(&conversion).expect("serializes");
        for profile in Profile::ALL {
            out.push_str(&conversion.export(profile).into_tools_field().to_string());
        }
        out
    };
    let (a, b) = (run(), run());
    assert!(a.len() > 1_000_000);
    assert!(a == b, "two runs differ");
}

#[test]
fn github_output_schemas_compile_when_asked_for() {
    let Some(path) = github_spec_path() else { return };
    let spec = OpenApiSpec::from_path(&path).expect("loads");
    let options = ConvertOptions {
        output_schemas: true,
        ..Default::default()
    };
    let conversion = Converter::new(options).convert(&spec);
    let mut with_output = 0;
    for tool in &conversion.tools {
        if let Some(out) = &tool.spec.output_schema {
            with_output += 1;
            if let Err(e) = jsonschema::draft202012::new(out) {
                panic!("{}: output schema does not compile: {e}", tool.spec.name);
            }
        }
    }
    eprintln!("{with_output} of 1223 GitHub tools have an output schema");
    assert!(with_output > 800, "{with_output}");
}
