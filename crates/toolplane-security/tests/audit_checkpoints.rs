//! Checkpoints published outside the log make a cleanly cut tail detectable.

#![allow(clippy::unwrap_used, clippy::panic)]

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::json;
use toolplane_security::audit::{
    AuditError, AuditRecord, CheckpointPublisher, DirCheckpoints, FileSink, FileSinkOptions, FnCheckpoints,
    MemoryCheckpoints, verify_dir, verify_with_checkpoints,
};
use toolplane_security::redact::Redact;

fn write_log(dir: &Path, n: usize, publisher: Arc<dyn CheckpointPublisher>) -> FileSink {
    let opts = FileSinkOptions {
        checkpoint_every: 10,
        checkpoints: Some(publisher),
        ..FileSinkOptions::default()
    };
    let sink = FileSink::open(dir, opts).unwrap();
    for i in 0..n {
        let mut r = AuditRecord::event("tool_call", format!("req-{i}"), "alice");
        r.arguments = json!({ "i": i });
        sink.append_blocking(r.redacted()).unwrap();
    }
    sink
}

/// Offsets where each frame of a segment starts.
fn frame_starts(data: &[u8]) -> Vec<usize> {
    let mut out = Vec::new();
    let mut off = 0;
    while off + 8 <= data.len() {
        out.push(off);
        off += u32::from_le_bytes(data[off..off + 4].try_into().unwrap()) as usize + 8;
    }
    out
}

/// Cuts the last `frames` frames off the newest segment, at a frame boundary.
fn cut_tail(dir: &Path, frames: usize) {
    let mut segs: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "tpa"))
        .collect();
    segs.sort();
    let last = segs.last().unwrap();
    let data = std::fs::read(last).unwrap();
    let starts = frame_starts(&data);
    let at = starts[starts.len() - frames];
    std::fs::OpenOptions::new()
        .write(true)
        .open(last)
        .unwrap()
        .set_len(at as u64)
        .unwrap();
}

#[test]
fn a_tail_cut_cleanly_passes_alone_and_fails_against_published_checkpoints() {
    let log = tempfile::tempdir().unwrap();
    let anchor = tempfile::tempdir().unwrap();
    let published = Arc::new(DirCheckpoints::new(anchor.path()));
    write_log(log.path(), 95, published.clone()).close();

    let report = verify_with_checkpoints(log.path(), published.as_ref()).unwrap();
    // 9 periodic checkpoints and the sealing one at close.
    assert!(report.is_ok(), "{report}");
    assert_eq!(
        (report.records, report.checkpoints, report.anchored),
        (95, 10, 10),
        "{report}"
    );
    assert!(
        report.to_string().ends_with("; 10 published checkpoints match"),
        "{report}"
    );

    // Cut the sealing checkpoint and the five records before it.
    cut_tail(log.path(), 6);
    let alone = verify_dir(log.path()).unwrap();
    assert!(alone.is_ok(), "the log alone cannot tell: {alone}");
    assert_eq!(alone.records, 90);
    let report = verify_with_checkpoints(log.path(), published.as_ref()).unwrap();
    let failure = report.failure.as_ref().expect("the cut is reported");
    assert!(failure.reason.contains("records were cut from the tail"), "{report}");
    assert!(report.to_string().starts_with("FAILED at seq "), "{report}");
}

#[test]
fn a_log_rewritten_from_another_history_does_not_match_its_published_checkpoints() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let published = MemoryCheckpoints::new();
    write_log(a.path(), 30, Arc::new(published.clone())).close();
    // Another log of the same shape (different records, same seqs).
    let other = MemoryCheckpoints::new();
    let sink = write_log(b.path(), 31, Arc::new(other));
    sink.close();
    let report = verify_with_checkpoints(b.path(), &published).unwrap();
    let failure = report.failure.as_ref().expect("a rewrite is reported");
    assert!(failure.reason.contains("the log was rewritten"), "{report}");
}

#[test]
fn every_durable_checkpoint_is_published_and_refusals_are_counted() {
    let dir = tempfile::tempdir().unwrap();
    let memory = MemoryCheckpoints::new();
    let sink = write_log(dir.path(), 25, Arc::new(memory.clone()));
    sink.close();
    let all = memory.all();
    assert_eq!(all.iter().map(|c| c.tree_size).collect::<Vec<_>>(), vec![10, 20, 25]);
    assert!(all.last().unwrap().seal && !all[0].seal);
    assert!(all.windows(2).all(|w| w[0].seq < w[1].seq));

    let dir = tempfile::tempdir().unwrap();
    let calls = Arc::new(AtomicUsize::new(0));
    let c = calls.clone();
    let failing = FnCheckpoints(move |_: &_| {
        c.fetch_add(1, Ordering::SeqCst);
        Err(AuditError::Closed)
    });
    let sink = write_log(dir.path(), 25, Arc::new(failing));
    // The records are stored whatever the publisher says.
    assert!(verify_dir(dir.path()).unwrap().is_ok());
    assert_eq!(sink.checkpoint_publish_errors(), 2);
    sink.close();
    assert_eq!(sink.checkpoint_publish_errors(), 3);
    assert_eq!(calls.load(Ordering::SeqCst), 3);
}

#[test]
fn a_damaged_checkpoint_file_is_a_clear_error() {
    let log = tempfile::tempdir().unwrap();
    let anchor = tempfile::tempdir().unwrap();
    let published = DirCheckpoints::new(anchor.path());
    write_log(log.path(), 5, Arc::new(DirCheckpoints::new(anchor.path()))).close();
    let file = anchor.path().join(DirCheckpoints::FILE);
    let mut text = std::fs::read_to_string(&file).unwrap();
    text.insert_str(0, "not json\n");
    std::fs::write(&file, text).unwrap();
    let e = verify_with_checkpoints(log.path(), &published).unwrap_err();
    assert!(e.to_string().contains("line 1"), "{e}");
    let missing = DirCheckpoints::new(anchor.path().join("nowhere"));
    let e = verify_with_checkpoints(log.path(), &missing).unwrap_err();
    assert!(e.to_string().contains("checkpoints.jsonl"), "{e}");
}

#[cfg(feature = "redis")]
#[test]
fn redis_keeps_the_newest_checkpoint_and_reports_a_cut_tail() {
    use toolplane_security::audit::RedisCheckpoints;
    let Some(url) = toolplane_testkit::redis_url() else {
        return;
    };
    let n = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let key = format!("tp-test:checkpoints:{n}");
    let log = tempfile::tempdir().unwrap();
    let redis = Arc::new(RedisCheckpoints::new(&url, &key).unwrap());
    write_log(log.path(), 42, redis.clone()).close();
    let report = verify_with_checkpoints(log.path(), redis.as_ref()).unwrap();
    assert!(report.is_ok() && report.anchored == 1, "{report}");
    cut_tail(log.path(), 1);
    let report = verify_with_checkpoints(log.path(), redis.as_ref()).unwrap();
    assert!(
        report.failure.as_ref().unwrap().reason.contains("cut from the tail"),
        "{report}"
    );
}
