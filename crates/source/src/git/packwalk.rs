//! Reads the wanted blobs of a repository's packs by walking each pack's delta forest: a base
//! is inflated once and each of its deltas is applied to it while it is in memory (as
//! `git index-pack` resolves a pack), subtrees in parallel on the rayon pool. Random access
//! instead inflates a base again whenever a worker's delta cache has lost it.
//!
//! The visitor sees every blob with, for a delta, what it returned for the base and the runs
//! the delta copied from the base: what it learnt about the base holds for those bytes, so only
//! what the delta inserted needs a fresh look.
//!
//! Whatever the walk cannot deliver (loose objects, alternates, a thin pack's external bases,
//! an entry that does not decode, an object larger than the limit) comes back to the caller
//! to read the ordinary way, which also reports any real damage with the object's id.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use gix::ObjectId;
use gix::odb::pack;
use rayon::prelude::*;

use super::PerThread;

pub use sprawl_core::read::Copied;

/// One blob handed to the visitor.
pub struct Version<'a, S> {
    /// The blob's id.
    pub id: ObjectId,
    /// Its content.
    pub data: &'a [u8],
    /// For a delta whose base the visitor returned state for: that state, and the runs copied
    /// from the base in ascending `to` order (the bytes between them were inserted).
    pub base: Option<(&'a S, &'a [Copied])>,
    /// Whether the blob was asked for (otherwise it is only the base of one that was).
    pub wanted: bool,
}

/// What the walk leaves to the caller.
#[derive(Debug, Default)]
pub struct Walked {
    /// Wanted blobs the walk did not deliver: read them another way.
    pub rest: Vec<ObjectId>,
    /// Blobs delivered.
    pub delivered: usize,
}

/// Hands every blob of `wanted` that the packs under `objects_dir` hold to `visit`, each once,
/// bases before their deltas. Objects larger than `max_size` are not inflated here (they come
/// back in [`Walked::rest`], as does everything else not delivered).
pub fn walk_blobs<S, W>(
    objects_dir: &Path,
    hash: gix::hash::Kind,
    wanted: &HashSet<ObjectId>,
    max_size: u64,
    init: impl Fn() -> W + Sync + Send,
    visit: impl Fn(&mut W, Version<'_, S>) -> Option<S> + Sync + Send,
) -> Walked
where
    S: Send + Sync,
    W: Send,
{
    walk(
        objects_dir,
        hash,
        PACK_BLOB,
        Some(wanted),
        max_size,
        init,
        visit,
    )
}

/// Hands every commit the packs under `objects_dir` hold to `visit` (on the rayon pool, in no
/// particular order): the commit walk then reads its commits from memory instead of one by
/// one.
pub fn walk_commits(
    objects_dir: &Path,
    hash: gix::hash::Kind,
    visit: impl Fn(ObjectId, &[u8]) + Sync + Send,
) {
    walk::<(), ()>(
        objects_dir,
        hash,
        PACK_COMMIT,
        None,
        MAX_COMMIT,
        || (),
        |_, v| {
            visit(v.id, v.data);
            None
        },
    );
}

/// A commit larger than this is read the ordinary way.
const MAX_COMMIT: u64 = 16 << 20;

/// Hands the objects of pack type `kind` (all of them, or those in `wanted`) to `visit`.
fn walk<S, W>(
    objects_dir: &Path,
    hash: gix::hash::Kind,
    kind: u8,
    wanted: Option<&HashSet<ObjectId>>,
    max_size: u64,
    init: impl Fn() -> W + Sync + Send,
    visit: impl Fn(&mut W, Version<'_, S>) -> Option<S> + Sync + Send,
) -> Walked
where
    S: Send + Sync,
    W: Send,
{
    let mut claimed: HashSet<ObjectId> = HashSet::with_capacity(wanted.map_or(0, HashSet::len));
    let mut walked = Walked::default();
    let workers: PerThread<(W, flate2::Decompress)> = PerThread::new();
    let rest = std::sync::Mutex::new(Vec::new());
    for idx in pack_indexes(objects_dir) {
        let Some(forest) = Forest::open(&idx, hash, kind, wanted, &mut claimed) else {
            continue; // unreadable: its objects are read (and reported) the ordinary way
        };
        let walk = Walk {
            forest: &forest,
            max_size,
            workers: &workers,
            init: &init,
            visit: &visit,
            rest: &rest,
            state: std::marker::PhantomData,
        };
        let queue = forest.roots_largest_first();
        let next = std::sync::atomic::AtomicUsize::new(0);
        (0..rayon::current_num_threads().max(1))
            .into_par_iter()
            .for_each(|_| walk.work(&queue, &next));
        walked.delivered += forest.wanted_count;
    }
    let mut rest = rest.into_inner().unwrap_or_else(|p| p.into_inner());
    walked.delivered -= rest.len();
    if let Some(wanted) = wanted {
        rest.extend(wanted.iter().filter(|id| !claimed.contains(*id)).copied());
    }
    walked.rest = rest;
    walked
}

/// The `.idx` files of the repository's own packs, in name order.
fn pack_indexes(objects_dir: &Path) -> Vec<PathBuf> {
    let Ok(dir) = std::fs::read_dir(objects_dir.join("pack")) else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = dir
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "idx") && p.with_extension("pack").is_file())
        .collect();
    out.sort();
    out
}

const NONE: u32 = u32::MAX;
/// Kinds of entries: a delta not yet resolved, a pack object type (1 commit, 2 tree, 3 blob,
/// 4 tag), or an entry that cannot be resolved in this pack.
const KIND_DELTA: u8 = 0;
const PACK_COMMIT: u8 = 1;
const PACK_BLOB: u8 = 3;
const KIND_OTHER: u8 = u8::MAX;

/// One pack's entries in offset order, with the part of the delta forest that leads to
/// wanted blobs.
struct Forest {
    /// The pack, read with `pread`: a mapping would keep every page read resident for the
    /// whole walk (the blobs of a long history are hundreds of MB of pack).
    file: std::fs::File,
    /// Where the entries end (the trailing checksum follows).
    pack_end: u64,
    hash_len: usize,
    /// Entry offsets, ascending (an entry's packed bytes end where the next one starts).
    offsets: Vec<u64>,
    /// Object id of each entry.
    ids: Vec<ObjectId>,
    /// Whether each entry is a wanted blob.
    wanted: Vec<bool>,
    wanted_count: usize,
    /// Children of each needed entry: `child_list[child_start[k]..child_start[k + 1]]`.
    child_start: Vec<u32>,
    child_list: Vec<u32>,
    /// Needed entries without a base.
    roots: Vec<u32>,
}

impl Forest {
    /// Reads the pack's index and entry headers and keeps the subtrees that hold wanted objects
    /// of `kind` (all of that kind without `wanted`) not claimed by an earlier pack (claiming
    /// them). `None` when the pack cannot be read.
    fn open(
        idx_path: &Path,
        hash: gix::hash::Kind,
        want_kind: u8,
        wanted: Option<&HashSet<ObjectId>>,
        claimed: &mut HashSet<ObjectId>,
    ) -> Option<Forest> {
        let index = pack::index::File::at(idx_path, hash).ok()?;
        let data = pack::data::File::at(idx_path.with_extension("pack"), hash).ok()?;
        let n = index.num_objects() as usize;
        if n as u64 >= u64::from(NONE) || data.num_objects() as usize != n {
            return None;
        }
        let mut by_offset: Vec<(u64, u32)> = (0..n as u32)
            .map(|i| (index.pack_offset_at_index(i), i))
            .collect();
        by_offset.sort_unstable();
        let offsets: Vec<u64> = by_offset.iter().map(|&(o, _)| o).collect();
        let mut pos_of = vec![0u32; n];
        for (k, &(_, i)) in by_offset.iter().enumerate() {
            pos_of[i as usize] = k as u32;
        }
        // Each entry's base, and its kind when it is not a delta.
        let mut parent = vec![NONE; n];
        let mut kind = vec![KIND_OTHER; n];
        let heads = read_heads(
            &idx_path.with_extension("pack"),
            &offsets,
            hash.len_in_bytes(),
        );
        for (k, head) in heads.into_iter().enumerate() {
            match head {
                Head::Base(t) => kind[k] = t,
                Head::Other => {}
                Head::OfsDelta(base) => {
                    if let Ok(b) = offsets[..k].binary_search(&base) {
                        parent[k] = b as u32;
                        kind[k] = KIND_DELTA;
                    }
                }
                Head::RefDelta(base_id) => {
                    if let Some(i) = index.lookup(base_id) {
                        parent[k] = pos_of[i as usize];
                        kind[k] = KIND_DELTA;
                    }
                }
            }
        }
        resolve_kinds(&parent, &mut kind);
        let ids: Vec<ObjectId> = by_offset
            .iter()
            .map(|&(_, i)| index.oid_at_index(i).to_owned())
            .collect();
        let mut is_wanted = vec![false; n];
        let mut needed = vec![false; n];
        let mut wanted_count = 0;
        for k in 0..n {
            if kind[k] != want_kind
                || wanted.is_some_and(|w| !w.contains(&ids[k]))
                || !claimed.insert(ids[k])
            {
                continue;
            }
            is_wanted[k] = true;
            wanted_count += 1;
            let mut at = k as u32;
            while at != NONE && !needed[at as usize] {
                needed[at as usize] = true;
                at = parent[at as usize];
            }
        }
        let mut child_start = vec![0u32; n + 1];
        let mut roots = Vec::new();
        for k in 0..n {
            if !needed[k] {
                continue;
            }
            match parent[k] {
                NONE => roots.push(k as u32),
                p => child_start[p as usize + 1] += 1,
            }
        }
        for k in 0..n {
            child_start[k + 1] += child_start[k];
        }
        let mut fill = child_start.clone();
        let mut child_list = vec![0u32; child_start[n] as usize];
        for k in 0..n {
            if needed[k] && parent[k] != NONE {
                let p = parent[k] as usize;
                child_list[fill[p] as usize] = k as u32;
                fill[p] += 1;
            }
        }
        drop(data); // only checked the header
        let file = std::fs::File::open(idx_path.with_extension("pack")).ok()?;
        let pack_end = file
            .metadata()
            .ok()?
            .len()
            .checked_sub(hash.len_in_bytes() as u64)?;
        Some(Forest {
            file,
            pack_end,
            hash_len: hash.len_in_bytes(),
            offsets,
            ids,
            wanted: is_wanted,
            wanted_count,
            child_start,
            child_list,
            roots,
        })
    }

    /// The roots, those with the most entries under them first: each thread walks whole
    /// subtrees, and starting the big ones early keeps the threads finishing together.
    fn roots_largest_first(&self) -> Vec<u32> {
        let size = |root: u32| {
            let mut n = 0u32;
            let mut stack = vec![root];
            while let Some(k) = stack.pop() {
                n += 1;
                stack.extend_from_slice(self.children(k));
            }
            n
        };
        let mut sized: Vec<(u32, u32)> = self.roots.iter().map(|&r| (size(r), r)).collect();
        sized.sort_unstable_by(|a, b| b.cmp(a));
        sized.into_iter().map(|(_, r)| r).collect()
    }

    fn children(&self, k: u32) -> &[u32] {
        let k = k as usize;
        &self.child_list[self.child_start[k] as usize..self.child_start[k + 1] as usize]
    }

    /// Reads entry `k` into `buf`: its packed (deflated) bytes and its inflated size.
    fn packed<'b>(&self, k: u32, buf: &'b mut Vec<u8>) -> Option<(&'b [u8], u64)> {
        use std::os::unix::fs::FileExt;
        let k = k as usize;
        let start = self.offsets[k];
        let end = self.offsets.get(k + 1).copied().unwrap_or(self.pack_end);
        let len = usize::try_from(end.checked_sub(start)?).ok()?;
        buf.resize(len, 0);
        self.file.read_exact_at(buf, start).ok()?;
        // Type and size, then a delta's base (an offset, or an object id).
        let mut at = 0;
        let mut c = *buf.first()?;
        let kind = (c >> 4) & 7;
        let mut size = u64::from(c & 0x0f);
        let mut shift = 4;
        while c & 0x80 != 0 {
            at += 1;
            c = *buf.get(at)?;
            size |= u64::from(c & 0x7f).checked_shl(shift)?;
            shift += 7;
            if shift > 63 {
                return None;
            }
        }
        at += 1;
        match kind {
            6 => {
                while *buf.get(at)? & 0x80 != 0 {
                    at += 1;
                }
                at += 1;
            }
            7 => at += self.hash_len,
            _ => {}
        }
        Some((buf.get(at..)?, size))
    }

    /// Every wanted blob in the subtree of `k` (`k` included).
    fn wanted_under(&self, k: u32, out: &mut Vec<ObjectId>) {
        let mut stack = vec![k];
        while let Some(k) = stack.pop() {
            if self.wanted[k as usize] {
                out.push(self.ids[k as usize]);
            }
            stack.extend_from_slice(self.children(k));
        }
    }
}

/// What the forest needs of an entry's header.
enum Head {
    /// An object of this pack type (1 commit, 2 tree, 3 blob, 4 tag).
    Base(u8),
    /// A header that could not be read, or of an unknown type.
    Other,
    /// A delta against the entry at this pack offset.
    OfsDelta(u64),
    /// A delta against the object with this id.
    RefDelta(ObjectId),
}

/// The headers of the entries at `offsets` (ascending), read front to back through a small
/// buffer: mapping the pack for this would make every page of it resident, and only the
/// blobs' pages are needed afterwards. Entries from a read error on are [`Head::Other`] (their
/// blobs are then read the ordinary way, which reports the damage).
fn read_heads(pack: &Path, offsets: &[u64], hash_len: usize) -> Vec<Head> {
    use std::io::{BufReader, Read};
    let mut heads = Vec::with_capacity(offsets.len());
    let Ok(file) = std::fs::File::open(pack) else {
        heads.resize_with(offsets.len(), || Head::Other);
        return heads;
    };
    let mut r = BufReader::with_capacity(64 << 10, file);
    let mut pos = 0u64;
    for &offset in offsets {
        let head = (|| -> Option<Head> {
            let skip = i64::try_from(offset.checked_sub(pos)?).ok()?;
            r.seek_relative(skip).ok()?;
            pos = offset;
            let mut byte = || -> Option<u8> {
                let mut b = [0u8; 1];
                r.read_exact(&mut b).ok()?;
                pos += 1;
                Some(b[0])
            };
            let first = byte()?;
            let mut c = first;
            for _ in 0..10 {
                if c & 0x80 == 0 {
                    break;
                }
                c = byte()?; // the size, not needed here
            }
            Some(match (first >> 4) & 7 {
                t @ 1..=4 => Head::Base(t),
                6 => {
                    let mut c = byte()?;
                    let mut distance = u64::from(c & 0x7f);
                    while c & 0x80 != 0 {
                        c = byte()?;
                        distance = distance.checked_add(1)?.checked_mul(128)? | u64::from(c & 0x7f);
                    }
                    Head::OfsDelta(offset.checked_sub(distance)?)
                }
                7 => {
                    let mut id = vec![0u8; hash_len];
                    for b in &mut id {
                        *b = byte()?;
                    }
                    Head::RefDelta(ObjectId::try_from(&id[..]).ok()?)
                }
                _ => Head::Other,
            })
        })();
        match head {
            Some(h) => heads.push(h),
            None => break,
        }
    }
    heads.resize_with(offsets.len(), || Head::Other);
    heads
}

/// Gives every delta the kind of the end of its chain (`KIND_OTHER` for chains that leave the
/// pack or loop, which only a corrupt pack has).
fn resolve_kinds(parent: &[u32], kind: &mut [u8]) {
    let mut chain = Vec::new();
    for k in 0..kind.len() {
        if kind[k] != KIND_DELTA {
            continue;
        }
        chain.clear();
        let mut at = k;
        let resolved = loop {
            if kind[at] != KIND_DELTA {
                break kind[at];
            }
            if chain.len() > kind.len() {
                break KIND_OTHER; // a loop of deltas
            }
            chain.push(at);
            match parent[at] {
                NONE => break KIND_OTHER,
                p => at = p as usize,
            }
        };
        for &c in &chain {
            kind[c] = resolved;
        }
    }
}

/// One pack's traversal: shared by the rayon tasks.
struct Walk<'a, S, W, I, V> {
    forest: &'a Forest,
    max_size: u64,
    workers: &'a PerThread<(W, flate2::Decompress)>,
    init: &'a I,
    visit: &'a V,
    rest: &'a std::sync::Mutex<Vec<ObjectId>>,
    state: std::marker::PhantomData<fn() -> S>,
}

impl<S, W, I, V> Walk<'_, S, W, I, V>
where
    S: Send + Sync,
    W: Send,
    I: Fn() -> W + Sync + Send,
    V: Fn(&mut W, Version<'_, S>) -> Option<S> + Sync + Send,
{
    /// Runs this thread's share: subtrees taken from the shared queue, largest first.
    fn work(&self, queue: &[u32], next: &std::sync::atomic::AtomicUsize) {
        let mut bufs = Buffers::default();
        loop {
            let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let Some(&root) = queue.get(i) else {
                return;
            };
            self.subtree(root, &mut bufs);
        }
    }

    /// Decodes and visits `root` and everything built on it, depth first on this thread: the
    /// memory held is the chain from the root to the entry being decoded (a base is dropped
    /// as soon as its last delta is decoded), whatever the shape of the forest.
    fn subtree(&self, root: u32, bufs: &mut Buffers) {
        struct Frame<S> {
            node: u32,
            data: Vec<u8>,
            state: Option<S>,
            next: usize,
        }
        let mut stack: Vec<Frame<S>> = Vec::new();
        match self.decode_and_visit(root, None, bufs) {
            Some((data, state)) => stack.push(Frame {
                node: root,
                data,
                state,
                next: 0,
            }),
            None => return self.lose(root),
        }
        while let Some(top) = stack.last_mut() {
            let kids = self.forest.children(top.node);
            let Some(&child) = kids.get(top.next) else {
                if let Some(done) = stack.pop() {
                    bufs.give_back(done.data);
                }
                continue;
            };
            top.next += 1;
            let last = top.next == kids.len();
            let decoded = self.decode_and_visit(child, Some((&top.data, top.state.as_ref())), bufs);
            if last && let Some(done) = stack.pop() {
                bufs.give_back(done.data);
            }
            match decoded {
                None => self.lose(child),
                Some((data, _)) if self.forest.children(child).is_empty() => bufs.give_back(data),
                Some((data, state)) => stack.push(Frame {
                    node: child,
                    data,
                    state,
                    next: 0,
                }),
            }
        }
    }

    /// Hands the wanted blobs under `k` back to the caller (`k` could not be decoded).
    fn lose(&self, k: u32) {
        let mut lost = Vec::new();
        self.forest.wanted_under(k, &mut lost);
        self.rest
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend(lost);
    }

    /// Inflates entry `k` (applying it to `base` when it is a delta) and hands it to the
    /// visitor when it is a blob. `None` when it cannot be decoded here.
    fn decode_and_visit(
        &self,
        k: u32,
        base: Option<(&[u8], Option<&S>)>,
        bufs: &mut Buffers,
    ) -> Option<(Vec<u8>, Option<S>)> {
        let mut packed_buf = std::mem::take(&mut bufs.packed);
        let decoded = self.decode_with(k, base, bufs, &mut packed_buf);
        bufs.packed = packed_buf;
        decoded
    }

    fn decode_with(
        &self,
        k: u32,
        base: Option<(&[u8], Option<&S>)>,
        bufs: &mut Buffers,
        packed_buf: &mut Vec<u8>,
    ) -> Option<(Vec<u8>, Option<S>)> {
        let (packed, size) = self.forest.packed(k, packed_buf)?;
        if size > self.max_size {
            return None;
        }
        self.workers.with(
            || ((self.init)(), flate2::Decompress::new(true)),
            |(worker, inflater)| {
                let (data, copies) = match base {
                    None => {
                        let mut data = bufs.take();
                        inflate(inflater, packed, size as usize, &mut data)?;
                        (data, Vec::new())
                    }
                    Some((base_data, _)) => {
                        let mut delta = std::mem::take(&mut bufs.delta);
                        let inflated = inflate(inflater, packed, size as usize, &mut delta);
                        let mut data = bufs.take();
                        let applied = inflated.and_then(|()| {
                            apply_delta(base_data, &delta, self.max_size, &mut data)
                        });
                        bufs.delta = delta;
                        match applied {
                            Some(copies) => (data, copies),
                            None => {
                                bufs.give_back(data);
                                return None;
                            }
                        }
                    }
                };
                let state = (self.visit)(
                    worker,
                    Version {
                        id: self.forest.ids[k as usize],
                        data: &data,
                        base: match base {
                            Some((_, Some(s))) => Some((s, &copies[..])),
                            _ => None,
                        },
                        wanted: self.forest.wanted[k as usize],
                    },
                );
                Some((data, state))
            },
        )
    }
}

/// A thread's reusable buffers: decoded objects go back here when their last delta is done,
/// so the walk does not allocate (and fragment) a buffer per object.
#[derive(Default)]
struct Buffers {
    spare: Vec<Vec<u8>>,
    /// The current delta's instructions.
    delta: Vec<u8>,
    /// The current entry as stored in the pack.
    packed: Vec<u8>,
}

impl Buffers {
    /// Buffers kept for reuse: as many as a chain is deep, in practice a handful.
    const KEEP: usize = 8;
    /// Capacity above which a buffer is freed instead of kept (one huge blob must not pin its
    /// memory for the rest of the walk).
    const LARGEST_KEPT: usize = 4 << 20;

    fn take(&mut self) -> Vec<u8> {
        let mut v = self.spare.pop().unwrap_or_default();
        v.clear();
        v
    }

    fn give_back(&mut self, v: Vec<u8>) {
        if self.spare.len() < Self::KEEP && v.capacity() <= Self::LARGEST_KEPT {
            self.spare.push(v);
        }
    }
}

/// Inflates a zlib stream that must produce exactly `size` bytes into `out` (cleared first).
fn inflate(
    inflater: &mut flate2::Decompress,
    packed: &[u8],
    size: usize,
    out: &mut Vec<u8>,
) -> Option<()> {
    inflater.reset(true);
    out.clear();
    out.reserve_exact(size);
    let status = inflater
        .decompress_vec(packed, out, flate2::FlushDecompress::Finish)
        .ok()?;
    (status == flate2::Status::StreamEnd && out.len() == size).then_some(())
}

/// Reads a delta's size header (little-endian base-128).
fn varint(delta: &[u8], at: &mut usize) -> Option<u64> {
    let mut value = 0u64;
    let mut shift = 0;
    loop {
        let b = *delta.get(*at)?;
        *at += 1;
        value |= u64::from(b & 0x7f).checked_shl(shift)?;
        if b & 0x80 == 0 {
            return Some(value);
        }
        shift += 7;
        if shift > 63 {
            return None;
        }
    }
}

/// Applies a git delta to `base`, writing the result to `out` (cleared first): the runs it
/// copied from the base. `None` when the delta is malformed or its result is larger than
/// `limit`.
pub fn apply_delta(
    base: &[u8],
    delta: &[u8],
    limit: u64,
    out: &mut Vec<u8>,
) -> Option<Vec<Copied>> {
    let mut at = 0;
    let base_size = varint(delta, &mut at)?;
    let result_size = varint(delta, &mut at)?;
    if base_size != base.len() as u64 || result_size > limit {
        return None;
    }
    out.clear();
    out.reserve_exact(usize::try_from(result_size).ok()?);
    let mut copies: Vec<Copied> = Vec::new();
    while at < delta.len() {
        let cmd = delta[at];
        at += 1;
        if cmd & 0x80 != 0 {
            let mut offset = 0usize;
            let mut len = 0usize;
            for i in 0..4 {
                if cmd & (1 << i) != 0 {
                    offset |= usize::from(*delta.get(at)?) << (8 * i);
                    at += 1;
                }
            }
            for i in 0..3 {
                if cmd & (0x10 << i) != 0 {
                    len |= usize::from(*delta.get(at)?) << (8 * i);
                    at += 1;
                }
            }
            if len == 0 {
                len = 0x10000;
            }
            let run = base.get(offset..offset.checked_add(len)?)?;
            // Adjacent copies of adjacent base runs are one run.
            match copies.last_mut() {
                Some(last) if last.to + last.len == out.len() && last.from + last.len == offset => {
                    last.len += len
                }
                _ => copies.push(Copied {
                    to: out.len(),
                    from: offset,
                    len,
                }),
            }
            out.extend_from_slice(run);
        } else if cmd != 0 {
            let n = usize::from(cmd);
            out.extend_from_slice(delta.get(at..at + n)?);
            at += n;
        } else {
            return None; // reserved instruction
        }
        if out.len() as u64 > result_size {
            return None;
        }
    }
    (out.len() as u64 == result_size).then_some(copies)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A delta with an insert, a copy, a copy continuing it (merged) and a 0x10000-byte copy.
    #[test]
    fn applies_a_delta_and_reports_its_copies() {
        let base: Vec<u8> = (0..70_000u32).map(|i| (i % 251) as u8).collect();
        let mut delta = Vec::new();
        // base size 70000, result size 3 + 10 + 5 + 65536
        for mut v in [70_000u64, 3 + 10 + 5 + 65_536] {
            loop {
                let b = (v & 0x7f) as u8;
                v >>= 7;
                delta.push(if v > 0 { b | 0x80 } else { b });
                if v == 0 {
                    break;
                }
            }
        }
        delta.extend_from_slice(&[3, b'a', b'b', b'c']);
        delta.extend_from_slice(&[0x80 | 0x01 | 0x10, 100, 10]); // copy 10 at 100
        delta.extend_from_slice(&[0x80 | 0x01 | 0x10, 110, 5]); // copy 5 at 110: merged
        delta.extend_from_slice(&[0x80]); // copy 0x10000 at 0
        let mut out = Vec::new();
        let copies = apply_delta(&base, &delta, u64::MAX, &mut out).unwrap();
        assert_eq!(&out[..3], b"abc");
        assert_eq!(&out[3..18], &base[100..115]);
        assert_eq!(&out[18..], &base[..65_536]);
        assert_eq!(
            copies,
            vec![
                Copied {
                    to: 3,
                    from: 100,
                    len: 15
                },
                Copied {
                    to: 18,
                    from: 0,
                    len: 65_536
                }
            ]
        );
        // Malformed: wrong base size, copy past the base, reserved opcode, too large.
        assert!(apply_delta(&base[1..], &delta, u64::MAX, &mut out).is_none());
        let mut bad = delta.clone();
        bad.extend_from_slice(&[0x80 | 0x04, 0xff]);
        assert!(apply_delta(&base, &bad, u64::MAX, &mut out).is_none());
        let mut reserved = delta[..4].to_vec();
        reserved.push(0);
        assert!(apply_delta(&base, &reserved, u64::MAX, &mut out).is_none());
        assert!(apply_delta(&base, &delta, 1000, &mut out).is_none());
    }
}
