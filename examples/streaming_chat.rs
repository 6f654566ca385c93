//! Streaming chat with tool calls: `cargo run -p toolplane --example streaming_chat [MODEL]`.
//!
//! Shows `toolplane::providers::OpenAiProvider::chat_stream` and the
//! normalized [`StreamEvent`]s it yields: text deltas printed as they arrive,
//! each tool call printed once it is complete (id, name, arguments), then the
//! stop reason and the normalized token usage. A [`StreamAccumulator`] puts the
//! same events back together into one `ChatResponse`.
//!
//! - With `OPENAI_API_KEY` set it talks to the real API (`OPENAI_BASE_URL`
//!   overrides the address), with the model given as the first argument or
//!   `gpt-4o-mini`.
//! - Without a key it starts a local axum server on 127.0.0.1 that replays
//!   streams recorded from the real API (the shared fixtures,
//!   `providers/openai/chat-streams`, found through `TOOLPLANE_FIXTURES` or
//!   `<repo>/../shared/fixtures`) as `text/event-stream`, written a few
//!   hundred bytes at a time so they arrive in pieces like a live stream, and
//!   points the provider at it. Arguments then name the recordings to replay (default:
//!   `text-stop-a tool-calls-parallel-two`). Nothing leaves the machine.

use std::error::Error;
use std::future::poll_fn;
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::http::header;
use axum::routing::post;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use toolplane::providers::{OpenAiProvider, ProviderConfig};
use toolplane::vocab::{
    CallContext, ChatProvider, ChatRequest, ChatStream, Message, ProviderError, StreamAccumulator, StreamEvent,
    ToolChoice, ToolSpec,
};

const DEFAULT_MODEL: &str = "gpt-4o-mini";
const DEFAULT_RECORDINGS: [&str; 2] = ["text-stop-a", "tool-calls-parallel-two"];

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let outcome = match std::env::var("OPENAI_API_KEY") {
        Ok(key) if !key.trim().is_empty() => live(key, args.first().map(String::as_str)).await,
        _ => replay(&args).await,
    };
    if let Err(e) = outcome {
        eprintln!("\nerror: {e}");
        std::process::exit(1);
    }
    Ok(())
}

/// One request to the real API, streamed.
async fn live(key: String, model: Option<&str>) -> Result<(), Box<dyn Error>> {
    let model = model.unwrap_or(DEFAULT_MODEL);
    let base = std::env::var("OPENAI_BASE_URL").unwrap_or_else(|_| "https://api.openai.com/v1".to_owned());
    println!("OPENAI_API_KEY found: streaming from {base} with model {model}.\n");
    let provider = OpenAiProvider::new(ProviderConfig::new(base).with_api_key(key))?;
    stream_one(&provider, request(model), "live").await
}

/// Recorded streams replayed by a local server.
async fn replay(args: &[String]) -> Result<(), Box<dyn Error>> {
    let dir = fixtures_dir().join("providers/openai/chat-streams");
    if !dir.is_dir() {
        println!("No OPENAI_API_KEY, and no recorded streams at {}.", dir.display());
        println!("Set OPENAI_API_KEY to use the real API, or TOOLPLANE_FIXTURES to the shared fixtures folder.");
        return Ok(());
    }
    let names: Vec<&str> = if args.is_empty() {
        DEFAULT_RECORDINGS.to_vec()
    } else {
        args.iter().map(String::as_str).collect()
    };
    println!("No OPENAI_API_KEY: REPLAYING streams recorded from the real API (gpt-4o-2024-08-06),");
    println!(
        "served as text/event-stream by a local server ({PACE_BYTES} bytes every {} ms, since a recording",
        PACE_INTERVAL.as_millis()
    );
    println!("keeps no timing). No model is called, so each answer is the one");
    println!("recorded for its own prompt, whatever this example asks.\n");

    for name in names {
        let path = dir.join(format!("{}.sse", name.trim_end_matches(".sse")));
        let body = match std::fs::read_to_string(&path) {
            Ok(body) => body,
            Err(e) => {
                println!("cannot read recording {}: {e}\n", path.display());
                continue;
            }
        };
        let addr = serve_recording(body).await?;
        let provider = OpenAiProvider::new(ProviderConfig::new(format!("http://{addr}/v1")).with_api_key("sk-replay"))?;
        println!("=== recording {name}.sse, replayed from http://{addr}/v1/chat/completions");
        stream_one(&provider, request(DEFAULT_MODEL), "replay").await?;
    }
    Ok(())
}

/// Streams one answer and prints its events as they are decoded.
async fn stream_one(provider: &OpenAiProvider, req: ChatRequest, request_id: &str) -> Result<(), Box<dyn Error>> {
    let mut stream = provider.chat_stream(&req, &CallContext::new(request_id)).await?;
    let mut acc = StreamAccumulator::new(provider.name(), req.model.clone());
    let mut in_text = false;
    let mut deltas = 0usize;
    while let Some(item) = next(&mut stream).await {
        let event = item?;
        acc.push(&event);
        match &event {
            StreamEvent::Start { id, model } => println!(
                "start   id={} model={}",
                id.as_deref().unwrap_or("-"),
                model.as_deref().unwrap_or("-")
            ),
            StreamEvent::TextDelta { text } | StreamEvent::RefusalDelta { text } => {
                if !in_text {
                    let label = if matches!(event, StreamEvent::RefusalDelta { .. }) {
                        "refusal "
                    } else {
                        "text    "
                    };
                    print!("{label}");
                    in_text = true;
                }
                deltas += 1;
                print!("{text}");
                std::io::stdout().flush()?;
            }
            StreamEvent::ToolCallStart { index, id, name } => {
                end_text(&mut in_text);
                println!("call    #{index} started: {name} ({id}); arguments arriving");
            }
            StreamEvent::ToolCallEnd { index, call } => {
                end_text(&mut in_text);
                println!(
                    "tool    #{index} id={} name={} arguments={}",
                    call.id, call.name, call.arguments
                );
            }
            StreamEvent::Usage { usage } => {
                end_text(&mut in_text);
                println!(
                    "usage   input={} output={} total={} (cached input {}, reasoning {})",
                    usage.input_tokens,
                    usage.output_tokens,
                    usage.total_tokens(),
                    usage.cache_read_tokens,
                    usage.reasoning_tokens
                );
            }
            StreamEvent::Stop { reason } => {
                end_text(&mut in_text);
                println!("stop    {reason:?}");
            }
            // Argument fragments are assembled by the accumulator.
            _ => {}
        }
    }
    let response = acc.finish()?;
    println!(
        "summary {} chars of text in {deltas} deltas, {} tool call(s), stop {:?}\n",
        response.text().chars().count(),
        response.tool_calls().count(),
        response.stop_reason
    );
    Ok(())
}

fn end_text(in_text: &mut bool) {
    if std::mem::take(in_text) {
        println!();
    }
}

/// The next item of a provider stream (`ChatStream` is a boxed `futures_core::Stream`).
async fn next(stream: &mut ChatStream) -> Option<Result<StreamEvent, ProviderError>> {
    poll_fn(|cx| stream.as_mut().poll_next(cx)).await
}

/// A question that invites tool calls, with one tool.
fn request(model: &str) -> ChatRequest {
    let weather = ToolSpec::new("get_weather", "The current weather in a city.").with_input_schema(serde_json::json!({
        "type": "object",
        "properties": {
            "city": { "type": "string", "description": "City name, e.g. Paris" },
            "units": { "type": "string", "enum": ["c", "f"] }
        },
        "required": ["city"],
        "additionalProperties": false
    }));
    ChatRequest::new(
        model,
        vec![Message::user(
            "In one sentence say hello, then get the weather in Paris and in Tokyo.",
        )],
    )
    .with_tools(vec![weather])
    .with_tool_choice(ToolChoice::Auto)
}

/// `TOOLPLANE_FIXTURES`, else `<repo>/../shared/fixtures`.
fn fixtures_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("TOOLPLANE_FIXTURES") {
        return PathBuf::from(dir);
    }
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    repo.canonicalize().unwrap_or(repo).join("../shared/fixtures")
}

/// Serves `body` as the answer to `POST /v1/chat/completions` on an ephemeral port,
/// written out [`PACE_BYTES`] at a time every [`PACE_INTERVAL`] so that it arrives
/// over the network in pieces, as a live stream does.
async fn serve_recording(body: String) -> Result<SocketAddr, Box<dyn Error>> {
    let app = Router::new().route(
        "/v1/chat/completions",
        post(move || {
            let body = body.clone();
            async move { ([(header::CONTENT_TYPE, "text/event-stream")], body) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        if let Err(e) = axum::serve(PacedListener(listener), app).await {
            eprintln!("replay server stopped: {e}");
        }
    });
    Ok(addr)
}

/// Bytes per write of the replay server.
const PACE_BYTES: usize = 256;
/// Pause between two writes of the replay server (a recording has no timing of its own).
const PACE_INTERVAL: Duration = Duration::from_millis(20);

/// A TCP listener whose connections write slowly.
#[derive(Debug)]
struct PacedListener(tokio::net::TcpListener);

impl axum::serve::Listener for PacedListener {
    type Io = Paced;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            match self.0.accept().await {
                Ok((stream, addr)) => {
                    return (
                        Paced {
                            inner: stream,
                            pause: None,
                        },
                        addr,
                    );
                }
                Err(e) => {
                    eprintln!("replay server: accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.0.local_addr()
    }
}

/// A connection that writes at most [`PACE_BYTES`] per [`PACE_INTERVAL`].
#[derive(Debug)]
struct Paced {
    inner: tokio::net::TcpStream,
    pause: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl AsyncRead for Paced {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for Paced {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        if let Some(pause) = self.pause.as_mut() {
            if pause.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            self.pause = None;
        }
        let n = buf.len().min(PACE_BYTES);
        let written = Pin::new(&mut self.inner).poll_write(cx, &buf[..n]);
        if matches!(written, Poll::Ready(Ok(_))) {
            self.pause = Some(Box::pin(tokio::time::sleep(PACE_INTERVAL)));
        }
        written
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
