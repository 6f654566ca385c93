//! Hostile descriptions: `$ref`s that reach out of the description's folder or
//! at files that never end, and nesting meant to make the parser crawl. Each
//! must end in an error that names the reference and the rule.

#![allow(clippy::panic, clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use toolplane_openapi::{Converter, LoadError, LoadOptions, OpenApiSpec, parse_text};

/// A description in `dir/spec/main.yaml` whose one parameter schema is `$ref: reference`.
fn write_spec(dir: &Path, reference: &str) -> PathBuf {
    let spec_dir = dir.join("spec");
    std::fs::create_dir_all(&spec_dir).unwrap();
    let main = spec_dir.join("main.yaml");
    std::fs::write(
        &main,
        format!(
            "openapi: 3.1.0\ninfo: {{title: T, version: '1'}}\npaths:\n  /a:\n    get:\n      operationId: getA\n      \
             parameters:\n        - name: q\n          in: query\n          schema: {{$ref: '{reference}'}}\n"
        ),
    )
    .unwrap();
    main
}

/// Loads on another thread, so a loader that blocks fails this test instead of hanging it.
fn load(main: &Path, options: LoadOptions) -> Result<OpenApiSpec, LoadError> {
    let (tx, rx) = mpsc::channel();
    let main = main.to_path_buf();
    std::thread::spawn(move || {
        let _ = tx.send(OpenApiSpec::from_path_with(&main, &options));
    });
    rx.recv_timeout(Duration::from_secs(60))
        .unwrap_or_else(|_| panic!("loading {} blocked", "the description"))
}

fn refused(main: &Path, options: LoadOptions) -> String {
    match load(main, options) {
        Err(e @ LoadError::FileRefused { .. }) => e.to_string(),
        Err(other) => panic!("expected a refused reference, got {other:?}"),
        Ok(_) => panic!("the reference was followed"),
    }
}

const SECRET: &str = "{type: string, default: TOP-SECRET-VALUE}\n";
const PLACE: &str = "main.yaml#/paths/~1a/get/parameters/0/schema/$ref";

#[test]
fn a_reference_inside_the_folder_still_loads() {
    let dir = tempfile::tempdir().unwrap();
    let main = write_spec(dir.path(), "schemas/q.yaml");
    std::fs::create_dir_all(dir.path().join("spec/schemas")).unwrap();
    std::fs::write(dir.path().join("spec/schemas/q.yaml"), "{type: string, minLength: 2}\n").unwrap();
    let spec = load(&main, LoadOptions::default()).unwrap();
    let tool = &Converter::default().convert(&spec).tools[0];
    let r = tool.spec.input_schema["properties"]["q"]["$ref"].as_str().unwrap();
    assert_eq!(
        tool.spec.input_schema["$defs"][r.trim_start_matches("#/$defs/")]["minLength"],
        2
    );
}

#[test]
fn a_file_outside_the_folder_is_refused_by_path_dot_dot_and_file_url() {
    let outside = tempfile::tempdir().unwrap();
    let secret = outside.path().join("passwd");
    std::fs::write(&secret, SECRET).unwrap();
    let dir = tempfile::tempdir().unwrap();
    for reference in [
        secret.display().to_string(),
        format!("file://{}", secret.display()),
        // From dir/spec, ../../ leaves the temporary folder and names the secret by a relative path.
        format!("../../{}/passwd", outside.path().file_name().unwrap().to_str().unwrap()),
    ] {
        let main = write_spec(dir.path(), &reference);
        let text = refused(&main, LoadOptions::default());
        assert!(text.contains(PLACE), "{text}");
        assert!(text.contains(&reference), "{text}");
        assert!(text.contains("is outside"), "{text}");
        assert!(text.contains("--ref-root"), "says how to widen it: {text}");
        assert!(!text.contains("TOP-SECRET-VALUE"));
    }
    // Opting in to a wider folder lets the same reference load.
    let main = write_spec(dir.path(), &format!("file://{}", secret.display()));
    let wide = LoadOptions {
        file_root: Some(outside.path().parent().unwrap().to_path_buf()),
        ..Default::default()
    };
    assert!(load(&main, wide).is_ok());
}

#[cfg(unix)]
#[test]
fn a_symlink_out_of_the_folder_is_refused() {
    let outside = tempfile::tempdir().unwrap();
    let secret = outside.path().join("sa.json");
    std::fs::write(&secret, SECRET).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let main = write_spec(dir.path(), "link.yaml");
    std::os::unix::fs::symlink(&secret, dir.path().join("spec/link.yaml")).unwrap();
    let text = refused(&main, LoadOptions::default());
    assert!(text.contains(PLACE) && text.contains("link.yaml"), "{text}");
    assert!(text.contains("resolves to") && text.contains("is outside"), "{text}");
}

#[cfg(unix)]
#[test]
fn a_fifo_is_refused_without_opening_it() {
    let dir = tempfile::tempdir().unwrap();
    let main = write_spec(dir.path(), "pipe.yaml");
    let fifo = dir.path().join("spec/pipe.yaml");
    match std::process::Command::new("mkfifo").arg(&fifo).status() {
        Ok(s) if s.success() => {}
        other => {
            assert!(std::env::var_os("CI").is_none(), "mkfifo is needed in CI: {other:?}");
            eprintln!("skipped: mkfifo is not available ({other:?})");
            return;
        }
    }
    let text = refused(&main, LoadOptions::default());
    assert!(text.contains(PLACE) && text.contains("is a FIFO"), "{text}");
}

#[cfg(target_os = "linux")]
#[test]
fn a_device_is_refused_even_under_a_wider_root() {
    let dir = tempfile::tempdir().unwrap();
    let main = write_spec(dir.path(), "file:///dev/zero");
    // By default, /dev is outside the folder.
    let text = refused(&main, LoadOptions::default());
    assert!(text.contains("is outside"), "{text}");
    // With the whole file system allowed, the file type still refuses it (no read that never ends).
    let everything = LoadOptions {
        file_root: Some(PathBuf::from("/")),
        ..Default::default()
    };
    let text = refused(&main, everything.clone());
    assert!(text.contains("/dev/zero is a device"), "{text}");
    // A directory is not a document either.
    let main = write_spec(dir.path(), "file:///tmp");
    let text = refused(&main, everything);
    assert!(text.contains("is a directory"), "{text}");
}

#[test]
fn an_oversize_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let main = write_spec(dir.path(), "big.yaml");
    let big = format!("{{type: string, description: '{}'}}\n", "x".repeat(4096));
    std::fs::write(dir.path().join("spec/big.yaml"), big).unwrap();
    let small = LoadOptions {
        max_file_bytes: 2048,
        ..Default::default()
    };
    let text = refused(&main, small.clone());
    assert!(
        text.contains(PLACE) && text.contains("larger than the limit of 2048 bytes"),
        "{text}"
    );
    // The root description obeys the limit too.
    std::fs::write(&main, format!("# {}\n", "x".repeat(4096))).unwrap();
    let err = load(&main, small).unwrap_err();
    assert_eq!(err.kind(), "too_large", "{err}");
}

#[test]
fn a_description_from_text_may_not_reference_files() {
    let outside = tempfile::tempdir().unwrap();
    let secret = outside.path().join("x.yaml");
    std::fs::write(&secret, SECRET).unwrap();
    let text = format!(
        "{{\"openapi\": \"3.1.0\", \"info\": {{\"title\": \"T\", \"version\": \"1\"}}, \"paths\": {{}}, \
         \"components\": {{\"schemas\": {{\"S\": {{\"$ref\": \"file://{}\"}}}}}}}}",
        secret.display()
    );
    let err = OpenApiSpec::from_str(&text).unwrap_err();
    assert_eq!(err.kind(), "file_refused", "{err}");
    assert!(err.to_string().contains("<input>#/components/schemas/S/$ref"), "{err}");
}

/// 50,000 levels: JSON, YAML flow and YAML block nesting. Each fails with the
/// nesting error before any parser runs (the elapsed time is printed for the record, not asserted).
#[test]
fn deep_nesting_is_refused_before_parsing() {
    const N: usize = 50_000;
    let cases = [
        ("json arrays", format!("{}{}", "[".repeat(N), "]".repeat(N))),
        ("json objects", format!("{}1{}", "{\"a\":".repeat(N), "}".repeat(N))),
        ("yaml flow", format!("openapi: {}{}\n", "[".repeat(N), "]".repeat(N))),
        (
            "yaml flow mappings",
            format!("a: {}1{}\n", "{a: ".repeat(N), "}".repeat(N)),
        ),
        ("yaml block sequences", format!("{}x\n", "- ".repeat(N))),
        // JSON that serde_json refuses early (an unterminated string) and that YAML reads as deep flow nesting.
        ("json turned yaml", format!("{{\"a\": b\"{}", "[".repeat(N))),
        ("yaml after a document marker", format!("--- {}", "[".repeat(N))),
        ("yaml after a lone CR", format!("a:\r{}", "[".repeat(N))),
        (
            "yaml block mappings",
            (0..300)
                .map(|i| format!("{}k{i}:\n", " ".repeat(i)))
                .collect::<String>(),
        ),
    ];
    for (label, text) in cases {
        let start = Instant::now();
        let err = parse_text(&text, "deep.txt").unwrap_err();
        eprintln!("{label}: {:?}", start.elapsed());
        assert_eq!(err.kind(), "too_deep", "{label}: {err}");
        let message = err.to_string();
        assert!(
            message.starts_with("deep.txt: nested deeper than 128 levels at line"),
            "{label}: {message}"
        );
    }
    // Through the loader, the file is named.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("deep.json");
    std::fs::write(&path, format!("{}{}", "[".repeat(N), "]".repeat(N))).unwrap();
    let err = OpenApiSpec::from_path(&path).unwrap_err();
    assert!(
        err.to_string()
            .contains("deep.json: nested deeper than 128 levels at line 1, column 129"),
        "{err}"
    );
}

#[test]
fn json_errors_are_reported_as_json_and_yaml_flow_documents_still_load() {
    // A JSON syntax error is reported as JSON's, with its line and column.
    let err = parse_text("{\"openapi\": \"3.1.0\",\n \"paths\": {}\n", "x.json").unwrap_err();
    let text = err.to_string();
    assert!(
        text.starts_with("x.json: not valid JSON: EOF while parsing an object at line 3"),
        "{text}"
    );
    // A YAML flow document starts with a bracket too, and loads.
    let v = parse_text("{type: string, enum: [a, 'b c']}", "x.yaml").unwrap();
    assert_eq!(v["enum"][1], "b c");
    // Block YAML; real descriptions nest far less than the limit.
    let v = parse_text("a:\n  - b: [1, {c: 2}]\n", "x.yaml").unwrap();
    assert_eq!(v["a"][0]["b"][1]["c"], 2);
}

mod no_false_alarms {
    use proptest::prelude::*;
    use serde_json::Value;

    fn nested() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i32>().prop_map(Value::from),
            "[a-z\\[\\]{}'\":# -]{0,12}".prop_map(Value::from),
        ];
        leaf.prop_recursive(40, 400, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::btree_map("[a-z\\[{'\" -]{1,6}", inner, 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        /// Whatever serde_json and serde_yaml_ng write (block YAML, flow JSON, brackets and quotes
        /// inside strings), at the depths real descriptions have, the nesting scan lets through.
        #[test]
        fn documents_within_the_limit_parse_as_before(v in nested()) {
            let json = serde_json::to_string(&v).unwrap();
            prop_assert_eq!(toolplane_openapi::parse_text(&json, "x.json").unwrap(), v.clone());
            let yaml = serde_yaml_ng::to_string(&v).unwrap();
            let parsed = toolplane_openapi::parse_text(&yaml, "x.yaml");
            prop_assert!(parsed.is_ok(), "{:?} for\n{}", parsed.err(), yaml);
        }
    }
}
