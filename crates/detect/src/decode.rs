//! Decode-through: base64 values that wrap credentials. A Docker `auth` (`user:password`,
//! `_json_key:{service account}`), a `.dockerconfigjson`, an `Authorization: Basic` header and
//! a base64-wrapped PEM key hide what they hold from every pattern; here they are found by
//! their context, decoded (bounded in size), and handed back to be scanned as text.

/// Longest encoded value decoded (a service-account JSON key is ~3 KiB encoded).
const MAX_ENCODED: usize = 64 << 10;

/// Most values decoded per window: a file of ten thousand Basic headers is a log, and each
/// decoded value costs a full detection pass.
const MAX_VALUES: usize = 256;

/// Shortest encoded value worth decoding (`user:pass` of a few characters each).
const MIN_ENCODED: usize = 12;

/// A base64 value found in context and its decoded bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encoded {
    /// Start of the encoded value in the haystack.
    pub start: usize,
    /// End of the encoded value.
    pub end: usize,
    /// The decoded bytes (valid UTF-8 text).
    pub decoded: Vec<u8>,
    /// The key the value was under, for a Kubernetes Secret's `data:` entry: the decoded value
    /// is scanned as `key: value`, so a bare password under `DB_PASSWORD` is still a password.
    pub key: Option<String>,
}

impl Encoded {
    /// The text to scan: the decoded value, under its key when it has one.
    pub fn text(&self) -> Vec<u8> {
        match &self.key {
            None => self.decoded.clone(),
            Some(k) => {
                let sep: &[u8] = if self.decoded.contains(&b'\n') {
                    b":\n"
                } else {
                    b": "
                };
                [k.as_bytes(), sep, &self.decoded[..]].concat()
            }
        }
    }
}

/// `kind: Secret` in any of its spellings (YAML block or flow, JSON, a `List` of items, a
/// Helm template the YAML parser cannot read).
static SECRET_KIND: std::sync::LazyLock<regex::bytes::Regex> = std::sync::LazyLock::new(|| {
    regex::bytes::Regex::new(r#"["']?kind["']?[ \t]*:[ \t]*["']?Secret\b"#).expect("static regex")
});

/// A `key: base64` pair, quoted or not, as Secret `data:` entries are written.
static DATA_ENTRY: std::sync::LazyLock<regex::bytes::Regex> = std::sync::LazyLock::new(|| {
    regex::bytes::Regex::new(
        r#"["']?([A-Za-z0-9_.-]{1,253})["']?[ \t]*:[ \t]*["']?([A-Za-z0-9+/]{12,65536}={0,2})(?:["']|[ \t]*(?:[,}\r\n]|\z))"#,
    )
    .expect("static regex")
});

/// Kubernetes Secret values in text the YAML outline does not decode (JSON manifests,
/// `kubectl get -o json` lists, flow-style YAML, Helm templates): when the window declares a
/// Secret, every `key: base64` entry that decodes to text.
fn secret_data_values(hay: &[u8], says_secret: bool, out: &mut Vec<Encoded>) {
    if !says_secret || !SECRET_KIND.is_match(hay) {
        return;
    }
    for c in DATA_ENTRY.captures_iter(hay) {
        if out.len() >= MAX_VALUES {
            return;
        }
        let (Some(k), Some(v)) = (c.get(1), c.get(2)) else {
            continue;
        };
        if out.iter().any(|e| e.start == v.start()) {
            continue;
        }
        if let Some(decoded) = decode(v.as_bytes()) {
            out.push(Encoded {
                start: v.start(),
                end: v.end(),
                decoded,
                key: Some(String::from_utf8_lossy(k.as_bytes()).into_owned()),
            });
        }
    }
}

/// Contexts that announce a base64 value: the marker and whether the value starts at the
/// marker itself (base64 of a known prefix) or after it (a key, then `:`/`=` and quotes).
const TRIGGERS: &[(&str, bool)] = &[
    // base64("-----BEGI"): a PEM block (private key, certificate bundle) wrapped in base64.
    ("LS0tLS1CRUdJT", true),
    // base64("{\"auths\":") and base64("{\n  \"auths\""): a Docker config.
    ("eyJhdXRocyI6", true),
    ("ewogICJhdXRocyI6", true),
    ("ewogICAgImF1dGhzIjo", true),
    // base64("_json_key:") and base64("_json_key_base64:"): GCR/Artifact Registry logins.
    ("X2pzb25fa2V5", true),
    ("\"auth\"", false),
    ("'auth'", false),
    ("\\\"auth\\\"", false),
    ("dockerconfigjson", false),
    ("Basic ", false),
    ("basic ", false),
    ("BASIC ", false),
];

/// The word a Kubernetes Secret's `data:` values need nearby ([`secret_data_values`]).
const SECRET_WORD: &str = "Secret";

/// Every word without which [`encoded_values`] finds nothing, by index: the triggers' markers
/// in order, then the `Secret` of a Kubernetes Secret (index `TRIGGERS.len()`).
pub fn markers() -> impl Iterator<Item = &'static str> {
    TRIGGERS.iter().map(|t| t.0).chain([SECRET_WORD])
}

/// The marker at index `i` of [`markers`].
pub fn marker(i: usize) -> &'static str {
    TRIGGERS.get(i).map_or(SECRET_WORD, |t| t.0)
}

fn is_b64(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'-' | b'_')
}

/// Every base64 value of `hay` found in one of the contexts above that decodes to text.
pub fn encoded_values(hay: &[u8]) -> Vec<Encoded> {
    encoded_values_at(hay, &|i| {
        memchr::memmem::find_iter(hay, marker(i).as_bytes()).collect()
    })
}

/// [`encoded_values`] given where each of [`markers`] occurs (`occurrences(i)`: the leftmost
/// non-overlapping occurrences of `marker(i)`, ascending, as `memmem` finds them).
pub fn encoded_values_at(hay: &[u8], occurrences: &dyn Fn(usize) -> Vec<usize>) -> Vec<Encoded> {
    let mut out: Vec<Encoded> = Vec::new();
    for (i, &(marker, at_marker)) in TRIGGERS.iter().enumerate() {
        let marker = marker.as_bytes();
        for pos in occurrences(i) {
            if out.len() >= MAX_VALUES {
                return out;
            }
            let start = if at_marker {
                if pos > 0 && is_b64(hay[pos - 1]) {
                    continue; // inside a longer base64 run: not where a value starts
                }
                pos
            } else {
                match value_start(hay, pos + marker.len()) {
                    Some(s) => s,
                    None => continue,
                }
            };
            if out.iter().any(|e| e.start == start) {
                continue;
            }
            let mut end = start;
            while end < hay.len() && end - start <= MAX_ENCODED && is_b64(hay[end]) {
                end += 1;
            }
            let body_end = end;
            while end < hay.len() && hay[end] == b'=' && end - body_end < 2 {
                end += 1;
            }
            if body_end - start < MIN_ENCODED || body_end - start > MAX_ENCODED {
                continue;
            }
            if let Some(decoded) = decode(&hay[start..end]) {
                out.push(Encoded {
                    start,
                    end,
                    decoded,
                    key: None,
                });
            }
        }
    }
    secret_data_values(hay, !occurrences(TRIGGERS.len()).is_empty(), &mut out);
    out.sort_by_key(|e| e.start);
    out
}

/// After a key (`"auth"`, `.dockerconfigjson`, `Basic`): skip `:`/`=`, spaces and one quote.
fn value_start(hay: &[u8], mut i: usize) -> Option<usize> {
    let limit = hay.len().min(i + 16);
    while i < limit && matches!(hay[i], b' ' | b'\t' | b':' | b'=' | b'"' | b'\'' | b'\\') {
        i += 1;
    }
    (i < hay.len() && is_b64(hay[i])).then_some(i)
}

/// Standard or URL-safe base64, padded or not, decoded to printable text (tabs and newlines
/// allowed); anything else is not a wrapped credential.
fn decode(encoded: &[u8]) -> Option<Vec<u8>> {
    let decoded = super::checksum::decode_base64_any(encoded)?;
    let text = std::str::from_utf8(&decoded).ok()?;
    let printable = text
        .bytes()
        .all(|b| b.is_ascii_graphic() || matches!(b, b' ' | b'\t' | b'\n' | b'\r'));
    (printable && text.len() >= 4).then_some(decoded)
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;

    fn b64(s: &str) -> String {
        base64::engine::general_purpose::STANDARD.encode(s)
    }

    #[test]
    fn finds_values_in_context() {
        let auth = b64("_json_key:{\"type\": \"service_account\"}");
        let hay = format!("{{\"auths\":{{\"gcr.io\":{{\"auth\":\"{auth}\"}}}}}}");
        let found = encoded_values(hay.as_bytes());
        assert_eq!(found.len(), 1);
        assert_eq!(&hay[found[0].start..found[0].end], auth);
        assert!(found[0].decoded.starts_with(b"_json_key:"));

        let pem = b64("-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n");
        let hay = format!("SSH_KEY_B64={pem}\n");
        assert_eq!(encoded_values(hay.as_bytes()).len(), 1);

        let hay = format!(
            "curl -H 'Authorization: Basic {}' x",
            b64("ci:Tq8wLm2vZx7k")
        );
        assert_eq!(
            encoded_values(hay.as_bytes())[0].decoded,
            b"ci:Tq8wLm2vZx7k"
        );
    }

    #[test]
    fn kubernetes_secret_data_in_any_shape() {
        let v = b64("hunter2-Kq9vL2mXp7zR4w");
        for hay in [
            format!(
                "{{\"apiVersion\": \"v1\", \"kind\": \"Secret\", \"data\": {{\"DB_PASSWORD\": \"{v}\"}}}}"
            ),
            format!("kind: List\nitems:\n- kind: Secret\n  data:\n    DB_PASSWORD: {v}\n"),
            format!(
                "kind: Secret\nmetadata:\n  name: {{{{ .Release.Name }}}}\ndata:\n  DB_PASSWORD: {v}\n"
            ),
        ] {
            let found = encoded_values(hay.as_bytes());
            assert_eq!(found.len(), 1, "{hay}");
            assert_eq!(
                found[0].text(),
                b"DB_PASSWORD: hunter2-Kq9vL2mXp7zR4w",
                "{hay}"
            );
        }
        // Without a Secret, base64 values are left alone.
        let hay = format!("kind: ConfigMap\ndata:\n  DB_PASSWORD: {v}\n");
        assert!(encoded_values(hay.as_bytes()).is_empty());
    }

    #[test]
    fn markers_are_the_triggers_and_secret() {
        let mut from_triggers: Vec<&[u8]> = TRIGGERS.iter().map(|t| t.0.as_bytes()).collect();
        from_triggers.push(b"Secret");
        let markers: Vec<&[u8]> = (0..13).map(|i| marker(i).as_bytes()).collect();
        assert_eq!(markers, from_triggers);
        assert_eq!(super::markers().count(), 13);
    }

    #[test]
    fn ignores_binary_and_short_values() {
        assert!(encoded_values(b"\"auth\": \"AAECAwQFBgcICQoLDA0ODw==\"").is_empty());
        assert!(encoded_values(b"Basic realm").is_empty());
        assert!(encoded_values(b"xLS0tLS1CRUdJTiBSU0EgUFJJVkFURSBLRVkt").is_empty());
    }
}
