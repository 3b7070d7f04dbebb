//! Table tests from upstream's `openmetricsparse_test.go` vectors, with
//! `_created` lines kept as ordinary samples (spec §2.11).

use crate::exposition::testutil::{help, parse_err, parse_ok, sample, typ, unit};
use crate::exposition::{Format, Location, MetricType};

const F: Format = Format::OpenMetrics;

#[test]
fn upstream_vector_parses_all_types_and_skips_exemplars() {
    let mut input = String::from(
        r#"# HELP go_gc_duration_seconds A summary of the GC invocation durations.
# TYPE go_gc_duration_seconds summary
# UNIT go_gc_duration_seconds seconds
go_gc_duration_seconds{quantile="0"} 4.9351e-05
go_gc_duration_seconds{quantile="0.25"} 7.424100000000001e-05
go_gc_duration_seconds{quantile="0.5",a="b"} 8.3835e-05
# HELP nohelp1 
# HELP help2 escape \ \n \\ \" \x chars
# UNIT nounit 
go_gc_duration_seconds{quantile="1.0",a="b"} 8.3835e-05
go_gc_duration_seconds_count 99
some:aggregate:rate5m{a_b="c"} 1
# HELP go_goroutines Number of goroutines that currently exist.
# TYPE go_goroutines gauge
go_goroutines 33 123.123
# TYPE hh histogram
hh_bucket{le="+Inf"} 1
# TYPE gh gaugehistogram
gh_bucket{le="+Inf"} 1
# TYPE hhh histogram
hhh_bucket{le="+Inf"} 1 # {id="histogram-bucket-test"} 4
hhh_count 1 # {id="histogram-count-test"} 4
# TYPE ggh gaugehistogram
ggh_bucket{le="+Inf"} 1 # {id="gaugehistogram-bucket-test",xx="yy"} 4 123.123
ggh_count 1 # {id="gaugehistogram-count-test",xx="yy"} 4 123.123
# TYPE smr_seconds summary
smr_seconds_count 2.0 # {id="summary-count-test"} 1 123.321
smr_seconds_sum 42.0 # {id="summary-sum-test"} 1 123.321
# TYPE ii info
ii{foo="bar"} 1
# TYPE ss stateset
ss{ss="foo"} 1
ss{ss="bar"} 0
ss{A="a"} 0
# TYPE un unknown
_metric_starting_with_underscore 1
testmetric{_label_starting_with_underscore="foo"} 1
testmetric{label="\"bar\""} 1
# TYPE foo counter
foo_total 17.0 1520879607.789 # {id="counter-test"} 5
foo_created 1520872607.123
foo_total{le="c"} 21.0
foo_total{le="1"} 10.0
# TYPE baz histogram
baz_bucket{le="0.0"} 0
baz_bucket{le="1"} 2
baz_bucket{le="+Inf"} 17
baz_count 17
baz_sum 324789.3
baz_created 1520872609.125
# TYPE fizz_created gauge
fizz_created 17.0"#,
    );
    input += "\n# HELP metric foo\x00bar";
    input += "\nnull_byte_metric{a=\"abc\x00\"} 1";
    input += "\n# EOF\n";

    let g = "go_gc_duration_seconds";
    let n = |name: &'static str| vec![("__name__", name)];
    let want = vec![
        help(g, "A summary of the GC invocation durations."),
        typ(g, MetricType::Summary),
        unit(g, "seconds"),
        sample(
            r#"go_gc_duration_seconds{quantile="0"}"#,
            4.9351e-05,
            None,
            &[("__name__", g), ("quantile", "0.0")],
        ),
        sample(
            r#"go_gc_duration_seconds{quantile="0.25"}"#,
            7.424100000000001e-05,
            None,
            &[("__name__", g), ("quantile", "0.25")],
        ),
        sample(
            r#"go_gc_duration_seconds{quantile="0.5",a="b"}"#,
            8.3835e-05,
            None,
            &[("__name__", g), ("quantile", "0.5"), ("a", "b")],
        ),
        help("nohelp1", ""),
        help("help2", "escape \\ \n \\ \" \\x chars"),
        unit("nounit", ""),
        sample(
            r#"go_gc_duration_seconds{quantile="1.0",a="b"}"#,
            8.3835e-05,
            None,
            &[("__name__", g), ("quantile", "1.0"), ("a", "b")],
        ),
        sample(
            "go_gc_duration_seconds_count",
            99.0,
            None,
            &n("go_gc_duration_seconds_count"),
        ),
        sample(
            r#"some:aggregate:rate5m{a_b="c"}"#,
            1.0,
            None,
            &[("__name__", "some:aggregate:rate5m"), ("a_b", "c")],
        ),
        help("go_goroutines", "Number of goroutines that currently exist."),
        typ("go_goroutines", MetricType::Gauge),
        sample("go_goroutines", 33.0, Some(123123), &n("go_goroutines")),
        typ("hh", MetricType::Histogram),
        sample(
            r#"hh_bucket{le="+Inf"}"#,
            1.0,
            None,
            &[("__name__", "hh_bucket"), ("le", "+Inf")],
        ),
        typ("gh", MetricType::GaugeHistogram),
        sample(
            r#"gh_bucket{le="+Inf"}"#,
            1.0,
            None,
            &[("__name__", "gh_bucket"), ("le", "+Inf")],
        ),
        typ("hhh", MetricType::Histogram),
        sample(
            r#"hhh_bucket{le="+Inf"}"#,
            1.0,
            None,
            &[("__name__", "hhh_bucket"), ("le", "+Inf")],
        ),
        sample("hhh_count", 1.0, None, &n("hhh_count")),
        typ("ggh", MetricType::GaugeHistogram),
        sample(
            r#"ggh_bucket{le="+Inf"}"#,
            1.0,
            None,
            &[("__name__", "ggh_bucket"), ("le", "+Inf")],
        ),
        sample("ggh_count", 1.0, None, &n("ggh_count")),
        typ("smr_seconds", MetricType::Summary),
        sample("smr_seconds_count", 2.0, None, &n("smr_seconds_count")),
        sample("smr_seconds_sum", 42.0, None, &n("smr_seconds_sum")),
        typ("ii", MetricType::Info),
        sample(r#"ii{foo="bar"}"#, 1.0, None, &[("__name__", "ii"), ("foo", "bar")]),
        typ("ss", MetricType::StateSet),
        sample(r#"ss{ss="foo"}"#, 1.0, None, &[("__name__", "ss"), ("ss", "foo")]),
        sample(r#"ss{ss="bar"}"#, 0.0, None, &[("__name__", "ss"), ("ss", "bar")]),
        sample(r#"ss{A="a"}"#, 0.0, None, &[("A", "a"), ("__name__", "ss")]),
        typ("un", MetricType::Unknown),
        sample(
            "_metric_starting_with_underscore",
            1.0,
            None,
            &n("_metric_starting_with_underscore"),
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
        typ("foo", MetricType::Counter),
        sample("foo_total", 17.0, Some(1520879607789), &n("foo_total")),
        sample("foo_created", 1520872607.123, None, &n("foo_created")),
        sample(
            r#"foo_total{le="c"}"#,
            21.0,
            None,
            &[("__name__", "foo_total"), ("le", "c")],
        ),
        sample(
            r#"foo_total{le="1"}"#,
            10.0,
            None,
            &[("__name__", "foo_total"), ("le", "1")],
        ),
        typ("baz", MetricType::Histogram),
        sample(
            r#"baz_bucket{le="0.0"}"#,
            0.0,
            None,
            &[("__name__", "baz_bucket"), ("le", "0.0")],
        ),
        sample(
            r#"baz_bucket{le="1"}"#,
            2.0,
            None,
            &[("__name__", "baz_bucket"), ("le", "1.0")],
        ),
        sample(
            r#"baz_bucket{le="+Inf"}"#,
            17.0,
            None,
            &[("__name__", "baz_bucket"), ("le", "+Inf")],
        ),
        sample("baz_count", 17.0, None, &n("baz_count")),
        sample("baz_sum", 324789.3, None, &n("baz_sum")),
        sample("baz_created", 1520872609.125, None, &n("baz_created")),
        typ("fizz_created", MetricType::Gauge),
        sample("fizz_created", 17.0, None, &n("fizz_created")),
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
fn upstream_utf8_vector_parses_quoted_names_and_exemplars() {
    let input = r#"# HELP "go.gc_duration_seconds" A summary of the GC invocation durations.
# TYPE "go.gc_duration_seconds" summary
# UNIT "go.gc_duration_seconds" seconds
{"go.gc_duration_seconds",quantile="0"} 4.9351e-05
{"go.gc_duration_seconds_created"} 1520872607.123
{q="0.9","http.status",a="b"} 8.3835e-05
{"Heizölrückstoßabdämpfung 10€ metric with \"interesting\" {character\nchoices}","strange©™\n'quoted' \"name\""="6"} 10.0
quotedexemplar2_count 1 # {"id.thing"="histogram-count-test",other="hello"} 4
# EOF
"#;
    let g = "go.gc_duration_seconds";
    let want = vec![
        help(g, "A summary of the GC invocation durations."),
        typ(g, MetricType::Summary),
        unit(g, "seconds"),
        sample(
            r#"{"go.gc_duration_seconds",quantile="0"}"#,
            4.9351e-05,
            None,
            &[("__name__", g), ("quantile", "0.0")],
        ),
        sample(
            r#"{"go.gc_duration_seconds_created"}"#,
            1520872607.123,
            None,
            &[("__name__", "go.gc_duration_seconds_created")],
        ),
        sample(
            r#"{q="0.9","http.status",a="b"}"#,
            8.3835e-05,
            None,
            &[("__name__", "http.status"), ("q", "0.9"), ("a", "b")],
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
        sample(
            "quotedexemplar2_count",
            1.0,
            None,
            &[("__name__", "quotedexemplar2_count")],
        ),
    ];
    assert_eq!(parse_ok(F, input.as_bytes()), want);
}

#[test]
fn eof_marker_alone_is_an_empty_body() {
    assert_eq!(parse_ok(F, b"# EOF"), vec![]);
    assert_eq!(parse_ok(F, b"# EOF\n"), vec![]);
}

#[test]
fn upstream_error_vectors_give_prometheus_messages() {
    let cases: &[(&[u8], &str)] = &[
        (b"", "data does not end with # EOF"),
        (
            b"\n",
            r#"expected a valid start token, got "\n" ("INVALID") while parsing: "\n""#,
        ),
        (
            b"metric",
            r#"expected value after metric, got "metric" ("EOF") while parsing: "metric""#,
        ),
        (b"metric 1", "data does not end with # EOF"),
        (b"metric 1\n", "data does not end with # EOF"),
        (b"metric_total 1 # {aa=\"bb\"} 4", "data does not end with # EOF"),
        (
            b"a\n#EOF\n",
            r#"expected value after metric, got "\n" ("INVALID") while parsing: "a\n""#,
        ),
        (
            b"\n\n#EOF\n",
            r#"expected a valid start token, got "\n" ("INVALID") while parsing: "\n""#,
        ),
        (
            b" a 1\n#EOF\n",
            r#"expected a valid start token, got " " ("INVALID") while parsing: " ""#,
        ),
        (
            b"9\n#EOF\n",
            r#"expected a valid start token, got "9" ("INVALID") while parsing: "9""#,
        ),
        (b"# TYPE u untyped\n#EOF\n", r#"invalid metric type "untyped""#),
        (b"# TYPE c counter \n#EOF\n", r#"invalid metric type "counter ""#),
        (
            b"#  TYPE c counter\n#EOF\n",
            r##"expected a valid start token, got "#  " ("INVALID") while parsing: "#  ""##,
        ),
        (
            b"# TYPE \n#EOF\n",
            r##"expected metric name after TYPE, got "\n" ("INVALID") while parsing: "# TYPE \n""##,
        ),
        (b"# TYPE m\n#EOF\n", "expected text in TYPE"),
        (
            b"# UNIT metric suffix\n#EOF\n",
            r#"unit "suffix" not a suffix of metric "metric""#,
        ),
        (
            b"# UNIT metricsuffix suffix\n#EOF\n",
            r#"unit "suffix" not a suffix of metric "metricsuffix""#,
        ),
        (
            b"# UNIT m suffix\n#EOF\n",
            r#"unit "suffix" not a suffix of metric "m""#,
        ),
        (
            b"# UNIT \n#EOF\n",
            r##"expected metric name after UNIT, got "\n" ("INVALID") while parsing: "# UNIT \n""##,
        ),
        (b"# UNIT m\n#EOF\n", "expected text in UNIT"),
        (
            b"# HELP \n#EOF\n",
            r##"expected metric name after HELP, got "\n" ("INVALID") while parsing: "# HELP \n""##,
        ),
        (b"# HELP m\n#EOF\n", "expected text in HELP"),
        (
            b"a\t1\n#EOF\n",
            r#"expected value after metric, got "\t" ("INVALID") while parsing: "a\t""#,
        ),
        (
            b"a 1\t2\n#EOF\n",
            r#"strconv.ParseFloat: parsing "1\t2": invalid syntax while parsing: "a 1\t2""#,
        ),
        (
            b"a 1 2 \n#EOF\n",
            r#"expected next entry after timestamp, got " \n" ("INVALID") while parsing: "a 1 2 \n""#,
        ),
        (
            b"a 1 2 #\n#EOF\n",
            r##"expected next entry after timestamp, got " #\n" ("TIMESTAMP") while parsing: "a 1 2 #\n""##,
        ),
        (
            b"a 1 1z\n#EOF\n",
            r#"strconv.ParseFloat: parsing "1z": invalid syntax while parsing: "a 1 1z""#,
        ),
        (
            b" # EOF\n",
            r#"expected a valid start token, got " " ("INVALID") while parsing: " ""#,
        ),
        (b"# EOF\na 1", "unexpected data after # EOF"),
        (b"# EOF\n\n", "unexpected data after # EOF"),
        (b"# EOFa 1", "unexpected data after # EOF"),
        (
            b"#\tTYPE c counter\n",
            r##"expected a valid start token, got "#\t" ("INVALID") while parsing: "#\t""##,
        ),
        (b"# TYPE c  counter\n", r#"invalid metric type " counter""#),
        (
            b"a 1 1 1\n# EOF\n",
            r#"expected next entry after timestamp, got " 1\n" ("TIMESTAMP") while parsing: "a 1 1 1\n""#,
        ),
        (
            b"a{b='c'} 1\n# EOF\n",
            r#"expected label value, got "'" ("INVALID") while parsing: "a{b='""#,
        ),
        (
            b"a{,b=\"c\"} 1\n# EOF\n",
            r#"expected label name, got ",b" ("COMMA") while parsing: "a{,b""#,
        ),
        (
            b"a{b=\"c\"d=\"e\"} 1\n# EOF\n",
            r#"expected comma or brace close, got "d=" ("LNAME") while parsing: "a{b=\"c\"d=""#,
        ),
        (
            b"a{b=\"c\",,d=\"e\"} 1\n# EOF\n",
            r#"expected label name, got ",d" ("COMMA") while parsing: "a{b=\"c\",,d""#,
        ),
        (
            b"a{b=\n# EOF\n",
            r#"expected label value, got "\n" ("INVALID") while parsing: "a{b=\n""#,
        ),
        (
            b"a{\xff=\"foo\"} 1\n# EOF\n",
            r#"expected label name, got "\xff" ("INVALID") while parsing: "a{\xff""#,
        ),
        (b"a{b=\"\xff\"} 1\n# EOF\n", r#"invalid UTF-8 label value: "\"\xff\"""#),
        (
            b"{\"a\",\"b = \"c\"}\n# EOF\n",
            r#"expected equal, got "c\"" ("LNAME") while parsing: "{\"a\",\"b = \"c\"""#,
        ),
        (
            b"{\"a\",b\\nc=\"d\"} 1\n# EOF\n",
            r#"expected equal, got "\\" ("INVALID") while parsing: "{\"a\",b\\""#,
        ),
        (
            b"a true\n",
            r#"strconv.ParseFloat: parsing "true": invalid syntax while parsing: "a true""#,
        ),
        (
            b"something_weird{problem=\"\n# EOF\n",
            r#"expected label value, got "\"\n" ("INVALID") while parsing: "something_weird{problem=\"\n""#,
        ),
        (
            b"empty_label_name{=\"\"} 0\n# EOF\n",
            r#"expected label name, got "=\"" ("EQUAL") while parsing: "empty_label_name{=\"""#,
        ),
        (
            b"foo 1_2\n\n# EOF\n",
            r#"unsupported character in float while parsing: "foo 1_2""#,
        ),
        (
            b"foo 0x1p-3\n\n# EOF\n",
            r#"unsupported character in float while parsing: "foo 0x1p-3""#,
        ),
        (
            b"foo 0x1P-3\n\n# EOF\n",
            r#"unsupported character in float while parsing: "foo 0x1P-3""#,
        ),
        (
            b"foo 0 1_2\n\n# EOF\n",
            r#"unsupported character in float while parsing: "foo 0 1_2""#,
        ),
        (
            b"custom_metric_total 1 # {aa=bb}\n# EOF\n",
            r#"expected label value, got "b" ("INVALID") while parsing: "custom_metric_total 1 # {aa=b""#,
        ),
        (
            b"custom_metric_total 1 # {aa=\"bb\"}\n# EOF\n",
            r#"expected value after exemplar labels, got "\n" ("INVALID") while parsing: "custom_metric_total 1 # {aa=\"bb\"}\n""#,
        ),
        (
            b"custom_metric_total 1 # {aa=\"bb\"}",
            r#"expected value after exemplar labels, got "}" ("EOF") while parsing: "custom_metric_total 1 # {aa=\"bb\"}""#,
        ),
        (
            b"custom_metric_total 1 # {bb}",
            r#"expected label name, got "}" ("BCLOSE") while parsing: "custom_metric_total 1 # {bb}""#,
        ),
        (
            b"custom_metric_total 1 # {bb, a=\"dd\"}",
            r#"expected label name, got ", " ("COMMA") while parsing: "custom_metric_total 1 # {bb, ""#,
        ),
        (
            b"custom_metric_total 1 # {aa=\"bb\",,cc=\"dd\"} 1",
            r#"expected label name, got ",c" ("COMMA") while parsing: "custom_metric_total 1 # {aa=\"bb\",,c""#,
        ),
        (
            b"custom_metric_total 1 # {aa=\"bb\"} 1_2",
            r#"unsupported character in float while parsing: "custom_metric_total 1 # {aa=\"bb\"} 1_2""#,
        ),
        (
            b"custom_metric_total 1 # {aa=\"bb\"} 0x1p-3",
            r#"unsupported character in float while parsing: "custom_metric_total 1 # {aa=\"bb\"} 0x1p-3""#,
        ),
        (
            b"custom_metric_total 1 # {aa=\"bb\"} true",
            r#"strconv.ParseFloat: parsing "true": invalid syntax while parsing: "custom_metric_total 1 # {aa=\"bb\"} true""#,
        ),
        (
            b"custom_metric_total 1 # {aa=\"bb\",cc=}",
            r#"expected label value, got "}" ("INVALID") while parsing: "custom_metric_total 1 # {aa=\"bb\",cc=}""#,
        ),
        (
            b"custom_metric_total 1 # {aa=\\\"\xff\\\"} 9.0",
            r#"expected label value, got "\\" ("INVALID") while parsing: "custom_metric_total 1 # {aa=\\""#,
        ),
        (b"{b=\"c\",} 1", r#"metric name not set while parsing: "{b=\"c\",} 1""#),
        (b"a 1 NaN", "invalid timestamp NaN"),
        (b"a 1 -Inf", "invalid timestamp -Inf"),
        (b"a 1 Inf", "invalid timestamp +Inf"),
        (
            b"# TYPE hhh histogram\nhhh_bucket{le=\"+Inf\"} 1 # {aa=\"bb\"} 4 NaN",
            "invalid exemplar timestamp NaN",
        ),
        (
            b"# TYPE hhh histogram\nhhh_bucket{le=\"+Inf\"} 1 # {aa=\"bb\"} 4 -Inf",
            "invalid exemplar timestamp -Inf",
        ),
        // Null bytes.
        (
            b"a{b=\x00\"ssss\"} 1\n# EOF\n",
            r#"expected label value, got "\x00" ("INVALID") while parsing: "a{b=\x00""#,
        ),
        (
            b"a{b=\"\x00",
            r#"expected label value, got "\"\x00" ("INVALID") while parsing: "a{b=\"\x00""#,
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
            b"#",
            r##"expected a valid start token, got "#" ("INVALID") while parsing: "#""##,
        ),
        (
            b"# H",
            r##"expected a valid start token, got "# H" ("INVALID") while parsing: "# H""##,
        ),
        (
            b"custom_metric_total 1 # {b=\x00\"ssss\"} 1\n",
            r#"expected label value, got "\x00" ("INVALID") while parsing: "custom_metric_total 1 # {b=\x00""#,
        ),
        (
            b"custom_metric_total 1 # {b=\"\x00ss\"} 1\n",
            r#"expected label value, got "\"\x00" ("INVALID") while parsing: "custom_metric_total 1 # {b=\"\x00""#,
        ),
        // Beyond upstream's table.
        (
            b"a 1 \n# EOF\n",
            r#"expected timestamp or # symbol, got " \n" ("INVALID") while parsing: "a 1 \n""#,
        ),
        (
            b"# foo bar\n# EOF\n",
            r##"expected a valid start token, got "# f" ("INVALID") while parsing: "# f""##,
        ),
    ];
    for (input, want) in cases {
        let e = parse_err(F, input);
        assert_eq!(e.message, *want, "input {:?}", String::from_utf8_lossy(input));
        assert!(matches!(e.location, Location::Line(n) if n >= 1));
    }
}

#[test]
fn null_bytes_inside_label_values_are_accepted() {
    for input in [
        &b"null_byte_metric{a=\"abc\x00\"} 1\n# EOF\n"[..],
        b"a{b=\"\x00ss\"} 1\n# EOF\n",
        b"a{b=\"\x00\"} 1\n# EOF\n",
        b"a{b=\"\x00\"} 1\n# EOF",
    ] {
        assert_eq!(parse_ok(F, input).len(), 1, "{input:?}");
    }
}

#[test]
fn timestamps_are_float_seconds_truncated_to_milliseconds() {
    let got = parse_ok(F, b"a 1 1.0019\nb 1 -1.5\nc 1 1e3\n# EOF\n");
    let want = vec![
        sample("a", 1.0, Some(1001), &[("__name__", "a")]),
        sample("b", 1.0, Some(-1500), &[("__name__", "b")]),
        sample("c", 1.0, Some(1_000_000), &[("__name__", "c")]),
    ];
    assert_eq!(got, want);
}

#[test]
fn errors_name_their_line() {
    let e = parse_err(
        F,
        b"# TYPE a counter\na_total 1\na_total{x=\"y\"} 1 # {t=\"1\"} bad\n# EOF\n",
    );
    assert_eq!(e.location, Location::Line(3));
    let e = parse_err(F, b"a 1\nb 2\n");
    assert_eq!(e.message, "data does not end with # EOF");
    assert_eq!(e.location, Location::Line(3));
}
