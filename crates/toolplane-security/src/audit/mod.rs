//! A tamper-evident audit log.
//!
//! [`AuditSink`] takes [`Redacted`] records only, so every record passes the
//! one redaction choke point ([`crate::redact`]) before storage.
//! [`MemorySink`] keeps records in memory (tests, short-lived hosts);
//! [`FileSink`] writes append-only segments of length-prefixed, CRC-checked
//! records chained by SHA-256 with periodic Merkle checkpoints, with group
//! commit and fsync, and [`verify_dir`] checks a folder of segments.

mod checkpoint;
mod file;
mod format;
mod interceptor;
mod segment;
mod verify;

use std::collections::VecDeque;
use std::time::{SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::redact::{Redact, Redacted, redact_text, redact_value};

#[cfg(feature = "redis")]
pub use checkpoint::RedisCheckpoints;
pub use checkpoint::{
    CheckpointPublisher, CheckpointSource, DirCheckpoints, FnCheckpoints, MemoryCheckpoints, PublishedCheckpoint,
    verify_with_checkpoints,
};
pub use file::{FileSink, FileSinkOptions, SyncFault};
pub use interceptor::AuditInterceptor;
pub(crate) use interceptor::note_decision;
pub use verify::{VerifyFailure, VerifyReport, read_dir, verify_dir};

/// One audited event.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct AuditRecord {
    /// `tool_call`, `limit_backend`, or another event name.
    pub event: String,
    /// When the call started, milliseconds since the Unix epoch.
    pub started_ms: u64,
    /// When it ended.
    pub finished_ms: u64,
    /// The request id from the call context.
    pub request_id: String,
    /// Who (principal id, or `anonymous`).
    pub principal: String,
    /// Roles and team of the principal.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<String>,
    /// The tool, for tool events.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool: Option<String>,
    /// The call's id, for tool events: the model's tool call id (the
    /// `gen_ai.tool.call.id` of the call's `execute_tool` span), or an MCP
    /// call's JSON-RPC id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub call_id: Option<String>,
    /// The arguments (redacted).
    pub arguments: Value,
    /// `allow`, `ask`, `deny`, `approved`, or none without a policy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decision: Option<String>,
    /// Why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explanation: Option<String>,
    /// `ok`, `tool_error` (the tool reported a failure) or an error kind.
    pub status: String,
    /// The error text (redacted).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// How long the call took, microseconds.
    pub latency_us: u64,
    /// Event-specific data (redacted).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<Value>,
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

impl AuditRecord {
    /// A record of an event at the current time.
    pub fn event(event: impl Into<String>, request_id: impl Into<String>, principal: impl Into<String>) -> Self {
        let now = now_ms();
        Self {
            event: event.into(),
            started_ms: now,
            finished_ms: now,
            request_id: request_id.into(),
            principal: principal.into(),
            status: "ok".into(),
            ..Self::default()
        }
    }
}

impl Redact for AuditRecord {
    fn redact_in_place(&mut self) {
        self.arguments = redact_value(&self.arguments);
        self.request_id = redact_text(&self.request_id);
        self.principal = redact_text(&self.principal);
        for t in [
            &mut self.tool,
            &mut self.call_id,
            &mut self.explanation,
            &mut self.error,
            &mut self.decision,
        ]
        .into_iter()
        .flatten()
        {
            *t = redact_text(t);
        }
        if let Some(d) = &mut self.detail {
            *d = redact_value(d);
        }
    }
}

/// Why an audit record was not stored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuditError {
    /// A file operation failed; the record was not acknowledged.
    #[error("audit log {path}: {op} failed: {message}")]
    Io {
        /// The file or folder.
        path: String,
        /// The operation (`write`, `fsync`, `create`, ...).
        op: &'static str,
        /// The OS error.
        message: String,
    },
    /// The log is damaged in a way recovery must not paper over.
    #[error("audit log {path}: {message}; run `toolplane audit verify`")]
    Corrupt {
        /// The segment.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// The sink was closed.
    #[error("audit log is closed")]
    Closed,
    /// The record could not be encoded.
    #[error("audit record could not be encoded: {0}")]
    Encode(String),
}

/// Where audit records go. Appending returns the record's sequence number
/// once it is durable (for a file sink: after its fsync).
#[async_trait]
pub trait AuditSink: Send + Sync + std::fmt::Debug {
    /// Stores one record; `Ok(seq)` only once it is durable.
    async fn append(&self, record: Redacted<AuditRecord>) -> Result<u64, AuditError>;
}

/// Records kept in memory, in order.
///
/// ```
/// use toolplane_security::audit::{AuditRecord, AuditSink, MemorySink};
/// use toolplane_security::redact::Redact;
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let sink = MemorySink::new();
/// let mut r = AuditRecord::event("tool_call", "req-1", "alice");
/// r.arguments = serde_json::json!({"password": "hunter2"});
/// sink.append(r.redacted()).await.unwrap();
/// assert_eq!(sink.records()[0].arguments["password"], "[REDACTED]");
///
/// let ring = MemorySink::bounded(2);
/// for i in 0..5 {
///     ring.append(AuditRecord::event("tool_call", format!("req-{i}"), "alice").redacted()).await.unwrap();
/// }
/// assert_eq!((ring.records().len(), ring.appended()), (2, 5));
/// assert_eq!(ring.records()[0].request_id, "req-3");
/// # });
/// ```
#[derive(Debug, Default)]
pub struct MemorySink {
    inner: Mutex<MemoryState>,
}

#[derive(Debug, Default)]
struct MemoryState {
    records: VecDeque<AuditRecord>,
    /// The most records kept; `None`: all.
    capacity: Option<usize>,
    /// Records appended so far (the next sequence number).
    appended: u64,
}

impl MemorySink {
    /// An empty sink that keeps every record.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty sink that keeps the newest `capacity` records (at least one)
    /// and drops older ones: memory stays bounded for long-running hosts
    /// and benchmarks. Sequence numbers keep counting.
    pub fn bounded(capacity: usize) -> Self {
        let capacity = capacity.max(1);
        Self {
            inner: Mutex::new(MemoryState {
                records: VecDeque::with_capacity(capacity),
                capacity: Some(capacity),
                appended: 0,
            }),
        }
    }

    /// A copy of the records kept, oldest first.
    pub fn records(&self) -> Vec<AuditRecord> {
        self.inner.lock().records.iter().cloned().collect()
    }

    /// Records appended so far, including any a bounded sink dropped.
    pub fn appended(&self) -> u64 {
        self.inner.lock().appended
    }
}

#[async_trait]
impl AuditSink for MemorySink {
    async fn append(&self, record: Redacted<AuditRecord>) -> Result<u64, AuditError> {
        let mut st = self.inner.lock();
        if st.capacity.is_some_and(|c| st.records.len() >= c) {
            st.records.pop_front();
        }
        st.records.push_back(record.into_inner());
        st.appended += 1;
        Ok(st.appended - 1)
    }
}
