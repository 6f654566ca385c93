//! The pets API the MCP interoperability tests serve: its description, a
//! policy with an "ask" rule, a fake server on 127.0.0.1, and process helpers.

#![allow(dead_code)] // each test file uses a part

use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
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

/// `toolplane serve --config FILE` as a process; its URL.
pub(crate) fn start_gateway(config: &Path) -> (Server, String) {
    use std::io::BufRead;
    let mut child = Command::new(env!("CARGO_BIN_EXE_toolplane"))
        .args(["serve", "--config"])
        .arg(config)
        .args(["--bind", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let server = Server(child);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut sent = false;
        // Keep reading so the process never blocks on a full pipe.
        for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
            if !sent && let Some(url) = line.strip_prefix("toolplane serve listening on ") {
                let _ = tx.send(url.to_owned());
                sent = true;
            }
        }
    });
    let url = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("toolplane serve did not say where it listens");
    (server, url)
}

pub(crate) fn hash_key(key: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_toolplane"))
        .args(["serve", "--hash-key", key])
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}
