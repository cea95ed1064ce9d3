//! The checksum kinds a rule may name (`checksum = "crc32-base62"`). What each one checks is
//! detection's business (`detect::checksum` implements [`Checksum::is_valid`]): rules only
//! name and look them up, so the rule model does not depend on the detector.

/// A named built-in validator a rule can ask for with `checksum = "..."`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Checksum {
    /// GitHub / npm: last 6 chars are base62(CRC32(30 chars before them)).
    Crc32Base62,
    /// BIP-173 bech32 checksum (age secret keys).
    Bech32,
    /// JWT: base64url header and payload that decode to JSON objects; the header has `alg`.
    Jwt,
    /// Decodes as standard or URL-safe base64.
    Base64,
    /// Grafana `glsa_<32>_<8 hex>`: the hex is CRC32 of `glsa_<32>`, little-endian.
    GrafanaCrc32,
    /// Confluent `cflt<54><6>`: the last 6 are CRC32 of the 54, little-endian, base64 unpadded.
    ConfluentCrc32,
    /// HTTP Basic credentials: base64 of printable `user:password`, both parts non-empty.
    BasicAuth,
}

impl Checksum {
    /// Names accepted in rule files.
    pub const NAMES: &'static [&'static str] = &[
        "crc32-base62",
        "bech32",
        "jwt",
        "base64",
        "grafana-crc32",
        "confluent-crc32",
        "basic-auth",
    ];

    /// Looks a validator up by its rule-file name.
    pub fn by_name(name: &str) -> Option<Checksum> {
        Some(match name {
            "crc32-base62" => Checksum::Crc32Base62,
            "bech32" => Checksum::Bech32,
            "jwt" => Checksum::Jwt,
            "base64" => Checksum::Base64,
            "grafana-crc32" => Checksum::GrafanaCrc32,
            "confluent-crc32" => Checksum::ConfluentCrc32,
            "basic-auth" => Checksum::BasicAuth,
            _ => return None,
        })
    }
}
