//! Which environment a secret belongs to: `prod`, `staging`, `dev`, `test` or `unknown`, from
//! the credential itself (`sk_live_` vs `sk_test_`), then from the key that holds it and the
//! path (`deploy/prod/`, `PROD_DB_PASSWORD`, `.env.staging`). Reports show it and severity
//! follows it: a test or dev credential is one level less severe.

use serde::Serialize;

use crate::rules::Severity;

/// A deployment environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Environment {
    /// Production.
    Prod,
    /// Staging, pre-production, UAT.
    Staging,
    /// Development, local.
    Dev,
    /// Tests, CI fixtures, sandboxes.
    Test,
    /// Nothing says.
    #[default]
    Unknown,
}

impl Environment {
    /// The name reports use.
    pub fn name(self) -> &'static str {
        match self {
            Environment::Prod => "prod",
            Environment::Staging => "staging",
            Environment::Dev => "dev",
            Environment::Test => "test",
            Environment::Unknown => "unknown",
        }
    }

    /// Severity adjusted for the environment: test and dev credentials one level lower.
    pub fn adjust(self, s: Severity) -> Severity {
        match self {
            Environment::Test | Environment::Dev => match s {
                Severity::Critical => Severity::High,
                Severity::High => Severity::Medium,
                Severity::Medium => Severity::Low,
                other => other,
            },
            _ => s,
        }
    }
}

/// Key prefixes that say a live (production) credential.
const LIVE_PREFIXES: [&str; 3] = ["sk_live_", "rk_live_", "pk_live_"];
/// Key prefixes that say a test-mode credential.
const TEST_PREFIXES: [&str; 3] = ["sk_test_", "rk_test_", "pk_test_"];

/// The public part of a secret that decides its environment (a mode prefix such as
/// `sk_live_`), or "" — what an inventory may keep of a secret it does not store.
pub fn mode_prefix(secret: &str) -> &str {
    LIVE_PREFIXES
        .iter()
        .chain(&TEST_PREFIXES)
        .find(|p| secret.starts_with(**p))
        .map_or("", |p| &secret[..p.len()])
}

/// From the credential's own format: live/test modes of payment and API keys.
fn from_secret(rule_id: &str, secret: &str) -> Option<Environment> {
    let s = secret;
    let (live, test) = (LIVE_PREFIXES, TEST_PREFIXES);
    if test.iter().any(|p| s.starts_with(p))
        || rule_id.contains(".test")
        || rule_id.contains("sandbox")
    {
        return Some(Environment::Test);
    }
    if live.iter().any(|p| s.starts_with(p)) || rule_id.contains(".live") {
        return Some(Environment::Prod);
    }
    None
}

/// From words in a path or key: split on separators, the first environment word found wins.
fn from_words(text: &str) -> Option<Environment> {
    let lower = text.to_ascii_lowercase();
    let words = lower.split(|c: char| !c.is_ascii_alphanumeric());
    for w in words {
        let env = match w {
            "prod" | "production" | "prd" | "live" => Environment::Prod,
            "staging" | "stage" | "stg" | "preprod" | "uat" => Environment::Staging,
            "dev" | "develop" | "development" | "local" => Environment::Dev,
            "test" | "tests" | "testing" | "qa" | "spec" | "fixtures" | "fixture" | "sandbox"
            | "mock" | "mocks" => Environment::Test,
            _ => continue,
        };
        return Some(env);
    }
    None
}

/// Classifies a finding: the credential's format first, then the key path, then the last four
/// components of the file path (where the scanned tree itself lives says nothing).
pub fn classify(rule_id: &str, secret: &str, key: Option<&str>, path: &str) -> Environment {
    let parts: Vec<&str> = path.split(['/', '\\']).collect();
    let tail = parts[parts.len().saturating_sub(4)..].join("/");
    from_secret(rule_id, secret)
        .or_else(|| key.and_then(from_words))
        .or_else(|| from_words(&tail))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environments() {
        assert_eq!(
            classify("stripe.secret-key", "sk_live_abc", None, "x"),
            Environment::Prod
        );
        assert_eq!(
            classify("stripe.secret-key", "sk_test_abc", None, "prod/x"),
            Environment::Test
        );
        assert_eq!(
            classify("g", "abc", Some("env.PROD_DB_PASSWORD"), "a"),
            Environment::Prod
        );
        assert_eq!(
            classify("g", "abc", None, "deploy/.env.staging"),
            Environment::Staging
        );
        assert_eq!(
            classify("g", "abc", None, "src/tests/fixtures/keys.py"),
            Environment::Test
        );
        assert_eq!(
            classify("g", "abc", None, "src/app/config.py"),
            Environment::Unknown
        );
        assert_eq!(
            classify("g", "abc", None, "/home/test/repos/x/src/app/config.py"),
            Environment::Unknown
        );
        // "production" inside a longer word does not count.
        assert_eq!(
            classify("g", "abc", None, "src/reproduction.py"),
            Environment::Unknown
        );
        assert_eq!(Environment::Test.adjust(Severity::Critical), Severity::High);
        assert_eq!(Environment::Prod.adjust(Severity::High), Severity::High);
    }
}
