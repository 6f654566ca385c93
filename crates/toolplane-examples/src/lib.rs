//! The repository's runnable examples live in `examples/` at its root and are
//! built by this package against the `toolplane` facade with the `full`
//! feature, so `cargo run --example quickstart` works as it is:
//!
//! | example | facade features it uses |
//! | --- | --- |
//! | `quickstart` | `registry`, `builtin`, `openapi`, `http`, `providers`, `router`, `metrics`, `security`, `pipeline` |
//! | `streaming_chat` | `providers` |
//! | `github_tools` | `github` (with `openapi`, `http`) |
//! | `permissions` | `security` |
#![forbid(unsafe_code)]
#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]
