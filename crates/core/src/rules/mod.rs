//! The rule model: what a rule file says ([`RuleSpec`]) and the compiled form the engine runs
//! ([`Rule`]). Loading from disk and from the binary lives in [`load`].

pub mod checksum;
pub mod load;

use std::sync::OnceLock;

use regex::bytes::{Regex, RegexBuilder};
use serde::{Deserialize, Serialize};

use checksum::Checksum;

/// How sure a rule is that a match is a real credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, Hash)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    /// Mostly context-driven matches (generic assignments).
    Low,
    /// Structured but not self-identifying.
    Medium,
    /// A fixed prefix or checksum identifies the credential.
    High,
}

/// How bad a leak of the credential is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, Hash)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Public by design or harmless alone (publishable keys, DSNs).
    Info,
    /// Limited blast radius.
    Low,
    /// Needs more to exploit (an encrypted key, a test-mode key).
    Medium,
    /// Grants access to an account or service.
    High,
    /// Grants broad control (cloud root credentials, signing keys).
    Critical,
}

/// Which matcher finds candidates for a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Matcher {
    /// The rule's own `pattern` regex, run when a keyword is present.
    #[default]
    Regex,
    /// The built-in fast path for `name = "value"` assignments near a keyword
    /// (see `detect::assignment`); `pattern` is not used.
    Assignment,
}

/// A rule as written in a TOML file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    /// Stable dotted id, e.g. `github.pat.classic`.
    pub id: String,
    /// Human name.
    pub name: String,
    /// Provider that issues the credential.
    pub provider: String,
    /// What the credential grants and how to rotate it.
    #[serde(default)]
    pub description: String,
    /// Regex over bytes (Unicode off) with a named capture `secret`.
    #[serde(default)]
    pub pattern: String,
    /// Lowercase literals; the rule runs only on blobs that hold one.
    pub keywords: Vec<String>,
    /// Minimum Shannon entropy (bits/char) of the secret.
    #[serde(default)]
    pub min_entropy: Option<f64>,
    /// Name of a built-in checksum validator.
    #[serde(default)]
    pub checksum: Option<String>,
    /// Confidence of a match.
    pub confidence: Confidence,
    /// Severity of a leak.
    pub severity: Severity,
    /// Generic rules lose to provider rules on overlapping spans.
    #[serde(default)]
    pub generic: bool,
    /// Candidate matcher.
    #[serde(default)]
    pub matcher: Matcher,
    /// Documentation links.
    #[serde(default)]
    pub references: Vec<String>,
    /// Texts that must each produce a finding of this rule.
    #[serde(default)]
    pub examples: Vec<String>,
    /// Texts that must produce no finding of this rule.
    #[serde(default)]
    pub negatives: Vec<String>,
    /// Matches only feed other rules' verifiers (an account SID for its auth token) and are
    /// never reported on their own: an identifier is not a secret.
    #[serde(default)]
    pub companion_only: bool,
    /// Reports what the strong rules drop as too guessable: a short or dictionary password
    /// (`root:root@db.prod…`). Only where the pattern's `host` capture names a host that is
    /// neither local nor a documentation host; a provider rule's rejection of the same span
    /// does not silence it. Reported as its own rule, at its (lower) severity.
    #[serde(default)]
    pub weak: bool,
    /// How to ask the provider whether a secret is live (`--verify`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verify: Option<VerifySpec>,
    /// How the holder rotates and revokes the credential, shown in every rotation report.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rotation: Option<RotationSpec>,
}

/// Provider-specific rotation guidance: where to revoke, whether old and new can be valid at
/// once, and the page to do it on.
#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct RotationSpec {
    /// Where and how the holder revokes it (console path, API or CLI call), in a sentence or two.
    pub revoke: String,
    /// The console page or API endpoint where it is rotated or revoked (https).
    pub console: String,
    /// The provider lets an old and a new credential be valid at the same time, so consumers
    /// move to the new one before the old is revoked (no downtime); false when issuing a new
    /// one invalidates the old or only one can exist.
    pub dual_window: bool,
    /// The provider's documentation of rotating or revoking it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub docs: Option<String>,
}

/// A rule's verification: an HTTP request built from templates and the answers that mean live
/// or dead, or a built-in check (see rules/README.md).
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct VerifySpec {
    /// A built-in verifier instead of an HTTP template (an unknown name is a load error).
    #[serde(default)]
    pub builtin: Option<Builtin>,
    /// Request URL; its host is fixed unless `host_capture` is set.
    #[serde(default)]
    pub url: String,
    /// HTTP method (GET, POST, HEAD).
    #[serde(default)]
    pub method: Option<String>,
    /// Request headers (templated values).
    #[serde(default)]
    pub headers: std::collections::BTreeMap<String, String>,
    /// HTTP Basic user and password (templated).
    #[serde(default)]
    pub basic: Option<(String, String)>,
    /// Form body fields (templated).
    #[serde(default)]
    pub form: std::collections::BTreeMap<String, String>,
    /// Raw JSON body (templated; values JSON-escaped).
    #[serde(default)]
    pub json: Option<String>,
    /// Query parameters (templated).
    #[serde(default)]
    pub query: std::collections::BTreeMap<String, String>,
    /// Regex over the secret whose named captures become template values.
    #[serde(default)]
    pub secret_captures: Option<String>,
    /// Template name → rule id whose secret from the same file fills it.
    #[serde(default)]
    pub companions: std::collections::BTreeMap<String, String>,
    /// The capture that builds the URL's host (the host is otherwise fixed).
    #[serde(default)]
    pub host_capture: Option<String>,
    /// Requests per second to this provider.
    #[serde(default)]
    pub rps: Option<f64>,
    /// Answers meaning live.
    #[serde(default)]
    pub live: Option<VerifyCheck>,
    /// Answers meaning dead (revoked, invalid).
    #[serde(default)]
    pub dead: Option<VerifyCheck>,
}

/// The verifiers sprawl implements itself rather than from an HTTP template.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Builtin {
    /// AWS access keys: a signed `sts:GetCallerIdentity`.
    AwsSts,
    /// GCP service-account keys: a signed JWT exchanged at Google's token endpoint.
    GcpServiceAccount,
    /// Private keys: parsed offline (usable or not), never sent anywhere.
    PrivateKey,
}

impl Builtin {
    /// The name rule files use.
    pub fn name(self) -> &'static str {
        match self {
            Builtin::AwsSts => "aws-sts",
            Builtin::GcpServiceAccount => "gcp-service-account",
            Builtin::PrivateKey => "private-key",
        }
    }
}

impl RotationSpec {
    /// Checks the guidance: something to do, and https links (reports make them clickable).
    pub fn validate(&self) -> Result<(), String> {
        if self.revoke.trim().is_empty() {
            return Err("revoke must say where and how to revoke".into());
        }
        for (name, url) in [
            ("console", Some(&self.console)),
            ("docs", self.docs.as_ref()),
        ] {
            if let Some(u) = url
                && (!u.starts_with("https://")
                    || u.len() <= "https://".len()
                    || u.contains(char::is_whitespace))
            {
                return Err(format!("{name} {u:?} must be an https:// URL"));
            }
        }
        Ok(())
    }
}

impl VerifySpec {
    /// Checks the rule's verifier: https URL, a fixed host unless `host_capture`, every
    /// template name defined, a live condition (a built-in needs none of these).
    pub fn validate(&self) -> Result<(), String> {
        if self.builtin.is_some() {
            return Ok(());
        }
        let rest = self
            .url
            .strip_prefix("https://")
            .ok_or_else(|| format!("url {:?} must start with https://", self.url))?;
        let host = &rest[..rest.find(['/', '?']).unwrap_or(rest.len())];
        if host.contains("{{") && self.host_capture.is_none() {
            return Err("the URL host must be fixed text (or declare host_capture)".into());
        }
        let mut names: Vec<String> = vec!["secret".into()];
        if let Some(p) = &self.secret_captures {
            let re = regex::Regex::new(p).map_err(|e| format!("secret_captures: {e}"))?;
            names.extend(re.capture_names().flatten().map(str::to_string));
        }
        names.extend(self.companions.keys().cloned());
        let mut texts: Vec<&str> = vec![self.url.as_str()];
        texts.extend(self.headers.values().map(String::as_str));
        texts.extend(self.form.values().map(String::as_str));
        texts.extend(self.query.values().map(String::as_str));
        if let Some((u, p)) = &self.basic {
            texts.push(u);
            texts.push(p);
        }
        if let Some(j) = &self.json {
            texts.push(j);
        }
        for t in texts {
            let mut rest = t;
            while let Some(i) = rest.find("{{") {
                let after = &rest[i + 2..];
                let end = after.find("}}").ok_or("unclosed {{")?;
                let name = after[..end].trim();
                if !names.iter().any(|n| n == name) {
                    return Err(format!("template uses undefined {{{{{name}}}}}"));
                }
                rest = &after[end + 2..];
            }
        }
        if self.live.is_none() {
            return Err("needs a `live` condition".into());
        }
        if let Some(m) = &self.method
            && !matches!(m.as_str(), "GET" | "POST" | "HEAD")
        {
            return Err(format!("method {m} is not allowed (GET, POST, HEAD)"));
        }
        Ok(())
    }
}

/// Conditions on a response; all given ones must hold.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct VerifyCheck {
    /// Accepted HTTP status codes.
    #[serde(default)]
    pub status: Vec<u16>,
    /// JSON fields (dotted paths) and the values they must equal.
    #[serde(default)]
    pub json: std::collections::BTreeMap<String, toml::Value>,
    /// Strings the body must contain.
    #[serde(default)]
    pub body: Vec<String>,
}

/// A rule compiled for the engine.
#[derive(Debug, Clone)]
pub struct Rule {
    /// The rule as written.
    pub spec: RuleSpec,
    /// Where the rule came from (file name), for error messages.
    pub source: String,
    /// The pattern as the engine runs it (boundaries widened); empty for the assignment matcher.
    pub pattern: String,
    /// Compiled on first use: most scans wake only a few rules, and compiling all of them up
    /// front cost ~0.2 s of every run, a pre-commit hook's whole budget.
    compiled: OnceLock<Result<Regex, String>>,
    /// Index of the `secret` capture group.
    pub secret_group: usize,
    /// Index of the `host` capture group, when the pattern names the host the secret is for.
    pub host_group: Option<usize>,
    /// The longest match the pattern can make, when that is at most [`MAX_WINDOWED_MATCH`]:
    /// such a rule is searched only around its keyword hits, not over the whole blob.
    pub window: Option<usize>,
    /// Compiled checksum validator.
    pub checksum: Option<Checksum>,
    /// Loaded from a user's rule file or config rather than compiled into sprawl: compiled
    /// under a tighter size limit and run under a time budget ([`USER_RULE_BUDGET`]).
    pub user: bool,
    /// Set when a user rule blew its time budget: the message, and the rule no longer runs.
    pub exhausted: OnceLock<String>,
}

/// Rules whose matches are at most this long are searched in windows around their keyword
/// hits. With hundreds of rules a blob wakes many of them, and a pattern whose leading boundary
/// was widened has no literal prefix for the regex engine to skip ahead with: a full pass per
/// woken rule cost more than everything else together.
pub const MAX_WINDOWED_MATCH: usize = 4096;

/// Compiled-size limit of built-in patterns (the largest, a PGP key block, needs under 4 MiB).
pub const BUILTIN_REGEX_SIZE: usize = 32 << 20;

/// Compiled-size limit of user patterns: twice what any built-in rule needs. A pattern such
/// as `(?:\w{1,300}){1,300}` compiles to tens of MiB and then runs for minutes per blob.
pub const USER_REGEX_SIZE: usize = 8 << 20;

/// Most time one search of a user rule may take on one blob window; a rule that takes longer
/// is reported and stops running for the rest of the scan.
pub const USER_RULE_BUDGET: std::time::Duration = std::time::Duration::from_secs(2);

/// Why a rule could not be compiled.
#[derive(Debug, thiserror::Error)]
pub enum RuleError {
    /// The regex does not compile.
    #[error("{source_name}: rule `{id}`: pattern does not compile: {message}")]
    Pattern {
        /// File the rule came from.
        source_name: String,
        /// Rule id.
        id: String,
        /// Compiler message.
        message: String,
    },
    /// Any other problem with a rule's fields.
    #[error("{source_name}: rule `{id}`: {message}")]
    Invalid {
        /// File the rule came from.
        source_name: String,
        /// Rule id.
        id: String,
        /// What is wrong.
        message: String,
    },
}

/// Text that ends a token in escaped or encoded contexts: `\n`, `\r`, `\t` escapes (JSON,
/// notebooks, logs) and `%XX` URL escapes (`?next=%3Dghp_...`).
const ESCAPE_BOUNDARY: &str = r"\\[nrt]|%[0-9A-Fa-f]{2}";

/// Widens the boundary a rule puts before its secret so a token right after an escape is still
/// found: `\b(?P<secret>` and `(?:^|[^...])(?P<secret>` also accept [`ESCAPE_BOUNDARY`].
/// Rule authors write the plain form; the engine applies this to every rule.
pub fn widen_leading_boundary(pattern: &str) -> String {
    static CLASS_FORM: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"\(\?:\^\|(\[\^(?:\\.|[^\]\\])*\])\)\(\?P<secret>")
            .expect("static regex")
    });
    let out = pattern.replace(
        r"\b(?P<secret>",
        &format!(r"(?:\b|{ESCAPE_BOUNDARY})(?P<secret>"),
    );
    CLASS_FORM
        .replace_all(&out, |c: &regex::Captures<'_>| {
            format!("(?:^|{}|{ESCAPE_BOUNDARY})(?P<secret>", &c[1])
        })
        .into_owned()
}

impl Rule {
    /// Validates and compiles one rule spec; `source` names its file in errors.
    pub fn compile(spec: RuleSpec, source: &str) -> Result<Rule, RuleError> {
        Rule::build(spec, source, false)
    }

    /// Validates a user's rule spec: its pattern is kept as written (never capped or windowed)
    /// and checked against the user size limit now, from the parse already made; the regex is
    /// compiled on first use.
    pub fn compile_user(spec: RuleSpec, source: &str) -> Result<Rule, RuleError> {
        Rule::build(spec, source, true)
    }

    fn build(spec: RuleSpec, source: &str, user: bool) -> Result<Rule, RuleError> {
        let invalid = |message: String| RuleError::Invalid {
            source_name: source.to_string(),
            id: spec.id.clone(),
            message,
        };
        if spec.id.is_empty()
            || !spec
                .id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
        {
            return Err(invalid("id must be non-empty lowercase [a-z0-9._-]".into()));
        }
        if spec.keywords.is_empty() {
            return Err(invalid("needs at least one keyword".into()));
        }
        if let Some(k) = spec.keywords.iter().find(|k| k.len() < 3) {
            return Err(invalid(format!(
                "keyword {k:?} is shorter than 3 characters"
            )));
        }
        if let Some(e) = spec.min_entropy
            && !(0.0..=8.0).contains(&e)
        {
            return Err(invalid(format!("min_entropy {e} is outside 0..8")));
        }
        if let Some(v) = &spec.verify {
            v.validate().map_err(|m| invalid(format!("verify: {m}")))?;
        }
        if let Some(r) = &spec.rotation {
            r.validate()
                .map_err(|m| invalid(format!("rotation: {m}")))?;
        }
        let checksum = match &spec.checksum {
            None => None,
            Some(name) => Some(Checksum::by_name(name).ok_or_else(|| {
                invalid(format!(
                    "unknown checksum {name:?} (known: {})",
                    Checksum::NAMES.join(", ")
                ))
            })?),
        };
        let (regex, secret_group, host_group, window) = match spec.matcher {
            Matcher::Assignment => (String::new(), 0, None, None),
            Matcher::Regex => {
                if spec.pattern.is_empty() {
                    return Err(invalid("pattern is empty".into()));
                }
                let pattern = widen_leading_boundary(&spec.pattern);
                // Parse now (cheap) so a broken pattern is reported at load; compile later.
                let hir = regex_syntax::ParserBuilder::new()
                    .unicode(false)
                    .utf8(false)
                    .build()
                    .parse(&pattern)
                    .map_err(|e| RuleError::Pattern {
                        source_name: source.to_string(),
                        id: spec.id.clone(),
                        message: e.to_string(),
                    })?;
                let group = capture_index(&hir, "secret")
                    .ok_or_else(|| invalid("pattern has no named capture `secret`".into()))?;
                let host = capture_index(&hir, "host");
                if spec.weak && host.is_none() {
                    return Err(invalid(
                        "a `weak` rule needs a named capture `host` (the host the password is for)"
                            .into(),
                    ));
                }
                if user {
                    nfa_size_check(&hir, USER_REGEX_SIZE).map_err(|e| RuleError::Pattern {
                        source_name: source.to_string(),
                        id: spec.id.clone(),
                        message: format!(
                            "{e} (a user rule's compiled size limit is {} MiB)",
                            USER_REGEX_SIZE >> 20
                        ),
                    })?;
                    (pattern, group, host, None)
                } else {
                    // `\s*` between a key and its value makes a pattern unbounded, and an unbounded
                    // pattern runs over the whole blob. Bounded at REPEAT_CAP, every real match is
                    // the same and most patterns fit a window around their keyword. Repetitions
                    // inside captures (the secret) are never capped: a long secret stays whole.
                    let capped = cap_repetitions(&hir, REPEAT_CAP);
                    match capped.properties().maximum_len() {
                        Some(n) if n <= MAX_WINDOWED_MATCH => {
                            let text = if hir.properties().maximum_len().is_some() {
                                pattern
                            } else {
                                capped.to_string()
                            };
                            (text, group, host, Some(n))
                        }
                        _ => (pattern, group, host, None),
                    }
                }
            }
        };
        Ok(Rule {
            spec,
            source: source.to_string(),
            pattern: regex,
            compiled: OnceLock::new(),
            secret_group,
            host_group,
            window,
            checksum,
            user,
            exhausted: OnceLock::new(),
        })
    }

    /// The compiled pattern, compiled on first call; `None` for the assignment matcher or when
    /// the pattern is too big to compile (see [`Rule::compile_error`]).
    pub fn regex(&self) -> Option<&Regex> {
        if self.pattern.is_empty() {
            return None;
        }
        self.compiled
            .get_or_init(|| {
                RegexBuilder::new(&self.pattern)
                    .unicode(false)
                    .size_limit(if self.user {
                        USER_REGEX_SIZE
                    } else {
                        BUILTIN_REGEX_SIZE
                    })
                    .build()
                    .map_err(|e| e.to_string())
            })
            .as_ref()
            .ok()
    }

    /// Compiles the pattern now and returns the compiler's complaint, if any.
    /// Compiles the pattern now and says why it does not compile, if it does not.
    pub fn compile_error(&self) -> Option<String> {
        self.regex();
        match self.compiled.get() {
            Some(Err(e)) => Some(format!(
                "{}: rule `{}`: pattern does not compile: {e}",
                self.source, self.spec.id
            )),
            _ => None,
        }
    }
}

/// Builds only the Thompson NFA of `hir` under `limit` (what a regex's size limit applies to):
/// a tenth of a full compile, so a file of thousands of user rules loads fast and is still
/// checked whole.
fn nfa_size_check(hir: &regex_syntax::hir::Hir, limit: usize) -> Result<(), String> {
    regex_automata::nfa::thompson::Compiler::new()
        .configure(
            regex_automata::nfa::thompson::Config::new()
                .utf8(false)
                .nfa_size_limit(Some(limit)),
        )
        .build_from_hir(hir)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// Longest run an unbounded repetition (`*`, `+`, `{n,}`) of a built-in pattern may match once
/// capped for windowed search: more than any gap between a key and its value.
const REPEAT_CAP: u32 = 64;

/// `hir` with every unbounded repetition `{n,}` turned into `{n,n+cap}`.
fn cap_repetitions(hir: &regex_syntax::hir::Hir, cap: u32) -> regex_syntax::hir::Hir {
    use regex_syntax::hir::{Hir, HirKind, Repetition};
    match hir.kind() {
        HirKind::Repetition(r) => Hir::repetition(Repetition {
            min: r.min,
            max: Some(r.max.unwrap_or(r.min.saturating_add(cap))),
            greedy: r.greedy,
            sub: Box::new(cap_repetitions(&r.sub, cap)),
        }),
        HirKind::Capture(_) => hir.clone(),
        HirKind::Concat(hs) => Hir::concat(hs.iter().map(|h| cap_repetitions(h, cap)).collect()),
        HirKind::Alternation(hs) => {
            Hir::alternation(hs.iter().map(|h| cap_repetitions(h, cap)).collect())
        }
        _ => hir.clone(),
    }
}

/// Index of the capture group called `name` (0 is the whole match).
fn capture_index(hir: &regex_syntax::hir::Hir, name: &str) -> Option<usize> {
    use regex_syntax::hir::HirKind;
    match hir.kind() {
        HirKind::Capture(c) => {
            if c.name.as_deref() == Some(name) {
                Some(c.index as usize)
            } else {
                capture_index(&c.sub, name)
            }
        }
        HirKind::Concat(hs) | HirKind::Alternation(hs) => {
            hs.iter().find_map(|h| capture_index(h, name))
        }
        HirKind::Repetition(r) => capture_index(&r.sub, name),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::{Builtin, VerifySpec, widen_leading_boundary};

    #[test]
    fn built_in_verifiers_are_a_closed_set() {
        let spec: VerifySpec = toml::from_str("builtin = 'aws-sts'").unwrap();
        assert_eq!(spec.builtin, Some(Builtin::AwsSts));
        assert_eq!(Builtin::GcpServiceAccount.name(), "gcp-service-account");
        let err = toml::from_str::<VerifySpec>("builtin = 'aws-sts-v2'").unwrap_err();
        assert!(err.to_string().contains("unknown variant"), "{err}");
    }

    #[test]
    fn widens_both_boundary_forms() {
        assert_eq!(
            widen_leading_boundary(r"\b(?P<secret>ghp_[0-9A-Za-z]{36})\b"),
            r"(?:\b|\\[nrt]|%[0-9A-Fa-f]{2})(?P<secret>ghp_[0-9A-Za-z]{36})\b"
        );
        assert_eq!(
            widen_leading_boundary(r"(?:^|[^A-Za-z0-9+/])(?P<secret>x)"),
            r"(?:^|[^A-Za-z0-9+/]|\\[nrt]|%[0-9A-Fa-f]{2})(?P<secret>x)"
        );
    }
}
