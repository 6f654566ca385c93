//! Sends toolplane's spans to an OpenTelemetry collector over OTLP/HTTP.
//!
//! # Who should depend on this crate
//!
//! Hosts: the `toolplane` CLI (its `otel` feature), the gateway, and any
//! application that wants its agents' spans in a tracing backend. Libraries
//! never do: toolplane's library crates depend on `tracing` only and leave
//! the subscriber to the host.
//!
//! # What it does
//!
//! - [`install`] / [`install_from_env`]: a global `tracing` subscriber with a
//!   `tracing-opentelemetry` layer whose spans go to an OTLP/HTTP (protobuf)
//!   endpoint in batches, over reqwest (the workspace's one HTTP stack; no
//!   gRPC). The returned [`OtelGuard`] flushes and shuts the exporter down
//!   when dropped.
//! - [`OtelConfig::from_env`]: the standard variables.
//!   `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` (used as it is) or
//!   `OTEL_EXPORTER_OTLP_ENDPOINT` (with `/v1/traces` appended),
//!   `OTEL_SERVICE_NAME` (default `toolplane`), `OTEL_EXPORTER_OTLP_HEADERS`
//!   (read by the exporter), and `OTEL_SDK_DISABLED=true` to turn it all off.
//!   With no endpoint variable set nothing is installed: a command line tool
//!   should not send spans to a default address nobody configured.
//! - W3C trace context: the installed layer also becomes the process's
//!   [`traceparent` source](toolplane_core::trace_context), so providers and
//!   OpenAPI tools send `traceparent` naming their client span;
//!   [`continue_trace`] makes a server span the child of an incoming
//!   `traceparent`, and is installed as `toolplane_trace`'s remote-parent
//!   function, so an MCP server's call span continues the trace its client
//!   sent in `_meta`.
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318 OTEL_SERVICE_NAME=support-bot
//! let _guard = toolplane_otel::install_from_env()?; // None when no endpoint is set
//! // ... run agents; spans are exported in batches ...
//! # Ok(()) }
//! // dropping the guard flushes what is left
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]

use opentelemetry::trace::{
    SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState, TracerProvider as _,
};
use opentelemetry_otlp::{Protocol, WithExportConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::SdkTracerProvider;
use toolplane_core::trace_context::{TraceParent, set_traceparent_source};
use tracing::Span;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::layer::SubscriberExt;

/// The service name when `OTEL_SERVICE_NAME` is not set.
pub const DEFAULT_SERVICE_NAME: &str = "toolplane";

/// Where spans go and under which service name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OtelConfig {
    /// The full traces URL (`http://127.0.0.1:4318/v1/traces`).
    pub traces_endpoint: String,
    /// The `service.name` resource attribute.
    pub service_name: String,
}

impl OtelConfig {
    /// Spans to `endpoint`, a collector's base URL (`/v1/traces` is appended,
    /// as `OTEL_EXPORTER_OTLP_ENDPOINT` means), as `service_name`.
    pub fn new(endpoint: &str, service_name: impl Into<String>) -> Self {
        Self {
            traces_endpoint: format!("{}/v1/traces", endpoint.trim_end_matches('/')),
            service_name: service_name.into(),
        }
    }

    /// From the standard variables; `None` when no endpoint is set (or set
    /// blank) or `OTEL_SDK_DISABLED` is `true`.
    pub fn from_env() -> Option<Self> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// As [`from_env`](Self::from_env), reading variables through `get`.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Option<Self> {
        let set = |name: &str| get(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        if set("OTEL_SDK_DISABLED").is_some_and(|v| v.eq_ignore_ascii_case("true")) {
            return None;
        }
        let service_name = set("OTEL_SERVICE_NAME").unwrap_or_else(|| DEFAULT_SERVICE_NAME.to_owned());
        if let Some(url) = set("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") {
            return Some(Self {
                traces_endpoint: url,
                service_name,
            });
        }
        set("OTEL_EXPORTER_OTLP_ENDPOINT").map(|base| Self::new(&base, service_name))
    }
}

/// Why the exporter could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum OtelError {
    /// The endpoint is not an `http` or `https` URL.
    #[error("OTLP endpoint {0:?}: expected an http:// or https:// URL")]
    Endpoint(String),
    /// The exporter could not be built.
    #[error("cannot build the OTLP exporter: {0}")]
    Exporter(String),
    /// A global subscriber was set already.
    #[error("a global tracing subscriber is already installed")]
    AlreadyInstalled,
}

/// Owns the exporter; dropping it flushes the spans not yet sent and shuts
/// the exporter down.
#[derive(Debug)]
pub struct OtelGuard {
    provider: SdkTracerProvider,
}

impl OtelGuard {
    /// Sends every finished span now.
    pub fn flush(&self) -> Result<(), OtelError> {
        self.provider
            .force_flush()
            .map_err(|e| OtelError::Exporter(e.to_string()))
    }

    /// The tracer provider (to add processors or build more layers).
    pub fn provider(&self) -> &SdkTracerProvider {
        &self.provider
    }
}

impl Drop for OtelGuard {
    fn drop(&mut self) {
        let _ = self.provider.shutdown();
    }
}

/// A tracer provider exporting to `config`'s endpoint over OTLP/HTTP with
/// protobuf bodies, in batches.
pub fn tracer_provider(config: &OtelConfig) -> Result<SdkTracerProvider, OtelError> {
    let url = &config.traces_endpoint;
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(OtelError::Endpoint(url.clone()));
    }
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpBinary)
        .with_endpoint(url.as_str())
        .build()
        .map_err(|e| OtelError::Exporter(e.to_string()))?;
    Ok(SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(
            Resource::builder()
                .with_service_name(config.service_name.clone())
                .build(),
        )
        .build())
}

/// The `tracing` layer for `provider`'s tracer, for hosts that compose
/// their own subscriber (add it to a `tracing_subscriber::registry()`), and
/// sets the `traceparent` source.
pub fn layer<S>(provider: &SdkTracerProvider) -> impl tracing_subscriber::Layer<S> + use<S>
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    set_traceparent_source(current_traceparent);
    toolplane_trace::set_remote_parent(continue_trace);
    tracing_opentelemetry::layer().with_tracer(provider.tracer("toolplane"))
}

/// Installs a global subscriber sending every span to `config`'s endpoint.
pub fn install(config: &OtelConfig) -> Result<OtelGuard, OtelError> {
    let provider = tracer_provider(config)?;
    let subscriber = tracing_subscriber::registry().with(layer(&provider));
    tracing::subscriber::set_global_default(subscriber).map_err(|_| OtelError::AlreadyInstalled)?;
    Ok(OtelGuard { provider })
}

/// [`install`] with [`OtelConfig::from_env`]; `Ok(None)` when the variables
/// ask for nothing.
pub fn install_from_env() -> Result<Option<OtelGuard>, OtelError> {
    OtelConfig::from_env().map(|c| install(&c)).transpose()
}

/// The current span's OpenTelemetry context as a `traceparent`, if the
/// current span is exported (the source [`layer`] installs).
pub fn current_traceparent() -> Option<TraceParent> {
    let cx = Span::current().context();
    let span = cx.span();
    let sc = span.span_context();
    sc.is_valid().then(|| TraceParent {
        trace_id: sc.trace_id().to_bytes(),
        span_id: sc.span_id().to_bytes(),
        flags: sc.trace_flags().to_u8(),
    })
}

/// Makes `span` (just created, not yet entered) a child of the remote
/// `parent`, so a server's spans continue its caller's trace. Returns false
/// when no OpenTelemetry layer is installed for the span.
pub fn continue_trace(span: &Span, parent: &TraceParent) -> bool {
    let sc = SpanContext::new(
        TraceId::from_bytes(parent.trace_id),
        SpanId::from_bytes(parent.span_id),
        TraceFlags::new(parent.flags),
        true,
        TraceState::default(),
    );
    span.set_parent(opentelemetry::Context::new().with_remote_span_context(sc))
        .is_ok()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn lookup<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| vars.iter().find(|(k, _)| *k == name).map(|(_, v)| (*v).to_owned())
    }

    #[test]
    fn the_standard_variables_choose_the_endpoint_and_name() {
        assert_eq!(OtelConfig::from_lookup(lookup(&[])), None);
        assert_eq!(
            OtelConfig::from_lookup(lookup(&[("OTEL_EXPORTER_OTLP_ENDPOINT", " ")])),
            None
        );
        let c = OtelConfig::from_lookup(lookup(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318/")])).unwrap();
        assert_eq!(c.traces_endpoint, "http://127.0.0.1:4318/v1/traces");
        assert_eq!(c.service_name, "toolplane");
        let c = OtelConfig::from_lookup(lookup(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://a:4318"),
            ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://b:4318/custom"),
            ("OTEL_SERVICE_NAME", "support-bot"),
        ]))
        .unwrap();
        assert_eq!(c.traces_endpoint, "http://b:4318/custom");
        assert_eq!(c.service_name, "support-bot");
        assert_eq!(
            OtelConfig::from_lookup(lookup(&[
                ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://a:4318"),
                ("OTEL_SDK_DISABLED", "TRUE"),
            ])),
            None
        );
    }

    #[test]
    fn an_endpoint_that_is_not_http_is_refused() {
        let c = OtelConfig::new("127.0.0.1:4318", "x");
        assert!(matches!(tracer_provider(&c), Err(OtelError::Endpoint(_))));
    }
}
