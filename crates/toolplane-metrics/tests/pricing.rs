//! Prices: built-in table, cost arithmetic, and the real LiteLLM price file.
#![allow(clippy::unwrap_used, clippy::panic)]

use toolplane_core::Usage;
use toolplane_metrics::{Execution, MetricsConfig, MetricsErrorKind, MetricsQuery, ModelPrice, PricingTable};
use toolplane_metrics::{ManualClock, ProviderMetricsCollector};

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-12_f64.max(b.abs() * 1e-9)
}

#[test]
fn builtin_covers_the_four_providers_and_dated_ids() {
    let t = PricingTable::builtin();
    for (p, m) in [
        ("openai", "gpt-4o-mini"),
        ("openai", "gpt-6.2-sol"),
        ("anthropic", "claude-sonnet-4-5-20250929"),
        ("anthropic", "claude-haiku-4-5-20251001"),
        ("mistral", "mistral-large-latest"),
        ("mistral", "mistral/mistral-small-latest"),
        ("cohere", "command-a-03-2025"),
    ] {
        assert!(t.lookup(p, m).is_some(), "{p}/{m} should be priced");
    }
    // A router reporting a first-party model under its own name still finds the price.
    assert!(t.lookup("router", "gpt-4o").is_some());
    assert!(t.lookup("openai", "gpt-unknown").is_none());
}

#[test]
fn cache_and_reasoning_tokens_are_charged_once_at_their_rates() {
    let p = ModelPrice::per_million(2.0, 8.0)
        .with_cache_read(0.5)
        .with_cache_write(2.5)
        .with_reasoning(10.0);
    let u = Usage {
        input_tokens: 10_000,
        cache_read_tokens: 6_000,
        cache_write_tokens: 1_000,
        cache_write_1h_tokens: 0,
        output_tokens: 2_000,
        reasoning_tokens: 500,
    };
    let expected = (3_000.0 * 2.0 + 6_000.0 * 0.5 + 1_000.0 * 2.5 + 1_500.0 * 8.0 + 500.0 * 10.0) / 1e6;
    assert!(close(p.cost(&u), expected), "{} != {expected}", p.cost(&u));

    // Without separate rates, cache tokens cost the input price and reasoning the output price.
    let plain = ModelPrice::per_million(2.0, 8.0);
    let expected = (10_000.0 * 2.0 + 2_000.0 * 8.0) / 1e6;
    assert!(close(plain.cost(&u), expected));
}

#[test]
fn litellm_fixture_loads_with_cache_prices() {
    let Some(path) = toolplane_testkit::fixture("pricing/litellm-model-prices.json") else {
        return;
    };
    let t = PricingTable::from_litellm_file(&path).unwrap();
    assert!(t.len() > 2_000, "only {} prices loaded", t.len());
    assert!(t.skipped() > 0, "image and audio entries should be skipped");

    let sonnet = t.lookup("anthropic", "claude-sonnet-4-5").unwrap();
    assert!(close(sonnet.input_per_token, 3e-6));
    assert!(close(sonnet.cache_read_per_token.unwrap(), 3e-7));
    assert!(close(sonnet.cache_write_per_token.unwrap(), 3.75e-6));
    // Prefixed keys are read under their provider; cohere_chat is cohere.
    assert!(t.lookup("mistral", "mistral-large-latest").is_some());
    assert!(t.lookup("cohere", "command-a-03-2025").is_some());
    // A reasoning price from the file is applied.
    let qwen = t.lookup("dashscope", "qwen-turbo").unwrap();
    assert!(close(qwen.reasoning_per_token.unwrap(), 5e-7));

    // The built-in table agrees with the file on the models both price.
    let builtin = PricingTable::builtin();
    for (p, m) in [
        ("openai", "gpt-4o"),
        ("anthropic", "claude-haiku-4-5"),
        ("mistral", "mistral-large-latest"),
    ] {
        let a = builtin.lookup(p, m).unwrap();
        let b = t.lookup(p, m).unwrap();
        assert!(close(a.input_per_token, b.input_per_token), "{p}/{m} input");
        assert!(close(a.output_per_token, b.output_per_token), "{p}/{m} output");
    }
}

#[test]
fn bad_price_files_are_clear_errors() {
    let e = PricingTable::from_litellm_json("not json").unwrap_err();
    assert_eq!(e.kind(), MetricsErrorKind::Pricing);
    assert!(e.to_string().contains("not valid JSON"), "{e}");
    let e = PricingTable::from_litellm_json("[1, 2]").unwrap_err();
    assert!(e.to_string().contains("object"), "{e}");
    let e = PricingTable::from_litellm_file(std::path::Path::new("/nonexistent/prices.json")).unwrap_err();
    assert!(e.to_string().contains("/nonexistent/prices.json"), "{e}");

    let t = PricingTable::from_litellm_json(
        r#"{"neg": {"litellm_provider": "x", "input_cost_per_token": -1, "output_cost_per_token": 1},
            "ok": {"litellm_provider": "x", "input_cost_per_token": 1e-6, "output_cost_per_token": 2e-6}}"#,
    )
    .unwrap();
    assert_eq!((t.len(), t.skipped()), (1, 1));
    let mut t = PricingTable::empty();
    let e = t.insert("x", "y", ModelPrice::per_million(f64::NAN, 1.0)).unwrap_err();
    assert!(e.to_string().contains("x/y"), "{e}");
}

#[test]
fn unpriced_calls_are_counted_never_zero_dollars() {
    let clock = std::sync::Arc::new(ManualClock::new(std::time::SystemTime::now()));
    let c = ProviderMetricsCollector::with_parts(MetricsConfig::default(), PricingTable::builtin(), clock);
    let u = Usage {
        input_tokens: 1_000_000,
        output_tokens: 1_000_000,
        ..Default::default()
    };
    let cost = c
        .record(&Execution::success("openai", "gpt-4o-mini", 100.0).with_usage(u))
        .unwrap();
    assert!(close(cost.unwrap(), 0.15 + 0.60));
    assert_eq!(
        c.record(&Execution::success("acme", "secret-1", 100.0).with_usage(u))
            .unwrap(),
        None
    );
    let r = c.snapshot(&MetricsQuery::all_time()).unwrap();
    assert_eq!(r.cost.unpriced_calls, 1);
    assert_eq!(r.cost.priced_calls, 1);
    assert_eq!(r.cost.unpriced_models, vec!["acme/secret-1".to_owned()]);
    assert!(close(r.cost.total_usd, 0.75));
    let acme = r
        .providers
        .iter()
        .find(|g| g.provider.as_deref() == Some("acme"))
        .unwrap();
    assert_eq!(acme.cost_per_call_usd, None);
    assert!(r.to_table().contains("unpriced calls (no price for: acme/secret-1)"));
}

#[test]
fn gemini_builtin_prices_agree_with_the_litellm_file() {
    let builtin = PricingTable::builtin();
    // Thoughts are output tokens; cached content is billed at the cache-read price.
    let flash = builtin.lookup("gemini", "gemini-2.5-flash").unwrap();
    let u = toolplane_core::Usage {
        input_tokens: 1_000_000,
        cache_read_tokens: 400_000,
        output_tokens: 100_000,
        reasoning_tokens: 60_000,
        ..Default::default()
    };
    // 600k * $0.30 + 400k * $0.03 + 100k * $2.50, per million
    assert!(close(flash.cost(&u), 0.18 + 0.012 + 0.25));
    let Some(path) = toolplane_testkit::fixture("pricing/litellm-model-prices.json") else {
        return;
    };
    let t = PricingTable::from_litellm_file(&path).unwrap();
    for m in [
        "gemini-3.5-flash",
        "gemini-3.1-pro-preview",
        "gemini-3.1-flash-lite",
        "gemini-3-flash-preview",
        "gemini-2.5-pro",
        "gemini-2.5-flash",
        "gemini-2.5-flash-lite",
    ] {
        let a = builtin.lookup("gemini", m).unwrap();
        let b = t.lookup("gemini", m).unwrap();
        assert!(close(a.input_per_token, b.input_per_token), "{m} input");
        assert!(close(a.output_per_token, b.output_per_token), "{m} output");
        assert!(
            close(a.cache_read_per_token.unwrap(), b.cache_read_per_token.unwrap()),
            "{m} cache read"
        );
    }
}

#[test]
fn one_hour_cache_writes_are_priced_apart() {
    let builtin = PricingTable::builtin();
    let sonnet = builtin.lookup("anthropic", "claude-sonnet-4-5").unwrap();
    assert!(close(sonnet.cache_write_1h_per_token.unwrap(), 6e-6), "2x input");
    let u = toolplane_core::Usage {
        input_tokens: 1_000_000,
        cache_read_tokens: 200_000,
        cache_write_tokens: 500_000,
        cache_write_1h_tokens: 300_000,
        output_tokens: 0,
        ..Default::default()
    };
    // 300k uncached * $3 + 200k * $0.30 + 200k (5m) * $3.75 + 300k (1h) * $6, per million
    assert!(close(sonnet.cost(&u), 0.9 + 0.06 + 0.75 + 1.8), "{}", sonnet.cost(&u));
    // Without a 1h price the 1h writes cost what other writes cost.
    let plain = toolplane_metrics::ModelPrice::per_million(3.0, 15.0).with_cache_write(3.75);
    assert!(close(plain.cost(&u), 0.3 * 3.0 + 0.2 * 3.0 + 0.5 * 3.75));
    let Some(path) = toolplane_testkit::fixture("pricing/litellm-model-prices.json") else {
        return;
    };
    let t = PricingTable::from_litellm_file(&path).unwrap();
    let from_file = t.lookup("anthropic", "claude-sonnet-4-5").unwrap();
    assert!(close(
        from_file.cache_write_1h_per_token.unwrap(),
        sonnet.cache_write_1h_per_token.unwrap()
    ));
}
