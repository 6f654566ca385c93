//! Our server under bad input, over Streamable HTTP (raw requests) and stdio
//! (raw lines): each bad message gets an error and the server keeps serving.

#![allow(clippy::panic, clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use toolplane_core::{EchoTool, Tool, ToolSpec};
use toolplane_mcp::server::{HttpOptions, McpServer, ServerOptions, http_router};
use toolplane_registry::{Executor, ExecutorConfig, ToolRegistry};

fn executor() -> Executor {
    let echo: Arc<dyn Tool> = Arc::new(EchoTool::new(
        ToolSpec::new("echo", "Returns its arguments.").with_input_schema(
            json!({"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]}),
        ),
    ));
    let mut registry = ToolRegistry::new();
    registry.register(echo).unwrap();
    Executor::builder(registry)
        .config(ExecutorConfig {
            max_output_bytes: 4 << 20,
            ..ExecutorConfig::default()
        })
        .build()
        .unwrap()
}

struct Http {
    url: String,
    client: reqwest::Client,
    session: Option<String>,
}

impl Http {
    async fn post_raw(&self, body: String) -> (u16, String) {
        let mut req = self
            .client
            .post(&self.url)
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .header("mcp-protocol-version", "2025-06-18");
        if let Some(s) = &self.session {
            req = req.header("mcp-session-id", s);
        }
        let resp = req.body(body).send().await.unwrap();
        (resp.status().as_u16(), resp.text().await.unwrap())
    }

    async fn rpc(&self, id: u64, method: &str, params: Value) -> Value {
        let (status, text) = self
            .post_raw(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}).to_string())
            .await;
        assert!(status < 500, "{status} {text}");
        parse_answer(&text, id).unwrap_or_else(|| json!({"http_status": status, "body": text}))
    }
}

/// A JSON body, or the SSE event carrying the answer to `id`.
fn parse_answer(text: &str, id: u64) -> Option<Value> {
    if let Ok(v) = serde_json::from_str::<Value>(text) {
        return Some(v);
    }
    text.lines()
        .filter_map(|l| l.strip_prefix("data:"))
        .filter_map(|d| serde_json::from_str::<Value>(d.trim()).ok())
        .find(|v| v["id"].as_u64() == Some(id))
}

async fn start_http() -> Http {
    let server = McpServer::new(Arc::new(executor()), ServerOptions::default());
    let options = HttpOptions::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, http_router(server, options)).await });
    let mut http = Http {
        url: format!("http://{addr}/mcp"),
        client: reqwest::Client::new(),
        session: None,
    };
    let resp = http
        .client
        .post(&http.url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .body(
            json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
                "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "raw", "version": "1"}}})
            .to_string(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    http.session = resp
        .headers()
        .get("mcp-session-id")
        .map(|v| v.to_str().unwrap().to_string());
    let (status, _) = http
        .post_raw(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}).to_string())
        .await;
    assert_eq!(status, 202);
    http
}

async fn echo_works(http: &Http, id: u64) {
    let ok = http
        .rpc(
            id,
            "tools/call",
            json!({"name": "echo", "arguments": {"text": "still serving"}}),
        )
        .await;
    assert_eq!(ok["result"]["structuredContent"]["text"], "still serving", "{ok}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_bad_messages_get_errors_and_the_server_keeps_serving() {
    let http = start_http().await;
    echo_works(&http, 1).await;

    // Malformed JSON: a JSON-RPC parse error or a 4xx, never a 5xx or a hang.
    let (status, text) = http
        .post_raw("{\"jsonrpc\": \"2.0\", \"id\": 2, \"method\": ".into())
        .await;
    assert!(
        (400..500).contains(&status) || text.contains("-32700"),
        "{status} {text}"
    );
    echo_works(&http, 3).await;

    // Unknown method.
    let r = http.rpc(4, "tools/frobnicate", json!({})).await;
    assert_eq!(r["error"]["code"], -32601, "{r}");
    echo_works(&http, 5).await;

    // Unknown tool: a JSON-RPC error naming it.
    let r = http
        .rpc(6, "tools/call", json!({"name": "nope", "arguments": {}}))
        .await;
    assert_eq!(r["error"]["code"], -32602, "{r}");
    assert!(r["error"]["message"].as_str().unwrap().contains("`nope`"), "{r}");

    // Arguments that fail validation: a tool error the model can read.
    let r = http
        .rpc(7, "tools/call", json!({"name": "echo", "arguments": {"text": 5}}))
        .await;
    assert_eq!(r["result"]["isError"], true, "{r}");
    assert!(
        r["result"]["content"][0]["text"].as_str().unwrap().contains("/text"),
        "{r}"
    );

    // A 10 MB argument: refused by the executor's argument limit (1 MiB).
    let big = "x".repeat(10 * 1024 * 1024);
    let r = http
        .rpc(8, "tools/call", json!({"name": "echo", "arguments": {"text": big}}))
        .await;
    let text = r.to_string();
    assert!(
        r["result"]["isError"] == true || r["error"].is_object() || r.get("http_status").is_some(),
        "{}",
        &text[..text.len().min(300)]
    );
    assert!(text.len() < 64 * 1024, "the refusal does not echo the argument back");
    echo_works(&http, 9).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_never_reads_does_not_stop_the_others() {
    let http = start_http().await;
    // Client A asks for ~3 MB of output and never reads its socket.
    let addr = http
        .url
        .trim_start_matches("http://")
        .trim_end_matches("/mcp")
        .to_string();
    let mut stalled = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let body = json!({"jsonrpc": "2.0", "id": 99, "method": "tools/call",
        "params": {"name": "echo", "arguments": {"text": "y".repeat(900 * 1024)}}})
    .to_string();
    let mut request = format!(
        "POST /mcp HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nMcp-Protocol-Version: 2025-06-18\r\n"
    );
    if let Some(s) = &http.session {
        request.push_str(&format!("Mcp-Session-Id: {s}\r\n"));
    }
    request.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    for _ in 0..3 {
        stalled.write_all(request.as_bytes()).await.unwrap();
    }
    // Client B (another session) is served meanwhile.
    let other = start_http_on(&http).await;
    for id in 0..5 {
        echo_works(&other, 100 + id).await;
    }
    echo_works(&http, 200).await;
    drop(stalled);
}

/// A second session on the same server as `http`.
async fn start_http_on(http: &Http) -> Http {
    let mut other = Http {
        url: http.url.clone(),
        client: reqwest::Client::new(),
        session: None,
    };
    let resp = other
        .client
        .post(&other.url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .body(
            json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
                "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "b", "version": "1"}}})
            .to_string(),
        )
        .send()
        .await
        .unwrap();
    other.session = resp
        .headers()
        .get("mcp-session-id")
        .map(|v| v.to_str().unwrap().to_string());
    other
        .post_raw(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}).to_string())
        .await;
    other
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stdio_garbage_lines_do_not_end_the_session() {
    let server = McpServer::new(Arc::new(executor()), ServerOptions::default());
    let (client_side, server_side) = tokio::io::duplex(1 << 20);
    let (server_read, server_write) = tokio::io::split(server_side);
    let serving = tokio::spawn(server.serve_io(server_read, server_write));
    let (read, mut write) = tokio::io::split(client_side);
    let mut lines = BufReader::new(read).lines();
    let mut send = async |v: String| {
        write.write_all(v.as_bytes()).await.unwrap();
        write.write_all(b"\n").await.unwrap();
    };
    send(
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "raw", "version": "1"}}})
        .to_string(),
    )
    .await;
    let init: Value = serde_json::from_str(&lines.next_line().await.unwrap().unwrap()).unwrap();
    assert_eq!(init["result"]["serverInfo"]["name"], "toolplane");
    send(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}).to_string()).await;
    send("this is not json".into()).await;
    send("{\"jsonrpc\":\"2.0\",\"id\":".into()).await;
    send(json!({"jsonrpc": "2.0", "id": 2, "method": "no/such/method"}).to_string()).await;
    send(json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "echo", "arguments": {"text": "ok"}}}).to_string()).await;
    let mut by_id = std::collections::HashMap::new();
    while by_id.len() < 2 {
        let line = tokio::time::timeout(Duration::from_secs(10), lines.next_line())
            .await
            .expect("the server answers")
            .unwrap()
            .unwrap();
        let v: Value = serde_json::from_str(&line).unwrap();
        if let Some(id) = v["id"].as_u64() {
            by_id.insert(id, v);
        }
    }
    assert_eq!(by_id[&2]["error"]["code"], -32601, "{:?}", by_id[&2]);
    assert_eq!(
        by_id[&3]["result"]["structuredContent"]["text"], "ok",
        "{:?}",
        by_id[&3]
    );
    serving.abort();
}
