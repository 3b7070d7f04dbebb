//! strata-loadgen's cost per series: a scrape's render (values only; the label bytes are
//! pre-rendered), with and without churn, gzip of the body, and the Go float formatter alone.
//! Budget: 1000 targets × 1000 series every 10 s is 100k series/s, well under half a core.

use std::sync::Arc;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use strata::loadgen::{write_float, GzipEncoder, Layout, Target};

const SERIES: usize = 1000;

fn bench(c: &mut Criterion) {
    let layout = Arc::new(Layout::node_like(SERIES));
    let mut g = c.benchmark_group("loadgen_scrape");
    g.throughput(Throughput::Elements(SERIES as u64));
    for churn in [0.0, 10.0] {
        let mut target = Target::new(layout.clone(), 1, 0, churn);
        let mut body = Vec::with_capacity(256 * 1024);
        let mut secs = 0u64;
        g.bench_function(BenchmarkId::new("render", format!("churn{churn}")), |b| {
            b.iter(|| {
                body.clear();
                secs += 10;
                target.scrape(Duration::from_secs(secs), &mut body);
                body.len()
            })
        });
    }
    let mut target = Target::new(layout, 1, 0, 0.0);
    let mut body = Vec::new();
    let mut packed = Vec::new();
    let mut enc = GzipEncoder::new();
    g.bench_function("render_and_gzip", |b| {
        b.iter(|| {
            body.clear();
            target.scrape(Duration::ZERO, &mut body);
            enc.encode(&body, &mut packed).expect("gzip");
            packed.len()
        })
    });
    g.finish();

    let values: Vec<f64> = (0..SERIES)
        .map(|i| match i % 4 {
            0 => (i * 7919) as f64,
            1 => 1.5e6 + i as f64 / 100.0,
            2 => 0.000_123 * i as f64,
            _ => 9.8e11 + (i * 104_729) as f64,
        })
        .collect();
    let mut g = c.benchmark_group("go_float");
    g.throughput(Throughput::Elements(SERIES as u64));
    let mut out = Vec::with_capacity(32 * SERIES);
    g.bench_function("write_float", |b| {
        b.iter(|| {
            out.clear();
            for &v in &values {
                write_float(&mut out, v);
            }
            out.len()
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
