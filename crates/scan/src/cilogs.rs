//! CI job logs (`gha://OWNER/REPO`): each job log of the newest runs is streamed through the
//! cleaner (no timestamps, no colour codes, line numbers kept) into the detection stage, and
//! each match becomes a finding whose origin names the run, attempt, job, step, date and URL.
//! An expired log is a note; a log that cannot be read is an error naming the job; the other
//! jobs go on.

use std::io::BufReader;
use std::sync::Arc;

use sprawl_core::fingerprint::Fingerprinter;
use sprawl_core::origin::{CiLogOrigin, Origin};
use sprawl_core::read::Windowing;
use sprawl_detect::Engine;
use sprawl_source::archive::{Limits, Visitor};
use sprawl_source::cilogs::{CiLogOptions, Client, GhaTarget, LogCleaner, LogError, step_of};

use crate::ScanOutcome;

/// Scans the job logs of `target`'s newest runs into `outcome`.
pub fn scan_gha(
    engine: &Arc<Engine>,
    fp: &Fingerprinter,
    target: &GhaTarget,
    opts: &CiLogOptions,
    windowing: Windowing,
    limits: &Limits,
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
    let mut scratch = sprawl_detect::Scratch::default();
    let (mut jobs_read, mut expired, mut artifacts_read) = (0usize, 0usize, 0usize);
    for (run, attempt, workflow) in &runs {
        // The run's artifacts: zips walked like archives in a directory, member by member.
        match client.artifacts(target, *run) {
            Ok(list) => {
                for (id, name, size) in list {
                    let stream = match client.artifact(target, id) {
                        Ok(s) => s,
                        Err(LogError::Expired) => continue,
                        Err(LogError::Other(e)) => {
                            outcome
                                .errors
                                .push(format!("{shown}: run {run}, artifact {name}: {e}"));
                            continue;
                        }
                    };
                    let zip_name = format!("{name}.zip");
                    let mut v = ArtifactVisitor {
                        engine,
                        fp,
                        scratch: &mut scratch,
                        windowing,
                        base: CiLogOrigin {
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
                        },
                        outcome: &mut *outcome,
                    };
                    let mut r = std::io::BufReader::new(stream);
                    match sprawl_source::archive::walk_archive(
                        &zip_name, &mut r, size, limits, &mut v,
                    ) {
                        Ok(_) => artifacts_read += 1,
                        Err(e) => outcome
                            .errors
                            .push(format!("{shown}: run {run}, artifact {zip_name}: {e}")),
                    }
                }
            }
            Err(e) => outcome
                .errors
                .push(format!("{shown}: run {run}: artifacts: {e}")),
        }
        let jobs = match client.jobs(target, *run, workflow) {
            Ok(j) => j,
            Err(e) => {
                outcome.errors.push(format!("{shown}: run {run}: {e}"));
                continue;
            }
        };
        for job in jobs {
            let stream = match client.log(target, job.id) {
                Ok(s) => s,
                Err(LogError::Expired) => {
                    expired += 1;
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
            jobs_read += 1;
            outcome.stats.blobs_scanned += 1;
            for m in matches {
                let origin = Origin::CiLog(Box::new(CiLogOrigin {
                    target: shown.clone(),
                    run: job.run,
                    attempt: job.attempt,
                    workflow: job.workflow.clone(),
                    job: job.name.clone(),
                    step: step_of(&job.steps, &cleaner.step_lines, m.line as u64),
                    date: job.started_at.clone(),
                    url: job.url.clone(),
                    artifact: None,
                    path: format!("{shown} run {} job {}", job.run, job.name),
                }));
                outcome.findings.push(crate::to_finding(engine, m, origin));
            }
        }
    }
    outcome.notes.push(format!(
        "{shown}: {} run(s), {jobs_read} job log(s) and {artifacts_read} artifact(s) read{}",
        runs.len(),
        if expired > 0 {
            format!(", {expired} expired (no longer kept by GitHub)")
        } else {
            String::new()
        }
    ));
}

/// Scans the members of one artifact zip.
struct ArtifactVisitor<'a> {
    engine: &'a Arc<Engine>,
    fp: &'a Fingerprinter,
    scratch: &'a mut sprawl_detect::Scratch,
    windowing: Windowing,
    base: CiLogOrigin,
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
        for m in matches {
            let mut origin = self.base.clone();
            origin.path = format!("{} run {} artifact {shown}", origin.target, origin.run);
            origin.artifact = Some(shown.to_string());
            self.outcome.findings.push(crate::to_finding(
                self.engine,
                m,
                Origin::CiLog(Box::new(origin)),
            ));
        }
        Ok(())
    }

    fn note(&mut self, message: String) {
        self.outcome.notes.push(message);
    }

    fn error(&mut self, message: String) {
        self.outcome.errors.push(message);
    }
}
