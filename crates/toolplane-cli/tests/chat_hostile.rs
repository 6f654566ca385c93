#![allow(clippy::unwrap_used, clippy::panic)]
//! `toolplane chat` against hostile servers on 127.0.0.1: an endless stream
//! ends at `--timeout`; a redirect to another port never receives the key;
//! a body without end is dropped at its limit; a blank key is no key; a
//! namespaced tool comes back under its registry name.

use std::convert::Infallible;
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::HeaderMap;

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// What a hostile server does with every request.
#[derive(Clone, Copy)]
enum Behaviour {
    /// A 200 event stream of keep-alive comments, forever.
    EndlessKeepAlive,
    /// A 200 JSON body that never ends and has no newline.
    EndlessBody,
    /// A 307 to the given port.
    RedirectTo(u16),
    /// A 200 answer that records the request.
    Record,
    /// A 200 answer whose model name and text hold terminal escape sequences.
    Escapes,
}

/// Starts a server on its own thread; returns its address and the headers
/// of every request it received.
fn serve(behaviour: Behaviour) -> (std::net::SocketAddr, Arc<Mutex<Vec<HeaderMap>>>) {
    let seen: Arc<Mutex<Vec<HeaderMap>>> = Arc::default();
    let log = seen.clone();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let app = axum::Router::new().fallback(move |headers: HeaderMap| {
                let log = log.clone();
                async move {
                    log.lock().unwrap().push(headers);
                    let builder = axum::response::Response::builder();
                    match behaviour {
                        Behaviour::EndlessKeepAlive => {
                            let pings = futures_util::StreamExt::then(futures_util::stream::repeat(()), |()| async {
                                tokio::time::sleep(Duration::from_millis(20)).await;
                                Ok::<_, Infallible>(Bytes::from_static(b": ping\n\n"))
                            });
                            builder
                                .header("content-type", "text/event-stream")
                                .body(Body::from_stream(pings))
                                .unwrap()
                        }
                        Behaviour::EndlessBody => {
                            let chunk = Bytes::from(vec![b'a'; 64 << 10]);
                            let body = futures_util::stream::repeat_with(move || Ok::<_, Infallible>(chunk.clone()));
                            builder
                                .header("content-type", "application/json")
                                .body(Body::from_stream(body))
                                .unwrap()
                        }
                        Behaviour::RedirectTo(port) => builder
                            .status(307)
                            .header("location", format!("http://127.0.0.1:{port}/v1/messages"))
                            .body(Body::empty())
                            .unwrap(),
                        Behaviour::Record => builder
                            .header("content-type", "application/json")
                            .body(Body::from(
                                serde_json::json!({
                                    "id": "chatcmpl-1", "model": "m",
                                    "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
                                        "role": "assistant", "content": null,
                                        "tool_calls": [{"id": "call_1", "type": "function",
                                            "function": {"name": "listTasks", "arguments": "{}"}}]}}]
                                })
                                .to_string(),
                            ))
                            .unwrap(),
                        Behaviour::Escapes => builder
                            .header("content-type", "application/json")
                            .body(Body::from(
                                serde_json::json!({
                                    "id": "chatcmpl-1", "model": "m\u{1b}]0;pwned\u{7}",
                                    "choices": [{"index": 0, "finish_reason": "stop", "message": {
                                        "role": "assistant", "content": "hi\u{1b}[2J\u{9b}31mthere\nnext"}}]
                                })
                                .to_string(),
                            ))
                            .unwrap(),
                    }
                }
            });
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            axum::serve(listener, app).await.unwrap();
        });
    });
    (rx.recv().unwrap(), seen)
}

fn chat(provider: &str, base: &str, env: &[(&str, &str)], extra: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_toolplane"));
    cmd.args(["chat", "--provider", provider, "--model", "m", "--base-url", base])
        .args(extra)
        .arg("hi");
    for var in ["OPENAI_API_KEY", "ANTHROPIC_API_KEY", "MISTRAL_API_KEY", "CO_API_KEY"] {
        cmd.env_remove(var);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

#[test]
fn an_endless_stream_ends_at_the_timeout() {
    let (addr, _) = serve(Behaviour::EndlessKeepAlive);
    let base = format!("http://{addr}/v1");
    let key = [("OPENAI_API_KEY", "sk-test-not-real")];
    let out = chat("openai", &base, &key, &["--stream", "--timeout", "0.5"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(err.contains("timeout") && err.contains("ran out of time"), "{err}");
}

#[test]
fn timeouts_that_make_no_sense_are_usage_errors() {
    for bad in ["0", "-3", "abc", "NaN", "inf", "100000"] {
        let out = chat("openai", "http://127.0.0.1:9/v1", &[], &[&format!("--timeout={bad}")]);
        assert_eq!(out.status.code(), Some(2), "{bad}: {}", text(&out.stderr));
        assert!(text(&out.stderr).contains("--timeout"), "{bad}: {}", text(&out.stderr));
    }
}

#[test]
fn a_redirect_to_another_port_does_not_get_the_key() {
    const KEY: &str = "sk-ant-cli-redirect-0123456789";
    let (b, b_seen) = serve(Behaviour::Record);
    let (a, a_seen) = serve(Behaviour::RedirectTo(b.port()));
    let out = chat(
        "anthropic",
        &format!("http://{a}"),
        &[("ANTHROPIC_API_KEY", KEY)],
        &["--timeout", "10"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(b_seen.lock().unwrap().is_empty(), "port B was called");
    assert_eq!(a_seen.lock().unwrap()[0]["x-api-key"], KEY);
    let err = text(&out.stderr);
    assert!(err.contains("redirect") && err.contains("not followed"), "{err}");
    assert!(!err.contains(KEY), "{err}");
}

#[test]
fn a_body_without_end_is_dropped_at_the_limit() {
    let (addr, _) = serve(Behaviour::EndlessBody);
    let out = chat(
        "mistral",
        &format!("http://{addr}/v1"),
        &[("MISTRAL_API_KEY", "m1stralk3yabcdefghij")],
        &["--timeout", "60"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(err.contains("ResponseLimits::max_body_bytes"), "{err}");
}

#[test]
fn a_blank_key_is_no_key() {
    for blank in ["", "  "] {
        let out = chat("mistral", "http://127.0.0.1:9/v1", &[("MISTRAL_API_KEY", blank)], &[]);
        assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
        assert!(
            text(&out.stderr).contains("no API key; set MISTRAL_API_KEY"),
            "{}",
            text(&out.stderr)
        );
    }
}

#[test]
fn escape_sequences_from_the_server_are_not_printed_raw() {
    let (addr, _) = serve(Behaviour::Escapes);
    let out = chat(
        "openai",
        &format!("http://{addr}/v1"),
        &[("OPENAI_API_KEY", "sk-test-not-real")],
        &[],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    for t in [&stdout, &stderr] {
        assert!(
            !t.contains('\u{1b}') && !t.contains('\u{7}') && !t.contains('\u{9b}'),
            "{t:?}"
        );
    }
    assert!(stdout.contains("hi\\x1b[2J\\u{9b}31mthere\nnext"), "{stdout:?}");
    assert!(stderr.contains("m\\x1b]0;pwned\\x07"), "{stderr:?}");
}
