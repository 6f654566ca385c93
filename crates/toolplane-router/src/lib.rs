//! A mixture-of-experts router for toolplane: each request goes to the best
//! chat provider for its task type, chosen from live figures in about a
//! microsecond for a few dozen experts, with fallbacks when an expert fails.
//!
//! # Who should depend on this crate
//!
//! Hosts that have more than one chat model and want each request on the
//! right one: cheap models for chat, strong ones for code, whichever is
//! fastest or wins most for a task type, and another when one is rate
//! limited or down. The [`Router`] is itself a
//! [`ChatProvider`](toolplane_core::ChatProvider), so the agent loop,
//! interceptors and everything else that takes a provider takes a router.
//! It depends on toolplane-core, serde, toml and rand_chacha; statistics
//! arrive through [`ProviderStatsSource`](toolplane_core::ProviderStatsSource)
//! (the metrics crate implements it), so this crate pulls no metrics stack.
//!
//! # How a request is routed
//!
//! 1. **Task type**: the request's `metadata.task_type`, else the context's,
//!    else a [`TaskClassifier`] (default [`KeywordClassifier`]). Each expert
//!    receives the request with the resolved task type in
//!    `metadata.task_type`, so a metrics interceptor around each expert
//!    records it and the per-task figures the router reads back fill.
//! 2. **Hard constraints** remove experts: the task's `only` rule, tool
//!    support when the request has tools, streaming for streamed calls, the
//!    context window (estimated input plus `max_tokens`), budget left (per
//!    expert and for the router), health (circuit breaker open).
//! 3. **Strategy** of the task's [`TaskPolicy`] ranks the rest:
//!    [`Strategy::Static`], [`Strategy::Weighted`], [`Strategy::Thompson`],
//!    [`Strategy::LeastLatency`] or [`Strategy::Cheapest`].
//! 4. **Fallback**: the first `max_attempts` experts are tried in order
//!    while the deadline allows; an expert fault (429, 529/503, 5xx,
//!    timeout, transport, bad key) moves on to the next and feeds that
//!    expert's circuit breaker; a fault of the request (invalid, filtered,
//!    cancelled) stops at once.
//! 5. **Learning**: outcomes update latency and success averages and the
//!    breakers; [`Router::feedback`] and [`Router::record_verdict`] update
//!    the win-rate posteriors; [`Router::refresh_stats`] copies figures from
//!    the statistics source. Selection only reads these atomics.
//!
//! [`Router::explain`] (and [`Router::explain_with_context`],
//! [`Router::explain_for`]) returns a [`Decision`] with every candidate, its
//! score and figures, every removed expert and why, and the draw.
//!
//! Inside, what is fixed when the router is built (experts, task plans with
//! compiled strategies and rule masks) is kept apart from what changes
//! (breakers, averages, posteriors, figures, spend, the generator);
//! selection is a function of the two and the request. See `docs/router.md`.
//!
//! # Example
//!
//! ```
//! use std::sync::Arc;
//! use toolplane_core::*;
//! use toolplane_router::{Expert, Router, Strategy, TaskPolicy};
//! # let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
//! # rt.block_on(async {
//! let busy = ScriptedProvider::new("busy").with_error(
//!     ProviderError::new(ProviderErrorKind::RateLimited, "busy", "slow down")
//!         .with_retry_after(std::time::Duration::from_secs(10)),
//! );
//! let spare = ScriptedProvider::new("spare").with_text("fn main() {}");
//! let router = Router::builder()
//!     .expert(Expert::new(Arc::new(busy), "big").with_priority(0))
//!     .expert(Expert::new(Arc::new(spare), "small").with_priority(1))
//!     .policy("code", TaskPolicy::new(Strategy::Static { order: vec![] }))
//!     .seed(42)
//!     .build()
//!     .unwrap();
//! let req = ChatRequest::new("", vec![Message::user("write a Rust hello world")]).with_task_type("code");
//! let answer = router.chat(&req, &CallContext::new("r1")).await?;
//! assert_eq!(answer.text(), "fn main() {}"); // `busy` was rate limited, `spare` answered
//! // `busy` now cools down for its retry-after:
//! let why = router.explain(&req);
//! assert_eq!(why.excluded[0].constraint, "healthy");
//! # Ok::<(), ProviderError>(())
//! # }).unwrap();
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]

mod catalogue;
mod classify;
mod config;
mod decision;
mod dispatch;
mod dispatch_log;
mod error;
mod expert;
mod figures;
mod keywords;
mod live;
mod locate;
mod rank;
mod ranking;
mod router;
mod sample;
mod select;
mod state;
mod strategy;
mod trace;

pub use classify::{KeywordClassifier, TaskClassifier, TaskSource, tasks};
pub use config::{ConfigError, ExpertConfig, RouterConfig};
pub use decision::{Candidate, Decision, Exclusion};
pub use dispatch_log::{AttemptRecord, DispatchRecord, RankedExpert};
pub use error::RouterError;
pub use expert::Expert;
pub use router::{Route, Router, RouterBuilder};
pub use state::{BreakerConfig, ManualClock};
pub use strategy::{QualityMetric, Strategy, TaskPolicy, Weights};
