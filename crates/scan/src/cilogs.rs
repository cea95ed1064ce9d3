//! CI job logs: `gha://OWNER/REPO` (GitHub Actions: runs → jobs → logs, and each run's
//! artifacts) and `gitlab-ci://GROUP/PROJECT` (GitLab: pipelines → jobs → traces, and each
//! job's artifacts archive). Each log is streamed through the cleaner (no timestamps, colour
//! codes or GitLab section markers; line numbers kept) into the detection stage; artifacts are
//! walked as zip archives. Findings name the run or pipeline, attempt, job, step or section,
//! date and URL. An expired log is counted in a note; a log that cannot be read is an error
//! naming the job; the other jobs go on. With an audit's memory, a log or artifact read before
//! is not downloaded again: its matches, remembered per step or member, come back as findings.

use std::collections::HashMap;
use std::io::{BufReader, Read};
use std::sync::Arc;

use sprawl_core::fingerprint::Fingerprinter;
use sprawl_core::origin::{CiLogOrigin, Origin};
use sprawl_core::read::{ReadOutcome, Windowing};
use sprawl_detect::Engine;
use sprawl_source::archive::{Limits, Visitor};
use sprawl_source::cilogs::{
    CiLogOptions, Client, GhaTarget, LogCleaner, LogError, section_of, step_of,
};
use sprawl_source::gitlab_ci::{GitLabClient, GitLabTarget};

use crate::{BlobMatch, ScanOutcome};

/// What a CI target's scan read.
#[derive(Default)]
struct Counts {
    logs: usize,
    artifacts: usize,
    expired: usize,
    remembered: usize,
}

/// The detection stage for logs and artifacts of one target.
struct Reader<'a> {
    engine: &'a Arc<Engine>,
    fp: &'a Fingerprinter,
    scratch: sprawl_detect::Scratch,
    windowing: Windowing,
    limits: &'a Limits,
    known: &'a HashMap<String, Vec<BlobMatch>>,
    counts: Counts,
}

/// A log's matches, with what the cleaner learnt of its steps and sections.
struct LogRead {
    matches: Vec<BlobMatch>,
    step_lines: Vec<Option<u64>>,
    sections: Vec<(u64, String)>,
}

impl<'a> Reader<'a> {
    /// A reader for one target; `known` holds what earlier audits remembered of its logs.
    fn new(
        engine: &'a Arc<Engine>,
        fp: &'a Fingerprinter,
        windowing: Windowing,
        limits: &'a Limits,
        known: &'a HashMap<String, Vec<BlobMatch>>,
    ) -> Reader<'a> {
        Reader {
            engine,
            fp,
            scratch: sprawl_detect::Scratch::default(),
            windowing,
            limits,
            known,
            counts: Counts::default(),
        }
    }

    /// Streams one log through the cleaner and the detection stage.
    fn log(
        &mut self,
        stream: Box<dyn Read + Send>,
        step_starts: Vec<String>,
        gitlab: bool,
        outcome: &mut ScanOutcome,
    ) -> std::io::Result<LogRead> {
        let mut cleaner = LogCleaner::new(BufReader::with_capacity(64 << 10, stream), step_starts);
        if gitlab {
            cleaner = cleaner.gitlab();
        }
        let windowing = self.windowing;
        let (read, matches) =
            sprawl_detect::stream::detect_stream(self.engine, self.fp, &mut self.scratch, |f| {
                sprawl_core::read::read_stream(&mut cleaner, windowing, f)
            })?;
        if let ReadOutcome::Text(n) = read {
            outcome.stats.bytes_scanned += n;
        }
        outcome.stats.blobs_scanned += 1;
        self.counts.logs += 1;
        Ok(LogRead {
            matches,
            step_lines: cleaner.step_lines,
            sections: cleaner.sections,
        })
    }

    /// Walks one artifact zip: every member's matches, and whether the walk completed.
    fn archive(
        &mut self,
        name: &str,
        size: u64,
        stream: Box<dyn Read + Send>,
        outcome: &mut ScanOutcome,
    ) -> (Vec<(String, BlobMatch)>, Result<(), String>) {
        let mut v = ArtifactVisitor {
            engine: self.engine,
            fp: self.fp,
            scratch: &mut self.scratch,
            windowing: self.windowing,
            found: Vec::new(),
            outcome,
        };
        let mut r = BufReader::new(stream);
        let walked = sprawl_source::archive::walk_archive(name, &mut r, size, self.limits, &mut v);
        let found = std::mem::take(&mut v.found);
        if walked.is_ok() {
            self.counts.artifacts += 1;
        }
        (found, walked.map(|_| ()))
    }

    /// The remembered matches under `key`, by sub-key name (`{key} {kind} NAME`), when the
    /// thing was read by an earlier audit.
    fn recall(&mut self, key: &str, kind: &str) -> Option<Vec<(String, BlobMatch)>> {
        if !self.known.contains_key(key) {
            return None;
        }
        self.counts.remembered += 1;
        let prefix = format!("{key} {kind} ");
        let mut out: Vec<(String, BlobMatch)> = self
            .known
            .iter()
            .filter_map(|(k, v)| k.strip_prefix(&prefix).map(|name| (name, v)))
            .flat_map(|(name, ms)| ms.iter().map(move |m| (name.to_string(), m.clone())))
            .collect();
        out.sort_by(|a, b| (&a.0, a.1.line, a.1.column).cmp(&(&b.0, b.1.line, b.1.column)));
        Some(out)
    }
}

/// Remembers `found` under `key` (a marker, then the matches per `{key} {kind} NAME`), so a
/// later audit gives the same findings without reading again.
fn remember(outcome: &mut ScanOutcome, key: &str, kind: &str, found: &[(String, BlobMatch)]) {
    let mut groups: HashMap<&str, Vec<BlobMatch>> = HashMap::new();
    for (name, m) in found {
        groups.entry(name).or_default().push(m.clone());
    }
    outcome.objects.push((key.to_string(), Vec::new()));
    for (name, ms) in groups {
        outcome.objects.push((format!("{key} {kind} {name}"), ms));
    }
}

/// The counts as a note.
fn note(shown: &str, what: String, c: &Counts, logs: &str, artifacts: &str) -> String {
    let mut s = format!(
        "{shown}: {what}, {} {logs} and {} {artifacts} read",
        c.logs, c.artifacts
    );
    if c.remembered > 0 {
        s.push_str(&format!(", {} read by an earlier audit", c.remembered));
    }
    if c.expired > 0 {
        s.push_str(&format!(", {} expired", c.expired));
    }
    s
}

/// Scans the job logs and artifacts of a GitHub repository's newest runs into `outcome`
/// (memory keys `gha-job ID ATTEMPT step NAME`, `gha-artifact ID member PATH`).
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
    let opts = &target.options(opts);
    let runs = match Client::new(opts).and_then(|c| {
        let runs = c.runs(target, opts.runs, opts.since.as_deref())?;
        Ok((c, runs))
    }) {
        Ok(x) => x,
        Err(e) => {
            outcome.errors.push(format!("{shown}: {e}"));
            return;
        }
    };
    let (client, runs) = runs;
    // A repository whose runs were listed was scanned, even if nothing new was read.
    outcome.empty_ok = true;
    let empty = HashMap::new();
    let mut reader = Reader::new(engine, fp, windowing, limits, known.unwrap_or(&empty));
    for (run, attempt, workflow) in &runs {
        let base = CiLogOrigin {
            target: shown.clone(),
            run: *run,
            attempt: *attempt,
            workflow: workflow.clone(),
            job: "(artifact)".into(),
            step: None,
            date: String::new(),
            url: target.run_url(&opts.api, *run),
            artifact: None,
            path: String::new(),
        };
        match client.artifacts(target, *run) {
            Ok(list) => {
                for (id, name, size) in list {
                    let key = format!("gha-artifact {id}");
                    let zip_name = format!("{name}.zip");
                    if size > sprawl_source::cilogs::MAX_ARTIFACT {
                        outcome.errors.push(format!(
                            "{shown}: run {run}, artifact {zip_name}: {size} bytes, over the {} MiB artifacts are read up to: not scanned",
                            sprawl_source::cilogs::MAX_ARTIFACT >> 20
                        ));
                        continue;
                    }
                    let found = match reader.recall(&key, "member") {
                        Some(found) => found,
                        None => match client.artifact(target, id) {
                            Ok(stream) => {
                                // The API's size may lie: never read past the limit.
                                let stream: Box<dyn Read + Send> =
                                    Box::new(stream.take(sprawl_source::cilogs::MAX_ARTIFACT + 1));
                                let (found, walked) =
                                    reader.archive(&zip_name, size, stream, outcome);
                                match walked {
                                    Ok(()) => remember(outcome, &key, "member", &found),
                                    Err(e) => outcome.errors.push(format!(
                                        "{shown}: run {run}, artifact {zip_name}: {e}"
                                    )),
                                }
                                found
                            }
                            Err(LogError::Expired) => continue,
                            Err(LogError::Other(e)) => {
                                outcome
                                    .errors
                                    .push(format!("{shown}: run {run}, artifact {name}: {e}"));
                                continue;
                            }
                        },
                    };
                    for (member, m) in found {
                        let mut o = base.clone();
                        o.path = format!("{shown} run {run} artifact {member}");
                        o.artifact = Some(member);
                        outcome.findings.push(crate::to_finding(
                            engine,
                            m,
                            Origin::CiLog(Box::new(o)),
                        ));
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
            let key = format!("gha-job {} {}", job.id, job.attempt);
            // A log read before comes back from memory, unless it was deleted or expired since
            // (`purge-logs`, retention); when that cannot be told, its copies are kept.
            if reader.known.contains_key(&key) {
                match client.log_exists(target, job.id) {
                    Ok(true) => {}
                    Ok(false) => {
                        reader.counts.expired += 1;
                        continue;
                    }
                    Err(e) => outcome.errors.push(format!(
                        "{shown}: run {run}, job {} ({}): {e}",
                        job.name, job.id
                    )),
                }
            }
            let found = match reader.recall(&key, "step") {
                Some(found) => found,
                None => {
                    let read = client.log(target, job.id).map_err(|e| match e {
                        LogError::Expired => None,
                        LogError::Other(e) => Some(e),
                    });
                    let starts = job
                        .steps
                        .iter()
                        .map(|s| s.started_at.clone().unwrap_or_else(|| "~".into()))
                        .collect();
                    match read.and_then(|s| {
                        reader
                            .log(s, starts, false, outcome)
                            .map_err(|e| Some(format!("log read failed: {e}")))
                    }) {
                        Ok(log) => {
                            let found: Vec<(String, BlobMatch)> = log
                                .matches
                                .into_iter()
                                .map(|m| {
                                    let step = step_of(&job.steps, &log.step_lines, m.line as u64);
                                    (step.unwrap_or_default(), m)
                                })
                                .collect();
                            remember(outcome, &key, "step", &found);
                            found
                        }
                        Err(None) => {
                            reader.counts.expired += 1;
                            continue;
                        }
                        Err(Some(e)) => {
                            outcome.errors.push(format!(
                                "{shown}: run {run}, job {} ({}): {e}",
                                job.name, job.id
                            ));
                            continue;
                        }
                    }
                }
            };
            for (step, m) in found {
                let origin = CiLogOrigin {
                    target: shown.clone(),
                    run: job.run,
                    attempt: job.attempt,
                    workflow: job.workflow.clone(),
                    job: job.name.clone(),
                    step: (!step.is_empty()).then_some(step),
                    date: job.started_at.clone(),
                    url: job.url.clone(),
                    artifact: None,
                    path: format!("{shown} run {} job {}", job.run, job.name),
                };
                outcome.findings.push(crate::to_finding(
                    engine,
                    m,
                    Origin::CiLog(Box::new(origin)),
                ));
            }
        }
    }
    let what = format!("{} run(s)", runs.len());
    outcome.notes.push(note(
        &shown,
        what,
        &reader.counts,
        "job log(s)",
        "artifact(s)",
    ));
}

/// Scans the job traces and artifacts of a GitLab project's newest pipelines into `outcome`
/// (memory keys `gl-job ID step SECTION`, `gl-artifact ID member PATH`).
#[allow(clippy::too_many_arguments)]
pub fn scan_gitlab(
    engine: &Arc<Engine>,
    fp: &Fingerprinter,
    target: &GitLabTarget,
    opts: &CiLogOptions,
    windowing: Windowing,
    limits: &Limits,
    known: Option<&HashMap<String, Vec<BlobMatch>>>,
    outcome: &mut ScanOutcome,
) {
    let shown = target.shown();
    let listed = GitLabClient::new(&opts.gitlab_url, opts).and_then(|c| {
        let jobs = c.jobs(target, opts.runs, opts.since.as_deref())?;
        Ok((c, jobs))
    });
    let (client, jobs) = match listed {
        Ok(x) => x,
        Err(e) => {
            outcome.errors.push(format!("{shown}: {e}"));
            return;
        }
    };
    outcome.empty_ok = true;
    let empty = HashMap::new();
    let mut reader = Reader::new(engine, fp, windowing, limits, known.unwrap_or(&empty));
    let mut pipelines: Vec<u64> = Vec::new();
    for job in &jobs {
        if !pipelines.contains(&job.pipeline) {
            pipelines.push(job.pipeline);
        }
        let origin = |step: Option<String>, artifact: Option<String>| {
            // The job id is in the path: `purge-logs` erases by it.
            let path = match &artifact {
                Some(a) => format!("{shown} job {} artifact {a}", job.id),
                None => format!(
                    "{shown} job {} {} (pipeline {})",
                    job.id, job.name, job.pipeline
                ),
            };
            Origin::CiLog(Box::new(CiLogOrigin {
                target: shown.clone(),
                run: job.pipeline,
                attempt: 1,
                workflow: job.stage.clone(),
                job: job.name.clone(),
                step,
                date: job.started_at.clone(),
                url: job.url.clone(),
                artifact,
                path,
            }))
        };
        if job.erased {
            // Erased: no trace, no artifacts, nothing to remember either.
            reader.counts.expired += 1;
            continue;
        }
        let key = format!("gl-job {}", job.id);
        let found = match reader.recall(&key, "step") {
            Some(found) => Some(found),
            None => match client.trace(target, job.id) {
                Ok(stream) => match reader.log(stream, Vec::new(), true, outcome) {
                    Ok(log) => {
                        let found: Vec<(String, BlobMatch)> = log
                            .matches
                            .into_iter()
                            .map(|m| {
                                let s = section_of(&log.sections, m.line as u64);
                                (s.unwrap_or_default(), m)
                            })
                            .collect();
                        remember(outcome, &key, "step", &found);
                        Some(found)
                    }
                    Err(e) => {
                        outcome.errors.push(format!(
                            "{shown}: job {} ({}): trace read failed: {e}",
                            job.name, job.id
                        ));
                        None
                    }
                },
                Err(LogError::Expired) => {
                    reader.counts.expired += 1;
                    None
                }
                Err(LogError::Other(e)) => {
                    outcome
                        .errors
                        .push(format!("{shown}: job {} ({}): {e}", job.name, job.id));
                    None
                }
            },
        };
        for (step, m) in found.unwrap_or_default() {
            let step = (!step.is_empty()).then_some(step);
            outcome
                .findings
                .push(crate::to_finding(engine, m, origin(step, None)));
        }
        if !job.has_archive {
            continue;
        }
        let key = format!("gl-artifact {}", job.id);
        let zip_name = format!("{}-artifacts.zip", job.name);
        let found = match reader.recall(&key, "member") {
            Some(found) => found,
            None => match client.artifacts(target, job.id) {
                Ok(stream) => {
                    let stream: Box<dyn Read + Send> =
                        Box::new(stream.take(sprawl_source::cilogs::MAX_ARTIFACT + 1));
                    let (found, walked) =
                        reader.archive(&zip_name, job.archive_size, stream, outcome);
                    match walked {
                        Ok(()) => remember(outcome, &key, "member", &found),
                        Err(e) => outcome.errors.push(format!(
                            "{shown}: job {} ({}): artifact {zip_name}: {e}",
                            job.name, job.id
                        )),
                    }
                    found
                }
                Err(LogError::Expired) => continue,
                Err(LogError::Other(e)) => {
                    outcome.errors.push(format!(
                        "{shown}: job {} ({}): artifacts: {e}",
                        job.name, job.id
                    ));
                    continue;
                }
            },
        };
        for (member, m) in found {
            outcome
                .findings
                .push(crate::to_finding(engine, m, origin(None, Some(member))));
        }
    }
    let what = format!("{} pipeline(s)", pipelines.len());
    outcome.notes.push(note(
        &shown,
        what,
        &reader.counts,
        "job trace(s)",
        "artifact archive(s)",
    ));
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
        content: &mut dyn Read,
    ) -> std::io::Result<()> {
        let (read, matches) =
            sprawl_detect::stream::detect_stream(self.engine, self.fp, self.scratch, |f| {
                sprawl_core::read::read_stream(content, self.windowing, f)
            })?;
        if let ReadOutcome::Text(n) = read {
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
