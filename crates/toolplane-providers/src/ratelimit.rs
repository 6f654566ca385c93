//! Rate-limit headers: `retry-after`, `retry-after-ms`, OpenAI-style
//! `x-ratelimit-*` with durations like `12ms` or `1m30s`, and Anthropic's
//! `anthropic-ratelimit-*` with RFC 3339 reset times.
//!
//! The functions take a header lookup (`name -> value`), so they work on any
//! header map; names are looked up in lower case.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use toolplane_core::RateLimitSnapshot;

/// Parses a Go-style duration as OpenAI sends it: `20ms`, `1.5s`, `6m0s`,
/// `1h2m3.5s`, `2d`; a bare number counts as seconds.
///
/// ```
/// use std::time::Duration;
/// use toolplane_providers::ratelimit::parse_duration;
/// assert_eq!(parse_duration("12ms"), Some(Duration::from_millis(12)));
/// assert_eq!(parse_duration("1m30s"), Some(Duration::from_secs(90)));
/// assert_eq!(parse_duration("0.5"), Some(Duration::from_millis(500)));
/// assert_eq!(parse_duration("soon"), None);
/// ```
pub fn parse_duration(text: &str) -> Option<Duration> {
    let s = text.trim();
    if s.is_empty() {
        return None;
    }
    if let Ok(secs) = s.parse::<f64>() {
        return secs_to_duration(secs);
    }
    let mut total = 0f64;
    let mut rest = s;
    while !rest.is_empty() {
        let num_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if num_end == 0 {
            return None;
        }
        let value: f64 = rest[..num_end].parse().ok()?;
        rest = &rest[num_end..];
        let unit_end = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let factor = match &rest[..unit_end] {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            "d" => 86_400.0,
            _ => return None,
        };
        total += value * factor;
        rest = &rest[unit_end..];
    }
    secs_to_duration(total)
}

fn secs_to_duration(secs: f64) -> Option<Duration> {
    if (0.0..1e12).contains(&secs) {
        Some(Duration::from_secs_f64(secs))
    } else {
        None
    }
}

/// Parses an RFC 3339 timestamp (`2026-05-01T12:00:30Z`, with optional
/// fraction and offset) into a point in time.
pub fn parse_rfc3339(text: &str) -> Option<SystemTime> {
    let s = text.trim().as_bytes();
    if s.len() < 20 || s[4] != b'-' || s[7] != b'-' || !matches!(s[10], b'T' | b't' | b' ') || s[13] != b':' {
        return None;
    }
    let num = |a: usize, b: usize| -> Option<i64> {
        std::str::from_utf8(s.get(a..b)?)
            .ok()?
            .parse::<i64>()
            .ok()
            .filter(|_| s[a..b].iter().all(u8::is_ascii_digit))
    };
    let (year, month, day) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
    let (hour, minute, second) = (num(11, 13)?, num(14, 16)?, num(17, 19)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let mut i = 19;
    let mut nanos = 0u32;
    if s.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while s.get(i).is_some_and(u8::is_ascii_digit) {
            if i - start < 9 {
                nanos = nanos * 10 + u32::from(s[i] - b'0');
            }
            i += 1;
        }
        for _ in (i - start).min(9)..9 {
            nanos *= 10;
        }
    }
    let offset_secs = match s.get(i) {
        Some(b'Z' | b'z') if i + 1 == s.len() => 0,
        Some(sign @ (b'+' | b'-')) if s.len() == i + 6 && s[i + 3] == b':' => {
            let v = num(i + 1, i + 3)? * 3600 + num(i + 4, i + 6)? * 60;
            if *sign == b'+' { v } else { -v }
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second - offset_secs;
    let secs = u64::try_from(secs).ok()?;
    Some(UNIX_EPOCH + Duration::new(secs, nanos))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Parses an HTTP date in IMF-fixdate form (`Wed, 21 Oct 2026 07:28:00 GMT`),
/// as `retry-after` may carry.
pub fn parse_http_date(text: &str) -> Option<SystemTime> {
    let parts: Vec<&str> = text.split_whitespace().collect();
    let [_, day, month, year, time, "GMT"] = parts.as_slice() else {
        return None;
    };
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = MONTHS.iter().position(|m| m == month)? + 1;
    let iso = format!("{year:0>4}-{month:02}-{day:0>2}T{time}Z");
    parse_rfc3339(&iso)
}

/// A reset value: a duration (`12ms`, `1m30s`, `20`), an RFC 3339 time or an
/// HTTP date, returned as the time left from `now` (zero when already past).
pub fn parse_reset(text: &str, now: SystemTime) -> Option<Duration> {
    if let Some(d) = parse_duration(text) {
        return Some(d);
    }
    let at = parse_rfc3339(text).or_else(|| parse_http_date(text))?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// When to retry, from `retry-after-ms` (preferred, milliseconds) or
/// `retry-after` (seconds, or an RFC 3339 time).
pub fn retry_after<'h>(get: impl Fn(&str) -> Option<&'h str>, now: SystemTime) -> Option<Duration> {
    if let Some(ms) = get("retry-after-ms").and_then(|v| v.trim().parse::<f64>().ok()) {
        if let Some(d) = secs_to_duration(ms / 1000.0) {
            return Some(d);
        }
    }
    let v = get("retry-after")?;
    v.trim()
        .parse::<f64>()
        .ok()
        .and_then(secs_to_duration)
        .or_else(|| parse_reset(v, now))
}

/// A snapshot of the rate-limit headers, or `None` when the response had none.
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use toolplane_providers::ratelimit::snapshot;
/// let headers = [("x-ratelimit-remaining-tokens", "0"), ("x-ratelimit-reset-tokens", "1m30s")];
/// let get = |name: &str| headers.iter().find(|(n, _)| *n == name).map(|(_, v)| *v);
/// let snap = snapshot(get, SystemTime::now()).unwrap();
/// assert!(snap.is_exhausted());
/// assert_eq!(snap.tokens_reset, Some(Duration::from_secs(90)));
/// ```
pub fn snapshot<'h>(get: impl Fn(&str) -> Option<&'h str>, now: SystemTime) -> Option<RateLimitSnapshot> {
    let num = |name: &str| get(name).and_then(|v| v.trim().parse::<u64>().ok());
    let reset = |name: &str| get(name).and_then(|v| parse_reset(v, now));
    let first_num = |names: &[&str]| names.iter().find_map(|n| num(n));
    let first_reset = |names: &[&str]| names.iter().find_map(|n| reset(n));
    let snap = RateLimitSnapshot {
        requests_limit: first_num(&[
            "x-ratelimit-limit-requests",
            "anthropic-ratelimit-requests-limit",
            "x-ratelimit-limit-req-minute",
        ]),
        requests_remaining: first_num(&[
            "x-ratelimit-remaining-requests",
            "anthropic-ratelimit-requests-remaining",
            "x-ratelimit-remaining-req-minute",
        ]),
        requests_reset: first_reset(&["x-ratelimit-reset-requests", "anthropic-ratelimit-requests-reset"]),
        tokens_limit: first_num(&[
            "x-ratelimit-limit-tokens",
            "anthropic-ratelimit-tokens-limit",
            "anthropic-ratelimit-input-tokens-limit",
            "x-ratelimit-limit-tokens-minute",
            "x-ratelimitbysize-limit-minute",
        ]),
        tokens_remaining: first_num(&[
            "x-ratelimit-remaining-tokens",
            "anthropic-ratelimit-tokens-remaining",
            "anthropic-ratelimit-input-tokens-remaining",
            "x-ratelimit-remaining-tokens-minute",
            "x-ratelimitbysize-remaining-minute",
        ]),
        tokens_reset: first_reset(&[
            "x-ratelimit-reset-tokens",
            "anthropic-ratelimit-tokens-reset",
            "anthropic-ratelimit-input-tokens-reset",
        ]),
        retry_after: retry_after(&get, now),
        observed_at: now,
    };
    let empty = RateLimitSnapshot {
        observed_at: now,
        ..RateLimitSnapshot::default()
    };
    (snap != empty).then_some(snap)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("6m0s"), Some(Duration::from_secs(360)));
        assert_eq!(parse_duration("1h2m3.5s"), Some(Duration::from_millis(3_723_500)));
        assert_eq!(parse_duration("250us"), Some(Duration::from_micros(250)));
        assert_eq!(parse_duration("-1s"), None);
        assert_eq!(parse_duration("1x"), None);
        assert_eq!(parse_duration("ms"), None);
        assert_eq!(parse_duration("1e400"), None);
    }

    #[test]
    fn rfc3339() {
        let t = parse_rfc3339("2026-11-25T15:00:30Z").and_then(|t| t.duration_since(UNIX_EPOCH).ok());
        assert_eq!(t, Some(Duration::from_secs(1_795_618_830)));
        let with_offset = parse_rfc3339("2026-11-25T17:00:30.5+02:00").and_then(|t| t.duration_since(UNIX_EPOCH).ok());
        assert_eq!(with_offset, Some(Duration::new(1_795_618_830, 500_000_000)));
        assert_eq!(parse_rfc3339("2026-13-25T15:00:30Z"), None);
        assert_eq!(parse_rfc3339("yesterday"), None);
    }

    #[test]
    fn http_dates() {
        let t = parse_http_date("Wed, 25 Nov 2026 15:00:30 GMT");
        assert_eq!(t, parse_rfc3339("2026-11-25T15:00:30Z"));
        assert!(t.is_some());
        assert_eq!(parse_http_date("Wed, 25 Foo 2026 15:00:30 GMT"), None);
        let now = UNIX_EPOCH + Duration::from_secs(1_795_618_800);
        let headers = [("retry-after", "Wed, 25 Nov 2026 15:00:30 GMT")];
        let get = |n: &str| headers.iter().find(|(k, _)| *k == n).map(|(_, v)| *v);
        assert_eq!(retry_after(get, now), Some(Duration::from_secs(30)));
    }

    #[test]
    fn anthropic_resets_are_relative_to_now() {
        let now = UNIX_EPOCH + Duration::from_secs(1_795_618_800);
        let headers = [
            ("anthropic-ratelimit-requests-limit", "50"),
            ("anthropic-ratelimit-requests-remaining", "0"),
            ("anthropic-ratelimit-requests-reset", "2026-11-25T15:00:30Z"),
            ("retry-after", "30"),
        ];
        let get = |n: &str| headers.iter().find(|(k, _)| *k == n).map(|(_, v)| *v);
        let snap = snapshot(get, now).expect("headers present");
        assert_eq!(snap.requests_limit, Some(50));
        assert_eq!(snap.requests_reset, Some(Duration::from_secs(30)));
        assert_eq!(snap.retry_after, Some(Duration::from_secs(30)));
        assert!(snap.is_exhausted());
    }

    #[test]
    fn retry_after_ms_wins_and_none_without_headers() {
        let headers = [("retry-after-ms", "1500"), ("retry-after", "2")];
        let get = |n: &str| headers.iter().find(|(k, _)| *k == n).map(|(_, v)| *v);
        assert_eq!(retry_after(get, SystemTime::now()), Some(Duration::from_millis(1500)));
        assert_eq!(snapshot(|_| None, SystemTime::now()), None);
    }
}
