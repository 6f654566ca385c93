#![allow(clippy::unwrap_used, clippy::panic)]
//! `toolplane mcp serve` against a client nobody here wrote: the official
//! Python MCP SDK (`mcp` on PyPI, pinned by scripts/ci/mcp.sh), over stdio and
//! Streamable HTTP, with the calls hitting a fake API on 127.0.0.1.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

#[path = "mcp/pets.rs"]
mod pets;
mod support;
use pets::{Server, fake_api, files, free_port, hash_key, start_gateway, wait_for};

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

fn audit_records(port: u16, key: &str) -> Vec<Value> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "GET /v1/audit?limit=200 HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {key}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    let body = out.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or_default();
    let v: Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {out}"));
    v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["record"].clone())
        .collect()
}

/// `toolplane serve` mounts MCP at `/mcp` behind the gateway's keys: the
/// official Python SDK lists and calls the gateway's tools with a key, and
/// the calls meet the gateway's validation, policy, approvals, rate limits
/// and audit under the key's principal.
#[test]
fn python_sdk_uses_the_gateway_tools_at_mcp_with_a_key() {
    let Some(py) = python() else { return };
    let dir = tempfile::tempdir().unwrap();
    let (alice, bob, eve) = ("tp-mcp-alice", "tp-mcp-bob", "tp-mcp-eve");
    let config = format!(
        r#"[server]
bind = "127.0.0.1:0"
shutdown_grace_secs = 2

[[server.keys]]
sha256 = "{}"
principal = "alice"
roles = ["member", "approver", "admin"]

[[server.keys]]
sha256 = "{}"
principal = "bob"
roles = ["member"]

[[server.keys]]
sha256 = "{}"
principal = "eve"
roles = ["auditor"]

[[experts]]
id = "fast"
provider = "scripted"
model = "scripted-fast"

[tools]
builtins = ["current_time"]
demo_tasks = true

[security]
tool_calls_per_minute = 2
"#,
        hash_key(alice),
        hash_key(bob),
        hash_key(eve)
    );
    let path = dir.path().join("toolplane.toml");
    std::fs::write(&path, config).unwrap();
    let (_server, url) = start_gateway(&path);
    let port: u16 = url.rsplit(':').next().unwrap().parse().unwrap();
    let mcp = format!("{url}/mcp");

    // Without a key, or with a wrong one: 401 with a bearer challenge.
    let init = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}"#;
    let refused = raw_post(port, "", init);
    assert!(refused.starts_with("HTTP/1.1 401"), "{refused}");
    assert!(
        refused.to_ascii_lowercase().contains("www-authenticate: bearer"),
        "{refused}"
    );
    let wrong = raw_post(port, "Authorization: Bearer tp-not-a-key\r\n", init);
    assert!(wrong.starts_with("HTTP/1.1 401"), "{wrong}");
    // Without a key the Python SDK cannot even initialize.
    let out = Command::new(&py)
        .arg(script())
        .args(["http", r#"{"calls": []}"#, &mcp])
        .output()
        .unwrap();
    assert!(!out.status.success(), "initialized without a key");
    assert!(out.stdout.is_empty(), "{}", String::from_utf8_lossy(&out.stdout));

    // alice (member, approver): calls, a validation error, an approval by elicitation.
    let plan = json!({"elicit": "accept", "calls": [
        {"tool": "current_time", "arguments": {}},
        {"tool": "createTask", "arguments": {"title": "Filed over MCP", "project": "docs"}},
        {"tool": "createTask", "arguments": {"title": 5, "project": "docs"}},
        {"tool": "deleteTask", "arguments": {"taskId": 1}},
        {"tool": "noSuchTool", "arguments": {}}
    ]});
    let out = run_python(&py, &["http", &plan.to_string(), &mcp, alice]);
    assert_eq!(out["server"], "toolplane", "{out}");
    let names: Vec<&str> = out["tool_names"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for tool in ["current_time", "listTasks", "createTask", "deleteTask"] {
        assert!(names.contains(&tool), "{tool} not in {names:?}");
    }
    let r = &out["results"];
    assert_eq!(r[0]["is_error"], false, "{out}");
    assert_eq!(r[1]["is_error"], false, "{out}");
    assert!(r[1]["text"].as_str().unwrap().contains("Filed over MCP"), "{out}");
    assert_eq!(r[2]["is_error"], true, "{out}");
    assert!(r[2]["text"].as_str().unwrap().contains("/title"), "{out}");
    assert_eq!(r[3]["is_error"], false, "approved at the client, then run: {out}");
    assert!(r[4]["rpc_error"].as_str().unwrap().contains("noSuchTool"), "{out}");
    let asked = out["elicitations"].as_array().unwrap();
    assert_eq!(asked.len(), 1, "{out}");
    assert!(
        asked[0]["message"].as_str().unwrap().contains("deletes-need-a-human"),
        "{out}"
    );

    // bob (member, not an approver): no elicitation, an error naming the rule
    // and the missing role; the third listTasks of the minute is rate-limited.
    let plan = json!({"elicit": "accept", "calls": [
        {"tool": "deleteTask", "arguments": {"taskId": 2}},
        {"tool": "listTasks", "arguments": {}},
        {"tool": "listTasks", "arguments": {}},
        {"tool": "listTasks", "arguments": {}}
    ]});
    let out = run_python(&py, &["http", &plan.to_string(), &mcp, bob]);
    let r = &out["results"];
    assert_eq!(out["elicitations"].as_array().unwrap().len(), 0, "{out}");
    assert_eq!(r[0]["is_error"], true, "{out}");
    let text = r[0]["text"].as_str().unwrap();
    assert!(
        text.contains("deletes-need-a-human") && text.contains("approver"),
        "{text}"
    );
    assert_eq!(r[1]["is_error"], false, "{out}");
    assert_eq!(r[2]["is_error"], false, "{out}");
    assert_eq!(r[3]["is_error"], true, "{out}");
    assert!(r[3]["text"].as_str().unwrap().contains("rate"), "{out}");

    // eve (auditor only): the demo policy allows her nothing.
    let plan = json!({"calls": [{"tool": "listTasks", "arguments": {}}]});
    let out = run_python(&py, &["http", &plan.to_string(), &mcp, eve]);
    assert_eq!(out["results"][0]["is_error"], true, "{out}");

    // Every call is in the gateway's audit log under its caller.
    let records = audit_records(port, alice);
    let has = |principal: &str, tool: &str, decision: &str| {
        records
            .iter()
            .any(|r| r["principal"] == principal && r["tool"] == tool && r["decision"] == decision)
    };
    assert!(has("alice", "createTask", "allow"), "{records:?}");
    assert!(has("alice", "deleteTask", "approved"), "{records:?}");
    assert!(has("bob", "deleteTask", "ask"), "{records:?}");
    assert!(has("eve", "listTasks", "deny"), "{records:?}");
}
