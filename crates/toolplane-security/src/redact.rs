//! Redaction: the one place secrets are removed before anything is logged.
//!
//! Values under sensitive key names (`authorization`, `api_key`, `password`,
//! `token`, `secret`, `cookie`, ...) are replaced whole; every other string is
//! scanned for secret-shaped values (bearer tokens, `sk-...` keys, AWS access
//! keys, GitHub and Slack tokens, private key blocks) and those are replaced.
//! The audit sinks only accept a [`Redacted`] record, which can be built only
//! through this module, so no record reaches storage unredacted.

use std::sync::LazyLock;

use regex::{Regex, RegexSet};
use serde_json::Value;

/// What replaces a secret.
pub const MASK: &str = "[REDACTED]";

/// Key names (lowercased, `-` and `_` removed) that end with one of these are secret.
const SECRET_SUFFIXES: &[&str] = &[
    "authorization",
    "apikey",
    "password",
    "passwd",
    "passphrase",
    "token",
    "secret",
    "secretkey",
    "cookie",
    "setcookie",
    "privatekey",
    "accesskey",
    "accesskeyid",
    "credential",
    "credentials",
    "sessionid",
    "signature",
];

/// Key names that contain one of these anywhere are secret.
const SECRET_PARTS: &[&str] = &["password", "secret", "authorization", "apikey", "credential"];

const PATTERN_TEXT: &[&str] = &[
    r"(?i)\bbearer\s+[A-Za-z0-9\-._~+/]+=*",
    r"(?i)\bbasic\s+[A-Za-z0-9+/]{8,}=*",
    r"\bsk-[A-Za-z0-9_\-]{16,}",
    r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA)[A-Z0-9]{16}\b",
    r"(?i)aws.{0,20}?[=:]\s*[A-Za-z0-9/+]{40}\b",
    r"\bgh[pousr]_[A-Za-z0-9]{30,}",
    r"\bxox[abposr]-[A-Za-z0-9\-]{10,}",
    r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)",
    r"\beyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}",
];

/// `key=value` and `"key": "value"` pairs inside free text.
const PAIR_TEXT: &str = r#"(?i)\b([A-Za-z0-9_\-]*(?:password|passwd|secret|token|api[_\-]?key|authorization)[A-Za-z0-9_\-]*)("?\s*[:=]\s*"?)([^\s"',;&]+)"#;

static PATTERNS: LazyLock<Vec<Regex>> =
    LazyLock::new(|| PATTERN_TEXT.iter().filter_map(|p| Regex::new(p).ok()).collect());

static PAIR: LazyLock<Option<Regex>> = LazyLock::new(|| Regex::new(PAIR_TEXT).ok());

/// Patterns plus the key=value pair.
const SETS: usize = PATTERN_TEXT.len() + 1;

/// One pass over a text tells which patterns occur at all (most texts: none).
static ANY: LazyLock<Option<RegexSet>> =
    LazyLock::new(|| RegexSet::new(PATTERN_TEXT.iter().chain(std::iter::once(&PAIR_TEXT))).ok());

/// True when a key name marks its value as secret.
///
/// ```
/// use toolplane_security::redact::is_secret_key;
/// assert!(is_secret_key("Authorization"));
/// assert!(is_secret_key("x-api-key"));
/// assert!(is_secret_key("access_token"));
/// assert!(!is_secret_key("max_tokens"));
/// ```
pub fn is_secret_key(key: &str) -> bool {
    let k: String = key
        .chars()
        .filter(|c| *c != '-' && *c != '_' && *c != '.' && *c != ' ')
        .flat_map(char::to_lowercase)
        .collect();
    SECRET_SUFFIXES.iter().any(|s| k.ends_with(s)) || SECRET_PARTS.iter().any(|s| k.contains(s))
}

/// Replaces secret-shaped substrings of a text.
///
/// ```
/// use toolplane_security::redact::redact_text;
/// let t = redact_text("401 from upstream: Authorization: Bearer abc.def.ghi rejected, key sk-proj-0123456789abcdefXYZ");
/// assert!(!t.contains("abc.def.ghi") && !t.contains("sk-proj"));
/// ```
pub fn redact_text(text: &str) -> String {
    // Every pattern needs at least 8 characters.
    if text.len() < 8 {
        return text.to_string();
    }
    let hits = match ANY.as_ref() {
        Some(set) => set.matches(text),
        None => return slow_redact(text, &[true; SETS]),
    };
    if !hits.matched_any() {
        return text.to_string();
    }
    let mut which = [false; SETS];
    for i in hits.iter() {
        if let Some(w) = which.get_mut(i) {
            *w = true;
        }
    }
    slow_redact(text, &which)
}

fn slow_redact(text: &str, which: &[bool; SETS]) -> String {
    let mut out = std::borrow::Cow::Borrowed(text);
    for (i, re) in PATTERNS.iter().enumerate() {
        if which[i] && re.is_match(&out) {
            out = std::borrow::Cow::Owned(re.replace_all(&out, MASK).into_owned());
        }
    }
    if which[PATTERN_TEXT.len()] {
        if let Some(pair) = PAIR.as_ref() {
            let replaced = pair.replace_all(&out, |c: &regex::Captures<'_>| {
                let key = &c[1];
                if is_secret_key(key) && &c[3] != MASK {
                    format!("{key}{}{MASK}", &c[2])
                } else {
                    c[0].to_string()
                }
            });
            out = std::borrow::Cow::Owned(replaced.into_owned());
        }
    }
    out.into_owned()
}

/// Redacts a JSON value: secret keys lose their values, strings are scanned.
///
/// ```
/// use serde_json::json;
/// use toolplane_security::redact::redact_value;
/// let v = redact_value(&json!({"headers": {"Authorization": "Bearer xyz"}, "q": "ok"}));
/// assert_eq!(v, json!({"headers": {"Authorization": "[REDACTED]"}, "q": "ok"}));
/// ```
pub fn redact_value(v: &Value) -> Value {
    match v {
        Value::String(s) => Value::String(redact_text(s)),
        Value::Array(a) => Value::Array(a.iter().map(redact_value).collect()),
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, x)| {
                    let masked = if is_secret_key(k) && !x.is_null() {
                        Value::String(MASK.into())
                    } else {
                        redact_value(x)
                    };
                    (redact_text(k), masked)
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

/// A value that has been through redaction. Only this module builds one.
#[derive(Debug, Clone, PartialEq)]
pub struct Redacted<T>(T);

impl<T> Redacted<T> {
    /// The redacted value.
    pub fn get(&self) -> &T {
        &self.0
    }

    /// Unwraps the redacted value.
    pub fn into_inner(self) -> T {
        self.0
    }
}

/// Something that can be redacted into a [`Redacted`] form.
pub trait Redact: Sized {
    /// Removes secrets in place.
    fn redact_in_place(&mut self);

    /// Redacts and seals.
    fn redacted(mut self) -> Redacted<Self> {
        self.redact_in_place();
        Redacted(self)
    }
}
