//! schemathesis (PyPI, pinned in `scripts/ci/schemathesis.sh`) against a
//! `toolplane serve` process, offline, driven only by the gateway's own
//! `GET /openapi.json`: on every generated input (valid and invalid bodies,
//! query strings and path parameters, and the stateful sequences the
//! description's links allow) no answer is a 5xx, and every answer's status,
//! content type and body (each server-sent event too) are as described.
//!
//! A fixed seed and a bounded number of examples per operation keep it
//! reproducible and under about two minutes. Outside CI a missing
//! schemathesis is a printed skip; under `CI=true` it is a failure.

#![allow(clippy::unwrap_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::process::Command;

mod support;
use support::{cache_dir, hash_key, start_serve};

const KEY: &str = "tp-schemathesis-key";
/// Fixed, so a failure found once is found again.
const SEED: &str = "20261206";
/// Test cases per operation and phase.
const MAX_EXAMPLES: &str = "20";

/// The offline default's fast expert and its tools, with a known key that
/// holds every role (so the admin endpoints answer 200, not only 403). The
/// careful expert streams a word every 25 ms, which only makes the run longer.
fn write_config(dir: &Path) -> PathBuf {
    let text = format!(
        r#"[server]
bind = "127.0.0.1:0"
shutdown_grace_secs = 5

[[server.keys]]
sha256 = "{key}"
principal = "fuzzer"
roles = ["member", "approver", "admin"]

[[experts]]
id = "scripted-fast"
provider = "scripted"
model = "scripted-fast"

[tools]
builtins = ["current_time"]
demo_tasks = true

[security]
audit_dir = "audit"
"#,
        key = hash_key(KEY)
    );
    let path = dir.join("toolplane.toml");
    std::fs::write(&path, text).unwrap();
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_finds_no_server_error_and_no_undocumented_answer() {
    let exe = cache_dir().join("schemathesis-venv/bin/schemathesis");
    let Some(exe) = exe
        .exists()
        .then_some(exe)
        .or_else(|| toolplane_testkit::missing("schemathesis", "run scripts/ci/schemathesis.sh"))
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path());
    let serve = start_serve(&["--config", config.to_str().unwrap()], &[]);
    let url = &serve.url;

    let report = dir.path().join("schemathesis-junit.xml");
    let run = Command::new(&exe)
        .current_dir(dir.path())
        .arg("run")
        .arg(format!("{url}/openapi.json"))
        .args([
            "--checks",
            "not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance",
            "--header",
            &format!("Authorization: Bearer {KEY}"),
            "--seed",
            SEED,
            "--max-examples",
            MAX_EXAMPLES,
            "--workers",
            "2",
            "--request-timeout",
            "30",
            "--generation-database",
            "none",
            // How fast Hypothesis generates data depends on the machine's load,
            // not on the server: that health check would only make the run flaky.
            "--suppress-health-check",
            "too_slow",
            "--no-color",
            "--report",
            "junit",
            "--report-junit-path",
        ])
        .arg(&report)
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(600), run)
        .await
        .expect("schemathesis ran over 600 s")
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "schemathesis found problems:\n{stdout}\n{stderr}");
    // The summary names every operation as tested; print it for the log.
    let summary: Vec<&str> = stdout.lines().rev().take(25).collect();
    eprintln!("{}", summary.into_iter().rev().collect::<Vec<_>>().join("\n"));
    assert!(stdout.contains("Tested:"), "no summary in:\n{stdout}");
    drop(serve);
}
