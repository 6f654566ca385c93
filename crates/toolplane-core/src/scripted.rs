//! A provider that replays answers written in advance: for tests, docs and
//! offline demos.

use std::collections::VecDeque;
use std::sync::Mutex;

use async_trait::async_trait;

use crate::{
    CallContext, ChatProvider, ChatRequest, ChatResponse, Message, ProviderCapabilities, ProviderError,
    ProviderErrorKind, StopReason, Tool, ToolCall, ToolError, ToolOutput, ToolSpec, Usage,
};

/// A [`ChatProvider`] that answers from a script, in order, and records the
/// requests it saw.
///
/// When the script runs out it answers with an
/// [`ProviderErrorKind::InvalidRequest`] error saying so, never a panic.
///
/// ```
/// use toolplane_core::{CallContext, ChatProvider, ChatRequest, Message, ScriptedProvider, ToolCall};
/// # let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
/// # rt.block_on(async {
/// let p = ScriptedProvider::new("scripted")
///     .with_tool_calls(vec![ToolCall::new("c1", "now", "{}")])
///     .with_text("It is noon.");
/// let req = ChatRequest::new("m", vec![Message::user("time?")]);
/// let first = p.chat(&req, &CallContext::default()).await.unwrap();
/// assert!(first.wants_tools());
/// let second = p.chat(&req, &CallContext::default()).await.unwrap();
/// assert_eq!(second.text(), "It is noon.");
/// assert_eq!(p.requests().len(), 2);
/// # });
/// ```
#[derive(Debug)]
pub struct ScriptedProvider {
    name: String,
    script: Mutex<VecDeque<Result<ChatResponse, ProviderError>>>,
    seen: Mutex<Vec<ChatRequest>>,
    capabilities: ProviderCapabilities,
}

impl ScriptedProvider {
    /// An empty script.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            script: Mutex::new(VecDeque::new()),
            seen: Mutex::new(Vec::new()),
            capabilities: ProviderCapabilities::default(),
        }
    }

    /// Appends a complete response.
    pub fn with_response(self, response: ChatResponse) -> Self {
        self.push(Ok(response));
        self
    }

    /// Appends a text answer (10 input and 5 output tokens).
    pub fn with_text(self, text: impl Into<String>) -> Self {
        let r = ChatResponse::new(
            self.name.clone(),
            "scripted",
            Message::assistant(text),
            StopReason::EndTurn,
        )
        .with_usage(Usage {
            input_tokens: 10,
            output_tokens: 5,
            ..Usage::default()
        });
        self.with_response(r)
    }

    /// Appends an answer that calls tools.
    pub fn with_tool_calls(self, calls: Vec<ToolCall>) -> Self {
        let r = ChatResponse::tool_use(self.name.clone(), "scripted", calls).with_usage(Usage {
            input_tokens: 10,
            output_tokens: 5,
            ..Usage::default()
        });
        self.with_response(r)
    }

    /// Appends an error.
    pub fn with_error(self, error: ProviderError) -> Self {
        self.push(Err(error));
        self
    }

    /// Sets the capabilities reported.
    pub fn with_capabilities(mut self, capabilities: ProviderCapabilities) -> Self {
        self.capabilities = capabilities;
        self
    }

    /// Appends an entry to the script (usable through a shared reference).
    pub fn push(&self, entry: Result<ChatResponse, ProviderError>) {
        if let Ok(mut s) = self.script.lock() {
            s.push_back(entry);
        }
    }

    /// Entries left in the script.
    pub fn remaining(&self) -> usize {
        self.script.lock().map(|s| s.len()).unwrap_or(0)
    }

    /// The requests received so far.
    pub fn requests(&self) -> Vec<ChatRequest> {
        self.seen.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

#[async_trait]
impl ChatProvider for ScriptedProvider {
    fn name(&self) -> &str {
        &self.name
    }

    fn capabilities(&self) -> ProviderCapabilities {
        self.capabilities.clone()
    }

    async fn chat(&self, request: &ChatRequest, _ctx: &CallContext) -> Result<ChatResponse, ProviderError> {
        if let Ok(mut seen) = self.seen.lock() {
            seen.push(request.clone());
        }
        let next = self.script.lock().ok().and_then(|mut s| s.pop_front());
        match next {
            Some(Ok(mut r)) => {
                r.model.clone_from(&request.model);
                Ok(r)
            }
            Some(Err(e)) => Err(e),
            None => Err(ProviderError::new(
                ProviderErrorKind::InvalidRequest,
                self.name.clone(),
                "the script has no more answers",
            )),
        }
    }
}

/// A tool that answers with its own arguments: the in-memory [`Tool`] for
/// tests, doctests and wiring checks, as [`ScriptedProvider`] is for providers.
///
/// ```
/// use serde_json::json;
/// use toolplane_core::{CallContext, EchoTool, Tool, ToolSpec};
/// # let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
/// # rt.block_on(async {
/// let echo = EchoTool::new(ToolSpec::new("echo", "Returns its arguments."));
/// let out = echo.call(&json!({"x": 1}), &CallContext::default()).await.unwrap();
/// assert_eq!(out.content, json!({"x": 1}));
/// # });
/// ```
#[derive(Debug, Clone)]
pub struct EchoTool(pub ToolSpec);

impl EchoTool {
    /// An echo tool with this definition (name, description, input schema).
    pub fn new(spec: ToolSpec) -> Self {
        Self(spec)
    }
}

#[async_trait]
impl Tool for EchoTool {
    fn spec(&self) -> &ToolSpec {
        &self.0
    }

    async fn call(&self, args: &serde_json::Value, _ctx: &CallContext) -> Result<ToolOutput, ToolError> {
        Ok(ToolOutput::json(args.clone()))
    }
}
