#![allow(clippy::unwrap_used, clippy::panic)]
//! The `toolplane` binary, run as a process.

use std::process::{Command, Output};

fn toolplane(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_toolplane"))
        .args(args)
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

#[test]
fn tools_lists_every_builtin_tool() {
    let out = toolplane(&["tools"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("NAME"), "{text}");
    for name in ["call_tool", "current_time", "json_query", "search_tools"] {
        assert!(lines.iter().any(|l| l.starts_with(name)), "{name} missing in\n{text}");
    }
    assert_eq!(lines.len(), 5, "{text}");
}

#[test]
fn tools_json_prints_definitions() {
    let out = toolplane(&["tools", "--json"]);
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let tools = v.as_array().unwrap();
    assert_eq!(tools.len(), 4);
    let time = tools.iter().find(|t| t["name"] == "current_time").unwrap();
    assert_eq!(time["input_schema"]["properties"]["time_zone"]["type"], "string");
    assert_eq!(time["annotations"]["read_only"], true);
}

#[test]
fn tools_in_a_provider_format() {
    let out = toolplane(&["tools", "--provider", "anthropic"]);
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert!(
        v.as_array()
            .unwrap()
            .iter()
            .all(|t| t["input_schema"]["type"] == "object")
    );

    let out = toolplane(&["tools", "--provider", "openai-chat", "--strict"]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let by_name = |n: &str| {
        v.as_array()
            .unwrap()
            .iter()
            .find(|t| t["function"]["name"] == n)
            .unwrap()
            .clone()
    };
    assert_eq!(by_name("current_time")["type"], "function");
    assert_eq!(by_name("current_time")["function"]["strict"], true);
    // A free-form `arguments` object cannot be strict: that tool falls back,
    // says so on stderr, and the definition says `"strict": false` (what the
    // OpenAI provider sends).
    assert_eq!(by_name("call_tool")["function"]["strict"], false);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("warning: `call_tool`: not strict"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // The profile names work too, and `--provider` is the same function the providers use.
    let out = toolplane(&["tools", "--profile", "openai-responses-strict"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let specs = toolplane_registry::builtin::builtin_specs();
    let expected =
        toolplane_schema::export(&specs, toolplane_schema::Profile::OpenAiResponsesStrict).into_tools_field();
    assert_eq!(v, expected);
}

#[test]
fn bad_usage_exits_2_with_a_reason() {
    let out = toolplane(&["tools", "--provider", "openai-chatt"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("unknown schema profile `openai-chatt`") && err.contains("openai-responses"),
        "{err}"
    );
    let out = toolplane(&["tools", "--provider", "anthropic", "--strict"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no strict form"));

    let out = toolplane(&["tools", "--strict"]);
    assert_eq!(out.status.code(), Some(2));
    let out = toolplane(&["frobnicate"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn help_and_version() {
    let out = toolplane(&["--help"]);
    assert!(out.status.success());
    assert!(stdout(&out).contains("tools"));
    let out = toolplane(&["--version"]);
    assert!(stdout(&out).starts_with("toolplane "));
}
