//! Storage figures that are sizes and one-shot times rather than loops:
//! bytes per sample, head memory per series (jemalloc), `Db::latest` series/s
//! and open time, at a million series. Run: `cargo bench --bench storage_figures`.
//! `STRATA_BENCH_SERIES` overrides the series count (default 1,000,000).

use std::time::Instant;

use strata_storage::{Db, Labels, Matcher, Options, SeriesRef};

#[global_allocator]
static ALLOC: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn allocated() -> u64 {
    tikv_jemalloc_ctl::epoch::advance().unwrap();
    tikv_jemalloc_ctl::stats::allocated::read().unwrap() as u64
}

fn opts() -> Options {
    Options {
        maintenance_interval: None,
        index_tail_limit: usize::MAX,
        ..Options::default()
    }
}

/// xorshift, so runs are repeatable.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// node_exporter-like labels: 5 labels, ~100 bytes.
fn labels(i: usize) -> Labels {
    let metrics = [
        "node_cpu_seconds_total",
        "node_memory_MemAvailable_bytes",
        "node_network_receive_bytes_total",
        "node_filesystem_avail_bytes",
        "node_disk_io_time_seconds_total",
    ];
    Labels::new([
        ("__name__", metrics[i % metrics.len()].to_string()),
        ("device", format!("dev{}", (i / 5) % 16)),
        ("instance", format!("host-{:05}.dc1.example.com:9100", i / 80)),
        ("job", "node".to_string()),
    ])
    .unwrap()
}

/// Next value of series `i` in a node_exporter-like shape.
fn value(i: usize, k: i64, prev: f64, rng: &mut Rng) -> f64 {
    match i % 5 {
        // CPU seconds: +~15 s × load, two decimals.
        0 => ((prev + (rng.next() % 1500) as f64 / 100.0) * 100.0).round() / 100.0,
        // Available memory: mostly unchanged, sometimes moves by pages.
        1 => {
            if rng.next().is_multiple_of(4) {
                prev + ((rng.next() % 512) as f64 - 256.0) * 4096.0
            } else {
                prev
            }
        }
        // Network bytes: integer counter.
        2 => prev + (rng.next() % 2_000_000) as f64,
        // Filesystem space: changes rarely.
        3 => {
            if k % 40 == 0 {
                prev - 4096.0 * (rng.next() % 100) as f64
            } else {
                prev
            }
        }
        // Disk io time: milliseconds as seconds.
        _ => prev + (rng.next() % 15_000) as f64 / 1000.0,
    }
}

fn bytes_per_sample() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), opts()).unwrap();
    let n_series = 2_000;
    let n_samples = 720; // 3 h at 15 s
    let mut rng = Rng(7);
    let mut app = db.appender();
    let refs: Vec<SeriesRef> = (0..n_series).map(|i| app.series_ref(&labels(i))).collect();
    app.commit().unwrap();
    let mut vals: Vec<f64> = (0..n_series).map(|i| 1e9 + (i * 1000) as f64).collect();
    let t0 = 1_700_000_000_000i64 - 1_700_000_000_000 % 7_200_000;
    for k in 0..n_samples {
        let mut app = db.appender();
        for (i, &r) in refs.iter().enumerate() {
            vals[i] = value(i, k, vals[i], &mut rng);
            let jitter = (rng.next() % 20) as i64 - 10;
            app.append(r, t0 + k * 15_000 + jitter, vals[i]).unwrap();
        }
        app.commit().unwrap();
    }
    let q = db.querier(i64::MIN, i64::MAX);
    let (mut bytes, mut samples) = (0usize, 0usize);
    for s in q.select(&[Matcher::equal("job", "node")]).unwrap() {
        bytes += s.chunk_bytes();
        samples += s.samples().count();
    }
    println!(
        "bytes/sample (XOR chunks, node_exporter-like, {samples} samples in {n_series} series): {:.3}",
        bytes as f64 / samples as f64
    );
}

/// Prints the rate of `Db::latest` over every series, twice (cold, warm).
fn latest_rate(db: &Db, since: i64, index: &str) {
    let m = [Matcher::equal("job", "node")];
    for _ in 0..2 {
        let s = Instant::now();
        let latest = db.latest(&m, since, i64::MAX).unwrap();
        let count = latest.iter().filter(|x| x.t > 0).count();
        let el = s.elapsed();
        println!(
            "Db::latest over {count} series ({index}): {:.1} M series/s",
            count as f64 / el.as_secs_f64() / 1e6
        );
    }
}

fn million_series(n: usize) {
    let dir = tempfile::tempdir().unwrap();
    let before = allocated();
    let db = Db::open(dir.path(), opts()).unwrap();
    let base = allocated();
    let mut rng = Rng(11);
    let start = Instant::now();
    let mut app = db.appender();
    let refs: Vec<SeriesRef> = (0..n).map(|i| app.series_ref(&labels(i))).collect();
    app.commit().unwrap();
    let t0 = 1_700_000_000_000i64;
    let per_series = 60; // half a chunk: a typical open chunk
    let mut vals: Vec<f64> = vec![1e9; n];
    for k in 0..per_series {
        for batch in (0..n).collect::<Vec<_>>().chunks(10_000) {
            let mut app = db.appender();
            for &i in batch {
                vals[i] = value(i, k, vals[i], &mut rng);
                app.append(refs[i], t0 + k * 15_000, vals[i]).unwrap();
            }
            app.commit().unwrap();
        }
    }
    let ingest = start.elapsed();
    drop(refs);
    drop(vals);
    let after = allocated();
    println!(
        "ingest: {n} series x {per_series} samples in {:.1} s ({:.2} M samples/s incl. WAL)",
        ingest.as_secs_f64(),
        (n * per_series as usize) as f64 / ingest.as_secs_f64() / 1e6
    );
    println!(
        "head memory per active series (jemalloc allocated, labels+index tail+open chunk of {per_series} samples): {:.0} bytes (db baseline {} KiB)",
        (after - base) as f64 / n as f64,
        (base - before) / 1024
    );
    latest_rate(&db, t0, "tail index");
    db.rebuild_index().unwrap();
    latest_rate(&db, t0, "mapped segment");
    let s = Instant::now();
    db.checkpoint().unwrap();
    println!("checkpoint of {n} series: {:.2} s", s.elapsed().as_secs_f64());
    db.close().unwrap();
    let s = Instant::now();
    let db = Db::open(dir.path(), opts()).unwrap();
    println!(
        "open with {} series (checkpoint replay + mapped index): {:.2} s",
        db.stats().head_series,
        s.elapsed().as_secs_f64()
    );
}

fn main() {
    // `cargo test --benches` runs bench binaries with --bench absent; skip then.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let n = std::env::var("STRATA_BENCH_SERIES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    bytes_per_sample();
    million_series(n);
}
