//! The executor's argument reader on arbitrary bytes: bytes to text, text to a
//! JSON value within the size and depth limits; never panics, and what it
//! accepts stays within the depth limit.
#![no_main]

use libfuzzer_sys::fuzz_target;
use toolplane_registry::{ArgumentLimits, arguments_from_bytes, parse_arguments};

fn depth(v: &serde_json::Value) -> usize {
    match v {
        serde_json::Value::Array(a) => 1 + a.iter().map(depth).max().unwrap_or(0),
        serde_json::Value::Object(o) => 1 + o.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = arguments_from_bytes(data) else {
        return;
    };
    let limits = ArgumentLimits {
        max_bytes: 64 * 1024,
        max_depth: 16,
    };
    if let Ok(value) = parse_arguments(text, &limits) {
        assert!(
            depth(&value) <= limits.max_depth + 1,
            "accepted nesting deeper than the limit"
        );
    }
});
