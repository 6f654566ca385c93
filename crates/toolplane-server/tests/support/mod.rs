//! Shared by the server's integration tests: a gateway on 127.0.0.1 built
//! from TOML text, and a fake OpenAI-compatible upstream that tells the test
//! when a request arrived and when its handler was dropped.

// Test support: a failed set-up should stop the test loudly.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::panic)]

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};
use tokio::sync::{Notify, oneshot};
use toolplane_server::config::Origin;
use toolplane_server::keys::hash_key;
use toolplane_server::{BoundServer, Gateway, ServerConfig};

/// The key every test gateway accepts, for principal `alice` (member, approver, admin).
pub const KEY: &str = "tp-test-key-alice";
/// A key for `bob`, a member only.
pub const BOB: &str = "tp-test-key-bob";

/// The `[server]` keys section for [`KEY`] and [`BOB`].
pub fn keys_toml() -> String {
    format!(
        "[[server.keys]]\nsha256 = \"{}\"\nprincipal = \"alice\"\nroles = [\"member\", \"approver\", \"admin\"]\n\n\
         [[server.keys]]\nsha256 = \"{}\"\nprincipal = \"bob\"\nroles = [\"member\"]\n",
        hash_key(KEY),
        hash_key(BOB)
    )
}

/// A running gateway.
pub struct TestServer {
    pub url: String,
    pub gateway: Arc<Gateway>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<std::io::Result<bool>>>,
}

impl TestServer {
    /// Builds the gateway from `toml` (state under `dir`) and serves it.
    pub async fn start(toml: &str, dir: &Path) -> Self {
        let origin = Origin {
            file: "test.toml".into(),
            base_dir: dir.to_path_buf(),
        };
        let cfg = ServerConfig::from_toml_str(toml, origin).expect("config");
        let gateway = Gateway::build(&cfg, Some(toml)).await.expect("gateway");
        let server = BoundServer::bind("127.0.0.1:0".parse().unwrap(), gateway)
            .await
            .unwrap();
        let addr = server.local_addr().unwrap();
        let gateway = server.gateway().clone();
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(server.serve_until(async move {
            let _ = rx.await;
        }));
        Self {
            url: format!("http://{addr}"),
            gateway,
            stop: Some(tx),
            task: Some(task),
        }
    }

    /// Stops it (graceful) and waits.
    pub async fn stop(mut self) -> bool {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        match self.task.take() {
            Some(t) => t.await.unwrap().unwrap(),
            None => true,
        }
    }
}

/// An HTTP client.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder().build().unwrap()
}

/// An answer read whole: its status, and its body as JSON (`Value::Null`
/// when the body is empty or not JSON).
pub async fn read(r: reqwest::Response) -> (u16, Value) {
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// `GET {url}{path}` with `key` as the bearer key (`None`: no key): the
/// status and the JSON body.
pub async fn get_as<'k>(url: &str, path: &str, key: impl Into<Option<&'k str>>) -> (u16, Value) {
    let mut req = client().get(format!("{url}{path}"));
    if let Some(k) = key.into() {
        req = req.bearer_auth(k);
    }
    read(req.send().await.unwrap()).await
}

/// `POST {url}{path}` with `key` as the bearer key (`None`: no key) and
/// `body` as JSON: the status and the JSON body.
pub async fn post_json_as<'k>(url: &str, path: &str, key: impl Into<Option<&'k str>>, body: &Value) -> (u16, Value) {
    let mut req = client().post(format!("{url}{path}")).json(body);
    if let Some(k) = key.into() {
        req = req.bearer_auth(k);
    }
    read(req.send().await.unwrap()).await
}

/// `DELETE {url}{path}` with `key` as the bearer key: the status and the JSON body.
pub async fn delete_as(url: &str, path: &str, key: &str) -> (u16, Value) {
    read(
        client()
            .delete(format!("{url}{path}"))
            .bearer_auth(key)
            .send()
            .await
            .unwrap(),
    )
    .await
}

/// The OpenAI-shaped error in `body` (`{"error": {"message", "type",
/// "param", "code"}}`): its `error` object. Panics, showing the body,
/// when the body is not one.
pub fn error_of(body: &Value) -> &Value {
    let e = &body["error"];
    assert!(
        e["message"].is_string() && e["type"].is_string(),
        "not an OpenAI-shaped error: {body}"
    );
    e
}

/// Scripted experts only, with `extra` appended.
pub fn scripted_config(extra: &str) -> String {
    format!(
        "[server]\nbind = \"127.0.0.1:0\"\n{keys}\n\
         [[experts]]\nid = \"fast\"\nprovider = \"scripted\"\nmodel = \"fast\"\nprice = {{ input = 1.0, output = 2.0 }}\n\n\
         [[experts]]\nid = \"careful\"\nprovider = \"scripted\"\nmodel = \"careful\"\n\n\
         [tools]\nbuiltins = [\"current_time\"]\ndemo_tasks = true\n\n{extra}",
        keys = keys_toml()
    )
}

/// What the fake upstream saw.
#[derive(Default)]
pub struct UpstreamLog {
    /// Requests received.
    pub received: AtomicUsize,
    /// Handlers or streams dropped before they finished.
    pub dropped: AtomicUsize,
    /// Requests answered completely.
    pub completed: AtomicUsize,
    /// Wakes when a request arrives.
    pub arrived: Notify,
    /// Wakes when a handler or stream is dropped early.
    pub gone: Notify,
    /// How long the non-streamed answer takes.
    pub delay_ms: AtomicUsize,
}

struct DropGuard(Arc<UpstreamLog>, bool);

impl Drop for DropGuard {
    fn drop(&mut self) {
        if !self.1 {
            self.0.dropped.fetch_add(1, Ordering::SeqCst);
            self.0.gone.notify_waiters();
            self.0.gone.notify_one();
        }
    }
}

async fn upstream_chat(State(log): State<Arc<UpstreamLog>>, body: axum::Json<Value>) -> Response {
    log.received.fetch_add(1, Ordering::SeqCst);
    log.arrived.notify_waiters();
    log.arrived.notify_one();
    let mut guard = DropGuard(log.clone(), false);
    let model = body["model"].as_str().unwrap_or("m").to_owned();
    if body["stream"] == json!(true) {
        // An endless stream, one chunk every 50 ms, until the reader goes away.
        let stream = futures_util::stream::unfold((0u64, guard), move |(n, g)| {
            let model = model.clone();
            async move {
                if n > 0 {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                let chunk = json!({"id": "up-1", "object": "chat.completion.chunk", "created": 1, "model": model,
                    "choices": [{"index": 0, "delta": {"content": format!("tick{n} ")}, "finish_reason": null}]});
                let bytes = format!("data: {chunk}\n\n");
                Some((Ok::<_, std::io::Error>(bytes), (n + 1, g)))
            }
        });
        return Response::builder()
            .header("content-type", "text/event-stream")
            .body(Body::from_stream(stream))
            .unwrap();
    }
    let delay = log.delay_ms.load(Ordering::SeqCst) as u64;
    tokio::time::sleep(Duration::from_millis(delay)).await;
    guard.1 = true;
    log.completed.fetch_add(1, Ordering::SeqCst);
    axum::Json(json!({
        "id": "up-1", "object": "chat.completion", "created": 1, "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "from upstream"}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 3, "total_tokens": 4}
    }))
    .into_response()
}

/// Starts the fake upstream; returns its base URL (`.../v1`) and log.
pub async fn fake_upstream() -> (String, Arc<UpstreamLog>) {
    let log = Arc::new(UpstreamLog::default());
    let app = Router::new()
        .route("/v1/chat/completions", post(upstream_chat))
        .with_state(log.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}/v1"), log)
}

/// Waits until `cond` holds, at most `secs` seconds (for effects of other tasks).
pub async fn eventually(secs: u64, mut cond: impl FnMut() -> bool) -> bool {
    let end = tokio::time::Instant::now() + Duration::from_secs(secs);
    while tokio::time::Instant::now() < end {
        if cond() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    cond()
}

/// Reads an SSE body into `(event name, data)` pairs.
pub fn sse_events(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for block in text.split("\n\n") {
        let mut name = String::from("message");
        let mut data = String::new();
        for line in block.lines() {
            if let Some(v) = line.strip_prefix("event:") {
                name = v.trim().to_owned();
            } else if let Some(v) = line.strip_prefix("data:") {
                data.push_str(v.trim_start());
            }
        }
        if !data.is_empty() {
            out.push((name, data));
        }
    }
    out
}
