//! Placeholder and documented-sample filter: strings that have the shape of a credential but are
//! obviously not one (`EXAMPLE`, `xxxx`, `<TOKEN>`, `${VAR}`, runs of one character, keys copied
//! from provider documentation).

use std::sync::LazyLock;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};

/// Fragments that mark a value as a placeholder, a template or a variable reference.
const MARKERS: &[&str] = &[
    "example",
    "****",
    "${",
    "{{",
    "}}",
    "$(",
    "%(",
    "changeme",
    // Camel case of the multi-word markers (markers match in lower, UPPER, Capitalised and
    // as written).
    "ChangeMe",
    "ReplaceMe",
    "YourKey",
    "YourToken",
    "YourSecret",
    "YourApi",
    "NotAReal",
    "PlaceHolder",
    "change_me",
    "change-me",
    "placeholder",
    "redacted",
    "your_",
    "your-",
    "yourkey",
    "yourtoken",
    "yoursecret",
    "insert_",
    "insert-",
    "replace_me",
    "replaceme",
    "replace-me",
    "not-a-real",
    "notareal",
    "not_a_real",
    "os.environ",
    "process.env",
    "getenv",
];

/// Short words that also mark placeholders, checked only in short secrets: in a 2 KB private key
/// body, four random base64 letters spell `fake` or `todo` often enough to lose real keys.
const SHORT_SECRET_MARKERS: &[&str] = &[
    "....", "dummy", "sample", "fake", "lorem", "qwerty", "123456", "abcdef", "abcxyz", "env[",
    "todo", "fixme", "0000000", "1111111",
];

/// Secrets at least this long are structured blobs (keys, JWTs, certificates), where runs such as
/// `AAAAAAAB` are part of the encoding rather than a sign of a placeholder.
const LONG_SECRET: usize = 64;

static DOCUMENTED: LazyLock<Vec<&'static str>> = LazyLock::new(|| {
    include_str!("sample_keys.txt")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect()
});

/// Each marker as people write it: `example`, `EXAMPLE`, `Example`. Not any mix of cases:
/// random key material holds `fAkE` or `ToDo` by chance far more often than a placeholder does.
fn matcher(pats: Vec<&str>) -> AhoCorasick {
    let mut variants: Vec<String> = Vec::with_capacity(pats.len() * 3);
    for p in pats {
        let lower = p.to_ascii_lowercase();
        let mut capital = lower.clone();
        if let Some(first) = capital.get_mut(..1) {
            first.make_ascii_uppercase();
        }
        variants.push(p.to_ascii_uppercase());
        variants.push(capital);
        variants.push(lower);
        if !variants.contains(&p.to_string()) {
            variants.push(p.to_string());
        }
    }
    AhoCorasickBuilder::new()
        .match_kind(MatchKind::LeftmostFirst)
        .kind(Some(AhoCorasickKind::DFA))
        .build(&variants)
        .expect("placeholder markers are valid literals")
}

static MARKER_MATCHER: LazyLock<AhoCorasick> = LazyLock::new(|| {
    let mut pats: Vec<&str> = MARKERS.to_vec();
    pats.extend(DOCUMENTED.iter().copied());
    matcher(pats)
});

static SHORT_MARKER_MATCHER: LazyLock<AhoCorasick> =
    LazyLock::new(|| matcher(SHORT_SECRET_MARKERS.to_vec()));

/// True when `secret` looks like a placeholder, a variable reference or a documented sample.
pub fn is_placeholder(secret: &[u8]) -> bool {
    if is_variable_reference(secret)
        || has_angle_placeholder(secret)
        || MARKER_MATCHER.is_match(secret)
    {
        return true;
    }
    if secret.len() >= LONG_SECRET {
        // Random base64 of a key or certificate holds short runs and mixed-case `xXxX` by
        // chance (about one RSA key in 200): only a long run of one letter is filler.
        return has_long_run(secret, 16) || has_x_run(secret, 8);
    }
    has_x_run(secret, 4)
        || is_keyboard_sequence_sample(secret)
        || SHORT_MARKER_MATCHER.is_match(secret)
        || has_long_run(secret, 6)
        || few_distinct(secret)
}

/// `xxxx` or `XXXX` (one case), `n` long: the usual "fill in here" filler.
fn has_x_run(s: &[u8], n: usize) -> bool {
    [b'x', b'X']
        .iter()
        .any(|&x| s.windows(n).any(|w| w.iter().all(|&b| b == x)))
}

/// `$VAR`, `${VAR}`, `$(cmd)`, `%VAR%`, `%(name)s`; not `$2y$...` (a bcrypt hash) or `$apr1$`.
/// Words that stand for "a password goes here" in templates and manuals (`user:password@host`,
/// `login user password pass`). Weak rules report short real passwords, never these.
pub fn is_template_password(secret: &[u8]) -> bool {
    const WORDS: &[&str] = &[
        "password",
        "pass",
        "passwd",
        "pwd",
        "pw",
        "secret",
        "mypassword",
        "yourpassword",
        "mypass",
        "yourpass",
        "userpass",
        "dbpass",
        "dbpassword",
        "pass123",
        "password1",
        "p",
        "x",
        "xxx",
        "...",
    ];
    WORDS
        .iter()
        .any(|w| secret.eq_ignore_ascii_case(w.as_bytes()))
}

/// Hand-typed sample keys such as `AIzaSyDOCAbC123dEf456GhI789jKl012-MnO`: three or more
/// runs of three consecutive characters (`123`, `abc`, `AbC`, `789`). In a random value a run
/// appears at a given place with a chance of about 1 in 4,000 (base62) or 300 (hex), so three of
/// them in one secret shorter than 64 characters are a person typing, not a generator. Runs
/// inside a long all-digit segment do not count: decimal identifiers (the team and user ids
/// of a Slack token, `xoxb-012569234789-…`) have one at a given place about once in 125.
fn is_keyboard_sequence_sample(s: &[u8]) -> bool {
    let step = |a: u8, b: u8| {
        let (a, b) = (a.to_ascii_lowercase(), b.to_ascii_lowercase());
        a.is_ascii_alphanumeric() && b.is_ascii_alphanumeric() && b == a + 1
    };
    // Positions inside a run of at least six digits.
    let mut in_number = vec![false; s.len()];
    let mut start = 0;
    for end in 0..=s.len() {
        if end == s.len() || !s[end].is_ascii_digit() {
            if end - start >= 6 {
                in_number[start..end].fill(true);
            }
            start = end + 1;
        }
    }
    let mut runs = 0;
    let mut i = 0;
    while i + 2 < s.len() {
        if in_number[i] {
            i += 1;
            continue;
        }
        if step(s[i], s[i + 1]) && step(s[i + 1], s[i + 2]) {
            runs += 1;
            i += 3;
            while i < s.len() && step(s[i - 1], s[i]) {
                i += 1;
            }
        } else {
            i += 1;
        }
    }
    runs >= 3
}

/// `<TOKEN>`, `<your password>`, `pass<word>`: a bracketed name, or a value that begins or
/// ends inside brackets. A lone `<` or `>` is common in random keys (WordPress salts) and
/// does not count.
fn has_angle_placeholder(s: &[u8]) -> bool {
    if s.first() == Some(&b'<') || s.last() == Some(&b'>') {
        return true;
    }
    // `[PASSWORD]`, `[your-token]`: a bracketed name standing for the value.
    if let [b'[', inner @ .., b']'] = s
        && inner
            .iter()
            .all(|b| b.is_ascii_alphabetic() || matches!(b, b'_' | b'-' | b' '))
    {
        return true;
    }
    let mut i = 0;
    while let Some(open) = memchr::memchr(b'<', &s[i..]) {
        let start = i + open + 1;
        let name = s[start..]
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b' '))
            .count();
        if (1..=40).contains(&name) && s.get(start + name) == Some(&b'>') {
            return true;
        }
        i = start;
    }
    false
}

/// `$VAR`, `${VAR}`, `$(cmd)`, `%VAR%`: but not a crypt or PHC hash id (`$6$`, `$y$`,
/// `$argon2id$`, `$apr1$`), whose lower-case name ends in another `$`.
fn is_variable_reference(s: &[u8]) -> bool {
    let hash_id = s.len() > 2
        && s[1..]
            .iter()
            .take(10)
            .position(|&b| b == b'$')
            .is_some_and(|n| {
                n > 0
                    && s[1..1 + n]
                        .iter()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
            });
    match s {
        [b'$', b'a'..=b'z' | b'A'..=b'Z' | b'_' | b'{' | b'(', ..] => !hash_id,
        [b'%', b'a'..=b'z' | b'A'..=b'Z' | b'_' | b'(', ..] => true,
        _ => false,
    }
}

/// True when one byte repeats `n` or more times in a row.
fn has_long_run(s: &[u8], n: usize) -> bool {
    let mut run = 0usize;
    let mut prev = None;
    for &b in s {
        if Some(b) == prev {
            run += 1;
        } else {
            run = 1;
            prev = Some(b);
        }
        if run >= n && b.is_ascii_alphanumeric() {
            return true;
        }
    }
    false
}

/// True for long values made of three or fewer distinct characters (`abababab`, `1010...`).
fn few_distinct(s: &[u8]) -> bool {
    if s.len() < 8 {
        return false;
    }
    let mut seen = [false; 256];
    let mut n = 0;
    for &b in s {
        if !seen[b as usize] {
            seen[b as usize] = true;
            n += 1;
            if n > 3 {
                return false;
            }
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::is_placeholder;

    #[test]
    fn placeholders() {
        for p in [
            "AKIAIOSFODNN7EXAMPLE",
            "ghp_xxxxxxxxxxxxxxxxxxxx",
            "<YOUR_TOKEN>",
            "AIzaSyDOCAbC123dEf456GhI789jKl012-MnO",
            "[PASSWORD]",
            "YourStrong!Passw0rd",
            "${GITHUB_TOKEN}",
            "$DB_PASSWORD",
            "aaaaaaaaaaaa",
            "changeme",
            "abababababab",
            "sk_live_XXXXXXXXXXXXXXXXXXXXXXXX",
            "ChangeMe123!",
            "YourApiKeyHere",
            "EXAMPLEKEY123456",
            "ghp_xxxxabcdefghij1234567890klmnop",
        ] {
            assert!(is_placeholder(p.as_bytes()), "{p}");
        }
        // Mixed-case `xXxX` inside a long random key body is chance, not filler.
        let key = format!(
            "-----BEGIN RSA PRIVATE KEY-----MIIEow{}xXxXq9{}-----END RSA PRIVATE KEY-----",
            "Ab3+".repeat(20),
            "Zt7/".repeat(20)
        );
        assert!(!is_placeholder(key.as_bytes()));
        for s in [
            "ghp_q8Zr2LmN5vBc7XkP1sDf4GhJ6tYw9E0Wm2aB",
            "S9v!kq2Lr7#pXw",
            "sk_test_51Hq8ZrLmN5vBc7XkP1sDf4G",
            // Ascending triples in the numeric ids of a (generated) Slack bot token.
            "xoxb-012569234789-8601482313175-24p3sL0ZCRo8Os6rgzwzdkbq",
        ] {
            assert!(!is_placeholder(s.as_bytes()), "{s}");
        }
    }
}
