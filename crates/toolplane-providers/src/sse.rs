//! The one Server-Sent Events reader every provider shares.
//!
//! [`SseReader`] turns bytes, in chunks of any size, into [`SseEvent`]s as the
//! [WHATWG event-stream rules](https://html.spec.whatwg.org/multipage/server-sent-events.html#parsing-an-event-stream)
//! describe: lines end in CRLF, LF or CR; lines starting with `:` are comments;
//! `data:` lines of one event are joined with `\n`; a blank line dispatches the
//! event; `retry:` sets the reconnection time; unknown fields are ignored. A
//! chunk may end anywhere, inside a line, between the CR and LF of a CRLF, or
//! inside a multibyte UTF-8 character: the reader keeps the bytes until the
//! line is complete. Invalid UTF-8 is replaced, never a panic.
//!
//! A line, and the `data` of one event, may hold at most
//! [`SseReader::max_line`] bytes ([`DEFAULT_MAX_LINE`] unless set with
//! [`SseReader::with_max_line`]). Past it the reader drops what it buffered,
//! ignores the rest of the stream and reports [`SseReader::exceeded`], so a
//! server that never sends a newline cannot grow the buffer beyond the limit
//! plus one chunk.

use std::time::Duration;

/// The default longest line (and event `data`): 4 MiB.
pub const DEFAULT_MAX_LINE: usize = 4 << 20;

/// One dispatched event.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SseEvent {
    /// The `event:` field, empty when absent (the default type is `message`).
    pub event: String,
    /// The `data:` lines joined with `\n`.
    pub data: String,
    /// The last `id:` seen in the stream, if any.
    pub id: Option<String>,
    /// The `retry:` value of this event, if it had one.
    pub retry: Option<Duration>,
}

/// Incremental event-stream parser: push bytes, take events.
///
/// ```
/// use toolplane_providers::sse::SseReader;
/// let mut reader = SseReader::new();
/// let mut events = reader.push(b"event: ping\r\ndata: {\"a\":");
/// assert!(events.is_empty());
/// events.extend(reader.push(b"1}\r\n\r\n: a comment\n"));
/// assert_eq!(events[0].event, "ping");
/// assert_eq!(events[0].data, "{\"a\":1}");
/// ```
#[derive(Debug)]
pub struct SseReader {
    /// Bytes of the line being read.
    line: Vec<u8>,
    /// The previous chunk ended in CR; a leading LF in the next one belongs to it.
    skip_lf: bool,
    /// The event being built; its buffers are reused from event to event.
    cur: SseEvent,
    has_data: bool,
    first_line: bool,
    /// The longest line and event `data` accepted.
    max_line: usize,
    /// A line or an event passed `max_line`; the reader reads no more.
    exceeded: bool,
}

impl Default for SseReader {
    fn default() -> Self {
        Self::new()
    }
}

impl SseReader {
    /// A reader at the start of a stream.
    pub fn new() -> Self {
        Self {
            line: Vec::new(),
            skip_lf: false,
            cur: SseEvent::default(),
            has_data: false,
            first_line: true,
            max_line: DEFAULT_MAX_LINE,
            exceeded: false,
        }
    }

    /// Sets the longest line, and the most `data` one event may gather, in
    /// bytes (at least 1).
    ///
    /// ```
    /// use toolplane_providers::sse::SseReader;
    /// let mut r = SseReader::new().with_max_line(8);
    /// assert_eq!(r.push(b"data: 1\n\n").len(), 1);
    /// assert!(r.push(b"data: 123456789").is_empty());
    /// assert!(r.exceeded());
    /// assert!(r.push(b"\n\ndata: 1\n\n").is_empty(), "nothing is read after the limit");
    /// ```
    pub fn with_max_line(mut self, bytes: usize) -> Self {
        self.max_line = bytes.max(1);
        self
    }

    /// The longest line accepted, in bytes.
    pub fn max_line(&self) -> usize {
        self.max_line
    }

    /// True once a line or an event's `data` passed [`max_line`](Self::max_line);
    /// the reader then ignores all further input.
    pub fn exceeded(&self) -> bool {
        self.exceeded
    }

    /// Bytes held for the line being read (for tests and metrics).
    pub fn buffered(&self) -> usize {
        self.line.capacity() + self.cur.data.capacity()
    }

    fn overflow(&mut self) {
        self.exceeded = true;
        self.line = Vec::new();
        self.cur = SseEvent::default();
        self.has_data = false;
    }

    /// Takes in a chunk and returns the events it completed.
    pub fn push(&mut self, chunk: &[u8]) -> Vec<SseEvent> {
        let mut out = Vec::new();
        self.push_into(chunk, &mut out);
        out
    }

    /// Takes in a chunk and appends the events it completed to `out`.
    pub fn push_into(&mut self, chunk: &[u8], out: &mut Vec<SseEvent>) {
        self.push_each(chunk, |ev| out.push(ev.clone()));
    }

    /// Takes in a chunk and hands each completed event to `f` by reference,
    /// without allocating per event (the fastest way to read a stream).
    pub fn push_each(&mut self, mut chunk: &[u8], mut f: impl FnMut(&SseEvent)) {
        if self.exceeded {
            return;
        }
        // The previous chunk ended in CR: the first byte of the next non-empty
        // chunk, if it is LF, completes that CRLF. Only that one byte: a
        // second LF is a blank line (fuzzing found CR | LF | LF read byte by
        // byte merging two events).
        if self.skip_lf && !chunk.is_empty() {
            self.skip_lf = false;
            if let Some(rest) = chunk.strip_prefix(b"\n") {
                chunk = rest;
            }
        }
        while let Some(pos) = memchr::memchr2(b'\n', b'\r', chunk) {
            let (head, tail) = chunk.split_at(pos);
            let ended_in_cr = tail.first() == Some(&b'\r');
            let mut rest = &tail[1..];
            if ended_in_cr {
                if let Some(after) = rest.strip_prefix(b"\n") {
                    rest = after;
                } else if rest.is_empty() {
                    self.skip_lf = true;
                }
            }
            if self.line.len() + head.len() > self.max_line {
                self.overflow();
                return;
            }
            if self.line.is_empty() {
                self.process_line(head, &mut f);
            } else {
                let mut line = std::mem::take(&mut self.line);
                line.extend_from_slice(head);
                self.process_line(&line, &mut f);
                line.clear();
                self.line = line;
            }
            if self.exceeded {
                return;
            }
            chunk = rest;
        }
        if self.line.len() + chunk.len() > self.max_line {
            self.overflow();
            return;
        }
        self.line.extend_from_slice(chunk);
    }

    /// Ends the stream. Per the standard, an event whose blank line never
    /// came is dropped; this returns it instead, so that callers can tell a
    /// stream cut mid-event (`Some`) from a clean end (`None`).
    pub fn finish(&mut self) -> Option<SseEvent> {
        if self.exceeded {
            return None;
        }
        if !self.line.is_empty() {
            let line = std::mem::take(&mut self.line);
            // A non-empty line never dispatches.
            self.process_line(&line, &mut |_| {});
        }
        if self.has_data || !self.cur.event.is_empty() {
            self.has_data = false;
            let ev = self.cur.clone();
            self.reset();
            return Some(ev);
        }
        None
    }

    /// True when bytes of an unfinished event are buffered.
    pub fn has_pending(&self) -> bool {
        !self.line.is_empty() || self.has_data || !self.cur.event.is_empty()
    }

    fn reset(&mut self) {
        self.cur.event.clear();
        self.cur.data.clear();
        self.cur.retry = None;
        self.has_data = false;
    }

    fn process_line(&mut self, raw: &[u8], f: &mut impl FnMut(&SseEvent)) {
        let mut raw = raw;
        if self.first_line {
            self.first_line = false;
            if let Some(rest) = raw.strip_prefix(b"\xEF\xBB\xBF") {
                raw = rest;
            }
        }
        if raw.is_empty() {
            if self.has_data {
                f(&self.cur);
            }
            self.reset();
            return;
        }
        if raw[0] == b':' {
            return;
        }
        let (name, value) = match memchr::memchr(b':', raw) {
            Some(i) => {
                let v = &raw[i + 1..];
                (&raw[..i], v.strip_prefix(b" ").unwrap_or(v))
            }
            None => (raw, &b""[..]),
        };
        match name {
            b"data" => {
                if self.cur.data.len() + value.len() + 1 > self.max_line {
                    self.overflow();
                    return;
                }
                if self.has_data {
                    self.cur.data.push('\n');
                }
                self.has_data = true;
                push_utf8(&mut self.cur.data, value);
            }
            b"event" => {
                self.cur.event.clear();
                push_utf8(&mut self.cur.event, value);
            }
            b"id" if !value.contains(&0) => {
                let mut id = String::new();
                push_utf8(&mut id, value);
                self.cur.id = Some(id);
            }
            b"retry" if !value.is_empty() && value.iter().all(u8::is_ascii_digit) => {
                let ms = value.iter().fold(0u64, |acc, d| {
                    acc.saturating_mul(10).saturating_add(u64::from(d - b'0'))
                });
                self.cur.retry = Some(Duration::from_millis(ms));
            }
            _ => {}
        }
    }
}

fn push_utf8(dst: &mut String, bytes: &[u8]) {
    match std::str::from_utf8(bytes) {
        Ok(s) => dst.push_str(s),
        Err(_) => dst.push_str(&String::from_utf8_lossy(bytes)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(chunks: &[&[u8]]) -> Vec<SseEvent> {
        let mut r = SseReader::new();
        let mut out = Vec::new();
        for c in chunks {
            out.extend(r.push(c));
        }
        out
    }

    #[test]
    fn a_blank_line_after_a_crlf_split_over_chunks_still_dispatches() {
        // Found by the sse_reader fuzz target: CR, LF, LF each in its own
        // chunk. The first LF completes the CRLF; the second is a blank line.
        let whole = all(&[b"data: a\r\n\ndata: b\n\n"]);
        let split = all(&[b"data: a", b"\r", b"\n", b"\n", b"data: b\n\n"]);
        assert_eq!(whole.len(), 2);
        assert_eq!(whole, split);
        // An empty chunk in between keeps the pending LF pending.
        let with_empty = all(&[b"data: a\r", b"", b"\n", b"\n", b"data: b\n\n"]);
        assert_eq!(whole, with_empty);
    }

    #[test]
    fn line_endings_are_equivalent() {
        for body in [
            &b"event: a\ndata: x\ndata: y\n\n"[..],
            b"event: a\r\ndata: x\r\ndata: y\r\n\r\n",
            b"event: a\rdata: x\rdata: y\r\r",
        ] {
            let evs = all(&[body]);
            assert_eq!(evs.len(), 1, "{body:?}");
            assert_eq!(evs[0].event, "a");
            assert_eq!(evs[0].data, "x\ny");
        }
    }

    #[test]
    fn crlf_split_between_chunks_is_one_line_end() {
        let evs = all(&[b"data: a\r", b"\n", b"\r", b"\ndata: b\n\n"]);
        assert_eq!(evs.len(), 2);
        assert_eq!(evs[0].data, "a");
        assert_eq!(evs[1].data, "b");
    }

    #[test]
    fn every_split_point_gives_the_same_events() {
        let body = "retry: 1500\nid: 7\n: keep-alive\ndata:{\"t\":\"é😀\"}\r\n\r\nevent: done\ndata\n\n".as_bytes();
        let whole = all(&[body]);
        assert_eq!(whole.len(), 2);
        assert_eq!(whole[0].data, "{\"t\":\"é😀\"}");
        assert_eq!(whole[0].retry, Some(Duration::from_millis(1500)));
        assert_eq!(whole[0].id.as_deref(), Some("7"));
        assert_eq!(whole[1].event, "done");
        assert_eq!(whole[1].data, "");
        for i in 0..body.len() {
            for j in i..body.len() {
                let evs = all(&[&body[..i], &body[i..j], &body[j..]]);
                assert_eq!(evs, whole, "split at {i},{j}");
            }
        }
    }

    #[test]
    fn finish_reports_a_cut_event() {
        let mut r = SseReader::new();
        assert!(r.push(b"data: {\"a\"").is_empty());
        assert!(r.has_pending());
        let cut = r.finish().expect("a pending event");
        assert_eq!(cut.data, "{\"a\"");
        let mut clean = SseReader::new();
        assert_eq!(clean.push(b"data: x\n\n").len(), 1);
        assert_eq!(clean.finish(), None);
    }

    #[test]
    fn a_line_without_end_holds_at_most_the_limit_plus_one_chunk() {
        const LIMIT: usize = 64 << 10;
        const CHUNK: usize = 8 << 10;
        let chunk = vec![b'a'; CHUNK];
        let mut r = SseReader::new().with_max_line(LIMIT);
        r.push(b"data: ");
        let mut pushed = 6;
        let mut most = 0;
        // Four times the limit, as a server that never sends a newline would.
        while pushed < 4 * LIMIT {
            assert!(r.push(&chunk).is_empty());
            pushed += CHUNK;
            most = most.max(r.buffered());
            if r.exceeded() {
                break;
            }
        }
        assert!(r.exceeded(), "the limit was noticed");
        assert!(pushed <= LIMIT + CHUNK + 6, "noticed after {pushed} bytes");
        assert!(most <= 2 * (LIMIT + CHUNK), "held {most} bytes");
        assert_eq!(r.buffered(), 0, "the buffer is released");
        assert!(r.finish().is_none());
    }

    #[test]
    fn many_short_data_lines_of_one_event_count_together() {
        let mut r = SseReader::new().with_max_line(100);
        for _ in 0..20 {
            assert!(r.push(b"data: 0123456789\n").is_empty());
        }
        assert!(r.exceeded());
    }

    #[test]
    fn bom_and_invalid_utf8_are_handled() {
        let evs = all(&[b"\xEF\xBB\xBFdata: \xff ok\n\n"]);
        assert_eq!(evs[0].data, "\u{FFFD} ok");
    }
}
