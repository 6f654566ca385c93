//! Tool names: what a name may contain, its provider-safe flat form, and the
//! skeleton that makes look-alike names collide.
//!
//! ```text
//!   github.issues_create  ──flatten──►  github__issues_create   (what a provider sees)
//!   GitHub.issues_create  ──skeleton─►  github__lssues_create   (same as the first: rejected)
//!   gіthub.issues_create  (Cyrillic і)  ──skeleton─► github__lssues_create  (rejected)
//! ```

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// The name of the discovery search tool ([`ExecutorBuilder::with_discovery_tools`](crate::ExecutorBuilder::with_discovery_tools)).
pub const SEARCH_TOOLS: &str = "search_tools";
/// The name of the discovery call tool ([`ExecutorBuilder::with_discovery_tools`](crate::ExecutorBuilder::with_discovery_tools)).
pub const CALL_TOOL: &str = "call_tool";

/// Separates a namespace from the rest of a name (`github.issues_create`).
pub const NAMESPACE_SEPARATOR: char = '.';

/// Replaces [`NAMESPACE_SEPARATOR`] in the flat, provider-safe form of a name.
pub const FLAT_SEPARATOR: &str = "__";

/// What a registry accepts as a tool name.
///
/// A name is one or more segments joined by `.`; each segment is made of
/// letters, digits, `_` and `-`. With `ascii_only` (the default) the letters
/// must be ASCII, so every name flattens to a form all providers accept.
///
/// ```
/// use toolplane_registry::NamePolicy;
/// let p = NamePolicy::default();
/// assert!(p.check("github.issues_create").is_ok());
/// assert!(p.check("gіthub.x").unwrap_err().contains("U+0456"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamePolicy {
    /// Only ASCII letters and digits (default `true`).
    pub ascii_only: bool,
    /// Longest flat name in bytes (default 64, the common provider limit).
    pub max_flat_len: usize,
}

impl Default for NamePolicy {
    fn default() -> Self {
        Self {
            ascii_only: true,
            max_flat_len: 64,
        }
    }
}

impl NamePolicy {
    /// Checks `name`; the error says which character or segment is wrong.
    pub fn check(&self, name: &str) -> Result<(), String> {
        if name.is_empty() {
            return Err("the name is empty".into());
        }
        for (i, segment) in name.split(NAMESPACE_SEPARATOR).enumerate() {
            if segment.is_empty() {
                return Err(format!(
                    "`{name}`: segment {} is empty (names look like `namespace.tool`)",
                    i + 1
                ));
            }
        }
        for (pos, ch) in name.chars().enumerate() {
            let allowed = ch == NAMESPACE_SEPARATOR
                || ch == '_'
                || ch == '-'
                || ch.is_ascii_alphanumeric()
                || (!self.ascii_only && ch.is_alphanumeric());
            if !allowed {
                let looks = confusable(ch)
                    .map(|l| format!("; it looks like `{l}`"))
                    .unwrap_or_default();
                let what = if ch.is_ascii() { "not allowed" } else { "not ASCII" };
                return Err(format!(
                    "`{name}`: character {ch:?} (U+{:04X}) at position {pos} is {what} (use letters, digits, `_`, `-` and `.` between namespaces){looks}",
                    ch as u32
                ));
            }
        }
        let flat_len = flatten(name).len();
        if flat_len > self.max_flat_len {
            return Err(format!(
                "`{name}`: the provider-safe form is {flat_len} bytes; the limit is {}",
                self.max_flat_len
            ));
        }
        Ok(())
    }
}

/// The provider-safe form of a name: `.` becomes `__`.
///
/// ```
/// assert_eq!(toolplane_registry::flatten("github.issues_create"), "github__issues_create");
/// ```
pub fn flatten(name: &str) -> String {
    name.replace(NAMESPACE_SEPARATOR, FLAT_SEPARATOR)
}

/// The namespace of a name: everything before the last `.`, if any.
///
/// ```
/// assert_eq!(toolplane_registry::namespace_of("github.issues.create"), Some("github.issues"));
/// assert_eq!(toolplane_registry::namespace_of("now"), None);
/// ```
pub fn namespace_of(name: &str) -> Option<&str> {
    name.rfind(NAMESPACE_SEPARATOR).map(|i| &name[..i])
}

/// The look-alike skeleton of a name: two names with the same skeleton are
/// too easy to confuse (for a model or a reader) to live in one registry.
///
/// Steps: flatten; Unicode NFKD (compatibility forms such as full-width
/// letters fold to ASCII); drop combining marks and invisible characters;
/// map common homoglyphs (Cyrillic and Greek letters that look Latin, `0`/`O`,
/// `1`/`I`/`l`/`i`); lowercase; `-` as `_`; `rn` as `m`.
///
/// ```
/// use toolplane_registry::skeleton;
/// assert_eq!(skeleton("GitHub.Issues"), skeleton("github.issues"));
/// assert_eq!(skeleton("gіthub.issues"), skeleton("github.issues")); // Cyrillic і
/// assert_eq!(skeleton("ｇｉｔｈｕｂ.issues"), skeleton("github.issues")); // full width
/// assert_ne!(skeleton("github.issues"), skeleton("github.pulls"));
/// ```
pub fn skeleton(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    for ch in flatten(name).nfkd() {
        if is_combining_mark(ch) || is_invisible(ch) {
            continue;
        }
        let mapped = confusable(ch).unwrap_or(ch);
        for lower in mapped.to_lowercase() {
            let folded = match lower {
                '-' => '_',
                'i' | '1' | '|' => 'l',
                '0' => 'o',
                other => other,
            };
            out.push(folded);
        }
    }
    if out.contains("rn") {
        out.replace("rn", "m")
    } else {
        out
    }
}

fn is_invisible(ch: char) -> bool {
    matches!(ch, '\u{00AD}' | '\u{200B}'..='\u{200F}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}')
}

/// The ASCII letter a character is commonly mistaken for, if any.
fn confusable(ch: char) -> Option<char> {
    Some(match ch {
        // Cyrillic
        'а' => 'a',
        'в' => 'b',
        'е' | 'ё' => 'e',
        'һ' => 'h',
        'і' | 'ї' => 'i',
        'ј' => 'j',
        'к' => 'k',
        'ӏ' => 'l',
        'м' => 'm',
        'н' => 'h',
        'о' => 'o',
        'р' => 'p',
        'ԛ' => 'q',
        'с' => 'c',
        'ѕ' => 's',
        'т' => 't',
        'у' => 'y',
        'ԝ' => 'w',
        'х' => 'x',
        'ԁ' => 'd',
        'А' => 'A',
        'В' => 'B',
        'Е' => 'E',
        'І' => 'I',
        'Ј' => 'J',
        'К' => 'K',
        'М' => 'M',
        'Н' => 'H',
        'О' => 'O',
        'Р' => 'P',
        'С' => 'C',
        'Ѕ' => 'S',
        'Т' => 'T',
        'Х' => 'X',
        'У' => 'Y',
        // Greek
        'α' => 'a',
        'ε' => 'e',
        'ι' => 'i',
        'κ' => 'k',
        'ν' => 'v',
        'ο' => 'o',
        'ρ' => 'p',
        'τ' => 't',
        'υ' => 'u',
        'χ' => 'x',
        'Α' => 'A',
        'Β' => 'B',
        'Ε' => 'E',
        'Ζ' => 'Z',
        'Η' => 'H',
        'Ι' => 'I',
        'Κ' => 'K',
        'Μ' => 'M',
        'Ν' => 'N',
        'Ο' => 'O',
        'Ρ' => 'P',
        'Τ' => 'T',
        'Υ' => 'Y',
        'Χ' => 'X',
        // Latin look-alikes that NFKD keeps apart
        'ı' => 'i',
        'ɡ' => 'g',
        'ǀ' => 'l',
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_rejects_bad_shapes() {
        let p = NamePolicy::default();
        assert!(p.check("").is_err());
        assert!(p.check("a..b").unwrap_err().contains("segment 2 is empty"));
        assert!(p.check(".a").is_err());
        assert!(p.check("a b").unwrap_err().contains("position 1"));
        assert!(p.check("zero\u{200B}width").is_err());
        assert!(p.check(&"x".repeat(65)).unwrap_err().contains("limit is 64"));
        // 31 + 1 + 31 = 63 characters, 64 once flattened.
        assert!(p.check(&format!("{}.{}", "a".repeat(31), "b".repeat(31))).is_ok());
        assert!(p.check(&format!("{}.{}", "a".repeat(32), "b".repeat(31))).is_err());
    }

    #[test]
    fn unicode_policy_allows_letters_but_not_symbols() {
        let p = NamePolicy {
            ascii_only: false,
            ..NamePolicy::default()
        };
        assert!(p.check("météo.prévision").is_ok());
        assert!(p.check("a→b").is_err());
    }

    #[test]
    fn skeleton_catches_common_look_alikes() {
        let base = skeleton("tools.list_items");
        for other in [
            "Tools.List_Items",
            "tools.list-items",
            "tооls.list_items", // Cyrillic o
            "tools.lIst_items",
            "t00ls.list_items",
            "tools__list_items",
            "to\u{200D}ols.list_items",
        ] {
            assert_eq!(skeleton(other), base, "{other}");
        }
        assert_eq!(skeleton("modern"), skeleton("modem"));
        assert_ne!(skeleton("tools.list_items"), skeleton("tools.list_item"));
    }
}
