//! The offline default: two scripted experts (not language models) and the
//! demo Tasks API, so `toolplane serve` works without keys or network.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::serve::ListenerExt;
use axum::{Json, Router};
use futures_util::StreamExt;
use parking_lot::Mutex;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use toolplane_core::{
    CallContext, ChatProvider, ChatRequest, ChatResponse, ChatStream, Message, ProviderCapabilities, ProviderError,
    Role, StopReason, StreamEvent, ToolCall, ToolChoice, ToolSpec, Usage, response_to_events,
};

/// The OpenAPI description of the demo Tasks API.
pub const TASKS_API_YAML: &str = include_str!("../assets/tasks-api.yaml");

/// What every scripted answer starts with, so nobody mistakes it for a model.
pub const NOT_A_MODEL: &str = "not a language model";

/// A scripted stand-in for a model: it reads the conversation and follows
/// fixed rules (call a tool the user names or the Tasks API when the user
/// talks about tasks, then report the results; otherwise echo). It is not a
/// language model and says so in every answer.
#[derive(Debug)]
pub struct ScriptedExpert {
    /// Always `scripted`: the provider name in metrics.
    name: String,
    /// Which script (the model id), shown in every answer.
    label: String,
    latency: Duration,
}

impl ScriptedExpert {
    /// A scripted expert labelled `label` taking `latency` per answer.
    pub fn new(label: &str, latency: Duration) -> Self {
        Self {
            name: "scripted".to_owned(),
            label: label.to_owned(),
            latency,
        }
    }

    fn answer(&self, request: &ChatRequest) -> ChatResponse {
        let last_user = request.messages.iter().rposition(|m| m.role == Role::User).unwrap_or(0);
        let user_text = request.messages.get(last_user).map(Message::text).unwrap_or_default();
        let results: Vec<_> = request.messages[last_user..]
            .iter()
            .flat_map(|m| m.tool_call_results())
            .collect();
        let prefix = format!("[scripted expert `{}`, {NOT_A_MODEL}]", self.label);
        if !results.is_empty() {
            let mut text = format!("{prefix} The tools answered:");
            for r in results {
                let short: String = r.content.chars().take(300).collect();
                text.push_str(&format!(" {short}"));
            }
            return ChatResponse::new(
                &self.name,
                &request.model,
                Message::assistant(text),
                StopReason::EndTurn,
            );
        }
        if !matches!(request.tool_choice, Some(ToolChoice::None)) {
            if let Some(call) = self.pick_tool(request, &user_text) {
                return ChatResponse::tool_use(&self.name, &request.model, vec![call]);
            }
        }
        let text = format!("{prefix} You said: {user_text}");
        ChatResponse::new(
            &self.name,
            &request.model,
            Message::assistant(text),
            StopReason::EndTurn,
        )
    }

    fn pick_tool(&self, request: &ChatRequest, user_text: &str) -> Option<ToolCall> {
        let lower = user_text.to_lowercase();
        let forced = match &request.tool_choice {
            Some(ToolChoice::Tool { name }) => request.tools.iter().find(|t| &t.name == name),
            _ => None,
        };
        let named = || {
            request
                .tools
                .iter()
                .filter(|t| lower.contains(&t.name.to_lowercase()))
                .max_by_key(|t| t.name.len())
        };
        let by_suffix = |suffix: &str| request.tools.iter().find(|t| t.name.ends_with(suffix));
        let tasks = || {
            if !lower.contains("task") {
                return None;
            }
            if lower.contains("create") || lower.contains("add") {
                by_suffix("createTask")
            } else if lower.contains("delete") {
                by_suffix("deleteTask")
            } else {
                by_suffix("listTasks")
            }
        };
        let required = || match request.tool_choice {
            Some(ToolChoice::Required) => request.tools.first(),
            _ => None,
        };
        let tool = forced.or_else(named).or_else(tasks).or_else(required)?;
        let args = arguments_for(tool, user_text);
        Some(ToolCall::from_value("call_scripted_1", &tool.name, &args))
    }
}

/// Arguments that satisfy `tool`'s required properties: a task title from
/// the user's words, 1 for ids and numbers, `true` for flags.
fn arguments_for(tool: &ToolSpec, user_text: &str) -> Value {
    let schema = &tool.input_schema;
    let mut args = Map::new();
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let props = schema.get("properties").and_then(Value::as_object);
    for name in required {
        let prop = props.and_then(|p| p.get(name));
        let ty = prop
            .and_then(|p| p.get("type"))
            .and_then(Value::as_str)
            .unwrap_or("string");
        let enumerated = prop
            .and_then(|p| p.get("enum"))
            .and_then(Value::as_array)
            .and_then(|e| e.first());
        let v = match (enumerated, ty) {
            (Some(first), _) => first.clone(),
            (None, "integer") => json!(1),
            (None, "number") => json!(1.0),
            (None, "boolean") => json!(true),
            (None, "object") => json!({}),
            (None, "array") => json!([]),
            (None, _) if name == "title" => json!(
                user_text
                    .split_once(':')
                    .map_or(user_text, |(_, t)| t)
                    .trim()
                    .chars()
                    .take(80)
                    .collect::<String>()
            ),
            (None, _) => json!(user_text.split_whitespace().last().unwrap_or("demo")),
        };
        args.insert(name.to_owned(), v);
    }
    Value::Object(args)
}

#[async_trait]
impl ChatProvider for ScriptedExpert {
    fn name(&self) -> &str {
        &self.name
    }

    fn capabilities(&self) -> ProviderCapabilities {
        ProviderCapabilities {
            tools: true,
            streaming: true,
            parallel_tool_calls: true,
            structured_output: false,
            max_context_tokens: Some(128_000),
            ..Default::default()
        }
    }

    async fn chat(&self, request: &ChatRequest, _ctx: &CallContext) -> Result<ChatResponse, ProviderError> {
        tokio::time::sleep(self.latency).await;
        let mut response = self.answer(request);
        let output = response.text().split_whitespace().count() as u64 + 10 * response.tool_calls().count() as u64;
        response.usage = Usage {
            input_tokens: request.estimated_input_tokens(),
            output_tokens: output.max(1),
            ..Default::default()
        };
        response.id = Some(format!("scripted-{}", rand::random::<u64>()));
        Ok(response)
    }

    async fn chat_stream(&self, request: &ChatRequest, ctx: &CallContext) -> Result<ChatStream, ProviderError> {
        let response = self.chat(request, ctx).await?;
        // Text in word-sized deltas, one per `latency`, so clients see a real stream.
        let mut events = Vec::new();
        for e in response_to_events(&response) {
            match e {
                StreamEvent::TextDelta { text } => {
                    for piece in text.split_inclusive(' ') {
                        events.push(StreamEvent::TextDelta { text: piece.to_owned() });
                    }
                }
                other => events.push(other),
            }
        }
        let latency = self.latency;
        let paced = futures_util::stream::iter(events.into_iter().enumerate()).then(move |(i, e)| async move {
            if i > 0 && matches!(e, StreamEvent::TextDelta { .. }) {
                tokio::time::sleep(latency).await;
            }
            Ok(e)
        });
        Ok(Box::pin(paced))
    }
}

/// The two scripted experts of the offline default: `(id, latency, price)`,
/// prices in USD per million tokens; they are made up, so metrics and
/// budgets have something to count.
pub const SCRIPTED_EXPERTS: [(&str, Duration, toolplane_core::Price); 2] = [
    (
        "scripted-fast",
        Duration::from_millis(5),
        toolplane_core::Price::per_million(0.15, 0.6),
    ),
    (
        "scripted-careful",
        Duration::from_millis(25),
        toolplane_core::Price::per_million(2.5, 10.0),
    ),
];

#[derive(Default)]
struct Db {
    next_id: u64,
    tasks: BTreeMap<u64, Value>,
}

#[derive(Clone)]
struct TasksState {
    db: Arc<Mutex<Db>>,
    token: Arc<str>,
}

fn authorized(s: &TasksState, headers: &HeaderMap) -> Result<(), Box<Response>> {
    let ok = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|t| t == &*s.token);
    if ok {
        return Ok(());
    }
    let body = Json(json!({"message": "missing or wrong bearer token"}));
    Err(Box::new((StatusCode::UNAUTHORIZED, body).into_response()))
}

fn not_found(id: u64) -> Response {
    (StatusCode::NOT_FOUND, Json(json!({"message": format!("no task {id}")}))).into_response()
}

#[derive(Deserialize)]
struct ListQuery {
    status: Option<String>,
    limit: Option<usize>,
}

async fn list(State(s): State<TasksState>, h: HeaderMap, Query(q): Query<ListQuery>) -> Response {
    if let Err(r) = authorized(&s, &h) {
        return *r;
    }
    let db = s.db.lock();
    let tasks: Vec<Value> = db
        .tasks
        .values()
        .rev()
        .filter(|t| q.status.as_deref().is_none_or(|st| t["status"] == st))
        .take(q.limit.unwrap_or(20))
        .cloned()
        .collect();
    Json(tasks).into_response()
}

async fn create(State(s): State<TasksState>, h: HeaderMap, Json(body): Json<Value>) -> Response {
    if let Err(r) = authorized(&s, &h) {
        return *r;
    }
    let Some(title) = body.get("title").and_then(Value::as_str).filter(|t| !t.is_empty()) else {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({"message": "title is required"})),
        )
            .into_response();
    };
    let mut db = s.db.lock();
    db.next_id += 1;
    let id = db.next_id;
    let task = json!({
        "id": id,
        "title": title,
        "project": body.get("project").cloned().unwrap_or(Value::Null),
        "priority": body.get("priority").cloned().unwrap_or(json!(3)),
        "due": body.get("due").cloned().unwrap_or(Value::Null),
        "status": "open",
    });
    db.tasks.insert(id, task.clone());
    (StatusCode::CREATED, Json(task)).into_response()
}

async fn get_one(State(s): State<TasksState>, h: HeaderMap, Path(id): Path<u64>) -> Response {
    if let Err(r) = authorized(&s, &h) {
        return *r;
    }
    match s.db.lock().tasks.get(&id) {
        Some(t) => Json(t.clone()).into_response(),
        None => not_found(id),
    }
}

async fn update(State(s): State<TasksState>, h: HeaderMap, Path(id): Path<u64>, Json(body): Json<Value>) -> Response {
    if let Err(r) = authorized(&s, &h) {
        return *r;
    }
    let mut db = s.db.lock();
    let Some(task) = db.tasks.get_mut(&id) else {
        return not_found(id);
    };
    for key in ["title", "status"] {
        if let Some(v) = body.get(key) {
            task[key] = v.clone();
        }
    }
    Json(task.clone()).into_response()
}

async fn delete(State(s): State<TasksState>, h: HeaderMap, Path(id): Path<u64>) -> Response {
    if let Err(r) = authorized(&s, &h) {
        return *r;
    }
    match s.db.lock().tasks.remove(&id) {
        Some(_) => StatusCode::NO_CONTENT.into_response(),
        None => not_found(id),
    }
}

async fn summary(State(s): State<TasksState>, h: HeaderMap, Path(project): Path<String>) -> Response {
    if let Err(r) = authorized(&s, &h) {
        return *r;
    }
    let db = s.db.lock();
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    for t in db.tasks.values().filter(|t| t["project"] == project.as_str()) {
        *counts
            .entry(t["status"].as_str().unwrap_or("unknown").to_owned())
            .or_default() += 1;
    }
    Json(counts).into_response()
}

/// Serves the demo Tasks API (in memory) on an ephemeral loopback port,
/// accepting `token` as its bearer token; returns the address.
///
/// # Errors
/// The port cannot be bound.
pub async fn serve_tasks_api(token: &str) -> std::io::Result<SocketAddr> {
    let state = TasksState {
        db: Arc::default(),
        token: token.into(),
    };
    let app = Router::new()
        .route("/v1/tasks", get(list).post(create))
        .route("/v1/tasks/{id}", get(get_one).patch(update).delete(delete))
        .route("/v1/projects/{project}/summary", get(summary))
        .with_state(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        let listener = listener.tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        });
        let _ = axum::serve(listener, app).await;
    });
    Ok(addr)
}

/// The permission policy of the offline default: members (every generated
/// key) may read and write tasks; deleting needs a human's approval.
pub const DEMO_POLICY: &str = r#"
[[rule]]
id = "members-use-the-demo-tools"
effect = "allow"
roles = ["member"]
tools = ["listTasks", "getTask", "getProjectSummary", "createTask", "updateTask", "current_time"]

[[rule]]
id = "deletes-need-a-human"
effect = "ask"
roles = ["member"]
tools = ["deleteTask"]
allow_destructive = true
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn scripted_expert_calls_a_named_tool_then_reports() {
        let e = ScriptedExpert::new("scripted-fast", Duration::ZERO);
        let tool = ToolSpec::new("get_weather", "Weather.").with_input_schema(json!({
            "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]
        }));
        let mut req = ChatRequest::new("m", vec![Message::user("use get_weather for Paris")]).with_tools(vec![tool]);
        let r = e.chat(&req, &CallContext::default()).await.unwrap();
        let call = r.tool_calls().next().unwrap().clone();
        assert_eq!(call.name, "get_weather");
        assert_eq!(call.arguments_value().unwrap(), json!({"city": "Paris"}));
        req.messages.push(Message::assistant_tool_calls(vec![call.clone()]));
        req.messages
            .push(Message::tool_results(vec![toolplane_core::ToolResult::ok(
                call.id, "sunny",
            )]));
        let r = e.chat(&req, &CallContext::default()).await.unwrap();
        assert!(
            r.text().contains(NOT_A_MODEL) && r.text().contains("sunny"),
            "{}",
            r.text()
        );
    }
}
