//! The gateway over real HTTP on 127.0.0.1: wire formats, keys, errors,
//! limits, budgets under a concurrent burst, load shedding and cancellation.

#![allow(clippy::unwrap_used, clippy::panic)]

mod support;

use std::sync::atomic::Ordering;
use std::time::Duration;

use serde_json::{Value, json};
use support::*;

async fn post(url: &str, path: &str, key: Option<&str>, body: Value) -> reqwest::Response {
    let mut r = client().post(format!("{url}{path}")).json(&body);
    if let Some(k) = key {
        r = r.bearer_auth(k);
    }
    r.send().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_completions_plain_and_streamed() {
    let dir = tempfile::tempdir().unwrap();
    let s = TestServer::start(&scripted_config(""), dir.path()).await;
    let r = client()
        .post(format!("{}/v1/chat/completions", s.url))
        .bearer_auth(KEY)
        .header("x-request-id", "req-abc")
        .json(&json!({"model": "fast", "messages": [{"role": "user", "content": "hello"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-toolplane-expert"], "fast");
    assert_eq!(r.headers()["x-request-id"], "req-abc");
    let b: Value = r.json().await.unwrap();
    assert_eq!(b["object"], "chat.completion");
    assert_eq!(b["model"], "fast");
    assert!(
        b["choices"][0]["message"]["content"]
            .as_str()
            .unwrap()
            .contains("not a language model")
    );
    assert!(b["usage"]["total_tokens"].as_u64().unwrap() > 0);

    // Routed: the answer names the expert the router chose.
    let r = post(
        &s.url,
        "/v1/chat/completions",
        Some(KEY),
        json!({"model": "auto", "messages": [{"role": "user", "content": "hi"}]}),
    )
    .await;
    let expert = r.headers()["x-toolplane-expert"].to_str().unwrap().to_owned();
    assert!(expert == "fast" || expert == "careful", "{expert}");
    let b: Value = r.json().await.unwrap();
    assert_eq!(b["model"], expert.as_str());

    let r = post(
        &s.url,
        "/v1/chat/completions",
        Some(KEY),
        json!({"model": "careful", "stream": true, "stream_options": {"include_usage": true},
            "messages": [{"role": "user", "content": "stream this please"}]}),
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-toolplane-expert"], "careful");
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let events = sse_events(&r.text().await.unwrap());
    assert_eq!(events.last().unwrap().1, "[DONE]");
    let chunks: Vec<Value> = events[..events.len() - 1]
        .iter()
        .map(|(_, d)| serde_json::from_str(d).unwrap())
        .collect();
    let text: String = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert!(text.contains("stream this please"), "{text}");
    let usage = chunks.last().unwrap();
    assert_eq!(usage["choices"], json!([]));
    assert!(usage["usage"]["completion_tokens"].as_u64().unwrap() > 0);
    assert!(chunks.iter().any(|c| c["choices"][0]["finish_reason"] == "stop"));
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_tools_round_trip_through_chat_completions() {
    let dir = tempfile::tempdir().unwrap();
    let s = TestServer::start(&scripted_config(""), dir.path()).await;
    let tools = json!([{"type": "function", "function": {"name": "get_weather", "description": "Weather.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}]);
    let mut messages = vec![json!({"role": "user", "content": "use get_weather for Paris"})];
    let (_, b) = post_json_as(
        &s.url,
        "/v1/chat/completions",
        KEY,
        &json!({"model": "fast", "messages": messages, "tools": tools}),
    )
    .await;
    assert_eq!(b["choices"][0]["finish_reason"], "tool_calls");
    let call = b["choices"][0]["message"]["tool_calls"][0].clone();
    assert_eq!(call["function"]["name"], "get_weather");
    messages.push(b["choices"][0]["message"].clone());
    messages.push(json!({"role": "tool", "tool_call_id": call["id"], "content": "sunny, 21 C"}));
    let (_, b) = post_json_as(
        &s.url,
        "/v1/chat/completions",
        KEY,
        &json!({"model": "fast", "messages": messages, "tools": tools}),
    )
    .await;
    assert!(
        b["choices"][0]["message"]["content"]
            .as_str()
            .unwrap()
            .contains("sunny, 21 C")
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anthropic_messages_plain_streamed_and_tool_results() {
    let dir = tempfile::tempdir().unwrap();
    let s = TestServer::start(&scripted_config(""), dir.path()).await;
    let tools = json!([{"name": "get_weather", "input_schema": {"type": "object",
        "properties": {"city": {"type": "string"}}, "required": ["city"]}}]);
    let r = client()
        .post(format!("{}/v1/messages", s.url))
        .header("x-api-key", KEY)
        .header("anthropic-version", "2023-06-01")
        .json(&json!({"model": "fast", "max_tokens": 100, "tools": tools,
            "messages": [{"role": "user", "content": "use get_weather please"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let b: Value = r.json().await.unwrap();
    assert_eq!(b["type"], "message");
    assert_eq!(b["stop_reason"], "tool_use");
    let tool_use = b["content"][0].clone();
    assert_eq!(tool_use["type"], "tool_use");
    let b: Value = client()
        .post(format!("{}/v1/messages", s.url))
        .header("x-api-key", KEY)
        .json(&json!({"model": "fast", "max_tokens": 100, "tools": tools, "messages": [
            {"role": "user", "content": "use get_weather please"},
            {"role": "assistant", "content": [tool_use]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": b["content"][0]["id"], "content": "rainy"}]}
        ]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(b["content"][0]["text"].as_str().unwrap().contains("rainy"), "{b}");

    let r = client()
        .post(format!("{}/v1/messages", s.url))
        .header("x-api-key", KEY)
        .json(&json!({"model": "careful", "max_tokens": 100, "stream": true,
            "messages": [{"role": "user", "content": "hello stream"}]}))
        .send()
        .await
        .unwrap();
    let names: Vec<String> = sse_events(&r.text().await.unwrap())
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert_eq!(names.first().map(String::as_str), Some("message_start"));
    assert_eq!(names.last().map(String::as_str), Some("message_stop"));
    assert!(names.iter().any(|n| n == "content_block_delta"));
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_bodies_and_models_give_the_right_errors() {
    let dir = tempfile::tempdir().unwrap();
    let s = TestServer::start(&scripted_config(""), dir.path()).await;
    let msg = json!({"model": "fast", "messages": [{"role": "user", "content": "x"}]});
    let (status, b) = post_json_as(&s.url, "/v1/chat/completions", None, &msg).await;
    assert_eq!(status, 401, "{b}");
    assert_eq!(error_of(&b)["type"], "authentication_error");
    assert_eq!(
        post_json_as(&s.url, "/v1/chat/completions", "tp-wrong", &msg).await.0,
        401
    );
    let r = client()
        .post(format!("{}/v1/messages", s.url))
        .header("x-api-key", "nope")
        .json(&msg)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let b: Value = r.json().await.unwrap();
    assert_eq!(
        (b["type"].as_str(), b["error"]["type"].as_str()),
        (Some("error"), Some("authentication_error"))
    );

    let r = client()
        .post(format!("{}/v1/chat/completions", s.url))
        .bearer_auth(KEY)
        .body("{\"model\": \"fast\", \"messages\": [")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let b: Value = r.json().await.unwrap();
    assert!(
        error_of(&b)["message"].as_str().unwrap().contains("line 1 column"),
        "{b}"
    );

    let big = "x".repeat(5 * 1024 * 1024);
    let (status, b) = post_json_as(
        &s.url,
        "/v1/chat/completions",
        KEY,
        &json!({"model": "fast", "messages": [{"role": "user", "content": big}]}),
    )
    .await;
    assert_eq!(status, 413, "{b}");
    assert_eq!(error_of(&b)["code"], "request_too_large");

    let (status, b) = post_json_as(
        &s.url,
        "/v1/chat/completions",
        KEY,
        &json!({"model": "gpt-9", "messages": [{"role": "user", "content": "x"}]}),
    )
    .await;
    assert_eq!(status, 404, "{b}");
    assert_eq!(error_of(&b)["param"], "model");

    let (_, b) = get_as(&s.url, "/v1/models", KEY).await;
    let ids: Vec<&str> = b["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["id"].as_str())
        .collect();
    assert!(
        ids.contains(&"fast") && ids.contains(&"careful") && ids.contains(&"auto"),
        "{ids:?}"
    );

    assert_eq!(
        client()
            .get(format!("{}/healthz", s.url))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let r = client().get(format!("{}/readyz", s.url)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    // Bob is no admin: metrics JSON and the audit log are refused with the reason.
    assert_eq!(get_as(&s.url, "/v1/audit", BOB).await.0, 403);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tools_are_listed_permitted_limited_and_audited() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = scripted_config("[security]\ntool_calls_per_minute = 2\n");
    let s = TestServer::start(&cfg, dir.path()).await;
    let (_, b) = get_as(&s.url, "/v1/tools", KEY).await;
    let names: Vec<&str> = b["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert!(
        names.contains(&"createTask") && names.contains(&"current_time"),
        "{names:?}"
    );
    let (_, b) = get_as(&s.url, "/v1/tools?q=delete", KEY).await;
    assert_eq!(b["data"][0]["name"], "deleteTask");

    let (status, b) = post_json_as(
        &s.url,
        "/v1/tools/createTask/call",
        KEY,
        &json!({"title": "Write docs", "project": "docs"}),
    )
    .await;
    assert_eq!(status, 200, "{b}");
    assert_eq!(b["is_error"], false, "{b}");
    // Invalid arguments are a 400 from the validating executor.
    assert_eq!(
        post_json_as(&s.url, "/v1/tools/createTask/call", BOB, &json!({"title": 5}))
            .await
            .0,
        400
    );
    // deleteTask asks a human: 403 with the policy's explanation.
    let (status, b) = post_json_as(&s.url, "/v1/tools/deleteTask/call", BOB, &json!({"taskId": 1})).await;
    assert_eq!(status, 403, "{b}");
    assert!(
        error_of(&b)["message"]
            .as_str()
            .unwrap()
            .contains("deletes-need-a-human"),
        "{b}"
    );
    // Two per minute per principal and tool: the third createTask is 429 with retry-after.
    let _ = post(
        &s.url,
        "/v1/tools/createTask/call",
        Some(KEY),
        json!({"title": "Second", "project": "docs"}),
    )
    .await;
    let r = post(
        &s.url,
        "/v1/tools/createTask/call",
        Some(KEY),
        json!({"title": "Third", "project": "docs"}),
    )
    .await;
    assert_eq!(r.status(), 429);
    assert!(r.headers().contains_key("retry-after"));
    assert_eq!(
        post_json_as(&s.url, "/v1/tools/nope/call", KEY, &json!({})).await.0,
        404
    );

    let (_, b) = get_as(&s.url, "/v1/audit?limit=50", KEY).await;
    let tools: Vec<&str> = b["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["record"]["tool"].as_str())
        .collect();
    assert!(tools.contains(&"createTask") && tools.contains(&"deleteTask"), "{b}");
    let b: Value = client()
        .post(format!("{}/v1/audit/verify", s.url))
        .bearer_auth(KEY)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(b["ok"], true, "{b}");
    assert!(b["records"].as_u64().unwrap() >= 4, "{b}");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_concurrent_burst_cannot_overspend_the_budget() {
    // The upstream answers after 300 ms with 4 tokens (1 in, 3 out). Each
    // request asks for max_tokens = 3, so it reserves its estimated input
    // (at least 1) + 3 >= 4 tokens before the call: the reservations of
    // requests in flight never sum past the limit, whatever the timing.
    // A budget that only checked "spent so far" would let the whole burst
    // through (40 x 4 = 160 tokens against a limit of 40).
    let dir = tempfile::tempdir().unwrap();
    let (base, log) = fake_upstream().await;
    log.delay_ms.store(300, Ordering::SeqCst);
    let limit = 40u64;
    let budget = format!("[[security.budgets]]\nscope = \"principal\"\nperiod = \"day\"\ntokens = {limit}\n");
    let s = TestServer::start(&format!("{}\n{budget}", upstream_config(&base, "")), dir.path()).await;
    let mut tasks = Vec::new();
    for i in 0..40 {
        let url = s.url.clone();
        tasks.push(tokio::spawn(async move {
            post(
                &url,
                "/v1/chat/completions",
                Some(KEY),
                json!({"model": "up", "max_tokens": 3,
                "messages": [{"role": "user", "content": format!("b{i}")}]}),
            )
            .await
        }));
    }
    let (mut ok, mut refused, mut spent) = (0u64, 0u64, 0u64);
    for t in tasks {
        let r = t.await.unwrap();
        match r.status().as_u16() {
            200 => {
                ok += 1;
                let b: Value = r.json().await.unwrap();
                spent += b["usage"]["total_tokens"].as_u64().unwrap();
            }
            429 => {
                refused += 1;
                assert!(r.headers().contains_key("retry-after"));
                let b: Value = r.json().await.unwrap();
                assert_eq!(error_of(&b)["code"], "budget_exceeded", "{b}");
                assert_eq!(error_of(&b)["type"], "insufficient_quota", "{b}");
            }
            other => panic!("unexpected status {other}"),
        }
    }
    assert!(ok > 0, "nothing passed");
    assert!(
        spent <= limit,
        "spent {spent} tokens of a {limit}-token budget ({ok} requests passed)"
    );
    assert_eq!(ok + refused, 40);
    assert!(refused >= 30, "{refused} refused");
    // The upstream saw only the requests that passed the budget.
    assert_eq!(log.received.load(Ordering::SeqCst) as u64, ok);
    s.stop().await;
}

fn upstream_config(base: &str, extra: &str) -> String {
    format!(
        "[server]\nbind = \"127.0.0.1:0\"\n{extra}\n{keys}\n[[experts]]\nid = \"up\"\nprovider = \"ollama\"\nmodel = \"m1\"\nbase_url = \"{base}\"\n",
        keys = keys_toml()
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overload_is_shed_with_503_and_retry_after() {
    let dir = tempfile::tempdir().unwrap();
    let (base, log) = fake_upstream().await;
    log.delay_ms.store(3_000, Ordering::SeqCst);
    let s = TestServer::start(&upstream_config(&base, "max_concurrent_requests = 1"), dir.path()).await;
    let url = s.url.clone();
    let arrived = log.arrived.notified();
    let first = tokio::spawn(async move {
        post(
            &url,
            "/v1/chat/completions",
            Some(KEY),
            json!({"model": "up", "messages": [{"role": "user", "content": "slow"}]}),
        )
        .await
    });
    arrived.await;
    let r = post(
        &s.url,
        "/v1/chat/completions",
        Some(KEY),
        json!({"model": "up", "messages": [{"role": "user", "content": "x"}]}),
    )
    .await;
    assert_eq!(r.status(), 503);
    assert_eq!(r.headers()["retry-after"], "1");
    let b: Value = r.json().await.unwrap();
    assert_eq!(error_of(&b)["code"], "server_busy");
    assert_eq!(first.await.unwrap().status(), 200);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_leaves_cancels_the_upstream_call() {
    let dir = tempfile::tempdir().unwrap();
    let (base, log) = fake_upstream().await;
    log.delay_ms.store(30_000, Ordering::SeqCst);
    let s = TestServer::start(&upstream_config(&base, ""), dir.path()).await;

    // Non-streamed: the client gives up while the upstream is still working.
    let url = s.url.clone();
    let arrived = log.arrived.notified();
    let call = tokio::spawn(async move {
        post(
            &url,
            "/v1/chat/completions",
            Some(KEY),
            json!({"model": "up", "messages": [{"role": "user", "content": "x"}]}),
        )
        .await
    });
    arrived.await;
    call.abort();
    assert!(
        eventually(10, || log.dropped.load(Ordering::SeqCst) >= 1).await,
        "the upstream call was not cancelled"
    );
    assert_eq!(log.completed.load(Ordering::SeqCst), 0);

    // Streamed: read a little of an endless stream, then hang up.
    let mut r = client()
        .post(format!("{}/v1/chat/completions", s.url))
        .bearer_auth(KEY)
        .json(&json!({"model": "up", "stream": true, "messages": [{"role": "user", "content": "x"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let first = r.chunk().await.unwrap().unwrap();
    assert!(String::from_utf8_lossy(&first).contains("data:"));
    drop(r);
    assert!(
        eventually(10, || log.dropped.load(Ordering::SeqCst) >= 2).await,
        "the upstream stream was not cancelled"
    );
    let _ = Duration::ZERO;
    s.stop().await;
}
