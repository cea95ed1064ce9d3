//! Command-line interface: one module per subcommand.

pub mod audit;
pub mod baseline;
pub mod ci;
pub mod docs;
pub mod lower;
pub mod progress;
pub mod record;
pub mod report;
pub mod revoke;
pub mod rules;
pub mod scan;

use std::path::PathBuf;

use clap::builder::TypedValueParser as _;
use clap::{Args, Parser, Subcommand};

/// Exit code: nothing found.
pub const EXIT_CLEAN: i32 = 0;
/// Exit code: findings.
pub const EXIT_FINDINGS: i32 = 1;
/// Exit code: an error (including "nothing could be scanned").
pub const EXIT_ERROR: i32 = 2;

/// sprawl: find leaked credentials wherever they have sprawled.
#[derive(Debug, Parser)]
#[command(name = "sprawl", version, about, long_about = None)]
pub struct Cli {
    /// Subcommand.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scan files and directories (`-` for stdin) for secrets.
    Scan(ScanArgs),
    /// List or check rules.
    Rules {
        /// What to do with the rules.
        #[command(subcommand)]
        command: RulesCommand,
    },
    /// Manage baselines of accepted secrets.
    Baseline {
        /// What to do with the baseline.
        #[command(subcommand)]
        command: BaselineCommand,
    },
    /// Scan many targets (git URLs, local paths, images; one per line in --targets) into one
    /// inventory; `--shard I/N` takes a stable share of them so any scheduler can run workers.
    Audit(AuditArgs),
    /// Track the rotation of a secret: start it, then see after later audits whether any copy
    /// or the live credential remains.
    Rotation {
        /// What to do.
        #[command(subcommand)]
        command: RotationCommand,
    },
    /// Re-verify the secrets of an inventory (those stored with --store-secrets) and record
    /// the outcomes, for the rotation report.
    Verify(VerifyArgs),
    /// Print the rotation report of an inventory: each distinct secret, most urgent first, with
    /// every copy and what to do.
    Report(ReportArgs),
    /// Revoke secrets of an inventory at their provider (GitHub, GitLab, Slack: the APIs they
    /// offer to whoever holds a secret), after confirmation; every attempt is recorded.
    Revoke(RevokeArgs),
    /// Delete the CI logs and artifacts that printed secrets of an inventory (GitHub Actions
    /// runs: GITHUB_TOKEN with actions:write; GitLab jobs: GITLAB_TOKEN), after confirmation;
    /// every attempt is recorded.
    PurgeLogs(PurgeLogsArgs),
    /// Understand CI pipelines: which jobs and steps consume which named secrets.
    Ci {
        /// What to do.
        #[command(subcommand)]
        command: CiCommand,
    },
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff), or write one page per subcommand into --dir.
    Man {
        /// Write sprawl.1 and sprawl-SUBCOMMAND.1 pages into this directory.
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
}

/// `sprawl rotation ...`
#[derive(Debug, Subcommand)]
pub enum RotationCommand {
    /// Mark a secret as being rotated from now on.
    Start {
        /// The secret's fingerprint (from any report).
        fingerprint: String,
        /// The inventory (SQLite file or postgres:// URL).
        #[arg(long, value_name = "STORE")]
        store: String,
    },
    /// Every rotation: complete, or what still holds the old value.
    Status {
        /// The inventory (SQLite file or postgres:// URL).
        #[arg(long, value_name = "STORE")]
        store: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// `sprawl audit` options.
#[derive(Debug, Args)]
pub struct AuditArgs {
    /// File with one target per line (git URL, local path, image archive, `oci://` reference);
    /// blank lines and `#` comments are ignored.
    #[arg(long = "targets", id = "targets_file", value_name = "FILE")]
    pub targets_file: Option<PathBuf>,
    /// Also audit every repository of this GitHub organisation (token from GITHUB_TOKEN).
    #[arg(long, value_name = "ORG")]
    pub github_org: Option<String>,
    /// GitHub API base URL (GitHub Enterprise: https://HOST/api/v3).
    #[arg(long, value_name = "URL", default_value = "https://api.github.com")]
    pub github_api: String,
    /// Also audit every project of this GitLab group and its subgroups (token from GITLAB_TOKEN).
    #[arg(long, value_name = "GROUP")]
    pub gitlab_group: Option<String>,
    /// GitLab base URL (self-managed instances).
    #[arg(long, value_name = "URL", default_value = "https://gitlab.com")]
    pub gitlab_url: String,
    /// Scan only shard I of N (0-based), chosen by a stable hash of each target.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,
    /// Verify each distinct secret (see `scan --verify`).
    #[arg(long)]
    pub verify: bool,
    /// Verification settings.
    #[command(flatten)]
    pub verify_flags: VerifyFlags,
    /// Scan settings (`--store` is required).
    #[command(flatten)]
    pub common: CommonScanArgs,
}

/// `sprawl verify` options.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The inventory written by `scan --store --store-secrets`: a SQLite file or a
    /// postgres://user@host/db URL (password from PGPASSWORD).
    #[arg(long, value_name = "STORE")]
    pub store: String,
    /// Extra rule directories or files (rules the scan used besides the built-in ones).
    #[arg(long = "rules", value_name = "DIR")]
    pub rules: Vec<PathBuf>,
    /// Verification settings.
    #[command(flatten)]
    pub verify_flags: VerifyFlags,
}

/// `sprawl revoke` options.
#[derive(Debug, Args)]
pub struct RevokeArgs {
    /// The inventory, recorded with --store-secrets (revoking needs the value).
    #[arg(long, value_name = "STORE")]
    pub store: String,
    /// Fingerprints of the secrets to revoke (from any report).
    pub fingerprints: Vec<String>,
    /// Also every secret of this provider (`github`, `gitlab`, `slack`: a rule-id prefix).
    #[arg(long, value_name = "PROVIDER")]
    pub provider: Vec<String>,
    /// Only secrets last verified live.
    #[arg(long)]
    pub live: bool,
    /// Revoke without asking (required when stdin is not a terminal).
    #[arg(long)]
    pub yes: bool,
    /// How providers are reached (endpoints, CA, timeouts), as for verification.
    #[command(flatten)]
    pub verify_flags: VerifyFlags,
}

/// `sprawl purge-logs` options.
#[derive(Debug, Args)]
pub struct PurgeLogsArgs {
    /// The inventory.
    #[arg(long, value_name = "STORE")]
    pub store: String,
    /// Fingerprints of the secrets whose log copies to delete (default: every secret with one).
    pub fingerprints: Vec<String>,
    /// Delete without asking (required when stdin is not a terminal).
    #[arg(long)]
    pub yes: bool,
    /// The API base (GitHub Enterprise: https://HOST/api/v3).
    #[arg(long, value_name = "URL", default_value = "https://api.github.com")]
    pub ci_api: String,
    /// The GitLab base URL (self-managed: https://HOST; token from GITLAB_TOKEN).
    #[arg(long, value_name = "URL", default_value = "https://gitlab.com")]
    pub ci_gitlab_url: String,
    /// Trust only the certificates in this PEM file for the CI API (tests).
    #[arg(long, value_name = "FILE", hide = true)]
    pub ci_api_ca: Option<PathBuf>,
}

/// `sprawl report` options.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The inventory: a SQLite file or a postgres://user@host/db URL (password from
    /// PGPASSWORD).
    #[arg(long, value_name = "STORE")]
    pub store: String,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = ReportFormat::Md)]
    pub format: ReportFormat,
    /// Write to FILE instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Print the secrets an inventory recorded with --store-secrets keeps (JSON only; never
    /// in Markdown, CSV or HTML).
    #[arg(long)]
    pub show_secrets: bool,
    /// Extra rule directories or files (their rotation guidance is shown for their secrets).
    #[arg(long, value_name = "PATH")]
    pub rules: Vec<PathBuf>,
}

/// `sprawl report` formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    /// Markdown.
    Md,
    /// One self-contained HTML page: sortable table, charts by provider and age.
    Html,
    /// CSV, one row per copy.
    Csv,
    /// JSON.
    Json,
}

/// `sprawl ci ...`
#[derive(Debug, Subcommand)]
pub enum CiCommand {
    /// For every named secret the pipelines under PATH reference (`secrets.NPM_TOKEN`,
    /// `$(DeployKey)`, `credentials('id')`, `secretKeyRef`), the files, jobs and steps that use
    /// it: what breaks when it is rotated.
    Consumers {
        /// Directory (or file) to read; default the current directory.
        path: Option<PathBuf>,
        /// Output format.
        #[arg(long, short = 'f', value_enum, default_value_t = ConsumersFormat::Text)]
        format: ConsumersFormat,
    },
}

/// Output of `sprawl ci consumers`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ConsumersFormat {
    /// Grouped by secret, for people.
    Text,
    /// `{secrets: [{name, consumers: [...]}], errors}`.
    Json,
}

/// `sprawl rules ...`
#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// List the loaded rules.
    List {
        /// Extra rule directories or files.
        #[arg(long = "rules", value_name = "DIR")]
        rules: Vec<PathBuf>,
        /// Print JSON instead of a table (same as --format json).
        #[arg(long)]
        json: bool,
        /// Output format: a table, JSON, or the Markdown of docs/rules.md.
        #[arg(long, value_enum, default_value_t = ListFormat::Table)]
        format: ListFormat,
        /// Only rules that `--verify` can check, with provider and endpoint.
        #[arg(long)]
        verifiable: bool,
    },
    /// Compile every rule and run its examples and negative examples.
    Check {
        /// A rule directory or file to check instead of the built-in rules.
        dir: Option<PathBuf>,
    },
}

/// How `rules list` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ListFormat {
    /// One rule per line.
    Table,
    /// The rules as JSON.
    Json,
    /// A Markdown reference grouped by provider (docs/rules.md).
    Md,
}

/// `sprawl baseline ...`
#[derive(Debug, Subcommand)]
pub enum BaselineCommand {
    /// Scan and write every current finding to a baseline file.
    Create {
        /// Where to write the baseline.
        #[arg(short, long, default_value = ".sprawl-baseline.json")]
        output: PathBuf,
        /// Scan settings.
        #[command(flatten)]
        scan: CommonScanArgs,
    },
}

/// Options shared by `scan` and `baseline create`.
#[derive(Debug, Args, Clone)]
pub struct CommonScanArgs {
    /// Files, directories, git repositories (local or URL), container images (a `docker save`
    /// archive, an OCI layout directory or tar, or `oci://HOST/REPO:TAG` in a registry), the
    /// GitHub Actions job logs of a repository (`gha://OWNER/REPO`, or `gha://HOST/OWNER/REPO`
    /// on GitHub Enterprise Server; token from GITHUB_TOKEN);
    /// `-` reads stdin. Default: the current directory.
    #[arg(value_name = "TARGET")]
    pub targets: Vec<PathBuf>,
    /// Config file (default: .sprawl.toml in the first directory target).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Trust the .sprawl.toml found in a scanned directory as if given with --config: let it
    /// replace built-in rules and define verification requests. Without this, such a config
    /// may only add allowlists and new rules without verification (it travels with the code
    /// being scanned, e.g. in a pull request).
    #[arg(long)]
    pub trust_config: bool,
    /// Extra rule directories or files (repeatable).
    #[arg(long = "rules", value_name = "DIR")]
    pub rules: Vec<PathBuf>,
    /// Skip paths matching this glob (gitignore syntax, repeatable).
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
    /// Worker threads (default: number of CPUs; at most 1024).
    #[arg(long, short = 'j', value_parser = clap::value_parser!(u16).range(1..=1024).map(usize::from))]
    pub threads: Option<usize>,
    /// Scan everything: also dependency and build directories (node_modules, virtualenvs,
    /// CACHEDIR.TAG directories such as target/, __pycache__), which are skipped by default.
    #[arg(long, conflicts_with = "respect_gitignore")]
    pub no_ignore: bool,
    /// Directories: skip what .gitignore/.ignore exclude (by default gitignored files such as
    /// .env are scanned: that is where local secrets live).
    #[arg(long)]
    pub respect_gitignore: bool,
    /// Follow symbolic links (loops are detected and reported).
    #[arg(long)]
    pub follow_symlinks: bool,
    /// Skip files larger than this many bytes (default: scan all, in bounded memory).
    #[arg(long, value_name = "BYTES")]
    pub max_file_size: Option<u64>,
    /// Organisation key for secret fingerprints (keep it private to make SARIF fingerprints unguessable).
    #[arg(
        long,
        env = "SPRAWL_FINGERPRINT_KEY",
        hide_env_values = true,
        value_name = "KEY"
    )]
    pub fingerprint_key: Option<String>,
    /// Never show a progress bar.
    #[arg(long)]
    pub no_progress: bool,
    /// For a git repository: scan its whole history (`full`, the default for repositories) or
    /// only its files (`none`). `full` on a path that is not a repository is an error.
    #[arg(long, value_enum, value_name = "MODE")]
    pub git_history: Option<GitHistoryArg>,
    /// How history blobs are read: `packs` (default: each pack's delta forest walked once,
    /// keyword search limited to what each version changed) or `one-by-one` (every blob read
    /// and searched whole). Same findings; for benchmarks and for checking one against the other.
    #[arg(
        long,
        value_enum,
        value_name = "HOW",
        default_value = "packs",
        hide = true
    )]
    pub git_read: GitReadArg,
    /// `gha://` targets: the newest N workflow runs.
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub ci_runs: usize,
    /// `gha://` and `gitlab-ci://` targets: only runs or pipelines created on or after this
    /// date (YYYY-MM-DD).
    #[arg(long, value_name = "DATE")]
    pub ci_since: Option<String>,
    /// `gha://` targets: the API base (GitHub Enterprise: https://HOST/api/v3).
    #[arg(long, value_name = "URL", default_value = "https://api.github.com")]
    pub ci_api: String,
    /// `gitlab-ci://` targets: the GitLab base URL (self-managed: https://HOST; token from
    /// GITLAB_TOKEN).
    #[arg(long, value_name = "URL", default_value = "https://gitlab.com")]
    pub ci_gitlab_url: String,
    /// Trust only the certificates in this PEM file for the CI API (tests).
    #[arg(long, value_name = "FILE", hide = true)]
    pub ci_api_ca: Option<PathBuf>,
    /// Scan only what the index adds relative to HEAD (pre-commit hook).
    #[arg(long, conflicts_with_all = ["range", "since"])]
    pub staged: bool,
    /// Scan only blobs introduced by the commits in A..B (CI gate on a pull request).
    #[arg(long, value_name = "A..B", conflicts_with = "since")]
    pub range: Option<String>,
    /// Scan only blobs introduced by commits after REV (REV..HEAD).
    #[arg(long, value_name = "REV")]
    pub since: Option<String>,
    /// Also scan blobs that no ref reaches (dangling objects, dropped stashes).
    #[arg(long, conflicts_with_all = ["staged", "range", "since"])]
    pub all_objects: bool,
    /// Skip git blobs and image layers listed in FILE (scanned by an earlier run) and append
    /// the ones scanned now.
    #[arg(long, value_name = "FILE")]
    pub seen_file: Option<PathBuf>,
    /// Keep the clone of a remote repository in DIR instead of a temporary directory.
    #[arg(long, value_name = "DIR")]
    pub keep_clone: Option<PathBuf>,
    /// Also scan the history of submodules (checked out, or cloned under .git/modules).
    #[arg(long)]
    pub recurse_submodules: bool,
    /// Inventory to record findings in: a SQLite file or a postgres://user@host/db URL
    /// (password from PGPASSWORD); its fingerprint key is used unless --fingerprint-key is
    /// given.
    #[arg(long, value_name = "STORE")]
    pub store: Option<String>,
    /// Also keep the plaintext secrets in the inventory (off by default).
    #[arg(long, requires = "store")]
    pub store_secrets: bool,
    /// Images: scan only this platform of multi-platform images (`linux/amd64`); default all.
    #[arg(long, value_name = "OS/ARCH[/VARIANT]")]
    pub platform: Option<String>,
    /// Registries: use plain HTTP (for registries without TLS, e.g. a local test registry).
    #[arg(long)]
    pub insecure: bool,
    /// Registries: user name (default: from ~/.docker/config.json).
    #[arg(long, value_name = "USER")]
    pub registry_username: Option<String>,
    /// Registries: password or token for --registry-username.
    #[arg(
        long,
        env = "SPRAWL_REGISTRY_PASSWORD",
        hide_env_values = true,
        value_name = "PASSWORD"
    )]
    pub registry_password: Option<String>,
    /// Images: stop reading a layer (or nested archive) past this many decompressed bytes.
    #[arg(long, value_name = "BYTES", default_value_t = 64 << 30)]
    pub max_layer_size: u64,
    /// Images: stop reading a layer whose decompressed size passes this multiple of its stored
    /// size (after the first 256 MiB): a decompression bomb.
    #[arg(long, value_name = "RATIO", default_value_t = 100)]
    pub max_layer_ratio: u64,
    /// Open archives (.zip, .jar, .war, .tar, .tar.gz, .tgz) in directories and image layers,
    /// and archives inside them, this deep (0: scan archives as plain files).
    #[arg(long, value_name = "N", default_value_t = 3,
          value_parser = clap::value_parser!(u8).range(0..=16).map(usize::from))]
    pub archive_depth: usize,
}

/// Output formats of `sprawl scan` (the library's [`crate::report::Format`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum FormatArg {
    /// Human-readable, coloured on a terminal.
    #[default]
    Text,
    /// One JSON document.
    Json,
    /// One JSON object per finding per line.
    Jsonl,
    /// SARIF 2.1.0 for code-scanning dashboards.
    Sarif,
    /// A Markdown table (job summaries, pull-request comments); always redacted.
    Md,
}

impl From<FormatArg> for crate::report::Format {
    fn from(f: FormatArg) -> crate::report::Format {
        use crate::report::Format;
        match f {
            FormatArg::Text => Format::Text,
            FormatArg::Json => Format::Json,
            FormatArg::Jsonl => Format::Jsonl,
            FormatArg::Sarif => Format::Sarif,
            FormatArg::Md => Format::Md,
        }
    }
}

/// `--git-history` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum GitHistoryArg {
    /// Every blob of every ref.
    Full,
    /// Only the files on disk.
    None,
}

/// `--git-read` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum GitReadArg {
    /// Walk each pack's delta forest.
    Packs,
    /// Read every blob on its own.
    OneByOne,
}

/// `sprawl scan` options.
#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Targets and scan settings.
    #[command(flatten)]
    pub common: CommonScanArgs,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = FormatArg::Text)]
    pub format: FormatArg,
    /// Write the report to FILE instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Also write the report in FORMAT to FILE, from the same scan (repeatable):
    /// `--write sarif=results.sarif --write md=summary.md`. Never with secrets in clear.
    #[arg(long = "write", value_name = "FORMAT=FILE")]
    pub write: Vec<String>,
    /// Print secrets in clear (text, JSON; never SARIF).
    #[arg(long)]
    pub show_secrets: bool,
    /// Text report: list every later commit that touched a secret's file and every image
    /// holding the same layer copy, instead of a count (JSON always has them all).
    #[arg(long, short = 'v')]
    pub verbose: bool,
    /// With --verify --blast-radius: findings count for the exit code only when a secret is
    /// live with at least this access (admin, can-write, read-only, identity-only); a live
    /// secret whose access could not be established, or only as a floor, counts too.
    #[arg(long, value_name = "LEVEL", value_parser = parse_access_level, requires = "blast_radius")]
    pub fail_on_access: Option<crate::finding::AccessLevel>,
    /// Exit code to use when there are findings.
    #[arg(long, default_value_t = EXIT_FINDINGS, value_name = "CODE",
          value_parser = clap::value_parser!(i32).range(0..=255))]
    pub exit_code: i32,
    /// Report only secrets not in this baseline file.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Ask each provider whether each distinct secret is live (sends the secret to the host
    /// written in its rule, over verified TLS). Off by default.
    #[arg(long)]
    pub verify: bool,
    /// Verification settings.
    #[command(flatten)]
    pub verify_flags: VerifyFlags,
}

/// How verification reaches providers (`scan --verify` and `sprawl verify`).
#[derive(Debug, Args, Clone)]
pub struct VerifyFlags {
    /// Send a provider's checks to URL instead of the rule's host (`github=https://127.0.0.1:8443`;
    /// the provider is the rule id's first part). For tests and private mirrors.
    #[arg(long, value_name = "PROVIDER=URL")]
    pub verify_endpoint: Vec<String>,
    /// Let verification reach private, loopback and link-local addresses.
    #[arg(long)]
    pub allow_internal: bool,
    /// Trust only the certificates in this PEM file for verification (tests).
    #[arg(long, value_name = "FILE", hide = true)]
    pub verify_ca: Option<PathBuf>,
    /// Seconds per verification request.
    #[arg(long, value_name = "SECS", default_value_t = 10,
          value_parser = clap::value_parser!(u64).range(1..=600))]
    pub verify_timeout: u64,
    /// Verification requests in flight at once.
    #[arg(long, value_name = "N", default_value_t = 8,
          value_parser = clap::value_parser!(u16).range(1..=256).map(usize::from))]
    pub verify_concurrency: usize,
    /// AWS account ids never to verify against (canary tokens); repeatable.
    #[arg(long, value_name = "ID")]
    pub skip_aws_account: Vec<String>,
    /// Keep live/dead outcomes in FILE (rule + fingerprint, no secrets) and reuse them.
    #[arg(long, value_name = "FILE")]
    pub verify_cache: Option<PathBuf>,
    /// Reuse cached outcomes younger than this many seconds.
    #[arg(long, value_name = "SECS", default_value_t = 86_400)]
    pub verify_max_age: u64,
    /// For each secret verified live, ask its provider who it is and what it can reach
    /// (read-only API calls; 19 providers, `docs/rules.md` marks their rules): an access level
    /// (admin, can-write, read-only, identity-only) in every report.
    #[arg(long)]
    pub blast_radius: bool,
}

/// `--fail-on-access` values.
fn parse_access_level(s: &str) -> Result<crate::finding::AccessLevel, String> {
    crate::finding::AccessLevel::parse(s)
        .ok_or_else(|| format!("{s:?}: expected admin, can-write, read-only or identity-only"))
}

/// Runs the parsed command line and returns the process exit code.
pub fn run(cli: Cli) -> i32 {
    match cli.command {
        Command::Scan(args) => scan::run(args),
        Command::Rules { command } => rules::run(command),
        Command::Baseline { command } => baseline::run(command),
        Command::Ci { command } => ci::run(command),
        Command::Report(args) => report::run(args),
        Command::Revoke(args) => revoke::run(args),
        Command::PurgeLogs(args) => revoke::purge_logs(args),
        Command::Verify(args) => report::verify(args),
        Command::Audit(args) => audit::run(args),
        Command::Rotation { command } => report::rotation(command),
        Command::Completions { shell } => docs::completions(shell),
        Command::Man { dir } => docs::man(dir.as_deref()),
    }
}
