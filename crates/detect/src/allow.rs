//! Inline allow comments: a developer marks a line as reviewed with `sprawl:allow` (or, when
//! migrating, `gitleaks:allow` / `pragma: allowlist secret`), or the line before with
//! `sprawl:allow-next-line` / `pragma: allowlist nextline secret`.

use memchr::memmem;

const SAME_LINE: &[&[u8]] = &[
    b"sprawl:allow",
    b"gitleaks:allow",
    b"pragma: allowlist secret",
];
const NEXT_LINE: &[&[u8]] = &[
    b"sprawl:allow-next-line",
    b"pragma: allowlist nextline secret",
];

/// True when the match spanning `start..end` of `hay` is allowed by a comment.
pub fn is_allowed(hay: &[u8], start: usize, end: usize) -> bool {
    let line_start = memchr::memrchr(b'\n', &hay[..start]).map_or(0, |i| i + 1);
    let line_end = memchr::memchr(b'\n', &hay[end..]).map_or(hay.len(), |i| end + i);
    let lines = &hay[line_start..line_end];
    if SAME_LINE
        .iter()
        .any(|m| memmem::find(lines, m).is_some() && !is_next_line_marker(lines, m))
    {
        return true;
    }
    if line_start == 0 {
        return false;
    }
    let prev_start = memchr::memrchr(b'\n', &hay[..line_start - 1]).map_or(0, |i| i + 1);
    let prev = &hay[prev_start..line_start - 1];
    NEXT_LINE.iter().any(|m| memmem::find(prev, m).is_some())
}

/// `sprawl:allow-next-line` contains `sprawl:allow`; on its own line it allows the next one only.
fn is_next_line_marker(line: &[u8], marker: &[u8]) -> bool {
    marker == b"sprawl:allow"
        && memmem::find_iter(line, marker)
            .all(|i| line[i + marker.len()..].starts_with(b"-next-line"))
}

#[cfg(test)]
mod tests {
    use super::is_allowed;

    #[test]
    fn same_and_next_line() {
        let hay =
            b"a = 1\ntoken = abc # sprawl:allow\n# sprawl:allow-next-line\nkey = def\nkey = ghi\n";
        let at = |s: &str| {
            let i = hay
                .windows(s.len())
                .position(|w| w == s.as_bytes())
                .unwrap();
            is_allowed(hay, i, i + s.len())
        };
        assert!(at("abc"));
        assert!(at("def"));
        assert!(!at("ghi"));
    }
}
