//! What several fuzz targets check in the same way: one decoder or loader,
//! many inputs.

use toolplane_core::StreamEvent;
use toolplane_openapi::{Converter, LoadOptions, OpenApiSpec};
use toolplane_providers::decode::{DecodedItem, Decoding, StreamDecoder, decode_all};
use toolplane_schema::Profile;

fn check_terminal(items: &[DecodedItem]) {
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

/// A stream decoder on arbitrary bytes, whole and in 7-byte pieces: it never
/// panics and always ends with exactly one terminal item (a stop or an error).
pub fn check_decoder<D: StreamDecoder>(new: impl Fn() -> D, data: &[u8]) {
    check_terminal(&decode_all(new(), data));
    let mut decoding = Decoding::new(new());
    let mut items = Vec::new();
    for piece in data.chunks(7) {
        decoding.push(piece, &mut items);
    }
    decoding.finish(&mut items);
    check_terminal(&items);
}

/// The OpenAPI loader on arbitrary text, references resolved in an empty
/// folder (nothing outside it is read); whatever loads converts and exports
/// under every profile without panicking.
pub fn check_openapi(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(dir) = tempfile::tempdir() else {
        return;
    };
    let Ok(spec) = OpenApiSpec::from_str_in(text, dir.path(), &LoadOptions::default()) else {
        return;
    };
    let conversion = Converter::new(Default::default()).convert(&spec);
    for profile in Profile::ALL {
        let _ = conversion.export(profile);
    }
}
