//! The in-memory tail: series added since the current segment was built.
//! Small by design (a rebuild moves it into a new segment), so selects scan
//! it with [`matches_all`] rather than keeping postings for it.

use std::collections::HashMap;

use crate::{matches_all, Labels, Matcher, SeriesRef};

/// Series not yet in a segment, in the order they were added.
#[derive(Default)]
pub(super) struct Tail {
    by_ref: HashMap<SeriesRef, Labels>,
    by_labels: HashMap<Labels, SeriesRef>,
    /// Insertion order. A rebuild takes a prefix of it and later removes
    /// exactly that prefix, while adds keep appending.
    order: Vec<SeriesRef>,
}

impl Tail {
    /// Adds a series; the caller has checked that neither its ref nor its
    /// label set is in the index yet.
    pub(super) fn insert(&mut self, r: SeriesRef, labels: Labels) {
        self.by_labels.insert(labels.clone(), r);
        self.by_ref.insert(r, labels);
        self.order.push(r);
    }

    /// True when `r` is in the tail.
    pub(super) fn contains_ref(&self, r: SeriesRef) -> bool {
        self.by_ref.contains_key(&r)
    }

    /// The ref of the series with exactly this label set.
    pub(super) fn find(&self, labels: &Labels) -> Option<SeriesRef> {
        self.by_labels.get(labels).copied()
    }

    /// The label set of `r`.
    #[cfg(test)]
    pub(super) fn labels(&self, r: SeriesRef) -> Option<&Labels> {
        self.by_ref.get(&r)
    }

    /// Number of series.
    pub(super) fn len(&self) -> usize {
        self.order.len()
    }

    /// All series, in no particular order.
    pub(super) fn iter(&self) -> impl Iterator<Item = (SeriesRef, &Labels)> {
        self.by_ref.iter().map(|(r, l)| (*r, l))
    }

    /// The series matching every matcher, sorted by labels.
    pub(super) fn select(&self, matchers: &[Matcher]) -> Vec<(SeriesRef, Labels)> {
        let mut hits: Vec<(SeriesRef, Labels)> = self
            .iter()
            .filter(|(_, l)| matches_all(l, matchers))
            .map(|(r, l)| (r, l.clone()))
            .collect();
        hits.sort_unstable_by(|a, b| a.1.cmp(&b.1));
        hits
    }

    /// A copy of every series, in insertion order; [`Tail::remove_oldest`]
    /// with the copy's length later removes exactly these.
    pub(super) fn snapshot(&self) -> Vec<(SeriesRef, Labels)> {
        self.order.iter().map(|r| (*r, self.by_ref[r].clone())).collect()
    }

    /// Removes the `n` oldest series.
    pub(super) fn remove_oldest(&mut self, n: usize) {
        for r in self.order.drain(..n) {
            if let Some(labels) = self.by_ref.remove(&r) {
                self.by_labels.remove(&labels);
            }
        }
    }
}
