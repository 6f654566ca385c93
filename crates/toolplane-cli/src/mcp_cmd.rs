//! `toolplane mcp`: serve an OpenAPI description as an MCP server, list or
//! call the tools of a stdio MCP server.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::serve::ListenerExt;
use clap::{Args, Subcommand};
use serde_json::Value;
use toolplane_core::{ApprovalToken, CallContext, Principal, ToolCall, ToolError, ToolOutput, ToolSpec};
use toolplane_mcp::client::{McpClient, ServerConfig, StdioServer};
use toolplane_mcp::server::{FnApprover, HttpOptions, McpServer, ServerOptions, StaticKeys, ToolExecutor, http_router};
use toolplane_openapi::http::{HttpConfig, http_tools};
use toolplane_openapi::{Converter, OpenApiSpec};
use toolplane_registry::{Executor, ExecutorConfig, ToolRegistry};
use toolplane_schema::Profile;
use toolplane_security::policy::{Layer, PolicyStore};
use toolplane_security::{ApprovalStore, PermissionInterceptor};

use crate::CliError;
use crate::openapi_cmd::FilterArgs;

/// Arguments of `toolplane mcp`.
#[derive(Debug, Args)]
pub(crate) struct McpArgs {
    #[command(subcommand)]
    command: McpCommand,
}

#[derive(Debug, Subcommand)]
enum McpCommand {
    /// Serve an OpenAPI description's operations as MCP tools (stdio, or Streamable HTTP with --http).
    Serve(Box<ServeArgs>),
    /// List the tools of a stdio MCP server: `toolplane mcp tools -- CMD ARGS...`.
    Tools {
        /// Print the full definitions as JSON.
        #[arg(long)]
        json: bool,
        /// The server's command line.
        #[arg(last = true, required = true, value_name = "CMD")]
        command: Vec<String>,
    },
    /// Call one tool of a stdio MCP server: `toolplane mcp call -- CMD ARGS... TOOL JSON`.
    Call {
        /// Seconds to wait for the answer (progress notifications restart the wait).
        #[arg(long, default_value_t = 60)]
        timeout: u64,
        /// The server's command line, then the tool name and its JSON arguments.
        #[arg(last = true, required = true, num_args = 3.., value_name = "CMD ... TOOL JSON")]
        rest: Vec<String>,
    },
}

#[derive(Debug, Args)]
struct ServeArgs {
    /// The description (JSON or YAML, OpenAPI 3.0 or 3.1).
    spec: PathBuf,
    /// Serve schemas rewritten for a provider (openai, openai-strict, anthropic,
    /// gemini, cohere, mistral); arguments are mapped back before validation.
    #[arg(long)]
    profile: Option<String>,
    #[command(flatten)]
    filters: FilterArgs,
    /// Serve Streamable HTTP at http://ADDR/mcp instead of stdio.
    #[arg(long, value_name = "ADDR")]
    http: Option<String>,
    /// With --http: require `Authorization: Bearer <key>`, the key read from this environment variable.
    #[arg(long, value_name = "VAR", requires = "http")]
    key_env: Option<String>,
    /// The API's base URL (default: the description's first server).
    #[arg(long, value_name = "URL")]
    base_url: Option<String>,
    /// A credential for a security scheme, read from an environment variable: SCHEME=VAR (repeatable).
    #[arg(long = "secret", value_name = "SCHEME=VAR")]
    secrets: Vec<String>,
    /// A permission policy (TOML); "ask" rules become elicitations at the MCP client.
    #[arg(long, value_name = "FILE")]
    policy: Option<PathBuf>,
    /// Serve `a__b` instead of `a.b` for clients that refuse dots in tool names.
    #[arg(long)]
    flat_names: bool,
    /// Seconds a call may take.
    #[arg(long, default_value_t = 30)]
    timeout: u64,
}

fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| CliError::Failed(format!("cannot start the async runtime: {e}")))
}

/// Runs the subcommand, writing to `out`.
pub(crate) fn run(args: &McpArgs, out: &mut dyn Write) -> Result<(), CliError> {
    match &args.command {
        McpCommand::Serve(serve_args) => runtime()?.block_on(serve(serve_args)),
        McpCommand::Tools { json, command } => runtime()?.block_on(list_tools(command, *json, out)),
        McpCommand::Call { timeout, rest } => runtime()?.block_on(call_tool(rest, *timeout, out)),
    }
}

fn stdio_server(command: &[String]) -> Result<ServerConfig, CliError> {
    let (program, args) = command
        .split_first()
        .ok_or_else(|| CliError::Usage("give the server's command after `--`".into()))?;
    // The user's own command: it gets the user's environment.
    let server = StdioServer::new(program.clone())
        .args(args.iter().cloned())
        .inherit_env(true);
    Ok(ServerConfig::stdio("server", server))
}

async fn list_tools(command: &[String], json: bool, out: &mut dyn Write) -> Result<(), CliError> {
    let client = McpClient::connect(stdio_server(command)?)
        .await
        .map_err(|e| CliError::Failed(e.to_string()))?;
    let tools = client.tools();
    let specs: Vec<ToolSpec> = tools
        .iter()
        .map(|t| {
            let mut spec = t.spec().clone();
            spec.name = spec.name.trim_start_matches("server.").to_string();
            spec
        })
        .collect();
    if json {
        let value = serde_json::to_value(&specs).map_err(|e| CliError::Failed(e.to_string()))?;
        writeln!(out, "{}", serde_json::to_string_pretty(&value).unwrap_or_default())?;
    } else {
        let width = specs.iter().map(|s| s.name.len()).max().unwrap_or(4).max(4);
        writeln!(out, "{:<width$}  DESCRIPTION", "NAME")?;
        for spec in &specs {
            let line = spec.description.lines().next().unwrap_or_default();
            writeln!(out, "{:<width$}  {line}", spec.name)?;
        }
    }
    for (name, why) in client.skipped() {
        eprintln!("warning: `{name}` skipped: {why}");
    }
    client.close().await;
    Ok(())
}

async fn call_tool(rest: &[String], timeout: u64, out: &mut dyn Write) -> Result<(), CliError> {
    let [command @ .., tool, json] = rest else {
        return Err(CliError::Usage(
            "usage: toolplane mcp call -- CMD [ARGS...] TOOL JSON".into(),
        ));
    };
    if command.is_empty() {
        return Err(CliError::Usage(
            "usage: toolplane mcp call -- CMD [ARGS...] TOOL JSON".into(),
        ));
    }
    let config = stdio_server(command)?.with_call_timeout(Duration::from_secs(timeout.max(1)));
    let client = McpClient::connect(config)
        .await
        .map_err(|e| CliError::Failed(e.to_string()))?;
    let exec = Executor::builder(ToolRegistry::new())
        .config(ExecutorConfig {
            timeout: Some(Duration::from_secs(timeout.max(1))),
            ..ExecutorConfig::default()
        })
        .build()
        .map_err(|e| CliError::Failed(e.to_string()))?;
    client.attach(&exec).map_err(|e| CliError::Failed(e.to_string()))?;
    let call = ToolCall::new("cli", format!("server.{tool}"), json.clone());
    let result = exec.execute(&call, &CallContext::new("toolplane-mcp-call")).await;
    client.close().await;
    print_result(result, out)
}

fn print_result(result: Result<ToolOutput, ToolError>, out: &mut dyn Write) -> Result<(), CliError> {
    match result {
        Ok(output) => {
            let text = match &output.content {
                Value::String(s) => s.clone(),
                other => serde_json::to_string_pretty(other).unwrap_or_else(|_| other.to_string()),
            };
            writeln!(out, "{text}")?;
            if output.is_error {
                return Err(CliError::Failed("the tool reported an error (isError)".into()));
            }
            Ok(())
        }
        Err(e) => Err(CliError::Failed(e.to_model_text())),
    }
}

/// Serves a [`ToolExecutor`] with its schemas rewritten by a provider profile;
/// the inner executor maps arguments back (its `arguments_profile`).
#[derive(Debug)]
struct ProfiledExecutor {
    inner: Executor,
    specs: Arc<[ToolSpec]>,
}

#[toolplane_core::async_trait]
impl ToolExecutor for ProfiledExecutor {
    fn specs(&self) -> Arc<[ToolSpec]> {
        Arc::clone(&self.specs)
    }

    async fn execute(&self, call: &ToolCall, ctx: &CallContext) -> Result<ToolOutput, ToolError> {
        self.inner.execute(call, ctx).await
    }
}

async fn serve(args: &ServeArgs) -> Result<(), CliError> {
    let profile: Option<Profile> = match &args.profile {
        Some(p) => Some(
            p.parse()
                .map_err(|e: toolplane_schema::UnknownProfile| CliError::Usage(e.to_string()))?,
        ),
        None => None,
    };
    let spec = OpenApiSpec::from_path(&args.spec).map_err(|e| CliError::Input(e.to_string()))?;
    let conversion = Converter::new(args.filters.options()?).convert(&spec);
    let mut http = HttpConfig::new();
    if let Some(url) = &args.base_url {
        http = http.with_base_url(url.clone());
    }
    for pair in &args.secrets {
        let (scheme, var) = pair
            .split_once('=')
            .ok_or_else(|| CliError::Usage(format!("--secret wants SCHEME=VAR, not `{pair}`")))?;
        http = http
            .with_secret_from_env(scheme, var)
            .map_err(|e| CliError::Input(e.to_string()))?;
    }
    let tools = http_tools(conversion.tools, http).map_err(|e| CliError::Input(e.to_string()))?;
    let mut registry = ToolRegistry::new();
    registry
        .register_all(tools)
        .map_err(|e| CliError::Input(format!("{}: {e}", args.spec.display())))?;
    let mut builder = Executor::builder(registry).config(ExecutorConfig {
        timeout: Some(Duration::from_secs(args.timeout.max(1))),
        arguments_profile: profile,
        ..ExecutorConfig::default()
    });
    let mut approvals = None;
    if let Some(path) = &args.policy {
        let store = Arc::new(PolicyStore::new());
        store
            .load_file(Layer::Project, path)
            .map_err(|e| CliError::Input(e.to_string()))?;
        let pending = Arc::new(ApprovalStore::new());
        builder = builder.interceptor(Arc::new(PermissionInterceptor::new(store, Arc::clone(&pending))));
        approvals = Some(pending);
    }
    let exec = builder.build().map_err(|e| CliError::Failed(e.to_string()))?;
    let executor: Arc<dyn ToolExecutor> = match profile {
        Some(p) => {
            let specs: Arc<[ToolSpec]> = exec
                .specs()
                .iter()
                .map(|s| {
                    let mut s = s.clone();
                    s.input_schema = toolplane_schema::profiled_tool(&s, p).schema.schema;
                    s
                })
                .collect();
            Arc::new(ProfiledExecutor { inner: exec, specs })
        }
        None => Arc::new(exec),
    };
    let title = spec_title(&args.spec);
    let options = ServerOptions {
        name: title,
        flat_names: args.flat_names,
        principal: Some(Principal::new("mcp-client")),
        ..ServerOptions::default()
    };
    let mut server = McpServer::new(executor, options);
    if let Some(pending) = approvals {
        let approver = FnApprover(move |request: &Value| -> Result<ApprovalToken, String> {
            let id = request
                .get("id")
                .and_then(Value::as_str)
                .ok_or("the approval request has no id")?;
            pending.approve(id, Duration::from_secs(300)).map_err(|e| e.to_string())
        });
        server = server.with_approver(Arc::new(approver));
    }
    match &args.http {
        None => server.serve_stdio().await.map_err(|e| CliError::Failed(e.to_string())),
        Some(addr) => {
            let mut options = HttpOptions::default();
            if let Some(var) = &args.key_env {
                let key = std::env::var(var)
                    .map_err(|_| CliError::Input(format!("--key-env: the environment variable `{var}` is not set")))?;
                options = options.with_auth(Arc::new(StaticKeys::new().with_key(key, Principal::new("mcp-client"))));
            }
            let listener = tokio::net::TcpListener::bind(addr)
                .await
                .map_err(|e| CliError::Input(format!("cannot listen on {addr}: {e}")))?;
            let local = listener.local_addr().map_err(CliError::Io)?;
            let host = local.ip().to_string();
            if !local.ip().is_loopback() {
                options.allowed_hosts = None;
            } else if let Some(hosts) = &mut options.allowed_hosts {
                hosts.push(format!("{host}:{}", local.port()));
                hosts.push(format!("localhost:{}", local.port()));
            }
            eprintln!("toolplane: MCP over Streamable HTTP at http://{local}/mcp");
            // TCP_NODELAY: each MCP answer is a small SSE write; see `toolplane_mcp::server::http_router`.
            let listener = listener.tap_io(|tcp| {
                let _ = tcp.set_nodelay(true);
            });
            axum::serve(listener, http_router(server, options))
                .await
                .map_err(|e| CliError::Failed(format!("the HTTP server stopped: {e}")))
        }
    }
}

fn spec_title(path: &std::path::Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "toolplane".into())
}
