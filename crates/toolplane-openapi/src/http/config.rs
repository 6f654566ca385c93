//! Configuration of HTTP execution: where requests go, how they authenticate,
//! how long they may take and how much of an answer reaches the model.

use std::collections::BTreeMap;
use std::time::Duration;

use super::auth::Credential;
use super::secret::{MissingSecret, Secret};

/// Response headers given to the model unless configured otherwise.
pub const DEFAULT_RESPONSE_HEADERS: &[&str] = &[
    "content-type",
    "link",
    "location",
    "retry-after",
    "etag",
    "x-ratelimit-limit",
    "x-ratelimit-remaining",
    "x-ratelimit-reset",
    "x-total-count",
];

/// The default response byte budget (64 KiB).
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 64 * 1024;

/// What configuration provides for one security scheme (by its key under
/// `components.securitySchemes`).
#[derive(Debug, Clone)]
pub enum SchemeAuth {
    /// The secret for the scheme as declared: the key of an `apiKey` scheme,
    /// the token of an `http` bearer scheme (or of any other scheme, sent as a
    /// bearer token).
    Secret(Secret),
    /// User and password for an `http` basic scheme.
    Basic {
        /// The user name.
        username: String,
        /// The password.
        password: Secret,
    },
    /// Client id and secret for an OAuth2 client-credentials scheme; the token
    /// URL and scopes come from the description.
    ClientCredentials {
        /// The client id.
        client_id: String,
        /// The client secret.
        client_secret: Secret,
    },
    /// A fully specified credential, used as it is whatever the scheme says.
    Credential(Credential),
}

/// How operations are executed over HTTP.
///
/// ```
/// use std::time::Duration;
/// use toolplane_openapi::http::{HttpConfig, Secret};
/// let config = HttpConfig::new()
///     .with_base_url("https://api.example.com/v1")
///     .with_secret("api_key", Secret::new("k-123"))
///     .with_timeout(Duration::from_secs(10))
///     .with_header("User-Agent", "my-agent/1.0");
/// assert!(!format!("{config:?}").contains("k-123"));
/// ```
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// Replaces the description's servers: every request goes to this URL's
    /// host (a path prefix such as `/v1` is kept).
    pub base_url: Option<String>,
    /// Values for server URL variables (else their defaults).
    pub server_variables: BTreeMap<String, String>,
    /// Credentials by security scheme name.
    pub schemes: BTreeMap<String, SchemeAuth>,
    /// Used when an operation declares no security, or none of its schemes is configured.
    pub default_credential: Option<Credential>,
    /// Headers added to every request (after the operation's own parameters).
    pub headers: Vec<(String, String)>,
    /// Whole-request timeout (shortened by the call's deadline).
    pub timeout: Duration,
    /// Connection timeout.
    pub connect_timeout: Duration,
    /// Response body bytes given to the model; the rest is cut with a marker.
    pub max_response_bytes: usize,
    /// Response headers given to the model (lower case).
    pub response_headers: Vec<String>,
    /// Redirects followed (same host only).
    pub max_redirects: usize,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            base_url: None,
            server_variables: BTreeMap::new(),
            schemes: BTreeMap::new(),
            default_credential: None,
            headers: vec![(
                "user-agent".into(),
                concat!("toolplane/", env!("CARGO_PKG_VERSION")).into(),
            )],
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            response_headers: DEFAULT_RESPONSE_HEADERS.iter().map(|h| (*h).to_owned()).collect(),
            max_redirects: 5,
        }
    }
}

impl HttpConfig {
    /// Defaults: the description's first server, no credentials, 30 s, 64 KiB.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sends every request to this base URL instead of the description's servers.
    pub fn with_base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// Sets a server URL variable.
    pub fn with_server_variable(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.server_variables.insert(name.into(), value.into());
        self
    }

    /// The secret for scheme `scheme` (API key, bearer token).
    pub fn with_secret(mut self, scheme: impl Into<String>, secret: Secret) -> Self {
        self.schemes.insert(scheme.into(), SchemeAuth::Secret(secret));
        self
    }

    /// The secret for scheme `scheme`, read from environment variable `var`.
    pub fn with_secret_from_env(self, scheme: impl Into<String>, var: &str) -> Result<Self, MissingSecret> {
        Ok(self.with_secret(scheme, Secret::from_env(var)?))
    }

    /// User and password for an HTTP basic scheme.
    pub fn with_basic(mut self, scheme: impl Into<String>, username: impl Into<String>, password: Secret) -> Self {
        self.schemes.insert(
            scheme.into(),
            SchemeAuth::Basic {
                username: username.into(),
                password,
            },
        );
        self
    }

    /// Client id and secret for an OAuth2 client-credentials scheme.
    pub fn with_client_credentials(
        mut self,
        scheme: impl Into<String>,
        client_id: impl Into<String>,
        client_secret: Secret,
    ) -> Self {
        self.schemes.insert(
            scheme.into(),
            SchemeAuth::ClientCredentials {
                client_id: client_id.into(),
                client_secret,
            },
        );
        self
    }

    /// A fully specified credential for scheme `scheme`.
    pub fn with_credential(mut self, scheme: impl Into<String>, credential: Credential) -> Self {
        self.schemes.insert(scheme.into(), SchemeAuth::Credential(credential));
        self
    }

    /// The credential used when an operation names no configured scheme.
    pub fn with_default_credential(mut self, credential: Credential) -> Self {
        self.default_credential = Some(credential);
        self
    }

    /// Adds (or replaces, by case-insensitive name) a header sent with every request.
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        let name = name.into().to_ascii_lowercase();
        self.headers.retain(|(n, _)| *n != name);
        self.headers.push((name, value.into()));
        self
    }

    /// Sets the whole-request timeout.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets the response body byte budget.
    pub fn with_max_response_bytes(mut self, bytes: usize) -> Self {
        self.max_response_bytes = bytes;
        self
    }

    /// Replaces the list of response headers given to the model.
    pub fn with_response_headers(mut self, headers: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.response_headers = headers.into_iter().map(|h| h.into().to_ascii_lowercase()).collect();
        self
    }

    /// Every secret in the configuration, for scrubbing messages.
    pub(crate) fn secrets(&self) -> Vec<&Secret> {
        let mut out: Vec<&Secret> = self.default_credential.iter().flat_map(Credential::secrets).collect();
        for auth in self.schemes.values() {
            match auth {
                SchemeAuth::Secret(s) => out.push(s),
                SchemeAuth::Basic { password, .. } => out.push(password),
                SchemeAuth::ClientCredentials { client_secret, .. } => out.push(client_secret),
                SchemeAuth::Credential(c) => out.extend(c.secrets()),
            }
        }
        out
    }
}
