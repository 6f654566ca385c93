//! W3C trace context (`traceparent`) for outgoing requests, without a
//! tracing or OpenTelemetry dependency.
//!
//! toolplane's libraries emit `tracing` spans but hold no OpenTelemetry
//! context: the span and trace ids exist only in the host's OpenTelemetry
//! layer, if it has one. So the host tells the libraries where the current
//! context is, in one of two ways:
//!
//! 1. **A source** ([`set_traceparent_source`]), set once per process by a
//!    host that installs an OpenTelemetry layer: a function returning the
//!    current span's context (for `tracing-opentelemetry`, from
//!    `Span::current().context()`). The CLI's and server's `otel` feature
//!    install one. Providers and OpenAPI tools call it while their client
//!    span is current, so the downstream service sees that span as its parent.
//! 2. **A value in the call's context**: a [`TraceParent`] in
//!    [`CallContext::extensions`](crate::CallContext), used when no source
//!    gives one (a host without OpenTelemetry that still forwards its
//!    caller's context).
//!
//! [`outgoing_traceparent`] applies that order; with neither, no header is sent.
//! A [`TraceState`] in the context (the caller's `tracestate`) travels with
//! it when the `traceparent` sent is of the same trace ([`outgoing_tracestate`]).
//!
//! ```
//! use toolplane_core::trace_context::TraceParent;
//! let tp: TraceParent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".parse().unwrap();
//! assert!(tp.sampled());
//! assert_eq!(tp.to_string(), "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
//! assert!("00-00000000000000000000000000000000-00f067aa0ba902b7-01".parse::<TraceParent>().is_err());
//! ```

use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;

use crate::CallContext;

/// The header name, as W3C Trace Context spells it.
pub const TRACEPARENT: &str = "traceparent";

/// The vendor trace state header name, as W3C Trace Context spells it.
pub const TRACESTATE: &str = "tracestate";

/// A W3C `traceparent` value: version 00, a trace id, a parent span id and
/// the trace flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TraceParent {
    /// The trace id (16 bytes, not all zero).
    pub trace_id: [u8; 16],
    /// The parent span id (8 bytes, not all zero).
    pub span_id: [u8; 8],
    /// The trace flags (bit 0: sampled).
    pub flags: u8,
}

impl TraceParent {
    /// True when the sampled flag is set.
    pub fn sampled(&self) -> bool {
        self.flags & 1 == 1
    }

    /// The trace id as 32 lowercase hex digits.
    pub fn trace_id_hex(&self) -> String {
        hex(&self.trace_id)
    }

    /// The span id as 16 lowercase hex digits.
    pub fn span_id_hex(&self) -> String {
        hex(&self.span_id)
    }
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    s
}

fn unhex<const N: usize>(text: &str) -> Option<[u8; N]> {
    let bytes = text.as_bytes();
    if bytes.len() != N * 2 {
        return None;
    }
    let digit = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    };
    let mut out = [0u8; N];
    for (i, pair) in bytes.chunks_exact(2).enumerate() {
        out[i] = digit(pair[0])? << 4 | digit(pair[1])?;
    }
    Some(out)
}

impl fmt::Display for TraceParent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "00-{}-{}-{:02x}",
            hex(&self.trace_id),
            hex(&self.span_id),
            self.flags
        )
    }
}

/// Why a `traceparent` value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid traceparent: {0}")]
pub struct InvalidTraceParent(&'static str);

impl FromStr for TraceParent {
    type Err = InvalidTraceParent;

    /// Parses version 00 exactly; a higher version is read by its first four
    /// fields, as the specification asks. Uppercase hex, all-zero ids and
    /// version `ff` are refused.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim_matches(|c| c == ' ' || c == '\t');
        let mut parts = s.split('-');
        let (Some(version), Some(trace), Some(span), Some(flags)) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(InvalidTraceParent("expected version-traceid-spanid-flags"));
        };
        let version = unhex::<1>(version).ok_or(InvalidTraceParent("the version is not two lowercase hex digits"))?[0];
        if version == 0xff {
            return Err(InvalidTraceParent("version ff is invalid"));
        }
        if version == 0 && parts.next().is_some() {
            return Err(InvalidTraceParent("version 00 has exactly four fields"));
        }
        let trace_id = unhex::<16>(trace).ok_or(InvalidTraceParent("the trace id is not 32 lowercase hex digits"))?;
        let span_id = unhex::<8>(span).ok_or(InvalidTraceParent("the parent id is not 16 lowercase hex digits"))?;
        let flags = unhex::<1>(flags).ok_or(InvalidTraceParent("the flags are not two lowercase hex digits"))?[0];
        if trace_id == [0; 16] {
            return Err(InvalidTraceParent("the trace id is all zeros"));
        }
        if span_id == [0; 8] {
            return Err(InvalidTraceParent("the parent id is all zeros"));
        }
        Ok(Self {
            trace_id,
            span_id,
            flags,
        })
    }
}

/// A W3C `tracestate` value: vendor-specific trace data that travels with a
/// [`TraceParent`] of the same trace (in [`CallContext::extensions`](crate::CallContext)
/// beside it).
///
/// ```
/// use toolplane_core::trace_context::TraceState;
/// let ts: TraceState = "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE".parse().unwrap();
/// assert_eq!(ts.as_str(), "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE");
/// assert!("no equals sign".parse::<TraceState>().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TraceState(String);

/// The longest `tracestate` accepted (W3C Trace Context: a vendor may
/// propagate at least 512 characters; longer values may be dropped).
pub const MAX_TRACESTATE_LEN: usize = 512;

impl TraceState {
    /// The value as received (without surrounding spaces).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TraceState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for TraceState {
    type Err = InvalidTraceParent;

    /// Accepts up to 32 comma-separated `key=value` members of printable
    /// ASCII (empty members allowed, as the specification allows), at most
    /// [`MAX_TRACESTATE_LEN`] characters.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim_matches(|c| c == ' ' || c == '\t');
        if s.is_empty() {
            return Err(InvalidTraceParent("the tracestate is empty"));
        }
        if s.len() > MAX_TRACESTATE_LEN {
            return Err(InvalidTraceParent("the tracestate is longer than 512 characters"));
        }
        if !s.bytes().all(|b| (0x20..=0x7e).contains(&b)) {
            return Err(InvalidTraceParent(
                "the tracestate has a character outside printable ASCII",
            ));
        }
        let mut members = 0;
        for member in s.split(',').map(|m| m.trim_matches(|c| c == ' ' || c == '\t')) {
            if member.is_empty() {
                continue;
            }
            members += 1;
            let Some((key, value)) = member.split_once('=') else {
                return Err(InvalidTraceParent("a tracestate member is not key=value"));
            };
            if key.is_empty() || value.is_empty() || key.contains(' ') {
                return Err(InvalidTraceParent(
                    "a tracestate member has an empty or spaced key, or an empty value",
                ));
            }
        }
        if members > 32 {
            return Err(InvalidTraceParent("the tracestate has more than 32 members"));
        }
        Ok(Self(s.to_owned()))
    }
}

/// A function returning the current span's trace context, if any.
pub type TraceParentSource = fn() -> Option<TraceParent>;

static SOURCE: OnceLock<TraceParentSource> = OnceLock::new();

/// Sets the process's trace context source (once; later calls return
/// `false` and change nothing). Hosts with an OpenTelemetry layer call this
/// at start-up.
pub fn set_traceparent_source(source: TraceParentSource) -> bool {
    SOURCE.set(source).is_ok()
}

/// The current context from the installed source, if one is installed and
/// a span is current.
pub fn current_traceparent() -> Option<TraceParent> {
    SOURCE.get().and_then(|source| source())
}

/// The `traceparent` to send on a request made for `ctx`: the installed
/// source's current context, else a [`TraceParent`] in the context's
/// extensions, else none.
pub fn outgoing_traceparent(ctx: Option<&CallContext>) -> Option<TraceParent> {
    current_traceparent().or_else(|| ctx.and_then(|c| c.extensions.get::<TraceParent>().copied()))
}

/// The `tracestate` to send beside `sent` (the [`outgoing_traceparent`]) on
/// a request made for `ctx`: the context's [`TraceState`] when `sent` is of
/// the same trace as the context's [`TraceParent`] (a trace state belongs to
/// its trace), else none.
pub fn outgoing_tracestate<'a>(ctx: Option<&'a CallContext>, sent: &TraceParent) -> Option<&'a TraceState> {
    let ctx = ctx?;
    let parent = ctx.extensions.get::<TraceParent>()?;
    if parent.trace_id != sent.trace_id {
        return None;
    }
    ctx.extensions.get::<TraceState>()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn parses_and_formats_version_00() {
        let text = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00";
        let tp: TraceParent = text.parse().unwrap();
        assert!(!tp.sampled());
        assert_eq!(tp.trace_id_hex(), "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(tp.span_id_hex(), "00f067aa0ba902b7");
        assert_eq!(tp.to_string(), text);
    }

    #[test]
    fn refuses_what_the_specification_refuses() {
        for bad in [
            "",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "00-4bf92f3577b34da6a3ce929d0e0e47-00f067aa0ba902b7-01",
            "0x-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        ] {
            assert!(bad.parse::<TraceParent>().is_err(), "{bad}");
        }
        // A later version may carry more fields; the first four are read.
        let future: TraceParent = "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what"
            .parse()
            .unwrap();
        assert!(future.sampled());
    }

    #[test]
    fn the_context_value_is_used_when_no_source_is_installed() {
        let mut ctx = CallContext::new("r");
        assert_eq!(outgoing_traceparent(Some(&ctx)), None);
        let tp: TraceParent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
            .parse()
            .unwrap();
        ctx.extensions.insert(tp);
        assert_eq!(outgoing_traceparent(Some(&ctx)), Some(tp));
    }

    #[test]
    fn tracestate_is_checked_and_sent_only_with_its_trace() {
        for bad in ["", "   ", "novalue", "k=", "=v", "a b=c", "k=v\u{7f}", "k=\u{e9}"] {
            assert!(bad.parse::<TraceState>().is_err(), "{bad:?}");
        }
        assert!("x=1,".repeat(33).parse::<TraceState>().is_err());
        assert!(format!("k={}", "v".repeat(600)).parse::<TraceState>().is_err());
        let ts: TraceState = " rojo=00f067aa0ba902b7, ,congo=t61rcWkgMzE ".parse().unwrap();
        assert_eq!(ts.to_string(), "rojo=00f067aa0ba902b7, ,congo=t61rcWkgMzE");

        let parent: TraceParent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
            .parse()
            .unwrap();
        let child = TraceParent {
            span_id: [7; 8],
            ..parent
        };
        let other = TraceParent {
            trace_id: [9; 16],
            ..parent
        };
        let ctx = CallContext::new("r").with_extension(parent).with_extension(ts.clone());
        assert_eq!(outgoing_tracestate(Some(&ctx), &child), Some(&ts));
        assert_eq!(outgoing_tracestate(Some(&ctx), &other), None);
        assert_eq!(outgoing_tracestate(None, &child), None);
    }
}
