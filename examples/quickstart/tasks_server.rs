//! The Tasks API of `examples/data/tasks-api.yaml`, served in-process on
//! 127.0.0.1 so the quickstart needs no network.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

/// The bearer token the server accepts.
pub(crate) const TOKEN: &str = "quickstart-token";

#[derive(Default)]
struct Db {
    next_id: u64,
    tasks: BTreeMap<u64, Value>,
}

type Shared = Arc<Mutex<Db>>;

fn authorized(headers: &HeaderMap) -> bool {
    headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == format!("Bearer {TOKEN}"))
}

fn unauthorized() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        Json(json!({"message": "missing or wrong bearer token"})),
    )
        .into_response()
}

#[derive(Deserialize)]
struct ListQuery {
    status: Option<String>,
    limit: Option<usize>,
}

async fn list(State(db): State<Shared>, headers: HeaderMap, Query(q): Query<ListQuery>) -> Response {
    if !authorized(&headers) {
        return unauthorized();
    }
    let db = db.lock().unwrap_or_else(|e| e.into_inner());
    let tasks: Vec<Value> = db
        .tasks
        .values()
        .rev()
        .filter(|t| q.status.as_deref().is_none_or(|s| t["status"] == s))
        .take(q.limit.unwrap_or(20))
        .cloned()
        .collect();
    Json(tasks).into_response()
}

async fn create(State(db): State<Shared>, headers: HeaderMap, Json(body): Json<Value>) -> Response {
    if !authorized(&headers) {
        return unauthorized();
    }
    let Some(title) = body.get("title").and_then(Value::as_str).filter(|t| !t.is_empty()) else {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({"message": "title is required"})),
        )
            .into_response();
    };
    let mut db = db.lock().unwrap_or_else(|e| e.into_inner());
    db.next_id += 1;
    let id = db.next_id;
    let task = json!({
        "id": id,
        "title": title,
        "project": body.get("project").cloned().unwrap_or(Value::Null),
        "priority": body.get("priority").cloned().unwrap_or(json!(3)),
        "due": body.get("due").cloned().unwrap_or(Value::Null),
        "status": "open",
    });
    db.tasks.insert(id, task.clone());
    (StatusCode::CREATED, Json(task)).into_response()
}

async fn get_one(State(db): State<Shared>, headers: HeaderMap, Path(id): Path<u64>) -> Response {
    if !authorized(&headers) {
        return unauthorized();
    }
    let db = db.lock().unwrap_or_else(|e| e.into_inner());
    match db.tasks.get(&id) {
        Some(t) => Json(t.clone()).into_response(),
        None => (StatusCode::NOT_FOUND, Json(json!({"message": format!("no task {id}")}))).into_response(),
    }
}

async fn update(
    State(db): State<Shared>,
    headers: HeaderMap,
    Path(id): Path<u64>,
    Json(body): Json<Value>,
) -> Response {
    if !authorized(&headers) {
        return unauthorized();
    }
    let mut db = db.lock().unwrap_or_else(|e| e.into_inner());
    let Some(task) = db.tasks.get_mut(&id) else {
        return (StatusCode::NOT_FOUND, Json(json!({"message": format!("no task {id}")}))).into_response();
    };
    for key in ["title", "status"] {
        if let Some(v) = body.get(key) {
            task[key] = v.clone();
        }
    }
    Json(task.clone()).into_response()
}

async fn delete(State(db): State<Shared>, headers: HeaderMap, Path(id): Path<u64>) -> Response {
    if !authorized(&headers) {
        return unauthorized();
    }
    let mut db = db.lock().unwrap_or_else(|e| e.into_inner());
    match db.tasks.remove(&id) {
        Some(_) => StatusCode::NO_CONTENT.into_response(),
        None => (StatusCode::NOT_FOUND, Json(json!({"message": format!("no task {id}")}))).into_response(),
    }
}

async fn summary(State(db): State<Shared>, headers: HeaderMap, Path(project): Path<String>) -> Response {
    if !authorized(&headers) {
        return unauthorized();
    }
    let db = db.lock().unwrap_or_else(|e| e.into_inner());
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    for t in db.tasks.values().filter(|t| t["project"] == project.as_str()) {
        *counts
            .entry(t["status"].as_str().unwrap_or("unknown").to_owned())
            .or_default() += 1;
    }
    Json(counts).into_response()
}

/// Starts the server on an ephemeral loopback port; returns its address.
pub(crate) async fn serve() -> std::io::Result<SocketAddr> {
    let db: Shared = Arc::default();
    let app = Router::new()
        .route("/v1/tasks", get(list).post(create))
        .route("/v1/tasks/{id}", get(get_one).patch(update).delete(delete))
        .route("/v1/projects/{project}/summary", get(summary))
        .with_state(db);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            eprintln!("tasks server stopped: {e}");
        }
    });
    Ok(addr)
}
