//! Direct tool calls held by a policy `ask` rule: the 403's `error.approval`,
//! an approver's decision (`POST /v1/tools/approvals/{id}`), the single-use
//! token bound to the caller, tool and exact arguments, 409 after a
//! decision, the audit records; and `invalid_arguments` with one
//! `{path, message}` per violation.

#![allow(clippy::unwrap_used, clippy::panic)]

mod support;

use serde_json::{Value, json};
use support::*;

async fn call(url: &str, key: &str, tool: &str, args: &Value, token: Option<&str>) -> (u16, Value) {
    let mut req = client()
        .post(format!("{url}/v1/tools/{tool}/call"))
        .bearer_auth(key)
        .json(args);
    if let Some(t) = token {
        req = req.header("x-toolplane-approval", t);
    }
    read(req.send().await.unwrap()).await
}

async fn decide(url: &str, key: &str, id: &str, body: Value) -> (u16, Value) {
    post_json_as(url, &format!("/v1/tools/approvals/{id}"), key, &body).await
}

/// The id of a task created through the demo Tasks API.
async fn new_task(url: &str, title: &str) -> i64 {
    let (status, b) = call(
        url,
        KEY,
        "createTask",
        &json!({"title": title, "project": "docs"}),
        None,
    )
    .await;
    assert_eq!(status, 200, "{b}");
    let out = &b["output"];
    let task: Value = match out.as_str() {
        Some(text) => serde_json::from_str(text).unwrap(),
        None => out.clone(),
    };
    task.get("id")
        .or_else(|| task.pointer("/body/id"))
        .and_then(Value::as_i64)
        .unwrap_or_else(|| panic!("no id in {b}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_asked_call_runs_once_with_the_token_an_approver_issued() {
    let dir = tempfile::tempdir().unwrap();
    let s = TestServer::start(&scripted_config(""), dir.path()).await;
    let task = new_task(&s.url, "to delete").await;
    let args = json!({"taskId": task});

    // Bob may ask; the policy's `ask` rule holds the call.
    let (status, b) = call(&s.url, BOB, "deleteTask", &args, None).await;
    assert_eq!(status, 403, "{b}");
    let e = error_of(&b);
    assert_eq!(e["code"], "approval_required", "{b}");
    assert_eq!(e["type"], "permission_error");
    let approval = &e["approval"];
    let id = approval["id"].as_str().unwrap().to_owned();
    assert_eq!(approval["tool"], "deleteTask");
    assert_eq!(approval["arguments"], args);
    assert_eq!(approval["rule"], "deletes-need-a-human");
    assert!(
        approval["explanation"]
            .as_str()
            .unwrap()
            .contains("deletes-need-a-human"),
        "{approval}"
    );

    // Bob cannot approve his own call: deciding needs the approver or admin role.
    let (status, b) = decide(&s.url, BOB, &id, json!({"decision": "approve"})).await;
    assert_eq!(status, 403, "{b}");
    let (status, b) = decide(&s.url, KEY, &id, json!({"decision": "maybe"})).await;
    assert_eq!((status, error_of(&b)["param"].as_str()), (400, Some("decision")), "{b}");

    let (status, b) = decide(&s.url, KEY, &id, json!({"decision": "approve"})).await;
    assert_eq!(status, 200, "{b}");
    assert_eq!(b["id"], id.as_str());
    assert_eq!(b["decision"], "approve");
    let token = b["token"].as_str().unwrap().to_owned();
    assert_eq!(b.as_object().unwrap().len(), 3, "exactly id, decision, token: {b}");
    let (status, b) = decide(&s.url, KEY, &id, json!({"decision": "approve"})).await;
    assert_eq!(
        (status, &error_of(&b)["code"]),
        (409, &json!("approval_already_decided")),
        "{b}"
    );

    // Other arguments or another caller: the token does not fit, and stays unused.
    let (status, b) = call(&s.url, BOB, "deleteTask", &json!({"taskId": task + 1000}), Some(&token)).await;
    assert_eq!(
        (status, &error_of(&b)["code"]),
        (403, &json!("approval_required")),
        "{b}"
    );
    let (status, b) = call(&s.url, KEY, "deleteTask", &args, Some(&token)).await;
    assert_eq!(
        (status, &error_of(&b)["code"]),
        (403, &json!("approval_required")),
        "{b}"
    );

    // The exact call by the caller runs, once.
    let (status, b) = call(&s.url, BOB, "deleteTask", &args, Some(&token)).await;
    assert_eq!(status, 200, "{b}");
    assert_eq!(b["is_error"], false, "{b}");
    let (status, b) = call(&s.url, BOB, "deleteTask", &args, Some(&token)).await;
    assert_eq!(
        (status, &error_of(&b)["code"]),
        (403, &json!("approval_required")),
        "{b}"
    );
    assert!(
        error_of(&b)["message"].as_str().unwrap().contains("already used"),
        "{b}"
    );

    // A rejection: no token, and the id is spent (409) for both decisions.
    let (_, b) = call(&s.url, BOB, "deleteTask", &args, None).await;
    let rejected = error_of(&b)["approval"]["id"].as_str().unwrap().to_owned();
    assert_ne!(rejected, id);
    let (status, b) = decide(
        &s.url,
        KEY,
        &rejected,
        json!({"decision": "reject", "reason": "keep it"}),
    )
    .await;
    assert_eq!(status, 200, "{b}");
    assert_eq!(b, json!({"id": rejected, "decision": "reject"}));
    for d in ["approve", "reject"] {
        let (status, b) = decide(&s.url, KEY, &rejected, json!({"decision": d})).await;
        assert_eq!(
            (status, &error_of(&b)["code"]),
            (409, &json!("approval_rejected")),
            "{b}"
        );
    }
    let (status, b) = decide(&s.url, KEY, "apr_unknown", json!({"decision": "approve"})).await;
    assert_eq!(
        (status, &error_of(&b)["code"]),
        (404, &json!("approval_not_found")),
        "{b}"
    );

    // Each decision is in the audit log, with who decided and whose call it was.
    let (_, b) = get_as(&s.url, "/v1/audit?limit=200", KEY).await;
    let decisions: Vec<&Value> = b["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| &d["record"])
        .filter(|r| r["event"] == "approval_decision")
        .collect();
    let find = |aid: &str| {
        decisions
            .iter()
            .find(|r| r["detail"]["approval_id"] == aid)
            .unwrap_or_else(|| panic!("no audit record for {aid}: {decisions:?}"))
    };
    let approved = find(&id);
    assert_eq!(approved["decision"], "approved");
    assert_eq!(approved["principal"], "alice");
    assert_eq!(approved["tool"], "deleteTask");
    assert_eq!(approved["detail"]["requested_by"], "bob");
    let r = find(&rejected);
    assert_eq!(r["decision"], "rejected");
    assert_eq!(r["detail"]["reason"], "keep it");
    assert_eq!(
        decisions.len(),
        2,
        "refused decisions are not recorded as decisions: {decisions:?}"
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_arguments_name_each_field_by_json_pointer() {
    let dir = tempfile::tempdir().unwrap();
    let s = TestServer::start(&scripted_config(""), dir.path()).await;
    let (status, b) = call(&s.url, KEY, "createTask", &json!({"title": 5, "colour": "red"}), None).await;
    assert_eq!(status, 400, "{b}");
    let e = error_of(&b);
    assert_eq!(e["code"], "invalid_arguments");
    assert_eq!(e["type"], "invalid_request_error");
    let errors = e["details"]["errors"].as_array().unwrap();
    let paths: Vec<&str> = errors.iter().map(|x| x["path"].as_str().unwrap()).collect();
    for x in errors {
        assert!(!x["message"].as_str().unwrap().is_empty(), "{x}");
        assert_eq!(x.as_object().unwrap().len(), 2, "path and message: {x}");
    }
    assert!(paths.contains(&"/title"), "the wrong type: {paths:?}");
    assert!(paths.contains(&"/project"), "the missing required property: {paths:?}");
    let extra = errors
        .iter()
        .find(|x| x["message"].as_str().unwrap().contains("colour"))
        .unwrap_or_else(|| panic!("the unexpected property: {errors:?}"));
    assert_eq!(extra["path"], "", "additionalProperties is about the object itself");

    let (status, b) = call(&s.url, KEY, "createTask", &json!([1, 2]), None).await;
    assert_eq!(status, 400, "{b}");
    assert_eq!(error_of(&b)["code"], "invalid_arguments");
    assert_eq!(error_of(&b)["details"]["errors"][0]["path"], "");
    s.stop().await;
}
