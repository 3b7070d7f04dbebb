//! Head append throughput: samples/s on one core through the public
//! appender, with series refs (the scrape cache's steady state), in
//! scrape-sized batches, WAL included.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use strata_storage::{Db, Labels, Options, SeriesRef};

const SERIES: usize = 10_000;
const BATCH: usize = 1_000;

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(
        dir.path(),
        Options {
            maintenance_interval: None,
            ..Options::default()
        },
    )
    .unwrap();
    let mut app = db.appender();
    let refs: Vec<SeriesRef> = (0..SERIES)
        .map(|i| {
            let l = Labels::new([
                ("__name__", "node_cpu_seconds_total".to_string()),
                ("cpu", (i % 64).to_string()),
                ("instance", format!("host-{}:9100", i / 64)),
                ("job", "node".to_string()),
                ("mode", "idle".to_string()),
            ])
            .unwrap();
            app.series_ref(&l)
        })
        .collect();
    app.commit().unwrap();
    let mut t = 0i64;
    let mut g = c.benchmark_group("head");
    g.throughput(Throughput::Elements(SERIES as u64));
    g.bench_function("append_commit_10k_series_by_ref", |b| {
        b.iter(|| {
            t += 15_000;
            for batch in refs.chunks(BATCH) {
                let mut app = db.appender();
                for (i, &r) in batch.iter().enumerate() {
                    app.append(r, t, (t / 1000) as f64 + i as f64).unwrap();
                }
                app.commit().unwrap();
            }
        })
    });
    g.finish();
    // Chunks accumulate in the head without maintenance; flush between runs.
    db.maintain();
}

criterion_group!(benches, bench);
criterion_main!(benches);
