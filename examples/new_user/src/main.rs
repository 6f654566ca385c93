//! Two typed tools, the tool-calling loop, and an approval: a user's first
//! program, using only what the README shows. The model is scripted so it
//! runs offline; swap in `toolplane::providers::provider_from_name` for a
//! real one.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use toolplane::prelude::*;
use toolplane::security::policy::{Layer, PolicyStore};
use toolplane::security::{ApprovalStore, PermissionInterceptor};

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Weather {
    /// City name, e.g. "Paris".
    city: String,
}

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Forget {
    /// The city to stop watching.
    city: String,
}

const POLICY: &str = r#"
[[rule]]
id = "weather-for-all"
effect = "allow"
tools = ["weather.now"]

[[rule]]
id = "ask-before-forgetting"
effect = "ask"
tools = ["weather.forget"]
"#;

fn tools(approvals: Arc<ApprovalStore>) -> Result<Executor, Box<dyn std::error::Error>> {
    let weather = tool_fn("weather.now", "Current weather for a city.", |w: Weather| async move {
        if w.city.trim().is_empty() {
            return Err(ToolError::invalid_arguments("`city` is empty; name a city"));
        }
        Ok(format!("Sunny in {}", w.city))
    });
    let forget = tool_fn("weather.forget", "Stops watching a city.", |f: Forget| async move {
        Ok::<_, ToolError>(format!("No longer watching {}", f.city))
    });
    let policy = Arc::new(PolicyStore::new());
    policy.load_str(Layer::Project, "policy.toml", POLICY)?;
    let registry = ToolRegistry::from_tools([Arc::new(weather) as Arc<dyn Tool>, Arc::new(forget)])?;
    // What a model receives (the providers build their requests' tools this way).
    let exported = registry.export_all(Profile::OpenAiStrict);
    for (name, wire) in exported.renamed() {
        println!("`{name}` is sent to OpenAI as `{wire}`");
    }
    assert_eq!(exported.tool_name("weather__now"), Some("weather.now"));
    Ok(Executor::builder(registry)
        .interceptor(Arc::new(PermissionInterceptor::new(policy, approvals)))
        .build()?)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let approvals = Arc::new(ApprovalStore::new());
    let model = ScriptedProvider::new("scripted")
        .with_tool_calls(vec![
            ToolCall::new("c1", "weather.now", r#"{"city":"Oslo"}"#),
            ToolCall::new("c2", "weather.forget", r#"{"city":"Paris"}"#),
        ])
        .with_text("It is sunny in Oslo, and Paris is no longer watched.");
    let model = Arc::new(model);
    let agent = AgentLoop::new(Arc::clone(&model) as Arc<dyn ChatProvider>, Arc::new(tools(Arc::clone(&approvals))?));
    let ctx = CallContext::new("req-1").with_principal(Principal::new("ada"));
    let request = ChatRequest::new("", vec![Message::user("Weather in Oslo, and stop watching Paris.")]);

    let paused = agent.run(RunState::new("run-1", request), &ctx).await?;
    let RunOutcome::NeedsApproval(pending) = &paused.outcome else {
        return Err(format!("expected the run to wait for an approval, got {:?}", paused.outcome).into());
    };
    let saved = paused.state.to_json()?;
    println!("The run waits for {} approval(s):", pending.len());

    let state = RunState::from_json(&saved)?;
    let mut decisions = HashMap::new();
    for p in state.pending_approvals() {
        let d = p.details();
        println!("  {} {} (rule {:?}): {}", d.tool, d.arguments, d.rule, d.explanation);
        let id = d.approval_id.as_deref().ok_or("the policy gave no approval id")?;
        let token = approvals.approve(id, Duration::from_secs(600))?;
        decisions.insert(d.call_id, ApprovalDecision::Approve { token });
    }
    let done = agent.resume(state, &decisions, &ctx).await?;
    let answer = done.answer().ok_or("no answer")?;
    println!("Answer: {answer}");
    assert_eq!(answer, "It is sunny in Oslo, and Paris is no longer watched.");
    Ok(())
}
