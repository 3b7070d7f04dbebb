//! Sets of series ordinals and the operations a select needs on them:
//! intersection and difference of sorted lists, and union of many lists.
//!
//! Ordinals are numbered in label order, so every result here, being sorted,
//! is also a list of series in label order.

/// A sorted list of ordinals read in place from a segment.
#[derive(Clone, Copy)]
pub(super) struct PostingsList<'a> {
    /// Little-endian `u32`s; the length is a multiple of 4.
    bytes: &'a [u8],
}

impl<'a> PostingsList<'a> {
    /// A list over `bytes`, whose length is a multiple of 4.
    pub(super) fn new(bytes: &'a [u8]) -> Self {
        debug_assert_eq!(bytes.len() % 4, 0);
        PostingsList { bytes }
    }

    /// Number of ordinals.
    pub(super) fn len(&self) -> usize {
        self.bytes.len() / 4
    }

    /// The ordinals, ascending.
    pub(super) fn iter(&self) -> impl ExactSizeIterator<Item = u32> + 'a {
        self.bytes
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
    }

    /// The ordinals as a vector.
    pub(super) fn to_vec(self) -> Vec<u32> {
        self.iter().collect()
    }
}

/// A set of ordinals below some universe size.
pub(super) enum OrdSet<'a> {
    /// One label pair's list, read in place rather than copied.
    Postings(PostingsList<'a>),
    /// Ascending, no duplicates.
    List(Vec<u32>),
    /// One bit per ordinal; used when a union is dense.
    Bits(BitSet),
}

impl OrdSet<'_> {
    /// True when the set has no members.
    pub(super) fn is_empty(&self) -> bool {
        match self {
            OrdSet::Postings(p) => p.len() == 0,
            OrdSet::List(l) => l.is_empty(),
            OrdSet::Bits(b) => b.is_empty(),
        }
    }

    /// The number of members when known without counting; bitmaps, being
    /// dense, count as larger than any list.
    pub(super) fn size_hint(&self) -> usize {
        match self {
            OrdSet::Postings(p) => p.len(),
            OrdSet::List(l) => l.len(),
            OrdSet::Bits(_) => usize::MAX,
        }
    }

    /// The members, ascending.
    pub(super) fn into_sorted(self) -> Vec<u32> {
        match self {
            OrdSet::Postings(p) => p.to_vec(),
            OrdSet::List(l) => l,
            OrdSet::Bits(b) => b.to_sorted(),
        }
    }
}

/// A fixed-size set of `u32`s backed by one bit each.
pub(super) struct BitSet {
    words: Vec<u64>,
}

impl BitSet {
    /// An empty set for members below `universe`.
    pub(super) fn new(universe: u32) -> Self {
        BitSet {
            words: vec![0; (universe as usize).div_ceil(64)],
        }
    }

    /// Adds `i`, which must be below the universe.
    #[inline]
    pub(super) fn insert(&mut self, i: u32) {
        self.words[(i / 64) as usize] |= 1 << (i % 64);
    }

    /// True when `i` is a member; false for anything past the universe.
    #[inline]
    pub(super) fn contains(&self, i: u32) -> bool {
        self.words
            .get((i / 64) as usize)
            .is_some_and(|w| w & (1 << (i % 64)) != 0)
    }

    /// True when no bit is set.
    pub(super) fn is_empty(&self) -> bool {
        self.words.iter().all(|&w| w == 0)
    }

    /// The members, ascending.
    pub(super) fn to_sorted(&self) -> Vec<u32> {
        let ones = self.words.iter().map(|w| w.count_ones() as usize).sum();
        let mut out = Vec::with_capacity(ones);
        for (wi, &w) in self.words.iter().enumerate() {
            let mut w = w;
            while w != 0 {
                out.push(wi as u32 * 64 + w.trailing_zeros());
                w &= w - 1;
            }
        }
        out
    }
}

/// The union of `lists`, all of whose members are below `universe`.
///
/// Dense unions (the values of a label most series carry, such as `job` or
/// `__name__`) go through a bitmap, which costs one pass over the inputs and
/// one over `universe / 64` words; sparse ones are concatenated and sorted.
pub(super) fn union<'a>(lists: &[PostingsList<'a>], universe: u32) -> OrdSet<'a> {
    let total: usize = lists.iter().map(|l| l.len()).sum();
    match lists {
        [] => OrdSet::List(Vec::new()),
        [one] => OrdSet::Postings(*one),
        _ if total.saturating_mul(64) >= universe as usize => {
            let mut bits = BitSet::new(universe);
            for l in lists {
                for o in l.iter() {
                    bits.insert(o);
                }
            }
            OrdSet::Bits(bits)
        }
        _ => {
            let mut out = Vec::with_capacity(total);
            for l in lists {
                out.extend(l.iter());
            }
            out.sort_unstable();
            out.dedup();
            OrdSet::List(out)
        }
    }
}

/// Keeps in `acc` (ascending) only the members of `with`.
pub(super) fn intersect(acc: &mut Vec<u32>, with: &OrdSet<'_>) {
    match with {
        OrdSet::Postings(p) => retain_by_membership(acc, p, true),
        OrdSet::List(l) => retain_by_membership(acc, l.as_slice(), true),
        OrdSet::Bits(b) => acc.retain(|&o| b.contains(o)),
    }
}

/// Removes from `acc` (ascending) the members of `without`.
pub(super) fn subtract(acc: &mut Vec<u32>, without: &OrdSet<'_>) {
    match without {
        OrdSet::Postings(p) => retain_by_membership(acc, p, false),
        OrdSet::List(l) => retain_by_membership(acc, l.as_slice(), false),
        OrdSet::Bits(b) => acc.retain(|&o| !b.contains(o)),
    }
}

/// Random access to an ascending list, in memory or in a segment.
trait Sorted {
    fn len(&self) -> usize;
    fn at(&self, i: usize) -> u32;
}

impl Sorted for [u32] {
    fn len(&self) -> usize {
        <[u32]>::len(self)
    }
    #[inline]
    fn at(&self, i: usize) -> u32 {
        self[i]
    }
}

impl Sorted for PostingsList<'_> {
    fn len(&self) -> usize {
        PostingsList::len(self)
    }
    #[inline]
    fn at(&self, i: usize) -> u32 {
        let b = &self.bytes[4 * i..4 * i + 4];
        u32::from_le_bytes([b[0], b[1], b[2], b[3]])
    }
}

/// Keeps the members of `acc` whose membership in `sorted` equals `member`:
/// one merge walk of both lists.
fn retain_by_membership<S: Sorted + ?Sized>(acc: &mut Vec<u32>, sorted: &S, member: bool) {
    let mut pos = 0;
    acc.retain(|&o| {
        pos = skip_below(sorted, pos, o);
        (pos < sorted.len() && sorted.at(pos) == o) == member
    });
}

/// The first position at or after `from` whose member is not below `o`,
/// found by exponential search: a step or two when it is near (walking two
/// lists of similar size), logarithmic when it is far (10 ordinals against a
/// list of 1M cost ~10 × 40 probes, not 1M).
#[inline]
fn skip_below<S: Sorted + ?Sized>(sorted: &S, from: usize, o: u32) -> usize {
    let len = sorted.len();
    if from >= len || sorted.at(from) >= o {
        return from;
    }
    // Invariant: sorted.at(lo) < o.
    let mut lo = from;
    let mut step = 1;
    while lo + step < len && sorted.at(lo + step) < o {
        lo += step;
        step *= 2;
    }
    let mut hi = (lo + step).min(len);
    // Bisect (lo, hi]: the answer is the first position in it not below `o`.
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if sorted.at(mid) < o {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    hi
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(v: &[u32]) -> Vec<u8> {
        v.iter().flat_map(|o| o.to_le_bytes()).collect()
    }

    #[test]
    fn sparse_and_dense_unions_agree() {
        let a = list(&[1, 5, 9]);
        let b = list(&[2, 5, 100]);
        let lists = [PostingsList::new(&a), PostingsList::new(&b)];
        // Universe 10_000 makes this union sparse; 101 makes it dense.
        for universe in [10_000, 101] {
            assert_eq!(
                union(&lists, universe).into_sorted(),
                vec![1, 2, 5, 9, 100],
                "universe {universe}"
            );
        }
    }

    #[test]
    fn intersect_and_subtract_with_lists_and_bits() {
        let other = vec![0, 3, 4, 7, 200];
        let mut bits = BitSet::new(201);
        for &o in &other {
            bits.insert(o);
        }
        for set in [OrdSet::List(other.clone()), OrdSet::Bits(bits)] {
            let mut acc = vec![0, 1, 3, 7, 8, 150];
            intersect(&mut acc, &set);
            assert_eq!(acc, vec![0, 3, 7]);
            let mut acc = vec![0, 1, 3, 7, 8, 150];
            subtract(&mut acc, &set);
            assert_eq!(acc, vec![1, 8, 150]);
        }
    }

    #[test]
    fn galloping_finds_members_of_long_lists() {
        let long: Vec<u32> = (0..10_000).map(|i| i * 3).collect();
        let mut acc = vec![0, 2, 3, 2_999, 3_000, 29_997, 29_998];
        intersect(&mut acc, &OrdSet::List(long.clone()));
        assert_eq!(acc, vec![0, 3, 3_000, 29_997]);
        let mut acc = vec![1, 3, 29_997, 40_000];
        subtract(&mut acc, &OrdSet::List(long));
        assert_eq!(acc, vec![1, 40_000]);
    }
}
