//! How much does the executor add to a tool call, over validating the
//! arguments with jsonschema directly?
//!
//! Measured in one run, for a small (3 fields) and a large (~6 KB, 40 nested
//! records) argument object:
//! - `raw_validate`: `Validator::is_valid` on an already parsed value;
//! - `raw_parse_validate`: `serde_json::from_str` + `is_valid` (the least any
//!   executor must do with a model's argument text);
//! - `executor`: `Executor::execute` on a no-op tool: lookup, size/depth scan,
//!   strict parse, cached validation, two pass-through interceptors, permit,
//!   timeout, dispatch, output check.
//!
//! After criterion, a percentile pass prints p50/p99 per call for each (the
//! four measurements interleaved call by call, so machine noise hits all
//! alike), plus `strict_read_validate`: `parse_arguments` (scan + strict
//! parse) + `is_valid`, which splits the executor's extra cost into reading
//! and dispatch.
#![allow(missing_docs, clippy::unwrap_used)]

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use criterion::{BenchmarkId, Criterion};
use serde_json::{Value, json};
use toolplane_core::ToolSpec;
use toolplane_core::{CallContext, Tool, ToolCall, ToolError, ToolInterceptor, ToolInvocation, ToolNext, ToolOutput};
use toolplane_registry::{ArgumentLimits, Executor, ToolRegistry, parse_arguments};

#[derive(Debug)]
struct NoOp(ToolSpec);

#[async_trait]
impl Tool for NoOp {
    fn spec(&self) -> &ToolSpec {
        &self.0
    }
    async fn call(&self, _args: &Value, _ctx: &CallContext) -> Result<ToolOutput, ToolError> {
        Ok(ToolOutput::text("ok"))
    }
}

#[derive(Debug)]
struct PassThrough;

#[async_trait]
impl ToolInterceptor for PassThrough {
    async fn intercept(
        &self,
        inv: &ToolInvocation<'_>,
        ctx: &CallContext,
        next: ToolNext<'_>,
    ) -> Result<ToolOutput, ToolError> {
        next.run(inv, ctx).await
    }
}

fn small_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "city": {"type": "string", "minLength": 1, "maxLength": 100},
            "days": {"type": "integer", "minimum": 1, "maximum": 14},
            "units": {"enum": ["metric", "imperial"]}
        },
        "required": ["city"],
        "additionalProperties": false
    })
}

fn large_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "repo": {"type": "string", "pattern": "^[a-z0-9_.-]+/[a-z0-9_.-]+$"},
            "records": {"type": "array", "maxItems": 500, "items": {
                "type": "object",
                "properties": {
                    "id": {"type": "integer", "minimum": 0},
                    "title": {"type": "string", "maxLength": 200},
                    "labels": {"type": "array", "items": {"type": "string"}},
                    "state": {"enum": ["open", "closed"]},
                    "score": {"type": "number"}
                },
                "required": ["id", "title", "state"],
                "additionalProperties": false
            }}
        },
        "required": ["repo", "records"],
        "additionalProperties": false
    })
}

fn large_args() -> String {
    let records: Vec<Value> = (0..40)
        .map(|i| {
            json!({"id": i, "title": format!("Issue number {i} about the parser and the cache"),
                   "labels": ["bug", "p2", "area/registry"], "state": if i % 3 == 0 { "closed" } else { "open" },
                   "score": f64::from(i) * 1.5})
        })
        .collect();
    json!({"repo": "toolplane/toolplane", "records": records}).to_string()
}

struct Case {
    label: &'static str,
    call: ToolCall,
    validator: jsonschema::Validator,
    parsed: Value,
}

fn setup() -> (Executor, Vec<Case>) {
    let mut reg = ToolRegistry::new();
    let small = ToolSpec::new("weather.forecast", "Forecast.").with_input_schema(small_schema());
    let large = ToolSpec::new("github.issues_import", "Import.").with_input_schema(large_schema());
    reg.register(Arc::new(NoOp(small.clone()))).unwrap();
    reg.register(Arc::new(NoOp(large.clone()))).unwrap();
    let exec = Executor::builder(reg)
        .interceptor(Arc::new(PassThrough))
        .interceptor(Arc::new(PassThrough))
        .build()
        .unwrap();
    let compile = |s: &Value| {
        jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .with_pattern_options(jsonschema::PatternOptions::regex())
            .build(s)
            .unwrap()
    };
    let small_args = r#"{"city":"Paris","days":3,"units":"metric"}"#.to_string();
    let large_args = large_args();
    let cases = vec![
        Case {
            label: "small",
            parsed: serde_json::from_str(&small_args).unwrap(),
            call: ToolCall::new("c1", "weather__forecast", small_args),
            validator: compile(&small.input_schema),
        },
        Case {
            label: "large",
            parsed: serde_json::from_str(&large_args).unwrap(),
            call: ToolCall::new("c2", "github__issues_import", large_args),
            validator: compile(&large.input_schema),
        },
    ];
    (exec, cases)
}

fn criterion_pass(c: &mut Criterion, rt: &tokio::runtime::Runtime, exec: &Executor, cases: &[Case]) {
    let ctx = CallContext::new("bench");
    let mut g = c.benchmark_group("executor_overhead");
    for case in cases {
        g.bench_with_input(BenchmarkId::new("raw_validate", case.label), case, |b, case| {
            b.to_async(rt)
                .iter(|| async { black_box(case.validator.is_valid(black_box(&case.parsed))) })
        });
        g.bench_with_input(BenchmarkId::new("raw_parse_validate", case.label), case, |b, case| {
            b.to_async(rt).iter(|| async {
                let v: Value = serde_json::from_str(black_box(&case.call.arguments)).unwrap();
                black_box(case.validator.is_valid(&v))
            })
        });
        g.bench_with_input(BenchmarkId::new("executor", case.label), case, |b, case| {
            b.to_async(rt)
                .iter(|| async { black_box(exec.execute(black_box(&case.call), &ctx).await.unwrap()) })
        });
    }
    g.finish();
    let mut g = c.benchmark_group("argument_reader");
    let limits = ArgumentLimits::default();
    for case in cases {
        g.bench_with_input(BenchmarkId::new("serde_json_from_str", case.label), case, |b, case| {
            b.iter(|| black_box(serde_json::from_str::<Value>(black_box(&case.call.arguments)).unwrap()))
        });
        g.bench_with_input(BenchmarkId::new("parse_arguments", case.label), case, |b, case| {
            b.iter(|| black_box(parse_arguments(black_box(&case.call.arguments), &limits).unwrap()))
        });
    }
    g.finish();
}

fn percentiles(mut ns: Vec<u64>) -> (u64, u64) {
    ns.sort_unstable();
    let at = |q: f64| ns[((ns.len() as f64 - 1.0) * q) as usize];
    (at(0.50), at(0.99))
}

/// One call at a time, each timed alone, inside one runtime task.
fn percentile_pass(rt: &tokio::runtime::Runtime, exec: &Executor, cases: &[Case]) {
    const N: usize = 50_000;
    let ctx = CallContext::new("bench");
    println!("\npercentiles over {N} calls each (ns per call):");
    println!("{:<6} {:<20} {:>8} {:>8}", "args", "what", "p50", "p99");
    for case in cases {
        let mut raw = Vec::with_capacity(N);
        let mut parse = Vec::with_capacity(N);
        let mut reader = Vec::with_capacity(N);
        let mut full = Vec::with_capacity(N);
        let limits = ArgumentLimits::default();
        rt.block_on(async {
            for _ in 0..N {
                let t = Instant::now();
                black_box(case.validator.is_valid(black_box(&case.parsed)));
                raw.push(t.elapsed().as_nanos() as u64);
                let t = Instant::now();
                let v: Value = serde_json::from_str(black_box(&case.call.arguments)).unwrap();
                black_box(case.validator.is_valid(&v));
                parse.push(t.elapsed().as_nanos() as u64);
                let t = Instant::now();
                let v = parse_arguments(black_box(&case.call.arguments), &limits).unwrap();
                black_box(case.validator.is_valid(&v));
                reader.push(t.elapsed().as_nanos() as u64);
                let t = Instant::now();
                black_box(exec.execute(black_box(&case.call), &ctx).await.unwrap());
                full.push(t.elapsed().as_nanos() as u64);
            }
        });
        let (r50, r99) = percentiles(raw);
        let (p50, p99) = percentiles(parse);
        let (s50, s99) = percentiles(reader);
        let (e50, e99) = percentiles(full);
        println!("{:<6} {:<20} {:>8} {:>8}", case.label, "raw_validate", r50, r99);
        println!("{:<6} {:<20} {:>8} {:>8}", case.label, "raw_parse_validate", p50, p99);
        println!("{:<6} {:<20} {:>8} {:>8}", case.label, "strict_read_validate", s50, s99);
        println!("{:<6} {:<20} {:>8} {:>8}", case.label, "executor", e50, e99);
        println!(
            "{:<6} executor - raw_parse_validate at p50: {} ns; executor/raw_parse_validate: {:.2}x",
            case.label,
            e50 as i64 - p50 as i64,
            e50 as f64 / p50.max(1) as f64
        );
    }
}

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (exec, cases) = setup();
    let mut c = Criterion::default()
        .configure_from_args()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    criterion_pass(&mut c, &rt, &exec, &cases);
    c.final_summary();
    if !std::env::args().any(|a| a == "--test" || a == "--list") && std::env::var_os("SKIP_PERCENTILES").is_none() {
        percentile_pass(&rt, &exec, &cases);
    }
}
