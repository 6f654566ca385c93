//! Provider performance tracking for toolplane.
//!
//! # Who should depend on this crate
//!
//! Hosts that call chat providers and want to know how each provider,
//! model and task type performs: latency and time-to-first-token
//! percentiles, success and win rates, tokens and cost; and routers that
//! read those figures through [`toolplane_core::ProviderStatsSource`].
//! Applications usually reach it through the `toolplane` facade. It depends
//! on `toolplane-core`, `hdrhistogram`, `parking_lot`, serde and nothing async
//! beyond `futures-core`.
//!
//! # The pieces
//!
//! | what | types |
//! | --- | --- |
//! | recording | [`ProviderMetricsCollector`], [`Execution`], [`Outcome`], feedback via [`toolplane_core::Feedback`] |
//! | one-line integration | [`MetricsInterceptor`] (a [`toolplane_core::ChatInterceptor`], streams included) |
//! | queries | [`MetricsQuery`], [`TimeRange`], [`RankBy`] → [`MetricsReport`] (serde; `Display` tables) |
//! | prices | [`PricingTable`], [`ModelPrice`] (built-in, or LiteLLM JSON) |
//! | export | [`MetricsReport::to_json`], [`ProviderMetricsCollector::to_prometheus`] |
//! | router | `impl ProviderStatsSource for ProviderMetricsCollector` (precomputed) |
//! | time | [`Clock`], [`SystemClock`], [`ManualClock`] |
//!
//! Memory is bounded: see [`MetricsConfig`] and `docs/metrics.md`.
//!
//! # Example
//!
//! ```
//! use std::time::Duration;
//! use toolplane_core::{ExpertKey, ProviderErrorKind, ProviderStatsSource, Usage};
//! use toolplane_metrics::{Execution, MetricsQuery, ProviderMetricsCollector, RankBy};
//!
//! let metrics = ProviderMetricsCollector::new();
//! let usage = Usage { input_tokens: 2_000, output_tokens: 400, ..Default::default() };
//! metrics.record(&Execution::success("openai", "gpt-4o-mini", 900.0)
//!     .with_task_type("code").with_usage(usage).with_request_id("r1"))?;
//! metrics.record(&Execution::failure("anthropic", "claude-haiku-4-5", 30_000.0, ProviderErrorKind::Timeout)
//!     .with_task_type("code"))?;
//! metrics.record_outcome("r1", true)?; // late feedback: r1's answer won
//!
//! let report = metrics.snapshot(&MetricsQuery::last(Duration::from_secs(3600)).rank_by(RankBy::SuccessRate))?;
//! assert_eq!(report.ranking.entries[0].provider, "openai");
//! assert_eq!(report.totals.calls, 2);
//! println!("{report}");                       // text tables
//! let _json = report.to_json();               // JSON (schema in docs/metrics.md)
//! assert!(metrics.to_prometheus().contains("gen_ai_client_operation_duration_seconds_bucket"));
//!
//! metrics.refresh_expert_stats();             // the router reads cached figures
//! let s = metrics.expert_stats(&ExpertKey::new("openai", "gpt-4o-mini"), Some("code")).unwrap();
//! assert_eq!((s.wins, s.judged), (1, 1));
//! # Ok::<(), toolplane_metrics::MetricsError>(())
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]

mod clock;
mod collector;
mod error;
mod expert;
mod intercept;
mod pricing;
mod pricing_builtin;
mod prometheus;
mod query;
mod record;
mod report;
mod series;

pub use clock::{Clock, ManualClock, SystemClock};
pub use collector::{DEFAULT_MEMORY_BUDGET, MetricsConfig, OVERFLOW_LABEL, ProviderMetricsCollector};
pub use error::{MetricsError, MetricsErrorKind};
pub use intercept::MetricsInterceptor;
pub use pricing::{BUILTIN_PRICES_CHECKED, ModelPrice, PricingTable};
pub use prometheus::{PROMETHEUS_CONTENT_TYPE, escape_label_value};
pub use query::{MetricsQuery, RankBy, TimeRange};
pub use record::{Execution, MAX_COST_USD, MAX_LATENCY_MS, MAX_NAME_LEN, MAX_TOKENS_PER_CALL, Outcome};
pub use report::{
    CostBreakdown, CostLine, GroupStats, MemoryUse, MetricsReport, Percentiles, RankEntry, Ranking, TokenTotals,
    WinRate, WindowInfo,
};
