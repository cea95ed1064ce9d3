//! A YAML outline with exact lines: every scalar value with its key path (`jobs.build.steps[2].run`),
//! built from `saphyr-parser` events. CI and GitOps files need to know *where* in the document
//! a line is (which job, which step, which key); they never need a typed model.

use saphyr_parser::{Event, Parser, ScalarStyle};

/// One step of a key path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    /// A mapping key.
    Key(String),
    /// A sequence index.
    Index(usize),
}

/// A scalar value and where it sits.
#[derive(Debug, Clone)]
pub struct Scalar {
    /// Document number in a multi-document stream (0-based).
    pub doc: usize,
    /// Key path from the document root.
    pub path: Vec<Seg>,
    /// The value as YAML reads it (quotes removed, block scalars joined).
    pub value: String,
    /// 1-based first line of the value in the file.
    pub line: usize,
    /// 1-based last line of the value.
    pub end_line: usize,
    /// A literal or folded block scalar (`|`, `>`).
    pub block: bool,
}

impl Scalar {
    /// The last mapping key of the path (the value's own key), if any.
    pub fn key(&self) -> Option<&str> {
        self.path.iter().rev().find_map(|s| match s {
            Seg::Key(k) => Some(k.as_str()),
            Seg::Index(_) => None,
        })
    }

    /// True when the path has the key `k` at any depth.
    pub fn under(&self, k: &str) -> bool {
        self.path.iter().any(|s| matches!(s, Seg::Key(x) if x == k))
    }
}

/// Renders a path as `jobs.build.steps[2].run`.
pub fn path_string(path: &[Seg]) -> String {
    let mut out = String::new();
    for s in path {
        match s {
            Seg::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            Seg::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

enum Frame {
    Map {
        key: Option<String>,
        expecting_key: bool,
        /// A complex key (a mapping or sequence used as a key) is being skipped.
        skipping_key: bool,
    },
    Seq {
        index: usize,
    },
}

/// Every scalar value of every document of `text`, in order. A YAML syntax error is an error
/// naming the line.
pub fn outline(text: &str) -> Result<Vec<Scalar>, String> {
    let mut out = Vec::new();
    let mut stack: Vec<(Frame, Option<Seg>)> = Vec::new();
    let mut doc = 0usize;
    let mut docs_seen = 0usize;
    for ev in Parser::new_from_str(text) {
        let (event, span) = ev.map_err(|e| {
            format!(
                "YAML syntax error at line {}: {}",
                e.marker().line(),
                e.info()
            )
        })?;
        match event {
            Event::DocumentStart(_) => {
                doc = docs_seen;
                docs_seen += 1;
                stack.clear();
            }
            Event::Scalar(value, style, _, _) => {
                if let Some((
                    Frame::Map {
                        key,
                        expecting_key,
                        skipping_key,
                    },
                    _,
                )) = stack.last_mut()
                    && *expecting_key
                {
                    if !*skipping_key {
                        *key = Some(value.into_owned());
                    }
                    *expecting_key = false;
                    *skipping_key = false;
                    continue;
                }
                let mut path = current_path(&stack);
                if let Some(seg) = value_seg(&stack) {
                    path.push(seg);
                }
                let block = matches!(style, ScalarStyle::Literal | ScalarStyle::Folded);
                // A block scalar's span starts at its first content line and ends where the
                // next token starts (the line after its last content line).
                let line = span.start.line();
                let end_line = if block {
                    span.end.line().saturating_sub(1).max(line)
                } else {
                    span.end.line().max(line)
                };
                out.push(Scalar {
                    doc,
                    path,
                    value: value.into_owned(),
                    line,
                    end_line,
                    block,
                });
                advance(&mut stack);
            }
            Event::Alias(_) => {
                if let Some((Frame::Map { expecting_key, .. }, _)) = stack.last_mut()
                    && *expecting_key
                {
                    *expecting_key = false;
                    continue;
                }
                advance(&mut stack);
            }
            Event::MappingStart(..) | Event::SequenceStart(..) => {
                let is_key = matches!(
                    stack.last(),
                    Some((
                        Frame::Map {
                            expecting_key: true,
                            ..
                        },
                        _
                    ))
                );
                let seg = if is_key { None } else { value_seg(&stack) };
                let frame = if matches!(event, Event::MappingStart(..)) {
                    Frame::Map {
                        key: None,
                        expecting_key: true,
                        skipping_key: false,
                    }
                } else {
                    Frame::Seq { index: 0 }
                };
                if is_key && let Some((Frame::Map { skipping_key, .. }, _)) = stack.last_mut() {
                    *skipping_key = true;
                }
                stack.push((frame, seg));
            }
            Event::MappingEnd | Event::SequenceEnd => {
                stack.pop();
                match stack.last_mut() {
                    Some((
                        Frame::Map {
                            skipping_key: true,
                            expecting_key,
                            key,
                        },
                        _,
                    )) => {
                        // The complex key ended; its value comes next under no name.
                        *expecting_key = false;
                        *key = Some("?".to_string());
                    }
                    _ => advance(&mut stack),
                }
            }
            Event::StreamStart | Event::StreamEnd | Event::DocumentEnd | Event::Nothing => {}
        }
    }
    Ok(out)
}

/// The path of the innermost container (the segments that led into each frame).
fn current_path(stack: &[(Frame, Option<Seg>)]) -> Vec<Seg> {
    stack.iter().filter_map(|(_, s)| s.clone()).collect()
}

/// The segment a value at the top of the stack gets: its key, or its index.
fn value_seg(stack: &[(Frame, Option<Seg>)]) -> Option<Seg> {
    match stack.last() {
        Some((Frame::Map { key, .. }, _)) => Some(Seg::Key(key.clone().unwrap_or_default())),
        Some((Frame::Seq { index }, _)) => Some(Seg::Index(*index)),
        None => None,
    }
}

/// After a value: a mapping expects its next key, a sequence moves to its next index.
fn advance(stack: &mut [(Frame, Option<Seg>)]) {
    match stack.last_mut() {
        Some((
            Frame::Map {
                expecting_key, key, ..
            },
            _,
        )) => {
            *expecting_key = true;
            *key = None;
        }
        Some((Frame::Seq { index }, _)) => *index += 1,
        None => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn find<'a>(o: &'a [Scalar], path: &str) -> &'a Scalar {
        o.iter()
            .find(|s| path_string(&s.path) == path)
            .unwrap_or_else(|| {
                panic!(
                    "{path} not in {:?}",
                    o.iter().map(|s| path_string(&s.path)).collect::<Vec<_>>()
                )
            })
    }

    #[test]
    fn paths_and_lines() {
        let y = "on: push\njobs:\n  build:\n    env:\n      TOKEN: abc\n    steps:\n      - name: one\n        run: |\n          echo a\n          echo b\n      - uses: x/y@v1\n        with:\n          key: \"v\"\n---\nkind: Secret\ndata:\n  k: dg==\n";
        let o = outline(y).unwrap();
        let t = find(&o, "jobs.build.env.TOKEN");
        assert_eq!(
            (t.line, t.value.as_str(), t.key()),
            (5, "abc", Some("TOKEN"))
        );
        let run = find(&o, "jobs.build.steps[0].run");
        assert!(run.block);
        assert_eq!((run.line, run.end_line), (9, 10));
        assert_eq!(find(&o, "jobs.build.steps[1].with.key").line, 13);
        let k = find(&o, "data.k");
        assert_eq!((k.doc, k.line), (1, 17));
        assert!(find(&o, "jobs.build.steps[1].uses").under("steps"));
    }

    #[test]
    fn syntax_errors_name_the_line() {
        let e = outline("a: [1, 2\nb: c\n").unwrap_err();
        assert!(e.contains("line"), "{e}");
    }
}
