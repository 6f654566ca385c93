//! Untrusted text made safe to print on a terminal.
//!
//! A description's title, a path, a model name or a model's answer may carry
//! bytes a terminal obeys: ESC and CSI sequences (clear the screen, move the
//! cursor), OSC (set the window title, write the clipboard, hyperlinks), a
//! carriage return that overwrites the line, or bidirectional overrides that
//! make text read differently from what it is. Everything the CLI prints from
//! such sources goes through one of these functions, which replace those
//! characters with visible escapes (`\x1b`, `\u{202e}`) and leave all other
//! text as it is.

use std::borrow::Cow;
use std::fmt::Write as _;

/// True for the characters a terminal may act on instead of showing:
/// C0 controls, DEL, C1 controls, and the Unicode bidirectional controls
/// (embeddings, overrides, isolates and marks).
fn is_hostile(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}'
        | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{61c}'
    )
}

fn escape_with(s: &str, keep: impl Fn(char) -> bool) -> Cow<'_, str> {
    if !s.chars().any(|c| is_hostile(c) && !keep(c)) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if !is_hostile(c) || keep(c) {
            out.push(c);
            continue;
        }
        let _ = match c {
            '\n' => out.write_str("\\n"),
            '\r' => out.write_str("\\r"),
            '\t' => out.write_str("\\t"),
            c if (c as u32) < 0x80 => write!(out, "\\x{:02x}", c as u32),
            c => write!(out, "\\u{{{:x}}}", c as u32),
        };
    }
    Cow::Owned(out)
}

/// For text shown on one line (a title, a path, a name, a warning): every
/// control character is escaped, newlines and tabs included, so the text
/// cannot start a line that looks like the CLI's own output.
pub(crate) fn escape_line(s: &str) -> Cow<'_, str> {
    escape_with(s, |_| false)
}

/// For running text (a model's answer): newlines and tabs stay; every other
/// control character is escaped.
pub(crate) fn escape_text(s: &str) -> Cow<'_, str> {
    escape_with(s, |c| c == '\n' || c == '\t')
}

/// For JSON the CLI prints (already serialized, so C0 controls inside strings
/// are `\u00XX` escapes): DEL, C1 and bidirectional controls, which JSON
/// allows raw, become `\uXXXX` escapes too. The JSON means the same; only its
/// spelling changes (these characters occur only inside strings).
pub(crate) fn escape_json(json: &str) -> Cow<'_, str> {
    if !json.chars().any(is_hostile_in_json) {
        return Cow::Borrowed(json);
    }
    let mut out = String::with_capacity(json.len() + 16);
    for c in json.chars() {
        if is_hostile_in_json(c) {
            let _ = write!(out, "\\u{:04x}", c as u32);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

fn is_hostile_in_json(c: char) -> bool {
    is_hostile(c) && !matches!(c, '\n' | ' ' | '\t' | '\r')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_become_visible_escapes_and_other_text_stays() {
        assert_eq!(escape_line("Pets API"), "Pets API");
        assert!(matches!(escape_line("Pets — ünïcode ✓"), Cow::Borrowed(_)));
        assert_eq!(escape_line("a\x1b]0;pwned\x07b"), "a\\x1b]0;pwned\\x07b");
        assert_eq!(escape_line("x\x1b[2Jy\r\nz\tw\x7f"), "x\\x1b[2Jy\\r\\nz\\tw\\x7f");
        assert_eq!(
            escape_line("\u{9b}31m evil \u{202e}txt.exe"),
            "\\u{9b}31m evil \\u{202e}txt.exe"
        );
        assert_eq!(escape_text("two\n\tlines\x1b[H"), "two\n\tlines\\x1b[H");
        assert_eq!(escape_text("over\rwrite"), "over\\rwrite");
    }

    #[test]
    fn json_keeps_its_meaning() {
        let v = serde_json::json!({"t": "a\u{1b}[2J\u{9b}\u{202e}\u{7f}b", "n": [1, 2]});
        let pretty = serde_json::to_string_pretty(&v).unwrap();
        let safe = escape_json(&pretty);
        assert!(!safe.chars().any(|c| is_hostile(c) && c != '\n'), "{safe}");
        let back: serde_json::Value = serde_json::from_str(&safe).unwrap();
        assert_eq!(back, v);
    }
}
