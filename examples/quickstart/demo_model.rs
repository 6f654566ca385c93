//! A scripted stand-in for a real model, used when no API key is set.
//!
//! It is not a language model: it reads the conversation and plays a fixed
//! plan for the quickstart's request (create a task, then list open tasks and
//! read the project summary in parallel, then answer from what the tools
//! returned). Because it decides from the conversation, not from a counter,
//! the router may hand any step to any expert and the run still makes sense.

use std::time::Duration;

use async_trait::async_trait;
use serde_json::{Value, json};
use toolplane::vocab::{
    CallContext, ChatProvider, ChatRequest, ChatResponse, Message, ProviderCapabilities, ProviderError,
    ProviderErrorKind, Role, StopReason, ToolCall, Usage,
};

/// One scripted expert: a name, a simulated latency and a failure pattern.
#[derive(Debug)]
pub(crate) struct DemoModel {
    name: String,
    latency: Duration,
    /// Every n-th call answers 529 overloaded (0: never), to show fallbacks.
    fail_every: u64,
    calls: std::sync::atomic::AtomicU64,
}

impl DemoModel {
    /// A scripted expert named `name` that takes `latency` per call.
    pub(crate) fn new(name: &str, latency: Duration) -> Self {
        Self {
            name: name.to_owned(),
            latency,
            fail_every: 0,
            calls: Default::default(),
        }
    }

    /// Makes every `n`-th call fail with a retryable "overloaded" error.
    pub(crate) fn failing_every(mut self, n: u64) -> Self {
        self.fail_every = n;
        self
    }
}

fn results_by_tool(messages: &[Message]) -> Vec<(String, String, bool)> {
    let mut names = std::collections::HashMap::new();
    for m in messages {
        for c in m.tool_calls() {
            names.insert(c.id.clone(), c.name.clone());
        }
    }
    messages
        .iter()
        .flat_map(|m| m.tool_call_results())
        .map(|r| {
            (
                names.get(&r.call_id).cloned().unwrap_or_default(),
                r.content.clone(),
                r.is_error,
            )
        })
        .collect()
}

fn body_of(result: &str) -> Value {
    let v: Value = serde_json::from_str(result).unwrap_or(Value::Null);
    v.get("body").cloned().unwrap_or(v)
}

fn short(text: &str) -> String {
    let status = serde_json::from_str::<Value>(text)
        .ok()
        .and_then(|v| v.get("status").cloned());
    match status {
        Some(s) => format!("status {s}"),
        None => text.chars().take(120).collect(),
    }
}

fn tool_named<'a>(request: &'a ChatRequest, suffix: &str) -> Option<&'a str> {
    request
        .tools
        .iter()
        .map(|t| t.name.as_str())
        .find(|n| n.ends_with(suffix))
}

#[async_trait]
impl ChatProvider for DemoModel {
    fn name(&self) -> &str {
        &self.name
    }

    fn capabilities(&self) -> ProviderCapabilities {
        ProviderCapabilities {
            tools: true,
            streaming: true,
            parallel_tool_calls: true,
            max_context_tokens: Some(128_000),
            ..Default::default()
        }
    }

    async fn chat(&self, request: &ChatRequest, _ctx: &CallContext) -> Result<ChatResponse, ProviderError> {
        tokio::time::sleep(self.latency).await;
        let n = self.calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        if self.fail_every > 0 && n % self.fail_every == 0 {
            return Err(
                ProviderError::new(ProviderErrorKind::Overloaded, &self.name, "scripted: overloaded (529)")
                    .with_status(529),
            );
        }
        let done = results_by_tool(&request.messages);
        let usage = Usage {
            input_tokens: request.estimated_input_tokens(),
            output_tokens: 40 + 10 * done.len() as u64,
            ..Default::default()
        };
        let create = tool_named(request, "createTask");
        let list = tool_named(request, "listTasks");
        let summary = tool_named(request, "getProjectSummary");
        let created = done.iter().find(|(n, _, _)| n.ends_with("createTask"));
        let asks_delete = request
            .messages
            .iter()
            .any(|m| m.role == Role::User && m.text().contains("Delete task"));
        let delete = tool_named(request, "deleteTask");
        let response = match (created, create, list, summary) {
            _ if asks_delete && done.is_empty() && delete.is_some() => ChatResponse::tool_use(
                &self.name,
                &request.model,
                vec![ToolCall::new(
                    "call_9",
                    delete.unwrap_or_default(),
                    json!({"taskId": 1}).to_string(),
                )],
            ),
            _ if asks_delete => {
                let text = match done.first() {
                    Some((_, content, false)) => format!("Deleted task 1 (HTTP answer: {}).", short(content)),
                    Some((_, content, true)) => format!("Could not delete task 1: {}", short(content)),
                    None => "I have no tool to delete tasks.".to_owned(),
                };
                ChatResponse::new(
                    &self.name,
                    &request.model,
                    Message::assistant(text),
                    StopReason::EndTurn,
                )
            }
            (None, Some(create), _, _) if !asks_delete => ChatResponse::tool_use(
                &self.name,
                &request.model,
                vec![ToolCall::new(
                    "call_1",
                    create,
                    json!({"title": "Write the release notes", "project": "docs", "priority": 2}).to_string(),
                )],
            ),
            (Some(_), _, Some(list), Some(summary)) if done.len() == 1 => ChatResponse::tool_use(
                &self.name,
                &request.model,
                vec![
                    ToolCall::new("call_2", list, json!({"status": "open", "limit": 5}).to_string()),
                    ToolCall::new("call_3", summary, json!({"projectId": "docs"}).to_string()),
                ],
            ),
            _ => {
                let mut text = String::from("Done. ");
                for (name, content, is_error) in &done {
                    let body = body_of(content);
                    if *is_error {
                        text.push_str(&format!("{name} failed: {content}. "));
                    } else if name.ends_with("createTask") {
                        text.push_str(&format!(
                            "Created task #{} \"{}\". ",
                            body["id"],
                            body["title"].as_str().unwrap_or("?")
                        ));
                    } else if name.ends_with("listTasks") {
                        text.push_str(&format!("{} open task(s). ", body.as_array().map_or(0, Vec::len)));
                    } else if name.ends_with("getProjectSummary") {
                        text.push_str(&format!("Project docs by status: {body}. "));
                    }
                }
                ChatResponse::new(
                    &self.name,
                    &request.model,
                    Message::assistant(text.trim_end()),
                    StopReason::EndTurn,
                )
            }
        };
        Ok(response.with_usage(usage))
    }
}
