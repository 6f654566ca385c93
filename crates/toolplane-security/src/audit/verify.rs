//! Checking a folder of audit segments.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};

use super::AuditError;
use super::AuditRecord;
use super::file::list_segments;
use super::format::{CheckpointBody, KIND_CHECKPOINT, KIND_RECORD, KIND_START, Merkle, StartBody};
use super::segment::{Next, SegmentReader};
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
    /// Checkpoints found in the log exactly as they were published outside
    /// it ([`verify_with_checkpoints`](super::verify_with_checkpoints)).
    pub anchored: u64,
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
                if self.anchored > 0 {
                    write!(f, "; {} published checkpoints match", self.anchored)?;
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
    walk(dir, false, &mut |_, _| {}, None).map(|(r, _)| r)
}

/// Checkpoint frames wanted by seq: filled with (chain hash, body) when found.
pub(crate) type Anchors = BTreeMap<u64, Option<([u8; 32], Vec<u8>)>>;

/// [`verify_dir`] that also captures the checkpoint frames in `anchors`;
/// returns the report and the seq after the last verified frame.
pub(crate) fn walk_anchored(dir: &Path, anchors: &mut Anchors) -> Result<(VerifyReport, u64), AuditError> {
    walk(dir, false, &mut |_, _| {}, Some(anchors))
}

/// Reads the audit records of a folder with their sequence numbers, stopping
/// at the first problem (reported in the second value).
pub fn read_dir(dir: &Path) -> Result<(Vec<(u64, AuditRecord)>, VerifyReport), AuditError> {
    let mut out = Vec::new();
    let (report, _) = walk(
        dir,
        true,
        &mut |seq, body| {
            if let Ok(r) = serde_json::from_slice::<AuditRecord>(body) {
                out.push((seq, r));
            }
        },
        None,
    )?;
    Ok((out, report))
}

/// Record counts and bodies, with what an fsync-error hand-over rolls back.
struct Kept<'a> {
    records: u64,
    /// For each seq an fsync-error segment resumes after: records counted
    /// with a higher seq (what a resume there takes back).
    since: HashMap<u64, u64>,
    bodies: Option<Vec<(u64, Vec<u8>)>>,
    on_record: &'a mut dyn FnMut(u64, &[u8]),
}

impl Kept<'_> {
    fn push(&mut self, seq: u64, body: &[u8]) {
        self.records += 1;
        for (r, n) in &mut self.since {
            if seq > *r {
                *n += 1;
            }
        }
        if let Some(b) = &mut self.bodies {
            b.push((seq, body.to_vec()));
        }
    }

    /// Drops every record after `rs`.
    fn roll_back_to(&mut self, rs: u64) {
        let dropped = self.since.get(&rs).copied().unwrap_or(0);
        self.records -= dropped.min(self.records);
        for (r, n) in &mut self.since {
            *n = if *r < rs { n.saturating_sub(dropped) } else { 0 };
        }
        if let Some(b) = &mut self.bodies {
            b.retain(|(s, _)| *s <= rs);
        }
    }

    fn finish(self, mut rep: VerifyReport) -> VerifyReport {
        rep.records = self.records;
        if let Some(b) = self.bodies {
            for (s, body) in &b {
                (self.on_record)(*s, body);
            }
        }
        rep
    }
}

/// The start record of a segment, read without reading the rest.
fn peek_start(path: &Path) -> Result<Option<StartBody>, AuditError> {
    let mut r = SegmentReader::open(path)?;
    Ok(match r.next_frame()? {
        Next::Frame(f) if f.kind == KIND_START => serde_json::from_slice::<StartBody>(f.body).ok(),
        _ => None,
    })
}

fn walk(
    dir: &Path,
    keep: bool,
    on_record: &mut dyn FnMut(u64, &[u8]),
    mut anchors: Option<&mut Anchors>,
) -> Result<(VerifyReport, u64), AuditError> {
    let segs = list_segments(dir)?;
    if segs.is_empty() {
        return Err(AuditError::Corrupt {
            path: dir.display().to_string(),
            message: "no audit segments (seg-*.tpa) in this folder".into(),
        });
    }
    // Every segment's start record first (one frame each): which segments
    // hand over after an fsync error, and to which record. Only those
    // records' hashes are kept, so memory does not grow with the log.
    let mut starts = Vec::with_capacity(segs.len());
    for (_, path) in &segs {
        starts.push(peek_start(path)?);
    }
    let is_fsync_error = |i: usize| {
        starts
            .get(i)
            .and_then(Option::as_ref)
            .is_some_and(|s| s.reason == "fsync_error")
    };
    let resume_points: Vec<u64> = starts
        .iter()
        .flatten()
        .filter(|s| s.reason == "fsync_error")
        .filter_map(|s| s.resume_seq)
        .collect();
    let mut kept = Kept {
        records: 0,
        since: resume_points.iter().map(|r| (*r, 0)).collect(),
        bodies: keep.then(Vec::new),
        on_record,
    };
    let mut rep = VerifyReport::default();
    let mut expected: u64 = 0;
    let mut prev = [0u8; 32];
    let mut hashes: HashMap<u64, [u8; 32]> = HashMap::new();
    let mut last_sealed = false;
    for (si, (_, path)) in segs.iter().enumerate() {
        let mut reader = SegmentReader::open(path)?;
        rep.segments += 1;
        let mut merkle = Merkle::default();
        let mut first = true;
        let fail = |rep: &mut VerifyReport, seq: u64, off: u64, reason: String| {
            rep.failure = Some(VerifyFailure {
                seq,
                segment: path.clone(),
                offset: usize::try_from(off).unwrap_or(usize::MAX),
                reason,
            });
        };
        loop {
            let off = reader.offset();
            let file_len = reader.len();
            let read = reader.next_frame()?;
            // A torn or bad last frame of a segment abandoned after an fsync
            // error was never acknowledged: the next segment says so.
            let tail = match &read {
                Next::Torn { .. } => true,
                Next::Corrupt { end, .. } => *end >= file_len,
                _ => false,
            };
            if tail && is_fsync_error(si + 1) {
                break;
            }
            let f = match read {
                Next::End => break,
                Next::Torn { needed, have } => {
                    fail(
                        &mut rep,
                        expected,
                        off,
                        format!("record truncated: the frame needs {needed} bytes but only {have} remain"),
                    );
                    return Ok((kept.finish(rep), expected));
                }
                Next::Corrupt { why, .. } => {
                    fail(
                        &mut rep,
                        expected,
                        off,
                        format!("{why}: bytes of this record were changed"),
                    );
                    return Ok((kept.finish(rep), expected));
                }
                Next::Frame(f) => f,
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
                    return Ok((kept.finish(rep), expected));
                }
                let Ok(start) = serde_json::from_slice::<StartBody>(f.body) else {
                    fail(&mut rep, expected, off, "unreadable start record".into());
                    return Ok((kept.finish(rep), expected));
                };
                if let Err(why) = hand_over(&start, si, expected, &prev, &hashes, last_sealed) {
                    fail(&mut rep, expected, off, why);
                    return Ok((kept.finish(rep), expected));
                }
                if let (Some(rs), Some(rh)) = (start.resume_seq, &start.resume_hash) {
                    if rs + 1 < expected {
                        rep.unacknowledged += expected - rs - 1;
                        kept.roll_back_to(rs);
                        expected = rs + 1;
                        prev = hashes.get(&rs).copied().unwrap_or(prev);
                        if hex(&prev) != *rh {
                            fail(&mut rep, expected, off, "resume hash does not match".into());
                            return Ok((kept.finish(rep), expected));
                        }
                    }
                }
                rep.recovered_bytes += start.truncated_bytes;
            }
            if f.seq != expected {
                let (fseq, fend) = (f.seq, f.end);
                let why = if fseq < expected {
                    format!("found record {fseq} where {expected} belongs: records reordered or duplicated")
                } else if later_has(path, fend, expected)? {
                    format!("found record {fseq} where {expected} belongs: records reordered")
                } else {
                    format!("record {expected} is missing (deleted); the next record is {fseq}")
                };
                fail(&mut rep, expected, off, why);
                return Ok((kept.finish(rep), expected));
            }
            if f.prev != prev {
                let why = if expected == 0 {
                    "the first record does not start the chain".to_string()
                } else {
                    format!("hash chain broken: record {} was altered or replaced", expected - 1)
                };
                fail(&mut rep, expected, off, why);
                return Ok((kept.finish(rep), expected));
            }
            match f.kind {
                KIND_RECORD => {
                    merkle.push(&f.hash);
                    kept.push(f.seq, f.body);
                }
                KIND_CHECKPOINT => {
                    let ok = serde_json::from_slice::<CheckpointBody>(f.body)
                        .ok()
                        .filter(|c| c.tree_size == merkle.size() && c.root == hex(&merkle.root()));
                    match ok {
                        Some(c) => {
                            rep.checkpoints += 1;
                            last_sealed = c.seal;
                            if let Some(slot) = anchors.as_deref_mut().and_then(|a| a.get_mut(&f.seq)) {
                                *slot = Some((f.hash, f.body.to_vec()));
                            }
                        }
                        None => {
                            fail(
                                &mut rep,
                                expected,
                                off,
                                "checkpoint Merkle root does not match the records before it".into(),
                            );
                            return Ok((kept.finish(rep), expected));
                        }
                    }
                }
                KIND_START if at_start => {}
                KIND_START => {
                    fail(&mut rep, expected, off, "a start record inside a segment".into());
                    return Ok((kept.finish(rep), expected));
                }
                k => {
                    fail(&mut rep, expected, off, format!("unknown record kind {k}"));
                    return Ok((kept.finish(rep), expected));
                }
            }
            if f.kind != KIND_CHECKPOINT {
                last_sealed = false;
            }
            if resume_points.contains(&f.seq) {
                hashes.insert(f.seq, f.hash);
            }
            prev = f.hash;
            expected += 1;
        }
        if first {
            fail(&mut rep, expected, 0, "empty segment".into());
            return Ok((kept.finish(rep), expected));
        }
    }
    Ok((kept.finish(rep), expected))
}

/// Checks that a segment continues the chain where the last one stopped.
fn hand_over(
    s: &StartBody,
    index: usize,
    expected: u64,
    prev: &[u8; 32],
    resume_hashes: &HashMap<u64, [u8; 32]>,
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
    match resume_hashes.get(&resume.0) {
        Some(h) if hex(h) == *resume.1 => Ok(()),
        _ => Err(format!(
            "the segment resumes after record {} whose hash does not match",
            resume.0
        )),
    }
}

/// True when a frame with `seq` follows `offset` in the segment.
fn later_has(path: &Path, offset: u64, seq: u64) -> Result<bool, AuditError> {
    let mut r = SegmentReader::open_at(path, offset)?;
    while let Next::Frame(f) = r.next_frame()? {
        if f.seq == seq {
            return Ok(true);
        }
    }
    Ok(false)
}
