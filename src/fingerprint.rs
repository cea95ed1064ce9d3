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

    /// Hex fingerprint (128 bits) of `secret`.
    pub fn fingerprint(&self, secret: &[u8]) -> String {
        let hash = blake3::keyed_hash(&self.key, secret);
        hash.as_bytes()[..16]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
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
}
