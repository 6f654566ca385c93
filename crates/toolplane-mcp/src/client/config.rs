//! How to reach an MCP server and how patient to be with it.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// One MCP server the host uses: a name (the namespace of its tools), how to
/// reach it, and limits.
///
/// ```
/// use std::time::Duration;
/// use toolplane_mcp::client::{ServerConfig, StdioServer};
/// let cfg = ServerConfig::stdio("everything", StdioServer::new("npx").arg("-y").arg("@modelcontextprotocol/server-everything"))
///     .with_call_timeout(Duration::from_secs(20));
/// assert_eq!(cfg.name, "everything");
/// ```
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// The server's name in this host: its tools are registered as `name.tool`.
    /// Letters, digits, `_` and `-`.
    pub name: String,
    /// How to reach it.
    pub transport: TransportConfig,
    /// Timeouts, backoff and hooks.
    pub options: ClientOptions,
}

impl ServerConfig {
    /// A server started as a child process speaking MCP on its stdin/stdout.
    pub fn stdio(name: impl Into<String>, server: StdioServer) -> Self {
        Self {
            name: name.into(),
            transport: TransportConfig::Stdio(server),
            options: ClientOptions::default(),
        }
    }

    /// A server reached over Streamable HTTP.
    pub fn http(name: impl Into<String>, server: HttpServer) -> Self {
        Self {
            name: name.into(),
            transport: TransportConfig::Http(server),
            options: ClientOptions::default(),
        }
    }

    /// Sets the longest a `tools/call` may go without an answer or a progress
    /// notification.
    pub fn with_call_timeout(mut self, timeout: Duration) -> Self {
        self.options.call_timeout = timeout;
        self
    }

    /// Replaces the options.
    pub fn with_options(mut self, options: ClientOptions) -> Self {
        self.options = options;
        self
    }
}

/// The transports an MCP server can be reached over.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum TransportConfig {
    /// A child process (MCP's stdio transport).
    Stdio(StdioServer),
    /// Streamable HTTP (feature `http`).
    Http(HttpServer),
}

/// A child process speaking MCP on stdin/stdout.
///
/// The child gets only the environment variables listed with [`StdioServer::env`]
/// plus `PATH` and `HOME` (unless [`StdioServer::inherit_env`] is set), so the
/// host's secrets do not leak into third-party servers by default.
#[derive(Clone, PartialEq, Eq)]
pub struct StdioServer {
    /// The program.
    pub command: String,
    /// Its arguments.
    pub args: Vec<String>,
    /// Extra environment variables.
    pub env: Vec<(String, String)>,
    /// Pass the host's whole environment (default `false`: `PATH` and `HOME` only).
    pub inherit_env: bool,
    /// Working directory (default: the host's).
    pub cwd: Option<PathBuf>,
}

impl fmt::Debug for StdioServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Values of environment variables are often keys: show names only.
        f.debug_struct("StdioServer")
            .field("command", &self.command)
            .field("args", &self.args)
            .field("env", &self.env.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>())
            .field("inherit_env", &self.inherit_env)
            .field("cwd", &self.cwd)
            .finish()
    }
}

impl StdioServer {
    /// Runs `command` with no arguments.
    pub fn new(command: impl Into<String>) -> Self {
        Self {
            command: command.into(),
            args: Vec::new(),
            env: Vec::new(),
            inherit_env: false,
            cwd: None,
        }
    }

    /// Adds an argument.
    pub fn arg(mut self, arg: impl Into<String>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// Adds arguments.
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Sets an environment variable for the child.
    pub fn env(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    /// Passes the host's whole environment to the child.
    pub fn inherit_env(mut self, yes: bool) -> Self {
        self.inherit_env = yes;
        self
    }

    /// Sets the working directory.
    pub fn cwd(mut self, dir: impl Into<PathBuf>) -> Self {
        self.cwd = Some(dir.into());
        self
    }
}

/// A Streamable HTTP endpoint, with a bearer token or other headers.
#[derive(Clone, PartialEq, Eq)]
pub struct HttpServer {
    /// The endpoint (`https://example.com/mcp`).
    pub url: String,
    /// Sent as `Authorization: Bearer ...`.
    pub bearer: Option<String>,
    /// Extra headers on every request (an API key header, say).
    pub headers: Vec<(String, String)>,
}

impl fmt::Debug for HttpServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpServer")
            .field("url", &self.url)
            .field("bearer", &self.bearer.as_ref().map(|_| "<redacted>"))
            .field(
                "headers",
                &self.headers.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl HttpServer {
    /// The endpoint at `url`.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            bearer: None,
            headers: Vec::new(),
        }
    }

    /// Sends `Authorization: Bearer <token>`.
    pub fn bearer(mut self, token: impl Into<String>) -> Self {
        self.bearer = Some(token.into());
        self
    }

    /// Adds a header.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }
}

/// One `notifications/progress` from a server, as given to a [`ProgressHook`].
#[derive(Debug, Clone, PartialEq)]
pub struct ProgressEvent {
    /// The server's name in this host.
    pub server: String,
    /// The progress token of the request (as JSON).
    pub token: serde_json::Value,
    /// Progress so far.
    pub progress: f64,
    /// The total, when known.
    pub total: Option<f64>,
    /// The server's message, if any.
    pub message: Option<String>,
}

/// Called for every progress notification (from the connection's task: keep it short).
pub type ProgressHook = Arc<dyn Fn(&ProgressEvent) + Send + Sync>;

/// Timeouts, reconnect backoff and hooks of one client.
#[derive(Clone)]
pub struct ClientOptions {
    /// Longest a call may go without an answer; a progress notification
    /// starts the wait again (default 60 s). On expiry the client sends
    /// `notifications/cancelled` and the call fails with `timeout`.
    pub call_timeout: Duration,
    /// Longest a call may take in all, progress or not (default 10 min).
    pub max_call_time: Duration,
    /// Longest connecting and the `initialize` handshake may take (default 30 s).
    pub connect_timeout: Duration,
    /// Wait before the first reconnect after a failure (default 250 ms);
    /// doubled after each failed attempt up to [`ClientOptions::max_backoff`].
    pub initial_backoff: Duration,
    /// Longest wait between reconnects (default 30 s).
    pub max_backoff: Duration,
    /// Called for every progress notification.
    pub on_progress: Option<ProgressHook>,
}

impl fmt::Debug for ClientOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientOptions")
            .field("call_timeout", &self.call_timeout)
            .field("max_call_time", &self.max_call_time)
            .field("connect_timeout", &self.connect_timeout)
            .field("initial_backoff", &self.initial_backoff)
            .field("max_backoff", &self.max_backoff)
            .field("on_progress", &self.on_progress.is_some())
            .finish()
    }
}

impl ClientOptions {
    /// The wait before the next connection attempt after `failures` failed
    /// ones in a row: [`ClientOptions::initial_backoff`] doubled per failure,
    /// at most [`ClientOptions::max_backoff`]. The one backoff policy of the
    /// client and of hosts that retry a first connection in the background.
    pub fn backoff_after(&self, failures: u32) -> Duration {
        let factor = 2u32.saturating_pow(failures.saturating_sub(1).min(16));
        self.initial_backoff.saturating_mul(factor).min(self.max_backoff)
    }
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            call_timeout: Duration::from_secs(60),
            max_call_time: Duration::from_secs(600),
            connect_timeout: Duration::from_secs(30),
            initial_backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(30),
            on_progress: None,
        }
    }
}
