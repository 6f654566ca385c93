//! How much does serving a tool over MCP add to a call?
//!
//! The same `echo` call, 10,000 times each, in one run:
//! - baseline: `Executor::execute` directly;
//! - MCP over an in-memory pipe (the stdio transport's framing: one JSON-RPC
//!   line each way) with rmcp's client;
//! - MCP over Streamable HTTP on 127.0.0.1 with our reqwest 0.12 client.
//!
//! Prints p50 and p99 of each and the added latency against the baseline.
//! `cargo bench -p toolplane-mcp --bench mcp_call_overhead` (`MCP_BENCH_CALLS` to change the count).

#![allow(clippy::unwrap_used, clippy::panic, missing_docs)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::serve::ListenerExt;
use rmcp::ServiceExt;
use rmcp::model::CallToolRequestParams;
use serde_json::json;
use toolplane_core::{CallContext, EchoTool, Tool, ToolCall, ToolSpec};
use toolplane_mcp::client::{HttpServer, McpClient, ServerConfig};
use toolplane_mcp::server::{HttpOptions, McpServer, ServerOptions, http_router};
use toolplane_registry::{Executor, ToolRegistry};

fn executor() -> Executor {
    let echo: Arc<dyn Tool> = Arc::new(EchoTool::new(
        ToolSpec::new("echo", "Returns its arguments.").with_input_schema(
            json!({"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]}),
        ),
    ));
    let mut registry = ToolRegistry::new();
    registry.register(echo).unwrap();
    Executor::new(registry)
}

fn percentiles(mut v: Vec<Duration>) -> (Duration, Duration) {
    v.sort();
    let at = |q: f64| v[((v.len() as f64 * q) as usize).min(v.len() - 1)];
    (at(0.50), at(0.99))
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn main() {
    let calls: usize = std::env::var("MCP_BENCH_CALLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let exec = executor();
        let ctx = CallContext::new("bench");
        let call = ToolCall::new("c", "echo", r#"{"text":"hello"}"#);

        // Baseline: the executor alone (resolve, parse, validate, run).
        for _ in 0..500 {
            exec.execute(&call, &ctx).await.unwrap();
        }
        let mut direct = Vec::with_capacity(calls);
        for _ in 0..calls {
            let t = Instant::now();
            exec.execute(&call, &ctx).await.unwrap();
            direct.push(t.elapsed());
        }

        // MCP over an in-memory duplex pipe (stdio framing).
        let server = McpServer::new(Arc::new(exec.clone()), ServerOptions::default());
        let (client_io, server_io) = tokio::io::duplex(1 << 16);
        let (sr, sw) = tokio::io::split(server_io);
        tokio::spawn(server.clone().serve_io(sr, sw));
        let (cr, cw) = tokio::io::split(client_io);
        let client = ().serve((cr, cw)).await.unwrap();
        let mut params = CallToolRequestParams::new("echo");
        params.arguments = Some(serde_json::from_value(json!({"text": "hello"})).unwrap());
        for _ in 0..500 {
            client.peer().call_tool(params.clone()).await.unwrap();
        }
        let mut piped = Vec::with_capacity(calls);
        for _ in 0..calls {
            let t = Instant::now();
            let r = client.peer().call_tool(params.clone()).await.unwrap();
            piped.push(t.elapsed());
            assert_ne!(r.is_error, Some(true));
        }

        // MCP over Streamable HTTP on loopback, with toolplane's client.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        // As `toolplane mcp serve --http` and `toolplane serve` do (see `http_router`'s docs).
        let nodelay = std::env::var_os("MCP_BENCH_NAGLE").is_none();
        let listener = listener.tap_io(move |tcp| {
            if nodelay {
                let _ = tcp.set_nodelay(true);
            }
        });
        tokio::spawn(async move { axum::serve(listener, http_router(server, HttpOptions::default())).await });
        let mcp = McpClient::connect(ServerConfig::http("b", HttpServer::new(format!("http://{addr}/mcp"))))
            .await
            .unwrap();
        let args = json!({"text": "hello"});
        for _ in 0..500 {
            mcp.call("echo", &args, &ctx).await.unwrap();
        }
        let mut http = Vec::with_capacity(calls);
        for _ in 0..calls {
            let t = Instant::now();
            mcp.call("echo", &args, &ctx).await.unwrap();
            http.push(t.elapsed());
        }

        let (d50, d99) = percentiles(direct);
        let (p50, p99) = percentiles(piped);
        let (h50, h99) = percentiles(http);
        println!("tools/call `echo`, {calls} calls each, one client at a time");
        println!("{:<44} {:>10} {:>10}", "path", "p50 (us)", "p99 (us)");
        println!(
            "{:<44} {:>10.1} {:>10.1}",
            "Executor::execute (baseline)",
            us(d50),
            us(d99)
        );
        println!(
            "{:<44} {:>10.1} {:>10.1}",
            "MCP, in-memory pipe (stdio framing)",
            us(p50),
            us(p99)
        );
        println!(
            "{:<44} {:>10.1} {:>10.1}",
            "MCP, Streamable HTTP on 127.0.0.1",
            us(h50),
            us(h99)
        );
        println!(
            "added by MCP over the pipe: p50 +{:.1} us ({:.1}x), p99 +{:.1} us ({:.1}x)",
            us(p50) - us(d50),
            us(p50) / us(d50),
            us(p99) - us(d99),
            us(p99) / us(d99)
        );
        println!(
            "added by MCP over HTTP:     p50 +{:.1} us ({:.1}x), p99 +{:.1} us ({:.1}x)",
            us(h50) - us(d50),
            us(h50) / us(d50),
            us(h99) - us(d99),
            us(h99) / us(d99)
        );
    });
}
