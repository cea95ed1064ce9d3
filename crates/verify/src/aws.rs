//! AWS Signature Version 4, written here (no SDK), and the STS `GetCallerIdentity` request used
//! to check an access key pair: it needs no IAM permission, so any live key answers 200.
//! Also: the AWS account id encoded in an access key id (to skip canary accounts).

use sha2::{Digest, Sha256};

/// HMAC-SHA256 (RFC 2104) over SHA-256's 64-byte block.
pub fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut k = [0u8; 64];
    if key.len() > 64 {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(k.map(|b| b ^ 0x36));
    inner.update(data);
    let mut outer = Sha256::new();
    outer.update(k.map(|b| b ^ 0x5c));
    outer.update(inner.finalize());
    outer.finalize().into()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The request parts SigV4 signs.
pub struct SignInput<'a> {
    /// HTTP method.
    pub method: &'a str,
    /// URI path (already encoded).
    pub path: &'a str,
    /// Canonical query string (sorted, encoded), empty if none.
    pub query: &'a str,
    /// Headers to sign, lowercase names, trimmed values.
    pub headers: &'a [(&'a str, &'a str)],
    /// Hex SHA-256 of the payload.
    pub payload_hash: &'a str,
    /// `YYYYMMDDTHHMMSSZ`.
    pub amz_date: &'a str,
    /// Region.
    pub region: &'a str,
    /// Service.
    pub service: &'a str,
}

/// The canonical request (step 1 of SigV4).
pub fn canonical_request(i: &SignInput<'_>) -> String {
    let mut headers: Vec<(String, String)> = i
        .headers
        .iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    headers.sort();
    let canonical_headers: String = headers.iter().map(|(k, v)| format!("{k}:{v}\n")).collect();
    let signed: Vec<&str> = headers.iter().map(|(k, _)| k.as_str()).collect();
    format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        i.method,
        i.path,
        i.query,
        canonical_headers,
        signed.join(";"),
        i.payload_hash
    )
}

/// The `Authorization` header value for a request.
pub fn authorization(i: &SignInput<'_>, access_key: &str, secret_key: &str) -> String {
    let date = &i.amz_date[..8];
    let scope = format!("{date}/{}/{}/aws4_request", i.region, i.service);
    let creq = canonical_request(i);
    let to_sign = format!(
        "AWS4-HMAC-SHA256\n{}\n{scope}\n{}",
        i.amz_date,
        hex(&Sha256::digest(creq.as_bytes()))
    );
    let k_date = hmac_sha256(format!("AWS4{secret_key}").as_bytes(), date.as_bytes());
    let k_region = hmac_sha256(&k_date, i.region.as_bytes());
    let k_service = hmac_sha256(&k_region, i.service.as_bytes());
    let k_signing = hmac_sha256(&k_service, b"aws4_request");
    let signature = hex(&hmac_sha256(&k_signing, to_sign.as_bytes()));
    let mut names: Vec<String> = i
        .headers
        .iter()
        .map(|(k, _)| k.to_ascii_lowercase())
        .collect();
    names.sort();
    format!(
        "AWS4-HMAC-SHA256 Credential={access_key}/{scope}, SignedHeaders={}, Signature={signature}",
        names.join(";")
    )
}

/// The STS body for `GetCallerIdentity`.
pub const STS_BODY: &str = "Action=GetCallerIdentity&Version=2011-06-15";

/// Headers (besides Host) for a signed STS `GetCallerIdentity` POST to `host` at `amz_date`.
pub fn sts_headers(
    host: &str,
    amz_date: &str,
    access_key: &str,
    secret_key: &str,
) -> Vec<(String, String)> {
    form_headers(host, amz_date, "sts", STS_BODY, access_key, secret_key)
}

/// Headers (besides Host) for a signed form POST of `body` to `service` (us-east-1) at `host`
/// (the query APIs: STS, IAM).
pub fn form_headers(
    host: &str,
    amz_date: &str,
    service: &str,
    body: &str,
    access_key: &str,
    secret_key: &str,
) -> Vec<(String, String)> {
    let content_type = "application/x-www-form-urlencoded; charset=utf-8";
    let payload_hash = hex(&Sha256::digest(body.as_bytes()));
    let input = SignInput {
        method: "POST",
        path: "/",
        query: "",
        headers: &[
            ("content-type", content_type),
            ("host", host),
            ("x-amz-date", amz_date),
        ],
        payload_hash: &payload_hash,
        amz_date,
        region: "us-east-1",
        service,
    };
    vec![
        ("Content-Type".to_string(), content_type.to_string()),
        ("X-Amz-Date".to_string(), amz_date.to_string()),
        (
            "Authorization".to_string(),
            authorization(&input, access_key, secret_key),
        ),
    ]
}

/// The AWS account id an access key id (`AKIA…`, `ASIA…`) encodes, when it encodes one.
pub fn account_of_key_id(key_id: &str) -> Option<String> {
    if key_id.len() < 20 || !(key_id.starts_with("AKIA") || key_id.starts_with("ASIA")) {
        return None;
    }
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut bits: u128 = 0;
    for c in key_id[4..16].bytes() {
        let v = ALPHABET.iter().position(|&a| a == c)? as u128;
        bits = (bits << 5) | v;
    }
    // 12 base32 characters are 60 bits; the first 6 bytes (48 bits) hold the account id.
    let first48 = (bits >> 12) as u64;
    Some(format!("{:012}", (first48 & 0x7fff_ffff_ff80) >> 7))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_rfc4231_case_2() {
        let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(
            hex(&mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    /// AWS's published S3 example "GET Object" (Signature Version 4 documentation).
    #[test]
    fn aws_s3_get_object_example() {
        let empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        let i = SignInput {
            method: "GET",
            path: "/test.txt",
            query: "",
            headers: &[
                ("host", "examplebucket.s3.amazonaws.com"),
                ("range", "bytes=0-9"),
                ("x-amz-content-sha256", empty),
                ("x-amz-date", "20130524T000000Z"),
            ],
            payload_hash: empty,
            amz_date: "20130524T000000Z",
            region: "us-east-1",
            service: "s3",
        };
        assert_eq!(
            hex(&Sha256::digest(canonical_request(&i).as_bytes())),
            "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972"
        );
        let auth = authorization(
            &i,
            "AKIAIOSFODNN7EXAMPLE",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        );
        assert!(
            auth.ends_with(
                "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
            ),
            "{auth}"
        );
        assert!(auth.contains("SignedHeaders=host;range;x-amz-content-sha256;x-amz-date"));
    }

    /// The `get-vanilla` case of AWS's Signature Version 4 test suite.
    #[test]
    fn aws_test_suite_get_vanilla() {
        let empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        let i = SignInput {
            method: "GET",
            path: "/",
            query: "",
            headers: &[
                ("host", "example.amazonaws.com"),
                ("x-amz-date", "20150830T123600Z"),
            ],
            payload_hash: empty,
            amz_date: "20150830T123600Z",
            region: "us-east-1",
            service: "service",
        };
        let auth = authorization(
            &i,
            "AKIDEXAMPLE",
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        );
        assert_eq!(
            auth,
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
        );
    }

    #[test]
    fn account_ids() {
        assert_eq!(
            account_of_key_id("ASIAY34FZKBOKMUTVV7A").as_deref(),
            Some("609629065308")
        );
        assert_eq!(account_of_key_id("ghp_x"), None);
    }
}
