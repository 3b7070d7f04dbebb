//! Tests of the index as a whole. Each file is one concern; the helpers here
//! build indexes in the three shapes a select must treat alike.

mod concurrency;
mod corruption;
mod fixture;
mod lifecycle;
mod matchers;
mod properties;
mod segment_file;

use super::{Index, Selection};
use crate::{Labels, MatchOp, Matcher, SeriesRef};

/// Where the series of a test index live.
#[derive(Debug, Clone, Copy)]
pub(super) enum Shape {
    /// All in the segment, none in the tail.
    SegmentOnly,
    /// All in the tail, no segment.
    TailOnly,
    /// The first `n` in the segment, the rest in the tail.
    Mixed(usize),
}

/// An index in a fresh temporary directory holding `series` in `shape`.
pub(super) fn build(series: &[(SeriesRef, Labels)], shape: Shape) -> (tempfile::TempDir, Index) {
    let dir = tempfile::tempdir().unwrap();
    let index = Index::open(dir.path()).unwrap();
    let in_segment = match shape {
        Shape::SegmentOnly => series.len(),
        Shape::TailOnly => 0,
        Shape::Mixed(n) => n.min(series.len()),
    };
    for (r, l) in &series[..in_segment] {
        index.add(*r, l.clone());
    }
    if in_segment > 0 {
        index.rebuild(|_| false).unwrap();
    }
    for (r, l) in &series[in_segment..] {
        index.add(*r, l.clone());
    }
    (dir, index)
}

/// The shapes worth trying for `n` series.
pub(super) fn shapes(n: usize) -> [Shape; 4] {
    [
        Shape::SegmentOnly,
        Shape::TailOnly,
        Shape::Mixed(n / 2),
        Shape::Mixed(1),
    ]
}

pub(super) fn l(pairs: &[(&str, &str)]) -> Labels {
    Labels::from_pairs(pairs)
}

pub(super) fn m(name: &str, op: MatchOp, value: &str) -> Matcher {
    Matcher::new(op, name, value).unwrap()
}

/// The refs of a selection, in its order.
pub(super) fn refs(sel: &Selection) -> Vec<u64> {
    sel.iter().map(|s| s.r.0).collect()
}

/// The label sets of a selection, in its order.
pub(super) fn label_sets(sel: &Selection) -> Vec<Labels> {
    sel.iter().map(|s| s.labels.to_labels()).collect()
}
