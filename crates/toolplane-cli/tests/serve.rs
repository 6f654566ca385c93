//! `toolplane serve` as a process: real client SDKs nobody here wrote
//! (the official `openai` and `anthropic` Python SDKs, the `openai` npm
//! package), SIGTERM during a stream, a restart with a paused run, a restart
//! keeping the integrations changed over HTTP, and two processes on one Redis
//! sharing the router's verdicts.
//!
//! The SDKs are installed by `scripts/ci/server.sh`; outside CI a missing one
//! is a printed skip, under `CI=true` a failure.

#![allow(clippy::unwrap_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::process::Command;

mod support;
use support::{ServeProcess, cache_dir, hash_key, start_serve};

const KEY: &str = "tp-process-test-alice";
const BROKE: &str = "tp-process-test-broke";

/// A configuration in `dir`: two scripted experts, the demo tools, a
/// principal `broke` whose token budget is 1.
fn write_config(dir: &Path) -> PathBuf {
    let text = format!(
        r#"[server]
bind = "127.0.0.1:0"
shutdown_grace_secs = 20

[[server.keys]]
sha256 = "{alice}"
principal = "alice"
roles = ["member", "approver", "admin"]

[[server.keys]]
sha256 = "{broke}"
principal = "broke"
roles = ["member"]

[[experts]]
id = "fast"
provider = "scripted"
model = "scripted-fast"

[[experts]]
id = "careful"
provider = "scripted"
model = "scripted-careful"

[tools]
builtins = ["current_time"]
demo_tasks = true

[[security.budgets]]
scope = "principal"
only = "broke"
period = "day"
tokens = 1
"#,
        alice = hash_key(KEY),
        broke = hash_key(BROKE)
    );
    let path = dir.join("toolplane.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// `toolplane serve --config CONFIG`.
fn serve_config(config: &Path) -> ServeProcess {
    start_serve(&["--config", config.to_str().unwrap()], &[])
}

fn clients_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../toolplane-server/tests/clients")
}

async fn run_client(program: &Path, script: &str, url: &str, extra_env: &[(&str, &Path)]) {
    let mut cmd = Command::new(program);
    cmd.arg(clients_dir().join(script))
        .env("TOOLPLANE_URL", url)
        .env("TOOLPLANE_KEY", KEY)
        .env("TOOLPLANE_BROKE_KEY", BROKE);
    for (k, v) in extra_env {
        cmd.env(k, v);
    }
    let out = tokio::time::timeout(Duration::from_secs(120), cmd.output())
        .await
        .unwrap()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{script} failed:\n{stdout}\n{stderr}");
    eprintln!("{}", stdout.trim());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn official_sdks_talk_to_toolplane_serve() {
    let python = cache_dir().join("server-venv/bin/python");
    let Some(python) = python
        .exists()
        .then_some(python)
        .or_else(|| toolplane_testkit::missing("the openai/anthropic Python SDKs", "run scripts/ci/server.sh"))
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let serve = serve_config(&write_config(dir.path()));
    run_client(&python, "openai_sdk.py", &serve.url, &[]).await;
    run_client(&python, "anthropic_sdk.py", &serve.url, &[]).await;
    let npm = cache_dir().join("server-npm");
    if npm.join("node_modules/openai/package.json").exists() {
        run_client(Path::new("node"), "openai_sdk.mjs", &serve.url, &[("NODE_PATH", &npm)]).await;
    } else {
        let _: Option<()> = toolplane_testkit::missing("the openai npm package", "run scripts/ci/server.sh");
    }
    serve.sigterm();
    assert!(serve.wait().success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_a_stream_finish_then_exits_zero() {
    let dir = tempfile::tempdir().unwrap();
    let serve = serve_config(&write_config(dir.path()));
    let client = reqwest::Client::new();
    // The careful expert streams one word every 25 ms (about 20 words).
    let mut r = client
        .post(format!("{}/v1/chat/completions", serve.url))
        .bearer_auth(KEY)
        .json(&json!({"model": "careful", "stream": true,
            "messages": [{"role": "user", "content": "one two three four five six seven eight nine ten"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let mut body = String::from_utf8(r.chunk().await.unwrap().unwrap().to_vec()).unwrap();
    serve.sigterm();
    while let Some(chunk) = r.chunk().await.unwrap() {
        body.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(body.trim_end().ends_with("data: [DONE]"), "the stream was cut: {body}");
    assert!(body.contains("ten"), "{body}");
    let url = serve.url.clone();
    let status = serve.wait();
    assert!(status.success(), "{status}");
    // The process is gone: its port no longer answers.
    assert!(client.get(format!("{url}/healthz")).send().await.is_err());
    // The audit log was flushed and verifies.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_toolplane"))
        .args(["audit", "verify"])
        .arg(dir.path().join(".toolplane/audit"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
}

async fn run_events(client: &reqwest::Client, url: &str, id: &str) -> Vec<Value> {
    let text = client
        .get(format!("{url}/v1/runs/{id}/events"))
        .bearer_auth(KEY)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.split("\n\n")
        .filter_map(|block| block.lines().find_map(|l| l.strip_prefix("data: ")))
        .map(|d| serde_json::from_str(d).unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_run_survives_a_restart_of_the_process() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path());
    let client = reqwest::Client::new();
    let serve = serve_config(&config);
    let b: Value = client
        .post(format!("{}/v1/runs", serve.url))
        .bearer_auth(KEY)
        .json(&json!({"model": "fast", "input": "Delete task 1"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = b["id"].as_str().unwrap().to_owned();
    let events = run_events(&client, &serve.url, &id).await;
    assert_eq!(events.last().unwrap()["type"], "paused", "{events:?}");
    serve.sigterm();
    assert!(serve.wait().success());

    let serve = serve_config(&config);
    let run: Value = client
        .get(format!("{}/v1/runs/{id}", serve.url))
        .bearer_auth(KEY)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(run["status"], "paused", "{run}");
    let call_id = run["pending_approvals"][0]["call"]["id"].as_str().unwrap();
    let r = client
        .post(format!("{}/v1/runs/{id}/approvals", serve.url))
        .bearer_auth(KEY)
        .json(&json!({"decisions": [{"call_id": call_id, "decision": "approve"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    let events = run_events(&client, &serve.url, &id).await;
    let done = events.last().unwrap();
    assert_eq!(done["type"], "done", "{events:?}");
    assert_eq!(done["status"], "answered", "{done}");
    serve.sigterm();
    assert!(serve.wait().success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn integration_changes_survive_a_restart_of_the_process_and_a_corrupt_state_file_stops_it() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path());
    let client = reqwest::Client::new();
    let serve = serve_config(&config);
    let description = json!({
        "openapi": "3.1.0", "info": {"title": "Kept", "version": "1"},
        "servers": [{"url": "http://127.0.0.1:9"}],
        "paths": {"/things": {"get": {"operationId": "listThings", "responses": {"200": {"description": "ok"}}}}}
    });
    let r = client
        .post(format!("{}/v1/integrations/openapi", serve.url))
        .bearer_auth(KEY)
        .json(&json!({"spec": description, "namespace": "kept"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let r = client
        .post(format!("{}/v1/integrations/tools/current_time", serve.url))
        .bearer_auth(KEY)
        .json(&json!({"enabled": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    serve.sigterm();
    assert!(serve.wait().success());

    let serve = serve_config(&config);
    let tools: Value = client
        .get(format!("{}/v1/tools", serve.url))
        .bearer_auth(KEY)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let names: Vec<&str> = tools["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"kept.listThings"), "{names:?}");
    assert!(!names.contains(&"current_time"), "{names:?}");
    serve.sigterm();
    assert!(serve.wait().success());

    // A corrupt state file: the process refuses to start and says which file and why.
    let state = dir.path().join(".toolplane/integrations.json");
    std::fs::write(&state, "{\"version\": 1, \"openapi\": [{").unwrap();
    let out = tokio::time::timeout(
        Duration::from_secs(60),
        Command::new(env!("CARGO_BIN_EXE_toolplane"))
            .args(["serve", "--config"])
            .arg(&config)
            .args(["--bind", "127.0.0.1:0"])
            .kill_on_drop(true)
            .output(),
    )
    .await
    .unwrap()
    .unwrap();
    assert!(!out.status.success());
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        said.contains("integrations.json") && said.contains("not an integrations state file"),
        "{said}"
    );
}

#[test]
fn check_validates_the_example_and_names_file_line_and_field() {
    let example = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/serve/toolplane.toml");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_toolplane"))
        .args(["serve", "--check", "--config"])
        .arg(&example)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.starts_with("OK: 2 expert(s) (fast, careful)"), "{stdout}");

    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(&example)
        .unwrap()
        .replace(
            "model = \"scripted-careful\"",
            "model = \"scripted-careful\"\nbase_url = \"nope\"",
        )
        .replace(
            "../data/tasks-api.yaml",
            &example
                .parent()
                .unwrap()
                .join("../data/tasks-api.yaml")
                .display()
                .to_string(),
        )
        .replace(
            "\"policy.toml\"",
            &format!("{:?}", example.parent().unwrap().join("policy.toml")),
        );
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, &text).unwrap();
    let line = text.lines().position(|l| l.starts_with("base_url = \"nope\"")).unwrap() + 1;
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_toolplane"))
        .args(["serve", "--check", "--config"])
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "bad.toml:{line}: experts[1].base_url: `nope` is not an http(s) URL"
        )),
        "{stderr}"
    );
}

#[test]
fn hash_key_prints_the_sha256() {
    // sha256("abc"), FIPS 180-2 appendix B.1.
    assert_eq!(
        hash_key("abc"),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
}

/// A one-answer OpenAI-compatible upstream; returns its `/v1` URL and the
/// authorization headers it saw.
async fn fake_openai() -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use axum::routing::post;
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    let app = axum::Router::new().route(
        "/v1/chat/completions",
        post(move |headers: axum::http::HeaderMap, body: axum::Json<Value>| {
            let log = log.clone();
            async move {
                let auth = headers
                    .get("authorization")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_owned();
                log.lock().unwrap().push(auth);
                axum::Json(json!({
                    "id": "up-1", "object": "chat.completion", "created": 1, "model": body["model"],
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": "from the upstream"},
                        "finish_reason": "stop"}],
                    "usage": {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7}
                }))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}/v1"), seen)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vendor_keys_in_the_environment_replace_the_scripted_experts() {
    let (base, seen) = fake_openai().await;
    let dir = tempfile::tempdir().unwrap();
    let serve = start_serve(
        &["--state-dir", dir.path().to_str().unwrap()],
        &[
            ("OPENAI_API_KEY", Some("sk-test-from-env")),
            ("OPENAI_BASE_URL", Some(&base)),
            // Blank counts as unset.
            ("ANTHROPIC_API_KEY", Some("  ")),
            ("MISTRAL_API_KEY", None),
            ("CO_API_KEY", None),
            ("GROQ_API_KEY", None),
        ],
    );
    let (url, key, experts) = (&serve.url, serve.key.clone().unwrap(), &serve.experts);
    assert_eq!(experts, "openai/gpt-4o-mini");
    let r = reqwest::Client::new()
        .post(format!("{url}/v1/chat/completions"))
        .bearer_auth(&key)
        .json(&json!({"model": "auto", "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-toolplane-expert"], "openai/gpt-4o-mini");
    let b: Value = r.json().await.unwrap();
    assert_eq!(b["choices"][0]["message"]["content"], "from the upstream");
    assert_eq!(seen.lock().unwrap().as_slice(), ["Bearer sk-test-from-env"]);
    serve.sigterm();
    assert!(serve.wait().success());
}

/// The expert that answers `model: task:default` on `url` (with `request_id`).
async fn routed_to(url: &str, request_id: &str) -> String {
    let r = reqwest::Client::new()
        .post(format!("{url}/v1/chat/completions"))
        .bearer_auth(KEY)
        .header("x-request-id", request_id)
        .json(&json!({"model": "task:default", "messages": [{"role": "user", "content": "hello"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.headers()["x-toolplane-expert"].to_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_on_one_redis_share_the_routers_verdicts() {
    let Some(redis) = toolplane_testkit::redis_url() else {
        return;
    };
    // Models of their own, so verdicts earlier runs left in Redis do not count.
    let tag = format!(
        "{:x}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
            ^ u128::from(std::process::id())
    );
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        r#"[server]
bind = "127.0.0.1:0"
stats_refresh_ms = 20

[[server.keys]]
sha256 = "{alice}"
principal = "alice"
roles = ["member", "approver", "admin"]

[[experts]]
id = "one"
provider = "scripted"
model = "one-{tag}"

[[experts]]
id = "two"
provider = "scripted"
model = "two-{tag}"

[router.default]
strategy = {{ kind = "weighted", weights = {{ latency = 0.0, success = 0.0, cost = 0.0, win_rate = 1.0 }} }}

[security]
redis_url = "{redis}"
"#,
        alice = hash_key(KEY),
    );
    let (a_dir, b_dir) = (dir.path().join("a"), dir.path().join("b"));
    for d in [&a_dir, &b_dir] {
        std::fs::create_dir_all(d).unwrap();
        std::fs::write(d.join("toolplane.toml"), &text).unwrap();
    }
    let a = serve_config(&a_dir.join("toolplane.toml"));
    let b = serve_config(&b_dir.join("toolplane.toml"));

    let first = routed_to(&b.url, &format!("b-{tag}-0")).await;
    let rid = format!("a-{tag}-1");
    assert_eq!(
        routed_to(&a.url, &rid).await,
        first,
        "no verdicts yet: the same tie-break"
    );
    let other = if first == "one" { "two" } else { "one" };
    for verdict in ["loss", "loss"] {
        let r = reqwest::Client::new()
            .post(format!("{}/v1/feedback", a.url))
            .bearer_auth(KEY)
            .json(&json!({"request_id": rid, "verdict": verdict}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    }
    assert_eq!(routed_to(&a.url, &format!("a-{tag}-2")).await, other);
    // The other process learns it through Redis within a few refreshes.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let mut n = 0;
    let mut seen = first.clone();
    while tokio::time::Instant::now() < deadline {
        n += 1;
        seen = routed_to(&b.url, &format!("b-{tag}-poll-{n}")).await;
        if seen == other {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(seen, other, "process B never learned process A's verdicts");
    a.sigterm();
    b.sigterm();
    assert!(a.wait().success());
    assert!(b.wait().success());
}
