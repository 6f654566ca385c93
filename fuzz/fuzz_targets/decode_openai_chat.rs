//! The OpenAI Chat Completions stream decoder on arbitrary bytes: never panics, and always ends
//! with exactly one terminal item (a stop or an error), whole or chunked.
#![no_main]

use libfuzzer_sys::fuzz_target;
use toolplane_providers::openai::ChatChunkDecoder;

fuzz_target!(|data: &[u8]| {
    toolplane_fuzz::check_decoder(|| ChatChunkDecoder::new("openai"), data);
});
