//! Exposition parser throughput (bytes/s): a real node_exporter body and a
//! synthetic 1000-series body with labels, parsed alone, parsed and hashed per
//! series (the scrape loop's steady state: hash → cache hit), and parsed with
//! every label set decoded (a scrape with an empty cache).

use std::hash::BuildHasher;
use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use strata::exposition::{Entry, Format, LabelBuf, Parser};

const NODE_EXPORTER: &[u8] = include_bytes!("data/node_exporter/scrape-0s.prom");

/// 1000 series in 10 families, five labels each, values and timestamps as a
/// federating Prometheus writes them.
fn synthetic(openmetrics: bool) -> Vec<u8> {
    let mut s = String::new();
    for f in 0..10 {
        s += &format!("# HELP family_{f}_requests_total Requests handled, by handler and code.\n");
        s += &format!("# TYPE family_{f}_requests_total counter\n");
        for i in 0..100 {
            let ts = if openmetrics {
                "1700000000.123".to_string()
            } else {
                "1700000000123".to_string()
            };
            s += &format!(
                "family_{f}_requests_total{{code=\"{}\",handler=\"/api/v1/query_range\",instance=\"10.1.{}.{}:9100\",job=\"node\",method=\"GET\"}} {} {ts}\n",
                200 + i % 5,
                i / 50,
                i % 250,
                1.5e6 + f64::from(i) * 1234.25,
            );
        }
    }
    if openmetrics {
        s += "# EOF\n";
    }
    s.into_bytes()
}

fn parse_only(format: Format, body: &[u8]) -> usize {
    let mut p = Parser::new(format, body);
    let mut n = 0;
    while let Some(e) = p.next().expect("bench body parses") {
        if let Entry::Sample(s) = e {
            n += s.series.len() + usize::from(s.timestamp.is_some());
            black_box(s.value);
        }
    }
    n
}

fn parse_and_hash(format: Format, body: &[u8], hasher: &impl BuildHasher) -> u64 {
    let mut p = Parser::new(format, body);
    let mut acc = 0u64;
    while let Some(e) = p.next().expect("bench body parses") {
        if let Entry::Sample(s) = e {
            acc ^= hasher.hash_one(s.series);
            black_box(s.value);
        }
    }
    acc
}

fn parse_and_decode(format: Format, body: &[u8], buf: &mut LabelBuf) -> usize {
    let mut p = Parser::new(format, body);
    let mut n = 0;
    while let Some(e) = p.next().expect("bench body parses") {
        if let Entry::Sample(s) = e {
            s.labels_into(buf);
            n += buf.len();
        }
    }
    n
}

fn bench(c: &mut Criterion) {
    let synthetic_text = synthetic(false);
    let synthetic_om = synthetic(true);
    let bodies: [(&str, Format, &[u8]); 3] = [
        ("node_exporter", Format::PromText, NODE_EXPORTER),
        ("synthetic_1000", Format::PromText, &synthetic_text),
        ("synthetic_1000_openmetrics", Format::OpenMetrics, &synthetic_om),
    ];
    let hasher = std::collections::hash_map::RandomState::new();
    let mut g = c.benchmark_group("text_parse");
    for (name, format, body) in bodies {
        g.throughput(Throughput::Bytes(body.len() as u64));
        g.bench_with_input(BenchmarkId::new("parse", name), body, |b, body| {
            b.iter(|| parse_only(format, black_box(body)))
        });
        g.bench_with_input(BenchmarkId::new("parse_and_hash", name), body, |b, body| {
            b.iter(|| parse_and_hash(format, black_box(body), &hasher))
        });
        let mut buf = LabelBuf::default();
        g.bench_with_input(BenchmarkId::new("parse_and_decode_labels", name), body, |b, body| {
            b.iter(|| parse_and_decode(format, black_box(body), &mut buf))
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
