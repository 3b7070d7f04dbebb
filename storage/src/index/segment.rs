//! An immutable, memory-mapped index segment: the series it holds, numbered
//! in label order, and for every label pair the ordinals of the series that
//! have it.
//!
//! Everything is read in place from the mapping. [`Segment::open`] checks
//! every checksum and every offset once, so the accessors afterwards need no
//! error paths: a file that opens describes a well-formed segment.

use std::cmp::Ordering;
use std::fs::File;
use std::ops::Range;
use std::path::{Path, PathBuf};

use memmap2::Mmap;

use super::check::Layout;
use super::error::IndexError;
use super::format::{self, u32_at, u64_at, FOOTER_LEN, HEADER_LEN, PAIR_LEN};
use super::postings::{BitSet, PostingsList};
use super::writer;
use crate::{Labels, SeriesRef};

/// A segment file mapped into memory. Series are numbered 0.. in label order
/// (ordinal 0 is the smallest label set by [`Labels`]'s `Ord`), so any sorted
/// list of ordinals is also a list of series in label order.
pub(crate) struct Segment {
    path: PathBuf,
    map: Mmap,
    /// Where everything lies in `map`, as proven by the checks at open.
    layout: Layout,
}

impl Segment {
    /// Writes a segment holding `series` to `path` (via a temporary file,
    /// fsync and rename). Series are sorted by labels here. When a label set
    /// appears more than once, the copy with the lowest ref is kept and the
    /// others are left out: a label set identifies one series. Two label sets
    /// sharing a ref is an error.
    pub(crate) fn write(path: &Path, mut series: Vec<(SeriesRef, Labels)>) -> Result<(), IndexError> {
        series.sort_unstable_by(|a, b| a.1.cmp(&b.1).then(a.0.cmp(&b.0)));
        series.dedup_by(|later, first| later.1 == first.1);
        writer::write_sorted(path, series.iter().map(|(r, l)| (*r, l.iter())))
    }

    /// Maps the segment at `path` and checks it: magic, version, every
    /// section's CRC32, and that all offsets, ids and orders are consistent.
    pub(crate) fn open(path: &Path) -> Result<Segment, IndexError> {
        let file = File::open(path).map_err(|e| IndexError::io(path, "open", e))?;
        let size = file.metadata().map_err(|e| IndexError::io(path, "stat", e))?.len();
        if size < (HEADER_LEN + FOOTER_LEN) as u64 {
            // Not every platform maps an empty file; a file this short fails
            // the checks anyway, so give them a plain read to report on.
            let bytes = std::fs::read(path).map_err(|e| IndexError::io(path, "read", e))?;
            Layout::check(path, &bytes)?;
        }
        // SAFETY: segment files are written once under a temporary name and
        // renamed into place; nothing writes to them afterwards, so the
        // mapped bytes do not change while mapped.
        let map = unsafe { Mmap::map(&file) }.map_err(|e| IndexError::io(path, "mmap", e))?;
        let layout = Layout::check(path, &map)?;
        let segment = Segment {
            path: path.to_path_buf(),
            map,
            layout,
        };
        segment
            .check_contents()
            .map_err(|(section, reason)| IndexError::Corrupt {
                path: path.to_path_buf(),
                section,
                reason,
            })?;
        Ok(segment)
    }

    /// Path of the mapped file.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Size of the file in bytes.
    pub(crate) fn size_bytes(&self) -> u64 {
        self.map.len() as u64
    }

    /// Number of series.
    pub(crate) fn len(&self) -> u32 {
        self.layout.len
    }

    /// The ref of the series at `ord`. `ord` must be below [`Segment::len`].
    pub(crate) fn series_ref(&self, ord: u32) -> SeriesRef {
        SeriesRef(u64_at(&self.map, self.layout.series_data + self.entry_range(ord).start))
    }

    /// The label pairs of the series at `ord`, in name order, borrowed from
    /// the mapping. `ord` must be below [`Segment::len`].
    pub(crate) fn labels(&self, ord: u32) -> SegmentLabels<'_> {
        let r = self.entry_range(ord);
        SegmentLabels {
            segment: self,
            pairs: &self.map
                [self.layout.series_data + r.start + format::SERIES_REF_LEN..self.layout.series_data + r.end],
        }
    }

    /// The label set of the series at `ord` as an owned [`Labels`].
    pub(crate) fn labels_owned(&self, ord: u32) -> Labels {
        Labels::new(self.labels(ord)).expect("label names are checked at open to be distinct and non-empty")
    }

    /// The value of label `name` of the series at `ord`, if it has one.
    pub(crate) fn label_value(&self, ord: u32, name: &str) -> Option<&str> {
        self.labels(ord).find(|(n, _)| *n == name).map(|(_, v)| v)
    }

    /// The largest ref in the segment.
    pub(crate) fn max_ref(&self) -> Option<SeriesRef> {
        let last = self.layout.len.checked_sub(1)?;
        Some(self.ref_entry(last).0)
    }

    /// The ordinal of the series with ref `r`, by binary search over the refs section.
    pub(crate) fn ordinal_of(&self, r: SeriesRef) -> Option<u32> {
        let i = bisect(0..self.layout.len, |i| self.ref_entry(i).0.cmp(&r)).ok()?;
        Some(self.ref_entry(i).1)
    }

    /// The ref of the series whose label set is exactly `labels`. Because
    /// ordinals are in label order this is a binary search; the label strings
    /// are first turned into symbol ids, which compare like the strings.
    pub(crate) fn find(&self, labels: &Labels) -> Option<SeriesRef> {
        let mut target = Vec::with_capacity(labels.len());
        for (n, v) in labels.iter() {
            target.push((self.symbol_id(n)?, self.symbol_id(v)?));
        }
        let ord = bisect(0..self.layout.len, |o| self.pair_ids(o).cmp(target.iter().copied())).ok()?;
        Some(self.series_ref(ord))
    }

    /// Every label name used by any series, sorted.
    pub(crate) fn label_names(&self) -> Vec<&str> {
        let mut names = Vec::new();
        let mut i = 0;
        while i < self.layout.table_len {
            let name = self.table_entry(i).0;
            names.push(self.symbol(name));
            i = self.name_range(name).end;
        }
        names
    }

    /// Every value of label `name`, sorted.
    pub(crate) fn label_values(&self, name: &str) -> Vec<&str> {
        let Some(id) = self.symbol_id(name) else {
            return Vec::new();
        };
        self.name_range(id)
            .map(|i| self.symbol(self.table_entry(i).1))
            .collect()
    }

    /// The distinct label names of the series at `ords`, sorted.
    pub(super) fn names_of(&self, ords: &[u32]) -> Vec<&str> {
        let mut seen = BitSet::new(self.layout.symbol_count);
        for &ord in ords {
            for (name, _) in self.pair_ids(ord) {
                seen.insert(name);
            }
        }
        // Symbol ids are in string order, so the ids come out sorted.
        seen.to_sorted().into_iter().map(|id| self.symbol(id)).collect()
    }

    /// The distinct values of label `name` among the series at `ords`, sorted.
    pub(super) fn values_of(&self, ords: &[u32], name: &str) -> Vec<&str> {
        let Some(name) = self.symbol_id(name) else {
            return Vec::new();
        };
        let mut seen = BitSet::new(self.layout.symbol_count);
        for &ord in ords {
            if let Some((_, value)) = self.pair_ids(ord).find(|&(n, _)| n == name) {
                seen.insert(value);
            }
        }
        seen.to_sorted().into_iter().map(|id| self.symbol(id)).collect()
    }

    /// The string with symbol id `id` (below the symbol count).
    pub(super) fn symbol(&self, id: u32) -> &str {
        let i = id as usize;
        let end = u32_at(&self.map, self.layout.symbol_ends + 4 * i) as usize;
        let start = match i {
            0 => 0,
            _ => u32_at(&self.map, self.layout.symbol_ends + 4 * (i - 1)) as usize,
        };
        let bytes = &self.map[self.layout.symbol_data + start..self.layout.symbol_data + end];
        // SAFETY: `Layout::check` proved the symbol data valid UTF-8 and every
        // end offset a char boundary, so each symbol is a valid `str`; the
        // mapping never changes (see `open`). Revalidating here made reading
        // the labels of 1M series 3.7× slower (benches/postings.rs, "select
        // and read labels"), and `/federate` does exactly that.
        unsafe { std::str::from_utf8_unchecked(bytes) }
    }

    /// The id of symbol `s`, if the segment uses that string anywhere.
    pub(super) fn symbol_id(&self, s: &str) -> Option<u32> {
        bisect(0..self.layout.symbol_count, |i| self.symbol(i).cmp(s)).ok()
    }

    /// Number of distinct label pairs, i.e. postings table entries.
    pub(super) fn table_len(&self) -> u32 {
        self.layout.table_len
    }

    /// Table entry `i`: (name id, value id).
    pub(super) fn table_entry(&self, i: u32) -> (u32, u32) {
        let at = self.layout.table + i as usize * format::TABLE_ENTRY_LEN;
        (u32_at(&self.map, at), u32_at(&self.map, at + 4))
    }

    /// Table entry `i` with all fields: name id, value id, index of its first
    /// ordinal in the postings section, number of ordinals.
    pub(super) fn table_entry_raw(&self, i: u32) -> (u32, u32, u32, u32) {
        let at = self.layout.table + i as usize * format::TABLE_ENTRY_LEN;
        let f = |k: usize| u32_at(&self.map, at + 4 * k);
        (f(0), f(1), f(2), f(3))
    }

    /// Number of distinct strings.
    pub(super) fn symbol_count(&self) -> u32 {
        self.layout.symbol_count
    }

    /// Where the parts of the file lie.
    pub(super) fn layout(&self) -> &Layout {
        &self.layout
    }

    /// The ordinals of table entry `i`'s label pair.
    pub(super) fn postings_at(&self, i: u32) -> PostingsList<'_> {
        let (_, _, first, len) = self.table_entry_raw(i);
        let (first, len) = (first as usize, len as usize);
        PostingsList::new(&self.map[self.layout.postings + 4 * first..self.layout.postings + 4 * (first + len)])
    }

    /// The table index of pair (`name`, `value`), by binary search.
    pub(super) fn pair_index(&self, name: u32, value: u32) -> Option<u32> {
        bisect(0..self.layout.table_len, |i| self.table_entry(i).cmp(&(name, value))).ok()
    }

    /// The table indexes of all pairs with name id `name`: contiguous, since
    /// the table is sorted by name, then value.
    pub(super) fn name_range(&self, name: u32) -> Range<u32> {
        // Never `Equal`, so each search ends at the boundary of the run.
        let boundary = |before: fn(u32, u32) -> bool| {
            bisect(0..self.layout.table_len, |i| {
                if before(self.table_entry(i).0, name) {
                    Ordering::Less
                } else {
                    Ordering::Greater
                }
            })
            .unwrap_or_else(|at| at)
        };
        boundary(|n, name| n < name)..boundary(|n, name| n <= name)
    }

    /// The (name id, value id) pairs of the series at `ord`.
    pub(super) fn pair_ids(&self, ord: u32) -> impl Iterator<Item = (u32, u32)> + '_ {
        self.labels(ord).pair_ids()
    }

    /// Byte range of entry `ord` within the series entries.
    fn entry_range(&self, ord: u32) -> Range<usize> {
        let i = ord as usize;
        let end = u32_at(&self.map, self.layout.series_ends + 4 * i) as usize;
        let start = match i {
            0 => 0,
            _ => u32_at(&self.map, self.layout.series_ends + 4 * (i - 1)) as usize,
        };
        start..end
    }

    /// Refs entry `i`: (ref, ordinal).
    pub(super) fn ref_entry(&self, i: u32) -> (SeriesRef, u32) {
        let at = self.layout.refs + i as usize * format::REF_ENTRY_LEN;
        (SeriesRef(u64_at(&self.map, at)), u32_at(&self.map, at + 8))
    }
}

/// Binary search over positions `range` of something sorted, as
/// `slice::binary_search_by`: `Ok` with a position where `cmp` is `Equal`, or
/// `Err` with where such a position would be.
fn bisect(range: Range<u32>, cmp: impl Fn(u32) -> Ordering) -> Result<u32, u32> {
    let (mut lo, mut hi) = (range.start, range.end);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        match cmp(mid) {
            Ordering::Less => lo = mid + 1,
            Ordering::Greater => hi = mid,
            Ordering::Equal => return Ok(mid),
        }
    }
    Err(lo)
}

/// The label pairs of one series in a segment, read in place, in name order.
#[derive(Clone)]
pub(crate) struct SegmentLabels<'a> {
    segment: &'a Segment,
    /// The not yet visited (name id, value id) pairs.
    pairs: &'a [u8],
}

impl<'a> SegmentLabels<'a> {
    fn pair_ids(self) -> impl Iterator<Item = (u32, u32)> + 'a {
        self.pairs.chunks_exact(PAIR_LEN).map(|p| (u32_at(p, 0), u32_at(p, 4)))
    }
}

impl<'a> Iterator for SegmentLabels<'a> {
    type Item = (&'a str, &'a str);

    fn next(&mut self) -> Option<Self::Item> {
        let (pair, rest) = self.pairs.split_first_chunk::<PAIR_LEN>()?;
        self.pairs = rest;
        Some((
            self.segment.symbol(u32_at(pair, 0)),
            self.segment.symbol(u32_at(pair, 4)),
        ))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.pairs.len() / PAIR_LEN;
        (n, Some(n))
    }
}

impl ExactSizeIterator for SegmentLabels<'_> {}
