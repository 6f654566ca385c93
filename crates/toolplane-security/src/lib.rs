//! Security for toolplane: who may call which tool with which arguments, a
//! tamper-evident record of every call, and limits on how often and how much.
//!
//! # Who should depend on this crate
//!
//! Hosts that run tools or chat calls for several principals and need
//! permissions, an audit trail or quotas. Everything plugs into the
//! interceptor chains of `toolplane-core`:
//!
//! ```text
//! tool chain:  [AuditInterceptor] → [PermissionInterceptor] → [RateLimitInterceptor] → tool
//! chat chain:  [RateLimitInterceptor] → [BudgetInterceptor] → provider
//! ```
//!
//! | module | what |
//! | --- | --- |
//! | [`policy`] | allow/ask/deny rules from layered TOML, default deny, explanations |
//! | [`PermissionInterceptor`], [`ApprovalStore`] | the policy as an interceptor; single-use approvals |
//! | [`audit`] | `AuditSink`, memory and file sinks, group commit, verifier |
//! | [`redact`] | the one redaction choke point |
//! | [`limits`] | rate limits (governor) and token/cost budgets, local or Redis |
//!
//! # Example
//!
//! ```
//! use std::sync::Arc;
//! use serde_json::json;
//! use toolplane_core::*;
//! use toolplane_security::{ApprovalStore, PermissionInterceptor, audit::{AuditInterceptor, MemorySink}};
//! use toolplane_security::policy::{Layer, PolicyStore};
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let policy = Arc::new(PolicyStore::new());
//! policy.load_str(Layer::Project, "policy.toml", r#"
//!     [[rule]]
//!     id = "echo"
//!     effect = "allow"
//!     tools = ["echo"]
//! "#).unwrap();
//! let sink = Arc::new(MemorySink::new());
//! let chain: Vec<Arc<dyn ToolInterceptor>> = vec![
//!     Arc::new(AuditInterceptor::new(sink.clone())),
//!     Arc::new(PermissionInterceptor::new(policy, Arc::new(ApprovalStore::new()))),
//! ];
//! let tool = EchoTool::new(ToolSpec::new("echo", "Echoes."));
//! let call = ToolCall::new("c1", "echo", r#"{"api_key":"sk-live-0123456789abcdef"}"#);
//! let args = call.arguments_value().unwrap();
//! let inv = ToolInvocation { call: &call, args: &args, spec: tool.spec() };
//! let ctx = CallContext::new("req-1").with_principal(Principal::new("alice"));
//! ToolNext::new(&chain, &tool).run(&inv, &ctx).await.unwrap();
//! let rec = &sink.records()[0];
//! assert_eq!(rec.decision.as_deref(), Some("allow"));
//! assert_eq!(rec.arguments, json!({"api_key": "[REDACTED]"}));
//! # });
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]

mod approval;
pub mod audit;
pub mod limits;
mod permission;
pub mod policy;
pub mod redact;

pub use approval::{ApprovalError, ApprovalRequest, ApprovalStore, binding_hash, canonical_json};
pub use audit::verify_dir;
pub use permission::PermissionInterceptor;

/// docs/security.md, compiled and run as doctests so its examples stay true.
#[cfg(doctest)]
#[doc = include_str!("../../../docs/security.md")]
pub struct SecurityGuide;
