//! Confining a path argument under a root, lexically.

use std::borrow::Cow;

use percent_encoding::percent_decode_str;

/// Normalizes `input` against `root` and returns the resulting path when it
/// stays under `root`, else why not.
///
/// The check is lexical and strict: NUL and other control characters are
/// refused; percent-encoding is decoded repeatedly (so `%2e%2e` and
/// `%252e%252e` become `..`); backslashes count as separators; `.` segments
/// are dropped and `..` pops one segment, and popping above the root is
/// refused; an absolute path must itself lie under the root; a drive letter
/// (`C:`) or a `~` home prefix is refused. Symbolic links are not followed: a
/// tool that opens the path should open it relative to the root without
/// following links.
///
/// ```
/// use toolplane_security::policy::confine_path;
/// assert_eq!(confine_path("/srv/data", "a/./b.txt").unwrap(), "/srv/data/a/b.txt");
/// assert!(confine_path("/srv/data", "a/../../etc/passwd").is_err());
/// assert!(confine_path("/srv/data", "%2e%2e/etc").is_err());
/// assert!(confine_path("/srv/data", "/etc/passwd").is_err());
/// ```
pub fn confine_path(root: &str, input: &str) -> Result<String, String> {
    let root_parts = split(root);
    let mut text: Cow<'_, str> = Cow::Borrowed(input);
    for _ in 0..4 {
        if !text.contains('%') {
            break;
        }
        let decoded = percent_decode_str(&text)
            .decode_utf8()
            .map_err(|_| "path is not UTF-8 after percent-decoding".to_string())?
            .into_owned();
        if decoded == text {
            break;
        }
        text = Cow::Owned(decoded);
    }
    if text.contains('%') && percent_decode_str(&text).decode_utf8_lossy() != text {
        return Err("path is percent-encoded too many times".into());
    }
    if text.chars().any(|c| c == '\0' || c.is_control()) {
        return Err("path contains NUL or a control character".into());
    }
    let unified = text.replace('\\', "/");
    if unified.starts_with('~') {
        return Err("path starts with `~`".into());
    }
    let first = unified.split('/').next().unwrap_or("");
    if first.len() >= 2 && first.as_bytes()[1] == b':' {
        return Err(format!("path has a drive prefix `{first}`"));
    }
    let absolute = unified.starts_with('/');
    let mut parts: Vec<&str> = if absolute { Vec::new() } else { root_parts.clone() };
    for seg in unified.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                if parts.len() <= if absolute { 0 } else { root_parts.len() } {
                    return Err("path climbs above the root with `..`".into());
                }
                parts.pop();
            }
            s => parts.push(s),
        }
    }
    if parts.len() < root_parts.len() || parts[..root_parts.len()] != root_parts[..] {
        return Err(format!("path resolves outside the root {root}"));
    }
    Ok(format!("/{}", parts.join("/")))
}

fn split(root: &str) -> Vec<&str> {
    root.split('/').filter(|s| !s.is_empty() && *s != ".").collect()
}
