#![allow(clippy::unwrap_used, clippy::panic, missing_docs)]
//! How much time does the agent loop add per step, beyond the provider and the tool?
//!
//! Both sides run the same 10-step conversation (9 tool-call turns, then an
//! answer) against a `ScriptedProvider` and a no-op tool:
//! - `bare`: a hand-written loop calling `provider.chat` and `tool.call` directly;
//! - `agent_loop`: `AgentLoop::run` with a `ToolBox` (argument parsing, schema
//!   validation, interceptor chain, limits, cancellation race, state bookkeeping).
//!
//! The difference divided by 10 is the loop's overhead per step. Criterion
//! reports the means; after it, a paired run prints p50/p99 of the per-step
//! overhead, since the question is about the tail.

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{BatchSize, Criterion, criterion_group};
use serde_json::{Value, json};
use toolplane_core::{
    CallContext, ChatProvider, ChatRequest, ChatResponse, Message, ScriptedProvider, Tool, ToolCall, ToolError,
    ToolOutput, ToolResult, ToolSpec, async_trait,
};
use toolplane_pipeline::{AgentLoop, LoopConfig, RunState, ToolBox};

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

fn noop() -> Arc<Noop> {
    Arc::new(Noop(ToolSpec::new("noop", "Does nothing.").with_input_schema(json!({
        "type": "object",
        "properties": {"n": {"type": "integer"}},
        "required": ["n"]
    }))))
}

fn scripted() -> Arc<ScriptedProvider> {
    let p = ScriptedProvider::new("scripted");
    for i in 0..STEPS - 1 {
        p.push(Ok(ChatResponse::tool_use(
            "scripted",
            "m",
            vec![ToolCall::new(format!("c{i}"), "noop", format!(r#"{{"n":{i}}}"#))],
        )));
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

async fn bare(provider: &ScriptedProvider, tool: &Noop, ctx: &CallContext) {
    let mut req = request().with_tools(vec![tool.spec().clone()]);
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

fn agent_over(provider: Arc<ScriptedProvider>, tools: &Arc<ToolBox>) -> AgentLoop {
    AgentLoop::new(provider, tools.clone()).with_config(LoopConfig {
        max_steps: 64,
        ..LoopConfig::default()
    })
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    let tool = noop();
    let tools = Arc::new(ToolBox::new().with_tool(tool.clone()).unwrap());
    let ctx = CallContext::new("bench");
    let mut group = c.benchmark_group("ten_steps");
    group.bench_function("bare_provider_and_tool", |b| {
        b.iter_batched(scripted, |p| rt.block_on(bare(&p, &tool, &ctx)), BatchSize::SmallInput)
    });
    group.bench_function("agent_loop", |b| {
        b.iter_batched(
            || agent_over(scripted(), &tools),
            |a| rt.block_on(agent(&a, &ctx)),
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

/// Paired runs, alternating, so both sides see the same machine state.
fn tail_report() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    let tool = noop();
    let tools = Arc::new(ToolBox::new().with_tool(tool.clone()).unwrap());
    let ctx = CallContext::new("bench");
    let runs = 5_000;
    let (mut bare_t, mut loop_t, mut overhead) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..runs {
        let p = scripted();
        let t = Instant::now();
        rt.block_on(bare(&p, &tool, &ctx));
        let b = t.elapsed();
        let a = agent_over(scripted(), &tools);
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
    println!("\nper step over {runs} paired runs of {STEPS} steps:");
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
    tail_report();
}
