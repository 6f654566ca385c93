//! Server-side runs of the tool-calling loop: their records on disk (one
//! JSON file per run, written to a temporary file, fsynced, renamed, and the
//! folder fsynced) and their live event streams in memory.
//!
//! Files rather than an embedded database: a run is one document read and
//! written whole, there are no queries across runs, and the workspace then
//! needs no C library (SQLite) or new storage engine; a crash leaves either
//! the old or the new file, never a torn one.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::broadcast;
use toolplane_core::{CancelFlag, Principal};
use toolplane_pipeline::RunState;

/// Where a run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// The loop is working.
    Running,
    /// Waiting for approvals (kept on disk; survives a restart).
    Paused,
    /// The model answered.
    Answered,
    /// A limit stopped it.
    Stopped,
    /// A caller cancelled it.
    Cancelled,
    /// A provider or state error ended it.
    Failed,
    /// The server stopped while the run was working.
    Interrupted,
}

impl RunStatus {
    /// True when no more events will come without a new request.
    pub fn is_resting(self) -> bool {
        !matches!(self, Self::Running)
    }
}

/// A run as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunRecord {
    /// The run id (`run_...`).
    pub id: String,
    /// Who started it.
    pub principal: Principal,
    /// Where it is.
    pub status: RunStatus,
    /// The loop's state (conversation, usage, pending approvals).
    pub state: RunState,
    /// The events so far, as sent on the event stream.
    pub events: Vec<Value>,
    /// The answer, when answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer: Option<String>,
    /// The error, when failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Milliseconds since the epoch.
    pub created_ms: u64,
    /// Milliseconds since the epoch.
    pub updated_ms: u64,
}

/// A run in memory: its record, a channel of new events and its cancel flag.
#[derive(Debug)]
pub struct LiveRun {
    /// The record (the truth; written to disk at every rest).
    pub record: Mutex<RunRecord>,
    /// New events, for listeners attached now.
    pub events: broadcast::Sender<Value>,
    /// Set to stop the loop.
    pub cancel: CancelFlag,
}

impl LiveRun {
    fn new(record: RunRecord) -> Arc<Self> {
        let (events, _) = broadcast::channel(1024);
        Arc::new(Self {
            record: Mutex::new(record),
            events,
            cancel: CancelFlag::new(),
        })
    }

    /// Appends an event to the record and sends it to listeners.
    pub fn push(&self, event: Value) {
        self.update(|_| event);
    }

    /// Changes the record and appends the event `change` returns, in one
    /// step: a listener never sees a resting status without its last event.
    pub fn update(&self, change: impl FnOnce(&mut RunRecord) -> Value) {
        let mut r = self.record.lock();
        let event = change(&mut r);
        r.events.push(event.clone());
        // Sent under the lock so a listener that copied the history cannot miss or repeat one.
        let _ = self.events.send(event);
    }

    /// Like [`update`](Self::update), but the changed record is written with
    /// `save` before anyone can see the change: a client that has read the
    /// run's `paused` or `done` event may stop the server at once and find
    /// the run on disk after a restart. The event is sent whether or not the
    /// write succeeded; the write's result is returned.
    ///
    /// # Errors
    /// What `save` returns.
    pub fn update_durably(
        &self,
        change: impl FnOnce(&mut RunRecord) -> Value,
        save: impl FnOnce(&RunRecord) -> std::io::Result<()>,
    ) -> std::io::Result<()> {
        let mut r = self.record.lock();
        let event = change(&mut r);
        r.events.push(event.clone());
        let saved = save(&r);
        let _ = self.events.send(event);
        saved
    }
}

/// All runs: in memory, and on disk under one folder.
#[derive(Debug, Clone)]
pub struct RunStore {
    dir: PathBuf,
    runs: Arc<Mutex<HashMap<String, Arc<LiveRun>>>>,
}

/// Milliseconds since the epoch.
pub(crate) fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

impl RunStore {
    /// Opens (creating) `dir` and loads the runs in it. Runs that were
    /// working when the last process stopped are marked `interrupted`.
    ///
    /// # Errors
    /// The folder cannot be created or read, or a file is not a run record.
    pub fn open(dir: &Path) -> std::io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        let mut runs = HashMap::new();
        for entry in std::fs::read_dir(dir)? {
            let path = entry?.path();
            if path.extension().and_then(|e| e.to_str()) != Some("json") {
                continue;
            }
            let text = std::fs::read_to_string(&path)?;
            let mut record: RunRecord = serde_json::from_str(&text).map_err(|e| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("{}: not a run record: {e}", path.display()),
                )
            })?;
            if record.status == RunStatus::Running {
                record.status = RunStatus::Interrupted;
            }
            runs.insert(record.id.clone(), LiveRun::new(record));
        }
        Ok(Self {
            dir: dir.to_path_buf(),
            runs: Arc::new(Mutex::new(runs)),
        })
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Adds a new run (in memory; saved at its first rest).
    pub fn insert(&self, record: RunRecord) -> Arc<LiveRun> {
        let live = LiveRun::new(record);
        let id = live.record.lock().id.clone();
        self.runs.lock().insert(id, live.clone());
        live
    }

    /// The run `id`.
    pub fn get(&self, id: &str) -> Option<Arc<LiveRun>> {
        self.runs.lock().get(id).cloned()
    }

    /// Writes the run's record durably: temporary file, fsync, rename, fsync of the folder.
    ///
    /// # Errors
    /// Any file-system error.
    pub fn save(&self, run: &LiveRun) -> std::io::Result<()> {
        let r = run.record.lock();
        self.save_record(&r)
    }

    /// Writes `record` durably, as [`save`](Self::save) does; for a caller
    /// that already holds the record's lock.
    ///
    /// # Errors
    /// Any file-system error.
    pub fn save_record(&self, record: &RunRecord) -> std::io::Result<()> {
        let (id, bytes) = (
            record.id.clone(),
            serde_json::to_vec(record).map_err(std::io::Error::other)?,
        );
        if !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') {
            return Err(std::io::Error::new(std::io::ErrorKind::InvalidInput, "bad run id"));
        }
        let path = self.dir.join(format!("{id}.json"));
        let tmp = self.dir.join(format!(".{id}.json.tmp"));
        {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(&bytes)?;
            f.sync_all()?;
        }
        std::fs::rename(&tmp, &path)?;
        std::fs::File::open(&self.dir)?.sync_all()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use toolplane_core::{ChatRequest, Message};

    fn record(id: &str, status: RunStatus) -> RunRecord {
        RunRecord {
            id: id.into(),
            principal: Principal::new("alice").with_role("member"),
            status,
            state: RunState::new(id, ChatRequest::new("auto", vec![Message::user("hi")])),
            events: vec![serde_json::json!({"type": "step_started", "step": 1})],
            answer: None,
            error: None,
            created_ms: 1,
            updated_ms: 2,
        }
    }

    #[test]
    fn records_survive_a_reopen_and_running_ones_are_marked_interrupted() {
        let dir = tempfile::tempdir().unwrap();
        let store = RunStore::open(dir.path()).unwrap();
        let a = store.insert(record("run_a", RunStatus::Paused));
        let b = store.insert(record("run_b", RunStatus::Running));
        store.save(&a).unwrap();
        store.save(&b).unwrap();
        drop(store);
        let again = RunStore::open(dir.path()).unwrap();
        let a = again.get("run_a").unwrap();
        assert_eq!(a.record.lock().status, RunStatus::Paused);
        assert_eq!(a.record.lock().events.len(), 1);
        assert_eq!(again.get("run_b").unwrap().record.lock().status, RunStatus::Interrupted);
        // No temporary files are left behind.
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert!(
            names.iter().all(|n| n.ends_with(".json") && !n.starts_with('.')),
            "{names:?}"
        );
    }

    #[test]
    fn a_corrupt_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("run_x.json"), "{").unwrap();
        let e = RunStore::open(dir.path()).unwrap_err();
        assert!(e.to_string().contains("run_x.json"), "{e}");
    }
}
