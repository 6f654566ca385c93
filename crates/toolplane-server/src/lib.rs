//! `toolplane serve`: one process in front of your models that every
//! language's client can call, with routing, tools, permissions, budgets,
//! audit and metrics applied once.
//!
//! # Who should depend on this crate
//!
//! The `toolplane` command line (`toolplane serve`), and hosts that want to
//! embed the gateway in their own binary (to add routes, or to start it in a
//! test). Libraries that only call models or tools should depend on the
//! library crates instead; this crate is an axum application over them.
//!
//! # What it serves
//!
//! | endpoint | what |
//! | --- | --- |
//! | `POST /v1/chat/completions` | OpenAI-compatible, plain and streamed; `model` = an expert, `auto`, or a task type |
//! | `POST /v1/messages` | Anthropic-compatible, plain and streamed |
//! | `GET /v1/models` | experts and routes |
//! | `GET /v1/tools`, `POST /v1/tools/{name}/call` | list/search tools; call one (validated, permitted, limited, audited) |
//! | `POST /v1/runs`, `GET /v1/runs/{id}[/events]`, `POST /v1/runs/{id}/approvals`, `DELETE /v1/runs/{id}` | server-side tool-calling runs |
//! | `GET /metrics`, `GET /v1/metrics` | Prometheus text, JSON report |
//! | `GET /v1/audit`, `POST /v1/audit/verify` | recent audit records, chain verification |
//! | `GET /v1/integrations/...`, `POST /v1/integrations/...` | providers, OpenAPI descriptions added at run time, tools switched on and off, GitHub, MCP |
//! | `GET /v1/dashboard?range=` | the console dashboard's series |
//! | `GET /healthz`, `GET /readyz` | liveness, readiness |
//! | `POST`/`GET`/`DELETE /mcp` | the tools over MCP (Streamable HTTP), behind the same keys |
//! | `GET /openapi.json` | an OpenAPI 3.1 description of all of the above, from the route table |
//! | `GET /`, `/tools`, `/dashboard`, `/integrations`, `/console/*`, `/console/session` | the web console (`console` feature) |
//!
//! The user guide is `docs/server.md` in the repository.
//!
//! # Example
//!
//! ```no_run
//! use toolplane_server::{BoundServer, Gateway, default_config, shutdown_signal};
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let (config, key) = default_config(std::env::temp_dir().join("toolplane-demo"));
//! let gateway = Gateway::build(&config, None).await?;
//! let server = BoundServer::bind("127.0.0.1:8080".parse()?, gateway).await?;
//! println!("http://{} key {key}", server.local_addr()?);
//! server.serve_until(shutdown_signal()).await?;
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]

mod admin;
pub mod anthropic_wire;
mod api_schemas;
mod app;
mod build;
mod chat;
pub mod config;
#[cfg(feature = "console")]
mod console;
mod dashboard;
pub mod demo;
pub mod error;
mod feedback_api;
mod integrations;
pub mod keys;
mod mcp;
pub mod openai_wire;
pub mod openapi_doc;
mod run_routing;
pub mod runs;
mod runs_api;
mod serve;
#[cfg(feature = "redis")]
pub mod shared_stats;
pub mod tool_approvals;
mod tools_api;
mod trace_context;

pub use app::{AppState, EXPERT_HEADER, RequestId, app};
pub use build::{BuildError, CheckSummary, ExpertHandle, Gateway, HttpLimits, VENDOR_DEFAULTS, check, default_config};
pub use config::{ConfigError, ServerConfig};
pub use serve::{BoundServer, shutdown_signal};
