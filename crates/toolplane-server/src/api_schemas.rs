//! The JSON Schemas of the bodies the models, tools, runs, metrics, audit and
//! health endpoints answer with, for `GET /openapi.json`. The chat bodies'
//! schemas sit beside their writers (`openai_wire`, `anthropic_wire`) and the
//! error bodies' beside [`ApiError`](crate::error::ApiError).
//!
//! `tests/openapi.rs` checks every answer of a running gateway against these,
//! and CI runs schemathesis against the whole description.

use serde_json::{Value, json};

fn count() -> Value {
    json!({"type": "integer", "minimum": 0})
}

fn nullable(ty: &str) -> Value {
    json!({"type": [ty, "null"]})
}

/// `GET /v1/models`.
pub(crate) fn models() -> Value {
    json!({
        "type": "object",
        "required": ["object", "data"],
        "properties": {
            "object": {"const": "list"},
            "data": {"type": "array", "items": {
                "type": "object",
                "required": ["id", "object", "created", "owned_by", "toolplane"],
                "properties": {
                    "id": {"type": "string", "description": "What a request names as `model`."},
                    "object": {"const": "model"},
                    "created": count(),
                    "owned_by": {"type": "string"},
                    "toolplane": {"oneOf": [
                        {"type": "object", "required": ["kind", "provider", "model", "scripted"], "properties": {
                            "kind": {"const": "expert"}, "provider": {"type": "string"}, "model": {"type": "string"},
                            "scripted": {"type": "boolean", "description": "A scripted stand-in, not a language model."}}},
                        {"type": "object", "required": ["kind", "task_type"], "properties": {
                            "kind": {"const": "route"}, "task_type": nullable("string")}}
                    ]}
                }
            }}
        }
    })
}

/// One tool as `GET /v1/tools` lists it.
fn tool() -> Value {
    json!({
        "type": "object",
        "required": ["name", "description", "input_schema", "output_schema", "annotations"],
        "properties": {
            "name": {"type": "string"},
            "description": {"type": "string"},
            "input_schema": {"type": "object", "description": "The arguments' JSON Schema."},
            "output_schema": {"type": ["object", "null"]},
            "annotations": {"type": "object", "properties": {
                "title": {"type": "string"}, "read_only": {"type": "boolean"}, "destructive": {"type": "boolean"},
                "idempotent": {"type": "boolean"}, "open_world": {"type": "boolean"},
                "tags": {"type": "array", "items": {"type": "string"}}}},
            "score": {"type": "number", "description": "Search relevance (searches only)."}
        }
    })
}

/// `GET /v1/tools`.
pub(crate) fn tools() -> Value {
    json!({
        "type": "object",
        "required": ["object", "data"],
        "properties": {"object": {"const": "list"}, "data": {"type": "array", "items": tool()}}
    })
}

/// `POST /v1/tools/{name}/call`.
pub(crate) fn tool_result() -> Value {
    json!({
        "type": "object",
        "required": ["tool", "output", "is_error", "truncated"],
        "properties": {
            "tool": {"type": "string"},
            "output": {"description": "The tool's output (any JSON)."},
            "is_error": {"type": "boolean", "description": "The tool ran and reports a failure."},
            "truncated": {"type": "boolean", "description": "The output was cut to the size limit."}
        }
    })
}

fn run_status() -> Value {
    json!({"enum": ["running", "paused", "answered", "stopped", "cancelled", "failed", "interrupted"]})
}

/// `POST /v1/runs` (201) and `POST /v1/runs/{id}/approvals` (202).
pub(crate) fn run_accepted() -> Value {
    json!({
        "type": "object",
        "required": ["id", "object", "status", "events_url"],
        "properties": {
            "id": {"type": "string"},
            "object": {"const": "run"},
            "status": {"const": "running"},
            "events_url": {"type": "string", "description": "Where the run's events stream (SSE)."}
        }
    })
}

fn usage() -> Value {
    json!({
        "type": "object",
        "required": ["input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens", "reasoning_tokens"],
        "properties": {
            "input_tokens": count(), "output_tokens": count(), "cache_read_tokens": count(),
            "cache_write_tokens": count(), "cache_write_1h_tokens": count(), "reasoning_tokens": count()
        }
    })
}

fn tool_call() -> Value {
    json!({"type": "object", "required": ["id", "name", "arguments"], "properties": {
        "id": {"type": "string"}, "name": {"type": "string"},
        "arguments": {"type": "string", "description": "The arguments as JSON text."}}})
}

/// `GET /v1/runs/{id}`.
pub(crate) fn run() -> Value {
    json!({
        "type": "object",
        "required": ["id", "object", "status", "principal", "answer", "error", "pending_approvals", "usage",
            "cost_usd", "steps", "events", "created_ms", "updated_ms"],
        "properties": {
            "id": {"type": "string"},
            "object": {"const": "run"},
            "status": run_status(),
            "principal": {"type": "string"},
            "answer": nullable("string"),
            "error": nullable("string"),
            "pending_approvals": {"type": "array", "items": {
                "type": "object", "required": ["call", "message"], "properties": {
                    "call": tool_call(),
                    "message": {"type": "string", "description": "The policy's explanation."},
                    "request": {"type": "object", "description": "The approval request (its `approval.id`)."}}}},
            "usage": usage(),
            "cost_usd": {"type": "number", "minimum": 0},
            "steps": count(),
            "events": count(),
            "created_ms": count(),
            "updated_ms": count()
        }
    })
}

/// `DELETE /v1/runs/{id}`.
pub(crate) fn run_cancelled() -> Value {
    json!({
        "type": "object",
        "required": ["id", "object", "cancel_requested", "status"],
        "properties": {
            "id": {"type": "string"}, "object": {"const": "run"},
            "cancel_requested": {"const": true}, "status": run_status()
        }
    })
}

/// One event of `GET /v1/runs/{id}/events`, as OpenAPI 3.1 describes an
/// event stream: `event` is the run event's `type`, `id` its sequence number
/// (send it back as `Last-Event-ID` to resume), `data` the event as JSON.
pub(crate) fn run_event() -> Value {
    let names = [
        "step_started",
        "text_delta",
        "tool_call_started",
        "tool_call_finished",
        "routing",
        "usage",
        "step_done",
        "approval_required",
        "stopped",
        "answered",
        "paused",
        "done",
        "error",
    ];
    json!({
        "type": "object",
        "required": ["event", "data", "id"],
        "properties": {
            "event": {"enum": names},
            "id": {"type": "string", "pattern": "^[0-9]+$"},
            "data": {"type": "string", "pattern": "^\\{", "contentMediaType": "application/json",
                "contentSchema": {"type": "object", "required": ["type"], "properties": {"type": {"enum": names}},
                    "if": {"properties": {"type": {"const": "tool_call_finished"}}},
                    "then": {"required": ["step", "call_id", "name", "outcome", "duration_us", "result"], "properties": {
                        "step": count(), "call_id": {"type": "string"}, "name": {"type": "string"},
                        "outcome": {"type": "string", "description": "`ok`, or the error kind."},
                        "duration_us": count(),
                        "result": {"type": "string", "description": "What the model is told: the result's or the error's text, secret-shaped text masked, at most 8 KiB."},
                        "result_truncated": {"type": "boolean", "description": "Present and true when `result` was cut; GET /v1/runs/{id} holds all of it."},
                        "is_error": {"type": "boolean"}}}}}
        }
    })
}

fn percentiles() -> Value {
    let ms = json!({"type": "number"});
    json!({"type": ["object", "null"], "required": ["count", "p50", "p95", "p99", "max", "mean"], "properties": {
        "count": count(), "p50": ms, "p95": ms, "p99": ms, "min": ms, "max": ms, "mean": ms}})
}

fn group_stats() -> Value {
    let opt_num = nullable("number");
    json!({
        "type": "object",
        "required": ["provider", "model", "task_type", "calls", "successes", "failures", "success_rate", "errors",
            "latency_ms", "ttft_ms", "tokens", "cost_usd", "priced_calls", "unpriced_calls", "wins", "losses", "judged"],
        "properties": {
            "provider": nullable("string"), "model": nullable("string"), "task_type": nullable("string"),
            "calls": count(), "successes": count(), "failures": count(), "success_rate": opt_num,
            "errors": {"type": "object", "additionalProperties": count()},
            "latency_ms": percentiles(), "ttft_ms": percentiles(),
            "tokens": {"type": "object", "required": ["input", "output", "cache_read", "cache_write", "reasoning"],
                "properties": {"input": count(), "output": count(), "cache_read": count(), "cache_write": count(),
                    "reasoning": count()}},
            "output_tokens_per_second": opt_num, "cost_usd": {"type": "number"},
            "priced_calls": count(), "unpriced_calls": count(), "cost_per_call_usd": opt_num,
            "wins": count(), "losses": count(), "judged": count(), "win_rate": opt_num,
            "scores": count(), "mean_score": opt_num
        }
    })
}

/// `GET /v1/metrics`: the metrics crate's report (`docs/metrics.md`).
pub(crate) fn metrics_report() -> Value {
    let groups = json!({"type": "array", "items": group_stats()});
    let cost_line = json!({"type": "object", "required": ["name", "cost_usd", "share", "calls", "unpriced_calls"],
        "properties": {"name": {"type": "string"}, "cost_usd": {"type": "number"}, "share": {"type": "number"},
            "calls": count(), "unpriced_calls": count()}});
    json!({
        "type": "object",
        "required": ["schema_version", "generated_at_unix_ms", "window", "totals", "providers", "models",
            "task_types", "win_rates", "cost", "ranking", "rejected_records"],
        "properties": {
            "schema_version": {"const": 1},
            "generated_at_unix_ms": count(),
            "window": {"type": "object", "required": ["all_time"], "properties": {
                "all_time": {"type": "boolean"}, "from_unix_ms": {"type": ["integer", "null"]},
                "to_unix_ms": {"type": ["integer", "null"]}}},
            "totals": group_stats(),
            "providers": groups, "models": groups, "task_types": groups,
            "win_rates": {"type": "array", "items": {"type": "object",
                "required": ["task_type", "provider", "model", "wins", "losses", "judged", "win_rate"]}},
            "cost": {"type": "object", "required": ["total_usd", "priced_calls", "unpriced_calls", "unpriced_models",
                "by_provider", "by_model", "by_task_type"], "properties": {
                "total_usd": {"type": "number"}, "priced_calls": count(), "unpriced_calls": count(),
                "unpriced_models": {"type": "array", "items": {"type": "string"}},
                "by_provider": {"type": "array", "items": cost_line}, "by_model": {"type": "array", "items": cost_line},
                "by_task_type": {"type": "array", "items": cost_line}}},
            "ranking": {"type": "object", "required": ["by", "entries"], "properties": {
                "by": {"type": "string"},
                "entries": {"type": "array", "items": {"type": "object", "required": ["rank", "provider", "value", "calls"],
                    "properties": {"rank": count(), "provider": {"type": "string"}, "value": nullable("number"),
                        "calls": count()}}}}},
            "rejected_records": count(),
            "memory": {"type": "object", "properties": {"bytes": count(), "budget_bytes": count(),
                "evicted_minutes": count()}}
        }
    })
}

/// `GET /v1/audit`.
pub(crate) fn audit_records() -> Value {
    json!({
        "type": "object",
        "required": ["object", "data", "verified"],
        "properties": {
            "object": {"const": "list"},
            "verified": {"type": "boolean", "description": "The whole log's frames and hash chain verified."},
            "data": {"type": "array", "items": {"type": "object", "required": ["seq", "record"], "properties": {
                "seq": count(),
                "record": {"type": "object", "required": ["event", "started_ms", "finished_ms", "request_id",
                    "principal", "arguments", "status", "latency_us"], "properties": {
                    "event": {"type": "string"}, "started_ms": count(), "finished_ms": count(),
                    "request_id": {"type": "string"}, "principal": {"type": "string"},
                    "roles": {"type": "array", "items": {"type": "string"}}, "tool": {"type": "string"},
                    "call_id": {"type": "string"}, "arguments": {}, "decision": {"type": "string"}, "explanation": {"type": "string"},
                    "status": {"type": "string"}, "error": {"type": "string"}, "latency_us": count(),
                    "detail": {}}}}}}
        }
    })
}

/// `POST /v1/audit/verify`.
pub(crate) fn audit_verification() -> Value {
    json!({
        "type": "object",
        "required": ["ok", "summary", "records", "segments", "checkpoints", "unacknowledged", "recovered_bytes", "failure"],
        "properties": {
            "ok": {"type": "boolean"},
            "summary": {"type": "string"},
            "records": count(), "segments": count(), "checkpoints": count(), "unacknowledged": count(),
            "recovered_bytes": count(),
            "failure": {"anyOf": [{"type": "null"}, {"type": "object", "required": ["seq", "segment", "offset", "reason"],
                "properties": {"seq": count(), "segment": {"type": "string"}, "offset": count(),
                    "reason": {"type": "string"}}}]}
        }
    })
}

/// `GET /healthz`.
pub(crate) fn health() -> Value {
    json!({"type": "object", "required": ["status"], "properties": {"status": {"const": "ok"}}})
}

/// `GET /readyz`, ready (200) or not (503).
pub(crate) fn readiness() -> Value {
    let check = |extra: Value| {
        let mut props = json!({"ok": {"type": "boolean"}, "error": nullable("string")});
        if let (Some(p), Value::Object(e)) = (props.as_object_mut(), extra) {
            p.extend(e);
        }
        json!({"type": "object", "required": ["ok"], "properties": props})
    };
    json!({
        "type": "object",
        "required": ["ready", "checks"],
        "properties": {
            "ready": {"type": "boolean"},
            "checks": {"type": "object", "required": ["providers", "audit"], "properties": {
                "providers": check(json!({"experts": count(), "scripted_only": {"type": "boolean"}})),
                "redis": check(json!({})),
                "audit": check(json!({}))}}
        }
    })
}

/// `GET /openapi.json`.
pub(crate) fn openapi() -> Value {
    json!({
        "type": "object",
        "required": ["openapi", "info", "paths"],
        "properties": {"openapi": {"const": "3.1.0"}, "info": {"type": "object"}, "paths": {"type": "object"}}
    })
}
