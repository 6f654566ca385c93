//! Google Gemini: the Gemini API's `models/{model}:generateContent` and
//! `models/{model}:streamGenerateContent?alt=sse`.
//!
//! | core | Gemini |
//! | --- | --- |
//! | system messages | `systemInstruction` |
//! | user / tool turns | `role: "user"` (tool results as `functionResponse` parts, in call order) |
//! | assistant turns | `role: "model"` (`functionCall` parts) |
//! | tools | one `{"functionDeclarations": [...]}` entry, schemas as `parametersJsonSchema` (as the registry exports them) |
//! | tool choice | `toolConfig.functionCallingConfig` (`AUTO`, `NONE`, `ANY`, `ANY` + `allowedFunctionNames`) |
//! | `response_format` | `generationConfig.responseMimeType` + `responseJsonSchema` |
//! | call ids | Gemini's `id` when it sends one, else a stable `gemini_call_<n>_<hash>` that is never sent back |
//! | `thoughtSignature` | kept on a [`ContentPart::Thinking`](toolplane_core::ContentPart::Thinking) part and sent back on the part it came with |
//! | `finishReason: STOP` with calls | [`StopReason::ToolUse`](toolplane_core::StopReason::ToolUse) |
//! | `SAFETY`, `RECITATION`, ... / `promptFeedback.blockReason` | a refusal part and `ContentFilter` / `Refusal`, never an empty answer |
//! | `usageMetadata` | input = prompt (cached content included), output = candidates + thoughts, reasoning = thoughts, cache read = cached content |
//!
//! Errors use Google's `error.status` (`RESOURCE_EXHAUSTED` is rate limited,
//! `UNAVAILABLE` overloaded, ...) and the `retryDelay` of a `RetryInfo`
//! detail, which the retry policy honours like a `retry-after` header.

mod stream;
pub(crate) mod wire;

use async_trait::async_trait;
use toolplane_core::{
    CallContext, ChatProvider, ChatRequest, ChatResponse, ChatStream, ProviderCapabilities, ProviderError,
    RateLimitSnapshot,
};

pub use stream::GenerateContentDecoder;

use crate::config::{ApiKey, AuthStyle, ConfigError, ProviderConfig, VendorEnv};
use crate::http::HttpClient;
use crate::tools::GEMINI_TOOLS;

/// The Gemini API root (paths add `/models/{model}:...`).
pub const GEMINI_BASE_URL: &str = "https://generativelanguage.googleapis.com/v1beta";

/// The variables a key is read from, first set (and not blank) wins; Google's
/// own SDKs give `GOOGLE_API_KEY` precedence too.
pub const GEMINI_KEY_ENV: [&str; 2] = ["GOOGLE_API_KEY", "GEMINI_API_KEY"];

/// The variable that overrides the base URL.
pub const GEMINI_BASE_URL_ENV: &str = "GEMINI_BASE_URL";

/// A Gemini API client. The key goes in `x-goog-api-key`.
///
/// ```
/// use toolplane_providers::{GeminiProvider, ProviderConfig};
/// let p = GeminiProvider::new(ProviderConfig::new("https://generativelanguage.googleapis.com/v1beta").with_api_key("AIza-secret"))?;
/// assert!(!format!("{p:?}").contains("AIza"));
/// # Ok::<(), toolplane_providers::ConfigError>(())
/// ```
#[derive(Debug)]
pub struct GeminiProvider {
    http: HttpClient,
}

impl GeminiProvider {
    /// A client; `x-goog-api-key` auth is set unless the configuration chose
    /// another non-Bearer style.
    pub fn new(mut cfg: ProviderConfig) -> Result<Self, ConfigError> {
        if cfg.auth == AuthStyle::Bearer {
            cfg.auth = AuthStyle::Header("x-goog-api-key".into());
        }
        Ok(Self {
            http: HttpClient::new("gemini", cfg)?,
        })
    }

    /// `GOOGLE_API_KEY` or `GEMINI_API_KEY` (blank counts as unset) and
    /// `GEMINI_BASE_URL` (default [`GEMINI_BASE_URL`]).
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::new(with_second_key(GEMINI_ENV.config()?)?)
    }

    /// The last rate-limit headers any response carried.
    pub fn rate_limit(&self) -> Option<RateLimitSnapshot> {
        self.http.last_rate_limit()
    }

    /// The request body this provider sends for `request` (the same for both
    /// methods), or the error that stops it being sent.
    pub fn request_body(&self, request: &ChatRequest) -> Result<serde_json::Value, ProviderError> {
        wire::request_body(request, &self.http.wire_tools(request, None, GEMINI_TOOLS))
    }

    /// `/models/{model}:{method}`, the model's `models/` prefix optional and
    /// anything but `[A-Za-z0-9._-]` percent-encoded.
    fn path(&self, request: &ChatRequest, method: &str) -> String {
        let model = self.http.model(request);
        let model = model.strip_prefix("models/").unwrap_or(&model);
        let mut escaped = String::with_capacity(model.len());
        for b in model.bytes() {
            if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-') {
                escaped.push(char::from(b));
            } else {
                escaped.push_str(&format!("%{b:02X}"));
            }
        }
        format!("/models/{escaped}:{method}")
    }
}

/// `GOOGLE_API_KEY` (optional here: [`with_second_key`] falls back to
/// `GEMINI_API_KEY` and reports a missing key) and `GEMINI_BASE_URL`.
pub(crate) const GEMINI_ENV: VendorEnv = VendorEnv {
    provider: "gemini",
    key: GEMINI_KEY_ENV[0],
    base_url: Some(GEMINI_BASE_URL_ENV),
    default_base_url: GEMINI_BASE_URL,
    key_required: false,
};

/// Fills the key from `GEMINI_API_KEY` when `GOOGLE_API_KEY` gave none
/// (blank counts as unset); no key at all is [`ConfigError::MissingKey`].
pub(crate) fn with_second_key(mut cfg: ProviderConfig) -> Result<ProviderConfig, ConfigError> {
    if cfg.api_key.is_none() {
        let key = std::env::var(GEMINI_KEY_ENV[1])
            .ok()
            .filter(|k| !k.trim().is_empty())
            .ok_or_else(|| ConfigError::MissingKey {
                provider: "gemini".into(),
                env: GEMINI_KEY_ENV.join(" or "),
            })?;
        cfg.api_key = Some(ApiKey::new(key.trim()));
    }
    Ok(cfg)
}

#[async_trait]
impl ChatProvider for GeminiProvider {
    fn name(&self) -> &str {
        self.http.provider()
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
        let tools = self.http.wire_tools(request, Some(ctx), GEMINI_TOOLS);
        let body = wire::request_body(request, &tools)?;
        self.http
            .post_chat(
                &model,
                &self.path(request, "generateContent"),
                &body,
                ctx,
                &tools,
                |b| wire::parse_response(self.name(), &model, b),
            )
            .await
    }

    async fn chat_stream(&self, request: &ChatRequest, ctx: &CallContext) -> Result<ChatStream, ProviderError> {
        let tools = self.http.wire_tools(request, Some(ctx), GEMINI_TOOLS);
        let body = wire::request_body(request, &tools)?;
        self.http
            .post_stream(
                &self.http.model(request),
                &self.path(request, "streamGenerateContent?alt=sse"),
                &body,
                ctx,
                tools,
                || GenerateContentDecoder::new("gemini"),
            )
            .await
    }
}
