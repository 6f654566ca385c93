//! A scripted HTTP server on 127.0.0.1 for the provider tests: it records
//! every request and answers with the next scripted reply, streaming the
//! reply's body in the chunks given.
#![allow(dead_code, unreachable_pub)]

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use futures_util::StreamExt;
use serde_json::Value;
use toolplane_core::{ChatStream, ProviderError, StreamAccumulator, StreamEvent};

/// One scripted answer.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub chunks: Vec<Vec<u8>>,
    /// Wait this long before each chunk from `pause_from` on.
    pub pause: Duration,
    /// The first chunk paused before (0: all of them).
    pub pause_from: usize,
}

impl Reply {
    pub fn new(status: u16, body: impl AsRef<[u8]>) -> Self {
        Self {
            status,
            headers: Vec::new(),
            chunks: vec![body.as_ref().to_vec()],
            pause: Duration::ZERO,
            pause_from: 0,
        }
    }

    pub fn json(status: u16, body: &Value) -> Self {
        Self::new(status, body.to_string()).header("content-type", "application/json")
    }

    /// An SSE body cut into chunks of `size` bytes.
    pub fn sse(body: impl AsRef<[u8]>, size: usize) -> Self {
        let chunks = body.as_ref().chunks(size.max(1)).map(<[u8]>::to_vec).collect();
        Self {
            status: 200,
            headers: vec![("content-type".into(), "text/event-stream".into())],
            chunks,
            pause: Duration::ZERO,
            pause_from: 0,
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    pub fn pause(mut self, d: Duration) -> Self {
        self.pause = d;
        self
    }

    /// Sends the first chunk at once, then waits `d` before each other one.
    pub fn pause_after_first(mut self, d: Duration) -> Self {
        self.pause = d;
        self.pause_from = 1;
        self
    }

    /// Chunks of the body, sent as given.
    pub fn chunked(status: u16, content_type: &str, chunks: Vec<Vec<u8>>) -> Self {
        Self {
            status,
            headers: vec![("content-type".into(), content_type.into())],
            chunks,
            pause: Duration::ZERO,
            pause_from: 0,
        }
    }
}

/// What the server received.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub path: String,
    pub query: Option<String>,
    pub headers: HeaderMap,
    pub body: Value,
}

#[derive(Clone, Default)]
struct Shared {
    replies: Arc<Mutex<VecDeque<Reply>>>,
    requests: Arc<Mutex<Vec<Recorded>>>,
}

pub struct TestServer {
    pub url: String,
    shared: Shared,
}

impl TestServer {
    pub async fn start(replies: Vec<Reply>) -> Self {
        let shared = Shared::default();
        shared.replies.lock().unwrap().extend(replies);
        let app = axum::Router::new().fallback(handle).with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Self {
            url: format!("http://{addr}"),
            shared,
        }
    }

    /// Adds replies after the start (when a reply must name the server's own URL).
    pub fn push(&self, reply: Reply) {
        self.shared.replies.lock().unwrap().push_back(reply);
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.requests.lock().unwrap().clone()
    }

    pub fn last_request(&self) -> Recorded {
        self.requests().pop().expect("a request was made")
    }
}

async fn handle(State(shared): State<Shared>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, 16 << 20).await.unwrap_or_default();
    shared.requests.lock().unwrap().push(Recorded {
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().map(str::to_owned),
        headers: parts.headers,
        body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    });
    let reply = shared.replies.lock().unwrap().pop_front();
    let Some(reply) = reply else {
        return Response::builder()
            .status(StatusCode::INTERNAL_SERVER_ERROR)
            .body(Body::from("no scripted reply"))
            .unwrap();
    };
    let mut builder = Response::builder().status(reply.status);
    for (n, v) in &reply.headers {
        builder = builder.header(n.as_str(), v.as_str());
    }
    let (pause, from) = (reply.pause, reply.pause_from);
    let stream = futures_util::stream::iter(reply.chunks.into_iter().enumerate()).then(move |(i, c)| async move {
        if !pause.is_zero() && i >= from {
            tokio::time::sleep(pause).await;
        }
        Ok::<_, Infallible>(Bytes::from(c))
    });
    builder.body(Body::from_stream(stream)).unwrap()
}

/// Drains a stream: the events, and the error that ended it, if any.
pub async fn drain(mut stream: ChatStream) -> (Vec<StreamEvent>, Option<ProviderError>) {
    let mut events = Vec::new();
    while let Some(item) = stream.next().await {
        match item {
            Ok(e) => events.push(e),
            Err(e) => {
                assert!(stream.next().await.is_none(), "nothing may follow an error");
                return (events, Some(e));
            }
        }
    }
    (events, None)
}

/// Accumulates events the way a host does.
pub fn accumulate(provider: &str, events: &[StreamEvent]) -> StreamAccumulator {
    let mut acc = StreamAccumulator::new(provider, "");
    for e in events {
        acc.push(e);
    }
    acc
}

/// Reads a hand-written fixture of this crate.
pub fn own_fixture(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}
