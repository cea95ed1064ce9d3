//! The fast path for generic `name = "value"` assignments (`password: ...`, `API_KEY=...`,
//! `"client_secret": "..."`, `<password>...</password>`).
//!
//! A regex with a `[\w.-]{0,50}?` prefix costs most of a peer scanner's time and most of its noise.
//! Here the keyword hits of the prefilter are the starting points: from each hit we take the
//! identifier around it, require its last word to be one of the rule's keywords (so `tokenizer`
//! and `password_length` do not count), find an assignment operator right after it, and read the
//! value. The caller then applies entropy, placeholder and allow filters as for any rule.

use super::entropy::shannon_entropy;

/// A candidate found by the assignment matcher: the value span and the whole `name = value` span.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Candidate {
    /// Start of the value (the secret).
    pub start: usize,
    /// End of the value.
    pub end: usize,
    /// Start of the identifier.
    pub match_start: usize,
}

const MAX_VALUE: usize = 256;
const MIN_VALUE: usize = 8;

fn is_ident_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.')
}

/// Lowercases and removes separators: `API-Key` → `apikey`.
pub fn normalize_name(s: &str) -> String {
    s.bytes()
        .filter(u8::is_ascii_alphanumeric)
        .map(|b| b.to_ascii_lowercase() as char)
        .collect()
}

/// Splits an identifier into lowercase words at separators and lower→upper camel-case steps.
fn words(ident: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut prev: u8 = 0;
    for &b in ident {
        if !b.is_ascii_alphanumeric() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
        } else {
            if b.is_ascii_uppercase()
                && (prev.is_ascii_lowercase() || prev.is_ascii_digit())
                && !cur.is_empty()
            {
                out.push(std::mem::take(&mut cur));
            }
            cur.push(b.to_ascii_lowercase() as char);
        }
        prev = b;
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Words that make a "token" or "key" something other than a credential: pagination cursors,
/// CSRF and idempotency tokens, lexer tokens, public keys.
const NOT_SECRET_QUALIFIERS: &[&str] = &[
    "next",
    "page",
    "continuation",
    "pagination",
    "cursor",
    "csrf",
    "xsrf",
    "cancel",
    "cancellation",
    "sync",
    "resume",
    "marker",
    "idempotency",
    "correlation",
    "trace",
    "lexer",
    "parser",
    "public",
    "pub",
    "nonce",
    "input",
    "output",
    "starting",
    "change",
    "purchase",
    "update",
    "copy",
];

/// True when the identifier names a secret: its last word, or its last two words joined, is one
/// of `names` (normalized keywords).
fn names_secret(ident: &[u8], names: &[String]) -> bool {
    let mut w = words(ident);
    // `NEXT_PUBLIC_`, `EXPO_PUBLIC_`, `NUXT_PUBLIC_` put a variable into the browser bundle;
    // the prefix says where it goes, not that the value is public. A secret there leaks twice.
    if w.len() > 2 && w[1] == "public" && matches!(w[0].as_str(), "next" | "expo" | "nuxt") {
        w.drain(..2);
    }
    let Some(last) = w.last() else { return false };
    if w.iter()
        .any(|word| NOT_SECRET_QUALIFIERS.contains(&word.as_str()))
    {
        return false;
    }
    if names
        .iter()
        .any(|n| n == last || (n.len() >= 6 && last.ends_with(n.as_str())))
    {
        return true; // `password`, and run-together names: PGPASSWORD, dbpassword, clientsecret
    }
    let joined = |k: usize| w[w.len() - k..].concat();
    (w.len() >= 2 && names.contains(&joined(2))) || (w.len() >= 3 && names.contains(&joined(3)))
}

/// Finds assignment candidates around the keyword hits `hits` (start, end) in `hay`.
/// `names` are the rule's keywords, normalized with [`normalize_name`].
pub fn find(hay: &[u8], hits: &[(usize, usize)], names: &[String], out: &mut Vec<Candidate>) {
    let mut last_ident_start = usize::MAX;
    for &(kw_start, kw_end) in hits {
        let mut s = kw_start;
        while s > 0 && is_ident_byte(hay[s - 1]) {
            s -= 1;
        }
        let mut e = kw_end;
        while e < hay.len() && is_ident_byte(hay[e]) {
            e += 1;
        }
        if s == last_ident_start {
            continue;
        }
        last_ident_start = s;
        let powershell_env = s >= 4 && hay[s - 4..s].eq_ignore_ascii_case(b"env:");
        if s > 0 && hay[s - 1] == b':' && !powershell_env {
            continue; // a field of a colon path: arn:aws:secretsmanager:...:secret:name
        }
        // `config.password` / `--password`: trim leading punctuation that is not part of the name.
        let ident = &hay[s..e];
        if !names_secret(ident, names) {
            continue;
        }
        if let Some(c) = value_after(hay, s, e) {
            out.push(c);
        }
    }
}

/// Reads the value assigned to the identifier `hay[s..e]`: `<op> <value>`, an XML element, a
/// `name: X` / `value: ...` pair, a Dockerfile `ENV NAME value`, or a `--flag value`.
fn value_after(hay: &[u8], s: usize, e: usize) -> Option<Candidate> {
    let before = if s > 0 { hay[s - 1] } else { b'\n' };
    let escaped_key = before == b'"' && s >= 2 && hay[s - 2] == b'\\';
    let mut i = e;
    // XML element: <password>value</password>
    // The value may sit on a line of its own: <password>\n    value\n</password>.
    if before == b'<' && hay.get(i) == Some(&b'>') {
        let open = i + 1;
        let len = memchr::memchr(b'<', &hay[open..hay.len().min(open + 2 * MAX_VALUE)])?;
        let inner = &hay[open..open + len];
        let lead = inner.len() - inner.trim_ascii_start().len();
        let start = open + lead;
        let end = open + inner.trim_ascii_end().len();
        if end <= start {
            return None;
        }
        return accept(hay, start, end, s, false);
    }
    // Closing quote of a quoted key: "password": / ['password'] = / \"password\":
    if escaped_key && hay[i..].starts_with(b"\\\"") {
        i += 2;
    } else if matches!(before, b'"' | b'\'' | b'`') && hay.get(i) == Some(&before) {
        i += 1;
        if hay.get(i) == Some(&b']') {
            i += 1;
        }
    }
    let after_key = i;
    while matches!(hay.get(i), Some(b' ' | b'\t')) {
        i += 1;
    }
    // Go's `var dbPassword string = "…"`: a type between the name and the operator.
    if i > after_key
        && let Some(after_type) = declared_type(hay, i)
        && hay.get(after_type) == Some(&b'=')
        && hay.get(after_type + 1) != Some(&b'=')
    {
        let mut k = after_type + 1;
        while matches!(hay.get(k), Some(b' ' | b'\t')) {
            k += 1;
        }
        return read_value(hay, k, s, true);
    }
    if let Some(op_len) = operator(hay, i) {
        // `NAME=value` with no spaces is shell/env syntax (`DB_PASSWORD=x npm start`) and a
        // `--flag=value` is an argument: neither has to end the statement.
        let tight = i == after_key && !matches!(hay.get(i + op_len), Some(b' ' | b'\t'));
        let statement = !(tight || hay[s] == b'-');
        let colon = hay[i] == b':' && op_len == 1;
        i += op_len;
        while matches!(hay.get(i), Some(b' ' | b'\t')) {
            i += 1;
        }
        // TypeScript/Kotlin/Swift `apiKey: string = "…"`: skip the annotation.
        if colon
            && let Some(after_type) = declared_type(hay, i)
            && hay.get(after_type) == Some(&b'=')
            && !matches!(hay.get(after_type + 1), Some(b'=' | b'>'))
        {
            i = after_type + 1;
            while matches!(hay.get(i), Some(b' ' | b'\t')) {
                i += 1;
            }
            return read_value(hay, i, s, true);
        }
        return read_value(hay, i, s, statement);
    }
    // define('DB_PASSWORD', '...'), putenv/setdefault('API_SECRET', '...'), SQL VALUES tuples.
    let quoted_key =
        matches!(before, b'"' | b'\'') && hay[..s - 1].trim_ascii_end().last() == Some(&b'(');
    if quoted_key && hay.get(i) == Some(&b',') {
        let mut k = i + 1;
        while matches!(hay.get(k), Some(b' ' | b'\t')) {
            k += 1;
        }
        return read_value(hay, k, s, true);
    }
    // Setters: setDbPassword("..."), set_api_secret('...').
    let method = hay[s..e].rsplit(|&b| b == b'.').next().unwrap_or_default();
    if hay.get(i) == Some(&b'(') && words(method).first().is_some_and(|w| w == "set") {
        return read_value(hay, i + 1, s, true);
    }
    if let Some(c) = paired_value(hay, s, after_key) {
        return Some(c);
    }
    let gap = i > after_key && matches!(hay.get(i), Some(b) if !b.is_ascii_whitespace());
    if gap && (hay[s] == b'-' || is_dockerfile_env(hay, s)) {
        return read_value(hay, i, s, false);
    }
    None
}

/// Length of the assignment operator at `i`: `=`, `:=`, `::=`, `:::=`, `:`, `=>`, `?=`, `+=`,
/// `.=`; never `==`, `!=`, `<=`, `>=` or `::`.
fn operator(hay: &[u8], i: usize) -> Option<usize> {
    let len = match (hay.get(i), hay.get(i + 1)) {
        (Some(b'='), Some(b'>')) => 2,
        (Some(b'='), Some(b'=')) => return None,
        (Some(b'='), _) => 1,
        (Some(b':'), Some(b'=')) => 2,
        // GNU make's `::=` and `:::=` (POSIX simple and immediate expansion).
        (Some(b':'), Some(b':')) => match (hay.get(i + 2), hay.get(i + 3)) {
            (Some(b'='), _) => 3,
            (Some(b':'), Some(b'=')) => 4,
            _ => return None,
        },
        (Some(b':'), _) => 1,
        // make's `?=` and `+=`, PHP's `.=` (appending a literal to an empty setting).
        (Some(b'?' | b'+' | b'.'), Some(b'=')) if hay.get(i + 2) != Some(&b'=') => 2,
        _ => return None,
    };
    if i > 0 && matches!(hay[i - 1], b'!' | b'<' | b'>') {
        return None;
    }
    Some(len)
}

/// After a type annotation starting at `i` (`string`, `String?`, `[]byte`, `*str`,
/// `pkg.Type`), followed by spaces: the offset of what comes next. Only simple type names, so
/// prose (`password is …`) and calls do not qualify.
fn declared_type(hay: &[u8], i: usize) -> Option<usize> {
    let mut k = i;
    while matches!(hay.get(k), Some(b'[' | b']' | b'*' | b'&')) && k - i < 4 {
        k += 1;
    }
    let word_start = k;
    if !hay.get(k).is_some_and(|b| b.is_ascii_alphabetic()) {
        return None;
    }
    while hay
        .get(k)
        .is_some_and(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.'))
        && k - word_start < 40
    {
        k += 1;
    }
    if hay.get(k) == Some(&b'?') {
        k += 1;
    }
    let typed_end = k;
    while matches!(hay.get(k), Some(b' ' | b'\t')) {
        k += 1;
    }
    (k > typed_end || hay.get(k) == Some(&b'=')).then_some(k)
}

/// `ENV NAME value` at the start of a Dockerfile line.
fn is_dockerfile_env(hay: &[u8], s: usize) -> bool {
    let line_start = memchr::memrchr(b'\n', &hay[..s]).map_or(0, |i| i + 1);
    hay[line_start..s].trim_ascii() == b"ENV"
}

/// Environment lists and settings that name the secret in one field and hold it in another:
/// `- name: DB_PASSWORD` / `value: ...` (Kubernetes, ECS, Actions), `{"name": "X", "value": ...}`,
/// `<add key="SmtpPassword" value="..."/>`.
fn paired_value(hay: &[u8], s: usize, after_key: usize) -> Option<Candidate> {
    // Backwards from the identifier: quote, spaces, operator, spaces, quote, then `name`/`key`.
    let mut j = s;
    let skip_back = |j: &mut usize, set: &[u8]| {
        while *j > 0 && set.contains(&hay[*j - 1]) {
            *j -= 1;
        }
    };
    skip_back(&mut j, b"\"'\\ \t");
    if j == 0 || !matches!(hay[j - 1], b':' | b'=') {
        return None;
    }
    j -= 1;
    skip_back(&mut j, b"\"'\\ \t");
    let word_end = j;
    while j > 0 && hay[j - 1].is_ascii_alphabetic() {
        j -= 1;
    }
    let word = hay[j..word_end].to_ascii_lowercase();
    if word != b"name" && word != b"key" {
        return None;
    }
    // Forwards: `value` within the next three lines, then an operator and the value.
    let window_end = hay.len().min(after_key + 200);
    let window = &hay[after_key..window_end];
    let lower = window.to_ascii_lowercase();
    let pos = memchr::memmem::find(&lower, b"value")?;
    if memchr::memchr_iter(b'\n', &window[..pos]).count() > 3 {
        return None;
    }
    let mut k = after_key + pos + 5;
    if hay
        .get(k)
        .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_')
    {
        return None; // valueFrom: secretKeyRef is a reference, not a value
    }
    while matches!(hay.get(k), Some(b'"' | b'\'' | b'\\')) {
        k += 1;
    }
    while matches!(hay.get(k), Some(b' ' | b'\t')) {
        k += 1;
    }
    k += operator(hay, k)?;
    while matches!(hay.get(k), Some(b' ' | b'\t')) {
        k += 1;
    }
    read_value(hay, k, s, true)
}

/// Reads a quoted (`"..."`, `'...'`, `` `...` ``, `\"...\"`) or bare value starting at `i`.
/// A bare value after an operator must end the statement (end of line, `,`, `;`, `&`, a closing
/// bracket or a comment): `x = a ? b : c` is code, not a secret.
fn read_value(
    hay: &[u8],
    mut i: usize,
    match_start: usize,
    bare_must_end: bool,
) -> Option<Candidate> {
    let limit = |start: usize| hay.len().min(start + MAX_VALUE + 1);
    // A YAML block scalar holding one line (`api-secret: >-` then the value, indented, on the
    // next line), as Kubernetes Secret `stringData` is often written.
    if let Some(v) = yaml_block_value(hay, i) {
        return accept(hay, v.0, v.1, match_start, true);
    }
    // String prefixes: C# @"...", Rust r"..." / r#"..."#, Python r'...' / b'...'.
    match (hay.get(i), hay.get(i + 1)) {
        (Some(b'@' | b'r' | b'b'), Some(b'"' | b'\'')) => i += 1,
        (Some(b'r'), Some(b'#')) => {
            i += 1;
            while hay.get(i) == Some(&b'#') {
                i += 1;
            }
        }
        _ => {}
    }
    if hay[i..].starts_with(b"\\\"") {
        let start = i + 2;
        let len = memchr::memmem::find(&hay[start..limit(start)], b"\\\"")?;
        return accept(hay, start, start + len, match_start, true);
    }
    match hay.get(i) {
        Some(&q @ (b'"' | b'\'' | b'`')) => {
            let start = i + 1;
            let len = hay[start..limit(start)]
                .iter()
                .position(|&b| b == q || b == b'\n')?;
            if hay[start + len] != q {
                return None;
            }
            accept(hay, start, start + len, match_start, true)
        }
        Some(_) => {
            let start = i;
            let end = limit(start);
            let len = hay[start..end]
                .iter()
                .position(|&b| {
                    b.is_ascii_whitespace()
                        || matches!(
                            b,
                            b'"' | b'\''
                                | b'`'
                                | b','
                                | b';'
                                | b')'
                                | b'}'
                                | b']'
                                | b'<'
                                | b'\\'
                                | b'&'
                        )
                })
                .unwrap_or(end - start);
            if bare_must_end {
                let mut k = start + len;
                while matches!(hay.get(k), Some(b' ' | b'\t')) {
                    k += 1;
                }
                let ends = match hay.get(k) {
                    None => true,
                    Some(b) => b"\r\n,;)}]&#<\"'".contains(b) || hay[k..].starts_with(b"//"),
                };
                if !ends {
                    return None;
                }
            }
            accept(hay, start, start + len, match_start, false)
        }
        None => None,
    }
}

/// The span of a one-line YAML block scalar starting at `i` (`|`, `>`, `|-`, `>-`, `|+`, `>+`):
/// the next line, trimmed, when the line after it is not indented deeper (one line only).
fn yaml_block_value(hay: &[u8], i: usize) -> Option<(usize, usize)> {
    let mut k = i;
    if !matches!(hay.get(k), Some(b'|' | b'>')) {
        return None;
    }
    k += 1;
    if matches!(hay.get(k), Some(b'-' | b'+')) {
        k += 1;
    }
    while matches!(hay.get(k), Some(b' ' | b'\t' | b'\r')) {
        k += 1;
    }
    if hay.get(k) != Some(&b'\n') {
        return None;
    }
    let line_start = k + 1;
    let line_end = memchr::memchr(b'\n', &hay[line_start..]).map_or(hay.len(), |n| line_start + n);
    let line = &hay[line_start..line_end];
    let indent = line.iter().take_while(|b| **b == b' ').count();
    if indent == 0 {
        return None;
    }
    // A second line at the same indentation would make a multi-line value: not a token.
    if line_end < hay.len() {
        let next = &hay[line_end + 1..];
        if next.iter().take_while(|b| **b == b' ').count() >= indent
            && next.get(indent).is_some_and(|b| !b.is_ascii_whitespace())
        {
            return None;
        }
    }
    let start = line_start + indent;
    let end = line_start + line.trim_ascii_end().len();
    (end > start).then_some((start, end))
}

/// Decides whether a value looks like a literal secret rather than code, prose or a reference.
fn accept(
    hay: &[u8],
    start: usize,
    end: usize,
    match_start: usize,
    quoted: bool,
) -> Option<Candidate> {
    let mut end = end;
    if !quoted {
        // `token=Zr7kP2qLx9wT?` in prose, `pass=Zr7kP2qLx9wT$` before a regex anchor: the
        // punctuation ends the sentence or the pattern, it is not part of the value.
        while end > start && matches!(hay[end - 1], b'?' | b'$' | b'^' | b'.' | b'!' | b':') {
            end -= 1;
        }
    }
    let v = &hay[start..end];
    if v.len() < MIN_VALUE || v.len() > MAX_VALUE {
        return None;
    }
    if is_format_string(v) {
        return None; // `%s`, `%c^`, `%(password)s`: a printf/`%` template, not a value
    }
    if !looks_like_literal_secret(v, quoted) {
        return None;
    }
    Some(Candidate {
        start,
        end,
        match_start,
    })
}

/// A printf-style conversion (`%s`, `%d`, `%c`, `%-8s`, `%08x`) inside the value.
fn is_format_string(v: &[u8]) -> bool {
    v.windows(2).enumerate().any(|(i, w)| {
        w[0] == b'%' && {
            let rest = &v[i + 1..];
            let flags = rest
                .iter()
                .take_while(|b| b.is_ascii_digit() || matches!(b, b'-' | b'.' | b'+'))
                .count();
            rest.get(flags).is_some_and(|c| b"sdcxXfuqv".contains(c))
                && rest
                    .get(flags + 1)
                    .is_none_or(|c| !c.is_ascii_alphanumeric())
        }
    })
}

/// Shape checks on a candidate value.
pub fn looks_like_literal_secret(v: &[u8], quoted: bool) -> bool {
    if v.iter()
        .any(|b| b.is_ascii_whitespace() || !b.is_ascii_graphic())
    {
        return false; // prose, or not ASCII text
    }
    if v.contains(&b'(')
        || v.contains(&b'{')
        || v.contains(&b'[')
        || memchr::memmem::find(v, b"://").is_some()
    {
        return false; // calls, templates, URLs (URL credentials have their own rules)
    }
    if is_eth_address(v)
        || lower_starts_with_any(
            v,
            &[
                b"sha1:", b"sha256:", b"sha512:", b"sha256-", b"sha384-", b"sha512-",
            ],
        )
    {
        return false; // addresses and content digests
    }
    if !quoted && is_dotted_path(v) {
        return false; // exports2.TOKEN, settings.db.password1
    }
    if memchr::memmem::find(v, b"aws4_request").is_some() {
        return false; // a SigV4 credential scope: key id/date/region/service, no secret
    }
    if memchr::memmem::find(v, b"::").is_some() || memchr::memmem::find(v, b"->").is_some() {
        return false; // type paths and member access: `password: ::windows::PCWSTR`, `$this->pass`
    }
    if !quoted && is_code_identifier(v) {
        return false; // `password: WIN32_ERROR`, `token = request_token`, `pass: PasswordField`
    }
    let lower = v.to_ascii_lowercase();
    for word in [
        &b"password"[..],
        b"passwd",
        b"secret",
        b"token",
        b"null",
        b"none",
        b"true",
        b"false",
        b"undefined",
    ] {
        if memchr::memmem::find(&lower, word).is_some() {
            return false;
        }
    }
    if matches!(
        v[0],
        b'/' | b'~' | b'|' | b'>' | b'&' | b'*' | b'!' | b'@' | b'#'
    ) || v.starts_with(b"./")
    {
        return false; // paths, YAML block scalars/anchors/tags, decorators, comments
    }
    let (mut lower_n, mut upper_n, mut digit_n, mut other_n) = (0, 0, 0, 0);
    for &b in v {
        match b {
            b'a'..=b'z' => lower_n += 1,
            b'A'..=b'Z' => upper_n += 1,
            b'0'..=b'9' => digit_n += 1,
            _ => other_n += 1,
        }
    }
    if digit_n == v.len() {
        return false; // numbers
    }
    let letters_only = digit_n == 0
        && v.iter()
            .all(|&b| b.is_ascii_alphabetic() || matches!(b, b'_' | b'-' | b'.'));
    // Letters-only values are words unless long, mixed-case, high-entropy and not dotted
    // (`DistributionList.NextMarker` is a path, not a token).
    if letters_only
        && !(v.len() >= 20
            && shannon_entropy(v) >= 4.0
            && upper_n > 0
            && lower_n > 0
            && !v.contains(&b'.'))
    {
        return false; // words, identifiers, CONSTANT_NAMES, dotted.paths
    }
    if !quoted
        && v.iter()
            .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.'))
        && v.contains(&b'.')
        && digit_n == 0
    {
        return false; // unquoted member access: config.db.password
    }
    let classes = [lower_n, upper_n, digit_n, other_n]
        .iter()
        .filter(|&&n| n > 0)
        .count();
    if classes < 2 {
        return false;
    }
    !is_uuid(v) && !is_version(v)
}

/// Type names that start with an acronym: `PKCS7PrivateKeyTypes`, `X509Certificate`.
static ACRONYM_TYPE: std::sync::LazyLock<regex::bytes::Regex> = std::sync::LazyLock::new(|| {
    regex::bytes::Regex::new(r"^[A-Z][A-Z0-9]{1,7}(?:[A-Z][a-z]{2,}[0-9]*)+$")
        .expect("static regex")
});

/// Names as programmers write them: CONSTANT_CASE or snake_case with an underscore, or
/// CamelCase words. Random secrets almost never have these shapes.
fn is_code_identifier(v: &[u8]) -> bool {
    if ACRONYM_TYPE.is_match(v) {
        return true;
    }
    if !v.iter().all(|&b| b.is_ascii_alphanumeric() || b == b'_') || v[0].is_ascii_digit() {
        return false;
    }
    if v.contains(&b'_') {
        // MI_UserCredentials, WIN32_ERROR, request_token: every segment is a plain word.
        return v.split(|&b| b == b'_').all(|seg| {
            seg.is_empty()
                || seg.iter().all(|b| !b.is_ascii_lowercase())
                || seg.iter().all(|b| !b.is_ascii_uppercase())
                || is_camel_case(seg, 1)
        });
    }
    is_camel_case(v, 2)
}

/// CamelCase with at least `min_words` words: each upper-case letter starts a word of at least
/// three characters, the rest lower-case letters or digits.
fn is_camel_case(v: &[u8], min_words: usize) -> bool {
    let mut words = 0;
    let mut i = 0;
    while i < v.len() {
        if !v[i].is_ascii_uppercase() {
            return false;
        }
        let start = i;
        i += 1;
        while i < v.len() && v[i].is_ascii_lowercase() {
            i += 1;
        }
        if i - start < 3 {
            return false;
        }
        words += 1;
        if i < v.len() && v[i].is_ascii_digit() {
            // Digits end a name (`Field2`), they do not sit inside one (`Kq9vL2m`).
            return v[i..].iter().all(u8::is_ascii_digit) && words >= min_words;
        }
    }
    words >= min_words
}

fn is_eth_address(v: &[u8]) -> bool {
    v.len() == 42 && v.starts_with(b"0x") && v[2..].iter().all(u8::is_ascii_hexdigit)
}

fn lower_starts_with_any(v: &[u8], prefixes: &[&[u8]]) -> bool {
    prefixes
        .iter()
        .any(|p| v.len() >= p.len() && v[..p.len()].eq_ignore_ascii_case(p))
}

/// `a.b.c` where every segment is an identifier.
fn is_dotted_path(v: &[u8]) -> bool {
    v.contains(&b'.')
        && v.split(|&b| b == b'.').all(|seg| {
            !seg.is_empty()
                && (seg[0].is_ascii_alphabetic() || seg[0] == b'_')
                && seg.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'_')
        })
}

fn is_uuid(v: &[u8]) -> bool {
    v.len() == 36
        && v.iter().enumerate().all(|(i, &b)| {
            if matches!(i, 8 | 13 | 18 | 23) {
                b == b'-'
            } else {
                b.is_ascii_hexdigit()
            }
        })
}

fn is_version(v: &[u8]) -> bool {
    let v = v.strip_prefix(b"v").unwrap_or(v);
    v.iter()
        .all(|&b| b.is_ascii_digit() || b == b'.' || b == b'-')
        && v.contains(&b'.')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(text: &str, kw: &[&str]) -> Vec<String> {
        let hay = text.as_bytes();
        let names: Vec<String> = kw.iter().map(|k| normalize_name(k)).collect();
        let lower = text.to_ascii_lowercase();
        let mut hits = Vec::new();
        for k in kw {
            for (i, _) in lower.match_indices(k) {
                hits.push((i, i + k.len()));
            }
        }
        hits.sort();
        let mut out = Vec::new();
        find(hay, &hits, &names, &mut out);
        out.iter()
            .map(|c| text[c.start..c.end].to_string())
            .collect()
    }

    #[test]
    fn finds_assignments() {
        assert_eq!(
            run("DB_PASSWORD=Xk9#mQ2vLp7w\n", &["password"]),
            ["Xk9#mQ2vLp7w"]
        );
        assert_eq!(
            run("  \"client_secret\": \"Jq8vN2kLm4Pz7Rt1\",", &["secret"]),
            ["Jq8vN2kLm4Pz7Rt1"]
        );
        assert_eq!(
            run("api_key := 'a8F3kL9mQ2xZ7pW4'", &["api_key"]),
            ["a8F3kL9mQ2xZ7pW4"]
        );
        assert_eq!(
            run("<password>Zr7!kP2qLx9w</password>", &["password"]),
            ["Zr7!kP2qLx9w"]
        );
        assert_eq!(
            run("dbPassword: Hq7zK2mWp9Lx", &["password"]),
            ["Hq7zK2mWp9Lx"]
        );
        assert_eq!(
            run("PGPASSWORD=Kq9vL2mXp7zR4w", &["password"]),
            ["Kq9vL2mXp7zR4w"]
        );
        for (text, kw) in [
            ("$env:DB_PASSWORD = \"Kq9vL2mXp7zR4w\"", "password"),
            ("define('DB_PASSWORD', 'Kq9vL2mXp7zR4w');", "password"),
            ("cfg.setDbPassword(\"Kq9vL2mXp7zR4w\");", "password"),
            ("var dbPassword = @\"Kq9vL2mXp7zR4w\";", "password"),
            ("let db_password = r#\"Kq9vL2mXp7zR4w\"#;", "password"),
            ("./deploy --token=Kq9vL2mXp7zR4w --env prod", "token"),
            ("DB_PASSWORD=Kq9vL2mXp7zR4w npm start", "password"),
            ("var dbPassword string = \"Kq9vL2mXp7zR4w\"", "password"),
            ("\tapiToken string = \"Kq9vL2mXp7zR4w\"", "token"),
            ("val dbPassword: String = \"Kq9vL2mXp7zR4w\"", "password"),
            ("const apiToken: string = 'Kq9vL2mXp7zR4w';", "token"),
            ("DB_PASSWORD ::= Kq9vL2mXp7zR4w", "password"),
            ("DB_PASSWORD :::= Kq9vL2mXp7zR4w", "password"),
            ("DB_PASSWORD += Kq9vL2mXp7zR4w", "password"),
            ("$password .= 'Kq9vL2mXp7zR4w';", "password"),
            ("define( 'DB_PASSWORD' , 'Kq9vL2mXp7zR4w' );", "password"),
            ("<password>\n    Kq9vL2mXp7zR4w\n</password>", "password"),
            ("NEXT_PUBLIC_API_SECRET=Kq9vL2mXp7zR4w", "secret"),
            ("Try again with token=Kq9vL2mXp7zR4w?", "token"),
            ("grep -E '^DB_PASSWORD=Kq9vL2mXp7zR4w$' .env", "password"),
            (
                "stringData:\n  db-password: >-\n    Kq9vL2mXp7zR4w\n",
                "password",
            ),
        ] {
            assert_eq!(run(text, &[kw]), ["Kq9vL2mXp7zR4w"], "{text}");
        }
        assert_eq!(
            run(
                "- name: DB_PASSWORD\n  value: \"Zr7kP2qLx9wT\"\n",
                &["password"]
            ),
            ["Zr7kP2qLx9wT"]
        );
        assert_eq!(
            run(
                "{\"name\":\"DB_PASSWORD\",\"value\":\"Zr7kP2qLx9wT\"}",
                &["password"]
            ),
            ["Zr7kP2qLx9wT"]
        );
        assert_eq!(
            run(
                "<add key=\"SmtpPassword\" value=\"Zr7kP2qLx9wT\" />",
                &["password"]
            ),
            ["Zr7kP2qLx9wT"]
        );
        assert_eq!(
            run("ENV POSTGRES_PASSWORD Zr7kP2qLx9wT", &["password"]),
            ["Zr7kP2qLx9wT"]
        );
        assert_eq!(
            run("mysqldump --password Zr7kP2qLx9wT db", &["password"]),
            ["Zr7kP2qLx9wT"]
        );
        assert_eq!(
            run("\"{\\\"password\\\":\\\"Zr7kP2qLx9wT\\\"}\"", &["password"]),
            ["Zr7kP2qLx9wT"]
        );
        assert_eq!(
            run("url?access_token=Zr7kP2qLx9wT&page=2", &["token"]),
            ["Zr7kP2qLx9wT"]
        );
    }

    #[test]
    fn rejects_non_secrets() {
        for t in [
            "password_length = 'Xk9#mQ2vLp7w'",
            "tokenizer = 'Xk9#mQ2vLp7w'",
            "if password == 'Xk9#mQ2vLp7w':",
            "password = os.environ['DB_PASSWORD']",
            "password = get_password(user)",
            "password: ${DB_PASSWORD}",
            "password = config.database.password",
            "token = 'Please enter your token'",
            "PASSWORD=changeme",
            "secret: 123e4567-e89b-12d3-a456-426614174000",
            "password: |",
            "pub pszPassword: ::windows_sys::core::PCWSTR,",
            "pub const ERROR_WRONG_PASSWORD: WIN32_ERROR = 1323u32;",
            "pub Token: super::HANDLE,",
            "let private_key = pkcs8::PrivateKeyInfo {",
            "password: PasswordField2,",
            "pub credentials: MI_UserCredentials,",
            "NextContinuationToken: 1SL9kQ2vLp7wXz4R",
            "Credential=AKIDEXAMPL/20150830/us-east-1/iam/aws4_request,",
            "- name: DB_PASSWORD\n  valueFrom:\n    secretKeyRef: {name: db, key: password}",
            "exports2.TOKEN = exports2.HEX2",
            "let pwd = a:dict.istemp ? 1 : 0",
            "token: \"0x6b175474e89094c44da98b954eedeac495271d0f\"",
            "secret: sha256:0d17a5b2c8e94f1a3b6c7d8e9f0a1b2c",
            "nonce_token = Zr7kP2qLx9wT",
            "private_key: PKCS7PrivateKeyTypes,",
            "\"Resource\": \"arn:aws:secretsmanager:*:*:secret:rds-db-credentials-Xk9mQ2\"",
            "\"output_token\": \"DistributionList.NextMarker\",",
            "aws waf update-ip-set --change-token 12cs345-67cd-890b-1cd2-c3a4567d89f1",
            "password string == Kq9vL2mXp7zR4w",
            "apiKey: string => Kq9vL2mXp7zR4w",
            "<password>\n  two words\n</password>",
            "PUBLIC_TOKEN=Kq9vL2mXp7zR4w",
            "password == 'Kq9vL2mXp7zR4w'",
            "printf(\"token=%c^\", c)",
            "snprintf(buf, n, \"password=%-8s\", pw)",
        ] {
            assert!(run(t, &["password", "secret", "token"]).is_empty(), "{t}");
        }
    }
}
