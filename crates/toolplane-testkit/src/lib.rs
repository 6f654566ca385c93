//! Test support shared by toolplane's crates. Use it as a dev-dependency only.
//!
//! - [`fixtures_dir`]: the recorded provider traffic and official API
//!   descriptions in `../shared/fixtures` (or `TOOLPLANE_FIXTURES`).
//! - [`corpus_dir`]: the public OpenAPI corpora fetched from the npm registry
//!   by `scripts/fetch-corpora.sh` (into `TOOLPLANE_CORPORA`, default
//!   `<workspace>/.cache/corpora`).
//! - [`redis_url`]: the Redis server for backend tests (`TOOLPLANE_REDIS_URL`).
//! - [`spans::Collector`]: an in-memory `tracing` layer for span tests.
//!
//! Outside CI a missing resource prints one line saying the test was skipped
//! and why, and the function returns `None`. Under `CI=true` a missing
//! resource is a failure: the function panics with the reason, so CI can never
//! pass by skipping.
#![forbid(unsafe_code)]
#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]
#![allow(clippy::panic)] // Failing loudly under CI is this crate's purpose.

use std::path::{Path, PathBuf};

pub mod spans;

/// The workspace root (two levels above this crate's manifest).
pub fn workspace_root() -> PathBuf {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    here.parent()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| here.to_path_buf())
}

/// True when running under CI (`CI=true` or `CI=1`).
pub fn in_ci() -> bool {
    matches!(std::env::var("CI").as_deref(), Ok("true") | Ok("1"))
}

/// Reports a missing resource: a printed skip outside CI, a panic under CI.
/// Returns `None` so callers can `let Some(x) = ... else { return };`.
pub fn missing<T>(what: &str, why: &str) -> Option<T> {
    if in_ci() {
        panic!("{what} is required under CI=true but is missing: {why}");
    }
    eprintln!("skipped: {what} is missing ({why})");
    None
}

/// The shared fixtures folder: `TOOLPLANE_FIXTURES`, else `../shared/fixtures`
/// relative to the workspace root.
pub fn fixtures_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("TOOLPLANE_FIXTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("../shared/fixtures"));
    if dir.is_dir() {
        Some(dir)
    } else {
        missing("the shared fixtures", &format!("no folder at {}", dir.display()))
    }
}

/// A file or folder inside the shared fixtures.
pub fn fixture(relative: &str) -> Option<PathBuf> {
    let path = fixtures_dir()?.join(relative);
    if path.exists() {
        Some(path)
    } else {
        missing("a fixture", &format!("no {} in the fixtures folder", path.display()))
    }
}

/// The folder where `scripts/fetch-corpora.sh` unpacks npm packages.
pub fn corpora_root() -> PathBuf {
    std::env::var_os("TOOLPLANE_CORPORA")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join(".cache/corpora"))
}

/// One fetched npm package, by folder name (`octokit-openapi-23.0.2`,
/// `readme-oas-examples-8.2.2`), as unpacked (its `package/` folder).
pub fn corpus_dir(name: &str) -> Option<PathBuf> {
    let dir = corpora_root().join(name).join("package");
    if dir.is_dir() {
        Some(dir)
    } else {
        missing(
            &format!("the {name} corpus"),
            &format!("no folder at {}; run scripts/fetch-corpora.sh", dir.display()),
        )
    }
}

/// The Redis URL for backend tests, from `TOOLPLANE_REDIS_URL`.
pub fn redis_url() -> Option<String> {
    match std::env::var("TOOLPLANE_REDIS_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => missing("a Redis server", "TOOLPLANE_REDIS_URL is not set"),
    }
}

pub use toolplane_core::ScriptedProvider;
