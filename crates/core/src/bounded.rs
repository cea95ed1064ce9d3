//! Bounded reads of small files sprawl did not create: configs, rule files, baselines, caches,
//! target lists, a directory's `manifest.json`. A hostile or unlucky tree can put a FIFO (a read
//! that never ends), a link to `/dev/zero` (a read that never stops growing) or a 1 GB file
//! where a small text file is expected; each of those is refused with a reason instead.

use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// Largest configuration-like file read whole: configs, rule files, baselines, target lists.
pub const MAX_CONFIG_BYTES: u64 = 16 << 20;

/// Why a bounded read failed.
#[derive(Debug, thiserror::Error)]
pub enum BoundedReadError {
    /// Opening, inspecting or reading failed.
    #[error("{0}")]
    Io(#[from] io::Error),
    /// A FIFO, socket, device or directory where a regular file was expected.
    #[error("not a regular file ({0}): refused")]
    NotRegular(&'static str),
    /// Over the size limit.
    #[error("larger than {limit} bytes: refused")]
    TooLarge {
        /// The limit that was passed.
        limit: u64,
    },
}

impl BoundedReadError {
    /// The I/O error kind, for callers that treat a missing file as empty.
    pub fn is_not_found(&self) -> bool {
        matches!(self, BoundedReadError::Io(e) if e.kind() == io::ErrorKind::NotFound)
    }
}

/// Describes a non-regular file type for messages.
fn kind_name(ft: std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if ft.is_fifo() {
        "a FIFO"
    } else if ft.is_socket() {
        "a socket"
    } else if ft.is_char_device() {
        "a character device"
    } else if ft.is_block_device() {
        "a block device"
    } else if ft.is_dir() {
        "a directory"
    } else {
        "a special file"
    }
}

/// Reads the regular file at `path` (symbolic links followed) whole, refusing anything that is
/// not a regular file or holds more than `limit` bytes. The file is opened non-blocking, so a
/// FIFO swapped in after the type check cannot stall the open either.
pub fn read_regular(path: &Path, limit: u64) -> Result<Vec<u8>, BoundedReadError> {
    let meta = std::fs::metadata(path)?;
    if !meta.is_file() {
        return Err(BoundedReadError::NotRegular(kind_name(meta.file_type())));
    }
    if meta.len() > limit {
        return Err(BoundedReadError::TooLarge { limit });
    }
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(BoundedReadError::NotRegular(kind_name(meta.file_type())));
    }
    let mut out = Vec::with_capacity(meta.len().min(limit) as usize);
    file.take(limit + 1).read_to_end(&mut out)?;
    if out.len() as u64 > limit {
        return Err(BoundedReadError::TooLarge { limit });
    }
    Ok(out)
}

/// [`read_regular`] as UTF-8 text.
pub fn read_regular_text(path: &Path, limit: u64) -> Result<String, BoundedReadError> {
    let bytes = read_regular(path, limit)?;
    String::from_utf8(bytes).map_err(|_| {
        BoundedReadError::Io(io::Error::new(
            io::ErrorKind::InvalidData,
            "not valid UTF-8 text",
        ))
    })
}

/// Opens a target that is not a regular file or directory (a FIFO, `/dev/fd/N` of a process
/// substitution, a character device) as a stream without ever blocking in `open`: a FIFO with
/// no writer then reads as empty instead of hanging the scan.
pub fn open_stream(path: &Path) -> io::Result<File> {
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)?;
    // Back to blocking reads: a writer that is connected is waited for, as `cat` would.
    if let Ok(flags) = rustix::fs::fcntl_getfl(&file) {
        rustix::fs::fcntl_setfl(&file, flags & !rustix::fs::OFlags::NONBLOCK)?;
    }
    Ok(file)
}

/// Formats a TOML error without echoing the offending line: the line may be a gigabyte long
/// or hold a secret. Gives `line L, column C: message`.
pub fn toml_error(text: &str, e: &toml::de::Error) -> String {
    let msg: String = e.message().chars().take(300).collect();
    match e.span() {
        Some(span) => {
            let at = span.start.min(text.len());
            let before = &text.as_bytes()[..at];
            let line = memchr::memchr_iter(b'\n', before).count() + 1;
            let col = at - memchr::memrchr(b'\n', before).map_or(0, |i| i + 1) + 1;
            format!("line {line}, column {col}: {msg}")
        }
        None => msg,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_special_files_and_big_ones() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("p.toml");
        assert!(
            std::process::Command::new("mkfifo")
                .arg(&fifo)
                .status()
                .unwrap()
                .success()
        );
        assert!(matches!(
            read_regular(&fifo, 100),
            Err(BoundedReadError::NotRegular("a FIFO"))
        ));
        let z = dir.path().join("z.toml");
        std::os::unix::fs::symlink("/dev/zero", &z).unwrap();
        assert!(matches!(
            read_regular(&z, 100),
            Err(BoundedReadError::NotRegular("a character device"))
        ));
        let big = dir.path().join("big");
        std::fs::write(&big, vec![b'a'; 101]).unwrap();
        assert!(matches!(
            read_regular(&big, 100),
            Err(BoundedReadError::TooLarge { limit: 100 })
        ));
        assert_eq!(read_regular(&big, 101).unwrap().len(), 101);
        // A FIFO with no writer reads as empty, never blocks.
        let mut f = open_stream(&fifo).unwrap();
        let mut out = Vec::new();
        f.read_to_end(&mut out).unwrap();
        assert!(out.is_empty());
    }

    #[test]
    fn toml_errors_do_not_echo_the_line() {
        let text = "a = 1\nsecret = ghp_notquoted\n";
        let e = toml::from_str::<toml::Table>(text).unwrap_err();
        let m = toml_error(text, &e);
        assert!(m.starts_with("line 2, column"), "{m}");
        assert!(!m.contains("ghp_notquoted"), "{m}");
    }
}
