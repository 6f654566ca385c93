//! Streamable HTTP for the server: an axum `Router` serving `/mcp`.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rmcp::transport::StreamableHttpService;
use rmcp::transport::streamable_http_server::StreamableHttpServerConfig;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use toolplane_core::Principal;

use super::McpServer;

/// Checks the bearer token of every request to the MCP endpoint.
///
/// Return the principal the calls are made for, or `None` to refuse the
/// request with `401` and `WWW-Authenticate: Bearer`. The principal reaches
/// the executor's interceptors (permissions, rate limits, audit) in the
/// call's `CallContext`.
pub trait BearerAuth: Send + Sync + fmt::Debug {
    /// The principal for `token`, or `None`.
    fn authenticate(&self, token: &str) -> Option<Principal>;
}

/// A fixed set of API keys, each for one principal (compared in constant time).
///
/// ```
/// use toolplane_core::Principal;
/// use toolplane_mcp::server::{BearerAuth, StaticKeys};
/// let keys = StaticKeys::new().with_key("k-123", Principal::new("ci"));
/// assert_eq!(keys.authenticate("k-123").unwrap().id, "ci");
/// assert!(keys.authenticate("k-124").is_none());
/// ```
#[derive(Default)]
pub struct StaticKeys {
    keys: Vec<(String, Principal)>,
}

impl fmt::Debug for StaticKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StaticKeys").field("keys", &self.keys.len()).finish()
    }
}

impl StaticKeys {
    /// No keys: every request is refused.
    pub fn new() -> Self {
        Self::default()
    }

    /// Accepts `key` for `principal`.
    pub fn with_key(mut self, key: impl Into<String>, principal: Principal) -> Self {
        self.keys.push((key.into(), principal));
        self
    }
}

fn same(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl BearerAuth for StaticKeys {
    fn authenticate(&self, token: &str) -> Option<Principal> {
        let mut found = None;
        // Every key is compared, so timing says nothing about which matched.
        for (key, principal) in &self.keys {
            if same(key.as_bytes(), token.as_bytes()) && found.is_none() {
                found = Some(principal.clone());
            }
        }
        found
    }
}

/// The id a host's HTTP layer gave a request (its `x-request-id`, say).
///
/// Put it in the request's extensions before [`McpHttpService::handle`]:
/// the `tools/call` that request carries then runs with it as its
/// `CallContext::request_id`, so audit records, logs and traces of the call
/// join the HTTP request's. Without it the request id is `mcp-<JSON-RPC id>`;
/// the JSON-RPC id is the call's `ToolCall::id` either way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRequestId(pub String);

/// How the Streamable HTTP endpoint behaves.
#[derive(Clone)]
pub struct HttpOptions {
    /// The path served (default `/mcp`).
    pub path: String,
    /// Checks bearer tokens; `None` serves everyone (bind to loopback then).
    pub auth: Option<Arc<dyn BearerAuth>>,
    /// `Host` values accepted (DNS-rebinding protection). Default: loopback
    /// names only; `None` accepts any host (behind a proxy that checks it).
    pub allowed_hosts: Option<Vec<String>>,
    /// Largest request body (default 16 MiB); larger gets `413`.
    pub max_request_body_bytes: usize,
    /// Answer simple calls with `application/json` instead of an SSE stream
    /// (default `false`).
    pub json_response: bool,
    /// SSE keep-alive interval (default 15 s).
    pub sse_keep_alive: Option<Duration>,
}

impl fmt::Debug for HttpOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpOptions")
            .field("path", &self.path)
            .field("auth", &self.auth)
            .field("allowed_hosts", &self.allowed_hosts)
            .field("max_request_body_bytes", &self.max_request_body_bytes)
            .field("json_response", &self.json_response)
            .finish()
    }
}

impl Default for HttpOptions {
    fn default() -> Self {
        Self {
            path: "/mcp".into(),
            auth: None,
            allowed_hosts: Some(vec!["localhost".into(), "127.0.0.1".into(), "::1".into()]),
            max_request_body_bytes: 16 * 1024 * 1024,
            json_response: false,
            sse_keep_alive: Some(Duration::from_secs(15)),
        }
    }
}

impl HttpOptions {
    /// Requires a bearer token accepted by `auth`.
    pub fn with_auth(mut self, auth: Arc<dyn BearerAuth>) -> Self {
        self.auth = Some(auth);
        self
    }
}

/// An axum `Router` serving `server` over Streamable HTTP at `options.path`
/// (default `/mcp`). Merge it into an application:
///
/// ```no_run
/// # use std::sync::Arc;
/// # use toolplane_core::Principal;
/// # use toolplane_mcp::server::{http_router, HttpOptions, McpServer, ServerOptions, StaticKeys};
/// # use toolplane_registry::{Executor, ToolRegistry};
/// # async fn demo() -> std::io::Result<()> {
/// let server = McpServer::new(Arc::new(Executor::new(ToolRegistry::new())), ServerOptions::default());
/// let keys = StaticKeys::new().with_key("k-123", Principal::new("ci"));
/// let app = axum::Router::new().merge(http_router(server, HttpOptions::default().with_auth(Arc::new(keys))));
/// // TCP_NODELAY matters: each answer is a few small SSE writes, and without it
/// // Nagle's algorithm waits for the client's delayed ACK (40 ms) between them.
/// use axum::serve::ListenerExt;
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?.tap_io(|tcp| {
///     let _ = tcp.set_nodelay(true);
/// });
/// axum::serve(listener, app).await
/// # }
/// ```
///
/// Each MCP session gets its own handler (a clone of `server`, sharing the
/// executor). With `auth`, a request without a valid `Authorization: Bearer`
/// gets `401` with `WWW-Authenticate: Bearer` before reaching MCP, and the
/// principal returned by the hook is the one the executor sees.
pub fn http_router(server: McpServer, options: HttpOptions) -> Router {
    let service = McpHttpService::new(server, &options);
    let router = Router::new().route_service(&options.path, service.inner);
    match options.auth {
        None => router,
        Some(auth) => router.layer(axum::middleware::from_fn(move |req: Request, next: Next| {
            let auth = Arc::clone(&auth);
            async move { check_bearer(auth.as_ref(), req, next).await }
        })),
    }
}

/// The Streamable HTTP endpoint as a request handler, for applications that
/// route and authenticate requests themselves (`toolplane serve` mounts it
/// behind the gateway's own keys).
///
/// Keeps the MCP sessions; clones share them. Every request for the endpoint
/// (`POST`, `GET` and `DELETE`) goes to [`McpHttpService::handle`]. A
/// [`Principal`] in the request's extensions is the one the executor sees.
/// `options.auth` and `options.path` are not used here: the caller routes and
/// authenticates.
///
/// ```no_run
/// # use std::sync::Arc;
/// # use toolplane_mcp::server::{HttpOptions, McpHttpService, McpServer, ServerOptions};
/// # use toolplane_registry::{Executor, ToolRegistry};
/// let server = McpServer::new(Arc::new(Executor::new(ToolRegistry::new())), ServerOptions::default());
/// let mcp = McpHttpService::new(server, &HttpOptions::default());
/// let app: axum::Router = axum::Router::new().route(
///     "/mcp",
///     axum::routing::any(move |req: axum::extract::Request| {
///         let mcp = mcp.clone();
///         async move { mcp.handle(req).await }
///     }),
/// );
/// ```
#[derive(Clone)]
pub struct McpHttpService {
    inner: StreamableHttpService<McpServer, LocalSessionManager>,
}

impl fmt::Debug for McpHttpService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("McpHttpService").finish_non_exhaustive()
    }
}

impl McpHttpService {
    /// Serves `server` with `options`' host checks, body limit, response
    /// mode and keep-alive.
    pub fn new(server: McpServer, options: &HttpOptions) -> Self {
        let mut config = StreamableHttpServerConfig::default()
            .with_max_request_body_bytes(options.max_request_body_bytes)
            .with_json_response(options.json_response)
            .with_sse_keep_alive(options.sse_keep_alive);
        config = match &options.allowed_hosts {
            Some(hosts) => config.with_allowed_hosts(hosts.clone()),
            None => config.disable_allowed_hosts(),
        };
        let inner = StreamableHttpService::new(
            move || Ok(server.clone()),
            Arc::new(LocalSessionManager::default()),
            config,
        );
        Self { inner }
    }

    /// Answers one HTTP request for the endpoint.
    pub async fn handle(&self, request: Request) -> Response {
        self.inner.handle(request).await.map(Body::new)
    }
}

async fn check_bearer(auth: &dyn BearerAuth, mut req: Request, next: Next) -> Response {
    let token = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(str::trim);
    match token.and_then(|t| auth.authenticate(t)) {
        Some(principal) => {
            req.extensions_mut().insert(principal);
            next.run(req).await
        }
        None => {
            let why = if token.is_some() {
                "the bearer token is not valid"
            } else {
                "this MCP endpoint needs `Authorization: Bearer <key>`"
            };
            let body = serde_json::json!({"error": {"type": "unauthorized", "message": why}}).to_string();
            (
                StatusCode::UNAUTHORIZED,
                [
                    (header::WWW_AUTHENTICATE, "Bearer"),
                    (header::CONTENT_TYPE, "application/json"),
                ],
                Body::from(body),
            )
                .into_response()
        }
    }
}
