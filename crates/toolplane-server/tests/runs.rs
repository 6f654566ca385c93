//! Server-side runs: a run pauses for a human's approval, is written to disk,
//! survives a restart of the server, and resumes when approved; cancelling.

#![allow(clippy::unwrap_used, clippy::panic)]

mod support;

use serde_json::{Value, json};
use support::*;

async fn events(url: &str, id: &str, after: Option<usize>) -> Vec<Value> {
    let mut r = client().get(format!("{url}/v1/runs/{id}/events")).bearer_auth(KEY);
    if let Some(a) = after {
        r = r.header("last-event-id", a.to_string());
    }
    let text = r.send().await.unwrap().text().await.unwrap();
    sse_events(&text)
        .into_iter()
        .map(|(_, d)| serde_json::from_str(&d).unwrap())
        .collect()
}

async fn start_run(url: &str, input: &str) -> String {
    let (status, b) = post_json_as(url, "/v1/runs", KEY, &json!({"model": "fast", "input": input})).await;
    assert_eq!(status, 201, "{b}");
    b["id"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_run_survives_a_restart_and_resumes_when_approved() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = scripted_config("");
    let s = TestServer::start(&cfg, dir.path()).await;
    let id = start_run(&s.url, "Please delete task 1").await;
    let evs = events(&s.url, &id, None).await;
    let types: Vec<&str> = evs.iter().filter_map(|e| e["type"].as_str()).collect();
    assert_eq!(types.last(), Some(&"paused"), "{types:?}");
    assert!(types.contains(&"approval_required"), "{types:?}");
    let call_id = evs
        .iter()
        .find(|e| e["type"] == "approval_required")
        .and_then(|e| e["approvals"][0]["call"]["id"].as_str())
        .unwrap()
        .to_owned();
    let seen = evs.len();
    assert!(s.stop().await, "in-flight requests did not finish");
    assert!(dir.path().join(format!(".toolplane/runs/{id}.json")).exists());

    // A new process over the same folder.
    let s = TestServer::start(&cfg, dir.path()).await;
    let (_, b) = get_as(&s.url, &format!("/v1/runs/{id}"), KEY).await;
    assert_eq!(b["status"], "paused", "{b}");
    assert_eq!(b["pending_approvals"][0]["call"]["name"], "deleteTask");

    let decision = json!({"decisions": [{"call_id": call_id, "decision": "approve"}]});
    // Bob is a member, not an approver.
    assert_eq!(
        post_json_as(&s.url, &format!("/v1/runs/{id}/approvals"), BOB, &decision)
            .await
            .0,
        403
    );
    let r = client()
        .post(format!("{}/v1/runs/{id}/approvals", s.url))
        .bearer_auth(KEY)
        .json(&decision)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202, "{}", r.text().await.unwrap());
    let evs = events(&s.url, &id, Some(seen - 1)).await;
    let done = evs.last().unwrap();
    assert_eq!(done["type"], "done", "{evs:?}");
    assert_eq!(done["status"], "answered", "{done}");
    assert!(done["answer"].as_str().unwrap().contains("not a language model"));
    // The approved call ran: its finish event is not another approval request.
    let finished: Vec<&Value> = evs.iter().filter(|e| e["type"] == "tool_call_finished").collect();
    assert!(
        finished
            .iter()
            .any(|e| e["name"] == "deleteTask" && e["outcome"] != "approval_required"),
        "{evs:?}"
    );
    // A second decision on a finished run is a conflict.
    assert_eq!(
        post_json_as(&s.url, &format!("/v1/runs/{id}/approvals"), KEY, &decision)
            .await
            .0,
        409
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_use_server_tools_and_can_be_cancelled() {
    let dir = tempfile::tempdir().unwrap();
    let s = TestServer::start(&scripted_config(""), dir.path()).await;
    let id = start_run(&s.url, "Create a task: write the release notes").await;
    let evs = events(&s.url, &id, None).await;
    let done = evs.last().unwrap();
    assert_eq!(done["status"], "answered", "{evs:?}");
    assert!(
        evs.iter()
            .any(|e| e["type"] == "tool_call_finished" && e["name"] == "createTask" && e["outcome"] == "ok"),
        "{evs:?}"
    );
    // The finish event carries the result, so a watcher need not fetch the run.
    let created = evs
        .iter()
        .find(|e| e["type"] == "tool_call_finished" && e["name"] == "createTask")
        .unwrap();
    let result = created["result"].as_str().unwrap();
    assert!(result.contains("write the release notes"), "{created}");
    assert!(
        created.get("result_truncated").is_none() && created.get("is_error").is_none(),
        "{created}"
    );
    assert!(evs.iter().any(|e| e["type"] == "usage"), "{evs:?}");
    assert!(done["usage"]["input_tokens"].as_u64().unwrap() > 0);

    let id = start_run(&s.url, "Delete task 1").await;
    let _ = events(&s.url, &id, None).await;
    let (status, b) = delete_as(&s.url, &format!("/v1/runs/{id}"), KEY).await;
    assert_eq!(status, 200, "{b}");
    assert_eq!(b["status"], "cancelled");
    // Other principals cannot see alice's runs.
    assert_eq!(get_as(&s.url, &format!("/v1/runs/{id}"), BOB).await.0, 404);
    assert_eq!(get_as(&s.url, "/v1/runs/run_nope", KEY).await.0, 404);
    s.stop().await;
}

/// Starts a run with `model` and returns its events once it rests.
async fn run_events(url: &str, model: &str, input: &str) -> Vec<Value> {
    let (status, b) = post_json_as(url, "/v1/runs", KEY, &json!({"model": model, "input": input})).await;
    assert_eq!(status, 201, "{b}");
    events(url, b["id"].as_str().unwrap(), None).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_model_answer_of_a_run_says_who_answered_how_it_was_routed_and_what_it_cost() {
    let dir = tempfile::tempdir().unwrap();
    let s = TestServer::start(&scripted_config(""), dir.path()).await;
    let evs = run_events(&s.url, "auto", "What time is it? Use current_time.").await;
    let types: Vec<&str> = evs.iter().filter_map(|e| e["type"].as_str()).collect();
    assert_eq!(types.last(), Some(&"done"), "{evs:?}");
    let routing: Vec<&Value> = evs.iter().filter(|e| e["type"] == "routing").collect();
    let usage: Vec<&Value> = evs.iter().filter(|e| e["type"] == "usage").collect();
    assert!(!routing.is_empty(), "{types:?}");
    assert_eq!(
        routing.len(),
        usage.len(),
        "one routing event per model answer: {types:?}"
    );
    for (r, u) in routing.iter().zip(&usage) {
        assert_eq!(r["step"], u["step"], "{r} / {u}");
        assert!(
            types.iter().position(|t| *t == "routing") < types.iter().position(|t| *t == "usage"),
            "routing comes before the step's usage: {types:?}"
        );
        assert_eq!(r["routed"], true);
        let expert = r["expert"].as_str().unwrap();
        assert!(["fast", "careful"].contains(&expert), "{r}");
        assert!(r["task_type"].is_string(), "{r}");
        let candidates = r["candidates"].as_array().unwrap();
        assert_eq!(candidates.len(), 2, "both experts ranked: {r}");
        assert_eq!(
            candidates[0]["expert"], expert,
            "the first ranked answered (no failure): {r}"
        );
        assert!(candidates.iter().all(|c| c["score"].is_number()), "{r}");
        assert_eq!(r["fallbacks"], json!([]), "{r}");
        let attempts = r["attempts"].as_array().unwrap();
        assert_eq!(attempts.len(), 1, "{r}");
        assert_eq!(attempts[0]["outcome"], "ok", "{r}");
        assert_eq!(r["usage"], u["usage"], "the answer's own usage: {r} / {u}");
        assert!(r["usage"]["output_tokens"].as_u64().unwrap() > 0, "{r}");
        if expert == "fast" {
            // `fast` has prices in the test configuration.
            assert!(r["cost_usd"].as_f64().unwrap() > 0.0, "{r}");
        }
    }

    // A run on a named expert is not routed: the event says so.
    let evs = run_events(&s.url, "careful", "Say hello.").await;
    let r = evs.iter().find(|e| e["type"] == "routing").unwrap();
    assert_eq!(r["routed"], false, "{r}");
    assert_eq!(r["expert"], "careful", "{r}");
    assert!(r.get("candidates").is_none(), "{r}");
    s.stop().await;
}
