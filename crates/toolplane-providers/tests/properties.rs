#![allow(clippy::unwrap_used, clippy::panic)]
//! Property tests: arbitrary bytes never panic the SSE reader, the stream
//! decoders, the error mapper or the header parsers; the SSE reader gives the
//! same events however the bytes are chunked; a decoder always ends with
//! exactly one terminal item (a `Stop` or an error).

use std::time::SystemTime;

use proptest::prelude::*;
use toolplane_core::StreamEvent;
use toolplane_providers::anthropic::MessagesDecoder;
use toolplane_providers::cohere::CohereDecoder;
use toolplane_providers::decode::{DecodedItem, StreamDecoder, decode_all};
use toolplane_providers::openai::{ChatChunkDecoder, ResponsesDecoder};
use toolplane_providers::sse::SseReader;
use toolplane_providers::{errors, ratelimit};

fn chunked(bytes: &[u8], cuts: &[usize]) -> Vec<toolplane_providers::sse::SseEvent> {
    let mut reader = SseReader::new();
    let mut out = Vec::new();
    let mut points: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
    points.sort_unstable();
    let mut last = 0;
    for p in points.into_iter().chain([bytes.len()]) {
        out.extend(reader.push(&bytes[last..p]));
        last = p;
    }
    out.extend(reader.finish());
    out
}

type DecodeFn = Box<dyn FnMut(&[u8]) -> Vec<DecodedItem>>;

/// Every decoder, fresh.
fn decoders() -> Vec<DecodeFn> {
    fn run<D: StreamDecoder>(d: D, b: &[u8]) -> Vec<DecodedItem> {
        decode_all(d, b)
    }
    vec![
        Box::new(|b| run(ChatChunkDecoder::new("openai"), b)),
        Box::new(|b| run(MessagesDecoder::new("anthropic"), b)),
        Box::new(|b| run(CohereDecoder::new("cohere"), b)),
        Box::new(|b| run(ResponsesDecoder::new("openai"), b)),
    ]
}

fn check_terminal(items: &[DecodedItem]) {
    let terminal = items
        .iter()
        .filter(|i| i.is_err() || matches!(i, Ok(StreamEvent::Stop { .. })))
        .count();
    assert_eq!(terminal, 1, "exactly one terminal item: {items:?}");
    assert!(items.last().unwrap().is_err() || matches!(items.last(), Some(Ok(StreamEvent::Stop { .. }))));
}

/// SSE-shaped noise: plausible field lines with JSON-ish values.
fn sse_noise() -> impl Strategy<Value = Vec<u8>> {
    let field = prop_oneof![
        Just("data: ".to_owned()),
        Just("event: ".to_owned()),
        Just(": ".to_owned()),
        Just("retry: ".to_owned()),
        Just("id: ".to_owned()),
        Just("data:".to_owned()),
    ];
    let value = prop_oneof![
        Just("[DONE]".to_owned()),
        Just(r#"{"type":"message_stop"}"#.to_owned()),
        Just(r#"{"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"t","name":"n"}}"#.to_owned()),
        Just(r#"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"a\":"}}"#.to_owned()),
        Just(r#"{"type":"message_delta","delta":{"stop_reason":"max_tokens"},"usage":{"output_tokens":3}}"#.to_owned()),
        Just(r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":5,"id":"x","function":{"name":"f","arguments":"{"}}]},"finish_reason":"length"}]}"#.to_owned()),
        Just(r#"{"type":"tool-call-start","index":0,"delta":{"message":{"tool_calls":{"id":"c","function":{"name":"f"}}}}}"#.to_owned()),
        Just(r#"{"type":"message-end","delta":{"finish_reason":"COMPLETE"}}"#.to_owned()),
        Just(r#"{"type":"response.output_item.added","output_index":0,"item":{"type":"function_call","call_id":"c"}}"#.to_owned()),
        Just(r#"{"type":"response.completed","response":{"status":"incomplete"}}"#.to_owned()),
        Just(r#"{"type":"error","error":{"type":"overloaded_error"}}"#.to_owned()),
        "[ -~]{0,40}",
    ];
    let ending = prop_oneof![Just("\n"), Just("\r\n"), Just("\r"), Just("\n\n"), Just("\r\n\r\n")];
    prop::collection::vec((field, value, ending), 0..30).prop_map(|lines| {
        lines
            .into_iter()
            .flat_map(|(f, v, e)| format!("{f}{v}{e}").into_bytes())
            .collect()
    })
}

fn recorded_bodies() -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    if let Some(dir) = toolplane_testkit::fixtures_dir() {
        for sub in ["providers/openai/chat-streams", "providers/anthropic/message-streams"] {
            for e in std::fs::read_dir(dir.join(sub)).into_iter().flatten().flatten() {
                out.push(std::fs::read(e.path()).unwrap());
            }
        }
    }
    let own = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    for e in std::fs::read_dir(own).unwrap().flatten() {
        if e.path().extension().is_some_and(|x| x == "sse") {
            out.push(std::fs::read(e.path()).unwrap());
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn sse_reader_is_chunking_invariant(bytes in prop::collection::vec(any::<u8>(), 0..400), cuts in prop::collection::vec(any::<usize>(), 0..8)) {
        prop_assert_eq!(chunked(&bytes, &cuts), chunked(&bytes, &[]));
    }

    #[test]
    fn sse_reader_is_chunking_invariant_on_sse_shaped_input(bytes in sse_noise(), cuts in prop::collection::vec(any::<usize>(), 0..8)) {
        prop_assert_eq!(chunked(&bytes, &cuts), chunked(&bytes, &[]));
    }

    #[test]
    fn decoders_never_panic_on_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        for mut d in decoders() {
            check_terminal(&d(&bytes));
        }
    }

    #[test]
    fn decoders_never_panic_on_sse_shaped_noise(bytes in sse_noise()) {
        for mut d in decoders() {
            check_terminal(&d(&bytes));
        }
    }

    #[test]
    fn decoders_never_panic_on_cut_or_corrupted_recordings(pick in any::<usize>(), cut in any::<usize>(), flip in any::<usize>(), byte in any::<u8>()) {
        let bodies = recorded_bodies();
        let mut body = bodies[pick % bodies.len()].clone();
        body.truncate(cut % (body.len() + 1));
        if !body.is_empty() {
            let i = flip % body.len();
            body[i] = byte;
        }
        for mut d in decoders() {
            check_terminal(&d(&body));
        }
    }

    #[test]
    fn error_mapper_and_header_parsers_never_panic(status in any::<u16>(), body in prop::collection::vec(any::<u8>(), 0..300), header in "\\PC{0,40}") {
        let get = |_: &str| Some(header.as_str());
        let err = errors::from_response("p", status, get, &body);
        prop_assert_eq!(err.status(), Some(status));
        let _ = ratelimit::snapshot(get, SystemTime::now());
        let _ = ratelimit::parse_duration(&header);
        let _ = ratelimit::parse_rfc3339(&header);
        let _ = errors::redact(&header);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    /// Whatever the bytes and however they are chunked, the reader never
    /// holds much more than its line limit, and once past it reads nothing more.
    #[test]
    fn the_sse_reader_stays_within_its_line_limit(
        body in proptest::collection::vec(prop_oneof![Just(b'a'), Just(b'\n'), Just(b':'), any::<u8>()], 0..1024),
        limit in 1usize..256,
        cuts in proptest::collection::vec(0usize..1024, 0..16),
    ) {
        let mut reader = SseReader::new().with_max_line(limit);
        let mut points: Vec<usize> = cuts.iter().map(|c| c % (body.len() + 1)).collect();
        points.sort_unstable();
        let mut last = 0;
        for p in points.into_iter().chain([body.len()]) {
            let chunk = &body[last..p];
            let events = reader.push(chunk);
            if reader.exceeded() {
                prop_assert_eq!(reader.buffered(), 0);
            }
            for e in events {
                prop_assert!(e.data.len() <= limit, "{} > {}", e.data.len(), limit);
            }
            prop_assert!(reader.buffered() <= 4 * (limit + chunk.len()) + 64);
            last = p;
        }
    }
}
