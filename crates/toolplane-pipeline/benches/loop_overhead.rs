#![allow(clippy::unwrap_used, clippy::panic, missing_docs)]
//! How much time does the agent loop add per step, beyond the provider and the tool?
//!
//! Both sides run the same 10-step conversation (9 tool-call turns, then an
//! answer) against a `ScriptedProvider` and a no-op tool:
//! - `bare`: a hand-written loop calling `provider.chat` and `tool.call` directly;
//! - `agent_loop`: `AgentLoop::run` with the registry's `Executor` (argument
//!   parsing, schema validation, interceptor chain, limits, cancellation race,
//!   state bookkeeping).
//!
//! The difference divided by 10 is the loop's overhead per step. Two shapes:
//! one tool and one call per step; twenty tools and three parallel calls per
//! step. Criterion reports the means; after it, a paired run prints p50/p99
//! of the per-step overhead, since the question is about the tail.
//!
//! The cost of the loop's `tracing` spans (`invoke_agent`, `chat`,
//! `execute_tool`): the paired runs go first with no subscriber (what a host
//! that does not use `tracing` gets), then again under a subscriber that
//! drops everything (`Registry` + `LevelFilter::OFF`). Build the bench a
//! second time with the spans compiled out to compare against "no spans":
//! `cargo bench -p toolplane-pipeline --bench loop_overhead --features tracing/max_level_off`.

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{BatchSize, Criterion, criterion_group};
use serde_json::{Value, json};
use toolplane_core::{
    CallContext, ChatProvider, ChatRequest, ChatResponse, Message, ScriptedProvider, Tool, ToolCall, ToolError,
    ToolOutput, ToolResult, ToolSpec, async_trait,
};
use toolplane_pipeline::{AgentLoop, LoopConfig, RunState};
use toolplane_registry::Executor;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::Registry;

const STEPS: usize = 10;

#[derive(Debug)]
struct Noop(ToolSpec);

#[async_trait]
impl Tool for Noop {
    fn spec(&self) -> &ToolSpec {
        &self.0
    }
    async fn call(&self, _args: &Value, _ctx: &CallContext) -> Result<ToolOutput, ToolError> {
        Ok(ToolOutput::text("ok"))
    }
}

#[derive(Debug, Clone, Copy)]
struct Shape {
    tools: usize,
    calls: usize,
}

impl Shape {
    fn label(self) -> String {
        format!("{}_tools_{}_calls", self.tools, self.calls)
    }
}

fn noop(name: &str) -> Arc<Noop> {
    Arc::new(Noop(ToolSpec::new(name, "Does nothing.").with_input_schema(json!({
        "type": "object",
        "properties": {"n": {"type": "integer"}, "note": {"type": "string", "maxLength": 100}},
        "required": ["n"],
        "additionalProperties": false
    }))))
}

fn tool_set(shape: Shape) -> Vec<Arc<Noop>> {
    (0..shape.tools).map(|i| noop(&format!("noop_{i}"))).collect()
}

fn scripted(shape: Shape) -> Arc<ScriptedProvider> {
    let p = ScriptedProvider::new("scripted");
    for i in 0..STEPS - 1 {
        let calls = (0..shape.calls)
            .map(|j| {
                ToolCall::new(
                    format!("c{i}_{j}"),
                    format!("noop_{}", j % shape.tools),
                    format!(r#"{{"n":{i}}}"#),
                )
            })
            .collect();
        p.push(Ok(ChatResponse::tool_use("scripted", "m", calls)));
    }
    p.push(Ok(ChatResponse::new(
        "scripted",
        "m",
        Message::assistant("done"),
        toolplane_core::StopReason::EndTurn,
    )));
    Arc::new(p)
}

fn request() -> ChatRequest {
    ChatRequest::new("m", vec![Message::system("You are a bench."), Message::user("go")])
}

async fn bare(provider: &ScriptedProvider, tools: &[Arc<Noop>], ctx: &CallContext) {
    let mut req = request().with_tools(tools.iter().map(|t| t.spec().clone()).collect());
    loop {
        let resp = provider.chat(&req, ctx).await.unwrap();
        req.messages.push(resp.message.clone());
        let calls: Vec<ToolCall> = resp.tool_calls().cloned().collect();
        if calls.is_empty() {
            black_box(resp);
            return;
        }
        let mut results = Vec::new();
        for c in &calls {
            let tool = tools.iter().find(|t| t.spec().name == c.name).unwrap();
            let args: Value = serde_json::from_str(&c.arguments).unwrap();
            let out = tool.call(&args, ctx).await.unwrap();
            results.push(ToolResult::ok(c.id.clone(), out.to_model_text()));
        }
        req.messages.push(Message::tool_results(results));
    }
}

async fn agent(agent: &AgentLoop, ctx: &CallContext) {
    let result = agent.run(RunState::new("bench", request()), ctx).await.unwrap();
    assert_eq!(result.state.steps as usize, STEPS);
    black_box(result);
}

fn agent_over(provider: Arc<ScriptedProvider>, tools: &Arc<Executor>) -> AgentLoop {
    AgentLoop::new(provider, tools.clone()).with_config(LoopConfig {
        max_steps: 64,
        ..LoopConfig::default()
    })
}

const SHAPES: [Shape; 2] = [Shape { tools: 1, calls: 1 }, Shape { tools: 20, calls: 3 }];

fn toolbox(tools: &[Arc<Noop>]) -> Arc<Executor> {
    Arc::new(Executor::from_tools(tools.iter().map(|t| t.clone() as Arc<dyn Tool>)).unwrap())
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    let ctx = CallContext::new("bench");
    let mut group = c.benchmark_group("ten_steps");
    for shape in SHAPES {
        let tools = tool_set(shape);
        let boxed = toolbox(&tools);
        group.bench_function(format!("bare_provider_and_tool/{}", shape.label()), |b| {
            b.iter_batched(
                || scripted(shape),
                |p| rt.block_on(bare(&p, &tools, &ctx)),
                BatchSize::SmallInput,
            )
        });
        group.bench_function(format!("agent_loop/{}", shape.label()), |b| {
            b.iter_batched(
                || agent_over(scripted(shape), &boxed),
                |a| rt.block_on(agent(&a, &ctx)),
                BatchSize::SmallInput,
            )
        });
    }
    group.finish();
}

/// Paired runs, alternating, so both sides see the same machine state.
fn tail_report(shape: Shape, subscriber: &str) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    let tools = tool_set(shape);
    let boxed = toolbox(&tools);
    let ctx = CallContext::new("bench");
    let runs = 5_000;
    let (mut bare_t, mut loop_t, mut overhead) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..runs {
        let p = scripted(shape);
        let t = Instant::now();
        rt.block_on(bare(&p, &tools, &ctx));
        let b = t.elapsed();
        let a = agent_over(scripted(shape), &boxed);
        let t = Instant::now();
        rt.block_on(agent(&a, &ctx));
        let l = t.elapsed();
        bare_t.push(b / STEPS as u32);
        loop_t.push(l / STEPS as u32);
        overhead.push(l.saturating_sub(b) / STEPS as u32);
    }
    let pct = |v: &mut Vec<Duration>, q: f64| {
        v.sort();
        v[((v.len() as f64 - 1.0) * q) as usize]
    };
    println!(
        "\n{} ({subscriber}): per step over {runs} paired runs of {STEPS} steps:",
        shape.label()
    );
    println!(
        "  bare provider+tool  p50 {:>9.2?}  p99 {:>9.2?}",
        pct(&mut bare_t, 0.5),
        pct(&mut bare_t, 0.99)
    );
    println!(
        "  agent loop          p50 {:>9.2?}  p99 {:>9.2?}",
        pct(&mut loop_t, 0.5),
        pct(&mut loop_t, 0.99)
    );
    println!(
        "  loop overhead       p50 {:>9.2?}  p99 {:>9.2?}  (target p99 < 50µs)",
        pct(&mut overhead, 0.5),
        pct(&mut overhead, 0.99)
    );
}

criterion_group!(benches, bench);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    let spans = if tracing::level_filters::STATIC_MAX_LEVEL == LevelFilter::OFF {
        "spans compiled out"
    } else {
        "spans compiled in"
    };
    for shape in SHAPES {
        tail_report(shape, &format!("{spans}, no subscriber"));
    }
    tracing::subscriber::set_global_default(Registry::default().with(LevelFilter::OFF)).unwrap();
    for shape in SHAPES {
        tail_report(shape, &format!("{spans}, a subscriber dropping everything"));
    }
}
