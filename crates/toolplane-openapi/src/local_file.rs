//! Reading the files a description names: confined to a folder, regular files
//! only, bounded in size.
//!
//! A `$ref` is text from the description's author, and what a referenced file
//! holds (titles, defaults, examples) ends up in tool definitions sent to a
//! model provider. So a reference resolves only to a regular file inside the
//! allowed folder (symlinks resolved first, so neither `../` nor a symlink
//! leads out), its type is checked before it is opened (a FIFO would block
//! the open, a device such as `/dev/zero` never ends), it is opened without
//! blocking and checked again on the open handle, and it is read through a
//! bounded reader, so no more than the limit plus one byte is ever read.

use std::fs::{File, Metadata};
use std::io::Read;
use std::path::{Path, PathBuf};

/// `dir` made canonical (no symlinks, no `..`): the folder external file
/// references must stay inside.
pub(crate) fn canonical_root(dir: &Path) -> Result<PathBuf, String> {
    let root = std::fs::canonicalize(dir).map_err(|e| format!("cannot resolve the folder {}: {e}", dir.display()))?;
    if !root.is_dir() {
        return Err(format!("{} is not a folder", root.display()));
    }
    Ok(root)
}

/// What kind of file a non-regular entry is, for error messages.
fn kind_of(meta: &Metadata) -> &'static str {
    let t = meta.file_type();
    if t.is_dir() {
        return "a directory";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "a FIFO";
        }
        if t.is_char_device() || t.is_block_device() {
            return "a device";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    "not a regular file"
}

/// Reads the referenced file at `path` (absolute, possibly with symlinks)
/// when it is a regular file inside `root` of at most `max_bytes` bytes.
/// The error says why not, in words a user can act on.
pub(crate) fn read_confined(path: &Path, root: &Path, max_bytes: u64) -> Result<String, String> {
    let real = std::fs::canonicalize(path).map_err(|e| format!("cannot resolve {}: {e}", path.display()))?;
    if !real.starts_with(root) {
        let via = if real == path {
            String::new()
        } else {
            format!(" (it resolves to {})", real.display())
        };
        return Err(format!(
            "{}{via} is outside {}: external references resolve only inside the description's folder \
             (allow a wider folder with LoadOptions::file_root or `--ref-root`)",
            path.display(),
            root.display()
        ));
    }
    // The type first: opening a FIFO for reading would wait for a writer.
    let meta = std::fs::metadata(&real).map_err(|e| format!("cannot read {}: {e}", real.display()))?;
    check_regular(&real, &meta, max_bytes)?;
    let file = open_nonblocking(&real).map_err(|e| format!("cannot open {}: {e}", real.display()))?;
    // Again on the handle: the entry may have been swapped since it was checked.
    let meta = file
        .metadata()
        .map_err(|e| format!("cannot read {}: {e}", real.display()))?;
    check_regular(&real, &meta, max_bytes)?;
    read_bounded(file, max_bytes).map_err(|e| match e {
        BoundedReadError::TooLarge => too_large(&real, max_bytes),
        BoundedReadError::Io(e) => format!("cannot read {}: {e}", real.display()),
    })
}

fn check_regular(path: &Path, meta: &Metadata, max_bytes: u64) -> Result<(), String> {
    if !meta.is_file() {
        return Err(format!(
            "{} is {}; a reference must name a regular file",
            path.display(),
            kind_of(meta)
        ));
    }
    if meta.len() > max_bytes {
        return Err(too_large(path, max_bytes));
    }
    Ok(())
}

fn too_large(path: &Path, max_bytes: u64) -> String {
    format!(
        "{} is larger than the limit of {max_bytes} bytes (LoadOptions::max_file_bytes)",
        path.display()
    )
}

#[cfg(unix)]
fn open_nonblocking(path: &Path) -> std::io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOFOLLOW)
        .open(path)
}

#[cfg(not(unix))]
fn open_nonblocking(path: &Path) -> std::io::Result<File> {
    File::open(path)
}

/// Why [`read_bounded`] failed.
#[derive(Debug)]
pub(crate) enum BoundedReadError {
    /// More than the limit.
    TooLarge,
    /// Reading failed (or the bytes are not UTF-8).
    Io(std::io::Error),
}

/// Reads at most `max_bytes` (and one more byte to tell "exactly the limit"
/// from "more") as UTF-8 text.
pub(crate) fn read_bounded(reader: impl Read, max_bytes: u64) -> Result<String, BoundedReadError> {
    let mut bytes = Vec::new();
    reader
        .take(max_bytes.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(BoundedReadError::Io)?;
    if bytes.len() as u64 > max_bytes {
        return Err(BoundedReadError::TooLarge);
    }
    String::from_utf8(bytes).map_err(|e| {
        BoundedReadError::Io(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("not UTF-8 text: {e}"),
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_reads_stop_one_byte_past_the_limit() {
        assert_eq!(read_bounded(&b"abcd"[..], 4).unwrap(), "abcd");
        assert!(matches!(
            read_bounded(std::io::repeat(b'a'), 1024),
            Err(BoundedReadError::TooLarge)
        ));
    }
}
