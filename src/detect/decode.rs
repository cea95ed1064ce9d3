//! Decode-through: base64 values that wrap credentials. A Docker `auth` (`user:password`,
//! `_json_key:{service account}`), a `.dockerconfigjson`, an `Authorization: Basic` header and
//! a base64-wrapped PEM key hide what they hold from every pattern; here they are found by
//! their context, decoded (bounded in size), and handed back to be scanned as text.

use base64::Engine as _;

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
}

/// Contexts that announce a base64 value: the marker and whether the value starts at the
/// marker itself (base64 of a known prefix) or after it (a key, then `:`/`=` and quotes).
const TRIGGERS: &[(&[u8], bool)] = &[
    // base64("-----BEGI"): a PEM block (private key, certificate bundle) wrapped in base64.
    (b"LS0tLS1CRUdJT", true),
    // base64("{\"auths\":") and base64("{\n  \"auths\""): a Docker config.
    (b"eyJhdXRocyI6", true),
    (b"ewogICJhdXRocyI6", true),
    (b"ewogICAgImF1dGhzIjo", true),
    // base64("_json_key:") and base64("_json_key_base64:"): GCR/Artifact Registry logins.
    (b"X2pzb25fa2V5", true),
    (b"\"auth\"", false),
    (b"'auth'", false),
    (b"\\\"auth\\\"", false),
    (b"dockerconfigjson", false),
    (b"Basic ", false),
    (b"basic ", false),
    (b"BASIC ", false),
];

fn is_b64(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'-' | b'_')
}

/// Every base64 value of `hay` found in one of the contexts above that decodes to text.
pub fn encoded_values(hay: &[u8]) -> Vec<Encoded> {
    let mut out: Vec<Encoded> = Vec::new();
    for &(marker, at_marker) in TRIGGERS {
        for pos in memchr::memmem::find_iter(hay, marker) {
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
                });
            }
        }
    }
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
    let trimmed: Vec<u8> = encoded.iter().copied().filter(|&b| b != b'=').collect();
    let decoded = base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(&trimmed)
        .or_else(|_| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(&trimmed))
        .ok()?;
    let text = std::str::from_utf8(&decoded).ok()?;
    let printable = text
        .bytes()
        .all(|b| b.is_ascii_graphic() || matches!(b, b' ' | b'\t' | b'\n' | b'\r'));
    (printable && text.len() >= 4).then_some(decoded)
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn ignores_binary_and_short_values() {
        assert!(encoded_values(b"\"auth\": \"AAECAwQFBgcICQoLDA0ODw==\"").is_empty());
        assert!(encoded_values(b"Basic realm").is_empty());
        assert!(encoded_values(b"xLS0tLS1CRUdJTiBSU0EgUFJJVkFURSBLRVkt").is_empty());
    }
}
