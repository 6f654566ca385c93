//! Redaction: the one place secrets are taken out of the text this crate
//! produces.
//!
//! Two rules, applied together by [`Secrets::redact`]:
//!
//! 1. **The configured secrets, byte for byte.** The API key (and the value
//!    of any configured header whose name says it is a credential) is
//!    replaced wherever it appears, whatever surrounds it: `key:SK`,
//!    `key=SK`, `{"provided":"SK"}`, a URL, a short key without any prefix.
//!    Its JSON-escaped form is replaced too.
//! 2. **Secret-shaped words** ([`redact_patterns`]): `sk-`/`sk_`/`key-`
//!    prefixed keys of 20 bytes or more, and 32+ byte tokens mixing upper
//!    case and digits, for keys the client was never given (a server that
//!    echoes someone else's key).
//!
//! Every error a provider returns passes through [`Secrets::redact_error`]
//! (in the HTTP client, for calls and for each stream item), so no path
//! that builds a message can forget it.
//!
//! ```
//! use toolplane_providers::redact::Secrets;
//! let secrets = Secrets::new().with_secret("mistral0key");
//! assert_eq!(secrets.redact(r#"{"provided":"mistral0key"}"#), r#"{"provided":"[redacted]"}"#);
//! assert_eq!(secrets.redact("key=mistral0key; key:mistral0key"), "key=[redacted]; key:[redacted]");
//! ```

use std::fmt;

use toolplane_core::ProviderError;

/// What replaces a secret.
pub const MASK: &str = "[redacted]";

/// Secrets shorter than this are not redacted byte for byte: replacing
/// every `k` of a message for a one-letter test key would destroy the
/// message and protect nothing (no real API key is that short).
pub const MIN_SECRET_LEN: usize = 4;

/// The exact secrets of one client (its key, credential header values).
/// `Debug` shows how many, never what.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secrets {
    /// Longest first, so a secret that contains another is replaced whole.
    values: Vec<String>,
}

impl fmt::Debug for Secrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secrets({} values)", self.values.len())
    }
}

impl Secrets {
    /// No secrets (only the pattern rules apply).
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a secret; one shorter than [`MIN_SECRET_LEN`] bytes (after
    /// trimming) is ignored.
    pub fn with_secret(mut self, secret: &str) -> Self {
        self.add(secret);
        self
    }

    /// Adds a secret (see [`with_secret`](Self::with_secret)).
    pub fn add(&mut self, secret: &str) {
        let secret = secret.trim();
        if secret.len() < MIN_SECRET_LEN {
            return;
        }
        let mut forms = vec![secret.to_owned()];
        // As it appears inside a JSON string.
        if let Ok(quoted) = serde_json::to_string(secret) {
            let inner = &quoted[1..quoted.len() - 1];
            if inner != secret {
                forms.push(inner.to_owned());
            }
        }
        for form in forms {
            if !self.values.contains(&form) {
                self.values.push(form);
            }
        }
        self.values.sort_by_key(|v| std::cmp::Reverse(v.len()));
    }

    /// Adds the value of a header whose name marks it as a credential
    /// (`authorization`, `*key*`, `*token*`, `*secret*`, `cookie`).
    pub fn add_header(&mut self, name: &str, value: &str) {
        if is_credential_header(name) {
            let value = value.trim();
            // `Bearer xyz`: the token alone is the secret.
            let value = value
                .strip_prefix("Bearer ")
                .or_else(|| value.strip_prefix("bearer "))
                .unwrap_or(value);
            self.add(value);
        }
    }

    /// True when no exact secret is known.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// True when `text` contains one of the exact secrets.
    pub fn appears_in(&self, text: &str) -> bool {
        self.values.iter().any(|v| text.contains(v.as_str()))
    }

    /// `text` with every exact secret and every secret-shaped word replaced
    /// by [`MASK`].
    pub fn redact(&self, text: &str) -> String {
        let mut out = if self.appears_in(text) {
            let mut s = text.to_owned();
            for v in &self.values {
                if s.contains(v.as_str()) {
                    s = s.replace(v.as_str(), MASK);
                }
            }
            s
        } else {
            text.to_owned()
        };
        if looks_like_it_has_a_key(&out) {
            out = redact_patterns(&out);
        }
        out
    }

    /// The error with its message, and the text of its causes, redacted.
    /// An error that holds no secret is returned as it is (its source kept);
    /// otherwise it is rebuilt with the same kind, status, request id and
    /// retry-after, and its cause replaced by the cause's redacted text.
    pub fn redact_error(&self, err: ProviderError) -> ProviderError {
        let message = self.redact(err.message());
        let mut cause = String::new();
        let mut next = std::error::Error::source(&err);
        while let Some(e) = next {
            if !cause.is_empty() {
                cause.push_str(": ");
            }
            cause.push_str(&e.to_string());
            next = e.source();
        }
        let cause_dirty = !cause.is_empty() && self.redact(&cause) != cause;
        if message == err.message() && !cause_dirty {
            return err;
        }
        let mut out = ProviderError::new(err.kind(), err.provider(), message);
        if let Some(s) = err.status() {
            out = out.with_status(s);
        }
        if let Some(id) = err.request_id() {
            out = out.with_request_id(self.redact(id));
        }
        if let Some(after) = err.retry_after() {
            out = out.with_retry_after(after);
        }
        if !cause.is_empty() {
            out = out.with_source(RedactedCause(self.redact(&cause)));
        }
        out
    }
}

/// The text of an error's causes, with secrets taken out.
#[derive(Debug)]
struct RedactedCause(String);

impl fmt::Display for RedactedCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for RedactedCause {}

/// True for header names that carry credentials.
pub fn is_credential_header(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n == "authorization"
        || n == "proxy-authorization"
        || n == "cookie"
        || n.contains("key")
        || n.contains("token")
        || n.contains("secret")
}

/// A cheap look before the word scan: most texts have no long word at all.
fn looks_like_it_has_a_key(text: &str) -> bool {
    text.len() >= 20
}

/// Replaces secret-shaped words (see the module docs) with [`MASK`]. Words
/// are split on whitespace and on the punctuation around keys in bodies
/// (`"`, `'`, `:`, `=`, `,`, `;`, brackets), so `key:sk-...` and
/// `{"k":"sk-..."}` are caught too.
pub fn redact_patterns(text: &str) -> String {
    let is_word = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(is_word) {
        out.push_str(&rest[..start]);
        let word_and_after = &rest[start..];
        let end = word_and_after
            .find(|c: char| !is_word(c))
            .unwrap_or(word_and_after.len());
        let word = &word_and_after[..end];
        if looks_secret(word) {
            out.push_str(MASK);
        } else {
            out.push_str(word);
        }
        rest = &word_and_after[end..];
    }
    out.push_str(rest);
    out
}

fn looks_secret(word: &str) -> bool {
    let bare = word.trim_matches(|c: char| c == '-' || c == '_');
    (bare.len() >= 20 && (bare.starts_with("sk-") || bare.starts_with("sk_") || bare.starts_with("key-")))
        || (bare.len() >= 32
            && bare.bytes().any(|b| b.is_ascii_digit())
            && bare.bytes().any(|b| b.is_ascii_uppercase()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use toolplane_core::ProviderErrorKind;

    const SHORT: &str = "Zq81mistralKey"; // no `sk-`, under 32 bytes

    #[test]
    fn the_exact_key_goes_whatever_surrounds_it() {
        let s = Secrets::new().with_secret(SHORT);
        for text in [
            format!("key:{SHORT}"),
            format!("key={SHORT}"),
            format!(r#"{{"provided":"{SHORT}"}}"#),
            format!("invalid api token{SHORT}."),
            format!("https://x.test/v1?key={SHORT}&a=1"),
            format!("{SHORT}{SHORT}"),
            SHORT.to_owned(),
        ] {
            let r = s.redact(&text);
            assert!(!r.contains(SHORT), "{text} -> {r}");
            assert!(r.contains(MASK), "{text} -> {r}");
        }
        assert_eq!(s.redact("nothing here"), "nothing here");
    }

    #[test]
    fn a_key_with_json_escapes_is_caught_in_a_json_body() {
        let key = r#"ab"cd\efgh"#;
        let s = Secrets::new().with_secret(key);
        let body = serde_json::json!({ "provided": key }).to_string();
        assert!(!s.redact(&body).contains("efgh"), "{}", s.redact(&body));
    }

    #[test]
    fn pattern_rules_catch_keys_we_were_not_given() {
        let s = Secrets::new();
        for text in [
            "key:sk-proj-abcdefghijklmnopqrstuv",
            r#"{"provided":"sk-ant-api03-abcdefghijklmnop"}"#,
            "token=ABCDEFGHIJKLMNOPQRSTUVWXYZ012345abcdef",
        ] {
            let r = s.redact(text);
            assert!(r.contains(MASK), "{text} -> {r}");
            assert!(!r.contains("abcdefghijklmnop"), "{text} -> {r}");
        }
        assert_eq!(
            s.redact("the model gpt-4o-mini-2024-07-18"),
            "the model gpt-4o-mini-2024-07-18"
        );
    }

    #[test]
    fn tiny_secrets_are_ignored_and_headers_are_picked_by_name() {
        let s = Secrets::new().with_secret("k");
        assert_eq!(s.redact("keep the k"), "keep the k");
        let mut s = Secrets::new();
        s.add_header("x-goog-api-key", "goog1234");
        s.add_header("Authorization", "Bearer tok12345");
        s.add_header("x-trace", "trace1234");
        assert_eq!(
            s.redact("goog1234 tok12345 trace1234"),
            "[redacted] [redacted] trace1234"
        );
        assert_eq!(format!("{s:?}"), "Secrets(2 values)");
    }

    #[test]
    fn errors_are_rebuilt_only_when_they_hold_a_secret() {
        let s = Secrets::new().with_secret(SHORT);
        let clean = ProviderError::new(ProviderErrorKind::Server, "p", "boom").with_status(500);
        let kept = s.redact_error(clean);
        assert_eq!(kept.message(), "boom");
        let dirty = ProviderError::new(ProviderErrorKind::Authentication, "p", format!("bad key={SHORT}"))
            .with_status(401)
            .with_request_id("req_1")
            .with_source(std::io::Error::other(format!("cause {SHORT}")));
        let e = s.redact_error(dirty);
        assert_eq!(e.kind(), ProviderErrorKind::Authentication);
        assert_eq!(e.status(), Some(401));
        assert_eq!(e.request_id(), Some("req_1"));
        let shown = format!(
            "{e} {e:?} {}",
            std::error::Error::source(&e).map(|c| c.to_string()).unwrap_or_default()
        );
        assert!(!shown.contains(SHORT), "{shown}");
        assert!(shown.contains("bad key=[redacted]"), "{shown}");
    }
}
