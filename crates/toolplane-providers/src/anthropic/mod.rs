//! Anthropic: the Messages API (`POST {base_url}/v1/messages`).

mod cache;
mod stream;
mod wire;

use async_trait::async_trait;
use toolplane_core::{
    CallContext, ChatProvider, ChatRequest, ChatResponse, ChatStream, ProviderCapabilities, ProviderError,
    RateLimitSnapshot,
};

pub use stream::MessagesDecoder;

use crate::config::{AuthStyle, ConfigError, ProviderConfig, RequestOptions, VendorEnv};
use crate::http::HttpClient;
use crate::tools::ANTHROPIC_TOOLS;

/// Anthropic's API root (paths add `/v1/...`).
pub const ANTHROPIC_BASE_URL: &str = "https://api.anthropic.com";

/// The `anthropic-version` header sent unless the configuration sets one.
pub const ANTHROPIC_VERSION: &str = "2023-06-01";

/// `ANTHROPIC_API_KEY` (required) and `ANTHROPIC_BASE_URL`.
pub(crate) const ANTHROPIC_ENV: VendorEnv = VendorEnv {
    provider: "anthropic",
    key: "ANTHROPIC_API_KEY",
    base_url: Some("ANTHROPIC_BASE_URL"),
    default_base_url: ANTHROPIC_BASE_URL,
    key_required: true,
};

/// A Messages API client. The key goes in `x-api-key`; `anthropic-version`
/// is set; a request without `max_tokens` gets 4096.
///
/// ```
/// use toolplane_providers::{AnthropicProvider, ProviderConfig};
/// let p = AnthropicProvider::new(ProviderConfig::new("https://api.anthropic.com").with_api_key("sk-ant-..."))?;
/// assert!(!format!("{p:?}").contains("sk-ant"));
/// # Ok::<(), toolplane_providers::ConfigError>(())
/// ```
#[derive(Debug)]
pub struct AnthropicProvider {
    http: HttpClient,
}

impl AnthropicProvider {
    /// A client; `x-api-key` auth and `anthropic-version` are added when missing.
    pub fn new(mut cfg: ProviderConfig) -> Result<Self, ConfigError> {
        if cfg.auth == AuthStyle::Bearer {
            cfg.auth = AuthStyle::Header("x-api-key".into());
        }
        if !cfg
            .headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case("anthropic-version"))
        {
            cfg.headers.push(("anthropic-version".into(), ANTHROPIC_VERSION.into()));
        }
        Ok(Self {
            http: HttpClient::new("anthropic", cfg)?,
        })
    }

    /// `ANTHROPIC_API_KEY` and `ANTHROPIC_BASE_URL` (default `https://api.anthropic.com`).
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::new(ANTHROPIC_ENV.config()?)
    }

    /// The last rate-limit headers any response carried.
    pub fn rate_limit(&self) -> Option<RateLimitSnapshot> {
        self.http.last_rate_limit()
    }

    /// `ctx`, plus the `anthropic-beta` value a one-hour cache lifetime needs
    /// (merged with betas the configuration or the caller already send).
    fn context_for<'a>(&self, request: &ChatRequest, ctx: &'a CallContext) -> std::borrow::Cow<'a, CallContext> {
        use toolplane_core::CacheTtl;
        if request.cache.as_ref().map(|c| c.ttl) != Some(CacheTtl::OneHour) {
            return std::borrow::Cow::Borrowed(ctx);
        }
        let mut options = ctx.extensions.get::<RequestOptions>().cloned().unwrap_or_default();
        let is_beta = |n: &String| n.eq_ignore_ascii_case("anthropic-beta");
        let mut betas: Vec<String> = self
            .http
            .cfg
            .headers
            .iter()
            .chain(options.headers.iter())
            .filter(|(n, _)| is_beta(n))
            .flat_map(|(_, v)| v.split(',').map(|b| b.trim().to_owned()))
            .filter(|b| !b.is_empty())
            .collect();
        if !betas.iter().any(|b| b == cache::EXTENDED_TTL_BETA) {
            betas.push(cache::EXTENDED_TTL_BETA.to_owned());
        }
        options.headers.retain(|(n, _)| !is_beta(n));
        options.headers.push(("anthropic-beta".into(), betas.join(",")));
        std::borrow::Cow::Owned(ctx.clone().with_extension(options))
    }

    /// The request body this provider sends for `request`.
    pub fn request_body(&self, request: &ChatRequest, stream: bool) -> serde_json::Value {
        let tools = self.http.wire_tools(request, None, ANTHROPIC_TOOLS);
        wire::request_body(&tools.request(request), &tools, &self.http.model(request), stream)
    }
}

#[async_trait]
impl ChatProvider for AnthropicProvider {
    fn name(&self) -> &str {
        self.http.provider()
    }

    fn capabilities(&self) -> ProviderCapabilities {
        ProviderCapabilities {
            vision: true,
            ..ProviderCapabilities::default()
        }
    }

    async fn chat(&self, request: &ChatRequest, ctx: &CallContext) -> Result<ChatResponse, ProviderError> {
        let model = self.http.model(request);
        let tools = self.http.wire_tools(request, Some(ctx), ANTHROPIC_TOOLS);
        let body = wire::request_body(&tools.request(request), &tools, &model, false);
        let ctx = self.context_for(request, ctx);
        self.http
            .post_chat(&model, "/v1/messages", &body, &ctx, &tools, |b| {
                wire::parse_response(self.name(), &model, b)
            })
            .await
    }

    async fn chat_stream(&self, request: &ChatRequest, ctx: &CallContext) -> Result<ChatStream, ProviderError> {
        let tools = self.http.wire_tools(request, Some(ctx), ANTHROPIC_TOOLS);
        let body = wire::request_body(&tools.request(request), &tools, &self.http.model(request), true);
        let ctx = self.context_for(request, ctx);
        self.http
            .post_stream(&self.http.model(request), "/v1/messages", &body, &ctx, tools, || {
                MessagesDecoder::new("anthropic")
            })
            .await
    }
}
