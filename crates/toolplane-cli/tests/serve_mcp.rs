//! `toolplane serve` with `[[tools.mcp]]`: `--check` validates the entries
//! without starting them (errors name file:line:field), and a server whose
//! program does not exist is reported at start while the gateway listens.

#![allow(clippy::unwrap_used, clippy::panic)]

use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};

const BASE: &str = "[[experts]]\nid = \"fast\"\nprovider = \"scripted\"\nmodel = \"scripted-fast\"\n\n";

fn write(dir: &std::path::Path, tools: &str) -> std::path::PathBuf {
    let path = dir.join("toolplane.toml");
    std::fs::write(&path, format!("{BASE}{tools}")).unwrap();
    path
}

fn check(path: &std::path::Path) -> (Option<i32>, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_toolplane"))
        .args(["serve", "--check", "--config"])
        .arg(path)
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn check_validates_mcp_entries_without_starting_them() {
    let dir = tempfile::tempdir().unwrap();
    let good = write(
        dir.path(),
        "[[tools.mcp]]\nname = \"shell\"\ncommand = \"sh\"\nargs = [\"-c\", \"exit 3\"]\n",
    );
    let (code, stdout, stderr) = check(&good);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(
        stdout.contains("MCP servers (not started by --check): shell"),
        "{stdout}"
    );

    let bad = write(
        dir.path(),
        "[[tools.mcp]]\nname = \"remote\"\nurl = \"https://mcp.example.com/mcp\"\nbearer_env = \"Bearer abc\"\n",
    );
    let (code, _, stderr) = check(&bad);
    assert_eq!(code, Some(1));
    assert!(
        stderr.contains("toolplane.toml:9: tools.mcp[0].bearer_env: must be the name of an environment variable"),
        "{stderr}"
    );

    let missing = write(
        dir.path(),
        "[[tools.mcp]]\nname = \"ghost\"\ncommand = \"./no-such-server\"\n",
    );
    let (code, _, stderr) = check(&missing);
    assert_eq!(code, Some(1));
    assert!(
        stderr.contains("tools.mcp[0].command: no program `./no-such-server`"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_cannot_start_is_reported_and_the_gateway_listens() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "[[tools.mcp]]\nname = \"ghost\"\ncommand = \"/nonexistent/toolplane-no-such-mcp-server\"\n",
    );
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_toolplane"))
        .args(["serve", "--bind", "127.0.0.1:0", "--config"])
        .arg(&path)
        .current_dir(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let (url, report) = tokio::time::timeout(Duration::from_secs(60), async {
        let mut url = None;
        while let Some(line) = lines.next_line().await.unwrap() {
            if let Some(u) = line.strip_prefix("toolplane serve listening on ") {
                url = Some(u.to_owned());
            } else if line.starts_with("mcp server ") {
                return (url.unwrap(), line);
            }
        }
        panic!("toolplane serve ended without reporting its MCP server");
    })
    .await
    .unwrap();
    assert!(
        report.starts_with(
            "mcp server ghost: failed (MCP server `ghost`: cannot start `/nonexistent/toolplane-no-such-mcp-server`"
        ),
        "{report}"
    );
    let ready = reqwest::get(format!("{url}/readyz")).await.unwrap();
    assert_eq!(ready.status(), 200);
}
