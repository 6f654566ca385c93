//! Run-time integration changes survive a restart: descriptions added over
//! HTTP (an upload and a path) and tools switched off are written to
//! `integrations.json` in the state folder and applied again when a gateway
//! is built from the same folder; a removed description is gone for good; a
//! corrupt file stops the start-up with an error naming it.

#![allow(clippy::unwrap_used, clippy::panic)]

mod support;

use std::net::SocketAddr;

use axum::Router;
use axum::routing::get;
use serde_json::{Value, json};
use support::*;
use toolplane_server::config::Origin;
use toolplane_server::{Gateway, ServerConfig};

async fn get_json(url: &str, key: &str) -> (u16, Value) {
    read(client().get(url).bearer_auth(key).send().await.unwrap()).await
}

async fn send_json(method: reqwest::Method, url: &str, body: Option<&Value>) -> (u16, Value) {
    let mut r = client().request(method, url).bearer_auth(KEY);
    if let Some(b) = body {
        r = r.json(b);
    }
    read(r.send().await.unwrap()).await
}

async fn post_json(url: &str, body: &Value) -> (u16, Value) {
    send_json(reqwest::Method::POST, url, Some(body)).await
}

/// `GET /items` answers one item to anyone.
async fn items_api() -> String {
    let app = Router::new().route("/items", get(|| async { axum::Json(json!([{"id": 1}])) }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

fn description(title: &str, server: &str) -> Value {
    json!({
        "openapi": "3.1.0",
        "info": {"title": title, "version": "1"},
        "servers": [{"url": server}],
        "components": {"securitySchemes": {"apiKey": {"type": "apiKey", "in": "header", "name": "x-api-key"}}},
        "paths": {
            "/items": {"get": {"operationId": "listItems", "summary": "List the items",
                "responses": {"200": {"description": "ok"}}}},
            "/items/{id}": {"delete": {"operationId": "deleteItem", "summary": "Delete an item",
                "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "integer"}}],
                "responses": {"204": {"description": "gone"}}}}
        }
    })
}

fn config() -> String {
    format!(
        "{keys}\n[[experts]]\nid = \"fast\"\nprovider = \"scripted\"\nmodel = \"scripted-fast\"\n\n\
         [tools]\nbuiltins = [\"current_time\"]\nopenapi_dir = \"specs\"\n",
        keys = keys_toml()
    )
}

fn tool_names(tools: &Value) -> Vec<String> {
    tools["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_owned())
        .collect()
}

fn namespaces(list: &Value) -> Vec<String> {
    list["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["namespace"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn added_descriptions_and_switched_off_tools_survive_a_restart_and_removals_stay_removed() {
    let dir = tempfile::tempdir().unwrap();
    let specs = dir.path().join("specs");
    std::fs::create_dir(&specs).unwrap();
    let api = items_api().await;
    std::fs::write(specs.join("depot.json"), description("Depot", &api).to_string()).unwrap();

    let s = TestServer::start(&config(), dir.path()).await;
    let url = format!("{}/v1/integrations/openapi", s.url);
    let (status, b) = post_json(
        &url,
        &json!({"spec": description("Shop", &api), "namespace": "shop", "auth": {"apiKey": "kept-nowhere-771"}}),
    )
    .await;
    assert_eq!(status, 200, "{b}");
    assert_eq!(b["persisted"], true);
    let (status, b) = post_json(&url, &json!({"path": "depot.json", "namespace": "depot"})).await;
    assert_eq!(status, 200, "{b}");
    let (status, b) = post_json(&url, &json!({"spec": description("Gone", &api), "namespace": "gone"})).await;
    assert_eq!(status, 200, "{b}");
    for name in ["current_time", "depot.deleteItem"] {
        let (status, b) = post_json(
            &format!("{}/v1/integrations/tools/{name}", s.url),
            &json!({"enabled": false}),
        )
        .await;
        assert_eq!((status, b["changed"].clone()), (200, json!(true)), "{b}");
    }
    // Removing a description takes its tools away and forgets it.
    let (status, b) = send_json(reqwest::Method::DELETE, &format!("{url}/gone"), None).await;
    assert_eq!((status, b["tools_removed"].clone()), (200, json!(2)), "{b}");
    let (status, e) = send_json(reqwest::Method::DELETE, &format!("{url}/gone"), None).await;
    assert_eq!(
        (status, e["error"]["code"].as_str()),
        (404, Some("openapi_not_found")),
        "{e}"
    );
    let (_, tools) = get_json(&format!("{}/v1/tools", s.url), KEY).await;
    assert!(!tool_names(&tools).iter().any(|n| n.starts_with("gone.")), "{tools}");
    // A member may not remove.
    let r = client()
        .delete(format!("{url}/shop"))
        .bearer_auth(BOB)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);

    let state_file = dir.path().join(".toolplane").join("integrations.json");
    let saved = std::fs::read_to_string(&state_file).unwrap();
    assert!(!saved.contains("kept-nowhere-771"), "a credential was written: {saved}");
    assert!(saved.contains("\"apiKey\""), "the scheme's name is kept: {saved}");
    assert!(s.stop().await);

    // The restart: a new gateway from the same folder.
    let s = TestServer::start(&config(), dir.path()).await;
    let url = format!("{}/v1/integrations/openapi", s.url);
    let (_, list) = get_json(&url, KEY).await;
    assert_eq!(namespaces(&list), vec!["shop".to_owned(), "depot".to_owned()], "{list}");
    let shop = &list["data"][0];
    assert_eq!(shop["source"], "upload");
    assert!(
        shop["warnings"]
            .to_string()
            .contains("credentials for apiKey were not kept"),
        "{shop}"
    );
    let depot = &list["data"][1];
    assert_eq!(
        (depot["source"].as_str(), depot["location"].as_str()),
        (Some("path"), Some("depot.json"))
    );
    let delete_item = depot["tools"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "depot.deleteItem")
        .unwrap();
    assert_eq!(delete_item["enabled"], false, "{depot}");
    let (_, tools) = get_json(&format!("{}/v1/tools", s.url), KEY).await;
    let names = tool_names(&tools);
    for present in ["shop.listItems", "shop.deleteItem", "depot.listItems"] {
        assert!(names.iter().any(|n| n == present), "{present} missing: {names:?}");
    }
    for absent in ["current_time", "depot.deleteItem"] {
        assert!(!names.iter().any(|n| n == absent), "{absent} is back: {names:?}");
    }
    let (status, e) = post_json(&format!("{}/v1/tools/current_time/call", s.url), &json!({})).await;
    assert_eq!(
        (status, e["error"]["code"].as_str()),
        (403, Some("tool_disabled")),
        "{e}"
    );
    let (status, out) = post_json(&format!("{}/v1/tools/depot.listItems/call", s.url), &json!({})).await;
    assert_eq!(status, 200, "the restored tools call their API: {out}");

    // Switched on again: on after the next restart too.
    let (status, _) = post_json(
        &format!("{}/v1/integrations/tools/current_time", s.url),
        &json!({"enabled": true}),
    )
    .await;
    assert_eq!(status, 200);
    assert!(s.stop().await);
    let s = TestServer::start(&config(), dir.path()).await;
    let (status, _) = post_json(&format!("{}/v1/tools/current_time/call", s.url), &json!({})).await;
    assert_eq!(status, 200);
    assert!(s.stop().await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrupt_state_file_stops_the_start_naming_the_file_and_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("specs")).unwrap();
    let state_dir = dir.path().join(".toolplane");
    std::fs::create_dir_all(&state_dir).unwrap();
    let build = |text: &'static str| {
        let state_dir = state_dir.clone();
        let base = dir.path().to_path_buf();
        async move {
            std::fs::write(state_dir.join("integrations.json"), text).unwrap();
            let toml = config();
            let cfg = ServerConfig::from_toml_str(
                &toml,
                Origin {
                    file: "test.toml".into(),
                    base_dir: base,
                },
            )
            .unwrap();
            Gateway::build(&cfg, Some(&toml)).await.err().map(|e| e.to_string())
        }
    };
    let e = build("{\"version\": 1, \"openapi\": [")
        .await
        .expect("a corrupt file must stop the start");
    assert!(e.contains("integrations.json"), "{e}");
    assert!(e.contains("server.state_dir"), "{e}");
    assert!(e.contains("not an integrations state file"), "{e}");
    // An entry that cannot be applied is named too.
    let e = build("{\"version\": 1, \"openapi\": [{\"namespace\": \"lost\", \"path\": \"missing.json\"}]}")
        .await
        .expect("a missing file must stop the start");
    assert!(
        e.contains("integrations.json") && e.contains("`lost`") && e.contains("missing.json"),
        "{e}"
    );
    // A good file starts.
    assert_eq!(
        build("{\"version\": 1, \"disabled_tools\": [\"no_such_tool\"]}").await,
        None
    );
}
