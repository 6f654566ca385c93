//! Checking a folder of audit segments.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use super::AuditError;
use super::AuditRecord;
use super::file::list_segments;
use super::format::{CheckpointBody, KIND_CHECKPOINT, KIND_RECORD, KIND_START, Merkle, Read, StartBody, read_at};
use crate::approval::hex;

/// The first problem found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyFailure {
    /// The sequence number where the chain first goes wrong.
    pub seq: u64,
    /// The segment file.
    pub segment: PathBuf,
    /// Byte offset in the segment.
    pub offset: usize,
    /// What is wrong.
    pub reason: String,
}

/// What [`verify_dir`] found. Its `Display` is `OK: N records (...)` or
/// `FAILED at seq N: why (segment, byte)`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct VerifyReport {
    /// Audit records verified.
    pub records: u64,
    /// Segments read.
    pub segments: u64,
    /// Checkpoints whose Merkle roots matched.
    pub checkpoints: u64,
    /// Records written but never acknowledged (an fsync failed) and so
    /// superseded by the next segment.
    pub unacknowledged: u64,
    /// Bytes of torn tails cut by recovery after crashes.
    pub recovered_bytes: u64,
    /// The first problem, if any.
    pub failure: Option<VerifyFailure>,
}

impl VerifyReport {
    /// True when no problem was found.
    pub fn is_ok(&self) -> bool {
        self.failure.is_none()
    }
}

impl fmt::Display for VerifyReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.failure {
            None => {
                write!(
                    f,
                    "OK: {} records ({} segments, {} checkpoints)",
                    self.records, self.segments, self.checkpoints
                )?;
                if self.unacknowledged > 0 {
                    write!(
                        f,
                        "; {} unacknowledged records superseded after fsync errors",
                        self.unacknowledged
                    )?;
                }
                if self.recovered_bytes > 0 {
                    write!(f, "; {} bytes of torn tail cut by crash recovery", self.recovered_bytes)?;
                }
                Ok(())
            }
            Some(x) => write!(
                f,
                "FAILED at seq {}: {} ({}, byte {})",
                x.seq,
                x.reason,
                x.segment.display(),
                x.offset
            ),
        }
    }
}

/// Verifies every segment in `dir`: checksums, sequence numbers, the hash
/// chain, segment hand-overs and checkpoint roots. An I/O error or a folder
/// without segments is an `Err`; a damaged log is an `Ok` report with a failure.
pub fn verify_dir(dir: &Path) -> Result<VerifyReport, AuditError> {
    walk(dir, false, &mut |_, _| {})
}

/// Reads the audit records of a folder with their sequence numbers, stopping
/// at the first problem (reported in the second value).
pub fn read_dir(dir: &Path) -> Result<(Vec<(u64, AuditRecord)>, VerifyReport), AuditError> {
    let mut out = Vec::new();
    let report = walk(dir, true, &mut |seq, body| {
        if let Ok(r) = serde_json::from_slice::<AuditRecord>(body) {
            out.push((seq, r));
        }
    })?;
    Ok((out, report))
}

fn walk(dir: &Path, keep: bool, on_record: &mut dyn FnMut(u64, &[u8])) -> Result<VerifyReport, AuditError> {
    let segs = list_segments(dir)?;
    if segs.is_empty() {
        return Err(AuditError::Corrupt {
            path: dir.display().to_string(),
            message: "no audit segments (seg-*.tpa) in this folder".into(),
        });
    }
    let mut rep = VerifyReport::default();
    let mut expected: u64 = 0;
    let mut prev = [0u8; 32];
    // Hashes of the previous and current segment, for fsync-error hand-overs.
    let mut prev_hashes: HashMap<u64, [u8; 32]> = HashMap::new();
    let mut last_sealed = false;
    let mut prev_floor = 0u64;
    let mut pending: Vec<(u64, Option<Vec<u8>>)> = Vec::new();
    for (si, (_, path)) in segs.iter().enumerate() {
        let data = std::fs::read(path).map_err(|e| AuditError::Io {
            path: path.display().to_string(),
            op: "read",
            message: e.to_string(),
        })?;
        rep.segments += 1;
        let mut hashes: HashMap<u64, [u8; 32]> = HashMap::new();
        let mut merkle = Merkle::default();
        let mut off = 0;
        let mut first = true;
        let fail = |rep: &mut VerifyReport, seq: u64, off: usize, reason: String| {
            rep.failure = Some(VerifyFailure {
                seq,
                segment: path.clone(),
                offset: off,
                reason,
            });
        };
        loop {
            let read = read_at(&data, off);
            // A torn or bad last frame of a segment abandoned after an fsync
            // error was never acknowledged: the next segment says so.
            let tail = match &read {
                Read::Torn { .. } => true,
                Read::Corrupt { end, .. } => *end >= data.len(),
                _ => false,
            };
            if tail && next_is_fsync_error(&segs, si) {
                break;
            }
            let f = match read {
                Read::End => break,
                Read::Torn { needed, have } => {
                    fail(
                        &mut rep,
                        expected,
                        off,
                        format!("record truncated: the frame needs {needed} bytes but only {have} remain"),
                    );
                    return Ok(flush(rep, pending, on_record));
                }
                Read::Corrupt { why, .. } => {
                    fail(
                        &mut rep,
                        expected,
                        off,
                        format!("{why}: bytes of this record were changed"),
                    );
                    return Ok(flush(rep, pending, on_record));
                }
                Read::Frame(f) => f,
            };
            let at_start = first;
            if first {
                first = false;
                if f.kind != KIND_START {
                    fail(
                        &mut rep,
                        expected,
                        off,
                        "segment does not begin with a start record".into(),
                    );
                    return Ok(flush(rep, pending, on_record));
                }
                let Ok(start) = serde_json::from_slice::<StartBody>(f.body) else {
                    fail(&mut rep, expected, off, "unreadable start record".into());
                    return Ok(flush(rep, pending, on_record));
                };
                if let Err(why) = hand_over(&start, si, expected, &prev, &prev_hashes, last_sealed) {
                    fail(&mut rep, expected, off, why);
                    return Ok(flush(rep, pending, on_record));
                }
                if let (Some(rs), Some(rh)) = (start.resume_seq, &start.resume_hash) {
                    if rs + 1 < expected {
                        rep.unacknowledged += expected - rs - 1;
                        pending.retain(|(s, _)| *s <= rs);
                        expected = rs + 1;
                        prev = prev_hashes.get(&rs).copied().unwrap_or(prev);
                        if hex(&prev) != *rh {
                            fail(&mut rep, expected, off, "resume hash does not match".into());
                            return Ok(flush(rep, pending, on_record));
                        }
                    }
                }
                rep.recovered_bytes += start.truncated_bytes;
            }
            if f.seq != expected {
                let why = if f.seq < expected {
                    format!(
                        "found record {} where {expected} belongs: records reordered or duplicated",
                        f.seq
                    )
                } else if later_has(&data, f.end, expected) {
                    format!("found record {} where {expected} belongs: records reordered", f.seq)
                } else {
                    format!("record {expected} is missing (deleted); the next record is {}", f.seq)
                };
                fail(&mut rep, expected, off, why);
                return Ok(flush(rep, pending, on_record));
            }
            if f.prev != prev {
                let why = if expected == 0 {
                    "the first record does not start the chain".to_string()
                } else {
                    format!("hash chain broken: record {} was altered or replaced", expected - 1)
                };
                fail(&mut rep, expected, off, why);
                return Ok(flush(rep, pending, on_record));
            }
            match f.kind {
                KIND_RECORD => {
                    merkle.push(&f.hash);
                    pending.push((f.seq, keep.then(|| f.body.to_vec())));
                }
                KIND_CHECKPOINT => {
                    let ok = serde_json::from_slice::<CheckpointBody>(f.body)
                        .ok()
                        .filter(|c| c.tree_size == merkle.size() && c.root == hex(&merkle.root()));
                    match ok {
                        Some(c) => {
                            rep.checkpoints += 1;
                            last_sealed = c.seal;
                        }
                        None => {
                            fail(
                                &mut rep,
                                expected,
                                off,
                                "checkpoint Merkle root does not match the records before it".into(),
                            );
                            return Ok(flush(rep, pending, on_record));
                        }
                    }
                }
                KIND_START if at_start => {}
                KIND_START => {
                    fail(&mut rep, expected, off, "a start record inside a segment".into());
                    return Ok(flush(rep, pending, on_record));
                }
                k => {
                    fail(&mut rep, expected, off, format!("unknown record kind {k}"));
                    return Ok(flush(rep, pending, on_record));
                }
            }
            if f.kind != KIND_CHECKPOINT {
                last_sealed = false;
            }
            hashes.insert(f.seq, f.hash);
            prev = f.hash;
            expected += 1;
            off = f.end;
        }
        if first {
            fail(&mut rep, expected, 0, "empty segment".into());
            return Ok(flush(rep, pending, on_record));
        }
        // Keep the last two segments' hashes for fsync-error hand-overs.
        let mut merged = hashes;
        let min = merged.keys().min().copied().unwrap_or(0);
        merged.extend(prev_hashes.into_iter().filter(|(k, _)| *k < min));
        let keep_from = prev_floor;
        merged.retain(|k, _| *k >= keep_from);
        prev_floor = min;
        prev_hashes = merged;
    }
    Ok(flush(rep, pending, on_record))
}

/// Checks that a segment continues the chain where the last one stopped.
fn hand_over(
    s: &StartBody,
    index: usize,
    expected: u64,
    prev: &[u8; 32],
    prev_hashes: &HashMap<u64, [u8; 32]>,
    last_sealed: bool,
) -> Result<(), String> {
    let resume = match (s.resume_seq, &s.resume_hash) {
        (None, _) if index == 0 => return Ok(()),
        (None, _) => return Err("a later segment does not say where the chain resumes".into()),
        (Some(_), None) => return Err("start record without the resume hash".into()),
        (Some(seq), Some(h)) => (seq, h),
    };
    if index == 0 {
        return Err(format!(
            "the first segment resumes after record {}: earlier segments were deleted",
            resume.0
        ));
    }
    if resume.0 + 1 > expected {
        return Err(format!(
            "records {expected}..={} are missing at the end of the previous segment (deleted or truncated)",
            resume.0
        ));
    }
    if resume.0 + 1 == expected {
        if hex(prev) != *resume.1 {
            return Err("the segment does not continue the hash chain of the previous one".into());
        }
        if matches!(s.reason.as_str(), "rotate" | "reopen") && !last_sealed {
            return Err("the previous segment ends without its sealing checkpoint (truncated)".into());
        }
        return Ok(());
    }
    if s.reason != "fsync_error" {
        return Err(format!(
            "the segment resumes after record {} but records up to {} exist (reason `{}`)",
            resume.0,
            expected - 1,
            s.reason
        ));
    }
    match prev_hashes.get(&resume.0) {
        Some(h) if hex(h) == *resume.1 => Ok(()),
        _ => Err(format!(
            "the segment resumes after record {} whose hash does not match",
            resume.0
        )),
    }
}

fn next_is_fsync_error(segs: &[(u64, PathBuf)], si: usize) -> bool {
    let Some((_, next)) = segs.get(si + 1) else {
        return false;
    };
    let Ok(data) = std::fs::read(next) else {
        return false;
    };
    match read_at(&data, 0) {
        Read::Frame(f) if f.kind == KIND_START => {
            serde_json::from_slice::<StartBody>(f.body).is_ok_and(|s| s.reason == "fsync_error")
        }
        _ => false,
    }
}

fn later_has(data: &[u8], mut off: usize, seq: u64) -> bool {
    while let Read::Frame(f) = read_at(data, off) {
        if f.seq == seq {
            return true;
        }
        off = f.end;
    }
    false
}

fn flush(
    mut rep: VerifyReport,
    pending: Vec<(u64, Option<Vec<u8>>)>,
    on_record: &mut dyn FnMut(u64, &[u8]),
) -> VerifyReport {
    rep.records = pending.len() as u64;
    for (s, b) in &pending {
        if let Some(b) = b {
            on_record(*s, b);
        }
    }
    rep
}
