//! The repository config file, `.sprawl.toml`: excludes, disabled rules, extra rules and
//! allowlists that travel with the code.
//!
//! ```toml
//! [scan]
//! exclude = ["vendor/**", "*.min.js"]
//! [rules]
//! disable = ["generic.password"]
//! paths = ["ci/sprawl-rules"]          # relative to the config file
//! [allow]
//! fingerprints = ["3f0c..."]           # secrets reviewed and accepted
//! secrets = ['^sk_test_']              # regexes over the secret
//! [[rule]]                             # extra rules, same schema as rules/*.toml
//! ```

use std::path::{Path, PathBuf};

use serde::Deserialize;

/// The parsed config file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// `[scan]`.
    #[serde(default)]
    pub scan: ScanSection,
    /// `[rules]`.
    #[serde(default)]
    pub rules: RulesSection,
    /// `[allow]`.
    #[serde(default)]
    pub allow: AllowSection,
    /// Extra rules, kept as TOML values so a bad one is reported with its id.
    #[serde(default)]
    pub rule: Vec<toml::Value>,
    /// Directory of the config file, for relative paths.
    #[serde(skip)]
    pub base_dir: PathBuf,
    /// File the config came from, for messages.
    #[serde(skip)]
    pub source: String,
    /// Given by the user (`--config`) rather than found inside a scanned directory: only then
    /// may its rules replace built-in ones and define verification requests.
    #[serde(skip)]
    pub trusted: bool,
}

/// `[scan]` settings.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScanSection {
    /// Globs of paths to skip.
    #[serde(default)]
    pub exclude: Vec<String>,
}

/// `[rules]` settings.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RulesSection {
    /// Rule ids to turn off.
    #[serde(default)]
    pub disable: Vec<String>,
    /// Extra rule directories or files.
    #[serde(default)]
    pub paths: Vec<PathBuf>,
}

/// `[allow]` settings.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AllowSection {
    /// Fingerprints of accepted secrets.
    #[serde(default)]
    pub fingerprints: Vec<String>,
    /// Regexes; a secret matching one is not reported.
    #[serde(default)]
    pub secrets: Vec<String>,
}

/// Name of the config file looked for in a scanned directory.
pub const FILE_NAME: &str = ".sprawl.toml";

impl Config {
    /// Reads and parses a config file.
    pub fn load(path: &Path) -> Result<Config, String> {
        let text = crate::bounded::read_regular_text(path, crate::bounded::MAX_CONFIG_BYTES)
            .map_err(|e| format!("{}: cannot read config: {e}", path.display()))?;
        let mut cfg: Config = toml::from_str(&text).map_err(|e| {
            format!(
                "{}: invalid config: {}",
                path.display(),
                crate::bounded::toml_error(&text, &e)
            )
        })?;
        cfg.base_dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        cfg.source = path.display().to_string();
        Ok(cfg)
    }

    /// Finds the config for a scan: `explicit` (trusted), else `.sprawl.toml` in the first
    /// directory target (untrusted: it came with the content being scanned).
    pub fn discover(
        explicit: Option<&Path>,
        targets: &[PathBuf],
    ) -> Result<Option<Config>, String> {
        if let Some(p) = explicit {
            return Config::load(p).map(|mut c| {
                c.trusted = true;
                Some(c)
            });
        }
        for t in targets {
            let candidate = t.join(FILE_NAME);
            if t.is_dir() && candidate.is_file() {
                return Config::load(&candidate).map(Some);
            }
        }
        Ok(None)
    }
}
