//! Rendering scan results. Reports never decide what is a finding; they only print them, and
//! print a secret only when the user asked with `--show-secrets` (never in SARIF).

pub mod json;
pub mod markdown;
pub mod rotation;
pub mod rules_md;
pub mod sarif;
pub mod text;

use std::io::{self, Write};

use sprawl_core::finding::Finding;
use sprawl_core::rules::Rule;
use sprawl_core::stats::Stats;

/// Output formats of `sprawl scan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// Human-readable, coloured on a terminal.
    #[default]
    Text,
    /// One JSON document.
    Json,
    /// One JSON object per finding per line.
    Jsonl,
    /// SARIF 2.1.0 for code-scanning dashboards.
    Sarif,
    /// A Markdown table (job summaries, pull-request comments); always redacted.
    Md,
}

/// What a report is made from.
pub struct ReportInput<'a> {
    /// Findings to print, sorted.
    pub findings: &'a [Finding],
    /// Errors met while scanning.
    pub errors: &'a [String],
    /// Informational notes (shallow clone, submodules, skipped blobs).
    pub notes: &'a [String],
    /// Counters.
    pub stats: &'a Stats,
    /// All loaded rules (SARIF lists the ones with results).
    pub rules: &'a [Rule],
    /// Print secrets in clear (never honoured by SARIF).
    pub show_secrets: bool,
    /// Colour (text only).
    pub color: bool,
    /// The directory SARIF artifact URIs are relative to (`%SRCROOT%`), absolute.
    pub srcroot: Option<&'a std::path::Path>,
    /// Text: every later commit and every image of a shared layer copy, not a count.
    pub verbose: bool,
}

/// Writes the report in `format` to `out`.
pub fn write(format: Format, input: &ReportInput<'_>, out: &mut dyn Write) -> io::Result<()> {
    match format {
        Format::Text => {
            // Rendered whole, then made terminal-safe: a file name or line of a hostile
            // repository must not move the cursor or erase lines of a terminal or CI log.
            let mut buf = Vec::new();
            text::write(input, &mut buf)?;
            out.write_all(&terminal_safe(&buf))
        }
        Format::Json => json::write(input, out),
        Format::Jsonl => json::write_lines(input, out),
        Format::Sarif => sarif::write(input, out),
        Format::Md => {
            let mut buf = Vec::new();
            markdown::write(input, &mut buf)?;
            out.write_all(&terminal_safe(&buf))
        }
    }
}

/// Escapes every control character of `text` as `\xNN` except newlines, tabs and the colour
/// sequences the text report writes itself (`ESC [ digits/semicolons m`, which can only
/// change colours). Invalid UTF-8 is kept as it is.
pub fn terminal_safe(text: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        let b = text[i];
        if b == 0x1b && text.get(i + 1) == Some(&b'[') {
            let end = text[i + 2..]
                .iter()
                .position(|c| !(c.is_ascii_digit() || *c == b';'))
                .map(|p| i + 2 + p);
            if let Some(e) = end
                && text[e] == b'm'
            {
                out.extend_from_slice(&text[i..=e]);
                i = e + 1;
                continue;
            }
        }
        if (b < 0x20 && b != b'\n' && b != b'\t') || b == 0x7f {
            out.extend_from_slice(format!("\\x{b:02x}").as_bytes());
        } else if b == 0xc2 && text.get(i + 1).is_some_and(|c| (0x80..0xa0).contains(c)) {
            // C1 controls (U+0080..U+009F), e.g. the single-byte CSI U+009B.
            out.extend_from_slice(format!("\\u{{{:x}}}", text[i + 1] as u32).as_bytes());
            i += 2;
            continue;
        } else {
            out.push(b);
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod terminal_tests {
    use super::terminal_safe;

    #[test]
    fn escapes_cursor_movement_keeps_colours() {
        let t = b"\x1b[1;31m[critical]\x1b[0m a.env \x1b[2K\x1b[1A\r\x07 \xc2\x9b2J\n";
        let s = String::from_utf8(terminal_safe(t)).unwrap();
        assert_eq!(
            s,
            "\x1b[1;31m[critical]\x1b[0m a.env \\x1b[2K\\x1b[1A\\x0d\\x07 \\u{9b}2J\n"
        );
    }
}
