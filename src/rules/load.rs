//! Loading rules: the built-in files embedded at build time, `--rules DIR` directories and
//! `[[rule]]` tables from a config file. A broken rule is reported (file and rule id) and
//! skipped; the others still load.

use std::path::Path;

use super::{Rule, RuleError, RuleSpec};

include!(concat!(env!("OUT_DIR"), "/builtin_rules.rs"));

/// Rules plus the problems met while loading them.
#[derive(Debug, Default)]
pub struct LoadedRules {
    /// Compiled rules, unique by id (later sources replace earlier ones).
    pub rules: Vec<Rule>,
    /// One message per file or rule that could not be used.
    pub errors: Vec<String>,
}

impl LoadedRules {
    /// Adds rules, replacing any earlier rule with the same id.
    fn add(&mut self, rule: Rule) {
        if let Some(existing) = self.rules.iter_mut().find(|r| r.spec.id == rule.spec.id) {
            *existing = rule;
        } else {
            self.rules.push(rule);
        }
    }

    /// Parses one TOML text holding `[[rule]]` tables and adds every rule that compiles.
    pub fn add_toml(&mut self, source_name: &str, text: &str) {
        let value: toml::Table = match toml::from_str(text) {
            Ok(v) => v,
            Err(e) => {
                self.errors
                    .push(format!("{source_name}: not valid TOML: {e}"));
                return;
            }
        };
        for key in value.keys().filter(|k| *k != "rule") {
            self.errors.push(format!(
                "{source_name}: unknown top-level key `{key}` (expected [[rule]] tables)"
            ));
        }
        let Some(rules) = value.get("rule") else {
            return;
        };
        let Some(rules) = rules.as_array() else {
            self.errors.push(format!(
                "{source_name}: `rule` must be an array of tables ([[rule]])"
            ));
            return;
        };
        self.add_rule_values(source_name, rules);
    }

    /// Adds rules given as TOML values (from a rule file or a config file).
    pub fn add_rule_values(&mut self, source_name: &str, rules: &[toml::Value]) {
        for (i, value) in rules.iter().enumerate() {
            let id = value
                .get("id")
                .and_then(|v| v.as_str())
                .map(str::to_string)
                .unwrap_or_else(|| format!("#{}", i + 1));
            let spec: RuleSpec = match value.clone().try_into() {
                Ok(s) => s,
                Err(e) => {
                    self.errors
                        .push(format!("{source_name}: rule `{id}`: {}", e.message()));
                    continue;
                }
            };
            match Rule::compile(spec, source_name) {
                Ok(rule) => self.add(rule),
                Err(e) => self.errors.push(e.to_string()),
            }
        }
    }

    /// Loads every `*.toml` file of a directory (sorted by name), or one file.
    pub fn add_path(&mut self, path: &Path) {
        if path.is_file() {
            self.add_file(path);
            return;
        }
        let entries = match std::fs::read_dir(path) {
            Ok(e) => e,
            Err(e) => {
                self.errors.push(format!(
                    "{}: cannot read rules directory: {e}",
                    path.display()
                ));
                return;
            }
        };
        let mut files: Vec<_> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        files.sort();
        if files.is_empty() {
            self.errors
                .push(format!("{}: no *.toml rule files", path.display()));
        }
        for f in files {
            self.add_file(&f);
        }
    }

    fn add_file(&mut self, path: &Path) {
        match std::fs::read_to_string(path) {
            Ok(text) => self.add_toml(&path.display().to_string(), &text),
            Err(e) => self
                .errors
                .push(format!("{}: cannot read rule file: {e}", path.display())),
        }
    }

    /// Drops the rules whose ids are listed.
    pub fn disable(&mut self, ids: &[String]) {
        self.rules.retain(|r| !ids.contains(&r.spec.id));
    }
}

/// Loads the rules compiled into the binary.
pub fn builtin() -> LoadedRules {
    let mut loaded = LoadedRules::default();
    for (name, text) in BUILTIN_RULE_FILES {
        loaded.add_toml(&format!("rules/{name}"), text);
    }
    loaded
}

/// Compiles one spec; used by tests and by `rules check` on single rules.
pub fn compile_one(spec: RuleSpec) -> Result<Rule, RuleError> {
    Rule::compile(spec, "<inline>")
}
