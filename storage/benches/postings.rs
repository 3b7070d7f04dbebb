//! Selecting from an index of one million series: the postings walk behind
//! every query and every `/federate` scrape.
//!
//! `cargo bench -p strata-storage --bench postings` (the first run builds
//! RocksDB in release mode too, about 15 minutes on 2 cores).
//!
//! 1,000 metric names × 1,000 instances. Ten of the names are recording
//! rules (`job:…`), so `__name__=~"job:.*"` hits 1% of the series;
//! `job="job-3"` hits 10%, `__name__="metric_500"` 0.1%.

use std::hint::black_box;
use std::sync::Arc;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use strata_storage::bench_api::BenchIndex;
use strata_storage::{Label, Labels, MatchOp, Matcher, SeriesRef};

const METRICS: u64 = 1_000;
const INSTANCES: u64 = 1_000;
const SERIES: u64 = METRICS * INSTANCES;

/// Label sets sharing their strings, as the head's interner would make them,
/// so a million of them fit comfortably in memory.
fn series() -> Vec<(SeriesRef, Labels)> {
    let s = |v: String| -> Arc<str> { Arc::from(v) };
    let (name, instance, job, env) = (
        s("__name__".into()),
        s("instance".into()),
        s("job".into()),
        s("env".into()),
    );
    let metrics: Vec<Arc<str>> = (0..METRICS)
        .map(|m| match m {
            0..10 => s(format!("job:metric_{m}:rate5m")),
            _ => s(format!("metric_{m}")),
        })
        .collect();
    let instances: Vec<Arc<str>> = (0..INSTANCES).map(|i| s(format!("host-{i:04}:9100"))).collect();
    let jobs: Vec<Arc<str>> = (0..10).map(|j| s(format!("job-{j}"))).collect();
    let envs = [s("prod".into()), s("dev".into())];
    let label = |n: &Arc<str>, v: &Arc<str>| Label {
        name: n.clone(),
        value: v.clone(),
    };
    (0..SERIES)
        .map(|i| {
            let (m, inst) = ((i / INSTANCES) as usize, (i % INSTANCES) as usize);
            let labels = Labels::from_labels(vec![
                label(&name, &metrics[m]),
                label(&instance, &instances[inst]),
                label(&job, &jobs[inst % 10]),
                label(&env, &envs[inst % 2]),
            ])
            .unwrap();
            (SeriesRef(i), labels)
        })
        .collect()
}

fn select(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let index = BenchIndex::write_segment(dir.path(), series()).unwrap();
    assert_eq!(index.len(), SERIES as usize);

    let re = |n: &str, v: &str| Matcher::new(MatchOp::Regex, n, v).unwrap();
    let cases: [(&str, Vec<Matcher>); 5] = [
        ("all series", vec![]),
        ("__name__=~\"job:.*\" (1%)", vec![re("__name__", "job:.*")]),
        ("job=\"job-3\" (10%)", vec![Matcher::equal("job", "job-3")]),
        (
            "__name__=\"metric_500\" (0.1%)",
            vec![Matcher::equal("__name__", "metric_500")],
        ),
        (
            "__name__=\"metric_500\",env!=\"dev\",instance=~\"host-00.*\"",
            vec![
                Matcher::equal("__name__", "metric_500"),
                Matcher::new(MatchOp::NotEqual, "env", "dev").unwrap(),
                re("instance", "host-00.*"),
            ],
        ),
    ];
    let mut g = c.benchmark_group("select");
    for (name, matchers) in &cases {
        let hits = index.select_count(matchers);
        g.throughput(Throughput::Elements(hits as u64));
        g.bench_function(*name, |b| b.iter(|| black_box(index.select_count(black_box(matchers)))));
    }
    g.finish();

    // What `/federate` does with a selection: every series' ref and labels.
    let mut g = c.benchmark_group("select and read labels");
    for (name, matchers) in &cases[..2] {
        let hits = index.select_count(matchers);
        g.throughput(Throughput::Elements(hits as u64));
        g.bench_function(*name, |b| {
            b.iter(|| black_box(index.select_and_read_labels(black_box(matchers))))
        });
    }
    g.finish();

    // Restart cost: mapping the segment and checking it end to end.
    let mut g = c.benchmark_group("open");
    g.sample_size(10);
    g.throughput(Throughput::Elements(SERIES));
    g.bench_function("1M-series segment", |b| {
        b.iter(|| BenchIndex::open(dir.path()).unwrap())
    });
    g.finish();
}

criterion_group!(benches, select);
criterion_main!(benches);
