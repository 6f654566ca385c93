//! Mistral: chat completions (`POST {base_url}/chat/completions`), a dialect
//! of OpenAI's with `tool_choice: "any"`, `random_seed`, tool names on tool
//! results and tool-call ids of exactly 9 letters and digits (rewritten
//! deterministically with [`mistral_call_id`](crate::mistral_call_id), in the
//! call and in its result alike). Streams decode with
//! [`ChatChunkDecoder`].

use async_trait::async_trait;
use toolplane_core::{
    CallContext, ChatProvider, ChatRequest, ChatResponse, ChatStream, ProviderCapabilities, ProviderError,
    RateLimitSnapshot,
};

use crate::config::{ConfigError, ProviderConfig, VendorEnv};
use crate::http::HttpClient;
use crate::openai::ChatChunkDecoder;
use crate::openai::wire::{self, Dialect};
use crate::tools::MISTRAL_TOOLS;

/// Mistral's API root.
pub const MISTRAL_BASE_URL: &str = "https://api.mistral.ai/v1";

/// `MISTRAL_API_KEY` (required) and `MISTRAL_BASE_URL`.
pub(crate) const MISTRAL_ENV: VendorEnv = VendorEnv {
    provider: "mistral",
    key: "MISTRAL_API_KEY",
    base_url: Some("MISTRAL_BASE_URL"),
    default_base_url: MISTRAL_BASE_URL,
    key_required: true,
};

const DIALECT: Dialect = Dialect {
    max_completion_tokens: false,
    stream_usage: false,
    mistral: true,
};

/// A Mistral chat client.
///
/// ```
/// use toolplane_providers::{MistralProvider, ProviderConfig};
/// let p = MistralProvider::new(ProviderConfig::new("https://api.mistral.ai/v1").with_api_key("k"))?;
/// # let _ = p;
/// # Ok::<(), toolplane_providers::ConfigError>(())
/// ```
#[derive(Debug)]
pub struct MistralProvider {
    http: HttpClient,
}

impl MistralProvider {
    /// A client with Bearer auth.
    pub fn new(cfg: ProviderConfig) -> Result<Self, ConfigError> {
        Ok(Self {
            http: HttpClient::new("mistral", cfg)?,
        })
    }

    /// `MISTRAL_API_KEY` (and `MISTRAL_BASE_URL` when set).
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::new(MISTRAL_ENV.config()?)
    }

    /// The last rate-limit headers any response carried.
    pub fn rate_limit(&self) -> Option<RateLimitSnapshot> {
        self.http.last_rate_limit()
    }

    /// The request body this provider sends for `request`.
    pub fn request_body(&self, request: &ChatRequest, stream: bool) -> serde_json::Value {
        let tools = self.http.wire_tools(request, None, MISTRAL_TOOLS);
        wire::request_body(
            DIALECT,
            &tools.request(request),
            &tools,
            &self.http.model(request),
            stream,
        )
    }
}

#[async_trait]
impl ChatProvider for MistralProvider {
    fn name(&self) -> &str {
        self.http.provider()
    }

    fn capabilities(&self) -> ProviderCapabilities {
        ProviderCapabilities {
            structured_output: true,
            ..ProviderCapabilities::default()
        }
    }

    async fn chat(&self, request: &ChatRequest, ctx: &CallContext) -> Result<ChatResponse, ProviderError> {
        let model = self.http.model(request);
        let tools = self.http.wire_tools(request, Some(ctx), MISTRAL_TOOLS);
        let body = wire::request_body(DIALECT, &tools.request(request), &tools, &model, false);
        self.http
            .post_chat(&model, "/chat/completions", &body, ctx, &tools, |b| {
                wire::parse_response(self.name(), &model, b)
            })
            .await
    }

    async fn chat_stream(&self, request: &ChatRequest, ctx: &CallContext) -> Result<ChatStream, ProviderError> {
        let tools = self.http.wire_tools(request, Some(ctx), MISTRAL_TOOLS);
        let body = wire::request_body(
            DIALECT,
            &tools.request(request),
            &tools,
            &self.http.model(request),
            true,
        );
        self.http
            .post_stream(
                &self.http.model(request),
                "/chat/completions",
                &body,
                ctx,
                tools,
                || ChatChunkDecoder::new("mistral"),
            )
            .await
    }
}
