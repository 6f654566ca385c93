//! The toolplane quickstart: `cargo run --example quickstart`.
//!
//! Offline and without keys it:
//! 1. serves a small Tasks API (`examples/data/tasks-api.yaml`) on 127.0.0.1;
//! 2. converts that OpenAPI description into tools that call it over HTTP;
//! 3. puts them in a registry behind a validating executor with permissions,
//!    a rate limit and a tamper-evident audit log (a file sink with fsync);
//! 4. routes the model calls through the mixture-of-experts router, with
//!    metrics recorded for every call and a token budget per principal;
//! 5. runs the tool-calling loop twice: a plain request, and one that needs a
//!    human's approval (the run pauses, is approved, and resumes);
//! 6. prints the tool calls, the answers, the router's reasons, a metrics
//!    table, and the audit log verified from disk.
//!
//! With `OPENAI_API_KEY` or `ANTHROPIC_API_KEY` set, the router's experts are
//! the real providers instead of the scripted ones. The assembly lives in
//! `stack.rs`; the end-to-end test in `crates/toolplane/tests` uses it too.

mod demo_model;
mod stack;
mod tasks_server;

use std::collections::HashMap;
use std::error::Error;
use std::sync::Arc;
use std::time::Duration;

use toolplane::metrics::MetricsQuery;
use toolplane::pipeline::{ApprovalDecision, RunEvent, RunOutcome, RunState};
use toolplane::security::audit::verify_dir;
use toolplane::vocab::{CallContext, ChatRequest, Message, Principal};

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let addr = tasks_server::serve().await?;
    println!("Tasks API listening on http://{addr}/v1\n");

    let (events_tx, mut events_rx) = tokio::sync::mpsc::unbounded_channel();
    let printer = tokio::spawn(async move {
        while let Some(event) = events_rx.recv().await {
            match event {
                RunEvent::ToolCallStarted { call, .. } => println!("  -> {}({})", call.name, call.arguments),
                RunEvent::ToolCallFinished {
                    name,
                    outcome,
                    duration_us,
                    ..
                } => {
                    println!("  <- {name}: {outcome} ({:.1} ms)", duration_us as f64 / 1000.0)
                }
                _ => {}
            }
        }
    });
    let metrics = stack::metrics_collector()?;
    let experts = stack::experts(&metrics, true)?;
    let audit_dir = stack::audit_dir("quickstart");
    let stack = stack::build(addr, &audit_dir, experts, metrics, Some(Arc::new(events_tx)))?;

    println!("Converted {} operations into tools:", stack.tool_names.len());
    for (name, method, path) in &stack.tool_names {
        println!("  {name:<20} {method} {path}");
    }
    println!(
        "The executor validates calls to {} tools.",
        stack.executor.specs().len()
    );
    if stack.real_providers {
        println!("\nUsing real providers (API keys found).\n");
    } else {
        println!("\nNo OPENAI_API_KEY or ANTHROPIC_API_KEY: using two SCRIPTED experts (not real models).\n");
    }
    let ada = Principal::new("ada").with_role("member");

    println!("Run 1: create a task, then report on the project");
    let request = ChatRequest::new(
        "",
        vec![Message::user(
            "Add a task 'Write the release notes' to project docs, then tell me where docs stands.",
        )],
    )
    .with_task_type("tool_use");
    let ctx = CallContext::new("run-1").with_principal(ada.clone());
    let first = stack.agent.run(RunState::new("run-1", request), &ctx).await?;
    println!("Answer: {}\n", first.answer().unwrap_or_default());

    println!("Run 2: a delete, which the policy holds for a human");
    let request =
        ChatRequest::new("", vec![Message::user("Delete task 1, it was a mistake.")]).with_task_type("tool_use");
    let ctx = CallContext::new("run-2").with_principal(ada.clone());
    let mut result = stack.agent.run(RunState::new("run-2", request), &ctx).await?;
    if let RunOutcome::NeedsApproval(pending) = &result.outcome {
        let mut decisions = HashMap::new();
        for p in pending {
            let request = p
                .request
                .as_ref()
                .and_then(|d| d.get("approval"))
                .ok_or("no approval request")?;
            let id = request["id"].as_str().ok_or("approval request without an id")?;
            println!("  paused: {} needs approval ({})", p.call.name, p.message);
            // A real host asks a person here; the state is serializable and can wait.
            let saved = result.state.to_json()?;
            let token = stack.approvals.approve(id, Duration::from_secs(300))?;
            println!(
                "  approved by a human; resuming from {} bytes of saved state",
                saved.len()
            );
            decisions.insert(p.call.id.clone(), ApprovalDecision::Approve { token });
        }
        result = stack.agent.resume(result.state, &decisions, &ctx).await?;
    }
    println!("Answer: {}\n", result.answer().unwrap_or_default());

    // What happened.
    let stack::Stack {
        agent,
        audit,
        metrics,
        router,
        ..
    } = stack;
    drop(agent);
    let _ = printer.await;
    let dispatches = router.recent_dispatches();
    println!("What the router did with each of its {} calls:", dispatches.len());
    for d in &dispatches {
        println!("{d}");
    }
    let next = ChatRequest::new("", vec![Message::user("next request")]).with_task_type("tool_use");
    println!(
        "\nHow it would route the next tool_use request, and why:\n{}",
        router.explain(&next)
    );
    println!("The router spent ${:.6} in all.", router.spent_usd());
    let report = metrics.snapshot(&MetricsQuery::last(Duration::from_secs(3600)))?;
    println!("\nMetrics:\n{report}");

    audit.close();
    let verified = verify_dir(&audit_dir)?;
    println!("Audit log {}: {verified}", audit_dir.display());
    Ok(())
}
