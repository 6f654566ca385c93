//! The console over HTTP (the `console` feature): pages and files with their
//! security headers, sign-in with a key into an HttpOnly session cookie, the
//! CSRF rule for cookie requests (a bearer key needs none), sign-out, and the
//! dock's conversation kept per session.

#![cfg(feature = "console")]
#![allow(clippy::unwrap_used, clippy::panic)]

mod support;

use reqwest::header::{CONTENT_SECURITY_POLICY, CONTENT_TYPE, SET_COOKIE};
use serde_json::{Value, json};
use support::*;

struct Cookies {
    session: String,
    csrf: String,
}

impl Cookies {
    fn header(&self) -> String {
        format!("tp_session={}; tp_csrf={}", self.session, self.csrf)
    }

    /// `GET {url}{path}` with the session's cookies alone (a GET needs no
    /// CSRF token): the status and the JSON body.
    async fn get(&self, url: &str, path: &str) -> (u16, Value) {
        let r = client()
            .get(format!("{url}{path}"))
            .header("cookie", self.header())
            .send()
            .await
            .unwrap();
        read(r).await
    }
}

async fn sign_in(url: &str, key: &str) -> reqwest::Response {
    client()
        .post(format!("{url}/console/session"))
        .json(&json!({"key": key}))
        .send()
        .await
        .unwrap()
}

fn cookies_of(r: &reqwest::Response) -> (Cookies, Vec<String>) {
    let raw: Vec<String> = r
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    let value = |name: &str| {
        raw.iter()
            .find_map(|c| c.strip_prefix(&format!("{name}=")))
            .map(|rest| rest.split(';').next().unwrap().to_owned())
            .unwrap()
    };
    (
        Cookies {
            session: value("tp_session"),
            csrf: value("tp_csrf"),
        },
        raw,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_and_files_carry_their_types_and_the_csp() {
    let dir = tempfile::tempdir().unwrap();
    let s = TestServer::start(&scripted_config(""), dir.path()).await;
    for path in ["/", "/tools", "/dashboard", "/integrations"] {
        let r = client().get(format!("{}{path}", s.url)).send().await.unwrap();
        assert_eq!(r.status(), 200, "{path}");
        assert_eq!(r.headers()[CONTENT_TYPE], "text/html; charset=utf-8");
        let csp = r.headers()[CONTENT_SECURITY_POLICY].to_str().unwrap().to_owned();
        assert!(
            csp.contains("script-src 'self';") && !csp.contains("unsafe-inline"),
            "{csp}"
        );
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        let html = r.text().await.unwrap();
        assert!(html.contains(r#"<script type="module" src="/console/js/app.js"></script>"#));
        // No inline script: every <script> has a src.
        assert_eq!(
            html.matches("<script").count(),
            html.matches("<script type=\"module\" src=").count()
        );
    }
    let r = client()
        .get(format!("{}/console/js/app.js", s.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()[CONTENT_TYPE], "text/javascript; charset=utf-8");
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    let r = client()
        .get(format!("{}/console/css/console.css", s.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()[CONTENT_TYPE], "text/css; charset=utf-8");
    let r = client()
        .get(format!("{}/console/js/nothing.js", s.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    // The browser tests are not served.
    let r = client()
        .get(format!("{}/console/tests/support.mjs", s.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    // The console's API is in the description.
    let (_, doc) = get_as(&s.url, "/openapi.json", None).await;
    assert!(doc["paths"]["/console/session"]["post"].is_object(), "{}", doc["paths"]);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_sets_strict_cookies_and_cookie_requests_need_the_csrf_token() {
    let dir = tempfile::tempdir().unwrap();
    let s = TestServer::start(&scripted_config(""), dir.path()).await;

    // Wrong key, wrong content type.
    let r = sign_in(&s.url, "tp-wrong").await;
    assert_eq!(r.status(), 401);
    assert!(r.headers().get(SET_COOKIE).is_none());
    let r = client()
        .post(format!("{}/console/session", s.url))
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(format!("key={KEY}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 415);

    let r = sign_in(&s.url, KEY).await;
    assert_eq!(r.status(), 200);
    let (c, raw) = cookies_of(&r);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["principal"], "alice");
    let session_cookie = raw.iter().find(|c| c.starts_with("tp_session=")).unwrap();
    assert!(
        session_cookie.contains("HttpOnly") && session_cookie.contains("SameSite=Strict"),
        "{session_cookie}"
    );
    let csrf_cookie = raw.iter().find(|c| c.starts_with("tp_csrf=")).unwrap();
    assert!(
        !csrf_cookie.contains("HttpOnly") && csrf_cookie.contains("SameSite=Strict"),
        "{csrf_cookie}"
    );

    // GET with the cookie alone.
    let (_, who) = c.get(&s.url, "/console/session").await;
    assert_eq!(who["principal"], "alice");
    assert_eq!(who["roles"], json!(["member", "approver", "admin"]));

    let call = |headers: Vec<(&'static str, String)>| {
        let mut r = client()
            .post(format!("{}/v1/tools/current_time/call", s.url))
            .json(&json!({}));
        for (k, v) in headers {
            r = r.header(k, v);
        }
        r.send()
    };
    // POST with the cookie but no CSRF header: 403.
    let r = call(vec![("cookie", c.header())]).await.unwrap();
    assert_eq!(r.status(), 403);
    let e: Value = r.json().await.unwrap();
    assert_eq!(error_of(&e)["code"], "csrf_failed");
    // A wrong token, or the right one from another origin: 403.
    let r = call(vec![("cookie", c.header()), ("x-csrf-token", "x".repeat(64))])
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = call(vec![
        ("cookie", c.header()),
        ("x-csrf-token", c.csrf.clone()),
        ("origin", "http://evil.example".into()),
    ])
    .await
    .unwrap();
    assert_eq!(r.status(), 403);
    // The right token: the call runs.
    let r = call(vec![("cookie", c.header()), ("x-csrf-token", c.csrf.clone())])
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // A bearer key needs no CSRF token, with or without a cookie.
    let r = call(vec![("authorization", format!("Bearer {KEY}"))]).await.unwrap();
    assert_eq!(r.status(), 200);
    let r = call(vec![("authorization", format!("Bearer {KEY}")), ("cookie", c.header())])
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // A wrong bearer key does not fall back to the cookie.
    let r = call(vec![
        ("authorization", "Bearer tp-wrong".into()),
        ("cookie", c.header()),
    ])
    .await
    .unwrap();
    assert_eq!(r.status(), 401);

    // Sign out (itself a cookie request: needs the token), then the cookie is dead.
    let r = client()
        .delete(format!("{}/console/session", s.url))
        .header("cookie", c.header())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = client()
        .delete(format!("{}/console/session", s.url))
        .header("cookie", c.header())
        .header("x-csrf-token", &c.csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()
            .get_all(SET_COOKIE)
            .iter()
            .all(|v| v.to_str().unwrap().contains("Max-Age=0"))
    );
    assert_eq!(c.get(&s.url, "/console/session").await.0, 401);
    s.stop().await;
}

async fn details(url: &str, c: &Cookies, id: &str) -> Value {
    c.get(url, &format!("/console/runs/{id}")).await.1
}

async fn rested(url: &str, c: &Cookies, id: &str) -> Value {
    for _ in 0..600 {
        let d = details(url, c, id).await;
        if d["status"] != "running" {
            return d;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("run {id} did not rest");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dock_conversation_is_kept_per_session_with_results_and_the_expert() {
    let dir = tempfile::tempdir().unwrap();
    let s = TestServer::start(&scripted_config(""), dir.path()).await;
    let (c, _) = cookies_of(&sign_in(&s.url, KEY).await);
    let ask = |input: &str, model: &str| {
        client()
            .post(format!("{}/console/conversation", s.url))
            .header("cookie", c.header())
            .header("x-csrf-token", &c.csrf)
            .json(&json!({"input": input, "model": model}))
            .send()
    };
    let r = ask("list my tasks", "auto").await.unwrap();
    assert_eq!(r.status(), 201);
    let first: Value = r.json().await.unwrap();
    let id = first["id"].as_str().unwrap().to_owned();
    let d = rested(&s.url, &c, &id).await;
    assert_eq!(d["status"], "answered", "{d}");
    // The tool's result, which the events do not carry.
    assert_eq!(d["tool_results"][0]["name"], "listTasks", "{d}");
    assert!(
        d["tool_results"][0]["content"]
            .as_str()
            .unwrap()
            .contains("\"status\":200"),
        "{d}"
    );
    // Routed: the router's decision and the expert that answered.
    assert_eq!(d["routed"], true);
    let answered = d["expert"]["id"].as_str().unwrap();
    assert!(["fast", "careful"].contains(&answered), "{d}");
    let dispatch = d["dispatches"].as_array().unwrap().last().unwrap();
    assert_eq!(dispatch["answered_by"], answered);
    assert_eq!(dispatch["ranked"].as_array().unwrap().len(), 2, "{dispatch}");
    assert!(
        d["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["type"] == "text_delta")
    );

    // A named expert: no router decision.
    let r = ask("and now say hello", "careful").await.unwrap();
    let second: Value = r.json().await.unwrap();
    let d = rested(&s.url, &c, second["id"].as_str().unwrap()).await;
    assert_eq!(d["routed"], false);
    assert_eq!(d["expert"]["id"], "careful");
    assert!(d["answer"].as_str().unwrap().contains("and now say hello"));

    // The conversation, as a reload sees it.
    let (_, conv) = c.get(&s.url, "/console/conversation").await;
    let turns = conv["data"].as_array().unwrap();
    assert_eq!(turns.len(), 2);
    assert_eq!(turns[0]["input"], "list my tasks");
    assert_eq!(turns[1]["asked_model"], "careful");
    assert_eq!(conv["scripted_only"], true);

    // Another session (the same key) has its own, empty conversation; a bearer key has none.
    let (other, _) = cookies_of(&sign_in(&s.url, KEY).await);
    let (_, conv) = other.get(&s.url, "/console/conversation").await;
    assert_eq!(conv["data"], json!([]));
    assert_eq!(get_as(&s.url, "/console/conversation", KEY).await.0, 400);
    // Bob cannot read Alice's run.
    assert_eq!(get_as(&s.url, &format!("/console/runs/{id}"), BOB).await.0, 404);

    // Clearing starts afresh.
    let r = client()
        .delete(format!("{}/console/conversation", s.url))
        .header("cookie", c.header())
        .header("x-csrf-token", &c.csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["cleared"], 2);
    let r = ask("", "auto").await.unwrap();
    assert_eq!(r.status(), 400);
    s.stop().await;
}
