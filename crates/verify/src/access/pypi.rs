//! PyPI and TestPyPI: an API token is a macaroon (`pypi-` + base64url of its binary V2
//! serialisation) whose caveats say what it may upload to. PyPI has no API that describes a
//! token, so the caveats are read offline: no call beyond the verification probe. Every live
//! upload token can publish releases (write); the caveats narrow *where*: every project of the
//! account, named projects, a trusted publisher, an expiry.
//!
//! Caveats come in two shapes: the JSON objects of the first tokens
//! (`{"version": 1, "permissions": "user"}`, `{"permissions": {"projects": [...]}}`,
//! `{"nbf": …, "exp": …}`) and the tagged arrays PyPI writes today (`[0, exp, nbf]` expiry,
//! `[1, [names]]` project names, `[2, [ids]]` project ids, `[3, user_id]` the owning user,
//! `[4, publisher_id, …]` a trusted publisher). A caveat sprawl does not know is listed as such:
//! caveats only narrow a token, so "can write" stays the exact ceiling.

use base64::Engine as _;
use serde_json::Value;
use sprawl_core::finding::AccessLevel;
use sprawl_core::time::iso8601;

use super::{Found, counted, strings};

/// A macaroon's location, identifier and first-party caveats (the signature is not read).
#[derive(Debug, PartialEq)]
struct Macaroon {
    location: String,
    identifier: String,
    caveats: Vec<String>,
}

/// Field types of the V2 binary format (libmacaroons): end of section, location, identifier,
/// verification id (third-party caveats), signature.
const EOS: u64 = 0;
const LOCATION: u64 = 1;
const IDENTIFIER: u64 = 2;
const VID: u64 = 4;
const SIGNATURE: u64 = 6;

/// Reads the V2 binary serialisation; `Err` names what is malformed.
fn parse(bytes: &[u8]) -> Result<Macaroon, String> {
    let mut r = Reader { bytes, at: 0 };
    if r.byte()? != 2 {
        return Err("not a version 2 macaroon".into());
    }
    let mut location = String::new();
    let mut identifier = None;
    loop {
        match r.varint()? {
            EOS => break,
            LOCATION => location = r.text()?,
            IDENTIFIER => identifier = Some(r.text()?),
            t => return Err(format!("unexpected field {t} in the header")),
        }
    }
    let identifier = identifier.ok_or("no identifier")?;
    let mut caveats = Vec::new();
    loop {
        // Each caveat is a section of fields; an empty section ends the list.
        let mut id = None;
        let mut fields = 0;
        loop {
            let t = r.varint()?;
            if t == EOS {
                break;
            }
            fields += 1;
            let data = r.field()?;
            match t {
                IDENTIFIER => id = Some(String::from_utf8_lossy(data).into_owned()),
                LOCATION | VID => {}
                t => return Err(format!("unexpected field {t} in a caveat")),
            }
        }
        if fields == 0 {
            break;
        }
        caveats.push(id.ok_or("a caveat without an identifier")?);
    }
    if r.varint()? != SIGNATURE || r.field()?.len() != 32 {
        return Err("no 32-byte signature".into());
    }
    Ok(Macaroon {
        location,
        identifier,
        caveats,
    })
}

/// A cursor over the serialisation, every read bounds-checked.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn byte(&mut self) -> Result<u8, String> {
        let b = *self.bytes.get(self.at).ok_or("truncated")?;
        self.at += 1;
        Ok(b)
    }

    fn varint(&mut self) -> Result<u64, String> {
        let mut v = 0u64;
        for shift in (0..63).step_by(7) {
            let b = self.byte()?;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err("varint too long".into())
    }

    fn field(&mut self) -> Result<&[u8], String> {
        let len = usize::try_from(self.varint()?).map_err(|_| "field too long")?;
        let end = self.at.checked_add(len).ok_or("field too long")?;
        let data = self.bytes.get(self.at..end).ok_or("truncated field")?;
        self.at = end;
        Ok(data)
    }

    fn text(&mut self) -> Result<String, String> {
        Ok(String::from_utf8_lossy(self.field()?).into_owned())
    }
}

/// What the caveats allow, gathered.
#[derive(Debug, Default, PartialEq)]
struct Scope {
    /// Project names the token is limited to (`None`: not limited by name; an empty list
    /// allows no project).
    projects: Option<Vec<String>>,
    /// Project ids it is limited to.
    project_ids: usize,
    /// The user the token belongs to.
    user: Option<String>,
    /// A trusted publisher's short-lived token.
    publisher: Option<String>,
    /// Expiry (Unix seconds).
    expires: Option<i64>,
    /// Caveats not understood.
    unknown: usize,
}

fn read_caveats(caveats: &[String]) -> Scope {
    let mut s = Scope::default();
    for c in caveats {
        let Ok(v) = serde_json::from_str::<Value>(c) else {
            s.unknown += 1;
            continue;
        };
        match &v {
            Value::Array(a) => match a.first().and_then(Value::as_u64) {
                Some(0) => s.expires = a.get(1).and_then(Value::as_i64),
                Some(1) => s
                    .projects
                    .get_or_insert_with(Vec::new)
                    .extend(a.get(1).map(strings).unwrap_or_default()),
                Some(2) => s.project_ids += a.get(1).map(|x| strings(x).len()).unwrap_or(0),
                Some(3) => s.user = a.get(1).and_then(Value::as_str).map(str::to_string),
                Some(4) => {
                    s.publisher = Some(a.get(1).and_then(Value::as_str).unwrap_or("?").to_string());
                }
                _ => s.unknown += 1,
            },
            Value::Object(o) => {
                if let Some(exp) = o.get("exp").and_then(Value::as_i64) {
                    s.expires = Some(exp);
                } else if let Some(p) = o.get("permissions") {
                    if p.as_str() != Some("user") {
                        match p.get("projects") {
                            Some(list) => s
                                .projects
                                .get_or_insert_with(Vec::new)
                                .extend(strings(list)),
                            None => s.unknown += 1,
                        }
                    }
                } else if let Some(ids) = o.get("project_ids") {
                    s.project_ids += strings(ids).len();
                } else {
                    s.unknown += 1;
                }
            }
            _ => s.unknown += 1,
        }
    }
    s
}

/// The blast radius of a live PyPI or TestPyPI upload token, from its caveats.
pub(crate) fn analyse(token: &str) -> Result<Found, String> {
    let encoded = token.strip_prefix("pypi-").ok_or("not a pypi- token")?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(encoded.trim_end_matches('='))
        .map_err(|e| format!("not base64url: {e}"))?;
    let m = parse(&bytes)?;
    let scope = read_caveats(&m.caveats);
    let index = if m.location.is_empty() {
        "pypi.org".to_string()
    } else {
        m.location.clone()
    };
    // The identifier is the token's database id on PyPI, not secret; its first part is
    // enough to find it on the account's token page.
    let short_id: String = m.identifier.chars().take(8).collect();
    let identity = match (&scope.publisher, &scope.user) {
        (Some(p), _) => format!("trusted-publisher token on {index} (publisher {p})"),
        (None, Some(u)) => format!("API token {short_id}… on {index} (user {u})"),
        (None, None) => format!("API token {short_id}… on {index}"),
    };
    let mut permissions = vec!["upload releases (new versions and files)".to_string()];
    let mut reach = Vec::new();
    if let Some(projects) = &scope.projects {
        if projects.is_empty() {
            permissions.push("limited to an empty project list: it can upload nowhere".into());
        } else {
            permissions.push(format!("limited to projects: {}", projects.join(", ")));
            reach.push(counted(projects.len(), "projects", projects));
        }
    } else if scope.project_ids > 0 {
        permissions.push(format!("limited to {} project id(s)", scope.project_ids));
        reach.push(format!("{} projects", scope.project_ids));
    } else if scope.publisher.is_some() {
        reach.push("the projects that trust this publisher".into());
    } else {
        permissions.push("every project of the account (user-scoped token)".into());
        reach.push(format!(
            "every project the account owns or maintains on {index}"
        ));
    }
    if let Some(exp) = scope.expires {
        permissions.push(format!("expires {}", iso8601(exp)));
    } else {
        permissions.push("no expiry".into());
    }
    if scope.unknown > 0 {
        permissions.push(format!(
            "{} caveat(s) sprawl does not read (they can only narrow it)",
            scope.unknown
        ));
    }
    let nowhere = scope.projects.as_ref().is_some_and(Vec::is_empty);
    Ok(Found {
        level: if nowhere {
            AccessLevel::IdentityOnly
        } else {
            AccessLevel::CanWrite
        },
        identity,
        permissions,
        reach,
        // Uploading is an upload token's only power and caveats only narrow it: the level is
        // a ceiling the token can reach, not a floor.
        exact: true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A V2 macaroon with these caveats and a zero signature (a fake: never valid).
    fn macaroon(location: &str, id: &str, caveats: &[&str]) -> String {
        fn field(out: &mut Vec<u8>, t: u8, data: &[u8]) {
            out.push(t);
            let mut n = data.len();
            loop {
                let b = (n & 0x7f) as u8;
                n >>= 7;
                if n == 0 {
                    out.push(b);
                    break;
                }
                out.push(b | 0x80);
            }
            out.extend_from_slice(data);
        }
        let mut b = vec![2u8];
        field(&mut b, 1, location.as_bytes());
        field(&mut b, 2, id.as_bytes());
        b.push(0);
        for c in caveats {
            field(&mut b, 2, c.as_bytes());
            b.push(0);
        }
        b.push(0);
        field(&mut b, 6, &[7u8; 32]);
        format!(
            "pypi-{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
        )
    }

    #[test]
    fn the_rule_examples_decode() {
        // The first example of rules/pypi.toml: a legacy project-scoped token.
        let t = "pypi-AgEIcHlwaS5vcmcCJDI5NmQ0OGQ2LTlhNzYtNGI5MS04MDEyLWEzYzg1MGY3NmY1YwACO3sidmVyc2lvbiI6IDEsICJwZXJtaXNzaW9ucyI6IHsicHJvamVjdHMiOiBbImFjbWUtdXRpbHMiXX19AAAGINlbL5kvzobJHBs55Ud7G7rdUpUONJ0d2_ksVdWODReh";
        let f = analyse(t).unwrap();
        assert_eq!(f.level, AccessLevel::CanWrite);
        assert_eq!(f.identity, "API token 296d48d6… on pypi.org");
        assert_eq!(f.reach, ["1 projects: acme-utils"]);
        assert!(f.exact);
    }

    #[test]
    fn user_scoped_project_scoped_and_expiring_tokens() {
        let user = macaroon(
            "pypi.org",
            "0b7e0c1a-0000-4000-8000-000000000001",
            &[r#"[3, "5f1e2d3c-0000-4000-8000-00000000000a"]"#],
        );
        let f = analyse(&user).unwrap();
        assert!(f.identity.contains("(user 5f1e2d3c-"), "{}", f.identity);
        assert!(f.permissions.iter().any(|p| p.contains("every project")));
        assert!(f.permissions.iter().any(|p| p == "no expiry"));

        let scoped = macaroon(
            "test.pypi.org",
            "0b7e0c1a-0000-4000-8000-000000000002",
            &[
                r#"[1, ["acme-utils", "acme-cli"]]"#,
                r#"[2, ["11111111-2222-4333-8444-555555555555", "21111111-2222-4333-8444-555555555555"]]"#,
                "[0, 1798761600, 1767225600]",
            ],
        );
        let f = analyse(&scoped).unwrap();
        assert!(f.identity.ends_with("on test.pypi.org"));
        assert_eq!(f.reach, ["2 projects: acme-utils, acme-cli"]);
        assert!(
            f.permissions
                .iter()
                .any(|p| p.starts_with("expires 2027-01-01")),
            "{:?}",
            f.permissions
        );

        let publisher = macaroon(
            "pypi.org",
            "0b7e0c1a-0000-4000-8000-000000000003",
            &[r#"[4, "9a8b7c6d-0000-4000-8000-000000000000", "run-1234"]"#],
        );
        assert!(
            analyse(&publisher)
                .unwrap()
                .identity
                .starts_with("trusted-publisher token")
        );

        let odd = macaroon("pypi.org", "x", &[r#"[9, "future"]"#, "not json"]);
        let f = analyse(&odd).unwrap();
        assert!(f.exact, "caveats only narrow: can-write is a ceiling");
        let nowhere = macaroon("pypi.org", "y", &["[1, []]"]);
        assert_eq!(analyse(&nowhere).unwrap().level, AccessLevel::IdentityOnly);
        assert!(f.permissions.iter().any(|p| p.contains("2 caveat(s)")));
    }

    #[test]
    fn malformed_tokens_are_errors_not_panics() {
        for bad in [
            "pypi-",
            "pypi-AgEIcHlwaS5vcmc",
            "pypi-AgEIcHlwaS5vcmcC",
            "pypi-!!!!",
            "pypi-AQ",
            "pypi-Av____________8",
        ] {
            assert!(analyse(bad).is_err(), "{bad}");
        }
        let good = macaroon("pypi.org", "id", &["[3, \"u\"]"]);
        for cut in 5..good.len() - 1 {
            let _ = analyse(&good[..cut]);
        }
    }
}
