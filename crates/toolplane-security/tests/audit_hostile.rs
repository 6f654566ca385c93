//! Hostile segment files: the verifier and the sink stream segments record by
//! record, refuse what is not a regular file and bound a record's length.

#![cfg(unix)]
#![allow(clippy::unwrap_used, clippy::panic)]

use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

use serde_json::json;
use toolplane_security::audit::{AuditError, AuditRecord, FileSink, FileSinkOptions, verify_dir};
use toolplane_security::redact::Redact;

fn write_log(dir: &Path, n: usize) {
    let sink = FileSink::open(dir, FileSinkOptions::default()).unwrap();
    for i in 0..n {
        let mut r = AuditRecord::event("tool_call", format!("req-{i}"), "alice");
        r.arguments = json!({ "i": i });
        sink.append_blocking(r.redacted()).unwrap();
    }
    sink.close();
}

/// Runs `f` on a thread; a hang past a minute is the defect under test.
fn finishes<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(Duration::from_secs(60))
        .expect("hung on a hostile segment")
}

/// Peak resident memory of this process (VmHWM), bytes.
fn peak_rss() -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = s.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse::<u64>().unwrap() * 1024
}

fn assert_not_regular(e: &AuditError, what: &str) {
    let text = e.to_string();
    assert!(text.contains("not a regular file") && text.contains(what), "{text}");
    assert!(text.contains("seg-00000001.tpa"), "names the file: {text}");
}

#[test]
fn a_symlink_to_dev_zero_named_like_a_segment_is_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    write_log(dir.path(), 3);
    std::os::unix::fs::symlink("/dev/zero", dir.path().join("seg-00000001.tpa")).unwrap();
    let d = dir.path().to_path_buf();
    let e = finishes(move || verify_dir(&d)).unwrap_err();
    assert_not_regular(&e, "symbolic link");
    // The sink refuses to open (and so to append after) such a folder too.
    let d = dir.path().to_path_buf();
    let e = finishes(move || FileSink::open(&d, FileSinkOptions::default()).map(|_| ())).unwrap_err();
    assert_not_regular(&e, "symbolic link");
}

#[test]
fn a_fifo_named_like_a_segment_is_refused_without_hanging() {
    let dir = tempfile::tempdir().unwrap();
    write_log(dir.path(), 3);
    let fifo = dir.path().join("seg-00000001.tpa");
    let st = std::process::Command::new("mkfifo").arg(&fifo).status();
    match st {
        Ok(s) if s.success() => {}
        other => {
            assert!(std::env::var("CI").is_err(), "mkfifo is needed under CI: {other:?}");
            eprintln!("skipped: mkfifo unavailable ({other:?})");
            return;
        }
    }
    let d = dir.path().to_path_buf();
    let e = finishes(move || verify_dir(&d)).unwrap_err();
    assert_not_regular(&e, "FIFO");
    let d = dir.path().to_path_buf();
    let e = finishes(move || FileSink::open(&d, FileSinkOptions::default()).map(|_| ())).unwrap_err();
    assert_not_regular(&e, "FIFO");
}

#[test]
fn a_two_gigabyte_sparse_segment_is_read_in_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    write_log(dir.path(), 50);
    let seg = dir.path().join("seg-00000000.tpa");
    let f = std::fs::OpenOptions::new().write(true).open(&seg).unwrap();
    let len = f.metadata().unwrap().len();
    // A hole of 2 GiB after the valid records: no disk used, but a reader
    // that loads the file whole needs 2 GiB of memory.
    f.set_len(len + (2 << 30)).unwrap();
    drop(f);
    let before = peak_rss();
    let report = verify_dir(dir.path()).unwrap();
    let grew = peak_rss().saturating_sub(before);
    assert!(grew < 64 << 20, "peak memory grew by {grew} bytes");
    assert_eq!(report.records, 50, "{report}");
    let failure = report.failure.as_ref().expect("the hole is not a record");
    assert_eq!(failure.offset as u64, len, "{report}");
    assert!(failure.reason.contains("impossible length field"), "{report}");
}
