#![allow(clippy::unwrap_used, clippy::panic)]
//! The agent loop against a scripted provider: several steps, parallel calls,
//! repair of invalid arguments, limits, cancellation, events, and approvals
//! that pause and resume across serialization.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use toolplane_core::{
    ApprovalToken, CallContext, ChatProvider, ChatRequest, ContentPart, Message, Price, Role, ScriptedProvider, Tool,
    ToolAnnotations, ToolCall, ToolError, ToolErrorKind, ToolInterceptor, ToolInvocation, ToolNext, ToolOutput,
    ToolSpec, async_trait,
};
use toolplane_pipeline::{AgentLoop, ApprovalDecision, LoopConfig, RunEvent, RunOutcome, RunState, StopCause};
use toolplane_registry::{Executor, ToolRegistry};

/// Echoes `text`; records every call it runs.
#[derive(Debug)]
struct Echo {
    spec: ToolSpec,
    seen: Mutex<Vec<Value>>,
}

impl Echo {
    fn new(name: &str) -> Arc<Self> {
        Arc::new(Self {
            spec: ToolSpec::new(name, "Echoes text.").with_input_schema(json!({
                "type": "object",
                "properties": {"text": {"type": "string"}},
                "required": ["text"],
                "additionalProperties": false
            })),
            seen: Mutex::new(Vec::new()),
        })
    }
}

#[async_trait]
impl Tool for Echo {
    fn spec(&self) -> &ToolSpec {
        &self.spec
    }
    async fn call(&self, args: &Value, _ctx: &CallContext) -> Result<ToolOutput, ToolError> {
        self.seen.lock().unwrap().push(args.clone());
        Ok(ToolOutput::text(format!("echo: {}", args["text"].as_str().unwrap())))
    }
}

/// Waits on a shared barrier, so two calls finish only if they run at the same time;
/// then sleeps `delay_ms`, so the first call can finish last.
#[derive(Debug)]
struct Rendezvous {
    spec: ToolSpec,
    barrier: Arc<tokio::sync::Barrier>,
}

#[async_trait]
impl Tool for Rendezvous {
    fn spec(&self) -> &ToolSpec {
        &self.spec
    }
    async fn call(&self, args: &Value, _ctx: &CallContext) -> Result<ToolOutput, ToolError> {
        self.barrier.wait().await;
        tokio::time::sleep(Duration::from_millis(args["delay_ms"].as_u64().unwrap_or(0))).await;
        Ok(ToolOutput::text(format!(
            "done {}",
            args["label"].as_str().unwrap_or("")
        )))
    }
}

/// Sleeps far longer than any test waits.
#[derive(Debug)]
struct Slow(ToolSpec, Arc<AtomicUsize>);

#[async_trait]
impl Tool for Slow {
    fn spec(&self) -> &ToolSpec {
        &self.0
    }
    async fn call(&self, _args: &Value, _ctx: &CallContext) -> Result<ToolOutput, ToolError> {
        self.1.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_secs(30)).await;
        Ok(ToolOutput::text("too late"))
    }
}

/// A permission policy in the shape of toolplane-security's: destructive tools
/// need a token bound to the exact tool and arguments.
#[derive(Debug, Default)]
struct AskForDestructive {
    issued: Mutex<Vec<String>>,
}

fn token_for(tool: &str, args: &Value) -> String {
    format!("approved:{tool}:{args}")
}

#[async_trait]
impl ToolInterceptor for AskForDestructive {
    async fn intercept(
        &self,
        inv: &ToolInvocation<'_>,
        ctx: &CallContext,
        next: ToolNext<'_>,
    ) -> Result<ToolOutput, ToolError> {
        if inv.spec.annotations.is_destructive() {
            let expected = token_for(&inv.spec.name, inv.args);
            match ctx.extensions.get::<ApprovalToken>() {
                Some(t) if t.0 == expected => {}
                _ => {
                    self.issued.lock().unwrap().push(expected.clone());
                    return Err(
                        ToolError::new(ToolErrorKind::ApprovalRequired, "deleting needs a human")
                            .with_details(json!({"approval_id": format!("ap-{}", inv.call.id), "tool": inv.spec.name})),
                    );
                }
            }
        }
        next.run(inv, ctx).await
    }
}

fn destructive_echo(name: &str) -> Arc<Echo> {
    let mut e = Echo::new(name);
    Arc::get_mut(&mut e).unwrap().spec.annotations = ToolAnnotations {
        destructive: Some(true),
        ..Default::default()
    };
    e
}

fn state(prompt: &str) -> RunState {
    RunState::new("run-1", ChatRequest::new("test-model", vec![Message::user(prompt)]))
}

fn last_tool_results(req: &ChatRequest) -> Vec<(String, String, bool)> {
    let m = req.messages.iter().rev().find(|m| m.role == Role::Tool).unwrap();
    m.tool_call_results()
        .map(|r| (r.call_id.clone(), r.content.clone(), r.is_error))
        .collect()
}

#[tokio::test]
async fn several_steps_then_an_answer() {
    let echo = Echo::new("echo");
    let provider = Arc::new(
        ScriptedProvider::new("scripted")
            .with_tool_calls(vec![ToolCall::new("c1", "echo", r#"{"text":"one"}"#)])
            .with_tool_calls(vec![ToolCall::new("c2", "echo", r#"{"text":"two"}"#)])
            .with_text("Both echoed."),
    );
    let tools = Executor::from_tools([echo.clone() as Arc<dyn toolplane_core::Tool>]).unwrap();
    let agent = AgentLoop::new(provider.clone(), Arc::new(tools));
    let result = agent.run(state("echo twice"), &CallContext::new("r")).await.unwrap();

    assert_eq!(result.answer().as_deref(), Some("Both echoed."));
    assert_eq!(result.state.steps, 3);
    assert_eq!(result.state.usage.total_tokens(), 45);
    assert_eq!(
        *echo.seen.lock().unwrap(),
        [json!({"text": "one"}), json!({"text": "two"})]
    );
    // user, assistant(call), tool, assistant(call), tool, assistant(text)
    let roles: Vec<Role> = result.state.request.messages.iter().map(|m| m.role).collect();
    use Role::*;
    assert_eq!(roles, [User, Assistant, Tool, Assistant, Tool, Assistant]);
    let requests = provider.requests();
    assert_eq!(requests.len(), 3);
    assert_eq!(requests[0].tools[0].name, "echo", "the tools are offered");
    assert_eq!(
        last_tool_results(&requests[2]),
        [("c2".into(), "echo: two".into(), false)]
    );
}

#[tokio::test]
async fn parallel_calls_run_together_and_results_keep_call_order() {
    let barrier = Arc::new(tokio::sync::Barrier::new(3));
    let tool = Arc::new(Rendezvous {
        spec: ToolSpec::new("meet", "Meets others."),
        barrier,
    });
    let provider = Arc::new(
        ScriptedProvider::new("scripted")
            .with_tool_calls(vec![
                ToolCall::new("a", "meet", r#"{"label":"a","delay_ms":60}"#),
                ToolCall::new("b", "meet", r#"{"label":"b","delay_ms":0}"#),
                ToolCall::new("c", "meet", r#"{"label":"c","delay_ms":20}"#),
            ])
            .with_text("met"),
    );
    let agent = AgentLoop::new(
        provider.clone(),
        Arc::new(Executor::from_tools([tool as Arc<dyn Tool>]).unwrap()),
    );
    // Sequential execution would wait on the three-party barrier forever.
    let result = tokio::time::timeout(
        Duration::from_secs(10),
        agent.run(state("meet"), &CallContext::new("r")),
    )
    .await
    .expect("the calls ran concurrently")
    .unwrap();
    assert_eq!(result.answer().as_deref(), Some("met"));
    let results = last_tool_results(&provider.requests()[1]);
    let ids: Vec<&str> = results.iter().map(|r| r.0.as_str()).collect();
    assert_eq!(ids, ["a", "b", "c"], "results in call order, though `a` finished last");
    assert_eq!(results[0].1, "done a");
}

#[tokio::test]
async fn bounded_parallelism_of_one_runs_calls_in_sequence() {
    // With a two-party barrier and one call at a time, the first call would block forever;
    // here the barrier is of one, and the order of side effects is the call order.
    let echo = Echo::new("echo");
    let provider = Arc::new(
        ScriptedProvider::new("scripted")
            .with_tool_calls(vec![
                ToolCall::new("1", "echo", r#"{"text":"x"}"#),
                ToolCall::new("2", "echo", r#"{"text":"y"}"#),
            ])
            .with_text("ok"),
    );
    let agent = AgentLoop::new(
        provider,
        Arc::new(Executor::from_tools([echo.clone() as Arc<dyn Tool>]).unwrap()),
    )
    .with_config(LoopConfig {
        max_parallel_tools: 1,
        ..LoopConfig::default()
    });
    agent.run(state("go"), &CallContext::new("r")).await.unwrap();
    assert_eq!(*echo.seen.lock().unwrap(), [json!({"text": "x"}), json!({"text": "y"})]);
}

#[tokio::test]
async fn invalid_arguments_go_back_to_the_model_which_repairs_them() {
    let echo = Echo::new("echo");
    let provider = Arc::new(
        ScriptedProvider::new("scripted")
            .with_tool_calls(vec![ToolCall::new("bad", "echo", r#"{"text": 5, "extra": true}"#)])
            .with_tool_calls(vec![ToolCall::new("worse", "ecko", r#"{"text":"hi"}"#)])
            .with_tool_calls(vec![ToolCall::new("good", "echo", r#"{"text":"hi"}"#)])
            .with_text("fixed"),
    );
    let agent = AgentLoop::new(
        provider.clone(),
        Arc::new(Executor::from_tools([echo.clone() as Arc<dyn Tool>]).unwrap()),
    );
    let result = agent.run(state("echo hi"), &CallContext::new("r")).await.unwrap();
    assert_eq!(result.answer().as_deref(), Some("fixed"));
    assert_eq!(result.state.repairs, 2);
    assert_eq!(
        echo.seen.lock().unwrap().len(),
        1,
        "the tool ran only with valid arguments"
    );

    let requests = provider.requests();
    let (id, text, is_error) = &last_tool_results(&requests[1])[0];
    assert_eq!(id, "bad");
    assert!(is_error);
    assert!(text.starts_with("error (invalid_arguments)"), "{text}");
    assert!(text.contains("/text"), "names the place: {text}");
    assert!(text.contains("extra"), "names the unexpected property: {text}");
    assert!(text.contains("violations"), "structured details too: {text}");
    let (_, text, _) = &last_tool_results(&requests[2])[0];
    assert!(
        text.contains("no tool is named `ecko`") && text.contains("echo"),
        "{text}"
    );
}

#[tokio::test]
async fn the_repair_budget_stops_a_model_that_keeps_erring() {
    let provider = Arc::new(
        ScriptedProvider::new("scripted")
            .with_tool_calls(vec![ToolCall::new("1", "echo", "{not json")])
            .with_tool_calls(vec![ToolCall::new("2", "echo", "{}")])
            .with_text("never reached"),
    );
    let agent = AgentLoop::new(
        provider.clone(),
        Arc::new(Executor::from_tools([Echo::new("echo") as Arc<dyn Tool>]).unwrap()),
    )
    .with_config(LoopConfig {
        repair_budget: 1,
        ..LoopConfig::default()
    });
    let result = agent.run(state("go"), &CallContext::new("r")).await.unwrap();
    assert_eq!(result.outcome, RunOutcome::Stopped(StopCause::RepairBudget));
    assert_eq!(result.state.repairs, 2);
    assert_eq!(provider.remaining(), 1);
    let (_, text, _) = &last_tool_results(&result.state.request)[0];
    assert!(text.contains("required"), "{text}");
    let first = &provider.requests()[1];
    let bad_json = &last_tool_results(first)[0].1;
    assert!(
        bad_json.contains("not valid JSON") && bad_json.contains("line 1 column"),
        "{bad_json}"
    );
}

fn endless_tool_calls(n: usize) -> Arc<ScriptedProvider> {
    let p = ScriptedProvider::new("scripted");
    for i in 0..n {
        p.push(Ok(toolplane_core::ChatResponse::tool_use(
            "scripted",
            "m",
            vec![ToolCall::new(format!("c{i}"), "echo", r#"{"text":"again"}"#)],
        )
        .with_usage(toolplane_core::Usage {
            input_tokens: 100,
            output_tokens: 20,
            ..Default::default()
        })));
    }
    Arc::new(p)
}

#[tokio::test]
async fn the_step_limit_stops_the_loop() {
    let provider = endless_tool_calls(10);
    let agent = AgentLoop::new(
        provider.clone(),
        Arc::new(Executor::from_tools([Echo::new("echo") as Arc<dyn Tool>]).unwrap()),
    )
    .with_config(LoopConfig {
        max_steps: 3,
        ..LoopConfig::default()
    });
    let result = agent.run(state("loop"), &CallContext::new("r")).await.unwrap();
    assert_eq!(result.outcome, RunOutcome::Stopped(StopCause::StepLimit));
    assert_eq!(result.state.steps, 3);
    assert_eq!(provider.requests().len(), 3);
    // The stopped state continues with a higher limit.
    let agent = agent.with_config(LoopConfig {
        max_steps: 4,
        ..LoopConfig::default()
    });
    let again = agent
        .resume(result.state, &HashMap::new(), &CallContext::new("r"))
        .await
        .unwrap();
    assert_eq!(again.state.steps, 4);
}

#[tokio::test]
async fn token_and_cost_budgets_stop_before_the_next_call() {
    let provider = endless_tool_calls(10);
    let tools = Arc::new(Executor::from_tools([Echo::new("echo") as Arc<dyn Tool>]).unwrap());
    let agent = AgentLoop::new(provider.clone(), tools.clone()).with_config(LoopConfig {
        max_total_tokens: Some(400),
        ..LoopConfig::default()
    });
    let result = agent.run(state("loop"), &CallContext::new("r")).await.unwrap();
    assert_eq!(result.outcome, RunOutcome::Stopped(StopCause::TokenBudget));
    // After three steps 40 tokens are left: less than the next call's input alone.
    assert_eq!(result.state.steps, 3);
    assert_eq!(result.state.usage.total_tokens(), 360);
    // Each call's output is capped to what is left of the budget after its input.
    let caps: Vec<u32> = provider.requests().iter().map(|r| r.max_tokens.unwrap()).collect();
    assert!(caps[0] < 400 && caps[1] < 280 && caps[2] < 160, "{caps:?}");
    assert_eq!(result.state.request.max_tokens, None, "the caller's setting is kept");

    let provider = endless_tool_calls(10);
    let agent = AgentLoop::new(provider, tools)
        .with_default_price(Price::per_million(1_000.0, 5_000.0))
        .with_config(LoopConfig {
            max_cost_usd: Some(0.35),
            ..LoopConfig::default()
        });
    // Each step costs 0.1 + 0.1 = 0.2 dollars.
    let result = agent.run(state("loop"), &CallContext::new("r")).await.unwrap();
    assert_eq!(result.outcome, RunOutcome::Stopped(StopCause::CostBudget));
    assert_eq!(result.state.steps, 2);
    assert!((result.state.cost_usd - 0.4).abs() < 1e-9);
}

#[tokio::test]
async fn cancellation_stops_a_running_tool_and_keeps_the_conversation_valid() {
    let started = Arc::new(AtomicUsize::new(0));
    let slow = Arc::new(Slow(ToolSpec::new("slow", "Takes forever."), started.clone()));
    let provider = Arc::new(ScriptedProvider::new("scripted").with_tool_calls(vec![ToolCall::new("s1", "slow", "{}")]));
    let agent = AgentLoop::new(
        provider,
        Arc::new(Executor::from_tools([slow as Arc<dyn Tool>]).unwrap()),
    );
    let ctx = CallContext::new("r");
    let flag = ctx.cancel.clone();
    let canceller = tokio::spawn({
        let started = started.clone();
        async move {
            while started.load(Ordering::SeqCst) == 0 {
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            flag.cancel();
        }
    });
    let result = tokio::time::timeout(Duration::from_secs(10), agent.run(state("wait"), &ctx))
        .await
        .expect("cancellation does not wait for the tool")
        .unwrap();
    canceller.await.unwrap();
    assert_eq!(result.outcome, RunOutcome::Stopped(StopCause::Cancelled));
    let results = last_tool_results(&result.state.request);
    assert_eq!(results[0].0, "s1");
    assert!(results[0].1.contains("cancelled"));

    // A cancelled context stops before calling the provider at all.
    let provider = Arc::new(ScriptedProvider::new("scripted").with_text("unused"));
    let agent = AgentLoop::new(provider.clone(), Arc::new(Executor::new(ToolRegistry::new())));
    let ctx = CallContext::new("r");
    ctx.cancel.cancel();
    let result = agent.run(state("x"), &ctx).await.unwrap();
    assert_eq!(result.outcome, RunOutcome::Stopped(StopCause::Cancelled));
    assert!(provider.requests().is_empty());
}

#[tokio::test]
async fn the_deadline_stops_the_run() {
    let slow = Arc::new(Slow(ToolSpec::new("slow", "Takes forever."), Arc::default()));
    let provider = Arc::new(ScriptedProvider::new("scripted").with_tool_calls(vec![ToolCall::new("s1", "slow", "{}")]));
    let agent = AgentLoop::new(
        provider,
        Arc::new(Executor::from_tools([slow as Arc<dyn Tool>]).unwrap()),
    );
    let ctx = CallContext::new("r").with_timeout(Duration::from_millis(50));
    let result = tokio::time::timeout(Duration::from_secs(10), agent.run(state("wait"), &ctx))
        .await
        .unwrap()
        .unwrap();
    assert!(
        matches!(result.outcome, RunOutcome::Stopped(StopCause::Deadline)),
        "{:?}",
        result.outcome
    );
}

#[tokio::test]
async fn provider_errors_return_the_state_to_retry() {
    let provider = Arc::new(
        ScriptedProvider::new("scripted").with_error(toolplane_core::ProviderError::new(
            toolplane_core::ProviderErrorKind::RateLimited,
            "scripted",
            "slow down",
        )),
    );
    provider.push(Ok(toolplane_core::ChatResponse::new(
        "scripted",
        "m",
        Message::assistant("after the retry"),
        toolplane_core::StopReason::EndTurn,
    )));
    let agent = AgentLoop::new(provider, Arc::new(Executor::new(ToolRegistry::new())));
    let err = agent.run(state("x"), &CallContext::new("r")).await.unwrap_err();
    assert!(err.is_retryable());
    assert!(err.to_string().contains("step 1"), "{err}");
    let state = err.into_state().unwrap();
    assert_eq!(state.steps, 0);
    let result = agent.run(state, &CallContext::new("r")).await.unwrap();
    assert_eq!(result.answer().as_deref(), Some("after the retry"));
}

#[tokio::test]
async fn events_stream_text_tool_calls_usage_and_steps() {
    let provider = Arc::new(
        ScriptedProvider::new("scripted")
            .with_tool_calls(vec![
                ToolCall::new("c1", "echo", r#"{"text":"a"}"#),
                ToolCall::new("c2", "echo", r#"{"text":"b"}"#),
            ])
            .with_text("All done."),
    );
    let agent = AgentLoop::new(
        provider,
        Arc::new(Executor::from_tools([Echo::new("echo") as Arc<dyn Tool>]).unwrap()),
    )
    .with_config(LoopConfig {
        stream: true,
        ..LoopConfig::default()
    });
    let mut handle = agent.spawn(state("go"), CallContext::new("r"));
    let mut events = Vec::new();
    while let Some(e) = handle.next_event().await {
        events.push(e);
    }
    let result = handle.finish().await.unwrap();
    assert_eq!(result.answer().as_deref(), Some("All done."));

    let kinds: Vec<String> = events
        .iter()
        .map(|e| serde_json::to_value(e).unwrap()["type"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        kinds,
        [
            "step_started",
            "usage",
            "tool_call_started",
            "tool_call_finished",
            "tool_call_started",
            "tool_call_finished",
            "step_done",
            "step_started",
            "text_delta",
            "usage",
            "step_done",
            "answered"
        ]
    );
    assert!(matches!(&events[8], RunEvent::TextDelta { step: 2, text } if text == "All done."));
    // Echo finishes on its first poll, so each call's events are adjacent.
    assert!(
        matches!(&events[3], RunEvent::ToolCallFinished { call_id, outcome, .. } if call_id == "c1" && outcome == "ok")
    );
    assert!(matches!(&events[4], RunEvent::ToolCallStarted { call, .. } if call.id == "c2"));
    assert!(matches!(&events[9], RunEvent::Usage { total, .. } if total.total_tokens() == 30));
}

#[tokio::test]
async fn approval_pauses_and_resumes_after_a_simulated_restart() {
    let saved_json;
    let issued_tokens;
    {
        // Process one: the model wants to delete two things and read one.
        let policy = Arc::new(AskForDestructive::default());
        let tools = Executor::builder(
            ToolRegistry::from_tools([destructive_echo("delete") as Arc<dyn Tool>, Echo::new("read")]).unwrap(),
        )
        .interceptor(policy.clone())
        .build()
        .unwrap();
        let provider = Arc::new(ScriptedProvider::new("scripted").with_tool_calls(vec![
            ToolCall::new("d1", "delete", r#"{"text":"branch-1"}"#),
            ToolCall::new("r1", "read", r#"{"text":"log"}"#),
            ToolCall::new("d2", "delete", r#"{"text":"branch-2"}"#),
        ]));
        let agent = AgentLoop::new(provider, Arc::new(tools));
        let result = agent.run(state("clean up"), &CallContext::new("r")).await.unwrap();
        let RunOutcome::NeedsApproval(pending) = &result.outcome else {
            panic!("expected a pause, got {:?}", result.outcome)
        };
        let ids: Vec<&str> = pending.iter().map(|p| p.call.id.as_str()).collect();
        assert_eq!(ids, ["d1", "d2"]);
        assert_eq!(pending[0].message, "deleting needs a human");
        assert_eq!(pending[0].request.as_ref().unwrap()["approval_id"], "ap-d1");
        assert_eq!(result.state.pending_approvals().len(), 2);
        saved_json = result.state.to_json().unwrap();
        issued_tokens = policy.issued.lock().unwrap().clone();
    } // Everything from process one is dropped here.

    // Process two: new tools, new policy, a provider that continues the conversation.
    let delete = destructive_echo("delete");
    let read = Echo::new("read");
    let tools = Executor::builder(ToolRegistry::from_tools([delete.clone() as Arc<dyn Tool>, read.clone()]).unwrap())
        .interceptor(Arc::new(AskForDestructive::default()))
        .build()
        .unwrap();
    let provider = Arc::new(ScriptedProvider::new("scripted").with_text("Deleted branch-1; branch-2 kept."));
    let agent = AgentLoop::new(provider.clone(), Arc::new(tools));
    let state = RunState::from_json(&saved_json).unwrap();
    assert_eq!(state.pending_approvals().len(), 2);

    // A missing decision is refused and the state comes back unchanged.
    let only_one = HashMap::from([(
        "d1".to_string(),
        ApprovalDecision::Approve {
            token: ApprovalToken(issued_tokens[0].clone()),
        },
    )]);
    let err = agent
        .resume(state, &only_one, &CallContext::new("r2"))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("d2"), "{err}");
    let state = err.into_state().unwrap();

    let decisions = HashMap::from([
        (
            "d1".to_string(),
            ApprovalDecision::Approve {
                token: ApprovalToken(issued_tokens[0].clone()),
            },
        ),
        (
            "d2".to_string(),
            ApprovalDecision::Reject {
                reason: "branch-2 is still in use.".into(),
            },
        ),
    ]);
    let result = agent.resume(state, &decisions, &CallContext::new("r2")).await.unwrap();
    assert_eq!(result.answer().as_deref(), Some("Deleted branch-1; branch-2 kept."));
    assert_eq!(
        *delete.seen.lock().unwrap(),
        [json!({"text": "branch-1"})],
        "only the approved call ran"
    );
    assert!(
        read.seen.lock().unwrap().is_empty(),
        "the read ran before the pause, not again"
    );
    let results = last_tool_results(&provider.requests()[0]);
    let ids: Vec<&str> = results.iter().map(|r| r.0.as_str()).collect();
    assert_eq!(
        ids,
        ["d1", "r1", "d2"],
        "one tool message with every result, in call order"
    );
    assert_eq!(results[0].1, "echo: branch-1");
    assert_eq!(results[1].1, "echo: log");
    assert!(results[2].2 && results[2].1.contains("branch-2 is still in use."));
    assert!(result.state.pending.is_none());
}

#[tokio::test]
async fn a_wrong_token_pauses_again() {
    let tools = Executor::builder(ToolRegistry::from_tools([destructive_echo("delete") as Arc<dyn Tool>]).unwrap())
        .interceptor(Arc::new(AskForDestructive::default()))
        .build()
        .unwrap();
    let provider = Arc::new(ScriptedProvider::new("scripted").with_tool_calls(vec![ToolCall::new(
        "d1",
        "delete",
        r#"{"text":"x"}"#,
    )]));
    let agent = AgentLoop::new(provider.clone(), Arc::new(tools));
    let paused = agent.run(state("go"), &CallContext::new("r")).await.unwrap();
    let decisions = HashMap::from([(
        "d1".to_string(),
        ApprovalDecision::Approve {
            token: ApprovalToken("forged".into()),
        },
    )]);
    let again = agent
        .resume(paused.state, &decisions, &CallContext::new("r"))
        .await
        .unwrap();
    assert!(matches!(again.outcome, RunOutcome::NeedsApproval(ref p) if p[0].call.id == "d1"));
    assert_eq!(provider.requests().len(), 1, "the model was not called while paused");
    let err = agent.run(again.state, &CallContext::new("r")).await.unwrap_err();
    assert!(err.to_string().contains("paused"));
}

#[test]
fn a_state_of_an_unknown_version_is_refused() {
    let mut json: Value = serde_json::to_value(state("x")).unwrap();
    json["version"] = json!(99);
    let err = RunState::from_json(&json.to_string()).unwrap_err();
    assert!(err.to_string().contains("version 99"));
    assert!(RunState::from_json("{").is_err());
    let _ = ContentPart::Text { text: String::new() };
    let _: Option<&dyn ChatProvider> = None;
}

#[tokio::test]
async fn an_activated_skill_narrows_the_tools_of_the_next_step() {
    use toolplane_skills::{Skill, SkillSession, SkillSet};
    let skill = Skill::parse(
        "triage/SKILL.md",
        "---\nname: triage\ndescription: Triage issues.\nallowed-tools: [read]\n---\nOnly read.",
        None,
    )
    .unwrap();
    let session = SkillSession::new(Arc::new(SkillSet::from_skills([skill]).unwrap()));
    let delete = Echo::new("delete");
    let all = Executor::from_tools([Echo::new("read") as Arc<dyn Tool>, delete.clone()]).unwrap();
    let tools = toolplane_pipeline::SkillExecutor::new(Arc::new(all), session.clone()).unwrap();
    let provider = Arc::new(
        ScriptedProvider::new("scripted")
            .with_tool_calls(vec![ToolCall::new("a", "skills.activate", r#"{"name":"triage"}"#)])
            // The model calls a tool it was no longer offered; the guard refuses it.
            .with_tool_calls(vec![ToolCall::new("d", "delete", r#"{"text":"x"}"#)])
            .with_text("done"),
    );
    let agent = AgentLoop::new(provider.clone(), Arc::new(tools));
    let result = agent.run(state("triage"), &CallContext::new("r")).await.unwrap();
    assert_eq!(result.answer().as_deref(), Some("done"));
    let offered = |i: usize| -> Vec<String> { provider.requests()[i].tools.iter().map(|t| t.name.clone()).collect() };
    assert_eq!(
        offered(0),
        ["delete", "read", "skills.activate", "skills.read_resource"]
    );
    assert_eq!(offered(1), ["read", "skills.activate", "skills.read_resource"]);
    let activated = &last_tool_results(&provider.requests()[1])[0].1;
    assert!(
        activated.contains("Only read."),
        "the body arrives on activation: {activated}"
    );
    let refused = &last_tool_results(&provider.requests()[2])[0];
    assert!(refused.2 && refused.1.contains("permission_denied"), "{refused:?}");
    assert!(delete.seen.lock().unwrap().is_empty());
}

/// Counts chat calls and refuses the third, like a budget interceptor would.
#[derive(Debug, Default)]
struct CountingChat(AtomicUsize);

#[async_trait]
impl toolplane_core::ChatInterceptor for CountingChat {
    async fn chat(
        &self,
        req: &ChatRequest,
        ctx: &CallContext,
        next: toolplane_core::ChatNext<'_>,
    ) -> Result<toolplane_core::ChatResponse, toolplane_core::ProviderError> {
        if self.0.fetch_add(1, Ordering::SeqCst) >= 2 {
            return Err(toolplane_core::ProviderError::new(
                toolplane_core::ProviderErrorKind::QuotaExceeded,
                "budget",
                "the team budget is spent",
            ));
        }
        next.chat(req, ctx).await
    }
}

#[tokio::test]
async fn chat_interceptors_wrap_every_provider_call() {
    let counter = Arc::new(CountingChat::default());
    let agent = AgentLoop::new(
        endless_tool_calls(5),
        Arc::new(Executor::from_tools([Echo::new("echo") as Arc<dyn Tool>]).unwrap()),
    )
    .with_chat_interceptors(vec![counter.clone()]);
    let err = agent.run(state("go"), &CallContext::new("r")).await.unwrap_err();
    assert_eq!(
        err.provider_error().unwrap().kind(),
        toolplane_core::ProviderErrorKind::QuotaExceeded
    );
    assert!(!err.is_retryable());
    assert_eq!(counter.0.load(Ordering::SeqCst), 3);
    assert_eq!(err.into_state().unwrap().steps, 2);
}
