//! The tool names each vendor accepts, and the name each tool is sent under.
//!
//! This is the one implementation of the vendors' name rules: the export
//! ([`export`](crate::export())) and the providers' requests both go through
//! [`wire_names`], so a name cannot be valid for one and not the other.

use std::collections::HashSet;

use crate::names::{DEFAULT_MAX_NAME_LEN, sanitize_name};

/// Which tool names a vendor accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum NameRule {
    /// `^[a-zA-Z0-9_-]{1,64}$`: OpenAI (Chat Completions and Responses), Anthropic, Mistral.
    LettersDigitsDashes,
    /// `^[a-zA-Z_][a-zA-Z0-9_]{0,63}$`: Cohere.
    Identifier,
    /// `^[a-zA-Z_][a-zA-Z0-9_-]{0,63}$`: Gemini. Google's references differ
    /// (some allow `.` and `:`, some 128 bytes, some no leading-letter rule);
    /// this is the narrowest, which every one of them accepts.
    Gemini,
}

impl NameRule {
    /// The rule as a regular expression, for messages.
    pub fn pattern(self) -> &'static str {
        match self {
            Self::LettersDigitsDashes => "^[a-zA-Z0-9_-]{1,64}$",
            Self::Identifier => "^[a-zA-Z_][a-zA-Z0-9_]{0,63}$",
            Self::Gemini => "^[a-zA-Z_][a-zA-Z0-9_-]{0,63}$",
        }
    }

    /// The longest name in bytes.
    pub fn max_len(self) -> usize {
        DEFAULT_MAX_NAME_LEN
    }

    /// True when the vendor accepts `name` as it is.
    pub fn accepts(self, name: &str) -> bool {
        self.check(name).is_ok()
    }

    /// Checks `name` against the rule; the error says what is wrong.
    ///
    /// ```
    /// use toolplane_schema::NameRule;
    /// assert!(NameRule::LettersDigitsDashes.check("my-tool").is_ok());
    /// assert_eq!(
    ///     NameRule::Identifier.check("my-tool").unwrap_err(),
    ///     "character '-' is not allowed"
    /// );
    /// ```
    ///
    /// # Errors
    /// A sentence naming the length, the first character or the character
    /// that breaks the rule.
    pub fn check(self, name: &str) -> Result<(), String> {
        let max = self.max_len();
        if name.is_empty() || name.len() > max {
            return Err(format!("{} bytes; the limit is 1 to {max}", name.len()));
        }
        if matches!(self, Self::Identifier | Self::Gemini) {
            if let Some(first) = name.chars().next() {
                if !(first.is_ascii_alphabetic() || first == '_') {
                    return Err(format!("it starts with {first:?}; it must start with a letter or `_`"));
                }
            }
        }
        let extra: &[char] = match self {
            Self::Identifier => &['_'],
            Self::Gemini | Self::LettersDigitsDashes => &['_', '-'],
        };
        match name.chars().find(|c| !c.is_ascii_alphanumeric() && !extra.contains(c)) {
            Some(bad) => Err(format!("character {bad:?} is not allowed")),
            None => Ok(()),
        }
    }
}

/// The name each of `names` is sent under for a vendor with `rule`, in order.
///
/// A name the rule accepts is kept. Another is sent in the registry's flat
/// form (`.` becomes `__`: `github.issues_create` → `github__issues_create`,
/// the form the executor resolves) when that is valid, else as
/// [`sanitize_name`] makes it; a clash with another tool's name gets a
/// numbered variant. The result depends only on the list.
///
/// ```
/// use toolplane_schema::{NameRule, wire_names};
/// let wire = wire_names(&["get_weather", "github.issues_create", "my-tool"], NameRule::Identifier);
/// assert_eq!(wire, ["get_weather", "github__issues_create", "my_tool"]);
/// ```
pub fn wire_names(names: &[&str], rule: NameRule) -> Vec<String> {
    let mut out: Vec<Option<String>> = names.iter().map(|n| rule.accepts(n).then(|| (*n).to_owned())).collect();
    let mut taken: HashSet<String> = out.iter().flatten().cloned().collect();
    for (slot, name) in out.iter_mut().zip(names) {
        if slot.is_some() {
            continue;
        }
        let flat = name.replace('.', "__");
        let mut wire = if rule.accepts(&flat) {
            flat
        } else {
            sanitize_name(name, rule.max_len())
        };
        let mut n = 2usize;
        while taken.contains(&wire) {
            wire = sanitize_name(&format!("{name} {n}"), rule.max_len());
            n += 1;
        }
        taken.insert(wire.clone());
        *slot = Some(wire);
    }
    out.into_iter().map(Option::unwrap_or_default).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const RULES: [NameRule; 3] = [NameRule::LettersDigitsDashes, NameRule::Identifier, NameRule::Gemini];

    proptest! {
        /// Any list of names: every wire name is valid for the rule, all are
        /// distinct, names the rule accepts are kept, and the result does not
        /// depend on anything but the list.
        #[test]
        fn wire_names_are_valid_unique_and_stable(
            names in proptest::collection::vec("[a-zA-Z0-9_.:/ é-]{0,80}", 0..12),
        ) {
            let mut names = names;
            names.sort();
            names.dedup();
            let refs: Vec<&str> = names.iter().map(String::as_str).collect();
            for rule in RULES {
                let wire = wire_names(&refs, rule);
                prop_assert_eq!(wire.len(), refs.len());
                let unique: HashSet<&String> = wire.iter().collect();
                prop_assert_eq!(unique.len(), wire.len(), "{:?} -> {:?}", refs, wire);
                for (n, w) in refs.iter().zip(&wire) {
                    prop_assert!(rule.accepts(w), "{} -> {}", n, w);
                    if rule.accepts(n) {
                        prop_assert_eq!(n, w);
                    }
                }
                prop_assert_eq!(&wire, &wire_names(&refs, rule));
            }
        }

        /// `check` agrees with the rule's regular expression, written out by hand.
        #[test]
        fn check_agrees_with_the_pattern(name in "[a-zA-Z0-9_.:/ é-]{0,70}") {
            let len_ok = !name.is_empty() && name.len() <= 64;
            let first = name.chars().next();
            let starts = first.is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
            let all = |extra: &str| name.chars().all(|c| c.is_ascii_alphanumeric() || extra.contains(c));
            prop_assert_eq!(NameRule::LettersDigitsDashes.accepts(&name), len_ok && all("_-"));
            prop_assert_eq!(NameRule::Identifier.accepts(&name), len_ok && starts && all("_"));
            prop_assert_eq!(NameRule::Gemini.accepts(&name), len_ok && starts && all("_-"));
        }
    }

    #[test]
    fn names_are_kept_flattened_or_sanitized_and_never_clash() {
        let names = [
            "get_weather",
            "demo.weather",
            "my-tool",
            "demo__weather",
            "a.b.c",
            "ünï.cødé",
            "9lives",
        ];
        let dashes = wire_names(&names, NameRule::LettersDigitsDashes);
        assert_eq!(dashes[0], "get_weather");
        assert_eq!(dashes[2], "my-tool");
        assert_eq!(dashes[3], "demo__weather", "a valid name keeps its own form");
        assert_ne!(dashes[1], "demo__weather", "and the dotted one does not take it");
        assert_eq!(dashes[4], "a__b__c");
        assert_eq!(dashes[6], "9lives");
        let cohere = wire_names(&names, NameRule::Identifier);
        assert_eq!(cohere[2], "my_tool");
        assert_eq!(cohere[6], "_9lives");
        let gemini = wire_names(&names, NameRule::Gemini);
        assert_eq!(gemini[1], dashes[1], "no dots for Gemini");
        assert_eq!(gemini[2], "my-tool");
        assert_eq!(gemini[6], "_9lives");
        for (rule, set) in [
            (NameRule::LettersDigitsDashes, &dashes),
            (NameRule::Identifier, &cohere),
            (NameRule::Gemini, &gemini),
        ] {
            let unique: HashSet<&String> = set.iter().collect();
            assert_eq!(unique.len(), names.len(), "{set:?}");
            for n in set {
                assert!(rule.accepts(n), "{n}");
            }
        }
    }

    #[test]
    fn errors_name_the_problem() {
        assert!(NameRule::Gemini.check("1tool").unwrap_err().contains("starts with '1'"));
        assert!(NameRule::LettersDigitsDashes.check("1tool").is_ok());
        assert!(
            NameRule::Identifier
                .check(&"a".repeat(65))
                .unwrap_err()
                .contains("65 bytes")
        );
        assert!(NameRule::LettersDigitsDashes.check("").is_err());
    }
}
