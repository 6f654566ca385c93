//! Where a field of a configuration file sits in its text, so a value that
//! parses but makes no sense can be reported with its line.
//!
//! Only the error path uses this: the text is read a second time, by the
//! TOML parser's spanned document for TOML and by a small scanner for JSON
//! (the text already parsed, so the scanner may assume it is well formed).

use std::fmt;

/// One step of a field path: a key or an array index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Seg {
    Key(String),
    Index(usize),
}

/// A field path such as `experts[2].stats.wins`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct FieldPath(pub(crate) Vec<Seg>);

impl FieldPath {
    pub(crate) fn key(mut self, k: &str) -> Self {
        self.0.push(Seg::Key(k.to_owned()));
        self
    }

    pub(crate) fn index(mut self, i: usize) -> Self {
        self.0.push(Seg::Index(i));
        self
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (n, s) in self.0.iter().enumerate() {
            match s {
                Seg::Key(k) if n == 0 => f.write_str(k)?,
                Seg::Key(k) => write!(f, ".{k}")?,
                Seg::Index(i) => write!(f, "[{i}]")?,
            }
        }
        Ok(())
    }
}

/// `line:column` (1-based) of the deepest part of `path` present in `text`.
pub(crate) fn locate(text: &str, json: bool, path: &FieldPath) -> Option<String> {
    let offset = if json {
        json_offset(text, &path.0)
    } else {
        toml_offset(text, &path.0)
    }?;
    Some(line_col(text, offset))
}

/// `line:column` (1-based) of a byte offset.
pub(crate) fn line_col(text: &str, offset: usize) -> String {
    let mut end = offset.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let before = &text[..end];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    format!("{line}:{col}")
}

fn toml_offset(text: &str, path: &[Seg]) -> Option<usize> {
    use toml::de::{DeTable, DeValue};
    let root = DeTable::parse(text).ok()?;
    let mut best = None;
    let mut table: Option<&DeTable<'_>> = Some(root.get_ref());
    let mut value: Option<&DeValue<'_>> = None;
    for seg in path {
        match seg {
            Seg::Key(k) => {
                let t = match (table, value) {
                    (Some(t), _) => t,
                    (None, Some(DeValue::Table(t))) => t,
                    _ => break,
                };
                let Some((key, v)) = t.get_key_value(k.as_str()) else {
                    break;
                };
                best = Some(key.span().start);
                table = None;
                value = Some(v.get_ref());
            }
            Seg::Index(i) => {
                let Some(DeValue::Array(a)) = value else { break };
                let Some(v) = a.get(*i) else { break };
                best = Some(v.span().start);
                table = None;
                value = Some(v.get_ref());
            }
        }
    }
    best
}

/// A scanner over JSON text that is known to be well formed.
struct Scan<'a> {
    b: &'a [u8],
    i: usize,
}

impl Scan<'_> {
    fn ws(&mut self) {
        while self.b.get(self.i).is_some_and(u8::is_ascii_whitespace) {
            self.i += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    /// Skips a string starting at `"`; returns its raw content.
    fn string(&mut self) -> &[u8] {
        let start = self.i + 1;
        self.i += 1;
        while let Some(c) = self.peek() {
            self.i += 1;
            match c {
                b'\\' => self.i += 1,
                b'"' => return &self.b[start..self.i - 1],
                _ => {}
            }
        }
        &self.b[start.min(self.b.len())..]
    }

    fn skip_value(&mut self) {
        self.ws();
        match self.peek() {
            Some(b'"') => {
                self.string();
            }
            Some(b'{' | b'[') => {
                let mut depth = 0usize;
                while let Some(c) = self.peek() {
                    match c {
                        b'"' => {
                            self.string();
                            continue;
                        }
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' => {
                            depth -= 1;
                            if depth == 0 {
                                self.i += 1;
                                return;
                            }
                        }
                        _ => {}
                    }
                    self.i += 1;
                }
            }
            _ => {
                while self
                    .peek()
                    .is_some_and(|c| !matches!(c, b',' | b'}' | b']') && !c.is_ascii_whitespace())
                {
                    self.i += 1;
                }
            }
        }
    }

    /// Moves to the member `key` of the object here; false when absent.
    fn member(&mut self, key: &str) -> bool {
        self.ws();
        if self.peek() != Some(b'{') {
            return false;
        }
        self.i += 1;
        loop {
            self.ws();
            if self.peek() != Some(b'"') {
                return false;
            }
            let raw = self.string();
            let matches = if raw.contains(&b'\\') {
                let quoted = format!("\"{}\"", String::from_utf8_lossy(raw));
                serde_json::from_str::<String>(&quoted).is_ok_and(|s| s == key)
            } else {
                raw == key.as_bytes()
            };
            self.ws();
            self.i += 1; // ':'
            if matches {
                self.ws();
                return true;
            }
            self.skip_value();
            self.ws();
            if self.peek() != Some(b',') {
                return false;
            }
            self.i += 1;
        }
    }

    /// Moves to element `n` of the array here; false when absent.
    fn element(&mut self, n: usize) -> bool {
        self.ws();
        if self.peek() != Some(b'[') {
            return false;
        }
        self.i += 1;
        for _ in 0..n {
            self.ws();
            if self.peek() == Some(b']') {
                return false;
            }
            self.skip_value();
            self.ws();
            if self.peek() != Some(b',') {
                return false;
            }
            self.i += 1;
        }
        self.ws();
        self.peek().is_some_and(|c| c != b']')
    }
}

fn json_offset(text: &str, path: &[Seg]) -> Option<usize> {
    let mut s = Scan {
        b: text.as_bytes(),
        i: 0,
    };
    let mut best = None;
    for seg in path {
        let found = match seg {
            Seg::Key(k) => s.member(k),
            Seg::Index(i) => s.element(*i),
        };
        if !found {
            break;
        }
        best = Some(s.i);
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(segs: &[&str]) -> FieldPath {
        let mut path = FieldPath::default();
        for s in segs {
            path = match s.parse::<usize>() {
                Ok(i) => path.index(i),
                Err(_) => path.key(s),
            };
        }
        path
    }

    #[test]
    fn paths_print_like_field_paths() {
        assert_eq!(
            p(&["experts", "2", "stats", "wins"]).to_string(),
            "experts[2].stats.wins"
        );
    }

    #[test]
    fn toml_fields_are_found_by_line() {
        let text = "seed = 1\nbudget_usd = nan\n\n[[experts]]\nprovider = \"a\"\nmodel = \"m\"\n\n[[experts]]\nprovider = \"b\"\nmodel = \"m\"\nstats = { wins = 5, judged = 2 }\n";
        assert_eq!(locate(text, false, &p(&["budget_usd"])).as_deref(), Some("2:1"));
        assert_eq!(
            locate(text, false, &p(&["experts", "1", "stats", "wins"])).as_deref(),
            Some("11:11")
        );
        // A field left out: the deepest part that is there.
        assert_eq!(
            locate(text, false, &p(&["experts", "1", "budget_usd"]))
                .map(|l| l.starts_with("8:") || l.starts_with("9:")),
            Some(true)
        );
    }

    #[test]
    fn json_fields_are_found_by_line() {
        let text = "{\n  \"seed\": 1,\n  \"experts\": [\n    { \"provider\": \"a\", \"model\": \"m\" },\n    { \"provider\": \"b\", \"model\": \"m\",\n      \"stats\": { \"wins\": 5, \"judged\": 2 } }\n  ]\n}";
        assert_eq!(
            locate(text, true, &p(&["experts", "1", "stats", "wins"])).as_deref(),
            Some("6:26")
        );
        assert_eq!(
            locate(text, true, &p(&["experts", "0", "model"])).as_deref(),
            Some("4:33")
        );
        assert_eq!(
            locate(text, true, &p(&["experts", "1", "budget_usd"])).as_deref(),
            Some("5:5")
        );
    }
}
