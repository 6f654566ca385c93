//! Every answer the gateway gives is described by its own `GET /openapi.json`:
//! the status is documented for the operation, the content type is one the
//! operation documents for that status, and the body (each server-sent event,
//! and the JSON inside its `data`) validates against the schema. The answers
//! cover each operation's success and its errors. CI also runs schemathesis
//! against a `toolplane serve` process (`toolplane-cli/tests/schemathesis.rs`);
//! this test needs no Python.

#![allow(clippy::unwrap_used, clippy::panic)]

mod support;

use serde_json::{Value, json};
use support::*;

/// Checks one answer of `method path` against the description.
struct Described {
    doc: Value,
}

impl Described {
    fn response(&self, method: &str, path: &str, status: u16) -> &Value {
        let op = &self.doc["paths"][path][method];
        assert!(op.is_object(), "{method} {path} is not documented");
        let r = &op["responses"][status.to_string()];
        assert!(
            r.is_object(),
            "{method} {path} answered {status}, which it does not document (documented: {:?})",
            op["responses"]
                .as_object()
                .map(|m| m.keys().cloned().collect::<Vec<_>>())
        );
        r
    }

    fn check(&self, method: &str, path: &str, status: u16, content_type: &str, body: &str) {
        let r = self.response(method, path, status);
        let media = content_type.split(';').next().unwrap_or_default().trim();
        let schema = r["content"][media]["schema"].clone();
        assert!(
            schema.is_object(),
            "{method} {path} {status}: content type `{media}` is not documented ({})",
            r["content"]
        );
        if media == "text/event-stream" {
            let events = sse_events(body);
            assert!(!events.is_empty(), "{method} {path}: an empty event stream");
            for (event, data) in events {
                check_event(&schema, &event, &data, &format!("{method} {path} event `{event}`"));
            }
        } else if media == "application/json" {
            let v: Value = serde_json::from_str(body)
                .unwrap_or_else(|e| panic!("{method} {path} {status}: not JSON ({e}): {body}"));
            validate(&schema, &v, &format!("{method} {path} {status}"));
        } else {
            validate(&schema, &json!(body), &format!("{method} {path} {status}"));
        }
    }
}

fn validate(schema: &Value, v: &Value, what: &str) {
    let validator =
        jsonschema::validator_for(schema).unwrap_or_else(|e| panic!("{what}: the schema does not compile: {e}"));
    let errors: Vec<String> = validator
        .iter_errors(v)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{what}: {errors:?}\nbody: {v}");
}

/// An event is the object `{event, data}` (OpenAPI 3.1's reading of an event
/// stream); its `data` is then checked against the `contentSchema` of the
/// branch documenting that event.
fn check_event(schema: &Value, event: &str, data: &str, what: &str) {
    validate(schema, &json!({"event": event, "data": data, "id": "0"}), what);
    let branches: Vec<&Value> = match schema.get("oneOf").and_then(Value::as_array) {
        Some(list) => list
            .iter()
            .filter(|b| b.pointer("/properties/event/const").and_then(Value::as_str) == Some(event))
            .collect(),
        None => vec![schema],
    };
    assert_eq!(branches.len(), 1, "{what}: one documented branch per event");
    let data_schema = &branches[0]["properties"]["data"];
    let content = data_schema.get("contentSchema").cloned().or_else(|| {
        data_schema["anyOf"]
            .as_array()
            .and_then(|a| a.iter().find_map(|b| b.get("contentSchema").cloned()))
    });
    if data == "[DONE]" {
        return;
    }
    let content = content.unwrap_or_else(|| panic!("{what}: `data` has no contentSchema"));
    let v: Value = serde_json::from_str(data).unwrap_or_else(|e| panic!("{what}: data is not JSON ({e}): {data}"));
    validate(&content, &v, what);
}

struct Call<'a> {
    s: &'a TestServer,
    d: &'a Described,
}

impl Call<'_> {
    /// Sends `method url` (`path` is the documented template) and checks the answer; returns status and body.
    async fn go(&self, method: &str, path: &str, url: &str, key: Option<&str>, body: Option<&str>) -> (u16, String) {
        let url = format!("{}{url}", self.s.url);
        let mut req = match method {
            "get" => client().get(&url),
            "post" => client().post(&url),
            "delete" => client().delete(&url),
            other => panic!("method {other}"),
        };
        if let Some(k) = key {
            req = req.bearer_auth(k);
        }
        if let Some(b) = body {
            req = req.header("content-type", "application/json").body(b.to_owned());
        }
        let r = req.send().await.unwrap();
        let status = r.status().as_u16();
        let content_type = r
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        assert!(
            r.headers().contains_key("x-request-id"),
            "{method} {url}: no x-request-id"
        );
        let text = r.text().await.unwrap();
        self.d.check(method, path, status, &content_type, &text);
        (status, text)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_answer_conforms_to_the_description() {
    let dir = tempfile::tempdir().unwrap();
    let s = TestServer::start(&scripted_config(""), dir.path()).await;
    let (_, doc) = get_as(&s.url, "/openapi.json", None).await;
    let d = Described { doc };
    let c = Call { s: &s, d: &d };
    let k = Some(KEY);
    let user = |text: &str| json!([{"role": "user", "content": text}]);

    // The configured names are offered in the description.
    let models = &d.doc["paths"]["/v1/chat/completions"]["post"]["requestBody"]["content"]["application/json"]["schema"]
        ["properties"]["model"]["anyOf"][0]["enum"];
    assert!(models.as_array().unwrap().contains(&json!("fast")), "{models}");

    // Chat Completions: plain, streamed with usage, and its errors.
    let chat = "/v1/chat/completions";
    let body = json!({"model": "fast", "messages": user("hello there")}).to_string();
    assert_eq!(c.go("post", chat, chat, k, Some(&body)).await.0, 200);
    let body = json!({"model": "fast", "stream": true, "stream_options": {"include_usage": true},
        "messages": user("stream this")})
    .to_string();
    let (status, text) = c.go("post", chat, chat, k, Some(&body)).await;
    assert_eq!(status, 200);
    assert!(text.contains("[DONE]"));
    let tools = json!([{"type": "function", "function": {"name": "current_time", "parameters": {"type": "object"}}}]);
    let body =
        json!({"model": "fast", "messages": user("what time is it?"), "tools": tools, "tool_choice": "required"})
            .to_string();
    assert_eq!(c.go("post", chat, chat, k, Some(&body)).await.0, 200);
    assert_eq!(c.go("post", chat, chat, k, Some("{not json")).await.0, 400);
    let body = json!({"model": "nobody", "messages": user("x")}).to_string();
    assert_eq!(c.go("post", chat, chat, k, Some(&body)).await.0, 404);
    assert_eq!(c.go("post", chat, chat, None, Some("{}")).await.0, 401);

    // Messages: plain, streamed, and an Anthropic-shaped error.
    let msgs = "/v1/messages";
    let body = json!({"model": "fast", "max_tokens": 50, "messages": user("hello")}).to_string();
    assert_eq!(c.go("post", msgs, msgs, k, Some(&body)).await.0, 200);
    let body = json!({"model": "fast", "max_tokens": 50, "stream": true, "messages": user("stream")}).to_string();
    assert_eq!(c.go("post", msgs, msgs, k, Some(&body)).await.0, 200);
    let body = json!({"model": "fast", "messages": user("no max_tokens")}).to_string();
    assert_eq!(c.go("post", msgs, msgs, k, Some(&body)).await.0, 400);
    assert_eq!(c.go("post", msgs, msgs, None, Some("{}")).await.0, 401);

    // Models and tools.
    assert_eq!(c.go("get", "/v1/models", "/v1/models", k, None).await.0, 200);
    assert_eq!(c.go("get", "/v1/tools", "/v1/tools", k, None).await.0, 200);
    assert_eq!(
        c.go("get", "/v1/tools", "/v1/tools?q=time&limit=3", k, None).await.0,
        200
    );
    // A query string that does not parse is a JSON 400, not axum's plain text.
    assert_eq!(c.go("get", "/v1/tools", "/v1/tools?limit=-1", k, None).await.0, 400);
    let call = "/v1/tools/{name}/call";
    assert_eq!(
        c.go("post", call, "/v1/tools/current_time/call", k, Some("{}")).await.0,
        200
    );
    assert_eq!(
        c.go("post", call, "/v1/tools/no_such_tool/call", k, Some("{}")).await.0,
        404
    );
    assert_eq!(
        c.go("post", call, "/v1/tools/current_time/call", k, Some("[1]"))
            .await
            .0,
        400
    );
    let bad_args = json!({"timezone": 12}).to_string();
    let (status, _) = c
        .go("post", call, "/v1/tools/current_time/call", k, Some(&bad_args))
        .await;
    assert!(status == 400 || status == 200, "{status}");

    // Runs: start, watch to the end, read, cancel; a decision on a run that is not paused.
    let body = json!({"model": "fast", "input": "hello run"}).to_string();
    let (status, text) = c.go("post", "/v1/runs", "/v1/runs", k, Some(&body)).await;
    assert_eq!(status, 201);
    let id = serde_json::from_str::<Value>(&text).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, text) = c
        .go("get", "/v1/runs/{id}/events", &format!("/v1/runs/{id}/events"), k, None)
        .await;
    assert_eq!(status, 200);
    assert!(text.contains("event: done"), "{text}");
    assert_eq!(
        c.go("get", "/v1/runs/{id}", &format!("/v1/runs/{id}"), k, None).await.0,
        200
    );
    let decisions = json!({"decisions": [{"call_id": "x", "decision": "approve"}]}).to_string();
    let approvals = "/v1/runs/{id}/approvals";
    let (status, _) = c
        .go(
            "post",
            approvals,
            &format!("/v1/runs/{id}/approvals"),
            k,
            Some(&decisions),
        )
        .await;
    assert_eq!(status, 409);
    let (status, _) = c
        .go(
            "post",
            approvals,
            &format!("/v1/runs/{id}/approvals"),
            Some(BOB),
            Some(&decisions),
        )
        .await;
    assert_eq!(status, 403);
    assert_eq!(
        c.go("delete", "/v1/runs/{id}", &format!("/v1/runs/{id}"), k, None)
            .await
            .0,
        200
    );
    assert_eq!(c.go("get", "/v1/runs/{id}", "/v1/runs/run_nope", k, None).await.0, 404);
    assert_eq!(c.go("get", "/v1/runs/{id}", "/v1/runs/%FF", k, None).await.0, 400);
    let body = json!({"model": "fast"}).to_string();
    assert_eq!(c.go("post", "/v1/runs", "/v1/runs", k, Some(&body)).await.0, 400);

    // Metrics, audit, health.
    assert_eq!(c.go("get", "/metrics", "/metrics", k, None).await.0, 200);
    assert_eq!(c.go("get", "/v1/metrics", "/v1/metrics", k, None).await.0, 200);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let window = format!("/v1/metrics?from={}&to={now}", now - 600);
    assert_eq!(c.go("get", "/v1/metrics", &window, k, None).await.0, 200);
    // A window beyond the retention is the metrics crate's 400.
    assert_eq!(
        c.go("get", "/v1/metrics", "/v1/metrics?from=0&to=60", k, None).await.0,
        400
    );
    assert_eq!(c.go("get", "/v1/metrics", "/v1/metrics?from=abc", k, None).await.0, 400);
    assert_eq!(
        c.go("get", "/v1/metrics", "/v1/metrics?from=20&to=10", k, None).await.0,
        400
    );
    assert_eq!(c.go("get", "/v1/metrics", "/v1/metrics", Some(BOB), None).await.0, 403);
    assert_eq!(c.go("get", "/v1/audit", "/v1/audit?limit=5", k, None).await.0, 200);
    assert_eq!(c.go("get", "/v1/audit", "/v1/audit?limit=x", k, None).await.0, 400);
    assert_eq!(
        c.go("post", "/v1/audit/verify", "/v1/audit/verify", k, None).await.0,
        200
    );
    assert_eq!(c.go("get", "/healthz", "/healthz", None, None).await.0, 200);
    assert_eq!(c.go("get", "/readyz", "/readyz", None, None).await.0, 200);
    assert_eq!(c.go("get", "/openapi.json", "/openapi.json", None, None).await.0, 200);
    s.stop().await;
}
