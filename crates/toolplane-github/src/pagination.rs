//! GitHub's `Link` header, turned into page numbers the model can pass back
//! as `page`.

use serde_json::{Map, Value, json};

/// Page numbers from a `Link` header (`rel="next"`, `"prev"`, `"first"`, `"last"`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pagination {
    /// The next page.
    pub next: Option<u64>,
    /// The previous page.
    pub prev: Option<u64>,
    /// The first page.
    pub first: Option<u64>,
    /// The last page.
    pub last: Option<u64>,
}

/// Parses a `Link` header.
///
/// ```
/// use toolplane_github::parse_link_header;
/// let p = parse_link_header(r#"<https://api.github.com/repositories/1/issues?page=2>; rel="next", <https://api.github.com/repositories/1/issues?page=5>; rel="last""#);
/// assert_eq!((p.next, p.last), (Some(2), Some(5)));
/// ```
pub fn parse_link_header(value: &str) -> Pagination {
    let mut p = Pagination::default();
    for part in value.split(',') {
        let Some((url, params)) = part.trim().strip_prefix('<').and_then(|r| r.split_once('>')) else {
            continue;
        };
        let page = url
            .split_once('?')
            .map(|(_, q)| q)
            .unwrap_or("")
            .split('&')
            .find_map(|kv| kv.strip_prefix("page="))
            .and_then(|n| n.parse::<u64>().ok());
        for param in params.split(';') {
            let Some(rel) = param.trim().strip_prefix("rel=") else {
                continue;
            };
            for r in rel.trim_matches('"').split_whitespace() {
                match r {
                    "next" => p.next = page,
                    "prev" => p.prev = page,
                    "first" => p.first = page,
                    "last" => p.last = page,
                    _ => {}
                }
            }
        }
    }
    p
}

/// Adds `pagination` and a rate-limit `hint` to an HTTP tool result.
pub(crate) fn annotate(content: &mut Value) {
    let headers = content.get("headers").cloned().unwrap_or(Value::Null);
    let Value::Object(obj) = content else { return };
    if let Some(link) = headers.get("link").and_then(Value::as_str) {
        let p = parse_link_header(link);
        let mut m = Map::new();
        for (k, v) in [
            ("next_page", p.next),
            ("prev_page", p.prev),
            ("first_page", p.first),
            ("last_page", p.last),
        ] {
            if let Some(v) = v {
                m.insert(k.into(), json!(v));
            }
        }
        if !m.is_empty() {
            obj.insert("pagination".into(), Value::Object(m));
        }
    }
    let status = obj.get("status").and_then(Value::as_u64).unwrap_or(0);
    let spent = headers.get("x-ratelimit-remaining").and_then(Value::as_str) == Some("0");
    if (status == 403 || status == 429) && spent {
        let reset = headers
            .get("x-ratelimit-reset")
            .and_then(Value::as_str)
            .unwrap_or("unknown");
        obj.insert(
            "hint".into(),
            Value::String(format!(
                "GitHub's rate limit is spent; it resets at Unix time {reset}. Do not retry before then."
            )),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_all_rels_and_ignores_noise() {
        let p = parse_link_header(
            r#"<https://x/r?per_page=2&page=3>; rel="next", <https://x/r?page=1>; rel="first", <https://x/r?page=1&per_page=2>; rel="prev", <https://x/r?page=9>; rel="last""#,
        );
        assert_eq!(
            p,
            Pagination {
                next: Some(3),
                prev: Some(1),
                first: Some(1),
                last: Some(9)
            }
        );
        assert_eq!(parse_link_header("garbage, <>; rel"), Pagination::default());
    }

    #[test]
    fn annotates_results() {
        let mut c = json!({"status": 200, "headers": {"link": "<https://x?page=2>; rel=\"next\""}, "body": []});
        annotate(&mut c);
        assert_eq!(c["pagination"], json!({"next_page": 2}));
        let mut c =
            json!({"status": 403, "headers": {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "1700000000"}});
        annotate(&mut c);
        assert!(c["hint"].as_str().unwrap().contains("1700000000"));
    }
}
