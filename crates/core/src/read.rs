//! Reading content as text windows: files and streams in bounded memory, binary sniffing,
//! UTF-16 decoding. Every source (directories, git blobs, image layers, CI documents) reads
//! through here.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

/// Bytes examined to tell text from binary.
pub const SNIFF: usize = 8 << 10;

/// What reading a file produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadOutcome {
    /// Text, delivered in windows; total bytes read.
    Text(u64),
    /// NUL bytes in the first 8 KiB and no UTF-16 marker.
    Binary,
    /// Larger than the configured maximum.
    TooLarge(u64),
}

/// One window of a text blob, handed to the detector.
#[derive(Debug)]
pub struct Window<'a> {
    /// The bytes.
    pub bytes: &'a [u8],
    /// Offset of `bytes[0]` in the blob.
    pub offset: u64,
    /// Line number of `bytes[0]` minus one (add to window-relative lines).
    pub lines_before: usize,
    /// Code points between the start of `bytes[0]`'s line and `bytes[0]` (add to columns on
    /// the window's first line: a long line can start in an earlier window).
    pub columns_before: usize,
    /// Matches starting at or after this index are left to the next window (overlap region).
    pub report_before: usize,
}

/// Window sizes for large blobs.
#[derive(Debug, Clone, Copy)]
pub struct Windowing {
    /// Bytes per window.
    pub window: usize,
    /// Bytes shared by consecutive windows; longer than any single secret.
    pub overlap: usize,
}

impl Default for Windowing {
    fn default() -> Self {
        Windowing {
            window: 32 << 20,
            overlap: 64 << 10,
        }
    }
}

/// A run of a content copied from an earlier version of it (a git delta's copy instruction):
/// `len` bytes at `from` in the earlier version are at `to` in this one. What is known about
/// those bytes in the earlier version holds for them here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Copied {
    /// Offset in this version.
    pub to: usize,
    /// Offset in the earlier version.
    pub from: usize,
    /// Length of the run.
    pub len: usize,
}

/// The one window [`read_stream`] hands over for `data` when it hands over exactly one, as is
/// (text, not UTF-16, smaller than a window): such content can be scanned in place, with the
/// same result. `None` otherwise (read it with [`read_stream`]).
pub fn single_window(data: &[u8], w: Windowing) -> Option<Window<'_>> {
    let head = &data[..data.len().min(SNIFF)];
    (data.len() < w.window && utf16_kind(head).is_none() && !looks_binary(head)).then_some(Window {
        bytes: data,
        offset: 0,
        lines_before: 0,
        columns_before: 0,
        report_before: data.len(),
    })
}

/// Reads the file at `path` and hands its text to `f` window by window.
pub fn read_file(
    path: &Path,
    max_size: Option<u64>,
    w: Windowing,
    f: impl FnMut(Window<'_>),
) -> io::Result<ReadOutcome> {
    let file = File::open(path)?;
    let meta = file.metadata()?;
    if let Some(max) = max_size
        && meta.len() > max
    {
        return Ok(ReadOutcome::TooLarge(meta.len()));
    }
    read_stream(file, w, f)
}

/// Reads any stream (a file, stdin) as text windows; binary content is detected and skipped.
pub fn read_stream(
    mut r: impl Read,
    w: Windowing,
    mut f: impl FnMut(Window<'_>),
) -> io::Result<ReadOutcome> {
    let mut buf: Vec<u8> = Vec::with_capacity(SNIFF);
    fill(&mut r, &mut buf, SNIFF)?;
    if let Some(utf16) = utf16_kind(&buf) {
        // UTF-16 text (Windows configs, PowerShell): transcode, bounded by the window size.
        fill(&mut r, &mut buf, w.window)?;
        if buf.len() >= w.window && fill(&mut r, &mut buf, w.window + 1)? > w.window {
            // Never report a partial scan as a clean one.
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!(
                    "UTF-16 text larger than {} MiB is not scanned",
                    w.window >> 20
                ),
            ));
        }
        let text = decode_utf16(&buf, utf16);
        f(Window {
            bytes: text.as_bytes(),
            offset: 0,
            lines_before: 0,
            columns_before: 0,
            report_before: text.len(),
        });
        return Ok(ReadOutcome::Text(buf.len() as u64));
    }
    if looks_binary(&buf) {
        return Ok(ReadOutcome::Binary);
    }
    let mut offset: u64 = 0;
    let mut lines_before = 0usize;
    let mut columns_before = 0usize;
    loop {
        let eof = fill(&mut r, &mut buf, w.window)? < w.window;
        if eof {
            f(Window {
                bytes: &buf,
                offset,
                lines_before,
                columns_before,
                report_before: buf.len(),
            });
            return Ok(ReadOutcome::Text(offset + buf.len() as u64));
        }
        let keep_from = buf.len() - w.overlap.min(buf.len() / 2);
        f(Window {
            bytes: &buf,
            offset,
            lines_before,
            columns_before,
            report_before: keep_from,
        });
        let done = &buf[..keep_from];
        lines_before += memchr::memchr_iter(b'\n', done).count();
        // Columns count code points: every byte that does not continue a UTF-8 sequence.
        let code_points = |b: &[u8]| b.iter().filter(|&&x| x & 0xC0 != 0x80).count();
        columns_before = match memchr::memrchr(b'\n', done) {
            Some(nl) => code_points(&done[nl + 1..]),
            None => columns_before + code_points(done),
        };
        offset += keep_from as u64;
        buf.drain(..keep_from);
    }
}

/// Reads from `r` until `buf` holds `target` bytes or the stream ends; returns `buf.len()`.
fn fill(r: &mut impl Read, buf: &mut Vec<u8>, target: usize) -> io::Result<usize> {
    if buf.len() < target {
        let need = (target - buf.len()) as u64;
        r.by_ref().take(need).read_to_end(buf)?;
    }
    Ok(buf.len())
}

#[derive(Clone, Copy)]
enum Utf16 {
    Le,
    Be,
}

/// The one binary test every source uses, on the first [`SNIFF`] bytes of a content: a NUL
/// byte, unless a UTF-16 byte-order mark says the NULs are half of its characters.
pub fn looks_binary(head: &[u8]) -> bool {
    let head = &head[..head.len().min(SNIFF)];
    utf16_kind(head).is_none() && memchr::memchr(0, head).is_some()
}

fn utf16_kind(b: &[u8]) -> Option<Utf16> {
    match b {
        [0xFF, 0xFE, ..] => Some(Utf16::Le),
        [0xFE, 0xFF, ..] => Some(Utf16::Be),
        _ => None,
    }
}

fn decode_utf16(b: &[u8], kind: Utf16) -> String {
    let units = b[2..].chunks_exact(2).map(|c| match kind {
        Utf16::Le => u16::from_le_bytes([c[0], c[1]]),
        Utf16::Be => u16::from_be_bytes([c[0], c[1]]),
    });
    char::decode_utf16(units)
        .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_cover_everything_once() {
        let mut text = Vec::new();
        for i in 0..1000 {
            text.extend_from_slice(format!("line {i} token\n").as_bytes());
        }
        let w = Windowing {
            window: 1000,
            overlap: 100,
        };
        let mut seen = Vec::new();
        let out = read_stream(&text[..], w, |win| {
            for (i, _) in win.bytes.iter().enumerate().filter(|(_, b)| **b == b'\n') {
                if i < win.report_before {
                    seen.push(win.offset + i as u64);
                }
            }
        })
        .unwrap();
        assert_eq!(out, ReadOutcome::Text(text.len() as u64));
        let expect: Vec<u64> = text
            .iter()
            .enumerate()
            .filter(|(_, b)| **b == b'\n')
            .map(|(i, _)| i as u64)
            .collect();
        assert_eq!(seen, expect);
    }

    #[test]
    fn columns_count_from_the_line_start_across_windows() {
        // A 3000-byte line that starts in the first window and a marker 2500 bytes into it.
        let mut text = b"first\n".to_vec();
        text.extend(std::iter::repeat_n(b'a', 25000));
        text.extend_from_slice(b"MARK");
        text.extend(std::iter::repeat_n(b'b', 4996));
        text.push(b'\n');
        let w = Windowing {
            window: 10000,
            overlap: 1000,
        };
        let mut found = Vec::new();
        read_stream(&text[..], w, |win| {
            if let Some(i) = memchr::memmem::find(win.bytes, b"MARK")
                && i < win.report_before
            {
                let line_start = memchr::memrchr(b'\n', &win.bytes[..i]).map_or(0, |n| n + 1);
                let col = i - line_start + 1;
                let col = if line_start == 0 {
                    col + win.columns_before
                } else {
                    col
                };
                let line =
                    win.lines_before + 1 + memchr::memchr_iter(b'\n', &win.bytes[..i]).count();
                found.push((line, col, win.offset > 0));
            }
        })
        .unwrap();
        // Line 2 (1-based), column 25001, found in a later window than the line's start.
        assert_eq!(found, vec![(2, 25001, true)]);
    }

    #[test]
    fn binary_and_utf16() {
        assert_eq!(
            read_stream(&b"\x7fELF\0\0\0"[..], Windowing::default(), |_| {}).unwrap(),
            ReadOutcome::Binary
        );
        let mut u = vec![0xFF, 0xFE];
        for c in "key=abc".encode_utf16() {
            u.extend_from_slice(&c.to_le_bytes());
        }
        let mut got = String::new();
        read_stream(&u[..], Windowing::default(), |w| {
            got = String::from_utf8_lossy(w.bytes).into_owned()
        })
        .unwrap();
        assert_eq!(got, "key=abc");
    }
}
