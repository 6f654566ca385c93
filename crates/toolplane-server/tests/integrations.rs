//! The integrations and dashboard endpoints over real HTTP on 127.0.0.1:
//! providers (key state, never the key; a test call; live figures), OpenAPI
//! descriptions added at run time (upload and path, namespaced, auth never
//! echoed, tools callable), tools switched off and on, GitHub, MCP, the
//! dashboard's series and the audit log's filters.

#![allow(clippy::unwrap_used, clippy::panic)]

mod support;

use std::net::SocketAddr;

use axum::Router;
use axum::http::HeaderMap;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use serde_json::{Value, json};
use support::*;

/// A small API the uploaded description points at: `GET /items` answers the
/// items only when the `x-api-key` header carries the secret.
async fn items_api(secret: &'static str) -> String {
    let app = Router::new().route(
        "/items",
        get(move |headers: HeaderMap| async move {
            if headers.get("x-api-key").and_then(|v| v.to_str().ok()) == Some(secret) {
                axum::Json(json!([{"id": 1, "name": "apple"}])).into_response()
            } else {
                (axum::http::StatusCode::UNAUTHORIZED, "no key").into_response()
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

/// An OpenAI-compatible upstream that refuses every request with a 400.
async fn refusing_upstream() -> String {
    let app = Router::new().route(
        "/v1/chat/completions",
        post(|| async {
            (
                axum::http::StatusCode::BAD_REQUEST,
                axum::Json(json!({"error": {"message": "bad request", "type": "invalid_request_error"}})),
            )
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}/v1")
}

fn shop_description(server: &str) -> Value {
    json!({
        "openapi": "3.1.0",
        "info": {"title": "Shop API", "version": "2.0"},
        "servers": [{"url": server}],
        "components": {"securitySchemes": {"apiKey": {"type": "apiKey", "in": "header", "name": "x-api-key"}}},
        "security": [{"apiKey": []}],
        "paths": {
            "/items": {"get": {"operationId": "listItems", "summary": "List the items", "tags": ["items"],
                "responses": {"200": {"description": "ok"}}}},
            "/items/{id": {"delete": {"operationId": "deleteItem", "summary": "Delete an item", "tags": ["admin"],
                "responses": {"204": {"description": "gone"}}}}
        }
    })
}

/// Experts, keys, the built-in tools and no policy file (every tool allowed).
fn config(extra_experts: &str, tools_extra: &str) -> String {
    format!(
        "{keys}\n[[experts]]\nid = \"fast\"\nprovider = \"scripted\"\nmodel = \"scripted-fast\"\n\
         price = {{ input = 1.0, output = 2.0 }}\n\n{extra_experts}\n\
         [tools]\nbuiltins = [\"current_time\"]\n{tools_extra}\n",
        keys = keys_toml()
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn providers_show_whether_a_key_is_set_never_the_key_and_their_live_figures() {
    let dir = tempfile::tempdir().unwrap();
    let (upstream, log) = fake_upstream().await;
    // The key comes from PATH: always set, and a value we can look for in the answers.
    let experts = format!(
        "[[experts]]\nid = \"up\"\nprovider = \"openai-compatible\"\nmodel = \"up-model\"\n\
         base_url = \"{upstream}\"\napi_key_env = \"PATH\"\n"
    );
    let s = TestServer::start(&config(&experts, ""), dir.path()).await;
    let secret = std::env::var("PATH").unwrap();

    let (status, b) = get_as(&s.url, "/v1/integrations/providers", KEY).await;
    assert_eq!(status, 200, "{b}");
    let up = b["data"].as_array().unwrap().iter().find(|p| p["id"] == "up").unwrap();
    assert_eq!(up["key"], "present");
    assert_eq!(up["key_present"], true);
    assert_eq!(up["key_env"], "PATH");
    assert_eq!(up["base_url"], upstream.as_str());
    assert_eq!(up["figures"]["calls"], 0);
    let fast = b["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == "fast")
        .unwrap();
    assert_eq!(fast["key"], "not_needed");
    assert!(!b.to_string().contains(&secret), "the key leaked");

    // A test call goes upstream for real and answers its text and latency.
    let (status, t) = post_json_as(&s.url, "/v1/integrations/providers/up/test", KEY, &json!({})).await;
    assert_eq!(status, 200, "{t}");
    assert_eq!(t["ok"], true, "{t}");
    assert_eq!(t["text"], "from upstream");
    assert!(t["latency_ms"].as_f64().unwrap() >= 0.0);
    assert_eq!(log.completed.load(std::sync::atomic::Ordering::SeqCst), 1);
    let (_, t) = post_json_as(&s.url, "/v1/integrations/providers/fast/test", KEY, &json!({})).await;
    assert_eq!(t["ok"], true, "{t}");
    let (status, e) = post_json_as(&s.url, "/v1/integrations/providers/nope/test", KEY, &json!({})).await;
    assert_eq!((status, error_of(&e)["code"].as_str()), (404, Some("expert_not_found")));

    // The figures now count the test calls.
    let (_, b) = get_as(&s.url, "/v1/integrations/providers", KEY).await;
    let up = b["data"].as_array().unwrap().iter().find(|p| p["id"] == "up").unwrap();
    assert_eq!(up["figures"]["calls"], 1, "{up}");
    assert_eq!(up["figures"]["success_rate"], 1.0);
    assert!(up["figures"]["latency_p50_ms"].as_f64().is_some());
    assert!(up["figures"]["latency_p95_ms"].as_f64().is_some());
    let fast = b["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == "fast")
        .unwrap();
    assert!(fast["figures"]["cost_usd"].as_f64().unwrap() > 0.0, "{fast}");

    // A member is no admin.
    let (status, e) = get_as(&s.url, "/v1/integrations/providers", BOB).await;
    assert_eq!(status, 403, "{e}");
    let (status, _) = post_json_as(&s.url, "/v1/integrations/providers/up/test", BOB, &json!({})).await;
    assert_eq!(status, 403);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_uploaded_description_becomes_namespaced_callable_tools_and_its_secret_is_never_echoed() {
    let dir = tempfile::tempdir().unwrap();
    let s = TestServer::start(&config("", ""), dir.path()).await;
    let api = items_api("s3cr3t-value-42").await;
    let path = "/v1/integrations/openapi";

    let body = json!({"spec": shop_description(&api), "namespace": "shop", "auth": {"apiKey": "s3cr3t-value-42"}});
    let (status, b) = post_json_as(&s.url, path, KEY, &body).await;
    assert_eq!(status, 200, "{b}");
    assert!(!b.to_string().contains("s3cr3t"), "the secret was echoed: {b}");
    assert_eq!(b["namespace"], "shop");
    assert_eq!(b["source"], "upload");
    assert_eq!(b["auth"], json!(["apiKey"]));
    assert_eq!(b["title"], "Shop API");
    let names: Vec<&str> = b["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"shop.listItems"), "{names:?}");
    let list = b["tools"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "shop.listItems")
        .unwrap();
    assert_eq!(list["method"], "GET");
    assert_eq!(list["path"], "/items");
    assert!(list["tags"].as_array().unwrap().contains(&json!("items")));
    assert_eq!(list["enabled"], true);
    // The unbalanced brace is warned about, in the tool's or the document's warnings.
    let text = b.to_string();
    assert!(text.contains("/items/{id"), "{text}");
    let warnings = b["warnings"].as_array().unwrap().len()
        + b["tools"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["warnings"].as_array().unwrap().len())
            .sum::<usize>();
    assert!(warnings > 0, "{b}");

    // In the live registry: listed, found by search, callable with the credential.
    let (_, tools) = get_as(&s.url, "/v1/tools?q=list+items", KEY).await;
    assert_eq!(tools["data"][0]["name"], "shop.listItems", "{tools}");
    let (status, out) = post_json_as(&s.url, "/v1/tools/shop.listItems/call", KEY, &json!({})).await;
    assert_eq!(status, 200, "{out}");
    assert!(out.to_string().contains("apple"), "{out}");

    // Listed, without the secret.
    let (_, all) = get_as(&s.url, path, KEY).await;
    assert!(!all.to_string().contains("s3cr3t"));
    assert!(all["data"].as_array().unwrap().iter().any(|a| a["namespace"] == "shop"));
    let (status, all) = get_as(&s.url, path, BOB).await;
    assert_eq!(status, 200, "any key may read the list: {all}");

    // The same namespace again: refused unless replacing.
    let (status, e) = post_json_as(&s.url, path, KEY, &body).await;
    assert_eq!(
        (status, error_of(&e)["code"].as_str()),
        (409, Some("namespace_taken")),
        "{e}"
    );
    let mut again = body.clone();
    again["replace"] = json!(true);
    again["include"] = json!(["tag:items"]);
    let (status, b) = post_json_as(&s.url, path, KEY, &again).await;
    assert_eq!(status, 200, "{b}");
    assert_eq!(b["tools"].as_array().unwrap().len(), 1, "{b}");
    let (_, all) = get_as(&s.url, path, KEY).await;
    assert_eq!(
        all["data"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["namespace"] == "shop")
            .count(),
        1
    );

    // A raw YAML body, namespace from the query; and one from the title.
    let yaml = format!(
        "openapi: 3.0.3\ninfo: {{title: Notes, version: '1'}}\nservers: [{{url: '{api}'}}]\n\
         paths:\n  /notes:\n    get:\n      operationId: listNotes\n      responses: {{'200': {{description: ok}}}}\n"
    );
    let r = client()
        .post(format!("{}{path}?namespace=notes", s.url))
        .bearer_auth(KEY)
        .header("content-type", "application/yaml")
        .body(yaml.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let b: Value = r.json().await.unwrap();
    assert_eq!(b["tools"][0]["name"], "notes.listNotes");
    let r = client()
        .post(format!("{}{path}", s.url))
        .bearer_auth(KEY)
        .header("content-type", "text/yaml")
        .body(yaml)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409, "the title gives the namespace `notes` too");

    // Bad input: a clear error naming the place.
    let (status, e) = post_json_as(&s.url, path, KEY, &json!({"spec": "not: [an openapi"})).await;
    assert_eq!((status, error_of(&e)["param"].as_str()), (400, Some("spec")), "{e}");
    let (status, e) = post_json_as(
        &s.url,
        path,
        KEY,
        &json!({"spec": shop_description(&api), "namespace": "Bad.NS"}),
    )
    .await;
    assert_eq!(
        (status, error_of(&e)["param"].as_str()),
        (400, Some("namespace")),
        "{e}"
    );
    let (status, e) = post_json_as(
        &s.url,
        path,
        KEY,
        &json!({"spec": shop_description(&api), "namespace": "x", "auth": {"apiKey": 5}}),
    )
    .await;
    assert_eq!(
        (status, error_of(&e)["param"].as_str()),
        (400, Some("auth.apiKey")),
        "{e}"
    );
    let (status, e) = post_json_as(&s.url, path, KEY, &json!({"path": "a.yaml"})).await;
    assert_eq!(
        (status, error_of(&e)["code"].as_str()),
        (400, Some("openapi_dir_not_configured")),
        "{e}"
    );

    // Members may not add.
    let (status, _) = post_json_as(
        &s.url,
        path,
        BOB,
        &json!({"spec": shop_description(&api), "namespace": "bobs"}),
    )
    .await;
    assert_eq!(status, 403);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_path_loads_only_from_inside_the_configured_folder() {
    let dir = tempfile::tempdir().unwrap();
    let specs = dir.path().join("specs");
    std::fs::create_dir(&specs).unwrap();
    let api = items_api("k").await;
    std::fs::write(specs.join("shop.json"), shop_description(&api).to_string()).unwrap();
    std::fs::write(dir.path().join("outside.json"), shop_description(&api).to_string()).unwrap();
    let s = TestServer::start(&config("", "openapi_dir = \"specs\""), dir.path()).await;
    let path = "/v1/integrations/openapi";

    let (status, b) = post_json_as(&s.url, path, KEY, &json!({"path": "shop.json"})).await;
    assert_eq!(status, 200, "{b}");
    assert_eq!(b["source"], "path");
    assert_eq!(b["location"], "shop.json");
    assert_eq!(b["namespace"], "shop_api");
    let (_, all) = get_as(&s.url, path, KEY).await;
    assert!(all["openapi_dir"].as_str().unwrap().ends_with("specs"));

    for outside in [
        "../outside.json".to_owned(),
        dir.path().join("outside.json").display().to_string(),
        "/etc/passwd".to_owned(),
    ] {
        let (status, e) = post_json_as(&s.url, path, KEY, &json!({"path": outside, "namespace": "evil"})).await;
        assert_eq!(status, 400, "{outside}: {e}");
        assert_eq!(error_of(&e)["code"], "openapi_path_outside_dir", "{outside}: {e}");
        assert_eq!(error_of(&e)["param"], "path");
    }
    let (status, e) = post_json_as(&s.url, path, KEY, &json!({"path": "missing.json"})).await;
    assert_eq!(
        (status, error_of(&e)["code"].as_str()),
        (400, Some("openapi_path_not_found")),
        "{e}"
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disabled_tool_disappears_and_its_calls_are_refused_until_enabled() {
    let dir = tempfile::tempdir().unwrap();
    let s = TestServer::start(&config("", ""), dir.path()).await;
    let call = "/v1/tools/current_time/call";
    let toggle = "/v1/integrations/tools/current_time";
    let (status, _) = post_json_as(&s.url, call, KEY, &json!({})).await;
    assert_eq!(status, 200);

    let (status, b) = post_json_as(&s.url, toggle, KEY, &json!({"enabled": false})).await;
    assert_eq!(status, 200, "{b}");
    assert_eq!(
        (b["enabled"].clone(), b["changed"].clone()),
        (json!(false), json!(true))
    );
    let (_, tools) = get_as(&s.url, "/v1/tools", KEY).await;
    assert!(!tools.to_string().contains("current_time"), "{tools}");
    let (_, found) = get_as(&s.url, "/v1/tools?q=current+time", KEY).await;
    assert!(!found.to_string().contains("current_time"), "{found}");
    let (status, e) = post_json_as(&s.url, call, KEY, &json!({})).await;
    assert_eq!(status, 403, "{e}");
    assert_eq!(error_of(&e)["code"], "tool_disabled");
    assert!(error_of(&e)["message"].as_str().unwrap().contains("disabled"), "{e}");
    // Twice is no change; a member may not switch tools.
    let (_, b) = post_json_as(&s.url, toggle, KEY, &json!({"enabled": false})).await;
    assert_eq!(b["changed"], false);
    let (status, _) = post_json_as(&s.url, toggle, BOB, &json!({"enabled": true})).await;
    assert_eq!(status, 403);

    let (status, b) = post_json_as(&s.url, toggle, KEY, &json!({"enabled": true})).await;
    assert_eq!((status, b["changed"].clone()), (200, json!(true)));
    let (status, _) = post_json_as(&s.url, call, KEY, &json!({})).await;
    assert_eq!(status, 200);

    let (status, e) = post_json_as(&s.url, "/v1/integrations/tools/nope", KEY, &json!({"enabled": false})).await;
    assert_eq!((status, error_of(&e)["code"].as_str()), (404, Some("tool_not_found")));
    let (status, e) = post_json_as(&s.url, toggle, KEY, &json!({"enabled": "no"})).await;
    assert_eq!((status, error_of(&e)["param"].as_str()), (400, Some("enabled")));

    // The switches are in the audit log.
    let (_, log) = get_as(&s.url, "/v1/audit?principal=alice", KEY).await;
    let events: Vec<&str> = log["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["record"]["event"].as_str().unwrap())
        .collect();
    assert!(
        events.contains(&"tool_disabled") && events.contains(&"tool_enabled"),
        "{events:?}"
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_openapi_tool_switched_off_shows_as_disabled_in_its_description() {
    let dir = tempfile::tempdir().unwrap();
    let s = TestServer::start(&config("", ""), dir.path()).await;
    let api = items_api("k").await;
    let path = "/v1/integrations/openapi";
    let (status, _) = post_json_as(
        &s.url,
        path,
        KEY,
        &json!({"spec": shop_description(&api), "namespace": "shop"}),
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = post_json_as(
        &s.url,
        "/v1/integrations/tools/shop.listItems",
        KEY,
        &json!({"enabled": false}),
    )
    .await;
    assert_eq!(status, 200);
    let (_, all) = get_as(&s.url, path, KEY).await;
    let shop = all["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["namespace"] == "shop")
        .unwrap();
    let t = shop["tools"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "shop.listItems")
        .unwrap();
    assert_eq!(t["enabled"], false);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn github_and_mcp_say_what_is_configured() {
    let dir = tempfile::tempdir().unwrap();
    let s = TestServer::start(&config("", ""), dir.path()).await;
    let (status, g) = get_as(&s.url, "/v1/integrations/github", KEY).await;
    assert_eq!(status, 200);
    assert_eq!((g["configured"].clone(), g["tools"].clone()), (json!(false), json!(0)));
    let (status, m) = get_as(&s.url, "/v1/integrations/mcp", KEY).await;
    assert_eq!(status, 200);
    assert_eq!(m["data"], json!([]));
    s.stop().await;

    let dir = tempfile::tempdir().unwrap();
    let cfg = config(
        "",
        "\n[tools.github]\ntoken_env = \"TOOLPLANE_TEST_NO_SUCH_TOKEN\"\nread_only = true\n",
    );
    let s = TestServer::start(&cfg, dir.path()).await;
    let (_, g) = get_as(&s.url, "/v1/integrations/github", KEY).await;
    assert_eq!(g["configured"], true, "{g}");
    assert_eq!(g["token_present"], false);
    assert_eq!(g["read_only"], true);
    let n = g["tools"].as_u64().unwrap();
    assert!(n > 0, "{g}");
    let (_, tools) = get_as(&s.url, "/v1/tools", KEY).await;
    let github_tools = tools["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| {
            t["annotations"]["tags"]
                .as_array()
                .is_some_and(|tags| tags.contains(&json!("github")))
        })
        .count() as u64;
    assert_eq!(github_tools, n);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_draws_latency_cost_and_errors_from_the_collector() {
    let dir = tempfile::tempdir().unwrap();
    let upstream = refusing_upstream().await;
    let experts = format!(
        "[[experts]]\nid = \"bad\"\nprovider = \"openai-compatible\"\nmodel = \"bad-model\"\n\
         base_url = \"{upstream}\"\napi_key_env = \"PATH\"\n"
    );
    let s = TestServer::start(&config(&experts, ""), dir.path()).await;
    let path = "/v1/dashboard";
    let (status, empty) = get_as(&s.url, &format!("{path}?range=15m"), KEY).await;
    assert_eq!(status, 200, "{empty}");
    assert_eq!(empty["latency"], json!([]));

    for model in ["fast", "fast", "fast", "bad"] {
        let _ = post_json_as(
            &s.url,
            "/v1/chat/completions",
            KEY,
            &json!({"model": model, "messages": [{"role": "user", "content": "hello"}]}),
        )
        .await;
    }
    let (status, d) = get_as(&s.url, &format!("{path}?range=15m"), KEY).await;
    assert_eq!(status, 200, "{d}");
    assert_eq!(d["range"], "15m");
    assert_eq!(d["bucket_seconds"], 60);
    assert_eq!(d["buckets"].as_array().unwrap().len(), 15);
    assert_eq!(d["totals"]["calls"], 4, "{d}");
    let scripted = d["latency"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["provider"] == "scripted")
        .unwrap();
    let points = scripted["points"].as_array().unwrap();
    assert_eq!(points.len(), 15);
    let filled: Vec<&Value> = points.iter().filter(|p| !p["p50"].is_null()).collect();
    assert!(!filled.is_empty(), "{scripted}");
    for p in filled {
        let (p50, p95, p99) = (
            p["p50"].as_f64().unwrap(),
            p["p95"].as_f64().unwrap(),
            p["p99"].as_f64().unwrap(),
        );
        assert!(p50 <= p95 && p95 <= p99, "{p}");
    }
    assert!(d["cost"]["total_usd"].as_f64().unwrap() > 0.0, "{d}");
    assert_eq!(d["cost"]["by_provider"][0]["name"], "scripted");
    assert!(
        d["cost"]["by_model"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["name"] == "scripted/scripted-fast")
    );
    let errors = d["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{d}");
    assert_eq!(errors[0]["count"], 1);
    assert!(d["win_rates"].is_array());

    for (range, buckets) in [("1h", 12), ("6h", 24), ("24h", 24)] {
        let (status, d) = get_as(&s.url, &format!("{path}?range={range}"), KEY).await;
        assert_eq!(status, 200, "{range}: {d}");
        assert_eq!(d["buckets"].as_array().unwrap().len(), buckets, "{range}");
        assert_eq!(d["totals"]["calls"], 4, "{range}");
    }
    let (status, e) = get_as(&s.url, &format!("{path}?range=2d"), KEY).await;
    assert_eq!((status, error_of(&e)["code"].as_str()), (400, Some("invalid_range")));
    let (status, _) = get_as(&s.url, path, BOB).await;
    assert_eq!(status, 403);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audit_log_filters_by_principal_tool_and_decision() {
    let dir = tempfile::tempdir().unwrap();
    let s = TestServer::start(&config("", ""), dir.path()).await;
    for key in [KEY, KEY, BOB] {
        let (status, _) = post_json_as(&s.url, "/v1/tools/current_time/call", key, &json!({})).await;
        assert_eq!(status, 200);
    }
    let audit = |q: &str| format!("/v1/audit?{q}");
    let (_, all) = get_as(&s.url, &audit(""), KEY).await;
    assert_eq!(all["total"], 3, "{all}");
    let (_, bob) = get_as(&s.url, &audit("principal=bob"), KEY).await;
    assert_eq!(bob["total"], 1, "{bob}");
    assert_eq!(bob["data"][0]["record"]["principal"], "bob");
    let (_, tool) = get_as(&s.url, &audit("tool=current_time&limit=2"), KEY).await;
    assert_eq!(
        (tool["total"].clone(), tool["data"].as_array().unwrap().len()),
        (json!(3), 2)
    );
    let (_, allowed) = get_as(&s.url, &audit("decision=allow&principal=alice"), KEY).await;
    assert_eq!(allowed["total"], 2, "{allowed}");
    let (_, denied) = get_as(&s.url, &audit("decision=deny"), KEY).await;
    assert_eq!(denied["total"], 0);
    let (_, none) = get_as(&s.url, &audit("tool=nope"), KEY).await;
    assert_eq!(none["data"], json!([]));
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_description_documents_the_integrations_routes() {
    let dir = tempfile::tempdir().unwrap();
    let s = TestServer::start(&config("", ""), dir.path()).await;
    let (_, doc) = get_as(&s.url, "/openapi.json", None).await;
    for (path, method) in [
        ("/v1/integrations/providers", "get"),
        ("/v1/integrations/providers/{id}/test", "post"),
        ("/v1/integrations/openapi", "get"),
        ("/v1/integrations/openapi", "post"),
        ("/v1/integrations/tools/{name}", "post"),
        ("/v1/integrations/github", "get"),
        ("/v1/integrations/mcp", "get"),
        ("/v1/dashboard", "get"),
    ] {
        assert!(doc["paths"][path][method]["operationId"].is_string(), "{method} {path}");
    }
    let params = doc["paths"]["/v1/audit"]["get"]["parameters"].to_string();
    for p in ["principal", "tool", "decision"] {
        assert!(params.contains(p), "{params}");
    }
    s.stop().await;
}
