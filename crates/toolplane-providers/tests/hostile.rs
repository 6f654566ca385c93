#![allow(clippy::unwrap_used, clippy::panic)]
//! Hostile servers on 127.0.0.1, for every vendor: a redirect to another
//! port must not carry the key; a key echoed back in any form never reaches
//! an error; a body or an event-stream line without end is dropped at its
//! limit; a server that goes silent after its headers is not waited for
//! again; a blank key in the environment is no key.

mod server;

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::body::{Body, Bytes};
use serde_json::{Value, json};
use server::{Reply, TestServer, drain};
use toolplane_core::{CallContext, ChatProvider, ChatRequest, Message, ProviderError, ProviderErrorKind};
use toolplane_providers::{
    AnthropicProvider, AuthStyle, CohereProvider, MistralProvider, OpenAiProvider, OpenAiResponsesProvider,
    ProviderConfig, ResponseLimits, RetryPolicy, Timeouts,
};

const VENDORS: [&str; 6] = ["openai", "responses", "anthropic", "mistral", "cohere", "azure"];

fn retries(n: u32) -> RetryPolicy {
    RetryPolicy::default()
        .with_max_retries(n)
        .with_backoff(Duration::from_millis(1), Duration::from_millis(5))
        .with_jitter(false)
}

fn make(vendor: &str, cfg: ProviderConfig) -> Arc<dyn ChatProvider> {
    match vendor {
        "openai" => Arc::new(OpenAiProvider::new(cfg).unwrap()),
        "responses" => Arc::new(OpenAiResponsesProvider::new(cfg).unwrap()),
        "anthropic" => Arc::new(AnthropicProvider::new(cfg).unwrap()),
        "mistral" => Arc::new(MistralProvider::new(cfg).unwrap()),
        "cohere" => Arc::new(CohereProvider::new(cfg).unwrap()),
        // Azure's key travels in the custom `api-key` header, like Anthropic's.
        "azure" => Arc::new(
            OpenAiProvider::compatible("azure-openai", cfg.with_auth(AuthStyle::Header("api-key".into()))).unwrap(),
        ),
        other => panic!("unknown vendor {other}"),
    }
}

fn req() -> ChatRequest {
    ChatRequest::new("m", vec![Message::user("hi")])
}

/// The call's error, streamed or not.
async fn call(p: &dyn ChatProvider, stream: bool, ctx: &CallContext) -> ProviderError {
    if stream {
        match p.chat_stream(&req(), ctx).await {
            Err(e) => e,
            Ok(s) => drain(s).await.1.expect("the stream ends in an error"),
        }
    } else {
        p.chat(&req(), ctx).await.expect_err("the call fails")
    }
}

/// Everything a caller can see of an error.
fn shown(e: &ProviderError) -> String {
    let mut text = format!("{e} | {e:?}");
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        text.push_str(&format!(" | {c} | {c:?}"));
        cause = c.source();
    }
    text
}

#[tokio::test]
async fn a_redirect_to_another_port_never_carries_the_key() {
    const KEY: &str = "sk-ant-redirect-secret-0123456789";
    for vendor in VENDORS {
        for stream in [false, true] {
            let b = TestServer::start(vec![Reply::json(200, &json!({})); 4]).await;
            let a = TestServer::start(vec![
                Reply::new(307, "").header("location", &format!("{}/stolen", b.url));
                4
            ])
            .await;
            let p = make(
                vendor,
                ProviderConfig::new(&a.url).with_api_key(KEY).with_retry(retries(3)),
            );
            let err = call(p.as_ref(), stream, &CallContext::new("t")).await;
            assert!(
                b.requests().is_empty(),
                "{vendor}: port B got {:?}",
                b.requests()
                    .iter()
                    .map(|r| r.headers.keys().map(|k| k.as_str().to_owned()).collect::<Vec<_>>())
                    .collect::<Vec<_>>()
            );
            assert_eq!(a.requests().len(), 1, "{vendor}: a refused redirect is not retried");
            let text = err.to_string();
            assert!(
                text.contains("redirect") && text.contains(&b.url) && text.contains("not followed"),
                "{vendor}: {text}"
            );
            assert!(!shown(&err).contains(KEY), "{vendor}: {}", shown(&err));
        }
    }
}

#[tokio::test]
async fn a_redirect_within_the_origin_is_followed_with_the_key() {
    const KEY: &str = "sk-ant-same-origin-0123456789";
    let ok = json!({"id":"msg_1","model":"m","content":[{"type":"text","text":"moved"}],"stop_reason":"end_turn",
                    "usage":{"input_tokens":1,"output_tokens":1}});
    let same = TestServer::start(vec![]).await;
    same.push(Reply::new(308, "").header("location", &format!("{}/v2/messages", same.url)));
    same.push(Reply::json(200, &ok));
    let p = AnthropicProvider::new(ProviderConfig::new(&same.url).with_api_key(KEY)).unwrap();
    let resp = p.chat(&req(), &CallContext::new("t")).await.unwrap();
    assert_eq!(resp.text(), "moved");
    let seen = same.requests();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[1].path, "/v2/messages");
    for r in &seen {
        assert_eq!(r.headers["x-api-key"], KEY, "the key goes with a same-origin redirect");
    }
    assert_eq!(seen[1].body["model"], "m", "a 308 keeps the body");
}

/// Keys of several shapes: OpenAI-like, and short or prefix-less ones as
/// Mistral and Cohere issue (lower case only, so no pattern rule sees them).
const KEYS: [&str; 3] = [
    "sk-proj-echoedkey0123456789abcdef",
    "m1stralk3yabcdefghij",
    "cohereabcdefghijklmnopqrstuvwxyz0123456789",
];

/// Bodies that echo `key` back: as `key:K`, `key=K`, inside JSON, glued to
/// other text, as a value a decoder chokes on.
fn echoes(key: &str) -> Vec<(u16, String)> {
    vec![
        (
            401,
            json!({"error": {"message": format!("Incorrect API key provided key:{key}")}}).to_string(),
        ),
        (401, json!({"message": format!("invalid token key={key}")}).to_string()),
        (
            400,
            json!({"error": {"message": format!("bad request {}", json!({"provided": key}))}}).to_string(),
        ),
        (403, format!("<html>forbidden for{key}</html>")),
        (
            422,
            json!({"detail": [{"loc": ["header", key], "msg": format!("{key} is not valid")}]}).to_string(),
        ),
        // A 200 whose shape no decoder accepts, quoting the key in the decode error.
        (
            200,
            format!(r#"{{"choices":"{key}","content":"{key}","output":"{key}","message":"{key}"}}"#),
        ),
    ]
}

#[tokio::test]
async fn an_echoed_key_never_reaches_an_error() {
    for key in KEYS {
        for vendor in VENDORS {
            for (status, body) in echoes(key) {
                let server = TestServer::start(vec![
                    Reply::new(status, &body).header("content-type", "application/json"),
                ])
                .await;
                let p = make(
                    vendor,
                    ProviderConfig::new(&server.url)
                        .with_api_key(key)
                        .with_retry(RetryPolicy::none()),
                );
                let err = call(p.as_ref(), false, &CallContext::new("t")).await;
                let text = shown(&err);
                assert!(!text.contains(key), "{vendor} {status} {body}: {text}");
                if status != 200 {
                    assert!(text.contains("[redacted]"), "{vendor} {status} {body}: {text}");
                }
            }
        }
    }
}

#[tokio::test]
async fn an_echoed_key_in_a_stream_error_event_is_redacted() {
    const KEY: &str = "m1stralk3yabcdefghij";
    let events = [
        (
            "openai",
            format!(
                "data: {}\n\n",
                json!({"error": {"message": format!("key={KEY}"), "type": "server_error"}})
            ),
        ),
        (
            "anthropic",
            format!(
                "event: error\ndata: {}\n\n",
                json!({"type": "error", "error": {"type": "api_error", "message": format!("{{\"provided\":\"{KEY}\"}}")}})
            ),
        ),
    ];
    for (vendor, body) in events {
        let server = TestServer::start(vec![Reply::sse(body, 7)]).await;
        let p = make(
            vendor,
            ProviderConfig::new(&server.url)
                .with_api_key(KEY)
                .with_retry(RetryPolicy::none()),
        );
        let err = call(p.as_ref(), true, &CallContext::new("t")).await;
        assert!(!shown(&err).contains(KEY), "{vendor}: {}", shown(&err));
        assert!(err.to_string().contains("[redacted]"), "{vendor}: {err}");
    }
}

#[tokio::test]
async fn a_credential_header_added_per_request_is_redacted_too() {
    let server = TestServer::start(vec![Reply::json(
        401,
        &json!({"message": "token tok-per-request-42 expired"}),
    )])
    .await;
    let p = OpenAiProvider::compatible("gw", ProviderConfig::new(&server.url).with_retry(RetryPolicy::none())).unwrap();
    let ctx = CallContext::new("t").with_extension(
        toolplane_providers::RequestOptions::new().with_header("x-gateway-token", "tok-per-request-42"),
    );
    let err = p.chat(&req(), &ctx).await.unwrap_err();
    assert!(!shown(&err).contains("tok-per-request-42"), "{}", shown(&err));
}

/// A server whose answer never ends: headers, then `prefix`, then `fill`
/// bytes forever. Counts the bytes it produced.
async fn endless_server(content_type: &'static str, prefix: &'static [u8], fill: u8) -> (String, Arc<AtomicUsize>) {
    let produced = Arc::new(AtomicUsize::new(0));
    let counter = produced.clone();
    let app = axum::Router::new().fallback(move || {
        let counter = counter.clone();
        async move {
            let chunk = Bytes::from(vec![fill; 16 << 10]);
            let head = futures_util::stream::once(async move { Ok::<_, Infallible>(Bytes::from_static(prefix)) });
            let tail = futures_util::stream::repeat_with(move || {
                counter.fetch_add(chunk.len(), Ordering::SeqCst);
                Ok::<_, Infallible>(chunk.clone())
            });
            axum::response::Response::builder()
                .header("content-type", content_type)
                .body(Body::from_stream(futures_util::StreamExt::chain(head, tail)))
                .unwrap()
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, produced)
}

fn limited(url: &str, limits: ResponseLimits) -> ProviderConfig {
    ProviderConfig::new(url)
        .with_api_key("sk-limits-0123456789abcdef")
        .with_retry(retries(3))
        .with_limits(limits)
}

#[tokio::test]
async fn a_body_without_end_is_dropped_at_its_limit() {
    const LIMIT: usize = 256 << 10;
    let (url, produced) = endless_server("application/json", b"{\"id\":\"", b'a').await;
    for vendor in VENDORS {
        let p = make(
            vendor,
            limited(
                &url,
                ResponseLimits {
                    max_body_bytes: LIMIT,
                    ..ResponseLimits::default()
                },
            ),
        );
        let err = call(p.as_ref(), false, &CallContext::new("t")).await;
        assert_eq!(err.kind(), ProviderErrorKind::Decode, "{vendor}: {err}");
        assert!(
            err.to_string()
                .contains(&format!("limit of {LIMIT} bytes (ResponseLimits::max_body_bytes)")),
            "{vendor}: {err}"
        );
    }
    // The server produced far less than an unbounded read would have taken
    // (the client stopped; what is left is in the socket buffers).
    assert!(produced.load(Ordering::SeqCst) > 0);
}

#[tokio::test]
async fn an_announced_body_over_the_limit_is_not_read() {
    let big = vec![b' '; 300 << 10];
    let server = TestServer::start(vec![
        Reply::new(200, &big)
            .header("content-type", "application/json")
            .header("content-length", &big.len().to_string()),
        Reply::json(200, &json!({})),
    ])
    .await;
    let p = make(
        "openai",
        limited(
            &server.url,
            ResponseLimits {
                max_body_bytes: 100 << 10,
                ..ResponseLimits::default()
            },
        ),
    );
    let err = call(p.as_ref(), false, &CallContext::new("t")).await;
    assert_eq!(err.kind(), ProviderErrorKind::Decode, "{err}");
    assert!(err.to_string().contains("307200 bytes"), "{err}");
    assert_eq!(server.requests().len(), 1, "a body over the limit is not retried");
}

#[tokio::test]
async fn an_event_stream_line_without_end_is_dropped_at_its_limit() {
    const LIMIT: usize = 64 << 10;
    let (url, _) = endless_server("text/event-stream", b"data: {\"x\":\"", b'a').await;
    for vendor in VENDORS {
        let p = make(
            vendor,
            limited(
                &url,
                ResponseLimits {
                    max_sse_line_bytes: LIMIT,
                    ..ResponseLimits::default()
                },
            ),
        );
        let err = call(p.as_ref(), true, &CallContext::new("t")).await;
        assert_eq!(err.kind(), ProviderErrorKind::Decode, "{vendor}: {err}");
        assert!(
            err.to_string()
                .contains(&format!("limit of {LIMIT} bytes (ResponseLimits::max_sse_line_bytes)")),
            "{vendor}: {err}"
        );
    }
}

#[tokio::test]
async fn an_event_stream_line_of_four_times_the_limit_is_refused_once() {
    const LIMIT: usize = 32 << 10;
    let mut body = b"data: \"".to_vec();
    body.extend(std::iter::repeat_n(b'z', 4 * LIMIT));
    body.extend_from_slice(b"\"\n\n");
    let server = TestServer::start(vec![Reply::sse(&body, 4096), Reply::sse(&body, 4096)]).await;
    let p = make(
        "anthropic",
        limited(
            &server.url,
            ResponseLimits {
                max_sse_line_bytes: LIMIT,
                ..ResponseLimits::default()
            },
        ),
    );
    let err = call(p.as_ref(), true, &CallContext::new("t")).await;
    assert_eq!(err.kind(), ProviderErrorKind::Decode, "{err}");
    assert_eq!(server.requests().len(), 1, "not retried");
}

fn quick(url: &str, timeouts: Timeouts) -> ProviderConfig {
    ProviderConfig::new(url)
        .with_api_key("sk-silent-0123456789abcdef")
        .with_retry(retries(3))
        .with_timeouts(timeouts)
}

#[tokio::test]
async fn silence_after_the_headers_is_not_retried() {
    let sse = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"x\"}}]}\n\n";
    for vendor in VENDORS {
        // A stream whose first event never comes in time.
        let server = TestServer::start(vec![Reply::sse(sse, 64).pause(Duration::from_secs(30)); 4]).await;
        let p = make(
            vendor,
            quick(
                &server.url,
                Timeouts {
                    first_byte: Duration::from_millis(150),
                    ..Timeouts::default()
                },
            ),
        );
        let err = call(p.as_ref(), true, &CallContext::new("t")).await;
        assert_eq!(err.kind(), ProviderErrorKind::Timeout, "{vendor}: {err}");
        assert!(err.to_string().contains("silent"), "{vendor}: {err}");
        assert_eq!(
            server.requests().len(),
            1,
            "{vendor}: silence after the headers is not retried"
        );

        // A complete body that stops after its headers.
        let server = TestServer::start(vec![Reply::json(200, &json!({})).pause(Duration::from_secs(30)); 4]).await;
        let p = make(
            vendor,
            quick(
                &server.url,
                Timeouts {
                    idle: Duration::from_millis(150),
                    ..Timeouts::default()
                },
            ),
        );
        let err = call(p.as_ref(), false, &CallContext::new("t")).await;
        assert_eq!(err.kind(), ProviderErrorKind::Timeout, "{vendor}: {err}");
        assert!(err.to_string().contains("Timeouts::idle"), "{vendor}: {err}");
        assert_eq!(server.requests().len(), 1, "{vendor}: not retried");
    }
}

#[tokio::test]
async fn a_stream_that_stops_midway_ends_after_the_idle_limit() {
    // One event, then silence: the idle limit (not the first-byte one) applies.
    let first = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"x\"}}]}\n\n";
    let server = TestServer::start(vec![
        Reply::chunked(
            200,
            "text/event-stream",
            vec![first.as_bytes().to_vec(), b"data: [DONE]\n\n".to_vec()],
        )
        .pause_after_first(Duration::from_secs(30)),
    ])
    .await;
    let p = make(
        "openai",
        quick(
            &server.url,
            Timeouts {
                first_byte: Duration::from_secs(30),
                idle: Duration::from_millis(150),
                ..Timeouts::default()
            },
        ),
    );
    let (events, err) = drain(p.chat_stream(&req(), &CallContext::new("t")).await.unwrap()).await;
    assert!(!events.is_empty());
    let err = err.unwrap();
    assert_eq!(err.kind(), ProviderErrorKind::Timeout);
    assert!(err.to_string().contains("Timeouts::idle"), "{err}");
}

#[tokio::test]
async fn headers_that_never_come_are_retried_only_within_the_total_time() {
    // Accepts connections and never answers.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            held.push(socket);
        }
    });
    let p = make(
        "openai",
        quick(
            &url,
            Timeouts {
                first_byte: Duration::from_millis(100),
                total: Duration::from_millis(400),
                ..Timeouts::default()
            },
        )
        .with_retry(retries(1000)),
    );
    let err = call(p.as_ref(), false, &CallContext::new("t")).await;
    assert_eq!(err.kind(), ProviderErrorKind::Timeout, "{err}");
    // However the attempts fall, the total time bounds them: each takes at
    // least the first-byte limit, so there are at most total / first_byte.
    let n = accepted.load(Ordering::SeqCst);
    assert!((1..=4).contains(&n), "{n} attempts");
}

#[test]
fn the_default_limits_suit_an_interactive_call() {
    let t = Timeouts::default();
    assert_eq!(t.total, Duration::from_secs(300));
    assert!(t.first_byte <= t.total && t.idle <= t.first_byte);
    let l = ResponseLimits::default();
    assert_eq!((l.max_body_bytes, l.max_sse_line_bytes), (32 << 20, 4 << 20));
}

/// `KEY= ` (empty or whitespace) is no key, for every vendor's `from_env`.
/// Environment variables are process-wide, so the check runs in a child
/// process of this test binary with the variables set.
#[test]
fn blank_keys_in_the_environment_are_no_key() {
    const VARS: [&str; 5] = [
        "OPENAI_API_KEY",
        "ANTHROPIC_API_KEY",
        "MISTRAL_API_KEY",
        "CO_API_KEY",
        "AZURE_OPENAI_API_KEY",
    ];
    if std::env::var_os("TOOLPLANE_BLANK_KEY_CHILD").is_some() {
        let missing = |r: Result<(), toolplane_providers::ConfigError>, var: &str| {
            let e = r.expect_err(var);
            assert!(
                matches!(&e, toolplane_providers::ConfigError::MissingKey { env, .. } if env == var),
                "{var}: {e}"
            );
        };
        missing(OpenAiProvider::from_env().map(drop), "OPENAI_API_KEY");
        missing(OpenAiResponsesProvider::from_env().map(drop), "OPENAI_API_KEY");
        missing(AnthropicProvider::from_env().map(drop), "ANTHROPIC_API_KEY");
        missing(MistralProvider::from_env().map(drop), "MISTRAL_API_KEY");
        missing(CohereProvider::from_env().map(drop), "CO_API_KEY");
        for (name, var) in [
            ("openai", "OPENAI_API_KEY"),
            ("anthropic", "ANTHROPIC_API_KEY"),
            ("mistral", "MISTRAL_API_KEY"),
            ("cohere", "CO_API_KEY"),
            ("azure", "AZURE_OPENAI_API_KEY"),
        ] {
            missing(
                toolplane_providers::provider_from_name(name, "m", Some("http://127.0.0.1:9")).map(drop),
                var,
            );
        }
        // Where the key is optional, a blank one is not sent at all.
        let p = toolplane_providers::provider_from_name("openai-compatible", "m", Some("http://127.0.0.1:9"));
        assert!(p.is_ok());
        return;
    }
    for blank in ["", "   ", "\t\n"] {
        let mut child = std::process::Command::new(std::env::current_exe().unwrap());
        child
            .args(["--exact", "blank_keys_in_the_environment_are_no_key", "--nocapture"])
            .env("TOOLPLANE_BLANK_KEY_CHILD", "1");
        for var in VARS {
            child.env(var, blank);
        }
        let out = child.output().unwrap();
        assert!(
            out.status.success(),
            "blank {blank:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// A blank key set in code is no key either: nothing is sent.
#[tokio::test]
async fn a_blank_key_in_code_sends_no_auth_header() {
    let ok = json!({"id":"c","model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}]});
    let server = TestServer::start(vec![Reply::json(200, &ok)]).await;
    let p = OpenAiProvider::new(ProviderConfig::new(&server.url).with_api_key("  ")).unwrap();
    p.chat(&req(), &CallContext::new("t")).await.unwrap();
    assert!(server.last_request().headers.get("authorization").is_none());
    let _: Value = server.last_request().body;
}
