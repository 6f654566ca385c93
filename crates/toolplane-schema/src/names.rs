//! Tool names every provider accepts: `^[A-Za-z_][A-Za-z0-9_]*$`, bounded, unique.

use std::collections::{BTreeMap, BTreeSet};

/// The default maximum name length (OpenAI's and Gemini's limit).
pub const DEFAULT_MAX_NAME_LEN: usize = 64;

/// The smallest maximum length accepted; smaller values are raised to it
/// (a cut name needs room for `_` and the 6-character hash).
pub const MIN_MAX_NAME_LEN: usize = 12;

const HASH_LEN: usize = 6;
const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";

/// A short stable hash of `s`: 6 characters of `[a-z2-7]`, FNV-1a 64 based, the
/// same on every platform and in every release.
///
/// ```
/// assert_eq!(toolplane_schema::names::stable_hash("a").len(), 6);
/// assert_eq!(toolplane_schema::names::stable_hash("a"), toolplane_schema::names::stable_hash("a"));
/// ```
pub fn stable_hash(s: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    let mut out = String::with_capacity(HASH_LEN);
    for i in 0..HASH_LEN {
        let idx = ((h >> (i * 5)) & 31) as usize;
        out.push(char::from(ALPHABET[idx]));
    }
    out
}

/// True when `name` matches `^[A-Za-z_][A-Za-z0-9_]*$` and has at most `max_len` characters.
pub fn is_valid_name(name: &str, max_len: usize) -> bool {
    let mut chars = name.chars();
    match chars.next() {
        Some(c) if c.is_ascii_alphabetic() || c == '_' => {}
        _ => return false,
    }
    name.len() <= max_len && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Keeps ASCII letters and digits and replaces every other character by `_`,
/// collapsing runs, without any length limit (`repos/get-content` → `repos_get_content`).
fn normalize(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for c in raw.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    let trimmed = out.trim_matches('_');
    let mut s = trimmed.to_string();
    if s.is_empty() {
        s.push_str("tool");
    }
    if s.starts_with(|c: char| c.is_ascii_digit()) {
        s.insert(0, '_');
    }
    s
}

/// Cuts `base` to at most `room` characters at a word (`_`) boundary when one
/// is in the second half, else hard; never ends with `_`.
fn cut(base: &str, room: usize) -> &str {
    if base.len() <= room {
        return base;
    }
    let hard = &base[..room];
    let cut_at = match hard.rfind('_') {
        Some(i) if i >= room / 2 => i,
        _ => room,
    };
    base[..cut_at].trim_end_matches('_')
}

/// `base` cut to leave room for `_` + hash of `key`, then the hash appended.
fn with_hash(base: &str, key: &str, max_len: usize) -> String {
    let room = max_len - HASH_LEN - 1;
    let head = cut(base, room);
    let head = if head.is_empty() { "t" } else { head };
    format!("{head}_{}", stable_hash(key))
}

/// Sanitizes any string into a valid name of at most `max_len` characters
/// (raised to [`MIN_MAX_NAME_LEN`]). Characters outside `[A-Za-z0-9]` become
/// `_` (runs collapsed, ends trimmed), a leading digit gets a `_` prefix, an
/// empty result becomes `tool`. Too long: cut at a word boundary plus `_` and
/// a 6-character hash of the raw string, so different long names stay apart.
///
/// ```
/// use toolplane_schema::names::sanitize_name;
/// assert_eq!(sanitize_name("repos/get-content", 64), "repos_get_content");
/// assert_eq!(sanitize_name("3d secure", 64), "_3d_secure");
/// let long = sanitize_name(&"word_".repeat(30), 48);
/// assert!(long.len() <= 48 && long.starts_with("word_word"));
/// ```
pub fn sanitize_name(raw: &str, max_len: usize) -> String {
    let max_len = max_len.max(MIN_MAX_NAME_LEN);
    let base = normalize(raw);
    if base.len() <= max_len {
        base
    } else {
        with_hash(&base, raw, max_len)
    }
}

/// Gives each candidate a valid, unique name, independent of input order.
///
/// `items` are `(candidate, key)` pairs: the candidate is the wanted name
/// (an operationId, say), the key identifies the item uniquely (`"GET /pets"`).
/// Candidates whose sanitized forms clash all get `_` + a hash of their key,
/// so which item is listed first never changes any name. Returns the names
/// in input order.
///
/// ```
/// use toolplane_schema::names::unique_names;
/// let a = unique_names(&[("get pets", "GET /pets"), ("get-pets", "GET /v2/pets"), ("other", "x")], 64);
/// let b = unique_names(&[("other", "x"), ("get-pets", "GET /v2/pets"), ("get pets", "GET /pets")], 64);
/// assert_ne!(a[0], a[1]);
/// assert_eq!((a[0].as_str(), a[1].as_str()), (b[2].as_str(), b[1].as_str()));
/// assert_eq!(a[2], "other");
/// ```
pub fn unique_names(items: &[(&str, &str)], max_len: usize) -> Vec<String> {
    let max_len = max_len.max(MIN_MAX_NAME_LEN);
    let bases: Vec<String> = items.iter().map(|(c, _)| sanitize_name(c, max_len)).collect();
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for b in &bases {
        *counts.entry(b.as_str()).or_default() += 1;
    }
    let mut names: Vec<String> = bases
        .iter()
        .zip(items)
        .map(|(b, (_, key))| {
            if counts.get(b.as_str()).copied().unwrap_or(0) > 1 {
                with_hash(b, key, max_len)
            } else {
                b.clone()
            }
        })
        .collect();
    // Remaining clashes (identical keys, a hashed name equal to another base):
    // numbered suffixes, given in order of (name, key, candidate) so the input order does not matter.
    let mut order: Vec<usize> = (0..items.len()).collect();
    order.sort_by(|&a, &b| (&names[a], items[a].1, items[a].0).cmp(&(&names[b], items[b].1, items[b].0)));
    let mut taken: BTreeSet<String> = BTreeSet::new();
    let mut clashing = Vec::new();
    for &i in &order {
        if !taken.insert(names[i].clone()) {
            clashing.push(i);
        }
    }
    for i in clashing {
        let mut n = 2usize;
        loop {
            let suffix = format!("_{n}");
            let head = cut(&names[i], max_len - suffix.len());
            let candidate = format!("{head}{suffix}");
            if taken.insert(candidate.clone()) {
                names[i] = candidate;
                break;
            }
            n += 1;
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitizes_common_shapes() {
        assert_eq!(sanitize_name("listPets", 64), "listPets");
        assert_eq!(sanitize_name("GET /pets/{id}", 64), "GET_pets_id");
        assert_eq!(sanitize_name("", 64), "tool");
        assert_eq!(sanitize_name("¿qué?", 64), "qu");
        assert!(is_valid_name(&sanitize_name("___", 64), 64));
    }

    #[test]
    fn long_names_cut_at_word_boundary_with_hash() {
        let raw = "enterprise-admin/list-self-hosted-runner-groups-for-enterprise-and-more";
        let n = sanitize_name(raw, 48);
        assert!(n.len() <= 48, "{n}");
        assert!(n.starts_with("enterprise_admin_list_self_hosted_runner_"), "{n}");
        assert!(is_valid_name(&n, 48));
        assert_ne!(n, sanitize_name(&format!("{raw}2"), 48));
    }

    #[test]
    fn identical_keys_still_unique() {
        let n = unique_names(&[("a", "k"), ("a", "k"), ("a_k", "z")], 64);
        let set: BTreeSet<_> = n.iter().collect();
        assert_eq!(set.len(), 3, "{n:?}");
    }
}
