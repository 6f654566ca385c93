//! Declarative pipeline definitions in TOML on arbitrary text: never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use toolplane_pipeline::PipelineDef;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = PipelineDef::from_toml_str(text);
});
