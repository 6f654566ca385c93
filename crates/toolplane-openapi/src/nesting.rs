//! A bound on nesting, checked in one linear pass before any parser runs.
//!
//! serde_json stops at 128 levels, but the YAML parser reads every event of a
//! document before its own depth check, and that reading is quadratic in the
//! nesting: 50,000 levels of `[` took minutes. So the text is scanned first,
//! and too deep a document is refused before it reaches a parser. The scan is
//! exact for JSON; for YAML it follows block indentation, `- ` and `? `
//! indicators, `key:` entries and flow brackets outside quoted scalars and
//! comments, which is what the YAML parser nests on.

/// The deepest nesting accepted: arrays and objects (block or flow
/// collections) inside each other. serde_json and serde_yaml_ng stop at 128 as well.
pub(crate) const MAX_NESTING: usize = 128;

/// Where the limit was passed: 1-based line and column (in characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TooDeep {
    pub(crate) line: usize,
    pub(crate) column: usize,
}

fn at(line_index: usize, line: &str, byte: usize) -> TooDeep {
    TooDeep {
        line: line_index + 1,
        column: line[..byte.min(line.len())].chars().count() + 1,
    }
}

/// Checks JSON text: brackets outside strings.
pub(crate) fn check_json(text: &str, limit: usize) -> Result<(), TooDeep> {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for (line_index, line) in text.split('\n').enumerate() {
        for (i, b) in line.bytes().enumerate() {
            if in_string {
                match b {
                    _ if escaped => escaped = false,
                    b'\\' => escaped = true,
                    b'"' => in_string = false,
                    _ => {}
                }
                continue;
            }
            match b {
                b'"' => in_string = true,
                b'[' | b'{' => {
                    depth += 1;
                    if depth > limit {
                        return Err(at(line_index, line, i));
                    }
                }
                b']' | b'}' => depth = depth.saturating_sub(1),
                _ => {}
            }
        }
    }
    Ok(())
}

/// Flow-collection state carried across lines.
#[derive(Default)]
struct Flow {
    depth: usize,
    /// Inside a quoted scalar: its quote byte.
    quote: Option<u8>,
    escaped: bool,
    /// The next non-space byte may open a quoted scalar.
    at_scalar_start: bool,
}

impl Flow {
    /// Scans `line` from byte `start`; `base` is the depth of the enclosing block collections.
    fn scan(&mut self, line: &str, line_index: usize, start: usize, base: usize, limit: usize) -> Result<(), TooDeep> {
        let bytes = line.as_bytes();
        let mut prev_space = start == 0 || bytes.get(start.wrapping_sub(1)).is_some_and(|b| *b == b' ');
        let mut i = start;
        while i < bytes.len() {
            let b = bytes[i];
            if let Some(q) = self.quote {
                if q == b'"' {
                    match b {
                        _ if self.escaped => self.escaped = false,
                        b'\\' => self.escaped = true,
                        b'"' => self.quote = None,
                        _ => {}
                    }
                } else if b == b'\'' {
                    if bytes.get(i + 1) == Some(&b'\'') {
                        i += 1; // '' is an escaped quote
                    } else {
                        self.quote = None;
                    }
                }
                i += 1;
                prev_space = false;
                continue;
            }
            match b {
                b'#' if prev_space => return Ok(()), // a comment: the rest of the line
                b'"' | b'\'' if self.at_scalar_start => {
                    self.quote = Some(b);
                    self.at_scalar_start = false;
                }
                b'[' | b'{' => {
                    self.depth += 1;
                    self.at_scalar_start = true;
                    if base + self.depth > limit {
                        return Err(at(line_index, line, i));
                    }
                }
                b']' | b'}' => {
                    self.depth = self.depth.saturating_sub(1);
                    self.at_scalar_start = false;
                    if self.depth == 0 {
                        return Ok(()); // the flow collection ended; the rest is not nesting
                    }
                }
                b',' | b':' => self.at_scalar_start = true,
                b' ' | b'\t' => {}
                _ => self.at_scalar_start = false,
            }
            prev_space = b == b' ' || b == b'\t';
            i += 1;
        }
        Ok(())
    }

    fn open(&self) -> bool {
        self.depth > 0 || self.quote.is_some()
    }
}

/// The byte offset of a `key:` entry's colon in `content` (a colon followed
/// by a space or the end of the line, outside a quoted key), if any.
fn mapping_colon(content: &str) -> Option<usize> {
    let bytes = content.as_bytes();
    let mut i = 0;
    if let Some(&q @ (b'"' | b'\'')) = bytes.first() {
        i = 1;
        while i < bytes.len() && bytes[i] != q {
            i += if q == b'"' && bytes[i] == b'\\' { 2 } else { 1 };
        }
        i += 1;
    }
    while i < bytes.len() {
        match bytes[i] {
            b'#' if i > 0 && bytes[i - 1] == b' ' => return None,
            b':' if bytes.get(i + 1).is_none_or(|b| *b == b' ' || *b == b'\t') => return Some(i),
            _ => {}
        }
        i += 1;
    }
    None
}

/// Skips `&anchor` and `!tag` properties before a value.
fn skip_properties(value: &str) -> &str {
    let mut v = value.trim_start();
    while v.starts_with('&') || v.starts_with('!') {
        match v.find(' ') {
            Some(sp) => v = v[sp..].trim_start(),
            None => return "",
        }
    }
    v
}

/// Checks YAML text: block collections by indentation and indicators, flow collections by brackets.
pub(crate) fn check_yaml(text: &str, limit: usize) -> Result<(), TooDeep> {
    // Columns of the open block collections, innermost last.
    let mut blocks: Vec<usize> = Vec::new();
    let mut flow = Flow::default();
    // Inside a block scalar (`|`, `>`): lines indented more than this column are text.
    let mut scalar_parent: Option<usize> = None;
    for (line_index, raw) in text.split('\n').enumerate() {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if flow.open() {
            flow.scan(line, line_index, 0, blocks.len(), limit)?;
            continue;
        }
        let indent = line.len() - line.trim_start_matches(' ').len();
        let rest = &line[indent..];
        if rest.trim().is_empty() || rest.starts_with('#') {
            continue;
        }
        if let Some(parent) = scalar_parent {
            if indent > parent {
                continue;
            }
            scalar_parent = None;
        }
        if indent == 0 && (rest == "---" || rest.starts_with("--- ") || rest == "...") {
            blocks.clear();
            continue;
        }
        while blocks.last().is_some_and(|&c| c >= indent) {
            blocks.pop();
        }
        let push = |blocks: &mut Vec<usize>, col: usize| {
            if blocks.last() != Some(&col) {
                blocks.push(col);
            }
            if blocks.len() > limit {
                Err(at(line_index, line, col))
            } else {
                Ok(())
            }
        };
        // `- ` and `? ` indicators: each opens a collection at its column (`- - x` nests twice).
        let mut col = indent;
        let mut content = rest;
        loop {
            let b = content.as_bytes();
            let indicator = matches!(b.first(), Some(b'-' | b'?')) && matches!(b.get(1), None | Some(b' ' | b'\t'));
            if !indicator {
                break;
            }
            push(&mut blocks, col)?;
            let after = &content[1..];
            let skip = after.len() - after.trim_start_matches([' ', '\t']).len();
            col += 1 + skip;
            content = &after[skip..];
        }
        let value = match mapping_colon(content) {
            Some(colon) => {
                push(&mut blocks, col)?;
                &content[colon + 1..]
            }
            None => content,
        };
        // Every slice here is a suffix of `line`, so its start is the length difference.
        let value = skip_properties(value);
        let value_start = line.len() - value.len();
        match value.as_bytes().first() {
            Some(b'[' | b'{') => {
                flow = Flow::default();
                flow.scan(line, line_index, value_start, blocks.len(), limit)?;
            }
            Some(b'|' | b'>') => scalar_parent = Some(indent),
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_depth_is_exact() {
        let ok = format!("{}{}", "[".repeat(128), "]".repeat(128));
        assert!(check_json(&ok, 128).is_ok());
        let deep = format!("{}{}", "[".repeat(129), "]".repeat(129));
        assert_eq!(check_json(&deep, 128), Err(TooDeep { line: 1, column: 129 }));
        // Brackets inside strings do not count.
        let quoted = format!("[\"{}\\\"\"]", "[".repeat(500));
        assert!(check_json(&quoted, 128).is_ok());
    }

    #[test]
    fn yaml_block_flow_and_indicator_nesting_count() {
        assert!(check_yaml("a:\n  b:\n    c: [1, {d: 2}]\n", 5).is_ok());
        assert!(check_yaml("a:\n  b:\n    c: [1, {d: 2}]\n", 4).is_err());
        assert_eq!(check_yaml("- - - x\n", 2), Err(TooDeep { line: 1, column: 5 }));
        assert!(check_yaml("- - - x\n", 3).is_ok());
        // Text in block scalars, quotes and comments is not nesting.
        let text = "a: |\n  - - - - - -\n  [[[[[[\nb: '[[[[[' # [[[[[\nc: \"{{{{{{\"\n";
        assert!(check_yaml(text, 2).is_ok());
        // Plain scalars in block context may hold brackets.
        assert!(check_yaml("d: range [0, 1) of {x\n", 1).is_ok());
        // A flow collection across lines.
        assert!(check_yaml("a: [\n  [\n   [1]]]\n", 3).is_err());
        assert!(check_yaml("a: [\n  [\n   [1]]]\n", 4).is_ok());
        // An apostrophe inside a plain flow scalar does not hide what follows.
        assert!(check_yaml("a: [it's, [[[[x]]]]]\n", 4).is_err());
    }
}
