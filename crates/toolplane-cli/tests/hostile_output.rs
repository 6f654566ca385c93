#![allow(clippy::unwrap_used, clippy::panic)]
//! The binary against hostile input: a description and a chat server whose
//! texts carry terminal control sequences, and `$ref`s out of the
//! description's folder. Nothing a terminal would obey reaches stdout or stderr.

use std::path::Path;
use std::process::{Command, Output};

fn toolplane(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_toolplane"))
        .args(args)
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// No ESC, BEL, CR, DEL, C1 or bidirectional control in the output.
fn assert_inert(label: &str, bytes: &[u8]) {
    let s = text(bytes);
    let bad: Vec<char> = s
        .chars()
        .filter(|c| {
            matches!(c, '\u{0}'..='\u{8}' | '\u{b}'..='\u{1f}' | '\u{7f}'..='\u{9f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
        })
        .collect();
    assert!(bad.is_empty(), "{label} carries {bad:?}: {s}");
}

/// Title, version, a path, an operationId, a tag and a warning, each with escape sequences.
const HOSTILE: &str = r#"{
  "openapi": "3.1.0",
  "info": {"title": "Pets\u001b]0;pwned\u0007", "version": "1\u001b[2J\u009b31m"},
  "paths": {
    "/a\u001b[2J/{id}\r\u202e": {
      "get": {"operationId": "get\u001b[Hpets", "tags": ["t\u001b[1m"],
              "parameters": [{"name": "q\u0007", "in": "query", "style": "bad\u001b[5m", "schema": {"type": "string"}}]}
    }
  }
}"#;

fn write(dir: &Path, name: &str, body: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, body).unwrap();
    p.to_string_lossy().into_owned()
}

#[test]
fn openapi_inspect_escapes_every_text_from_the_description() {
    let dir = tempfile::tempdir().unwrap();
    let spec = write(dir.path(), "hostile.json", HOSTILE);
    let out = toolplane(&["openapi", "inspect", &spec]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_inert("stdout", &out.stdout);
    let s = text(&out.stdout);
    assert!(
        s.starts_with("Pets\\x1b]0;pwned\\x07 1\\x1b[2J\\u{9b}31m (OpenAPI 3.1.0)"),
        "{s}"
    );
    assert!(s.contains("GET /a\\x1b[2J/{id}\\r\\u{202e} -> "), "{s}");
    assert!(
        s.contains("unknown style `bad\\x1b[5m`"),
        "the warning is escaped too: {s}"
    );
}

#[test]
fn openapi_convert_prints_warnings_to_stderr_escaped_and_json_to_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let spec = write(dir.path(), "hostile.json", HOSTILE);
    let out = toolplane(&["openapi", "convert", &spec]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_inert("stdout", &out.stdout);
    assert_inert("stderr", &out.stderr);
    let tools: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(tools[0]["function"]["name"].as_str().unwrap().starts_with("get"));
    let err = text(&out.stderr);
    assert!(
        err.contains("warning: ") && err.contains("unknown style `bad\\x1b[5m`"),
        "{err}"
    );

    // A `$ref` to a missing pointer no longer becomes "any value" silently.
    let missing = write(
        dir.path(),
        "missing.yaml",
        "openapi: 3.1.0\ninfo: {title: T, version: '1'}\npaths:\n  /a:\n    get:\n      operationId: getA\n      \
         parameters:\n        - {name: q, in: query, schema: {$ref: '#/components/schemas/Nope'}}\n",
    );
    let out = toolplane(&["openapi", "convert", &missing]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(
        err.contains("warning: getA: /paths/~1a/get/parameters/0/schema: `#/components/schemas/Nope` does not resolve"),
        "{err}"
    );
    // And filters that match nothing are said.
    let out = toolplane(&["openapi", "convert", &missing, "--include-path", "/b/**"]);
    assert!(
        text(&out.stderr).contains("the filter include_paths `/b/**` (--include-path) matches no operation"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn openapi_refs_out_of_the_folder_need_ref_root() {
    let outside = tempfile::tempdir().unwrap();
    write(outside.path(), "secret.yaml", "{type: string, default: TOP-SECRET}\n");
    let dir = tempfile::tempdir().unwrap();
    let reference = format!("file://{}/secret.yaml", outside.path().display());
    let spec = write(
        dir.path(),
        "api.yaml",
        &format!(
            "openapi: 3.1.0\ninfo: {{title: T, version: '1'}}\npaths:\n  /a:\n    get:\n      operationId: getA\n      \
             parameters:\n        - {{name: q, in: query, schema: {{$ref: '{reference}'}}}}\n"
        ),
    );
    let out = toolplane(&["openapi", "convert", &spec]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("api.yaml#/paths/~1a/get/parameters/0/schema/$ref"),
        "{err}"
    );
    assert!(err.contains("is outside") && err.contains("--ref-root"), "{err}");
    assert!(!text(&out.stdout).contains("TOP-SECRET"));

    let root = outside.path().parent().unwrap().to_str().unwrap();
    let out = toolplane(&["openapi", "convert", &spec, "--ref-root", root]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("TOP-SECRET"));
}

/// An OpenAI-compatible server whose model name and answer carry escape sequences.
fn serve_hostile() -> std::net::SocketAddr {
    use axum::routing::post;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let app = axum::Router::new().route(
                "/v1/chat/completions",
                post(|| async {
                    axum::Json(serde_json::json!({
                        "id": "chatcmpl-1", "object": "chat.completion", "created": 1,
                        "model": "gpt\u{1b}]0;owned\u{7}\u{1b}[2J",
                        "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
                            "role": "assistant", "content": "line one\n\u{1b}[31mred\u{9b}\u{202e}\r",
                            "tool_calls": [{"id": "call\u{1b}[1", "type": "function",
                                "function": {"name": "x\u{1b}[2J", "arguments": "{\"a\":\"\u{1b}[2J\"}"}}]}}],
                        "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7}
                    }))
                }),
            );
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            axum::serve(listener, app).await.unwrap();
        });
    });
    rx.recv().unwrap()
}

#[test]
fn chat_escapes_the_servers_model_name_and_texts() {
    let addr = serve_hostile();
    let base = format!("http://{addr}/v1");
    for extra in [&[][..], &["--json"][..]] {
        let mut args = vec!["chat", "--provider", "openai", "--model", "m", "--base-url", &base];
        args.extend_from_slice(extra);
        args.push("hi");
        let out = Command::new(env!("CARGO_BIN_EXE_toolplane"))
            .args(&args)
            .env("OPENAI_API_KEY", "sk-test-not-real")
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert_inert("stdout", &out.stdout);
        assert_inert("stderr", &out.stderr);
        if extra.is_empty() {
            let s = text(&out.stdout);
            assert!(s.starts_with("line one\n\\x1b[31mred\\u{9b}\\u{202e}\\r"), "{s}");
            assert!(s.contains("tool call call\\x1b[1 x\\x1b[2J("), "{s}");
            let e = text(&out.stderr);
            assert!(e.contains("gpt\\x1b]0;owned\\x07\\x1b[2J"), "{e}");
        } else {
            let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            assert_eq!(
                v["model"], "gpt\u{1b}]0;owned\u{7}\u{1b}[2J",
                "the JSON still means the same"
            );
        }
    }
}
