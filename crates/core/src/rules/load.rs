//! Loading rules: the built-in files embedded at build time, `--rules DIR` directories and
//! `[[rule]]` tables from a config file. A broken rule is reported (file and rule id) and
//! skipped; the others still load.

use std::path::Path;

use super::{Rule, RuleSpec};

include!(concat!(env!("OUT_DIR"), "/builtin_rules.rs"));

/// Who wrote the rules being added, which decides what they may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Trust {
    /// Compiled into sprawl.
    #[default]
    Builtin,
    /// Given by the user: `--rules`, `--config`, or a discovered config with `--trust-config`.
    User,
    /// Found inside a scanned target (its `.sprawl.toml` and the rule paths it names): it
    /// travels with the code being scanned, e.g. in a pull request, so it may add rules and
    /// allowlists but neither replace a built-in rule nor say where secrets are sent.
    Untrusted,
}

/// Rules plus the problems met while loading them.
#[derive(Debug, Default)]
pub struct LoadedRules {
    /// Compiled rules, unique by id (later sources replace earlier ones).
    pub rules: Vec<Rule>,
    /// One message per file or rule that could not be used.
    pub errors: Vec<String>,
    /// What changed the rule set visibly (a built-in rule replaced or disabled).
    pub notes: Vec<String>,
    /// Trust of the rules added next ([`LoadedRules::set_trust`]).
    trust: Trust,
    /// Ids of the built-in rules.
    builtin_ids: std::collections::HashSet<String>,
    /// Ids ever added: a new id is pushed without a search of `rules` (a file of thousands of
    /// rules must load in milliseconds). May hold ids `rules` no longer has (after a retain).
    seen_ids: std::collections::HashSet<String>,
}

impl LoadedRules {
    /// Sets who wrote the rules added from now on.
    pub fn set_trust(&mut self, trust: Trust) {
        self.trust = trust;
    }

    /// Adds a rule. A built-in rule may be replaced by a user's rule (with a note), never by
    /// an untrusted one; a user id defined twice is an error (the later definition is used).
    fn add(&mut self, mut rule: Rule) {
        if self.trust == Trust::Builtin {
            self.builtin_ids.insert(rule.spec.id.clone());
        } else {
            rule.user = true;
        }
        let known = !self.seen_ids.insert(rule.spec.id.clone());
        let existing = if known {
            self.rules.iter_mut().find(|r| r.spec.id == rule.spec.id)
        } else {
            None
        };
        let Some(existing) = existing else {
            self.rules.push(rule);
            return;
        };
        let id = rule.spec.id.clone();
        let builtin = !existing.user && self.builtin_ids.contains(&id);
        match (builtin, self.trust) {
            (_, Trust::Untrusted) => self.errors.push(format!(
                "{}: rule `{id}` would replace the {} rule of that id; a config found in a scanned directory may not (pass it with --config, or use --trust-config): ignored",
                rule.source,
                if builtin { "built-in" } else { "user's" }
            )),
            (true, _) => {
                self.notes.push(format!(
                    "{}: rule `{id}` replaces the built-in rule of that id",
                    rule.source
                ));
                *existing = rule;
            }
            (false, _) => {
                self.errors.push(format!(
                    "{}: rule `{id}` is also defined in {}: the later definition is used",
                    rule.source, existing.source
                ));
                *existing = rule;
            }
        }
    }

    /// Parses one TOML text holding `[[rule]]` tables and adds every rule that compiles.
    pub fn add_toml(&mut self, source_name: &str, text: &str) {
        let value: toml::Table = match toml::from_str(text) {
            Ok(v) => v,
            Err(e) => {
                self.errors.push(format!(
                    "{source_name}: not valid TOML: {}",
                    crate::bounded::toml_error(text, &e)
                ));
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
            let mut spec: RuleSpec = match value.clone().try_into() {
                Ok(s) => s,
                Err(e) => {
                    let msg: String = e.message().chars().take(300).collect();
                    self.errors
                        .push(format!("{source_name}: rule `{id}`: {msg}"));
                    continue;
                }
            };
            if self.trust == Trust::Untrusted && spec.verify.take().is_some() {
                self.errors.push(format!(
                    "{source_name}: rule `{id}`: [rule.verify] ignored: a config found in a scanned directory may not say where secrets are sent (pass it with --config, or use --trust-config)"
                ));
            }
            // A user's pattern is checked at load against the user size limit: one that cannot
            // be compiled is reported, never silently left out of the scan.
            let compiled = if self.trust == Trust::Builtin {
                Rule::compile(spec, source_name)
            } else {
                Rule::compile_user(spec, source_name)
            };
            match compiled {
                Ok(rule) => self.add(rule),
                Err(e) => self.errors.push(e.to_string()),
            }
        }
    }

    /// Loads every `*.toml` file of a directory (sorted by name), or one file.
    pub fn add_path(&mut self, path: &Path) {
        if !path.is_dir() {
            // A file, or something that is neither: `add_file` names what it is and refuses
            // anything but a regular file.
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
        match crate::bounded::read_regular_text(path, crate::bounded::MAX_CONFIG_BYTES) {
            Ok(text) => self.add_toml(&path.display().to_string(), &text),
            Err(e) => self
                .errors
                .push(format!("{}: cannot read rule file: {e}", path.display())),
        }
    }

    /// Drops the rules whose ids are listed; `source` (the config) is named in the note that
    /// lists the built-in rules switched off, so a pull request cannot do it unnoticed.
    pub fn disable(&mut self, ids: &[String], source: &str) {
        let off: Vec<&str> = ids
            .iter()
            .map(String::as_str)
            .filter(|id| self.builtin_ids.contains(*id))
            .collect();
        if !off.is_empty() {
            self.notes.push(format!(
                "{source}: built-in rule(s) disabled: {}",
                off.join(", ")
            ));
        }
        for id in ids {
            if !self.rules.iter().any(|r| r.spec.id == *id) {
                self.notes.push(format!(
                    "{source}: [rules] disable names unknown rule `{id}`"
                ));
            }
        }
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
