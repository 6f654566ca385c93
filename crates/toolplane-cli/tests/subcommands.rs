#![allow(clippy::unwrap_used, clippy::panic)]
//! `toolplane openapi`, `route explain` and `audit verify`, run as processes
//! on real files.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use toolplane_security::audit::{AuditRecord, FileSink, FileSinkOptions};
use toolplane_security::redact::Redact;

fn toolplane(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_toolplane"))
        .args(args)
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn repo(path: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(path)
        .to_string_lossy()
        .into_owned()
}

#[test]
fn openapi_inspect_lists_operations_and_tool_names() {
    let out = toolplane(&["openapi", "inspect", &repo("examples/data/tasks-api.yaml")]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("6 operations"), "{stdout}");
    assert!(stdout.contains("DELETE /tasks/{taskId} -> deleteTask"), "{stdout}");
}

#[test]
fn openapi_convert_prints_the_providers_tools_field() {
    let spec = repo("examples/data/tasks-api.yaml");
    let out = toolplane(&[
        "openapi",
        "convert",
        &spec,
        "--profile",
        "anthropic",
        "--include-tag",
        "projects",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let tools: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let tools = tools.as_array().unwrap();
    assert_eq!(tools.len(), 1);
    assert_eq!(tools[0]["name"], "getProjectSummary");
    assert_eq!(tools[0]["input_schema"]["required"], serde_json::json!(["projectId"]));

    let out = toolplane(&[
        "openapi",
        "convert",
        &spec,
        "--profile",
        "openai-strict",
        "--exclude-method",
        "get",
    ]);
    let tools: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let names: Vec<&str> = tools
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["function"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["createTask", "deleteTask", "updateTask"]);
    assert!(
        tools
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["function"]["strict"] == true)
    );
}

#[test]
fn openapi_errors_name_the_problem_and_exit_non_zero() {
    let out = toolplane(&[
        "openapi",
        "convert",
        &repo("examples/data/tasks-api.yaml"),
        "--profile",
        "palm",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("unknown schema profile `palm`"),
        "{}",
        text(&out.stderr)
    );

    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.yaml");
    std::fs::write(
        &bad,
        "openapi: 3.1.0\ninfo: {title: x, version: '1'}\npaths:\n  /a: [not, a, path, item\n",
    )
    .unwrap();
    let out = toolplane(&["openapi", "inspect", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("bad.yaml"), "{}", text(&out.stderr));
}

#[test]
fn route_explain_shows_a_decision_from_a_file() {
    let config = repo("crates/toolplane-router/tests/data/router.toml");
    let out = toolplane(&["route", "explain", "--config", &config, "--task", "code"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("task: code"), "{stdout}");
    assert!(stdout.contains("chosen: "), "{stdout}");

    let out = toolplane(&["route", "explain", "--config", &config, "--task", "code", "--json"]);
    let decision: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(decision["task_type"], "code");

    // Without --task the classifier decides from the prompt, as for a real request.
    let out = toolplane(&[
        "route",
        "explain",
        "--config",
        &config,
        "--prompt",
        "Summarize this article in three bullet points",
        "--json",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let decision: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(decision["task_type"], "summarization");
    assert_eq!(decision["task_source"], "classifier");

    // A number that makes no sense is refused with the file, line and field.
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("router.toml");
    std::fs::write(&bad, "budget_usd = nan\n[[experts]]\nprovider = \"a\"\nmodel = \"m\"\n").unwrap();
    let out = toolplane(&["route", "explain", "--config", bad.to_str().unwrap(), "--task", "code"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("router.toml:1:1: budget_usd: must be a finite number >= 0, got NaN"),
        "{stderr}"
    );

    let out = toolplane(&[
        "route",
        "explain",
        "--config",
        "/nonexistent/router.toml",
        "--task",
        "code",
    ]);
    assert_eq!(out.status.code(), Some(1));
}

fn write_log(dir: &Path, n: usize) {
    let sink = FileSink::open(dir, FileSinkOptions::default()).unwrap();
    for i in 0..n {
        let mut r = AuditRecord::event("tool_call", format!("req-{i}"), "alice");
        r.tool = Some("echo".into());
        r.arguments = serde_json::json!({ "i": i });
        sink.append_blocking(r.redacted()).unwrap();
    }
    sink.close();
}

#[test]
fn audit_verify_says_ok_or_names_the_first_bad_record() {
    let dir = tempfile::tempdir().unwrap();
    write_log(dir.path(), 20);
    let out = toolplane(&["audit", "verify", dir.path().to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).starts_with("OK: 20 records"), "{}", text(&out.stdout));

    // Flip one byte in the middle of the segment.
    let segment = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "tpa"))
        .unwrap();
    let mut bytes = std::fs::read(&segment).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x20;
    std::fs::write(&segment, bytes).unwrap();
    let out = toolplane(&["audit", "verify", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stdout).contains("FAILED at seq"), "{}", text(&out.stdout));
}

/// A local OpenAI-compatible server that answers every chat request with the
/// recorded stream `file` (streamed) or a fixed tool-call completion.
fn serve_openai(sse: Vec<u8>) -> std::net::SocketAddr {
    use axum::routing::post;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let app = axum::Router::new().route(
                "/v1/chat/completions",
                post(move |body: axum::Json<serde_json::Value>| {
                    let sse = sse.clone();
                    async move {
                        use axum::response::IntoResponse;
                        if body.0["stream"] == true {
                            ([("content-type", "text/event-stream")], sse).into_response()
                        } else {
                            axum::Json(serde_json::json!({
                                "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "gpt-4o-mini",
                                "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
                                    "role": "assistant", "content": null,
                                    "tool_calls": [{"id": "call_1", "type": "function",
                                        "function": {"name": "listTasks", "arguments": "{\"status\":\"open\"}"}}]}}],
                                "usage": {"prompt_tokens": 50, "completion_tokens": 9, "total_tokens": 59}
                            }))
                            .into_response()
                        }
                    }
                }),
            );
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            axum::serve(listener, app).await.unwrap();
        });
    });
    rx.recv().unwrap()
}

fn chat(addr: std::net::SocketAddr, extra: &[&str]) -> Output {
    let base = format!("http://{addr}/v1");
    let mut args = vec![
        "chat",
        "--provider",
        "openai",
        "--model",
        "gpt-4o-mini",
        "--base-url",
        &base,
    ];
    args.extend_from_slice(extra);
    Command::new(env!("CARGO_BIN_EXE_toolplane"))
        .args(&args)
        .env("OPENAI_API_KEY", "sk-test-not-real")
        .output()
        .unwrap()
}

#[test]
fn chat_prints_the_normalized_response_with_tool_calls() {
    let addr = serve_openai(Vec::new());
    let spec = repo("examples/data/tasks-api.yaml");
    let out = chat(addr, &["--json", "--tool-spec", &spec, "What is open?"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["stop_reason"], "tool_use");
    assert_eq!(v["tool_calls"][0]["name"], "listTasks");
    assert_eq!(v["tool_calls"][0]["arguments"]["status"], "open");
    assert_eq!(v["usage"]["input_tokens"], 50);
}

#[test]
fn chat_streams_a_recorded_openai_stream() {
    let Some(fixtures) = toolplane_testkit::fixtures_dir() else {
        return;
    };
    let sse = std::fs::read(fixtures.join("providers/openai/chat-streams/tool-calls-parallel-two.sse")).unwrap();
    let addr = serve_openai(sse);
    let out = chat(addr, &["--stream", "--json", "Weather in two cities?"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["tool_calls"].as_array().unwrap().len(), 2, "{v}");
    assert_eq!(v["usage"]["input_tokens"], 149);
    assert_eq!(v["usage"]["output_tokens"], 60);
}
