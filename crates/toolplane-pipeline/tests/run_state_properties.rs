//! Saved run states come from other processes and from files people edit:
//! every inconsistency is `InvalidState` with a message, never a panic.
//! The paused state is made by a real loop behind toolplane-security's
//! permission interceptor, so the approval details are the real ones.
#![allow(clippy::unwrap_used, clippy::panic, missing_docs)]

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use proptest::prelude::*;
use serde_json::{Value, json};
use toolplane_core::{CallContext, ChatRequest, EchoTool, Message, ScriptedProvider, Tool, ToolCall, ToolSpec};
use toolplane_pipeline::{AgentLoop, ApprovalDecision, ApprovalDetails, RunErrorKind, RunOutcome, RunState};
use toolplane_registry::{Executor, ToolRegistry};
use toolplane_security::policy::{Layer, PolicyStore};
use toolplane_security::{ApprovalStore, PermissionInterceptor};

const POLICY: &str = r#"
[[rule]]
id = "read-freely"
effect = "allow"
tools = ["repo.read"]

[[rule]]
id = "ask-deletes"
effect = "ask"
tools = ["repo.delete"]
"#;

fn tool(name: &str) -> Arc<dyn Tool> {
    Arc::new(EchoTool::new(ToolSpec::new(name, "Echoes.").with_input_schema(json!({
        "type": "object",
        "properties": {"name": {"type": "string"}},
        "additionalProperties": false
    }))))
}

fn agent(provider: Arc<ScriptedProvider>, approvals: Arc<ApprovalStore>) -> AgentLoop {
    let policy = Arc::new(PolicyStore::new());
    policy.load_str(Layer::Project, "policy.toml", POLICY).unwrap();
    let tools = Executor::builder(ToolRegistry::from_tools([tool("repo.read"), tool("repo.delete")]).unwrap())
        .interceptor(Arc::new(PermissionInterceptor::new(policy, approvals)))
        .build()
        .unwrap();
    AgentLoop::new(provider, Arc::new(tools))
}

/// A run paused on two deletes, with a read that already finished between them.
async fn paused() -> (RunState, Arc<ApprovalStore>) {
    let provider = Arc::new(ScriptedProvider::new("scripted").with_tool_calls(vec![
        ToolCall::new("d1", "repo.delete", r#"{"name":"old-1"}"#),
        ToolCall::new("r1", "repo.read", r#"{"name":"log"}"#),
        ToolCall::new("d2", "repo.delete", r#"{"name":"old-2"}"#),
    ]));
    let approvals = Arc::new(ApprovalStore::new());
    let state = RunState::new("run-1", ChatRequest::new("m", vec![Message::user("clean up")]));
    let result = agent(provider, Arc::clone(&approvals))
        .run(state, &CallContext::new("r1"))
        .await
        .unwrap();
    assert!(matches!(result.outcome, RunOutcome::NeedsApproval(_)));
    (result.state, approvals)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn a_host_reads_the_approval_from_typed_details_and_resumes() {
    runtime().block_on(async {
        let (state, approvals) = paused().await;
        let saved = state.to_json().unwrap();
        // Another process: read the state back, show each call to a human, approve.
        let state = RunState::from_json(&saved).unwrap();
        let details: Vec<ApprovalDetails> = state.pending_approvals().iter().map(|p| p.details()).collect();
        assert_eq!(details.len(), 2);
        assert_eq!(details[0].tool, "repo.delete");
        assert_eq!(details[0].arguments, json!({"name": "old-1"}));
        assert_eq!(details[0].rule.as_deref(), Some("ask-deletes"));
        assert!(
            details[0].explanation.contains("ask-deletes"),
            "{}",
            details[0].explanation
        );
        assert!(details[0].approval_id.as_deref().unwrap().starts_with("apr_"));
        let back: ApprovalDetails = serde_json::from_value(serde_json::to_value(&details[1]).unwrap()).unwrap();
        assert_eq!(back, details[1]);

        let mut decisions = HashMap::new();
        for d in &details {
            let token = approvals
                .approve(d.approval_id.as_deref().unwrap(), Duration::from_secs(60))
                .unwrap();
            decisions.insert(d.call_id.clone(), ApprovalDecision::Approve { token });
        }
        let provider = Arc::new(ScriptedProvider::new("scripted").with_text("Both deleted."));
        let done = agent(provider, approvals)
            .resume(state, &decisions, &CallContext::new("r2"))
            .await
            .unwrap();
        assert_eq!(done.answer().as_deref(), Some("Both deleted."));
    });
}

#[test]
fn pending_results_shorter_than_the_calls_are_refused_with_a_message() {
    let (state, _) = runtime().block_on(paused());
    let mut json = serde_json::to_value(&state).unwrap();
    json["pending"]["results"].as_array_mut().unwrap().pop();
    let err = RunState::from_json(&json.to_string()).unwrap_err();
    assert_eq!(err.kind(), RunErrorKind::InvalidState);
    assert!(err.to_string().contains("3 calls but 2 result slots"), "{err}");

    let mut json = serde_json::to_value(&state).unwrap();
    json["pending"]["approvals"][0]["call"]["arguments"] = json!(r#"{"name":"prod"}"#);
    let err = RunState::from_json(&json.to_string()).unwrap_err();
    assert!(err.to_string().contains("other arguments"), "{err}");

    let mut json = serde_json::to_value(&state).unwrap();
    json["request"]["messages"].as_array_mut().unwrap().pop();
    let err = RunState::from_json(&json.to_string()).unwrap_err();
    assert!(
        err.to_string().contains("does not end with the assistant turn"),
        "{err}"
    );
}

/// Every JSON pointer in `v`, the root included.
fn pointers(v: &Value, at: String, out: &mut Vec<String>) {
    out.push(at.clone());
    match v {
        Value::Object(m) => m
            .iter()
            .for_each(|(k, c)| pointers(c, format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")), out)),
        Value::Array(a) => a
            .iter()
            .enumerate()
            .for_each(|(i, c)| pointers(c, format!("{at}/{i}"), out)),
        _ => {}
    }
}

/// Applies mutation `kind` at `pointer`.
fn mutate(root: &mut Value, pointer: &str, kind: u8) {
    let (parent, key) = match pointer.rfind('/') {
        Some(i) => (&pointer[..i], &pointer[i + 1..]),
        None => return,
    };
    if kind == 0 {
        match root.pointer_mut(parent) {
            Some(Value::Object(m)) => {
                m.remove(&key.replace("~1", "/").replace("~0", "~"));
            }
            Some(Value::Array(a)) => {
                if let Ok(i) = key.parse::<usize>() {
                    if i < a.len() {
                        a.remove(i);
                    }
                }
            }
            _ => {}
        }
        return;
    }
    let Some(target) = root.pointer_mut(pointer) else {
        return;
    };
    *target = match (kind, &*target) {
        (1, _) => Value::Null,
        (2, _) => json!(-1),
        (3, _) => json!("d1"),
        (4, Value::Array(a)) => Value::Array(a.iter().chain(a.first()).cloned().collect()),
        (5, Value::Array(a)) => Value::Array(a.iter().rev().cloned().collect()),
        (6, _) => json!(u64::MAX),
        (7, _) => json!({}),
        (_, other) => other.clone(),
    };
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Up to three mutations anywhere in a real paused state: reading it back
    /// either fails with `InvalidState`, or gives a state that resumes
    /// (approving or rejecting what it says is pending) without a panic.
    #[test]
    fn mutated_saved_states_are_refused_or_resume_without_panicking(
        picks in proptest::collection::vec((any::<prop::sample::Index>(), 0u8..8), 1..4),
        approve in any::<bool>(),
    ) {
        let rt = runtime();
        let (state, approvals) = rt.block_on(paused());
        let mut json = serde_json::to_value(&state).unwrap();
        for (index, kind) in &picks {
            let mut all = Vec::new();
            pointers(&json, String::new(), &mut all);
            let pointer = index.get(&all).clone();
            mutate(&mut json, &pointer, *kind);
        }
        match RunState::from_json(&json.to_string()) {
            Err(e) => prop_assert_eq!(e.kind(), RunErrorKind::InvalidState),
            Ok(state) => {
                let decisions: HashMap<String, ApprovalDecision> = state
                    .pending_approvals()
                    .iter()
                    .map(|p| {
                        let decision = if approve {
                            ApprovalDecision::Approve { token: toolplane_core::ApprovalToken("forged".into()) }
                        } else {
                            ApprovalDecision::Reject { reason: "no".into() }
                        };
                        (p.call.id.clone(), decision)
                    })
                    .collect();
                let provider = Arc::new(ScriptedProvider::new("scripted").with_text("done"));
                let agent = agent(provider, approvals);
                let outcome = rt.block_on(async {
                    if state.pending.is_some() {
                        agent.resume(state, &decisions, &CallContext::new("r")).await
                    } else {
                        agent.run(state, &CallContext::new("r")).await
                    }
                });
                if let Err(e) = outcome {
                    prop_assert!(
                        matches!(e.kind(), RunErrorKind::InvalidState | RunErrorKind::InvalidDecisions | RunErrorKind::Provider),
                        "{e}"
                    );
                }
            }
        }
    }
}
