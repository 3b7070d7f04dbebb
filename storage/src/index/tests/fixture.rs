//! The checked-in example segment, `tests/fixtures/index/index-00000001.seg`,
//! which `docs/format/index.md` walks through byte by byte. If a change to
//! the writer breaks these tests, the format changed: see "Changing the
//! format" in that document rather than regenerating this file.

use std::path::Path;

use super::{l, m};
use crate::index::format::{self, FOOTER_LEN, SECTIONS};
use crate::index::Segment;
use crate::{Labels, MatchOp, SeriesRef};

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/index/index-00000001.seg");

/// The fixture's series, in the order given to the writer (not label order).
fn fixture_series() -> Vec<(SeriesRef, Labels)> {
    vec![
        (
            SeriesRef(3),
            l(&[("__name__", "up"), ("instance", "a:9100"), ("job", "node")]),
        ),
        (
            SeriesRef(1),
            l(&[("__name__", "up"), ("instance", "b:9100"), ("job", "node")]),
        ),
        (
            SeriesRef(2),
            l(&[("__name__", "node_load1"), ("instance", "a:9100"), ("job", "node")]),
        ),
    ]
}

#[test]
#[ignore = "rewrites the checked-in fixture; run by hand after a deliberate format change"]
fn write_fixture_segment() {
    Segment::write(Path::new(FIXTURE), fixture_series()).unwrap();
}

#[test]
fn the_checked_in_segment_decodes_to_its_documented_contents() {
    let bytes = std::fs::read(FIXTURE).unwrap();
    assert_eq!(bytes.len(), 467);
    assert_eq!(&bytes[..8], b"SIDX\x01\x00\x00\x00");
    assert_eq!(&bytes[bytes.len() - 4..], b"SIDX");
    let sections: Vec<(u64, u64)> = format::decode_footer(&bytes[bytes.len() - FOOTER_LEN..bytes.len() - 8])
        .iter()
        .map(|e| (e.offset, e.len))
        .collect();
    assert_eq!(
        sections,
        [(8, 83), (91, 112), (203, 36), (239, 36), (275, 84)],
        "{SECTIONS:?}"
    );

    let seg = Segment::open(Path::new(FIXTURE)).unwrap();
    let symbols: Vec<&str> = (0..seg.symbol_count()).map(|i| seg.symbol(i)).collect();
    assert_eq!(
        symbols,
        [
            "__name__",
            "a:9100",
            "b:9100",
            "instance",
            "job",
            "node",
            "node_load1",
            "up"
        ]
    );

    let series: Vec<(u64, Labels)> = (0..seg.len())
        .map(|o| (seg.series_ref(o).0, seg.labels_owned(o)))
        .collect();
    assert_eq!(
        series,
        [
            (
                2,
                l(&[("__name__", "node_load1"), ("instance", "a:9100"), ("job", "node")])
            ),
            (3, l(&[("__name__", "up"), ("instance", "a:9100"), ("job", "node")])),
            (1, l(&[("__name__", "up"), ("instance", "b:9100"), ("job", "node")])),
        ]
    );

    let postings: Vec<((&str, &str), Vec<u32>)> = (0..seg.table_len())
        .map(|i| {
            let (n, v) = seg.table_entry(i);
            ((seg.symbol(n), seg.symbol(v)), seg.postings_at(i).to_vec())
        })
        .collect();
    assert_eq!(
        postings,
        [
            (("__name__", "node_load1"), vec![0]),
            (("__name__", "up"), vec![1, 2]),
            (("instance", "a:9100"), vec![0, 1]),
            (("instance", "b:9100"), vec![2]),
            (("job", "node"), vec![0, 1, 2]),
        ]
    );
    assert_eq!(seg.max_ref(), Some(SeriesRef(3)));
    assert_eq!(seg.select(&[m("instance", MatchOp::Equal, "a:9100")]), [0, 1]);
}

#[test]
fn the_writer_still_produces_the_checked_in_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("index-00000001.seg");
    Segment::write(&path, fixture_series()).unwrap();
    assert!(
        std::fs::read(&path).unwrap() == std::fs::read(FIXTURE).unwrap(),
        "the writer's output differs from {FIXTURE}"
    );
}
