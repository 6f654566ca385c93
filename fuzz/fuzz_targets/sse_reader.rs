//! The SSE reader on arbitrary bytes: never panics, and gives the same events
//! whether the bytes arrive whole or cut at positions chosen by the input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use toolplane_providers::sse::{SseEvent, SseReader};

fn read(chunks: &[&[u8]]) -> Vec<SseEvent> {
    let mut reader = SseReader::new();
    let mut out = Vec::new();
    for c in chunks {
        out.extend(reader.push(c));
    }
    out.extend(reader.finish());
    out
}

fuzz_target!(|data: &[u8]| {
    // The first byte picks the cut spacing, the rest is the stream.
    let Some((&step, body)) = data.split_first() else {
        return;
    };
    let step = usize::from(step % 17) + 1;
    let whole = read(&[body]);
    let pieces: Vec<&[u8]> = body.chunks(step).collect();
    assert_eq!(whole, read(&pieces), "chunking changed the events (step {step})");
});
