#![allow(clippy::unwrap_used, clippy::panic, missing_docs)]
//! How long does building a request body with many tools take, now that
//! each tool is shaped by its vendor's toolplane-schema profile and given a
//! wire name?
//!
//! Input: 128 namespaced tools (`svc3.op_17`), each with ten properties of
//! mixed types, an enum, a nested object and a `$ref` into `$defs`; one user
//! message.
//!
//! - `baseline_clone`: the tools' schemas cloned into the `tools` array as
//!   they are (what the providers did before the profiles: names and schemas
//!   sent untouched).
//! - `openai`, `openai_strict`, `mistral` (`$ref`s inlined), `anthropic`:
//!   the provider's `request_body`.
//!
//! After criterion, a paired run prints each as a ratio to the baseline.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group};
use serde_json::{Value, json};
use toolplane_core::{ChatRequest, Message, ToolSpec};
use toolplane_providers::{AnthropicProvider, MistralProvider, OpenAiProvider, ProviderConfig};

fn tools(n: usize) -> Vec<ToolSpec> {
    (0..n)
        .map(|i| {
            ToolSpec::new(format!("svc{}.op_{i}", i % 7), "Does one thing to a resource.").with_input_schema(json!({
                "type": "object",
                "properties": {
                    "id": {"type": "string", "description": "The resource id."},
                    "limit": {"type": "integer", "minimum": 1, "maximum": 100, "default": 30},
                    "state": {"type": "string", "enum": ["open", "closed", "all"]},
                    "labels": {"type": "array", "items": {"type": "string"}},
                    "since": {"type": "string", "format": "date-time"},
                    "draft": {"type": "boolean"},
                    "owner": {"$ref": "#/$defs/user"},
                    "body": {"type": "string", "maxLength": 65536},
                    "page": {"type": "integer"},
                    "meta": {"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "number"}}},
                },
                "required": ["id"],
                "$defs": {"user": {"type": "object", "properties": {"login": {"type": "string"}, "id": {"type": "integer"}}, "required": ["login"]}},
            }))
        })
        .collect()
}

fn baseline(req: &ChatRequest) -> Value {
    let tools: Vec<Value> = req
        .tools
        .iter()
        .map(|t| json!({"type": "function", "function": {"name": t.name, "description": t.description, "parameters": t.input_schema}}))
        .collect();
    json!({"model": req.model, "messages": [{"role": "user", "content": "hi"}], "tools": tools})
}

type Build = Box<dyn Fn(&ChatRequest) -> Value>;

fn cases() -> Vec<(&'static str, Build)> {
    let cfg = || ProviderConfig::new("http://127.0.0.1:9").with_api_key("k-0123456789");
    let openai = OpenAiProvider::new(cfg()).unwrap();
    let strict = OpenAiProvider::new(cfg().with_strict_tools(true)).unwrap();
    let mistral = MistralProvider::new(cfg()).unwrap();
    let anthropic = AnthropicProvider::new(cfg()).unwrap();
    vec![
        (
            "openai",
            Box::new(move |r: &ChatRequest| openai.request_body(r, false)) as Build,
        ),
        (
            "openai_strict",
            Box::new(move |r: &ChatRequest| strict.request_body(r, false)),
        ),
        (
            "mistral",
            Box::new(move |r: &ChatRequest| mistral.request_body(r, false)),
        ),
        (
            "anthropic",
            Box::new(move |r: &ChatRequest| anthropic.request_body(r, false)),
        ),
    ]
}

fn request() -> ChatRequest {
    ChatRequest::new("m", vec![Message::user("hi")]).with_tools(tools(128))
}

fn bench(c: &mut Criterion) {
    let req = request();
    let mut g = c.benchmark_group("request_body_128_tools");
    g.bench_function("baseline_clone", |b| b.iter(|| black_box(baseline(black_box(&req)))));
    for (name, build) in cases() {
        g.bench_function(name, |b| b.iter(|| black_box(build(black_box(&req)))));
    }
    g.finish();
}

criterion_group!(benches, bench);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    let req = request();
    for (name, build) in cases() {
        let (mut t_case, mut t_base, mut rounds) = (Duration::ZERO, Duration::ZERO, 0u32);
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(2) {
            let t = Instant::now();
            black_box(build(black_box(&req)));
            t_case += t.elapsed();
            let t = Instant::now();
            black_box(baseline(black_box(&req)));
            t_base += t.elapsed();
            rounds += 1;
        }
        let per = |d: Duration| d.as_secs_f64() * 1e6 / f64::from(rounds);
        println!(
            "{name}: {:.0} µs per body with 128 tools, baseline clone {:.0} µs, ratio {:.2}",
            per(t_case),
            per(t_base),
            t_case.as_secs_f64() / t_base.as_secs_f64()
        );
    }
}
