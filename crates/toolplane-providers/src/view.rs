//! A serializable, normalized view of an answer, for `--json` output and logs.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use toolplane_core::{ChatResponse, StopReason, Usage};

/// One tool call with its arguments parsed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolCallView {
    /// The provider's call id.
    pub id: String,
    /// The tool's name.
    pub name: String,
    /// The arguments as JSON; the raw text as a JSON string when it does not parse.
    pub arguments: Value,
}

/// The normalized answer: text, tool calls with parsed arguments, stop
/// reason and usage, plus who answered.
///
/// ```
/// use toolplane_core::{ChatResponse, Message, StopReason, ToolCall};
/// use toolplane_providers::NormalizedResponse;
/// let r = ChatResponse::tool_use("openai", "gpt-4o", vec![ToolCall::new("c1", "now", r#"{"tz":"UTC"}"#)]);
/// let v = NormalizedResponse::from(&r);
/// assert_eq!(v.tool_calls[0].arguments["tz"], "UTC");
/// let json = serde_json::to_value(&v).unwrap();
/// assert_eq!(json["stop_reason"], "tool_use");
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NormalizedResponse {
    /// The provider that answered.
    pub provider: String,
    /// The model, as the provider reported it.
    pub model: String,
    /// The answer's text (refusals included).
    pub text: String,
    /// The tool calls, in order.
    pub tool_calls: Vec<ToolCallView>,
    /// Why the model stopped.
    pub stop_reason: StopReason,
    /// Tokens used.
    pub usage: Usage,
    /// The provider's response id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The provider's request id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

impl From<&ChatResponse> for NormalizedResponse {
    fn from(r: &ChatResponse) -> Self {
        Self {
            provider: r.provider.clone(),
            model: r.model.clone(),
            text: r.text(),
            tool_calls: r
                .tool_calls()
                .map(|c| ToolCallView {
                    id: c.id.clone(),
                    name: c.name.clone(),
                    arguments: c
                        .arguments_value()
                        .unwrap_or_else(|_| Value::String(c.arguments.clone())),
                })
                .collect(),
            stop_reason: r.stop_reason.clone(),
            usage: r.usage,
            id: r.id.clone(),
            request_id: r.request_id.clone(),
        }
    }
}
