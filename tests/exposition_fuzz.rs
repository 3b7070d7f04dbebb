//! Robustness of the exposition parsers: random and damaged bodies never
//! panic, every error names where it is, valid bodies keep every sample, and a
//! 100 MB body parses in a stream.

use proptest::prelude::*;
use strata::exposition::{Entry, Format, LabelBuf, Location, ParseError, Parser};

const NODE_EXPORTER: &[u8] = include_bytes!("../benches/data/node_exporter/scrape-0s.prom");

/// Samples parsed up to the end or the first error; checks the error's location.
fn run(format: Format, body: &[u8]) -> (usize, Option<ParseError>) {
    let mut p = Parser::new(format, body);
    let mut labels = LabelBuf::default();
    let mut n = 0;
    loop {
        match p.next() {
            Ok(Some(Entry::Sample(s))) => {
                s.labels_into(&mut labels);
                assert_eq!(labels.iter().next().map(|(k, _)| k), Some("__name__"));
                n += 1;
            }
            Ok(Some(_)) => {}
            Ok(None) => return (n, None),
            Err(e) => {
                match e.location {
                    Location::Line(line) => {
                        assert!(format != Format::Protobuf, "{e}");
                        let lines = body.iter().filter(|&&c| c == b'\n').count() + 1;
                        assert!((1..=lines).contains(&line), "line {line} of {lines}: {e}");
                    }
                    Location::Byte(at) => {
                        assert_eq!(format, Format::Protobuf, "{e}");
                        assert!(at <= body.len(), "{e}");
                    }
                }
                assert!(p.next().unwrap().is_none(), "the parser stops after an error");
                return (n, Some(e));
            }
        }
    }
}

fn openmetrics(body: &[u8]) -> Vec<u8> {
    let mut b = body.to_vec();
    b.extend_from_slice(b"# EOF\n");
    b
}

/// Adapts node_exporter's text to OpenMetrics: `untyped` is `unknown` there.
fn node_exporter_openmetrics() -> Vec<u8> {
    let text = String::from_utf8_lossy(NODE_EXPORTER).replace(" untyped\n", " unknown\n");
    openmetrics(text.as_bytes())
}

#[test]
fn real_node_exporter_body_parses_in_both_text_formats() {
    let (n, err) = run(Format::PromText, NODE_EXPORTER);
    assert!(err.is_none(), "{err:?}");
    let lines = String::from_utf8_lossy(NODE_EXPORTER)
        .lines()
        .filter(|l| !l.starts_with('#'))
        .count();
    assert_eq!(n, lines);
    let (n_om, err) = run(Format::OpenMetrics, &node_exporter_openmetrics());
    assert!(err.is_none(), "{err:?}");
    assert_eq!(n_om, n);
}

#[test]
fn a_100_mb_body_parses_as_a_stream() {
    // 100 lines with 1 MiB label values (the memchr path), then 4 MiB of real
    // exporter output; the parser walks the slice and keeps no per-line state.
    let (per_body, _) = run(Format::PromText, NODE_EXPORTER);
    let huge = "x".repeat(1 << 20);
    let mut body = Vec::with_capacity(105 << 20);
    for i in 0..100 {
        body.extend_from_slice(format!("big{{i=\"{i}\",v=\"{huge}\"}} {i}\n").as_bytes());
    }
    let reps = (4 << 20) / NODE_EXPORTER.len();
    for _ in 0..reps {
        body.extend_from_slice(NODE_EXPORTER);
    }
    assert!(body.len() > 100 << 20);
    let mut p = Parser::new(Format::PromText, &body);
    let (mut n, mut longest) = (0usize, 0usize);
    while let Some(e) = p.next().unwrap() {
        if let Entry::Sample(s) = e {
            n += 1;
            longest = longest.max(s.series.len());
        }
    }
    assert_eq!(n, 100 + per_body * reps);
    assert!(longest > 1 << 20);
    // Broken at the very end: the error still names the last line.
    body.extend_from_slice(b"broken{\n");
    let (_, err) = run(Format::PromText, &body);
    let lines = body.iter().filter(|&&c| c == b'\n').count();
    assert_eq!(err.map(|e| e.location), Some(Location::Line(lines)));
}

/// A tiny protobuf writer for valid delimited bodies.
fn pb_family(name: &str, values: &[(Vec<(String, String)>, f64)]) -> Vec<u8> {
    fn varint(out: &mut Vec<u8>, mut v: u64) {
        while v >= 0x80 {
            out.push(v as u8 | 0x80);
            v >>= 7;
        }
        out.push(v as u8);
    }
    fn field(out: &mut Vec<u8>, n: u64, b: &[u8]) {
        varint(out, n << 3 | 2);
        varint(out, b.len() as u64);
        out.extend_from_slice(b);
    }
    let mut fam = Vec::new();
    field(&mut fam, 1, name.as_bytes());
    fam.extend_from_slice(&[3 << 3, 1]); // type GAUGE
    for (labels, v) in values {
        let mut m = Vec::new();
        for (ln, lv) in labels {
            let mut pair = Vec::new();
            field(&mut pair, 1, ln.as_bytes());
            field(&mut pair, 2, lv.as_bytes());
            field(&mut m, 1, &pair);
        }
        let mut g = vec![1 << 3 | 1];
        g.extend_from_slice(&v.to_bits().to_le_bytes());
        field(&mut m, 2, &g);
        field(&mut fam, 4, &m);
    }
    let mut out = Vec::new();
    varint(&mut out, fam.len() as u64);
    out.extend_from_slice(&fam);
    out
}

fn label_value() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9 _./:-]{0,12}",
        Just("with \"quotes\" and \\ and\nnewline".to_string()),
        Just("ünïcødé €".to_string()),
    ]
}

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

type Series = (String, Vec<(String, String)>, f64, Option<i64>);

fn series() -> impl Strategy<Value = Series> {
    (
        "[a-zA-Z_:][a-zA-Z0-9_:]{0,15}",
        prop::collection::btree_map("[a-z_][a-z0-9_]{0,6}", label_value(), 0..4),
        prop_oneof![any::<f64>(), (-1e9f64..1e9), Just(0.0)],
        prop::option::of(0i64..4_000_000_000_000),
    )
        .prop_map(|(n, l, v, t)| {
            (
                n,
                l.into_iter().filter(|(k, _)| k != "le" && k != "quantile").collect(),
                v,
                t,
            )
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(body in prop::collection::vec(any::<u8>(), 0..400)) {
        for f in [Format::PromText, Format::OpenMetrics, Format::Protobuf] {
            run(f, &body);
        }
    }

    #[test]
    fn random_text_like_bytes_never_panic(body in "[a-z{}=\", #\\\\\n\t0-9.+eE_\x00-]{0,200}") {
        for f in [Format::PromText, Format::OpenMetrics] {
            run(f, body.as_bytes());
        }
    }

    #[test]
    fn damaged_node_exporter_bodies_never_panic(
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        cut in any::<prop::sample::Index>(),
        truncate: bool,
    ) {
        let mut body = NODE_EXPORTER.to_vec();
        for (at, byte) in &edits {
            let i = at.index(body.len());
            body[i] = *byte;
        }
        if truncate {
            body.truncate(cut.index(body.len()));
        }
        run(Format::PromText, &body);
        run(Format::OpenMetrics, &openmetrics(&body));
        run(Format::Protobuf, &body);
    }

    #[test]
    fn damaged_protobuf_bodies_never_panic(
        values in prop::collection::vec(series(), 1..6),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..4),
        cut in any::<prop::sample::Index>(),
    ) {
        let rows: Vec<_> = values.iter().map(|(_, l, v, _)| (l.clone(), *v)).collect();
        let mut body = pb_family("m", &rows);
        body.extend(pb_family("n", &rows));
        let (n, err) = run(Format::Protobuf, &body);
        prop_assert!(err.is_none());
        prop_assert_eq!(n, 2 * rows.len());
        for (at, byte) in &edits {
            let i = at.index(body.len());
            body[i] = *byte;
        }
        body.truncate(cut.index(body.len() + 1));
        run(Format::Protobuf, &body);
    }

    #[test]
    fn valid_bodies_keep_every_sample(all in prop::collection::vec(series(), 0..30), lenient: bool) {
        let mut text = String::new();
        let mut om = String::new();
        for (name, labels, v, ts) in &all {
            let pairs: Vec<String> = labels.iter().map(|(k, v)| format!("{k}=\"{}\"", escape(v))).collect();
            let block = if pairs.is_empty() { String::new() } else if lenient {
                format!(" {{ {} , }}", pairs.join(" , "))
            } else {
                format!("{{{}}}", pairs.join(","))
            };
            let value = if v.is_nan() { "NaN".to_string() } else if v.is_infinite() {
                if *v > 0.0 { "+Inf".to_string() } else { "-Inf".to_string() }
            } else { format!("{v:e}") };
            text += &format!("{name}{block} {value}");
            om += &format!("{name}{{{}}} {value}", pairs.join(","));
            if let Some(t) = ts {
                text += &format!(" {t}");
                om += &format!(" {}.{:03}", t / 1000, t % 1000);
            }
            text.push('\n');
            om.push('\n');
        }
        om += "# EOF\n";
        for (format, body) in [(Format::PromText, text.as_bytes()), (Format::OpenMetrics, om.as_bytes())] {
            let mut p = Parser::new(format, body);
            let mut buf = LabelBuf::default();
            let mut i = 0;
            while let Some(e) = p.next().unwrap_or_else(|e| panic!("{format:?}: {e}\n{}", String::from_utf8_lossy(body))) {
                let Entry::Sample(s) = e else { continue };
                let (name, labels, v, ts) = &all[i];
                if v.is_nan() {
                    prop_assert_eq!(s.value.to_bits(), strata::exposition::NORMAL_NAN_BITS);
                } else {
                    prop_assert_eq!(s.value.to_bits(), v.to_bits());
                }
                if format == Format::OpenMetrics {
                    // Float seconds times 1000, truncated: may land 1 ms low.
                    let (got, want) = (s.timestamp.unwrap_or(-9), ts.unwrap_or(-9));
                    prop_assert!(got == want || got == want - 1, "{:?} vs {:?}", s.timestamp, ts);
                } else {
                    prop_assert_eq!(s.timestamp, *ts);
                }
                s.labels_into(&mut buf);
                let got: Vec<(String, String)> = buf.iter().skip(1).map(|(a, b)| (a.to_string(), b.to_string())).collect();
                prop_assert_eq!(buf.get("__name__"), Some(name.as_str()));
                prop_assert_eq!(&got, labels);
                i += 1;
            }
            prop_assert_eq!(i, all.len());
        }
    }
}
