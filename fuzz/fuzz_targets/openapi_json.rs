//! The OpenAPI loader on arbitrary text, seeded with JSON descriptions:
//! loading, conversion and every profile's export never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| toolplane_fuzz::check_openapi(data));
