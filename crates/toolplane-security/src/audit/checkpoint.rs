//! Checkpoints published outside the log, so a cut tail is detectable.
//!
//! A log alone cannot show that records were cut cleanly from the end of its
//! newest segment: what remains is a valid, shorter log. The [`FileSink`]
//! therefore hands every durable checkpoint (its sequence number, the
//! segment's Merkle root and the hash chain head at that point) to a
//! [`CheckpointPublisher`] that the host chooses: another folder
//! ([`DirCheckpoints`]), Redis (`RedisCheckpoints`, `redis` feature), its own
//! code ([`FnCheckpoints`]) or memory ([`MemoryCheckpoints`]). Later,
//! [`verify_with_checkpoints`] checks the log against what was published:
//! every published checkpoint must be in the log, byte for byte.
//!
//! What stays undetectable: records after the newest published checkpoint
//! (at most `checkpoint_every` records, or none once the sink was closed,
//! since closing publishes a sealing checkpoint).
//!
//! [`FileSink`]: super::FileSink

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use parking_lot::Mutex;
use serde::{Deserialize, Serialize};

use super::verify::{Anchors, VerifyFailure, walk_anchored};
use super::{AuditError, VerifyReport};

/// One checkpoint as published outside the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishedCheckpoint {
    /// The segment's index (`seg-NNNNNNNN.tpa`).
    pub segment: u64,
    /// The checkpoint record's sequence number.
    pub seq: u64,
    /// Audit records in the segment that the root covers.
    pub tree_size: u64,
    /// RFC 9162 Merkle root over those records, hex.
    pub root: String,
    /// SHA-256 of the checkpoint record's payload (the hash chain head), hex.
    pub head: String,
    /// True for the checkpoint that seals a segment (rotation or close).
    pub seal: bool,
}

/// Where a sink publishes its checkpoints. Called on the writer thread after
/// the checkpoint is durable in the log, so keep it quick; an error is
/// counted ([`FileSink::checkpoint_publish_errors`](super::FileSink::checkpoint_publish_errors))
/// and does not fail the records.
pub trait CheckpointPublisher: Send + Sync + fmt::Debug {
    /// Stores `checkpoint` durably (or hands it on).
    fn publish(&self, checkpoint: &PublishedCheckpoint) -> Result<(), AuditError>;
}

/// Where a verifier reads published checkpoints from.
pub trait CheckpointSource: fmt::Debug {
    /// The published checkpoints, oldest first (a source may keep only the newest).
    fn checkpoints(&self) -> Result<Vec<PublishedCheckpoint>, AuditError>;
}

/// Checkpoints kept in memory (tests, or a host that forwards them itself).
#[derive(Debug, Default, Clone)]
pub struct MemoryCheckpoints {
    inner: Arc<Mutex<Vec<PublishedCheckpoint>>>,
}

impl MemoryCheckpoints {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// The checkpoints published so far.
    pub fn all(&self) -> Vec<PublishedCheckpoint> {
        self.inner.lock().clone()
    }
}

impl CheckpointPublisher for MemoryCheckpoints {
    fn publish(&self, checkpoint: &PublishedCheckpoint) -> Result<(), AuditError> {
        self.inner.lock().push(checkpoint.clone());
        Ok(())
    }
}

impl CheckpointSource for MemoryCheckpoints {
    fn checkpoints(&self) -> Result<Vec<PublishedCheckpoint>, AuditError> {
        Ok(self.all())
    }
}

/// Calls a function with each checkpoint (send it to a transparency log,
/// a ticket, another machine).
pub struct FnCheckpoints<F>(pub F);

impl<F> fmt::Debug for FnCheckpoints<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("FnCheckpoints")
    }
}

impl<F> CheckpointPublisher for FnCheckpoints<F>
where
    F: Fn(&PublishedCheckpoint) -> Result<(), AuditError> + Send + Sync,
{
    fn publish(&self, checkpoint: &PublishedCheckpoint) -> Result<(), AuditError> {
        (self.0)(checkpoint)
    }
}

/// Checkpoints as JSON lines in `checkpoints.jsonl` in another folder
/// (ideally another disk or machine), each line fsynced before it counts.
#[derive(Debug)]
pub struct DirCheckpoints {
    path: PathBuf,
    file: Mutex<Option<File>>,
}

/// The longest line [`DirCheckpoints`] reads; a published checkpoint is ~250 bytes.
const MAX_LINE: usize = 4096;

impl DirCheckpoints {
    /// The file name inside the folder.
    pub const FILE: &'static str = "checkpoints.jsonl";

    /// Publishes to (or reads from) `dir/checkpoints.jsonl`; the folder is
    /// created when publishing starts.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self {
            path: dir.into().join(Self::FILE),
            file: Mutex::new(None),
        }
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn io(&self, op: &'static str, e: &std::io::Error) -> AuditError {
        AuditError::Io {
            path: self.path.display().to_string(),
            op,
            message: e.to_string(),
        }
    }
}

impl CheckpointPublisher for DirCheckpoints {
    fn publish(&self, checkpoint: &PublishedCheckpoint) -> Result<(), AuditError> {
        let mut guard = self.file.lock();
        if guard.is_none() {
            if let Some(dir) = self.path.parent() {
                std::fs::create_dir_all(dir).map_err(|e| self.io("create folder", &e))?;
            }
            let f = OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.path)
                .map_err(|e| self.io("open", &e))?;
            *guard = Some(f);
        }
        let Some(f) = guard.as_mut() else {
            return Err(AuditError::Closed);
        };
        let mut line = serde_json::to_vec(checkpoint).map_err(|e| AuditError::Encode(e.to_string()))?;
        line.push(b'\n');
        f.write_all(&line).map_err(|e| self.io("write", &e))?;
        f.sync_data().map_err(|e| self.io("fsync", &e))
    }
}

impl CheckpointSource for DirCheckpoints {
    fn checkpoints(&self) -> Result<Vec<PublishedCheckpoint>, AuditError> {
        let meta = std::fs::symlink_metadata(&self.path).map_err(|e| self.io("stat", &e))?;
        if !meta.file_type().is_file() {
            return Err(AuditError::Corrupt {
                path: self.path.display().to_string(),
                message: "not a regular file".into(),
            });
        }
        let f = File::open(&self.path).map_err(|e| self.io("open", &e))?;
        let mut reader = BufReader::new(f);
        let mut out = Vec::new();
        let mut line = Vec::new();
        for n in 1.. {
            line.clear();
            let read = (&mut reader)
                .take(MAX_LINE as u64 + 1)
                .read_until(b'\n', &mut line)
                .map_err(|e| self.io("read", &e))?;
            if read == 0 {
                break;
            }
            if line.len() > MAX_LINE {
                return Err(AuditError::Corrupt {
                    path: self.path.display().to_string(),
                    message: format!("line {n} is longer than {MAX_LINE} bytes"),
                });
            }
            if line.last() != Some(&b'\n') {
                // A line torn by a crash while publishing was never complete.
                break;
            }
            let cp = serde_json::from_slice(&line).map_err(|e| AuditError::Corrupt {
                path: self.path.display().to_string(),
                message: format!("line {n}: {e}"),
            })?;
            out.push(cp);
        }
        Ok(out)
    }
}

/// Verifies `dir` like [`verify_dir`](super::verify_dir), then checks that
/// every checkpoint `source` holds is in the log with the same chain head,
/// root and size. A checkpoint published beyond the log's end means records
/// were cut from the tail; one that differs means the log was rewritten.
pub fn verify_with_checkpoints(dir: &Path, source: &dyn CheckpointSource) -> Result<VerifyReport, AuditError> {
    let published = source.checkpoints()?;
    let mut wanted: Anchors = published.iter().map(|c| (c.seq, None)).collect();
    let (mut report, end) = walk_anchored(dir, &mut wanted)?;
    let last_path = super::file::list_segments(dir)?
        .pop()
        .map(|(_, p)| p)
        .unwrap_or_default();
    if report.failure.is_some() {
        return Ok(report);
    }
    for cp in &published {
        let found = wanted.get(&cp.seq).cloned().flatten();
        let why = match found {
            None if cp.seq >= end => Some(format!(
                "a checkpoint at seq {} (segment {}) was published but the log ends before it, at seq {}: records were cut from the tail",
                cp.seq,
                cp.segment,
                end.saturating_sub(1)
            )),
            None => Some(format!(
                "the published checkpoint at seq {} is not a checkpoint in the log",
                cp.seq
            )),
            Some((hash, body)) => {
                let body: Option<super::format::CheckpointBody> = serde_json::from_slice(&body).ok();
                if crate::approval::hex(&hash) != cp.head {
                    Some(format!(
                        "the log's record at seq {} differs from the published checkpoint (chain head {} vs {}): the log was rewritten",
                        cp.seq,
                        crate::approval::hex(&hash),
                        cp.head
                    ))
                } else if body.is_none_or(|b| b.root != cp.root || b.tree_size != cp.tree_size) {
                    Some(format!(
                        "the checkpoint at seq {} has another Merkle root or size than published",
                        cp.seq
                    ))
                } else {
                    None
                }
            }
        };
        if let Some(reason) = why {
            report.failure = Some(VerifyFailure {
                seq: cp.seq,
                segment: last_path,
                offset: 0,
                reason,
            });
            return Ok(report);
        }
        report.anchored += 1;
    }
    Ok(report)
}

/// The newest checkpoint in a Redis hash (`seq`, `json`), kept monotonic by
/// a script (an older checkpoint never replaces a newer one), so several
/// verifiers and another machine see it. Connects per call with a 2 s
/// timeout; the writer thread is the only caller when publishing.
#[cfg(feature = "redis")]
#[derive(Debug)]
pub struct RedisCheckpoints {
    client: redis::Client,
    key: String,
}

#[cfg(feature = "redis")]
impl RedisCheckpoints {
    /// Checkpoints under `key` on the Redis server at `url`.
    pub fn new(url: &str, key: impl Into<String>) -> Result<Self, AuditError> {
        let client = redis::Client::open(url).map_err(|e| AuditError::Io {
            path: url.to_owned(),
            op: "open redis",
            message: e.to_string(),
        })?;
        Ok(Self {
            client,
            key: key.into(),
        })
    }

    fn conn(&self) -> Result<redis::Connection, AuditError> {
        self.client
            .get_connection_with_timeout(std::time::Duration::from_secs(2))
            .map_err(|e| self.err("connect", &e))
    }

    fn err(&self, op: &'static str, e: &redis::RedisError) -> AuditError {
        AuditError::Io {
            path: format!("redis key {}", self.key),
            op,
            message: e.to_string(),
        }
    }
}

#[cfg(feature = "redis")]
impl CheckpointPublisher for RedisCheckpoints {
    fn publish(&self, checkpoint: &PublishedCheckpoint) -> Result<(), AuditError> {
        let json = serde_json::to_string(checkpoint).map_err(|e| AuditError::Encode(e.to_string()))?;
        let script = redis::Script::new(
            r"local cur = redis.call('HGET', KEYS[1], 'seq')
              if (not cur) or tonumber(cur) < tonumber(ARGV[1]) then
                redis.call('HSET', KEYS[1], 'seq', ARGV[1], 'json', ARGV[2])
              end
              return 1",
        );
        let mut conn = self.conn()?;
        script
            .key(&self.key)
            .arg(checkpoint.seq)
            .arg(json)
            .invoke::<i64>(&mut conn)
            .map(|_| ())
            .map_err(|e| self.err("publish", &e))
    }
}

#[cfg(feature = "redis")]
impl CheckpointSource for RedisCheckpoints {
    fn checkpoints(&self) -> Result<Vec<PublishedCheckpoint>, AuditError> {
        let mut conn = self.conn()?;
        let json: Option<String> = redis::cmd("HGET")
            .arg(&self.key)
            .arg("json")
            .query(&mut conn)
            .map_err(|e| self.err("read", &e))?;
        match json {
            None => Ok(Vec::new()),
            Some(j) => serde_json::from_str(&j)
                .map(|c| vec![c])
                .map_err(|e| AuditError::Corrupt {
                    path: format!("redis key {}", self.key),
                    message: e.to_string(),
                }),
        }
    }
}
