//! The `private-key` built-in: no network. A private key is checked by parsing it and deriving
//! its public key, reported as an OpenSSH SHA-256 fingerprint (`SHA256:…`, as `ssh-keygen -l`
//! and GitHub show it), which is what a rotation needs: where is this key authorized? Key
//! material that does not parse is not a usable key.

use base64::Engine as _;
use ring::signature::{self, KeyPair};
use sha2::{Digest, Sha256};

/// What a private key turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyCheck {
    /// A valid key: its OpenSSH type and public-key fingerprint.
    Valid {
        /// `ssh-ed25519`, `ssh-rsa`, `ecdsa-sha2-nistp256`, …
        kind: String,
        /// `SHA256:…`.
        fingerprint: String,
    },
    /// Encrypted with a passphrase: the public key is not derivable here (except OpenSSH).
    Encrypted,
    /// A format this check does not parse.
    Unsupported(String),
    /// Not a usable key.
    Invalid(String),
}

/// Checks a PEM private key as found in a file (maybe with `\n` escapes and quotes).
pub fn check(text: &str) -> KeyCheck {
    let label = text
        .split("-----BEGIN ")
        .nth(1)
        .and_then(|r| r.split("-----").next())
        .unwrap_or("")
        .to_string();
    if label.contains("ENCRYPTED") || text.contains("Proc-Type: 4,ENCRYPTED") {
        return KeyCheck::Encrypted;
    }
    let der = match pem_der(text) {
        Some(d) => d,
        None => return KeyCheck::Invalid("the PEM body is not valid base64".into()),
    };
    match label.as_str() {
        "OPENSSH PRIVATE KEY" => openssh(&der),
        "PRIVATE KEY" => pkcs8(&der),
        "RSA PRIVATE KEY" => match signature::RsaKeyPair::from_der(&der) {
            Ok(k) => rsa_fingerprint(&k),
            Err(e) => KeyCheck::Invalid(format!("not a usable RSA key: {e}")),
        },
        other => KeyCheck::Unsupported(format!("{other} keys are not parsed offline")),
    }
}

/// The base64 body between the BEGIN and END lines, decoded.
pub fn pem_der(text: &str) -> Option<Vec<u8>> {
    let start = text.find("-----BEGIN ")?;
    let after = &text[start + 11..];
    let body_start = after.find("-----")? + 5;
    let body = &after[body_start..];
    let end = body.find("-----END")?;
    let cleaned = body[..end].replace("\\n", "").replace("\\r", "");
    let b64: String = cleaned
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '+' || *c == '/' || *c == '=')
        .collect();
    base64::engine::general_purpose::STANDARD.decode(b64).ok()
}

fn ssh_string(out: &mut Vec<u8>, b: &[u8]) {
    out.extend_from_slice(&(b.len() as u32).to_be_bytes());
    out.extend_from_slice(b);
}

fn ssh_mpint(out: &mut Vec<u8>, be: &[u8]) {
    let trimmed: &[u8] = {
        let i = be.iter().position(|&b| b != 0).unwrap_or(be.len());
        &be[i..]
    };
    if trimmed.first().is_some_and(|&b| b & 0x80 != 0) {
        let mut v = vec![0u8];
        v.extend_from_slice(trimmed);
        ssh_string(out, &v);
    } else {
        ssh_string(out, trimmed);
    }
}

fn fingerprint(blob: &[u8]) -> String {
    format!(
        "SHA256:{}",
        base64::engine::general_purpose::STANDARD_NO_PAD.encode(Sha256::digest(blob))
    )
}

fn valid(kind: &str, blob: &[u8]) -> KeyCheck {
    KeyCheck::Valid {
        kind: kind.to_string(),
        fingerprint: fingerprint(blob),
    }
}

fn rsa_fingerprint(k: &signature::RsaKeyPair) -> KeyCheck {
    let c: signature::RsaPublicKeyComponents<Vec<u8>> = k.public().into();
    let mut blob = Vec::new();
    ssh_string(&mut blob, b"ssh-rsa");
    ssh_mpint(&mut blob, &c.e);
    ssh_mpint(&mut blob, &c.n);
    valid("ssh-rsa", &blob)
}

/// PKCS#8: Ed25519, RSA, ECDSA P-256 or P-384.
fn pkcs8(der: &[u8]) -> KeyCheck {
    if let Ok(k) = signature::Ed25519KeyPair::from_pkcs8_maybe_unchecked(der) {
        let mut blob = Vec::new();
        ssh_string(&mut blob, b"ssh-ed25519");
        ssh_string(&mut blob, k.public_key().as_ref());
        return valid("ssh-ed25519", &blob);
    }
    if let Ok(k) = signature::RsaKeyPair::from_pkcs8(der) {
        return rsa_fingerprint(&k);
    }
    let rng = ring::rand::SystemRandom::new();
    for (alg, name, curve) in [
        (
            &signature::ECDSA_P256_SHA256_ASN1_SIGNING,
            "ecdsa-sha2-nistp256",
            "nistp256",
        ),
        (
            &signature::ECDSA_P384_SHA384_ASN1_SIGNING,
            "ecdsa-sha2-nistp384",
            "nistp384",
        ),
    ] {
        if let Ok(k) = signature::EcdsaKeyPair::from_pkcs8(alg, der, &rng) {
            let mut blob = Vec::new();
            ssh_string(&mut blob, name.as_bytes());
            ssh_string(&mut blob, curve.as_bytes());
            ssh_string(&mut blob, k.public_key().as_ref());
            return valid(name, &blob);
        }
    }
    KeyCheck::Invalid("not a usable PKCS#8 key (Ed25519, RSA, ECDSA P-256/P-384 tried)".into())
}

/// Reads one SSH wire-format string.
fn take_string<'a>(b: &mut &'a [u8]) -> Option<&'a [u8]> {
    if b.len() < 4 {
        return None;
    }
    let n = u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize;
    let s = b.get(4..4 + n)?;
    *b = &b[4 + n..];
    Some(s)
}

/// `openssh-key-v1`: the public key is stored in clear even when the private part is encrypted.
fn openssh(der: &[u8]) -> KeyCheck {
    let Some(mut rest) = der.strip_prefix(b"openssh-key-v1\0") else {
        return KeyCheck::Invalid("not an openssh-key-v1 key".into());
    };
    let parsed = (|| {
        take_string(&mut rest)?; // cipher
        take_string(&mut rest)?; // kdf
        take_string(&mut rest)?; // kdf options
        if rest.len() < 4 {
            return None;
        }
        rest = &rest[4..]; // number of keys
        let blob = take_string(&mut rest)?;
        let mut b = blob;
        let kind = take_string(&mut b)?;
        Some((String::from_utf8_lossy(kind).into_owned(), blob))
    })();
    match parsed {
        Some((kind, blob)) => valid(&kind, blob),
        None => KeyCheck::Invalid("truncated OpenSSH key".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ed25519_pkcs8_generated_here() {
        let rng = ring::rand::SystemRandom::new();
        let doc = signature::Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
        let pem = format!(
            "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
            base64::engine::general_purpose::STANDARD.encode(doc.as_ref())
        );
        let KeyCheck::Valid { kind, fingerprint } = check(&pem) else {
            panic!("{:?}", check(&pem));
        };
        assert_eq!(kind, "ssh-ed25519");
        assert!(
            fingerprint.starts_with("SHA256:") && fingerprint.len() == 50,
            "{fingerprint}"
        );
        // The same key written as an escaped JSON string gives the same fingerprint.
        let escaped = pem.replace('\n', "\\n");
        assert_eq!(check(&escaped), check(&pem));
    }

    #[test]
    fn broken_and_encrypted() {
        let broken = "-----BEGIN RSA PRIVATE KEY-----\nMIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu\n-----END RSA PRIVATE KEY-----";
        assert!(matches!(check(broken), KeyCheck::Invalid(_)));
        let enc =
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIB\n-----END ENCRYPTED PRIVATE KEY-----";
        assert_eq!(check(enc), KeyCheck::Encrypted);
    }
}
