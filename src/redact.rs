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

/// Masks the credentials of every `scheme://userinfo@` URL in `text`.
pub fn line(text: &str) -> String {
    static URL_USERINFO: OnceLock<Regex> = OnceLock::new();
    let re = URL_USERINFO.get_or_init(|| {
        // scheme://userinfo@ where userinfo has no '/', '@' or whitespace.
        Regex::new(r"(?i)\b([a-z][a-z0-9+.\-]{0,30}://)([^/@\s]+)@").expect("static regex")
    });
    if !text.contains("://") {
        return text.to_string();
    }
    re.replace_all(text, |c: &regex::Captures<'_>| {
        let info = &c[2];
        let masked = match info.split_once(':') {
            Some((user, _)) if looks_like_credential(user) => format!("{MASK}:{MASK}"),
            Some((user, _)) => format!("{user}:{MASK}"),
            None if looks_like_credential(info) || info.len() > 24 => MASK.to_string(),
            None => info.to_string(),
        };
        format!("{}{masked}@", &c[1])
    })
    .into_owned()
}

/// True for a word that reads like a credential rather than code or prose: long enough, mixed
/// character classes and random-looking. Deliberately broad: hiding an identifier in a preview
/// costs little, publishing a password costs a rotation.
pub fn looks_like_credential(word: &str) -> bool {
    let n = word.chars().count();
    if n < 8 || word.contains(MASK) {
        return false;
    }
    let (mut lower, mut upper, mut digit, mut symbol) = (false, false, false, false);
    for c in word.chars() {
        match c {
            'a'..='z' => lower = true,
            'A'..='Z' => upper = true,
            '0'..='9' => digit = true,
            '_' | '-' | '.' | '/' => {}
            _ => symbol = true,
        }
    }
    let classes = [lower, upper, digit, symbol].iter().filter(|b| **b).count();
    let entropy = crate::detect::entropy::shannon_entropy(word.as_bytes());
    (classes >= 3 && entropy >= 2.9) || (digit && classes >= 2 && n >= 16 && entropy >= 3.4)
}

/// Masks every credential-looking word of a preview line ([`looks_like_credential`]) and
/// every URL credential. Words are split at whitespace, quotes and the punctuation that
/// surrounds values in code (`= : , ; ( ) [ ] { } < >`).
pub fn other_credentials(text: &str) -> String {
    let text = line(text);
    let is_sep = |c: char| {
        c.is_whitespace()
            || matches!(
                c,
                '\'' | '"' | '`' | '=' | ':' | ',' | ';' | '(' | ')' | '[' | ']' | '{' | '}' | '<' | '>'
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
    }

    #[test]
    fn undetected_credentials_on_a_line_are_masked() {
        let l = "mysql -h db -u root -p'Zq8#vR2!mK9$wL4pX7' --token ghp_****";
        let r = other_credentials(l);
        assert!(!r.contains("Zq8#vR2"), "{r}");
        assert!(r.contains("--token ghp_****"), "{r}");
        assert_eq!(
            other_credentials("let el = document.getElementById(name);"),
            "let el = document.getElementById(name);"
        );
    }

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(control_chars("a\x1b[2Kb\tc"), "a\\x1b[2Kb\tc");
        assert_eq!(control_chars("plain"), "plain");
    }
}
