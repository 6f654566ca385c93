//! API keys: stored as SHA-256 digests, compared in constant time, each
//! standing for a principal with roles.

use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use toolplane_core::Principal;

/// The SHA-256 of `key` as 64 lowercase hex digits (what `[[server.keys]] sha256` holds).
pub fn hash_key(key: &str) -> String {
    hex(&Sha256::digest(key.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 15)] as char);
    }
    s
}

fn unhex(text: &str) -> Option<[u8; 32]> {
    let bytes = text.as_bytes();
    if bytes.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, pair) in bytes.chunks(2).enumerate() {
        let hi = (pair[0] as char).to_digit(16)?;
        let lo = (pair[1] as char).to_digit(16)?;
        out[i] = (hi * 16 + lo) as u8;
    }
    Some(out)
}

/// A fresh random key: `tp-` and 48 hex digits (192 bits).
pub fn generate_key() -> String {
    let mut b = [0u8; 24];
    rand::rng().fill_bytes(&mut b);
    format!("tp-{}", hex(&b))
}

/// The keys a server accepts.
///
/// ```
/// use toolplane_core::Principal;
/// use toolplane_server::keys::{KeyStore, hash_key};
/// let mut keys = KeyStore::default();
/// keys.insert(&hash_key("tp-secret"), Principal::new("alice").with_role("member")).unwrap();
/// assert_eq!(keys.authenticate("tp-secret").unwrap().id, "alice");
/// assert!(keys.authenticate("tp-wrong").is_none());
/// ```
#[derive(Debug, Clone, Default)]
pub struct KeyStore {
    keys: Vec<([u8; 32], Principal)>,
}

impl KeyStore {
    /// Accepts the key whose SHA-256 is `sha256_hex` as `principal`.
    ///
    /// # Errors
    /// When `sha256_hex` is not 64 hex digits.
    pub fn insert(&mut self, sha256_hex: &str, principal: Principal) -> Result<(), String> {
        let digest = unhex(&sha256_hex.to_ascii_lowercase())
            .ok_or_else(|| format!("`{sha256_hex}` is not a SHA-256 digest (64 hex digits)"))?;
        self.keys.push((digest, principal));
        Ok(())
    }

    /// How many keys are accepted.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// True without keys.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The principal of `key`, comparing its digest with every stored digest
    /// in constant time (no early exit, so timing tells nothing about which
    /// digest came close).
    pub fn authenticate(&self, key: &str) -> Option<&Principal> {
        let digest: [u8; 32] = Sha256::digest(key.as_bytes()).into();
        let mut found = None;
        for (stored, principal) in &self.keys {
            if bool::from(stored.ct_eq(&digest)) {
                found = Some(principal);
            }
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_matches_a_known_digest() {
        // sha256("abc"), FIPS 180-2 appendix B.1.
        assert_eq!(
            hash_key("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn generated_keys_differ_and_authenticate() {
        let a = generate_key();
        let b = generate_key();
        assert_ne!(a, b);
        assert!(a.starts_with("tp-") && a.len() == 51);
        let mut keys = KeyStore::default();
        keys.insert(&hash_key(&a).to_uppercase(), Principal::new("a")).unwrap();
        assert!(keys.authenticate(&a).is_some());
        assert!(keys.authenticate(&b).is_none());
        assert!(keys.insert("xyz", Principal::new("b")).is_err());
    }
}
