//! The on-disk record format and the Merkle tree of a segment.
//!
//! ```text
//! frame   = len:u32le  crc32(payload):u32le  payload
//! payload = kind:u8  seq:u64le  prev_sha256:[32]  body (JSON)
//! ```
//!
//! The hash of a record is SHA-256 of its payload; each record holds the hash
//! of the one before it (across segments), so altering, removing or moving a
//! record breaks the chain even when its CRC is recomputed.

use sha2::{Digest, Sha256};

/// Kind byte of a segment's first record.
pub(crate) const KIND_START: u8 = 1;
/// Kind byte of an audit record.
pub(crate) const KIND_RECORD: u8 = 2;
/// Kind byte of a checkpoint.
pub(crate) const KIND_CHECKPOINT: u8 = 3;

/// Frame header size.
pub(crate) const HEADER: usize = 8;
/// Payload bytes before the body.
pub(crate) const PREFIX: usize = 1 + 8 + 32;
/// Largest payload accepted.
pub(crate) const MAX_PAYLOAD: usize = 16 << 20;

/// Appends one frame to `out`; returns the record's hash.
pub(crate) fn encode(kind: u8, seq: u64, prev: &[u8; 32], body: &[u8], out: &mut Vec<u8>) -> [u8; 32] {
    let len = PREFIX + body.len();
    let start = out.len();
    out.extend_from_slice(&(len as u32).to_le_bytes());
    out.extend_from_slice(&[0; 4]);
    out.push(kind);
    out.extend_from_slice(&seq.to_le_bytes());
    out.extend_from_slice(prev);
    out.extend_from_slice(body);
    let payload = &out[start + HEADER..];
    let crc = crc32fast::hash(payload);
    let hash: [u8; 32] = Sha256::digest(payload).into();
    out[start + 4..start + 8].copy_from_slice(&crc.to_le_bytes());
    hash
}

/// RFC 9162 (RFC 6962) Merkle tree hash, kept incrementally as the roots of
/// perfect subtrees (O(log n) memory). The leaves of a segment's tree are the
/// SHA-256 hashes of its audit records' payloads.
#[derive(Debug, Clone, Default)]
pub(crate) struct Merkle {
    stack: Vec<([u8; 32], u64)>,
    size: u64,
}

fn node(l: &[u8; 32], r: &[u8; 32]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(l);
    h.update(r);
    h.finalize().into()
}

impl Merkle {
    /// Adds a leaf (its data; hashed as `SHA-256(0x00 || data)`).
    pub(crate) fn push(&mut self, data: &[u8]) {
        let mut h = Sha256::new();
        h.update([0u8]);
        h.update(data);
        let mut cur: ([u8; 32], u64) = (h.finalize().into(), 1);
        while let Some(top) = self.stack.last() {
            if top.1 != cur.1 {
                break;
            }
            let left = top.0;
            self.stack.pop();
            cur = (node(&left, &cur.0), cur.1 * 2);
        }
        self.stack.push(cur);
        self.size += 1;
    }

    /// Number of leaves.
    pub(crate) fn size(&self) -> u64 {
        self.size
    }

    /// The tree head: `SHA-256("")` for no leaves.
    pub(crate) fn root(&self) -> [u8; 32] {
        let mut it = self.stack.iter().rev();
        let Some(last) = it.next() else {
            return Sha256::digest([]).into();
        };
        let mut acc = last.0;
        for (h, _) in it {
            acc = node(h, &acc);
        }
        acc
    }
}

/// Body of a segment's first record.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct StartBody {
    pub(crate) segment: u64,
    /// `new` (first segment), `rotate`, `reopen`, `recovered` or `fsync_error`.
    pub(crate) reason: String,
    /// The last acknowledged record before this segment (none for the first).
    pub(crate) resume_seq: Option<u64>,
    pub(crate) resume_hash: Option<String>,
    /// Bytes of a torn tail cut from the previous segment on recovery.
    #[serde(default)]
    pub(crate) truncated_bytes: u64,
}

/// Body of a checkpoint.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct CheckpointBody {
    pub(crate) tree_size: u64,
    pub(crate) root: String,
    /// The last record of its segment.
    pub(crate) seal: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The reference definition, recursive.
    fn mth(leaves: &[Vec<u8>]) -> [u8; 32] {
        match leaves.len() {
            0 => Sha256::digest([]).into(),
            1 => {
                let mut h = Sha256::new();
                h.update([0u8]);
                h.update(&leaves[0]);
                h.finalize().into()
            }
            n => {
                let mut k = 1;
                while k * 2 < n {
                    k *= 2;
                }
                node(&mth(&leaves[..k]), &mth(&leaves[k..]))
            }
        }
    }

    #[test]
    fn incremental_root_matches_the_recursive_definition() {
        let mut m = Merkle::default();
        let mut leaves = Vec::new();
        assert_eq!(m.root(), mth(&leaves));
        for i in 0..70u32 {
            leaves.push(i.to_le_bytes().to_vec());
            m.push(&i.to_le_bytes());
            assert_eq!(m.root(), mth(&leaves), "size {}", i + 1);
        }
    }
}
