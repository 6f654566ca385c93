//! The OpenAI Responses API stream decoder on arbitrary bytes: never panics, and always ends
//! with exactly one terminal item (a stop or an error), whole or chunked.
#![no_main]

use libfuzzer_sys::fuzz_target;
use toolplane_core::StreamEvent;
use toolplane_providers::decode::{DecodedItem, Decoding, decode_all};
use toolplane_providers::openai::ResponsesDecoder as Decoder;

fn check(items: &[DecodedItem]) {
    let terminal = items
        .iter()
        .filter(|i| i.is_err() || matches!(i, Ok(StreamEvent::Stop { .. })))
        .count();
    assert_eq!(terminal, 1, "exactly one terminal item: {items:?}");
    let last = items.last().expect("at least the terminal item");
    assert!(
        last.is_err() || matches!(last, Ok(StreamEvent::Stop { .. })),
        "terminal item last"
    );
}

fuzz_target!(|data: &[u8]| {
    check(&decode_all(Decoder::new("openai"), data));
    // The same bytes in small pieces.
    let mut decoding = Decoding::new(Decoder::new("openai"));
    let mut items = Vec::new();
    for piece in data.chunks(7) {
        decoding.push(piece, &mut items);
    }
    decoding.finish(&mut items);
    check(&items);
});
