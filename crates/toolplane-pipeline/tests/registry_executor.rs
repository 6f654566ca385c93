//! The loop over the registry's validating executor: invalid arguments go
//! back to the model with the validator's messages, and the repaired call runs.

use std::sync::Arc;

use toolplane_core::{CallContext, ChatRequest, Message, Role, ScriptedProvider, ToolCall};
use toolplane_pipeline::{AgentLoop, RunOutcome, RunState};
use toolplane_registry::{Executor, ToolRegistry, builtin};

#[tokio::test]
async fn registry_executor_validates_and_the_model_repairs() {
    let mut registry = ToolRegistry::new();
    registry.register_all(builtin::builtin_tools()).unwrap();
    let executor = Arc::new(Executor::new(registry));

    let model = Arc::new(
        ScriptedProvider::new("scripted")
            .with_tool_calls(vec![ToolCall::new("c1", "current_time", r#"{"time_zone": 7}"#)])
            .with_tool_calls(vec![ToolCall::new(
                "c2",
                "current_time",
                r#"{"time_zone": "Europe/Paris"}"#,
            )])
            .with_text("It is morning in Paris."),
    );
    let agent = AgentLoop::new(model.clone(), executor);
    let state = RunState::new("run-1", ChatRequest::new("demo", vec![Message::user("Time in Paris?")]));
    let result = agent.run(state, &CallContext::new("req-1")).await.unwrap();

    assert!(matches!(result.outcome, RunOutcome::Answered(_)));
    assert_eq!(result.answer().as_deref(), Some("It is morning in Paris."));

    // The model saw the registry's tools, and the first result was the validation error.
    let requests = model.requests();
    assert!(requests[0].tools.iter().any(|t| t.name == "current_time"));
    let results: Vec<_> = requests[1]
        .messages
        .iter()
        .filter(|m| m.role == Role::Tool)
        .flat_map(|m| m.tool_call_results())
        .collect();
    assert_eq!(results.len(), 1);
    assert!(results[0].is_error);
    assert!(results[0].content.contains("/time_zone"), "{}", results[0].content);

    // The repaired call ran for real: its result names the zone.
    let results: Vec<_> = requests[2]
        .messages
        .iter()
        .filter(|m| m.role == Role::Tool)
        .flat_map(|m| m.tool_call_results())
        .collect();
    assert!(
        results
            .iter()
            .any(|r| !r.is_error && r.content.contains("Europe/Paris")),
        "{results:?}"
    );
}
