//! OpenTelemetry GenAI semantic-convention names, in one place.
//!
//! toolplane's crates emit [`tracing`](https://docs.rs/tracing) spans whose
//! names and fields follow the OpenTelemetry semantic conventions for
//! generative AI, **as of semantic-conventions v1.41.0** (the last release
//! before the GenAI conventions moved to their own repository; they are
//! still marked *development*). Every attribute and span name those crates
//! use is a constant here, so following a newer version of the conventions
//! is an edit to this module (and the tests that check emitted spans against
//! it).
//!
//! Span names follow the conventions' `{operation} {target}` form: `chat
//! {model}`, `execute_tool {tool}`, `invoke_agent {agent}`. A `tracing` span
//! name is a static string, so the span is named after the operation
//! ([`OP_CHAT`], [`OP_EXECUTE_TOOL`], [`OP_INVOKE_AGENT`]) and the full name
//! goes in the [`OTEL_NAME`] field, which `tracing-opentelemetry` uses as the
//! exported span name; [`span_name`] builds it.
//!
//! Names under `toolplane.` are this project's own (no convention covers
//! them yet).
//!
//! ```
//! use toolplane_core::semconv;
//! assert_eq!(semconv::span_name(semconv::OP_EXECUTE_TOOL, "get_weather"), "execute_tool get_weather");
//! assert_eq!(semconv::span_name(semconv::OP_INVOKE_AGENT, ""), "invoke_agent");
//! ```

/// The convention version these names follow.
pub const SEMCONV_VERSION: &str = "1.41.0";

// ---- Operations (values of `gen_ai.operation.name`, and the span names' first word).

/// Operation: a chat completion (one model call).
pub const OP_CHAT: &str = "chat";
/// Operation: running one tool call.
pub const OP_EXECUTE_TOOL: &str = "execute_tool";
/// Operation: running an agent (a tool-calling loop) to an answer or a pause.
pub const OP_INVOKE_AGENT: &str = "invoke_agent";

// ---- Common GenAI attributes.

/// The operation: [`OP_CHAT`], [`OP_EXECUTE_TOOL`] or [`OP_INVOKE_AGENT`].
pub const GEN_AI_OPERATION_NAME: &str = "gen_ai.operation.name";
/// The provider as the caller names it (`openai`, `anthropic`, ...).
pub const GEN_AI_PROVIDER_NAME: &str = "gen_ai.provider.name";
/// The model a request asked for.
pub const GEN_AI_REQUEST_MODEL: &str = "gen_ai.request.model";
/// The output token limit a request set.
pub const GEN_AI_REQUEST_MAX_TOKENS: &str = "gen_ai.request.max_tokens";
/// The model that answered (may differ from the requested one).
pub const GEN_AI_RESPONSE_MODEL: &str = "gen_ai.response.model";
/// The provider's id of the response.
pub const GEN_AI_RESPONSE_ID: &str = "gen_ai.response.id";
/// Why the model stopped (the conventions make this an array; toolplane records
/// the one reason of its one choice).
pub const GEN_AI_RESPONSE_FINISH_REASONS: &str = "gen_ai.response.finish_reasons";
/// Input tokens (all of them, cached included).
pub const GEN_AI_USAGE_INPUT_TOKENS: &str = "gen_ai.usage.input_tokens";
/// Output tokens (reasoning included).
pub const GEN_AI_USAGE_OUTPUT_TOKENS: &str = "gen_ai.usage.output_tokens";
/// Input tokens served from a provider-managed cache (included in
/// [`GEN_AI_USAGE_INPUT_TOKENS`]).
pub const GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS: &str = "gen_ai.usage.cache_read.input_tokens";
/// Input tokens written to a provider-managed cache (included in
/// [`GEN_AI_USAGE_INPUT_TOKENS`]; 5-minute and 1-hour writes together).
pub const GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS: &str = "gen_ai.usage.cache_creation.input_tokens";
/// Seconds from issuing a streamed request to its first chunk (retries included).
pub const GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK: &str = "gen_ai.response.time_to_first_chunk";
/// A conversation or session id (toolplane: the run id).
pub const GEN_AI_CONVERSATION_ID: &str = "gen_ai.conversation.id";

// ---- Tools.

/// The tool's name.
pub const GEN_AI_TOOL_NAME: &str = "gen_ai.tool.name";
/// The id the model gave the tool call.
pub const GEN_AI_TOOL_CALL_ID: &str = "gen_ai.tool.call.id";
/// The tool type; toolplane's tools are all [`TOOL_TYPE_FUNCTION`].
pub const GEN_AI_TOOL_TYPE: &str = "gen_ai.tool.type";
/// `gen_ai.tool.type` for a tool run by the application.
pub const TOOL_TYPE_FUNCTION: &str = "function";
/// The call's arguments (opt-in content; toolplane records it only when the
/// host turns capture on, and only redacted).
pub const GEN_AI_TOOL_CALL_ARGUMENTS: &str = "gen_ai.tool.call.arguments";
/// The call's result (opt-in content, as for the arguments).
pub const GEN_AI_TOOL_CALL_RESULT: &str = "gen_ai.tool.call.result";

// ---- Agents.

/// The agent's name.
pub const GEN_AI_AGENT_NAME: &str = "gen_ai.agent.name";

// ---- General OpenTelemetry attributes.

/// The class of error that ended the operation (toolplane: the error's kind,
/// such as `invalid_arguments` or `permission_denied`); absent on success.
pub const ERROR_TYPE: &str = "error.type";
/// The exported span name (read by `tracing-opentelemetry`).
pub const OTEL_NAME: &str = "otel.name";
/// The span kind (read by `tracing-opentelemetry`): [`SPAN_KIND_CLIENT`] for model calls.
pub const OTEL_KIND: &str = "otel.kind";
/// `otel.kind` of a call to a remote service.
pub const SPAN_KIND_CLIENT: &str = "client";
/// The span status (read by `tracing-opentelemetry`): [`STATUS_ERROR`] on failure.
pub const OTEL_STATUS_CODE: &str = "otel.status_code";
/// `otel.status_code` of a failed operation.
pub const STATUS_ERROR: &str = "ERROR";

// ---- HTTP and servers (stable OpenTelemetry HTTP conventions).

/// The host a client span talks to.
pub const SERVER_ADDRESS: &str = "server.address";
/// The port a client span talks to.
pub const SERVER_PORT: &str = "server.port";
/// The HTTP method.
pub const HTTP_REQUEST_METHOD: &str = "http.request.method";
/// The response status code.
pub const HTTP_RESPONSE_STATUS_CODE: &str = "http.response.status_code";
/// The full request URL (toolplane removes credentials and query values first).
pub const URL_FULL: &str = "url.full";
/// The path of a server request, as received.
pub const URL_PATH: &str = "url.path";
/// The matched route template of a server request (`/v1/chat/completions`).
pub const HTTP_ROUTE: &str = "http.route";
/// `otel.kind` of a span serving a remote caller.
pub const SPAN_KIND_SERVER: &str = "server";

// ---- MCP (OpenTelemetry's MCP conventions, `docs/gen-ai/mcp.md`).

/// The JSON-RPC method of an MCP request (`tools/call`); the MCP server
/// span is named `{mcp.method.name} {tool}`.
pub const MCP_METHOD_NAME: &str = "mcp.method.name";
/// `mcp.method.name` of a tool call.
pub const MCP_METHOD_TOOLS_CALL: &str = "tools/call";
/// The JSON-RPC request id, as text.
pub const JSONRPC_REQUEST_ID: &str = "jsonrpc.request.id";
/// How the MCP messages travel: `pipe` (stdio) or `tcp` (Streamable HTTP).
pub const NETWORK_TRANSPORT: &str = "network.transport";

// ---- toolplane's own.

/// The request id the call runs under (`CallContext::request_id`: the
/// gateway's `x-request-id`), to join a trace with logs and audit records.
pub const TOOLPLANE_REQUEST_ID: &str = "toolplane.request.id";

/// A tool call's outcome: `ok` or the error kind (also in [`ERROR_TYPE`] then).
pub const TOOLPLANE_TOOL_OUTCOME: &str = "toolplane.tool.outcome";
/// A tool call's duration in microseconds, permit wait and timeout included.
pub const TOOLPLANE_TOOL_DURATION_US: &str = "toolplane.tool.duration_us";
/// The size in bytes of a tool call's argument text (always recorded; the text is not).
pub const TOOLPLANE_TOOL_ARGUMENTS_BYTES: &str = "toolplane.tool.arguments_bytes";
/// The run's id.
pub const TOOLPLANE_RUN_ID: &str = "toolplane.run.id";
/// How a run span ended: `answered`, `paused`, `stopped` or `error`.
pub const TOOLPLANE_RUN_OUTCOME: &str = "toolplane.run.outcome";
/// Why a run paused (`approval_required`).
pub const TOOLPLANE_RUN_PAUSE_REASON: &str = "toolplane.run.pause_reason";
/// Calls waiting for approval when a run paused.
pub const TOOLPLANE_RUN_PENDING_APPROVALS: &str = "toolplane.run.pending_approvals";
/// Why a run stopped (a limit, a cancel, a deadline).
pub const TOOLPLANE_RUN_STOP_CAUSE: &str = "toolplane.run.stop_cause";
/// On a resumed run's span: the id of the run it continues (the paused span
/// carries the same [`TOOLPLANE_RUN_ID`]).
pub const TOOLPLANE_RUN_RESUMES: &str = "toolplane.run.resumes";
/// On a resumed run's span: the step the run paused at.
pub const TOOLPLANE_RUN_RESUMED_AT_STEP: &str = "toolplane.run.resumed_at_step";
/// Provider calls a run has made in total (a resumed run keeps counting).
pub const TOOLPLANE_RUN_STEPS: &str = "toolplane.run.steps";
/// A chat span's step number within its run.
pub const TOOLPLANE_STEP: &str = "toolplane.step";
/// Reasoning tokens (included in [`GEN_AI_USAGE_OUTPUT_TOKENS`]); no
/// convention names them in v1.41.0.
pub const TOOLPLANE_USAGE_REASONING_TOKENS: &str = "toolplane.usage.reasoning_tokens";
/// Event names are the events' message, which `tracing-opentelemetry`
/// exports as the OpenTelemetry event name.
///
/// Event name: the transport waits and sends a model request again.
pub const EVENT_RETRY: &str = "toolplane.retry";
/// On a retry event: the retry's number (1 for the first retry).
pub const TOOLPLANE_RETRY_ATTEMPT: &str = "toolplane.retry.attempt";
/// On a retry event: the wait before the retry, in milliseconds.
pub const TOOLPLANE_RETRY_WAIT_MS: &str = "toolplane.retry.wait_ms";
/// On a retry event: the HTTP status that failed, when there was one.
pub const TOOLPLANE_RETRY_STATUS: &str = "toolplane.retry.status";
/// Event name: the router chose an expert (or ran out of them).
pub const EVENT_ROUTING: &str = "toolplane.routing";
/// On a routing event: the task type routed by.
pub const TOOLPLANE_ROUTE_TASK_TYPE: &str = "toolplane.route.task_type";
/// On a routing event: where the task type came from (`request`, `context`,
/// `classifier`, `default`).
pub const TOOLPLANE_ROUTE_TASK_SOURCE: &str = "toolplane.route.task_source";
/// On a routing event: the ranking strategy.
pub const TOOLPLANE_ROUTE_STRATEGY: &str = "toolplane.route.strategy";
/// On a routing event: the expert that answered (`provider:model`), when one did.
pub const TOOLPLANE_ROUTE_CHOSEN: &str = "toolplane.route.chosen";
/// On a routing event: the experts tried before, each with its error kind
/// (`openai:gpt-4o=rate_limited, ...`).
pub const TOOLPLANE_ROUTE_FALLBACKS: &str = "toolplane.route.fallbacks";
/// On a routing event: the experts tried in all.
pub const TOOLPLANE_ROUTE_ATTEMPTS: &str = "toolplane.route.attempts";
/// Event name: the permission policy decided a tool call.
pub const EVENT_PERMISSION: &str = "toolplane.permission";
/// On a permission event: `allow`, `deny` or `ask`.
pub const TOOLPLANE_PERMISSION_DECISION: &str = "toolplane.permission.decision";
/// On a permission event: the id of the rule that decided, or `default_deny`.
pub const TOOLPLANE_PERMISSION_RULE: &str = "toolplane.permission.rule";
/// Event name: a budget or rate limit refused a call.
pub const EVENT_REFUSED: &str = "toolplane.refused";
/// On a refusal event: what refused (`budget`, `rate_limit`).
pub const TOOLPLANE_REFUSAL_BY: &str = "toolplane.refusal.by";
/// On a refusal event: the limit's scope or key (never a secret).
pub const TOOLPLANE_REFUSAL_SCOPE: &str = "toolplane.refusal.scope";

/// A span name in the conventions' `{operation} {target}` form, or the
/// operation alone when the target is empty.
pub fn span_name(operation: &str, target: &str) -> String {
    if target.is_empty() {
        operation.to_string()
    } else {
        format!("{operation} {target}")
    }
}
