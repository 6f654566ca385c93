//! The audit log verifier on damaged segments: a valid log of a few records is
//! written once with the real `FileSink`, then each input damages a copy of its
//! segment (bytes overwritten at chosen offsets, the tail cut, garbage appended)
//! and the verifier reads it. It must never panic or hang, and an undamaged copy
//! must verify. The input's first byte picks the damage, the rest is its data.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use serde_json::json;
use toolplane_security::audit::{AuditRecord, FileSink, FileSinkOptions};
use toolplane_security::redact::Redact;

const SEGMENT: &str = "seg-00000000.tpa";

/// The bytes of a valid segment with five records.
fn valid_segment() -> &'static [u8] {
    static SEG: OnceLock<Vec<u8>> = OnceLock::new();
    SEG.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temp dir");
        let sink = FileSink::open(dir.path(), FileSinkOptions::default()).expect("open sink");
        for i in 0..5 {
            let mut r = AuditRecord::event("tool_call", format!("req-{i}"), "alice");
            r.tool = Some("echo".into());
            r.arguments = json!({ "i": i, "text": "x".repeat(i * 7) });
            sink.append_blocking(r.redacted()).expect("append");
        }
        sink.close();
        std::fs::read(dir.path().join(SEGMENT)).expect("segment written")
    })
}

fuzz_target!(|data: &[u8]| {
    let mut seg = valid_segment().to_vec();
    let Some((&how, rest)) = data.split_first() else {
        return;
    };
    match how % 4 {
        // Overwrite: pairs of (offset byte, value byte).
        0 => {
            for pair in rest.chunks_exact(2) {
                let at = usize::from(pair[0]) * seg.len() / 256;
                seg[at] = pair[1];
            }
        }
        // Cut the tail at a chosen length, then append the rest as garbage.
        1 => {
            let keep = rest.first().map_or(seg.len(), |&b| usize::from(b) * seg.len() / 255);
            seg.truncate(keep);
            seg.extend_from_slice(rest.get(1..).unwrap_or_default());
        }
        // Garbage after a valid log.
        2 => seg.extend_from_slice(rest),
        // A segment made only of the input.
        _ => seg = rest.to_vec(),
    }
    let Ok(dir) = tempfile::tempdir() else {
        return;
    };
    if std::fs::write(dir.path().join(SEGMENT), &seg).is_err() {
        return;
    }
    let report = toolplane_security::verify_dir(dir.path());
    if seg == valid_segment() {
        assert!(report.is_ok_and(|r| r.is_ok()), "an undamaged log must verify");
    }
    let _ = toolplane_security::audit::read_dir(dir.path());
});
