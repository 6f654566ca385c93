//! Credentials: API keys (header, query, cookie), HTTP bearer and basic, and
//! OAuth2 client credentials with a token cached until it expires.
//!
//! Every credential value is a [`Secret`]: `Debug` output, errors and results
//! never show it.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde::Deserialize;

use super::secret::{MissingSecret, Secret};
use crate::binding::ApiKeyLocation;

/// One way to authenticate a request.
///
/// ```
/// use toolplane_openapi::binding::ApiKeyLocation;
/// use toolplane_openapi::http::{Credential, Secret};
/// let c = Credential::api_key(ApiKeyLocation::Header, "X-API-Key", Secret::new("k-123"));
/// assert!(!format!("{c:?}").contains("k-123"));
/// ```
#[derive(Debug, Clone)]
pub enum Credential {
    /// An API key in a header, query parameter or cookie.
    ApiKey {
        /// Where it goes.
        location: ApiKeyLocation,
        /// The header, parameter or cookie name.
        name: String,
        /// The key.
        key: Secret,
    },
    /// `Authorization: Bearer <token>`.
    Bearer(Secret),
    /// `Authorization: Basic base64(user:password)`.
    Basic {
        /// The user name.
        username: String,
        /// The password.
        password: Secret,
    },
    /// OAuth2 client credentials; the token is fetched, cached and sent as a bearer token.
    OAuth2(Arc<ClientCredentials>),
}

impl Credential {
    /// An API key.
    pub fn api_key(location: ApiKeyLocation, name: impl Into<String>, key: Secret) -> Self {
        Self::ApiKey {
            location,
            name: name.into(),
            key,
        }
    }

    /// A bearer token.
    pub fn bearer(token: Secret) -> Self {
        Self::Bearer(token)
    }

    /// A bearer token read from an environment variable.
    pub fn bearer_from_env(var: &str) -> Result<Self, MissingSecret> {
        Ok(Self::Bearer(Secret::from_env(var)?))
    }

    /// HTTP basic.
    pub fn basic(username: impl Into<String>, password: Secret) -> Self {
        Self::Basic {
            username: username.into(),
            password,
        }
    }

    /// OAuth2 client credentials.
    pub fn oauth2(flow: ClientCredentials) -> Self {
        Self::OAuth2(Arc::new(flow))
    }

    /// The secrets this credential holds (for scrubbing messages).
    pub(crate) fn secrets(&self) -> Vec<&Secret> {
        match self {
            Self::ApiKey { key, .. } => vec![key],
            Self::Bearer(t) => vec![t],
            Self::Basic { password, .. } => vec![password],
            Self::OAuth2(f) => vec![&f.client_secret],
        }
    }
}

/// What a credential adds to a request.
#[derive(Debug, Default)]
pub(crate) struct AuthParts {
    pub(crate) headers: Vec<(String, Secret)>,
    pub(crate) query: Vec<(String, Secret)>,
    pub(crate) cookies: Vec<(String, Secret)>,
}

impl AuthParts {
    pub(crate) fn secrets(&self) -> impl Iterator<Item = &Secret> {
        self.headers
            .iter()
            .chain(&self.query)
            .chain(&self.cookies)
            .map(|(_, s)| s)
    }
}

/// Authentication that could not be prepared.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// A credential expected from the environment is missing.
    #[error(transparent)]
    Missing(#[from] MissingSecret),
    /// The token endpoint answered with an error.
    #[error("OAuth2 token endpoint {endpoint} answered {status}{}", oauth_error.as_deref().map(|e| format!(" ({e})")).unwrap_or_default())]
    TokenRefused {
        /// The endpoint, without query.
        endpoint: String,
        /// The HTTP status.
        status: u16,
        /// The OAuth `error` code, when given.
        oauth_error: Option<String>,
    },
    /// The token endpoint could not be reached or answered nonsense.
    #[error("OAuth2 token endpoint {endpoint}: {problem}")]
    TokenUnavailable {
        /// The endpoint, without query.
        endpoint: String,
        /// What went wrong (no secrets).
        problem: String,
        /// True for a timeout.
        timeout: bool,
    },
}

/// How the client authenticates to the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ClientAuthMethod {
    /// HTTP basic with client id and secret (`client_secret_basic`, RFC 6749's default).
    #[default]
    Basic,
    /// Client id and secret in the form body (`client_secret_post`).
    Post,
}

#[derive(Debug)]
struct CachedToken {
    token: Secret,
    expires_at: Option<Instant>,
}

/// The OAuth2 client credentials flow, with the access token cached until
/// shortly before it expires (a token without `expires_in` is kept until
/// [`ClientCredentials::invalidate`], which the HTTP tool calls on a 401).
///
/// Concurrent callers share one fetch: the cache lock is held while fetching.
#[derive(Debug)]
pub struct ClientCredentials {
    token_url: String,
    client_id: String,
    client_secret: Secret,
    scopes: Vec<String>,
    method: ClientAuthMethod,
    cache: tokio::sync::Mutex<Option<CachedToken>>,
    fetches: AtomicU64,
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: Option<String>,
    expires_in: Option<u64>,
    error: Option<String>,
}

impl ClientCredentials {
    /// A flow against `token_url`.
    pub fn new(token_url: impl Into<String>, client_id: impl Into<String>, client_secret: Secret) -> Self {
        Self {
            token_url: token_url.into(),
            client_id: client_id.into(),
            client_secret,
            scopes: Vec::new(),
            method: ClientAuthMethod::default(),
            cache: tokio::sync::Mutex::new(None),
            fetches: AtomicU64::new(0),
        }
    }

    /// Requests these scopes (space-joined `scope`).
    pub fn with_scopes(mut self, scopes: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// Chooses how the client authenticates to the token endpoint.
    pub fn with_auth_method(mut self, method: ClientAuthMethod) -> Self {
        self.method = method;
        self
    }

    /// How many tokens were fetched so far.
    pub fn fetch_count(&self) -> u64 {
        self.fetches.load(Ordering::Relaxed)
    }

    /// Drops the cached token; the next call fetches a new one.
    pub async fn invalidate(&self) {
        *self.cache.lock().await = None;
    }

    fn endpoint(&self) -> String {
        self.token_url.split(['?', '#']).next().unwrap_or_default().to_owned()
    }

    /// A valid access token: the cached one, or a new one from the endpoint.
    pub async fn token(&self, client: &reqwest::Client) -> Result<Secret, AuthError> {
        let mut cache = self.cache.lock().await;
        if let Some(c) = cache
            .as_ref()
            .filter(|c| c.expires_at.is_none_or(|t| Instant::now() < t))
        {
            return Ok(c.token.clone());
        }
        let fresh = self.fetch(client).await?;
        let token = fresh.token.clone();
        *cache = Some(fresh);
        Ok(token)
    }

    async fn fetch(&self, client: &reqwest::Client) -> Result<CachedToken, AuthError> {
        let endpoint = self.endpoint();
        let unavailable = |problem: String, timeout: bool| AuthError::TokenUnavailable {
            endpoint: endpoint.clone(),
            problem,
            timeout,
        };
        let mut form: Vec<(&str, &str)> = vec![("grant_type", "client_credentials")];
        let scope = self.scopes.join(" ");
        if !scope.is_empty() {
            form.push(("scope", &scope));
        }
        if self.method == ClientAuthMethod::Post {
            form.push(("client_id", &self.client_id));
            form.push(("client_secret", self.client_secret.expose()));
        }
        let pairs: Vec<(String, String)> = form
            .iter()
            .map(|(k, v)| ((*k).to_owned(), super::style::encode_component(v)))
            .collect();
        let body = super::style::query_string(&pairs);
        let mut req = client
            .post(&self.token_url)
            .header("content-type", "application/x-www-form-urlencoded")
            .header("accept", "application/json")
            .body(body);
        if self.method == ClientAuthMethod::Basic {
            let raw = format!("{}:{}", self.client_id, self.client_secret.expose());
            let b64 = base64::engine::general_purpose::STANDARD.encode(raw);
            req = req.header("authorization", format!("Basic {b64}"));
        }
        self.fetches.fetch_add(1, Ordering::Relaxed);
        let started = Instant::now();
        let resp = req
            .send()
            .await
            .map_err(|e| unavailable(transport_problem(&e), e.is_timeout()))?;
        let status = resp.status().as_u16();
        let bytes = resp
            .bytes()
            .await
            .map_err(|e| unavailable(transport_problem(&e), e.is_timeout()))?;
        let answer: Option<TokenAnswer> = serde_json::from_slice(&bytes).ok();
        if !(200..300).contains(&status) {
            return Err(AuthError::TokenRefused {
                endpoint,
                status,
                oauth_error: answer.and_then(|a| a.error).map(|e| e.chars().take(64).collect()),
            });
        }
        let answer = answer.ok_or_else(|| unavailable("the answer is not JSON".into(), false))?;
        let token = answer
            .access_token
            .filter(|t| !t.is_empty())
            .ok_or_else(|| unavailable("the answer has no access_token".into(), false))?;
        let expires_at = answer.expires_in.map(|secs| {
            // Renew a little early: 30 s, or half the lifetime for short-lived tokens.
            let margin = (secs / 2).min(30);
            started + Duration::from_secs(secs - margin)
        });
        Ok(CachedToken {
            token: Secret::new(token),
            expires_at,
        })
    }
}

/// A transport failure described without the URL (which may carry a key).
pub(crate) fn transport_problem(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out".into()
    } else if e.is_connect() {
        "could not connect".into()
    } else if e.is_redirect() {
        "redirect refused".into()
    } else if e.is_body() || e.is_decode() {
        "the answer's body could not be read".into()
    } else {
        "the request failed".into()
    }
}

/// Resolves a credential into what goes on the request.
pub(crate) async fn resolve(cred: &Credential, client: &reqwest::Client) -> Result<AuthParts, AuthError> {
    let mut parts = AuthParts::default();
    match cred {
        Credential::ApiKey { location, name, key } => {
            let list = match location {
                ApiKeyLocation::Header => &mut parts.headers,
                ApiKeyLocation::Query => &mut parts.query,
                ApiKeyLocation::Cookie => &mut parts.cookies,
            };
            list.push((name.clone(), key.clone()));
        }
        Credential::Bearer(t) => parts
            .headers
            .push(("authorization".into(), Secret::new(format!("Bearer {}", t.expose())))),
        Credential::Basic { username, password } => {
            let raw = format!("{username}:{}", password.expose());
            let b64 = base64::engine::general_purpose::STANDARD.encode(raw);
            parts
                .headers
                .push(("authorization".into(), Secret::new(format!("Basic {b64}"))));
        }
        Credential::OAuth2(flow) => {
            let t = flow.token(client).await?;
            parts
                .headers
                .push(("authorization".into(), Secret::new(format!("Bearer {}", t.expose()))));
        }
    }
    Ok(parts)
}
