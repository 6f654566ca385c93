//! Load and convert the full GitHub REST description (13 MB JSON) against
//! serde_json parsing the same bytes, in the same run.
//!
//! `cargo bench -p toolplane-openapi --bench github_spec` (needs
//! `scripts/fetch-corpora.sh` first; skips with a message otherwise).

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::Value;
use toolplane_openapi::{ConvertOptions, Converter, OpenApiSpec};
use toolplane_schema::Profile;

fn bench(c: &mut Criterion) {
    let Some(dir) = toolplane_testkit::corpus_dir("octokit-openapi-23.0.2") else {
        return;
    };
    let Ok(text) = std::fs::read_to_string(dir.join("generated/api.github.com.json")) else {
        eprintln!("skipped: api.github.com.json is not readable");
        return;
    };
    let converter = Converter::new(ConvertOptions::default());
    let mut g = c.benchmark_group("github_spec");
    g.sample_size(10);
    g.bench_function("serde_json_parse (baseline)", |b| {
        b.iter(|| black_box(serde_json::from_str::<Value>(black_box(&text)).ok()))
    });
    g.bench_function("load", |b| {
        b.iter(|| black_box(OpenApiSpec::from_str(black_box(&text)).ok()))
    });
    g.bench_function("load_and_convert", |b| {
        b.iter(|| {
            let spec = OpenApiSpec::from_str(black_box(&text)).ok();
            black_box(spec.map(|s| converter.convert(&s).tools.len()))
        })
    });
    if let Ok(spec) = OpenApiSpec::from_str(&text) {
        let conversion = converter.convert(&spec);
        g.bench_function("export_openai_strict", |b| {
            b.iter(|| black_box(conversion.export(Profile::OpenAiStrict).into_tools_field()))
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
