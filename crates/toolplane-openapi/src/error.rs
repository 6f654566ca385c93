//! Errors of loading a description.

use std::path::PathBuf;

/// Why a description could not be loaded. Every variant names the place: a
/// file, and a JSON pointer inside it where one applies.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// A file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The text is not valid JSON (when it starts with `{` or `[`) or YAML (otherwise).
    #[error("{place}: {message}")]
    Parse {
        /// The file (or `<input>`).
        place: String,
        /// `not valid JSON: ` or `not valid YAML: ` and the parser's message (with line and column).
        message: String,
    },
    /// A Swagger 2.0 description: not converted, refused.
    #[error(
        "{place}: this is a Swagger {version} description; only OpenAPI 3.0.x and 3.1.x are supported (convert it first, e.g. with swagger2openapi)"
    )]
    Swagger2 {
        /// The file.
        place: String,
        /// The `swagger` field's value.
        version: String,
    },
    /// The `openapi` field is missing or names an unsupported version.
    #[error("{place}: unsupported OpenAPI version {version} (expected 3.0.x or 3.1.x)")]
    UnsupportedVersion {
        /// The file and pointer (`/openapi`).
        place: String,
        /// What was found.
        version: String,
    },
    /// The document's structure is wrong (the root is not an object, ...).
    #[error("{place}: {message}")]
    Invalid {
        /// File and JSON pointer.
        place: String,
        /// What is wrong.
        message: String,
    },
    /// A reference to a remote document, and no fetcher was given.
    #[error(
        "{place}: remote reference `{reference}` is not fetched (remote references are off by default; set LoadOptions::remote)"
    )]
    RemoteRefused {
        /// File and JSON pointer of the `$ref`.
        place: String,
        /// The reference.
        reference: String,
    },
    /// A reference to another document that could not be loaded.
    #[error("{place}: reference `{reference}` could not be loaded: {message}")]
    Reference {
        /// File and JSON pointer of the `$ref`.
        place: String,
        /// The reference.
        reference: String,
        /// Why.
        message: String,
    },
    /// A reference to a local file that is not allowed: outside the allowed
    /// folder, not a regular file (a FIFO, a device, a directory), or too large.
    #[error("{place}: reference `{reference}` refused: {message}")]
    FileRefused {
        /// File and JSON pointer of the `$ref`.
        place: String,
        /// The reference.
        reference: String,
        /// Why, naming the file and the rule.
        message: String,
    },
    /// The description file itself is larger than [`crate::LoadOptions::max_file_bytes`].
    #[error("{place}: larger than the limit of {limit} bytes (LoadOptions::max_file_bytes)")]
    TooLarge {
        /// The file.
        place: String,
        /// The limit in bytes.
        limit: u64,
    },
    /// The text nests arrays and objects deeper than the parser allows.
    #[error(
        "{place}: nested deeper than {limit} levels at line {line}, column {column}; no OpenAPI description needs that many"
    )]
    TooDeep {
        /// The file (or `<input>`).
        place: String,
        /// 1-based line where the limit was passed.
        line: usize,
        /// 1-based column (in characters) where the limit was passed.
        column: usize,
        /// The nesting limit.
        limit: usize,
    },
}

impl LoadError {
    /// A short machine-readable kind (`io`, `parse`, `swagger2`, `version`, `invalid`, `remote_refused`,
    /// `reference`, `file_refused`, `too_large`, `too_deep`).
    pub fn kind(&self) -> &'static str {
        match self {
            LoadError::Io { .. } => "io",
            LoadError::Parse { .. } => "parse",
            LoadError::Swagger2 { .. } => "swagger2",
            LoadError::UnsupportedVersion { .. } => "version",
            LoadError::Invalid { .. } => "invalid",
            LoadError::RemoteRefused { .. } => "remote_refused",
            LoadError::Reference { .. } => "reference",
            LoadError::FileRefused { .. } => "file_refused",
            LoadError::TooLarge { .. } => "too_large",
            LoadError::TooDeep { .. } => "too_deep",
        }
    }
}
