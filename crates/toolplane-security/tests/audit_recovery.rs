//! Recovery after a process crash: a child process appends to the audit log
//! and is killed with SIGKILL at a random point, again and again; after each
//! kill the log reopens (cutting any torn tail), verifies, and holds every
//! acknowledged record.
//!
//! What this does *not* show is durability: SIGKILL leaves the page cache
//! intact, so these tests would pass with fsync turned off. Telling fsync
//! from the page cache needs a device or file system that drops unsynced
//! writes (device-mapper `dm-flakey` / `dm-log-writes`, or a FUSE file system
//! that discards unflushed data); see docs/security.md for what was tried.

#![allow(clippy::unwrap_used, clippy::panic)]

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use rand::Rng;
use serde_json::json;
use toolplane_security::audit::{AuditRecord, FileSink, FileSinkOptions, read_dir};
use toolplane_security::redact::Redact;

const CHILD_ENV: &str = "TOOLPLANE_AUDIT_CRASH_CHILD_DIR";

/// The child: appends forever from four threads, printing each acknowledgement.
#[test]
fn crash_child_appender() {
    let Ok(dir) = std::env::var(CHILD_ENV) else { return };
    let run = std::env::var("TOOLPLANE_AUDIT_CRASH_RUN").unwrap_or_default();
    let sink = Arc::new(FileSink::open(dir.as_ref(), FileSinkOptions::default()).expect("open"));
    let out = Arc::new(std::sync::Mutex::new(std::io::stdout()));
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let sink = sink.clone();
            let out = out.clone();
            let run = run.clone();
            std::thread::spawn(move || {
                for i in 0.. {
                    let id = format!("run{run}-t{t}-{i}");
                    let mut r = AuditRecord::event("tool_call", id.clone(), "child");
                    r.arguments = json!({ "pad": "x".repeat(i % 300) });
                    let seq = sink.append_blocking(r.redacted()).expect("append");
                    let mut o = out.lock().expect("stdout");
                    writeln!(o, "ACK {id} {seq}").expect("write");
                    o.flush().expect("flush");
                }
            })
        })
        .collect();
    for t in threads {
        let _ = t.join();
    }
}

#[test]
fn after_sigkill_the_log_recovers_with_every_acknowledged_record() {
    if std::env::var(CHILD_ENV).is_ok() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let exe = std::env::current_exe().unwrap();
    let mut rng = rand::rng();
    let mut acked: Vec<(String, u64)> = Vec::new();
    for run in 0..12 {
        let mut child = Command::new(&exe)
            .args(["crash_child_appender", "--exact", "--nocapture", "--test-threads=1"])
            .env(CHILD_ENV, dir.path())
            .env("TOOLPLANE_AUDIT_CRASH_RUN", run.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let reader = std::thread::spawn(move || {
            let mut lines = Vec::new();
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(rest) = line.strip_prefix("ACK ") {
                    let mut parts = rest.split(' ');
                    let id = parts.next().unwrap_or_default().to_string();
                    let seq: u64 = parts.next().and_then(|s| s.parse().ok()).unwrap_or(u64::MAX);
                    if lines.is_empty() {
                        let _ = tx.send(());
                    }
                    lines.push((id, seq));
                }
            }
            lines
        });
        // Wait for the first acknowledgement, then kill at a random moment.
        rx.recv_timeout(Duration::from_secs(60))
            .expect("the child acknowledged nothing");
        std::thread::sleep(Duration::from_micros(rng.random_range(0..30_000)));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let lines = reader.join().unwrap();
        assert!(!lines.is_empty());
        acked.extend(lines);

        // Recovery on open, then every acknowledged record must be there.
        FileSink::open(dir.path(), FileSinkOptions::default()).unwrap().close();
        let (recs, rep) = read_dir(dir.path()).unwrap();
        assert!(rep.is_ok(), "run {run}: {rep}");
        let present: HashSet<(String, u64)> = recs.into_iter().map(|(s, r)| (r.request_id, s)).collect();
        for a in &acked {
            assert!(
                present.contains(a),
                "run {run}: acknowledged record {a:?} was lost ({rep})"
            );
        }
    }
    eprintln!("{} acknowledged records survived 12 SIGKILLs", acked.len());
}
