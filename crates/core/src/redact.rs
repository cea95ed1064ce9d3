//! Redaction of text that is shown or stored: credentials inside URLs (`https://user:TOKEN@host`,
//! whatever the scheme) and credential-looking words that no rule reported but that sit on a
//! line sprawl prints. Redaction is about the bytes that leave sprawl, not about matches: a
//! preview must not publish the password next to the token it reports.

use std::sync::OnceLock;

use regex::Regex;

/// The mask that replaces a hidden value.
pub const MASK: &str = "****";

/// A URL with its credentials masked: `scheme://user:****@host/…`; a user name alone is kept
/// only when it does not look like a token (`https://ghp_…@github.com` hides it). Text that is
/// not such a URL is returned unchanged.
pub fn url(text: &str) -> String {
    line(text)
}

/// The URLs (`scheme://…`) of a text, as byte ranges.
fn url_spans(text: &str) -> Vec<(usize, usize)> {
    static URL: OnceLock<Regex> = OnceLock::new();
    let re = URL.get_or_init(|| {
        Regex::new(r#"(?i)\b[a-z][a-z0-9+.\-]{0,30}://[^\s'"<>`]+"#).expect("static regex")
    });
    if !text.contains("://") {
        return Vec::new();
    }
    re.find_iter(text).map(|m| (m.start(), m.end())).collect()
}

/// One URL with its password (and a token-like user name given alone) masked, and the values
/// of query parameters that look like credentials or are named like them.
fn mask_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return url.to_string();
    };
    let rest = &url[scheme_end..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    let mut out = String::with_capacity(url.len());
    out.push_str(&url[..scheme_end]);
    match authority.rfind('@') {
        Some(at) => {
            let info = &authority[..at];
            match info.split_once(':') {
                // Already redacted by the finding itself (`p53c****`): keep its prefix.
                Some((_, pass)) if pass.ends_with(MASK) => out.push_str(info),
                Some((user, _)) => {
                    out.push_str(user);
                    out.push(':');
                    out.push_str(MASK);
                }
                None if looks_like_credential(info) || info.len() > 24 => out.push_str(MASK),
                None => out.push_str(info),
            }
            out.push_str(&authority[at..]);
        }
        None => out.push_str(authority),
    }
    let tail = &rest[authority_end..];
    match tail.split_once('?') {
        None => out.push_str(tail),
        Some((path, query)) => {
            out.push_str(path);
            out.push('?');
            let mut first = true;
            for pair in query.split('&') {
                if !first {
                    out.push('&');
                }
                first = false;
                match pair.split_once('=') {
                    Some((k, v)) if secret_name(k) || looks_like_credential(v) => {
                        out.push_str(k);
                        out.push('=');
                        out.push_str(if v.is_empty() { v } else { MASK });
                    }
                    _ => out.push_str(pair),
                }
            }
        }
    }
    out
}

/// True for parameter names that carry credentials (`token`, `api_key`, `sig`, …).
fn secret_name(name: &str) -> bool {
    let n: String = name
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_ascii_lowercase();
    ["auth", "code", "sig", "pwd", "pass"].contains(&n.as_str())
        || [
            "token",
            "secret",
            "password",
            "passwd",
            "signature",
            "key",
            "credential",
            "credentials",
        ]
        .iter()
        .any(|k| n.ends_with(k))
}

/// Masks the credentials of every URL in `text` (see [`url`]).
pub fn line(text: &str) -> String {
    let spans = url_spans(text);
    if spans.is_empty() {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for (s, e) in spans {
        out.push_str(&text[last..s]);
        out.push_str(&mask_url(&text[s..e]));
        last = e;
    }
    out.push_str(&text[last..]);
    out
}

/// True for a word that reads like a credential rather than code or prose: long enough, mixed
/// character classes, letters and digits interleaved the way random strings are, or symbols
/// mixed in the way passwords are. Identifiers (`SOCIAL_AUTH_SECRET`, `httpHeaderValue1`,
/// `x86_64-linux-gnu`), versions and paths are not. Deliberately broad beyond that: hiding a
/// hash in a preview costs little, publishing a password costs a rotation.
pub fn looks_like_credential(word: &str) -> bool {
    let n = word.chars().count();
    if n < 8 || word.contains(MASK) || word.starts_with(['/', '.', '~', '$', '%']) {
        return false;
    }
    if word.contains('/') && !word.chars().any(|c| c.is_ascii_uppercase()) {
        return false;
    }
    if is_identifier(word) {
        return false;
    }
    let (mut lower, mut upper, mut digit, mut symbol) = (false, false, false, false);
    let mut transitions = 0;
    let mut prev_digit: Option<bool> = None;
    for c in word.chars() {
        match c {
            'a'..='z' => lower = true,
            'A'..='Z' => upper = true,
            '0'..='9' => digit = true,
            '_' | '-' | '.' | '/' => {}
            _ => symbol = true,
        }
        if c.is_ascii_alphanumeric() {
            let d = c.is_ascii_digit();
            if prev_digit.is_some_and(|p| p != d) {
                transitions += 1;
            }
            prev_digit = Some(d);
        }
    }
    let classes = [lower, upper, digit, symbol].iter().filter(|b| **b).count();
    let entropy = crate::entropy::shannon_entropy(word.as_bytes());
    (symbol && classes >= 3 && entropy >= 2.9)
        || (digit && classes >= 2 && transitions >= 3 && n >= 10 && entropy >= 3.0)
        || (classes >= 2 && transitions >= 2 && n >= 20 && entropy >= 3.5)
}

/// True for code identifiers and versions: segments split at `_ - .` that are words, words
/// with a short number (`oauth2`, `x86`), or short numbers.
fn is_identifier(word: &str) -> bool {
    word.chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        && word.split(['_', '-', '.']).all(|seg| {
            let letters = seg.trim_end_matches(|c: char| c.is_ascii_digit());
            let digits = seg.len() - letters.len();
            (letters.chars().all(|c| c.is_ascii_alphabetic())
                && digits <= 2
                && !camel_noise(letters))
                || (letters.is_empty() && digits <= 4)
        })
}

/// True when a run of letters switches case too often to be a word or camelCase name
/// (`aBcDeF` yes, `httpHeaderValue` no).
fn camel_noise(letters: &str) -> bool {
    let b = letters.as_bytes();
    let switches = b
        .windows(2)
        .filter(|w| w[0].is_ascii_uppercase() != w[1].is_ascii_uppercase())
        .count();
    letters.len() >= 8 && switches * 3 > letters.len()
}

/// Masks every credential-looking word of a preview line ([`looks_like_credential`]) and
/// every URL credential. Words are split at whitespace, quotes and the punctuation that
/// surrounds values in code (`= : , ; ( ) [ ] { } < >`); URLs are masked as URLs.
pub fn other_credentials(text: &str) -> String {
    let spans = url_spans(text);
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for (s, e) in spans {
        out.push_str(&mask_words(&text[last..s]));
        out.push_str(&mask_url(&text[s..e]));
        last = e;
    }
    out.push_str(&mask_words(&text[last..]));
    out
}

fn mask_words(text: &str) -> String {
    let is_sep = |c: char| {
        c.is_whitespace()
            || matches!(
                c,
                '\'' | '"'
                    | '`'
                    | '='
                    | ':'
                    | ','
                    | ';'
                    | '('
                    | ')'
                    | '['
                    | ']'
                    | '{'
                    | '}'
                    | '<'
                    | '>'
            )
    };
    let mut out = String::with_capacity(text.len());
    let mut word_start: Option<usize> = None;
    let flush = |out: &mut String, word: &str| {
        if looks_like_credential(word) {
            out.push_str(MASK);
        } else {
            out.push_str(word);
        }
    };
    for (i, c) in text.char_indices() {
        if is_sep(c) {
            if let Some(s) = word_start.take() {
                flush(&mut out, &text[s..i]);
            }
            out.push(c);
        } else if word_start.is_none() {
            word_start = Some(i);
        }
    }
    if let Some(s) = word_start {
        flush(&mut out, &text[s..]);
    }
    out
}

/// A path as text without losing bytes: valid UTF-8 is kept, every byte that is not is
/// written `\xNN` (a lossy U+FFFD would make two different file names look the same).
pub fn path_text(path: &std::path::Path) -> String {
    use std::os::unix::ffi::OsStrExt;
    let bytes = path.as_os_str().as_bytes();
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        out.push_str(chunk.valid());
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out
}

/// Escapes control characters (ESC, CR, backspace, …) as `\x1b`-style text, so a file name or a
/// line of a hostile repository cannot rewrite a terminal or a CI log. Tabs are kept.
pub fn control_chars(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(|c| c.is_control() && c != '\t') {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c.is_control() && c != '\t' {
            let n = c as u32;
            if n <= 0xff {
                out.push_str(&format!("\\x{n:02x}"));
            } else {
                out.push_str(&format!("\\u{{{n:x}}}"));
            }
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_credentials_are_masked_whatever_the_scheme() {
        assert_eq!(
            url("https://x-access-token:ghp_abcDEF123456@github.com/o/r.git"),
            "https://x-access-token:****@github.com/o/r.git"
        );
        assert_eq!(
            url("HTTP://ghp_abcDEF123456ghijk@127.0.0.1:1/r"),
            "HTTP://****@127.0.0.1:1/r"
        );
        assert_eq!(url("ssh://git@github.com/o/r"), "ssh://git@github.com/o/r");
        assert_eq!(url("/some/path"), "/some/path");
        assert_eq!(
            line("fatal: 'redis://:Pa55w0rd!@h:6379' and amqp://u:p@h"),
            "fatal: 'redis://:****@h:6379' and amqp://u:****@h"
        );
        assert_eq!(
            line("see https://h.example/cb?code=abc123XYZ789def&state=ok&page=2"),
            "see https://h.example/cb?code=****&state=ok&page=2"
        );
    }

    #[test]
    fn undetected_credentials_on_a_line_are_masked() {
        let l = "mysql -h db -u root -p'Zq8#vR2!mK9$wL4pX7' --token ghp_****";
        let r = other_credentials(l);
        assert!(!r.contains("Zq8#vR2"), "{r}");
        assert!(r.contains("--token ghp_****"), "{r}");
        for kept in [
            "let el = document.getElementById(name);",
            "SOCIAL_AUTH_GOOGLE_OAUTH2_SECRET = \"x\"",
            "httpHeaderValue1: \"Bearer x\"",
            "gcc -march=x86_64-linux-gnu sha256sum v1.2.3-beta4",
            "push --source https://api.nuget.org/v3/index.json",
            "mongodb://ledger:****@mongo:27017/ledger?authSource=admin",
        ] {
            assert_eq!(other_credentials(kept), kept);
        }
        assert_eq!(
            other_credentials(
                "postgres://ub4csvhjyobx1d:p53c****@ec2-22-247.compute-1.amazonaws.com:5432/db"
            ),
            "postgres://ub4csvhjyobx1d:p53c****@ec2-22-247.compute-1.amazonaws.com:5432/db"
        );
        assert_eq!(
            other_credentials("username='2F2ZQL0C19D8BZ7J' secret=dGhpc2lzYXNlY3JldA2x"),
            "username='****' secret=****"
        );
    }

    #[test]
    fn paths_keep_invalid_bytes_visible() {
        use std::os::unix::ffi::OsStrExt;
        let p = std::path::Path::new(std::ffi::OsStr::from_bytes(b"dir/a\xffb.env"));
        assert_eq!(path_text(p), "dir/a\\xffb.env");
    }

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(control_chars("a\x1b[2Kb\tc"), "a\\x1b[2Kb\tc");
        assert_eq!(control_chars("plain"), "plain");
    }
}
