//! `[[tools.mcp]]`: the gateway as an MCP client. A real stdio server nobody
//! here wrote (`@modelcontextprotocol/server-everything`, pinned by
//! scripts/ci/mcp.sh) has its tools offered in `GET /v1/tools`, callable
//! through `POST /v1/tools/{name}/call` (validation, permissions, audit),
//! served again at `/mcp`, and listed with its state by
//! `GET /v1/integrations/mcp`; a server that cannot start is listed as
//! `failed` while the gateway serves everything else; configuration errors
//! name file:line:field.

#![allow(clippy::unwrap_used, clippy::panic)]

mod support;

use std::path::PathBuf;

use serde_json::{Value, json};
use support::*;
use toolplane_server::config::Origin;
use toolplane_server::{ServerConfig, check};

/// `TOOLPLANE_MCP_CACHE`, else `<workspace>/.cache/mcp` (scripts/ci/mcp.sh).
fn everything() -> Option<(String, PathBuf)> {
    let cache = std::env::var_os("TOOLPLANE_MCP_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| toolplane_testkit::workspace_root().join(".cache/mcp"));
    let js = cache.join("npm/node_modules/@modelcontextprotocol/server-everything/dist/index.js");
    if !js.is_file() {
        return toolplane_testkit::missing(
            "@modelcontextprotocol/server-everything",
            &format!("no {}; run scripts/ci/mcp.sh", js.display()),
        );
    }
    let node = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join("node"))
            .find(|p| p.is_file())
    });
    match node {
        Some(n) => Some((n.display().to_string(), js)),
        None => toolplane_testkit::missing("node", "not on PATH; run scripts/ci/mcp.sh"),
    }
}

const MISSING_PROGRAM: &str = "/nonexistent/toolplane-no-such-mcp-server";

/// One scripted expert, the test keys, no policy file (every tool allowed),
/// and `tools` appended.
fn config(tools: &str) -> String {
    format!(
        "[server]\nbind = \"127.0.0.1:0\"\n{keys}\n\
         [[experts]]\nid = \"fast\"\nprovider = \"scripted\"\nmodel = \"fast\"\n\n\
         [tools]\nbuiltins = [\"current_time\"]\n\n{tools}",
        keys = keys_toml()
    )
}

fn everything_entry(node: &str, js: &std::path::Path, trust: bool) -> String {
    format!(
        "[[tools.mcp]]\nname = \"everything\"\ncommand = {node:?}\nargs = [{:?}, \"stdio\"]\ntrust_annotations = {trust}\n",
        js.display().to_string()
    )
}

fn ghost_entry() -> String {
    format!("[[tools.mcp]]\nname = \"ghost\"\ncommand = {MISSING_PROGRAM:?}\n")
}

async fn get_json(url: &str, key: &str) -> (u16, Value) {
    read(client().get(url).bearer_auth(key).send().await.unwrap()).await
}

async fn post_json(url: &str, key: &str, body: &Value) -> (u16, Value) {
    read(client().post(url).bearer_auth(key).json(body).send().await.unwrap()).await
}

/// The documented schema of a 200 answer of `method path` in `/openapi.json`.
async fn documented(url: &str, method: &str, path: &str) -> Value {
    let (_, doc) = get_as(url, "/openapi.json", None).await;
    let schema = doc["paths"][path][method]["responses"]["200"]["content"]["application/json"]["schema"].clone();
    assert!(schema.is_object(), "{method} {path} has no documented 200 answer");
    schema
}

fn conforms(schema: &Value, v: &Value) {
    let validator = jsonschema::validator_for(schema).unwrap();
    let errors: Vec<String> = validator.iter_errors(v).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:?} in {v}");
}

fn server<'a>(list: &'a Value, name: &str) -> &'a Value {
    list["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("no server {name} in {list}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stdio_server_s_tools_are_offered_callable_audited_served_and_listed_connected() {
    let Some((node, js)) = everything() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let toml = config(&format!("{}\n{}", everything_entry(&node, &js, true), ghost_entry()));
    let s = TestServer::start(&toml, dir.path()).await;

    // Offered and listed like any tool, under the server's namespace.
    let (status, tools) = get_json(&format!("{}/v1/tools", s.url), KEY).await;
    assert_eq!(status, 200);
    let names: Vec<&str> = tools["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert!(names.contains(&"everything.echo"), "{names:?}");
    assert!(names.contains(&"current_time"), "{names:?}");

    // Called through the executor: validated, allowed, audited.
    let call = format!("{}/v1/tools/everything.echo/call", s.url);
    let (status, out) = post_json(&call, KEY, &json!({"message": "hello from the gateway"})).await;
    assert_eq!(status, 200, "{out}");
    assert!(
        out["output"].to_string().contains("Echo: hello from the gateway"),
        "{out}"
    );
    assert_eq!(out["is_error"], false);
    let (status, bad) = post_json(&call, KEY, &json!({"message": 7})).await;
    assert_eq!(status, 400, "{bad}");
    assert_eq!(bad["error"]["code"], "invalid_arguments");
    let (_, audit) = get_json(&format!("{}/v1/audit?tool=everything.echo", s.url), KEY).await;
    assert!(audit["total"].as_u64().unwrap() >= 1, "{audit}");

    // The integrations endpoint: connected with its tools and their hints; the other failed.
    let (status, list) = get_json(&format!("{}/v1/integrations/mcp", s.url), KEY).await;
    assert_eq!(status, 200);
    let every = server(&list, "everything");
    assert_eq!(every["state"], "connected", "{every}");
    assert_eq!(every["transport"], "stdio");
    assert_eq!(every["target"], "node");
    assert_eq!(every["last_error"], Value::Null);
    assert_eq!(every["trust_annotations"], true);
    let echo = every["tools"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "everything.echo")
        .unwrap();
    assert_eq!(echo["remote_name"], "echo");
    assert_eq!(echo["annotations"]["read_only"], true, "{echo}");
    assert_eq!(
        every["tool_count"].as_u64().unwrap() as usize,
        every["tools"].as_array().unwrap().len()
    );
    let ghost = server(&list, "ghost");
    assert_eq!(ghost["state"], "failed", "{ghost}");
    assert!(
        ghost["last_error"].as_str().unwrap().contains(MISSING_PROGRAM),
        "{ghost}"
    );
    conforms(&documented(&s.url, "get", "/v1/integrations/mcp").await, &list);

    // The gateway's own MCP endpoint serves the MCP server's tools too.
    let via_mcp = toolplane_mcp::client::McpClient::connect(toolplane_mcp::client::ServerConfig::http(
        "gw",
        toolplane_mcp::client::HttpServer::new(format!("{}/mcp", s.url)).bearer(KEY),
    ))
    .await
    .unwrap();
    let served: Vec<String> = via_mcp.tools().iter().map(|t| t.spec().name.clone()).collect();
    assert!(served.iter().any(|n| n == "gw.everything.echo"), "{served:?}");
    via_mcp.close().await;

    // Reconnect: admin only, by name; a connected server comes back connected.
    let reconnect = |name: &str| format!("{}/v1/integrations/mcp/{name}/reconnect", s.url);
    let (status, _) = post_json(&reconnect("everything"), BOB, &json!({})).await;
    assert_eq!(status, 403);
    let (status, again) = post_json(&reconnect("everything"), KEY, &json!({})).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["state"], "connected", "{again}");
    let (status, after) = post_json(&call, KEY, &json!({"message": "again"})).await;
    assert_eq!(status, 200, "{after}");
    let (status, nope) = post_json(&reconnect("nope"), KEY, &json!({})).await;
    assert_eq!(status, 404, "{nope}");
    assert_eq!(nope["error"]["code"], "mcp_server_not_found");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn untrusted_annotations_make_a_read_only_mcp_tool_ask() {
    let Some((node, js)) = everything() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let s = TestServer::start(&config(&everything_entry(&node, &js, false)), dir.path()).await;
    let (status, out) = post_json(
        &format!("{}/v1/tools/everything.echo/call", s.url),
        KEY,
        &json!({"message": "hi"}),
    )
    .await;
    assert_eq!(status, 403, "{out}");
    assert_eq!(out["error"]["code"], "approval_required", "{out}");
    assert!(out["error"]["message"].as_str().unwrap().contains("untrusted"), "{out}");
    let (_, list) = get_json(&format!("{}/v1/integrations/mcp", s.url), KEY).await;
    assert_eq!(server(&list, "everything")["trust_annotations"], false);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_cannot_start_is_failed_and_the_gateway_serves_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let s = TestServer::start(&config(&ghost_entry()), dir.path()).await;
    let (status, ready) = get_json(&format!("{}/readyz", s.url), KEY).await;
    assert_eq!(status, 200, "an MCP server does not make the gateway unready: {ready}");
    let (status, out) = post_json(&format!("{}/v1/tools/current_time/call", s.url), KEY, &json!({})).await;
    assert_eq!(status, 200, "{out}");
    let (_, list) = get_json(&format!("{}/v1/integrations/mcp", s.url), KEY).await;
    let ghost = server(&list, "ghost");
    assert_eq!(ghost["state"], "failed", "{ghost}");
    assert_eq!(ghost["tool_count"], 0);
    assert_eq!(ghost["target"], "toolplane-no-such-mcp-server");
    let error = ghost["last_error"].as_str().unwrap();
    assert!(
        error.contains("cannot start") && error.contains(MISSING_PROGRAM),
        "a readable error: {error}"
    );
    // A reconnect tries now and answers the same readable failure.
    let (status, again) = post_json(
        &format!("{}/v1/integrations/mcp/ghost/reconnect", s.url),
        KEY,
        &json!({}),
    )
    .await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["state"], "failed");
    assert!(again["failed_attempts"].as_u64().unwrap() >= 2, "{again}");
    conforms(&documented(&s.url, "get", "/v1/integrations/mcp").await, &list);
    conforms(
        &documented(&s.url, "post", "/v1/integrations/mcp/{name}/reconnect").await,
        &again,
    );
    s.stop().await;
}

fn parse(text: &str) -> Result<ServerConfig, toolplane_server::config::ConfigError> {
    ServerConfig::from_toml_str(
        text,
        Origin {
            file: "toolplane.toml".into(),
            base_dir: PathBuf::from("."),
        },
    )
}

#[test]
fn mcp_entries_are_checked_with_file_line_and_field() {
    let base = config("");
    let at = |entry: &str| {
        let text = format!("{base}{entry}");
        let e = parse(&text).unwrap_err();
        (e.to_string(), text)
    };
    let line_of = |text: &str, needle: &str| text.lines().position(|l| l.contains(needle)).unwrap() + 1;

    let (e, text) = at("[[tools.mcp]]\nname = \"has.dot\"\ncommand = \"x\"\n");
    assert!(
        e.starts_with(&format!(
            "toolplane.toml:{}: tools.mcp[0].name: ",
            line_of(&text, "has.dot")
        )),
        "{e}"
    );
    let (e, text) = at("[[tools.mcp]]\nname = \"a\"\ncommand = \"x\"\nurl = \"https://x.example/mcp\"\n");
    assert!(
        e.starts_with(&format!(
            "toolplane.toml:{}: tools.mcp[0].url: ",
            line_of(&text, "url =")
        )),
        "{e}"
    );
    let (e, _) = at("[[tools.mcp]]\nname = \"a\"\n");
    assert!(e.contains("tools.mcp[0].name: give `command`"), "{e}");
    let (e, text) = at("[[tools.mcp]]\nname = \"a\"\nurl = \"https://user:pw@x.example/mcp\"\n");
    assert!(
        e.starts_with(&format!(
            "toolplane.toml:{}: tools.mcp[0].url: must not hold credentials",
            line_of(&text, "url =")
        )),
        "{e}"
    );
    let (e, text) = at("[[tools.mcp]]\nname = \"a\"\nurl = \"https://x.example/mcp\"\nbearer_env = \"sk-live 123\"\n");
    assert!(
        e.starts_with(&format!(
            "toolplane.toml:{}: tools.mcp[0].bearer_env: ",
            line_of(&text, "bearer_env")
        )),
        "{e}"
    );
    let (e, _) = at(
        "[[tools.mcp]]\nname = \"a\"\nurl = \"https://x.example/mcp\"\nheaders = { Authorization = \"Bearer x\" }\n",
    );
    assert!(e.contains("tools.mcp[0].headers: no `authorization` header"), "{e}");
    let (e, text) = at("[[tools.mcp]]\nname = \"a\"\ncommand = \"x\"\nenv_from = [\"OK\", \"not a name\"]\n");
    assert!(
        e.starts_with(&format!(
            "toolplane.toml:{}: tools.mcp[0].env_from[1]: ",
            line_of(&text, "env_from")
        )),
        "{e}"
    );
    let (e, _) = at("[[tools.mcp]]\nname = \"a\"\ncommand = \"x\"\nheaders = { x = \"y\" }\n");
    assert!(e.contains("tools.mcp[0].headers: only a Streamable HTTP server"), "{e}");
    let (e, _) = at("[[tools.mcp]]\nname = \"a\"\ncommand = \"x\"\ncall_timeout_secs = 0\n");
    assert!(
        e.contains("tools.mcp[0].call_timeout_secs: must be between 1 and 3600"),
        "{e}"
    );
    let (e, text) =
        at("[[tools.mcp]]\nname = \"a\"\ncommand = \"x\"\n\n[[tools.mcp]]\nname = \"a\"\ncommand = \"y\"\n");
    let second = text
        .lines()
        .enumerate()
        .filter(|(_, l)| l.contains("name = \"a\""))
        .last()
        .unwrap()
        .0
        + 1;
    assert!(
        e.starts_with(&format!(
            "toolplane.toml:{second}: tools.mcp[1].name: `a` is already the name of tools.mcp[0]"
        )),
        "{e}"
    );
    let (e, _) = at("[[tools.mcp]]\nname = \"a\"\ncommand = \"x\"\ncolour = \"blue\"\n");
    assert!(e.contains("unknown field `colour`"), "{e}");

    // A good entry parses; `--check` reads the variables it names and looks for the program.
    let ok = parse(&format!(
        "{base}[[tools.mcp]]\nname = \"a\"\ncommand = \"{MISSING_PROGRAM}\"\n"
    ))
    .unwrap();
    let e = check(&ok, None).unwrap_err().to_string();
    assert!(e.contains("tools.mcp[0].command: no program"), "{e}");
    let unset = parse(&format!(
        "{base}[[tools.mcp]]\nname = \"a\"\nurl = \"https://x.example/mcp\"\nbearer_env = \"TOOLPLANE_TEST_NO_SUCH_MCP_TOKEN\"\n"
    ))
    .unwrap();
    let e = check(&unset, None).unwrap_err().to_string();
    assert!(
        e.contains("tools.mcp[0].bearer_env: the environment variable `TOOLPLANE_TEST_NO_SUCH_MCP_TOKEN` is not set"),
        "{e}"
    );
    let fine = parse(&format!("{base}[[tools.mcp]]\nname = \"a\"\ncommand = \"sh\"\n")).unwrap();
    assert_eq!(check(&fine, None).unwrap().mcp_servers, ["a"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_streamable_http_server_s_tools_are_offered_and_its_url_shown_without_the_query() {
    // Gateway A serves its tools at /mcp; gateway B uses A as an MCP server.
    let dir_a = tempfile::tempdir().unwrap();
    let a = TestServer::start(&config(""), dir_a.path()).await;
    let dir_b = tempfile::tempdir().unwrap();
    let entry = format!(
        "[[tools.mcp]]\nname = \"upstream\"\nurl = \"{}/mcp?team=tools\"\nheaders = {{ \"x-api-key\" = \"{KEY}\" }}\ntrust_annotations = true\ncall_timeout_secs = 20\n",
        a.url
    );
    let b = TestServer::start(&config(&entry), dir_b.path()).await;
    let (_, list) = get_json(&format!("{}/v1/integrations/mcp", b.url), KEY).await;
    let upstream = server(&list, "upstream");
    assert_eq!(upstream["state"], "connected", "{upstream}");
    assert_eq!(upstream["transport"], "http");
    assert_eq!(upstream["target"], format!("{}/mcp", a.url));
    assert!(!list.to_string().contains(KEY), "a header's value is never shown");
    let (status, out) = post_json(
        &format!("{}/v1/tools/upstream.current_time/call", b.url),
        KEY,
        &json!({}),
    )
    .await;
    assert_eq!(status, 200, "{out}");
    // A audited the call under the principal its key stands for.
    let (_, audit) = get_json(&format!("{}/v1/audit?tool=current_time&principal=alice", a.url), KEY).await;
    assert!(audit["total"].as_u64().unwrap() >= 1, "{audit}");
    b.stop().await;
    a.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_comes_up_later_gets_its_tools_offered() {
    let Some((node, js)) = everything() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    // The program does not exist when the gateway starts.
    let script = dir.path().join("late-server.sh");
    let entry = format!(
        "[[tools.mcp]]\nname = \"late\"\ncommand = {:?}\ntrust_annotations = true\n",
        script.display().to_string()
    );
    let s = TestServer::start(&config(&entry), dir.path()).await;
    let (_, list) = get_json(&format!("{}/v1/integrations/mcp", s.url), KEY).await;
    assert_eq!(server(&list, "late")["state"], "failed", "{list}");
    let (status, _) = post_json(
        &format!("{}/v1/tools/late.echo/call", s.url),
        KEY,
        &json!({"message": "x"}),
    )
    .await;
    assert_eq!(status, 404);

    std::fs::write(
        &script,
        format!("#!/bin/sh\nexec {node:?} {:?} stdio\n", js.display().to_string()),
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let (status, now) = post_json(
        &format!("{}/v1/integrations/mcp/late/reconnect", s.url),
        KEY,
        &json!({}),
    )
    .await;
    assert_eq!(status, 200, "{now}");
    assert_eq!(now["state"], "connected", "{now}");
    assert_eq!(now["last_error"], Value::Null);
    let (status, out) = post_json(
        &format!("{}/v1/tools/late.echo/call", s.url),
        KEY,
        &json!({"message": "late"}),
    )
    .await;
    assert_eq!(status, 200, "{out}");
    assert!(out["output"].to_string().contains("Echo: late"), "{out}");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_variable_that_is_not_set_fails_the_server_not_the_gateway() {
    let dir = tempfile::tempdir().unwrap();
    let entry = "[[tools.mcp]]\nname = \"remote\"\nurl = \"http://127.0.0.1:9/mcp\"\nbearer_env = \"TOOLPLANE_TEST_NO_SUCH_MCP_TOKEN\"\n";
    let s = TestServer::start(&config(entry), dir.path()).await;
    let (_, list) = get_json(&format!("{}/v1/integrations/mcp", s.url), KEY).await;
    let remote = server(&list, "remote");
    assert_eq!(remote["state"], "failed", "{remote}");
    assert_eq!(remote["target"], "http://127.0.0.1:9/mcp");
    assert_eq!(
        remote["last_error"],
        "test.toml: tools.mcp[0].bearer_env: the environment variable `TOOLPLANE_TEST_NO_SUCH_MCP_TOKEN` is not set"
    );
    let (status, _) = post_json(&format!("{}/v1/tools/current_time/call", s.url), KEY, &json!({})).await;
    assert_eq!(status, 200);
    s.stop().await;
}
