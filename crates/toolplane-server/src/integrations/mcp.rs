//! The MCP servers of `[[tools.mcp]]` at run time: connected at start, their
//! tools attached to the gateway's executor (so validation, permissions,
//! limits and audit apply as to any tool), listed with their state by
//! `GET /v1/integrations/mcp`, reconnected by
//! `POST /v1/integrations/mcp/{name}/reconnect`.
//!
//! ```text
//!  Gateway::build ─► McpServers::start ─► first attempt of every server, side by side
//!     connected ─► McpClient::attach(executor): `name.tool` offered, listed, callable,
//!                  served at /mcp; list_changed and reconnects keep them in step
//!     failed    ─► listed as `failed` with the error; a background task tries again
//!                  with the client's backoff (ClientOptions::backoff_after) until it
//!                  connects, then its tools appear
//! ```
//!
//! A server never stops the gateway, and `/readyz` does not look at them.

use std::sync::Arc;

use axum::Extension;
use axum::extract::{Path as UrlPath, State};
use axum::response::{IntoResponse, Response};
use parking_lot::Mutex;
use serde_json::{Value, json};
use toolplane_core::{Principal, Tool};
use toolplane_mcp::client::{ClientOptions, McpClient, ServerConfig as McpServerConfig};
use toolplane_registry::Executor;

use super::{CHANGE_ROLES, audit};
use crate::app::{AppState, RequestId, require_role};
use crate::config::ServerConfig;
use crate::error::ApiError;

/// Where a server stands while there is no client yet: its first attempt
/// runs, or an attempt failed (later attempts leave it `Failed` until one
/// succeeds, so the state does not flicker with each retry).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Connecting,
    Failed,
}

#[derive(Debug)]
struct Slot {
    client: Option<McpClient>,
    phase: Phase,
    last_error: Option<String>,
    /// Failed first-connection attempts in a row.
    failures: u32,
    /// Tools the executor refused at attach, with the reason.
    refused: Vec<(String, String)>,
}

/// One `[[tools.mcp]]` entry and its connection.
#[derive(Debug)]
struct McpServer {
    name: String,
    transport: &'static str,
    target: String,
    trust_annotations: bool,
    /// The client's configuration, or why it could not be made (a variable not set).
    config: Result<McpServerConfig, String>,
    executor: Executor,
    slot: Mutex<Slot>,
    /// One connection attempt at a time (the background retry and a reconnect request).
    attempt_lock: tokio::sync::Mutex<()>,
}

impl McpServer {
    fn options(&self) -> ClientOptions {
        self.config.as_ref().map(|c| c.options.clone()).unwrap_or_default()
    }

    fn client(&self) -> Option<McpClient> {
        self.slot.lock().client.clone()
    }

    /// Connects and attaches the tools, unless a client exists already.
    /// Returns whether the server is connected afterwards.
    async fn attempt(&self) -> bool {
        let _one = self.attempt_lock.lock().await;
        if self.client().is_some() {
            return true;
        }
        let config = match &self.config {
            Ok(c) => c.clone(),
            Err(e) => {
                let mut slot = self.slot.lock();
                slot.phase = Phase::Failed;
                slot.last_error = Some(e.clone());
                slot.failures += 1;
                return false;
            }
        };
        match McpClient::connect(config).await {
            Ok(client) => {
                let refused = match client.attach(&self.executor) {
                    Ok(report) => report.skipped,
                    Err(e) => vec![(self.name.clone(), e.to_string())],
                };
                for (tool, why) in &refused {
                    tracing::warn!(server = %self.name, %tool, %why, "an MCP tool was not registered");
                }
                let mut slot = self.slot.lock();
                slot.client = Some(client);
                slot.last_error = None;
                slot.failures = 0;
                slot.refused = refused;
                true
            }
            Err(e) => {
                tracing::warn!(server = %self.name, error = %e, "an MCP server failed to connect; retrying in the background");
                let mut slot = self.slot.lock();
                slot.phase = Phase::Failed;
                slot.last_error = Some(e.to_string());
                slot.failures += 1;
                false
            }
        }
    }

    /// `connecting`, `connected`, `reconnecting` or `failed`, with the last error.
    fn state(&self) -> (&'static str, Option<String>, u32) {
        let slot = self.slot.lock();
        match &slot.client {
            Some(client) => {
                let status = client.status();
                let state = if status.connected { "connected" } else { "reconnecting" };
                (state, status.last_error, status.failed_attempts)
            }
            None => {
                let state = match slot.phase {
                    Phase::Connecting => "connecting",
                    Phase::Failed => "failed",
                };
                (state, slot.last_error.clone(), slot.failures)
            }
        }
    }

    fn describe(&self, disabled: &dyn Fn(&str) -> bool) -> Value {
        let (state, last_error, failed_attempts) = self.state();
        let client = self.client();
        let tools: Vec<Value> = client
            .as_ref()
            .map(McpClient::tools)
            .unwrap_or_default()
            .iter()
            .map(|t| tool_json(t.as_ref(), &self.name, disabled))
            .collect();
        let mut skipped: Vec<Value> = client
            .as_ref()
            .map(McpClient::skipped)
            .unwrap_or_default()
            .into_iter()
            .chain(self.slot.lock().refused.clone())
            .map(|(name, reason)| json!({"name": name, "reason": reason}))
            .collect();
        skipped.dedup();
        json!({
            "name": self.name,
            "transport": self.transport,
            "target": self.target,
            "state": state,
            "last_error": last_error,
            "failed_attempts": failed_attempts,
            "tool_count": tools.len(),
            "refresh_count": client.as_ref().map_or(0, McpClient::refresh_count),
            "trust_annotations": self.trust_annotations,
            "tools": tools,
            "skipped": skipped,
        })
    }
}

fn tool_json(t: &dyn Tool, server: &str, disabled: &dyn Fn(&str) -> bool) -> Value {
    let spec = t.spec();
    let a = &spec.annotations;
    let remote = spec
        .name
        .strip_prefix(server)
        .and_then(|r| r.strip_prefix('.'))
        .unwrap_or(&spec.name);
    json!({
        "name": spec.name,
        "remote_name": remote,
        "description": spec.description,
        "annotations": {
            "title": a.title, "read_only": a.read_only, "destructive": a.destructive,
            "idempotent": a.idempotent, "open_world": a.open_world,
        },
        "enabled": !disabled(&spec.name),
    })
}

/// Every `[[tools.mcp]]` server of the gateway.
#[derive(Debug, Default)]
pub(crate) struct McpServers {
    servers: Vec<Arc<McpServer>>,
}

impl McpServers {
    /// Makes the first connection attempt of every server (side by side;
    /// each bounded by its connect timeout), attaches the tools of those
    /// that answer to `executor`, and leaves a background retry for the others.
    pub(crate) async fn start(cfg: &ServerConfig, executor: &Executor) -> Self {
        let servers: Vec<Arc<McpServer>> = cfg
            .tools
            .mcp
            .iter()
            .enumerate()
            .map(|(i, m)| {
                Arc::new(McpServer {
                    name: m.name.clone(),
                    transport: m.transport(),
                    target: m.target(),
                    trust_annotations: m.trust_annotations,
                    config: cfg.mcp_server(i).map_err(|e| e.to_string()),
                    executor: executor.clone(),
                    slot: Mutex::new(Slot {
                        client: None,
                        phase: Phase::Connecting,
                        last_error: None,
                        failures: 0,
                        refused: Vec::new(),
                    }),
                    attempt_lock: tokio::sync::Mutex::new(()),
                })
            })
            .collect();
        futures_util::future::join_all(servers.iter().map(|s| s.attempt())).await;
        for s in &servers {
            // A configuration that cannot work (a variable not set) is not retried:
            // the process's environment will not change.
            if s.client().is_none() && s.config.is_ok() {
                spawn_retry(s);
            }
        }
        Self { servers }
    }

    /// The policy layer text that marks untrusted servers' tools as
    /// `untrusted_annotations`, when there is one.
    pub(crate) fn untrusted_policy(cfg: &ServerConfig) -> Option<String> {
        let globs: Vec<String> = cfg
            .tools
            .mcp
            .iter()
            .filter(|m| !m.trust_annotations)
            .map(|m| format!("{:?}", format!("{}.*", m.name)))
            .collect();
        (!globs.is_empty()).then(|| format!("untrusted_annotations = [{}]\n", globs.join(", ")))
    }

    fn find(&self, name: &str) -> Option<&Arc<McpServer>> {
        self.servers.iter().find(|s| s.name == name)
    }
}

/// `toolplane serve --check` for `tools.mcp[i]`: the variables it names are
/// set and a stdio server's program can be found; nothing is started.
pub(crate) fn check_entry(cfg: &ServerConfig, i: usize) -> Result<(), crate::config::ConfigError> {
    let config = cfg.mcp_server(i)?;
    if let toolplane_mcp::client::TransportConfig::Stdio(stdio) = &config.transport {
        if find_program(&stdio.command, stdio.cwd.as_deref()).is_none() {
            return Err(crate::config::ConfigError {
                file: cfg.origin.file.clone(),
                line: None,
                field: Some(format!("tools.mcp[{i}].command")),
                message: format!("no program `{}` (not a file, and not found on PATH)", stdio.command),
            });
        }
    }
    Ok(())
}

/// `program` as the child would be started: a path (relative to `cwd` when
/// one is set), or a name looked up on `PATH`.
fn find_program(program: &str, cwd: Option<&std::path::Path>) -> Option<std::path::PathBuf> {
    let p = std::path::Path::new(program);
    if p.components().count() > 1 || p.is_absolute() {
        let full = match cwd {
            Some(dir) if p.is_relative() => dir.join(p),
            _ => p.to_path_buf(),
        };
        return full.is_file().then_some(full);
    }
    let paths = std::env::var_os("PATH")?;
    std::env::split_paths(&paths)
        .map(|d| d.join(program))
        .find(|f| f.is_file())
}

impl crate::build::Gateway {
    /// One line per `[[tools.mcp]]` server: its name, state, tool count and
    /// last error (for the start-up banner).
    pub fn mcp_summary(&self) -> Vec<String> {
        self.mcp_servers
            .servers
            .iter()
            .map(|s| {
                let (state, error, _) = s.state();
                let tools = s.client().map_or(0, |c| c.tools().len());
                match error {
                    Some(e) if state != "connected" => format!("{}: {state} ({e})", s.name),
                    _ => format!("{}: {state}, {tools} tool(s)", s.name),
                }
            })
            .collect()
    }
}

/// Tries `server` again after the client's backoff, until it connects or
/// the gateway is gone.
fn spawn_retry(server: &Arc<McpServer>) {
    let weak = Arc::downgrade(server);
    tokio::spawn(async move {
        loop {
            let wait = {
                let Some(s) = weak.upgrade() else { return };
                if s.client().is_some() {
                    return;
                }
                let failures = s.slot.lock().failures;
                s.options().backoff_after(failures.max(1))
            };
            tokio::time::sleep(wait).await;
            let Some(s) = weak.upgrade() else { return };
            if s.attempt().await {
                tracing::info!(server = %s.name, "MCP server connected after a retry");
                return;
            }
        }
    });
}

/// `GET /v1/integrations/mcp`: every configured MCP server with its state and
/// tools; `served` says whether the gateway serves its own tools over MCP.
pub(super) async fn list_mcp(State(state): State<AppState>) -> Response {
    let gw = &state.gateway;
    let disabled = |n: &str| gw.integrations.is_disabled(n);
    let data: Vec<Value> = gw.mcp_servers.servers.iter().map(|s| s.describe(&disabled)).collect();
    let served = crate::app::endpoints().iter().any(|(d, _)| d.path == "/mcp");
    axum::Json(json!({"object": "list", "data": data, "served": served.then_some("/mcp")})).into_response()
}

/// `POST /v1/integrations/mcp/{name}/reconnect` (admin): a connected server's
/// connection is closed and opened again, a failed one is tried now; answers
/// the server as `GET /v1/integrations/mcp` lists it.
pub(super) async fn reconnect_mcp(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Extension(rid): Extension<RequestId>,
    UrlPath(name): UrlPath<String>,
) -> Response {
    if let Err(e) = require_role(&principal, CHANGE_ROLES, "reconnecting an MCP server") {
        return e.into_response();
    }
    let gw = &state.gateway;
    let Some(server) = gw.mcp_servers.find(&name) else {
        let known: Vec<&str> = gw.mcp_servers.servers.iter().map(|s| s.name.as_str()).collect();
        return ApiError::not_found(format!(
            "no MCP server `{name}`; configured: {}",
            if known.is_empty() {
                "none".to_owned()
            } else {
                known.join(", ")
            }
        ))
        .with_code("mcp_server_not_found")
        .into_response();
    };
    let outcome = match server.client() {
        Some(client) => client.reconnect().await.map(|_| ()).map_err(|e| e.to_string()),
        None if server.attempt().await => Ok(()),
        None => Err(server.state().1.unwrap_or_default()),
    };
    audit(
        gw,
        &rid,
        &principal,
        "mcp_reconnect",
        json!({"server": name, "ok": outcome.is_ok()}),
    )
    .await;
    let disabled = |n: &str| gw.integrations.is_disabled(n);
    axum::Json(server.describe(&disabled)).into_response()
}

/// The answer of `GET /v1/integrations/mcp` (for `/openapi.json`).
pub(crate) fn list_schema() -> Value {
    json!({
        "type": "object",
        "required": ["object", "data", "served"],
        "properties": {
            "object": {"const": "list"},
            "data": {"type": "array", "items": server_schema()},
            "served": {"type": ["string", "null"], "description": "The path of the gateway's own MCP endpoint, when served."}
        }
    })
}

/// One MCP server as listed (the answer of a reconnect too).
pub(crate) fn server_schema() -> Value {
    let flag = json!({"type": ["boolean", "null"]});
    json!({
        "type": "object",
        "required": ["name", "transport", "target", "state", "last_error", "failed_attempts", "tool_count",
            "refresh_count", "trust_annotations", "tools", "skipped"],
        "properties": {
            "name": {"type": "string", "description": "The namespace of its tools."},
            "transport": {"enum": ["stdio", "http"]},
            "target": {"type": "string", "description": "The program's name (stdio) or the URL without credentials or query (http)."},
            "state": {"enum": ["connecting", "connected", "reconnecting", "failed"]},
            "last_error": {"type": ["string", "null"]},
            "failed_attempts": {"type": "integer", "minimum": 0},
            "tool_count": {"type": "integer", "minimum": 0},
            "refresh_count": {"type": "integer", "minimum": 0},
            "trust_annotations": {"type": "boolean"},
            "tools": {"type": "array", "items": {
                "type": "object",
                "required": ["name", "remote_name", "description", "annotations", "enabled"],
                "properties": {
                    "name": {"type": "string"},
                    "remote_name": {"type": "string"},
                    "description": {"type": "string"},
                    "annotations": {"type": "object", "properties": {
                        "title": {"type": ["string", "null"]}, "read_only": flag, "destructive": flag,
                        "idempotent": flag, "open_world": flag}},
                    "enabled": {"type": "boolean"}
                }
            }},
            "skipped": {"type": "array", "items": {"type": "object", "required": ["name", "reason"],
                "properties": {"name": {"type": "string"}, "reason": {"type": "string"}}}}
        }
    })
}
