//! Secret fingerprints: a keyed BLAKE3 hash of the secret, the identity of a secret everywhere
//! (baselines, SARIF `partialFingerprints`, the inventory) without storing the secret itself.
//!
//! The key is derived from a fixed context string and an optional organisation key
//! (`--fingerprint-key` / `SPRAWL_FINGERPRINT_KEY`). With an organisation key kept private,
//! fingerprints published in SARIF cannot be checked against guessed passwords.

/// Derives fingerprints with one key.
#[derive(Clone)]
pub struct Fingerprinter {
    key: [u8; 32],
}

impl Fingerprinter {
    /// A fingerprinter for the given organisation key (empty for the public default).
    pub fn new(org_key: &[u8]) -> Fingerprinter {
        Fingerprinter {
            key: blake3::derive_key("sprawl secret fingerprint v1", org_key),
        }
    }

    /// Hex fingerprint (128 bits) of `secret`, after [`canonical`] normalisation.
    pub fn fingerprint(&self, secret: &[u8]) -> String {
        let hash = blake3::keyed_hash(&self.key, &canonical(secret));
        hash.as_bytes()[..16]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

/// The form of a secret that is hashed. Most secrets are hashed as they are. A PEM or OpenSSH
/// block is reduced to its label and base64 body, so the same key has one fingerprint whether
/// it sits in a file with LF or CRLF line ends, or in a JSON string with `\n` escapes.
pub fn canonical(secret: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    let Some(begin) = memchr::memmem::find(secret, b"-----BEGIN ") else {
        return std::borrow::Cow::Borrowed(secret);
    };
    let rest = &secret[begin + 11..];
    let Some(label_end) = memchr::memmem::find(rest, b"-----") else {
        return std::borrow::Cow::Borrowed(secret);
    };
    let label = &rest[..label_end];
    let body_and_end = &rest[label_end + 5..];
    let body_end = memchr::memmem::find(body_and_end, b"-----END").unwrap_or(body_and_end.len());
    let body = &body_and_end[..body_end];
    let mut out = Vec::with_capacity(label.len() + body.len() + 1);
    out.extend_from_slice(label);
    out.push(b'\n');
    let mut i = 0;
    while i < body.len() {
        let b = body[i];
        if b == b'\\' && i + 1 < body.len() {
            i += 2; // `\n`, `\r` escapes inside JSON/YAML strings
            continue;
        }
        if b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=') {
            out.push(b);
        }
        i += 1;
    }
    std::borrow::Cow::Owned(out)
}

impl Default for Fingerprinter {
    fn default() -> Self {
        Fingerprinter::new(b"")
    }
}

#[cfg(test)]
mod tests {
    use super::Fingerprinter;

    #[test]
    fn stable_and_keyed() {
        let a = Fingerprinter::default().fingerprint(b"s3cret");
        assert_eq!(a, Fingerprinter::default().fingerprint(b"s3cret"));
        assert_eq!(a.len(), 32);
        assert_ne!(a, Fingerprinter::new(b"org").fingerprint(b"s3cret"));
        assert_ne!(a, Fingerprinter::default().fingerprint(b"s3cret2"));
    }

    #[test]
    fn pem_blocks_fingerprint_alike_across_encodings() {
        let f = Fingerprinter::default();
        let lf = f.fingerprint(
            b"-----BEGIN PRIVATE KEY-----\nMIIEvQIBADAN\nBgkqhkiG9w0B\n-----END PRIVATE KEY-----",
        );
        let crlf = f.fingerprint(b"-----BEGIN PRIVATE KEY-----\r\nMIIEvQIBADAN\r\nBgkqhkiG9w0B\r\n-----END PRIVATE KEY-----\r\n");
        let json = f.fingerprint(br"-----BEGIN PRIVATE KEY-----\nMIIEvQIBADAN\nBgkqhkiG9w0B\n-----END PRIVATE KEY-----\n");
        assert_eq!(lf, crlf);
        assert_eq!(lf, json);
        assert_ne!(lf, f.fingerprint(b"-----BEGIN RSA PRIVATE KEY-----\nMIIEvQIBADAN\nBgkqhkiG9w0B\n-----END RSA PRIVATE KEY-----"));
    }
}
