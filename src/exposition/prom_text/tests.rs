//! Table tests from upstream's `promparse_test.go` vectors, plus the
//! behaviours of spec §4.1 that those do not cover.

use crate::exposition::testutil::{collect, help, parse_err, parse_ok, sample, typ, Got};
use crate::exposition::{Format, Location, MetricType, NORMAL_NAN_BITS};

const F: Format = Format::PromText;

#[test]
fn upstream_vector_parses_with_every_leniency() {
    let mut input = String::from(
        r#"# HELP go_gc_duration_seconds A summary of the GC invocation durations.
# 	TYPE go_gc_duration_seconds summary
go_gc_duration_seconds{quantile="0"} 4.9351e-05
go_gc_duration_seconds{quantile="0.25",} 7.424100000000001e-05
go_gc_duration_seconds{quantile="0.5",a="b"} 8.3835e-05
go_gc_duration_seconds{quantile="0.8", a="b"} 8.3835e-05
go_gc_duration_seconds{ quantile="0.9", a="b"} 8.3835e-05
# Hrandom comment starting with prefix of HELP
#
wind_speed{A="2",c="3"} 12345
# comment with escaped \n newline
# comment with escaped \ escape character
# HELP nohelp1
# HELP nohelp2 
go_gc_duration_seconds{ quantile="1.0", a="b" } 8.3835e-05
go_gc_duration_seconds { quantile="1.0", a="b" } 8.3835e-05
go_gc_duration_seconds { quantile= "1.0", a= "b", } 8.3835e-05
go_gc_duration_seconds { quantile = "1.0", a = "b" } 8.3835e-05
go_gc_duration_seconds { quantile = "2.0" a = "b" } 8.3835e-05
go_gc_duration_seconds_count 99
some:aggregate:rate5m{a_b="c"}	1
# HELP go_goroutines Number of goroutines that currently exist.
# TYPE go_goroutines gauge
go_goroutines 33  	123123
_metric_starting_with_underscore 1
testmetric{_label_starting_with_underscore="foo"} 1
testmetric{label="\"bar\""} 1"#,
    );
    input += "\n# HELP metric foo\x00bar";
    input += "\nnull_byte_metric{a=\"abc\x00\"} 1";

    let g = "go_gc_duration_seconds";
    let q = |quantile: &'static str, a: bool| -> Vec<(&'static str, &'static str)> {
        let mut v = vec![("__name__", "go_gc_duration_seconds"), ("quantile", quantile)];
        if a {
            v.push(("a", "b"));
        }
        v
    };
    let want = vec![
        help(g, "A summary of the GC invocation durations."),
        typ(g, MetricType::Summary),
        // Under a summary TYPE, quantile values are re-formatted (`0` → `0.0`).
        sample(
            r#"go_gc_duration_seconds{quantile="0"}"#,
            4.9351e-05,
            None,
            &q("0.0", false),
        ),
        sample(
            r#"go_gc_duration_seconds{quantile="0.25",}"#,
            7.424100000000001e-05,
            None,
            &q("0.25", false),
        ),
        sample(
            r#"go_gc_duration_seconds{quantile="0.5",a="b"}"#,
            8.3835e-05,
            None,
            &q("0.5", true),
        ),
        sample(
            r#"go_gc_duration_seconds{quantile="0.8", a="b"}"#,
            8.3835e-05,
            None,
            &q("0.8", true),
        ),
        sample(
            r#"go_gc_duration_seconds{ quantile="0.9", a="b"}"#,
            8.3835e-05,
            None,
            &q("0.9", true),
        ),
        sample(
            r#"wind_speed{A="2",c="3"}"#,
            12345.0,
            None,
            &[("A", "2"), ("__name__", "wind_speed"), ("c", "3")],
        ),
        help("nohelp1", ""),
        help("nohelp2", ""),
        sample(
            r#"go_gc_duration_seconds{ quantile="1.0", a="b" }"#,
            8.3835e-05,
            None,
            &q("1.0", true),
        ),
        sample(
            r#"go_gc_duration_seconds { quantile="1.0", a="b" }"#,
            8.3835e-05,
            None,
            &q("1.0", true),
        ),
        sample(
            r#"go_gc_duration_seconds { quantile= "1.0", a= "b", }"#,
            8.3835e-05,
            None,
            &q("1.0", true),
        ),
        sample(
            r#"go_gc_duration_seconds { quantile = "1.0", a = "b" }"#,
            8.3835e-05,
            None,
            &q("1.0", true),
        ),
        sample(
            r#"go_gc_duration_seconds { quantile = "2.0" a = "b" }"#,
            8.3835e-05,
            None,
            &q("2.0", true),
        ),
        sample(
            "go_gc_duration_seconds_count",
            99.0,
            None,
            &[("__name__", "go_gc_duration_seconds_count")],
        ),
        sample(
            r#"some:aggregate:rate5m{a_b="c"}"#,
            1.0,
            None,
            &[("__name__", "some:aggregate:rate5m"), ("a_b", "c")],
        ),
        help("go_goroutines", "Number of goroutines that currently exist."),
        typ("go_goroutines", MetricType::Gauge),
        sample("go_goroutines", 33.0, Some(123123), &[("__name__", "go_goroutines")]),
        sample(
            "_metric_starting_with_underscore",
            1.0,
            None,
            &[("__name__", "_metric_starting_with_underscore")],
        ),
        sample(
            r#"testmetric{_label_starting_with_underscore="foo"}"#,
            1.0,
            None,
            &[("__name__", "testmetric"), ("_label_starting_with_underscore", "foo")],
        ),
        sample(
            r#"testmetric{label="\"bar\""}"#,
            1.0,
            None,
            &[("__name__", "testmetric"), ("label", "\"bar\"")],
        ),
        help("metric", "foo\x00bar"),
        sample(
            "null_byte_metric{a=\"abc\x00\"}",
            1.0,
            None,
            &[("__name__", "null_byte_metric"), ("a", "abc\x00")],
        ),
    ];
    assert_eq!(parse_ok(F, input.as_bytes()), want);
}

#[test]
fn upstream_utf8_vector_parses_quoted_names() {
    let input = r#"# HELP "go.gc_duration_seconds" A summary of the GC invocation durations.
# 	TYPE "go.gc_duration_seconds" summary
{"go.gc_duration_seconds",quantile="0"} 4.9351e-05
{"go.gc_duration_seconds",quantile="0.25",} 7.424100000000001e-05
{"go.gc_duration_seconds",quantile="0.5",a="b"} 8.3835e-05
{"go.gc_duration_seconds", quantile="0.9", a="b"} 8.3835e-05
{ "go.gc_duration_seconds", quantile = "1.0", a = "b" } 8.3835e-05
{"go.gc_duration_seconds_count"} 99
{"Heizölrückstoßabdämpfung 10€ metric with \"interesting\" {character\nchoices}","strange©™\n'quoted' \"name\""="6"} 10.0"#;
    let g = "go.gc_duration_seconds";
    let want = vec![
        help(g, "A summary of the GC invocation durations."),
        typ(g, MetricType::Summary),
        sample(
            r#"{"go.gc_duration_seconds",quantile="0"}"#,
            4.9351e-05,
            None,
            &[("__name__", g), ("quantile", "0.0")],
        ),
        sample(
            r#"{"go.gc_duration_seconds",quantile="0.25",}"#,
            7.424100000000001e-05,
            None,
            &[("__name__", g), ("quantile", "0.25")],
        ),
        sample(
            r#"{"go.gc_duration_seconds",quantile="0.5",a="b"}"#,
            8.3835e-05,
            None,
            &[("__name__", g), ("quantile", "0.5"), ("a", "b")],
        ),
        sample(
            r#"{"go.gc_duration_seconds", quantile="0.9", a="b"}"#,
            8.3835e-05,
            None,
            &[("__name__", g), ("quantile", "0.9"), ("a", "b")],
        ),
        sample(
            r#"{ "go.gc_duration_seconds", quantile = "1.0", a = "b" }"#,
            8.3835e-05,
            None,
            &[("__name__", g), ("quantile", "1.0"), ("a", "b")],
        ),
        sample(
            r#"{"go.gc_duration_seconds_count"}"#,
            99.0,
            None,
            &[("__name__", "go.gc_duration_seconds_count")],
        ),
        sample(
            r#"{"Heizölrückstoßabdämpfung 10€ metric with \"interesting\" {character\nchoices}","strange©™\n'quoted' \"name\""="6"}"#,
            10.0,
            None,
            &[
                (
                    "__name__",
                    "Heizölrückstoßabdämpfung 10€ metric with \"interesting\" {character\nchoices}",
                ),
                ("strange©™\n'quoted' \"name\"", "6"),
            ],
        ),
    ];
    assert_eq!(parse_ok(F, input.as_bytes()), want);
}

#[test]
fn upstream_error_vectors_give_prometheus_messages() {
    let cases: &[(&[u8], &str)] = &[
        (
            b"a",
            r#"expected value after metric, got "\n" ("INVALID") while parsing: "a\n""#,
        ),
        (
            b"a{b='c'} 1\n",
            r#"expected label value, got "'" ("INVALID") while parsing: "a{b='""#,
        ),
        (
            b"a{b=\n",
            r#"expected label value, got "\n" ("INVALID") while parsing: "a{b=\n""#,
        ),
        (
            b"a{\xff=\"foo\"} 1\n",
            r#"expected label name, got "\xff" ("INVALID") while parsing: "a{\xff""#,
        ),
        (b"a{b=\"\xff\"} 1\n", r#"invalid UTF-8 label value: "\"\xff\"""#),
        (
            br#"{"a", "b = "c"}"#,
            r#"expected equal, got "c\"" ("LNAME") while parsing: "{\"a\", \"b = \"c\"""#,
        ),
        (
            br#"{"a",b\nc="d"} 1"#,
            r#"expected equal, got "\\" ("INVALID") while parsing: "{\"a\",b\\""#,
        ),
        (
            b"a true\n",
            r#"strconv.ParseFloat: parsing "true": invalid syntax while parsing: "a true""#,
        ),
        (
            b"something_weird{problem=\"",
            r#"expected label value, got "\"\n" ("INVALID") while parsing: "something_weird{problem=\"\n""#,
        ),
        (
            b"empty_label_name{=\"\"} 0",
            r#"expected label name, got "=\"" ("EQUAL") while parsing: "empty_label_name{=\"""#,
        ),
        (
            b"foo 1_2\n",
            r#"unsupported character in float while parsing: "foo 1_2""#,
        ),
        (
            b"foo 0x1p-3\n",
            r#"unsupported character in float while parsing: "foo 0x1p-3""#,
        ),
        (
            b"foo 0x1P-3\n",
            r#"unsupported character in float while parsing: "foo 0x1P-3""#,
        ),
        (
            b"foo 0 1_2\n",
            r#"expected next entry after timestamp, got "_" ("INVALID") while parsing: "foo 0 1_""#,
        ),
        (br#"{a="ok"} 1"#, r#"metric name not set while parsing: "{a=\"ok\"} 1""#),
        (
            b"# TYPE #\n#EOF\n",
            r##"expected metric name after TYPE, got "#" ("INVALID") while parsing: "# TYPE #""##,
        ),
        (
            b"# HELP #\n#EOF\n",
            r##"expected metric name after HELP, got "#" ("INVALID") while parsing: "# HELP #""##,
        ),
        // Null bytes.
        (
            b"a{b=\x00\"ssss\"} 1\n",
            r#"expected label value, got "\x00" ("INVALID") while parsing: "a{b=\x00""#,
        ),
        (
            b"a{b=\"\x00",
            r#"expected label value, got "\"\x00\n" ("INVALID") while parsing: "a{b=\"\x00\n""#,
        ),
        (
            b"a{b\x00=\"hiih\"}\t1",
            r#"expected equal, got "\x00" ("INVALID") while parsing: "a{b\x00""#,
        ),
        (
            b"a\x00{b=\"ddd\"} 1",
            r#"expected value after metric, got "\x00" ("INVALID") while parsing: "a\x00""#,
        ),
        (
            b"a 0 1\x00",
            r#"expected next entry after timestamp, got "\x00" ("INVALID") while parsing: "a 0 1\x00""#,
        ),
        // Beyond upstream's table.
        (b"# TYPE x info\n", r#"invalid metric type "info""#),
        (b"# TYPE x  counter\n", r#"invalid metric type " counter""#),
        (b"# HELP x \xff\n", r#"help text "\xff" is not a valid utf8 string"#),
        (
            b"a 1 -5\n",
            r#"expected timestamp or new record, got "-" ("INVALID") while parsing: "a 1 -""#,
        ),
        (
            b"a 1 99999999999999999999\n",
            r#"strconv.ParseInt: parsing "99999999999999999999": value out of range while parsing: "a 1 99999999999999999999""#,
        ),
        (
            b"a 1e400\n",
            r#"strconv.ParseFloat: parsing "1e400": value out of range while parsing: "a 1e400""#,
        ),
        (
            b"a +nan\n",
            r#"strconv.ParseFloat: parsing "+nan": invalid syntax while parsing: "a +nan""#,
        ),
        (
            b"a{b=\"c\",,d=\"e\"} 1\n",
            r#"expected label name, got ",d" ("COMMA") while parsing: "a{b=\"c\",,d""#,
        ),
        (b"a{\"b\"} 1\n", r#"metric name already set while parsing: "a{\"b\"}""#),
        (
            b"a{b=\"\\\nc\"} 1\n",
            r#"expected label value, got "\"\\\n" ("INVALID") while parsing: "a{b=\"\\\n""#,
        ),
    ];
    for (input, want) in cases {
        let e = parse_err(F, input);
        assert_eq!(e.message, *want, "input {:?}", String::from_utf8_lossy(input));
        assert_eq!(
            e.location,
            Location::Line(1),
            "input {:?}",
            String::from_utf8_lossy(input)
        );
    }
}

#[test]
fn null_bytes_inside_label_values_are_accepted() {
    for input in [
        &b"null_byte_metric{a=\"abc\x00\"} 1"[..],
        b"a{b=\"\x00ss\"} 1\n",
        b"a{b=\"\x00\"} 1\n",
    ] {
        assert_eq!(parse_ok(F, input).len(), 1, "{input:?}");
    }
}

#[test]
fn errors_name_their_line() {
    let e = parse_err(F, b"a 1\n\n# HELP b x\nb 2\nc{d=\"e\" 3\n");
    assert_eq!(e.location, Location::Line(5));
    assert_eq!(e.to_string(), format!("line 5: {}", e.message));
    // A label value may hold a raw newline; the line is the one where it starts.
    let e = parse_err(F, b"a{b=\"x\ny\"} 1 2 3\n");
    assert_eq!(e.location, Location::Line(2));
}

#[test]
fn le_and_quantile_are_reformatted_only_under_their_type_and_the_type_leaks() {
    let input = br#"h_bucket{le="1"} 1
# TYPE h histogram
h_bucket{le="1"} 1
h_bucket{le="0.25"} 1
h_bucket{le="+Inf"} 2
h_bucket{le="1e6"} 2
h_bucket{le="nonsense"} 2
next_family{le="5",quantile="1"} 3
# TYPE s summary
s{quantile="0",le="1"} 4
# TYPE g gauge
g{le="1"} 5
"#;
    let le = |name: &'static str, v: &'static str| vec![("__name__", name), ("le", v)];
    let want = vec![
        sample(r#"h_bucket{le="1"}"#, 1.0, None, &le("h_bucket", "1")),
        typ("h", MetricType::Histogram),
        sample(r#"h_bucket{le="1"}"#, 1.0, None, &le("h_bucket", "1.0")),
        sample(r#"h_bucket{le="0.25"}"#, 1.0, None, &le("h_bucket", "0.25")),
        sample(r#"h_bucket{le="+Inf"}"#, 2.0, None, &le("h_bucket", "+Inf")),
        sample(r#"h_bucket{le="1e6"}"#, 2.0, None, &le("h_bucket", "1e+06")),
        sample(r#"h_bucket{le="nonsense"}"#, 2.0, None, &le("h_bucket", "nonsense")),
        sample(
            r#"next_family{le="5",quantile="1"}"#,
            3.0,
            None,
            &[("__name__", "next_family"), ("le", "5.0"), ("quantile", "1")],
        ),
        typ("s", MetricType::Summary),
        sample(
            r#"s{quantile="0",le="1"}"#,
            4.0,
            None,
            &[("__name__", "s"), ("le", "1"), ("quantile", "0.0")],
        ),
        typ("g", MetricType::Gauge),
        sample(r#"g{le="1"}"#, 5.0, None, &le("g", "1")),
    ];
    assert_eq!(parse_ok(F, input), want);
}

#[test]
fn every_nan_is_normalised() {
    for input in ["a NaN\n", "a nan\n", "a NAN 5\n"] {
        match &parse_ok(F, input.as_bytes())[0] {
            Got::Sample(_, bits, ..) => assert_eq!(*bits, NORMAL_NAN_BITS, "{input}"),
            other => panic!("{other:?}"),
        }
    }
    match &parse_ok(F, b"a -Inf\nb +Inf")[..] {
        [Got::Sample(_, a, ..), Got::Sample(_, b, ..)] => {
            assert_eq!((*a, *b), (f64::NEG_INFINITY.to_bits(), f64::INFINITY.to_bits()))
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn help_unescapes_only_backslash_and_newline() {
    let got = parse_ok(F, br#"# HELP x a\\b\nc\"d\x"#);
    assert_eq!(got, vec![help("x", "a\\b\nc\\\"d\\x")]);
    let got = parse_ok(F, b"# HELP x   two  spaces  \n");
    assert_eq!(got, vec![help("x", "  two  spaces  ")]);
}

#[test]
fn series_bytes_are_the_line_as_written() {
    let got = parse_ok(F, b"  padded 1\nx{a=\"b\"}2\nhyphen-1\n\n\ttab\t7\t8\n");
    let want = vec![
        sample("  padded", 1.0, None, &[("__name__", "padded")]),
        sample("x{a=\"b\"}", 2.0, None, &[("__name__", "x"), ("a", "b")]),
        // Upstream's lexer ends a name at `-` and takes the rest as the value.
        sample("hyphen", -1.0, None, &[("__name__", "hyphen")]),
        sample("\ttab", 7.0, Some(8), &[("__name__", "tab")]),
    ];
    assert_eq!(got, want);
}

#[test]
fn empty_and_comment_only_bodies_have_no_entries() {
    assert_eq!(parse_ok(F, b""), vec![]);
    assert_eq!(parse_ok(F, b"\n\n# just a comment\n#\n"), vec![]);
    // A NUL at the start of a line ends the body, as upstream's lexer has it.
    assert_eq!(parse_ok(F, b"a 1\n\x00garbage{").len(), 1);
}

#[test]
fn the_parser_is_fused_after_an_error() {
    let mut p = crate::exposition::Parser::new(F, b"a 1\nb\nc 3\n");
    assert!(p.next().unwrap().is_some());
    assert!(p.next().is_err());
    assert!(p.next().unwrap().is_none());
    let (got, err) = collect(F, b"a 1\nb\nc 3\n");
    assert_eq!((got.len(), err.map(|e| e.location)), (1, Some(Location::Line(2))));
}

#[test]
fn duplicate_label_names_pass_through() {
    let got = parse_ok(F, b"a{b=\"1\",b=\"2\"} 1\n");
    assert_eq!(
        got,
        vec![sample(
            "a{b=\"1\",b=\"2\"}",
            1.0,
            None,
            &[("__name__", "a"), ("b", "1"), ("b", "2")]
        )]
    );
}

/// The plain-line fast path must give exactly what the lexer gives, errors included.
fn same_as_lexer(body: &[u8]) {
    let fast = collect(F, body);
    let slow = crate::exposition::testutil::collect_lexer_only(body);
    assert_eq!(fast.0, slow.0, "entries differ for {:?}", String::from_utf8_lossy(body));
    assert_eq!(
        fast.1.map(|e| e.to_string()),
        slow.1.map(|e| e.to_string()),
        "errors differ for {:?}",
        String::from_utf8_lossy(body)
    );
}

#[test]
fn the_fast_path_reads_lines_as_the_lexer_does() {
    let node = include_bytes!("../../../benches/data/node_exporter/scrape-0s.prom");
    same_as_lexer(node);
    for body in [
        "a 1\n",
        "a{b=\"c\"} 1 123\n",
        "a{b=\"c\",} 1\n",
        "a{b=\"c\",d=\"e\"} -Inf\n",
        "a{b=\"\"} NaN\n",
        "a{b=\"é\"} 1e+06\n",
        "a{b=\"c\\\"d\"} 1\n",
        "a{b=\"c\nd\"} 1\n",
        "a  1\n",
        "a 1  2\n",
        "a 1 -2\n",
        "a 1 99999999999999999999\n",
        "a 0x1p3\n",
        "a 1_0\n",
        "a{b=\"c\"}1\n",
        "a{b=\"c\" } 1\n",
        "a 1",
        "a{b=\"c\"} 1 2",
        "# TYPE a histogram\na_bucket{le=\"1\"} 1\na_bucket{le=\"+Inf\"} 2\n",
        "# TYPE a summary\na{quantile=\"0\"} 1\n",
        "a{b=\"\u{0}\"} 1\n",
        "a{1=\"c\"} 1\n",
        "a 1\n\n\nb 2\n",
        "# HELP a Some help.\n# TYPE a counter\na 1\n",
        "# HELP a  two blanks\n# HELP b\n# HELP c \n# TYPE d gauge \n# TYPE e info\n",
        "# HELP a esc\\\\aped \\n and \\q\n# HELP a\ttab\n#  HELP a x\n# HELPa x\n",
        "# TYPE a histogram\n# TYPE b\tgauge\n# TYPE c\n",
        "a 1\r\n",
    ] {
        same_as_lexer(body.as_bytes());
    }
    same_as_lexer(b"a{b=\"\xff\xfe\"} 1\n");
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]
    #[test]
    fn the_fast_path_agrees_on_mutated_lines(
        base in proptest::sample::select(vec![
            "a{b=\"c\",d=\"e\"} 12.5 1700000000000\n",
            "node_cpu_seconds_total{cpu=\"0\",mode=\"idle\"} 2803.62\n",
            "x 1\ny{z=\"w\"} 2\n",
            "# HELP x Help text.\n# TYPE x counter\nx 1\n",
        ]),
        pos in 0usize..40,
        byte in proptest::sample::select(vec![b' ', b'\t', b'"', b'\\', b'{', b'}', b',', b'=', b'\n', 0u8, 0xff, b'a', b'1', b'.', b'e', b'-']),
        replace in proptest::bool::ANY,
    ) {
        let mut b = base.as_bytes().to_vec();
        let p = pos.min(b.len());
        if replace && p < b.len() { b[p] = byte } else { b.insert(p, byte) }
        same_as_lexer(&b);
    }
}
