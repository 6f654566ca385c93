//! What the `execute_tool` span costs on a tool call.
//!
//! One executor (a no-op tool, a 3-field schema), measured in one run:
//! - `no_subscriber`: no subscriber at all (the default for a library's
//!   users who do not use `tracing`); runs first, before any subscriber has
//!   ever been set, so callsite interest is the never-enabled fast path;
//! - `level_off`: a `Registry` with a `LevelFilter::OFF` layer (a subscriber
//!   that drops everything);
//! - `registry_spans`: a bare `Registry` (every span is created, its fields
//!   recorded and closed, nothing exported): an upper bound for a host
//!   that collects spans, before its exporter's own cost.
//!
//! Ratios against `no_subscriber` are what to read; run briefly:
//! `cargo bench -p toolplane-registry --bench tracing_overhead -- --warm-up-time 1 --measurement-time 3`.
#![allow(missing_docs, clippy::unwrap_used)]

use std::hint::black_box;
use std::sync::Arc;

use async_trait::async_trait;
use criterion::Criterion;
use serde_json::{Value, json};
use toolplane_core::{CallContext, Tool, ToolCall, ToolError, ToolOutput, ToolSpec};
use toolplane_registry::{Executor, ToolRegistry};
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::Registry;

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

fn main() {
    let spec = ToolSpec::new("weather.forecast", "Forecast.").with_input_schema(json!({
        "type": "object",
        "properties": {"city": {"type": "string"}, "days": {"type": "integer"}, "units": {"enum": ["metric", "imperial"]}},
        "required": ["city"]
    }));
    let exec = Executor::new(ToolRegistry::from_tools([Arc::new(NoOp(spec)) as _]).unwrap());
    let call = ToolCall::new("c1", "weather.forecast", r#"{"city":"Oslo","days":3,"units":"metric"}"#);
    let ctx = CallContext::new("bench");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut c = Criterion::default().configure_from_args();
    let mut group = c.benchmark_group("execute_tool_span");
    group.bench_function("no_subscriber", |b| {
        b.to_async(&rt)
            .iter(|| async { black_box(exec.execute(&call, &ctx).await.unwrap()) })
    });
    {
        let _guard = tracing::subscriber::set_default(Registry::default().with(LevelFilter::OFF));
        group.bench_function("level_off", |b| {
            b.to_async(&rt)
                .iter(|| async { black_box(exec.execute(&call, &ctx).await.unwrap()) })
        });
    }
    {
        let _guard = tracing::subscriber::set_default(Registry::default());
        group.bench_function("registry_spans", |b| {
            b.to_async(&rt)
                .iter(|| async { black_box(exec.execute(&call, &ctx).await.unwrap()) })
        });
    }
    group.finish();
    c.final_summary();
}
