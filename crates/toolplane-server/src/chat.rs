//! `POST /v1/chat/completions` and `POST /v1/messages`: one request through
//! the chat chain (rate limit, budget) to an expert or the router, answered
//! whole or as a stream.
//!
//! A client that goes away drops the handler's future (non-streamed) or the
//! response body (streamed); either drops the upstream call with it, so no
//! tokens are spent for nobody.

use std::convert::Infallible;
use std::sync::Arc;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::HeaderValue;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use futures_util::stream;
use serde_json::Value;
use toolplane_core::{CallContext, ChatProvider, ChatRequest, ChatStream, Principal, StreamEvent};

use crate::anthropic_wire;
use crate::app::{AppState, EXPERT_HEADER, RequestId, json_body};
use crate::build::Gateway;
use crate::error::{ApiError, Dialect};
use crate::openai_wire;

/// Where a request goes.
pub(crate) struct Target {
    pub(crate) provider: Arc<dyn ChatProvider>,
    /// The expert id, when the client named one.
    pub(crate) expert: Option<String>,
}

/// Resolves `model`: an expert id or model, `auto`, or a task type of the router.
pub(crate) fn resolve(gw: &Gateway, req: &mut ChatRequest) -> Result<Target, ApiError> {
    if let Some(e) = gw.expert(&req.model) {
        req.model.clone_from(&e.model);
        return Ok(Target {
            provider: e.chat.clone(),
            expert: Some(e.id.clone()),
        });
    }
    let routed = Target {
        provider: gw.routed.clone(),
        expert: None,
    };
    if req.model.is_empty() || req.model == "auto" {
        return Ok(routed);
    }
    if let Some(task) = req.model.strip_prefix("task:").or(Some(req.model.as_str())) {
        if gw.router.task_types().iter().any(|t| t == task) {
            req.metadata.task_type = Some(task.to_owned());
            return Ok(routed);
        }
    }
    let mut names: Vec<String> = gw.experts.iter().map(|e| e.id.clone()).collect();
    names.push("auto".into());
    names.extend(gw.router.task_types().iter().filter(|t| *t != "default").cloned());
    Err(ApiError::not_found(format!(
        "model `{}` is neither an expert nor a route; known: {}",
        req.model,
        names.join(", ")
    ))
    .with_param("model")
    .with_code("model_not_found"))
}

/// The call's context. The task type stays on the request (its one home),
/// where the router and the metrics read it.
fn context(rid: &RequestId, principal: Principal, _req: &ChatRequest) -> CallContext {
    CallContext::new(rid.0.clone()).with_principal(principal)
}

fn now_s() -> u64 {
    crate::runs::now_ms() / 1000
}

fn with_expert(mut r: Response, expert: &str) -> Response {
    if let Ok(v) = HeaderValue::from_str(expert) {
        r.headers_mut().insert(EXPERT_HEADER, v);
    }
    r
}

/// Who answered a stream: the named expert, or the one whose model the stream reports.
fn stream_expert(gw: &Gateway, target: &Target, first: Option<&StreamEvent>) -> String {
    if let Some(e) = &target.expert {
        return e.clone();
    }
    match first {
        Some(StreamEvent::Start { model: Some(m), .. }) => {
            gw.expert_for("", m).map_or_else(|| m.clone(), |e| e.id.clone())
        }
        _ => "router".into(),
    }
}

/// Opens the stream and reads its first event, so the headers can name the expert.
async fn open_stream(
    target: &Target,
    req: &ChatRequest,
    ctx: &CallContext,
) -> Result<(Option<StreamEvent>, ChatStream), ApiError> {
    let mut s = target
        .provider
        .chat_stream(req, ctx)
        .await
        .map_err(|e| ApiError::from_provider(&e))?;
    match s.next().await {
        Some(Ok(e)) => Ok((Some(e), s)),
        Some(Err(e)) => Err(ApiError::from_provider(&e)),
        None => Ok((None, s)),
    }
}

/// `POST /v1/chat/completions`.
pub(crate) async fn chat_completions(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Extension(rid): Extension<RequestId>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    match completions(state, principal, rid, body).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

async fn completions(
    state: AppState,
    principal: Principal,
    rid: RequestId,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let gw = &state.gateway;
    let (mut req, flags) = openai_wire::parse_request(json_body(body, Dialect::OpenAi)?)?;
    req.metadata.request_id = Some(rid.0.clone());
    let target = resolve(gw, &mut req)?;
    let ctx = context(&rid, principal, &req);
    let id = format!("chatcmpl-{}", rid.0.trim_start_matches("req_"));
    if !flags.stream {
        let resp = target
            .provider
            .chat(&req, &ctx)
            .await
            .map_err(|e| ApiError::from_provider(&e))?;
        let expert = target.expert.clone().unwrap_or_else(|| {
            gw.expert_for(&resp.provider, &resp.model)
                .map_or_else(|| resp.model.clone(), |e| e.id.clone())
        });
        let body = openai_wire::response_body(&resp, &id, &expert, now_s());
        return Ok(with_expert(axum::Json(body).into_response(), &expert));
    }
    let (first, rest) = open_stream(&target, &req, &ctx).await?;
    let expert = stream_expert(gw, &target, first.as_ref());
    let mut writer = openai_wire::ChunkWriter::new(id, expert.clone(), now_s(), flags.include_usage);
    let events = stream::iter(first.map(Ok)).chain(rest);
    let mut failed = false;
    let body = events
        .flat_map(move |item| {
            let out: Vec<Event> = match item {
                Ok(e) => writer
                    .push(&e)
                    .into_iter()
                    .map(|c| Event::default().data(c.to_string()))
                    .chain(
                        matches!(e, StreamEvent::Stop { .. })
                            .then(|| writer.finish())
                            .flatten()
                            .map(|c| Event::default().data(c.to_string())),
                    )
                    .collect(),
                Err(err) if !failed => {
                    failed = true;
                    vec![Event::default().data(ApiError::from_provider(&err).body().to_string())]
                }
                Err(_) => Vec::new(),
            };
            stream::iter(out)
        })
        .chain(stream::once(async { Event::default().data("[DONE]") }))
        .map(Ok::<_, Infallible>);
    let r = Sse::new(body).keep_alive(KeepAlive::default()).into_response();
    Ok(with_expert(r, &expert))
}

/// `POST /v1/messages`.
pub(crate) async fn messages(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Extension(rid): Extension<RequestId>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    match anthropic(state, principal, rid, body).await {
        Ok(r) => r,
        Err(e) => e.in_dialect(Dialect::Anthropic).into_response(),
    }
}

async fn anthropic(
    state: AppState,
    principal: Principal,
    rid: RequestId,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let gw = &state.gateway;
    let (mut req, stream_it) = anthropic_wire::parse_request(json_body(body, Dialect::Anthropic)?)?;
    req.metadata.request_id = Some(rid.0.clone());
    let target = resolve(gw, &mut req)?;
    let ctx = context(&rid, principal, &req);
    let id = format!("msg_{}", rid.0.trim_start_matches("req_"));
    if !stream_it {
        let resp = target
            .provider
            .chat(&req, &ctx)
            .await
            .map_err(|e| ApiError::from_provider(&e))?;
        let expert = target.expert.clone().unwrap_or_else(|| {
            gw.expert_for(&resp.provider, &resp.model)
                .map_or_else(|| resp.model.clone(), |e| e.id.clone())
        });
        let body = anthropic_wire::response_body(&resp, &id, &expert);
        return Ok(with_expert(axum::Json(body).into_response(), &expert));
    }
    let (first, rest) = open_stream(&target, &req, &ctx).await?;
    let expert = stream_expert(gw, &target, first.as_ref());
    let mut writer = anthropic_wire::EventWriter::new(id, expert.clone());
    let events = stream::iter(first.map(Ok)).chain(rest);
    let mut done = false;
    let event = |(name, data): (&'static str, Value)| Event::default().event(name).data(data.to_string());
    let body = events
        .flat_map(move |item| {
            if done {
                return stream::iter(Vec::new());
            }
            let out: Vec<Event> = match item {
                Ok(e) => {
                    let mut out: Vec<Event> = writer.push(&e).into_iter().map(event).collect();
                    if matches!(e, StreamEvent::Stop { .. }) {
                        done = true;
                        out.extend(writer.finish().into_iter().map(event));
                    }
                    out
                }
                Err(err) => {
                    done = true;
                    let body = ApiError::from_provider(&err).in_dialect(Dialect::Anthropic).body();
                    vec![Event::default().event("error").data(body.to_string())]
                }
            };
            stream::iter(out)
        })
        .map(Ok::<_, Infallible>);
    let r = Sse::new(body).keep_alive(KeepAlive::default()).into_response();
    Ok(with_expert(r, &expert))
}
