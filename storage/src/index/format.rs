//! The byte layout of a segment file, shared by the writer and the reader.
//! `docs/format/index.md` describes the same layout for people; keep the two
//! in step (the checked-in example segment under `tests/fixtures/index/`
//! fails its test when they drift).
//!
//! All integers are little-endian. Symbol ids, ordinals and offsets inside a
//! section are `u32`; section offsets in the footer are `u64`.

use super::error::Section;

/// First four bytes of every segment file (and last four, after the footer).
pub(super) const MAGIC: [u8; 4] = *b"SIDX";

/// The format version this build writes, and the newest it reads.
pub(super) const VERSION: u8 = 1;

/// Magic, version byte, three reserved zero bytes.
pub(super) const HEADER_LEN: usize = 8;

/// The sections between header and footer, in file order.
pub(super) const SECTIONS: [Section; 5] = [
    Section::Symbols,
    Section::Series,
    Section::Refs,
    Section::Postings,
    Section::PostingsTable,
];

/// One footer entry: section offset (u64), length (u64), CRC32 (u32).
const FOOTER_ENTRY_LEN: usize = 20;

/// Section entries, the footer's own CRC32, then the magic again.
pub(super) const FOOTER_LEN: usize = SECTIONS.len() * FOOTER_ENTRY_LEN + 4 + 4;

/// A label pair inside a series entry: name symbol id, value symbol id.
pub(super) const PAIR_LEN: usize = 8;

/// The series ref that starts every series entry.
pub(super) const SERIES_REF_LEN: usize = 8;

/// A refs entry: series ref (u64), ordinal (u32).
pub(super) const REF_ENTRY_LEN: usize = 12;

/// A postings table entry: name id, value id, first index into the postings
/// section (in `u32` units), number of ordinals.
pub(super) const TABLE_ENTRY_LEN: usize = 16;

/// Where one section lies in the file and its checksum.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct SectionEntry {
    /// Byte offset from the start of the file.
    pub offset: u64,
    /// Length in bytes.
    pub len: u64,
    /// CRC32 (IEEE, as `crc32fast`) of the section's bytes.
    pub crc: u32,
}

/// The header bytes of a segment written by this build.
pub(super) fn encode_header() -> [u8; HEADER_LEN] {
    let mut h = [0u8; HEADER_LEN];
    h[..4].copy_from_slice(&MAGIC);
    h[4] = VERSION;
    h
}

/// The footer bytes for the given sections, in [`SECTIONS`] order.
pub(super) fn encode_footer(entries: &[SectionEntry; SECTIONS.len()]) -> Vec<u8> {
    let mut f = Vec::with_capacity(FOOTER_LEN);
    for e in entries {
        f.extend_from_slice(&e.offset.to_le_bytes());
        f.extend_from_slice(&e.len.to_le_bytes());
        f.extend_from_slice(&e.crc.to_le_bytes());
    }
    let crc = crc32fast::hash(&f);
    f.extend_from_slice(&crc.to_le_bytes());
    f.extend_from_slice(&MAGIC);
    f
}

/// Reads the section entries of a footer whose length, magic and checksum
/// the caller has already checked.
pub(super) fn decode_footer(footer: &[u8]) -> [SectionEntry; SECTIONS.len()] {
    std::array::from_fn(|i| {
        let at = i * FOOTER_ENTRY_LEN;
        SectionEntry {
            offset: u64_at(footer, at),
            len: u64_at(footer, at + 8),
            crc: u32_at(footer, at + 16),
        }
    })
}

/// The `u32` at byte `at`. Callers read only offsets that the segment's
/// validation at open proved to be in bounds.
#[inline]
pub(super) fn u32_at(b: &[u8], at: usize) -> u32 {
    let mut w = [0u8; 4];
    w.copy_from_slice(&b[at..at + 4]);
    u32::from_le_bytes(w)
}

/// The `u64` at byte `at`; see [`u32_at`].
#[inline]
pub(super) fn u64_at(b: &[u8], at: usize) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(w)
}

/// The `u32` at byte `at`, or `None` past the end: for validation, which
/// must not trust any offset it has not checked.
pub(super) fn get_u32(b: &[u8], at: usize) -> Option<u32> {
    let w = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes(w.try_into().ok()?))
}
