#![allow(clippy::unwrap_used, clippy::panic)]
//! `toolplane mcp tools` and `toolplane mcp call` against the reference
//! server `@modelcontextprotocol/server-everything` (pinned by scripts/ci/mcp.sh).

use std::path::PathBuf;
use std::process::{Command, Output};

fn everything() -> Option<String> {
    let cache = std::env::var_os("TOOLPLANE_MCP_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| toolplane_testkit::workspace_root().join(".cache/mcp"));
    let js = cache.join("npm/node_modules/@modelcontextprotocol/server-everything/dist/index.js");
    if js.is_file() {
        Some(js.display().to_string())
    } else {
        toolplane_testkit::missing(
            "server-everything",
            &format!("no {}; run scripts/ci/mcp.sh", js.display()),
        )
    }
}

fn toolplane(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_toolplane"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn mcp_tools_lists_a_stdio_servers_tools() {
    let Some(js) = everything() else { return };
    let out = toolplane(&["mcp", "tools", "--", "node", &js, "stdio"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.lines().any(|l| l.starts_with("get-sum ")), "{stdout}");
    assert!(stdout.lines().any(|l| l.starts_with("echo ")), "{stdout}");

    let out = toolplane(&["mcp", "tools", "--json", "--", "node", &js, "stdio"]);
    let tools: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let sum = tools
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "get-sum")
        .unwrap();
    assert_eq!(sum["input_schema"]["type"], "object");
}

#[test]
fn mcp_call_validates_then_calls_one_tool() {
    let Some(js) = everything() else { return };
    let out = toolplane(&[
        "mcp",
        "call",
        "--",
        "node",
        &js,
        "stdio",
        "get-sum",
        r#"{"a": 20, "b": 22}"#,
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("42"));

    let out = toolplane(&["mcp", "call", "--", "node", &js, "stdio", "get-sum", r#"{"a": "x"}"#]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("invalid_arguments") && stderr.contains("/a"),
        "{stderr}"
    );

    let out = toolplane(&["mcp", "call", "--", "node", &js, "stdio", "no-such-tool", "{}"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no-such-tool"));

    let out = toolplane(&["mcp", "call", "--", "/nonexistent/server", "t", "{}"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot start `/nonexistent/server`"));
}
