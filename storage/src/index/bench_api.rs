//! A narrow door for `benches/postings.rs`. A bench links the crate as any
//! user does and cannot see `pub(crate)` items, so this wraps the few calls
//! it measures. Hidden from the docs and not part of the crate's API.

use std::path::Path;

use super::{segment_file_name, Index, Segment};
use crate::{Labels, Matcher, SeriesRef};

/// An [`Index`] as seen by the benches.
pub struct BenchIndex(Index);

impl BenchIndex {
    /// Opens or creates the index kept in `dir`.
    pub fn open(dir: &Path) -> Result<BenchIndex, String> {
        Index::open(dir).map(BenchIndex).map_err(|e| e.to_string())
    }

    /// Writes `series` as the first segment of a new index in `dir` and
    /// opens that index, as a restart would.
    pub fn write_segment(dir: &Path, series: Vec<(SeriesRef, Labels)>) -> Result<BenchIndex, String> {
        Segment::write(&dir.join(segment_file_name(1)), series).map_err(|e| e.to_string())?;
        BenchIndex::open(dir)
    }

    /// Number of series in the segment and tail.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when the index is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Selects and returns how many series matched.
    pub fn select_count(&self, matchers: &[Matcher]) -> usize {
        self.0.select(matchers).len()
    }

    /// Selects and reads every matching series' ref and labels, as
    /// `/federate` does; returns the number of label bytes seen so the work
    /// cannot be optimised away.
    pub fn select_and_read_labels(&self, matchers: &[Matcher]) -> usize {
        let sel = self.0.select(matchers);
        sel.iter()
            .map(|s| (s.r.0 as usize & 1) + s.labels.iter().map(|(n, v)| n.len() + v.len()).sum::<usize>())
            .sum()
    }
}
