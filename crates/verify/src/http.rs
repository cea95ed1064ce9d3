//! The HTTP side of verification: one agent with verified TLS, a resolver that refuses
//! private, loopback, link-local and metadata addresses (unless `--allow-internal`), redirects
//! followed by hand and only within the same host, bounded time, and retries on 429 (honouring
//! `Retry-After`) and 5xx.

use std::io::Read;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{DefaultConnector, NextTimeout};

/// True for addresses a secret must never be sent to by default.
pub fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_documentation()
                || o[0] == 0
                || (o[0] == 100 && (64..128).contains(&o[1])) // carrier-grade NAT
                || (o[0] == 198 && (o[1] == 18 || o[1] == 19)) // benchmarking
                || o[0] >= 224 // multicast 224/4 and reserved 240/4
                || (o[0] == 192 && o[1] == 0 && o[2] == 0) // IETF protocol assignments
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            let embedded_v4 = |hi: u16, lo: u16| {
                let [a, b] = hi.to_be_bytes();
                let [c, d] = lo.to_be_bytes();
                is_internal(IpAddr::V4(std::net::Ipv4Addr::new(a, b, c, d)))
            };
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00 // unique local
                || (s[0] & 0xffc0) == 0xfe80 // link local
                || (s[0] & 0xffc0) == 0xfec0 // site local (deprecated, still routed in places)
                || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
                || v6.to_ipv4_mapped().is_some_and(|v4| is_internal(IpAddr::V4(v4)))
                // NAT64 (64:ff9b::/96 and the local-use 64:ff9b:1::/48): the last 32 bits are
                // the IPv4 host a NAT64 gateway connects to.
                || (s[0] == 0x64 && s[1] == 0xff9b && (s[2..6] == [0, 0, 0, 0] || s[2] == 1)
                    && embedded_v4(s[6], s[7]))
                || (s[0] == 0x64 && s[1] == 0xff9b && s[2] == 1)
                // 6to4 (2002::/16): an IPv4 address in bits 16..48.
                || (s[0] == 0x2002 && embedded_v4(s[1], s[2]))
                // IPv4-compatible (::a.b.c.d, deprecated).
                || (s[..6] == [0, 0, 0, 0, 0, 0] && embedded_v4(s[6], s[7]))
                // Teredo (2001::/32) carries an obfuscated IPv4 client: never a provider.
                || (s[0] == 0x2001 && s[1] == 0)
        }
    }
}

#[cfg(test)]
mod internal_tests {
    use super::is_internal;

    #[test]
    fn embedded_and_reserved_ranges_are_internal() {
        for a in [
            "64:ff9b::7f00:1",
            "64:ff9b::a00:1",
            "64:ff9b:1::1",
            "2002:7f00:1::1",
            "2002:c0a8:101::1",
            "::127.0.0.1",
            "::10.0.0.1",
            "fec0::1",
            "ff02::1",
            "2001::1",
            "240.0.0.1",
            "224.0.0.1",
            "255.255.255.255",
        ] {
            assert!(is_internal(a.parse().unwrap()), "{a}");
        }
        for a in [
            "8.8.8.8",
            "2606:4700::1111",
            "64:ff9b::808:808",
            "2002:808:808::1",
        ] {
            assert!(!is_internal(a.parse().unwrap()), "{a}");
        }
    }
}

/// Resolves like the default resolver, then drops internal addresses (connect-time check, so a
/// name that re-resolves to an internal address between check and connect is still refused).
#[derive(Debug)]
struct SafeResolver {
    allow_internal: bool,
}

impl Resolver for SafeResolver {
    fn resolve(
        &self,
        uri: &ureq::http::Uri,
        config: &ureq::config::Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let all = DefaultResolver::default().resolve(uri, config, timeout)?;
        if self.allow_internal {
            return Ok(all);
        }
        let mut out = self.empty();
        out.truncate(0);
        for a in all.iter().filter(|a| !is_internal(a.ip())) {
            out.push(*a);
        }
        if out.is_empty() {
            return Err(ureq::Error::Io(std::io::Error::other(
                "refused: the host resolves to an internal address",
            )));
        }
        Ok(out)
    }
}

/// A response reduced to what checks need.
#[derive(Debug, Clone)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// Content type.
    pub content_type: String,
    /// Body (at most 1 MiB).
    pub body: String,
    /// `Retry-After` in seconds, if given.
    pub retry_after: Option<u64>,
    /// `Location`, for redirects.
    pub location: Option<String>,
    /// Every response header, names in lower case (scopes and paging headers).
    pub headers: Vec<(String, String)>,
}

impl Answer {
    /// The value of response header `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A request to make.
#[derive(Debug, Clone)]
pub struct Request {
    /// Method.
    pub method: String,
    /// Full URL.
    pub url: String,
    /// Headers.
    pub headers: Vec<(String, String)>,
    /// Body, if any.
    pub body: Option<Vec<u8>>,
}

/// The verification client.
pub struct Client {
    agent: ureq::Agent,
    allow_internal: bool,
    /// Requests sent (retries and redirects included).
    pub sent: AtomicU64,
}

impl Client {
    /// A client trusting the webpki roots, or only the PEM certificates in `ca_pem` (tests).
    pub fn new(
        allow_internal: bool,
        timeout: Duration,
        ca_pem: Option<&[u8]>,
    ) -> Result<Client, String> {
        let mut tls = ureq::tls::TlsConfig::builder();
        if let Some(pem) = ca_pem {
            let mut certs = Vec::new();
            for item in ureq::tls::parse_pem(pem) {
                if let ureq::tls::PemItem::Certificate(c) =
                    item.map_err(|e| format!("CA bundle: {e}"))?
                {
                    certs.push(c);
                }
            }
            if certs.is_empty() {
                return Err("CA bundle: no certificate".to_string());
            }
            tls = tls.root_certs(ureq::tls::RootCerts::new_with_certs(&certs));
        }
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .https_only(true)
            .max_redirects(0)
            .timeout_global(Some(timeout))
            // Never through a proxy from the environment (HTTPS_PROXY, ALL_PROXY): the proxy
            // resolves the provider's name itself, so the internal-address check would not
            // apply to where the secret actually goes.
            .proxy(None)
            .user_agent(concat!("sprawl-verify/", env!("CARGO_PKG_VERSION")))
            .tls_config(tls.build())
            .build();
        Ok(Client {
            agent: ureq::Agent::with_parts(
                config,
                DefaultConnector::new(),
                SafeResolver { allow_internal },
            ),
            allow_internal,
            sent: AtomicU64::new(0),
        })
    }

    /// Refuses hosts that resolve to internal addresses (a clear reason before any connection;
    /// the resolver enforces it again at connect time).
    pub fn check_host(&self, host: &str, port: u16) -> Result<(), String> {
        if self.allow_internal {
            return Ok(());
        }
        let addrs: Vec<SocketAddr> = (host, port)
            .to_socket_addrs()
            .map_err(|e| format!("cannot resolve {host}: {e}"))?
            .collect();
        if addrs.iter().any(|a| is_internal(a.ip())) {
            return Err(format!(
                "{host} resolves to an internal address: not sent (--allow-internal lifts this)"
            ));
        }
        Ok(())
    }

    /// Sends one request (no retries, no redirects).
    pub fn send(&self, r: &Request) -> Result<Answer, String> {
        self.sent.fetch_add(1, Ordering::Relaxed);
        let uri: ureq::http::Uri = r.url.parse().map_err(|e| format!("bad URL: {e}"))?;
        let mut b = ureq::http::Request::builder()
            .method(r.method.as_str())
            .uri(uri);
        for (k, v) in &r.headers {
            b = b.header(k.as_str(), v.as_str());
        }
        let req = b
            .body(r.body.clone().unwrap_or_default())
            .map_err(|e| format!("bad request: {e}"))?;
        let mut resp = self.agent.run(req).map_err(|e| match e {
            ureq::Error::Timeout(_) => "timeout".to_string(),
            other => format!("{other}"),
        })?;
        let header = |name: &str| {
            resp.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let content_type = header("content-type").unwrap_or_default();
        let retry_after = header("retry-after").and_then(|v| v.trim().parse().ok());
        let location = header("location");
        let headers = resp
            .headers()
            .iter()
            .filter_map(|(k, v)| {
                Some((
                    k.as_str().to_ascii_lowercase(),
                    v.to_str().ok()?.to_string(),
                ))
            })
            .collect();
        let status = resp.status().as_u16();
        let mut body = String::new();
        let _ = resp
            .body_mut()
            .with_config()
            .limit(1 << 20)
            .reader()
            .read_to_string(&mut body);
        Ok(Answer {
            status,
            content_type,
            body,
            retry_after,
            location,
            headers,
        })
    }
}

/// Host and port of an `https://` URL.
pub fn host_port(url: &str) -> Option<(String, u16)> {
    let rest = url.strip_prefix("https://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let authority = authority.rsplit('@').next()?;
    if let Some(v6) = authority.strip_prefix('[') {
        let (h, p) = v6.split_once(']')?;
        let port = p
            .strip_prefix(':')
            .and_then(|p| p.parse().ok())
            .unwrap_or(443);
        return Some((h.to_string(), port));
    }
    match authority.rsplit_once(':') {
        Some((h, p)) => Some((h.to_string(), p.parse().ok()?)),
        None => Some((authority.to_string(), 443)),
    }
}

/// Waits `d`, capped so a hostile `Retry-After` cannot stall the scan.
pub fn backoff(d: Duration) {
    std::thread::sleep(d.min(Duration::from_secs(10)));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_addresses() {
        for a in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "::1",
            "fd00::1",
            "fe80::1",
            "100.64.0.1",
            "::ffff:10.0.0.1",
            "0.0.0.0",
        ] {
            assert!(is_internal(a.parse().unwrap()), "{a}");
        }
        for a in ["140.82.112.5", "2606:4700::6810:84e5", "8.8.8.8"] {
            assert!(!is_internal(a.parse().unwrap()), "{a}");
        }
    }

    #[test]
    fn hosts() {
        assert_eq!(
            host_port("https://api.github.com/user"),
            Some(("api.github.com".into(), 443))
        );
        assert_eq!(
            host_port("https://127.0.0.1:8443/x?y"),
            Some(("127.0.0.1".into(), 8443))
        );
        assert_eq!(host_port("http://x"), None);
    }
}
