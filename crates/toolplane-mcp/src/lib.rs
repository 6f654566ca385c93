//! Model Context Protocol for toolplane, on the official Rust SDK (`rmcp`).
//!
//! # Who should depend on this crate
//!
//! A host that wants the tools of MCP servers (filesystem, browsers, SaaS
//! connectors...) next to its own, with the same validation, permissions,
//! rate limits and audit; or a host that wants to offer its toolplane tools
//! (built-in, typed Rust tools, OpenAPI-derived tools) to MCP clients such as
//! editors and agents. `rmcp` stays behind this crate: a major bump of the
//! SDK touches this crate only.
//!
//! | side | module | transports |
//! | --- | --- | --- |
//! | client: servers' tools become `Tool`s under `server.tool` | [`client`] | stdio child process; Streamable HTTP (feature `http`) |
//! | server: any `ToolExecutor` served over MCP | [`server`] | stdio; Streamable HTTP as an axum `Router` (feature `http`) |
//!
//! The pure mappings between MCP's JSON and toolplane's types are in [`wire`].
//!
//! # Example: an MCP server's tools in an executor
//!
//! ```no_run
//! use toolplane_core::{CallContext, ToolCall};
//! use toolplane_mcp::client::{McpClient, ServerConfig, StdioServer};
//! use toolplane_registry::{Executor, ToolRegistry};
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let server = StdioServer::new("npx").args(["-y", "@modelcontextprotocol/server-everything"]);
//! let client = McpClient::connect(ServerConfig::stdio("everything", server)).await?;
//! let exec = Executor::new(ToolRegistry::new());
//! client.attach(&exec)?; // `everything.echo`, `everything.get-sum`, ... kept in step on list_changed
//! let out = exec
//!     .execute(&ToolCall::new("c1", "everything.echo", r#"{"message":"hi"}"#), &CallContext::new("r1"))
//!     .await?;
//! println!("{}", out.to_model_text());
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]

#[cfg(feature = "client")]
pub mod client;
#[cfg(feature = "server")]
pub mod server;
pub mod wire;
