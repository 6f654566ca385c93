//! Chat messages and their content parts.

use serde::{Deserialize, Serialize};

use crate::ToolCall;

/// Who speaks.
///
/// Tool results travel in [`Role::Tool`] messages; providers without such a
/// role (Anthropic, for one) map them into their own form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Instructions from the host.
    System,
    /// The human or calling program.
    User,
    /// The model.
    Assistant,
    /// Results of tool calls.
    Tool,
}

/// Where an image comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ImageSource {
    /// A URL the provider fetches.
    Url {
        /// The address.
        url: String,
    },
    /// Inline base64 data.
    Base64 {
        /// MIME type, such as `image/png`.
        media_type: String,
        /// The base64-encoded bytes.
        data: String,
    },
}

/// The result of one tool call, sent back to the model.
///
/// ```
/// use toolplane_core::ToolResult;
/// let r = ToolResult::error("call_1", "permission denied");
/// assert!(r.is_error);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolResult {
    /// The id of the [`ToolCall`] this answers.
    pub call_id: String,
    /// The tool's name (some providers want it, such as Mistral and Gemini).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The result text (JSON results are serialized).
    pub content: String,
    /// The call failed; the content explains why.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub is_error: bool,
}

impl ToolResult {
    /// A successful result.
    pub fn ok(call_id: impl Into<String>, content: impl Into<String>) -> Self {
        Self {
            call_id: call_id.into(),
            name: None,
            content: content.into(),
            is_error: false,
        }
    }

    /// A failed result.
    pub fn error(call_id: impl Into<String>, content: impl Into<String>) -> Self {
        Self {
            is_error: true,
            ..Self::ok(call_id, content)
        }
    }

    /// Sets the tool name.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }
}

/// One part of a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum ContentPart {
    /// Plain text.
    Text {
        /// The text.
        text: String,
    },
    /// An image.
    Image {
        /// Where the image comes from.
        source: ImageSource,
    },
    /// A request from the model to run a tool.
    ToolCall(ToolCall),
    /// The result of a tool call.
    ToolResult(ToolResult),
    /// Model reasoning that a provider exposes (Anthropic thinking blocks).
    Thinking {
        /// The reasoning text.
        text: String,
        /// The provider's signature, which must be sent back unchanged.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        signature: Option<String>,
    },
    /// The model declined to answer (OpenAI `refusal`).
    Refusal {
        /// The refusal text.
        text: String,
    },
}

/// One turn of a conversation.
///
/// ```
/// use toolplane_core::{Message, Role, ToolCall};
/// let m = Message::user("What is the weather in Paris?");
/// assert_eq!(m.role, Role::User);
/// assert_eq!(m.text(), "What is the weather in Paris?");
///
/// let a = Message::assistant_tool_calls(vec![ToolCall::new("c1", "get_weather", "{}")]);
/// assert_eq!(a.tool_calls().count(), 1);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// Who speaks.
    pub role: Role,
    /// What is said, in order.
    pub content: Vec<ContentPart>,
}

impl Message {
    /// A message with one text part.
    pub fn new(role: Role, text: impl Into<String>) -> Self {
        Self {
            role,
            content: vec![ContentPart::Text { text: text.into() }],
        }
    }

    /// A system message.
    pub fn system(text: impl Into<String>) -> Self {
        Self::new(Role::System, text)
    }

    /// A user message.
    pub fn user(text: impl Into<String>) -> Self {
        Self::new(Role::User, text)
    }

    /// An assistant message.
    pub fn assistant(text: impl Into<String>) -> Self {
        Self::new(Role::Assistant, text)
    }

    /// An assistant turn that calls tools.
    pub fn assistant_tool_calls(calls: Vec<ToolCall>) -> Self {
        Self {
            role: Role::Assistant,
            content: calls.into_iter().map(ContentPart::ToolCall).collect(),
        }
    }

    /// A tool-role message carrying results, in call order.
    pub fn tool_results(results: Vec<ToolResult>) -> Self {
        Self {
            role: Role::Tool,
            content: results.into_iter().map(ContentPart::ToolResult).collect(),
        }
    }

    /// The concatenated text parts (refusals included).
    pub fn text(&self) -> String {
        let mut out = String::new();
        for part in &self.content {
            if let ContentPart::Text { text } | ContentPart::Refusal { text } = part {
                out.push_str(text);
            }
        }
        out
    }

    /// The tool calls in this message, in order.
    pub fn tool_calls(&self) -> impl Iterator<Item = &ToolCall> {
        self.content.iter().filter_map(|p| match p {
            ContentPart::ToolCall(c) => Some(c),
            _ => None,
        })
    }

    /// The results of tool calls in this message, in order: the counterpart
    /// of [`Message::tool_calls`] (`Message::tool_results` is the constructor).
    ///
    /// ```
    /// use toolplane_core::{Message, ToolCall, ToolResult};
    /// let asked = Message::assistant_tool_calls(vec![ToolCall::new("c1", "now", "{}")]);
    /// let answered = Message::tool_results(vec![ToolResult::ok("c1", "12:00")]);
    /// assert_eq!(asked.tool_calls().next().unwrap().id, "c1");
    /// assert_eq!(answered.tool_call_results().next().unwrap().call_id, "c1");
    /// ```
    pub fn tool_call_results(&self) -> impl Iterator<Item = &ToolResult> {
        self.content.iter().filter_map(|p| match p {
            ContentPart::ToolResult(r) => Some(r),
            _ => None,
        })
    }

    /// The tool results in this message, in order.
    #[deprecated(
        since = "0.1.0",
        note = "renamed `tool_call_results`, the counterpart of `tool_calls`"
    )]
    pub fn tool_results_iter(&self) -> impl Iterator<Item = &ToolResult> {
        self.tool_call_results()
    }
}
