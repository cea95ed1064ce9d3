//! A finding: a match of a rule, with where it was found, its fingerprint and a redacted preview.

use serde::Serialize;

use crate::origin::Origin;
use crate::rules::{Confidence, Severity};

/// A CI platform or GitOps file kind (`ci::Kind`; what each one means lives in `ci::kinds`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CiKind {
    /// `.github/workflows/*.yml`.
    GithubActions,
    /// `action.yml` of a composite action.
    GithubAction,
    /// `.gitlab-ci.yml` and files it includes.
    GitlabCi,
    /// `.circleci/config.yml`.
    Circleci,
    /// `azure-pipelines.yml`.
    AzurePipelines,
    /// `bitbucket-pipelines.yml`.
    BitbucketPipelines,
    /// `.travis.yml`.
    Travis,
    /// `.drone.yml`.
    Drone,
    /// `.buildkite/pipeline.yml`.
    Buildkite,
    /// Tekton pipelines and tasks.
    Tekton,
    /// Argo Workflows.
    ArgoWorkflows,
    /// `Jenkinsfile` (declarative or scripted).
    Jenkins,
    /// Kubernetes manifests (also Helm templates).
    Kubernetes,
    /// docker-compose files.
    Compose,
    /// `.env` files.
    DotEnv,
    /// Dockerfiles.
    Dockerfile,
    /// Terraform.
    Terraform,
    /// Ansible variables.
    Ansible,
    /// A SOPS-encrypted YAML file (`sops:` metadata, `ENC[AES256_GCM,…]` values).
    Sops,
}

impl CiKind {
    /// True for CI pipelines (jobs and steps), as opposed to GitOps/config files.
    pub fn is_pipeline(self) -> bool {
        !matches!(
            self,
            CiKind::Kubernetes
                | CiKind::Compose
                | CiKind::DotEnv
                | CiKind::Dockerfile
                | CiKind::Terraform
                | CiKind::Ansible
                | CiKind::Sops
        )
    }

    /// True when the file is YAML.
    pub fn is_yaml(self) -> bool {
        !matches!(
            self,
            CiKind::Jenkins | CiKind::DotEnv | CiKind::Dockerfile | CiKind::Terraform
        )
    }

    /// Every kind (for reading a stored name back).
    pub const ALL: [CiKind; 19] = [
        CiKind::GithubActions,
        CiKind::GithubAction,
        CiKind::GitlabCi,
        CiKind::Circleci,
        CiKind::AzurePipelines,
        CiKind::BitbucketPipelines,
        CiKind::Travis,
        CiKind::Drone,
        CiKind::Buildkite,
        CiKind::Tekton,
        CiKind::ArgoWorkflows,
        CiKind::Jenkins,
        CiKind::Kubernetes,
        CiKind::Compose,
        CiKind::DotEnv,
        CiKind::Dockerfile,
        CiKind::Terraform,
        CiKind::Ansible,
        CiKind::Sops,
    ];

    /// The name reports use.
    pub fn name(self) -> &'static str {
        match self {
            CiKind::GithubActions => "github-actions",
            CiKind::GithubAction => "github-action",
            CiKind::GitlabCi => "gitlab-ci",
            CiKind::Circleci => "circleci",
            CiKind::AzurePipelines => "azure-pipelines",
            CiKind::BitbucketPipelines => "bitbucket-pipelines",
            CiKind::Travis => "travis",
            CiKind::Drone => "drone",
            CiKind::Buildkite => "buildkite",
            CiKind::Tekton => "tekton",
            CiKind::ArgoWorkflows => "argo-workflows",
            CiKind::Jenkins => "jenkins",
            CiKind::Kubernetes => "kubernetes",
            CiKind::Compose => "docker-compose",
            CiKind::DotEnv => "dotenv",
            CiKind::Dockerfile => "dockerfile",
            CiKind::Terraform => "terraform",
            CiKind::Ansible => "ansible",
            CiKind::Sops => "sops",
        }
    }
}

impl serde::Serialize for CiKind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> serde::Deserialize<'de> for CiKind {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<CiKind, D::Error> {
        let name = String::deserialize(d)?;
        CiKind::ALL
            .iter()
            .copied()
            .find(|k| k.name() == name)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown CI kind {name:?}")))
    }
}

/// Where in a CI or GitOps file a finding sits, and what it means there.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, serde::Deserialize)]
pub struct CiContext {
    /// Platform or file kind.
    pub kind: CiKind,
    /// Job (or workflow template, task) holding the line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job: Option<String>,
    /// Step holding the line (its name, label or `#N`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub step: Option<String>,
    /// Key path of the value (`jobs.deploy.env.API_TOKEN`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// What this means and what to do (plaintext Kubernetes Secret, use OIDC, leaks to logs).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// What verification concluded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The provider accepted the secret.
    Live,
    /// The provider says it is invalid or revoked.
    Dead,
    /// No conclusion (timeouts, rate limits, server errors, unexpected answers).
    Unknown,
    /// Not checked (no verifier for the rule, not allowed, canary).
    Skipped,
}

/// The outcome recorded on a finding.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Verification {
    /// Live, dead, unknown or skipped.
    pub status: Status,
    /// HTTP status of the deciding answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_status: Option<u16>,
    /// When it was checked (ISO 8601 UTC).
    pub checked_at: String,
    /// Why, for unknown and skipped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// For private keys: the public key's OpenSSH type and SHA-256 fingerprint.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_key: Option<String>,
    /// What a live secret can reach (`--blast-radius`), from read-only calls to its provider.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access: Option<Access>,
}

/// How much a live credential can do, worst first when sorted descending.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum AccessLevel {
    /// Says who it is and little else.
    IdentityOnly,
    /// Reads data.
    ReadOnly,
    /// Changes data, publishes, sends, spends.
    CanWrite,
    /// Administers the account, organisation or project (users, keys, settings).
    Admin,
}

impl AccessLevel {
    /// The name reports and `--fail-on-access` use.
    pub fn name(self) -> &'static str {
        match self {
            AccessLevel::IdentityOnly => "identity-only",
            AccessLevel::ReadOnly => "read-only",
            AccessLevel::CanWrite => "can-write",
            AccessLevel::Admin => "admin",
        }
    }

    /// Parses [`AccessLevel::name`].
    pub fn parse(name: &str) -> Option<AccessLevel> {
        [
            AccessLevel::IdentityOnly,
            AccessLevel::ReadOnly,
            AccessLevel::CanWrite,
            AccessLevel::Admin,
        ]
        .into_iter()
        .find(|l| l.name() == name)
    }
}

/// A live secret's blast radius: who it is and what it can reach, from read-only API calls.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, serde::Deserialize)]
pub struct Access {
    /// The severity of the access.
    pub level: AccessLevel,
    /// Who the credential acts as (`user octocat`, `bot U0… in team acme`, `account acct_…`).
    pub identity: String,
    /// Scopes, roles or permissions the provider reports.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub permissions: Vec<String>,
    /// What it reaches (`3 organisations: acme, …`, `42 repositories`, `admin of 2 groups`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reach: Vec<String>,
    /// API calls made to find this out.
    pub calls: u32,
    /// The level is the whole answer. False: the provider hid part of it (a permission check
    /// denied, a token type it does not report), so the secret reaches *at least* this level;
    /// `--fail-on-access` treats it as reaching any level.
    #[serde(default)]
    pub exact: bool,
}

impl Access {
    /// The level as reports print it: `admin`, or `at least read-only` when not exact.
    pub fn level_text(&self) -> String {
        if self.exact {
            self.level.name().to_string()
        } else {
            format!("at least {}", self.level.name())
        }
    }
}

/// One secret at one place.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// Stable rule id.
    pub rule_id: String,
    /// Rule name.
    pub rule_name: String,
    /// Provider of the credential.
    pub provider: String,
    /// Severity of the rule, one level lower for test and dev credentials.
    pub severity: Severity,
    /// Environment the secret belongs to.
    pub environment: crate::environment::Environment,
    /// CI/GitOps context (platform, job, step, key, risk notes).
    pub context: Option<Box<CiContext>>,
    /// Outcome of `--verify`.
    pub verification: Option<Verification>,
    /// Confidence of the rule.
    pub confidence: Confidence,
    /// Where it was found.
    pub origin: Origin,
    /// 1-based line.
    pub line: usize,
    /// 1-based column (code points).
    pub column: usize,
    /// 1-based last line of the secret.
    pub end_line: usize,
    /// The line holding the secret, with every secret on it redacted.
    pub preview: String,
    /// Keyed fingerprint of the secret.
    pub fingerprint: String,
    /// The secret; reports print it only with `--show-secrets`.
    #[serde(skip)]
    pub secret: Secret,
    /// The rule is generic (an assignment shape, not a provider's format): where one secret is
    /// found by several rules, the inventory names it by the most specific one.
    #[serde(skip)]
    pub generic: bool,
    /// Who owns the file holding it: the matching CODEOWNERS entry's owners (last match wins),
    /// when the scanned repository or directory has one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub owners: Vec<String>,
}

impl Finding {
    /// How specific the rule that found it is: provider rules above generic ones, then by
    /// confidence. One secret found by several rules is named by the most specific.
    pub fn specificity(&self) -> i64 {
        let confidence = match self.confidence {
            Confidence::Low => 0,
            Confidence::Medium => 1,
            Confidence::High => 2,
        };
        if self.generic {
            confidence
        } else {
            3 + confidence
        }
    }
}

/// A secret's value, or what an inventory kept of it when it did not keep the value.
///
/// Dereferences to the text matching and classification work on: the value, or for a
/// withheld secret its public mode prefix (`sk_live_`), which is all that decides its
/// environment. Never `Display`: printing a secret is always an explicit `plain()`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Secret {
    /// The value as found.
    Plain(String),
    /// A match an inventory remembered without its value (no `--store-secrets`): reported and
    /// recorded, never verified nor stored.
    Withheld {
        /// The public mode prefix of the value (`sk_live_`, `AKIA`), possibly empty.
        prefix: String,
    },
}

impl Secret {
    /// True when the value was withheld.
    pub fn is_withheld(&self) -> bool {
        matches!(self, Secret::Withheld { .. })
    }

    /// The value, unless withheld.
    pub fn plain(&self) -> Option<&str> {
        match self {
            Secret::Plain(s) => Some(s),
            Secret::Withheld { .. } => None,
        }
    }
}

impl std::ops::Deref for Secret {
    type Target = str;
    fn deref(&self) -> &str {
        match self {
            Secret::Plain(s) => s,
            Secret::Withheld { prefix } => prefix,
        }
    }
}

impl From<String> for Secret {
    fn from(s: String) -> Secret {
        Secret::Plain(s)
    }
}

impl From<&str> for Secret {
    fn from(s: &str) -> Secret {
        Secret::Plain(s.to_string())
    }
}

/// Redacts a secret: a short prefix (at most 4 characters, a quarter of its length) then `****`.
/// The length of the mask never depends on the secret's length.
pub fn redact(secret: &str) -> String {
    let keep = (secret.chars().count() / 4).min(4);
    let prefix: String = secret.chars().take(keep).collect();
    format!("{prefix}****")
}

/// Builds the preview of the line `line_no` (1-based) of `hay`: spans in `secrets` (byte ranges
/// of every secret in the blob) are replaced by their redacted form unless `reveal`. Long lines
/// are cut to about 160 characters around `focus`.
pub fn preview(hay: &[u8], focus: usize, secrets: &[(usize, usize)], reveal: bool) -> String {
    let line_start = memchr::memrchr(b'\n', &hay[..focus]).map_or(0, |i| i + 1);
    let line_end = memchr::memchr(b'\n', &hay[focus..]).map_or(hay.len(), |i| focus + i);
    // Only the neighbourhood of the focus is ever shown: on a long line with many secrets,
    // building each preview from the whole line made a scan quadratic (a fuzzer found 45 KB
    // that took 30 s).
    const SPAN: usize = 2048;
    let mut lo = line_start.max(focus.saturating_sub(SPAN));
    while lo < focus && (hay[lo] & 0xC0) == 0x80 {
        lo += 1;
    }
    let hi = line_end.min(focus.saturating_add(SPAN));
    let (cut_left, cut_right) = (lo > line_start, hi < line_end);
    let near: Vec<(usize, usize)> = secrets
        .iter()
        .filter(|&&(s, e)| s < hi && e > lo)
        .copied()
        .collect();
    let mut out: Vec<u8> = Vec::with_capacity(hi - lo);
    let mut focus_out = 0;
    let mut i = lo;
    while i < hi {
        if i == focus {
            focus_out = out.len();
        }
        if !reveal && let Some(&(s, e)) = near.iter().find(|&&(s, e)| s <= i && i < e) {
            let text = String::from_utf8_lossy(&hay[s..e]);
            if i == s || i == lo {
                out.extend_from_slice(redact(&text).as_bytes());
            }
            i = e.min(hi);
            continue;
        }
        out.push(hay[i]);
        i += 1;
    }
    let text = String::from_utf8_lossy(&out);
    // Other credentials on the line (a password beside the reported token, a URL's
    // userinfo) are masked too: the preview reaches SARIF, Markdown and the inventory.
    let (text, focus_out) = if reveal {
        (text.into_owned(), focus_out)
    } else {
        let before = text
            .get(..focus_out)
            .map_or(0, |b| crate::redact::other_credentials(b).len());
        let whole = crate::redact::other_credentials(&text);
        (whole, before)
    };
    let text = text.trim_end_matches('\r');
    const MAX: usize = 160;
    if text.chars().count() <= MAX {
        return format!(
            "{}{}{}",
            if cut_left { "…" } else { "" },
            text.trim(),
            if cut_right { "…" } else { "" }
        );
    }
    let focus_char = text
        .char_indices()
        .take_while(|(b, _)| *b < focus_out)
        .count();
    let start = focus_char.saturating_sub(MAX / 4);
    let cut: String = text.chars().skip(start).take(MAX).collect();
    format!(
        "{}{}…",
        if start > 0 || cut_left { "…" } else { "" },
        cut.trim()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_hides_all_secrets_on_the_line() {
        let hay = b"x\nA=ghp_abcdefghijklmnop B=supersecretvalue\ny";
        let a = 4;
        let b = hay
            .windows(16)
            .position(|w| w == b"supersecretvalue")
            .unwrap();
        let p = preview(hay, a, &[(a, a + 20), (b, b + 16)], false);
        assert_eq!(p, "A=ghp_**** B=supe****");
        assert!(!p.contains("abcdefghijkl"));
        assert_eq!(redact("hunter22"), "hu****");
    }
}
