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

/// Time limits of one call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// Establishing the connection (TCP and TLS).
    pub connect: Duration,
    /// From sending the request to the response headers, and for streams to
    /// the first event; also the longest silence allowed between stream chunks.
    /// The default (180 s) leaves room for reasoning models that think
    /// silently before their first token.
    pub first_byte: Duration,
    /// The whole call, retries and the full stream included. A
    /// [`CallContext`](toolplane_core::CallContext) deadline shortens it.
    pub total: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(10),
            first_byte: Duration::from_secs(180),
            total: Duration::from_secs(600),
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
}

impl fmt::Debug for RequestOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Header values may hold credentials: names only.
        f.debug_struct("RequestOptions")
            .field("headers", &self.headers.iter().map(|(n, _)| n).collect::<Vec<_>>())
            .field("query", &self.query.iter().map(|(n, _)| n).collect::<Vec<_>>())
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
            .finish()
    }
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
        }
    }

    /// Reads `<KEY_ENV>` and, if set, `<URL_ENV>` over `default_url`.
    /// A missing key is an error when `key_required`.
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
        match std::env::var(key_env).ok().filter(|k| !k.trim().is_empty()) {
            Some(k) => cfg.api_key = Some(ApiKey::new(k.trim())),
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

    /// Sets the key.
    pub fn with_api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(ApiKey::new(key));
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

    /// Sets the model used when a request names none.
    pub fn with_default_model(mut self, model: impl Into<String>) -> Self {
        self.default_model = Some(model.into());
        self
    }

    pub(crate) fn check(&self, provider: &str) -> Result<(), ConfigError> {
        if self.base_url.starts_with("http://") || self.base_url.starts_with("https://") {
            Ok(())
        } else {
            Err(ConfigError::BadBaseUrl {
                provider: provider.to_owned(),
                url: self.base_url.clone(),
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
