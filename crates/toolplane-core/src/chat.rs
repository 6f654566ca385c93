//! Chat requests and responses, stop reasons and token usage.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::{ContentPart, Message, RateLimitSnapshot, Role, ToolCall, ToolSpec};

/// How the model may use the tools it is given.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum ToolChoice {
    /// The model decides (the default).
    #[default]
    Auto,
    /// The model must not call tools.
    None,
    /// The model must call at least one tool.
    Required,
    /// The model must call this tool.
    Tool {
        /// The tool's name.
        name: String,
    },
}

/// A structured-output request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ResponseFormat {
    /// Plain text (the default).
    Text,
    /// Any JSON object.
    JsonObject,
    /// JSON that satisfies a schema.
    JsonSchema {
        /// A name for the schema (OpenAI requires one).
        name: String,
        /// The schema.
        schema: Value,
        /// Ask the provider to enforce the schema strictly, where supported.
        #[serde(default)]
        strict: bool,
    },
}

/// How long a prompt-cache entry should live, where the provider lets the
/// caller choose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum CacheTtl {
    /// The provider's short default (Anthropic: 5 minutes).
    #[default]
    #[serde(rename = "5m")]
    FiveMinutes,
    /// An hour (Anthropic `ttl: "1h"`; writes cost more, reads the same).
    #[serde(rename = "1h")]
    OneHour,
}

/// Prompt caching the caller asks for: one option, mapped by each provider.
///
/// | provider | what is sent |
/// | --- | --- |
/// | Anthropic | `cache_control` breakpoints (at most four): the last tool, the system prompt, the last message and the user turn before it, with `ttl` |
/// | OpenAI (and compatible servers that take it) | `prompt_cache_key` from `key` (caching itself is automatic) |
/// | Gemini | `cachedContent` from `cached_content` (implicit caching is automatic) |
/// | Mistral, Cohere | nothing (no caching control) |
///
/// Cache reads and writes come back in [`Usage`] either way.
///
/// ```
/// use toolplane_core::{CacheTtl, ChatRequest, Message, PromptCache};
/// let req = ChatRequest::new("claude-sonnet-4-5", vec![Message::user("hi")])
///     .with_cache(PromptCache::default().with_ttl(CacheTtl::OneHour).with_key("tenant-42"));
/// assert_eq!(req.cache.unwrap().ttl, CacheTtl::OneHour);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PromptCache {
    /// How long entries written by this request should live.
    pub ttl: CacheTtl,
    /// A routing key that groups requests sharing a prefix (OpenAI `prompt_cache_key`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// An explicitly created cache to read from (Gemini `cachedContents/...`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cached_content: Option<String>,
}

impl PromptCache {
    /// Sets the entry lifetime.
    pub fn with_ttl(mut self, ttl: CacheTtl) -> Self {
        self.ttl = ttl;
        self
    }

    /// Sets the cache routing key.
    pub fn with_key(mut self, key: impl Into<String>) -> Self {
        self.key = Some(key.into());
        self
    }

    /// Names an explicitly created cache.
    pub fn with_cached_content(mut self, name: impl Into<String>) -> Self {
        self.cached_content = Some(name.into());
        self
    }
}

/// Facts about a request that are not sent to the model but steer routing,
/// limits and metrics.
///
/// # Where the task type and the request id live
///
/// Each has one home. The **task type** describes the request (what kind of
/// work this prompt is), so it lives here, in `task_type`: it travels with
/// the request through the router to the expert and into the metrics, a
/// classifier that derives it from the messages writes it here, and it is
/// saved with a paused run's request. The **request id** correlates
/// everything one call sets off (the chat call, every tool call, audit
/// records, feedback), and tool calls have no `ChatRequest`, so it lives in
/// [`CallContext::request_id`](crate::CallContext::request_id). The other
/// two places (`CallContext::task_type`, `RequestMetadata::request_id`) are
/// deprecated and kept only so existing code compiles.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RequestMetadata {
    /// The kind of task (`code`, `summarization`, ...), used by the router
    /// and metrics: the one home of a call's task type.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task_type: Option<String>,
    /// **Deprecated**: the request id lives in
    /// [`CallContext::request_id`](crate::CallContext::request_id); read and
    /// write that. Kept (without the `#[deprecated]` attribute, so crates
    /// built with `-D warnings` that still read it keep compiling) until the
    /// next breaking release.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// An end-user id, passed to providers that accept one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Free-form labels.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
}

/// One call to a chat model.
///
/// Only `model` and `messages` are needed; every other field is optional and a
/// provider ignores what it cannot express. `extra` is merged into the
/// provider's request body last, for vendor options this type does not name.
///
/// ```
/// use toolplane_core::{ChatRequest, Message, ToolChoice, ToolSpec};
/// let req = ChatRequest::new("gpt-4o-mini", vec![Message::user("hi")])
///     .with_tools(vec![ToolSpec::new("now", "The current time.")])
///     .with_tool_choice(ToolChoice::Required)
///     .with_max_tokens(256)
///     .with_task_type("chat");
/// assert_eq!(req.metadata.task_type.as_deref(), Some("chat"));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatRequest {
    /// The model id as the provider names it.
    pub model: String,
    /// The conversation, system messages included.
    pub messages: Vec<Message>,
    /// Tools the model may call.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tools: Vec<ToolSpec>,
    /// How the tools may be used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<ToolChoice>,
    /// Whether the model may call several tools in one turn.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parallel_tool_calls: Option<bool>,
    /// The most output tokens to generate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    /// Sampling temperature.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f32>,
    /// Nucleus sampling.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f32>,
    /// Sequences that stop generation.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stop: Vec<String>,
    /// A seed for providers that support deterministic sampling.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// Structured output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_format: Option<ResponseFormat>,
    /// Prompt caching, mapped by each provider ([`PromptCache`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache: Option<PromptCache>,
    /// Routing, limit and metrics facts; not sent to the model.
    #[serde(default)]
    pub metadata: RequestMetadata,
    /// Vendor-specific fields merged into the request body.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub extra: Map<String, Value>,
}

impl ChatRequest {
    /// A request with a model and messages.
    pub fn new(model: impl Into<String>, messages: Vec<Message>) -> Self {
        Self {
            model: model.into(),
            messages,
            tools: Vec::new(),
            tool_choice: None,
            parallel_tool_calls: None,
            max_tokens: None,
            temperature: None,
            top_p: None,
            stop: Vec::new(),
            seed: None,
            response_format: None,
            cache: None,
            metadata: RequestMetadata::default(),
            extra: Map::new(),
        }
    }

    /// Sets the tools.
    pub fn with_tools(mut self, tools: Vec<ToolSpec>) -> Self {
        self.tools = tools;
        self
    }

    /// Sets the tool choice.
    pub fn with_tool_choice(mut self, choice: ToolChoice) -> Self {
        self.tool_choice = Some(choice);
        self
    }

    /// Sets the output token limit.
    pub fn with_max_tokens(mut self, max_tokens: u32) -> Self {
        self.max_tokens = Some(max_tokens);
        self
    }

    /// Sets the sampling temperature.
    pub fn with_temperature(mut self, temperature: f32) -> Self {
        self.temperature = Some(temperature);
        self
    }

    /// Sets the task type (`metadata.task_type`, its one home).
    pub fn with_task_type(mut self, task_type: impl Into<String>) -> Self {
        self.metadata.task_type = Some(task_type.into());
        self
    }

    /// The task type, when set and not blank.
    ///
    /// ```
    /// use toolplane_core::{ChatRequest, Message};
    /// let req = ChatRequest::new("m", vec![Message::user("fix this bug")]).with_task_type("code");
    /// assert_eq!(req.task_type(), Some("code"));
    /// assert_eq!(ChatRequest::new("m", vec![]).with_task_type(" ").task_type(), None);
    /// ```
    pub fn task_type(&self) -> Option<&str> {
        self.metadata.task_type.as_deref().filter(|t| !t.trim().is_empty())
    }

    /// Asks for prompt caching.
    pub fn with_cache(mut self, cache: PromptCache) -> Self {
        self.cache = Some(cache);
        self
    }

    /// A rough count of the input tokens (about four bytes a token), for
    /// budgets and context-window checks made before the provider counts.
    pub fn estimated_input_tokens(&self) -> u64 {
        let mut bytes = 0usize;
        for m in &self.messages {
            for p in &m.content {
                bytes += match p {
                    ContentPart::Text { text } | ContentPart::Refusal { text } | ContentPart::Thinking { text, .. } => {
                        text.len()
                    }
                    ContentPart::ToolCall(c) => c.name.len() + c.arguments.len(),
                    ContentPart::ToolResult(r) => r.content.len(),
                    ContentPart::Image { .. } => 3_000,
                };
            }
            bytes += 16;
        }
        for t in &self.tools {
            bytes += t.name.len() + t.description.len() + t.input_schema.to_string().len();
        }
        (bytes as u64).div_ceil(4)
    }
}

/// Why the model stopped, normalized across providers.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// A natural end of the answer (OpenAI `stop`, Anthropic `end_turn`, Cohere `COMPLETE`).
    EndTurn,
    /// The output token limit was reached (`length`, `max_tokens`).
    MaxTokens,
    /// The model wants tools to run (`tool_calls`, `tool_use`, `TOOL_CALL`).
    ToolUse,
    /// A stop sequence matched.
    StopSequence,
    /// The provider's content filter cut the answer.
    ContentFilter,
    /// The model refused (Anthropic `refusal`).
    Refusal,
    /// The provider paused a long turn; send it back to continue (Anthropic `pause_turn`).
    PauseTurn,
    /// A reason this library does not know, as the provider spelled it.
    Other(String),
}

/// Token counts of one call, normalized once for every provider.
///
/// - `input_tokens` counts *all* input tokens, cached or not (OpenAI's
///   `prompt_tokens`; for Anthropic the sum of `input_tokens`,
///   `cache_read_input_tokens` and `cache_creation_input_tokens`).
/// - `cache_read_tokens` and `cache_write_tokens` are the parts of
///   `input_tokens` read from or written to a prompt cache.
/// - `output_tokens` counts all generated tokens, reasoning included;
///   `reasoning_tokens` is the part of it spent on hidden reasoning.
///
/// ```
/// use toolplane_core::Usage;
/// let u = Usage { input_tokens: 1000, cache_read_tokens: 800, output_tokens: 50, ..Default::default() };
/// assert_eq!(u.uncached_input_tokens(), 200);
/// assert_eq!(u.total_tokens(), 1050);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Usage {
    /// All input tokens.
    pub input_tokens: u64,
    /// All output tokens.
    pub output_tokens: u64,
    /// Input tokens served from a prompt cache.
    pub cache_read_tokens: u64,
    /// Input tokens written to a prompt cache.
    pub cache_write_tokens: u64,
    /// The part of `cache_write_tokens` written with a one-hour lifetime
    /// (Anthropic bills those higher than 5-minute writes).
    #[serde(skip_serializing_if = "is_zero")]
    pub cache_write_1h_tokens: u64,
    /// Output tokens spent on reasoning.
    pub reasoning_tokens: u64,
}

impl Usage {
    /// Input tokens neither read from nor written to a cache.
    pub fn uncached_input_tokens(&self) -> u64 {
        self.input_tokens
            .saturating_sub(self.cache_read_tokens)
            .saturating_sub(self.cache_write_tokens)
    }

    /// Input plus output.
    pub fn total_tokens(&self) -> u64 {
        self.input_tokens.saturating_add(self.output_tokens)
    }

    /// Adds another call's usage (saturating).
    pub fn add(&mut self, other: &Usage) {
        self.input_tokens = self.input_tokens.saturating_add(other.input_tokens);
        self.output_tokens = self.output_tokens.saturating_add(other.output_tokens);
        self.cache_read_tokens = self.cache_read_tokens.saturating_add(other.cache_read_tokens);
        self.cache_write_tokens = self.cache_write_tokens.saturating_add(other.cache_write_tokens);
        self.cache_write_1h_tokens = self.cache_write_1h_tokens.saturating_add(other.cache_write_1h_tokens);
        self.reasoning_tokens = self.reasoning_tokens.saturating_add(other.reasoning_tokens);
    }
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// A model's complete answer.
///
/// ```
/// use toolplane_core::{ChatResponse, Message, StopReason};
/// let r = ChatResponse::new("openai", "gpt-4o", Message::assistant("Hello"), StopReason::EndTurn);
/// assert_eq!(r.text(), "Hello");
/// assert!(r.tool_calls().next().is_none());
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatResponse {
    /// The assistant's message.
    pub message: Message,
    /// Why it stopped.
    pub stop_reason: StopReason,
    /// Tokens used.
    pub usage: Usage,
    /// The provider that answered (`openai`, `anthropic`, ...).
    pub provider: String,
    /// The model that answered, as the provider reports it.
    pub model: String,
    /// The provider's id for the response (`chatcmpl-...`, `msg_...`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The provider's request id from the response headers, for support tickets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// Rate-limit state read from the response headers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<RateLimitSnapshot>,
}

impl ChatResponse {
    /// A response with empty usage and no ids.
    pub fn new(
        provider: impl Into<String>,
        model: impl Into<String>,
        message: Message,
        stop_reason: StopReason,
    ) -> Self {
        Self {
            message,
            stop_reason,
            usage: Usage::default(),
            provider: provider.into(),
            model: model.into(),
            id: None,
            request_id: None,
            rate_limit: None,
        }
    }

    /// Sets the usage.
    pub fn with_usage(mut self, usage: Usage) -> Self {
        self.usage = usage;
        self
    }

    /// The answer's text.
    pub fn text(&self) -> String {
        self.message.text()
    }

    /// The tool calls, in order.
    pub fn tool_calls(&self) -> impl Iterator<Item = &ToolCall> {
        self.message.tool_calls()
    }

    /// An assistant message that calls tools, with the given calls.
    pub fn tool_use(provider: impl Into<String>, model: impl Into<String>, calls: Vec<ToolCall>) -> Self {
        Self::new(
            provider,
            model,
            Message::assistant_tool_calls(calls),
            StopReason::ToolUse,
        )
    }

    /// True when the message holds at least one tool call.
    pub fn wants_tools(&self) -> bool {
        self.message.role == Role::Assistant && self.tool_calls().next().is_some()
    }
}
