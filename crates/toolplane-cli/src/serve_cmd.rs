//! `toolplane serve`: the OpenAI- and Anthropic-compatible gateway
//! (toolplane-server). Without `--config` it runs offline with the embedded
//! default, or with the providers whose keys are set in the environment.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;
use toolplane_server::{BoundServer, Gateway, ServerConfig, check, default_config, keys, shutdown_signal};

use crate::CliError;

/// Arguments of `toolplane serve`.
#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// The configuration file (`toolplane.toml`); without it, the embedded default.
    #[arg(long, short = 'c')]
    config: Option<PathBuf>,
    /// Validate the configuration and exit without starting.
    #[arg(long)]
    check: bool,
    /// Listen here instead of the configured address (`127.0.0.1:0` picks a free port).
    #[arg(long)]
    bind: Option<SocketAddr>,
    /// Folder for the audit log, runs and `integrations.json` of the embedded default (default: a new temporary folder).
    #[arg(long)]
    state_dir: Option<PathBuf>,
    /// Print the SHA-256 of KEY for `[[server.keys]] sha256` and exit.
    #[arg(long, value_name = "KEY")]
    hash_key: Option<String>,
}

/// Runs the subcommand, writing to `out`.
pub(crate) fn run(args: &ServeArgs, out: &mut dyn Write) -> Result<(), CliError> {
    if let Some(key) = &args.hash_key {
        writeln!(out, "{}", keys::hash_key(key))?;
        return Ok(());
    }
    let (config, text, key) = match &args.config {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| CliError::Input(format!("{}: cannot read the file: {e}", path.display())))?;
            let cfg = ServerConfig::from_path(path).map_err(|e| CliError::Input(e.to_string()))?;
            (cfg, Some(text), None)
        }
        None if args.check => return Err(CliError::Usage("--check needs --config FILE".into())),
        None => {
            let dir = args
                .state_dir
                .clone()
                .unwrap_or_else(|| std::env::temp_dir().join(format!("toolplane-serve-{}", std::process::id())));
            let (cfg, key) = default_config(dir);
            (cfg, None, Some(key))
        }
    };
    if args.check {
        let s = check(&config, text.as_deref()).map_err(|e| CliError::Input(e.to_string()))?;
        writeln!(
            out,
            "OK: {} expert(s) ({}), {} route(s), {} tool(s), {} key(s)",
            s.experts.len(),
            s.experts.join(", "),
            s.routes.len() + 1,
            s.tools,
            s.keys
        )?;
        if !s.mcp_servers.is_empty() {
            writeln!(
                out,
                "MCP servers (not started by --check): {}",
                s.mcp_servers.join(", ")
            )?;
        }
        return Ok(());
    }
    let addr = match args.bind {
        Some(a) => a,
        None => config.bind_addr().map_err(|e| CliError::Input(e.to_string()))?,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::Failed(format!("cannot start the async runtime: {e}")))?;
    runtime.block_on(async {
        let gateway = Gateway::build(&config, text.as_deref())
            .await
            .map_err(|e| CliError::Input(e.to_string()))?;
        let experts: Vec<String> = gateway.experts.iter().map(|e| e.id.clone()).collect();
        let scripted = gateway.scripted_only;
        let mcp = gateway.mcp_summary();
        let server = BoundServer::bind(addr, gateway)
            .await
            .map_err(|e| CliError::Failed(format!("cannot listen on {addr}: {e}")))?;
        let local = server.local_addr()?;
        writeln!(out, "toolplane serve listening on http://{local}")?;
        if let Some(key) = &key {
            writeln!(out, "key (this run only): {key}")?;
        }
        writeln!(out, "experts: {}", experts.join(", "))?;
        for line in &mcp {
            writeln!(out, "mcp server {line}")?;
        }
        if scripted {
            writeln!(
                out,
                "note: these experts are scripted stand-ins, not language models; set OPENAI_API_KEY or ANTHROPIC_API_KEY (or use --config) for real ones"
            )?;
        }
        writeln!(out, "try: curl -s http://{local}/v1/models -H 'authorization: Bearer <key>'")?;
        out.flush()?;
        let drained = server.serve_until(shutdown_signal()).await?;
        if !drained {
            eprintln!("toolplane serve: the grace period ended with requests still in flight");
        }
        Ok(())
    })
}
