//! End to end, across every crate: the quickstart's stack (OpenAPI tools over
//! real HTTP, the registry's validating executor, permissions, approvals, a
//! rate limit, the audit log on disk, the router over two scripted experts
//! with a fallback, metrics and a budget), driven by the tool-calling loop.

#![allow(clippy::unwrap_used, clippy::panic)]

#[path = "../../../examples/quickstart/demo_model.rs"]
mod demo_model;
// The example uses parts of the stack this test does not (and the other way round).
#[allow(dead_code)]
#[path = "../../../examples/quickstart/stack.rs"]
mod stack;
#[path = "../../../examples/quickstart/tasks_server.rs"]
mod tasks_server;

use std::collections::HashMap;
use std::time::Duration;

use serde_json::json;
use toolplane::metrics::MetricsQuery;
use toolplane::pipeline::{ApprovalDecision, RunOutcome, RunState};
use toolplane::security::audit::verify_dir;
use toolplane::vocab::{CallContext, ChatRequest, Message, Principal, ToolCall, ToolErrorKind};

fn member(run: &str) -> CallContext {
    CallContext::new(run).with_principal(Principal::new("ada").with_role("member"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_quickstart_flow_end_to_end() {
    let addr = tasks_server::serve().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let audit_dir = dir.path().join("audit");
    let metrics = stack::metrics_collector().unwrap();
    // Always the scripted experts here, whatever keys the environment holds.
    let experts = stack::experts(&metrics, false).unwrap();
    assert!(!experts.1, "the test must use the scripted experts");
    let stack = stack::build(addr, &audit_dir, experts, metrics, None).unwrap();

    // Six operations became six tools, named by operationId.
    let names: Vec<&str> = stack.tool_names.iter().map(|(n, _, _)| n.as_str()).collect();
    for op in [
        "listTasks",
        "createTask",
        "getTask",
        "updateTask",
        "deleteTask",
        "getProjectSummary",
    ] {
        assert!(names.contains(&op), "{op} missing from {names:?}");
    }

    // Run 1: create, then two reads in parallel, then an answer built from the real HTTP results.
    let request =
        ChatRequest::new("", vec![Message::user("Add a task to docs and report.")]).with_task_type("tool_use");
    let first = stack
        .agent
        .run(RunState::new("run-1", request), &member("run-1"))
        .await
        .unwrap();
    let answer = first.answer().unwrap();
    assert!(answer.contains("Created task #1"), "{answer}");
    assert!(answer.contains(r#"{"open":1}"#), "{answer}");

    // The task exists on the server: read it back through the executor.
    let got = stack
        .executor
        .execute(&ToolCall::new("t1", "getTask", r#"{"taskId": 1}"#), &member("check-1"))
        .await
        .unwrap();
    assert_eq!(got.content["status"], 200);
    assert_eq!(got.content["body"]["title"], "Write the release notes");

    // Invalid arguments never reach the server: the schema says taskId is an integer.
    let bad = stack
        .executor
        .execute(
            &ToolCall::new("t2", "getTask", r#"{"taskId": "one"}"#),
            &member("check-2"),
        )
        .await
        .unwrap_err();
    assert_eq!(bad.kind(), ToolErrorKind::InvalidArguments);

    // Someone without the member role is denied by default, with the reason.
    let guest = CallContext::new("guest").with_principal(Principal::new("mallory"));
    let denied = stack
        .executor
        .execute(&ToolCall::new("t3", "listTasks", "{}"), &guest)
        .await
        .unwrap_err();
    assert_eq!(denied.kind(), ToolErrorKind::PermissionDenied);
    assert!(denied.message().contains("default deny"), "{}", denied.message());

    // Run 2: the delete pauses for approval; the saved state resumes after a round trip through JSON.
    let request =
        ChatRequest::new("", vec![Message::user("Delete task 1, it was a mistake.")]).with_task_type("tool_use");
    let ctx = member("run-2");
    let paused = stack.agent.run(RunState::new("run-2", request), &ctx).await.unwrap();
    let RunOutcome::NeedsApproval(pending) = &paused.outcome else {
        panic!("expected a pause for approval, got {:?}", paused.outcome);
    };
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].call.name, "deleteTask");
    let approval_id = pending[0].request.as_ref().unwrap()["approval"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let token = stack.approvals.approve(&approval_id, Duration::from_secs(60)).unwrap();
    let saved = paused.state.to_json().unwrap();
    let state = RunState::from_json(&saved).unwrap();
    let decisions = HashMap::from([(
        pending[0].call.id.clone(),
        ApprovalDecision::Approve { token: token.clone() },
    )]);
    let done = stack.agent.resume(state, &decisions, &ctx).await.unwrap();
    assert_eq!(
        done.answer().as_deref(),
        Some("Deleted task 1 (HTTP answer: status 204).")
    );

    // The token was single-use: replaying it asks again instead of deleting.
    let replay_ctx = member("replay").with_extension(token);
    let replay = stack
        .executor
        .execute(
            &ToolCall::new("t4", "deleteTask", json!({"taskId": 1}).to_string()),
            &replay_ctx,
        )
        .await
        .unwrap_err();
    assert_eq!(replay.kind(), ToolErrorKind::ApprovalRequired);

    // The router fell back once (the fast expert answers 529 every 4th call) and lost no request;
    // its dispatch log says so attempt by attempt.
    let dispatches = stack.router.recent_dispatches();
    assert!(dispatches.iter().all(|d| d.answered_by.is_some()), "{dispatches:#?}");
    let fallback = dispatches
        .iter()
        .find(|d| d.attempts.len() == 2)
        .expect("one dispatch with a fallback");
    assert_eq!(fallback.attempts[0].outcome, "overloaded");
    assert_eq!(fallback.answered_by.as_deref(), Some("scripted-careful/careful-large"));

    // Metrics saw every expert call, the failure included, all priced.
    let attempts: usize = dispatches.iter().map(|d| d.attempts.len()).sum();
    let report = stack
        .metrics
        .snapshot(&MetricsQuery::last(Duration::from_secs(3600)))
        .unwrap();
    assert_eq!(report.totals.calls as usize, attempts, "{report}");
    assert!(report.to_json().contains("scripted-careful"));

    // The audit log on disk verifies, one record per tool call that reached the chain.
    stack.audit.close();
    let verified = verify_dir(&audit_dir).unwrap();
    assert!(verified.to_string().starts_with("OK"), "{verified}");
    // run 1: 3 calls; the read-back; the guest's denial; the paused and the approved delete; the replay.
    // (The call with invalid arguments never reached the chain.)
    assert_eq!(verified.records, 8, "{verified}");
}

/// `OPENAI_API_KEY=` (or spaces) means no key: the quickstart then uses its
/// scripted experts instead of failing against the real API. The variables
/// are set on a child run of this very test (a test cannot set its own
/// environment safely), which checks what the quickstart's stack sees.
#[test]
fn a_blank_api_key_counts_as_no_key() {
    match std::env::var("TOOLPLANE_KEY_CHECK").as_deref() {
        Ok("blank") => {
            assert!(!stack::has_key("OPENAI_API_KEY"));
            assert!(!stack::has_key("ANTHROPIC_API_KEY"));
            return;
        }
        Ok("set") => {
            assert!(stack::has_key("OPENAI_API_KEY"));
            return;
        }
        _ => {}
    }
    for (mode, openai, anthropic) in [("blank", "", "  \t"), ("set", "sk-not-a-real-key", "")] {
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "a_blank_api_key_counts_as_no_key", "--test-threads=1"])
            .env("TOOLPLANE_KEY_CHECK", mode)
            .env("OPENAI_API_KEY", openai)
            .env("ANTHROPIC_API_KEY", anthropic)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{mode}: {stdout}");
        assert!(stdout.contains("1 passed"), "{mode}: the child ran the check: {stdout}");
    }
}
