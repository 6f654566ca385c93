//! The OpenAPI loader on arbitrary text (seeded with YAML descriptions):
//! loading never panics, and whatever loads converts into tools and exports under
//! every provider profile without panicking. References resolve against an
//! empty folder, so nothing outside it is read.
#![no_main]

use libfuzzer_sys::fuzz_target;
use toolplane_openapi::{Converter, LoadOptions, OpenApiSpec};
use toolplane_schema::Profile;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(dir) = tempfile::tempdir() else {
        return;
    };
    let options = LoadOptions::default();
    let Ok(spec) = OpenApiSpec::from_str_in(text, dir.path(), &options) else {
        return;
    };
    let conversion = Converter::new(Default::default()).convert(&spec);
    for profile in Profile::ALL {
        let _ = conversion.tools_field(profile);
    }
});
