//! Damaged segment files: every kind of damage is reported as `Corrupt` (or
//! `UnsupportedVersion`), never a panic and never wrong data.

use std::fs;
use std::path::{Path, PathBuf};

use proptest::prelude::*;

use super::{l, m};
use crate::index::error::Section;
use crate::index::format::{self, SectionEntry, FOOTER_LEN, SECTIONS};
use crate::index::{Index, IndexError, Segment};
use crate::{Labels, MatchOp, SeriesRef};

fn sample_series() -> Vec<(SeriesRef, Labels)> {
    (0..20)
        .map(|i| {
            let name = format!("metric_{}", i % 3);
            let inst = format!("host-{i}");
            let env = if i % 2 == 0 { "prod" } else { "" };
            (
                SeriesRef(i + 1),
                Labels::new([("__name__", name.as_str()), ("instance", inst.as_str()), ("env", env)]).unwrap(),
            )
        })
        .collect()
}

/// A valid segment file's bytes.
fn sample_bytes() -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.seg");
    Segment::write(&path, sample_series()).unwrap();
    fs::read(&path).unwrap()
}

fn footer(b: &[u8]) -> [SectionEntry; 5] {
    format::decode_footer(&b[b.len() - FOOTER_LEN..])
}

/// Writes `bytes` to a fresh file and opens it as a segment.
fn open_bytes(bytes: &[u8]) -> (tempfile::TempDir, PathBuf, Result<Segment, IndexError>) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.seg");
    fs::write(&path, bytes).unwrap();
    let r = Segment::open(&path);
    (dir, path, r)
}

fn corrupt_section(r: &Result<Segment, IndexError>) -> Option<Section> {
    match r {
        Err(IndexError::Corrupt { section, .. }) => Some(*section),
        _ => None,
    }
}

/// Recomputes every section CRC and the footer CRC, so that only the
/// structural checks stand between `b` and a successful open.
fn fix_checksums(b: &mut [u8]) {
    let mut entries = footer(b);
    for e in &mut entries {
        e.crc = crc32fast::hash(&b[e.offset as usize..(e.offset + e.len) as usize]);
    }
    let at = b.len() - FOOTER_LEN;
    b[at..].copy_from_slice(&format::encode_footer(&entries));
}

#[test]
fn a_flipped_byte_in_any_section_is_reported_against_that_section() {
    let good = sample_bytes();
    for (section, e) in SECTIONS.iter().zip(footer(&good)) {
        assert!(e.len > 0, "{section} is empty in the sample");
        for at in [e.offset, e.offset + e.len / 2, e.offset + e.len - 1] {
            let mut bad = good.clone();
            bad[at as usize] ^= 0x01;
            let (_d, _p, r) = open_bytes(&bad);
            assert_eq!(corrupt_section(&r), Some(*section), "byte {at}: {:?}", r.err());
        }
    }
}

#[test]
fn a_flipped_byte_in_header_or_footer_is_corrupt() {
    let good = sample_bytes();
    let len = good.len();
    for (at, section) in [
        (0, Section::Header),
        (3, Section::Header),
        (6, Section::Header),
        (len - FOOTER_LEN, Section::Footer),
        (len - 10, Section::Footer),
        (len - 5, Section::Footer),
        (len - 1, Section::Footer),
    ] {
        let mut bad = good.clone();
        bad[at] ^= 0x40;
        let (_d, _p, r) = open_bytes(&bad);
        assert_eq!(corrupt_section(&r), Some(section), "byte {at}: {:?}", r.err());
    }
}

#[test]
fn a_newer_version_is_unsupported_and_version_zero_is_corrupt() {
    let mut newer = sample_bytes();
    newer[4] = format::VERSION + 1;
    let (_d, _p, r) = open_bytes(&newer);
    assert!(
        matches!(
            r,
            Err(IndexError::UnsupportedVersion {
                found: 2,
                supported: 1,
                ..
            })
        ),
        "{:?}",
        r.err()
    );

    let mut zero = sample_bytes();
    zero[4] = 0;
    let (_d, _p, r) = open_bytes(&zero);
    assert_eq!(corrupt_section(&r), Some(Section::Header), "{:?}", r.err());
}

#[test]
fn every_truncation_is_corrupt() {
    let good = sample_bytes();
    for len in 0..good.len() {
        let (_d, _p, r) = open_bytes(&good[..len]);
        assert!(
            corrupt_section(&r).is_some(),
            "truncated to {len}: {:?}",
            r.err().map(|e| e.to_string())
        );
    }
}

#[test]
fn bad_offsets_behind_valid_checksums_are_corrupt() {
    let good = sample_bytes();
    let entries = footer(&good);
    let at = |s: Section| entries[SECTIONS.iter().position(|x| *x == s).unwrap()].offset as usize;
    let cases: &[(&str, Section, usize, u32)] = &[
        // First symbol end pointing past the string data.
        (
            "symbol end past data",
            Section::Symbols,
            at(Section::Symbols) + 4,
            u32::MAX,
        ),
        // A series entry ending past the entries.
        (
            "series end past data",
            Section::Series,
            at(Section::Series) + 4,
            1 << 30,
        ),
        // Ordinal of the first refs entry past the series count.
        ("ref to missing ordinal", Section::Refs, at(Section::Refs) + 8, 9_999),
        // First ordinal of the first postings list past the series count.
        (
            "ordinal past the series",
            Section::Postings,
            at(Section::Postings),
            9_999,
        ),
        // The first table entry's length running past the postings.
        (
            "list past the postings",
            Section::PostingsTable,
            at(Section::PostingsTable) + 4 + 12,
            u32::MAX,
        ),
        // The symbol count claiming more offsets than fit.
        (
            "symbol count too large",
            Section::Symbols,
            at(Section::Symbols),
            u32::MAX,
        ),
        // The table count claiming more entries than fit.
        (
            "table count too large",
            Section::PostingsTable,
            at(Section::PostingsTable),
            1 << 31,
        ),
    ];
    for (what, section, offset, value) in cases {
        let mut bad = good.clone();
        bad[*offset..offset + 4].copy_from_slice(&value.to_le_bytes());
        fix_checksums(&mut bad);
        let (_d, _p, r) = open_bytes(&bad);
        assert_eq!(
            corrupt_section(&r),
            Some(*section),
            "{what}: {:?}",
            r.err().map(|e| e.to_string())
        );
    }
}

#[test]
fn a_segment_whose_postings_disagree_with_its_series_is_corrupt() {
    // Swap two ordinals across lists: every offset stays valid and every
    // list stays sorted, but a list now names a series lacking its pair.
    let good = sample_bytes();
    let p = footer(&good)[3];
    let mut bad = good.clone();
    let first = p.offset as usize;
    let last = (p.offset + p.len) as usize - 4;
    let (a, b) = (good[first..first + 4].to_vec(), good[last..last + 4].to_vec());
    bad[first..first + 4].copy_from_slice(&b);
    bad[last..last + 4].copy_from_slice(&a);
    fix_checksums(&mut bad);
    let (_d, _p, r) = open_bytes(&bad);
    assert!(
        matches!(corrupt_section(&r), Some(Section::Postings | Section::PostingsTable)),
        "{:?}",
        r.err()
    );
}

/// Every read a caller can make, so that a file that opens is proven safe to use.
fn exercise(seg: &Segment) {
    for ord in 0..seg.len() {
        let labels = seg.labels_owned(ord);
        let r = seg.series_ref(ord);
        assert_eq!(seg.find(&labels), Some(r));
        assert_eq!(seg.ordinal_of(r), Some(ord));
    }
    for name in seg.label_names() {
        for value in seg.label_values(name) {
            for op in [MatchOp::Equal, MatchOp::NotEqual, MatchOp::Regex, MatchOp::NotRegex] {
                let ords = seg.select(&[m(name, op, &regex_escape(value))]);
                assert!(ords.windows(2).all(|w| w[0] < w[1]) && ords.iter().all(|&o| o < seg.len()));
            }
        }
    }
    let _ = seg.max_ref();
}

fn regex_escape(s: &str) -> String {
    regex::escape(s)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600), header in any::<bool>()) {
        let mut bytes = bytes;
        if header && bytes.len() >= 8 {
            bytes[..8].copy_from_slice(&format::encode_header());
        }
        let (_d, _p, r) = open_bytes(&bytes);
        prop_assert!(r.is_err());
    }

    #[test]
    fn damage_behind_fixed_checksums_never_panics(edits in proptest::collection::vec((any::<prop::sample::Index>(), 1..=255u8), 1..4)) {
        let mut bytes = sample_bytes();
        let body = format::HEADER_LEN..bytes.len() - FOOTER_LEN;
        for (at, x) in edits {
            bytes[body.start + at.index(body.len())] ^= x;
        }
        fix_checksums(&mut bytes);
        let (_d, _p, r) = open_bytes(&bytes);
        if let Ok(seg) = r {
            exercise(&seg);
        }
    }
}

fn index_with_segment() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let index = Index::open(dir.path()).unwrap();
    for (r, labels) in sample_series() {
        index.add(r, labels);
    }
    index.rebuild(|_| false).unwrap();
    let path = dir.path().join("index-00000001.seg");
    assert!(path.exists());
    (dir, path)
}

fn flip(path: &Path, at: usize) {
    let mut b = fs::read(path).unwrap();
    b[at] ^= 0x10;
    fs::write(path, b).unwrap();
}

#[test]
fn index_moves_a_corrupt_segment_aside_and_asks_for_a_rebuild() {
    let (dir, path) = index_with_segment();
    let postings = footer(&fs::read(&path).unwrap())[3];
    flip(&path, postings.offset as usize + 2);

    let index = Index::open(dir.path()).unwrap();
    assert!(index.needs_rebuild());
    assert_eq!(index.len(), 0);
    assert!(!path.exists());
    let aside = dir.path().join("index-00000001.seg.corrupt");
    assert!(aside.exists(), "the corrupt file is kept for inspection");

    // The owner re-adds everything and rebuilds; the new segment gets a new number.
    for (r, labels) in sample_series() {
        index.add(r, labels);
    }
    index.rebuild(|_| false).unwrap();
    assert!(!index.needs_rebuild());
    drop(index);
    let index = Index::open(dir.path()).unwrap();
    assert!(!index.needs_rebuild());
    assert_eq!(index.len(), 20);
    assert!(dir.path().join("index-00000002.seg").exists());
    assert!(aside.exists());
}

#[test]
fn index_refuses_a_segment_from_a_newer_version_and_leaves_it_alone() {
    let (dir, path) = index_with_segment();
    let mut b = fs::read(&path).unwrap();
    b[4] = format::VERSION + 1;
    fs::write(&path, &b).unwrap();
    let err = Index::open(dir.path()).err().expect("a newer segment is an error");
    assert!(matches!(err, IndexError::UnsupportedVersion { .. }), "{err}");
    assert_eq!(fs::read(&path).unwrap(), b);
}

#[test]
fn index_with_a_truncated_segment_asks_for_a_rebuild() {
    let (dir, path) = index_with_segment();
    let b = fs::read(&path).unwrap();
    fs::write(&path, &b[..b.len() / 2]).unwrap();
    let index = Index::open(dir.path()).unwrap();
    assert!(index.needs_rebuild());
    assert!(index.select(&[]).is_empty());
    assert!(index.find(&l(&[("__name__", "metric_0")])).is_none());
}
