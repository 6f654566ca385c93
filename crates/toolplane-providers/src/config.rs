//! Provider configuration: base URL, key, headers, query, timeouts, retries.

use std::fmt;
use std::time::Duration;

use crate::RetryPolicy;

/// An API key. Its `Debug` and `Display` never show it.
///
/// ```
/// use toolplane_providers::ApiKey;
/// let key = ApiKey::new("sk-secret-value");
/// assert_eq!(format!("{key:?}"), "ApiKey(***)");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    /// Wraps a key.
    pub fn new(key: impl Into<String>) -> Self {
        Self(key.into())
    }

    /// The key itself, for building the request.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(***)")
    }
}

impl fmt::Display for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// How the key is sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthStyle {
    /// `Authorization: Bearer <key>` (OpenAI, Mistral, Cohere, most compatible servers).
    Bearer,
    /// The key as the value of a named header (`x-api-key` for Anthropic, `api-key` for Azure).
    Header(String),
    /// No key is sent (local servers such as Ollama or vLLM).
    None,
}

/// Time limits of one call. The defaults suit an interactive call: a person
/// waits at most five minutes for an answer, and at most a minute and a half
/// of silence once it has started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// Establishing the connection (TCP and TLS). Default 10 s.
    pub connect: Duration,
    /// From sending the request to the response headers, and for streams
    /// from the headers to the first event. Default 120 s, which leaves room
    /// for reasoning models that think silently before their first token.
    pub first_byte: Duration,
    /// The longest silence between two chunks of a response body once it has
    /// started (a stream after its first event, a body after its first bytes).
    /// Default 90 s.
    pub idle: Duration,
    /// The whole call, retries and the full stream included. A
    /// [`CallContext`](toolplane_core::CallContext) deadline shortens it.
    /// Default 300 s.
    pub total: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(10),
            first_byte: Duration::from_secs(120),
            idle: Duration::from_secs(90),
            total: Duration::from_secs(300),
        }
    }
}

/// Size limits on what a server may send, so a hostile or broken server
/// cannot make the client hold unbounded memory. Passing one is a
/// [`ProviderErrorKind::Decode`](toolplane_core::ProviderErrorKind::Decode)
/// error that names the limit; it is not retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResponseLimits {
    /// The largest complete (non-streamed) response body, in bytes. A
    /// `content-length` above it is refused before reading; a body without
    /// one is read until it passes the limit. Default 32 MiB.
    pub max_body_bytes: usize,
    /// The longest line of an event stream, and the most `data` one event may
    /// gather, in bytes. Default 4 MiB. Streams as a whole are bounded by time
    /// ([`Timeouts::total`]), not size, since each event is handed on as it
    /// arrives.
    pub max_sse_line_bytes: usize,
    /// The most bytes of an error response read for its message; the rest is
    /// ignored (not an error). Default 64 KiB.
    pub max_error_body_bytes: usize,
}

impl Default for ResponseLimits {
    fn default() -> Self {
        Self {
            max_body_bytes: 32 << 20,
            max_sse_line_bytes: 4 << 20,
            max_error_body_bytes: 64 << 10,
        }
    }
}

/// Headers and query parameters for one request, on top of the client's.
/// Put it in the call context's extensions:
///
/// ```
/// use toolplane_core::CallContext;
/// use toolplane_providers::RequestOptions;
/// let ctx = CallContext::new("r1")
///     .with_extension(RequestOptions::new().with_header("x-trace", "abc").with_query("api-version", "2024-10-21"));
/// assert_eq!(ctx.extensions.get::<RequestOptions>().unwrap().headers.len(), 1);
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct RequestOptions {
    /// Extra headers (`name`, `value`); a name the client already sets is replaced.
    pub headers: Vec<(String, String)>,
    /// Extra query parameters.
    pub query: Vec<(String, String)>,
    /// Strict tool definitions for this request: `Some(true)` or
    /// `Some(false)` overrides [`ProviderConfig::strict_tools`].
    pub strict_tools: Option<bool>,
}

impl RequestOptions {
    /// No extra headers or parameters.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a header.
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Adds a query parameter.
    pub fn with_query(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.query.push((name.into(), value.into()));
        self
    }

    /// Asks for strict tool definitions in this request (or not), whatever
    /// the provider's configuration says ([`ProviderConfig::with_strict_tools`]).
    pub fn with_strict_tools(mut self, strict: bool) -> Self {
        self.strict_tools = Some(strict);
        self
    }
}

impl fmt::Debug for RequestOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Header values may hold credentials: names only.
        f.debug_struct("RequestOptions")
            .field("headers", &self.headers.iter().map(|(n, _)| n).collect::<Vec<_>>())
            .field("query", &self.query.iter().map(|(n, _)| n).collect::<Vec<_>>())
            .field("strict_tools", &self.strict_tools)
            .finish()
    }
}

/// Everything a provider client needs. Build one from code with the
/// provider's constructor (`OpenAiProvider::config(..)`,
/// `ProviderConfig::new(..)`) or from the environment with
/// [`ProviderConfig::from_env`].
#[derive(Clone)]
pub struct ProviderConfig {
    /// The API root, such as `https://api.openai.com/v1`; paths are appended to it.
    pub base_url: String,
    /// The key, if the server needs one.
    pub api_key: Option<ApiKey>,
    /// How the key is sent.
    pub auth: AuthStyle,
    /// Headers sent with every request.
    pub headers: Vec<(String, String)>,
    /// Query parameters sent with every request (Azure's `api-version`).
    pub query: Vec<(String, String)>,
    /// Time limits.
    pub timeouts: Timeouts,
    /// Retries.
    pub retry: RetryPolicy,
    /// The model used when a request leaves `model` empty.
    pub default_model: Option<String>,
    /// Size limits on responses.
    pub limits: ResponseLimits,
    /// Ask for strict tool definitions (OpenAI's structured-outputs rules)
    /// where the vendor supports it and a tool's schema allows it; see
    /// [`ProviderConfig::with_strict_tools`].
    pub strict_tools: bool,
}

impl fmt::Debug for ProviderConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProviderConfig")
            .field("base_url", &self.base_url)
            .field("api_key", &self.api_key)
            .field("auth", &self.auth)
            .field("headers", &self.headers.iter().map(|(n, _)| n).collect::<Vec<_>>())
            .field("query", &self.query.iter().map(|(n, _)| n).collect::<Vec<_>>())
            .field("timeouts", &self.timeouts)
            .field("retry", &self.retry)
            .field("default_model", &self.default_model)
            .field("limits", &self.limits)
            .field("strict_tools", &self.strict_tools)
            .finish()
    }
}

/// The key in `var`, trimmed; `None` when unset or blank (empty or only
/// whitespace), so that `KEY=` in a shell means "no key" everywhere.
pub(crate) fn env_key(var: &str) -> Option<ApiKey> {
    std::env::var(var)
        .ok()
        .map(|k| k.trim().to_owned())
        .filter(|k| !k.is_empty())
        .map(ApiKey::new)
}

/// A configuration that cannot work.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The provider name is not one this build knows (or its feature is off).
    #[error("unknown provider `{0}`; known: {1}")]
    UnknownProvider(String, String),
    /// The key is missing.
    #[error("{provider}: no API key; set {env} or pass one in code")]
    MissingKey {
        /// The provider.
        provider: String,
        /// The environment variable that was read.
        env: String,
    },
    /// The base URL is not an http(s) URL.
    #[error("{provider}: base URL `{url}` is not an http:// or https:// URL")]
    BadBaseUrl {
        /// The provider.
        provider: String,
        /// The URL given.
        url: String,
    },
    /// The HTTP client could not be built.
    #[error("could not build the HTTP client: {0}")]
    Client(String),
}

impl ProviderConfig {
    /// A configuration with a base URL, Bearer auth, default timeouts and retries.
    pub fn new(base_url: impl Into<String>) -> Self {
        Self {
            base_url: base_url.into().trim_end_matches('/').to_owned(),
            api_key: None,
            auth: AuthStyle::Bearer,
            headers: Vec::new(),
            query: Vec::new(),
            timeouts: Timeouts::default(),
            retry: RetryPolicy::default(),
            default_model: None,
            limits: ResponseLimits::default(),
            strict_tools: false,
        }
    }

    /// Reads `<KEY_ENV>` and, if set, `<URL_ENV>` over `default_url`.
    /// A blank key (empty or only whitespace) counts as no key; a missing key
    /// is an error when `key_required`.
    pub fn from_env(
        provider: &str,
        key_env: &str,
        url_env: Option<&str>,
        default_url: &str,
        key_required: bool,
    ) -> Result<Self, ConfigError> {
        let url = url_env
            .and_then(|e| std::env::var(e).ok())
            .filter(|u| !u.trim().is_empty())
            .unwrap_or_else(|| default_url.to_owned());
        let mut cfg = Self::new(url);
        match env_key(key_env) {
            Some(k) => cfg.api_key = Some(k),
            None if key_required => {
                return Err(ConfigError::MissingKey {
                    provider: provider.to_owned(),
                    env: key_env.to_owned(),
                });
            }
            None => {}
        }
        Ok(cfg)
    }

    /// Sets the key (trimmed); a blank key means no key.
    pub fn with_api_key(mut self, key: impl Into<String>) -> Self {
        let key = key.into();
        let key = key.trim();
        self.api_key = (!key.is_empty()).then(|| ApiKey::new(key));
        self
    }

    /// Sets the base URL.
    pub fn with_base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into().trim_end_matches('/').to_owned();
        self
    }

    /// Sets how the key is sent.
    pub fn with_auth(mut self, auth: AuthStyle) -> Self {
        self.auth = auth;
        self
    }

    /// Adds a header sent with every request.
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Adds a query parameter sent with every request.
    pub fn with_query(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.query.push((name.into(), value.into()));
        self
    }

    /// Sets the time limits.
    pub fn with_timeouts(mut self, timeouts: Timeouts) -> Self {
        self.timeouts = timeouts;
        self
    }

    /// Sets the retry policy.
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Sets the response size limits.
    pub fn with_limits(mut self, limits: ResponseLimits) -> Self {
        self.limits = limits;
        self
    }

    /// Asks for strict tool definitions: for OpenAI (Chat Completions and
    /// the Responses API) each tool whose schema can follow the
    /// structured-outputs rules is sent with `"strict": true` and the
    /// rewritten schema (every property required, optional ones nullable);
    /// a tool whose schema cannot be strict is sent non-strict. The `null`s
    /// strict mode forces on optional properties are removed from the
    /// model's arguments before the caller sees them. Other vendors have no
    /// strict flag for tools and ignore it. A request can ask for it alone
    /// with [`RequestOptions::with_strict_tools`].
    pub fn with_strict_tools(mut self, strict: bool) -> Self {
        self.strict_tools = strict;
        self
    }

    /// Sets the model used when a request names none.
    pub fn with_default_model(mut self, model: impl Into<String>) -> Self {
        self.default_model = Some(model.into());
        self
    }

    pub(crate) fn check(&self, provider: &str) -> Result<(), ConfigError> {
        if self.base_url.starts_with("http://") || self.base_url.starts_with("https://") {
            Ok(())
        } else {
            let mut secrets = crate::redact::Secrets::new();
            if let Some(k) = &self.api_key {
                secrets.add(k.expose());
            }
            Err(ConfigError::BadBaseUrl {
                provider: provider.to_owned(),
                url: secrets.redact(&self.base_url),
            })
        }
    }
}

/// Where one vendor's key and base URL come from in the environment. The
/// vendors' `from_env` constructors and
/// [`provider_from_name`](crate::provider_from_name) read the same constant,
/// so the two cannot drift apart.
#[derive(Debug, Clone, Copy)]
pub(crate) struct VendorEnv {
    /// The provider name a missing key is reported under.
    pub(crate) provider: &'static str,
    /// The variable holding the key.
    pub(crate) key: &'static str,
    /// The variable that overrides the base URL, if the vendor has one.
    pub(crate) base_url: Option<&'static str>,
    /// The base URL when the variable is unset.
    pub(crate) default_base_url: &'static str,
    /// Whether a missing key is an error.
    pub(crate) key_required: bool,
}

impl VendorEnv {
    /// The configuration these variables give ([`ProviderConfig::from_env`]).
    pub(crate) fn config(&self) -> Result<ProviderConfig, ConfigError> {
        ProviderConfig::from_env(
            self.provider,
            self.key,
            self.base_url,
            self.default_base_url,
            self.key_required,
        )
    }
}
