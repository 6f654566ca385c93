//! The permission policy loader on arbitrary text: never panics; a policy that
//! loads can be loaded again into another layer.
#![no_main]

use libfuzzer_sys::fuzz_target;
use toolplane_security::policy::{Layer, PolicyStore};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let store = PolicyStore::new();
    if store.load_str(Layer::Project, "fuzz.toml", text).is_ok() {
        let _ = store.load_str(Layer::User, "fuzz-user.toml", text);
    }
});
