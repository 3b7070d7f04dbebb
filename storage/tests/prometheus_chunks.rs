//! XOR chunks written by Prometheus itself decode to the samples they were
//! made from, and those samples re-encode to Prometheus's bytes.
//!
//! The fixture in `tests/fixtures/prometheus-chunks/` is a block's
//! `chunks/000001` written by `promtool tsdb create-blocks-from openmetrics`
//! (Prometheus 2.42) from `input.om`; its README says exactly how. Each series
//! of `input.om` is one chunk, and a block writes its chunks in series order
//! (label sets sorted pairwise by name, then value), so the n-th chunk belongs
//! to the n-th series in that order.

use std::collections::BTreeMap;
use std::path::PathBuf;

use strata_storage::chunk::{XorChunk, XorIter, ENCODING_XOR};

/// Magic number of a block's chunk segment file (`tsdb/chunks`'s `MagicChunks`).
const SEGMENT_MAGIC: u32 = 0x85BD_40DD;
/// Segment header: magic (4), version (1), padding (3).
const SEGMENT_HEADER_LEN: usize = 8;

/// Bits of Go's `math.NaN()`, which `strconv.ParseFloat("NaN")` returns and
/// Prometheus therefore stores for a `NaN` in an exposition.
const GO_NAN_BITS: u64 = 0x7FF8_0000_0000_0001;

/// Series whose chunk Prometheus 2.42 ends with a whole zero byte of padding.
/// Its bit writer appended two bytes instead of one when a byte-wide write
/// started on a byte boundary; when the chunk ends right there, the second
/// byte stays empty. prometheus/prometheus#14854 (2024) removed that byte, and
/// strata writes what current Prometheus writes; decoders never read it.
const PADDED_BY_PROMETHEUS_2: &[&str] = &["fixture_aligned", "fixture_single"];

type LabelSet = Vec<(String, String)>;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/prometheus-chunks")
        .join(name)
}

fn read_fixture(name: &str) -> Vec<u8> {
    let path = fixture(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

const CRC32C_TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 { (c >> 1) ^ 0x82F6_3B78 } else { c >> 1 };
            k += 1;
        }
        table[i] = c;
        i += 1;
    }
    table
};

/// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of
/// Prometheus's chunk files.
fn crc32c(data: &[u8]) -> u32 {
    let mut c = !0u32;
    for &b in data {
        c = CRC32C_TABLE[((c ^ b as u32) & 0xff) as usize] ^ (c >> 8);
    }
    !c
}

/// Go's `binary.Uvarint`: the value and the bytes it took.
fn uvarint(b: &[u8]) -> Option<(u64, usize)> {
    let mut x = 0u64;
    for (i, &c) in b.iter().enumerate().take(10) {
        x |= ((c & 0x7f) as u64) << (7 * i);
        if c < 0x80 {
            return Some((x, i + 1));
        }
    }
    None
}

/// One chunk of a segment file, checksum already verified.
struct RawChunk<'a> {
    offset: usize,
    encoding: u8,
    data: &'a [u8],
}

/// Splits a chunk segment file: header, then per chunk
/// `uvarint len(data) | encoding | data | CRC32-C(encoding, data) big-endian`.
fn read_segment(file: &[u8]) -> Vec<RawChunk<'_>> {
    assert!(
        file.len() >= SEGMENT_HEADER_LEN,
        "segment file of {} bytes has no header",
        file.len()
    );
    let magic = u32::from_be_bytes(file[..4].try_into().unwrap());
    assert_eq!(
        magic, SEGMENT_MAGIC,
        "segment magic: expected {SEGMENT_MAGIC:#010x}, got {magic:#010x}"
    );
    assert_eq!(file[4], 1, "segment version");
    assert_eq!(&file[5..8], &[0, 0, 0], "segment header padding");
    let mut chunks = Vec::new();
    let mut pos = SEGMENT_HEADER_LEN;
    while pos < file.len() {
        let offset = pos;
        let (len, n) = uvarint(&file[pos..]).unwrap_or_else(|| panic!("chunk at {offset}: bad length uvarint"));
        pos += n;
        let len = len as usize;
        assert!(
            pos + 1 + len + 4 <= file.len(),
            "chunk at {offset}: {len} data bytes run past the end of the file"
        );
        let checked = &file[pos..pos + 1 + len];
        let stored = u32::from_be_bytes(file[pos + 1 + len..pos + 5 + len].try_into().unwrap());
        let computed = crc32c(checked);
        assert_eq!(
            stored, computed,
            "chunk at {offset}: stored CRC32-C {stored:#010x}, computed {computed:#010x}"
        );
        chunks.push(RawChunk {
            offset,
            encoding: checked[0],
            data: &checked[1..],
        });
        pos += 5 + len;
    }
    chunks
}

/// Parses `input.om`: `name{label="value",...} value seconds` lines (comments
/// and `# EOF` skipped) into samples per series, keyed by label set with
/// `__name__` included and pairs sorted by name. A `BTreeMap` over those keys
/// iterates in Prometheus's series order. Values are kept as bits.
fn parse_om(text: &str) -> BTreeMap<LabelSet, Vec<(i64, u64)>> {
    let mut series: BTreeMap<LabelSet, Vec<(i64, u64)>> = BTreeMap::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut fields = line.rsplitn(3, ' ');
        let (ts, value, head) = match (fields.next(), fields.next(), fields.next()) {
            (Some(t), Some(v), Some(h)) => (t, v, h),
            _ => panic!("input.om:{}: expected `series value timestamp`, got {line:?}", i + 1),
        };
        assert!(
            !head.contains('\\'),
            "input.om:{}: escapes are not expected in the fixture",
            i + 1
        );
        let (name, rest) = head.split_once('{').unwrap_or((head, ""));
        let mut labels = vec![("__name__".to_string(), name.to_string())];
        let rest = rest.trim_end_matches('}');
        for pair in rest.split(',').filter(|p| !p.is_empty()) {
            let (k, v) = pair
                .split_once('=')
                .unwrap_or_else(|| panic!("input.om:{}: bad label pair {pair:?}", i + 1));
            labels.push((k.to_string(), v.trim_matches('"').to_string()));
        }
        labels.sort();
        let bits = match value {
            "NaN" => GO_NAN_BITS,
            "+Inf" => f64::INFINITY.to_bits(),
            "-Inf" => f64::NEG_INFINITY.to_bits(),
            v => v
                .parse::<f64>()
                .unwrap_or_else(|e| panic!("input.om:{}: value {v:?}: {e}", i + 1))
                .to_bits(),
        };
        let secs: f64 = ts
            .parse()
            .unwrap_or_else(|e| panic!("input.om:{}: timestamp {ts:?}: {e}", i + 1));
        // Prometheus's OpenMetrics parser converts with int64(seconds * 1000),
        // which truncates; `as` does the same for times in range.
        let t = (secs * 1000.0) as i64;
        series.entry(labels).or_default().push((t, bits));
    }
    series
}

fn show(labels: &LabelSet) -> String {
    let (name, rest) = labels.split_first().expect("__name__ sorts first");
    let pairs: Vec<String> = rest.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
    format!("{}{{{}}}", name.1, pairs.join(","))
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// One series of `input.om` with the chunk Prometheus wrote for it.
struct Case {
    labels: LabelSet,
    /// `(t, value bits)` as parsed from `input.om`.
    samples: Vec<(i64, u64)>,
    /// Prometheus's chunk: sample count header and bit stream.
    chunk: Vec<u8>,
}

/// The fixture's chunks paired with the series they hold.
fn cases() -> Vec<Case> {
    let file = read_fixture("000001");
    let text = String::from_utf8(read_fixture("input.om")).expect("input.om is UTF-8");
    let series = parse_om(&text);
    let chunks = read_segment(&file);
    assert_eq!(
        chunks.len(),
        series.len(),
        "chunks in 000001 vs series in input.om (each series must be one chunk)"
    );
    series
        .into_iter()
        .zip(chunks)
        .map(|((labels, samples), c)| {
            assert_eq!(
                c.encoding,
                ENCODING_XOR,
                "chunk at {} ({}): encoding byte",
                c.offset,
                show(&labels)
            );
            Case {
                labels,
                samples,
                chunk: c.data.to_vec(),
            }
        })
        .collect()
}

#[test]
fn crc32c_gives_the_standard_check_value() {
    assert_eq!(crc32c(b"123456789"), 0xE306_9283);
    assert_eq!(crc32c(b""), 0);
}

#[test]
fn prometheus_chunk_file_has_a_valid_header_and_checksums() {
    let file = read_fixture("000001");
    let chunks = read_segment(&file);
    assert_eq!(chunks.len(), 9);
    assert!(chunks.iter().all(|c| c.encoding == ENCODING_XOR));
}

#[test]
fn prometheus_chunks_decode_to_the_samples_they_were_made_from() {
    for Case {
        labels,
        samples: want,
        chunk,
    } in cases()
    {
        let mut it = XorIter::new(&chunk).unwrap_or_else(|e| panic!("{}: {e}", show(&labels)));
        assert_eq!(
            it.len_hint() as usize,
            want.len(),
            "{}: sample count in the chunk header",
            show(&labels)
        );
        let got: Vec<(i64, u64)> = it.by_ref().map(|(t, v)| (t, v.to_bits())).collect();
        assert_eq!(it.err(), None, "{}: decoding stopped early", show(&labels));
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            assert_eq!(
                g,
                w,
                "{}: sample {i}: expected t={} v={} (bits {:#018x}), got t={} v={} (bits {:#018x})",
                show(&labels),
                w.0,
                f64::from_bits(w.1),
                w.1,
                g.0,
                f64::from_bits(g.1),
                g.1
            );
        }
        assert_eq!(got.len(), want.len(), "{}: samples decoded", show(&labels));
    }
}

#[test]
fn reencoding_gives_prometheus_bytes() {
    let mut padded = Vec::new();
    for Case {
        labels,
        samples,
        chunk: prometheus,
    } in cases()
    {
        let mut c = XorChunk::new();
        for &(t, v) in &samples {
            c.append(t, f64::from_bits(v));
        }
        let ours = c.bytes();
        let name = labels[0].1.as_str();
        if PADDED_BY_PROMETHEUS_2.contains(&name) {
            padded.push(name.to_string());
            assert_eq!(
                prometheus.last(),
                Some(&0),
                "{}: Prometheus 2's chunk should end in a zero padding byte",
                show(&labels)
            );
            assert_eq!(
                hex(ours),
                hex(&prometheus[..prometheus.len() - 1]),
                "{}: ours vs Prometheus's without its extra padding byte",
                show(&labels)
            );
        } else {
            assert_eq!(hex(ours), hex(&prometheus), "{}: ours vs Prometheus's", show(&labels));
        }
    }
    assert_eq!(
        padded, PADDED_BY_PROMETHEUS_2,
        "series with the extra padding byte in the fixture"
    );
}

/// Guards the fixture itself: if input.om is regenerated, it must still cover
/// what this test is for.
#[test]
fn fixture_covers_every_dod_bucket_and_special_value() {
    let series = parse_om(&String::from_utf8(read_fixture("input.om")).unwrap());
    let mut buckets = BTreeMap::new();
    let mut values = Vec::new();
    let mut repeats = 0;
    for samples in series.values() {
        assert!(samples.len() <= 100);
        for w in samples.windows(3) {
            let dod = (w[2].0 - w[1].0) - (w[1].0 - w[0].0);
            let width = match dod {
                0 => 0,
                -8191..=8192 => 14,
                -65535..=65536 => 17,
                -524287..=524288 => 20,
                _ => 64,
            };
            *buckets.entry((width, dod.signum())).or_insert(0) += 1;
        }
        values.extend(samples.iter().map(|&(_, v)| v));
        repeats += samples.windows(2).filter(|w| w[0].1 == w[1].1).count();
    }
    assert!(repeats > 0, "no value repeats its predecessor");
    for key in [
        (0, 0),
        (14, 1),
        (14, -1),
        (17, 1),
        (17, -1),
        (20, 1),
        (20, -1),
        (64, 1),
        (64, -1),
    ] {
        assert!(
            buckets.contains_key(&key),
            "no delta-of-delta of width {} and sign {}",
            key.0,
            key.1
        );
    }
    for (what, bits) in [
        ("NaN", GO_NAN_BITS),
        ("+Inf", f64::INFINITY.to_bits()),
        ("-Inf", f64::NEG_INFINITY.to_bits()),
        ("-0", (-0.0f64).to_bits()),
        ("smallest subnormal", 1),
        ("largest finite", f64::MAX.to_bits()),
    ] {
        assert!(values.contains(&bits), "no {what} value");
    }
}
