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

/// Flow-collection state carried across lines. It tokenizes as the YAML
/// scanner does, so a quote counts only where a scalar starts (`[it's, [x]]`
/// holds a plain scalar with an apostrophe, not a quoted scalar that would
/// hide the brackets after it).
#[derive(Default)]
struct Flow {
    depth: usize,
    /// Inside a quoted scalar: its quote byte.
    quote: Option<u8>,
    escaped: bool,
    /// Inside a plain (unquoted) scalar.
    in_plain: bool,
}

impl Flow {
    /// Scans `line` from byte `start`; `base` is the depth of the enclosing block collections.
    fn scan(&mut self, line: &str, line_index: usize, start: usize, base: usize, limit: usize) -> Result<(), TooDeep> {
        let bytes = line.as_bytes();
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
                continue;
            }
            let prev_blank = i == 0 || matches!(bytes[i - 1], b' ' | b'\t');
            if self.in_plain {
                match b {
                    b'#' if prev_blank => return Ok(()), // a comment: the rest of the line
                    b':' if matches!(bytes.get(i + 1), None | Some(b' ' | b'\t')) => self.in_plain = false,
                    b',' | b'[' | b']' | b'{' | b'}' => {
                        self.in_plain = false;
                        continue; // the indicator ends the scalar and is read again as a token
                    }
                    _ => {}
                }
                i += 1;
                continue;
            }
            match b {
                b'#' if prev_blank => return Ok(()),
                b'"' | b'\'' => self.quote = Some(b),
                b'[' | b'{' => {
                    self.depth += 1;
                    if base + self.depth > limit {
                        return Err(at(line_index, line, i));
                    }
                }
                b']' | b'}' => {
                    self.depth = self.depth.saturating_sub(1);
                    if self.depth == 0 {
                        return Ok(()); // the flow collection ended; the rest is not nesting
                    }
                }
                // In a flow collection `:` and `?` are indicators wherever a token starts.
                b',' | b':' | b'?' | b' ' | b'\t' => {}
                _ => self.in_plain = true,
            }
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
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        // The YAML parser also breaks lines at a lone CR, NEL, LS and PS.
        for line in raw.split(['\r', '\u{85}', '\u{2028}', '\u{2029}']) {
            check_yaml_line(line, line_index, &mut blocks, &mut flow, &mut scalar_parent, limit)?;
        }
    }
    Ok(())
}

/// One line of [`check_yaml`].
fn check_yaml_line(
    line: &str,
    line_index: usize,
    blocks: &mut Vec<usize>,
    flow: &mut Flow,
    scalar_parent: &mut Option<usize>,
    limit: usize,
) -> Result<(), TooDeep> {
    if flow.open() {
        return flow.scan(line, line_index, 0, blocks.len(), limit);
    }
    let indent = line.len() - line.trim_start_matches(' ').len();
    let rest = &line[indent..];
    if rest.trim().is_empty() || rest.starts_with('#') {
        return Ok(());
    }
    if let Some(parent) = *scalar_parent {
        if indent > parent {
            return Ok(());
        }
        *scalar_parent = None;
    }
    let mut col = indent;
    let mut content = rest;
    let marker = rest.starts_with("---") || rest.starts_with("...");
    if indent == 0 && marker && matches!(rest.as_bytes().get(3), None | Some(b' ' | b'\t')) {
        // A document marker; `--- [` starts the document's root on the same line.
        blocks.clear();
        content = rest[3..].trim_start_matches([' ', '\t']);
        if content.is_empty() || content.starts_with('#') {
            return Ok(());
        }
        col = line.len() - content.len();
    } else {
        while blocks.last().is_some_and(|&c| c >= indent) {
            blocks.pop();
        }
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
    loop {
        let b = content.as_bytes();
        let indicator = matches!(b.first(), Some(b'-' | b'?')) && matches!(b.get(1), None | Some(b' ' | b'\t'));
        if !indicator {
            break;
        }
        push(blocks, col)?;
        let after = &content[1..];
        let skip = after.len() - after.trim_start_matches([' ', '\t']).len();
        col += 1 + skip;
        content = &after[skip..];
    }
    // A node that starts with a bracket is a flow collection (even if a `key:` follows inside it).
    let flow_node = matches!(skip_properties(content).as_bytes().first(), Some(b'[' | b'{'));
    let value = match mapping_colon(content).filter(|_| !flow_node) {
        Some(colon) => {
            push(blocks, col)?;
            &content[colon + 1..]
        }
        None => content,
    };
    // Every slice here is a suffix of `line`, so its start is the length difference.
    let value = skip_properties(value);
    let value_start = line.len() - value.len();
    match value.as_bytes().first() {
        Some(b'[' | b'{') => {
            *flow = Flow::default();
            flow.scan(line, line_index, value_start, blocks.len(), limit)?;
        }
        Some(b'|' | b'>') => *scalar_parent = Some(indent),
        _ => {}
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
        assert!(check_yaml("{a:'x [[[[[", 4).is_err());
        assert!(check_yaml("{a: b\"[[[[[", 4).is_err());
        // A quote where a scalar starts does hide brackets, as it does for the parser.
        assert!(check_yaml("{a: '[[[[[', \"b\":\"[[[[[\"}", 2).is_ok());
        // Nesting after a document marker, and after line breaks the parser knows but `\n` splitting does not.
        assert!(check_yaml("--- [[[[[", 4).is_err());
        assert!(check_yaml("a:\r  [[[[[", 4).is_err());
        assert!(check_yaml("a:\u{2028}- - - - - x", 4).is_err());
    }
}
