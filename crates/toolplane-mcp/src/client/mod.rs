//! MCP client: a server's tools become toolplane [`Tool`]s.
//!
//! ```text
//!  McpClient::connect(ServerConfig) ── initialize, tools/list ──► McpTool per tool (`server.tool`)
//!        │                                                             │ registered in an Executor
//!        │ notifications/tools/list_changed ─► refresh: add, replace,  │ (validation, interceptors,
//!        │                                      remove in the executor │  limits as for any tool)
//!        ▼                                                             ▼
//!  one live connection ◄──── tools/call (timeout, progress, notifications/cancelled) ──── McpTool::call
//!   └─ exited / closed / hung ─► the call fails with a clear error; the next call reconnects,
//!                                 with exponential backoff between failed attempts
//! ```
//!
//! The client never sleeps in a loop: a reconnect is attempted by the call
//! that needs the server, at most once per backoff interval; calls in
//! between fail at once with `upstream` and a `retry_after`.

mod config;
#[cfg(feature = "http")]
pub(crate) mod http;
mod tool;

use std::collections::{BTreeMap, VecDeque};
use std::fmt;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use parking_lot::{Mutex, RwLock};
use rmcp::model::{
    CallToolRequest, CallToolRequestParams, CancelledNotificationParam, ClientCapabilities, ClientConfig,
    ClientRequest, Implementation, ProgressNotificationParam, RequestMetaObject, ServerResult,
};
use rmcp::service::{NotificationContext, PeerRequestOptions, RunningService, ServiceError};
use rmcp::{ClientHandler, RoleClient, ServiceExt};
use serde_json::{Value, json};
use toolplane_core::{CallContext, Tool, ToolError, ToolErrorKind, ToolOutput};
use toolplane_registry::{Executor, RegistryError};

pub use config::{ClientOptions, HttpServer, ProgressEvent, ProgressHook, ServerConfig, StdioServer, TransportConfig};
pub use tool::McpTool;

use crate::wire;

/// Why connecting to an MCP server failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectError {
    /// The configuration cannot work (a bad server name, URL or header).
    #[error("MCP server `{server}`: {message}")]
    Config {
        /// The server's name.
        server: String,
        /// What is wrong.
        message: String,
    },
    /// The process could not start, or the connection or handshake failed.
    #[error("MCP server `{server}`: {message}")]
    Connect {
        /// The server's name.
        server: String,
        /// What happened, with the end of the server's stderr when there is one.
        message: String,
    },
    /// The server's `tools/list` answer could not be used.
    #[error("MCP server `{server}`: tools/list failed: {message}")]
    ListTools {
        /// The server's name.
        server: String,
        /// What happened.
        message: String,
    },
}

/// What [`McpClient::attach`] or a refresh did to an executor.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncReport {
    /// Tools registered (names in this host).
    pub added: Vec<String>,
    /// Tools whose definition changed, registered again.
    pub replaced: Vec<String>,
    /// Tools the server no longer lists, unregistered.
    pub removed: Vec<String>,
    /// Server tools that could not be registered, with the reason (a name the
    /// registry refuses, a schema that does not compile).
    pub skipped: Vec<(String, String)>,
}

/// What [`McpClient::status`] says about the connection.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConnectionStatus {
    /// A live connection is open.
    pub connected: bool,
    /// Reconnect attempts that failed in a row (0 after a success).
    pub failed_attempts: u32,
    /// Why the last reconnect failed, or why the last connection ended
    /// (`None` while connected with no failed attempt).
    pub last_error: Option<String>,
}

/// A connection to one MCP server and the tools it offers.
///
/// Cheap to clone. The tools hold a weak reference: once every clone of the
/// client is dropped the connection closes (a stdio server is killed) and
/// the tools answer `upstream: ... the MCP client was closed`.
#[derive(Clone)]
pub struct McpClient {
    inner: Arc<Inner>,
}

impl fmt::Debug for McpClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("McpClient")
            .field("server", &self.inner.config.name)
            .field("transport", &self.inner.config.transport)
            .field("tools", &self.inner.tools.read().len())
            .finish()
    }
}

type Service = RunningService<RoleClient, Handler>;

struct Connection {
    service: Service,
    generation: u64,
    pid: Option<u32>,
}

#[derive(Debug)]
struct Backoff {
    failures: u32,
    next_attempt: Option<Instant>,
    last_error: Option<String>,
}

pub(crate) struct Inner {
    config: ServerConfig,
    current: RwLock<Option<Arc<Connection>>>,
    connect_lock: tokio::sync::Mutex<()>,
    refresh_lock: tokio::sync::Mutex<()>,
    backoff: Mutex<Backoff>,
    generation: Mutex<u64>,
    /// Remote tool name to the tool registered for it.
    tools: RwLock<BTreeMap<String, Arc<McpTool>>>,
    attached: Mutex<Vec<Executor>>,
    stderr_tail: Arc<Mutex<VecDeque<String>>>,
    /// Why the last connection ended, for the next error message.
    last_close: Mutex<Option<String>>,
    refreshes: std::sync::atomic::AtomicU64,
    skipped: Mutex<Vec<(String, String)>>,
}

#[derive(Clone)]
struct Handler {
    inner: Weak<Inner>,
    server: String,
    on_progress: Option<ProgressHook>,
}

impl ClientHandler for Handler {
    fn get_info(&self) -> ClientConfig {
        ClientConfig::new(
            ClientCapabilities::default(),
            Implementation::new("toolplane", env!("CARGO_PKG_VERSION")),
        )
    }

    async fn on_tool_list_changed(&self, _ctx: NotificationContext<RoleClient>) {
        let Some(inner) = self.inner.upgrade() else { return };
        // The refresh sends a request on this connection; run it beside the
        // notification loop, which must keep reading for the answer to arrive.
        tokio::spawn(async move {
            let client = McpClient { inner };
            let _ = client.refresh().await;
        });
    }

    async fn on_progress(&self, params: ProgressNotificationParam, _ctx: NotificationContext<RoleClient>) {
        if let Some(hook) = &self.on_progress {
            let token = serde_json::to_value(&params.progress_token).unwrap_or(Value::Null);
            hook(&ProgressEvent {
                server: self.server.clone(),
                token,
                progress: params.progress,
                total: params.total,
                message: params.message.clone(),
            });
        }
    }
}

const STDERR_TAIL_LINES: usize = 20;

fn check_server_name(name: &str) -> Result<(), String> {
    let ok =
        !name.is_empty() && name.len() <= 48 && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "the server name `{name}` must be 1 to 48 ASCII letters, digits, `_` or `-` (it becomes the tools' namespace)"
        ))
    }
}

impl McpClient {
    /// Connects (starting the process for stdio), performs the `initialize`
    /// handshake and lists the server's tools.
    ///
    /// # Errors
    /// [`ConnectError`] naming the server and what failed, with the end of
    /// its stderr for a process that exited.
    pub async fn connect(config: ServerConfig) -> Result<Self, ConnectError> {
        check_server_name(&config.name).map_err(|message| ConnectError::Config {
            server: config.name.clone(),
            message,
        })?;
        let inner = Arc::new(Inner {
            config,
            current: RwLock::new(None),
            connect_lock: tokio::sync::Mutex::new(()),
            refresh_lock: tokio::sync::Mutex::new(()),
            backoff: Mutex::new(Backoff {
                failures: 0,
                next_attempt: None,
                last_error: None,
            }),
            generation: Mutex::new(0),
            tools: RwLock::new(BTreeMap::new()),
            attached: Mutex::new(Vec::new()),
            stderr_tail: Arc::new(Mutex::new(VecDeque::new())),
            last_close: Mutex::new(None),
            refreshes: std::sync::atomic::AtomicU64::new(0),
            skipped: Mutex::new(Vec::new()),
        });
        let client = Self { inner };
        let conn = client.open().await?;
        *client.inner.current.write() = Some(Arc::clone(&conn));
        client
            .sync_tools(&conn)
            .await
            .map_err(|message| ConnectError::ListTools {
                server: client.name().to_string(),
                message,
            })?;
        Ok(client)
    }

    /// The server's name (the namespace of its tools).
    pub fn name(&self) -> &str {
        &self.inner.config.name
    }

    /// The process id of a stdio server's current process, if it runs.
    pub fn pid(&self) -> Option<u32> {
        self.inner.current.read().as_ref().and_then(|c| c.pid)
    }

    /// How many times the tool list was refreshed after the first listing
    /// (on `notifications/tools/list_changed`, after a reconnect, or by [`McpClient::refresh`]).
    pub fn refresh_count(&self) -> u64 {
        self.inner.refreshes.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The server's tools as toolplane tools, named `server.tool`, sorted by name.
    pub fn tools(&self) -> Vec<Arc<dyn Tool>> {
        let tools = self.inner.tools.read();
        let mut list: Vec<Arc<McpTool>> = tools.values().cloned().collect();
        list.sort_by(|a, b| a.spec().name.cmp(&b.spec().name));
        list.into_iter().map(|t| t as Arc<dyn Tool>).collect()
    }

    /// Whether the connection is live, and why the last attempt or connection failed.
    pub fn status(&self) -> ConnectionStatus {
        let connected = self.inner.live().is_some();
        let (failures, last_error) = {
            let b = self.inner.backoff.lock();
            (b.failures, b.last_error.clone())
        };
        let last_error = last_error.or_else(|| {
            if connected {
                None
            } else {
                Some(
                    self.inner
                        .last_close
                        .lock()
                        .clone()
                        .unwrap_or_else(|| "the connection closed".into()),
                )
            }
        });
        ConnectionStatus {
            connected,
            failed_attempts: failures,
            last_error,
        }
    }

    /// Closes the connection and opens a new one at once (whatever the
    /// backoff says), then lists the tools again.
    ///
    /// # Errors
    /// A [`ToolError`] (`upstream`) when the server cannot be reached.
    pub async fn reconnect(&self) -> Result<SyncReport, ToolError> {
        self.close().await;
        self.inner.backoff.lock().next_attempt = None;
        self.refresh().await
    }

    /// Tools the server listed last time that could not become toolplane
    /// tools (no input schema, say), with the reason.
    pub fn skipped(&self) -> Vec<(String, String)> {
        self.inner.skipped.lock().clone()
    }

    /// Registers the server's tools in `executor` and keeps them in step:
    /// a `tools/list_changed` notification or a reconnect adds, replaces and
    /// removes tools there. Calls go through the executor's validation,
    /// interceptors and limits like any other tool's.
    ///
    /// # Errors
    /// None today; a tool the registry refuses is listed in
    /// [`SyncReport::skipped`] and the others are registered.
    pub fn attach(&self, executor: &Executor) -> Result<SyncReport, RegistryError> {
        let mut report = SyncReport::default();
        for tool in self.inner.tools.read().values() {
            let name = tool.spec().name.clone();
            match executor.register(Arc::clone(tool) as Arc<dyn Tool>) {
                Ok(()) => report.added.push(name),
                Err(e) => report.skipped.push((name, e.to_string())),
            }
        }
        self.inner.attached.lock().push(executor.clone());
        Ok(report)
    }

    /// Lists the server's tools again and brings every attached executor in step.
    ///
    /// # Errors
    /// A [`ToolError`] when the server cannot be reached or answers badly.
    pub async fn refresh(&self) -> Result<SyncReport, ToolError> {
        let conn = self.connection().await?;
        let report = self.sync_tools(&conn).await.map_err(ToolError::upstream)?;
        self.inner.refreshes.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Ok(report)
    }

    /// Calls the server's tool `remote` (its name on the server) directly,
    /// without an executor: no validation or interceptors. [`McpTool`] uses it.
    ///
    /// # Errors
    /// `timeout` (no answer or progress within the call timeout; the server
    /// was sent `notifications/cancelled`), `cancelled` (the context's flag was
    /// set; the server was told too), `upstream` (the server is down, exited
    /// during the call or answered with a JSON-RPC error), `invalid_arguments`
    /// (the server refused the arguments with `-32602`), `not_found`.
    pub async fn call(&self, remote: &str, args: &Value, ctx: &CallContext) -> Result<ToolOutput, ToolError> {
        self.inner.call(remote, args, ctx).await
    }

    /// Closes the connection (a stdio server is terminated). Tools fail
    /// afterwards until [`McpClient::refresh`] or a call reconnects.
    pub async fn close(&self) {
        let conn = self.inner.current.write().take();
        if let Some(conn) = conn {
            conn.service.cancellation_token().cancel();
        }
    }

    async fn open(&self) -> Result<Arc<Connection>, ConnectError> {
        self.inner.open().await
    }

    async fn connection(&self) -> Result<Arc<Connection>, ToolError> {
        self.inner.connection().await
    }

    /// Lists tools on `conn` and applies the difference to the tool table
    /// and every attached executor.
    async fn sync_tools(&self, conn: &Connection) -> Result<SyncReport, String> {
        let _serial = self.inner.refresh_lock.lock().await;
        let listed = tokio::time::timeout(self.inner.config.options.call_timeout, conn.service.list_all_tools())
            .await
            .map_err(|_| "no answer within the call timeout".to_string())?
            .map_err(|e| e.to_string())?;
        let server = self.name().to_string();
        let weak = Arc::downgrade(&self.inner);
        let mut fresh: BTreeMap<String, Arc<McpTool>> = BTreeMap::new();
        let mut report = SyncReport::default();
        for t in listed {
            let wire_tool = serde_json::to_value(&t).map_err(|e| e.to_string())?;
            let remote = t.name.to_string();
            let name = format!("{server}.{remote}");
            match wire::spec_from_mcp_tool(&wire_tool, &name, &server) {
                Ok(spec) => {
                    fresh.insert(remote.clone(), Arc::new(McpTool::new(spec, remote, weak.clone())));
                }
                Err(e) => report.skipped.push((name, e)),
            }
        }
        *self.inner.skipped.lock() = report.skipped.clone();
        let old = std::mem::replace(&mut *self.inner.tools.write(), fresh.clone());
        let executors = self.inner.attached.lock().clone();
        for (remote, tool) in &fresh {
            let name = tool.spec().name.clone();
            let changed = match old.get(remote) {
                None => Some(false),
                Some(prev) if prev.spec() != tool.spec() => Some(true),
                Some(_) => None,
            };
            match changed {
                None => {
                    // Same definition: the registered tool keeps working (it
                    // resolves the connection per call).
                }
                Some(replaced) => {
                    let mut failed = None;
                    for exec in &executors {
                        if replaced {
                            exec.unregister(&name);
                        }
                        if let Err(e) = exec.register(Arc::clone(tool) as Arc<dyn Tool>) {
                            failed = Some(e.to_string());
                        }
                    }
                    match failed {
                        Some(e) => report.skipped.push((name, e)),
                        None if replaced => report.replaced.push(name),
                        None => report.added.push(name),
                    }
                }
            }
        }
        for (remote, tool) in &old {
            if !fresh.contains_key(remote) {
                for exec in &executors {
                    exec.unregister(&tool.spec().name);
                }
                report.removed.push(tool.spec().name.clone());
            }
        }
        Ok(report)
    }
}

impl Inner {
    fn name(&self) -> &str {
        &self.config.name
    }

    fn stderr_tail(&self) -> String {
        let tail = self.stderr_tail.lock();
        if tail.is_empty() {
            String::new()
        } else {
            let lines: Vec<&str> = tail.iter().map(String::as_str).collect();
            format!("; its stderr ended with: {}", lines.join(" | "))
        }
    }

    async fn open(self: &Arc<Self>) -> Result<Arc<Connection>, ConnectError> {
        let handler = Handler {
            inner: Arc::downgrade(self),
            server: self.config.name.clone(),
            on_progress: self.config.options.on_progress.clone(),
        };
        let server = self.config.name.clone();
        let limit = self.config.options.connect_timeout;
        let connect_err = |message: String| ConnectError::Connect {
            server: server.clone(),
            message,
        };
        let (service, pid) = match &self.config.transport {
            TransportConfig::Stdio(stdio) => {
                let (transport, pid) = self.spawn(stdio).map_err(connect_err)?;
                let started = tokio::time::timeout(limit, handler.serve(transport)).await;
                let service = match started {
                    Err(_) => {
                        return Err(connect_err(format!(
                            "no answer to `initialize` within {} ms{}",
                            limit.as_millis(),
                            self.stderr_tail()
                        )));
                    }
                    Ok(Err(e)) => {
                        // Give the stderr reader a moment to collect why the process ended.
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        return Err(connect_err(format!("initialize failed: {e}{}", self.stderr_tail())));
                    }
                    Ok(Ok(s)) => s,
                };
                (service, pid)
            }
            #[cfg(feature = "http")]
            TransportConfig::Http(http) => {
                let transport = http::transport(http).map_err(|message| ConnectError::Config {
                    server: server.clone(),
                    message,
                })?;
                let service = match tokio::time::timeout(limit, handler.serve(transport)).await {
                    Err(_) => {
                        return Err(connect_err(format!(
                            "no answer to `initialize` from {} within {} ms",
                            http.url,
                            limit.as_millis()
                        )));
                    }
                    Ok(Err(e)) => return Err(connect_err(format!("initialize at {} failed: {e}", http.url))),
                    Ok(Ok(s)) => s,
                };
                (service, None)
            }
            #[cfg(not(feature = "http"))]
            TransportConfig::Http(_) => {
                return Err(ConnectError::Config {
                    server,
                    message: "Streamable HTTP needs the `http` feature of toolplane-mcp".into(),
                });
            }
        };
        let generation = {
            let mut g = self.generation.lock();
            *g += 1;
            *g
        };
        Ok(Arc::new(Connection {
            service,
            generation,
            pid,
        }))
    }

    fn spawn(&self, stdio: &StdioServer) -> Result<(rmcp::transport::TokioChildProcess, Option<u32>), String> {
        let mut cmd = tokio::process::Command::new(&stdio.command);
        cmd.args(&stdio.args);
        if !stdio.inherit_env {
            cmd.env_clear();
            for key in ["PATH", "HOME", "LANG", "TMPDIR", "SYSTEMROOT"] {
                if let Some(v) = std::env::var_os(key) {
                    cmd.env(key, v);
                }
            }
        }
        for (k, v) in &stdio.env {
            cmd.env(k, v);
        }
        if let Some(dir) = &stdio.cwd {
            cmd.current_dir(dir);
        }
        let (proc, stderr) = rmcp::transport::TokioChildProcess::builder(cmd)
            .stderr(std::process::Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start `{}`: {e}", stdio.command))?;
        let pid = proc.id();
        self.stderr_tail.lock().clear();
        if let Some(stderr) = stderr {
            let tail = Arc::clone(&self.stderr_tail);
            tokio::spawn(async move {
                use tokio::io::AsyncBufReadExt;
                let mut lines = tokio::io::BufReader::new(stderr).lines();
                while let Ok(Some(line)) = lines.next_line().await {
                    let mut t = tail.lock();
                    if t.len() == STDERR_TAIL_LINES {
                        t.pop_front();
                    }
                    t.push_back(line.chars().take(300).collect());
                }
            });
        }
        Ok((proc, pid))
    }

    /// The live connection, reconnecting when the last one ended and the
    /// backoff allows an attempt now.
    async fn connection(self: &Arc<Self>) -> Result<Arc<Connection>, ToolError> {
        if let Some(c) = self.live() {
            return Ok(c);
        }
        let _one_attempt = self.connect_lock.lock().await;
        if let Some(c) = self.live() {
            return Ok(c);
        }
        if let Some(dead) = self.current.write().take() {
            self.note_close(
                &dead,
                "the connection closed (the server exited or the transport failed)",
            );
        }
        let why = self
            .last_close
            .lock()
            .clone()
            .unwrap_or_else(|| "it is not connected".into());
        {
            let b = self.backoff.lock();
            if let Some(at) = b.next_attempt {
                let now = Instant::now();
                if at > now {
                    let wait = at - now;
                    let last = b.last_error.clone().unwrap_or_default();
                    return Err(ToolError::upstream(format!(
                        "MCP server `{}` is down ({why}); the last reconnect failed ({last}); next attempt in {} ms",
                        self.name(),
                        wait.as_millis()
                    ))
                    .with_retry_after(wait));
                }
            }
        }
        match self.open().await {
            Ok(conn) => {
                {
                    let mut b = self.backoff.lock();
                    b.failures = 0;
                    b.next_attempt = None;
                    b.last_error = None;
                }
                *self.current.write() = Some(Arc::clone(&conn));
                // The server may have changed its tools while it was away.
                let client = McpClient {
                    inner: Arc::clone(self),
                };
                let for_sync = Arc::clone(&conn);
                tokio::spawn(async move {
                    if client.sync_tools(&for_sync).await.is_ok() {
                        client
                            .inner
                            .refreshes
                            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    }
                });
                Ok(conn)
            }
            Err(e) => {
                let wait = {
                    let mut b = self.backoff.lock();
                    b.failures += 1;
                    let wait = self.config.options.backoff_after(b.failures);
                    b.next_attempt = Some(Instant::now() + wait);
                    b.last_error = Some(e.to_string());
                    wait
                };
                Err(ToolError::upstream(format!(
                    "MCP server `{}` is down ({why}) and reconnecting failed: {e}; next attempt in {} ms",
                    self.name(),
                    wait.as_millis()
                ))
                .with_retry_after(wait))
            }
        }
    }

    fn live(&self) -> Option<Arc<Connection>> {
        self.current
            .read()
            .as_ref()
            .filter(|c| !c.service.is_transport_closed() && !c.service.is_closed())
            .cloned()
    }

    fn note_close(&self, conn: &Connection, why: &str) {
        conn.service.cancellation_token().cancel();
        *self.last_close.lock() = Some(format!("{why}{}", self.stderr_tail()));
    }

    /// Drops `conn` if it is still the current one (a hung server is killed).
    fn drop_connection(&self, conn: &Arc<Connection>, why: &str) {
        let mut cur = self.current.write();
        if cur.as_ref().is_some_and(|c| c.generation == conn.generation) {
            *cur = None;
            drop(cur);
            self.note_close(conn, why);
        }
    }

    async fn call(self: &Arc<Self>, remote: &str, args: &Value, ctx: &CallContext) -> Result<ToolOutput, ToolError> {
        let name = format!("{}.{remote}", self.name());
        let conn = self.connection().await?;
        let arguments = match args {
            Value::Object(map) => Some(map.clone()),
            Value::Null => None,
            _ => {
                return Err(ToolError::invalid_arguments(format!(
                    "`{name}`: the arguments must be a JSON object"
                )));
            }
        };
        let mut params = CallToolRequestParams::new(remote.to_string());
        params.arguments = arguments;
        // SEP-414: the caller's trace context rides in `_meta` (rmcp adds
        // the progressToken to the same object when it sends).
        let mut meta = RequestMetaObject::new();
        if wire::write_trace_meta(&mut meta.0.0, ctx) {
            params.meta = Some(meta);
        }
        let request = ClientRequest::CallToolRequest(CallToolRequest::new(params));
        let opts = &self.config.options;
        let mut timeout = opts.call_timeout;
        if let Some(left) = ctx.remaining() {
            timeout = timeout.min(left);
        }
        let options = PeerRequestOptions::with_timeout(timeout)
            .reset_timeout_on_progress()
            .with_max_total_timeout(opts.max_call_time.min(ctx.remaining().unwrap_or(opts.max_call_time)));
        let handle = conn
            .service
            .send_cancellable_request(request, options)
            .await
            .map_err(|e| self.transport_error(&conn, &name, &e))?;
        let id = handle.id.clone();
        let peer = handle.peer.clone();
        let answer = tokio::select! {
            answer = handle.await_response() => answer,
            () = ctx.cancel.cancelled() => {
                let note = CancelledNotificationParam::new(Some(id), Some("cancelled by the caller".into()));
                let _ = peer.notify_cancelled(note).await;
                return Err(ToolError::new(ToolErrorKind::Cancelled, format!("`{name}` was cancelled; the server was sent notifications/cancelled")));
            }
        };
        match answer {
            Ok(ServerResult::CallToolResult(result)) => {
                let wire_result = serde_json::to_value(&result)
                    .map_err(|e| ToolError::internal(format!("`{name}`: cannot read the result: {e}")))?;
                Ok(wire::output_from_call_result(&wire_result))
            }
            Ok(other) => Err(ToolError::upstream(format!(
                "`{name}`: the server answered tools/call with an unexpected result: {}",
                serde_json::to_string(&other)
                    .unwrap_or_default()
                    .chars()
                    .take(200)
                    .collect::<String>()
            ))),
            Err(ServiceError::Timeout { timeout }) => {
                self.check_alive_after_timeout(&conn);
                Err(ToolError::timeout(format!(
                    "`{name}` on MCP server `{}` sent no answer or progress within {} ms; the server was sent notifications/cancelled",
                    self.name(),
                    timeout.as_millis()
                )))
            }
            Err(e) => Err(self.transport_error(&conn, &name, &e)),
        }
    }

    /// After a timeout, ping the server; one that does not answer a ping is
    /// hung: drop the connection (killing a stdio child) so the next call reconnects.
    fn check_alive_after_timeout(self: &Arc<Self>, conn: &Arc<Connection>) {
        let inner = Arc::clone(self);
        let conn = Arc::clone(conn);
        tokio::spawn(async move {
            let ping = ClientRequest::PingRequest(Default::default());
            let alive = match conn
                .service
                .send_cancellable_request(ping, PeerRequestOptions::with_timeout(Duration::from_secs(5)))
                .await
            {
                Ok(h) => h.await_response().await.is_ok(),
                Err(_) => false,
            };
            if !alive {
                inner.drop_connection(&conn, "the server stopped answering (even a ping) and was restarted");
            }
        });
    }

    fn transport_error(&self, conn: &Arc<Connection>, name: &str, e: &ServiceError) -> ToolError {
        match e {
            ServiceError::McpError(data) => {
                let code = data.code.0;
                let message = format!("`{name}`: the MCP server answered {code}: {}", data.message);
                let err = match code {
                    -32602 => ToolError::invalid_arguments(message),
                    -32601 => ToolError::not_found(message),
                    _ => ToolError::upstream(message),
                };
                match &data.data {
                    Some(d) => err.with_details(json!({"mcp_error": d})),
                    None => err,
                }
            }
            ServiceError::TransportClosed | ServiceError::TransportSend(_) => {
                self.drop_connection(
                    conn,
                    "the connection closed during a call (the server exited or the transport failed)",
                );
                ToolError::upstream(format!(
                    "`{name}`: MCP server `{}` closed the connection during the call (it exited or crashed{}); the next call reconnects",
                    self.name(),
                    self.stderr_tail()
                ))
                .with_retry_after(self.config.options.initial_backoff)
            }
            other => ToolError::upstream(format!("`{name}`: MCP server `{}`: {other}", self.name())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_names_are_checked() {
        assert!(check_server_name("everything").is_ok());
        assert!(check_server_name("my-server_2").is_ok());
        assert!(check_server_name("a.b").unwrap_err().contains("`a.b`"));
        assert!(check_server_name("").is_err());
    }
}
