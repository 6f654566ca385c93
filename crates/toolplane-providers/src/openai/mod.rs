//! OpenAI: Chat Completions and the Responses API, and every server that
//! speaks Chat Completions (Azure OpenAI, vLLM, Ollama, Groq, ...).

mod responses;
mod stream;
pub(crate) mod wire;

use async_trait::async_trait;
use toolplane_core::{
    CallContext, ChatProvider, ChatRequest, ChatResponse, ChatStream, ProviderCapabilities, ProviderError,
    RateLimitSnapshot,
};

pub use responses::{OpenAiResponsesProvider, ResponsesDecoder};
pub use stream::ChatChunkDecoder;

use crate::config::{AuthStyle, ConfigError, ProviderConfig, VendorEnv};
use crate::http::HttpClient;
use crate::tools::{OPENAI_TOOLS, WireTools};
use wire::Dialect;

/// OpenAI's API root.
pub const OPENAI_BASE_URL: &str = "https://api.openai.com/v1";

/// `OPENAI_API_KEY` (required) and `OPENAI_BASE_URL`, for Chat Completions
/// and the Responses API alike.
pub(crate) const OPENAI_ENV: VendorEnv = VendorEnv {
    provider: "openai",
    key: "OPENAI_API_KEY",
    base_url: Some("OPENAI_BASE_URL"),
    default_base_url: OPENAI_BASE_URL,
    key_required: true,
};

/// A Chat Completions client: `POST {base_url}/chat/completions`.
///
/// ```
/// use toolplane_providers::{OpenAiProvider, ProviderConfig};
/// // OpenAI itself:
/// let openai = OpenAiProvider::new(ProviderConfig::new("https://api.openai.com/v1").with_api_key("sk-..."))?;
/// // A local vLLM or Ollama server (no key; `max_tokens`):
/// let local = OpenAiProvider::compatible("ollama", ProviderConfig::new("http://localhost:11434/v1"))?;
/// // Azure OpenAI: deployment URL, `api-version` and the `api-key` header:
/// let azure = OpenAiProvider::azure("https://my.openai.azure.com", "gpt-4o", "2024-10-21", "key")?;
/// # let _ = (openai, local, azure);
/// # Ok::<(), toolplane_providers::ConfigError>(())
/// ```
#[derive(Debug)]
pub struct OpenAiProvider {
    name: String,
    http: HttpClient,
    dialect: Dialect,
    preset: Option<&'static crate::presets::CompatPreset>,
}

impl OpenAiProvider {
    /// OpenAI itself (`max_completion_tokens`, usage in streams).
    pub fn new(cfg: ProviderConfig) -> Result<Self, ConfigError> {
        Self::build("openai", cfg, true)
    }

    /// `OPENAI_API_KEY` and `OPENAI_BASE_URL` (default `https://api.openai.com/v1`).
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::new(OPENAI_ENV.config()?)
    }

    /// Any server that speaks Chat Completions, named `name` in metrics and
    /// errors. Sends `max_tokens` (which every such server accepts) and asks for
    /// usage in streams.
    pub fn compatible(name: &str, cfg: ProviderConfig) -> Result<Self, ConfigError> {
        Self::build(name, cfg, false)
    }

    /// Azure OpenAI: `{endpoint}/openai/deployments/{deployment}` with the
    /// `api-version` query parameter and the key in the `api-key` header.
    pub fn azure(endpoint: &str, deployment: &str, api_version: &str, api_key: &str) -> Result<Self, ConfigError> {
        Self::azure_with(endpoint, deployment, api_version, api_key, &|cfg| cfg)
    }

    /// [`azure`](Self::azure) with `configure` applied to the configuration.
    pub(crate) fn azure_with(
        endpoint: &str,
        deployment: &str,
        api_version: &str,
        api_key: &str,
        configure: &dyn Fn(ProviderConfig) -> ProviderConfig,
    ) -> Result<Self, ConfigError> {
        let cfg = ProviderConfig::new(format!(
            "{}/openai/deployments/{deployment}",
            endpoint.trim_end_matches('/')
        ))
        .with_api_key(api_key)
        .with_auth(AuthStyle::Header("api-key".into()))
        .with_query("api-version", api_version)
        .with_default_model(deployment);
        Self::build("azure-openai", configure(cfg), true)
    }

    fn build(name: &str, cfg: ProviderConfig, max_completion_tokens: bool) -> Result<Self, ConfigError> {
        Ok(Self {
            name: name.to_owned(),
            http: HttpClient::new(name, cfg)?,
            dialect: Dialect {
                max_completion_tokens,
                stream_usage: true,
                mistral: false,
            },
            preset: None,
        })
    }

    /// A server described by a [preset](crate::presets): named after it, with
    /// `max_tokens`, and every request shaped to what the server accepts.
    pub fn with_preset(
        preset: &'static crate::presets::CompatPreset,
        cfg: ProviderConfig,
    ) -> Result<Self, ConfigError> {
        let mut p = Self::build(preset.name, cfg, false)?;
        p.dialect.stream_usage = preset.rules.stream_options;
        p.preset = Some(preset);
        Ok(p)
    }

    /// [`with_preset`](Self::with_preset) configured from the environment
    /// ([`CompatPreset::config_from_env`](crate::presets::CompatPreset::config_from_env)).
    pub fn preset_from_env(preset: &'static crate::presets::CompatPreset) -> Result<Self, ConfigError> {
        Self::with_preset(preset, preset.config_from_env()?)
    }

    /// The request body for `request`, shaped by the preset if there is one.
    fn body(&self, request: &ChatRequest, tools: &WireTools, model: &str, stream: bool) -> serde_json::Value {
        let mut body = wire::request_body(self.dialect, &tools.request(request), tools, model, stream);
        if let Some(p) = self.preset {
            p.shape(&mut body);
        }
        body
    }

    /// Turns `stream_options.include_usage` off, for servers that reject it.
    pub fn without_stream_usage(mut self) -> Self {
        self.dialect.stream_usage = false;
        self
    }

    /// Chooses between `max_completion_tokens` (`true`) and `max_tokens`.
    pub fn with_max_completion_tokens(mut self, on: bool) -> Self {
        self.dialect.max_completion_tokens = on;
        self
    }

    /// The last rate-limit headers any response carried.
    pub fn rate_limit(&self) -> Option<RateLimitSnapshot> {
        self.http.last_rate_limit()
    }

    /// The request body this provider sends for `request` (for inspection
    /// and tests), tools shaped as the configuration says.
    pub fn request_body(&self, request: &ChatRequest, stream: bool) -> serde_json::Value {
        let tools = self.http.wire_tools(request, None, OPENAI_TOOLS);
        self.body(request, &tools, &self.http.model(request), stream)
    }
}

#[async_trait]
impl ChatProvider for OpenAiProvider {
    fn name(&self) -> &str {
        &self.name
    }

    fn capabilities(&self) -> ProviderCapabilities {
        ProviderCapabilities {
            vision: true,
            structured_output: true,
            ..ProviderCapabilities::default()
        }
    }

    async fn chat(&self, request: &ChatRequest, ctx: &CallContext) -> Result<ChatResponse, ProviderError> {
        let model = self.http.model(request);
        let tools = self.http.wire_tools(request, Some(ctx), OPENAI_TOOLS);
        let body = self.body(request, &tools, &model, false);
        self.http
            .post_chat(&model, "/chat/completions", &body, ctx, &tools, |b| {
                wire::parse_response(&self.name, &model, b)
            })
            .await
    }

    async fn chat_stream(&self, request: &ChatRequest, ctx: &CallContext) -> Result<ChatStream, ProviderError> {
        let model = self.http.model(request);
        let tools = self.http.wire_tools(request, Some(ctx), OPENAI_TOOLS);
        let body = self.body(request, &tools, &model, true);
        let name = self.name.clone();
        self.http
            .post_stream(
                &self.http.model(request),
                "/chat/completions",
                &body,
                ctx,
                tools,
                move || ChatChunkDecoder::new(name.clone()),
            )
            .await
    }
}
