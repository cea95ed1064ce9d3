//! Lowers parsed flags into the library's types, once: a [`ScanPlan`] from the scan flags, the
//! verification settings from the verify flags. Errors name the flag.

use std::sync::Arc;

use super::{CommonScanArgs, GitHistoryArg, GitReadArg, VerifyFlags};
use crate::scan::git::{GitMode, GitRead};
use crate::scan::plan::{self, DetectSettings, GitHistory, ScanPlan};
use crate::source::image::registry::RegistryOptions;

/// The plan of `scan`, `baseline create` or `audit`; `fingerprint_key` is the key in force
/// (`--fingerprint-key`, else the inventory's own, resolved by the caller).
pub fn plan(common: &CommonScanArgs, fingerprint_key: Option<String>) -> ScanPlan {
    let git_mode = if common.staged {
        GitMode::Staged
    } else if let Some(range) = &common.range {
        plan::range_mode(range)
    } else if let Some(since) = &common.since {
        plan::since_mode(since)
    } else {
        GitMode::Full
    };
    ScanPlan {
        targets: common.targets.clone(),
        config: common.config.clone(),
        trust_config: common.trust_config,
        rules: common.rules.clone(),
        excludes: common.exclude.clone(),
        threads: common
            .threads
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get())),
        no_ignore: common.no_ignore,
        respect_gitignore: common.respect_gitignore,
        follow_symlinks: common.follow_symlinks,
        fingerprint_key,
        git_history: common.git_history.map(|h| match h {
            GitHistoryArg::Full => GitHistory::Full,
            GitHistoryArg::None => GitHistory::None,
        }),
        git_mode,
        git_read: match common.git_read {
            GitReadArg::Packs => GitRead::Packs,
            GitReadArg::OneByOne => GitRead::OneByOne,
        },
        seen_file: common.seen_file.clone(),
        keep_clone: common.keep_clone.clone(),
        platform: common.platform.clone(),
        registry: RegistryOptions {
            insecure: common.insecure,
            username: common.registry_username.clone(),
            password: common.registry_password.clone(),
            docker_config: None,
        },
        detect: DetectSettings {
            max_file_size: common.max_file_size,
            all_objects: common.all_objects,
            recurse_submodules: common.recurse_submodules,
            archive_depth: common.archive_depth,
            max_layer_size: common.max_layer_size,
            max_layer_ratio: common.max_layer_ratio,
        },
        baseline: None,
        consumers: common.store.is_some(),
        ci_logs: crate::source::cilogs::CiLogOptions {
            api: common.ci_api.clone(),
            runs: common.ci_runs,
            since: common.ci_since.clone(),
            ca_pem: common
                .ci_api_ca
                .as_ref()
                .and_then(|p| std::fs::read(p).ok()),
            gitlab_url: common.ci_gitlab_url.clone(),
            ..Default::default()
        },
    }
}

/// The fingerprint key a scan into `--store` uses: `--fingerprint-key`, else the inventory's
/// own key (read from `store` when it is open, else by opening the location). `Err` when the
/// inventory's key cannot be read: findings would then carry other fingerprints and must not
/// go into that inventory.
pub fn fingerprint_key(
    common: &CommonScanArgs,
    store: Option<&mut dyn crate::inventory::Store>,
) -> Result<Option<String>, String> {
    match (&common.store, &common.fingerprint_key) {
        (_, Some(k)) => Ok(Some(k.clone())),
        (Some(loc), None) => {
            let key = match store {
                Some(s) => s.fingerprint_key(),
                None => crate::inventory::open(loc).and_then(|mut s| s.fingerprint_key()),
            };
            key.map(Some).map_err(String::from)
        }
        (None, None) => Ok(None),
    }
}

/// A progress spinner on stderr when it is a terminal (shown after the first second).
pub fn observer(common: &CommonScanArgs) -> Option<Arc<dyn crate::scan::Observer>> {
    use std::io::IsTerminal;
    (!common.no_progress && std::io::stderr().is_terminal())
        .then(|| Arc::new(super::progress::Spinner::new()) as Arc<dyn crate::scan::Observer>)
}

/// Verification settings from the command line.
pub fn verify_options(args: &VerifyFlags) -> Result<crate::verify::VerifyOptions, String> {
    let mut endpoints = std::collections::HashMap::new();
    for e in &args.verify_endpoint {
        let (k, v) = e
            .split_once('=')
            .ok_or_else(|| format!("--verify-endpoint {e:?}: expected PROVIDER=URL"))?;
        if !v.starts_with("https://") {
            return Err(format!("--verify-endpoint {e:?}: the URL must be https"));
        }
        endpoints.insert(k.to_string(), v.to_string());
    }
    let ca_pem = match &args.verify_ca {
        Some(p) => Some(std::fs::read(p).map_err(|e| format!("{}: {e}", p.display()))?),
        None => None,
    };
    Ok(crate::verify::VerifyOptions {
        endpoints,
        allow_internal: args.allow_internal,
        ca_pem,
        timeout: std::time::Duration::from_secs(args.verify_timeout.max(1)),
        concurrency: args.verify_concurrency.max(1),
        skip_aws_accounts: args.skip_aws_account.clone(),
        cache: args.verify_cache.clone(),
        max_age: std::time::Duration::from_secs(args.verify_max_age),
        blast_radius: args.blast_radius,
        ..crate::verify::VerifyOptions::default()
    })
}
