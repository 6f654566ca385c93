//! The Anthropic Messages stream decoder on arbitrary bytes: never panics, and always ends
//! with exactly one terminal item (a stop or an error), whole or chunked.
#![no_main]

use libfuzzer_sys::fuzz_target;
use toolplane_providers::anthropic::MessagesDecoder;

fuzz_target!(|data: &[u8]| {
    toolplane_fuzz::check_decoder(|| MessagesDecoder::new("anthropic"), data);
});
