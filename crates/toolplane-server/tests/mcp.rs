//! `/mcp` joins the gateway's request ids: a `tools/call` is audited under
//! the HTTP request's `x-request-id`, with the JSON-RPC id as the record's
//! call id.

#![allow(clippy::unwrap_used, clippy::panic)]

mod support;

use serde_json::{Value, json};
use support::*;

/// One JSON-RPC message to `/mcp`: the status, the response's `x-request-id`,
/// its `mcp-session-id` and the body.
async fn mcp_post(
    url: &str,
    session: Option<&str>,
    request_id: Option<&str>,
    body: Value,
) -> (u16, String, Option<String>, String) {
    let mut req = client()
        .post(format!("{url}/mcp"))
        .bearer_auth(KEY)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2025-06-18");
    if let Some(s) = session {
        req = req.header("mcp-session-id", s);
    }
    if let Some(id) = request_id {
        req = req.header("x-request-id", id);
    }
    let resp = req.body(body.to_string()).send().await.unwrap();
    let status = resp.status().as_u16();
    let header = |name: &str| resp.headers().get(name).map(|v| v.to_str().unwrap().to_owned());
    let rid = header("x-request-id").expect("every answer has an x-request-id");
    let session = header("mcp-session-id");
    (status, rid, session, resp.text().await.unwrap())
}

/// Initializes an MCP session at the gateway; returns its id.
async fn mcp_session(url: &str) -> String {
    let (status, _, session, text) = mcp_post(
        url,
        None,
        None,
        json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "raw", "version": "1"}}}),
    )
    .await;
    assert_eq!(status, 200, "{text}");
    let session = session.expect("a session id");
    let (status, _, _, _) = mcp_post(
        url,
        Some(&session),
        None,
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
    )
    .await;
    assert_eq!(status, 202);
    session
}

async fn audit_records(url: &str) -> Vec<Value> {
    let (status, b) = get_as(url, "/v1/audit?limit=50&tool=current_time", KEY).await;
    assert_eq!(status, 200, "{b}");
    b["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["record"].clone())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_mcp_call_is_audited_under_the_http_request_id() {
    let dir = tempfile::tempdir().unwrap();
    let s = TestServer::start(&scripted_config(""), dir.path()).await;
    let session = mcp_session(&s.url).await;

    // The gateway assigns the id...
    let (status, assigned, _, text) = mcp_post(
        &s.url,
        Some(&session),
        None,
        json!({"jsonrpc": "2.0", "id": 41, "method": "tools/call",
               "params": {"name": "current_time", "arguments": {}}}),
    )
    .await;
    assert_eq!(status, 200, "{text}");
    assert!(!text.contains("\"isError\":true"), "{text}");
    assert!(assigned.starts_with("req_"), "{assigned}");
    // ...or continues the caller's.
    let (status, continued, _, text) = mcp_post(
        &s.url,
        Some(&session),
        Some("caller-chosen-id-7"),
        json!({"jsonrpc": "2.0", "id": "call-b", "method": "tools/call",
               "params": {"name": "current_time", "arguments": {}}}),
    )
    .await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(continued, "caller-chosen-id-7");

    let records = audit_records(&s.url).await;
    let find = |rid: &str| {
        records
            .iter()
            .find(|r| r["request_id"] == rid)
            .unwrap_or_else(|| panic!("no audit record with request_id {rid}: {records:#?}"))
            .clone()
    };
    let first = find(&assigned);
    assert_eq!(first["event"], "tool_call");
    assert_eq!(first["principal"], "alice");
    // The JSON-RPC id stays visible as the call's id.
    assert_eq!(first["call_id"], "41", "{first}");
    let second = find(&continued);
    assert_eq!(second["call_id"], "call-b", "{second}");
    assert!(
        records
            .iter()
            .all(|r| !r["request_id"].as_str().unwrap().starts_with("mcp-")),
        "{records:#?}"
    );
    s.stop().await;
}
