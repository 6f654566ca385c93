//! Evidence for the audit log: redaction, injection, tampering, fsync errors.

#![allow(clippy::unwrap_used, clippy::panic)]

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::json;
use toolplane_security::audit::{AuditRecord, AuditSink, FileSink, FileSinkOptions, read_dir, verify_dir};
use toolplane_security::redact::Redact;

fn record(i: usize) -> AuditRecord {
    let mut r = AuditRecord::event("tool_call", format!("req-{i}"), "alice");
    r.tool = Some("echo".into());
    r.arguments = json!({ "i": i });
    r
}

fn write_log(dir: &Path, n: usize) {
    let sink = FileSink::open(dir, FileSinkOptions::default()).unwrap();
    for i in 0..n {
        sink.append_blocking(record(i).redacted()).unwrap();
    }
    sink.close();
}

fn segment(dir: &Path) -> PathBuf {
    dir.join("seg-00000000.tpa")
}

/// (offset, length) of every frame.
fn frames(data: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut off = 0;
    while off + 8 <= data.len() {
        let len = u32::from_le_bytes(data[off..off + 4].try_into().unwrap()) as usize + 8;
        out.push((off, len));
        off += len;
    }
    out
}

#[test]
fn secrets_never_reach_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let sink = FileSink::open(dir.path(), FileSinkOptions::default()).unwrap();
    let secrets = [
        "hunter2-very-secret",
        "sk-proj-AbCdEf0123456789XyZ",
        "AKIAIOSFODNN7EXAMPLE",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlc2ln",
        "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
        "opaque-bearer-value-42",
    ];
    let mut r = record(0);
    r.arguments = json!({
        "password": secrets[0],
        "nested": {"api_key": "whatever", "note": format!("use {} please", secrets[1])},
        "headers": {"Authorization": format!("Bearer {}", secrets[5]), "X-Trace": "t-1"},
        "list": [secrets[2], {"client_secret": "cs"}],
        "max_tokens": 256,
    });
    r.status = "upstream".into();
    r.error = Some(format!(
        "401 Unauthorized: token {} rejected; Authorization: Bearer {}; password={} aws_key={}",
        secrets[3], secrets[5], secrets[0], secrets[2]
    ));
    r.detail = Some(json!({"echo": format!("key={}", secrets[4])}));
    sink.append_blocking(r.redacted()).unwrap();
    sink.close();
    let bytes = std::fs::read(segment(dir.path())).unwrap();
    for s in secrets.iter().chain(["whatever", "\"cs\""].iter()) {
        assert!(
            !bytes.windows(s.len()).any(|w| w == s.as_bytes()),
            "secret {s:?} found in the log file"
        );
    }
    let (recs, rep) = read_dir(dir.path()).unwrap();
    assert!(rep.is_ok(), "{rep}");
    let a = &recs[0].1.arguments;
    assert_eq!(a["headers"]["X-Trace"], "t-1", "non-secret values stay");
    assert_eq!(a["max_tokens"], 256, "max_tokens is not a secret");
    assert_eq!(a["password"], "[REDACTED]");
}

#[test]
fn newline_and_json_injection_stays_inside_its_field() {
    let dir = tempfile::tempdir().unwrap();
    let sink = FileSink::open(dir.path(), FileSinkOptions::default()).unwrap();
    let evil = "x\"}\n{\"event\":\"tool_call\",\"principal\":\"admin\",\"decision\":\"allow\"}\n";
    let mut r = record(0);
    r.arguments = json!({ "q": evil });
    sink.append_blocking(r.redacted()).unwrap();
    sink.close();
    let bytes = std::fs::read(segment(dir.path())).unwrap();
    assert!(
        !bytes.windows(2).any(|w| w == b"}\n"),
        "a raw newline from the argument reached the file"
    );
    let (recs, rep) = read_dir(dir.path()).unwrap();
    assert!(rep.is_ok());
    assert_eq!(recs.len(), 1, "one record, not two");
    assert_eq!(recs[0].1.principal, "alice");
    assert_eq!(recs[0].1.arguments["q"], evil);
}

#[test]
fn verifier_accepts_an_intact_log_across_segments_and_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let opts = FileSinkOptions {
        segment_bytes: 4096,
        checkpoint_every: 7,
        ..FileSinkOptions::default()
    };
    for round in 0..2 {
        let sink = FileSink::open(dir.path(), opts.clone()).unwrap();
        for i in 0..100 {
            sink.append_blocking(record(round * 100 + i).redacted()).unwrap();
        }
    }
    let rep = verify_dir(dir.path()).unwrap();
    assert!(rep.is_ok(), "{rep}");
    assert_eq!(rep.records, 200);
    assert!(rep.segments > 3 && rep.checkpoints > 28, "{rep:?}");
    let (recs, _) = read_dir(dir.path()).unwrap();
    let ids: Vec<String> = recs.iter().map(|(_, r)| r.request_id.clone()).collect();
    assert_eq!(ids, (0..200).map(|i| format!("req-{i}")).collect::<Vec<_>>());
}

#[test]
fn verifier_finds_a_flipped_byte() {
    let dir = tempfile::tempdir().unwrap();
    write_log(dir.path(), 10);
    let path = segment(dir.path());
    let mut data = std::fs::read(&path).unwrap();
    let (off, len) = frames(&data)[5];
    data[off + len - 3] ^= 0x20;
    std::fs::write(&path, &data).unwrap();
    let rep = verify_dir(dir.path()).unwrap();
    assert_eq!(rep.failure.as_ref().unwrap().seq, 5);
    assert!(
        rep.to_string().starts_with("FAILED at seq 5: checksum mismatch"),
        "{rep}"
    );
}

#[test]
fn verifier_finds_an_altered_record_with_a_recomputed_checksum() {
    let dir = tempfile::tempdir().unwrap();
    write_log(dir.path(), 10);
    let path = segment(dir.path());
    let mut data = std::fs::read(&path).unwrap();
    let (off, len) = frames(&data)[4];
    let pos = off + len - 3;
    data[pos] = if data[pos] == b'4' { b'9' } else { b'4' };
    let crc = crc32fast::hash(&data[off + 8..off + len]);
    data[off + 4..off + 8].copy_from_slice(&crc.to_le_bytes());
    std::fs::write(&path, &data).unwrap();
    let rep = verify_dir(dir.path()).unwrap();
    assert_eq!(rep.failure.as_ref().unwrap().seq, 5, "{rep}");
    assert!(rep.to_string().contains("record 4 was altered"), "{rep}");
}

#[test]
fn verifier_finds_a_deleted_record() {
    let dir = tempfile::tempdir().unwrap();
    write_log(dir.path(), 10);
    let path = segment(dir.path());
    let mut data = std::fs::read(&path).unwrap();
    let (off, len) = frames(&data)[3];
    data.drain(off..off + len);
    std::fs::write(&path, &data).unwrap();
    let rep = verify_dir(dir.path()).unwrap();
    assert_eq!(rep.failure.as_ref().unwrap().seq, 3);
    assert!(
        rep.to_string()
            .starts_with("FAILED at seq 3: record 3 is missing (deleted)"),
        "{rep}"
    );
}

#[test]
fn verifier_finds_reordered_records() {
    let dir = tempfile::tempdir().unwrap();
    write_log(dir.path(), 10);
    let path = segment(dir.path());
    let data = std::fs::read(&path).unwrap();
    let f = frames(&data);
    let (a, b) = (f[6], f[7]);
    let mut out = data[..a.0].to_vec();
    out.extend_from_slice(&data[b.0..b.0 + b.1]);
    out.extend_from_slice(&data[a.0..a.0 + a.1]);
    out.extend_from_slice(&data[b.0 + b.1..]);
    std::fs::write(&path, &out).unwrap();
    let rep = verify_dir(dir.path()).unwrap();
    assert_eq!(rep.failure.as_ref().unwrap().seq, 6);
    assert!(rep.to_string().contains("records reordered"), "{rep}");
}

#[test]
fn verifier_finds_a_truncated_record() {
    let dir = tempfile::tempdir().unwrap();
    write_log(dir.path(), 10);
    let path = segment(dir.path());
    let data = std::fs::read(&path).unwrap();
    let (off, len) = frames(&data)[8];
    std::fs::write(&path, &data[..off + len / 2]).unwrap();
    let rep = verify_dir(dir.path()).unwrap();
    assert_eq!(rep.failure.as_ref().unwrap().seq, 8);
    assert!(
        rep.to_string().starts_with("FAILED at seq 8: record truncated"),
        "{rep}"
    );
}

#[test]
fn verifier_finds_records_cut_from_the_end_of_a_sealed_segment() {
    let dir = tempfile::tempdir().unwrap();
    write_log(dir.path(), 10);
    // Reopen so segment 0 is followed by segment 1, then cut segment 0's last two frames.
    FileSink::open(dir.path(), FileSinkOptions::default()).unwrap().close();
    let path = segment(dir.path());
    let data = std::fs::read(&path).unwrap();
    let f = frames(&data);
    std::fs::write(&path, &data[..f[f.len() - 2].0]).unwrap();
    let rep = verify_dir(dir.path()).unwrap();
    assert_eq!(rep.failure.as_ref().unwrap().seq, 10, "{rep}");
    assert!(
        rep.to_string().contains("missing at the end of the previous segment"),
        "{rep}"
    );
}

#[test]
fn an_fsync_error_fails_closed_and_starts_a_new_segment() {
    let dir = tempfile::tempdir().unwrap();
    let fail = Arc::new(AtomicBool::new(false));
    let f2 = fail.clone();
    let opts = FileSinkOptions {
        sync_fault: Some(Arc::new(move |_p: &Path| {
            f2.swap(false, Ordering::SeqCst)
                .then(|| io::Error::other("injected EIO"))
        })),
        ..FileSinkOptions::default()
    };
    let sink = FileSink::open(dir.path(), opts).unwrap();
    let mut acked = Vec::new();
    for i in 0..5 {
        acked.push(sink.append_blocking(record(i).redacted()).unwrap());
    }
    fail.store(true, Ordering::SeqCst);
    let err = sink.append_blocking(record(5).redacted()).unwrap_err();
    assert!(err.to_string().contains("fsync failed: injected EIO"), "{err}");
    for i in 6..9 {
        acked.push(sink.append_blocking(record(i).redacted()).unwrap());
    }
    sink.close();
    assert!(
        dir.path().join("seg-00000001.tpa").exists(),
        "a new segment was started"
    );
    let (recs, rep) = read_dir(dir.path()).unwrap();
    assert!(rep.is_ok(), "{rep}");
    assert_eq!(rep.unacknowledged, 1, "{rep}");
    assert!(rep.to_string().contains("1 unacknowledged"), "{rep}");
    let ids: Vec<&str> = recs.iter().map(|(_, r)| r.request_id.as_str()).collect();
    assert_eq!(
        ids,
        ["req-0", "req-1", "req-2", "req-3", "req-4", "req-6", "req-7", "req-8"]
    );
    let seqs: Vec<u64> = recs.iter().map(|(s, _)| *s).collect();
    assert_eq!(seqs, acked, "every acknowledged sequence number is in the log");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_async_appends_are_all_acknowledged_and_verified() {
    let dir = tempfile::tempdir().unwrap();
    let sink = Arc::new(FileSink::open(dir.path(), FileSinkOptions::default()).unwrap());
    let mut tasks = Vec::new();
    for t in 0..16 {
        let sink = sink.clone();
        tasks.push(tokio::spawn(async move {
            let mut seqs = Vec::new();
            for i in 0..50 {
                seqs.push(sink.append(record(t * 1000 + i).redacted()).await.unwrap());
            }
            seqs
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    sink.close();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 800);
    let rep = verify_dir(dir.path()).unwrap();
    assert!(rep.is_ok(), "{rep}");
    assert_eq!(rep.records, 800);
}

#[test]
fn verify_of_a_folder_without_segments_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let err = verify_dir(dir.path()).unwrap_err().to_string();
    assert!(err.contains("no audit segments"), "{err}");
}

#[test]
fn a_torn_abandoned_segment_and_a_failed_segment_start_still_verify() {
    let dir = tempfile::tempdir().unwrap();
    let calls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let c2 = calls.clone();
    // Sync calls: 1 = start of segment 0, 2..=4 = three records, 5 = the 4th
    // record (fails), 6 = start of the replacement segment (fails too), then fine.
    let opts = FileSinkOptions {
        sync_fault: Some(Arc::new(move |_p: &Path| {
            let n = c2.fetch_add(1, Ordering::SeqCst) + 1;
            (n == 5 || n == 6).then(|| io::Error::other("injected EIO"))
        })),
        ..FileSinkOptions::default()
    };
    let sink = FileSink::open(dir.path(), opts).unwrap();
    for i in 0..3 {
        sink.append_blocking(record(i).redacted()).unwrap();
    }
    assert!(sink.append_blocking(record(3).redacted()).is_err());
    // The replacement segment failed to start; this append starts it and succeeds.
    sink.append_blocking(record(4).redacted()).unwrap();
    sink.close();
    assert!(
        !dir.path().join("seg-00000001.tpa").exists(),
        "the segment whose start failed was removed"
    );
    assert!(dir.path().join("seg-00000002.tpa").exists());
    // Tear the abandoned record as a crash mid-write would.
    let seg0 = segment(dir.path());
    let data = std::fs::read(&seg0).unwrap();
    std::fs::write(&seg0, &data[..data.len() - 5]).unwrap();
    let (recs, rep) = read_dir(dir.path()).unwrap();
    assert!(rep.is_ok(), "{rep}");
    let ids: Vec<&str> = recs.iter().map(|(_, r)| r.request_id.as_str()).collect();
    assert_eq!(ids, ["req-0", "req-1", "req-2", "req-4"]);
}
