//! Approvals: single-use tokens bound to one principal, tool definition and
//! set of arguments, with an expiry.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use rand::RngCore;
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use toolplane_core::{ApprovalToken, Principal, ToolSpec};

/// SHA-256 of (principal, tool definition, canonical arguments), hex.
///
/// Canonical JSON sorts object keys at every level, so the same arguments
/// written in another key order bind the same way; any changed value, or any
/// change to the tool's definition, gives another binding.
pub fn binding_hash(principal: Option<&Principal>, spec: &ToolSpec, args: &Value) -> String {
    let mut h = Sha256::new();
    let mut buf = String::new();
    match principal {
        Some(p) => {
            let mut roles = p.roles.clone();
            roles.sort();
            buf.push_str("principal:");
            canonical_json(
                &serde_json::json!({"id": p.id, "roles": roles, "team": p.team}),
                &mut buf,
            );
        }
        None => buf.push_str("principal:null"),
    }
    buf.push_str("\ntool:");
    canonical_json(&serde_json::to_value(spec).unwrap_or(Value::Null), &mut buf);
    buf.push_str("\nargs:");
    canonical_json(args, &mut buf);
    h.update(buf.as_bytes());
    hex(&h.finalize())
}

/// Writes `v` as JSON with object keys sorted.
pub fn canonical_json(v: &Value, out: &mut String) {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String((*k).clone()).to_string());
                out.push(':');
                canonical_json(&m[k.as_str()], out);
            }
            out.push('}');
        }
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical_json(x, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// A call held for a human's decision, as returned in the details of an
/// `approval_required` error (`details["approval"]`); deserialize it from there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ApprovalRequest {
    /// The id to approve or reject.
    pub id: String,
    /// Who asked.
    pub principal: String,
    /// The tool.
    pub tool: String,
    /// What the approval will be bound to.
    pub binding: String,
    /// Why the policy asked.
    pub reason: String,
}

/// Why an approval token was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApprovalError {
    /// Unknown token, or one already used.
    #[error("approval token is unknown or was already used")]
    Unknown,
    /// The token expired.
    #[error("approval token expired")]
    Expired,
    /// The token was issued for another principal, tool definition or arguments.
    #[error("approval token was issued for a different principal, tool definition or arguments; ask again")]
    Mismatch,
    /// No pending request with that id.
    #[error("no pending approval request `{0}`")]
    NoRequest(String),
}

#[derive(Debug)]
struct Pending {
    binding: String,
    created: Instant,
}

/// Pending requests kept at most (the oldest go first) and for at most a day.
const MAX_PENDING: usize = 100_000;
const PENDING_TTL: Duration = Duration::from_secs(86_400);

#[derive(Debug)]
struct Issued {
    binding: String,
    expires: Instant,
}

/// Pending requests and issued tokens, in memory.
///
/// ```
/// use serde_json::json;
/// use std::time::Duration;
/// use toolplane_core::{Principal, ToolSpec};
/// use toolplane_security::{ApprovalStore, binding_hash};
/// let store = ApprovalStore::new();
/// let spec = ToolSpec::new("fs.delete", "");
/// let who = Principal::new("alice");
/// let req = store.request(Some(&who), &spec, &json!({"path": "/tmp/x"}), "destructive");
/// let token = store.approve(&req.id, Duration::from_secs(60)).unwrap();
/// let binding = binding_hash(Some(&who), &spec, &json!({"path": "/tmp/x"}));
/// assert!(store.consume(&token, &binding).is_ok());
/// assert!(store.consume(&token, &binding).is_err()); // single use
/// ```
#[derive(Debug, Default)]
pub struct ApprovalStore {
    pending: Mutex<HashMap<String, Pending>>,
    issued: Mutex<HashMap<String, Issued>>,
}

fn random_id(prefix: &str) -> String {
    let mut b = [0u8; 16];
    rand::rng().fill_bytes(&mut b);
    format!("{prefix}{}", hex(&b))
}

impl ApprovalStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records a call that needs approval and describes it.
    pub fn request(
        &self,
        principal: Option<&Principal>,
        spec: &ToolSpec,
        args: &Value,
        reason: &str,
    ) -> ApprovalRequest {
        let binding = binding_hash(principal, spec, args);
        let id = random_id("apr_");
        let mut pending = self.pending.lock();
        if pending.len() >= MAX_PENDING {
            pending.retain(|_, p| p.created.elapsed() < PENDING_TTL);
            while pending.len() >= MAX_PENDING {
                let oldest = pending.iter().min_by_key(|(_, p)| p.created).map(|(k, _)| k.clone());
                match oldest {
                    Some(k) => pending.remove(&k),
                    None => break,
                };
            }
        }
        pending.insert(
            id.clone(),
            Pending {
                binding: binding.clone(),
                created: Instant::now(),
            },
        );
        drop(pending);
        ApprovalRequest {
            id,
            principal: principal.map_or("anonymous".into(), |p| p.id.clone()),
            tool: spec.name.clone(),
            binding,
            reason: reason.to_string(),
        }
    }

    /// A human approved request `id`: issues a single-use token valid for `ttl`.
    pub fn approve(&self, id: &str, ttl: Duration) -> Result<ApprovalToken, ApprovalError> {
        let p = self
            .pending
            .lock()
            .remove(id)
            .filter(|p| p.created.elapsed() < PENDING_TTL)
            .ok_or_else(|| ApprovalError::NoRequest(id.to_string()))?;
        let token = random_id("apt_");
        self.issued.lock().insert(
            token.clone(),
            Issued {
                binding: p.binding,
                expires: Instant::now() + ttl,
            },
        );
        Ok(ApprovalToken(token))
    }

    /// A human rejected request `id`.
    pub fn reject(&self, id: &str) -> Result<(), ApprovalError> {
        self.pending
            .lock()
            .remove(id)
            .map(|_| ())
            .ok_or_else(|| ApprovalError::NoRequest(id.to_string()))
    }

    /// Accepts `token` for a call with `binding`, once. A token presented
    /// with another binding stays unused (the right call may still use it).
    pub fn consume(&self, token: &ApprovalToken, binding: &str) -> Result<(), ApprovalError> {
        let mut issued = self.issued.lock();
        let now = Instant::now();
        issued.retain(|k, v| v.expires > now || *k == token.0);
        let entry = issued.get(&token.0).ok_or(ApprovalError::Unknown)?;
        if entry.expires <= now {
            issued.remove(&token.0);
            return Err(ApprovalError::Expired);
        }
        if entry.binding != binding {
            return Err(ApprovalError::Mismatch);
        }
        issued.remove(&token.0);
        Ok(())
    }
}
