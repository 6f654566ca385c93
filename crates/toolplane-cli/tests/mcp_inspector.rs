#![allow(clippy::unwrap_used, clippy::panic)]
//! Our MCP servers against the MCP Inspector's CLI mode
//! (`@modelcontextprotocol/inspector --cli`, npm, pinned by
//! scripts/ci/mcp.sh): `toolplane mcp serve` over stdio and Streamable HTTP,
//! and `toolplane serve`'s `/mcp`, each listing and calling tools.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

#[path = "mcp/pets.rs"]
mod pets;
mod support;
use pets::{Server, fake_api, files, free_port, hash_key, start_gateway, wait_for};

fn inspector() -> Option<PathBuf> {
    let cache = std::env::var_os("TOOLPLANE_MCP_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| toolplane_testkit::workspace_root().join(".cache/mcp"));
    let bin = cache.join("npm/node_modules/.bin/mcp-inspector");
    if bin.is_file() {
        Some(bin)
    } else {
        toolplane_testkit::missing(
            "the MCP Inspector",
            &format!("no {}; run scripts/ci/mcp.sh", bin.display()),
        )
    }
}

struct Outcome {
    code: i32,
    json: Value,
    stderr: String,
}

/// Runs `mcp-inspector --cli ARGS`, with its catalog in `home` (never the
/// user's), and parses what it printed.
fn inspect(bin: &Path, home: &Path, args: &[&str]) -> Outcome {
    let out = Command::new(bin)
        .arg("--cli")
        .args(args)
        .env("MCP_CATALOG_PATH", home.join("catalog.json"))
        .env("HOME", home)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    // A result goes to stdout; a failure (exit code > 0) adds a JSON error on
    // stderr, and is all there is when nothing was answered.
    let printed = if stdout.trim().is_empty() {
        stderr.lines().last().unwrap_or_default()
    } else {
        stdout.trim()
    };
    let json = serde_json::from_str(printed).unwrap_or_else(|e| {
        panic!("the inspector printed no JSON ({e}):\nstdout: {stdout}\nstderr: {stderr}");
    });
    Outcome {
        code: out.status.code().unwrap_or(-1),
        json,
        stderr,
    }
}

fn tool_names(listing: &Value) -> Vec<String> {
    listing["tools"]
        .as_array()
        .unwrap_or_else(|| panic!("no tools in {listing}"))
        .iter()
        .filter_map(|t| t["name"].as_str().map(str::to_owned))
        .collect()
}

fn text_of(result: &Value) -> String {
    result["content"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["text"].as_str())
        .collect()
}

#[test]
fn inspector_lists_and_calls_toolplane_mcp_serve_over_stdio() {
    let Some(bin) = inspector() else { return };
    let dir = tempfile::tempdir().unwrap();
    let (spec, policy) = files(dir.path());
    let base = fake_api();
    let toolplane = env!("CARGO_BIN_EXE_toolplane");
    let serve = [
        "--",
        toolplane,
        "mcp",
        "serve",
        spec.as_str(),
        "--base-url",
        base.as_str(),
        "--policy",
        policy.as_str(),
    ];
    let with = |head: &[&str]| -> Vec<String> { head.iter().chain(serve.iter()).map(|s| (*s).to_owned()).collect() };
    let run = |args: Vec<String>| {
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        inspect(&bin, dir.path(), &refs)
    };

    let listed = run(with(&["--method", "tools/list"]));
    assert_eq!(listed.code, 0, "{}", listed.stderr);
    let mut names = tool_names(&listed.json);
    names.sort();
    assert_eq!(names, ["deletePet", "getPet"]);
    let get = &listed.json["tools"].as_array().unwrap()[1];
    assert_eq!(get["inputSchema"]["properties"]["petId"]["type"], "integer");

    // `petId=1` reaches the fake API as an integer and its answer comes back.
    let called = run(with(&[
        "--method",
        "tools/call",
        "--tool-name",
        "getPet",
        "--tool-arg",
        "petId=1",
    ]));
    assert_eq!(called.code, 0, "{}", called.stderr);
    assert_eq!(
        called.json["structuredContent"]["body"]["name"], "Rex",
        "{}",
        called.json
    );
    assert!(called.json.get("isError").is_none_or(|e| e == false), "{}", called.json);

    // The API's 404 is an isError result, which the inspector reports as a failure.
    let missing = run(with(&[
        "--method",
        "tools/call",
        "--tool-name",
        "getPet",
        "--tool-arg",
        "petId=2",
    ]));
    assert_ne!(missing.code, 0);
    assert_eq!(missing.json["isError"], true, "{}", missing.json);
    assert!(text_of(&missing.json).contains("no pet 2"), "{}", missing.json);
    assert!(missing.stderr.contains("isError"), "{}", missing.stderr);

    // The "ask" rule: the inspector cannot answer an elicitation, so the call
    // fails with the rule's name.
    let asked = run(with(&[
        "--method",
        "tools/call",
        "--tool-name",
        "deletePet",
        "--tool-arg",
        "petId=1",
    ]));
    assert_ne!(asked.code, 0);
    assert_eq!(asked.json["isError"], true, "{}", asked.json);
    let text = text_of(&asked.json);
    assert!(
        text.contains("deleting-needs-a-human") && text.contains("elicitation"),
        "{text}"
    );
}

#[test]
fn inspector_lists_and_calls_toolplane_mcp_serve_over_http_with_a_key() {
    let Some(bin) = inspector() else { return };
    let dir = tempfile::tempdir().unwrap();
    let (spec, _) = files(dir.path());
    let base = fake_api();
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let _server = Server(
        Command::new(env!("CARGO_BIN_EXE_toolplane"))
            .args(["mcp", "serve", &spec, "--base-url", &base, "--http", &addr])
            .args(["--key-env", "TEST_MCP_KEY"])
            .env("TEST_MCP_KEY", "k-inspector")
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_for(port);
    let url = format!("http://{addr}/mcp");
    let auth = "Authorization: Bearer k-inspector";

    let listed = inspect(&bin, dir.path(), &[&url, "--method", "tools/list", "--header", auth]);
    assert_eq!(listed.code, 0, "{}", listed.stderr);
    assert_eq!(tool_names(&listed.json).len(), 2, "{}", listed.json);
    let called = inspect(
        &bin,
        dir.path(),
        &[
            &url,
            "--method",
            "tools/call",
            "--tool-name",
            "getPet",
            "--tool-arg",
            "petId=1",
            "--header",
            auth,
        ],
    );
    assert_eq!(called.code, 0, "{}", called.stderr);
    assert!(text_of(&called.json).contains("Rex"), "{}", called.json);

    // Without the key the server answers 401 with a bearer challenge: the
    // inspector wants to start an OAuth flow and, without a terminal, stops.
    let refused = inspect(
        &bin,
        dir.path(),
        &[&url, "--method", "tools/list", "--stored-auth-only"],
    );
    assert_ne!(refused.code, 0, "{}", refused.json);
    assert_eq!(refused.json["error"]["code"], "auth_required", "{}", refused.json);
    assert!(refused.json.get("tools").is_none(), "{}", refused.json);
}

#[test]
fn inspector_lists_and_calls_the_gateway_tools_at_mcp() {
    let Some(bin) = inspector() else { return };
    let dir = tempfile::tempdir().unwrap();
    let key = "tp-inspector-key";
    let config = format!(
        "[server]\nbind = \"127.0.0.1:0\"\nshutdown_grace_secs = 2\n\n\
         [[server.keys]]\nsha256 = \"{}\"\nprincipal = \"inspector\"\nroles = [\"member\"]\n\n\
         [[experts]]\nid = \"fast\"\nprovider = \"scripted\"\nmodel = \"scripted-fast\"\n\n\
         [tools]\nbuiltins = [\"current_time\"]\ndemo_tasks = true\n",
        hash_key(key)
    );
    let path = dir.path().join("toolplane.toml");
    std::fs::write(&path, config).unwrap();
    let (_server, url) = start_gateway(&path);
    let mcp = format!("{url}/mcp");
    let auth = format!("Authorization: Bearer {key}");

    let listed = inspect(&bin, dir.path(), &[&mcp, "--method", "tools/list", "--header", &auth]);
    assert_eq!(listed.code, 0, "{}", listed.stderr);
    let names = tool_names(&listed.json);
    assert!(
        names.iter().any(|n| n == "createTask") && names.iter().any(|n| n == "current_time"),
        "{names:?}"
    );
    let called = inspect(
        &bin,
        dir.path(),
        &[
            &mcp,
            "--method",
            "tools/call",
            "--tool-name",
            "createTask",
            "--tool-arg",
            "title=From the inspector",
            "project=docs",
            "--header",
            &auth,
        ],
    );
    assert_eq!(called.code, 0, "{}", called.stderr);
    assert!(text_of(&called.json).contains("From the inspector"), "{}", called.json);
}
