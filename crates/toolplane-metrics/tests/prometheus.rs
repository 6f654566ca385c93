//! Prometheus exposition: structure checks promtool does not make, and promtool itself.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::process::{Command, Stdio};

use toolplane_core::{ProviderErrorKind, Usage};
use toolplane_metrics::{Execution, ProviderMetricsCollector, escape_label_value};

fn collector() -> ProviderMetricsCollector {
    let c = ProviderMetricsCollector::new();
    let u = Usage {
        input_tokens: 1_000,
        output_tokens: 200,
        cache_read_tokens: 300,
        reasoning_tokens: 50,
        ..Default::default()
    };
    for i in 0..50u32 {
        let ms = f64::from(i) * 97.0 + 3.0;
        c.record(
            &Execution::success("openai", "gpt-4o", ms)
                .with_usage(u)
                .with_ttft_ms(ms / 4.0)
                .with_task_type("code"),
        )
        .unwrap();
        c.record(&Execution::failure(
            "anthropic",
            "claude-sonnet-4-5",
            ms,
            ProviderErrorKind::Overloaded,
        ))
        .unwrap();
    }
    c.record(&Execution::failure(
        "anthropic",
        "claude-sonnet-4-5",
        200_000.0,
        ProviderErrorKind::Timeout,
    ))
    .unwrap();
    // Label values that need escaping.
    c.record(&Execution::success("we\"ird\\prov", "line\nbreak", 5.0).with_task_type("t\"1"))
        .unwrap();
    c
}

/// `name{labels}` → value, for every sample line.
fn samples(text: &str) -> Vec<(String, String, f64)> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let (series, value) = l.rsplit_once(' ').unwrap();
            let (name, labels) = match series.split_once('{') {
                Some((n, rest)) => (n.to_owned(), rest.trim_end_matches('}').to_owned()),
                None => (series.to_owned(), String::new()),
            };
            (name, labels, value.parse::<f64>().unwrap())
        })
        .collect()
}

fn without_le(labels: &str) -> String {
    labels.split(",le=").next().unwrap_or("").to_owned()
}

#[test]
fn histograms_have_inf_bucket_equal_to_count_and_cumulative_buckets() {
    let text = collector().to_prometheus();
    let s = samples(&text);
    for hist in [
        "gen_ai_client_operation_duration_seconds",
        "gen_ai_client_time_to_first_token_seconds",
    ] {
        let mut inf = HashMap::new();
        let mut count = HashMap::new();
        let mut last: HashMap<String, f64> = HashMap::new();
        for (name, labels, v) in &s {
            if *name == format!("{hist}_bucket") {
                let key = without_le(labels);
                let prev = last.insert(key.clone(), *v).unwrap_or(0.0);
                assert!(*v >= prev, "{hist} buckets must be cumulative: {labels}");
                if labels.ends_with("le=\"+Inf\"") {
                    inf.insert(key, *v);
                }
            } else if *name == format!("{hist}_count") {
                count.insert(labels.clone(), *v);
            }
        }
        assert_eq!(inf.len(), 3, "{hist}: one +Inf bucket per series");
        assert_eq!(inf, count, "{hist}: _count must equal the +Inf bucket");
    }
    // 51 anthropic calls, one of them beyond the last finite bucket (81.92 s).
    let line = text
        .lines()
        .find(|l| {
            l.starts_with("gen_ai_client_operation_duration_seconds_bucket{provider=\"anthropic\"")
                && l.contains("le=\"81.92\"")
        })
        .unwrap();
    assert!(line.ends_with(" 50"), "{line}");
}

#[test]
fn no_duplicate_series_and_every_metric_has_help_and_type() {
    let text = collector().to_prometheus();
    let mut seen = HashSet::new();
    for (name, labels, _) in samples(&text) {
        assert!(
            seen.insert(format!("{name}{{{labels}}}")),
            "duplicate series {name}{{{labels}}}"
        );
    }
    let typed: HashSet<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .map(|l| l.split(' ').next().unwrap())
        .collect();
    for (name, _, _) in samples(&text) {
        let family = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|suf| name.strip_suffix(suf).filter(|f| typed.contains(f)))
            .unwrap_or(&name);
        assert!(typed.contains(family), "{name} has no # TYPE");
    }
    assert!(text.contains("error_type=\"timeout\"} 1"));
    assert!(text.contains("token_type=\"cache_read\"} 15000"));
}

#[test]
fn label_values_are_escaped() {
    assert_eq!(escape_label_value("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    let text = collector().to_prometheus();
    assert!(text.contains("provider=\"we\\\"ird\\\\prov\",model=\"line\\nbreak\",task_type=\"t\\\"1\""));
    // No raw line break inside a sample.
    for l in text.lines() {
        assert!(l.starts_with('#') || l.rsplit_once(' ').is_some(), "broken line: {l:?}");
    }
}

#[test]
fn promtool_accepts_the_output() {
    let promtool = Command::new("promtool").arg("--version").output();
    if promtool.is_err() {
        let _: Option<()> = toolplane_testkit::missing("promtool", "install Debian's `prometheus` package");
        return;
    }
    let text = collector().to_prometheus();
    let mut child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    let complaints = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "promtool failed:\n{complaints}\n---\n{text}");
    assert!(complaints.trim().is_empty(), "promtool complained:\n{complaints}");
}
