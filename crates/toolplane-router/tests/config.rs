//! Configuration from TOML and JSON files, errors that name the place, and
//! explained decisions from a file alone.

use std::io::Write;
use std::sync::Arc;

use toolplane_core::{CallContext, ChatProvider, ChatRequest, Message, ScriptedProvider};
use toolplane_router::RouterConfig;

fn example() -> String {
    format!("{}/tests/data/router.toml", env!("CARGO_MANIFEST_DIR"))
}

fn ask(text: &str) -> ChatRequest {
    ChatRequest::new("", vec![Message::user(text)])
}

#[test]
fn the_example_file_loads_and_explains() {
    let cfg = RouterConfig::from_path(example()).expect("example config");
    assert_eq!(cfg.experts.len(), 4);
    let d = cfg.explain("chat", &ask("hi")).expect("decision");
    // Cheapest with win rate >= 0.6: gpt-4o (0.62) is cheaper than claude (0.70).
    assert_eq!(d.chosen.as_deref(), Some("openai/gpt-4o"), "{d}");
    let d = cfg.explain("tool_use", &ask("book a table")).expect("decision");
    assert_eq!(d.chosen.as_deref(), Some("anthropic/claude-sonnet"));
    assert_eq!(d.excluded.len(), 2, "the rule removes the other two: {d}");
    let d = cfg
        .explain("summarization", &ask(&"long text ".repeat(5_000)))
        .expect("decision");
    assert!(
        d.excluded
            .iter()
            .any(|x| x.expert == "local-llama" && x.constraint == "context_window")
    );
    println!("{d}");
}

#[test]
fn json_works_like_toml() {
    let text = r#"{
        "seed": 1,
        "tasks": { "code": { "strategy": { "kind": "static", "order": ["b/m"] } } },
        "experts": [ { "provider": "a", "model": "m" }, { "provider": "b", "model": "m" } ]
    }"#;
    let cfg = RouterConfig::from_json_str(text).expect("json");
    let d = cfg.explain("code", &ask("x")).expect("decision");
    assert_eq!(d.chosen.as_deref(), Some("b/m"));
    let mut f = tempfile::Builder::new().suffix(".json").tempfile().expect("temp file");
    f.write_all(text.as_bytes()).expect("write");
    let from_file = RouterConfig::from_path(f.path()).expect("json file");
    assert_eq!(from_file, cfg);
}

#[test]
fn syntax_errors_name_file_line_and_column() {
    let mut f = tempfile::Builder::new().suffix(".toml").tempfile().expect("temp file");
    f.write_all(b"seed = 1\n[[experts]]\nprovider = \"a\"\nmodel = \n")
        .expect("write");
    let e = RouterConfig::from_path(f.path()).expect_err("bad toml");
    assert_eq!(e.file, f.path().display().to_string());
    assert_eq!(e.location.as_deref(), Some("4:9"), "{e}");
    let e = RouterConfig::from_json_str("{\n  \"experts\": [ { \"provider\": \"a\", \"model\": 3 } ]\n}")
        .expect_err("bad json");
    assert_eq!(e.location.as_deref(), Some("2:44"), "{e}");
    assert!(e.to_string().starts_with("<json>:2:44: invalid type"), "{e}");
}

#[test]
fn unknown_fields_and_strategies_are_refused() {
    let e =
        RouterConfig::from_toml_str("[[experts]]\nprovider = \"a\"\nmodel = \"m\"\npriorty = 2\n").expect_err("typo");
    assert!(e.message.contains("unknown field `priorty`"), "{e}");
    assert_eq!(e.location.as_deref(), Some("4:1"));
    let e = RouterConfig::from_toml_str(
        "[tasks.code]\nstrategy = { kind = \"greedy\" }\n[[experts]]\nprovider = \"a\"\nmodel = \"m\"\n",
    )
    .expect_err("strategy");
    assert!(e.message.contains("unknown variant `greedy`"), "{e}");
}

#[test]
fn validation_errors_name_the_field() {
    let cases = [
        ("", "experts", "at least one expert"),
        (
            "[[experts]]\nprovider = \"a\"\nmodel = \"\"\n",
            "experts[0].model",
            "must not be empty",
        ),
        (
            "[[experts]]\nprovider = \"a\"\nmodel = \"m\"\n[[experts]]\nprovider = \"a\"\nmodel = \"m\"\n",
            "experts[1]",
            "already used by experts[0]",
        ),
        (
            "[[experts]]\nprovider = \"a\"\nmodel = \"m\"\ninput_per_1k = -1.0\n",
            "experts[0].input_per_1k",
            "must be a price",
        ),
        (
            "[tasks.code]\nstrategy = { kind = \"static\", order = [\"nope\"] }\n[[experts]]\nprovider = \"a\"\nmodel = \"m\"\n",
            "tasks.code.strategy.order",
            "unknown expert `nope`",
        ),
        (
            "[default]\nonly = [\"x\"]\n[[experts]]\nprovider = \"a\"\nmodel = \"m\"\n",
            "default.only",
            "unknown expert `x`",
        ),
        (
            "[tasks.chat]\nstrategy = { kind = \"cheapest\", quality_floor = 2.0 }\n[[experts]]\nprovider = \"a\"\nmodel = \"m\"\n",
            "tasks.chat.strategy",
            "quality_floor must be in [0, 1]",
        ),
    ];
    for (text, location, message) in cases {
        let e = RouterConfig::from_toml_str(text).expect_err(location);
        assert_eq!(e.location.as_deref(), Some(location), "{e}");
        assert!(e.message.contains(message), "{e}");
    }
}

#[tokio::test]
async fn into_router_takes_providers_from_the_host() {
    let cfg = RouterConfig::from_path(example()).expect("example");
    let e = cfg.into_router(|_| None).expect_err("no providers");
    assert_eq!(e.location.as_deref(), Some("experts[0].provider"));
    let router = cfg
        .into_router(|e| {
            Some(
                Arc::new(ScriptedProvider::new(e.provider.clone()).with_text(format!("from {}", e.model)))
                    as Arc<dyn ChatProvider>,
            )
        })
        .expect("router");
    let req = ask("Use the tool").with_task_type("tool_use");
    let r = router.chat(&req, &CallContext::new("r")).await.expect("answer");
    assert_eq!(r.text(), "from claude-sonnet");
    assert_eq!(router.seed(), 42);
}

#[tokio::test]
async fn a_detached_router_answers_no_provider() {
    let cfg = RouterConfig::from_path(example()).expect("example");
    let router = cfg.detached_router().expect("router");
    let e = router
        .chat(&ask("hi").with_task_type("chat"), &CallContext::new("r"))
        .await
        .expect_err("detached");
    assert_eq!(e.kind(), toolplane_core::ProviderErrorKind::NoProvider);
}
