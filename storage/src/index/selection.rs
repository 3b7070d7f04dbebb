//! The result of [`Index::select`](super::Index::select): matching series in
//! label order, whose labels are read in place from the segment they came
//! from, which the selection keeps alive.

use std::cmp::Ordering;
use std::sync::Arc;

use super::segment::{Segment, SegmentLabels};
use crate::{compare_pairs, Label, Labels, SeriesRef};

/// Series matching a select, in label order (Prometheus's `labels.Compare`),
/// each exactly once. Holds the segment it was read from, so a rebuild that
/// swaps in a new segment meanwhile does not disturb it.
pub(crate) struct Selection {
    segment: Option<Arc<Segment>>,
    /// Matching ordinals of `segment`, ascending.
    ords: Vec<u32>,
    /// Matching tail series, sorted by labels, each with the number of
    /// `ords` whose labels sort before it.
    tail: Vec<(usize, SeriesRef, Labels)>,
}

impl Selection {
    /// Merges the segment's hits with the tail's (sorted by labels). A label
    /// set is never in both, because the index adds a series to the tail
    /// only if the segment lacks it.
    pub(super) fn new(segment: Option<Arc<Segment>>, ords: Vec<u32>, tail: Vec<(SeriesRef, Labels)>) -> Self {
        let tail = match &segment {
            Some(seg) => tail
                .into_iter()
                .map(|(r, l)| {
                    let before = ords.partition_point(|&o| compare_pairs(seg.labels(o), l.iter()) == Ordering::Less);
                    (before, r, l)
                })
                .collect(),
            None => tail.into_iter().map(|(r, l)| (0, r, l)).collect(),
        };
        Selection { segment, ords, tail }
    }

    /// Number of series.
    pub(crate) fn len(&self) -> usize {
        self.ords.len() + self.tail.len()
    }

    /// True when nothing matched.
    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Label names of the selected series, unsorted, with repeats.
    pub(super) fn label_names(&self) -> Vec<&str> {
        let mut out = match &self.segment {
            Some(seg) => seg.names_of(&self.ords),
            None => Vec::new(),
        };
        out.extend(self.tail.iter().flat_map(|(_, _, l)| l.iter().map(|(n, _)| n)));
        out
    }

    /// Values of label `name` among the selected series, unsorted, with repeats.
    pub(super) fn label_values(&self, name: &str) -> Vec<&str> {
        let mut out = match &self.segment {
            Some(seg) => seg.values_of(&self.ords, name),
            None => Vec::new(),
        };
        out.extend(self.tail.iter().filter_map(|(_, _, l)| l.get(name)));
        out
    }

    /// The series in label order.
    pub(crate) fn iter(&self) -> SelectionIter<'_> {
        SelectionIter {
            selection: self,
            next_ord: 0,
            next_tail: 0,
        }
    }
}

/// Iterator over a [`Selection`] in label order.
pub(crate) struct SelectionIter<'a> {
    selection: &'a Selection,
    next_ord: usize,
    next_tail: usize,
}

impl<'a> Iterator for SelectionIter<'a> {
    type Item = SelectedSeries<'a>;

    fn next(&mut self) -> Option<SelectedSeries<'a>> {
        let s = self.selection;
        if let Some((before, r, labels)) = s.tail.get(self.next_tail) {
            if *before <= self.next_ord {
                self.next_tail += 1;
                return Some(SelectedSeries {
                    r: *r,
                    labels: LabelsView::Owned(labels),
                });
            }
        }
        let ord = *s.ords.get(self.next_ord)?;
        self.next_ord += 1;
        let seg = s.segment.as_deref().expect("segment ordinals come with their segment");
        Some(SelectedSeries {
            r: seg.series_ref(ord),
            labels: LabelsView::Segment(seg, ord),
        })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let s = self.selection;
        let n = s.ords.len() - self.next_ord + s.tail.len() - self.next_tail;
        (n, Some(n))
    }
}

impl ExactSizeIterator for SelectionIter<'_> {}

/// One series of a [`Selection`].
pub(crate) struct SelectedSeries<'a> {
    /// The series' ref.
    pub r: SeriesRef,
    /// The series' labels, borrowed from the selection.
    pub labels: LabelsView<'a>,
}

/// A label set borrowed either from a segment's mapping or from the tail.
#[derive(Clone, Copy)]
pub(crate) enum LabelsView<'a> {
    /// Series `ord` of a segment.
    Segment(&'a Segment, u32),
    /// A label set held in memory.
    Owned(&'a Labels),
}

impl<'a> LabelsView<'a> {
    /// The pairs in name order.
    pub(crate) fn iter(self) -> LabelsViewIter<'a> {
        match self {
            LabelsView::Segment(seg, ord) => LabelsViewIter::Segment(seg.labels(ord)),
            LabelsView::Owned(l) => LabelsViewIter::Owned(l.as_slice().iter()),
        }
    }

    /// The value of `name`, if present.
    pub(crate) fn get(self, name: &str) -> Option<&'a str> {
        match self {
            LabelsView::Segment(seg, ord) => seg.label_value(ord, name),
            LabelsView::Owned(l) => l.get(name),
        }
    }

    /// An owned copy.
    pub(crate) fn to_labels(self) -> Labels {
        match self {
            LabelsView::Segment(seg, ord) => seg.labels_owned(ord),
            LabelsView::Owned(l) => l.clone(),
        }
    }

    /// Number of pairs.
    #[cfg(test)]
    pub(crate) fn len(self) -> usize {
        self.iter().len()
    }
}

impl std::fmt::Display for LabelsView<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LabelsView::Owned(l) => l.fmt(f),
            LabelsView::Segment(..) => self.to_labels().fmt(f),
        }
    }
}

/// Iterator over a [`LabelsView`]'s pairs.
pub(crate) enum LabelsViewIter<'a> {
    /// Pairs read from a segment.
    Segment(SegmentLabels<'a>),
    /// Pairs of an in-memory label set.
    Owned(std::slice::Iter<'a, Label>),
}

impl<'a> Iterator for LabelsViewIter<'a> {
    type Item = (&'a str, &'a str);

    fn next(&mut self) -> Option<Self::Item> {
        match self {
            LabelsViewIter::Segment(it) => it.next(),
            LabelsViewIter::Owned(it) => it.next().map(|l| (&*l.name, &*l.value)),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match self {
            LabelsViewIter::Segment(it) => it.size_hint(),
            LabelsViewIter::Owned(it) => it.size_hint(),
        }
    }
}

impl ExactSizeIterator for LabelsViewIter<'_> {}
