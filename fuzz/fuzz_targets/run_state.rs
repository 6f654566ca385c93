//! A saved run (the loop's serialized state, which may come from another process
//! or a file a person edited) on arbitrary text: never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use toolplane_pipeline::RunState;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(state) = RunState::from_json(text) {
        let _ = state.to_json();
    }
});
