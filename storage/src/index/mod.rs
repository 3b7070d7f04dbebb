//! The postings index: for every label pair, the sorted list of series that
//! have it, so that a selector such as `{job="api", code=~"5.."}` becomes an
//! intersection of lists instead of a scan over all series.
//!
//! The index is one immutable [`Segment`] file, memory-mapped and read in
//! place, plus an in-memory [`tail`] of series added since that segment was
//! built. Inside a segment, series are numbered in label order (ordinal 0 is
//! the smallest label set by Prometheus's `labels.Compare`), so any
//! intersection of postings comes out sorted by labels and `/federate` needs
//! no sort. [`Index::rebuild`] folds the tail into a new segment in the
//! background and swaps it in atomically; on restart [`Index::open`] maps the
//! newest segment instead of rebuilding. The file format is documented in
//! `docs/format/index.md`.
//!
//! ```ignore
//! let index = Index::open(&dir)?;
//! index.add(SeriesRef(1), Labels::from_pairs(&[("__name__", "up"), ("job", "api")]));
//! for s in index.select(&[Matcher::equal("job", "api")]).iter() {
//!     println!("{} {}", s.r.0, s.labels);
//! }
//! index.rebuild(|_| false)?; // tail → new segment, off the hot path
//! ```

#[doc(hidden)]
pub mod bench_api;
mod check;
mod error;
mod format;
mod postings;
mod segment;
mod select;
mod selection;
mod tail;
#[cfg(test)]
mod tests;
mod writer;

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use parking_lot::{Mutex, RwLock};

use crate::{compare_pairs, Labels, Matcher, SeriesRef};
pub use error::IndexError;
pub(crate) use segment::Segment;
pub(crate) use selection::{LabelsView, Selection};
use tail::Tail;

/// The whole index of one database: the current segment (if any) and the
/// tail. Any number of threads may select, find and add concurrently;
/// [`Index::rebuild`] may run on another thread meanwhile.
pub(crate) struct Index {
    dir: PathBuf,
    state: RwLock<State>,
    /// Held for a whole rebuild, so that two never interleave: each takes the
    /// tail's oldest entries and later removes exactly those.
    rebuilding: Mutex<()>,
}

#[derive(Default)]
struct State {
    segment: Option<Arc<Segment>>,
    /// Number of the current segment file; the next one gets `seq + 1`.
    seq: u64,
    tail: Tail,
    needs_rebuild: bool,
}

/// File name of segment number `seq`.
fn segment_file_name(seq: u64) -> String {
    format!("index-{seq:08}.seg")
}

/// The number in a segment file name, or `None` for any other file.
fn parse_segment_file_name(name: &str) -> Option<u64> {
    let digits = name.strip_prefix("index-")?.strip_suffix(".seg")?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

impl Index {
    /// Opens the index kept in `dir`, creating the directory if needed, and
    /// maps its newest segment `index-NNNNNNNN.seg`.
    ///
    /// Older segments are left over from a crash between a rebuild's rename
    /// and its removal of the old file; they are superseded and removed, as
    /// are unfinished `.tmp` files. A corrupt newest segment is never
    /// deleted: it is renamed to `*.seg.corrupt` for inspection, logged, and
    /// the index starts empty with [`Index::needs_rebuild`] set, so that the
    /// owner re-adds all series from its source of truth. A segment from a
    /// newer format version is an error: it is not ours to move.
    pub(crate) fn open(dir: &Path) -> Result<Index, IndexError> {
        fs::create_dir_all(dir).map_err(|e| IndexError::io(dir, "create directory", e))?;
        let mut segments = Vec::new();
        let entries = fs::read_dir(dir).map_err(|e| IndexError::io(dir, "list directory", e))?;
        for entry in entries {
            let entry = entry.map_err(|e| IndexError::io(dir, "list directory", e))?;
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            if let Some(seq) = parse_segment_file_name(name) {
                segments.push((seq, entry.path()));
            } else if name.starts_with("index-") && name.ends_with(".seg.tmp") {
                remove_leftover(&entry.path(), "unfinished segment");
            }
        }
        segments.sort_unstable_by_key(|(seq, _)| std::cmp::Reverse(*seq));

        let mut state = State::default();
        if let Some((seq, path)) = segments.first() {
            state.seq = *seq;
            match Segment::open(path) {
                Ok(segment) => state.segment = Some(Arc::new(segment)),
                Err(e @ IndexError::Corrupt { .. }) => {
                    let mut aside = path.clone().into_os_string();
                    aside.push(".corrupt");
                    fs::rename(path, &aside).map_err(|e| IndexError::io(path, "move corrupt segment aside", e))?;
                    tracing::warn!(
                        error = %e,
                        moved_to = %Path::new(&aside).display(),
                        "index segment is corrupt; moved it aside, the index must be rebuilt"
                    );
                    state.needs_rebuild = true;
                }
                Err(e) => return Err(e),
            }
            for (_, older) in &segments[1..] {
                remove_leftover(older, "superseded segment");
            }
        }
        Ok(Index {
            dir: dir.to_path_buf(),
            state: RwLock::new(state),
            rebuilding: Mutex::new(()),
        })
    }

    /// Adds a series to the tail. Does nothing if the index already holds
    /// `r`, or already holds `labels` under any ref (the first ref given to a
    /// label set stays its ref).
    pub(crate) fn add(&self, r: SeriesRef, labels: Labels) {
        let mut st = self.state.write();
        if st.tail.contains_ref(r) || st.tail.find(&labels).is_some() {
            return;
        }
        if let Some(seg) = &st.segment {
            if seg.ordinal_of(r).is_some() || seg.find(&labels).is_some() {
                return;
            }
        }
        st.tail.insert(r, labels);
    }

    /// The series matching every matcher (all series for none), in label
    /// order. The selection holds the segment it read, so it stays valid
    /// across a concurrent rebuild.
    pub(crate) fn select(&self, matchers: &[Matcher]) -> Selection {
        let (segment, tail_hits) = {
            let st = self.state.read();
            (st.segment.clone(), st.tail.select(matchers))
        };
        // The segment is immutable: walk its postings without the lock.
        let ords = segment.as_ref().map(|s| s.select(matchers)).unwrap_or_default();
        Selection::new(segment, ords, tail_hits)
    }

    /// The ref of the series with exactly this label set.
    pub(crate) fn find(&self, labels: &Labels) -> Option<SeriesRef> {
        let st = self.state.read();
        st.tail.find(labels).or_else(|| st.segment.as_ref()?.find(labels))
    }

    /// The label set of series `r`.
    #[cfg(test)]
    #[cfg(test)]
    pub(crate) fn labels(&self, r: SeriesRef) -> Option<Labels> {
        let st = self.state.read();
        if let Some(l) = st.tail.labels(r) {
            return Some(l.clone());
        }
        let seg = st.segment.as_ref()?;
        Some(seg.labels_owned(seg.ordinal_of(r)?))
    }

    /// Label names used by the series matching `matchers` (all series when
    /// empty), sorted and without duplicates.
    pub(crate) fn label_names(&self, matchers: &[Matcher]) -> Vec<String> {
        if !matchers.is_empty() {
            return to_strings(self.select(matchers).label_names());
        }
        let st = self.state.read();
        let mut names: Vec<&str> = st.segment.as_ref().map(|s| s.label_names()).unwrap_or_default();
        names.extend(st.tail.iter().flat_map(|(_, l)| l.iter().map(|(n, _)| n)));
        to_strings(names)
    }

    /// Values of label `name` among the series matching `matchers` (all
    /// series when empty), sorted and without duplicates.
    pub(crate) fn label_values(&self, name: &str, matchers: &[Matcher]) -> Vec<String> {
        if !matchers.is_empty() {
            return to_strings(self.select(matchers).label_values(name));
        }
        let st = self.state.read();
        let mut values: Vec<&str> = st.segment.as_ref().map(|s| s.label_values(name)).unwrap_or_default();
        values.extend(st.tail.iter().filter_map(|(_, l)| l.get(name)));
        to_strings(values)
    }

    /// Number of series in the tail, i.e. not yet in a segment.
    pub(crate) fn tail_len(&self) -> usize {
        self.state.read().tail.len()
    }

    /// Number of series in the index.
    pub(crate) fn len(&self) -> usize {
        let st = self.state.read();
        st.segment.as_ref().map_or(0, |s| s.len() as usize) + st.tail.len()
    }

    /// True when the index holds no series.
    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Size of the current segment file in bytes (0 without one).
    pub(crate) fn segment_bytes(&self) -> u64 {
        self.state.read().segment.as_ref().map_or(0, |s| s.size_bytes())
    }

    /// True after [`Index::open`] found the segment corrupt and moved it
    /// aside: the index lacks series that exist, and the owner should
    /// [`add`](Index::add) every series again, then [`rebuild`](Index::rebuild).
    /// A successful rebuild clears it.
    pub(crate) fn needs_rebuild(&self) -> bool {
        self.state.read().needs_rebuild
    }

    /// Highest series ref in the mapped segment, if there is one.
    pub(crate) fn max_segment_ref(&self) -> Option<SeriesRef> {
        self.state.read().segment.as_ref().and_then(|s| s.max_ref())
    }

    /// Builds a new segment from the current segment and the tail, leaving
    /// out every series for which `drop(ref)` is true (retention), writes it
    /// next to the old one, swaps it in, removes from the tail the series it
    /// took, and deletes the old segment file.
    ///
    /// Meant for a background thread: adds and selects proceed meanwhile
    /// and only wait for the swap itself. Selections made before the swap
    /// keep the old segment mapped until they are dropped. A series added
    /// during the rebuild stays in the tail for the next one. `drop` should
    /// only be true for series the owner no longer writes: an `add` of such a
    /// series during the rebuild is ignored (the index still has it), and the
    /// swap then removes it.
    pub(crate) fn rebuild(&self, drop: impl Fn(SeriesRef) -> bool) -> Result<(), IndexError> {
        let _one_at_a_time = self.rebuilding.lock();
        let (old, taken, seq) = {
            let st = self.state.read();
            (st.segment.clone(), st.tail.snapshot(), st.seq)
        };
        let took = taken.len();
        let mut tail: Vec<(SeriesRef, Labels)> = taken.into_iter().filter(|(r, _)| !drop(*r)).collect();
        tail.sort_unstable_by(|a, b| a.1.cmp(&b.1));

        // The segment is in label order and so is the sorted tail: merge them.
        let mut series: Vec<(SeriesRef, LabelsView<'_>)> = Vec::new();
        let mut rest = tail.iter().peekable();
        if let Some(seg) = &old {
            series.reserve(seg.len() as usize + tail.len());
            for ord in 0..seg.len() {
                let r = seg.series_ref(ord);
                if drop(r) {
                    continue;
                }
                while let Some((tr, tl)) = rest.next_if(|(_, tl)| compare_pairs(tl.iter(), seg.labels(ord)).is_lt()) {
                    series.push((*tr, LabelsView::Owned(tl)));
                }
                series.push((r, LabelsView::Segment(seg, ord)));
            }
        }
        series.extend(rest.map(|(r, l)| (*r, LabelsView::Owned(l))));

        let path = self.dir.join(segment_file_name(seq + 1));
        writer::write_sorted(&path, series.iter().map(|(r, l)| (*r, l.iter())))?;
        let new = match Segment::open(&path) {
            Ok(s) => s,
            Err(e) => {
                // Never leave behind a file the next open would take as newest.
                let _ = fs::remove_file(&path);
                return Err(e);
            }
        };
        {
            let mut st = self.state.write();
            st.segment = Some(Arc::new(new));
            st.seq = seq + 1;
            st.tail.remove_oldest(took);
            st.needs_rebuild = false;
        }
        if let Some(old) = old {
            remove_leftover(old.path(), "replaced segment");
        }
        Ok(())
    }
}

/// Removes an index file that is no longer needed; failure only costs disk
/// space until the next open, so it is logged, not returned.
fn remove_leftover(path: &Path, what: &str) {
    match fs::remove_file(path) {
        Ok(()) => tracing::debug!(path = %path.display(), "removed {what}"),
        Err(e) => tracing::warn!(path = %path.display(), error = %e, "could not remove {what}"),
    }
}

/// Sorted, deduplicated owned copies.
fn to_strings(mut v: Vec<&str>) -> Vec<String> {
    v.sort_unstable();
    v.dedup();
    v.into_iter().map(str::to_string).collect()
}
