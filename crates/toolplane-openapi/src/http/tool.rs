//! [`HttpTool`]: a converted operation that runs over HTTP.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use reqwest::Url;
use reqwest::redirect::{Attempt, Policy};
use serde_json::{Map, Value};
use toolplane_core::{CallContext, Tool, ToolError, ToolErrorKind, ToolOutput, ToolSpec};

use super::auth::{AuthError, AuthParts, ClientCredentials, Credential, resolve, transport_problem};
use super::config::{HttpConfig, SchemeAuth};
use super::request::build_parts;
use super::response::{read_limited, to_output};
use super::secret::{Secret, scrub};
use super::server::{ServerVariableSpec, fill_server_url};
use super::style::{check_header_value, encode_component};
use super::trace;
use crate::binding::{ConvertedTool, SchemeUse, SecurityScheme};

/// A redirect the policy refused (the message names hosts only).
#[derive(Debug, thiserror::Error)]
#[error("redirect from {from} to {to} refused: {why}")]
struct RedirectRefused {
    from: String,
    to: String,
    why: &'static str,
}

fn origin(u: &Url) -> String {
    format!("{}://{}", u.scheme(), u.host_str().unwrap_or("?")) + &u.port().map(|p| format!(":{p}")).unwrap_or_default()
}

fn redirect_policy(max: usize) -> Policy {
    Policy::custom(move |attempt: Attempt<'_>| {
        let Some(first) = attempt.previous().first() else {
            return attempt.stop();
        };
        let (from, to) = (origin(first), origin(attempt.url()));
        let why = if !matches!(attempt.url().scheme(), "http" | "https") {
            Some("only http and https are allowed")
        } else if first.scheme() == "https" && attempt.url().scheme() == "http" {
            Some("a downgrade from https to http")
        } else if first.host_str() != attempt.url().host_str()
            || first.port_or_known_default() != attempt.url().port_or_known_default()
        {
            Some("requests stay on the configured host")
        } else if attempt.previous().len() > max {
            Some("too many redirects")
        } else {
            None
        };
        match why {
            Some(why) => attempt.error(RedirectRefused { from, to, why }),
            None => attempt.follow(),
        }
    })
}

/// A multipart boundary nobody can guess: std's `RandomState` is seeded from
/// the OS per process and differs per instance, so no body a model writes can
/// contain it except by chance (2^-128).
fn random_boundary(seq: u64) -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut words = [0u64; 2];
    for (i, w) in words.iter_mut().enumerate() {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(seq);
        h.write_usize(i);
        *w = h.finish();
    }
    format!("toolplane-{:016x}{:016x}", words[0], words[1])
}

/// What every [`HttpTool`] of one API shares: one `reqwest::Client` (one
/// connection pool), the configuration, and the OAuth2 token caches.
#[derive(Debug)]
pub struct HttpRuntime {
    client: reqwest::Client,
    config: HttpConfig,
    oauth: Mutex<HashMap<String, Arc<ClientCredentials>>>,
    boundary_seq: AtomicU64,
}

/// HTTP execution could not be set up (bad base URL, server variables, header).
#[derive(Debug, thiserror::Error)]
pub enum HttpSetupError {
    /// The base URL or server URL is not usable.
    #[error("{0}")]
    BaseUrl(String),
    /// A server URL variable problem.
    #[error(transparent)]
    Server(#[from] super::server::ServerUrlError),
    /// A configured header is not valid.
    #[error("configured header `{0}` is not a valid header (name or value)")]
    Header(String),
    /// The HTTP client could not be built.
    #[error("the HTTP client could not be built: {0}")]
    Client(String),
}

impl HttpRuntime {
    /// Builds the shared client: same-host redirects only, http(s) only,
    /// connect timeout from the configuration.
    pub fn new(config: HttpConfig) -> Result<Arc<Self>, HttpSetupError> {
        for (name, value) in &config.headers {
            let ok = reqwest::header::HeaderName::from_bytes(name.as_bytes()).is_ok()
                && check_header_value(name, value).is_ok()
                && reqwest::header::HeaderValue::from_str(value).is_ok();
            if !ok {
                return Err(HttpSetupError::Header(name.clone()));
            }
        }
        let client = reqwest::Client::builder()
            .redirect(redirect_policy(config.max_redirects))
            .connect_timeout(config.connect_timeout)
            .build()
            .map_err(|e| HttpSetupError::Client(transport_problem(&e)))?;
        Ok(Arc::new(Self {
            client,
            config,
            oauth: Mutex::new(HashMap::new()),
            boundary_seq: AtomicU64::new(0),
        }))
    }

    /// The configuration.
    pub fn config(&self) -> &HttpConfig {
        &self.config
    }

    /// The shared client.
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    fn base_url_for(&self, tool: &ConvertedTool) -> Result<Url, HttpSetupError> {
        let raw = match (&self.config.base_url, tool.binding.servers.first()) {
            (Some(base), _) => base.clone(),
            (None, Some(server)) => {
                let vars: BTreeMap<String, ServerVariableSpec> = server
                    .variables
                    .iter()
                    .map(|(k, v)| {
                        (
                            k.clone(),
                            ServerVariableSpec {
                                default: v.default.clone(),
                                allowed: v.enum_values.clone(),
                            },
                        )
                    })
                    .collect();
                fill_server_url(&server.url, &vars, &self.config.server_variables)?
            }
            (None, None) => {
                return Err(HttpSetupError::BaseUrl(format!(
                    "tool `{}`: the description declares no server; set a base URL in HttpConfig",
                    tool.spec.name
                )));
            }
        };
        let url = Url::parse(&raw).map_err(|e| {
            HttpSetupError::BaseUrl(format!(
                "tool `{}`: base URL `{raw}` is not an absolute URL ({e}); set one in HttpConfig",
                tool.spec.name
            ))
        })?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(HttpSetupError::BaseUrl(format!(
                "tool `{}`: base URL `{raw}` must be http or https with a host",
                tool.spec.name
            )));
        }
        Ok(url)
    }

    fn oauth_flow(
        &self,
        scheme: &str,
        token_url: &str,
        scopes: &[String],
        base: &Url,
        id: &str,
        secret: &Secret,
    ) -> Arc<ClientCredentials> {
        let mut map = self.oauth.lock().unwrap_or_else(|p| p.into_inner());
        map.entry(scheme.to_owned())
            .or_insert_with(|| {
                let url = base
                    .join(token_url)
                    .map(|u| u.to_string())
                    .unwrap_or_else(|_| token_url.to_owned());
                Arc::new(ClientCredentials::new(url, id, secret.clone()).with_scopes(scopes.iter().cloned()))
            })
            .clone()
    }

    /// The credential configuration gives for one scheme use, if any.
    fn credential_for(&self, u: &SchemeUse, base: &Url) -> Option<Credential> {
        let auth = self.config.schemes.get(&u.name)?;
        Some(match (auth, &u.scheme) {
            (SchemeAuth::Credential(c), _) => c.clone(),
            (SchemeAuth::Secret(s), SecurityScheme::ApiKey { location, name }) => {
                Credential::api_key(*location, name.clone(), s.clone())
            }
            (SchemeAuth::Secret(s), _) => Credential::bearer(s.clone()),
            (SchemeAuth::Basic { username, password }, _) => Credential::basic(username.clone(), password.clone()),
            (
                SchemeAuth::ClientCredentials {
                    client_id,
                    client_secret,
                },
                SecurityScheme::Oauth2ClientCredentials { token_url, .. },
            ) => Credential::OAuth2(self.oauth_flow(&u.name, token_url, &u.scopes, base, client_id, client_secret)),
            (SchemeAuth::ClientCredentials { .. }, _) => return None,
        })
    }
}

/// One converted operation, executable over HTTP.
///
/// Arguments are expected to be validated against `spec().input_schema`
/// already (the executor does); the tool still checks what it needs to build
/// the request and answers [`ToolErrorKind::InvalidArguments`] otherwise.
#[derive(Debug)]
pub struct HttpTool {
    tool: ConvertedTool,
    base: Url,
    runtime: Arc<HttpRuntime>,
}

impl HttpTool {
    /// Binds a converted tool to a runtime; fails when no usable base URL results.
    pub fn new(tool: ConvertedTool, runtime: Arc<HttpRuntime>) -> Result<Self, HttpSetupError> {
        let base = runtime.base_url_for(&tool)?;
        Ok(Self { tool, base, runtime })
    }

    /// The converted tool (spec and binding).
    pub fn converted(&self) -> &ConvertedTool {
        &self.tool
    }

    /// The base URL requests go to.
    pub fn base_url(&self) -> &Url {
        &self.base
    }

    /// Chooses credentials: the first security alternative whose schemes are
    /// all configured, else the default credential, else none when the
    /// operation declares no security or allows anonymous access.
    fn credentials(&self) -> Result<Vec<Credential>, ToolError> {
        let sec = &self.tool.binding.security;
        // Prefer an alternative with credentials over anonymous access.
        for req in sec.iter().filter(|r| !r.schemes.is_empty()) {
            let creds: Option<Vec<Credential>> = req
                .schemes
                .iter()
                .map(|u| self.runtime.credential_for(u, &self.base))
                .collect();
            if let Some(creds) = creds {
                return Ok(creds);
            }
        }
        if let Some(d) = &self.runtime.config.default_credential {
            return Ok(vec![d.clone()]);
        }
        if sec.is_empty() || sec.iter().any(|r| r.schemes.is_empty()) {
            return Ok(Vec::new());
        }
        let names: Vec<String> = sec
            .iter()
            .map(|r| {
                r.schemes
                    .iter()
                    .map(|s| s.name.as_str())
                    .collect::<Vec<_>>()
                    .join(" + ")
            })
            .collect();
        Err(ToolError::permission_denied(format!(
            "tool `{}` needs credentials for one of [{}], and none is configured",
            self.tool.spec.name,
            names.join(", ")
        )))
    }

    fn timeout(&self, ctx: &CallContext) -> Result<Duration, ToolError> {
        let configured = self.runtime.config.timeout;
        match ctx.remaining() {
            Some(left) if left.is_zero() => Err(ToolError::timeout(format!(
                "tool `{}`: the call's deadline passed before the request was sent",
                self.tool.spec.name
            ))),
            Some(left) => Ok(left.min(configured)),
            None => Ok(configured),
        }
    }

    fn build(
        &self,
        args: &Map<String, Value>,
        auth: &[AuthParts],
        timeout: Duration,
    ) -> Result<reqwest::RequestBuilder, ToolError> {
        let seq = self.runtime.boundary_seq.fetch_add(1, Ordering::Relaxed);
        let boundary = random_boundary(seq);
        let parts = build_parts(&self.tool, args, &boundary)?;
        let mut text = self.base.as_str().trim_end_matches('/').to_owned();
        if !parts.path.starts_with('/') {
            text.push('/');
        }
        text.push_str(&parts.path);
        let mut query: Vec<String> = parts.query.iter().map(|(k, v)| format!("{k}={v}")).collect();
        for a in auth {
            for (k, v) in &a.query {
                let (k, val) = (encode_component(k), encode_component(v.expose()));
                query.push(format!("{k}={val}"));
            }
        }
        if !query.is_empty() {
            text.push(if text.contains('?') { '&' } else { '?' });
            text.push_str(&query.join("&"));
        }
        let url = Url::parse(&text).map_err(|_| {
            ToolError::invalid_arguments(format!(
                "tool `{}`: the arguments do not form a valid URL",
                self.tool.spec.name
            ))
        })?;
        if url.host_str() != self.base.host_str()
            || url.port_or_known_default() != self.base.port_or_known_default()
            || url.scheme() != self.base.scheme()
        {
            return Err(ToolError::permission_denied(format!(
                "tool `{}`: the request would leave the configured host {}",
                self.tool.spec.name,
                origin(&self.base)
            )));
        }
        let method = reqwest::Method::from_bytes(self.tool.binding.method.as_str().as_bytes())
            .map_err(|_| ToolError::internal("unknown HTTP method"))?;
        let mut req = self.runtime.client.request(method, url).timeout(timeout);
        let mut headers = reqwest::header::HeaderMap::new();
        // Later sources replace earlier ones by name: configured headers, then the
        // operation's header parameters, then credentials.
        let mut put = |name: &str, values: &[&str]| -> Result<(), ToolError> {
            let n = reqwest::header::HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| ToolError::invalid_arguments(format!("header name `{name}` is not valid")))?;
            headers.remove(&n);
            for value in values {
                let v = reqwest::header::HeaderValue::from_str(value).map_err(|_| {
                    ToolError::invalid_arguments(format!("header `{name}`: the value is not a valid header value"))
                })?;
                headers.append(n.clone(), v);
            }
            Ok(())
        };
        for (n, v) in &self.runtime.config.headers {
            put(n, &[v])?;
        }
        let mut by_name: Vec<(&str, Vec<&str>)> = Vec::new();
        for (n, v) in &parts.headers {
            match by_name.iter_mut().find(|(k, _)| k.eq_ignore_ascii_case(n)) {
                Some((_, vs)) => vs.push(v),
                None => by_name.push((n, vec![v])),
            }
        }
        for (n, vs) in &by_name {
            put(n, vs)?;
        }
        let mut cookies: Vec<String> = parts.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect();
        for a in auth {
            for (n, v) in &a.headers {
                put(n, &[v.expose()])?;
            }
            cookies.extend(a.cookies.iter().map(|(k, v)| format!("{k}={}", v.expose())));
        }
        if !cookies.is_empty() {
            put("cookie", &[&cookies.join("; ")])?;
        }
        if let Some(body) = parts.body {
            put("content-type", &[&body.content_type])?;
            req = req.body(body.bytes);
        }
        Ok(req.headers(headers))
    }

    fn secrets<'a>(&'a self, auth: &'a [AuthParts]) -> Vec<&'a Secret> {
        let mut s = self.runtime.config.secrets();
        s.extend(auth.iter().flat_map(AuthParts::secrets));
        s
    }

    fn transport_error(&self, e: &reqwest::Error, auth: &[AuthParts]) -> ToolError {
        let name = &self.tool.spec.name;
        let host = origin(&self.base);
        let err = if e.is_timeout() {
            ToolError::timeout(format!("tool `{name}`: {host} did not answer in time"))
        } else if e.is_redirect() {
            let mut src: Option<&(dyn std::error::Error + 'static)> = Some(e);
            let mut refused = None;
            while let Some(s) = src {
                if let Some(r) = s.downcast_ref::<RedirectRefused>() {
                    refused = Some(r.to_string());
                    break;
                }
                src = s.source();
            }
            ToolError::permission_denied(format!(
                "tool `{name}`: {}",
                refused.unwrap_or_else(|| "a redirect was refused".into())
            ))
        } else if e.is_connect() {
            ToolError::upstream(format!("tool `{name}`: could not connect to {host}"))
        } else {
            ToolError::upstream(format!(
                "tool `{name}`: the request to {host} failed: {}",
                transport_problem(e)
            ))
        };
        let msg = scrub(err.message(), &self.secrets(auth));
        ToolError::new(err.kind(), msg)
    }

    async fn send_once(
        &self,
        args: &Map<String, Value>,
        creds: &[Credential],
        ctx: &CallContext,
    ) -> Result<(u16, ToolOutput), ToolError> {
        let mut auth = Vec::with_capacity(creds.len());
        for c in creds {
            // A token endpoint that hangs is bounded by the same timeout as the call.
            let resolved = tokio::time::timeout(self.timeout(ctx)?, resolve(c, &self.runtime.client))
                .await
                .map_err(|_| {
                    ToolError::timeout(format!(
                        "tool `{}`: the OAuth2 token endpoint did not answer in time",
                        self.tool.spec.name
                    ))
                })?;
            auth.push(resolved.map_err(|e| self.auth_error(&e))?);
        }
        let timeout = self.timeout(ctx)?;
        let req = self.build(args, &auth, timeout)?;
        if ctx.cancel.is_cancelled() {
            return Err(ToolError::new(ToolErrorKind::Cancelled, "the call was cancelled"));
        }
        let mut request = req.build().map_err(|e| self.transport_error(&e, &auth))?;
        let span = trace::http_span(&request);
        span.in_scope(|| trace::propagate(&mut request, ctx));
        let send = async {
            let mut resp = self.runtime.client.execute(request).await?;
            let status = resp.status().as_u16();
            let ct = resp
                .headers()
                .get(reqwest::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned();
            let headers = self.selected_headers(resp.headers());
            let read = read_limited(&mut resp, self.runtime.config.max_response_bytes).await?;
            Ok::<_, reqwest::Error>((status, to_output(status, headers, &ct, read)))
        };
        // Woken by the cancel itself (no polling timer).
        let cancelled = ctx.cancel.cancelled();
        let result = tokio::select! {
            r = tracing::Instrument::instrument(send, span.clone()) => r.map_err(|e| self.transport_error(&e, &auth)),
            () = cancelled => Err(ToolError::new(ToolErrorKind::Cancelled, "the call was cancelled")),
        };
        trace::record_result(
            &span,
            match &result {
                Ok((status, _)) => Ok(*status),
                Err(e) => Err(e.kind().as_str()),
            },
        );
        result
    }

    fn auth_error(&self, e: &AuthError) -> ToolError {
        let msg = scrub(
            &format!("tool `{}`: {e}", self.tool.spec.name),
            &self.runtime.config.secrets(),
        );
        match e {
            AuthError::TokenUnavailable { timeout: true, .. } => ToolError::timeout(msg),
            AuthError::Missing(_) => ToolError::permission_denied(msg),
            _ => ToolError::upstream(msg),
        }
    }

    fn selected_headers(&self, headers: &reqwest::header::HeaderMap) -> Map<String, Value> {
        let mut out = Map::new();
        for name in &self.runtime.config.response_headers {
            let values: Vec<&str> = headers
                .get_all(name.as_str())
                .iter()
                .filter_map(|v| v.to_str().ok())
                .collect();
            if !values.is_empty() {
                out.insert(name.clone(), Value::String(values.join(", ")));
            }
        }
        out
    }
}

#[async_trait]
impl Tool for HttpTool {
    fn spec(&self) -> &ToolSpec {
        &self.tool.spec
    }

    async fn call(&self, args: &Value, ctx: &CallContext) -> Result<ToolOutput, ToolError> {
        let empty = Map::new();
        let args = match args {
            Value::Object(m) => m,
            Value::Null => &empty,
            _ => return Err(ToolError::invalid_arguments("the arguments must be a JSON object")),
        };
        let creds = self.credentials()?;
        let (status, out) = self.send_once(args, &creds, ctx).await?;
        // A 401 with a cached OAuth2 token: the token may have been revoked; fetch a new one once.
        let oauth: Vec<&Arc<ClientCredentials>> = creds
            .iter()
            .filter_map(|c| match c {
                Credential::OAuth2(f) => Some(f),
                _ => None,
            })
            .collect();
        if status == 401 && !oauth.is_empty() {
            for f in oauth {
                f.invalidate().await;
            }
            return self.send_once(args, &creds, ctx).await.map(|(_, o)| o);
        }
        Ok(out)
    }
}

/// Builds an [`HttpTool`] for every converted tool, all sharing one runtime.
///
/// ```no_run
/// # fn demo(tools: Vec<toolplane_openapi::ConvertedTool>) -> Result<(), Box<dyn std::error::Error>> {
/// use toolplane_openapi::http::{http_tools, HttpConfig};
/// let config = HttpConfig::new().with_base_url("https://api.example.com").with_secret_from_env("bearer", "API_TOKEN")?;
/// let tools = http_tools(tools, config)?; // Vec<Arc<dyn Tool>>
/// # Ok(()) }
/// ```
pub fn http_tools(
    tools: impl IntoIterator<Item = ConvertedTool>,
    config: HttpConfig,
) -> Result<Vec<Arc<dyn Tool>>, HttpSetupError> {
    let runtime = HttpRuntime::new(config)?;
    tools
        .into_iter()
        .map(|t| HttpTool::new(t, runtime.clone()).map(|t| Arc::new(t) as Arc<dyn Tool>))
        .collect()
}
