//! CI job logs (`gha://OWNER/REPO`): each job log of the newest runs is streamed through the
//! cleaner (no timestamps, no colour codes, line numbers kept) into the detection stage, and
//! each match becomes a finding whose origin names the run, attempt, job, step, date and URL.
//! An expired log is a note; a log that cannot be read is an error naming the job; the other
//! jobs go on.

use std::collections::HashMap;
use std::io::BufReader;
use std::sync::Arc;

use sprawl_core::fingerprint::Fingerprinter;
use sprawl_core::origin::{CiLogOrigin, Origin};
use sprawl_core::read::Windowing;
use sprawl_detect::Engine;
use sprawl_source::archive::{Limits, Visitor};
use sprawl_source::cilogs::{CiLogOptions, Client, GhaTarget, LogCleaner, LogError, step_of};

use crate::{BlobMatch, ScanOutcome};

/// The memory key of a job log: `gha-job ID ATTEMPT`; its matches are kept per step under
/// `gha-job ID ATTEMPT step NAME`.
fn job_key(id: u64, attempt: u64) -> String {
    format!("gha-job {id} {attempt}")
}

/// The memory key of an artifact: `gha-artifact ID`; its matches are kept per member under
/// `gha-artifact ID member PATH`.
fn artifact_key(id: u64) -> String {
    format!("gha-artifact {id}")
}

/// What memory holds under `marker`'s sub-keys (`{marker} {kind} NAME`): (NAME, matches).
fn remembered<'a>(
    known: &'a HashMap<String, Vec<BlobMatch>>,
    marker: &str,
    kind: &str,
) -> Vec<(&'a str, &'a Vec<BlobMatch>)> {
    let prefix = format!("{marker} {kind} ");
    let mut out: Vec<(&str, &Vec<BlobMatch>)> = known
        .iter()
        .filter_map(|(k, v)| k.strip_prefix(&prefix).map(|name| (name, v)))
        .collect();
    out.sort_by(|a, b| a.0.cmp(b.0));
    out
}

/// Scans the job logs and artifacts of `target`'s newest runs into `outcome`. With `known`
/// (an audit's memory of the target), a job log or artifact read before is not downloaded
/// again: its remembered matches (kept per step, per member) come back as findings.
#[allow(clippy::too_many_arguments)]
pub fn scan_gha(
    engine: &Arc<Engine>,
    fp: &Fingerprinter,
    target: &GhaTarget,
    opts: &CiLogOptions,
    windowing: Windowing,
    limits: &Limits,
    known: Option<&HashMap<String, Vec<BlobMatch>>>,
    outcome: &mut ScanOutcome,
) {
    let shown = target.shown();
    let client = match Client::new(opts) {
        Ok(c) => c,
        Err(e) => {
            outcome.errors.push(format!("{shown}: {e}"));
            return;
        }
    };
    let runs = match client.runs(target, opts.runs, opts.since.as_deref()) {
        Ok(r) => r,
        Err(e) => {
            outcome.errors.push(format!("{shown}: {e}"));
            return;
        }
    };
    // A repository whose runs were listed was scanned, even if nothing new was read.
    outcome.empty_ok = true;
    let empty = HashMap::new();
    let known = known.unwrap_or(&empty);
    let mut scratch = sprawl_detect::Scratch::default();
    let mut count = Counts::default();
    for (run, attempt, workflow) in &runs {
        let run_origin = CiLogOrigin {
            target: shown.clone(),
            run: *run,
            attempt: *attempt,
            workflow: workflow.clone(),
            job: "(artifact)".into(),
            step: None,
            date: String::new(),
            url: format!(
                "https://github.com/{}/{}/actions/runs/{run}",
                target.owner, target.repo
            ),
            artifact: None,
            path: String::new(),
        };
        scan_artifacts(
            engine,
            fp,
            &client,
            target,
            &run_origin,
            windowing,
            limits,
            known,
            &mut scratch,
            &mut count,
            outcome,
        );
        let jobs = match client.jobs(target, *run, workflow) {
            Ok(j) => j,
            Err(e) => {
                outcome.errors.push(format!("{shown}: run {run}: {e}"));
                continue;
            }
        };
        for job in jobs {
            let key = job_key(job.id, job.attempt);
            let origin = |step: Option<String>| {
                Origin::CiLog(Box::new(CiLogOrigin {
                    target: shown.clone(),
                    run: job.run,
                    attempt: job.attempt,
                    workflow: job.workflow.clone(),
                    job: job.name.clone(),
                    step,
                    date: job.started_at.clone(),
                    url: job.url.clone(),
                    artifact: None,
                    path: format!("{shown} run {} job {}", job.run, job.name),
                }))
            };
            if known.contains_key(&key) {
                count.remembered += 1;
                for (step, ms) in remembered(known, &key, "step") {
                    let step = (!step.is_empty()).then(|| step.to_string());
                    for m in ms {
                        outcome.findings.push(crate::to_finding(
                            engine,
                            m.clone(),
                            origin(step.clone()),
                        ));
                    }
                }
                continue;
            }
            let stream = match client.log(target, job.id) {
                Ok(s) => s,
                Err(LogError::Expired) => {
                    count.expired += 1;
                    continue;
                }
                Err(LogError::Other(e)) => {
                    outcome.errors.push(format!(
                        "{shown}: run {run}, job {} ({}): {e}",
                        job.name, job.id
                    ));
                    continue;
                }
            };
            let starts = job
                .steps
                .iter()
                .map(|s| s.started_at.clone().unwrap_or_else(|| "~".into()))
                .collect();
            let mut cleaner = LogCleaner::new(BufReader::with_capacity(64 << 10, stream), starts);
            let found = sprawl_detect::stream::detect_stream(engine, fp, &mut scratch, |f| {
                sprawl_core::read::read_stream(&mut cleaner, windowing, f)
            });
            let matches = match found {
                Ok((read, m)) => {
                    if let sprawl_core::read::ReadOutcome::Text(n) = read {
                        outcome.stats.bytes_scanned += n;
                    }
                    m
                }
                Err(e) => {
                    outcome.errors.push(format!(
                        "{shown}: run {run}, job {} ({}): log read failed: {e}",
                        job.name, job.id
                    ));
                    continue;
                }
            };
            count.jobs += 1;
            outcome.stats.blobs_scanned += 1;
            // Remembered per step, so a later audit gives the same findings without the log.
            let mut by_step: HashMap<String, Vec<BlobMatch>> = HashMap::new();
            for m in matches {
                let step = step_of(&job.steps, &cleaner.step_lines, m.line as u64);
                by_step
                    .entry(step.clone().unwrap_or_default())
                    .or_default()
                    .push(m.clone());
                outcome
                    .findings
                    .push(crate::to_finding(engine, m, origin(step)));
            }
            outcome.objects.push((key.clone(), Vec::new()));
            for (step, ms) in by_step {
                outcome.objects.push((format!("{key} step {step}"), ms));
            }
        }
    }
    outcome.notes.push(format!(
        "{shown}: {} run(s), {} job log(s) and {} artifact(s) read{}{}",
        runs.len(),
        count.jobs,
        count.artifacts,
        if count.remembered > 0 {
            format!(", {} read by an earlier audit", count.remembered)
        } else {
            String::new()
        },
        if count.expired > 0 {
            format!(", {} expired (no longer kept by GitHub)", count.expired)
        } else {
            String::new()
        }
    ));
}

/// What one target's scan read.
#[derive(Default)]
struct Counts {
    jobs: usize,
    artifacts: usize,
    expired: usize,
    remembered: usize,
}

/// The run's artifacts: zips walked like archives in a directory, member by member (or their
/// remembered matches).
#[allow(clippy::too_many_arguments)]
fn scan_artifacts(
    engine: &Arc<Engine>,
    fp: &Fingerprinter,
    client: &Client,
    target: &GhaTarget,
    run: &CiLogOrigin,
    windowing: Windowing,
    limits: &Limits,
    known: &HashMap<String, Vec<BlobMatch>>,
    scratch: &mut sprawl_detect::Scratch,
    count: &mut Counts,
    outcome: &mut ScanOutcome,
) {
    let list = match client.artifacts(target, run.run) {
        Ok(l) => l,
        Err(e) => {
            outcome
                .errors
                .push(format!("{}: run {}: artifacts: {e}", run.target, run.run));
            return;
        }
    };
    for (id, name, size) in list {
        let key = artifact_key(id);
        let zip_name = format!("{name}.zip");
        let member_origin = |member: &str| {
            let mut o = run.clone();
            o.path = format!("{} run {} artifact {member}", o.target, o.run);
            o.artifact = Some(member.to_string());
            Origin::CiLog(Box::new(o))
        };
        if known.contains_key(&key) {
            count.remembered += 1;
            for (member, ms) in remembered(known, &key, "member") {
                for m in ms {
                    outcome.findings.push(crate::to_finding(
                        engine,
                        m.clone(),
                        member_origin(member),
                    ));
                }
            }
            continue;
        }
        let stream = match client.artifact(target, id) {
            Ok(s) => s,
            Err(LogError::Expired) => continue,
            Err(LogError::Other(e)) => {
                outcome.errors.push(format!(
                    "{}: run {}, artifact {name}: {e}",
                    run.target, run.run
                ));
                continue;
            }
        };
        let mut v = ArtifactVisitor {
            engine,
            fp,
            scratch: &mut *scratch,
            windowing,
            found: Vec::new(),
            outcome: &mut *outcome,
        };
        let mut r = BufReader::new(stream);
        let walked = sprawl_source::archive::walk_archive(&zip_name, &mut r, size, limits, &mut v);
        let found = std::mem::take(&mut v.found);
        match walked {
            Ok(_) => {
                count.artifacts += 1;
                let mut by_member: HashMap<String, Vec<BlobMatch>> = HashMap::new();
                for (member, m) in found {
                    by_member.entry(member.clone()).or_default().push(m.clone());
                    outcome
                        .findings
                        .push(crate::to_finding(engine, m, member_origin(&member)));
                }
                outcome.objects.push((key.clone(), Vec::new()));
                for (member, ms) in by_member {
                    outcome.objects.push((format!("{key} member {member}"), ms));
                }
            }
            Err(e) => {
                // What the readable members held is still reported; nothing is remembered,
                // so the next audit reads the artifact again.
                for (member, m) in found {
                    outcome
                        .findings
                        .push(crate::to_finding(engine, m, member_origin(&member)));
                }
                outcome.errors.push(format!(
                    "{}: run {}, artifact {zip_name}: {e}",
                    run.target, run.run
                ));
            }
        }
    }
}

/// Scans the members of one artifact zip, collecting (member, match).
struct ArtifactVisitor<'a> {
    engine: &'a Arc<Engine>,
    fp: &'a Fingerprinter,
    scratch: &'a mut sprawl_detect::Scratch,
    windowing: Windowing,
    found: Vec<(String, BlobMatch)>,
    outcome: &'a mut ScanOutcome,
}

impl Visitor for ArtifactVisitor<'_> {
    fn file(
        &mut self,
        _top: &str,
        shown: &str,
        _size: u64,
        content: &mut dyn std::io::Read,
    ) -> std::io::Result<()> {
        let (read, matches) =
            sprawl_detect::stream::detect_stream(self.engine, self.fp, self.scratch, |f| {
                sprawl_core::read::read_stream(content, self.windowing, f)
            })?;
        if let sprawl_core::read::ReadOutcome::Text(n) = read {
            self.outcome.stats.bytes_scanned += n;
            self.outcome.stats.blobs_scanned += 1;
        }
        self.found
            .extend(matches.into_iter().map(|m| (shown.to_string(), m)));
        Ok(())
    }

    fn note(&mut self, message: String) {
        self.outcome.notes.push(message);
    }

    fn error(&mut self, message: String) {
        self.outcome.errors.push(message);
    }
}
