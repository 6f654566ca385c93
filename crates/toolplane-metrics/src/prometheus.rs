//! Prometheus text exposition (format 0.0.4) with OpenTelemetry GenAI-style names.
//!
//! Every figure is all-time (Prometheus computes rates itself). Labels are
//! `provider`, `model`, `task_type` (empty when the call had none) and, on
//! failures, `error_type`; their cardinality is bounded by
//! [`MetricsConfig::max_series`](crate::MetricsConfig::max_series), beyond
//! which series are folded into one labelled `_overflow`.

use std::fmt::Write as _;

use crate::ProviderMetricsCollector;
use crate::series::{DURATION_BUCKETS_S, ERROR_SLOTS, TTFT_BUCKETS_S, error_label};

/// The content type of [`ProviderMetricsCollector::to_prometheus`]'s output.
pub const PROMETHEUS_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Escapes a label value: backslash, double quote and line feed.
pub fn escape_label_value(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for ch in v.chars() {
        match ch {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// `f64` as Prometheus prints it (`+Inf`, `NaN`, or the shortest round-trip form).
fn num(v: f64) -> String {
    if v.is_nan() {
        "NaN".to_owned()
    } else if v == f64::INFINITY {
        "+Inf".to_owned()
    } else if v == f64::NEG_INFINITY {
        "-Inf".to_owned()
    } else {
        format!("{v}")
    }
}

struct Row {
    labels: String,
    state: crate::series::Counters,
    duration_buckets: [u64; DURATION_BUCKETS_S.len()],
    ttft_buckets: [u64; TTFT_BUCKETS_S.len()],
}

fn histogram(
    out: &mut String,
    name: &str,
    help: &str,
    rows: &[Row],
    bounds: &[f64],
    pick: impl Fn(&Row) -> (&[u64], u64, f64),
) {
    header(out, name, "histogram", help);
    for r in rows {
        let (per_bucket, count, sum_s) = pick(r);
        let mut cumulative = 0u64;
        for (b, n) in bounds.iter().zip(per_bucket) {
            cumulative += n;
            let _ = writeln!(out, "{name}_bucket{{{},le=\"{}\"}} {cumulative}", r.labels, num(*b));
        }
        let _ = writeln!(out, "{name}_bucket{{{},le=\"+Inf\"}} {count}", r.labels);
        let _ = writeln!(out, "{name}_sum{{{}}} {}", r.labels, num(sum_s));
        let _ = writeln!(out, "{name}_count{{{}}} {count}", r.labels);
    }
}

impl ProviderMetricsCollector {
    /// All-time figures in the Prometheus text format, ready to serve at
    /// `/metrics` with [`PROMETHEUS_CONTENT_TYPE`].
    ///
    /// | metric | type | labels |
    /// | --- | --- | --- |
    /// | `gen_ai_client_operation_duration_seconds` | histogram | provider, model, task_type |
    /// | `gen_ai_client_time_to_first_token_seconds` | histogram | provider, model, task_type |
    /// | `gen_ai_client_token_usage_total` | counter | + token_type (input, output, cache_read, cache_write, reasoning) |
    /// | `gen_ai_client_cost_usd_total` | counter | provider, model, task_type |
    /// | `gen_ai_client_operation_success_total` | counter | provider, model, task_type |
    /// | `gen_ai_client_operation_failure_total` | counter | + error_type |
    /// | `gen_ai_client_unpriced_operations_total` | counter | provider, model, task_type |
    /// | `gen_ai_client_feedback_total` | counter | + verdict (win, loss) |
    /// | `toolplane_metrics_rejected_records_total` | counter | none |
    /// | `toolplane_metrics_memory_bytes` | gauge | none |
    /// | `toolplane_metrics_memory_budget_bytes` | gauge | none |
    /// | `toolplane_metrics_evicted_intervals_total` | counter | none |
    /// | `toolplane_metrics_coarsened_intervals_total` | counter | none |
    pub fn to_prometheus(&self) -> String {
        let rows: Vec<Row> = self
            .all_series()
            .iter()
            .map(|s| {
                let (totals, duration_buckets, ttft_buckets) = s.totals_and_buckets();
                Row {
                    labels: format!(
                        "provider=\"{}\",model=\"{}\",task_type=\"{}\"",
                        escape_label_value(&s.key.provider),
                        escape_label_value(&s.key.model),
                        escape_label_value(s.key.task_type.as_deref().unwrap_or(""))
                    ),
                    state: totals,
                    duration_buckets,
                    ttft_buckets,
                }
            })
            .collect();
        let mut out = String::with_capacity(512 + rows.len() * 4096);
        histogram(
            &mut out,
            "gen_ai_client_operation_duration_seconds",
            "Duration of chat calls to a provider, successful or not.",
            &rows,
            &DURATION_BUCKETS_S,
            |r| (&r.duration_buckets, r.state.calls, r.state.latency_sum_ms / 1000.0),
        );
        histogram(
            &mut out,
            "gen_ai_client_time_to_first_token_seconds",
            "Time from the request to the first content event of a streamed chat call.",
            &rows,
            &TTFT_BUCKETS_S,
            |r| (&r.ttft_buckets, r.state.ttft_count, r.state.ttft_sum_ms / 1000.0),
        );

        let name = "gen_ai_client_token_usage_total";
        header(&mut out, name, "counter", "Tokens used, by token type.");
        for r in &rows {
            let u = &r.state.usage;
            for (t, v) in [
                ("input", u.input_tokens),
                ("output", u.output_tokens),
                ("cache_read", u.cache_read_tokens),
                ("cache_write", u.cache_write_tokens),
                ("reasoning", u.reasoning_tokens),
            ] {
                let _ = writeln!(out, "{name}{{{},token_type=\"{t}\"}} {v}", r.labels);
            }
        }

        let name = "gen_ai_client_cost_usd_total";
        header(&mut out, name, "counter", "Cost of priced calls in US dollars.");
        for r in &rows {
            let _ = writeln!(out, "{name}{{{}}} {}", r.labels, num(r.state.cost_usd));
        }

        let name = "gen_ai_client_operation_success_total";
        header(&mut out, name, "counter", "Chat calls that returned an answer.");
        for r in &rows {
            let _ = writeln!(out, "{name}{{{}}} {}", r.labels, r.state.successes);
        }

        let name = "gen_ai_client_operation_failure_total";
        header(&mut out, name, "counter", "Chat calls that failed, by error type.");
        for r in &rows {
            for slot in 0..ERROR_SLOTS {
                let n = r.state.errors[slot];
                if n > 0 {
                    let _ = writeln!(out, "{name}{{{},error_type=\"{}\"}} {n}", r.labels, error_label(slot));
                }
            }
        }

        let name = "gen_ai_client_unpriced_operations_total";
        header(
            &mut out,
            name,
            "counter",
            "Chat calls whose model has no price (cost unknown, not zero).",
        );
        for r in &rows {
            let _ = writeln!(out, "{name}{{{}}} {}", r.labels, r.state.unpriced_calls);
        }

        let name = "gen_ai_client_feedback_total";
        header(&mut out, name, "counter", "Judged answers, by verdict.");
        for r in &rows {
            let _ = writeln!(out, "{name}{{{},verdict=\"win\"}} {}", r.labels, r.state.wins);
            let _ = writeln!(out, "{name}{{{},verdict=\"loss\"}} {}", r.labels, r.state.losses);
        }

        let name = "toolplane_metrics_rejected_records_total";
        header(&mut out, name, "counter", "Records rejected by validation.");
        let _ = writeln!(out, "{name} {}", self.rejected_records());

        let name = "toolplane_metrics_memory_bytes";
        header(
            &mut out,
            name,
            "gauge",
            "Bytes held by the collector's series (its own accounting).",
        );
        let _ = writeln!(out, "{name} {}", self.memory_bytes());
        let name = "toolplane_metrics_memory_budget_bytes";
        header(&mut out, name, "gauge", "The collector's memory budget.");
        let _ = writeln!(out, "{name} {}", self.config.memory_budget_bytes);
        let name = "toolplane_metrics_evicted_intervals_total";
        header(
            &mut out,
            name,
            "counter",
            "Intervals (a minute, or coarser once merged) dropped, oldest first, to stay within the memory budget.",
        );
        let _ = writeln!(out, "{name} {}", self.evicted_minutes());
        let name = "toolplane_metrics_coarsened_intervals_total";
        header(
            &mut out,
            name,
            "counter",
            "Intervals merged into coarser ones (2 to 64 minutes wide) to stay within the memory budget.",
        );
        let _ = writeln!(out, "{name} {}", self.coarsened_intervals());
        out
    }
}
