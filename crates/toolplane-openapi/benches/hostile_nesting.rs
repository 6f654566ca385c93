//! "How long does a hostile, deeply nested description take to refuse?"
//!
//! Baseline in the same run: what the old loader did with JSON that serde_json
//! refused, namely hand it to the YAML parser, at only 2,000 levels (the cost
//! grows with the square of the depth: 50,000 levels took 181 s). Against it,
//! `parse_text` refusing 50,000 levels of JSON, YAML flow and YAML block nesting.

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;

fn nesting(c: &mut Criterion) {
    let old = format!("{}{}", "[".repeat(2_000), "]".repeat(2_000));
    let json = format!("{}{}", "[".repeat(50_000), "]".repeat(50_000));
    let flow = format!("a: {}1{}\n", "{a: ".repeat(50_000), "}".repeat(50_000));
    let block = format!("{}x\n", "- ".repeat(50_000));
    let mut g = c.benchmark_group("nesting");
    g.bench_function("baseline: YAML parser on 2,000 levels (the old fallback)", |b| {
        b.iter(|| serde_yaml_ng::from_str::<serde_yaml_ng::Value>(black_box(&old)).is_err())
    });
    for (name, text) in [("json", &json), ("yaml flow", &flow), ("yaml block", &block)] {
        g.bench_function(format!("parse_text refuses 50,000 levels: {name}"), |b| {
            b.iter(|| toolplane_openapi::parse_text(black_box(text), "deep").is_err())
        });
    }
    g.finish();
}

criterion_group!(benches, nesting);
criterion_main!(benches);
