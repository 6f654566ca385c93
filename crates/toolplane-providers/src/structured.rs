//! Typed structured answers: [`ChatStructuredExt::chat_structured`] asks any
//! provider for JSON satisfying the schema of a Rust type, validates the
//! answer, gives the model one repair turn with the validator's messages, and
//! deserializes it.
//!
//! The schema (derived from `T` with schemars) is shaped the way each vendor
//! enforces structured output best:
//!
//! | provider name | how the schema is sent ([`StructuredMode`]) |
//! | --- | --- |
//! | `openai`, `openai-responses`, `azure-openai`, `openrouter`, `groq` | `response_format` `json_schema` with `strict: true`, the schema through the `openai-strict` profile (optional fields become nullable; the `null`s are dropped again before validation); non-strict when the schema cannot be strict |
//! | `anthropic` | a forced tool (`tool_choice: {type: tool}`) whose input schema is the schema; the answer is the call's input |
//! | `gemini` | `generationConfig.responseJsonSchema` (+ `responseMimeType`) |
//! | `mistral`, `cohere` | their JSON modes (`json_schema`, `json_object` + `json_schema`), `$ref`s inlined |
//! | others (presets, routers, hosts' own providers) | `json_schema` when the provider reports `structured_output`, else a forced tool when it takes tools, else [`StructuredError::Unsupported`] |
//!
//! This sits below the pipeline's `structured_answer` (which runs a whole
//! tool loop and repairs through it): one chat call, one optional repair.
//!
//! ```
//! use schemars::JsonSchema;
//! use serde::Deserialize;
//! use toolplane_core::{CallContext, ChatRequest, Message, ProviderCapabilities, ScriptedProvider};
//! use toolplane_providers::ChatStructuredExt;
//!
//! #[derive(Debug, Deserialize, JsonSchema)]
//! struct Weather { city: String, celsius: f64 }
//!
//! # let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
//! # rt.block_on(async {
//! // A provider that reports `structured_output` is sent `response_format`.
//! let provider = ScriptedProvider::new("scripted")
//!     .with_capabilities(ProviderCapabilities { structured_output: true, ..Default::default() })
//!     .with_text(r#"{"city":"Paris","celsius":21.5}"#);
//! let req = ChatRequest::new("m", vec![Message::user("Weather in Paris as JSON")]);
//! let answer = provider.chat_structured::<Weather>(req, &CallContext::new("r")).await.unwrap();
//! assert_eq!(answer.value.city, "Paris");
//! assert_eq!(answer.attempts, 1);
//! # });
//! ```

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde_json::Value;
use toolplane_core::{
    CallContext, ChatProvider, ChatRequest, ChatResponse, ContentPart, Message, ProviderCapabilities, ProviderError,
    ResponseFormat, Role, ToolChoice, ToolResult, ToolSpec,
};
use toolplane_schema::{Profile, ProfiledSchema, apply_profile};

/// The name of the tool a forced-tool answer comes through.
pub const STRUCTURED_TOOL: &str = "structured_output";

/// How a provider is asked for structured output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StructuredMode {
    /// `response_format` `json_schema`, `strict: true` (OpenAI).
    StrictSchema,
    /// `response_format` `json_schema` without strictness, the schema shaped by a profile.
    Schema(Profile),
    /// One tool with the schema as its input, which the model must call (Anthropic).
    ForcedTool,
}

impl StructuredMode {
    /// The mode for a provider by its name and capabilities, or `None` when
    /// it can neither take a schema nor be forced to call a tool.
    pub fn for_provider(name: &str, caps: &ProviderCapabilities) -> Option<Self> {
        Some(match name {
            "openai" | "openai-responses" | "azure-openai" | "openrouter" | "groq" => Self::StrictSchema,
            "anthropic" => Self::ForcedTool,
            "gemini" => Self::Schema(Profile::Anthropic),
            "mistral" => Self::Schema(Profile::Mistral),
            "cohere" => Self::Schema(Profile::Cohere),
            _ if caps.structured_output => Self::Schema(Profile::OpenAi),
            _ if caps.tools => Self::ForcedTool,
            _ => return None,
        })
    }
}

/// Why a structured answer could not be had.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StructuredError {
    /// The provider takes neither a response schema nor a forced tool.
    #[error("{provider} cannot be asked for structured output: it takes neither a JSON schema nor tools")]
    Unsupported {
        /// The provider.
        provider: String,
    },
    /// The schema derived from the type is not a valid JSON Schema.
    #[error("the schema of the requested type is invalid: {0}")]
    InvalidSchema(String),
    /// The call failed.
    #[error(transparent)]
    Provider(#[from] ProviderError),
    /// The answer still did not satisfy the schema after the repair turn.
    #[error("the answer does not satisfy the schema after {attempts} attempt(s): {}", problems.join("; "))]
    NonConforming {
        /// Answers checked.
        attempts: u32,
        /// The validator's messages about the last answer (`/path: problem`).
        problems: Vec<String>,
        /// The last answer.
        response: Box<ChatResponse>,
    },
}

/// A validated, deserialized structured answer.
#[derive(Debug, Clone)]
pub struct Structured<T> {
    /// The answer.
    pub value: T,
    /// The same answer as JSON.
    pub json: Value,
    /// The provider's last response.
    pub response: ChatResponse,
    /// Answers it took (2 when the repair turn was needed).
    pub attempts: u32,
}

/// A request prepared for structured output, and how to read its answer.
#[derive(Debug, Clone)]
pub struct StructuredPlan {
    /// The mode chosen.
    pub mode: StructuredMode,
    /// The schema as the caller's type describes it (what answers are validated against).
    pub schema: Value,
    /// The schema as sent, with its rewrite details.
    pub sent: ProfiledSchema,
}

/// The JSON Schema of `T`, as schemars derives it (`$schema` removed).
pub fn schema_of<T: JsonSchema>() -> Value {
    let mut v = schemars::schema_for!(T).to_value();
    if let Some(o) = v.as_object_mut() {
        o.remove("$schema");
    }
    v
}

/// Prepares `request` for a structured answer under `mode`: sets
/// `response_format` or the forced tool.
pub fn structured_request(
    mode: StructuredMode,
    request: &mut ChatRequest,
    name: &str,
    schema: &Value,
) -> StructuredPlan {
    let profile = match mode {
        StructuredMode::StrictSchema => Profile::OpenAiStrict,
        StructuredMode::Schema(p) => p,
        StructuredMode::ForcedTool => Profile::Anthropic,
    };
    let sent = apply_profile(schema, profile);
    match mode {
        StructuredMode::StrictSchema | StructuredMode::Schema(_) => {
            request.response_format = Some(ResponseFormat::JsonSchema {
                name: name.to_owned(),
                schema: sent.schema.clone(),
                strict: sent.strict,
            });
        }
        StructuredMode::ForcedTool => {
            request.tools.retain(|t| t.name != STRUCTURED_TOOL);
            request.tools.push(
                ToolSpec::new(
                    STRUCTURED_TOOL,
                    format!("Give the final answer (`{name}`) as this tool's input."),
                )
                .with_input_schema(sent.schema.clone()),
            );
            request.tool_choice = Some(ToolChoice::Tool {
                name: STRUCTURED_TOOL.into(),
            });
        }
    }
    StructuredPlan {
        mode,
        schema: schema.clone(),
        sent,
    }
}

/// The JSON value of an answer: the forced tool's input, or the text (whole,
/// in a code fence, or the outermost object in prose).
fn answer_json(plan: &StructuredPlan, response: &ChatResponse) -> Result<Value, String> {
    let raw = if plan.mode == StructuredMode::ForcedTool {
        let call = response
            .tool_calls()
            .find(|c| c.name == STRUCTURED_TOOL)
            .ok_or_else(|| format!("the model did not call `{STRUCTURED_TOOL}`"))?;
        call.arguments_value()
            .map_err(|e| format!("the tool input is not valid JSON: {e}"))?
    } else {
        if let Some(refusal) = response.message.content.iter().find_map(|p| match p {
            ContentPart::Refusal { text } => Some(text.clone()),
            _ => None,
        }) {
            return Err(format!("the model refused: {refusal}"));
        }
        extract_json(&response.text())?
    };
    Ok(plan.sent.restore_arguments(&plan.schema, raw))
}

/// Checks an answer against the plan: the JSON value, or the problems found.
pub fn check_answer(
    plan: &StructuredPlan,
    validator: &jsonschema::Validator,
    response: &ChatResponse,
) -> Result<Value, Vec<String>> {
    let value = answer_json(plan, response).map_err(|e| vec![e])?;
    let problems: Vec<String> = validator
        .iter_errors(&value)
        .take(20)
        .map(|e| {
            let path = e.instance_path().to_string();
            format!("{}: {e}", if path.is_empty() { "/" } else { &path })
        })
        .collect();
    if problems.is_empty() { Ok(value) } else { Err(problems) }
}

/// The JSON in a text answer: all of it, a fenced block, or the span from the
/// first `{`/`[` to the last `}`/`]`.
fn extract_json(text: &str) -> Result<Value, String> {
    let trimmed = text.trim();
    if let Ok(v) = serde_json::from_str(trimmed) {
        return Ok(v);
    }
    let fenced = trimmed.find("```").and_then(|start| {
        let after = &trimmed[start + 3..];
        let body = &after[after.find('\n')? + 1..];
        body.find("```").map(|end| body[..end].trim())
    });
    let candidate = fenced.unwrap_or_else(|| {
        let start = trimmed.find(['{', '[']).unwrap_or(0);
        let end = trimmed.rfind(['}', ']']).map_or(trimmed.len(), |e| e + 1);
        if start < end { &trimmed[start..end] } else { trimmed }
    });
    serde_json::from_str(candidate).map_err(|e| {
        format!(
            "the answer is not valid JSON (line {}, column {}): {e}",
            e.line(),
            e.column()
        )
    })
}

/// The repair turn: the model's answer, then what was wrong with it (as the
/// forced tool's error result, which must follow a tool call).
fn repair_turn(plan: &StructuredPlan, request: &mut ChatRequest, response: &ChatResponse, problems: &[String]) {
    let text = format!(
        "The answer does not satisfy the required JSON schema: {}. Answer again with the corrected JSON only.",
        problems.join("; ")
    );
    request.messages.push(response.message.clone());
    let call = response.tool_calls().find(|c| c.name == STRUCTURED_TOOL);
    match (plan.mode, call) {
        (StructuredMode::ForcedTool, Some(call)) => request.messages.push(Message {
            role: Role::Tool,
            content: vec![ContentPart::ToolResult(
                ToolResult::error(call.id.clone(), text).with_name(STRUCTURED_TOOL),
            )],
        }),
        _ => request.messages.push(Message::user(text)),
    }
}

/// Structured answers from any [`ChatProvider`].
#[async_trait]
pub trait ChatStructuredExt: ChatProvider {
    /// Asks for an answer of type `T` (see the [module docs](self)), with
    /// one repair turn when the first answer does not validate.
    ///
    /// # Errors
    /// [`StructuredError`]: a provider that cannot comply, a failed call, or
    /// an answer that still does not satisfy `T`'s schema after the repair.
    async fn chat_structured<T>(
        &self,
        request: ChatRequest,
        ctx: &CallContext,
    ) -> Result<Structured<T>, StructuredError>
    where
        T: JsonSchema + DeserializeOwned + Send,
    {
        chat_structured_with::<T>(self, request, ctx, 1).await
    }
}

impl<P: ChatProvider + ?Sized> ChatStructuredExt for P {}

/// [`ChatStructuredExt::chat_structured`] with a chosen number of repair turns.
///
/// # Errors
/// As [`ChatStructuredExt::chat_structured`].
pub async fn chat_structured_with<T>(
    provider: &(impl ChatProvider + ?Sized),
    mut request: ChatRequest,
    ctx: &CallContext,
    max_repairs: u32,
) -> Result<Structured<T>, StructuredError>
where
    T: JsonSchema + DeserializeOwned,
{
    let schema = schema_of::<T>();
    let name = schema
        .get("title")
        .and_then(Value::as_str)
        .map(|t| {
            t.chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect::<String>()
        })
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| "answer".into());
    let validator = jsonschema::validator_for(&schema).map_err(|e| StructuredError::InvalidSchema(e.to_string()))?;
    let mode = StructuredMode::for_provider(provider.name(), &provider.capabilities()).ok_or_else(|| {
        StructuredError::Unsupported {
            provider: provider.name().to_owned(),
        }
    })?;
    let plan = structured_request(mode, &mut request, &name, &schema);
    let mut attempts = 0;
    loop {
        let response = provider.chat(&request, ctx).await?;
        attempts += 1;
        let problems = match check_answer(&plan, &validator, &response) {
            Ok(json) => match serde_json::from_value::<T>(json.clone()) {
                Ok(value) => {
                    return Ok(Structured {
                        value,
                        json,
                        response,
                        attempts,
                    });
                }
                Err(e) => vec![format!("/: {e}")],
            },
            Err(problems) => problems,
        };
        if attempts > max_repairs {
            return Err(StructuredError::NonConforming {
                attempts,
                problems,
                response: Box::new(response),
            });
        }
        repair_turn(&plan, &mut request, &response, &problems);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_is_found_in_fences_and_prose() {
        assert_eq!(extract_json("{\"a\":1}").unwrap()["a"], 1);
        assert_eq!(extract_json("Here:\n```json\n{\"a\":2}\n```\nDone").unwrap()["a"], 2);
        assert_eq!(extract_json("The plan is {\"a\":3} as asked.").unwrap()["a"], 3);
        assert!(extract_json("no json here").unwrap_err().contains("line 1"));
    }
}
