//! `GET /v1/dashboard?range=15m|1h|6h|24h`: the series the console's
//! dashboard draws, cut from the metrics collector's per-minute windows.
//!
//! ```text
//! range 1h ─► 12 buckets of 5 min ─► collector.snapshot(between(bucket)) each
//!          └► one snapshot over the whole range: cost, win rates, error kinds
//! ```

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Extension;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get};
use serde::Deserialize;
use serde_json::{Value, json};
use toolplane_core::Principal;
use toolplane_metrics::{CostLine, MetricsQuery};

use crate::admin::ADMIN_ROLES;
use crate::app::{AppState, require_role};
use crate::error::ApiError;
use crate::openapi_doc::EndpointDoc;

/// The ranges the picker offers: name, length, bucket.
const RANGES: [(&str, u64, u64); 4] = [
    ("15m", 15 * 60, 60),
    ("1h", 3600, 5 * 60),
    ("6h", 6 * 3600, 15 * 60),
    ("24h", 24 * 3600, 3600),
];

pub(crate) fn endpoints() -> Vec<(EndpointDoc, MethodRouter<AppState>)> {
    vec![(
        EndpointDoc {
            method: "get",
            path: "/v1/dashboard",
            operation_id: "getDashboard",
            summary: "Series for the console's dashboard: latency p50/p95/p99 per provider over time, cost by provider/model/task type, win rate by task type, error kinds.",
            authenticated: true,
            request: None,
            produces: "application/json",
            query: &[("range", "string", "15m, 1h, 6h or 24h (default 1h)")],
        },
        get(dashboard),
    )]
}

/// Query of `GET /v1/dashboard`.
#[derive(Debug, Deserialize)]
struct DashboardQuery {
    range: Option<String>,
}

fn cost_lines(lines: &[CostLine]) -> Vec<Value> {
    lines
        .iter()
        .map(|l| json!({"name": l.name, "cost_usd": l.cost_usd, "share": l.share, "calls": l.calls, "unpriced_calls": l.unpriced_calls}))
        .collect()
}

fn unix_ms(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// `GET /v1/dashboard?range=`.
async fn dashboard(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Query(q): Query<DashboardQuery>,
) -> Response {
    if let Err(e) = require_role(&principal, ADMIN_ROLES, "reading the dashboard") {
        return e.into_response();
    }
    let name = q.range.as_deref().unwrap_or("1h");
    let Some(&(name, length, bucket)) = RANGES.iter().find(|(n, ..)| *n == name) else {
        return ApiError::invalid("range", format!("`{name}` is not a range; use 15m, 1h, 6h or 24h"))
            .with_code("invalid_range")
            .into_response();
    };
    let metrics = &state.gateway.metrics;
    // The end is the start of the next minute, so the current minute counts;
    // the start never reaches past the collector's retention.
    let now_s = unix_ms(metrics.now()) / 1000;
    let end = (now_s / 60 + 1) * 60;
    let retention = metrics.config().retention.as_secs().max(60);
    let earliest = (now_s / 60).saturating_sub(retention / 60 - 1) * 60;
    let start = end.saturating_sub(length).max(earliest);
    let at = |s: u64| UNIX_EPOCH + Duration::from_secs(s);

    let whole = match metrics.snapshot(&MetricsQuery::between(at(start), at(end))) {
        Ok(r) => r,
        Err(e) => {
            return ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "server_error", e.to_string()).into_response();
        }
    };
    let providers: Vec<String> = whole.providers.iter().filter_map(|p| p.provider.clone()).collect();
    let mut times = Vec::new();
    let mut series: Vec<Vec<Value>> = vec![Vec::new(); providers.len()];
    let mut calls_series = Vec::new();
    let mut t = start;
    while t < end {
        let to = (t + bucket).min(end);
        times.push(t * 1000);
        let report = metrics.snapshot(&MetricsQuery::between(at(t), at(to))).ok();
        calls_series.push(report.as_ref().map_or(0, |r| r.totals.calls));
        for (i, p) in providers.iter().enumerate() {
            let g = report
                .as_ref()
                .and_then(|r| r.providers.iter().find(|g| g.provider.as_ref() == Some(p)));
            let point = match g.and_then(|g| g.latency_ms.map(|l| (g.calls, l))) {
                Some((calls, l)) => json!({"t": t * 1000, "calls": calls, "p50": l.p50, "p95": l.p95, "p99": l.p99}),
                None => json!({"t": t * 1000, "calls": 0, "p50": null, "p95": null, "p99": null}),
            };
            series[i].push(point);
        }
        t = to;
    }
    let latency: Vec<Value> = providers
        .iter()
        .zip(series)
        .map(|(p, points)| json!({"provider": p, "points": points}))
        .collect();
    let mut errors: Vec<(String, u64)> = whole.totals.errors.iter().map(|(k, v)| (k.clone(), *v)).collect();
    errors.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let errors_by_provider: Vec<Value> = whole
        .providers
        .iter()
        .filter(|p| !p.errors.is_empty())
        .map(|p| json!({"provider": p.provider, "errors": p.errors}))
        .collect();
    let win_rates: Vec<Value> = whole
        .win_rates
        .iter()
        .map(|w| {
            json!({"task_type": w.task_type.clone().unwrap_or_else(|| "default".into()), "provider": w.provider,
                "model": w.model, "wins": w.wins, "losses": w.losses, "judged": w.judged, "win_rate": w.win_rate})
        })
        .collect();
    let body = json!({
        "range": name,
        "from_unix_ms": start * 1000,
        "to_unix_ms": end * 1000,
        "bucket_seconds": bucket,
        "buckets": times,
        "calls": calls_series,
        "totals": {
            "calls": whole.totals.calls, "successes": whole.totals.successes, "failures": whole.totals.failures,
            "success_rate": whole.totals.success_rate, "cost_usd": whole.totals.cost_usd,
            "latency_ms": whole.totals.latency_ms,
        },
        "latency": latency,
        "cost": {
            "total_usd": whole.cost.total_usd,
            "priced_calls": whole.cost.priced_calls,
            "unpriced_calls": whole.cost.unpriced_calls,
            "unpriced_models": whole.cost.unpriced_models,
            "by_provider": cost_lines(&whole.cost.by_provider),
            "by_model": cost_lines(&whole.cost.by_model),
            "by_task_type": cost_lines(&whole.cost.by_task_type),
        },
        "win_rates": win_rates,
        "errors": errors.iter().map(|(k, v)| json!({"kind": k, "count": v})).collect::<Vec<_>>(),
        "errors_by_provider": errors_by_provider,
    });
    axum::Json(body).into_response()
}
