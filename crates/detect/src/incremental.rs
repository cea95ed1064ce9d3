//! Keyword hits of a new version of a text from its earlier version's: the hits inside runs
//! the new version copied are the old ones moved, and only the bytes around what changed are
//! searched. A history of many versions of a file then costs keyword searching in proportion
//! to what changed, not to the sum of every version; everything after the keyword pass runs
//! on the new version as it is, so its matches are exactly those of a full search.

use sprawl_core::read::Copied;

use crate::{Engine, KeywordHit};

/// The keyword hits of `new` (sorted, as [`Engine::keyword_hits`] gives them), given the hits
/// of its base (sorted) and the runs `new` copied from the base (ascending `to`, not
/// overlapping). `None` when the engine's keyword search cannot be done in parts (then search
/// `new` whole).
///
/// Why it is exact: a hit in `new` (at most `local_reach` bytes) either lies wholly inside one
/// copied run, where the base holds the same bytes (so it is one of the base's hits, moved),
/// or it overlaps an inserted byte or spans the junction of two runs; then it lies within
/// `local_reach` bytes of that byte or junction, in a window searched here.
pub fn hits_after_delta(
    engine: &Engine,
    base_hits: &[KeywordHit],
    copies: &[Copied],
    new: &[u8],
) -> Option<Vec<KeywordHit>> {
    let prefilter = &engine.prefilter;
    let reach = prefilter.local_reach()?;
    let mut out = Vec::with_capacity(base_hits.len() + 8);
    if reach == 0 {
        return Some(out);
    }
    for c in copies {
        let end = c.from + c.len;
        let first = base_hits.partition_point(|h| h.start < c.from);
        for h in &base_hits[first..] {
            if h.start >= end {
                break;
            }
            if h.start + prefilter.hit_len(h.pattern) <= end {
                out.push(KeywordHit {
                    start: c.to + (h.start - c.from),
                    pattern: h.pattern,
                });
            }
        }
    }
    let inherited = out.len();
    let margin = reach - 1;
    let mut windows: Vec<(usize, usize)> = Vec::new();
    let mut push = |start: usize, end: usize| {
        let (start, end) = (start.saturating_sub(margin), (end + margin).min(new.len()));
        match windows.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => windows.push((start, end)),
        }
    };
    let mut covered = 0;
    for c in copies {
        if c.to > covered {
            push(covered, c.to); // inserted bytes
        } else if c.to > 0 {
            push(c.to, c.to); // two runs meet
        }
        covered = c.to + c.len;
    }
    if covered < new.len() || copies.is_empty() {
        push(covered, new.len());
    }
    let inside_a_copy = |h: &KeywordHit| {
        let i = copies.partition_point(|c| c.to <= h.start);
        i > 0 && {
            let c = &copies[i - 1];
            h.start + prefilter.hit_len(h.pattern) <= c.to + c.len
        }
    };
    let mut found = Vec::new();
    for (start, end) in windows {
        found.clear();
        prefilter.keyword_hits(&new[start..end], &mut found);
        out.extend(
            found
                .iter()
                .map(|h| KeywordHit {
                    start: h.start + start,
                    pattern: h.pattern,
                })
                .filter(|h| !inside_a_copy(h)),
        );
    }
    if out.len() > inherited {
        out.sort_unstable();
    }
    Some(out)
}

/// The keyword hits of `plain`, the copy of `hay` without the backslash of each `\\/`
/// (`shifts[i]`: where the i-th removed backslash was, as an offset of `plain`), from the hits
/// of `hay`: `plain` is `hay`'s runs between those backslashes, copied back to back.
pub fn hits_after_unescape(
    engine: &Engine,
    hay_hits: &[KeywordHit],
    shifts: &[usize],
    plain: &[u8],
) -> Option<Vec<KeywordHit>> {
    let mut copies = Vec::with_capacity(shifts.len() + 1);
    let mut from = 0;
    for (i, &at) in shifts.iter().enumerate() {
        let backslash = at + i; // its offset in `hay`
        if backslash > from {
            copies.push(Copied {
                to: from - i,
                from,
                len: backslash - from,
            });
        }
        from = backslash + 1;
    }
    let total = plain.len() + shifts.len();
    if total > from {
        copies.push(Copied {
            to: from - shifts.len(),
            from,
            len: total - from,
        });
    }
    hits_after_delta(engine, hay_hits, &copies, plain)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A random edit script: a new version from pieces of the base and inserted text.
    fn edit(base: &[u8], x: &mut u64, inserts: &[&[u8]]) -> (Vec<u8>, Vec<Copied>) {
        let mut next = || {
            *x ^= *x << 13;
            *x ^= *x >> 7;
            *x ^= *x << 17;
            *x
        };
        let mut new = Vec::new();
        let mut copies: Vec<Copied> = Vec::new();
        for _ in 0..(next() % 6 + 1) {
            if next() % 2 == 0 && !base.is_empty() {
                let from = (next() as usize) % base.len();
                let len = ((next() as usize) % 400 + 1).min(base.len() - from);
                copies.push(Copied {
                    to: new.len(),
                    from,
                    len,
                });
                new.extend_from_slice(&base[from..from + len]);
            } else {
                let piece = inserts[(next() as usize) % inserts.len()];
                let cut = (next() as usize) % (piece.len() + 1);
                new.extend_from_slice(&piece[..cut]);
            }
        }
        (new, copies)
    }

    /// On random edits of a text dense with keywords (cut mid-keyword, runs copied out of
    /// order and back to back), the hits worked out from the base equal a search of the whole
    /// new version; and so do the matches found with them.
    #[test]
    fn hits_after_a_delta_equal_a_full_search() {
        let engine = Engine::new(sprawl_core::rules::load::builtin().rules);
        let base = b"export AWS_SECRET_ACCESS_KEY=abc\npassword = \"hunter22hunter\"\nghp_ token xoxb-1 api_key: sk_live_ github_pat_ -----BEGIN RSA PRIVATE KEY-----\nurl: \"https:\\/\\/hooks.slack.com\\/services\\/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\"\nAuthorization: Basic dXNlcjpaOHEycjJMbU41dkJjN1hrUA==\n".repeat(6);
        let inserts: [&[u8]; 6] = [
            b"password: \"Zq8r2LmN5vBc7XkP\"\n",
            b"AKIA ghp_ xoxp- SECRET_KEY",
            b"plain words and more plain words\n",
            b"secret",
            b"https:\\/\\/hooks.slack.com\\/services\\/",
            b"kind: Secret\ndata:\n  token: WnE4cjJMbU41dkJjN1hrUDFzRGY0\n",
        ];
        let mut base_hits = Vec::new();
        engine.keyword_hits(&base, &mut base_hits);
        assert!(base_hits.len() > 20);
        let mut scratch = crate::Scratch::default();
        let fp = sprawl_core::fingerprint::Fingerprinter::new(b"");
        let mut found_any = false;
        let mut x = 0x9e3779b97f4a7c15u64;
        for _ in 0..500 {
            let (new, copies) = edit(&base, &mut x, &inserts);
            let mut whole = Vec::new();
            engine.keyword_hits(&new, &mut whole);
            let derived = hits_after_delta(&engine, &base_hits, &copies, &new).unwrap();
            assert_eq!(derived, whole, "{:?}", String::from_utf8_lossy(&new));
            assert_eq!(
                engine.find_with_hits(&new, &derived, &mut scratch),
                engine.find(&new, &mut scratch)
            );
            // Every pass of a window (the unescaped copy's hits derived too) as with a search.
            let win = sprawl_core::read::single_window(&new, Default::default()).unwrap();
            let with_hits =
                crate::stream::detect_window_with_hits(&engine, &fp, &mut scratch, &win, &derived);
            let searched = crate::stream::detect_stream(&engine, &fp, &mut scratch, |f| {
                sprawl_core::read::read_stream(&new[..], Default::default(), f)
            })
            .unwrap()
            .1;
            assert_eq!(format!("{with_hits:?}"), format!("{searched:?}"));
            found_any |= !searched.is_empty();
        }
        assert!(found_any);
    }
}
