//! The HTTP side shared by every provider: one reqwest client per provider,
//! auth, custom headers and query, timeouts, the retry loop, and the stream
//! pump that feeds response bytes through a decoder.

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
}

type ByteStream = Pin<Box<dyn Stream<Item = reqwest::Result<Bytes>> + Send>>;

impl HttpClient {
    pub(crate) fn new(provider: &str, cfg: ProviderConfig) -> Result<Self, ConfigError> {
        cfg.check(provider)?;
        let client = reqwest::Client::builder()
            .connect_timeout(cfg.timeouts.connect)
            .build()
            .map_err(|e| ConfigError::Client(e.to_string()))?;
        Ok(Self {
            provider: provider.to_owned(),
            client,
            cfg,
            last_rate_limit: Arc::default(),
        })
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

    fn transport(&self, e: reqwest::Error) -> ProviderError {
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
        self.error(kind, format!("{what}: {e}")).with_source(e)
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
    ) -> Result<(reqwest::Response, ResponseMeta), ProviderError> {
        if ctx.cancel.is_cancelled() {
            return Err(self.error(ProviderErrorKind::Cancelled, "the caller cancelled the call"));
        }
        let wait = self
            .cfg
            .timeouts
            .first_byte
            .min(deadline.saturating_duration_since(Instant::now()));
        let mut send = Box::pin(self.request(path, body, ctx).send());
        let resp = match wait_or_cancel(&mut send, wait, &ctx.cancel).await {
            Err(Waited::TimedOut) => {
                return Err(self.error(
                    ProviderErrorKind::Timeout,
                    format!("no response headers within {wait:?}"),
                ));
            }
            Err(Waited::Cancelled) => {
                return Err(self.error(ProviderErrorKind::Cancelled, "the caller cancelled the call"));
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
        let remaining = deadline.saturating_duration_since(Instant::now());
        let body = match tokio::time::timeout(remaining, resp.bytes()).await {
            Ok(Ok(b)) => b,
            _ => Bytes::new(),
        };
        let get = |n: &str| headers.get(n).and_then(|v| v.to_str().ok());
        Err(errors::from_response(&self.provider, status, get, &body))
    }

    /// Waits before the next attempt, or returns the error when no retry is due.
    /// A set cancel flag ends the wait with the original error.
    async fn backoff(
        &self,
        attempt: u32,
        err: ProviderError,
        deadline: Instant,
        cancel: &CancelFlag,
    ) -> Result<(), ProviderError> {
        match self.cfg.retry.delay(attempt, &err) {
            Some(d) if Instant::now() + d < deadline => {
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
    ) -> Result<(Bytes, ResponseMeta), ProviderError> {
        let deadline = self.deadline(ctx);
        let mut attempt = 0;
        loop {
            let result = async {
                let (resp, meta) = self.send_once(path, body, ctx, deadline).await?;
                let remaining = deadline.saturating_duration_since(Instant::now());
                match tokio::time::timeout(remaining, resp.bytes()).await {
                    Err(_) => Err(self.error(ProviderErrorKind::Timeout, "the call ran out of time reading the body")),
                    Ok(Err(e)) => Err(self.transport(e)),
                    Ok(Ok(b)) => Ok((b, meta)),
                }
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
    /// answer with `parse`, and stamps it with the response's request id and
    /// rate-limit snapshot.
    pub(crate) async fn post_chat(
        &self,
        path: &str,
        body: &Value,
        ctx: &CallContext,
        parse: impl FnOnce(&[u8]) -> Result<ChatResponse, ProviderError>,
    ) -> Result<ChatResponse, ProviderError> {
        let (bytes, meta) = self.post_json(path, body, ctx).await?;
        let mut resp = parse(&bytes)?;
        resp.request_id = meta.request_id;
        resp.rate_limit = meta.rate_limit;
        Ok(resp)
    }

    /// POSTs JSON and streams the answer through a decoder. Retries (as the
    /// policy allows) until the first decoded event, never after.
    pub(crate) async fn post_stream<D, F>(
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
                    decoding: Decoding::new(make_decoder()),
                    queue: VecDeque::new(),
                    ended: false,
                    deadline,
                    idle: self.cfg.timeouts.first_byte,
                    cancel: ctx.cancel.clone(),
                    provider: self.provider.clone(),
                    request_id: meta.request_id.clone(),
                };
                // Read until the first item, so that an error before any
                // content (an overload event after the 200) can be retried.
                pump.fill().await;
                match pump.queue.front() {
                    Some(Err(_)) => {
                        let Some(Err(e)) = pump.queue.pop_front() else {
                            return Err(self.error(ProviderErrorKind::Decode, "the stream produced nothing"));
                        };
                        Err(e)
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

/// Moves bytes from the response through the decoder.
struct Pump<D> {
    body: ByteStream,
    decoding: Decoding<D>,
    queue: VecDeque<DecodedItem>,
    ended: bool,
    deadline: Instant,
    idle: Duration,
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
            let wait = self.idle.min(left);
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
                Err(Waited::TimedOut) => self.fail(
                    ProviderErrorKind::Timeout,
                    format!("the stream was silent for {wait:?}"),
                ),
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
            if self.decoding.is_done() {
                self.ended = true;
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
