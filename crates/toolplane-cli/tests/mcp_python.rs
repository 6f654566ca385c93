#![allow(clippy::unwrap_used, clippy::panic)]
//! `toolplane mcp serve` against a client nobody here wrote: the official
//! Python MCP SDK (`mcp` on PyPI, pinned by scripts/ci/mcp.sh), over stdio and
//! Streamable HTTP, with the calls hitting a fake API on 127.0.0.1.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use axum::Json;
use axum::extract::Path as UrlPath;
use axum::http::StatusCode;
use axum::routing::get;
use serde_json::{Value, json};

fn python() -> Option<PathBuf> {
    let cache = std::env::var_os("TOOLPLANE_MCP_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| toolplane_testkit::workspace_root().join(".cache/mcp"));
    let py = cache.join("venv/bin/python");
    if py.is_file() {
        Some(py)
    } else {
        toolplane_testkit::missing(
            "the Python MCP SDK",
            &format!("no {}; run scripts/ci/mcp.sh", py.display()),
        )
    }
}

fn script() -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/mcp/py_client.py")
        .display()
        .to_string()
}

const SPEC: &str = r#"
openapi: 3.0.3
info: {title: Pets, version: "1"}
servers: [{url: "http://127.0.0.1:9/unused"}]
paths:
  /pets/{petId}:
    parameters:
      - {name: petId, in: path, required: true, schema: {type: integer}}
    get:
      operationId: getPet
      summary: Get a pet by id.
      responses: {"200": {description: ok}}
    delete:
      operationId: deletePet
      summary: Delete a pet.
      responses: {"204": {description: deleted}}
"#;

const POLICY: &str = r#"
[[rule]]
id = "read-pets"
effect = "allow"
tools = ["getPet"]

[[rule]]
id = "deleting-needs-a-human"
effect = "ask"
tools = ["deletePet"]
"#;

/// The fake API on a background thread; returns its base URL.
fn fake_api() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let app = axum::Router::new().route(
                "/pets/{id}",
                get(|UrlPath(id): UrlPath<u64>| async move {
                    if id == 1 {
                        (StatusCode::OK, Json(json!({"id": 1, "name": "Rex"})))
                    } else {
                        (StatusCode::NOT_FOUND, Json(json!({"message": format!("no pet {id}")})))
                    }
                })
                .delete(|| async { StatusCode::NO_CONTENT }),
            );
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            axum::serve(listener, app).await.unwrap();
        });
    });
    format!("http://{addr}")
}

fn files(dir: &Path) -> (String, String) {
    let spec = dir.join("pets.yaml");
    std::fs::write(&spec, SPEC).unwrap();
    let policy = dir.join("policy.toml");
    std::fs::write(&policy, POLICY).unwrap();
    (spec.display().to_string(), policy.display().to_string())
}

fn run_python(py: &Path, args: &[&str]) -> Value {
    let out = Command::new(py).arg(script()).args(args).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "python client failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(stdout.lines().last().unwrap_or_default()).unwrap()
}

fn plan(elicit: Option<&str>) -> String {
    let mut p = json!({"calls": [
        {"tool": "getPet", "arguments": {"petId": 1}},
        {"tool": "getPet", "arguments": {"petId": 2}},
        {"tool": "deletePet", "arguments": {"petId": 1}},
        {"tool": "getPet", "arguments": {"petId": "one"}},
        {"tool": "noSuchTool", "arguments": {}}
    ]});
    if let Some(e) = elicit {
        p["elicit"] = json!(e);
    }
    p.to_string()
}

fn check_common(out: &Value) {
    assert_eq!(out["tools"], 2, "{out}");
    let r = &out["results"];
    assert_eq!(r[0]["is_error"], false, "{out}");
    assert!(r[0]["text"].as_str().unwrap().contains("Rex"), "{out}");
    // The API's 404 reaches the client as an isError result it can read.
    assert_eq!(r[1]["is_error"], true, "{out}");
    assert!(r[1]["text"].as_str().unwrap().contains("no pet 2"), "{out}");
    // Arguments that fail the schema: a tool error naming the field.
    assert_eq!(r[3]["is_error"], true, "{out}");
    assert!(r[3]["text"].as_str().unwrap().contains("/petId"), "{out}");
    // An unknown tool: a JSON-RPC error.
    assert!(r[4]["rpc_error"].as_str().unwrap().contains("noSuchTool"), "{out}");
}

#[test]
fn python_sdk_over_stdio_calls_the_api_and_an_ask_rule_becomes_an_elicitation() {
    let Some(py) = python() else { return };
    let dir = tempfile::tempdir().unwrap();
    let (spec, policy) = files(dir.path());
    let base = fake_api();
    let bin = env!("CARGO_BIN_EXE_toolplane");
    let serve = [bin, "mcp", "serve", &spec, "--base-url", &base, "--policy", &policy];

    let mut args = vec!["stdio", "PLAN", "--"];
    args.extend(serve);
    let accept = plan(Some("accept"));
    args[1] = &accept;
    let out = run_python(&py, &args);
    assert_eq!(out["server"], "pets");
    check_common(&out);
    assert_eq!(out["results"][2]["is_error"], false, "approved and run: {out}");
    assert_eq!(out["elicitations"].as_array().unwrap().len(), 1, "{out}");
    let message = out["elicitations"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("deletePet") && message.contains("deleting-needs-a-human"),
        "{message}"
    );

    // A client without elicitation: a clear error naming the rule.
    let none = plan(None);
    args[1] = &none;
    let out = run_python(&py, &args);
    check_common(&out);
    let text = out["results"][2]["text"].as_str().unwrap();
    assert_eq!(out["results"][2]["is_error"], true, "{out}");
    assert!(
        text.contains("deleting-needs-a-human") && text.contains("elicitation"),
        "{text}"
    );
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_for(port: u16) {
    for _ in 0..200 {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("nothing listens on {port}");
}

fn raw_post(port: u16, headers: &str, body: &str) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out
}

#[test]
fn python_sdk_over_streamable_http_with_a_bearer_key() {
    let Some(py) = python() else { return };
    let dir = tempfile::tempdir().unwrap();
    let (spec, policy) = files(dir.path());
    let base = fake_api();
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let _server = Server(
        Command::new(env!("CARGO_BIN_EXE_toolplane"))
            .args([
                "mcp",
                "serve",
                &spec,
                "--base-url",
                &base,
                "--policy",
                &policy,
                "--http",
                &addr,
            ])
            .args(["--key-env", "TEST_MCP_KEY"])
            .env("TEST_MCP_KEY", "k-secret")
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_for(port);

    // Without the key: 401 with a bearer challenge, before MCP.
    let init = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}"#;
    let refused = raw_post(port, "", init);
    assert!(refused.starts_with("HTTP/1.1 401"), "{refused}");
    assert!(
        refused.to_ascii_lowercase().contains("www-authenticate: bearer"),
        "{refused}"
    );
    let wrong = raw_post(port, "Authorization: Bearer nope\r\n", init);
    assert!(wrong.starts_with("HTTP/1.1 401"), "{wrong}");

    let url = format!("http://{addr}/mcp");
    let decline = plan(Some("decline"));
    let out = run_python(&py, &["http", &decline, &url, "k-secret"]);
    check_common(&out);
    // The human declined at the client: the call is refused, and says so.
    assert_eq!(out["results"][2]["is_error"], true, "{out}");
    assert!(
        out["results"][2]["text"].as_str().unwrap().contains("not approved"),
        "{out}"
    );
    assert_eq!(out["elicitations"].as_array().unwrap().len(), 1);
}

#[test]
fn python_sdk_lists_all_1223_github_tools() {
    let Some(py) = python() else { return };
    let Some(dir) = toolplane_testkit::corpus_dir("octokit-openapi-23.0.2") else {
        return;
    };
    let spec = dir.join("generated/api.github.com.json").display().to_string();
    let bin = env!("CARGO_BIN_EXE_toolplane");
    let out = run_python(&py, &["stdio", r#"{"calls": []}"#, "--", bin, "mcp", "serve", &spec]);
    assert_eq!(out["tools"], 1223, "every operation is served");
    let names = out["tool_names"].as_array().unwrap();
    assert!(
        names.iter().any(|n| n == "repos/get" || n == "repos_get"),
        "{:?}",
        &names[..5]
    );
}
