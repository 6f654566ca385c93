//! The gateway benchmark's two helpers (`scripts/bench/gateway.sh`), not a test:
//!
//! - `bench_upstream serve [ADDR]`: a fake OpenAI-compatible upstream on
//!   127.0.0.1 that answers `POST /v1/chat/completions` at once, with one
//!   fixed chat completion or, for `"stream": true`, one fixed short stream.
//!   It prints `listening on http://ADDR` when ready.
//! - `bench_upstream ttfb URL KEY MODEL RATE SECONDS`: sends streamed chat
//!   requests at RATE per second for SECONDS and prints one JSON line with
//!   the time to the first byte of the body (p50, p99, max, in ms).
//!
//! Build with `cargo build --release -p toolplane-server --example bench_upstream`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::serve::ListenerExt;
use serde_json::{Value, json};

/// The one non-streamed answer.
fn completion() -> Bytes {
    let body = json!({
        "id": "chatcmpl-bench",
        "object": "chat.completion",
        "created": 1_700_000_000u64,
        "model": "bench-model",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello from the bench upstream."},
            "logprobs": null, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 12, "completion_tokens": 6, "total_tokens": 18}
    });
    Bytes::from(body.to_string())
}

/// The one stream: a role chunk, two text chunks, the finish chunk, usage, `[DONE]`.
fn stream_body() -> Bytes {
    let chunk = |delta: Value, finish: Value| {
        json!({"id": "chatcmpl-bench", "object": "chat.completion.chunk", "created": 1_700_000_000u64,
            "model": "bench-model", "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})
    };
    let mut s = String::new();
    for c in [
        chunk(json!({"role": "assistant", "content": ""}), Value::Null),
        chunk(json!({"content": "Hello"}), Value::Null),
        chunk(json!({"content": " world."}), Value::Null),
        chunk(json!({}), json!("stop")),
        json!({"id": "chatcmpl-bench", "object": "chat.completion.chunk", "created": 1_700_000_000u64,
            "model": "bench-model", "choices": [],
            "usage": {"prompt_tokens": 12, "completion_tokens": 3, "total_tokens": 15}}),
    ] {
        s.push_str("data: ");
        s.push_str(&c.to_string());
        s.push_str("\n\n");
    }
    s.push_str("data: [DONE]\n\n");
    Bytes::from(s)
}

#[derive(Clone)]
struct Answers {
    completion: Bytes,
    stream: Bytes,
}

async fn chat(axum::extract::State(a): axum::extract::State<Arc<Answers>>, body: Bytes) -> Response {
    let streamed = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| v.get("stream").and_then(Value::as_bool))
        .unwrap_or(false);
    let (content_type, bytes) = if streamed {
        ("text/event-stream", a.stream.clone())
    } else {
        ("application/json", a.completion.clone())
    };
    let mut r = Body::from(bytes).into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}

async fn serve(addr: SocketAddr) -> Result<(), Box<dyn std::error::Error>> {
    let answers = Arc::new(Answers {
        completion: completion(),
        stream: stream_body(),
    });
    let app = Router::new()
        .route("/v1/chat/completions", post(chat))
        .route("/chat/completions", post(chat))
        .with_state(answers);
    let listener = tokio::net::TcpListener::bind(addr).await?;
    println!("listening on http://{}", listener.local_addr()?);
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    axum::serve(listener, app).await?;
    Ok(())
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

async fn ttfb(
    url: String,
    key: String,
    model: String,
    rate: u32,
    seconds: u64,
) -> Result<(), Box<dyn std::error::Error>> {
    let client = reqwest::Client::builder().pool_max_idle_per_host(256).build()?;
    let body = json!({"model": model, "stream": true,
        "messages": [{"role": "user", "content": "Say hello."}]})
    .to_string();
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / f64::from(rate.max(1))));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let end = Instant::now() + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    while Instant::now() < end {
        // The scheduled time, so a late send counts against the server (no coordinated omission).
        let scheduled = tick.tick().await.into_std();
        let (client, url, key, body) = (client.clone(), url.clone(), key.clone(), body.clone());
        tasks.push(tokio::spawn(async move {
            let mut r = client
                .post(&url)
                .bearer_auth(&key)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .map_err(|e| e.to_string())?;
            if !r.status().is_success() {
                return Err(format!("status {}", r.status()));
            }
            let first = r.chunk().await.map_err(|e| e.to_string())?;
            let at = scheduled.elapsed();
            if first.is_none() {
                return Err("empty body".to_owned());
            }
            while r.chunk().await.map_err(|e| e.to_string())?.is_some() {}
            Ok(at.as_secs_f64() * 1000.0)
        }));
    }
    let mut ms = Vec::with_capacity(tasks.len());
    let mut errors = 0usize;
    let mut first_error = None;
    for t in tasks {
        match t.await {
            Ok(Ok(v)) => ms.push(v),
            Ok(Err(e)) => {
                errors += 1;
                first_error.get_or_insert(e);
            }
            Err(e) => {
                errors += 1;
                first_error.get_or_insert(e.to_string());
            }
        }
    }
    ms.sort_by(f64::total_cmp);
    println!(
        "{}",
        json!({"requests": ms.len() + errors, "errors": errors, "first_error": first_error,
            "ttfb_ms": {"p50": percentile(&ms, 50.0), "p99": percentile(&ms, 99.0),
                "max": ms.last().copied().unwrap_or(f64::NAN)}})
    );
    Ok(())
}

const USAGE: &str = "usage: bench_upstream serve [ADDR] | bench_upstream ttfb URL KEY MODEL RATE SECONDS";

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["serve"] => serve("127.0.0.1:0".parse()?).await,
        ["serve", addr] => serve(addr.parse()?).await,
        ["ttfb", url, key, model, rate, seconds] => {
            ttfb(
                (*url).to_owned(),
                (*key).to_owned(),
                (*model).to_owned(),
                rate.parse()?,
                seconds.parse()?,
            )
            .await
        }
        _ => Err(USAGE.into()),
    }
}
