//! The HTTP side shared by every provider: one reqwest client per provider,
//! auth, custom headers and query, timeouts, size limits, the retry loop,
//! redirects, redaction, and the stream pump that feeds response bytes
//! through a decoder.
//!
//! What a hostile or broken server cannot do:
//!
//! - **Take the key elsewhere.** Redirects are followed only within the
//!   configured origin (scheme, host and port), headers intact; a redirect
//!   to another origin is refused before anything is sent there.
//! - **Hold unbounded memory.** A complete body is read up to
//!   [`ResponseLimits::max_body_bytes`](crate::ResponseLimits), an error
//!   body up to `max_error_body_bytes`, one event-stream line up to
//!   `max_sse_line_bytes`.
//! - **Keep the caller waiting for minutes.** Silence after the response
//!   headers (a hung body or stream) ends the call and is not retried; only
//!   failures before the headers (and overload or server errors before the
//!   first event of a stream) are retried, within the total time.
//! - **Read the key back.** Every error leaves through
//!   [`Secrets::redact_error`], which removes the configured key byte for
//!   byte and secret-shaped words.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use futures_core::Stream;
use futures_util::StreamExt;
use serde_json::Value;
use toolplane_core::{
    CallContext, CancelFlag, ChatResponse, ChatStream, ProviderError, ProviderErrorKind, RateLimitSnapshot,
};

use crate::config::{AuthStyle, ConfigError, ProviderConfig, RequestOptions};
use crate::decode::{DecodedItem, Decoding, StreamDecoder};
use crate::redact::Secrets;
use crate::tools::WireTools;
use crate::trace::{self, ChatTrace, ServerAddress};
use crate::{errors, ratelimit};

/// What the response headers said.
#[derive(Debug, Clone, Default)]
pub(crate) struct ResponseMeta {
    pub(crate) request_id: Option<String>,
    pub(crate) rate_limit: Option<RateLimitSnapshot>,
}

/// One provider's HTTP client.
#[derive(Debug)]
pub(crate) struct HttpClient {
    provider: String,
    client: reqwest::Client,
    pub(crate) cfg: ProviderConfig,
    last_rate_limit: Arc<Mutex<Option<RateLimitSnapshot>>>,
    /// The key and credential header values, removed from every error.
    secrets: Secrets,
    /// The base URL's host and port, for the chat span.
    server: ServerAddress,
}

/// A failed attempt, and whether the retry policy may be asked about it.
/// Failures after the response headers (silence, a body over its limit) and
/// refused redirects are final whatever their kind: sending the request
/// again would only repeat them.
struct Failed {
    error: ProviderError,
    retry: bool,
}

impl From<ProviderError> for Failed {
    fn from(error: ProviderError) -> Self {
        Self { error, retry: true }
    }
}

impl Failed {
    fn last(error: ProviderError) -> Self {
        Self { error, retry: false }
    }
}

/// The scheme, host and port of a URL.
fn origin(url: &reqwest::Url) -> (String, Option<String>, Option<u16>) {
    (
        url.scheme().to_owned(),
        url.host_str().map(str::to_owned),
        url.port_or_known_default(),
    )
}

/// Follows redirects within one origin (at most 10), refuses the others, so
/// a key in a custom header (`x-api-key`, `api-key`) never reaches another
/// host, port or scheme (reqwest only strips `Authorization` and cookies).
fn redirect_policy() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        let same = attempt
            .previous()
            .last()
            .is_some_and(|prev| origin(prev) == origin(attempt.url()));
        if !same {
            let (scheme, host, port) = origin(attempt.url());
            let to = format!(
                "{scheme}://{}{}",
                host.unwrap_or_default(),
                port.map(|p| format!(":{p}")).unwrap_or_default()
            );
            attempt.error(CrossOriginRedirect(to))
        } else if attempt.previous().len() > 10 {
            attempt.error(CrossOriginRedirect("too many redirects".into()))
        } else {
            attempt.follow()
        }
    })
}

/// A redirect the client refused to follow.
#[derive(Debug)]
struct CrossOriginRedirect(String);

impl std::fmt::Display for CrossOriginRedirect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "redirect to {} refused", self.0)
    }
}

impl std::error::Error for CrossOriginRedirect {}

type ByteStream = Pin<Box<dyn Stream<Item = reqwest::Result<Bytes>> + Send>>;

impl HttpClient {
    pub(crate) fn new(provider: &str, cfg: ProviderConfig) -> Result<Self, ConfigError> {
        cfg.check(provider)?;
        let client = reqwest::Client::builder()
            .connect_timeout(cfg.timeouts.connect)
            .redirect(redirect_policy())
            .build()
            .map_err(|e| ConfigError::Client(e.to_string()))?;
        let mut secrets = Secrets::new();
        if let Some(key) = &cfg.api_key {
            secrets.add(key.expose());
        }
        for (name, value) in &cfg.headers {
            secrets.add_header(name, value);
        }
        let server = match reqwest::Url::parse(&cfg.base_url) {
            Ok(u) => ServerAddress::new(u.host_str(), u.port_or_known_default()),
            Err(_) => ServerAddress::default(),
        };
        Ok(Self {
            provider: provider.to_owned(),
            client,
            cfg,
            last_rate_limit: Arc::default(),
            secrets,
            server,
        })
    }

    /// The secrets to remove from this call's errors: the client's, plus
    /// credential headers the call's [`RequestOptions`] add.
    fn secrets(&self, ctx: &CallContext) -> Secrets {
        let mut secrets = self.secrets.clone();
        if let Some(o) = ctx.extensions.get::<RequestOptions>() {
            for (name, value) in &o.headers {
                secrets.add_header(name, value);
            }
        }
        secrets
    }

    /// The request's tools shaped for `dialect`; strict when the call's
    /// [`RequestOptions`] or else the configuration asks for it.
    pub(crate) fn wire_tools(
        &self,
        req: &toolplane_core::ChatRequest,
        ctx: Option<&CallContext>,
        profile: toolplane_schema::Profile,
    ) -> WireTools {
        let strict = ctx
            .and_then(|c| c.extensions.get::<RequestOptions>())
            .and_then(|o| o.strict_tools)
            .unwrap_or(self.cfg.strict_tools);
        WireTools::new(&req.tools, profile, strict)
    }

    pub(crate) fn provider(&self) -> &str {
        &self.provider
    }

    /// The last rate-limit snapshot any response carried.
    pub(crate) fn last_rate_limit(&self) -> Option<RateLimitSnapshot> {
        self.last_rate_limit.lock().ok().and_then(|g| g.clone())
    }

    /// The request's model, or the configured default when it names none.
    pub(crate) fn model(&self, req: &toolplane_core::ChatRequest) -> String {
        if req.model.is_empty() {
            self.cfg.default_model.clone().unwrap_or_default()
        } else {
            req.model.clone()
        }
    }

    fn deadline(&self, ctx: &CallContext) -> Instant {
        let own = Instant::now() + self.cfg.timeouts.total;
        ctx.deadline.map_or(own, |d| d.min(own))
    }

    fn error(&self, kind: ProviderErrorKind, message: impl Into<String>) -> ProviderError {
        ProviderError::new(kind, self.provider.clone(), message)
    }

    fn transport(&self, e: reqwest::Error) -> Failed {
        if e.is_redirect() {
            let why = std::error::Error::source(&e)
                .map(ToString::to_string)
                .unwrap_or_default();
            return Failed::last(self.error(
                ProviderErrorKind::Transport,
                format!(
                    "the server answered with a redirect to another origin ({why}); \
                     the key is only sent to {}, so the redirect was not followed (set the base URL to where the API lives)",
                    origin_text(&self.cfg.base_url)
                ),
            ));
        }
        let kind = if e.is_timeout() {
            ProviderErrorKind::Timeout
        } else {
            ProviderErrorKind::Transport
        };
        let e = e.without_url();
        let what = if e.is_connect() {
            "could not connect"
        } else {
            "the connection failed"
        };
        self.error(kind, format!("{what}: {e}")).with_source(e).into()
    }

    fn request(&self, path: &str, body: &Value, ctx: &CallContext) -> reqwest::RequestBuilder {
        let url = format!("{}{}", self.cfg.base_url, path);
        let mut rb = self.client.post(url).json(body);
        if let Some(key) = &self.cfg.api_key {
            rb = match &self.cfg.auth {
                AuthStyle::Bearer => rb.bearer_auth(key.expose()),
                AuthStyle::Header(name) => rb.header(name.as_str(), key.expose()),
                AuthStyle::None => rb,
            };
        }
        let per_request = ctx.extensions.get::<RequestOptions>();
        let mut headers = reqwest::header::HeaderMap::new();
        let extra = per_request.map(|o| o.headers.as_slice()).unwrap_or_default();
        for (name, value) in self.cfg.headers.iter().chain(extra) {
            if let (Ok(n), Ok(v)) = (
                reqwest::header::HeaderName::from_bytes(name.as_bytes()),
                reqwest::header::HeaderValue::from_str(value),
            ) {
                headers.insert(n, v);
            }
        }
        // The chat span is current here, so a host's OpenTelemetry source
        // names it as the provider's parent.
        if let Some(tp) = toolplane_core::trace_context::outgoing_traceparent(Some(ctx)) {
            if let Ok(v) = reqwest::header::HeaderValue::from_str(&tp.to_string()) {
                headers.insert(toolplane_core::trace_context::TRACEPARENT, v);
            }
        }
        rb = rb.headers(headers);
        let mut query: Vec<(&str, &str)> = self.cfg.query.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        if let Some(o) = per_request {
            query.extend(o.query.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        }
        if !query.is_empty() {
            rb = rb.query(&query);
        }
        rb
    }

    fn meta(&self, headers: &reqwest::header::HeaderMap) -> ResponseMeta {
        let get = |n: &str| headers.get(n).and_then(|v| v.to_str().ok());
        let meta = ResponseMeta {
            request_id: errors::REQUEST_ID_HEADERS
                .iter()
                .find_map(|h| get(h))
                .map(str::to_owned),
            rate_limit: ratelimit::snapshot(get, SystemTime::now()),
        };
        if let (Some(snap), Ok(mut last)) = (&meta.rate_limit, self.last_rate_limit.lock()) {
            *last = Some(snap.clone());
        }
        meta
    }

    /// Sends once; on success returns the response, else the mapped error.
    async fn send_once(
        &self,
        path: &str,
        body: &Value,
        ctx: &CallContext,
        deadline: Instant,
    ) -> Result<(reqwest::Response, ResponseMeta), Failed> {
        if ctx.cancel.is_cancelled() {
            return Err(self
                .error(ProviderErrorKind::Cancelled, "the caller cancelled the call")
                .into());
        }
        let wait = self
            .cfg
            .timeouts
            .first_byte
            .min(deadline.saturating_duration_since(Instant::now()));
        let mut send = Box::pin(self.request(path, body, ctx).send());
        let resp = match wait_or_cancel(&mut send, wait, &ctx.cancel).await {
            Err(Waited::TimedOut) => {
                return Err(self
                    .error(
                        ProviderErrorKind::Timeout,
                        format!("no response headers within {wait:?}"),
                    )
                    .into());
            }
            Err(Waited::Cancelled) => {
                return Err(self
                    .error(ProviderErrorKind::Cancelled, "the caller cancelled the call")
                    .into());
            }
            Ok(Err(e)) => return Err(self.transport(e)),
            Ok(Ok(r)) => r,
        };
        let meta = self.meta(resp.headers());
        let status = resp.status().as_u16();
        if resp.status().is_success() {
            return Ok((resp, meta));
        }
        let headers = resp.headers().clone();
        // Only the start of an error body is read: enough for its message.
        let mut stream = resp.bytes_stream();
        let limit = self.cfg.limits.max_error_body_bytes;
        let body: Vec<u8> = read_limited(&mut stream, limit, true, self.cfg.timeouts.idle, deadline, &ctx.cancel)
            .await
            .unwrap_or_default();
        let get = |n: &str| headers.get(n).and_then(|v| v.to_str().ok());
        Err(errors::from_response(&self.provider, status, get, &body).into())
    }

    /// Reads a complete body within the size limit and the time limits.
    async fn read_body(
        &self,
        resp: reqwest::Response,
        deadline: Instant,
        cancel: &CancelFlag,
    ) -> Result<Vec<u8>, Failed> {
        let limit = self.cfg.limits.max_body_bytes;
        if let Some(len) = resp.content_length().filter(|&n| n > limit as u64) {
            return Err(Failed::last(self.too_large(len)));
        }
        let mut stream = resp.bytes_stream();
        match read_limited(&mut stream, limit, false, self.cfg.timeouts.idle, deadline, cancel).await {
            Ok(b) => Ok(b),
            Err(BodyError::TooLarge(read)) => Err(Failed::last(self.too_large(read as u64))),
            Err(BodyError::Silent(wait)) => Err(Failed::last(self.error(
                ProviderErrorKind::Timeout,
                format!("the response body was silent for {wait:?} after its headers (Timeouts::idle)"),
            ))),
            Err(BodyError::OutOfTime) => Err(Failed::last(
                self.error(ProviderErrorKind::Timeout, "the call ran out of time reading the body"),
            )),
            Err(BodyError::Cancelled) => Err(Failed::last(
                self.error(ProviderErrorKind::Cancelled, "the caller cancelled the call"),
            )),
            Err(BodyError::Broken(e)) => Err(self.transport(e)),
        }
    }

    fn too_large(&self, bytes: u64) -> ProviderError {
        self.error(
            ProviderErrorKind::Decode,
            format!(
                "the response body is larger than the limit of {} bytes (ResponseLimits::max_body_bytes); {bytes} bytes arrived or were announced",
                self.cfg.limits.max_body_bytes
            ),
        )
    }

    /// Waits before the next attempt, or returns the error when no retry is due.
    /// A set cancel flag ends the wait with the original error.
    async fn backoff(
        &self,
        attempt: u32,
        failed: Failed,
        deadline: Instant,
        cancel: &CancelFlag,
    ) -> Result<(), ProviderError> {
        let Failed { error: err, retry } = failed;
        if !retry {
            return Err(err);
        }
        match self.cfg.retry.delay(attempt, &err) {
            Some(d) if Instant::now() + d < deadline => {
                trace::retry_event(attempt, d, &err);
                let mut sleep = Box::pin(tokio::time::sleep(d));
                match wait_or_cancel(&mut sleep, d + CANCEL_POLL, cancel).await {
                    Ok(()) => Ok(()),
                    Err(_) => Err(err),
                }
            }
            _ => Err(err),
        }
    }

    /// POSTs JSON and returns the response body, retrying as the policy allows.
    pub(crate) async fn post_json(
        &self,
        path: &str,
        body: &Value,
        ctx: &CallContext,
    ) -> Result<(Vec<u8>, ResponseMeta), ProviderError> {
        let deadline = self.deadline(ctx);
        let mut attempt = 0;
        loop {
            let result = async {
                let (resp, meta) = self.send_once(path, body, ctx, deadline).await?;
                let bytes = self.read_body(resp, deadline, &ctx.cancel).await?;
                Ok::<_, Failed>((bytes, meta))
            }
            .await;
            match result {
                Ok(ok) => return Ok(ok),
                Err(e) => self.backoff(attempt, e, deadline, &ctx.cancel).await?,
            }
            attempt += 1;
        }
    }

    /// POSTs a chat request (as [`post_json`](Self::post_json)), reads the
    /// answer with `parse`, maps its tool calls back to the request's names
    /// (`tools`), and stamps it with the response's request id and
    /// rate-limit snapshot. Errors leave redacted.
    pub(crate) async fn post_chat(
        &self,
        model: &str,
        path: &str,
        body: &Value,
        ctx: &CallContext,
        tools: &WireTools,
        parse: impl FnOnce(&[u8]) -> Result<ChatResponse, ProviderError>,
    ) -> Result<ChatResponse, ProviderError> {
        let span = ChatTrace::start(&self.provider, model, &self.server);
        let result = span
            .run(async {
                let (bytes, meta) = self.post_json(path, body, ctx).await?;
                let mut resp = parse(&bytes)?;
                tools.restore_response(&mut resp);
                resp.request_id = meta.request_id;
                resp.rate_limit = meta.rate_limit;
                Ok(resp)
            })
            .await
            .map_err(|e| self.secrets(ctx).redact_error(e));
        span.finish(&result);
        result
    }

    /// POSTs JSON and streams the answer through a decoder, tool calls
    /// mapped back to the request's names (`tools`) and errors redacted.
    /// Retries (as the policy allows) until the first decoded event, never
    /// after; silence after the headers is never retried.
    pub(crate) async fn post_stream<D, F>(
        &self,
        model: &str,
        path: &str,
        body: &Value,
        ctx: &CallContext,
        tools: WireTools,
        make_decoder: F,
    ) -> Result<ChatStream, ProviderError>
    where
        D: StreamDecoder + 'static,
        F: Fn() -> D,
    {
        let secrets = self.secrets(ctx);
        let span = ChatTrace::start(&self.provider, model, &self.server);
        let opened = span
            .run(self.open_stream(path, body, ctx, make_decoder))
            .await
            .map_err(|e| secrets.redact_error(e));
        let stream = match opened {
            Ok(stream) => stream,
            Err(e) => {
                span.failed(&e);
                return Err(e);
            }
        };
        // open_stream returns once the first item has been read.
        span.first_chunk();
        let restore = tools.changes_calls();
        Ok(span.stream(Box::pin(stream.map(move |item| match item {
            Ok(event) if restore => Ok(tools.restore_event(event)),
            Ok(event) => Ok(event),
            Err(e) => Err(secrets.redact_error(e)),
        }))))
    }

    async fn open_stream<D, F>(
        &self,
        path: &str,
        body: &Value,
        ctx: &CallContext,
        make_decoder: F,
    ) -> Result<ChatStream, ProviderError>
    where
        D: StreamDecoder + 'static,
        F: Fn() -> D,
    {
        let deadline = self.deadline(ctx);
        let mut attempt = 0;
        loop {
            let result = async {
                let (resp, meta) = self.send_once(path, body, ctx, deadline).await?;
                let mut pump = Pump {
                    body: Box::pin(resp.bytes_stream()),
                    decoding: Decoding::new(make_decoder()).with_max_line(self.cfg.limits.max_sse_line_bytes),
                    queue: VecDeque::new(),
                    ended: false,
                    deadline,
                    first_wait: self.cfg.timeouts.first_byte,
                    idle: self.cfg.timeouts.idle,
                    started: false,
                    cancel: ctx.cancel.clone(),
                    provider: self.provider.clone(),
                    request_id: meta.request_id.clone(),
                };
                // Read until the first item, so that an error before any
                // content (an overload event after the 200) can be retried.
                // Silence is not: the server took the request and hung, and
                // a new attempt would most likely wait as long again.
                pump.fill().await;
                match pump.queue.front() {
                    Some(Err(_)) => {
                        let Some(Err(e)) = pump.queue.pop_front() else {
                            return Err(self
                                .error(ProviderErrorKind::Decode, "the stream produced nothing")
                                .into());
                        };
                        if matches!(e.kind(), ProviderErrorKind::Timeout | ProviderErrorKind::Decode) {
                            Err(Failed::last(e))
                        } else {
                            Err(e.into())
                        }
                    }
                    _ => Ok(pump),
                }
            }
            .await;
            match result {
                Ok(pump) => {
                    let stream = futures_util::stream::unfold(pump, |mut p| async move {
                        let item = p.next_item().await?;
                        Some((item, p))
                    });
                    return Ok(Box::pin(stream));
                }
                Err(e) => self.backoff(attempt, e, deadline, &ctx.cancel).await?,
            }
            attempt += 1;
        }
    }
}

/// Slack added to a retry sleep's limit, so the sleep (not the limit) ends the wait.
const CANCEL_POLL: Duration = Duration::from_millis(100);

enum Waited {
    TimedOut,
    Cancelled,
}

/// Waits for `fut` at most `limit`, giving up as soon as `cancel` is set
/// (the cancel wakes the wait; nothing polls the flag on a timer).
async fn wait_or_cancel<F: Future + Unpin>(
    fut: &mut F,
    limit: Duration,
    cancel: &CancelFlag,
) -> Result<F::Output, Waited> {
    if cancel.is_cancelled() {
        return Err(Waited::Cancelled);
    }
    let raced = futures_util::future::select(&mut *fut, cancel.cancelled());
    match tokio::time::timeout(limit, raced).await {
        Err(_) => Err(Waited::TimedOut),
        Ok(futures_util::future::Either::Left((v, _))) => Ok(v),
        Ok(futures_util::future::Either::Right(((), _))) => Err(Waited::Cancelled),
    }
}

/// Why [`read_limited`] stopped before the end of the body.
#[derive(Debug)]
enum BodyError<E> {
    /// More than the limit arrived (the bytes read so far, chunk included).
    TooLarge(usize),
    /// No chunk came within the idle limit.
    Silent(Duration),
    /// The call's deadline passed.
    OutOfTime,
    /// The caller cancelled.
    Cancelled,
    /// The connection broke.
    Broken(E),
}

/// Reads a body of at most `limit` bytes, holding no more than the limit
/// plus one chunk: past it, an error (or, with `truncate`, the first `limit`
/// bytes). Each chunk must come within `idle` and before `deadline`.
async fn read_limited<S, E>(
    body: &mut S,
    limit: usize,
    truncate: bool,
    idle: Duration,
    deadline: Instant,
    cancel: &CancelFlag,
) -> Result<Vec<u8>, BodyError<E>>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
{
    let mut buf = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let wait = idle.min(left);
        let mut next = body.next();
        match wait_or_cancel(&mut next, wait, cancel).await {
            Err(Waited::Cancelled) => return Err(BodyError::Cancelled),
            Err(Waited::TimedOut) if wait == left => return Err(BodyError::OutOfTime),
            Err(Waited::TimedOut) => return Err(BodyError::Silent(wait)),
            Ok(None) => return Ok(buf),
            Ok(Some(Err(e))) => return Err(BodyError::Broken(e)),
            Ok(Some(Ok(chunk))) => {
                if buf.len() + chunk.len() > limit {
                    if truncate {
                        let room = limit - buf.len();
                        buf.extend_from_slice(&chunk[..room]);
                        return Ok(buf);
                    }
                    return Err(BodyError::TooLarge(buf.len() + chunk.len()));
                }
                buf.extend_from_slice(&chunk);
            }
        }
    }
}

/// The scheme, host and port of a base URL, for messages.
fn origin_text(base_url: &str) -> String {
    match reqwest::Url::parse(base_url) {
        Ok(u) => {
            let (scheme, host, port) = origin(&u);
            format!(
                "{scheme}://{}{}",
                host.unwrap_or_default(),
                port.map(|p| format!(":{p}")).unwrap_or_default()
            )
        }
        Err(_) => "the configured base URL".into(),
    }
}

/// Moves bytes from the response through the decoder.
struct Pump<D> {
    body: ByteStream,
    decoding: Decoding<D>,
    queue: VecDeque<DecodedItem>,
    ended: bool,
    deadline: Instant,
    /// The longest wait for the first event after the headers.
    first_wait: Duration,
    /// The longest silence once an event has arrived.
    idle: Duration,
    started: bool,
    cancel: CancelFlag,
    provider: String,
    request_id: Option<String>,
}

impl<D: StreamDecoder> Pump<D> {
    fn fail(&mut self, kind: ProviderErrorKind, message: String) {
        self.queue
            .push_back(Err(ProviderError::new(kind, self.provider.clone(), message)));
        self.ended = true;
    }

    /// Reads chunks until at least one item is queued or the stream ended.
    async fn fill(&mut self) {
        let mut out = Vec::new();
        while self.queue.is_empty() && !self.ended {
            if self.cancel.is_cancelled() {
                self.fail(ProviderErrorKind::Cancelled, "the caller cancelled the stream".into());
                break;
            }
            let left = self.deadline.saturating_duration_since(Instant::now());
            let wait = if self.started { self.idle } else { self.first_wait }.min(left);
            let mut next = self.body.next();
            match wait_or_cancel(&mut next, wait, &self.cancel).await {
                Err(Waited::Cancelled) => {
                    self.fail(ProviderErrorKind::Cancelled, "the caller cancelled the stream".into());
                }
                Err(Waited::TimedOut) if wait == left => {
                    self.fail(
                        ProviderErrorKind::Timeout,
                        "the call ran out of time while streaming".into(),
                    );
                }
                Err(Waited::TimedOut) => {
                    let which = if self.started {
                        "Timeouts::idle"
                    } else {
                        "Timeouts::first_byte, before its first event"
                    };
                    self.fail(
                        ProviderErrorKind::Timeout,
                        format!("the stream was silent for {wait:?} ({which})"),
                    );
                }
                Ok(Some(Ok(chunk))) => self.decoding.push(&chunk, &mut out),
                Ok(Some(Err(e))) => {
                    let e = e.without_url();
                    self.decoding.finish(&mut Vec::new());
                    self.fail(ProviderErrorKind::Transport, format!("the stream broke: {e}"));
                }
                Ok(None) => {
                    self.decoding.finish(&mut out);
                    self.ended = true;
                }
            }
            if self.decoding.is_finished() {
                self.ended = true;
            }
            if !out.is_empty() {
                self.started = true;
            }
            for item in out.drain(..) {
                let item = match (item, &self.request_id) {
                    (Err(e), Some(id)) if e.request_id().is_none() => Err(e.with_request_id(id.clone())),
                    (other, _) => other,
                };
                self.queue.push_back(item);
            }
        }
    }

    async fn next_item(&mut self) -> Option<DecodedItem> {
        if self.queue.is_empty() {
            self.fill().await;
        }
        let item = self.queue.pop_front()?;
        if item.is_err() {
            self.queue.clear();
            self.ended = true;
        }
        Some(item)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    /// An endless body of `chunk`-byte chunks that counts what was pulled.
    fn endless(chunk: usize, pulled: Arc<AtomicUsize>) -> impl Stream<Item = Result<Bytes, ()>> + Unpin {
        let data = Bytes::from(vec![b'x'; chunk]);
        futures_util::stream::repeat_with(move || {
            pulled.fetch_add(data.len(), Ordering::SeqCst);
            Ok(data.clone())
        })
    }

    fn far() -> Instant {
        Instant::now() + Duration::from_secs(60)
    }

    #[tokio::test]
    async fn an_endless_body_is_dropped_after_the_limit_plus_one_chunk() {
        const LIMIT: usize = 1 << 20;
        const CHUNK: usize = 16 << 10;
        let pulled = Arc::new(AtomicUsize::new(0));
        let mut body = endless(CHUNK, pulled.clone());
        let cancel = CancelFlag::new();
        let err = read_limited(&mut body, LIMIT, false, Duration::from_secs(5), far(), &cancel)
            .await
            .unwrap_err();
        let read = match err {
            BodyError::TooLarge(n) => n,
            other => panic!("{other:?}"),
        };
        let pulled = pulled.load(Ordering::SeqCst);
        assert_eq!(read, pulled);
        assert!(pulled <= LIMIT + CHUNK, "read {pulled} bytes for a limit of {LIMIT}");
    }

    #[tokio::test]
    async fn an_error_body_is_cut_at_its_limit() {
        let pulled = Arc::new(AtomicUsize::new(0));
        let mut body = endless(1000, pulled.clone());
        let cancel = CancelFlag::new();
        let got = read_limited(&mut body, 2500, true, Duration::from_secs(5), far(), &cancel)
            .await
            .unwrap();
        assert_eq!(got.len(), 2500);
        assert_eq!(pulled.load(Ordering::SeqCst), 3000);
    }

    #[test]
    fn origins_compare_scheme_host_and_port() {
        let u = |s: &str| reqwest::Url::parse(s).unwrap();
        assert_eq!(
            origin(&u("https://api.x.com/v1")),
            origin(&u("https://api.x.com:443/v2"))
        );
        assert_ne!(origin(&u("https://api.x.com/v1")), origin(&u("http://api.x.com/v1")));
        assert_ne!(origin(&u("http://127.0.0.1:1/")), origin(&u("http://127.0.0.1:2/")));
        assert_eq!(origin_text("http://127.0.0.1:8080/v1?key=sk"), "http://127.0.0.1:8080");
    }
}
