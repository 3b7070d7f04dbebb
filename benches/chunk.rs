//! XOR chunk encode and decode, ns per sample, on node_exporter-like series.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use strata_storage::chunk::{XorChunk, XorIter};

/// 120 samples at a 15 s interval with ±50 ms jitter; the value shapes seen
/// in node_exporter output: a constant, a counter and a noisy gauge.
fn series(kind: &str) -> Vec<(i64, f64)> {
    let mut x = 0x2545_F491_4F6C_DD1Du64;
    let mut rnd = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut counter = 1.0e6;
    (0..120)
        .map(|i| {
            let t = 1_700_000_000_000 + i * 15_000 + (rnd() % 100) as i64 - 50;
            let v = match kind {
                "constant" => 16_777_216.0,
                "counter" => {
                    counter += (rnd() % 4096) as f64;
                    counter
                }
                _ => (rnd() % 10_000) as f64 / 100.0,
            };
            (t, v)
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("xor_chunk");
    g.throughput(Throughput::Elements(120));
    for kind in ["constant", "counter", "gauge"] {
        let s = series(kind);
        g.bench_with_input(BenchmarkId::new("encode", kind), &s, |b, s| {
            b.iter(|| {
                let mut c = XorChunk::with_capacity(256);
                for &(t, v) in s {
                    c.append(t, v);
                }
                c
            })
        });
        let mut enc = XorChunk::new();
        for &(t, v) in &s {
            enc.append(t, v);
        }
        let bytes = enc.bytes().to_vec();
        g.bench_with_input(BenchmarkId::new("decode", kind), &bytes, |b, bytes| {
            b.iter(|| XorIter::new(bytes).unwrap().fold(0.0, |acc, (_, v)| acc + v))
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
