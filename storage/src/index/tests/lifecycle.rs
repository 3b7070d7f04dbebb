//! The index over time: adds, rebuilds, restarts.

use std::fs;

use super::{l, m, refs};
use crate::index::Index;
use crate::{Labels, MatchOp, SeriesRef};

fn series(i: u64) -> (SeriesRef, Labels) {
    let name = format!("metric_{}", i % 4);
    let inst = format!("host-{i:03}");
    (
        SeriesRef(i),
        Labels::new([("__name__", name.as_str()), ("instance", inst.as_str())]).unwrap(),
    )
}

fn files(dir: &std::path::Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    v.sort();
    v
}

#[test]
fn reopening_maps_the_newest_segment_instead_of_rebuilding() {
    let dir = tempfile::tempdir().unwrap();
    let index = Index::open(dir.path()).unwrap();
    for i in 0..100 {
        let (r, labels) = series(i);
        index.add(r, labels);
    }
    index.rebuild(|_| false).unwrap();
    let before = refs(&index.select(&[m("__name__", MatchOp::Equal, "metric_1")]));
    let bytes = index.segment_bytes();
    drop(index);

    let modified = fs::metadata(dir.path().join("index-00000001.seg"))
        .unwrap()
        .modified()
        .unwrap();
    let index = Index::open(dir.path()).unwrap();
    assert!(!index.needs_rebuild());
    assert_eq!(index.len(), 100);
    assert_eq!(index.tail_len(), 0);
    assert_eq!(index.segment_bytes(), bytes);
    assert_eq!(
        refs(&index.select(&[m("__name__", MatchOp::Equal, "metric_1")])),
        before
    );
    assert_eq!(files(dir.path()), ["index-00000001.seg"]);
    assert_eq!(
        fs::metadata(dir.path().join("index-00000001.seg"))
            .unwrap()
            .modified()
            .unwrap(),
        modified,
        "the segment is read, not rewritten"
    );
}

#[test]
fn a_fresh_directory_is_an_empty_index_not_a_lost_one() {
    let dir = tempfile::tempdir().unwrap();
    let index = Index::open(&dir.path().join("new")).unwrap();
    assert!(index.is_empty());
    assert!(!index.needs_rebuild());
    assert_eq!(index.segment_bytes(), 0);
    assert!(index.select(&[]).is_empty());
    assert!(index.label_names(&[]).is_empty());
}

#[test]
fn rebuild_moves_the_tail_into_a_new_segment_and_deletes_the_old_file() {
    let dir = tempfile::tempdir().unwrap();
    let index = Index::open(dir.path()).unwrap();
    for i in 0..10 {
        let (r, labels) = series(i);
        index.add(r, labels);
    }
    assert_eq!(index.tail_len(), 10);
    index.rebuild(|_| false).unwrap();
    assert_eq!(index.tail_len(), 0);
    for i in 10..15 {
        let (r, labels) = series(i);
        index.add(r, labels);
    }
    assert_eq!((index.len(), index.tail_len()), (15, 5));
    index.rebuild(|_| false).unwrap();
    assert_eq!((index.len(), index.tail_len()), (15, 0));
    assert_eq!(files(dir.path()), ["index-00000002.seg"]);
    let all: Vec<Labels> = index.select(&[]).iter().map(|s| s.labels.to_labels()).collect();
    assert!(all.windows(2).all(|w| w[0] < w[1]));
}

#[test]
fn rebuild_leaves_out_dropped_series_from_segment_and_tail() {
    let dir = tempfile::tempdir().unwrap();
    let index = Index::open(dir.path()).unwrap();
    for i in 0..20 {
        let (r, labels) = series(i);
        index.add(r, labels);
        if i == 9 {
            index.rebuild(|_| false).unwrap();
        }
    }
    index.rebuild(|r| r.0 % 2 == 1).unwrap();
    assert_eq!(index.len(), 10);
    assert!(refs(&index.select(&[])).iter().all(|r| r % 2 == 0));
    assert_eq!(index.find(&series(3).1), None);
    assert_eq!(index.labels(SeriesRef(3)), None);
    assert_eq!(index.find(&series(4).1), Some(SeriesRef(4)));
    // A dropped series may come back later, as a new tail entry.
    index.add(SeriesRef(3), series(3).1);
    assert_eq!(index.find(&series(3).1), Some(SeriesRef(3)));
}

#[test]
fn add_ignores_a_known_ref_or_a_known_label_set() {
    let dir = tempfile::tempdir().unwrap();
    let index = Index::open(dir.path()).unwrap();
    index.add(SeriesRef(1), l(&[("a", "1")]));
    index.add(SeriesRef(1), l(&[("a", "2")]));
    index.add(SeriesRef(2), l(&[("a", "1")]));
    assert_eq!(index.len(), 1);
    index.rebuild(|_| false).unwrap();
    // Now both are in the segment.
    index.add(SeriesRef(1), l(&[("a", "3")]));
    index.add(SeriesRef(5), l(&[("a", "1")]));
    assert_eq!((index.len(), index.tail_len()), (1, 0));
    assert_eq!(index.find(&l(&[("a", "1")])), Some(SeriesRef(1)));
    assert_eq!(index.labels(SeriesRef(1)), Some(l(&[("a", "1")])));
}

#[test]
fn a_selection_outlives_the_rebuild_that_deletes_its_segment() {
    let dir = tempfile::tempdir().unwrap();
    let index = Index::open(dir.path()).unwrap();
    for i in 0..30 {
        let (r, labels) = series(i);
        index.add(r, labels);
    }
    index.rebuild(|_| false).unwrap();
    let sel = index.select(&[m("__name__", MatchOp::Equal, "metric_2")]);
    index.rebuild(|_| true).unwrap();
    assert!(!dir.path().join("index-00000001.seg").exists());
    assert!(index.is_empty());
    let got: Vec<(u64, Labels)> = sel.iter().map(|s| (s.r.0, s.labels.to_labels())).collect();
    let want: Vec<(u64, Labels)> = (0..30).filter(|i| i % 4 == 2).map(|i| (i, series(i).1)).collect();
    assert_eq!(got, want);
}

#[test]
fn open_removes_leftovers_of_an_interrupted_rebuild() {
    let dir = tempfile::tempdir().unwrap();
    let index = Index::open(dir.path()).unwrap();
    for i in 0..5 {
        let (r, labels) = series(i);
        index.add(r, labels);
    }
    index.rebuild(|_| false).unwrap();
    drop(index);
    // A crash after the new segment's rename but before the old one's
    // removal leaves two segments; one mid-write leaves a temporary file.
    fs::copy(
        dir.path().join("index-00000001.seg"),
        dir.path().join("index-00000003.seg"),
    )
    .unwrap();
    fs::write(dir.path().join("index-00000004.seg.tmp"), b"half").unwrap();
    fs::write(dir.path().join("unrelated.txt"), b"keep").unwrap();

    let index = Index::open(dir.path()).unwrap();
    assert_eq!(index.len(), 5);
    assert_eq!(files(dir.path()), ["index-00000003.seg", "unrelated.txt"]);
    index.add(SeriesRef(99), l(&[("a", "b")]));
    index.rebuild(|_| false).unwrap();
    assert_eq!(files(dir.path()), ["index-00000004.seg", "unrelated.txt"]);
}
