//! Streamable HTTP for the client on the workspace's reqwest 0.12.
//!
//! rmcp's own HTTP client is built on reqwest 0.13; enabling it would put a
//! second reqwest in every host. This adapter implements rmcp's
//! `StreamableHttpClient` on reqwest 0.12 instead: POST a message and read a
//! JSON answer or an SSE stream, GET the server's stream, DELETE the session.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use http::{HeaderName, HeaderValue};
use rmcp::model::{ClientJsonRpcMessage, JsonRpcMessage, ServerJsonRpcMessage};
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::{
    AuthRequiredError, SseError, StreamableHttpClient, StreamableHttpClientTransportConfig, StreamableHttpError,
    StreamableHttpPostResponse, StreamableHttpResponseLimits,
};
use sse_stream::{Sse, SseStream};

use super::HttpServer;

const SESSION_ID: &str = "Mcp-Session-Id";
const LAST_EVENT_ID: &str = "Last-Event-Id";
const ACCEPT_BOTH: &str = "application/json, text/event-stream";

/// rmcp's `StreamableHttpClient` over a reqwest 0.12 client.
#[derive(Debug, Clone)]
pub(crate) struct Reqwest012(pub(crate) reqwest::Client);

/// The transport for `server`: its URL, bearer token and headers.
pub(crate) fn transport(server: &HttpServer) -> Result<StreamableHttpClientTransport<Reqwest012>, String> {
    let url = reqwest::Url::parse(&server.url).map_err(|e| format!("bad URL `{}`: {e}", server.url))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("`{}`: only http and https URLs are supported", server.url));
    }
    let mut headers = HashMap::new();
    for (k, v) in &server.headers {
        let name = HeaderName::try_from(k.as_str()).map_err(|e| format!("bad header name `{k}`: {e}"))?;
        let value = HeaderValue::try_from(v.as_str()).map_err(|e| format!("header `{k}`: bad value: {e}"))?;
        headers.insert(name, value);
    }
    let mut config = StreamableHttpClientTransportConfig::with_uri(server.url.clone()).custom_headers(headers);
    if let Some(token) = &server.bearer {
        config = config.auth_header(token.clone());
    }
    let client = reqwest::Client::builder()
        .build()
        .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
    Ok(StreamableHttpClientTransport::with_client(Reqwest012(client), config))
}

type HttpResult<T> = Result<T, StreamableHttpError<reqwest::Error>>;

fn media_is(value: Option<&HeaderValue>, wanted: &str) -> bool {
    value
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case(wanted))
}

fn with_common(
    mut req: reqwest::RequestBuilder,
    session: Option<&str>,
    auth: Option<String>,
    headers: HashMap<HeaderName, HeaderValue>,
) -> reqwest::RequestBuilder {
    if let Some(s) = session {
        req = req.header(SESSION_ID, s);
    }
    if let Some(token) = auth {
        req = req.bearer_auth(token);
    }
    for (k, v) in headers {
        req = req.header(k, v);
    }
    req
}

fn auth_challenge(resp: &reqwest::Response) -> Option<StreamableHttpError<reqwest::Error>> {
    if resp.status() != reqwest::StatusCode::UNAUTHORIZED {
        return None;
    }
    let header = resp.headers().get(reqwest::header::WWW_AUTHENTICATE)?.to_str().ok()?;
    Some(StreamableHttpError::AuthRequired(AuthRequiredError::new(
        header.to_string(),
    )))
}

/// Reads at most `max` bytes of a body; more is an error, never a silent cut.
async fn bounded_body(resp: reqwest::Response, max: usize) -> HttpResult<Vec<u8>> {
    let mut body = Vec::new();
    let mut stream = resp.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(StreamableHttpError::Client)?;
        if body.len() + chunk.len() > max {
            return Err(StreamableHttpError::ResponseBodyTooLarge { max_size: max });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// An SSE stream whose events may not exceed `max` bytes: the byte count
/// since the last blank line is bounded before the parser buffers it.
fn sse_events(resp: reqwest::Response, max: usize) -> BoxStream<'static, Result<Sse, SseError>> {
    let mut since_boundary = 0usize;
    let bytes = resp.bytes_stream().map(move |chunk| {
        let chunk = chunk.map_err(std::io::Error::other)?;
        let tail = chunk
            .windows(2)
            .rposition(|w| w == b"\n\n" || w == b"\r\r")
            .map_or(chunk.len(), |i| chunk.len() - i - 2);
        since_boundary = if tail == chunk.len() {
            since_boundary + chunk.len()
        } else {
            tail
        };
        if since_boundary > max {
            return Err(std::io::Error::other(format!("an SSE event exceeds {max} bytes")));
        }
        Ok(chunk)
    });
    SseStream::from_bytes_stream(bytes).boxed()
}

impl StreamableHttpClient for Reqwest012 {
    type Error = reqwest::Error;

    async fn post_message(
        &self,
        uri: Arc<str>,
        message: ClientJsonRpcMessage,
        session_id: Option<Arc<str>>,
        auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
    ) -> HttpResult<StreamableHttpPostResponse> {
        self.post_message_with_response_limits(
            uri,
            message,
            session_id,
            auth_header,
            custom_headers,
            StreamableHttpResponseLimits::default(),
        )
        .await
    }

    async fn post_message_with_max_sse_event_size(
        &self,
        uri: Arc<str>,
        message: ClientJsonRpcMessage,
        session_id: Option<Arc<str>>,
        auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
        max_sse_event_size: usize,
    ) -> HttpResult<StreamableHttpPostResponse> {
        let mut limits = StreamableHttpResponseLimits::default();
        limits.max_sse_event_size = max_sse_event_size;
        self.post_message_with_response_limits(uri, message, session_id, auth_header, custom_headers, limits)
            .await
    }

    async fn post_message_with_response_limits(
        &self,
        uri: Arc<str>,
        message: ClientJsonRpcMessage,
        session_id: Option<Arc<str>>,
        auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
        limits: StreamableHttpResponseLimits,
    ) -> HttpResult<StreamableHttpPostResponse> {
        let had_session = session_id.is_some();
        let req = self.0.post(uri.as_ref()).header(reqwest::header::ACCEPT, ACCEPT_BOTH);
        let req = with_common(req, session_id.as_deref(), auth_header, custom_headers);
        let resp = req.json(&message).send().await.map_err(StreamableHttpError::Client)?;
        if let Some(e) = auth_challenge(&resp) {
            return Err(e);
        }
        let status = resp.status();
        if matches!(status, reqwest::StatusCode::ACCEPTED | reqwest::StatusCode::NO_CONTENT) {
            return Ok(StreamableHttpPostResponse::Accepted);
        }
        if status == reqwest::StatusCode::NOT_FOUND && had_session {
            return Err(StreamableHttpError::SessionExpired);
        }
        let session = resp
            .headers()
            .get(SESSION_ID)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let content_type = resp.headers().get(reqwest::header::CONTENT_TYPE).cloned();
        if status.is_success() && media_is(content_type.as_ref(), "text/event-stream") {
            return Ok(StreamableHttpPostResponse::Sse(
                sse_events(resp, limits.max_sse_event_size),
                session,
            ));
        }
        let is_json = media_is(content_type.as_ref(), "application/json");
        if !status.is_success() {
            let body = bounded_body(resp, limits.max_error_response_size.max(1024))
                .await
                .unwrap_or_default();
            if is_json && let Ok(msg @ JsonRpcMessage::Error(_)) = serde_json::from_slice::<ServerJsonRpcMessage>(&body)
            {
                return Ok(StreamableHttpPostResponse::Json(msg, session));
            }
            let text: String = String::from_utf8_lossy(&body).chars().take(300).collect();
            return Err(StreamableHttpError::UnexpectedServerResponse(Cow::Owned(format!(
                "HTTP {status}: {text}"
            ))));
        }
        let body = bounded_body(resp, limits.max_json_response_size).await?;
        let awaits_nothing = !matches!(message, ClientJsonRpcMessage::Request(_));
        if body.is_empty() && awaits_nothing {
            return Ok(StreamableHttpPostResponse::Accepted);
        }
        if !is_json {
            return Err(StreamableHttpError::UnexpectedContentType(
                content_type.and_then(|v| v.to_str().ok().map(str::to_string)),
            ));
        }
        let msg: ServerJsonRpcMessage = serde_json::from_slice(&body)?;
        Ok(StreamableHttpPostResponse::Json(msg, session))
    }

    async fn delete_session(
        &self,
        uri: Arc<str>,
        session_id: Arc<str>,
        auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
    ) -> HttpResult<()> {
        let req = with_common(
            self.0.delete(uri.as_ref()),
            Some(&session_id),
            auth_header,
            custom_headers,
        );
        let resp = req.send().await.map_err(StreamableHttpError::Client)?;
        if resp.status() == reqwest::StatusCode::METHOD_NOT_ALLOWED {
            return Ok(());
        }
        resp.error_for_status().map_err(StreamableHttpError::Client)?;
        Ok(())
    }

    async fn get_stream(
        &self,
        uri: Arc<str>,
        session_id: Option<Arc<str>>,
        last_event_id: Option<String>,
        auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
    ) -> HttpResult<BoxStream<'static, Result<Sse, SseError>>> {
        self.get_stream_with_max_sse_event_size(
            uri,
            session_id,
            last_event_id,
            auth_header,
            custom_headers,
            StreamableHttpResponseLimits::default().max_sse_event_size,
        )
        .await
    }

    async fn get_stream_with_max_sse_event_size(
        &self,
        uri: Arc<str>,
        session_id: Option<Arc<str>>,
        last_event_id: Option<String>,
        auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
        max_sse_event_size: usize,
    ) -> HttpResult<BoxStream<'static, Result<Sse, SseError>>> {
        let mut req = self.0.get(uri.as_ref()).header(reqwest::header::ACCEPT, ACCEPT_BOTH);
        if let Some(id) = last_event_id {
            req = req.header(LAST_EVENT_ID, id);
        }
        let req = with_common(req, session_id.as_deref(), auth_header, custom_headers);
        let resp = req.send().await.map_err(StreamableHttpError::Client)?;
        if resp.status() == reqwest::StatusCode::METHOD_NOT_ALLOWED {
            return Err(StreamableHttpError::ServerDoesNotSupportSse);
        }
        if let Some(e) = auth_challenge(&resp) {
            return Err(e);
        }
        let resp = resp.error_for_status().map_err(StreamableHttpError::Client)?;
        let ct = resp.headers().get(reqwest::header::CONTENT_TYPE).cloned();
        if !media_is(ct.as_ref(), "text/event-stream") {
            return Err(StreamableHttpError::UnexpectedContentType(
                ct.and_then(|v| v.to_str().ok().map(str::to_string)),
            ));
        }
        Ok(sse_events(resp, max_sse_event_size))
    }
}
