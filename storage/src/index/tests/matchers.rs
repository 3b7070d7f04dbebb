//! Prometheus's matcher semantics, case by case, on every index shape.

use super::{build, l, m, refs, shapes};
use crate::MatchOp::{Equal as Eq, NotEqual as Ne, NotRegex as Nre, Regex as Re};
use crate::{Labels, MatchOp, SeriesRef};

/// Six series; in label order they are refs 4, 5, 6, 3, 1, 2.
fn series() -> Vec<(SeriesRef, Labels)> {
    [
        (1, l(&[("__name__", "up"), ("job", "api"), ("env", "prod")])),
        (2, l(&[("__name__", "up"), ("job", "api")])),
        (3, l(&[("__name__", "up"), ("job", "db"), ("env", "dev")])),
        (
            4,
            l(&[("__name__", "http_requests_total"), ("job", "api"), ("code", "200")]),
        ),
        (
            5,
            l(&[("__name__", "http_requests_total"), ("job", "api"), ("code", "500")]),
        ),
        (6, l(&[("__name__", "job:rate5m"), ("job", "db")])),
    ]
    .into_iter()
    .map(|(r, l)| (SeriesRef(r), l))
    .collect()
}

type Case = (
    &'static str,
    &'static [(&'static str, MatchOp, &'static str)],
    &'static [u64],
);

const ALL: &[u64] = &[4, 5, 6, 3, 1, 2];

const CASES: &[Case] = &[
    ("no matchers select everything, in label order", &[], ALL),
    (
        "equality uses the pair's postings",
        &[("job", Eq, "api")],
        &[4, 5, 1, 2],
    ),
    (
        "equal empty selects series lacking the label",
        &[("env", Eq, "")],
        &[4, 5, 6, 2],
    ),
    (
        "not equal empty selects series having the label",
        &[("env", Ne, "")],
        &[3, 1],
    ),
    (
        "not equal keeps series lacking the label",
        &[("env", Ne, "prod")],
        &[4, 5, 6, 3, 2],
    ),
    (
        "regex matching empty adds series lacking the label",
        &[("env", Re, "prod|")],
        &[4, 5, 6, 1, 2],
    ),
    ("regex is anchored", &[("env", Re, "pro")], &[]),
    (
        "regex not matching empty needs the label",
        &[("env", Re, "pro.*")],
        &[1],
    ),
    (
        "negated regex keeps series lacking the label",
        &[("env", Nre, "pro.*")],
        &[4, 5, 6, 3, 2],
    ),
    (
        "negated regex matching everything selects nothing",
        &[("env", Nre, ".*")],
        &[],
    ),
    (
        "negated regex matching non-empty selects series lacking the label",
        &[("env", Nre, ".+")],
        &[4, 5, 6, 2],
    ),
    (
        "regex matching everything selects everything",
        &[("env", Re, ".*")],
        ALL,
    ),
    (
        "regex matching non-empty selects series having the label",
        &[("env", Re, ".+")],
        &[3, 1],
    ),
    (
        "equality on an unknown label selects nothing",
        &[("nope", Eq, "x")],
        &[],
    ),
    (
        "equal empty on an unknown label selects everything",
        &[("nope", Eq, "")],
        ALL,
    ),
    (
        "not equal on an unknown label selects everything",
        &[("nope", Ne, "x")],
        ALL,
    ),
    (
        "regex with empty on an unknown label selects everything",
        &[("nope", Re, "x|")],
        ALL,
    ),
    ("regex on an unknown label selects nothing", &[("nope", Re, "x")], &[]),
    (
        "negated regex on an unknown label selects everything",
        &[("nope", Nre, "x")],
        ALL,
    ),
    (
        "equality on an unknown value selects nothing",
        &[("job", Eq, "web")],
        &[],
    ),
    (
        "recording rule names are ordinary values",
        &[("__name__", Re, "job:.*")],
        &[6],
    ),
    (
        "matchers intersect",
        &[("__name__", Eq, "up"), ("job", Ne, "db")],
        &[1, 2],
    ),
    ("regex over values", &[("code", Re, "2..|5..")], &[4, 5]),
    ("literal alternation", &[("code", Re, "200|500|404")], &[4, 5]),
    (
        "literal alternation with empty adds series lacking the label",
        &[("code", Re, "200|")],
        &[4, 6, 3, 1, 2],
    ),
    (
        "negated literal alternation",
        &[("code", Nre, "200|404")],
        &[5, 6, 3, 1, 2],
    ),
    (
        "contradicting equalities select nothing",
        &[("job", Eq, "api"), ("job", Eq, "db")],
        &[],
    ),
    (
        "equal empty combines with equality",
        &[("__name__", Eq, "up"), ("env", Eq, "")],
        &[2],
    ),
    (
        "regex and negation combine",
        &[("job", Re, "api|db"), ("__name__", Ne, "up")],
        &[4, 5, 6],
    ),
    ("a pipe in an equality value is literal", &[("job", Eq, "api|db")], &[]),
    ("regex dot matches any character", &[("job", Re, "a.i")], &[4, 5, 1, 2]),
];

#[test]
fn matcher_semantics_follow_prometheus_on_every_index_shape() {
    let series = series();
    for shape in shapes(series.len()) {
        let (_dir, index) = build(&series, shape);
        for (name, matchers, want) in CASES {
            let ms: Vec<_> = matchers.iter().map(|(n, op, v)| m(n, *op, v)).collect();
            let got = refs(&index.select(&ms));
            assert_eq!(&got, want, "{name}: {ms:?} on {shape:?}");
        }
    }
}

#[test]
fn label_names_and_values_respect_matchers() {
    let series = series();
    for shape in shapes(series.len()) {
        let (_dir, index) = build(&series, shape);
        assert_eq!(index.label_names(&[]), ["__name__", "code", "env", "job"], "{shape:?}");
        assert_eq!(
            index.label_names(&[m("job", Eq, "db")]),
            ["__name__", "env", "job"],
            "{shape:?}"
        );
        assert_eq!(index.label_values("job", &[]), ["api", "db"], "{shape:?}");
        assert_eq!(index.label_values("env", &[m("job", Eq, "api")]), ["prod"], "{shape:?}");
        assert_eq!(
            index.label_values("code", &[m("job", Eq, "db")]),
            Vec::<String>::new(),
            "{shape:?}"
        );
        assert!(index.label_values("nope", &[]).is_empty(), "{shape:?}");
    }
}

#[test]
fn selected_labels_read_back_from_segment_and_tail() {
    let series = series();
    for shape in shapes(series.len()) {
        let (_dir, index) = build(&series, shape);
        let sel = index.select(&[m("job", Eq, "api")]);
        assert_eq!(sel.len(), 4);
        for s in sel.iter() {
            let want = &series.iter().find(|(r, _)| *r == s.r).unwrap().1;
            assert_eq!(&s.labels.to_labels(), want, "{shape:?}");
            assert_eq!(s.labels.get("job"), Some("api"));
            assert_eq!(s.labels.get("zzz"), None);
            assert_eq!(s.labels.len(), want.len());
            assert_eq!(s.labels.to_string(), want.to_string());
        }
    }
}
