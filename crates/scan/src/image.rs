//! The image pipeline: list the images of every target (source::image), read each config and
//! scan its fields, then read every distinct layer once (keyed by diff id, across all images of
//! the run) with reader threads that decompress and walk the tar while detector threads scan
//! file contents, each distinct content once (BLAKE3). Findings then fan out to every image,
//! layer and path holding the content, with the layer's build step and whether a later layer
//! hides the file.

use crate::seen::SeenFile;
use std::collections::{HashMap, HashSet};
use std::io::{self, Read};
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};

use crossbeam_channel::{Receiver, Sender, bounded};

use super::{BlobMatch, ScanOutcome, detect_stream, to_finding};
use sprawl_core::fingerprint::Fingerprinter;
use sprawl_detect::{Engine, Scratch};
use sprawl_source::Origin;
use sprawl_source::fs::{self, ReadOutcome, Windowing};
use sprawl_source::image::config::{self, ImageConfig};
use sprawl_source::image::layer::{self, LayerListing, Limits, Visitor};
use sprawl_source::image::manifest::{self, MAX_JSON};
use sprawl_source::image::registry::{ImageRef, Registry, RegistryOptions};
use sprawl_source::image::store::{self, DiskImage, Store, read_small};
use sprawl_source::image::visibility::visibility;
use sprawl_source::image::{BlobRef, ImageOrigin, ImageSpec, Visibility};

/// An image target.
#[derive(Debug, Clone)]
pub enum ImageTarget {
    /// An archive or layout on disk.
    Disk(PathBuf, DiskImage),
    /// `oci://host/repo:tag` in a registry.
    Registry(String),
}

/// Options of an image scan.
#[derive(Debug, Clone, Default)]
pub struct ImageOptions {
    /// Detector threads (and at most as many layer readers).
    pub threads: usize,
    /// Only this platform of multi-platform images (`linux/amd64`).
    pub platform: Option<String>,
    /// Decompression limits.
    pub limits: Limits,
    /// Skip files larger than this.
    pub max_file_size: Option<u64>,
    /// Window sizes for gigantic files.
    pub windowing: Windowing,
    /// Layers (diff ids) scanned in earlier runs: skipped, and new ones appended.
    pub seen_file: Option<PathBuf>,
    /// Registry access.
    pub registry: RegistryOptions,
    /// The image signature an inventory recorded at its last complete scan of these targets
    /// ([`images_signature`]): equal, the images are not read again.
    pub known_signature: Option<String>,
}

/// A digest of what the targets hold: every image's reference, platform, config (its digest
/// is the image id, which names every layer's content) and layer digests.
fn images_signature(images: &[Image]) -> String {
    let mut lines: Vec<String> = images
        .iter()
        .map(|i| {
            let blob = |b: &BlobRef| b.digest.clone().unwrap_or_else(|| b.path.clone());
            format!(
                "{} {} {} {}",
                i.spec.reference,
                i.spec.platform.as_deref().unwrap_or("-"),
                blob(&i.spec.config),
                i.spec.layers.iter().map(blob).collect::<Vec<_>>().join(",")
            )
        })
        .collect();
    lines.sort();
    blake3::hash(lines.join("\n").as_bytes())
        .to_hex()
        .to_string()
}

/// One image with everything needed to attribute findings.
struct Image {
    store: usize,
    spec: ImageSpec,
    config: ImageConfig,
    /// Layer slot of each layer (None: not read, e.g. a foreign layer).
    slots: Vec<Option<usize>>,
}

/// A distinct layer to read.
struct Slot {
    store: usize,
    blob: BlobRef,
    diff_id: Option<String>,
    /// How errors name it.
    label: String,
}

/// What reading a layer produced.
#[derive(Default)]
struct LayerResult {
    listing: LayerListing,
    /// (top path, shown path, content id) of every text file read.
    files: Vec<(String, String, u32)>,
    /// Content id of each top-level path, for "rewritten with the same bytes".
    by_path: HashMap<String, u32>,
    error: Option<String>,
    /// Members that could not be read (the layer itself was read): errors, not notes.
    member_errors: Vec<String>,
    notes: Vec<String>,
}

/// Counters shared by readers and detectors.
#[derive(Default)]
struct Counters {
    blobs: AtomicU64,
    bytes: AtomicU64,
    binary: AtomicU64,
    too_large: AtomicU64,
}

/// Content to scan.
struct Job {
    content: u32,
    bytes: Vec<u8>,
    /// Where the content was first seen in a layer: the shared stage reads CI and GitOps files
    /// for their structure and filters documentation by it.
    path: String,
}

/// Scans every image target and adds to `out`.
pub fn scan_images(
    engine: &Engine,
    fp: &Fingerprinter,
    targets: &[ImageTarget],
    opts: &ImageOptions,
    out: &mut ScanOutcome,
) {
    let mut stores: Vec<(String, Box<dyn Store>)> = Vec::new();
    let mut images: Vec<Image> = Vec::new();
    for t in targets {
        let (name, store, listing) = match open_target(t, opts) {
            Ok(x) => x,
            Err(e) => {
                out.errors.push(e);
                continue;
            }
        };
        out.notes.extend(listing.notes);
        out.errors.extend(listing.errors);
        let idx = stores.len();
        stores.push((name, store));
        for spec in listing.images {
            match load_config(stores[idx].1.as_ref(), &spec) {
                Ok(config) => images.push(Image {
                    store: idx,
                    spec,
                    config,
                    slots: Vec::new(),
                }),
                Err(e) => out.errors.push(e),
            }
        }
    }
    if !images.is_empty() {
        let names: Vec<&str> = stores.iter().map(|(n, _)| n.as_str()).collect();
        let sig = images_signature(&images);
        // Same images as the inventory's last complete scan: nothing new to read.
        if out.errors.is_empty() && opts.known_signature.as_deref() == Some(sig.as_str()) {
            out.unchanged.push(names.join(", "));
            out.empty_ok = true;
            return;
        }
        out.tips.push((names.join(", "), sig));
    }
    let mut scratch = Scratch::default();
    for img in &images {
        let first = out.findings.len();
        scan_config(engine, fp, &mut scratch, img, out);
        give_owners(img, &mut out.findings[first..]);
    }

    let seen_before = SeenFile(opts.seen_file.as_deref()).load(
        |l| l.starts_with("sha256:").then(|| l.to_string()),
        &mut out.errors,
    );
    let (slots, skipped_seen) = plan_layers(&mut images, &seen_before, out);
    if skipped_seen > 0 {
        out.notes.push(format!(
            "{skipped_seen} layer(s) scanned in an earlier run (--seen-file) were skipped"
        ));
    }

    let counters = Counters::default();
    let (results, matches, stage_messages) =
        read_layers(engine, fp, &stores, &slots, opts, &counters);
    // The CI/GitOps stage names the file (its path inside a layer); errors stay errors.
    let (stage_errors, stage_notes) = sprawl_ci::split_messages(stage_messages);
    out.errors.extend(stage_errors);
    out.notes.extend(stage_notes);
    out.stats.blobs_scanned += counters.blobs.load(Ordering::Relaxed);
    out.stats.bytes_scanned += counters.bytes.load(Ordering::Relaxed);
    out.stats.skipped_binary += counters.binary.load(Ordering::Relaxed);
    out.stats.skipped_too_large += counters.too_large.load(Ordering::Relaxed);

    out.stats.layers_read += slots.len() as u64;
    let mut read_ok = Vec::new();
    for (slot, r) in slots.iter().zip(&results) {
        out.notes.extend(r.notes.iter().cloned());
        out.errors.extend(r.member_errors.iter().cloned());
        match &r.error {
            Some(e) => out.errors.push(format!("{}: {e}", slot.label)),
            None => read_ok.push(slot_key(slot)),
        }
    }
    for img in &images {
        let first = out.findings.len();
        attribute(engine, img, &slots, &results, &matches, out);
        give_owners(img, &mut out.findings[first..]);
    }
    let layers: Vec<&String> = read_ok
        .iter()
        .filter(|k| k.starts_with("sha256:"))
        .collect();
    SeenFile(opts.seen_file.as_deref()).append(&layers, &mut out.errors);
}

/// Opens a target's store and lists its images.
fn open_target(
    t: &ImageTarget,
    opts: &ImageOptions,
) -> Result<(String, Box<dyn Store>, manifest::Listing), String> {
    let platform = opts.platform.as_deref();
    match t {
        ImageTarget::Disk(path, kind) => {
            let name = path.display().to_string();
            let store = store::open_disk(path, *kind, &opts.limits)
                .map_err(|e| format!("{name}: cannot read image archive: {e}"))?;
            let listing = manifest::list_disk(store.as_ref(), &name, platform)?;
            Ok((name, store, listing))
        }
        ImageTarget::Registry(text) => {
            let r = Registry::new(ImageRef::parse(text)?, &opts.registry);
            let listing = r.list(platform)?;
            Ok((r.shown().to_string(), Box::new(r), listing))
        }
    }
}

/// The image's owners (its `org.opencontainers.image.authors` label) for its findings that have
/// none.
fn give_owners(img: &Image, findings: &mut [sprawl_core::finding::Finding]) {
    if img.config.owners.is_empty() {
        return;
    }
    for f in findings.iter_mut().filter(|f| f.owners.is_empty()) {
        f.owners = img.config.owners.clone();
    }
}

/// Reads and parses an image's config, checking its digest.
fn load_config(store: &dyn Store, spec: &ImageSpec) -> Result<ImageConfig, String> {
    let what = format!("{}: config {}", spec.reference, spec.config.path);
    let bytes =
        read_small(store, &spec.config.path, MAX_JSON).map_err(|e| format!("{what}: {e}"))?;
    if let Some(d) = &spec.config.digest {
        manifest::verify_digest(&bytes, d, &what)?;
    }
    config::parse(&bytes).map_err(|e| format!("{what}: {e}"))
}

/// Scans the config's environment, command, labels and history as one text document.
fn scan_config(
    engine: &Engine,
    fp: &Fingerprinter,
    scratch: &mut Scratch,
    img: &Image,
    out: &mut ScanOutcome,
) {
    let doc = &img.config.document;
    let found = detect_stream(engine, fp, scratch, |f| {
        fs::read_stream(doc.text.as_bytes(), Windowing::default(), f)
    });
    let Ok((_, matches)) = found else { return };
    out.stats.blobs_scanned += 1;
    out.stats.bytes_scanned += doc.text.len() as u64;
    for mut m in matches {
        let field_line = doc.line_in_field(m.line);
        m.end_line = field_line + (m.end_line - m.line);
        let field = doc.field(m.line).to_string();
        m.line = field_line;
        let origin = ImageOrigin {
            image: img.spec.reference.clone(),
            platform: platform(img),
            layer_index: None,
            layer_digest: None,
            created_by: None,
            path: format!("config:{field}"),
            visibility: Visibility::Config,
        };
        out.findings
            .push(to_finding(engine, m, Origin::Image(Box::new(origin))));
    }
}

fn platform(img: &Image) -> Option<String> {
    img.spec
        .platform
        .clone()
        .or_else(|| img.config.platform.clone())
}

/// The key a layer is known by across images and runs: its diff id when the config gives one.
fn slot_key(s: &Slot) -> String {
    s.diff_id
        .clone()
        .or_else(|| s.blob.digest.clone())
        .unwrap_or_else(|| format!("{}#{}", s.store, s.blob.path))
}

/// Assigns every layer of every image to a distinct slot; layers seen in earlier runs and
/// foreign layers get none.
fn plan_layers(
    images: &mut [Image],
    seen: &HashSet<String>,
    out: &mut ScanOutcome,
) -> (Vec<Slot>, usize) {
    let mut slots: Vec<Slot> = Vec::new();
    let mut by_key: HashMap<String, usize> = HashMap::new();
    let mut skipped = HashSet::new();
    for img in images.iter_mut() {
        let n = img.spec.layers.len();
        if !img.config.diff_ids.is_empty() && img.config.diff_ids.len() != n {
            out.notes.push(format!(
                "{}: the manifest lists {n} layer(s) but the config {} diff id(s)",
                img.spec.reference,
                img.config.diff_ids.len()
            ));
        }
        for (i, blob) in img.spec.layers.iter().enumerate() {
            let shown = blob.digest.as_deref().unwrap_or(&blob.path);
            if blob.foreign {
                out.notes.push(format!(
                    "{}: layer {i} {shown} is a foreign layer (not in the image), not scanned",
                    img.spec.reference
                ));
                img.slots.push(None);
                continue;
            }
            let slot = Slot {
                store: img.store,
                blob: blob.clone(),
                diff_id: img.config.diff_ids.get(i).cloned(),
                label: format!("{}: layer {i} {shown}", img.spec.reference),
            };
            let key = slot_key(&slot);
            if seen.contains(&key) {
                skipped.insert(key);
                img.slots.push(None);
                continue;
            }
            let idx = *by_key.entry(key).or_insert_with(|| {
                slots.push(slot);
                slots.len() - 1
            });
            img.slots.push(Some(idx));
        }
    }
    (slots, skipped.len())
}

/// Reads every slot: reader threads decompress and walk layers, detector threads scan each
/// distinct file content once (and run the shared stage with the path it was first seen at).
/// Returns the stage's messages too.
fn read_layers(
    engine: &Engine,
    fp: &Fingerprinter,
    stores: &[(String, Box<dyn Store>)],
    slots: &[Slot],
    opts: &ImageOptions,
    counters: &Counters,
) -> (
    Vec<LayerResult>,
    HashMap<u32, Vec<BlobMatch>>,
    Vec<sprawl_ci::Message>,
) {
    let threads = opts.threads.max(1);
    let results: Vec<Mutex<LayerResult>> = slots.iter().map(|_| Mutex::default()).collect();
    let matches: Mutex<HashMap<u32, Vec<BlobMatch>>> = Mutex::default();
    let stage_messages: Mutex<Vec<sprawl_ci::Message>> = Mutex::default();
    let contents: Mutex<HashMap<[u8; 32], u32>> = Mutex::default();
    let next_id = AtomicU32::new(0);
    let next_slot = AtomicUsize::new(0);
    let (tx, rx) = bounded::<Job>(threads * 4);
    std::thread::scope(|s| {
        for _ in 0..threads {
            let rx: Receiver<Job> = rx.clone();
            let matches = &matches;
            let stage_messages = &stage_messages;
            s.spawn(move || {
                let mut scratch = Scratch::default();
                for job in rx {
                    let found = detect_stream(engine, fp, &mut scratch, |f| {
                        fs::read_stream(&job.bytes[..], opts.windowing, f)
                    })
                    .map(|(o, mut m)| {
                        let structured = matches!(o, ReadOutcome::Text(_))
                            && sprawl_ci::candidate(&job.path)
                            && job.bytes.len() as u64 <= super::files::HELD_MEMBER;
                        let n = super::refine_found(
                            engine,
                            fp,
                            &mut scratch,
                            structured.then_some(job.path.as_str()),
                            // Documentation is decided per path when findings fan out: the
                            // same content may also sit at a path that is not prose.
                            None,
                            &job.bytes,
                            &mut m,
                        );
                        if !n.is_empty() {
                            stage_messages
                                .lock()
                                .unwrap_or_else(|p| p.into_inner())
                                .extend(n);
                        }
                        (o, m)
                    });
                    record(counters, matches, job.content, found);
                }
            });
        }
        drop(rx);
        for _ in 0..threads.min(slots.len()) {
            let tx: Sender<Job> = tx.clone();
            let (next_slot, results, contents, matches, next_id) =
                (&next_slot, &results, &contents, &matches, &next_id);
            s.spawn(move || {
                let mut scratch = Scratch::default();
                loop {
                    let i = next_slot.fetch_add(1, Ordering::Relaxed);
                    let Some(slot) = slots.get(i) else { break };
                    let mut reader = LayerReader {
                        engine,
                        fp,
                        opts,
                        counters,
                        contents,
                        next_id,
                        matches,
                        scratch: &mut scratch,
                        tx: &tx,
                        result: LayerResult::default(),
                        label: &slot.label,
                    };
                    let store = stores[slot.store].1.as_ref();
                    let outcome = store
                        .open(&slot.blob.path)
                        .map_err(|e| format!("cannot open: {e}"))
                        .and_then(|raw| {
                            let mut listing = LayerListing::default();
                            let r = layer::walk_layer(
                                raw,
                                slot.blob.digest.as_deref(),
                                slot.diff_id.as_deref(),
                                &opts.limits,
                                &mut listing,
                                &mut reader,
                            );
                            reader.result.listing = listing;
                            r
                        });
                    let mut result = reader.result;
                    result.error = outcome.err();
                    if let Ok(mut r) = results[i].lock() {
                        *r = result;
                    }
                }
            });
        }
        drop(tx);
    });
    let results = results
        .into_iter()
        .map(|m| m.into_inner().unwrap_or_default())
        .collect();
    (
        results,
        matches.into_inner().unwrap_or_default(),
        stage_messages.into_inner().unwrap_or_default(),
    )
}

fn record(
    counters: &Counters,
    matches: &Mutex<HashMap<u32, Vec<BlobMatch>>>,
    content: u32,
    found: io::Result<(ReadOutcome, Vec<BlobMatch>)>,
) {
    match found {
        Ok((ReadOutcome::Text(n), m)) => {
            counters.blobs.fetch_add(1, Ordering::Relaxed);
            counters.bytes.fetch_add(n, Ordering::Relaxed);
            if !m.is_empty()
                && let Ok(mut all) = matches.lock()
            {
                all.insert(content, m);
            }
        }
        Ok((ReadOutcome::Binary, _)) => {
            counters.binary.fetch_add(1, Ordering::Relaxed);
        }
        Ok((ReadOutcome::TooLarge(_), _)) => {
            counters.too_large.fetch_add(1, Ordering::Relaxed);
        }
        // In-memory reads only fail on oversized UTF-16; counted as skipped.
        Err(_) => {
            counters.too_large.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// The visitor of one layer walk: sniffs, deduplicates and dispatches file contents.
struct LayerReader<'a> {
    engine: &'a Engine,
    fp: &'a Fingerprinter,
    opts: &'a ImageOptions,
    counters: &'a Counters,
    contents: &'a Mutex<HashMap<[u8; 32], u32>>,
    next_id: &'a AtomicU32,
    matches: &'a Mutex<HashMap<u32, Vec<BlobMatch>>>,
    scratch: &'a mut Scratch,
    tx: &'a Sender<Job>,
    result: LayerResult,
    label: &'a str,
}

impl LayerReader<'_> {
    fn new_content_id(&self) -> u32 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    fn occurrence(&mut self, top: &str, shown: &str, id: u32) {
        if top == shown {
            self.result.by_path.insert(top.to_string(), id);
        }
        self.result
            .files
            .push((top.to_string(), shown.to_string(), id));
    }
}

impl Visitor for LayerReader<'_> {
    fn file(
        &mut self,
        top: &str,
        shown: &str,
        size: u64,
        content: &mut dyn Read,
    ) -> io::Result<()> {
        if let Some(max) = self.opts.max_file_size
            && size > max
        {
            self.counters.too_large.fetch_add(1, Ordering::Relaxed);
            return Ok(());
        }
        let mut head = Vec::with_capacity(fs::SNIFF);
        content.take(fs::SNIFF as u64).read_to_end(&mut head)?;
        if fs::looks_binary(&head) {
            self.counters.binary.fetch_add(1, Ordering::Relaxed);
            return Ok(());
        }
        if size > self.opts.windowing.window as u64 {
            // Gigantic text: stream it through the detector here, window by window.
            let id = self.new_content_id();
            let stream = io::Cursor::new(head).chain(content);
            let found = detect_stream(self.engine, self.fp, self.scratch, |f| {
                fs::read_stream(stream, self.opts.windowing, f)
            });
            record(self.counters, self.matches, id, found);
            self.occurrence(top, shown, id);
            return Ok(());
        }
        let mut bytes = head;
        bytes.reserve(size.saturating_sub(bytes.len() as u64) as usize);
        content.read_to_end(&mut bytes)?;
        let hash = *blake3::hash(&bytes).as_bytes();
        let (id, new) = {
            let mut c = self.contents.lock().unwrap_or_else(|p| p.into_inner());
            match c.get(&hash) {
                Some(&id) => (id, false),
                None => {
                    let id = self.new_content_id();
                    c.insert(hash, id);
                    (id, true)
                }
            }
        };
        if new {
            self.tx
                .send(Job {
                    content: id,
                    bytes,
                    path: shown.to_string(),
                })
                .map_err(|_| io::Error::other("detector threads stopped"))?;
        }
        self.occurrence(top, shown, id);
        Ok(())
    }

    fn note(&mut self, message: String) {
        self.result.notes.push(format!("{}: {message}", self.label));
    }

    fn error(&mut self, message: String) {
        self.result
            .member_errors
            .push(format!("{}: {message}", self.label));
    }
}

/// Findings of one image: every file occurrence whose content matched, with visibility.
fn attribute(
    engine: &Engine,
    img: &Image,
    slots: &[Slot],
    results: &[LayerResult],
    matches: &HashMap<u32, Vec<BlobMatch>>,
    out: &mut ScanOutcome,
) {
    let empty = LayerListing::default();
    let listings: Vec<&LayerListing> = img
        .slots
        .iter()
        .map(|s| s.map_or(&empty, |s| &results[s].listing))
        .collect();
    for (k, slot) in img.slots.iter().enumerate() {
        let Some(s) = *slot else { continue };
        for (top, shown, id) in &results[s].files {
            let Some(found) = matches.get(id) else {
                continue;
            };
            let vis = visibility(&listings, k, top, |j| {
                img.slots[j].is_some_and(|sj| results[sj].by_path.get(top) == Some(id))
            });
            for m in found
                .iter()
                .filter(|m| super::kept_in_docs(engine, shown, m))
            {
                let origin = ImageOrigin {
                    image: img.spec.reference.clone(),
                    platform: platform(img),
                    layer_index: Some(k),
                    layer_digest: slots[s]
                        .blob
                        .digest
                        .clone()
                        .or_else(|| slots[s].diff_id.clone()),
                    created_by: img.config.layer_created_by.get(k).cloned().flatten(),
                    path: shown.clone(),
                    visibility: vis,
                };
                out.findings.push(to_finding(
                    engine,
                    m.clone(),
                    Origin::Image(Box::new(origin)),
                ));
            }
        }
    }
}
