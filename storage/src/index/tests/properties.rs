//! Random label sets and matchers: every index shape must agree with a
//! brute-force `matches_all` over all series, in label order.

use proptest::prelude::*;

use super::{build, label_sets, refs, Shape};
use crate::{matches_all, Labels, MatchOp, Matcher, SeriesRef};

const NAMES: &[&str] = &["__name__", "a", "b", "c"];
/// `""` makes the label absent.
const VALUES: &[&str] = &["", "x", "y", "xy", "z", "x|y"];
/// Matcher values: literals, regexes that do and do not match `""`, and
/// alternations the literal fast path handles.
const MATCH_VALUES: &[&str] = &[
    "", "x", "y", "xy", "x|y", ".*", ".+", "x.*", "|x", "y|", "(x|)", "[xz]", "x|y|", "z|q",
];
/// `d` is on no series.
const MATCH_NAMES: &[&str] = &["__name__", "a", "b", "c", "d"];

fn label_set() -> impl Strategy<Value = Labels> {
    proptest::collection::vec(0..VALUES.len(), NAMES.len())
        .prop_map(|vs| Labels::new(NAMES.iter().zip(vs).map(|(n, v)| (*n, VALUES[v]))).unwrap())
}

fn matcher() -> impl Strategy<Value = Matcher> {
    (0..MATCH_NAMES.len(), 0..4usize, 0..MATCH_VALUES.len()).prop_map(|(n, op, v)| {
        let op = [MatchOp::Equal, MatchOp::NotEqual, MatchOp::Regex, MatchOp::NotRegex][op];
        Matcher::new(op, MATCH_NAMES[n], MATCH_VALUES[v]).unwrap()
    })
}

/// Brute force: the first ref of each distinct label set (the index keeps
/// the first), filtered, sorted by labels.
fn expected(series: &[(SeriesRef, Labels)], matchers: &[Matcher]) -> Vec<(SeriesRef, Labels)> {
    let mut seen = std::collections::HashSet::new();
    let mut want: Vec<_> = series
        .iter()
        .filter(|(_, l)| seen.insert(l.clone()))
        .filter(|(_, l)| matches_all(l, matchers))
        .cloned()
        .collect();
    want.sort_by(|a, b| a.1.cmp(&b.1));
    want
}

fn sorted_dedup(v: impl Iterator<Item = String>) -> Vec<String> {
    let mut v: Vec<String> = v.collect();
    v.sort();
    v.dedup();
    v
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn select_agrees_with_brute_force_on_every_shape(
        sets in proptest::collection::vec(label_set(), 0..40),
        matchers in proptest::collection::vec(matcher(), 0..4),
        split in 0..40usize,
    ) {
        let series: Vec<(SeriesRef, Labels)> =
            sets.into_iter().enumerate().map(|(i, l)| (SeriesRef(i as u64 + 1), l)).collect();
        let want = expected(&series, &matchers);
        let want_refs: Vec<u64> = want.iter().map(|(r, _)| r.0).collect();
        let want_labels: Vec<Labels> = want.iter().map(|(_, l)| l.clone()).collect();
        for shape in [Shape::SegmentOnly, Shape::TailOnly, Shape::Mixed(split)] {
            let (_dir, index) = build(&series, shape);
            let sel = index.select(&matchers);
            prop_assert_eq!(&refs(&sel), &want_refs, "{:?} {:?}", shape, matchers);
            prop_assert_eq!(&label_sets(&sel), &want_labels, "{:?}", shape);
            prop_assert_eq!(sel.len(), want.len());

            let names = sorted_dedup(want.iter().flat_map(|(_, l)| l.iter().map(|(n, _)| n.to_string())));
            prop_assert_eq!(index.label_names(&matchers), names, "{:?}", shape);
            for name in MATCH_NAMES {
                let values = sorted_dedup(want.iter().filter_map(|(_, l)| l.get(name).map(str::to_string)));
                prop_assert_eq!(index.label_values(name, &matchers), values, "{:?} {}", shape, name);
            }
            for (r, l) in &want {
                prop_assert_eq!(index.find(l), Some(*r));
                prop_assert_eq!(index.labels(*r), Some(l.clone()));
            }
        }
    }
}
