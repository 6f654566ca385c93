//! The gateway's request span, after OpenTelemetry's HTTP server
//! conventions: named `{METHOD} {route}` with the matched route template in
//! `http.route`, or `{METHOD}` alone when no route matched.
//!
//! Every test here installs the span collector: a test without one running
//! beside it in the same process can leave the collector's callsites
//! disabled.

#![allow(clippy::unwrap_used, clippy::panic)]

mod support;

use serde_json::json;
use support::*;
use toolplane_core::semconv as sc;
use toolplane_testkit::spans::Collector;

/// Current-thread runtime: the collector sees the spans of this thread only.
#[tokio::test]
async fn the_request_span_is_named_after_the_matched_route() {
    let (spans, _guard) = Collector::install();
    let dir = tempfile::tempdir().unwrap();
    let s = TestServer::start(&scripted_config(""), dir.path()).await;

    let status = |r: reqwest::Response| r.status().as_u16();
    let r = client()
        .post(format!("{}/v1/runs/run_missing/approvals", s.url))
        .bearer_auth(KEY)
        .json(&json!({"decisions": []}))
        .send()
        .await
        .unwrap();
    let approvals_status = status(r);
    let r = client()
        .get(format!("{}/v1/tools", s.url))
        .bearer_auth(KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(status(r), 200);
    let r = client()
        .get(format!("{}/no/such/route/42", s.url))
        .send()
        .await
        .unwrap();
    assert_eq!(status(r), 404);
    // An extractor rejection (a body that is not JSON) keeps the route too.
    let r = client()
        .post(format!("{}/v1/chat/completions", s.url))
        .bearer_auth(KEY)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(status(r), 400);

    let requests = spans.spans_named("http_server_request");
    let by_path = |path: &str| {
        requests
            .iter()
            .find(|sp| sp.get(sc::URL_PATH) == Some(path))
            .unwrap_or_else(|| panic!("no request span for {path}: {requests:#?}"))
            .clone()
    };
    let approvals = by_path("/v1/runs/run_missing/approvals");
    assert_eq!(
        approvals.get(sc::OTEL_NAME),
        Some("POST /v1/runs/{id}/approvals"),
        "{approvals:?}"
    );
    assert_eq!(approvals.get(sc::HTTP_ROUTE), Some("/v1/runs/{id}/approvals"));
    assert_eq!(
        approvals.get(sc::HTTP_RESPONSE_STATUS_CODE),
        Some(approvals_status.to_string().as_str())
    );
    assert_eq!(approvals.get(sc::OTEL_KIND), Some(sc::SPAN_KIND_SERVER));
    assert!(approvals.closed);

    let tools = by_path("/v1/tools");
    assert_eq!(tools.get(sc::OTEL_NAME), Some("GET /v1/tools"));
    assert_eq!(tools.get(sc::HTTP_ROUTE), Some("/v1/tools"));

    // No route matched: the method alone, no http.route.
    let unknown = by_path("/no/such/route/42");
    assert_eq!(unknown.get(sc::OTEL_NAME), Some("GET"));
    assert_eq!(unknown.get(sc::HTTP_ROUTE), None);

    let rejected = by_path("/v1/chat/completions");
    assert_eq!(rejected.get(sc::OTEL_NAME), Some("POST /v1/chat/completions"));
    s.stop().await;
}
