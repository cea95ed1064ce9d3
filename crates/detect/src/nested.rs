//! Names that only make sense with their parents: `sendgrid:` / `  api_key: …` in YAML,
//! `"SendGrid": { "ApiKey": "…" }` in appsettings.json, `[datadog]` / `api_key = …` in INI and
//! TOML, `<add key="SendGridApiKey" value="…"/>` in .NET config. A provider rule that needs its
//! provider's name next to the key misses all of them; here each such leaf is rewritten as one
//! `parent_key: "value"` line, so the rules can be run again over just those lines.

/// A value whose full name is spread over its parents (or an XML attribute pair).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leaf {
    /// Start of the value in the haystack.
    pub start: usize,
    /// End of the value.
    pub end: usize,
    /// The joined name: the parents' keys (at most two) and the leaf's key.
    pub name: String,
}

/// Lines longer than this are data, not settings.
const MAX_LINE: usize = 1024;

/// Leaves reported per window: a settings file has dozens; a lock file thousands of useless
/// ones.
const MAX_LEAVES: usize = 4096;

const MIN_VALUE: usize = 8;
const MAX_VALUE: usize = 512;

/// Every leaf of `hay` whose name needs its parents: values under an indented block
/// (YAML, pretty-printed JSON) or an INI/TOML section, and `<add key value>` pairs.
pub fn nested_leaves(hay: &[u8]) -> Vec<Leaf> {
    leaves_of(hay, true)
}

/// [`nested_leaves`]; with `skip`, stretches of lines that cannot change anything while no
/// block is open are jumped over (see [`next_line_that_matters`]).
fn leaves_of(hay: &[u8], skip: bool) -> Vec<Leaf> {
    let mut out = Vec::new();
    let mut next_add: Option<Option<usize>> = None;
    // (indent, key) of the open blocks; a section header is indent -1 and stays until the next.
    let mut stack: Vec<(isize, String)> = Vec::new();
    // How many entries of `stack` have a name (the others only keep the nesting right).
    let mut named = 0usize;
    let mut pos = 0;
    while pos < hay.len() && out.len() < MAX_LEAVES {
        if skip && stack.is_empty() {
            match next_line_that_matters(hay, pos, &mut next_add) {
                Some(start) => pos = start,
                None => break,
            }
        }
        let end = memchr::memchr(b'\n', &hay[pos..]).map_or(hay.len(), |n| pos + n);
        let line = &hay[pos..end];
        let line_start = pos;
        pos = end + 1;
        if line.len() > MAX_LINE {
            continue;
        }
        let indent = line
            .iter()
            .take_while(|b| matches!(b, b' ' | b'\t'))
            .count();
        let body = line[indent..].trim_ascii_end();
        if body.is_empty() || body[0] == b'#' || body.starts_with(b"//") {
            continue;
        }
        if let Some(leaf) = xml_add(body, line_start + indent) {
            out.push(leaf);
            continue;
        }
        if body[0] == b'[' && body.last() == Some(&b']') && !body.contains(&b'=') {
            // [section] / [section.sub] / [[table]]: a parent for what follows.
            let name = String::from_utf8_lossy(body)
                .trim_matches(|c| c == '[' || c == ']')
                .trim()
                .to_string();
            stack.clear();
            named = usize::from(!name.is_empty());
            stack.push((-1, name));
            continue;
        }
        let indent = indent as isize;
        while stack.last().is_some_and(|(i, _)| *i >= indent) {
            if stack.pop().is_some_and(|(_, k)| !k.is_empty()) {
                named -= 1;
            }
        }
        if matches!(body[0], b'}' | b']') {
            continue;
        }
        // Most lines of code are neither under a named parent nor open a block: skip them
        // before any parsing (this pass runs over every window).
        if named == 0 && !matches!(body.last(), Some(b':' | b'{' | b'[')) {
            continue;
        }
        let Some((key, rest)) = split_key(body) else {
            // An opening line whose key is not a plain name (`"node_modules/@x/y": {`) still
            // opens a block: keep the nesting right for its children.
            if matches!(body.last(), Some(b'{' | b'[')) {
                stack.push((indent, String::new()));
            }
            continue;
        };
        let rest_trim = rest.trim_ascii();
        if rest_trim.is_empty() || rest_trim == b"{" || rest_trim == b"[" {
            named += 1;
            stack.push((indent, String::from_utf8_lossy(key).into_owned()));
            continue;
        }
        if named == 0 {
            continue; // top level: the key is already next to its value in the text
        }
        let Some((vs, ve)) = value_span(rest) else {
            continue;
        };
        let base =
            line_start + (line.len() - line[indent as usize..].len()) + (body.len() - rest.len());
        let parents: Vec<&str> = stack
            .iter()
            .rev()
            .take(2)
            .map(|(_, k)| k.as_str())
            .filter(|k| !k.is_empty())
            .collect();
        let mut name: String = parents.into_iter().rev().collect::<Vec<_>>().join("_");
        name.push('_');
        name.push_str(&String::from_utf8_lossy(key));
        out.push(Leaf {
            start: base + vs,
            end: base + ve,
            name,
        });
    }
    out
}

/// The start of the first line at or after `from` (a line start) that does something while no
/// block is open: one that may open a block (its last non-blank byte is `:`, `{` or `[`), a
/// section header (its first non-blank byte is `[`) or one holding `<add `. Every other line
/// is skipped by [`leaves_of`] without effect when the stack is empty (it is blank, a comment,
/// a closing bracket, or a top-level line that names no parent). `next_add` caches where the
/// next `<add ` is.
fn next_line_that_matters(
    hay: &[u8],
    from: usize,
    next_add: &mut Option<Option<usize>>,
) -> Option<usize> {
    let add = match *next_add {
        Some(Some(at)) if at >= from => Some(at),
        Some(None) => None,
        _ => {
            let found = memchr::memmem::find(&hay[from..], b"<add ").map(|n| from + n);
            *next_add = Some(found);
            found
        }
    };
    let line_start =
        |at: usize| memchr::memrchr(b'\n', &hay[from..at]).map_or(from, |n| from + n + 1);
    let mut i = from;
    while let Some(n) = memchr::memchr3(b':', b'{', b'[', &hay[i..]) {
        let c = i + n;
        if add.is_some_and(|a| a < c) {
            break;
        }
        let mut j = c + 1;
        while j < hay.len() && hay[j] != b'\n' && hay[j].is_ascii_whitespace() {
            j += 1;
        }
        let opens = j == hay.len() || hay[j] == b'\n';
        let starts = hay[c] == b'['
            && hay[..c]
                .iter()
                .rev()
                .take_while(|&&b| b != b'\n')
                .all(|&b| b == b' ' || b == b'\t');
        if opens || starts {
            return Some(line_start(c));
        }
        i = c + 1;
    }
    add.map(line_start)
}

/// `key: rest` / `"key": rest` / `key = rest`: the key (a plain name) and what follows the
/// operator.
fn split_key(body: &[u8]) -> Option<(&[u8], &[u8])> {
    let body = body.strip_prefix(b"- ").unwrap_or(body);
    let quote = matches!(body.first(), Some(b'"' | b'\''));
    let start = usize::from(quote);
    let len = body[start..]
        .iter()
        .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
        .count();
    if len == 0 || len > 64 {
        return None;
    }
    let mut i = start + len;
    if quote {
        if body.get(i) != body.first() {
            return None;
        }
        i += 1;
    }
    while matches!(body.get(i), Some(b' ' | b'\t')) {
        i += 1;
    }
    match body.get(i) {
        Some(b':') if body.get(i + 1) != Some(&b':') => i += 1,
        Some(b'=') if body.get(i + 1) != Some(&b'=') => i += 1,
        _ => return None,
    }
    Some((&body[start..start + len], &body[i..]))
}

/// The value after the operator: quoted, or bare up to a `,`/`;`/comment; no whitespace inside.
fn value_span(rest: &[u8]) -> Option<(usize, usize)> {
    let lead = rest.len() - rest.trim_ascii_start().len();
    let r = &rest[lead..];
    let (s, e) = match r.first()? {
        q @ (b'"' | b'\'') => {
            let close = memchr::memchr(*q, &r[1..])?;
            (lead + 1, lead + 1 + close)
        }
        _ => {
            let len = r
                .iter()
                .position(|b| b.is_ascii_whitespace() || matches!(b, b',' | b';' | b'#'))
                .unwrap_or(r.len());
            (lead, lead + len)
        }
    };
    let v = &rest[s..e];
    ((MIN_VALUE..=MAX_VALUE).contains(&v.len()) && !v.iter().any(|b| b.is_ascii_whitespace()))
        .then_some((s, e))
}

/// `<add key="SendGridApiKey" value="…" />` (.NET appSettings, NuGet): the key names the value.
fn xml_add(body: &[u8], base: usize) -> Option<Leaf> {
    if !body.starts_with(b"<add ") {
        return None;
    }
    let attr = |name: &[u8]| -> Option<(usize, usize)> {
        let at = memchr::memmem::find(body, name)?;
        let q = at + name.len();
        let quote = *body.get(q)?;
        if quote != b'"' && quote != b'\'' {
            return None;
        }
        let close = memchr::memchr(quote, &body[q + 1..])?;
        Some((q + 1, q + 1 + close))
    };
    let (ks, ke) = attr(b"key=")?;
    let (vs, ve) = attr(b"value=")?;
    let v = &body[vs..ve];
    if !(MIN_VALUE..=MAX_VALUE).contains(&v.len()) || v.iter().any(|b| b.is_ascii_whitespace()) {
        return None;
    }
    Some(Leaf {
        start: base + vs,
        end: base + ve,
        name: String::from_utf8_lossy(&body[ks..ke]).into_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Skipping lines while no block is open changes nothing, on random mixes of YAML, JSON,
    /// INI, XML and code lines.
    #[test]
    fn skipping_finds_the_same_leaves() {
        let pieces: [&str; 16] = [
            "sendgrid:\n",
            "  api_key: SG.abcdefgh12345678\n",
            "    token: \"zzzzzzzzzzzz\"\n",
            "[datadog]\n",
            "api_key = 0123456789abcdef\n",
            "<add key=\"SendGridApiKey\" value=\"SG.abcdefgh1234\"/>\n",
            "def foo(x: 1)\n",
            "  hash = {\n",
            "    :a => 1, b: [1, 2]\n",
            "  }\n",
            "# comment:\n",
            "\"Stripe\": {\n",
            "  \"SecretKey\": \"sk_test_abcdefghijkl\"\n",
            "  [\n",
            "x = y\r\n",
            "    deep: value_value_1\n",
        ];
        let mut x: u64 = 88172645463325252;
        for _ in 0..3000 {
            let mut text = String::new();
            for _ in 0..(x % 30) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                text.push_str(pieces[(x % 16) as usize]);
                if x.is_multiple_of(7) {
                    text.push_str(&" ".repeat((x % 5) as usize));
                }
            }
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            assert_eq!(
                leaves_of(text.as_bytes(), true),
                leaves_of(text.as_bytes(), false),
                "{text:?}"
            );
        }
    }

    fn leaves(text: &str) -> Vec<(String, String)> {
        nested_leaves(text.as_bytes())
            .into_iter()
            .map(|l| (l.name, text[l.start..l.end].to_string()))
            .collect()
    }

    #[test]
    fn names_join_their_parents() {
        assert_eq!(
            leaves("datadog:\n  app_key: \"Kq9vL2mXp7zR4w\"\n  site: datadoghq.eu\nother: 1\n"),
            [
                ("datadog_app_key".to_string(), "Kq9vL2mXp7zR4w".to_string()),
                ("datadog_site".to_string(), "datadoghq.eu".to_string())
            ]
        );
        assert_eq!(
            leaves("{\n  \"SendGrid\": {\n    \"ApiKey\": \"Kq9vL2mXp7zR4w\",\n  }\n}\n"),
            [("SendGrid_ApiKey".to_string(), "Kq9vL2mXp7zR4w".to_string())]
        );
        assert_eq!(
            leaves("[mailjet]\napi_secret = Kq9vL2mXp7zR4w\n"),
            [(
                "mailjet_api_secret".to_string(),
                "Kq9vL2mXp7zR4w".to_string()
            )]
        );
        assert_eq!(
            leaves("  <add key=\"PostmarkToken\" value=\"Kq9vL2mXp7zR4w\" />\n"),
            [("PostmarkToken".to_string(), "Kq9vL2mXp7zR4w".to_string())]
        );
        // A parent that is not a plain name keeps its children from attaching elsewhere.
        assert_eq!(
            leaves(
                "stripe:\n  \"node_modules/@x/y\": {\n    integrity: \"sha512-Kq9vL2mXp7zR4w\"\n  }\n"
            ),
            [(
                "stripe_integrity".to_string(),
                "sha512-Kq9vL2mXp7zR4w".to_string()
            )]
        );
        // Top-level keys are left to the text itself.
        assert!(leaves("api_key: Kq9vL2mXp7zR4w\n").is_empty());
    }
}
