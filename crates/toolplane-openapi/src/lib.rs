//! OpenAPI 3.0 and 3.1 descriptions to LLM tools.
//!
//! (Crate documentation is written as the crate lands.)

#![forbid(unsafe_code)]
#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]

pub mod binding;

#[cfg(feature = "http")]
pub mod http;

pub use binding::{ConversionWarning, ConvertedTool, HttpBinding};
