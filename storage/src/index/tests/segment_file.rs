//! Writing and reading one segment file directly.

use super::l;
use crate::index::{IndexError, Segment};
use crate::{Labels, SeriesRef};

fn write_and_open(series: Vec<(SeriesRef, Labels)>) -> (tempfile::TempDir, Segment) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("index-00000001.seg");
    Segment::write(&path, series).unwrap();
    let seg = Segment::open(&path).unwrap();
    (dir, seg)
}

#[test]
fn ordinals_follow_label_order_whatever_the_input_order() {
    let (_dir, seg) = write_and_open(vec![
        (SeriesRef(10), l(&[("__name__", "up"), ("job", "b")])),
        (SeriesRef(11), l(&[("__name__", "a_metric")])),
        (SeriesRef(12), l(&[("__name__", "up"), ("job", "a")])),
        (SeriesRef(13), l(&[("__name__", "up")])),
    ]);
    let order: Vec<u64> = (0..seg.len()).map(|o| seg.series_ref(o).0).collect();
    assert_eq!(order, [11, 13, 12, 10]);
    let labels: Vec<Labels> = (0..seg.len()).map(|o| seg.labels_owned(o)).collect();
    assert!(labels.windows(2).all(|w| w[0] < w[1]), "{labels:?}");
    let pairs: Vec<(&str, &str)> = seg.labels(2).collect();
    assert_eq!(pairs, [("__name__", "up"), ("job", "a")]);
    assert_eq!(seg.label_value(3, "job"), Some("b"));
}

#[test]
fn a_repeated_label_set_keeps_the_lowest_ref() {
    let set = l(&[("job", "x")]);
    let (_dir, seg) = write_and_open(vec![
        (SeriesRef(7), set.clone()),
        (SeriesRef(3), set.clone()),
        (SeriesRef(9), set.clone()),
    ]);
    assert_eq!(seg.len(), 1);
    assert_eq!(seg.find(&set), Some(SeriesRef(3)));
    assert_eq!(seg.ordinal_of(SeriesRef(7)), None);
}

#[test]
fn one_ref_for_two_label_sets_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.seg");
    let err = Segment::write(
        &path,
        vec![(SeriesRef(1), l(&[("a", "1")])), (SeriesRef(1), l(&[("a", "2")]))],
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            IndexError::DuplicateRef {
                series_ref: SeriesRef(1),
                ..
            }
        ),
        "{err}"
    );
    assert!(!path.exists());
    assert!(
        std::fs::read_dir(dir.path()).unwrap().next().is_none(),
        "no temporary file is left"
    );
}

#[test]
fn find_looks_up_exact_label_sets_only() {
    let (_dir, seg) = write_and_open(vec![
        (SeriesRef(1), l(&[("a", "1"), ("b", "2")])),
        (SeriesRef(2), l(&[("a", "1")])),
        (SeriesRef(3), Labels::default()),
    ]);
    assert_eq!(seg.find(&l(&[("a", "1"), ("b", "2")])), Some(SeriesRef(1)));
    assert_eq!(seg.find(&l(&[("a", "1")])), Some(SeriesRef(2)));
    assert_eq!(seg.find(&Labels::default()), Some(SeriesRef(3)));
    assert_eq!(seg.find(&l(&[("b", "2")])), None);
    assert_eq!(seg.find(&l(&[("a", "1"), ("b", "2"), ("c", "3")])), None);
    assert_eq!(seg.find(&l(&[("a", "unknown")])), None);
}

#[test]
fn refs_map_to_ordinals_and_max_ref_is_the_largest() {
    let (_dir, seg) = write_and_open(vec![
        (SeriesRef(40), l(&[("a", "1")])),
        (SeriesRef(5), l(&[("a", "2")])),
        (SeriesRef(17), l(&[("a", "0")])),
    ]);
    assert_eq!(seg.max_ref(), Some(SeriesRef(40)));
    assert_eq!(seg.ordinal_of(SeriesRef(17)), Some(0));
    assert_eq!(seg.ordinal_of(SeriesRef(40)), Some(1));
    assert_eq!(seg.ordinal_of(SeriesRef(5)), Some(2));
    assert_eq!(seg.ordinal_of(SeriesRef(6)), None);
}

#[test]
fn label_names_and_values_are_sorted_and_distinct() {
    let (_dir, seg) = write_and_open(vec![
        (SeriesRef(1), l(&[("job", "b"), ("zone", "eu")])),
        (SeriesRef(2), l(&[("job", "a"), ("env", "prod")])),
        (SeriesRef(3), l(&[("job", "b")])),
    ]);
    assert_eq!(seg.label_names(), ["env", "job", "zone"]);
    assert_eq!(seg.label_values("job"), ["a", "b"]);
    assert!(seg.label_values("nope").is_empty());
}

#[test]
fn an_empty_segment_opens_and_selects_nothing() {
    let (_dir, seg) = write_and_open(Vec::new());
    assert_eq!(seg.len(), 0);
    assert_eq!(seg.max_ref(), None);
    assert!(seg.select(&[]).is_empty());
    assert!(seg.label_names().is_empty());
}

#[test]
fn multibyte_strings_round_trip() {
    let set = l(&[("city", "Zürich"), ("emoji", "📈"), ("job", "a\nb")]);
    let (_dir, seg) = write_and_open(vec![(SeriesRef(1), set.clone())]);
    assert_eq!(seg.labels_owned(0), set);
    assert_eq!(seg.label_values("emoji"), ["📈"]);
}

#[test]
fn segments_are_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<Segment>();
    check::<crate::index::Index>();
    check::<crate::index::Selection>();
}
