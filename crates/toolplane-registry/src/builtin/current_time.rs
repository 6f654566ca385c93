//! `current_time`: the time now (or at a given instant) in an IANA time zone
//! or at a fixed UTC offset.
//!
//! The IANA database is compiled in (jiff's bundled tzdb), so answers do not
//! depend on the host's `/usr/share/zoneinfo` and daylight-saving rules are
//! the same on every machine running one build.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use jiff::Timestamp;
use jiff::tz::{Offset, TimeZone};
use serde_json::{Value, json};
use toolplane_core::{CallContext, Tool, ToolAnnotations, ToolError, ToolOutput, ToolSpec};

use crate::nearest::nearest;

type Clock = Arc<dyn Fn() -> Timestamp + Send + Sync>;

/// The `current_time` tool.
///
/// Arguments: `time_zone` (IANA name such as `Europe/Paris`, `UTC`, or a
/// fixed offset such as `+05:30` / `UTC-3`; default `UTC`) and `at` (an
/// RFC 3339 instant to convert instead of now). The result gives the local
/// date-time with its offset, the UTC instant, the zone abbreviation,
/// whether daylight-saving time is in effect, the weekday and Unix seconds.
///
/// ```
/// use toolplane_core::{CallContext, Tool};
/// use toolplane_registry::builtin::CurrentTime;
/// # let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
/// # rt.block_on(async {
/// let tool = CurrentTime::new();
/// let out = tool.call(&serde_json::json!({"time_zone": "Europe/Paris", "at": "2026-07-01T12:00:00Z"}),
///                     &CallContext::default()).await.unwrap();
/// assert_eq!(out.content["local"], "2026-07-01T14:00:00+02:00");
/// assert_eq!(out.content["dst"], true);
/// # });
/// ```
pub struct CurrentTime {
    spec: ToolSpec,
    clock: Clock,
}

impl fmt::Debug for CurrentTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CurrentTime")
            .field("name", &self.spec.name)
            .finish_non_exhaustive()
    }
}

impl Default for CurrentTime {
    fn default() -> Self {
        Self::new()
    }
}

impl CurrentTime {
    /// The tool, reading the system clock.
    pub fn new() -> Self {
        Self::with_clock(Timestamp::now)
    }

    /// The tool, reading `clock` (for tests and replays).
    pub fn with_clock(clock: impl Fn() -> Timestamp + Send + Sync + 'static) -> Self {
        let spec = ToolSpec::new(
            "current_time",
            "Get the current date and time (or convert a given instant) in a time zone: an IANA name like \
             Europe/Paris or America/New_York, UTC, or a fixed offset like +05:30. Returns local time, UTC, \
             offset, abbreviation, daylight-saving flag and weekday.",
        )
        .with_input_schema(json!({
            "type": "object",
            "properties": {
                "time_zone": {"type": "string", "maxLength": 64, "default": "UTC",
                              "description": "IANA time zone name, `UTC`, or a fixed offset such as `+05:30`."},
                "at": {"type": "string", "maxLength": 64,
                       "description": "An RFC 3339 instant (`2026-03-29T01:30:00Z`) to convert instead of now."}
            },
            "additionalProperties": false
        }))
        .with_annotations(ToolAnnotations {
            read_only: Some(true),
            idempotent: Some(false),
            open_world: Some(false),
            tags: vec!["time".into()],
            ..ToolAnnotations::default()
        });
        Self {
            spec,
            clock: Arc::new(clock),
        }
    }
}

/// Reads a zone: IANA name, `UTC`/`Z`/`GMT`, or `[UTC|GMT]±HH[:MM]`.
pub(crate) fn parse_time_zone(text: &str) -> Result<TimeZone, ToolError> {
    let t = text.trim();
    if t.is_empty() || t.eq_ignore_ascii_case("utc") || t.eq_ignore_ascii_case("z") || t.eq_ignore_ascii_case("gmt") {
        return Ok(TimeZone::UTC);
    }
    let offset_text = ["UTC", "GMT", "utc", "gmt"]
        .iter()
        .find_map(|p| t.strip_prefix(p))
        .unwrap_or(t);
    if offset_text.starts_with(['+', '-']) {
        return parse_offset(offset_text).map(TimeZone::fixed).ok_or_else(|| {
            ToolError::invalid_arguments(format!(
                "/time_zone: `{t}` is not a valid offset (use ±HH, ±HHMM or ±HH:MM, within ±25:59)"
            ))
        });
    }
    jiff::tz::db().get(t).map_err(|_| {
        let names: Vec<String> = jiff::tz::db().available().map(|n| n.to_string()).collect();
        let hint = nearest(t, names.iter().map(String::as_str))
            .map(|n| format!("; did you mean `{n}`?"))
            .unwrap_or_default();
        ToolError::invalid_arguments(format!(
            "/time_zone: `{t}` is not a known IANA time zone{hint} (examples: Europe/Paris, America/New_York, Asia/Tokyo, UTC, +05:30)"
        ))
    })
}

fn parse_offset(s: &str) -> Option<Offset> {
    let sign = if s.starts_with('-') { -1 } else { 1 };
    let digits: String = s[1..].chars().filter(|c| *c != ':').collect();
    if !digits.chars().all(|c| c.is_ascii_digit()) || !matches!(digits.len(), 1 | 2 | 4) {
        return None;
    }
    let (h, m) = if digits.len() == 4 {
        (digits[..2].parse::<i32>().ok()?, digits[2..].parse::<i32>().ok()?)
    } else {
        (digits.parse::<i32>().ok()?, 0)
    };
    if h > 25 || m > 59 || (s.contains(':') && digits.len() != 4) {
        return None;
    }
    Offset::from_seconds(sign * (h * 3600 + m * 60)).ok()
}

fn format_offset(seconds: i32) -> String {
    let sign = if seconds < 0 { '-' } else { '+' };
    let s = seconds.unsigned_abs();
    format!("{sign}{:02}:{:02}", s / 3600, (s % 3600) / 60)
}

#[async_trait]
impl Tool for CurrentTime {
    fn spec(&self) -> &ToolSpec {
        &self.spec
    }

    async fn call(&self, args: &Value, _ctx: &CallContext) -> Result<ToolOutput, ToolError> {
        let tz_text = args.get("time_zone").and_then(Value::as_str).unwrap_or("UTC");
        let tz = parse_time_zone(tz_text)?;
        let ts = match args.get("at").and_then(Value::as_str) {
            None => (self.clock)(),
            Some(at) => at.trim().parse::<Timestamp>().map_err(|e| {
                ToolError::invalid_arguments(format!(
                    "/at: `{at}` is not an RFC 3339 instant such as 2026-03-29T01:30:00Z ({e})"
                ))
            })?,
        };
        let ts = Timestamp::from_second(ts.as_second()).unwrap_or(ts);
        let info = tz.to_offset_info(ts);
        let offset = info.offset();
        let local = offset.to_datetime(ts);
        let offset_text = format_offset(offset.seconds());
        let name = match tz.iana_name() {
            Some(n) => n.to_string(),
            None if offset.seconds() == 0 => "UTC".to_string(),
            None => format!("UTC{offset_text}"),
        };
        Ok(ToolOutput::json(json!({
            "time_zone": name,
            "local": format!("{local}{offset_text}"),
            "utc": ts.to_string(),
            "offset": offset_text,
            "abbreviation": info.abbreviation(),
            "dst": info.dst().is_dst(),
            "weekday": format!("{:?}", local.weekday()),
            "unix_seconds": ts.as_second(),
        })))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn at(tz: &str, at: &str) -> Result<Value, ToolError> {
        let tool = CurrentTime::new();
        tool.call(&json!({"time_zone": tz, "at": at}), &CallContext::default())
            .await
            .map(|o| o.content)
    }

    #[tokio::test]
    async fn zones_follow_daylight_saving() {
        let winter = at("Europe/Paris", "2026-01-15T12:00:00Z").await.unwrap();
        assert_eq!(winter["local"], "2026-01-15T13:00:00+01:00");
        assert_eq!(winter["abbreviation"], "CET");
        assert_eq!(winter["dst"], false);
        let ny = at("America/New_York", "2026-07-04T16:00:00Z").await.unwrap();
        assert_eq!(ny["local"], "2026-07-04T12:00:00-04:00");
        assert_eq!(ny["weekday"], "Saturday");
        let kolkata = at("+05:30", "2026-01-01T00:00:00Z").await.unwrap();
        assert_eq!(kolkata["local"], "2026-01-01T05:30:00+05:30");
        assert_eq!(at("UTC-3", "2026-01-01T00:00:00Z").await.unwrap()["offset"], "-03:00");
        assert_eq!(
            at("utc", "2026-01-01T00:00:00Z").await.unwrap()["utc"],
            "2026-01-01T00:00:00Z"
        );
    }

    #[tokio::test]
    async fn unknown_zones_and_instants_are_explained() {
        let e = at("Europe/Pariss", "2026-01-01T00:00:00Z").await.unwrap_err();
        assert!(e.message().contains("did you mean `Europe/Paris`?"), "{}", e.message());
        assert!(at("+99:00", "2026-01-01T00:00:00Z").await.is_err());
        assert!(at("UTC", "yesterday").await.unwrap_err().message().contains("/at"));
    }

    #[tokio::test]
    async fn the_clock_is_injectable() {
        let fixed = Timestamp::from_second(1_800_000_000).unwrap();
        let tool = CurrentTime::with_clock(move || fixed);
        let out = tool
            .call(&json!({"time_zone": "Asia/Tokyo"}), &CallContext::default())
            .await
            .unwrap();
        assert_eq!(out.content["unix_seconds"], 1_800_000_000i64);
        assert_eq!(out.content["time_zone"], "Asia/Tokyo");
    }
}
