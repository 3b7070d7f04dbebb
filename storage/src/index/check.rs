//! Checking a segment file at open, so that a file which opens describes a
//! well-formed segment and no later read can go out of bounds or return
//! another series' data.
//!
//! Two passes. [`Layout::check`] reads the raw bytes with checked reads
//! only: header, footer, every section's CRC32, and the sizes of all arrays
//! and offset tables. [`Segment::check_contents`] then uses the segment's
//! own accessors, which that first pass made safe, to check orders, ids and
//! that the postings agree with the series table.

use std::path::Path;

use super::error::{IndexError, Section};
use super::format::{self, get_u32, u32_at, FOOTER_LEN, HEADER_LEN, PAIR_LEN, SECTIONS, SERIES_REF_LEN};
use super::segment::Segment;

/// Where each part of a file that passed the first check lies, as byte
/// offsets from the start of the file.
pub(super) struct Layout {
    /// Number of series.
    pub len: u32,
    pub symbol_count: u32,
    pub symbol_ends: usize,
    pub symbol_data: usize,
    pub series_ends: usize,
    pub series_data: usize,
    pub refs: usize,
    pub postings: usize,
    /// Number of `u32` ordinals in the postings section.
    pub postings_len: usize,
    pub table_len: u32,
    pub table: usize,
    /// Number of label pairs over all series.
    pub pairs: usize,
}

/// A failed check: where, and what.
type Failure = (Section, String);

impl Layout {
    /// The first pass: everything that can be checked on raw bytes.
    pub(super) fn check(path: &Path, b: &[u8]) -> Result<Layout, IndexError> {
        if b.len() >= HEADER_LEN && b[4] > format::VERSION && b[..4] == format::MAGIC {
            return Err(IndexError::UnsupportedVersion {
                path: path.to_path_buf(),
                found: b[4],
                supported: format::VERSION,
            });
        }
        Self::check_bytes(b).map_err(|(section, reason)| IndexError::Corrupt {
            path: path.to_path_buf(),
            section,
            reason,
        })
    }

    fn check_bytes(b: &[u8]) -> Result<Layout, Failure> {
        let fail = |section, reason: String| Err((section, reason));
        if b.len() < HEADER_LEN + FOOTER_LEN {
            return fail(
                Section::Footer,
                format!(
                    "file is {} bytes, shorter than a header and footer ({} bytes)",
                    b.len(),
                    HEADER_LEN + FOOTER_LEN
                ),
            );
        }
        if b[..4] != format::MAGIC {
            return fail(Section::Header, format!("bad magic {:02x?}", &b[..4]));
        }
        if b[4] == 0 {
            return fail(Section::Header, "version byte is 0".into());
        }
        if b[5..HEADER_LEN] != [0, 0, 0] {
            return fail(Section::Header, "reserved bytes are not zero".into());
        }

        let footer_start = b.len() - FOOTER_LEN;
        let (footer, trailer) = b[footer_start..].split_at(FOOTER_LEN - 8);
        if trailer[4..] != format::MAGIC {
            return fail(Section::Footer, "no trailing magic (truncated file?)".into());
        }
        if crc32fast::hash(footer) != u32_at(trailer, 0) {
            return fail(Section::Footer, "checksum mismatch".into());
        }
        let entries = format::decode_footer(footer);
        // Sections lie back to back from the header to the footer, as this
        // version writes them; anything else is not a file it wrote.
        let mut expect = HEADER_LEN as u64;
        let mut bodies: [&[u8]; SECTIONS.len()] = [&[]; SECTIONS.len()];
        for ((section, e), body) in SECTIONS.iter().zip(&entries).zip(&mut bodies) {
            let end = e.offset.checked_add(e.len);
            match end {
                Some(end) if e.offset == expect && end <= footer_start as u64 => {
                    *body = &b[e.offset as usize..end as usize];
                    expect = end;
                }
                _ => {
                    return fail(
                        Section::Footer,
                        format!(
                            "{section} section at {}+{} does not start at byte {expect}",
                            e.offset, e.len
                        ),
                    )
                }
            }
        }
        if expect != footer_start as u64 {
            return fail(
                Section::Footer,
                format!("sections end at byte {expect}, the footer starts at {footer_start}"),
            );
        }
        for ((section, e), body) in SECTIONS.iter().zip(&entries).zip(&bodies) {
            if crc32fast::hash(body) != e.crc {
                return fail(*section, "checksum mismatch".into());
            }
        }

        let [symbols, series, refs, postings, table] = bodies;
        let at = |i: usize| entries[i].offset as usize;
        let (symbol_count, symbol_data) = check_symbol_bytes(symbols).map_err(|r| (Section::Symbols, r))?;
        let (len, series_data, pairs) = check_series_bytes(series).map_err(|r| (Section::Series, r))?;
        if refs.len() as u64 != len as u64 * format::REF_ENTRY_LEN as u64 {
            return fail(Section::Refs, format!("{} bytes for {len} series", refs.len()));
        }
        if postings.len() % 4 != 0 {
            return fail(
                Section::Postings,
                format!("length {} is not a multiple of 4", postings.len()),
            );
        }
        let table_len = get_u32(table, 0).ok_or((Section::PostingsTable, "no entry count".to_string()))?;
        if table.len() as u64 != 4 + table_len as u64 * format::TABLE_ENTRY_LEN as u64 {
            return fail(
                Section::PostingsTable,
                format!("{} bytes for {table_len} entries", table.len()),
            );
        }
        Ok(Layout {
            len,
            symbol_count,
            symbol_ends: at(0) + 4,
            symbol_data: at(0) + symbol_data,
            series_ends: at(1) + 4,
            series_data: at(1) + series_data,
            refs: at(2),
            postings: at(3),
            postings_len: postings.len() / 4,
            table_len,
            table: at(4) + 4,
            pairs,
        })
    }
}

/// Reads `count` and the `count` end offsets that follow it, checking that
/// they fit; returns the count, the ends, and where the data after them starts.
fn offset_table(s: &[u8]) -> Result<(u32, &[u8], usize), String> {
    let count = get_u32(s, 0).ok_or("no count")?;
    let data = (count as usize).checked_mul(4).and_then(|n| n.checked_add(4));
    match data {
        Some(data) if data <= s.len() => Ok((count, &s[4..data], data)),
        _ => Err(format!("{count} offsets do not fit in {} bytes", s.len())),
    }
}

/// Symbols: strictly increasing end offsets (so no string is empty) that
/// end exactly at the end of the data, valid UTF-8 split on char boundaries.
/// Returns the count and the data's offset within the section.
fn check_symbol_bytes(s: &[u8]) -> Result<(u32, usize), String> {
    let (count, ends, data_at) = offset_table(s)?;
    let data = &s[data_at..];
    let text = std::str::from_utf8(data).map_err(|e| format!("string data is not UTF-8: {e}"))?;
    let mut prev = 0usize;
    for (i, end) in ends.chunks_exact(4).map(|e| u32_at(e, 0) as usize).enumerate() {
        if end <= prev || end > data.len() || !text.is_char_boundary(end) {
            return Err(format!(
                "symbol {i} ends at {end}, after {prev}, in {} bytes of data",
                data.len()
            ));
        }
        prev = end;
    }
    if prev != data.len() {
        return Err(format!("symbols end at {prev}, data is {} bytes", data.len()));
    }
    Ok((count, data_at))
}

/// Series: end offsets such that every entry is a ref plus whole pairs and
/// the last ends at the end of the data. Returns the series count, the
/// entries' offset within the section and the total number of pairs.
fn check_series_bytes(s: &[u8]) -> Result<(u32, usize, usize), String> {
    let (count, ends, data_at) = offset_table(s)?;
    let data_len = s.len() - data_at;
    let mut prev = 0usize;
    for (i, end) in ends.chunks_exact(4).map(|e| u32_at(e, 0) as usize).enumerate() {
        let ok =
            end <= data_len && end >= prev + SERIES_REF_LEN && (end - prev - SERIES_REF_LEN).is_multiple_of(PAIR_LEN);
        if !ok {
            return Err(format!("series {i} spans bytes {prev}..{end} of {data_len}"));
        }
        prev = end;
    }
    if prev != data_len {
        return Err(format!("entries end at {prev}, data is {data_len} bytes"));
    }
    let pairs = (data_len - count as usize * SERIES_REF_LEN) / PAIR_LEN;
    Ok((count, data_at, pairs))
}

impl Segment {
    /// The second pass, over a segment whose layout passed [`Layout::check`].
    pub(super) fn check_contents(&self) -> Result<(), Failure> {
        self.check_symbol_order().map_err(|r| (Section::Symbols, r))?;
        self.check_series().map_err(|r| (Section::Series, r))?;
        self.check_refs().map_err(|r| (Section::Refs, r))?;
        self.check_postings()
    }

    /// Symbols are strictly ascending: the binary searches rely on it, and
    /// comparing ids compares strings only because of it.
    fn check_symbol_order(&self) -> Result<(), String> {
        for i in 1..self.symbol_count() {
            if self.symbol(i - 1) >= self.symbol(i) {
                return Err(format!("symbol {i} is not greater than symbol {}", i - 1));
            }
        }
        Ok(())
    }

    /// Every pair names existing symbols, names are strictly ascending within
    /// a series, and series are strictly ascending in label order, which
    /// [`Segment::find`] and the sorted output of a select rely on.
    fn check_series(&self) -> Result<(), String> {
        let symbols = self.symbol_count();
        for ord in 0..self.len() {
            let mut prev_name = None;
            for (name, value) in self.pair_ids(ord) {
                if name >= symbols || value >= symbols {
                    return Err(format!(
                        "series {ord} uses symbol {}, there are {symbols}",
                        name.max(value)
                    ));
                }
                if prev_name.is_some_and(|p| p >= name) {
                    return Err(format!("label names of series {ord} are not strictly ascending"));
                }
                prev_name = Some(name);
            }
            if ord > 0 && self.pair_ids(ord - 1).cmp(self.pair_ids(ord)).is_ge() {
                return Err(format!("series {ord} does not sort after series {}", ord - 1));
            }
        }
        Ok(())
    }

    /// Refs are strictly ascending and each points at the series carrying it,
    /// which makes the refs a one-to-one map onto ordinals.
    fn check_refs(&self) -> Result<(), String> {
        for i in 0..self.len() {
            let (r, ord) = self.ref_entry(i);
            if i > 0 && self.ref_entry(i - 1).0 >= r {
                return Err(format!("ref entry {i} is not greater than the one before"));
            }
            if ord >= self.len() || self.series_ref(ord) != r {
                return Err(format!(
                    "ref entry {i} ({}) points at ordinal {ord}, which has another ref",
                    r.0
                ));
            }
        }
        Ok(())
    }

    /// The table is strictly ascending by (name, value) and its lists tile
    /// the postings section in order; each list is strictly ascending and
    /// every ordinal in it has that pair. As the lists hold as many ordinals
    /// as the series table holds pairs, postings and series agree exactly.
    fn check_postings(&self) -> Result<(), Failure> {
        let Layout {
            postings_len, pairs, ..
        } = *self.layout();
        let table = |r: String| (Section::PostingsTable, r);
        let symbols = self.symbol_count();
        let mut next_first = 0usize;
        for i in 0..self.table_len() {
            let (name, value, first, len) = self.table_entry_raw(i);
            if name >= symbols || value >= symbols {
                return Err(table(format!(
                    "entry {i} uses symbol {}, there are {symbols}",
                    name.max(value)
                )));
            }
            if i > 0 && self.table_entry(i - 1) >= (name, value) {
                return Err(table(format!("entry {i} does not sort after entry {}", i - 1)));
            }
            let end = first as usize + len as usize;
            if first as usize != next_first || len == 0 || end > postings_len {
                return Err(table(format!(
                    "entry {i} spans ordinals {first}+{len}, expected to start at {next_first} within {postings_len}"
                )));
            }
            next_first = end;
            let mut prev = None;
            for ord in self.postings_at(i).iter() {
                if ord >= self.len() || prev.is_some_and(|p| p >= ord) {
                    return Err((
                        Section::Postings,
                        format!(
                            "list of entry {i} has ordinal {ord} after {prev:?} (of {} series)",
                            self.len()
                        ),
                    ));
                }
                if !self.pair_ids(ord).any(|p| p == (name, value)) {
                    return Err((
                        Section::Postings,
                        format!("list of entry {i} holds series {ord}, which lacks that pair"),
                    ));
                }
                prev = Some(ord);
            }
        }
        if next_first != postings_len || postings_len != pairs {
            return Err((
                Section::Postings,
                format!("lists cover {next_first} of {postings_len} ordinals; series hold {pairs} pairs"),
            ));
        }
        Ok(())
    }
}
