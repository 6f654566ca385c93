//! What the router actually did with each request: the ranking its dispatch
//! used (the draw itself, for Thompson sampling), the experts it removed and
//! why, every attempt and its outcome. Off by default; a bounded ring when on.

use std::collections::VecDeque;
use std::fmt;
use std::sync::Mutex;
use std::time::Duration;

use serde::Serialize;
use toolplane_core::ProviderError;

use crate::catalogue::Catalogue;
use crate::decision::fmt_num;
use crate::select::Selection;

/// One expert of the ranking a dispatch used, best first.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RankedExpert {
    /// The expert's id.
    pub expert: String,
    /// The strategy's score (the draw, for Thompson sampling); higher ranks first.
    pub score: f64,
}

/// One call the router made for a request.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AttemptRecord {
    /// The expert's id.
    pub expert: String,
    /// `ok`, or the error kind (`rate_limited`, `overloaded`, `timeout`, ...).
    pub outcome: String,
    /// The error's message, when it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Until the answer (or the stream's opening), in milliseconds.
    pub latency_ms: f64,
}

/// What the router did with one request. See [`Router::recent_dispatches`](crate::Router::recent_dispatches).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DispatchRecord {
    /// The request id (the request's metadata, else the call context's).
    pub request_id: String,
    /// The task slot it was routed under.
    pub task_type: String,
    /// Whether it was a streamed call.
    pub streamed: bool,
    /// The first ranking, best first.
    pub ranked: Vec<RankedExpert>,
    /// Experts removed by a hard constraint, with the reason.
    pub excluded: Vec<(String, String)>,
    /// The calls made, in order.
    pub attempts: Vec<AttemptRecord>,
    /// The expert that answered, if any did.
    pub answered_by: Option<String>,
}

impl fmt::Display for DispatchRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = if self.streamed { "stream" } else { "chat" };
        writeln!(f, "{kind} {} (task {})", self.request_id, self.task_type)?;
        let ranked: Vec<String> = self
            .ranked
            .iter()
            .map(|r| format!("{} {}", r.expert, fmt_num(r.score)))
            .collect();
        writeln!(f, "  ranked: {}", ranked.join(", "))?;
        for (expert, why) in &self.excluded {
            writeln!(f, "  excluded {expert}: {why}")?;
        }
        for a in &self.attempts {
            match &a.message {
                Some(m) => writeln!(
                    f,
                    "  tried {}: {} after {:.1} ms ({m})",
                    a.expert, a.outcome, a.latency_ms
                )?,
                None => writeln!(f, "  tried {}: {} in {:.1} ms", a.expert, a.outcome, a.latency_ms)?,
            }
        }
        match &self.answered_by {
            Some(e) => write!(f, "  answered by {e}"),
            None => write!(f, "  no expert answered"),
        }
    }
}

/// The last `capacity` records.
#[derive(Debug)]
pub(crate) struct DispatchLog {
    capacity: usize,
    ring: Mutex<VecDeque<DispatchRecord>>,
}

impl DispatchLog {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            capacity,
            ring: Mutex::new(VecDeque::with_capacity(capacity.min(1024))),
        }
    }

    pub(crate) fn push(&self, record: DispatchRecord) {
        let mut ring = self.ring.lock().unwrap_or_else(|e| e.into_inner());
        if ring.len() == self.capacity {
            ring.pop_front();
        }
        ring.push_back(record);
    }

    pub(crate) fn snapshot(&self) -> Vec<DispatchRecord> {
        self.ring
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .cloned()
            .collect()
    }
}

/// Collects one request's record while it is dispatched (only when the log is on).
pub(crate) struct Recorder {
    record: DispatchRecord,
}

impl Recorder {
    pub(crate) fn start(cat: &Catalogue, request_id: &str, streamed: bool, sel: &Selection) -> Self {
        let id = |i: usize| cat.experts[i].id.clone();
        Self {
            record: DispatchRecord {
                request_id: request_id.to_owned(),
                task_type: cat.tasks.get(sel.task).map(|t| t.name.clone()).unwrap_or_default(),
                streamed,
                ranked: sel
                    .ranked
                    .iter()
                    .map(|r| RankedExpert {
                        expert: id(r.idx),
                        score: r.key + 0.0,
                    })
                    .collect(),
                excluded: sel.removed.iter().map(|(i, why)| (id(*i), why.detail())).collect(),
                attempts: Vec::new(),
                answered_by: None,
            },
        }
    }

    pub(crate) fn attempt(&mut self, cat: &Catalogue, idx: usize, took: Duration, outcome: Result<(), &ProviderError>) {
        let expert = cat.experts[idx].id.clone();
        let (outcome, message) = match outcome {
            Ok(()) => {
                self.record.answered_by = Some(expert.clone());
                ("ok".to_owned(), None)
            }
            Err(e) => (e.kind().as_str().to_owned(), Some(e.message().to_owned())),
        };
        self.record.attempts.push(AttemptRecord {
            expert,
            outcome,
            message,
            latency_ms: took.as_secs_f64() * 1e3,
        });
    }

    pub(crate) fn finish(self, log: &DispatchLog) {
        log.push(self.record);
    }
}
