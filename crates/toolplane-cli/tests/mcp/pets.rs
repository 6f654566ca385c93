//! The pets API the MCP interoperability tests serve: its description, a
//! policy with an "ask" rule, a fake server on 127.0.0.1, and process helpers
//! (a test file including it also includes `support`).

#![allow(dead_code)] // each test file uses a part

use std::net::TcpStream;
use std::path::Path;
use std::process::Child;
use std::time::Duration;

use axum::Json;
use axum::extract::Path as UrlPath;
use axum::http::StatusCode;
use axum::routing::get;
use serde_json::json;

pub(crate) const SPEC: &str = r#"
openapi: 3.0.3
info: {title: Pets, version: "1"}
servers: [{url: "http://127.0.0.1:9/unused"}]
paths:
  /pets/{petId}:
    parameters:
      - {name: petId, in: path, required: true, schema: {type: integer}}
    get:
      operationId: getPet
      summary: Get a pet by id.
      responses: {"200": {description: ok}}
    delete:
      operationId: deletePet
      summary: Delete a pet.
      responses: {"204": {description: deleted}}
"#;

pub(crate) const POLICY: &str = r#"
[[rule]]
id = "read-pets"
effect = "allow"
tools = ["getPet"]

[[rule]]
id = "deleting-needs-a-human"
effect = "ask"
tools = ["deletePet"]
"#;

/// The fake API on a background thread; returns its base URL.
pub(crate) fn fake_api() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let app = axum::Router::new().route(
                "/pets/{id}",
                get(|UrlPath(id): UrlPath<u64>| async move {
                    if id == 1 {
                        (StatusCode::OK, Json(json!({"id": 1, "name": "Rex"})))
                    } else {
                        (StatusCode::NOT_FOUND, Json(json!({"message": format!("no pet {id}")})))
                    }
                })
                .delete(|| async { StatusCode::NO_CONTENT }),
            );
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            axum::serve(listener, app).await.unwrap();
        });
    });
    format!("http://{addr}")
}

pub(crate) fn files(dir: &Path) -> (String, String) {
    let spec = dir.join("pets.yaml");
    std::fs::write(&spec, SPEC).unwrap();
    let policy = dir.join("policy.toml");
    std::fs::write(&policy, POLICY).unwrap();
    (spec.display().to_string(), policy.display().to_string())
}

pub(crate) struct Server(pub(crate) Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub(crate) fn wait_for(port: u16) {
    for _ in 0..200 {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("nothing listens on {port}");
}

/// `toolplane serve --config CONFIG` (the test crate's `support` module):
/// the process, killed when dropped, and its URL.
pub(crate) fn start_gateway(config: &Path) -> (crate::support::ServeProcess, String) {
    let serve = crate::support::start_serve(&["--config", config.to_str().unwrap()], &[]);
    let url = serve.url.clone();
    (serve, url)
}

pub(crate) use crate::support::hash_key;
