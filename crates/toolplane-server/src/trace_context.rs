//! The gateway's request span, continuing an incoming W3C `traceparent`.
//!
//! Every request gets a server span (`otel.kind = server`) named
//! `{METHOD} {route}` after the route template that matched
//! (`POST /v1/runs/{id}/approvals`, also in `http.route`), or `{METHOD}`
//! alone when no route matched, as OpenTelemetry's HTTP server conventions
//! ask; the path is in `url.path`. With the `otel` feature and an OpenTelemetry layer
//! installed (`toolplane serve` with `OTEL_EXPORTER_OTLP_ENDPOINT` set), a
//! valid incoming `traceparent` becomes the span's remote parent, so the
//! router's `chat` span, the providers' requests (which carry `traceparent`
//! onwards) and the tools' spans join the caller's trace. A malformed
//! `traceparent` is ignored, as W3C Trace Context asks: the request starts
//! a new trace.

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use toolplane_core::semconv as sc;
use toolplane_core::trace_context::{TRACEPARENT, TraceParent};
use tracing::field::Empty;
use tracing::{Instrument, Span};

/// The incoming `traceparent`, when there is exactly one valid value.
fn incoming(req: &Request) -> Option<TraceParent> {
    let mut values = req.headers().get_all(TRACEPARENT).iter();
    let first = values.next()?;
    if values.next().is_some() {
        return None;
    }
    first.to_str().ok()?.parse().ok()
}

/// The request's server span, handed from [`continue_trace`] (which runs
/// before routing) to [`enter_route`] (which runs once a route matched).
#[derive(Clone)]
struct RequestSpan(Span);

/// A route layer: names the request's span after the matched route template
/// and runs the route inside it.
///
/// The name must be set before the span is first entered: the OpenTelemetry
/// layer starts the exported span then, and a later `otel.name` is not
/// applied. So [`continue_trace`] creates the span without entering it, and
/// the span is entered here, around the route (authentication and the
/// handler). A request that matches no route (a 404) leaves it unentered,
/// named after its method.
pub(crate) async fn enter_route(mut req: Request, next: Next) -> Response {
    let Some(RequestSpan(span)) = req.extensions_mut().remove::<RequestSpan>() else {
        return next.run(req).await;
    };
    if let Some(route) = req.extensions().get::<MatchedPath>() {
        span.record(sc::HTTP_ROUTE, route.as_str());
        span.record(sc::OTEL_NAME, format!("{} {}", req.method(), route.as_str()).as_str());
    }
    next.run(req).instrument(span).await
}

/// Creates the request's server span (entered by [`enter_route`] once the
/// route is known) and records the answer's status on it.
pub(crate) async fn continue_trace(mut req: Request, next: Next) -> Response {
    let method = req.method().as_str().to_owned();
    // Named after the method until routing names the route template (a raw
    // path would make one span name per run id).
    let span = tracing::info_span!(
        target: "toolplane::gateway",
        "http_server_request",
        otel.name = %method,
        otel.kind = sc::SPAN_KIND_SERVER,
        http.request.method = %method,
        http.route = Empty,
        url.path = req.uri().path(),
        http.response.status_code = Empty,
        error.type = Empty,
        otel.status_code = Empty,
    );
    if span.is_disabled() {
        return next.run(req).await;
    }
    if let Some(parent) = incoming(&req) {
        #[cfg(feature = "otel")]
        toolplane_otel::continue_trace(&span, &parent);
        #[cfg(not(feature = "otel"))]
        let _ = parent;
    }
    req.extensions_mut().insert(RequestSpan(span.clone()));
    let resp = next.run(req).await;
    let status = resp.status().as_u16();
    span.record(sc::HTTP_RESPONSE_STATUS_CODE, status);
    if status >= 500 {
        span.record(sc::ERROR_TYPE, status.to_string().as_str());
        span.record(sc::OTEL_STATUS_CODE, sc::STATUS_ERROR);
    }
    resp
}
