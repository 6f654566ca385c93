//! The integrations changed at run time, kept across restarts: OpenAPI
//! descriptions added over HTTP (an upload is kept whole, a `path` is kept
//! as the path and read again at start) and the tools switched off. One
//! JSON file, `integrations.json` in `[server] state_dir`, rewritten whole
//! after each change: temporary file, fsync, rename, fsync of the folder, so
//! a crash leaves the old file or the new one, never half of one.
//!
//! Credentials sent with a description are never written: after a restart
//! its tools call without them until an admin adds it again with them.
//!
//! A file that cannot be read or parsed stops the start-up (the error names
//! the file and the problem): starting without it would silently switch
//! tools an admin had switched off back on.

use std::io::Write;
use std::path::{Path, PathBuf};

use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The file name inside `[server] state_dir`.
pub(crate) const STATE_FILE: &str = "integrations.json";

/// The version this build writes and reads.
const VERSION: u32 = 1;

/// The whole file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SavedState {
    /// Always [`VERSION`].
    pub(crate) version: u32,
    /// Descriptions added at run time, in the order they were added.
    #[serde(default)]
    pub(crate) openapi: Vec<SavedApi>,
    /// Tools switched off, by registered name (kept even while no tool has
    /// the name, so a tool that comes back later stays off).
    #[serde(default)]
    pub(crate) disabled_tools: Vec<String>,
}

/// One description added at run time, as needed to add it again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SavedApi {
    /// The tool name prefix.
    pub(crate) namespace: String,
    /// An upload: the description (an object, or its JSON/YAML text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) spec: Option<Value>,
    /// A file inside `[tools] openapi_dir`, read again at start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) path: Option<String>,
    /// The base URL override.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) base_url: Option<String>,
    /// Keep rules.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) include: Vec<String>,
    /// Drop rules.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) exclude: Vec<String>,
    /// Security schemes that had a credential when added (the credentials are not kept).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) auth_schemes: Vec<String>,
    /// Who added it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) added_by: Option<String>,
    /// When, in Unix milliseconds.
    #[serde(default)]
    pub(crate) added_unix_ms: u64,
}

/// The file and the lock that orders writers.
#[derive(Debug)]
pub(crate) struct StateStore {
    path: PathBuf,
    /// Held while a snapshot is taken and written, so the last write holds the latest state.
    writing: Mutex<()>,
}

impl StateStore {
    /// The store of `dir/integrations.json` (nothing is read or created yet).
    pub(crate) fn new(dir: &Path) -> Self {
        Self {
            path: dir.join(STATE_FILE),
            writing: Mutex::new(()),
        }
    }

    /// The file.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// The saved state; empty when there is no file yet.
    ///
    /// # Errors
    /// The file exists but cannot be read, is not JSON of this shape, or has
    /// another version; the message names the file.
    pub(crate) fn load(&self) -> Result<SavedState, String> {
        let shown = self.path.display();
        let text = match std::fs::read_to_string(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(SavedState::default()),
            Err(e) => return Err(format!("{shown}: cannot be read: {e}")),
        };
        let state: SavedState = serde_json::from_str(&text).map_err(|e| {
            format!("{shown}: not an integrations state file ({e}); fix it, or move it away to start from the configuration alone")
        })?;
        if state.version != VERSION {
            return Err(format!(
                "{shown}: version {} is not one this build reads (it reads {VERSION})",
                state.version
            ));
        }
        Ok(state)
    }

    /// Writes the state `snapshot` returns, durably; `snapshot` runs under the
    /// writers' lock so concurrent changes are written in order.
    ///
    /// # Errors
    /// Any file-system error, with the file's name.
    pub(crate) fn save(&self, snapshot: impl FnOnce() -> SavedState) -> Result<(), String> {
        let _guard = self.writing.lock();
        let mut state = snapshot();
        state.version = VERSION;
        let shown = self.path.display();
        let bytes = serde_json::to_vec_pretty(&state).map_err(|e| format!("{shown}: {e}"))?;
        write_atomically(&self.path, &bytes).map_err(|e| format!("{shown}: cannot be written: {e}"))
    }
}

/// Temporary file beside `path`, fsync, rename over `path`, fsync of the folder.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    std::fs::create_dir_all(dir)?;
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("state");
    let tmp = dir.join(format!(".{name}.tmp"));
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)?;
    std::fs::File::open(dir)?.sync_all()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> SavedState {
        SavedState {
            version: VERSION,
            openapi: vec![SavedApi {
                namespace: "pets".into(),
                spec: Some(serde_json::json!({"openapi": "3.1.0"})),
                path: None,
                base_url: Some("http://127.0.0.1:1".into()),
                include: vec![],
                exclude: vec!["method:DELETE".into()],
                auth_schemes: vec!["bearer".into()],
                added_by: Some("alice".into()),
                added_unix_ms: 7,
            }],
            disabled_tools: vec!["pets.deletePet".into()],
        }
    }

    #[test]
    fn a_saved_state_reads_back_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let store = StateStore::new(&dir.path().join("nested"));
        assert_eq!(store.load().unwrap(), SavedState::default());
        store.save(sample).unwrap();
        assert_eq!(StateStore::new(&dir.path().join("nested")).load().unwrap(), sample());
        let names: Vec<String> = std::fs::read_dir(dir.path().join("nested"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names, vec![STATE_FILE.to_owned()]);
    }

    #[test]
    fn a_corrupt_or_foreign_file_is_named_with_the_problem() {
        let dir = tempfile::tempdir().unwrap();
        let store = StateStore::new(dir.path());
        std::fs::write(store.path(), "{\"version\": 1, \"openapi\": [").unwrap();
        let e = store.load().unwrap_err();
        assert!(
            e.contains("integrations.json") && e.contains("not an integrations state file"),
            "{e}"
        );
        std::fs::write(store.path(), "{\"version\": 9}").unwrap();
        let e = store.load().unwrap_err();
        assert!(e.contains("version 9"), "{e}");
        std::fs::write(store.path(), "{\"version\": 1, \"secrets\": {}}").unwrap();
        let e = store.load().unwrap_err();
        assert!(e.contains("unknown field"), "{e}");
    }
}
