//! The file sink: segments, group commit with fsync, recovery.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use parking_lot::Mutex;
use tokio::sync::oneshot;

use super::checkpoint::{CheckpointPublisher, PublishedCheckpoint};
use super::format::{CheckpointBody, KIND_CHECKPOINT, KIND_RECORD, KIND_START, Merkle, StartBody, encode};
use super::segment::{Next, SegmentReader};
use super::{AuditError, AuditRecord, AuditSink};
use crate::approval::hex;
use crate::redact::Redacted;

/// A hook that makes the fsync of a segment fail, for testing the
/// fail-closed path. Returns `Some(error)` to fail.
pub type SyncFault = Arc<dyn Fn(&Path) -> Option<io::Error> + Send + Sync>;

/// Settings of a [`FileSink`].
#[derive(Clone)]
pub struct FileSinkOptions {
    /// How long the writer waits after the first record of a batch for more
    /// records before it writes and fsyncs (zero: write what is queued now).
    pub commit_window: Duration,
    /// The most records in one commit.
    pub max_batch: usize,
    /// A segment is sealed and a new one started past this size.
    pub segment_bytes: u64,
    /// A checkpoint (Merkle root over the segment so far) every this many records.
    pub checkpoint_every: u64,
    /// Fsync each commit (turn off only for benchmarks' baselines).
    pub fsync: bool,
    /// Test hook: a failing fsync.
    pub sync_fault: Option<SyncFault>,
    /// Where each checkpoint is published once it is durable (another
    /// folder, Redis, a callback), so [`verify_with_checkpoints`](super::verify_with_checkpoints)
    /// can tell a log whose tail was cut. `None`: not published.
    pub checkpoints: Option<Arc<dyn CheckpointPublisher>>,
}

impl Default for FileSinkOptions {
    fn default() -> Self {
        Self {
            commit_window: Duration::ZERO,
            max_batch: 4096,
            segment_bytes: 64 << 20,
            checkpoint_every: 1024,
            fsync: true,
            sync_fault: None,
            checkpoints: None,
        }
    }
}

impl std::fmt::Debug for FileSinkOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileSinkOptions")
            .field("commit_window", &self.commit_window)
            .field("max_batch", &self.max_batch)
            .field("segment_bytes", &self.segment_bytes)
            .field("checkpoint_every", &self.checkpoint_every)
            .field("fsync", &self.fsync)
            .field("sync_fault", &self.sync_fault.is_some())
            .field("checkpoints", &self.checkpoints)
            .finish()
    }
}

enum Ack {
    Async(oneshot::Sender<Result<u64, AuditError>>),
    Blocking(mpsc::SyncSender<Result<u64, AuditError>>),
}

impl Ack {
    fn send(self, r: Result<u64, AuditError>) {
        match self {
            Self::Async(s) => {
                let _ = s.send(r);
            }
            Self::Blocking(s) => {
                let _ = s.send(r);
            }
        }
    }
}

enum Msg {
    Append(Vec<u8>, Ack),
    Close(mpsc::SyncSender<()>),
}

/// Append-only audit segments in a folder, written by one thread with group
/// commit: records queued while an fsync runs are written and fsynced together,
/// and each is acknowledged only after the fsync that covers it.
///
/// On an fsync error the records of that commit are answered with an error
/// (never retried and reported as stored), the segment is abandoned and a new
/// one begins. On open, a torn tail left by a crash is cut off and a new
/// segment begins that records the cut.
///
/// ```
/// use toolplane_security::audit::{AuditRecord, FileSink, FileSinkOptions, verify_dir};
/// use toolplane_security::redact::Redact;
/// let dir = tempfile::tempdir().unwrap();
/// let sink = FileSink::open(dir.path(), FileSinkOptions::default()).unwrap();
/// let seq = sink.append_blocking(AuditRecord::event("tool_call", "r1", "alice").redacted()).unwrap();
/// sink.close();
/// assert!(seq > 0);
/// assert_eq!(verify_dir(dir.path()).unwrap().to_string(), "OK: 1 records (1 segments, 1 checkpoints)");
/// ```
pub struct FileSink {
    tx: mpsc::Sender<Msg>,
    thread: Mutex<Option<JoinHandle<()>>>,
    dir: PathBuf,
    publish_errors: Arc<AtomicU64>,
}

impl std::fmt::Debug for FileSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileSink").field("dir", &self.dir).finish()
    }
}

pub(crate) fn segment_name(index: u64) -> String {
    format!("seg-{index:08}.tpa")
}

/// Segment files of a folder, by index.
pub(crate) fn list_segments(dir: &Path) -> Result<Vec<(u64, PathBuf)>, AuditError> {
    let rd = fs::read_dir(dir).map_err(|e| io_err(dir, "read folder", &e))?;
    let mut out = Vec::new();
    for entry in rd.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some(n) = name.strip_prefix("seg-").and_then(|s| s.strip_suffix(".tpa")) {
            if let Ok(i) = n.parse::<u64>() {
                out.push((i, entry.path()));
            }
        }
    }
    out.sort();
    Ok(out)
}

fn io_err(path: &Path, op: &'static str, e: &io::Error) -> AuditError {
    AuditError::Io {
        path: path.display().to_string(),
        op,
        message: e.to_string(),
    }
}

struct Writer {
    dir: PathBuf,
    opts: FileSinkOptions,
    next_index: u64,
    file: Option<(File, PathBuf)>,
    seg_bytes: u64,
    next_seq: u64,
    prev: [u8; 32],
    acked: Option<(u64, [u8; 32])>,
    merkle: Merkle,
    since_checkpoint: u64,
    buf: Vec<u8>,
    /// Checkpoints in `buf`, published once the commit holding them is durable.
    to_publish: Vec<PublishedCheckpoint>,
    publish_errors: Arc<AtomicU64>,
}

impl FileSink {
    /// Opens (or creates) the folder, recovers a torn tail and starts a new segment.
    pub fn open(dir: &Path, opts: FileSinkOptions) -> Result<Self, AuditError> {
        fs::create_dir_all(dir).map_err(|e| io_err(dir, "create folder", &e))?;
        let mut w = Writer {
            dir: dir.to_path_buf(),
            opts,
            next_index: 0,
            file: None,
            seg_bytes: 0,
            next_seq: 0,
            prev: [0; 32],
            acked: None,
            merkle: Merkle::default(),
            since_checkpoint: 0,
            buf: Vec::with_capacity(1 << 20),
            to_publish: Vec::new(),
            publish_errors: Arc::default(),
        };
        let publish_errors = w.publish_errors.clone();
        let (reason, truncated) = w.recover()?;
        w.start_segment(reason, truncated)?;
        let (tx, rx) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("toolplane-audit".into())
            .spawn(move || w.run(rx))
            .map_err(|e| io_err(dir, "spawn writer thread", &e))?;
        Ok(Self {
            tx,
            thread: Mutex::new(Some(thread)),
            dir: dir.to_path_buf(),
            publish_errors,
        })
    }

    /// Checkpoints the publisher refused (each is counted, and the records
    /// stay stored); nonzero means the outside copy has gaps.
    pub fn checkpoint_publish_errors(&self) -> u64 {
        self.publish_errors.load(Ordering::Relaxed)
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Appends and waits for the fsync, blocking the thread. Do not call from
    /// an async task; use [`AuditSink::append`] there.
    pub fn append_blocking(&self, record: Redacted<AuditRecord>) -> Result<u64, AuditError> {
        let body = serde_json::to_vec(record.get()).map_err(|e| AuditError::Encode(e.to_string()))?;
        let (tx, rx) = mpsc::sync_channel(1);
        self.tx
            .send(Msg::Append(body, Ack::Blocking(tx)))
            .map_err(|_| AuditError::Closed)?;
        rx.recv().map_err(|_| AuditError::Closed)?
    }

    /// Writes a sealing checkpoint, fsyncs and stops the writer. Later appends fail.
    pub fn close(&self) {
        let (tx, rx) = mpsc::sync_channel(1);
        if self.tx.send(Msg::Close(tx)).is_ok() {
            let _ = rx.recv();
        }
        if let Some(t) = self.thread.lock().take() {
            let _ = t.join();
        }
    }
}

impl Drop for FileSink {
    fn drop(&mut self) {
        self.close();
    }
}

#[async_trait]
impl AuditSink for FileSink {
    async fn append(&self, record: Redacted<AuditRecord>) -> Result<u64, AuditError> {
        let body = serde_json::to_vec(record.get()).map_err(|e| AuditError::Encode(e.to_string()))?;
        let (tx, rx) = oneshot::channel();
        self.tx
            .send(Msg::Append(body, Ack::Async(tx)))
            .map_err(|_| AuditError::Closed)?;
        rx.await.map_err(|_| AuditError::Closed)?
    }
}

impl Writer {
    /// Finds where the chain ends; cuts a torn tail. Returns the reason for
    /// the next segment and the bytes cut.
    fn recover(&mut self) -> Result<(&'static str, u64), AuditError> {
        let segs = list_segments(&self.dir)?;
        let Some((index, path)) = segs.last().cloned() else {
            return Ok(("new", 0));
        };
        self.next_index = index + 1;
        let mut reader = SegmentReader::open(&path)?;
        let mut last = None;
        let mut sealed = false;
        let (off, cut) = loop {
            let off = reader.offset();
            let len = reader.len();
            match reader.next_frame()? {
                Next::End => break (off, 0),
                Next::Frame(f) => {
                    last = Some((f.seq, f.hash));
                    sealed = f.kind == KIND_CHECKPOINT
                        && serde_json::from_slice::<CheckpointBody>(f.body).is_ok_and(|c| c.seal);
                }
                Next::Torn { .. } => break (off, len - off),
                Next::Corrupt { why, end } => {
                    if end >= len {
                        break (off, len - off);
                    }
                    return Err(AuditError::Corrupt {
                        path: path.display().to_string(),
                        message: format!("{why} at byte {off}, followed by more records"),
                    });
                }
            }
        };
        drop(reader);
        if cut > 0 {
            let f = OpenOptions::new()
                .write(true)
                .open(&path)
                .map_err(|e| io_err(&path, "open", &e))?;
            f.set_len(off).map_err(|e| io_err(&path, "truncate", &e))?;
            f.sync_all().map_err(|e| io_err(&path, "fsync", &e))?;
        }
        match last {
            Some((seq, hash)) => {
                self.next_seq = seq + 1;
                self.prev = hash;
                self.acked = Some((seq, hash));
                let reason = if sealed && cut == 0 { "reopen" } else { "recovered" };
                Ok((reason, cut))
            }
            None => {
                // An empty or torn-only last segment: remove it and look again.
                fs::remove_file(&path).map_err(|e| io_err(&path, "remove empty segment", &e))?;
                if segs.len() == 1 {
                    self.next_index = index;
                    return Ok(("new", 0));
                }
                self.recover().map(|(_, c)| ("recovered", c + cut))
            }
        }
    }

    fn start_segment(&mut self, reason: &str, truncated_bytes: u64) -> Result<(), AuditError> {
        let path = self.dir.join(segment_name(self.next_index));
        let mut file = OpenOptions::new()
            .create_new(true)
            .append(true)
            .open(&path)
            .map_err(|e| io_err(&path, "create segment", &e))?;
        self.next_index += 1;
        let body = StartBody {
            segment: self.next_index - 1,
            reason: reason.to_string(),
            resume_seq: self.acked.map(|a| a.0),
            resume_hash: self.acked.map(|a| hex(&a.1)),
            truncated_bytes,
        };
        let body = serde_json::to_vec(&body).map_err(|e| AuditError::Encode(e.to_string()))?;
        let mut buf = Vec::new();
        let hash = encode(KIND_START, self.next_seq, &self.prev, &body, &mut buf);
        let written = file
            .write_all(&buf)
            .map_err(|e| io_err(&path, "write", &e))
            .and_then(|()| self.sync(&file, &path))
            .and_then(|()| match File::open(&self.dir) {
                Ok(d) => d.sync_all().map_err(|e| io_err(&self.dir, "fsync folder", &e)),
                Err(_) => Ok(()),
            });
        if let Err(e) = written {
            // A segment whose start is not durable holds nothing acknowledged: remove it.
            drop(file);
            let _ = fs::remove_file(&path);
            return Err(e);
        }
        self.seg_bytes = buf.len() as u64;
        self.acked = Some((self.next_seq, hash));
        self.next_seq += 1;
        self.prev = hash;
        self.merkle = Merkle::default();
        self.since_checkpoint = 0;
        self.file = Some((file, path));
        Ok(())
    }

    fn sync(&self, file: &File, path: &Path) -> Result<(), AuditError> {
        if let Some(fault) = &self.opts.sync_fault {
            if let Some(e) = fault(path) {
                return Err(io_err(path, "fsync", &e));
            }
        }
        if self.opts.fsync {
            file.sync_data().map_err(|e| io_err(path, "fsync", &e))?;
        }
        Ok(())
    }

    fn push_checkpoint(&mut self, seal: bool) -> Result<(), AuditError> {
        let body = CheckpointBody {
            tree_size: self.merkle.size(),
            root: hex(&self.merkle.root()),
            seal,
        };
        let bytes = serde_json::to_vec(&body).map_err(|e| AuditError::Encode(e.to_string()))?;
        self.prev = encode(KIND_CHECKPOINT, self.next_seq, &self.prev, &bytes, &mut self.buf);
        if self.opts.checkpoints.is_some() {
            self.to_publish.push(PublishedCheckpoint {
                segment: self.next_index.saturating_sub(1),
                seq: self.next_seq,
                tree_size: body.tree_size,
                root: body.root,
                head: hex(&self.prev),
                seal: body.seal,
            });
        }
        self.next_seq += 1;
        self.since_checkpoint = 0;
        Ok(())
    }

    /// Writes and fsyncs `self.buf`; on failure rewinds to the last
    /// acknowledged record and abandons the segment.
    fn commit(&mut self) -> Result<(), AuditError> {
        let Some((file, path)) = self.file.as_mut() else {
            return Err(AuditError::Closed);
        };
        let path = path.clone();
        let res = file
            .write_all(&self.buf)
            .map_err(|e| io_err(&path, "write", &e))
            .and_then(|()| {
                let (f, p) = self.file.as_ref().ok_or(AuditError::Closed)?;
                self.sync(f, p)
            });
        match res {
            Ok(()) => {
                self.seg_bytes += self.buf.len() as u64;
                self.acked = Some((self.next_seq - 1, self.prev));
                if let Some(p) = &self.opts.checkpoints {
                    for cp in self.to_publish.drain(..) {
                        if p.publish(&cp).is_err() {
                            self.publish_errors.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
                Ok(())
            }
            Err(e) => {
                self.to_publish.clear();
                self.file = None;
                if let Some((seq, hash)) = self.acked {
                    self.next_seq = seq + 1;
                    self.prev = hash;
                }
                Err(e)
            }
        }
    }

    fn run(mut self, rx: mpsc::Receiver<Msg>) {
        let mut batch: Vec<(Vec<u8>, Ack)> = Vec::new();
        let mut closing = None;
        while closing.is_none() {
            let Ok(first) = rx.recv() else { break };
            match first {
                Msg::Append(b, a) => batch.push((b, a)),
                Msg::Close(done) => closing = Some(done),
            }
            let deadline = Instant::now() + self.opts.commit_window;
            while closing.is_none() && batch.len() < self.opts.max_batch {
                let next = if self.opts.commit_window.is_zero() {
                    rx.try_recv().ok()
                } else {
                    rx.recv_timeout(deadline.saturating_duration_since(Instant::now())).ok()
                };
                match next {
                    Some(Msg::Append(b, a)) => batch.push((b, a)),
                    Some(Msg::Close(done)) => closing = Some(done),
                    None => break,
                }
            }
            if !batch.is_empty() {
                self.write_batch(&mut batch);
            }
        }
        if self.file.is_some() {
            self.buf.clear();
            self.to_publish.clear();
            if self.push_checkpoint(true).is_ok() {
                let _ = self.commit();
            }
        }
        if let Some(done) = closing {
            let _ = done.send(());
        }
    }

    fn write_batch(&mut self, batch: &mut Vec<(Vec<u8>, Ack)>) {
        if self.file.is_some() && self.seg_bytes >= self.opts.segment_bytes {
            self.buf.clear();
            self.to_publish.clear();
            let sealed = self.push_checkpoint(true).and_then(|()| self.commit());
            if sealed.is_ok() {
                self.file = None;
                if let Err(e) = self.start_segment("rotate", 0) {
                    fail_all(batch, &e);
                    return;
                }
            }
        }
        if self.file.is_none() {
            if let Err(e) = self.start_segment("fsync_error", 0) {
                fail_all(batch, &e);
                return;
            }
        }
        self.buf.clear();
        self.to_publish.clear();
        let mut seqs = Vec::with_capacity(batch.len());
        for (body, _) in batch.iter() {
            self.prev = encode(KIND_RECORD, self.next_seq, &self.prev, body, &mut self.buf);
            self.merkle.push(&self.prev);
            seqs.push(self.next_seq);
            self.next_seq += 1;
            self.since_checkpoint += 1;
            if self.since_checkpoint >= self.opts.checkpoint_every {
                if let Err(e) = self.push_checkpoint(false) {
                    fail_all(batch, &e);
                    return;
                }
            }
        }
        match self.commit() {
            Ok(()) => {
                for ((_, ack), seq) in batch.drain(..).zip(seqs) {
                    ack.send(Ok(seq));
                }
            }
            Err(e) => {
                fail_all(batch, &e);
                // Start the replacement segment now, so the next batch need not wait.
                let _ = self.start_segment("fsync_error", 0);
            }
        }
    }
}

fn fail_all(batch: &mut Vec<(Vec<u8>, Ack)>, e: &AuditError) {
    for (_, ack) in batch.drain(..) {
        ack.send(Err(e.clone()));
    }
}
