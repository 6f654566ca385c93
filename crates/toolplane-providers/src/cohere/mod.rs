//! Cohere: v2 chat (`POST {base_url}/v2/chat`).

mod wire;

use async_trait::async_trait;
use toolplane_core::{
    CallContext, ChatProvider, ChatRequest, ChatResponse, ChatStream, ProviderError, RateLimitSnapshot,
};

pub use wire::CohereDecoder;

use crate::config::{ConfigError, ProviderConfig, VendorEnv};
use crate::http::HttpClient;
use crate::tools::COHERE_TOOLS;

/// Cohere's API root (paths add `/v2/...`).
pub const COHERE_BASE_URL: &str = "https://api.cohere.com";

/// `CO_API_KEY` (required) and `CO_API_URL`.
pub(crate) const COHERE_ENV: VendorEnv = VendorEnv {
    provider: "cohere",
    key: "CO_API_KEY",
    base_url: Some("CO_API_URL"),
    default_base_url: COHERE_BASE_URL,
    key_required: true,
};

/// A Cohere v2 chat client (Bearer auth). Usage counts come from `tokens`,
/// falling back to `billed_units`.
///
/// ```
/// use toolplane_providers::{CohereProvider, ProviderConfig};
/// let p = CohereProvider::new(ProviderConfig::new("https://api.cohere.com").with_api_key("k"))?;
/// # let _ = p;
/// # Ok::<(), toolplane_providers::ConfigError>(())
/// ```
#[derive(Debug)]
pub struct CohereProvider {
    http: HttpClient,
}

impl CohereProvider {
    /// A client with Bearer auth.
    pub fn new(cfg: ProviderConfig) -> Result<Self, ConfigError> {
        Ok(Self {
            http: HttpClient::new("cohere", cfg)?,
        })
    }

    /// `CO_API_KEY` (and `CO_API_URL` when set).
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::new(COHERE_ENV.config()?)
    }

    /// The last rate-limit headers any response carried.
    pub fn rate_limit(&self) -> Option<RateLimitSnapshot> {
        self.http.last_rate_limit()
    }

    /// The request body this provider sends for `request`.
    pub fn request_body(&self, request: &ChatRequest, stream: bool) -> serde_json::Value {
        let tools = self.http.wire_tools(request, None, COHERE_TOOLS);
        wire::request_body(&tools.request(request), &tools, &self.http.model(request), stream)
    }
}

#[async_trait]
impl ChatProvider for CohereProvider {
    fn name(&self) -> &str {
        self.http.provider()
    }

    async fn chat(&self, request: &ChatRequest, ctx: &CallContext) -> Result<ChatResponse, ProviderError> {
        let model = self.http.model(request);
        let tools = self.http.wire_tools(request, Some(ctx), COHERE_TOOLS);
        let body = wire::request_body(&tools.request(request), &tools, &model, false);
        self.http
            .post_chat(&model, "/v2/chat", &body, ctx, &tools, |b| {
                wire::parse_response(self.name(), &model, b)
            })
            .await
    }

    async fn chat_stream(&self, request: &ChatRequest, ctx: &CallContext) -> Result<ChatStream, ProviderError> {
        let tools = self.http.wire_tools(request, Some(ctx), COHERE_TOOLS);
        let body = wire::request_body(&tools.request(request), &tools, &self.http.model(request), true);
        self.http
            .post_stream(&self.http.model(request), "/v2/chat", &body, ctx, tools, || {
                CohereDecoder::new("cohere")
            })
            .await
    }
}
