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
    let d = cfg.explain_for("chat", &ask("hi")).expect("decision");
    // Cheapest with win rate >= 0.6: gpt-4o (0.62) is cheaper than claude (0.70).
    assert_eq!(d.chosen.as_deref(), Some("openai/gpt-4o"), "{d}");
    let d = cfg.explain_for("tool_use", &ask("book a table")).expect("decision");
    assert_eq!(d.chosen.as_deref(), Some("anthropic/claude-sonnet"));
    assert_eq!(d.excluded.len(), 2, "the rule removes the other two: {d}");
    let d = cfg
        .explain_for("summarization", &ask(&"long text ".repeat(5_000)))
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
    let d = cfg.explain_for("code", &ask("x")).expect("decision");
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
            "[[experts]]\nprovider = \"a\"\nmodel = \"m\"\nprice = { input = -1.0, output = 1.0 }\n",
            "experts[0].price.input",
            "a price must be",
        ),
        (
            "[tasks.code]\nstrategy = { kind = \"static\", order = [\"nope\"] }\n[[experts]]\nprovider = \"a\"\nmodel = \"m\"\n",
            "tasks.code.strategy.order[0]",
            "unknown expert `nope`",
        ),
        (
            "[default]\nonly = [\"x\"]\n[[experts]]\nprovider = \"a\"\nmodel = \"m\"\n",
            "default.only[0]",
            "unknown expert `x`",
        ),
        (
            "[tasks.chat]\nstrategy = { kind = \"cheapest\", quality_floor = 2.0 }\n[[experts]]\nprovider = \"a\"\nmodel = \"m\"\n",
            "tasks.chat.strategy",
            "quality_floor must be in [0, 1]",
        ),
    ];
    for (text, field, message) in cases {
        let e = RouterConfig::from_toml_str(text).expect_err(field);
        assert_eq!(e.field.as_deref(), Some(field), "{e}");
        assert!(e.message.contains(message), "{e}");
    }
}

const TWO_EXPERTS: &str =
    "[[experts]]\nprovider = \"a\"\nmodel = \"m\"\n\n[[experts]]\nprovider = \"b\"\nmodel = \"m\"\n";

/// Numbers that parse but make no sense are refused at load, with the
/// file, the line and the field named.
#[test]
fn nonsense_numbers_are_refused_with_file_line_and_field() {
    // (extra text after TWO_EXPERTS or before it, field, line, message)
    let cases: &[(&str, bool, &str, usize, &str)] = &[
        ("budget_usd = nan\n", true, "budget_usd", 1, "got NaN"),
        ("budget_usd = inf\n", true, "budget_usd", 1, "got inf"),
        ("budget_usd = -1.0\n", true, "budget_usd", 1, "got -1"),
        ("budget_usd = 5.0\n", false, "", 0, ""),
        ("budget_usd = nan\n", false, "experts[1].budget_usd", 8, "got NaN"),
        (
            "price = { input = inf, output = 1.0 }\n",
            false,
            "experts[1].price.input",
            8,
            "got inf",
        ),
        (
            "price = { input = 1.0, output = 2.0, cache_read = -0.5 }\n",
            false,
            "experts[1].price.cache_read",
            8,
            "got -0.5",
        ),
        (
            "default_price = { input = nan, output = 1.0 }\n",
            true,
            "default_price.input",
            1,
            "got NaN",
        ),
        (
            "context_window = 0\n",
            false,
            "experts[1].context_window",
            8,
            "at least 1 token",
        ),
        (
            "stats = { latency_p95_ms = inf }\n",
            false,
            "experts[1].stats.latency_p95_ms",
            8,
            "got inf",
        ),
        (
            "stats = { latency_p95_ms = nan }\n",
            false,
            "experts[1].stats.latency_p95_ms",
            8,
            "got NaN",
        ),
        (
            "stats = { cost_per_1k_tokens = -1.0 }\n",
            false,
            "experts[1].stats.cost_per_1k_tokens",
            8,
            "got -1",
        ),
        (
            "stats = { success_rate = 1.5 }\n",
            false,
            "experts[1].stats.success_rate",
            8,
            "within [0, 1]",
        ),
        (
            "stats = { success_rate = nan }\n",
            false,
            "experts[1].stats.success_rate",
            8,
            "within [0, 1]",
        ),
        (
            "stats = { wins = 70, judged = 50 }\n",
            false,
            "experts[1].stats.wins",
            8,
            "70 wins is more than the 50",
        ),
        (
            "stats = { latency_p50_ms = 900.0, latency_p95_ms = 300.0 }\n",
            false,
            "experts[1].stats.latency_p50_ms",
            8,
            "above the 95th percentile",
        ),
        (
            "[experts.stats_by_task.code]\nwins = 3\njudged = 1\n",
            false,
            "experts[1].stats_by_task.code.wins",
            9,
            "more than the 1",
        ),
    ];
    for &(extra, before, field, line, message) in cases {
        let text = if before {
            format!("{extra}{TWO_EXPERTS}")
        } else {
            format!("{TWO_EXPERTS}{extra}")
        };
        let mut f = tempfile::Builder::new().suffix(".toml").tempfile().expect("temp file");
        f.write_all(text.as_bytes()).expect("write");
        let result = RouterConfig::from_path(f.path());
        if field.is_empty() {
            result.expect("a sensible number loads");
            continue;
        }
        let e = result.expect_err(field);
        assert_eq!(e.file, f.path().display().to_string());
        assert_eq!(e.field.as_deref(), Some(field), "{e}");
        let at_line = e
            .location
            .as_deref()
            .and_then(|l| l.split(':').next()?.parse::<usize>().ok());
        assert_eq!(at_line, Some(line), "{e}\n{text}");
        assert!(e.message.contains(message), "{e}");
        assert!(
            e.to_string().starts_with(&format!("{}:{line}:", f.path().display())),
            "{e}"
        );
    }
}

#[test]
fn breaker_settings_that_make_no_sense_are_refused() {
    for (breaker, field) in [
        ("failure_threshold = 0", "breaker.failure_threshold"),
        ("cooldown_ms = 0", "breaker.cooldown_ms"),
        ("cooldown_ms = 5000\nmax_cooldown_ms = 1000", "breaker.max_cooldown_ms"),
    ] {
        let e = RouterConfig::from_toml_str(&format!("[breaker]\n{breaker}\n{TWO_EXPERTS}")).expect_err(field);
        assert_eq!(e.field.as_deref(), Some(field), "{e}");
        assert!(
            e.location
                .as_deref()
                .is_some_and(|l| l.starts_with("2:") || l.starts_with("3:")),
            "{e}"
        );
    }
}

/// Prices are core `Price`s in USD per million tokens; a price that does
/// not parse, an unknown rate, and the old per-1k fields are refused with
/// the line, and the old fields with the way forward.
#[test]
fn prices_are_usd_per_million_and_bad_ones_name_the_line() {
    let cfg = RouterConfig::from_toml_str(&format!(
        "{TWO_EXPERTS}price = {{ input = 3.0, output = 15.0, cache_read = 0.3, cache_write_5m = 3.75 }}\n"
    ))
    .expect("loads");
    let p = cfg.experts[1].price.expect("priced");
    assert_eq!(
        (p.input, p.output, p.cache_read, p.cache_write_5m),
        (3.0, 15.0, Some(0.3), Some(3.75))
    );
    assert_eq!(cfg.experts[0].price, None);

    let cases = [
        ("price = { input = \"abc\", output = 1.0 }\n", "8:", "invalid type"),
        (
            "price = { input = 1.0, output = 1.0, cache_reed = 0.1 }\n",
            "8:",
            "cache_reed",
        ),
        ("price = { input = 1.0 }\n", "8:", "output"),
        ("input_per_1k = 0.003\n", "8:", "USD per million tokens"),
    ];
    for (extra, line, message) in cases {
        let e = RouterConfig::from_toml_str(&format!("{TWO_EXPERTS}{extra}")).expect_err(extra);
        assert!(e.location.as_deref().is_some_and(|l| l.starts_with(line)), "{e}");
        assert!(e.message.contains(message), "{e}");
    }
    let e = RouterConfig::from_json_str(r#"{"experts": [{"provider": "a", "model": "m", "output_per_1k": 0.01}]}"#)
        .expect_err("old field in JSON");
    assert!(e.message.contains("USD per million tokens"), "{e}");
}

#[test]
fn json_errors_name_the_line_too() {
    let text = "{\n  \"experts\": [\n    { \"provider\": \"a\", \"model\": \"m\" },\n    { \"provider\": \"b\", \"model\": \"m\",\n      \"stats\": { \"wins\": 9, \"judged\": 4 } }\n  ]\n}";
    let e = RouterConfig::from_json_str(text).expect_err("more wins than judged");
    assert_eq!(e.field.as_deref(), Some("experts[1].stats.wins"));
    assert_eq!(e.location.as_deref(), Some("5:26"), "{e}");
    assert_eq!(
        e.to_string(),
        "<json>:5:26: experts[1].stats.wins: 9 wins is more than the 4 answers judged"
    );
}

#[test]
fn the_builder_refuses_nonsense_numbers_too() {
    use toolplane_core::Price;
    use toolplane_router::{Expert, Router, RouterError};
    let p = || Arc::new(ScriptedProvider::new("a"));
    let e = Router::builder()
        .expert(Expert::new(p(), "m"))
        .budget_usd(f64::NAN)
        .build()
        .expect_err("NaN budget");
    assert!(
        matches!(&e, RouterError::InvalidNumber { field, .. } if field == "budget_usd"),
        "{e}"
    );
    let e = Router::builder()
        .expert(Expert::new(p(), "m").with_budget_usd(-2.0))
        .build()
        .expect_err("negative budget");
    assert!(
        matches!(&e, RouterError::InvalidNumber { field, .. } if field == "experts[0].budget_usd"),
        "{e}"
    );
    let e = Router::builder()
        .expert(Expert::new(p(), "m").with_price(Price::per_million(f64::INFINITY, 0.0)))
        .build()
        .expect_err("infinite price");
    assert!(e.to_string().contains("experts[0].price.input"), "{e}");
}

/// Loading is linear in the number of experts: 100,000 load (the time is
/// printed, never asserted; `--nocapture` shows it).
#[test]
fn a_hundred_thousand_experts_load() {
    const N: usize = 100_000;
    let mut text = String::with_capacity(N * 120);
    text.push_str("seed = 1\n[tasks.code]\nstrategy = { kind = \"thompson\" }\n");
    for i in 0..N {
        text.push_str(&format!(
            "[[experts]]\nprovider = \"p{}\"\nmodel = \"m{i}\"\nprice = {{ input = 1.0, output = 2.0 }}\nstats = {{ latency_p95_ms = {}.0, wins = 1, judged = 2 }}\n",
            i % 7,
            100 + i % 1000
        ));
    }
    let started = std::time::Instant::now();
    let cfg = RouterConfig::from_toml_str(&text).expect("loads");
    let parsed = started.elapsed();
    let router = cfg.detached_router().expect("builds");
    let built = started.elapsed();
    assert_eq!(cfg.experts.len(), N);
    assert_eq!(router.experts().len(), N);
    assert_eq!(
        router.expert_index(&format!("p{}/m{}", (N - 1) % 7, N - 1)),
        Some(N - 1)
    );
    let d = router.explain_for("code", &ask("fix this"));
    assert_eq!(d.candidates.len(), N);
    println!(
        "{N} experts: parsed and validated in {parsed:?}, router built in {:?}, one explain in {:?}",
        built - parsed,
        started.elapsed() - built
    );
    // The duplicate check is still there, and still linear.
    text.push_str("[[experts]]\nprovider = \"p3\"\nmodel = \"m3\"\n");
    let e = RouterConfig::from_toml_str(&text).expect_err("duplicate");
    assert_eq!(e.field.as_deref(), Some(format!("experts[{N}]").as_str()), "{e}");
    assert!(e.message.contains("already used by experts[3]"), "{e}");
}

#[tokio::test]
async fn into_router_takes_providers_from_the_host() {
    let cfg = RouterConfig::from_path(example()).expect("example");
    let e = cfg.into_router(|_| None).expect_err("no providers");
    assert_eq!(e.field.as_deref(), Some("experts[0].provider"));
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

/// `RouterConfig::explain` / `explain_for` take what `Router::explain` /
/// `explain_for` take and give the same decision.
#[test]
fn config_and_router_explain_agree_in_shape() {
    let cfg = RouterConfig::from_path(example()).expect("example");
    let classified = ask("Why does this Rust function not compile?");
    for req in [classified.clone(), classified.clone().with_task_type("chat")] {
        let from_config = cfg.explain(&req).expect("decision");
        let from_router = cfg.detached_router().expect("router").explain(&req);
        assert_eq!(from_config, from_router);
    }
    let d = cfg.explain(&classified).expect("decision");
    assert_eq!((d.task_type.as_str(), d.policy.as_str()), ("code", "code"));
    assert_eq!(d.task_source, toolplane_router::TaskSource::Classifier);
    let given = cfg.explain_for("tool_use", &classified).expect("decision");
    assert_eq!(
        given,
        cfg.detached_router()
            .expect("router")
            .explain_for("tool_use", &classified)
    );
    assert_eq!(given.task_source, toolplane_router::TaskSource::Given);
}

/// Checked without its text, a configuration's error names the field in
/// `location` as well (as before `field` existed), and says it once.
#[test]
fn validate_without_text_puts_the_field_in_location() {
    let mut cfg = RouterConfig::from_toml_str(TWO_EXPERTS).expect("loads");
    cfg.experts[1].budget_usd = Some(f64::NAN);
    let e = cfg.validate("server.toml").expect_err("NaN budget");
    assert_eq!(e.location.as_deref(), Some("experts[1].budget_usd"));
    assert_eq!(e.field.as_deref(), Some("experts[1].budget_usd"));
    assert_eq!(
        e.to_string(),
        "server.toml:experts[1].budget_usd: must be a finite number >= 0, got NaN"
    );
}
