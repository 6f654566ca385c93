//! A credential value that never shows itself in `Debug`, `Display` or errors.

use std::fmt;

/// A secret string (token, password, API key, client secret).
///
/// `Debug` and `Display` print `[redacted]`; the value is reachable only
/// through [`Secret::expose`], which the request builder calls when it writes
/// the credential onto the wire. There is no `Serialize` implementation, so a
/// secret cannot end up in a tool schema or a JSON result by accident.
///
/// ```
/// use toolplane_openapi::http::Secret;
/// let s = Secret::new("ghp_abc");
/// assert_eq!(format!("{s:?} {s}"), "[redacted] [redacted]");
/// assert_eq!(s.expose(), "ghp_abc");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// Reads the secret from an environment variable. The error names the
    /// variable, never a value.
    pub fn from_env(var: &str) -> Result<Self, MissingSecret> {
        match std::env::var(var) {
            Ok(v) if !v.trim().is_empty() => Ok(Self(v.trim().to_owned())),
            _ => Err(MissingSecret { var: var.to_owned() }),
        }
    }

    /// The value, for writing it onto the wire.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// True when the value is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self(value.to_owned())
    }
}

/// An environment variable that should hold a credential is unset or empty.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the environment variable {var} is unset or empty; it should hold a credential")]
pub struct MissingSecret {
    /// The variable's name.
    pub var: String,
}

/// Replaces every occurrence of each secret's value in `text` with `[redacted]`.
/// Used on every message that leaves the HTTP layer, as a second line of
/// defence after messages that are built without secrets in the first place.
pub(crate) fn scrub(text: &str, secrets: &[&Secret]) -> String {
    let mut out = text.to_owned();
    for s in secrets {
        if s.0.len() >= 3 && out.contains(&s.0) {
            out = out.replace(&s.0, "[redacted]");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_hide_the_value() {
        let s = Secret::new("hunter2");
        assert!(!format!("{s:?}{s}{:?}", Some(&s)).contains("hunter2"));
    }

    #[test]
    fn scrub_replaces_values() {
        let s = Secret::new("tok_123");
        assert_eq!(scrub("bad tok_123 here", &[&s]), "bad [redacted] here");
    }

    #[test]
    fn missing_env_names_the_variable() {
        let e = Secret::from_env("TOOLPLANE_TEST_SURELY_UNSET_VAR").unwrap_err();
        assert!(e.to_string().contains("TOOLPLANE_TEST_SURELY_UNSET_VAR"));
    }
}
