//! `GET /openapi.json`: an OpenAPI 3.1 description of the gateway, built from
//! the same table that registers the routes (`app::endpoints`), so
//! the description cannot list a route the server lacks or miss one it has.

use serde_json::{Map, Value, json};

/// One documented route.
#[derive(Debug, Clone)]
pub struct EndpointDoc {
    /// `get`, `post`, `delete`.
    pub method: &'static str,
    /// The path with `{name}` parameters.
    pub path: &'static str,
    /// The operationId (the tool name our converter gives it).
    pub operation_id: &'static str,
    /// One line for humans and models.
    pub summary: &'static str,
    /// Needs a key.
    pub authenticated: bool,
    /// The JSON request body's schema, when the route takes one.
    pub request: Option<fn() -> Value>,
    /// The content type of a 200/201 answer.
    pub produces: &'static str,
    /// Query parameters: name, schema, description.
    pub query: &'static [(&'static str, &'static str, &'static str)],
}

fn error_schema() -> Value {
    json!({
        "type": "object",
        "properties": {"error": {"type": "object", "properties": {
            "message": {"type": "string"}, "type": {"type": "string"},
            "param": {"type": ["string", "null"]}, "code": {"type": ["string", "null"]}}}}
    })
}

/// The request schema of `POST /v1/chat/completions` (the fields the gateway reads).
pub(crate) fn chat_request_schema() -> Value {
    json!({
        "type": "object",
        "required": ["model", "messages"],
        "properties": {
            "model": {"type": "string", "description": "An expert id, `auto`, or a task type (GET /v1/models)."},
            "messages": {"type": "array", "minItems": 1, "items": {"type": "object", "required": ["role"],
                "properties": {"role": {"type": "string", "enum": ["system", "developer", "user", "assistant", "tool"]},
                    "content": {}, "tool_calls": {"type": "array"}, "tool_call_id": {"type": "string"}}}},
            "tools": {"type": "array", "items": {"type": "object"}},
            "tool_choice": {},
            "parallel_tool_calls": {"type": "boolean"},
            "response_format": {"type": "object"},
            "max_tokens": {"type": "integer", "minimum": 0},
            "max_completion_tokens": {"type": "integer", "minimum": 0},
            "temperature": {"type": "number"},
            "top_p": {"type": "number"},
            "stream": {"type": "boolean"},
            "stream_options": {"type": "object", "properties": {"include_usage": {"type": "boolean"}}}
        }
    })
}

/// The request schema of `POST /v1/messages`.
pub(crate) fn messages_request_schema() -> Value {
    json!({
        "type": "object",
        "required": ["model", "max_tokens", "messages"],
        "properties": {
            "model": {"type": "string"},
            "max_tokens": {"type": "integer", "minimum": 1},
            "system": {},
            "messages": {"type": "array", "items": {"type": "object", "required": ["role", "content"],
                "properties": {"role": {"type": "string", "enum": ["user", "assistant"]}, "content": {}}}},
            "tools": {"type": "array", "items": {"type": "object"}},
            "tool_choice": {"type": "object"},
            "stream": {"type": "boolean"}
        }
    })
}

/// The request schema of `POST /v1/runs`.
pub(crate) fn run_request_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "model": {"type": "string", "default": "auto"},
            "input": {"type": "string", "description": "One user message."},
            "messages": {"type": "array", "items": {"type": "object"}},
            "max_steps": {"type": "integer", "minimum": 1, "maximum": 64}
        }
    })
}

/// The request schema of `POST /v1/runs/{id}/approvals`.
pub(crate) fn approvals_schema() -> Value {
    json!({
        "type": "object",
        "required": ["decisions"],
        "properties": {"decisions": {"type": "array", "items": {"type": "object", "required": ["decision"],
            "properties": {"call_id": {"type": "string"}, "approval_id": {"type": "string"},
                "decision": {"type": "string", "enum": ["approve", "reject"]}, "reason": {"type": "string"}}}}}
    })
}

/// Any JSON object (a tool's arguments).
pub(crate) fn any_object() -> Value {
    json!({"type": "object", "additionalProperties": true})
}

/// The OpenAPI 3.1 document for `endpoints`.
pub fn document(endpoints: &[EndpointDoc]) -> Value {
    let mut paths = Map::new();
    for e in endpoints {
        let mut params: Vec<Value> = e
            .path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}))
            .collect();
        for (name, ty, description) in e.query {
            params.push(json!({"name": name, "in": "query", "required": false,
                "description": description, "schema": {"type": ty}}));
        }
        let ok = if e.produces == "application/json" {
            json!({"description": "OK", "content": {"application/json": {"schema": {"type": "object"}}}})
        } else {
            json!({"description": "OK", "content": {e.produces: {"schema": {"type": "string"}}}})
        };
        let status = if e.operation_id == "startRun" {
            "201"
        } else if e.operation_id == "decideApprovals" {
            "202"
        } else {
            "200"
        };
        let mut responses = Map::new();
        responses.insert(status.into(), ok);
        let error = json!({"description": "An error in OpenAI's shape", "content": {"application/json": {"schema": error_schema()}}});
        for code in ["400", "404", "413", "429", "503"] {
            responses.insert(code.into(), error.clone());
        }
        if e.authenticated {
            responses.insert("401".into(), error.clone());
            responses.insert("403".into(), error.clone());
        }
        let mut op = json!({
            "operationId": e.operation_id,
            "summary": e.summary,
            "description": e.summary,
            "parameters": params,
            "responses": responses,
        });
        if !e.authenticated {
            op["security"] = json!([]);
        }
        if let Some(schema) = e.request {
            op["requestBody"] = json!({"required": true, "content": {"application/json": {"schema": schema()}}});
        }
        let entry = paths.entry(e.path.to_owned()).or_insert_with(|| json!({}));
        entry[e.method] = op;
    }
    json!({
        "openapi": "3.1.0",
        "info": {"title": "toolplane gateway", "version": env!("CARGO_PKG_VERSION"),
            "description": "OpenAI- and Anthropic-compatible endpoints, tools, runs, metrics and audit of `toolplane serve`."},
        "servers": [{"url": "/"}],
        "security": [{"bearerAuth": []}],
        "components": {"securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}}},
        "paths": paths,
    })
}
