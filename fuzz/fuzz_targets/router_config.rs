//! The router's configuration on arbitrary text, as TOML and as JSON: never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use toolplane_router::RouterConfig;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = RouterConfig::from_toml_str(text);
    let _ = RouterConfig::from_json_str(text);
});
