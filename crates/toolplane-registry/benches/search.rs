//! How long does a keyword search over 10,000 tools take?
//!
//! `bm25` is `ToolRegistry::search` (top 10); `linear_scan` is the naive
//! baseline measured in the same run: lowercase substring matching of every
//! query word over every name and description, then a sort.
#![allow(missing_docs, clippy::unwrap_used)]

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use criterion::{BenchmarkId, Criterion};
use serde_json::Value;
use toolplane_core::{CallContext, Tool, ToolError, ToolOutput, ToolSpec};
use toolplane_registry::ToolRegistry;

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

const NAMESPACES: &[&str] = &[
    "github",
    "gitlab",
    "jira",
    "slack",
    "stripe",
    "shopify",
    "notion",
    "linear",
    "aws",
    "gcp",
    "azure",
    "salesforce",
    "hubspot",
    "zendesk",
    "twilio",
    "sendgrid",
    "datadog",
    "pagerduty",
    "sentry",
    "figma",
];
const VERBS: &[&str] = &[
    "list", "get", "create", "update", "delete", "search", "archive", "export", "import", "merge", "assign", "close",
];
const NOUNS: &[&str] = &[
    "issue",
    "comment",
    "user",
    "team",
    "project",
    "invoice",
    "payment",
    "customer",
    "order",
    "message",
    "channel",
    "file",
    "page",
    "database",
    "alert",
    "incident",
    "dashboard",
    "metric",
    "label",
    "milestone",
    "release",
    "branch",
    "commit",
    "ticket",
    "webhook",
    "subscription",
    "product",
    "refund",
    "report",
    "bucket",
    "instance",
    "deployment",
];
const WORDS: &[&str] = &[
    "returns",
    "the",
    "matching",
    "records",
    "for",
    "a",
    "given",
    "account",
    "with",
    "pagination",
    "and",
    "filters",
    "by",
    "status",
    "date",
    "owner",
    "in",
    "workspace",
    "optional",
    "fields",
    "sorted",
    "newest",
    "first",
    "limit",
];

fn registry(n: usize) -> ToolRegistry {
    let mut reg = ToolRegistry::new();
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = |m: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % m as u64) as usize
    };
    let mut i = 0;
    while reg.len() < n {
        let ns = NAMESPACES[next(NAMESPACES.len())];
        let verb = VERBS[next(VERBS.len())];
        let noun = NOUNS[next(NOUNS.len())];
        let name = format!("{ns}.{verb}_{noun}_v{i}");
        let mut desc = format!("{} {noun}s in {ns}.", verb[..1].to_uppercase() + &verb[1..]);
        for _ in 0..12 {
            desc.push(' ');
            desc.push_str(WORDS[next(WORDS.len())]);
        }
        i += 1;
        let _ = reg.register(Arc::new(NoOp(ToolSpec::new(name, desc))));
    }
    reg
}

fn linear_scan<'a>(docs: &'a [(String, String)], query: &str, k: usize) -> Vec<&'a str> {
    let words: Vec<String> = query.split_whitespace().map(str::to_lowercase).collect();
    let mut scored: Vec<(usize, &str)> = docs
        .iter()
        .map(|(name, text)| {
            (
                words.iter().filter(|w| text.contains(w.as_str())).count(),
                name.as_str(),
            )
        })
        .filter(|(s, _)| *s > 0)
        .collect();
    scored.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(b.1)));
    scored.into_iter().take(k).map(|(_, n)| n).collect()
}

fn main() {
    let reg = registry(10_000);
    let docs: Vec<(String, String)> = reg
        .specs()
        .into_iter()
        .map(|s| (s.name.clone(), format!("{} {}", s.name, s.description).to_lowercase()))
        .collect();
    let queries = [
        "create an invoice for a customer",
        "github issue comment",
        "refund payment stripe",
        "zzz nothing",
    ];
    let mut c = Criterion::default()
        .configure_from_args()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    let mut g = c.benchmark_group("search_10k_tools");
    for q in queries {
        g.bench_with_input(BenchmarkId::new("bm25", q), q, |b, q| {
            b.iter(|| black_box(reg.search(black_box(q), 10)))
        });
        g.bench_with_input(BenchmarkId::new("linear_scan", q), q, |b, q| {
            b.iter(|| black_box(linear_scan(&docs, black_box(q), 10)))
        });
    }
    g.finish();
    c.final_summary();
}
