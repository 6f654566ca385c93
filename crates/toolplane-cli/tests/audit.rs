#![allow(clippy::unwrap_used, clippy::panic)]
//! `toolplane audit verify` on hostile segments and with published checkpoints.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use toolplane_security::audit::{AuditRecord, DirCheckpoints, FileSink, FileSinkOptions};
use toolplane_security::redact::Redact;

fn toolplane(args: &[&str]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_toolplane"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // A verifier that hangs is the defect under test: kill it after a minute.
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > Duration::from_secs(60) {
            child.kill().unwrap();
            panic!("toolplane {args:?} hung");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn write_log(dir: &Path, n: usize, anchor: &Path) {
    let opts = FileSinkOptions {
        checkpoint_every: 8,
        checkpoints: Some(Arc::new(DirCheckpoints::new(anchor))),
        ..FileSinkOptions::default()
    };
    let sink = FileSink::open(dir, opts).unwrap();
    for i in 0..n {
        let mut r = AuditRecord::event("tool_call", format!("req-{i}"), "alice");
        r.arguments = serde_json::json!({ "i": i });
        sink.append_blocking(r.redacted()).unwrap();
    }
    sink.close();
}

#[test]
fn audit_verify_with_checkpoints_reports_a_tail_cut_cleanly() {
    let (log, anchor) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    write_log(log.path(), 20, anchor.path());
    let dir = log.path().to_str().unwrap();
    let src = anchor.path().to_str().unwrap();
    let out = toolplane(&["audit", "verify", dir, "--checkpoints", src]);
    assert!(out.status.success(), "{}{}", text(&out.stdout), text(&out.stderr));
    assert!(
        text(&out.stdout).contains("3 published checkpoints match"),
        "{}",
        text(&out.stdout)
    );

    // Remove the sealing checkpoint (the last frame) at its boundary.
    let seg = log.path().join("seg-00000000.tpa");
    let data = std::fs::read(&seg).unwrap();
    let mut off = 0;
    let mut last = 0;
    while off < data.len() {
        last = off;
        off += u32::from_le_bytes(data[off..off + 4].try_into().unwrap()) as usize + 8;
    }
    std::fs::OpenOptions::new()
        .write(true)
        .open(&seg)
        .unwrap()
        .set_len(last as u64)
        .unwrap();
    let alone = toolplane(&["audit", "verify", dir]);
    assert!(alone.status.success(), "{}", text(&alone.stdout));
    let file = anchor.path().join(DirCheckpoints::FILE);
    let out = toolplane(&["audit", "verify", dir, "--checkpoints", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    assert!(
        text(&out.stdout).contains("records were cut from the tail"),
        "{}",
        text(&out.stdout)
    );
}

#[cfg(unix)]
#[test]
fn audit_verify_refuses_a_fifo_or_a_symlink_to_dev_zero_at_once() {
    let (log, anchor) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    write_log(log.path(), 3, anchor.path());
    let dir = log.path().to_str().unwrap();
    std::os::unix::fs::symlink("/dev/zero", log.path().join("seg-00000001.tpa")).unwrap();
    let out = toolplane(&["audit", "verify", dir]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("not a regular file (a symbolic link)"),
        "{}",
        text(&out.stderr)
    );

    std::fs::remove_file(log.path().join("seg-00000001.tpa")).unwrap();
    let fifo = log.path().join("seg-00000002.tpa");
    match Command::new("mkfifo").arg(&fifo).status() {
        Ok(s) if s.success() => {}
        other => {
            assert!(std::env::var("CI").is_err(), "mkfifo is needed under CI: {other:?}");
            eprintln!("skipped the FIFO case: mkfifo unavailable ({other:?})");
            return;
        }
    }
    let out = toolplane(&["audit", "verify", dir]);
    assert_ne!(out.status.code(), Some(0));
    assert!(
        text(&out.stderr).contains("not a regular file (a FIFO)"),
        "{}",
        text(&out.stderr)
    );
}
