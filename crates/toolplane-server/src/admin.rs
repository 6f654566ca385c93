//! Models, metrics, audit and health endpoints.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Extension;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use toolplane_core::Principal;
use toolplane_metrics::MetricsQuery;

use crate::app::{AppState, require_role};
use crate::error::ApiError;

/// Roles that may read metrics and the audit log.
pub(crate) const ADMIN_ROLES: &[&str] = &["admin", "auditor"];

/// `GET /v1/models`: experts, `auto` and the router's task types.
pub(crate) async fn models(State(state): State<AppState>) -> Response {
    let gw = &state.gateway;
    let created = 0u64;
    let mut data: Vec<Value> = gw
        .experts
        .iter()
        .map(|e| {
            json!({"id": e.id, "object": "model", "created": created, "owned_by": e.provider,
                "toolplane": {"kind": "expert", "provider": e.provider, "model": e.model,
                    "scripted": e.provider == "scripted"}})
        })
        .collect();
    data.push(
        json!({"id": "auto", "object": "model", "created": created, "owned_by": "toolplane",
        "toolplane": {"kind": "route", "task_type": null}}),
    );
    for t in gw.router.task_types().iter().filter(|t| *t != "default") {
        data.push(
            json!({"id": t, "object": "model", "created": created, "owned_by": "toolplane",
            "toolplane": {"kind": "route", "task_type": t}}),
        );
    }
    axum::Json(json!({"object": "list", "data": data})).into_response()
}

/// `GET /metrics`: Prometheus text.
pub(crate) async fn prometheus(State(state): State<AppState>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        state.gateway.metrics.to_prometheus(),
    )
        .into_response()
}

/// Query of `GET /v1/metrics`: Unix seconds.
#[derive(Debug, Deserialize)]
pub(crate) struct RangeQuery {
    from: Option<u64>,
    to: Option<u64>,
}

/// `GET /v1/metrics?from=&to=` (Unix seconds; default: all time).
pub(crate) async fn metrics_json(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Query(q): Query<RangeQuery>,
) -> Response {
    if let Err(e) = require_role(&principal, ADMIN_ROLES, "reading metrics") {
        return e.into_response();
    }
    let query = match (q.from, q.to) {
        (None, None) => MetricsQuery::all_time(),
        (from, to) => {
            let at = |s: u64| UNIX_EPOCH + Duration::from_secs(s);
            let to = to.map_or_else(SystemTime::now, at);
            let from = from.map_or(UNIX_EPOCH, at);
            if from > to {
                return ApiError::invalid("from", "`from` is after `to`").into_response();
            }
            MetricsQuery::between(from, to)
        }
    };
    match state.gateway.metrics.snapshot(&query) {
        Ok(report) => ([(header::CONTENT_TYPE, "application/json")], report.to_json()).into_response(),
        Err(e) => ApiError::invalid("from", e.to_string()).into_response(),
    }
}

/// Query of `GET /v1/audit`.
#[derive(Debug, Deserialize)]
pub(crate) struct AuditQuery {
    limit: Option<usize>,
    /// Only records of this principal.
    principal: Option<String>,
    /// Only records of this tool.
    tool: Option<String>,
    /// Only records with this decision (`allow`, `ask`, `deny`, `approved`, or `none`).
    decision: Option<String>,
}

/// `GET /v1/audit?limit=n&principal=&tool=&decision=`: the most recent
/// matching records (default 100), newest last; `total` counts every match.
pub(crate) async fn audit(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Query(q): Query<AuditQuery>,
) -> Response {
    if let Err(e) = require_role(&principal, ADMIN_ROLES, "reading the audit log") {
        return e.into_response();
    }
    let dir = state.gateway.audit_dir.clone();
    let limit = q.limit.unwrap_or(100).clamp(1, 10_000);
    let read = tokio::task::spawn_blocking(move || toolplane_security::audit::read_dir(&dir)).await;
    match read {
        Ok(Ok((records, report))) => {
            let keep = |v: &Option<String>| v.as_deref().filter(|s| !s.is_empty()).map(str::to_owned);
            let (principal, tool, decision) = (keep(&q.principal), keep(&q.tool), keep(&q.decision));
            let matching: Vec<&(u64, toolplane_security::audit::AuditRecord)> = records
                .iter()
                .filter(|(_, r)| principal.as_ref().is_none_or(|p| *p == r.principal))
                .filter(|(_, r)| tool.as_ref().is_none_or(|t| Some(t) == r.tool.as_ref()))
                .filter(|(_, r)| {
                    decision
                        .as_ref()
                        .is_none_or(|d| r.decision.as_deref().unwrap_or("none") == d)
                })
                .collect();
            let start = matching.len().saturating_sub(limit);
            let data: Vec<Value> = matching[start..]
                .iter()
                .map(|(seq, r)| json!({"seq": seq, "record": r}))
                .collect();
            axum::Json(json!({"object": "list", "data": data, "total": matching.len(), "verified": report.is_ok()}))
                .into_response()
        }
        Ok(Err(e)) => ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "server_error", e.to_string()).into_response(),
        Err(e) => ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "server_error", e.to_string()).into_response(),
    }
}

/// `POST /v1/audit/verify`: checks the hash chain and frames of the whole log.
pub(crate) async fn audit_verify(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
) -> Response {
    if let Err(e) = require_role(&principal, ADMIN_ROLES, "verifying the audit log") {
        return e.into_response();
    }
    let dir = state.gateway.audit_dir.clone();
    match tokio::task::spawn_blocking(move || toolplane_security::verify_dir(&dir)).await {
        Ok(Ok(report)) => {
            let ok = report.is_ok();
            let failure = report.failure.as_ref().map(|f| {
                json!({"seq": f.seq, "segment": f.segment.display().to_string(), "offset": f.offset, "reason": f.reason})
            });
            let body = json!({
                "ok": ok,
                "summary": report.to_string(),
                "records": report.records,
                "segments": report.segments,
                "checkpoints": report.checkpoints,
                "unacknowledged": report.unacknowledged,
                "recovered_bytes": report.recovered_bytes,
                "failure": failure,
            });
            axum::Json(body).into_response()
        }
        Ok(Err(e)) => ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "server_error", e.to_string()).into_response(),
        Err(e) => ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "server_error", e.to_string()).into_response(),
    }
}

/// `GET /healthz`: the process answers.
pub(crate) async fn healthz() -> Response {
    axum::Json(json!({"status": "ok"})).into_response()
}

/// Sends `PING` to the Redis at `url` and expects `+PONG`.
async fn redis_ping(url: &str) -> Result<(), String> {
    let rest = url
        .strip_prefix("redis://")
        .ok_or_else(|| "only redis:// URLs are checked".to_owned())?;
    let hostport = rest.split('/').next().unwrap_or(rest);
    let hostport = hostport.rsplit('@').next().unwrap_or(hostport);
    let addr = if hostport.contains(':') {
        hostport.to_owned()
    } else {
        format!("{hostport}:6379")
    };
    let io = async {
        let mut s = tokio::net::TcpStream::connect(&addr).await?;
        s.write_all(b"PING\r\n").await?;
        let mut buf = [0u8; 64];
        let n = s.read(&mut buf).await?;
        Ok::<_, std::io::Error>(buf[..n].to_vec())
    };
    match tokio::time::timeout(Duration::from_secs(2), io).await {
        Ok(Ok(reply)) if reply.starts_with(b"+PONG") => Ok(()),
        Ok(Ok(reply)) => Err(format!("unexpected reply {:?}", String::from_utf8_lossy(&reply))),
        Ok(Err(e)) => Err(format!("{addr}: {e}")),
        Err(_) => Err(format!("{addr}: no answer within 2 s")),
    }
}

/// `GET /readyz`: providers configured, Redis reachable (when configured), audit folder writable.
pub(crate) async fn readyz(State(state): State<AppState>) -> Response {
    let gw = &state.gateway;
    let mut checks = serde_json::Map::new();
    let mut ready = true;
    let providers = !gw.experts.is_empty();
    ready &= providers;
    checks.insert(
        "providers".into(),
        json!({"ok": providers, "experts": gw.experts.len(), "scripted_only": gw.scripted_only}),
    );
    if let Some(url) = &gw.redis_url {
        let r = redis_ping(url).await;
        ready &= r.is_ok();
        checks.insert("redis".into(), json!({"ok": r.is_ok(), "error": r.err()}));
    }
    let probe = gw.audit_dir.join(".readyz-probe");
    let writable = tokio::fs::write(&probe, b"ok")
        .await
        .and(tokio::fs::remove_file(&probe).await);
    ready &= writable.is_ok();
    checks.insert(
        "audit".into(),
        json!({"ok": writable.is_ok(), "error": writable.err().map(|e| e.to_string())}),
    );
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, axum::Json(json!({"ready": ready, "checks": checks}))).into_response()
}
