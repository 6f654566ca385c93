//! `GET /openapi.json`: an OpenAPI 3.1 description of the gateway, built from
//! the same table that registers the routes (`app::endpoints`), so
//! the description cannot list a route the server lacks or miss one it has.

use serde_json::{Map, Value, json};

use crate::api_schemas;
use crate::error::{ApiError, Dialect};

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

/// The request schema of `POST /v1/chat/completions` (the fields the gateway reads).
pub(crate) fn chat_request_schema() -> Value {
    crate::openai_wire::request_schema()
}

/// The request schema of `POST /v1/messages`.
pub(crate) fn messages_request_schema() -> Value {
    crate::anthropic_wire::request_schema()
}

/// The request schema of `POST /v1/runs`.
pub(crate) fn run_request_schema() -> Value {
    let messages = chat_request_schema()
        .pointer("/properties/messages")
        .cloned()
        .unwrap_or_else(|| json!({"type": "array"}));
    json!({
        "type": "object",
        "description": "Give `input` (one user message) or `messages` (Chat Completions messages).",
        "anyOf": [{"required": ["input"]}, {"required": ["messages"]}],
        "properties": {
            "model": {"type": "string", "default": "auto"},
            "input": {"type": "string", "description": "One user message."},
            "messages": messages,
            "max_steps": {"type": ["integer", "null"], "minimum": 1, "maximum": 64, "default": 8}
        }
    })
}

/// The request schema of `POST /v1/runs/{id}/approvals`.
pub(crate) fn approvals_schema() -> Value {
    json!({
        "type": "object",
        "required": ["decisions"],
        "properties": {"decisions": {"type": "array", "description": "One decision for each pending call.",
            "items": {"type": "object", "required": ["decision"],
                "anyOf": [{"required": ["call_id"]}, {"required": ["approval_id"]}],
                "properties": {"call_id": {"type": "string"}, "approval_id": {"type": "string"},
                    "decision": {"type": "string", "enum": ["approve", "reject"]}, "reason": {"type": "string"}}}}}
    })
}

/// Any JSON object (a tool's arguments).
pub(crate) fn any_object() -> Value {
    json!({"type": "object", "additionalProperties": true})
}

/// The parts of the description that depend on the configuration: the
/// names a request may give as `model` and the tools `{name}` may name.
#[derive(Debug, Clone, Default)]
pub struct Offered {
    /// Experts, `auto` and task types.
    pub models: Vec<String>,
    /// Tool names.
    pub tools: Vec<String>,
}

/// One answer of an operation: status, description, body schemas by media type.
struct Answer {
    status: u16,
    description: &'static str,
    content: Vec<(&'static str, Value)>,
}

impl Answer {
    fn json(status: u16, description: &'static str, schema: Value) -> Self {
        Self {
            status,
            description,
            content: vec![("application/json", schema)],
        }
    }
}

/// The success answers of the operations this crate defines; `None` for a
/// route documented only by its `produces` (a route added elsewhere).
fn success(e: &EndpointDoc) -> Option<Vec<Answer>> {
    use crate::{anthropic_wire, openai_wire};
    const SSE: &str = "text/event-stream";
    let ok = |schema| vec![Answer::json(200, "OK", schema)];
    Some(match e.operation_id {
        "createChatCompletion" => vec![Answer {
            status: 200,
            description: "A `chat.completion` object, or with `stream: true` server-sent `chat.completion.chunk` events ending in `[DONE]`.",
            content: vec![
                ("application/json", openai_wire::response_schema()),
                (SSE, openai_wire::stream_event_schema(ApiError::schema(Dialect::OpenAi))),
            ],
        }],
        "createMessage" => vec![Answer {
            status: 200,
            description: "A `message` object, or with `stream: true` Anthropic's server-sent events.",
            content: vec![
                ("application/json", anthropic_wire::response_schema()),
                (
                    SSE,
                    anthropic_wire::stream_event_schema(ApiError::schema(Dialect::Anthropic)),
                ),
            ],
        }],
        "listModels" => ok(api_schemas::models()),
        "listTools" => ok(api_schemas::tools()),
        "callTool" => ok(api_schemas::tool_result()),
        "startRun" => vec![Answer::json(201, "The run started.", api_schemas::run_accepted())],
        "getRun" => ok(api_schemas::run()),
        "cancelRun" => ok(api_schemas::run_cancelled()),
        "streamRunEvents" => vec![Answer {
            status: 200,
            description: "Every event so far, then live ones until the run rests (answered, stopped, failed, cancelled or paused).",
            content: vec![(SSE, api_schemas::run_event())],
        }],
        "decideApprovals" => vec![Answer::json(202, "The run resumes.", api_schemas::run_accepted())],
        "getPrometheusMetrics" => vec![Answer {
            status: 200,
            description: "The Prometheus text exposition format 0.0.4.",
            content: vec![("text/plain", json!({"type": "string"}))],
        }],
        "getMetricsReport" => ok(api_schemas::metrics_report()),
        "listAuditRecords" => ok(api_schemas::audit_records()),
        "verifyAuditLog" => ok(api_schemas::audit_verification()),
        "getHealth" => ok(api_schemas::health()),
        "getReadiness" => vec![
            Answer::json(200, "Ready.", api_schemas::readiness()),
            Answer::json(
                503,
                "Not ready (the checks say why), or the server sheds load.",
                json!({"anyOf": [api_schemas::readiness(), ApiError::schema(Dialect::OpenAi)]}),
            ),
        ],
        "getOpenApi" => ok(api_schemas::openapi()),
        "listMcpIntegrations" => ok(crate::integrations::mcp::list_schema()),
        "reconnectMcpIntegration" => ok(crate::integrations::mcp::server_schema()),
        _ => return None,
    })
}

/// The error statuses an operation's handler can answer with, beyond those
/// every route of its kind can (401, 503, and 400/413 for a body).
fn handler_errors(operation_id: &str) -> &'static [u16] {
    match operation_id {
        "createChatCompletion" | "createMessage" => &[404, 429, 502, 503, 504],
        "callTool" => &[403, 404, 429, 500, 502, 504],
        "startRun" => &[404],
        "getRun" | "streamRunEvents" => &[404],
        "cancelRun" => &[404, 500],
        "decideApprovals" => &[403, 404, 409],
        "getMetricsReport" => &[403],
        "listAuditRecords" | "verifyAuditLog" => &[403, 500],
        "listModels" | "listTools" | "getPrometheusMetrics" | "getHealth" | "getReadiness" | "getOpenApi" => &[],
        // Sign-in takes no key header but checks the one in its body.
        "createConsoleSession" => &[401, 403, 404, 409, 415, 429],
        // The MCP transport answers a client that does not accept both JSON
        // and SSE (406), a body that is not JSON (415), a method it does not
        // serve (405) and an unknown session (404).
        "mcpStreamableHttp" => &[400, 403, 404, 405, 406, 409, 415, 429],
        // Run-time integration changes are written to `integrations.json`: 500 when that fails.
        "addOpenApiIntegration" | "removeOpenApiIntegration" | "setToolEnabled" => &[400, 403, 404, 409, 429, 500],
        // A route documented elsewhere: the statuses any handler here may use.
        _ => &[400, 403, 404, 409, 429],
    }
}

fn error_description(status: u16) -> &'static str {
    match status {
        400 => "The request is malformed; `param` names the field.",
        401 => "No key, or a key this server does not know.",
        403 => "The principal lacks a role, or the permission policy denies the call.",
        404 => "No such model, tool or run.",
        409 => "The run is not paused for approvals.",
        405 => "The method is not served on this path.",
        406 => "The `accept` header does not allow what this endpoint answers with.",
        413 => "The request body is over the size limit.",
        415 => "The body's `content-type` is not one this endpoint reads (JSON).",
        429 => "A rate limit or budget is spent; `retry-after` says when to try again.",
        500 => {
            "The server failed (a tool's internal error, the audit log cannot be read, or a state file cannot be written)."
        }
        502 => "The upstream provider or tool failed.",
        503 => {
            "The server is at its limit of concurrent requests, or no provider can answer; retry after `retry-after`."
        }
        504 => "The upstream provider or tool timed out.",
        _ => "An error.",
    }
}

fn header(description: &str) -> Value {
    json!({"description": description, "schema": {"type": "string"}})
}

fn responses(e: &EndpointDoc) -> Map<String, Value> {
    let dialect = if e.path.starts_with("/v1/messages") {
        Dialect::Anthropic
    } else {
        Dialect::OpenAi
    };
    let answers = success(e).unwrap_or_else(|| {
        let status = match e.operation_id {
            "startRun" => 201,
            "decideApprovals" => 202,
            _ => 200,
        };
        let schema = if e.produces == "application/json" {
            json!({"type": "object"})
        } else {
            json!({"type": "string"})
        };
        vec![Answer {
            status,
            description: "OK",
            content: vec![(e.produces, schema)],
        }]
    });
    let request_id = header("The request's id (the client's `x-request-id`, or a new one).");
    let mut out = Map::new();
    for a in answers {
        let content: Map<String, Value> = a
            .content
            .into_iter()
            .map(|(media, schema)| (media.to_owned(), json!({"schema": schema})))
            .collect();
        let mut headers = json!({"x-request-id": request_id});
        if e.operation_id == "createChatCompletion" || e.operation_id == "createMessage" {
            headers[crate::app::EXPERT_HEADER] = header("The expert that answered.");
        }
        if a.status == 503 {
            headers["retry-after"] = header("Seconds to wait before retrying.");
        }
        let mut response = json!({"description": a.description, "headers": headers, "content": content});
        if let Some(links) = links(e.operation_id, a.status) {
            response["links"] = links;
        }
        out.insert(a.status.to_string(), response);
    }
    let has_path_params = e.path.contains('{');
    let mut errors: Vec<u16> = handler_errors(e.operation_id).to_vec();
    errors.push(503);
    if e.authenticated {
        errors.push(401);
    }
    if e.request.is_some() {
        errors.extend([400, 413]);
    }
    if !e.query.is_empty() || has_path_params {
        errors.push(400);
    }
    errors.sort_unstable();
    errors.dedup();
    let error_body = json!({"schema": ApiError::schema(dialect)});
    for status in errors {
        if out.contains_key(&status.to_string()) {
            continue;
        }
        let mut headers = json!({"x-request-id": request_id});
        if matches!(status, 429 | 503) {
            headers["retry-after"] = header("Seconds to wait before retrying.");
        }
        out.insert(
            status.to_string(),
            json!({"description": error_description(status), "headers": headers,
                "content": {"application/json": error_body}}),
        );
    }
    out
}

/// Links from an answer to the operations its body names (a run's id, a tool's name).
fn links(operation_id: &str, status: u16) -> Option<Value> {
    let run = |op: &str| json!({"operationId": op, "parameters": {"id": "$response.body#/id"}});
    match (operation_id, status) {
        ("startRun", 201) | ("decideApprovals", 202) => Some(json!({
            "getRun": run("getRun"),
            "streamRunEvents": run("streamRunEvents"),
            "cancelRun": run("cancelRun"),
            "decideApprovals": run("decideApprovals"),
        })),
        ("listTools", 200) => Some(json!({
            "callTool": {"operationId": "callTool", "parameters": {"name": "$response.body#/data/0/name"}}
        })),
        _ => None,
    }
}

/// `schema` with `names` offered as an `enum` first: any other string is
/// still valid and answers 404.
fn offering(schema: Value, names: &[String]) -> Value {
    if names.is_empty() {
        return schema;
    }
    json!({"anyOf": [{"enum": names}, schema]})
}

/// The OpenAPI 3.1 document for `endpoints`, without configuration-dependent names.
pub fn document(endpoints: &[EndpointDoc]) -> Value {
    document_for(endpoints, &Offered::default())
}

/// The OpenAPI 3.1 document for `endpoints` on a server that offers `offered`.
pub fn document_for(endpoints: &[EndpointDoc], offered: &Offered) -> Value {
    let mut paths = Map::new();
    for e in endpoints {
        let mut params: Vec<Value> = e
            .path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(|name| {
                let schema = json!({"type": "string", "minLength": 1});
                let schema = if name == "name" && e.path.starts_with("/v1/tools/") {
                    offering(schema, &offered.tools)
                } else {
                    schema
                };
                json!({"name": name, "in": "path", "required": true, "schema": schema})
            })
            .collect();
        for (name, ty, description) in e.query {
            let schema = if *ty == "integer" {
                json!({"type": "integer", "minimum": 0})
            } else {
                json!({"type": ty})
            };
            params.push(json!({"name": name, "in": "query", "required": false,
                "description": description, "schema": schema}));
        }
        let mut op = json!({
            "operationId": e.operation_id,
            "summary": e.summary,
            "description": e.summary,
            "parameters": params,
            "responses": responses(e),
        });
        if !e.authenticated {
            op["security"] = json!([]);
        }
        if let Some(schema) = e.request {
            let mut schema = schema();
            if let Some(model) = schema.pointer_mut("/properties/model") {
                *model = offering(model.take(), &offered.models);
            }
            op["requestBody"] = json!({"required": true, "content": {"application/json": {"schema": schema}}});
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
