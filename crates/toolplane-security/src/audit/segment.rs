//! Reading a segment file frame by frame, in bounded memory.
//!
//! A segment is opened only if it is a regular file (not a symlink, FIFO,
//! device or folder: a FIFO would block the reader forever and `/dev/zero`
//! never ends), its length is taken once at open, and each frame is read
//! into one reused buffer after its length field has been checked against
//! [`MAX_PAYLOAD`] and against the bytes that remain, so memory stays at one
//! frame whatever the file's size.

use std::fs::File;
use std::io::{BufReader, Read as _, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::AuditError;
use super::format::{HEADER, MAX_PAYLOAD, PREFIX};

/// One frame read from a file; the body borrows the reader's buffer.
#[derive(Debug)]
pub(crate) struct FrameRef<'a> {
    pub(crate) kind: u8,
    pub(crate) seq: u64,
    pub(crate) prev: [u8; 32],
    pub(crate) body: &'a [u8],
    pub(crate) hash: [u8; 32],
    /// Offset just past the frame.
    pub(crate) end: u64,
}

/// What is at the reader's offset.
#[derive(Debug)]
pub(crate) enum Next<'a> {
    Frame(FrameRef<'a>),
    End,
    /// The frame runs past the end of the file.
    Torn {
        needed: u64,
        have: u64,
    },
    /// The checksum does not match, or the length is impossible.
    Corrupt {
        why: &'static str,
        end: u64,
    },
}

/// A forward-only reader over one segment file.
#[derive(Debug)]
pub(crate) struct SegmentReader {
    path: PathBuf,
    file: BufReader<File>,
    len: u64,
    off: u64,
    buf: Vec<u8>,
}

impl SegmentReader {
    /// Opens `path` at offset 0, refusing anything but a regular file.
    pub(crate) fn open(path: &Path) -> Result<Self, AuditError> {
        Self::open_at(path, 0)
    }

    /// Opens `path` at `offset`.
    pub(crate) fn open_at(path: &Path, offset: u64) -> Result<Self, AuditError> {
        let io = |op: &'static str, e: std::io::Error| AuditError::Io {
            path: path.display().to_string(),
            op,
            message: e.to_string(),
        };
        // Checked before opening, without following links: opening a FIFO
        // for reading blocks until a writer appears.
        let meta = std::fs::symlink_metadata(path).map_err(|e| io("stat", e))?;
        refuse_unless_regular(path, &meta)?;
        let mut file = File::open(path).map_err(|e| io("open", e))?;
        // And again on the open file, in case the name was swapped meanwhile.
        let meta = file.metadata().map_err(|e| io("stat", e))?;
        refuse_unless_regular(path, &meta)?;
        if offset > 0 {
            file.seek(SeekFrom::Start(offset)).map_err(|e| io("seek", e))?;
        }
        Ok(Self {
            path: path.to_path_buf(),
            file: BufReader::with_capacity(64 * 1024, file),
            len: meta.len(),
            off: offset.min(meta.len()),
            buf: Vec::new(),
        })
    }

    /// The file's length when it was opened.
    pub(crate) fn len(&self) -> u64 {
        self.len
    }

    /// The offset of the next frame.
    pub(crate) fn offset(&self) -> u64 {
        self.off
    }

    /// Reads the next frame. After `Torn` or `Corrupt` the reader stays where
    /// it was; call again only after `Frame`.
    pub(crate) fn next_frame(&mut self) -> Result<Next<'_>, AuditError> {
        let rest = self.len - self.off;
        if rest == 0 {
            return Ok(Next::End);
        }
        if rest < HEADER as u64 {
            return Ok(Next::Torn {
                needed: HEADER as u64,
                have: rest,
            });
        }
        let mut header = [0u8; HEADER];
        self.read_exact(&mut header)?;
        let len = u32::from_le_bytes([header[0], header[1], header[2], header[3]]) as usize;
        let crc = u32::from_le_bytes([header[4], header[5], header[6], header[7]]);
        if !(PREFIX..=MAX_PAYLOAD).contains(&len) {
            return Ok(Next::Corrupt {
                why: "impossible length field",
                end: self.len,
            });
        }
        let total = (HEADER + len) as u64;
        if rest < total {
            return Ok(Next::Torn {
                needed: total,
                have: rest,
            });
        }
        self.buf.resize(len, 0);
        let mut payload = std::mem::take(&mut self.buf);
        let read = self.read_exact(&mut payload);
        self.buf = payload;
        read?;
        let end = self.off + total;
        let payload = &self.buf[..];
        if crc32fast::hash(payload) != crc {
            return Ok(Next::Corrupt {
                why: "checksum mismatch",
                end,
            });
        }
        self.off = end;
        let mut seq = [0u8; 8];
        seq.copy_from_slice(&payload[1..9]);
        let mut prev = [0u8; 32];
        prev.copy_from_slice(&payload[9..41]);
        Ok(Next::Frame(FrameRef {
            kind: payload[0],
            seq: u64::from_le_bytes(seq),
            prev,
            body: &payload[PREFIX..],
            hash: Sha256::digest(payload).into(),
            end,
        }))
    }

    fn read_exact(&mut self, out: &mut [u8]) -> Result<(), AuditError> {
        self.file.read_exact(out).map_err(|e| AuditError::Io {
            path: self.path.display().to_string(),
            op: "read",
            message: format!("{e} (the file shrank while it was read?)"),
        })
    }
}

fn refuse_unless_regular(path: &Path, meta: &std::fs::Metadata) -> Result<(), AuditError> {
    let ft = meta.file_type();
    if ft.is_file() {
        return Ok(());
    }
    let what = if ft.is_symlink() {
        "a symbolic link"
    } else if ft.is_dir() {
        "a folder"
    } else {
        kind_of_special(&ft)
    };
    Err(AuditError::Corrupt {
        path: path.display().to_string(),
        message: format!("not a regular file ({what}); audit segments are read only from regular files"),
    })
}

#[cfg(unix)]
fn kind_of_special(ft: &std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if ft.is_fifo() {
        "a FIFO"
    } else if ft.is_char_device() {
        "a character device"
    } else if ft.is_block_device() {
        "a block device"
    } else if ft.is_socket() {
        "a socket"
    } else {
        "a special file"
    }
}

#[cfg(not(unix))]
fn kind_of_special(_: &std::fs::FileType) -> &'static str {
    "a special file"
}

#[cfg(test)]
mod tests {
    use super::super::format::{KIND_RECORD, encode};
    use super::*;

    #[test]
    fn frames_round_trip_and_detect_flips_and_tears() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("seg-00000000.tpa");
        let mut buf = Vec::new();
        let h = encode(KIND_RECORD, 7, &[9; 32], b"{\"a\":1}", &mut buf);
        std::fs::write(&path, &buf).unwrap();
        let mut r = SegmentReader::open(&path).unwrap();
        match r.next_frame().unwrap() {
            Next::Frame(f) => assert_eq!(
                (f.kind, f.seq, f.prev, f.body, f.hash, f.end),
                (KIND_RECORD, 7, [9; 32], &b"{\"a\":1}"[..], h, buf.len() as u64)
            ),
            other => panic!("{other:?}"),
        }
        assert!(matches!(r.next_frame().unwrap(), Next::End));

        let mut flipped = buf.clone();
        flipped[20] ^= 1;
        std::fs::write(&path, &flipped).unwrap();
        let mut r = SegmentReader::open(&path).unwrap();
        assert!(matches!(
            r.next_frame().unwrap(),
            Next::Corrupt {
                why: "checksum mismatch",
                ..
            }
        ));

        std::fs::write(&path, &buf[..buf.len() - 1]).unwrap();
        let mut r = SegmentReader::open(&path).unwrap();
        assert!(matches!(r.next_frame().unwrap(), Next::Torn { have, .. } if have == buf.len() as u64 - 1));
    }

    #[test]
    fn a_length_field_above_the_bound_is_refused_before_allocating() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("seg-00000000.tpa");
        let mut buf = Vec::new();
        encode(KIND_RECORD, 0, &[0; 32], b"{}", &mut buf);
        // Claims one byte more than the bound, with that many bytes present.
        let len = (MAX_PAYLOAD + 1) as u32;
        buf[..4].copy_from_slice(&len.to_le_bytes());
        let f = std::fs::File::create(&path).unwrap();
        std::io::Write::write_all(&mut &f, &buf).unwrap();
        f.set_len(HEADER as u64 + u64::from(len)).unwrap();
        let mut r = SegmentReader::open(&path).unwrap();
        assert!(matches!(
            r.next_frame().unwrap(),
            Next::Corrupt {
                why: "impossible length field",
                ..
            }
        ));
        // At the bound, in a short file: torn, and nothing was allocated for it.
        buf[..4].copy_from_slice(&(MAX_PAYLOAD as u32).to_le_bytes());
        std::fs::write(&path, &buf).unwrap();
        let mut r = SegmentReader::open(&path).unwrap();
        assert!(matches!(r.next_frame().unwrap(), Next::Torn { .. }));
        assert!(r.buf.capacity() < 1024);
    }
}
