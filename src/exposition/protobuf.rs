//! The delimited protobuf format: `[uvarint length][MetricFamily]…`
//! (`proto/metrics.proto`, spec §4.3), read with a hand-written wire walker.
//!
//! Why not prost: `prost` (derive) resolves to the same features as today,
//! but adding it reorders `cargo tree` for librocksdb-sys's build
//! dependencies, and `prost-build`/`protox` in build.rs turn on features of
//! bindgen's dependencies (a RocksDB rebuild). The walker also keeps the hot
//! path free of per-label `String`s: names and values are borrowed from the
//! body, and a sample's series key is built in one reused buffer.
//!
//! Classic histograms and summaries come out as Prometheus's parser presents
//! them: `_count`, `_sum`, then `_bucket{le}` (plus `le="+Inf"` when absent)
//! or `{quantile}`, with `le`/`quantile` in OpenMetrics float form.
//! Histograms with only a native representation are skipped and counted.

use std::borrow::Cow;

use super::error::{Location, ParseError};
use super::float::push_openmetrics_float;
use super::labels::{LabelSource, KEY_SEPARATOR};
use super::{Entry, MetricType, Sample, NORMAL_NAN_BITS};

/// The field numbers the walker reads, by message; checked against
/// `proto/metrics.proto` in the tests.
mod field {
    pub(super) mod family {
        pub(crate) const NAME: u32 = 1;
        pub(crate) const HELP: u32 = 2;
        pub(crate) const TYPE: u32 = 3;
        pub(crate) const METRIC: u32 = 4;
        pub(crate) const UNIT: u32 = 5;
    }
    pub(super) mod metric {
        pub(crate) const LABEL: u32 = 1;
        pub(crate) const GAUGE: u32 = 2;
        pub(crate) const COUNTER: u32 = 3;
        pub(crate) const SUMMARY: u32 = 4;
        pub(crate) const UNTYPED: u32 = 5;
        pub(crate) const TIMESTAMP_MS: u32 = 6;
        pub(crate) const HISTOGRAM: u32 = 7;
    }
    pub(super) mod label_pair {
        pub(crate) const NAME: u32 = 1;
        pub(crate) const VALUE: u32 = 2;
    }
    /// `Gauge.value`, `Counter.value` and `Untyped.value` share number 1.
    pub(super) const SIMPLE_VALUE: u32 = 1;
    pub(super) mod summary {
        pub(crate) const SAMPLE_COUNT: u32 = 1;
        pub(crate) const SAMPLE_SUM: u32 = 2;
        pub(crate) const QUANTILE: u32 = 3;
    }
    pub(super) mod quantile {
        pub(crate) const QUANTILE: u32 = 1;
        pub(crate) const VALUE: u32 = 2;
    }
    pub(super) mod histogram {
        pub(crate) const SAMPLE_COUNT: u32 = 1;
        pub(crate) const SAMPLE_SUM: u32 = 2;
        pub(crate) const BUCKET: u32 = 3;
        pub(crate) const SAMPLE_COUNT_FLOAT: u32 = 4;
        pub(crate) const ZERO_THRESHOLD: u32 = 6;
        pub(crate) const ZERO_COUNT: u32 = 7;
        pub(crate) const NEGATIVE_SPAN: u32 = 9;
        pub(crate) const POSITIVE_SPAN: u32 = 12;
    }
    pub(super) mod bucket {
        pub(crate) const CUMULATIVE_COUNT: u32 = 1;
        pub(crate) const UPPER_BOUND: u32 = 2;
        pub(crate) const CUMULATIVE_COUNT_FLOAT: u32 = 4;
    }
}

/// `MetricType` enum values.
const COUNTER: u64 = 0;
const GAUGE: u64 = 1;
const SUMMARY: u64 = 2;
const UNTYPED: u64 = 3;
const HISTOGRAM: u64 = 4;
const GAUGE_HISTOGRAM: u64 = 5;

/// One field of a message on the wire.
#[derive(Debug, Clone, Copy)]
enum Wire<'a> {
    Varint(u64),
    Fixed64(u64),
    Bytes(&'a [u8]),
    Fixed32,
}

impl<'a> Wire<'a> {
    fn kind(&self) -> &'static str {
        match self {
            Wire::Varint(_) => "varint",
            Wire::Fixed64(_) => "64-bit",
            Wire::Bytes(_) => "length-delimited",
            Wire::Fixed32 => "32-bit",
        }
    }
}

/// A message's fields, in order.
struct Fields<'a> {
    b: &'a [u8],
    i: usize,
    message: &'static str,
}

fn fields<'a>(b: &'a [u8], message: &'static str) -> Fields<'a> {
    Fields { b, i: 0, message }
}

fn read_varint(b: &[u8], i: &mut usize) -> Option<u64> {
    let mut v: u64 = 0;
    for shift in (0..70).step_by(7) {
        let c = *b.get(*i)?;
        *i += 1;
        if shift == 63 && c > 1 {
            return None;
        }
        v |= u64::from(c & 0x7f) << shift;
        if c < 0x80 {
            return Some(v);
        }
    }
    None
}

impl<'a> Fields<'a> {
    fn next_field(&mut self) -> Result<Option<(u32, Wire<'a>)>, String> {
        if self.i >= self.b.len() {
            return Ok(None);
        }
        let msg = self.message;
        let truncated = || format!("proto: {msg}: truncated or malformed field");
        let key = read_varint(self.b, &mut self.i).ok_or_else(truncated)?;
        let number = u32::try_from(key >> 3).map_err(|_| truncated())?;
        if number == 0 {
            return Err(format!("proto: {msg}: illegal field number 0"));
        }
        let wire = match key & 7 {
            0 => Wire::Varint(read_varint(self.b, &mut self.i).ok_or_else(truncated)?),
            1 => {
                let bytes = self.b.get(self.i..self.i + 8).ok_or_else(truncated)?;
                self.i += 8;
                Wire::Fixed64(u64::from_le_bytes(bytes.try_into().map_err(|_| truncated())?))
            }
            2 => {
                let len = read_varint(self.b, &mut self.i).ok_or_else(truncated)?;
                let len = usize::try_from(len).map_err(|_| truncated())?;
                let end = self.i.checked_add(len).ok_or_else(truncated)?;
                let bytes = self.b.get(self.i..end).ok_or_else(truncated)?;
                self.i = end;
                Wire::Bytes(bytes)
            }
            5 => {
                self.b.get(self.i..self.i + 4).ok_or_else(truncated)?;
                self.i += 4;
                Wire::Fixed32
            }
            w => return Err(format!("proto: {msg}: unsupported wire type {w} for field {number}")),
        };
        Ok(Some((number, wire)))
    }
}

fn wrong(message: &str, number: u32, w: &Wire<'_>) -> String {
    format!("proto: {message}: wrong wire type ({}) for field {number}", w.kind())
}

fn as_double(message: &str, number: u32, w: Wire<'_>) -> Result<f64, String> {
    match w {
        Wire::Fixed64(v) => Ok(f64::from_bits(v)),
        w => Err(wrong(message, number, &w)),
    }
}

fn as_varint(message: &str, number: u32, w: Wire<'_>) -> Result<u64, String> {
    match w {
        Wire::Varint(v) => Ok(v),
        w => Err(wrong(message, number, &w)),
    }
}

fn as_bytes<'a>(message: &str, number: u32, w: Wire<'a>) -> Result<&'a [u8], String> {
    match w {
        Wire::Bytes(b) => Ok(b),
        w => Err(wrong(message, number, &w)),
    }
}

fn as_str<'a>(message: &str, number: u32, w: Wire<'a>) -> Result<&'a str, String> {
    let b = as_bytes(message, number, w)?;
    std::str::from_utf8(b).map_err(|_| format!("proto: {message}: field {number} is not valid UTF-8"))
}

/// The family being emitted.
struct Family<'b> {
    /// Offset of the family's length prefix in the body, for errors.
    at: usize,
    name: &'b str,
    help: &'b str,
    unit: &'b str,
    mtype: u64,
    msg: &'b [u8],
    /// Where the search for the next `metric` field resumes.
    cursor: usize,
    step: Step,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Help,
    Unit,
    Type,
    /// Decode the next metric.
    Metric,
    /// Emit series `n` of the current metric.
    Series(usize),
}

/// One decoded `Metric`, reused from metric to metric.
#[derive(Default)]
struct MetricData<'b> {
    labels: Vec<(&'b str, &'b str)>,
    timestamp_ms: i64,
    value: f64,
    count: f64,
    sum: f64,
    /// `(quantile, value)` or `(upper_bound, cumulative count)`.
    points: Vec<(f64, f64)>,
    /// Series to emit: 1, or 2 (count, sum) + points (+1 for an added +Inf bucket).
    series: usize,
}

/// Parser of the delimited protobuf format.
pub(crate) struct ProtobufParser<'b> {
    body: &'b [u8],
    pos: usize,
    family: Option<Family<'b>>,
    metric: MetricData<'b>,
    key: Vec<u8>,
    /// Scratch for formatting `le` / `quantile` values into the key.
    float_buf: String,
    /// What the last successful `advance` stopped at.
    emitted: Emitted,
    skipped_native: u64,
    done: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Emitted {
    Help,
    Unit,
    Type,
    Series(usize),
}

impl<'b> ProtobufParser<'b> {
    pub(crate) fn new(body: &'b [u8]) -> ProtobufParser<'b> {
        ProtobufParser {
            body,
            pos: 0,
            family: None,
            metric: MetricData::default(),
            key: Vec::with_capacity(256),
            float_buf: String::with_capacity(32),
            emitted: Emitted::Help,
            skipped_native: 0,
            done: false,
        }
    }

    pub(crate) fn skipped_native_histograms(&self) -> u64 {
        self.skipped_native
    }

    pub(crate) fn next(&mut self) -> Result<Option<Entry<'_>>, ParseError> {
        if self.done {
            return Ok(None);
        }
        match self.advance() {
            Ok(true) => Ok(Some(self.entry())),
            Ok(false) => {
                self.done = true;
                Ok(None)
            }
            Err(e) => {
                self.done = true;
                Err(e)
            }
        }
    }

    /// Moves to the next entry; `false` at the end of the body.
    fn advance(&mut self) -> Result<bool, ParseError> {
        loop {
            let Some(fam) = self.family.as_mut() else {
                if self.pos >= self.body.len() {
                    return Ok(false);
                }
                self.family = self.read_family()?;
                continue;
            };
            let at = fam.at;
            let err = |message: String| ParseError {
                location: Location::Byte(at),
                message,
            };
            match fam.step {
                Step::Help => {
                    fam.step = if fam.unit.is_empty() { Step::Type } else { Step::Unit };
                    self.emitted = Emitted::Help;
                    return Ok(true);
                }
                Step::Unit => {
                    fam.step = Step::Type;
                    self.emitted = Emitted::Unit;
                    return Ok(true);
                }
                Step::Type => {
                    fam.step = Step::Metric;
                    self.emitted = Emitted::Type;
                    return Ok(true);
                }
                Step::Metric => {
                    let Some(bytes) = next_metric(fam).map_err(err)? else {
                        self.family = None;
                        continue;
                    };
                    let (mtype, name) = (fam.mtype, fam.name);
                    let emit = decode_metric(bytes, mtype, &mut self.metric).map_err(err)?;
                    if !emit {
                        self.skipped_native += 1;
                        continue;
                    }
                    if let Some(fam) = self.family.as_mut() {
                        fam.step = Step::Series(0);
                    }
                    self.build_key(name, mtype, 0);
                    self.emitted = Emitted::Series(0);
                    return Ok(true);
                }
                Step::Series(n) => {
                    let (mtype, name) = (fam.mtype, fam.name);
                    if n + 1 >= self.metric.series {
                        fam.step = Step::Metric;
                        continue;
                    }
                    fam.step = Step::Series(n + 1);
                    self.build_key(name, mtype, n + 1);
                    self.emitted = Emitted::Series(n + 1);
                    return Ok(true);
                }
            }
        }
    }

    /// Reads the next length-delimited family and checks its name, help,
    /// type and unit. Families without metrics are skipped (`None`).
    fn read_family(&mut self) -> Result<Option<Family<'b>>, ParseError> {
        let at = self.pos;
        let err = |message: String| ParseError {
            location: Location::Byte(at),
            message,
        };
        let mut i = self.pos;
        let rest = &self.body[self.pos..];
        let len = match read_varint(self.body, &mut i) {
            Some(len) if i - at <= 5 => len,
            _ => return Err(err("protobufparse: invalid varint encountered".to_string())),
        };
        let total = (i - at) as u64 + len;
        if total > rest.len() as u64 {
            return Err(err(format!(
                "protobufparse: insufficient length of buffer, expected at least {total} bytes, got {} bytes",
                rest.len()
            )));
        }
        let msg = &self.body[i..i + len as usize];
        self.pos = i + len as usize;

        let (mut name, mut help, mut unit, mut mtype, mut has_metric) = ("", "", "", COUNTER, false);
        let m = "MetricFamily";
        let mut f = fields(msg, m);
        while let Some((n, w)) = f.next_field().map_err(err)? {
            match n {
                field::family::NAME => name = as_str(m, n, w).map_err(err)?,
                field::family::HELP => {
                    let b = as_bytes(m, n, w).map_err(err)?;
                    help = std::str::from_utf8(b).map_err(|_| {
                        err(format!(
                            "invalid help for metric {}: {}",
                            super::text::go_quote(name.as_bytes()),
                            String::from_utf8_lossy(b)
                        ))
                    })?;
                }
                field::family::TYPE => mtype = as_varint(m, n, w).map_err(err)?,
                field::family::METRIC => {
                    as_bytes(m, n, w).map_err(err)?;
                    has_metric = true;
                }
                field::family::UNIT => unit = as_str(m, n, w).map_err(err)?,
                _ => {}
            }
        }
        if !has_metric {
            return Ok(None);
        }
        if name.is_empty() {
            return Err(err("invalid metric name: ".to_string()));
        }
        if mtype > GAUGE_HISTOGRAM {
            let q = super::text::go_quote(name.as_bytes());
            return Err(err(format!("unknown metric type for metric {q}: {mtype}")));
        }
        if !unit.is_empty() {
            let base = match name.strip_suffix("_total") {
                Some(base) if mtype == COUNTER => base,
                _ => name,
            };
            let ok =
                base.len() > unit.len() && base.ends_with(unit) && base.as_bytes()[base.len() - unit.len() - 1] == b'_';
            if !ok {
                let what = if base.len() != name.len() { "counter" } else { "metric" };
                let (u, n) = (
                    super::text::go_quote(unit.as_bytes()),
                    super::text::go_quote(name.as_bytes()),
                );
                return Err(err(format!("unit {u} not a suffix of {what} {n}")));
            }
        }
        Ok(Some(Family {
            at,
            name,
            help,
            unit,
            mtype,
            msg,
            cursor: 0,
            step: Step::Help,
        }))
    }

    /// Writes the key of series `n` of the current metric into `self.key`:
    /// `name[suffix]`, then `0xFF name 0xFF value` per label sorted by name,
    /// the `le`/`quantile` label in its place.
    fn build_key(&mut self, name: &str, mtype: u64, n: usize) {
        let m = &self.metric;
        let key = &mut self.key;
        let float_buf = &mut self.float_buf;
        key.clear();
        key.extend_from_slice(name.as_bytes());
        let classic = matches!(mtype, SUMMARY | HISTOGRAM | GAUGE_HISTOGRAM);
        let mut magic: Option<(&str, f64)> = None;
        if classic {
            match n {
                0 => key.extend_from_slice(b"_count"),
                1 => key.extend_from_slice(b"_sum"),
                _ => {
                    let bound = m.points.get(n - 2).map_or(f64::INFINITY, |p| p.0);
                    if mtype == SUMMARY {
                        magic = Some(("quantile", bound));
                    } else {
                        key.extend_from_slice(b"_bucket");
                        magic = Some(("le", bound));
                    }
                }
            }
        }
        let push = |key: &mut Vec<u8>, n: &str, v: &str| {
            key.push(KEY_SEPARATOR);
            key.extend_from_slice(n.as_bytes());
            key.push(KEY_SEPARATOR);
            key.extend_from_slice(v.as_bytes());
        };
        let mut push_magic = |key: &mut Vec<u8>, name: &str, f: f64| {
            key.push(KEY_SEPARATOR);
            key.extend_from_slice(name.as_bytes());
            key.push(KEY_SEPARATOR);
            float_buf.clear();
            push_openmetrics_float(float_buf, f);
            key.extend_from_slice(float_buf.as_bytes());
        };
        for &(ln, lv) in &m.labels {
            if let Some((mn, f)) = magic {
                if mn < ln {
                    push_magic(key, mn, f);
                    magic = None;
                }
            }
            push(key, ln, lv);
        }
        if let Some((mn, f)) = magic {
            push_magic(key, mn, f);
        }
    }

    fn value_of(&self, n: usize) -> f64 {
        let m = &self.metric;
        let Some(fam) = &self.family else { return 0.0 };
        let v = match fam.mtype {
            SUMMARY | HISTOGRAM | GAUGE_HISTOGRAM => match n {
                0 => m.count,
                1 => m.sum,
                _ => m.points.get(n - 2).map_or(m.count, |p| p.1),
            },
            _ => m.value,
        };
        if v.is_nan() {
            f64::from_bits(NORMAL_NAN_BITS)
        } else {
            v
        }
    }

    fn entry(&self) -> Entry<'_> {
        let Some(fam) = &self.family else {
            return Entry::Help {
                family: Cow::Borrowed(""),
                help: Cow::Borrowed(""),
            };
        };
        match self.emitted {
            Emitted::Help => Entry::Help {
                family: Cow::Borrowed(fam.name),
                help: Cow::Borrowed(fam.help),
            },
            Emitted::Unit => Entry::Unit {
                family: Cow::Borrowed(fam.name),
                unit: Cow::Borrowed(fam.unit),
            },
            Emitted::Type => Entry::Type {
                family: Cow::Borrowed(fam.name),
                metric_type: match fam.mtype {
                    COUNTER => MetricType::Counter,
                    GAUGE => MetricType::Gauge,
                    SUMMARY => MetricType::Summary,
                    HISTOGRAM => MetricType::Histogram,
                    GAUGE_HISTOGRAM => MetricType::GaugeHistogram,
                    _ => MetricType::Unknown,
                },
            },
            Emitted::Series(n) => Entry::Sample(Sample {
                series: &self.key,
                value: self.value_of(n),
                timestamp: (self.metric.timestamp_ms != 0).then_some(self.metric.timestamp_ms),
                labels: LabelSource::Key,
            }),
        }
    }
}

/// The bytes of the family's next `metric` field.
fn next_metric<'b>(fam: &mut Family<'b>) -> Result<Option<&'b [u8]>, String> {
    let mut f = Fields {
        b: fam.msg,
        i: fam.cursor,
        message: "MetricFamily",
    };
    while let Some((n, w)) = f.next_field()? {
        if n == field::family::METRIC {
            fam.cursor = f.i;
            return as_bytes("MetricFamily", n, w).map(Some);
        }
    }
    fam.cursor = f.i;
    Ok(None)
}

/// Decodes one `Metric` of a family of type `mtype` into `out`. Returns
/// `false` for a histogram with only a native representation (skipped).
/// Repeated occurrences of a sub-message merge, as protobuf defines.
fn decode_metric<'b>(bytes: &'b [u8], mtype: u64, out: &mut MetricData<'b>) -> Result<bool, String> {
    out.labels.clear();
    out.points.clear();
    out.timestamp_ms = 0;
    out.value = 0.0;
    out.count = 0.0;
    out.sum = 0.0;
    let (mut count_int, mut count_float) = (0u64, 0f64);
    let mut native = false;
    let m = "Metric";
    let mut f = fields(bytes, m);
    while let Some((n, w)) = f.next_field()? {
        match n {
            field::metric::LABEL => {
                let (mut name, mut value) = ("", "");
                let mut lf = fields(as_bytes(m, n, w)?, "LabelPair");
                while let Some((ln, lw)) = lf.next_field()? {
                    match ln {
                        field::label_pair::NAME => {
                            name = as_str("LabelPair", ln, lw).map_err(|_| "invalid label name".to_string())?
                        }
                        field::label_pair::VALUE => {
                            value = as_str("LabelPair", ln, lw).map_err(|_| "invalid label value".to_string())?
                        }
                        _ => {}
                    }
                }
                if name.is_empty() {
                    return Err("invalid label name: ".to_string());
                }
                out.labels.push((name, value));
            }
            field::metric::TIMESTAMP_MS => out.timestamp_ms = as_varint(m, n, w)? as i64,
            field::metric::COUNTER | field::metric::GAUGE | field::metric::UNTYPED => {
                let wanted = match n {
                    field::metric::COUNTER => COUNTER,
                    field::metric::GAUGE => GAUGE,
                    _ => UNTYPED,
                };
                let sub = as_bytes(m, n, w)?;
                if mtype == wanted {
                    let mut sf = fields(sub, "value");
                    while let Some((sn, sw)) = sf.next_field()? {
                        if sn == field::SIMPLE_VALUE {
                            out.value = as_double("value", sn, sw)?;
                        }
                    }
                }
            }
            field::metric::SUMMARY => {
                let sub = as_bytes(m, n, w)?;
                if mtype != SUMMARY {
                    continue;
                }
                let s = "Summary";
                let mut sf = fields(sub, s);
                while let Some((sn, sw)) = sf.next_field()? {
                    match sn {
                        field::summary::SAMPLE_COUNT => count_int = as_varint(s, sn, sw)?,
                        field::summary::SAMPLE_SUM => out.sum = as_double(s, sn, sw)?,
                        field::summary::QUANTILE => {
                            let (mut q, mut v) = (0.0, 0.0);
                            let mut qf = fields(as_bytes(s, sn, sw)?, "Quantile");
                            while let Some((qn, qw)) = qf.next_field()? {
                                match qn {
                                    field::quantile::QUANTILE => q = as_double("Quantile", qn, qw)?,
                                    field::quantile::VALUE => v = as_double("Quantile", qn, qw)?,
                                    _ => {}
                                }
                            }
                            out.points.push((q, v));
                        }
                        _ => {}
                    }
                }
            }
            field::metric::HISTOGRAM => {
                let sub = as_bytes(m, n, w)?;
                if mtype != HISTOGRAM && mtype != GAUGE_HISTOGRAM {
                    continue;
                }
                let h = "Histogram";
                let mut hf = fields(sub, h);
                while let Some((hn, hw)) = hf.next_field()? {
                    match hn {
                        field::histogram::SAMPLE_COUNT => count_int = as_varint(h, hn, hw)?,
                        field::histogram::SAMPLE_COUNT_FLOAT => count_float = as_double(h, hn, hw)?,
                        field::histogram::SAMPLE_SUM => out.sum = as_double(h, hn, hw)?,
                        field::histogram::BUCKET => {
                            let (mut ub, mut c_int, mut c_float) = (0.0, 0u64, 0.0);
                            let mut bf = fields(as_bytes(h, hn, hw)?, "Bucket");
                            while let Some((bn, bw)) = bf.next_field()? {
                                match bn {
                                    field::bucket::UPPER_BOUND => ub = as_double("Bucket", bn, bw)?,
                                    field::bucket::CUMULATIVE_COUNT => c_int = as_varint("Bucket", bn, bw)?,
                                    field::bucket::CUMULATIVE_COUNT_FLOAT => c_float = as_double("Bucket", bn, bw)?,
                                    _ => {}
                                }
                            }
                            let c = if c_float != 0.0 { c_float } else { c_int as f64 };
                            out.points.push((ub, c));
                        }
                        field::histogram::ZERO_THRESHOLD => native |= as_double(h, hn, hw)? > 0.0,
                        field::histogram::ZERO_COUNT => native |= as_varint(h, hn, hw)? > 0,
                        field::histogram::NEGATIVE_SPAN | field::histogram::POSITIVE_SPAN => native = true,
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    out.count = if count_float != 0.0 {
        count_float
    } else {
        count_int as f64
    };
    out.labels.sort_unstable_by(|a, b| a.0.cmp(b.0));
    out.series = match mtype {
        SUMMARY => 2 + out.points.len(),
        HISTOGRAM | GAUGE_HISTOGRAM => {
            if native && out.points.is_empty() {
                return Ok(false);
            }
            // Buckets up to the first +Inf one; a +Inf bucket is added when missing.
            match out.points.iter().position(|p| p.0 == f64::INFINITY) {
                Some(k) => {
                    out.points.truncate(k + 1);
                    2 + out.points.len()
                }
                None => 3 + out.points.len(),
            }
        }
        _ => 1,
    };
    Ok(true)
}

#[cfg(test)]
mod encode;

#[cfg(test)]
mod tests {
    use super::encode::{self, Msg};
    use super::*;
    use crate::exposition::testutil::{collect, help, parse_err, parse_ok, sample, typ, unit, Got};
    use crate::exposition::{Format, Parser};

    const F: Format = Format::Protobuf;

    fn family(name: &str, help_text: &str, mtype: u64, metrics: Vec<Msg>) -> Msg {
        let mut f = Msg::new().string(1, name).string(2, help_text).varint(3, mtype);
        for m in metrics {
            f = f.message(4, m);
        }
        f
    }

    fn labels(mut m: Msg, pairs: &[(&str, &str)]) -> Msg {
        for (n, v) in pairs {
            m = m.message(1, Msg::new().string(1, n).string(2, v));
        }
        m
    }

    fn body(families: Vec<Msg>) -> Vec<u8> {
        let mut b = Vec::new();
        for f in families {
            encode::delimited(&mut b, &f);
        }
        b
    }

    #[test]
    fn counters_gauges_and_untyped_become_one_sample_each() {
        let b = body(vec![
            family(
                "http_requests_total",
                "Requests.",
                COUNTER,
                vec![
                    labels(Msg::new(), &[("path", "/"), ("code", "200")])
                        .message(3, Msg::new().double(1, 1027.0))
                        .varint(6, 1_395_066_363_000),
                    labels(Msg::new(), &[("code", "500")]).message(3, Msg::new().double(1, 3.0)),
                ],
            ),
            family(
                "temp",
                "",
                GAUGE,
                vec![Msg::new().message(2, Msg::new().double(1, -1.5))],
            ),
            family(
                "u",
                "x",
                UNTYPED,
                vec![Msg::new().message(5, Msg::new().double(1, f64::NAN))],
            ),
        ]);
        // Series keys show here with 0xFF as U+FFFD (the helper decodes lossily).
        let got = parse_ok(F, &b);
        let want = vec![
            help("http_requests_total", "Requests."),
            typ("http_requests_total", MetricType::Counter),
            sample(
                "http_requests_total\u{fffd}code\u{fffd}200\u{fffd}path\u{fffd}/",
                1027.0,
                Some(1_395_066_363_000),
                &[("__name__", "http_requests_total"), ("code", "200"), ("path", "/")],
            ),
            sample(
                "http_requests_total\u{fffd}code\u{fffd}500",
                3.0,
                None,
                &[("__name__", "http_requests_total"), ("code", "500")],
            ),
            help("temp", ""),
            typ("temp", MetricType::Gauge),
            sample("temp", -1.5, None, &[("__name__", "temp")]),
            help("u", "x"),
            typ("u", MetricType::Unknown),
            Got::Sample("u".into(), NORMAL_NAN_BITS, None, vec![("__name__".into(), "u".into())]),
        ];
        assert_eq!(got, want);
    }

    #[test]
    fn series_key_is_name_then_sorted_pairs_with_ff_separators() {
        let b = body(vec![family(
            "m",
            "",
            COUNTER,
            vec![labels(Msg::new(), &[("b", "2"), ("a", "1")]).message(3, Msg::new().double(1, 1.0))],
        )]);
        let mut p = Parser::new(F, &b);
        let mut keys = Vec::new();
        while let Some(e) = p.next().unwrap() {
            if let Entry::Sample(s) = e {
                keys.push(s.series.to_vec());
            }
        }
        assert_eq!(keys, vec![b"m\xffa\xff1\xffb\xff2".to_vec()]);
    }

    #[test]
    fn summaries_expand_to_count_sum_and_quantiles() {
        let s = Msg::new()
            .varint(1, 7)
            .double(2, 1.25)
            .message(3, Msg::new().double(1, 0.5).double(2, 0.1))
            .message(3, Msg::new().double(1, 1.0).double(2, 0.3));
        let b = body(vec![family(
            "rpc",
            "",
            SUMMARY,
            vec![labels(Msg::new(), &[("svc", "a")]).message(4, s)],
        )]);
        let got = parse_ok(F, &b);
        let l = |name: &'static str, q: Option<&'static str>| {
            let mut v = vec![("__name__", name), ("svc", "a")];
            if let Some(q) = q {
                v.push(("quantile", q));
            }
            v
        };
        assert_eq!(
            got[2..],
            [
                sample("rpc_count\u{fffd}svc\u{fffd}a", 7.0, None, &l("rpc_count", None)),
                sample("rpc_sum\u{fffd}svc\u{fffd}a", 1.25, None, &l("rpc_sum", None)),
                sample(
                    "rpc\u{fffd}quantile\u{fffd}0.5\u{fffd}svc\u{fffd}a",
                    0.1,
                    None,
                    &l("rpc", Some("0.5"))
                ),
                sample(
                    "rpc\u{fffd}quantile\u{fffd}1.0\u{fffd}svc\u{fffd}a",
                    0.3,
                    None,
                    &l("rpc", Some("1.0"))
                ),
            ]
        );
    }

    #[test]
    fn classic_histograms_expand_with_an_added_inf_bucket() {
        let bucket = |ub: f64, c: u64| Msg::new().varint(1, c).double(2, ub);
        let h = Msg::new()
            .varint(1, 10)
            .double(2, 3.5)
            .message(3, bucket(0.25, 2))
            .message(3, bucket(1.0, 5))
            .message(3, bucket(1e6, 9));
        let with_inf = Msg::new()
            .double(4, 4.0)
            .double(2, 1.0)
            .message(3, Msg::new().double(4, 1.5).double(2, 2.0))
            .message(3, bucket(f64::INFINITY, 4))
            .message(3, bucket(9.0, 9));
        let b = body(vec![
            family("lat", "", HISTOGRAM, vec![Msg::new().message(7, h)]),
            family("g", "", GAUGE_HISTOGRAM, vec![Msg::new().message(7, with_inf)]),
        ]);
        let got = parse_ok(F, &b);
        let le = |v: &'static str| vec![("__name__", "lat_bucket"), ("le", v)];
        let gle = |v: &'static str| vec![("__name__", "g_bucket"), ("le", v)];
        let want = vec![
            help("lat", ""),
            typ("lat", MetricType::Histogram),
            sample("lat_count", 10.0, None, &[("__name__", "lat_count")]),
            sample("lat_sum", 3.5, None, &[("__name__", "lat_sum")]),
            sample("lat_bucket\u{fffd}le\u{fffd}0.25", 2.0, None, &le("0.25")),
            sample("lat_bucket\u{fffd}le\u{fffd}1.0", 5.0, None, &le("1.0")),
            sample("lat_bucket\u{fffd}le\u{fffd}1e+06", 9.0, None, &le("1e+06")),
            sample("lat_bucket\u{fffd}le\u{fffd}+Inf", 10.0, None, &le("+Inf")),
            help("g", ""),
            typ("g", MetricType::GaugeHistogram),
            // Float counts override integer ones; nothing after the +Inf bucket.
            sample("g_count", 4.0, None, &[("__name__", "g_count")]),
            sample("g_sum", 1.0, None, &[("__name__", "g_sum")]),
            sample("g_bucket\u{fffd}le\u{fffd}2.0", 1.5, None, &gle("2.0")),
            sample("g_bucket\u{fffd}le\u{fffd}+Inf", 4.0, None, &gle("+Inf")),
        ];
        assert_eq!(got, want);
    }

    #[test]
    fn native_only_histograms_are_skipped_and_counted() {
        let native = Msg::new()
            .varint(1, 3)
            .sint(5, 3)
            .double(6, 0.001)
            .message(12, Msg::new().sint(1, 0).varint(2, 1));
        let both = Msg::new()
            .varint(1, 3)
            .message(12, Msg::new().varint(2, 1))
            .message(3, Msg::new().varint(1, 3).double(2, 1.0));
        let b = body(vec![family(
            "n",
            "",
            HISTOGRAM,
            vec![Msg::new().message(7, native), Msg::new().message(7, both)],
        )]);
        let mut p = Parser::new(F, &b);
        let mut samples = 0;
        while let Some(e) = p.next().unwrap() {
            samples += usize::from(matches!(e, Entry::Sample(_)));
        }
        // The second has classic buckets too: count, sum, le=1.0, +Inf.
        assert_eq!((samples, p.skipped_native_histograms()), (4, 1));
    }

    #[test]
    fn empty_families_are_skipped_and_units_are_checked() {
        let b = body(vec![
            family("empty", "no metrics", GAUGE, vec![]),
            family(
                "size_bytes",
                "",
                GAUGE,
                vec![Msg::new().message(2, Msg::new().double(1, 1.0))],
            )
            .string(5, "bytes"),
        ]);
        let got = parse_ok(F, &b);
        assert_eq!(
            got[..3],
            [
                help("size_bytes", ""),
                unit("size_bytes", "bytes"),
                typ("size_bytes", MetricType::Gauge)
            ]
        );
        let bad = body(vec![family("size", "", GAUGE, vec![Msg::new()]).string(5, "bytes")]);
        assert_eq!(
            parse_err(F, &bad).message,
            r#"unit "bytes" not a suffix of metric "size""#
        );
        let counter = body(vec![
            family("io_seconds_total", "", COUNTER, vec![Msg::new()]).string(5, "seconds")
        ]);
        assert_eq!(parse_ok(F, &counter).len(), 4);
    }

    #[test]
    fn broken_bodies_fail_with_their_byte_offset() {
        let good = body(vec![family("a", "", GAUGE, vec![Msg::new()])]);
        let at = good.len();
        let mut truncated = good.clone();
        truncated.extend_from_slice(&[0x10, 0x0a, 0x01]);
        let e = parse_err(F, &truncated);
        assert_eq!(e.location, Location::Byte(at));
        assert_eq!(
            e.message,
            "protobufparse: insufficient length of buffer, expected at least 17 bytes, got 3 bytes"
        );

        let mut bad_varint = good.clone();
        bad_varint.extend_from_slice(&[0xff; 6]);
        assert_eq!(
            parse_err(F, &bad_varint).message,
            "protobufparse: invalid varint encountered"
        );

        let bad_type = body(vec![family("a", "", 9, vec![Msg::new()])]);
        assert_eq!(
            parse_err(F, &bad_type).message,
            r#"unknown metric type for metric "a": 9"#
        );

        let no_name = body(vec![family("", "", GAUGE, vec![Msg::new()])]);
        assert_eq!(parse_err(F, &no_name).message, "invalid metric name: ");

        let bad_label = body(vec![family("a", "", GAUGE, vec![labels(Msg::new(), &[("", "v")])])]);
        assert_eq!(parse_err(F, &bad_label).message, "invalid label name: ");

        let mut bad_utf8 = Vec::new();
        encode::delimited(
            &mut bad_utf8,
            &Msg::new().bytes(1, b"a").bytes(2, b"\xff").message(4, Msg::new()),
        );
        assert!(parse_err(F, &bad_utf8)
            .message
            .starts_with("invalid help for metric \"a\""));

        let wrong_wire = body(vec![Msg::new().string(1, "a").double(3, 1.0).message(4, Msg::new())]);
        assert!(parse_err(F, &wrong_wire).message.contains("wrong wire type"));
        let (got, err) = collect(F, &truncated);
        assert_eq!((got.len(), err.is_some()), (3, true));
    }

    /// Every field number the walker uses, as `(message, field, number)`.
    const USED: &[(&str, &str, u32)] = &[
        ("MetricFamily", "name", field::family::NAME),
        ("MetricFamily", "help", field::family::HELP),
        ("MetricFamily", "type", field::family::TYPE),
        ("MetricFamily", "metric", field::family::METRIC),
        ("MetricFamily", "unit", field::family::UNIT),
        ("Metric", "label", field::metric::LABEL),
        ("Metric", "gauge", field::metric::GAUGE),
        ("Metric", "counter", field::metric::COUNTER),
        ("Metric", "summary", field::metric::SUMMARY),
        ("Metric", "untyped", field::metric::UNTYPED),
        ("Metric", "timestamp_ms", field::metric::TIMESTAMP_MS),
        ("Metric", "histogram", field::metric::HISTOGRAM),
        ("LabelPair", "name", field::label_pair::NAME),
        ("LabelPair", "value", field::label_pair::VALUE),
        ("Gauge", "value", field::SIMPLE_VALUE),
        ("Counter", "value", field::SIMPLE_VALUE),
        ("Untyped", "value", field::SIMPLE_VALUE),
        ("Summary", "sample_count", field::summary::SAMPLE_COUNT),
        ("Summary", "sample_sum", field::summary::SAMPLE_SUM),
        ("Summary", "quantile", field::summary::QUANTILE),
        ("Quantile", "quantile", field::quantile::QUANTILE),
        ("Quantile", "value", field::quantile::VALUE),
        ("Histogram", "sample_count", field::histogram::SAMPLE_COUNT),
        ("Histogram", "sample_count_float", field::histogram::SAMPLE_COUNT_FLOAT),
        ("Histogram", "sample_sum", field::histogram::SAMPLE_SUM),
        ("Histogram", "bucket", field::histogram::BUCKET),
        ("Histogram", "zero_threshold", field::histogram::ZERO_THRESHOLD),
        ("Histogram", "zero_count", field::histogram::ZERO_COUNT),
        ("Histogram", "negative_span", field::histogram::NEGATIVE_SPAN),
        ("Histogram", "positive_span", field::histogram::POSITIVE_SPAN),
        ("Bucket", "cumulative_count", field::bucket::CUMULATIVE_COUNT),
        (
            "Bucket",
            "cumulative_count_float",
            field::bucket::CUMULATIVE_COUNT_FLOAT,
        ),
        ("Bucket", "upper_bound", field::bucket::UPPER_BOUND),
    ];

    #[test]
    fn field_numbers_match_proto_metrics_proto() {
        let proto = include_str!("../../proto/metrics.proto");
        let mut message = "";
        let mut declared = Vec::new();
        for line in proto.lines() {
            let line = line.split("//").next().unwrap_or("").trim();
            if let Some(rest) = line.strip_prefix("message ") {
                message = rest.trim_end_matches('{').trim();
            } else if let Some((lhs, rhs)) = line.split_once('=') {
                let words: Vec<&str> = lhs.split_whitespace().collect();
                let number: Option<u32> = rhs.trim().trim_end_matches(';').trim().parse().ok();
                if let (Some(name), Some(number)) = (words.last(), number) {
                    if words.len() >= 3 {
                        declared.push((message.to_string(), name.to_string(), number));
                    }
                }
            }
        }
        for (msg, name, number) in USED {
            let found = declared.iter().find(|(m, n, _)| m == msg && n == name).map(|d| d.2);
            assert_eq!(
                found,
                Some(*number),
                "{msg}.{name}: the walker uses {number}, metrics.proto says {found:?}"
            );
        }
    }
}
