//! Our client against the reference server nobody here wrote:
//! `@modelcontextprotocol/server-everything` (pinned by scripts/ci/mcp.sh),
//! over stdio and over its Streamable HTTP mode.

#![allow(clippy::panic, clippy::unwrap_used)]

mod support;

use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use serde_json::{Value, json};
use toolplane_core::{CallContext, ToolCall, ToolErrorKind};
use toolplane_mcp::client::{ClientOptions, HttpServer, McpClient, ProgressEvent, ServerConfig, StdioServer};
use toolplane_registry::{Executor, ToolRegistry};
use toolplane_security::policy::{Layer, PolicyStore};
use toolplane_security::{ApprovalStore, PermissionInterceptor};

fn stdio_config(name: &str) -> Option<ServerConfig> {
    let (node, js) = support::everything()?;
    let server = StdioServer::new(node).arg(js.display().to_string()).arg("stdio");
    Some(ServerConfig::stdio(name, server))
}

async fn call(
    exec: &Executor,
    name: &str,
    args: Value,
) -> Result<toolplane_core::ToolOutput, toolplane_core::ToolError> {
    exec.execute(&ToolCall::from_value("c", name, &args), &CallContext::new("t"))
        .await
}

/// Waits (bounded) until `f` holds; returns whether it did.
async fn eventually(mut f: impl FnMut() -> bool) -> bool {
    for _ in 0..200 {
        if f() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    f()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stdio_tools_are_registered_and_every_kind_of_result_maps() {
    let Some(config) = stdio_config("everything") else {
        return;
    };
    let events: Arc<Mutex<Vec<ProgressEvent>>> = Arc::default();
    let sink = Arc::clone(&events);
    let options = ClientOptions {
        on_progress: Some(Arc::new(move |e: &ProgressEvent| sink.lock().push(e.clone()))),
        ..ClientOptions::default()
    };
    let client = McpClient::connect(config.with_options(options)).await.unwrap();
    let exec = Executor::new(ToolRegistry::new());
    let report = client.attach(&exec).unwrap();
    assert!(report.skipped.is_empty(), "{:?}", report.skipped);
    for name in [
        "everything.echo",
        "everything.get-sum",
        "everything.get-tiny-image",
        "everything.get-structured-content",
        "everything.trigger-long-running-operation",
    ] {
        assert!(
            report.added.iter().any(|n| n == name),
            "{name} missing from {:?}",
            report.added
        );
    }
    let spec = exec.with_registry(|r| {
        r.get("everything.trigger-long-running-operation")
            .unwrap()
            .spec()
            .clone()
    });
    assert_eq!(spec.annotations.read_only, Some(true), "hints are copied");
    assert!(spec.annotations.tags.contains(&"mcp:everything".to_string()));

    // echo: one text block.
    let out = call(&exec, "everything.echo", json!({"message": "hello"}))
        .await
        .unwrap();
    assert_eq!(out.to_model_text(), "Echo: hello");

    // get-sum: the executor validates against the server's schema before sending.
    let out = call(&exec, "everything.get-sum", json!({"a": 2, "b": 3}))
        .await
        .unwrap();
    assert!(out.to_model_text().contains('5'), "{}", out.to_model_text());
    let bad = call(&exec, "everything.get-sum", json!({"a": "two", "b": 3}))
        .await
        .unwrap_err();
    assert_eq!(bad.kind(), ToolErrorKind::InvalidArguments);
    assert!(bad.message().contains("/a"), "{}", bad.message());

    // An image: a part with its MIME type and base64 data.
    let out = call(&exec, "everything.get-tiny-image", json!({})).await.unwrap();
    let parts = out.content.as_array().unwrap();
    let image = parts.iter().find(|p| p["type"] == "image").unwrap();
    assert_eq!(image["mime_type"], "image/png");
    assert!(image["data"].as_str().unwrap().len() > 100);

    // Structured content, checked against the output schema.
    let out = call(
        &exec,
        "everything.get-structured-content",
        json!({"location": "Chicago"}),
    )
    .await
    .unwrap();
    assert!(out.content["temperature"].is_number(), "{}", out.content);
    assert!(out.content["conditions"].is_string());

    // Long-running with progress: every step is reported to the hook.
    let out = call(
        &exec,
        "everything.trigger-long-running-operation",
        json!({"duration": 1, "steps": 4}),
    )
    .await
    .unwrap();
    assert!(out.to_model_text().contains("Steps: 4"), "{}", out.to_model_text());
    // The server sends each notification before the result; the hook runs on
    // the connection's task, so the last one may be handled just after.
    assert!(eventually(|| events.lock().len() == 4).await, "{:?}", events.lock());
    let seen: Vec<f64> = events.lock().iter().map(|e| e.progress).collect();
    assert_eq!(seen, [1.0, 2.0, 3.0, 4.0]);
    assert!(
        events
            .lock()
            .iter()
            .all(|e| e.total == Some(4.0) && e.server == "everything")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_changed_after_initialization_refreshes_the_executor() {
    let Some(config) = stdio_config("ev") else { return };
    let client = McpClient::connect(config).await.unwrap();
    let exec = Executor::new(ToolRegistry::new());
    client.attach(&exec).unwrap();
    // The server registers its capability-dependent tools once initialized
    // and sends notifications/tools/list_changed; the refresh it triggers
    // lands in the executor.
    assert!(
        eventually(|| client.refresh_count() >= 1).await,
        "no refresh after tools/list_changed"
    );
    let names: Vec<String> = exec.specs().iter().map(|s| s.name.clone()).collect();
    let listed: Vec<String> = client.tools().iter().map(|t| t.spec().name.clone()).collect();
    assert_eq!(names, listed, "the executor holds exactly the server's current tools");
    // An explicit refresh with nothing new changes nothing.
    let report = client.refresh().await.unwrap();
    assert!(
        report.added.is_empty() && report.removed.is_empty() && report.replaced.is_empty(),
        "{report:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_server_fails_the_call_in_flight_and_the_next_call_reconnects() {
    let Some(config) = stdio_config("everything") else {
        return;
    };
    let client = McpClient::connect(config).await.unwrap();
    let exec = Executor::new(ToolRegistry::new());
    client.attach(&exec).unwrap();
    let first_pid = client.pid().unwrap();

    let long = tokio::spawn({
        let exec = exec.clone();
        async move {
            call(
                &exec,
                "everything.trigger-long-running-operation",
                json!({"duration": 30, "steps": 30}),
            )
            .await
        }
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    let status = std::process::Command::new("kill")
        .arg("-9")
        .arg(first_pid.to_string())
        .status()
        .unwrap();
    assert!(status.success());
    let err = long.await.unwrap().unwrap_err();
    assert_eq!(err.kind(), ToolErrorKind::Upstream, "{err}");
    assert!(err.message().contains("closed the connection"), "{}", err.message());
    assert!(err.retry_after().is_some());

    // The next call starts a new process.
    let out = call(&exec, "everything.echo", json!({"message": "back"}))
        .await
        .unwrap();
    assert_eq!(out.to_model_text(), "Echo: back");
    let second_pid = client.pid().unwrap();
    assert_ne!(first_pid, second_pid);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeouts_and_cancellation_send_notifications_cancelled_and_keep_the_server() {
    let Some(config) = stdio_config("everything") else {
        return;
    };
    let client = McpClient::connect(config.with_call_timeout(Duration::from_millis(300)))
        .await
        .unwrap();
    let exec = Executor::new(ToolRegistry::new());
    client.attach(&exec).unwrap();
    let pid = client.pid();

    // Steps of 2 s: no answer and no progress within 300 ms.
    let err = call(
        &exec,
        "everything.trigger-long-running-operation",
        json!({"duration": 10, "steps": 5}),
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind(), ToolErrorKind::Timeout, "{err}");
    assert!(err.message().contains("notifications/cancelled"), "{}", err.message());

    // Cancellation by the caller.
    let ctx = CallContext::new("cancel-me");
    let flag = ctx.cancel.clone();
    let canceller = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(100)).await;
        flag.cancel();
    });
    let err = client
        .call(
            "trigger-long-running-operation",
            &json!({"duration": 10, "steps": 5}),
            &ctx,
        )
        .await
        .unwrap_err();
    canceller.await.unwrap();
    assert_eq!(err.kind(), ToolErrorKind::Cancelled, "{err}");

    // The server is alive and the same process answers.
    let out = call(&exec, "everything.echo", json!({"message": "still here"}))
        .await
        .unwrap();
    assert_eq!(out.to_model_text(), "Echo: still here");
    assert_eq!(client.pid(), pid);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn annotations_of_mcp_tools_are_untrusted_under_the_policy() {
    let Some(config) = stdio_config("everything") else {
        return;
    };
    let client = McpClient::connect(config).await.unwrap();
    let policy = Arc::new(PolicyStore::new());
    policy
        .load_str(
            Layer::Project,
            "policy.toml",
            "untrusted_annotations = ['everything.*']\n\
             [[rule]]\nid = 'mcp-tools'\neffect = 'allow'\ntools = ['everything.*']\n",
        )
        .unwrap();
    let exec = Executor::builder(ToolRegistry::new())
        .interceptor(Arc::new(PermissionInterceptor::new(
            policy,
            Arc::new(ApprovalStore::new()),
        )))
        .build()
        .unwrap();
    client.attach(&exec).unwrap();
    // get-sum claims readOnlyHint, but the policy does not trust the claim:
    // the allowed tool counts as destructive, so the call waits for a human.
    let err = call(&exec, "everything.get-sum", json!({"a": 1, "b": 2}))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ToolErrorKind::ApprovalRequired, "{err}");
    assert!(err.message().contains("mcp-tools"), "{}", err.message());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streamable_http_lists_and_calls() {
    let Some((node, js)) = support::everything() else {
        return;
    };
    let port = support::free_port();
    let mut child = tokio::process::Command::new(node)
        .arg(js)
        .arg("streamableHttp")
        .env("PORT", port.to_string())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let url = format!("http://127.0.0.1:{port}/mcp");
    let mut client = None;
    for _ in 0..100 {
        let server = HttpServer::new(&url).bearer("test-token").header("X-Trace", "t1");
        match McpClient::connect(ServerConfig::http("web", server)).await {
            Ok(c) => {
                client = Some(c);
                break;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    let client = client.expect("the HTTP server came up");
    let exec = Executor::new(ToolRegistry::new());
    client.attach(&exec).unwrap();
    let out = call(&exec, "web.echo", json!({"message": "over http"})).await.unwrap();
    assert_eq!(out.to_model_text(), "Echo: over http");
    let out = call(&exec, "web.get-structured-content", json!({"location": "New York"}))
        .await
        .unwrap();
    assert_eq!(out.content["conditions"], "Cloudy");
    let out = call(&exec, "web.get-sum", json!({"a": 40, "b": 2})).await.unwrap();
    assert!(out.to_model_text().contains("42"));
    client.close().await;
    child.kill().await.unwrap();
}
