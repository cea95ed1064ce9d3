//! A read-only client of the OCI distribution API: fetch manifests (by tag or digest) and
//! stream blobs. Anonymous access, HTTP Basic, and bearer tokens obtained from the realm a
//! `401` challenge names, with credentials from flags or `~/.docker/config.json`. HTTPS with
//! verified certificates; plain HTTP only with `--insecure`.

use std::io::{self, Read};
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use base64::Engine as _;
use serde_json::Value;

use super::manifest::{self, Listing, MAX_JSON, verify_digest};
use super::store::Store;

/// `Accept` for manifests: OCI and Docker v2, images and indexes.
const MANIFEST_TYPES: &str = "application/vnd.oci.image.index.v1+json, \
application/vnd.oci.image.manifest.v1+json, \
application/vnd.docker.distribution.manifest.list.v2+json, \
application/vnd.docker.distribution.manifest.v2+json";

/// How to reach registries.
#[derive(Debug, Clone, Default)]
pub struct RegistryOptions {
    /// Use plain HTTP (only for registries that have no TLS, on request).
    pub insecure: bool,
    /// User name for Basic auth or the token realm.
    pub username: Option<String>,
    /// Password or token for it.
    pub password: Option<String>,
    /// Docker's `config.json` to read credentials from (default: `$DOCKER_CONFIG` or
    /// `~/.docker/config.json`).
    pub docker_config: Option<PathBuf>,
}

/// A parsed `oci://HOST[:PORT]/REPO[:TAG|@DIGEST]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    /// Registry host (and port).
    pub host: String,
    /// Repository path.
    pub repo: String,
    /// Tag or `sha256:` digest.
    pub reference: String,
    /// The reference as given.
    pub shown: String,
}

impl ImageRef {
    /// Parses an `oci://` reference; the tag defaults to `latest`.
    pub fn parse(text: &str) -> Result<ImageRef, String> {
        let rest = text
            .strip_prefix("oci://")
            .ok_or_else(|| format!("{text}: registry images are written oci://HOST/REPO:TAG"))?;
        let (host, path) = rest
            .split_once('/')
            .ok_or_else(|| format!("{text}: no repository after the registry host"))?;
        if host.is_empty() || path.is_empty() {
            return Err(format!(
                "{text}: expected oci://HOST[:PORT]/REPO[:TAG|@DIGEST]"
            ));
        }
        let (repo, reference) = if let Some((r, d)) = path.split_once('@') {
            (r, d.to_string())
        } else {
            match path.rsplit_once(':') {
                Some((r, t)) if !t.contains('/') => (r, t.to_string()),
                _ => (path, "latest".to_string()),
            }
        };
        let valid = |s: &str| {
            !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"._-/:".contains(&b))
        };
        if !valid(repo) || !valid(&reference) || repo.contains("..") {
            return Err(format!("{text}: invalid repository or tag"));
        }
        let (host, repo) = match host {
            "docker.io" | "index.docker.io" => (
                "registry-1.docker.io".to_string(),
                if repo.contains('/') {
                    repo.to_string()
                } else {
                    format!("library/{repo}")
                },
            ),
            h => (h.to_string(), repo.to_string()),
        };
        Ok(ImageRef {
            host,
            repo,
            reference,
            shown: text.to_string(),
        })
    }
}

/// How requests are authorised once a challenge was answered.
#[derive(Debug, Clone)]
enum Auth {
    None,
    Basic(String),
    Bearer(String),
}

/// A connection to one repository of a registry.
pub struct Registry {
    agent: ureq::Agent,
    base: String,
    image: ImageRef,
    creds: Option<(String, String)>,
    auth: Mutex<Auth>,
}

impl Registry {
    /// Prepares a client for `image` (no request is made yet).
    pub fn new(image: ImageRef, opts: &RegistryOptions) -> Registry {
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .https_only(!opts.insecure)
            .timeout_connect(Some(Duration::from_secs(15)))
            .timeout_recv_response(Some(Duration::from_secs(60)))
            .user_agent(concat!("sprawl/", env!("CARGO_PKG_VERSION")))
            .build();
        let scheme = if opts.insecure { "http" } else { "https" };
        let creds = match (&opts.username, &opts.password) {
            (Some(u), Some(p)) => Some((u.clone(), p.clone())),
            _ => docker_config_creds(&image.host, opts.docker_config.as_deref()),
        };
        Registry {
            agent: config.into(),
            base: format!("{scheme}://{}", image.host),
            image,
            creds,
            auth: Mutex::new(Auth::None),
        }
    }

    /// The reference as given.
    pub fn shown(&self) -> &str {
        &self.image.shown
    }

    /// GET `/v2/<repo>/<what>`, answering one auth challenge.
    fn get(
        &self,
        what: &str,
        accept: Option<&str>,
    ) -> Result<ureq::http::Response<ureq::Body>, String> {
        let url = format!("{}/v2/{}/{what}", self.base, self.image.repo);
        let shown = &self.image.shown;
        for attempt in 0..2 {
            let mut req = self.agent.get(&url);
            if let Some(a) = accept {
                req = req.header("Accept", a);
            }
            match &*self
                .auth
                .lock()
                .map_err(|_| "auth state poisoned".to_string())?
            {
                Auth::None => {}
                Auth::Basic(h) => req = req.header("Authorization", h.as_str()),
                Auth::Bearer(t) => req = req.header("Authorization", format!("Bearer {t}")),
            }
            let resp = req
                .call()
                .map_err(|e| format!("{shown}: cannot reach registry {}: {e}", self.image.host))?;
            let status = resp.status().as_u16();
            match status {
                200..=299 => return Ok(resp),
                401 if attempt == 0 => {
                    let challenge = resp
                        .headers()
                        .get("www-authenticate")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("")
                        .to_string();
                    self.answer(&challenge)?;
                }
                401 | 403 => {
                    return Err(format!(
                        "{shown}: registry refused access ({status}){}",
                        if self.creds.is_none() {
                            "; give credentials with --registry-username and SPRAWL_REGISTRY_PASSWORD or docker login"
                        } else {
                            ""
                        }
                    ));
                }
                404 => return Err(format!("{shown}: {what} not found in the registry (404)")),
                _ => {
                    return Err(format!("{shown}: registry answered {status} for {what}"));
                }
            }
        }
        Err(format!("{shown}: registry keeps asking for authentication"))
    }

    /// Answers a `WWW-Authenticate` challenge: Basic with the credentials, or a bearer token
    /// from the realm.
    fn answer(&self, challenge: &str) -> Result<(), String> {
        let shown = &self.image.shown;
        let (scheme, params) = challenge.split_once(' ').unwrap_or((challenge, ""));
        let params = parse_challenge(params);
        let auth = if scheme.eq_ignore_ascii_case("basic") {
            let (u, p) = self.creds.as_ref().ok_or_else(|| {
                format!("{shown}: registry wants a user name and password (Basic auth)")
            })?;
            Auth::Basic(basic_header(u, p))
        } else if scheme.eq_ignore_ascii_case("bearer") {
            let realm = params
                .iter()
                .find(|(k, _)| k == "realm")
                .map(|(_, v)| v.clone())
                .ok_or_else(|| format!("{shown}: bearer challenge without a realm"))?;
            if !(realm.starts_with("https://") || realm.starts_with("http://")) {
                return Err(format!(
                    "{shown}: token realm {realm:?} is not an http(s) URL"
                ));
            }
            let mut req = self.agent.get(&realm);
            if let Some((_, service)) = params.iter().find(|(k, _)| k == "service") {
                req = req.query("service", service);
            }
            let scope = params
                .iter()
                .find(|(k, _)| k == "scope")
                .map(|(_, v)| v.clone())
                .unwrap_or_else(|| format!("repository:{}:pull", self.image.repo));
            req = req.query("scope", &scope);
            if let Some((u, p)) = &self.creds {
                req = req.header("Authorization", basic_header(u, p));
            }
            let mut resp = req
                .call()
                .map_err(|e| format!("{shown}: cannot reach token service {realm}: {e}"))?;
            let status = resp.status().as_u16();
            if status != 200 {
                return Err(format!(
                    "{shown}: token service refused ({status}){}",
                    if self.creds.is_some() {
                        ": wrong user name or password?"
                    } else {
                        ""
                    }
                ));
            }
            let body = resp
                .body_mut()
                .with_config()
                .limit(1 << 20)
                .read_to_vec()
                .map_err(|e| format!("{shown}: token response unreadable: {e}"))?;
            let v: Value = serde_json::from_slice(&body)
                .map_err(|e| format!("{shown}: token response is not JSON: {e}"))?;
            let token = v["token"]
                .as_str()
                .or_else(|| v["access_token"].as_str())
                .ok_or_else(|| format!("{shown}: token response has no token"))?;
            Auth::Bearer(token.to_string())
        } else {
            return Err(format!(
                "{shown}: registry asks for unsupported authentication {scheme:?}"
            ));
        };
        *self
            .auth
            .lock()
            .map_err(|_| "auth state poisoned".to_string())? = auth;
        Ok(())
    }

    /// Fetches a manifest by tag or digest (checked against the digest when given one).
    pub fn manifest(&self, reference: &str) -> Result<Vec<u8>, String> {
        let mut resp = self.get(&format!("manifests/{reference}"), Some(MANIFEST_TYPES))?;
        let bytes = resp
            .body_mut()
            .with_config()
            .limit(MAX_JSON)
            .read_to_vec()
            .map_err(|e| format!("{}: manifest {reference}: {e}", self.image.shown))?;
        if reference.contains(':') {
            verify_digest(
                &bytes,
                reference,
                &format!("{}: manifest {reference}", self.image.shown),
            )?;
        }
        Ok(bytes)
    }

    /// Lists the images the reference names (every platform of an index unless `platform`).
    pub fn list(&self, platform: Option<&str>) -> Result<Listing, String> {
        let top = self.manifest(&self.image.reference)?;
        manifest::list_registry(&top, &self.image.shown, platform, &mut |d| self.manifest(d))
    }
}

impl Store for Registry {
    fn open(&self, digest: &str) -> io::Result<Box<dyn Read + '_>> {
        let resp = self
            .get(&format!("blobs/{digest}"), None)
            .map_err(io::Error::other)?;
        Ok(Box::new(resp.into_body().into_reader()))
    }

    fn contains(&self, _digest: &str) -> bool {
        true
    }
}

fn basic_header(user: &str, password: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}

/// `realm="https://auth",service="reg",scope="repository:a:pull"` into pairs.
pub fn parse_challenge(s: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = s.trim();
    while !rest.is_empty() {
        let Some((key, after)) = rest.split_once('=') else {
            break;
        };
        let key = key
            .trim()
            .trim_start_matches(',')
            .trim()
            .to_ascii_lowercase();
        let (value, next) = if let Some(q) = after.strip_prefix('"') {
            match q.find('"') {
                Some(end) => (&q[..end], &q[end + 1..]),
                None => (q, ""),
            }
        } else {
            match after.find(',') {
                Some(end) => (&after[..end], &after[end..]),
                None => (after, ""),
            }
        };
        out.push((key, value.to_string()));
        rest = next.trim_start_matches([',', ' ']);
    }
    out
}

/// Credentials for `host` from Docker's `config.json` (`auths.<host>.auth`, base64 of
/// `user:password`). Credential helpers are not run.
fn docker_config_creds(host: &str, path: Option<&std::path::Path>) -> Option<(String, String)> {
    let path = match path {
        Some(p) => p.to_path_buf(),
        None => match std::env::var_os("DOCKER_CONFIG") {
            Some(d) => PathBuf::from(d).join("config.json"),
            None => PathBuf::from(std::env::var_os("HOME")?).join(".docker/config.json"),
        },
    };
    let text = sprawl_core::bounded::read_regular(&path, 16 << 20).ok()?;
    creds_from_docker_config(&text, host)
}

/// Credentials for `host` from the text of a Docker `config.json`.
pub fn creds_from_docker_config(text: &[u8], host: &str) -> Option<(String, String)> {
    let v: Value = serde_json::from_slice(text).ok()?;
    let auths = v["auths"].as_object()?;
    let hub = host == "registry-1.docker.io";
    let entry = auths.iter().find_map(|(k, e)| {
        let k = k
            .trim_start_matches("https://")
            .trim_start_matches("http://");
        let k = k.split('/').next().unwrap_or(k);
        (k == host || (hub && (k == "index.docker.io" || k == "docker.io"))).then_some(e)
    })?;
    if let Some(auth) = entry["auth"].as_str() {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(auth)
            .ok()?;
        let text = String::from_utf8(decoded).ok()?;
        let (u, p) = text.split_once(':')?;
        return Some((u.to_string(), p.to_string()));
    }
    match (entry["username"].as_str(), entry["password"].as_str()) {
        (Some(u), Some(p)) => Some((u.to_string(), p.to_string())),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references() {
        let r = ImageRef::parse("oci://127.0.0.1:5000/team/app:v1").unwrap();
        assert_eq!(
            (r.host.as_str(), r.repo.as_str(), r.reference.as_str()),
            ("127.0.0.1:5000", "team/app", "v1")
        );
        let r = ImageRef::parse("oci://localhost:5000/app").unwrap();
        assert_eq!(r.reference, "latest");
        let r = ImageRef::parse("oci://docker.io/alpine@sha256:abcd").unwrap();
        assert_eq!(
            (r.host.as_str(), r.repo.as_str(), r.reference.as_str()),
            ("registry-1.docker.io", "library/alpine", "sha256:abcd")
        );
        assert!(ImageRef::parse("oci://host").is_err());
        assert!(ImageRef::parse("oci://host/../x").is_err());
    }

    #[test]
    fn challenges() {
        let p = parse_challenge(
            r#"realm="http://127.0.0.1:1/token",service="reg",scope="repository:a/b:pull""#,
        );
        assert_eq!(p[0], ("realm".into(), "http://127.0.0.1:1/token".into()));
        assert_eq!(p[1], ("service".into(), "reg".into()));
        assert_eq!(p[2], ("scope".into(), "repository:a/b:pull".into()));
    }
}
