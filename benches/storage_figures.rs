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

/// Resident set size from /proc (0 where unavailable).
fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4096
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

/// One series of the node_exporter data set: how it moves per 15 s scrape,
/// learnt from two real scrapes of node_exporter 1.5 taken 15 s apart
/// (`benches/data/node_exporter/`, see the README there).
struct Model {
    labels: Vec<(String, String)>,
    first: f64,
    /// Change seen between the two scrapes; zero for a constant series.
    delta: f64,
    /// Counters only grow; gauges walk both ways.
    counter: bool,
    /// Values keep the precision the exporter writes them with.
    round: Rounding,
}

#[derive(Clone, Copy)]
enum Rounding {
    Decimals(i32),
    /// Integers that are multiples of this (memory figures are in pages).
    Multiple(f64),
}

impl Rounding {
    fn of(texts: [&str; 2], values: [f64; 2]) -> Rounding {
        if values.iter().all(|v| v.fract() == 0.0) {
            let mut g = 4096.0;
            while g > 1.0 && values.iter().any(|v| v % g != 0.0) {
                g /= 2.0;
            }
            return Rounding::Multiple(g);
        }
        let decimals = texts
            .iter()
            .filter(|t| !t.contains('e'))
            .map(|t| t.split_once('.').map_or(0, |(_, f)| f.len()))
            .max()
            .unwrap_or(6);
        Rounding::Decimals(decimals.min(6) as i32)
    }

    fn apply(self, v: f64) -> f64 {
        match self {
            Rounding::Decimals(d) => {
                let p = 10f64.powi(d);
                (v * p).round() / p
            }
            Rounding::Multiple(g) => (v / g).round() * g,
        }
    }
}

/// `name{a="b",…}` into label pairs (the exporter's escapes: `\\`, `\"`, `\n`).
fn parse_series(key: &str) -> Vec<(String, String)> {
    let (name, rest) = key.split_once('{').unwrap_or((key, ""));
    let mut out = vec![("__name__".to_string(), name.to_string())];
    let mut chars = rest.trim_end_matches('}').chars().peekable();
    while chars.peek().is_some() {
        let lname: String = chars.by_ref().take_while(|&c| c != '=').collect();
        assert_eq!(chars.next(), Some('"'), "label {lname} of {key}");
        let mut value = String::new();
        while let Some(c) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some('n') => value.push('\n'),
                    Some(e) => value.push(e),
                    None => break,
                },
                '"' => break,
                c => value.push(c),
            }
        }
        if chars.peek() == Some(&',') {
            chars.next();
        }
        out.push((lname.trim().to_string(), value));
    }
    out
}

fn node_exporter_models() -> Vec<Model> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/data/node_exporter");
    let read = |f: &str| -> Vec<(String, String)> {
        std::fs::read_to_string(format!("{dir}/{f}"))
            .unwrap()
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .map(|l| {
                let (k, v) = l.rsplit_once(' ').unwrap();
                (k.to_string(), v.to_string())
            })
            .collect()
    };
    let later: std::collections::HashMap<String, String> = read("scrape-15s.prom").into_iter().collect();
    read("scrape-0s.prom")
        .into_iter()
        .filter_map(|(key, t0)| {
            let t1 = later.get(&key)?;
            let (v0, v1): (f64, f64) = (t0.parse().ok()?, t1.parse().ok()?);
            let name = key.split('{').next().unwrap();
            Some(Model {
                labels: parse_series(&key),
                first: v0,
                delta: v1 - v0,
                counter: ["_total", "_count", "_sum"].iter().any(|s| name.ends_with(s)),
                round: Rounding::of([&t0, t1], [v0, v1]),
            })
        })
        .collect()
}

/// Uniform in [0, 1).
fn unit(rng: &mut Rng) -> f64 {
    (rng.next() >> 11) as f64 / (1u64 << 53) as f64
}

/// Bytes per sample of the XOR chunks holding 2 h of 15 s scrapes of
/// several node_exporter hosts. Each host's series move like the measured
/// ones (a changing counter grows by 0.5–1.5× its measured step, a changing
/// gauge walks ±1×; constants stay constant), and scrape timestamps are
/// exactly 15 s apart except one scrape in 20 that lands 3–30 ms late, as
/// Prometheus's 2 ms timestamp tolerance leaves them.
fn bytes_per_sample(jitter_every: u64) {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), opts()).unwrap();
    let models = node_exporter_models();
    let (hosts, scrapes) = (5usize, 480i64);
    let mut rng = Rng(7);
    let t0 = 1_700_000_000_000i64 - 1_700_000_000_000 % 7_200_000;
    // Per host: series refs, current values, next scrape time.
    let mut hosts_state: Vec<(Vec<SeriesRef>, Vec<f64>, i64)> = (0..hosts)
        .map(|h| {
            let mut app = db.appender();
            let refs: Vec<SeriesRef> = models
                .iter()
                .map(|m| {
                    let mut l = m.labels.clone();
                    l.push(("instance".into(), format!("host-{h:03}.dc1.example.com:9100")));
                    l.push(("job".into(), "node".into()));
                    app.series_ref(&Labels::new(l).unwrap())
                })
                .collect();
            app.commit().unwrap();
            let vals: Vec<f64> = models
                .iter()
                .map(|m| {
                    if m.delta == 0.0 {
                        m.first
                    } else {
                        m.round.apply(m.first * (0.8 + 0.4 * unit(&mut rng)))
                    }
                })
                .collect();
            (refs, vals, t0 + h as i64 * 1_234)
        })
        .collect();
    for _ in 0..scrapes {
        for (refs, vals, t) in hosts_state.iter_mut() {
            let mut app = db.appender();
            for (i, m) in models.iter().enumerate() {
                if m.delta != 0.0 {
                    let step = if m.counter {
                        m.delta.abs() * (0.5 + unit(&mut rng))
                    } else {
                        m.delta.abs() * (2.0 * unit(&mut rng) - 1.0)
                    };
                    vals[i] = m.round.apply((vals[i] + step).max(0.0));
                }
                app.append(refs[i], *t, vals[i]).unwrap();
            }
            app.commit().unwrap();
            *t += 15_000;
            if jitter_every > 0 && rng.next().is_multiple_of(jitter_every) {
                *t += 3 + (rng.next() % 28) as i64;
            }
        }
    }
    let q = db.querier(i64::MIN, i64::MAX);
    // [constant series, changing series] × (XOR bytes, samples, stored bytes)
    let mut by_kind = [(0usize, 0usize, 0usize); 2];
    for s in q.select(&[Matcher::equal("job", "node")]).unwrap() {
        let values: Vec<u64> = s.samples().map(|(_, v)| v.to_bits()).collect();
        let k = usize::from(values.windows(2).any(|w| w[0] != w[1]));
        by_kind[k].0 += s.chunk_bytes();
        by_kind[k].1 += values.len();
        by_kind[k].2 += s
            .chunks()
            .map(|(_, c)| strata_storage::chunk::compact(c).1.len())
            .sum::<usize>();
    }
    let stored = by_kind[0].2 + by_kind[1].2;
    let (bytes, samples) = (by_kind[0].0 + by_kind[1].0, by_kind[0].1 + by_kind[1].1);
    let constant = models.iter().filter(|m| m.delta == 0.0).count();
    let jitter = match jitter_every {
        0 => "every scrape on the 15 s grid".to_string(),
        n => format!("one scrape in {n} 3-30 ms late"),
    };
    println!(
        "bytes/sample, node_exporter data set, {jitter} ({samples} samples, {constant} of {} series per host \
         constant): XOR chunks as the head builds them {:.3} (constant series {:.3}, changing series {:.3}); \
         completed chunks as the block store keeps them {:.3} (constant {:.3}, changing {:.3})",
        models.len(),
        bytes as f64 / samples as f64,
        by_kind[0].0 as f64 / by_kind[0].1.max(1) as f64,
        by_kind[1].0 as f64 / by_kind[1].1.max(1) as f64,
        stored as f64 / samples as f64,
        by_kind[0].2 as f64 / by_kind[0].1.max(1) as f64,
        by_kind[1].2 as f64 / by_kind[1].1.max(1) as f64,
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
        "memory per series right after ingest, all {n} series still in the index tail: {:.0} bytes \
         (jemalloc allocated; db baseline {} KiB)",
        (after - base) as f64 / n as f64,
        (base - before) / 1024
    );
    latest_rate(&db, t0, "tail index");
    // What a running server holds: the background pass has written the new
    // series to the block store and folded the tail into a mapped segment.
    db.rebuild_index().unwrap();
    db.maintain();
    let steady = allocated();
    println!(
        "memory per active series, steady state (labels, hash map, slab, open chunk of {per_series} \
         samples, RocksDB memtables; jemalloc allocated): {:.0} bytes; process RSS {} MiB",
        (steady - base) as f64 / n as f64,
        rss_bytes() >> 20
    );
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
    bytes_per_sample(20);
    bytes_per_sample(0);
    if std::env::var_os("STRATA_BENCH_SKIP_MILLION").is_none() {
        million_series(n);
    }
}
