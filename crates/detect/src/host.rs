//! Is a host somewhere a leaked password matters? Local and documentation hosts are not:
//! `root:root@localhost` is a developer's database, `user:pass@db.example.com` a manual page.

use std::net::IpAddr;

/// Domains reserved for documentation and testing (RFC 2606, RFC 6761) and the names manuals
/// use for "your server".
const DOC_DOMAINS: &[&str] = &[
    "example.com",
    "example.org",
    "example.net",
    "example.edu",
    "domain.com",
    "yourdomain.com",
    "mydomain.com",
    "yourcompany.com",
    "company.com",
    "host.com",
    "server.com",
    "acme.com",
];

/// Top-level names that never reach the internet: reserved (RFC 6761, RFC 2606), mDNS, and the
/// ones container platforms resolve locally.
const LOCAL_TLDS: &[&str] = &[
    "localhost",
    "local",
    "test",
    "example",
    "invalid",
    "localdomain",
    "lan",
    "home",
    "internal",
];

/// True when `host` (a name or an IP, maybe with a port) names a machine other than this one
/// that is not a documentation placeholder: a password for it is worth rotating however weak.
/// Single-label names (`db`, `postgres`, `redis`) are service names of a compose file or a
/// cluster-local alias, treated as local.
pub fn is_remote(host: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(host) else {
        return false;
    };
    let name = if let Some(rest) = text.strip_prefix('[') {
        rest.split(']').next().unwrap_or_default() // [v6]:port
    } else {
        match text.rsplit_once(':') {
            Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) && !h.contains(':') => h,
            _ => text,
        }
    };
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    if let Ok(ip) = name.parse::<IpAddr>() {
        return match ip {
            IpAddr::V4(v4) => {
                let o = v4.octets();
                !(v4.is_loopback()
                    || v4.is_unspecified()
                    || v4.is_link_local()
                    // RFC 5737 documentation ranges.
                    || (o[0] == 192 && o[1] == 0 && o[2] == 2)
                    || (o[0] == 198 && o[1] == 51 && o[2] == 100)
                    || (o[0] == 203 && o[1] == 0 && o[2] == 113))
            }
            // 2001:db8::/32 is for documentation (RFC 3849).
            IpAddr::V6(v6) => {
                let s = v6.segments();
                !(v6.is_loopback() || v6.is_unspecified() || (s[0] == 0x2001 && s[1] == 0x0db8))
            }
        };
    }
    if !name.contains('.')
        || name
            .bytes()
            .any(|b| !(b.is_ascii_alphanumeric() || b == b'.' || b == b'-' || b == b'_'))
    {
        return false; // a service alias, or a template (`${DB_HOST}`, `<host>`)
    }
    let tld = name.rsplit('.').next().unwrap_or_default();
    if LOCAL_TLDS.contains(&tld) || name == "host.docker.internal" {
        return false;
    }
    !DOC_DOMAINS
        .iter()
        .any(|d| name == *d || name.ends_with(&format!(".{d}")))
}

#[cfg(test)]
mod tests {
    use super::is_remote;

    #[test]
    fn remote_and_local_hosts() {
        for h in [
            "db.prod.nimbus-ops.io",
            "db.prod.nimbus-ops.io:5432",
            "10.20.3.14",
            "mysql-primary.shop.svc.cluster.com",
            "[2a01:4f8::5]:5432",
        ] {
            assert!(is_remote(h.as_bytes()), "{h}");
        }
        for h in [
            "localhost",
            "localhost:5432",
            "127.0.0.1",
            "0.0.0.0:3306",
            "[::1]",
            "[2001:db8::5]:5432",
            "db",
            "postgres:5432",
            "db.example.com",
            "example.org",
            "printer.local",
            "api.test",
            "192.0.2.10",
            "${DB_HOST}",
            "host.docker.internal",
        ] {
            assert!(!is_remote(h.as_bytes()), "{h}");
        }
    }
}
