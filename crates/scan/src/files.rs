//! The scan pipeline for files and directories: the walker's threads read files (source::fs),
//! run the detector on each window (detect), and send findings to one collector thread.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use super::{ScanOutcome, detect_stream, sort_findings, to_findings};
use crossbeam_channel::{Sender, bounded};
use ignore::WalkState;
use sprawl_core::finding::Finding;
use sprawl_core::fingerprint::Fingerprinter;
use sprawl_detect::{Engine, Scratch};
use sprawl_source::Origin;
use sprawl_source::archive::{self, Limits, Visitor};
use sprawl_source::fs::{self, ReadOutcome, WalkOptions, Windowing};

/// Everything a scan needs besides the rules.
#[derive(Clone, Default)]
pub struct ScanOptions {
    /// Files and directories to scan; `-` is standard input.
    pub targets: Vec<PathBuf>,
    /// Walker settings.
    pub walk: WalkOptions,
    /// Skip files larger than this many bytes.
    pub max_file_size: Option<u64>,
    /// Window sizes for large files.
    pub windowing: Windowing,
    /// Told of the scan's progress (the binary draws a spinner from it).
    pub observer: Option<Arc<dyn super::Observer>>,
    /// Open archives found in directories (`.zip`, `.jar`, `.tar.gz`, …) with these limits;
    /// `None` scans them as plain (binary) files.
    pub archives: Option<Limits>,
    /// Set when the targets are a repository's working tree: files whose bytes history holds
    /// are skipped, the others say why they were scanned.
    pub work_tree: Option<Arc<sprawl_source::git::worktree::WorkTree>>,
    /// Files a gitignore-respecting walk visits: a scanned file not in it counts as
    /// gitignored ([`super::Stats::gitignored_scanned`]).
    pub gitignored: Option<Arc<std::collections::HashSet<PathBuf>>>,
}

enum Event {
    Blob {
        bytes: u64,
        findings: Vec<Finding>,
    },
    Skipped(ReadOutcome),
    Error(String),
    Note(String),
    /// A file scanned that .gitignore excludes.
    Gitignored,
}

/// Runs a scan of `opts.targets` with `engine`.
pub fn scan_paths(engine: Arc<Engine>, fp: Fingerprinter, opts: &ScanOptions) -> ScanOutcome {
    let started = Instant::now();
    let (tx, rx) = bounded::<Event>(1024);
    let observer = opts.observer.clone();
    let collector = std::thread::spawn(move || collect(rx, observer));
    let (stream_targets, path_targets): (Vec<PathBuf>, Vec<PathBuf>) =
        opts.targets.iter().cloned().partition(|t| is_stream(t));
    for t in &stream_targets {
        scan_stream(&engine, &fp, t, opts, &tx);
    }
    if !path_targets.is_empty() {
        walk(&engine, &fp, &path_targets, opts, &tx);
    }
    drop(tx);
    let mut outcome = collector.join().unwrap_or_default();
    sort_findings(&mut outcome.findings);
    outcome.errors.sort();
    outcome.elapsed = started.elapsed();
    outcome
}

/// Scans stdin (`-`) or a FIFO, process substitution (`<(cmd)`) or device named on the command
/// line: read as a stream, never sniffed, never opened in a way that waits for a writer.
fn scan_stream(
    engine: &Engine,
    fp: &Fingerprinter,
    target: &std::path::Path,
    opts: &ScanOptions,
    tx: &Sender<Event>,
) {
    let mut scratch = Scratch::default();
    if target.as_os_str() == "-" {
        let stdin = std::io::stdin().lock();
        let res = detect_stream(engine, fp, &mut scratch, |f| {
            fs::read_stream(stdin, opts.windowing, f)
        })
        .map(|(o, m)| (o, to_findings(engine, m, &Origin::Stdin)));
        send_result(tx, "<stdin>", res);
        return;
    }
    let shown = sprawl_core::redact::path_text(target);
    let res = sprawl_core::bounded::open_stream(target).and_then(|file| {
        detect_stream(engine, fp, &mut scratch, |f| {
            fs::read_stream(file, opts.windowing, f)
        })
    });
    match res {
        Ok((ReadOutcome::Text(0), _)) => {
            let _ = tx.send(Event::Error(format!(
                "{shown}: no data could be read (a FIFO with no writer?)"
            )));
        }
        res => {
            let res = res.map(|(o, m)| {
                let origin = Origin::File {
                    path: shown.clone(),
                    work_tree: None,
                };
                (o, to_findings(engine, m, &origin))
            });
            send_result(tx, &shown, res);
        }
    }
}

/// Walks the path targets on the walker's threads, each with its own [`FileWorker`].
fn walk(
    engine: &Arc<Engine>,
    fp: &Fingerprinter,
    targets: &[PathBuf],
    opts: &ScanOptions,
    tx: &Sender<Event>,
) {
    match fs::walker(targets, &opts.walk) {
        Err(e) => {
            let _ = tx.send(Event::Error(e));
        }
        Ok(walker) => walker.run(|| {
            let mut worker = FileWorker {
                engine: Arc::clone(engine),
                fp: fp.clone(),
                tx: tx.clone(),
                scratch: Scratch::default(),
                max: opts.max_file_size,
                windowing: opts.windowing,
                archives: opts.archives,
                work_tree: opts.work_tree.clone(),
                visible: opts.gitignored.clone(),
            };
            Box::new(move |entry| worker.visit(entry))
        }),
    }
}

/// What one walker thread holds: the engine, its scratch space and the scan's settings.
struct FileWorker {
    engine: Arc<Engine>,
    fp: Fingerprinter,
    tx: Sender<Event>,
    scratch: Scratch,
    max: Option<u64>,
    windowing: Windowing,
    archives: Option<Limits>,
    work_tree: Option<Arc<sprawl_source::git::worktree::WorkTree>>,
    visible: Option<Arc<std::collections::HashSet<PathBuf>>>,
}

impl FileWorker {
    /// One walked entry: skipped (not a file, held by history), an archive opened, or a file
    /// scanned.
    fn visit(&mut self, entry: Result<ignore::DirEntry, ignore::Error>) -> WalkState {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                let _ = self.tx.send(Event::Error(walk_error(&e)));
                return WalkState::Continue;
            }
        };
        if !entry.file_type().is_some_and(|t| t.is_file()) {
            return WalkState::Continue;
        }
        let path = entry.path();
        let work_tree = match &self.work_tree {
            Some(wt) => match wt.classify(path) {
                // History holds these bytes: already scanned there.
                None => return WalkState::Continue,
                state => state,
            },
            None => None,
        };
        if let Some(v) = &self.visible
            && !v.contains(path)
        {
            let _ = self.tx.send(Event::Gitignored);
        }
        let shown = sprawl_core::redact::path_text(path);
        let shown = shown
            .strip_prefix("./")
            .map(str::to_string)
            .unwrap_or(shown);
        match self.archives {
            Some(limits) if archive::is_archive_name(&shown) => {
                self.scan_archive(path, &shown, &limits, work_tree)
            }
            _ => self.scan_file(path, shown, work_tree),
        }
        WalkState::Continue
    }

    /// Opens an archive found in the walk and scans its members.
    fn scan_archive(
        &mut self,
        path: &std::path::Path,
        shown: &str,
        limits: &Limits,
        work_tree: Option<sprawl_source::WorkTreeState>,
    ) {
        let mut v = ArchiveVisitor {
            engine: &self.engine,
            fp: &self.fp,
            scratch: &mut self.scratch,
            tx: &self.tx,
            windowing: self.windowing,
            max: self.max,
            work_tree,
        };
        let walked = std::fs::File::open(path)
            .and_then(|f| Ok((f.metadata()?.len(), f)))
            .map_err(|e| e.to_string())
            .and_then(|(size, f)| {
                let mut r = std::io::BufReader::new(f);
                archive::walk_archive(shown, &mut r, size, limits, &mut v)
            });
        if let Err(e) = walked {
            let _ = self.tx.send(Event::Error(format!("{shown}: archive: {e}")));
        }
    }

    /// Scans one file, then runs the shared stage on its matches (CI configs and manifests
    /// are read again, whole, for their structure).
    fn scan_file(
        &mut self,
        path: &std::path::Path,
        shown: String,
        work_tree: Option<sprawl_source::WorkTreeState>,
    ) {
        let (engine, fp, tx) = (&self.engine, &self.fp, &self.tx);
        let (max, windowing) = (self.max, self.windowing);
        let scratch = &mut self.scratch;
        let res = detect_stream(engine, fp, scratch, |f| {
            fs::read_file(path, max, windowing, f)
        })
        .map(|(o, mut m)| {
            let mut bytes = Vec::new();
            let mut ci_path = None;
            if matches!(o, ReadOutcome::Text(_)) && sprawl_ci::candidate(&shown) {
                match sprawl_core::bounded::read_regular(path, sprawl_ci::MAX_STRUCTURE_READ) {
                    Ok(b) => {
                        bytes = b;
                        ci_path = Some(shown.as_str());
                    }
                    Err(e) => {
                        let _ = tx.send(Event::Note(format!(
                            "{shown}: not read for its YAML/CI structure ({e}): scanned as plain text, Kubernetes Secret data not decoded"
                        )));
                    }
                }
            }
            let messages =
                super::refine_found(engine, fp, scratch, ci_path, Some(&shown), &bytes, &mut m);
            send_messages(tx, messages);
            let origin = Origin::File {
                path: shown,
                work_tree,
            };
            (o, to_findings(engine, m, &origin))
        });
        send_result(tx, &sprawl_core::redact::path_text(path), res);
    }
}

/// True for targets read as one stream: `-` (stdin) and anything that exists but is neither a
/// regular file nor a directory (FIFOs, `/dev/fd/N`, character devices).
fn is_stream(t: &std::path::Path) -> bool {
    t.as_os_str() == "-" || std::fs::metadata(t).is_ok_and(|m| !m.is_file() && !m.is_dir())
}

/// Scans the members of an archive found in a directory, each as `archive!/member`.
struct ArchiveVisitor<'a> {
    engine: &'a Engine,
    fp: &'a Fingerprinter,
    scratch: &'a mut Scratch,
    tx: &'a Sender<Event>,
    windowing: Windowing,
    max: Option<u64>,
    /// Why the archive was scanned, when it sits in a repository's working tree.
    work_tree: Option<sprawl_source::WorkTreeState>,
}

/// Largest archive member or image file held in memory for its CI/GitOps structure.
pub(crate) const HELD_MEMBER: u64 = 16 << 20;

/// Sends the shared stage's messages as errors and notes.
fn send_messages(tx: &Sender<Event>, messages: Vec<sprawl_ci::Message>) {
    let (errors, notes) = sprawl_ci::split_messages(messages);
    for e in errors {
        let _ = tx.send(Event::Error(e));
    }
    for n in notes {
        let _ = tx.send(Event::Note(n));
    }
}

impl Visitor for ArchiveVisitor<'_> {
    fn file(
        &mut self,
        _top: &str,
        shown: &str,
        size: u64,
        content: &mut dyn std::io::Read,
    ) -> std::io::Result<()> {
        if self.max.is_some_and(|m| size > m) {
            let _ = self.tx.send(Event::Skipped(ReadOutcome::TooLarge(size)));
            return Ok(());
        }
        // A CI file or manifest inside an archive is held whole (up to 16 MiB) so that the
        // shared stage can read its structure, as for a file on disk.
        let structured = sprawl_ci::candidate(shown) && size <= HELD_MEMBER;
        let mut held = Vec::new();
        let res = if structured {
            std::io::Read::read_to_end(
                &mut std::io::Read::take(content, HELD_MEMBER + 1),
                &mut held,
            )?;
            detect_stream(self.engine, self.fp, self.scratch, |f| {
                fs::read_stream(&held[..], self.windowing, f)
            })
        } else {
            detect_stream(self.engine, self.fp, self.scratch, |f| {
                fs::read_stream(content, self.windowing, f)
            })
        };
        let res = res.map(|(o, mut m)| {
            let text = matches!(o, ReadOutcome::Text(_));
            let messages = super::refine_found(
                self.engine,
                self.fp,
                self.scratch,
                (structured && text).then_some(shown),
                Some(shown),
                &held,
                &mut m,
            );
            send_messages(self.tx, messages);
            let origin = Origin::File {
                path: shown.to_string(),
                work_tree: self.work_tree,
            };
            (o, to_findings(self.engine, m, &origin))
        });
        send_result(self.tx, shown, res);
        Ok(())
    }

    fn note(&mut self, message: String) {
        let _ = self.tx.send(Event::Note(message));
    }

    fn error(&mut self, message: String) {
        let _ = self.tx.send(Event::Error(message));
    }
}

fn send_result(tx: &Sender<Event>, name: &str, res: std::io::Result<(ReadOutcome, Vec<Finding>)>) {
    let ev = match res {
        Ok((ReadOutcome::Text(bytes), findings)) => Event::Blob { bytes, findings },
        Ok((other, _)) => Event::Skipped(other),
        Err(e) => Event::Error(format!("{name}: {e}")),
    };
    let _ = tx.send(ev);
}

/// Names the path in a walk error (ignore's messages carry it for most kinds).
fn walk_error(e: &ignore::Error) -> String {
    let msg = e.to_string();
    if msg.contains("File system loop") {
        format!("symlink loop: {msg}")
    } else {
        msg
    }
}

fn collect(
    rx: crossbeam_channel::Receiver<Event>,
    observer: Option<Arc<dyn super::Observer>>,
) -> ScanOutcome {
    let mut out = ScanOutcome::default();
    for ev in rx {
        match ev {
            Event::Blob { bytes, findings } => {
                out.stats.blobs_scanned += 1;
                out.stats.bytes_scanned += bytes;
                out.findings.extend(findings);
                // Every 64 files: a running total, not one call per file.
                if let Some(o) = &observer
                    && out.stats.blobs_scanned % 64 == 0
                {
                    o.progress(&out.stats, out.findings.len());
                }
            }
            Event::Skipped(ReadOutcome::Binary) => out.stats.skipped_binary += 1,
            Event::Skipped(_) => out.stats.skipped_too_large += 1,
            Event::Error(e) => out.errors.push(e),
            Event::Note(n) => out.notes.push(n),
            Event::Gitignored => out.stats.gitignored_scanned += 1,
        }
    }
    if let Some(o) = &observer {
        o.finished();
    }
    out
}
