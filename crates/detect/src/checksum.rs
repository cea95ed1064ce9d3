//! Offline format checks: a match whose built-in checksum or structure does not hold is a typo,
//! a placeholder or a made-up string, and is dropped before anyone is asked to rotate it.

use base64::Engine as _;

pub use sprawl_core::rules::checksum::Checksum;

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// True when `secret` passes the check `kind` (the rules name the kind, this crate implements
/// it).
pub fn is_valid(kind: Checksum, secret: &[u8]) -> bool {
    {
        match kind {
            Checksum::Crc32Base62 => crc32_base62_valid(secret),
            Checksum::Bech32 => bech32_valid(secret),
            Checksum::Jwt => jwt_valid(secret),
            Checksum::Base64 => decode_base64_any(secret).is_some(),
            Checksum::GrafanaCrc32 => grafana_valid(secret),
            Checksum::ConfluentCrc32 => confluent_valid(secret),
            Checksum::BasicAuth => basic_auth_valid(secret),
        }
    }
}

/// Encodes `n` in base62, most significant digit first, zero-padded to `width`.
pub fn base62_padded(mut n: u32, width: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(width);
    while n > 0 {
        out.push(BASE62[(n % 62) as usize]);
        n /= 62;
    }
    while out.len() < width {
        out.push(b'0');
    }
    out.reverse();
    out
}

fn crc32_base62_valid(secret: &[u8]) -> bool {
    // The body follows the last `_` (ghp_, npm_, ...): 30 random chars then a 6-char checksum.
    let body = match secret.iter().rposition(|&b| b == b'_') {
        Some(i) => &secret[i + 1..],
        None => secret,
    };
    if body.len() != 36 || !body.iter().all(u8::is_ascii_alphanumeric) {
        return false;
    }
    let (random, check) = body.split_at(30);
    base62_padded(crc32fast::hash(random), 6) == check
}

fn grafana_valid(secret: &[u8]) -> bool {
    let Some(i) = secret.iter().rposition(|&b| b == b'_') else {
        return false;
    };
    let (body, check) = (&secret[..i], &secret[i + 1..]);
    let want: String = crc32fast::hash(body)
        .to_le_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    check.eq_ignore_ascii_case(want.as_bytes())
}

fn confluent_valid(secret: &[u8]) -> bool {
    use base64::engine::general_purpose::STANDARD_NO_PAD;
    if secret.len() != 64 || !secret.starts_with(b"cflt") {
        return false;
    }
    let want = STANDARD_NO_PAD.encode(crc32fast::hash(&secret[4..58]).to_le_bytes());
    &secret[58..] == want.as_bytes()
}

fn basic_auth_valid(secret: &[u8]) -> bool {
    let Some(plain) = decode_base64_any(secret) else {
        return false;
    };
    let Some(colon) = plain.iter().position(|&b| b == b':') else {
        return false;
    };
    colon > 0
        && colon + 1 < plain.len()
        && plain
            .iter()
            .all(|b| b.is_ascii_graphic() || *b == b' ' || *b >= 0x80)
}

const BECH32_CHARSET: &[u8; 32] = b"qpzry9x8gf2tvdw0s3jn54khce6mua7l";

fn bech32_polymod(values: &[u8]) -> u32 {
    const GEN: [u32; 5] = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];
    let mut chk: u32 = 1;
    for &v in values {
        let top = chk >> 25;
        chk = ((chk & 0x1ffffff) << 5) ^ v as u32;
        for (i, g) in GEN.iter().enumerate() {
            if (top >> i) & 1 == 1 {
                chk ^= g;
            }
        }
    }
    chk
}

fn bech32_valid(secret: &[u8]) -> bool {
    let lower = secret.to_ascii_lowercase();
    let Some(sep) = lower.iter().rposition(|&b| b == b'1') else {
        return false;
    };
    let (hrp, data) = (&lower[..sep], &lower[sep + 1..]);
    if hrp.is_empty() || data.len() < 6 {
        return false;
    }
    let mut values: Vec<u8> = hrp.iter().map(|c| c >> 5).collect();
    values.push(0);
    values.extend(hrp.iter().map(|c| c & 31));
    for c in data {
        match BECH32_CHARSET.iter().position(|x| x == c) {
            Some(v) => values.push(v as u8),
            None => return false,
        }
    }
    bech32_polymod(&values) == 1
}

/// Decodes standard or URL-safe base64, padded or not.
pub fn decode_base64_any(s: &[u8]) -> Option<Vec<u8>> {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    let s: Vec<u8> = s
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD]
        .iter()
        .find_map(|e| e.decode(&s).ok())
}

fn jwt_valid(secret: &[u8]) -> bool {
    let parts: Vec<&[u8]> = secret.split(|&b| b == b'.').collect();
    if parts.len() != 3 || parts[2].is_empty() {
        return false;
    }
    let json = |p: &[u8]| -> Option<serde_json::Map<String, serde_json::Value>> {
        let bytes = decode_base64_any(p)?;
        match serde_json::from_slice::<serde_json::Value>(&bytes).ok()? {
            serde_json::Value::Object(m) => Some(m),
            _ => None,
        }
    };
    match (json(parts[0]), json(parts[1])) {
        (Some(header), Some(_)) => header.contains_key("alg"),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn github_like(prefix: &str, random: &str) -> String {
        let check = base62_padded(crc32fast::hash(random.as_bytes()), 6);
        format!("{prefix}{random}{}", String::from_utf8(check).unwrap())
    }

    #[test]
    fn crc32_base62_round_trip() {
        let t = github_like("ghp_", "q8Zr2LmN5vBc7XkP1sDf4GhJ6tYw9E");
        assert!(is_valid(Checksum::Crc32Base62, t.as_bytes()));
        let mut bad = t.into_bytes();
        let last = bad.len() - 1;
        bad[last] = if bad[last] == b'A' { b'B' } else { b'A' };
        assert!(!is_valid(Checksum::Crc32Base62, &bad));
    }

    #[test]
    fn bech32_reference_vector() {
        // BIP-173 valid test vector.
        assert!(bech32_valid(b"A12UEL5L"));
        assert!(bech32_valid(
            b"abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw"
        ));
        assert!(!bech32_valid(
            b"abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxx"
        ));
    }

    #[test]
    fn jwt_structure() {
        let ok = b"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlLWJ5dGVz";
        assert!(jwt_valid(ok));
        assert!(!jwt_valid(b"eyJub3QiOiJqd3QifQ.eyJzdWIiOiJ4In0.c2ln"));
    }
}
