//! CODEOWNERS: who owns a path of a repository, in GitHub's and GitLab's syntax.
//!
//! A file is a list of `pattern owner…` lines; the **last** matching line wins, and a line
//! with no owners leaves the path unowned. Patterns follow gitignore's shape: a leading `/`
//! or a `/` inside anchors the pattern at the root, otherwise it matches at any depth; a
//! trailing `/` matches everything under a directory; `*` does not cross `/`, `**` does;
//! `docs/*` owns the files directly in `docs/` only. GitLab adds **sections**
//! (`[Backend]`, `^[Optional]`, `[Docs][2] @default-owner`): within a section the last match
//! wins, a line without owners takes the section's default owners, and the owners of every
//! section that matches are combined.

use globset::{Glob, GlobMatcher};

/// Where GitHub and GitLab look for the file, in the order they prefer.
pub const LOCATIONS: [&str; 4] = [
    ".github/CODEOWNERS",
    "CODEOWNERS",
    "docs/CODEOWNERS",
    ".gitlab/CODEOWNERS",
];

/// One `pattern owners` line.
struct Entry {
    matchers: Vec<GlobMatcher>,
    owners: Vec<String>,
}

/// One section (the unnamed one before any `[Section]` header included).
struct Section {
    default_owners: Vec<String>,
    entries: Vec<Entry>,
}

/// A parsed CODEOWNERS file.
pub struct CodeOwners {
    sections: Vec<Section>,
}

/// A line that is a GitLab section header: `[Name]`, `^[Name]`, `[Name][2]`, then owners.
fn section_header(line: &str) -> Option<Vec<String>> {
    let rest = line.strip_prefix('^').unwrap_or(line);
    let rest = rest.strip_prefix('[')?;
    let close = rest.find(']')?;
    if close == 0 {
        return None;
    }
    let mut after = &rest[close + 1..];
    // An approval count: `[Name][2]`.
    if let Some(count) = after.strip_prefix('[') {
        let end = count.find(']')?;
        if !count[..end].chars().all(|c| c.is_ascii_digit()) {
            return None;
        }
        after = &count[end + 1..];
    }
    if !after.is_empty() && !after.starts_with(char::is_whitespace) {
        return None;
    }
    Some(owners_of(after.split_whitespace()))
}

/// Owner tokens up to an inline comment.
fn owners_of<'a>(tokens: impl Iterator<Item = &'a str>) -> Vec<String> {
    tokens
        .take_while(|t| !t.starts_with('#'))
        .map(str::to_string)
        .collect()
}

/// The pattern of a line (with `\ ` and `\#` unescaped) and the rest.
fn split_pattern(line: &str) -> (String, &str) {
    let mut pattern = String::new();
    let mut chars = line.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => {
                if let Some((_, next)) = chars.next() {
                    pattern.push(next);
                }
            }
            c if c.is_whitespace() => return (pattern, &line[i..]),
            c => pattern.push(c),
        }
    }
    (pattern, "")
}

/// The globs that together match what `pattern` matches.
fn globs(pattern: &str) -> Vec<String> {
    let dir_only = pattern.ends_with('/');
    let core = pattern.trim_start_matches('/').trim_end_matches('/');
    if core.is_empty() {
        return vec!["**".to_string()];
    }
    let anchored = pattern.starts_with('/') || core.contains('/');
    let base = if anchored {
        core.to_string()
    } else {
        format!("**/{core}")
    };
    let last = core.rsplit('/').next().unwrap_or(core);
    if dir_only {
        vec![format!("{base}/**")]
    } else if last == "*" {
        // `docs/*`: the files directly in docs/, not those of its subdirectories.
        vec![base]
    } else {
        vec![base.clone(), format!("{base}/**")]
    }
}

fn matcher(glob: &str) -> Option<GlobMatcher> {
    globset::GlobBuilder::new(glob)
        .literal_separator(true)
        .backslash_escape(true)
        .build()
        .ok()
        .map(|g: Glob| g.compile_matcher())
}

impl CodeOwners {
    /// Parses the text of a CODEOWNERS file. Lines that cannot be understood (a pattern that
    /// is not a valid glob) are skipped, as GitHub skips them.
    pub fn parse(text: &str) -> CodeOwners {
        let mut sections = vec![Section {
            default_owners: Vec::new(),
            entries: Vec::new(),
        }];
        for raw in text.lines() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if let Some(default_owners) = section_header(line) {
                sections.push(Section {
                    default_owners,
                    entries: Vec::new(),
                });
                continue;
            }
            let (pattern, rest) = split_pattern(line);
            let matchers: Option<Vec<GlobMatcher>> =
                globs(&pattern).iter().map(|g| matcher(g)).collect();
            let Some(matchers) = matchers else {
                continue;
            };
            let section = sections.last_mut().expect("one section at least");
            let mut owners = owners_of(rest.split_whitespace());
            if owners.is_empty() {
                owners = section.default_owners.clone();
            }
            section.entries.push(Entry { matchers, owners });
        }
        CodeOwners { sections }
    }

    /// The owners of `path` (relative to the repository root, `/`-separated): the last
    /// matching line of each section, combined in file order without repeats.
    pub fn owners(&self, path: &str) -> Vec<String> {
        let path = path.trim_start_matches("./").trim_start_matches('/');
        let mut out: Vec<String> = Vec::new();
        for section in &self.sections {
            let last = section
                .entries
                .iter()
                .rev()
                .find(|e| e.matchers.iter().any(|m| m.is_match(path)));
            for owner in last.map(|e| e.owners.as_slice()).unwrap_or_default() {
                if !out.contains(owner) {
                    out.push(owner.clone());
                }
            }
        }
        out
    }

    /// True when the file has no entries at all.
    pub fn is_empty(&self) -> bool {
        self.sections.iter().all(|s| s.entries.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::CodeOwners;

    fn owners(text: &str, path: &str) -> Vec<String> {
        CodeOwners::parse(text).owners(path)
    }

    #[test]
    fn last_match_wins_and_patterns_follow_gitignore() {
        let file = "\
# default owners
*       @org/everyone
*.js    @js-owner  # inline comment
/build/logs/ @doctocat
docs/*  docs@example.com
apps/   @octocat
/scripts/ @org/ops
/scripts/public.sh
**/secrets @org/security
";
        assert_eq!(owners(file, "README.md"), ["@org/everyone"]);
        assert_eq!(owners(file, "src/app.js"), ["@js-owner"]);
        assert_eq!(owners(file, "build/logs/x.log"), ["@doctocat"]);
        assert_eq!(owners(file, "sub/build/logs/x.log"), ["@org/everyone"]);
        assert_eq!(owners(file, "docs/a.md"), ["docs@example.com"]);
        assert_eq!(
            owners(file, "docs/deep/a.md"),
            ["@org/everyone"],
            "docs/* does not reach into subdirectories"
        );
        assert_eq!(owners(file, "x/apps/y/z.txt"), ["@octocat"]);
        assert_eq!(owners(file, "scripts/deploy.sh"), ["@org/ops"]);
        assert!(
            owners(file, "scripts/public.sh").is_empty(),
            "a line without owners leaves the path unowned"
        );
        assert_eq!(owners(file, "a/b/secrets/prod.env"), ["@org/security"]);
        assert_eq!(owners(file, "secrets"), ["@org/security"]);
    }

    #[test]
    fn gitlab_sections_combine_and_take_default_owners() {
        let file = "\
*.rb @ruby-team
[Database] @org/dba
db/
config/database.yml @alice
^[Docs][2] @org/writers
*.md
[Broken
";
        assert_eq!(owners(file, "db/schema.rb"), ["@ruby-team", "@org/dba"]);
        assert_eq!(owners(file, "config/database.yml"), ["@alice"]);
        assert_eq!(owners(file, "db/README.md"), ["@org/dba", "@org/writers"]);
        assert!(owners(file, "other.txt").is_empty());
    }

    #[test]
    fn escapes_and_odd_lines_do_not_break_parsing() {
        let file = "\\#notes @hash\npath\\ with\\ space @space\n[ @x\n***[ @bad\n/ @root\n";
        assert_eq!(owners(file, "#notes"), ["@root"], "last match (/) wins");
        let file2 = "\\#notes @hash\npath\\ with\\ space @space\n";
        assert_eq!(owners(file2, "#notes"), ["@hash"]);
        assert_eq!(owners(file2, "path with space"), ["@space"]);
        assert!(CodeOwners::parse("# only comments\n").is_empty());
    }
}
