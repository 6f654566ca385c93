//! The client span of an OpenAPI tool's HTTP request, a child of the
//! registry's `execute_tool` span, with the OpenTelemetry HTTP attributes.
//!
//! `url.full` never carries a secret: user and password are dropped and every
//! query value is replaced by `REDACTED` (keys kept), because a query may hold
//! an API key from the configuration or text from the model's arguments.

use reqwest::Url;
use toolplane_core::CallContext;
use toolplane_core::semconv as sc;
use toolplane_core::trace_context::{TRACEPARENT, outgoing_traceparent};
use tracing::Span;
use tracing::field::Empty;

/// What replaces a query value in `url.full`.
const REDACTED: &str = "REDACTED";

/// `url` without credentials and with every query value redacted.
pub(crate) fn safe_url(url: &Url) -> String {
    let mut safe = url.clone();
    let _ = safe.set_username("");
    let _ = safe.set_password(None);
    safe.set_fragment(None);
    if url.query().is_some() {
        let keys: Vec<String> = url.query_pairs().map(|(k, _)| k.into_owned()).collect();
        let mut pairs = safe.query_pairs_mut();
        pairs.clear();
        for k in &keys {
            pairs.append_pair(k, REDACTED);
        }
    }
    safe.to_string()
}

/// Opens the request's span (kind client, named after the method).
pub(crate) fn http_span(request: &reqwest::Request) -> Span {
    let method = request.method().as_str();
    let span = tracing::info_span!(
        target: "toolplane::http",
        "http_request",
        otel.name = method,
        otel.kind = sc::SPAN_KIND_CLIENT,
        http.request.method = method,
        url.full = Empty,
        server.address = Empty,
        server.port = Empty,
        http.response.status_code = Empty,
        error.type = Empty,
        otel.status_code = Empty,
    );
    if !span.is_disabled() {
        let url = request.url();
        span.record(sc::URL_FULL, safe_url(url).as_str());
        if let Some(host) = url.host_str() {
            span.record(sc::SERVER_ADDRESS, host);
        }
        if let Some(port) = url.port_or_known_default() {
            span.record(sc::SERVER_PORT, port);
        }
    }
    span
}

/// Adds `traceparent` for the request's span (see
/// [`toolplane_core::trace_context`]): the span must be current.
pub(crate) fn propagate(request: &mut reqwest::Request, ctx: &CallContext) {
    if let Some(tp) = outgoing_traceparent(Some(ctx)) {
        if let Ok(v) = reqwest::header::HeaderValue::from_str(&tp.to_string()) {
            request.headers_mut().insert(TRACEPARENT, v);
        }
    }
}

/// Records the answer's status (`error.type` is the status for 4xx and 5xx,
/// as the HTTP conventions say) or the transport failure's kind.
pub(crate) fn record_result(span: &Span, result: Result<u16, &str>) {
    if span.is_disabled() {
        return;
    }
    match result {
        Ok(status) => {
            span.record(sc::HTTP_RESPONSE_STATUS_CODE, status);
            if status >= 400 {
                span.record(sc::ERROR_TYPE, status.to_string().as_str());
                span.record(sc::OTEL_STATUS_CODE, sc::STATUS_ERROR);
            }
        }
        Err(kind) => {
            span.record(sc::ERROR_TYPE, kind);
            span.record(sc::OTEL_STATUS_CODE, sc::STATUS_ERROR);
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_url_keeps_no_credentials_and_no_query_values() {
        let url =
            Url::parse("https://user:pw@api.example.com:8443/v1/items?api_key=sk-abc123&q=hello%20world#frag").unwrap();
        let safe = safe_url(&url);
        assert_eq!(
            safe,
            "https://api.example.com:8443/v1/items?api_key=REDACTED&q=REDACTED"
        );
        assert_eq!(
            safe_url(&Url::parse("http://127.0.0.1:9/x").unwrap()),
            "http://127.0.0.1:9/x"
        );
    }
}
