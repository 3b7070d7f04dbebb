//! Exposition formats: what a scraped target's body says.
//!
//! Three formats are parsed, each as Prometheus parses it (spec §4):
//! Prometheus text 0.0.4 (with all of its leniencies), OpenMetrics 1.0 text,
//! and the delimited protobuf `io.prometheus.client.MetricFamily` stream.
//! [`Format::from_content_type`] picks one from a response's `Content-Type`;
//! [`Parser`] walks a body entry by entry without copying it.
//!
//! The steady state of a scrape is: [`Parser::next`] → hash [`Sample::series`]
//! (the series exactly as written, the scrape cache key) → cache hit → use
//! [`Sample::value`] and [`Sample::timestamp`]. No allocation happens on that
//! path and no label is decoded; on a cache miss [`Sample::labels_into`]
//! decodes the labels into a reusable [`LabelBuf`].
//!
//! ```
//! use strata::exposition::{Entry, Format, LabelBuf, Parser};
//!
//! let body = b"# TYPE http_requests_total counter\nhttp_requests_total{code=\"200\"} 1027 1395066363000\n";
//! let mut parser = Parser::new(Format::PromText, body);
//! let mut labels = LabelBuf::default();
//! while let Some(entry) = parser.next().unwrap() {
//!     if let Entry::Sample(s) = entry {
//!         assert_eq!(s.series, b"http_requests_total{code=\"200\"}");
//!         assert_eq!((s.value, s.timestamp), (1027.0, Some(1395066363000)));
//!         s.labels_into(&mut labels);
//!         assert_eq!(labels.get("code"), Some("200"));
//!     }
//! }
//! ```

mod error;
mod float;
mod labels;
mod openmetrics;
mod prom_text;
mod protobuf;
mod text;

use std::borrow::Cow;

pub use error::{Location, ParseError};
pub use labels::LabelBuf;

use labels::LabelSource;

/// The bit pattern every parsed NaN value is normalised to (Prometheus's
/// `value.NormalNaN`); the stale marker is a different NaN and never comes out
/// of a parser.
pub const NORMAL_NAN_BITS: u64 = 0x7ff8_0000_0000_0001;

/// An exposition format, as chosen by the response's media type (spec §2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// `text/plain` (any version): Prometheus text format 0.0.4.
    PromText,
    /// `application/openmetrics-text`: OpenMetrics 1.0 text.
    OpenMetrics,
    /// `application/vnd.google.protobuf`: length-delimited `MetricFamily` messages.
    Protobuf,
}

impl Format {
    /// The format for a `Content-Type` header value, or `None` when the media
    /// type is missing, malformed or not one of the three (the scrape then
    /// fails unless a fallback protocol is configured). Parameters such as
    /// `version=` and `charset=` do not change the choice; media types compare
    /// case-insensitively.
    pub fn from_content_type(content_type: &str) -> Option<Format> {
        let media_type = content_type.split(';').next()?.trim();
        let (kind, subtype) = media_type.split_once('/')?;
        if !is_token(kind) || !is_token(subtype) {
            return None;
        }
        // A parameter without `=` makes the whole header unparsable for Go's
        // mime.ParseMediaType, which Prometheus uses.
        for param in content_type.split(';').skip(1) {
            let param = param.trim();
            if param.is_empty() {
                continue;
            }
            let (name, _) = param.split_once('=')?;
            if !is_token(name.trim()) {
                return None;
            }
        }
        let eq = |a: &str, b: &str| a.eq_ignore_ascii_case(b);
        if eq(kind, "text") && eq(subtype, "plain") {
            Some(Format::PromText)
        } else if eq(kind, "application") && eq(subtype, "openmetrics-text") {
            Some(Format::OpenMetrics)
        } else if eq(kind, "application") && eq(subtype, "vnd.google.protobuf") {
            Some(Format::Protobuf)
        } else {
            None
        }
    }
}

/// RFC 2045 token: printable ASCII without separators.
fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|c| c.is_ascii_graphic() && !b"()<>@,;:\\\"/[]?=".contains(&c))
}

/// A metric family's type as a `# TYPE` line (or protobuf field) declares it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum MetricType {
    /// `counter`.
    Counter,
    /// `gauge`.
    Gauge,
    /// `histogram` (classic: `_bucket{le}`, `_sum`, `_count`).
    Histogram,
    /// `gaugehistogram` (OpenMetrics; protobuf `GAUGE_HISTOGRAM`).
    GaugeHistogram,
    /// `summary` (`{quantile}`, `_sum`, `_count`).
    Summary,
    /// `info` (OpenMetrics).
    Info,
    /// `stateset` (OpenMetrics).
    StateSet,
    /// `unknown` in OpenMetrics, `untyped` in the Prometheus formats, and the
    /// type of any series before a `# TYPE` line.
    #[default]
    Unknown,
}

impl MetricType {
    /// The name Prometheus's metadata API uses (`counter`, …, `unknown`).
    pub fn as_str(self) -> &'static str {
        match self {
            MetricType::Counter => "counter",
            MetricType::Gauge => "gauge",
            MetricType::Histogram => "histogram",
            MetricType::GaugeHistogram => "gaugehistogram",
            MetricType::Summary => "summary",
            MetricType::Info => "info",
            MetricType::StateSet => "stateset",
            MetricType::Unknown => "unknown",
        }
    }
}

/// One entry of a body. Comments are skipped and never returned.
#[derive(Debug)]
pub enum Entry<'p> {
    /// A float sample.
    Sample(Sample<'p>),
    /// `# HELP <family> <help>`; the help text is unescaped (only when it
    /// contains escapes, so usually borrowed).
    Help {
        /// The family name, unquoted and unescaped.
        family: Cow<'p, str>,
        /// The help text.
        help: Cow<'p, str>,
    },
    /// `# TYPE <family> <type>`.
    Type {
        /// The family name, unquoted and unescaped.
        family: Cow<'p, str>,
        /// The declared type.
        metric_type: MetricType,
    },
    /// `# UNIT <family> <unit>` (OpenMetrics; protobuf `unit`).
    Unit {
        /// The family name, unquoted and unescaped.
        family: Cow<'p, str>,
        /// The unit; empty when the line gives none.
        unit: Cow<'p, str>,
    },
}

/// One float sample. Borrowed from the parser until its next call.
#[derive(Debug, Clone)]
pub struct Sample<'p> {
    /// The series as written: for the text formats the exact bytes of the
    /// name and label block in the body (whitespace and all), for protobuf a
    /// canonical key the parser builds (`name`, then `0xFF name 0xFF value`
    /// per label, sorted by label name). Equal bytes mean the same series of
    /// the same target, so this is the scrape cache key.
    pub series: &'p [u8],
    /// The value; every NaN is [`NORMAL_NAN_BITS`], so compare by bits.
    pub value: f64,
    /// The explicit timestamp in milliseconds, if the line (or metric) has one.
    pub timestamp: Option<i64>,
    labels: LabelSource<'p>,
}

impl Sample<'_> {
    /// Decodes the labels into `out` (cleared first): `__name__` first, then the
    /// labels in the order written, escapes resolved, and `le` / `quantile`
    /// values re-formatted as Prometheus does under a histogram / summary
    /// `# TYPE` (`1` → `1.0`). Nothing is allocated once `out` has grown to
    /// fit. Duplicate names are passed through (storage refuses them).
    pub fn labels_into(&self, out: &mut LabelBuf) {
        out.clear();
        self.labels.decode(self.series, out);
    }
}

/// A parser over one body, in one of the three formats. Streaming over the
/// slice: memory use does not grow with the body.
pub struct Parser<'b> {
    inner: Inner<'b>,
}

// One parser per scrape: boxing the large variant would only add an allocation.
#[allow(clippy::large_enum_variant)]
enum Inner<'b> {
    PromText(prom_text::PromTextParser<'b>),
    OpenMetrics(openmetrics::OpenMetricsParser<'b>),
    Protobuf(protobuf::ProtobufParser<'b>),
}

impl<'b> Parser<'b> {
    /// A parser of `body` in `format`.
    pub fn new(format: Format, body: &'b [u8]) -> Parser<'b> {
        let inner = match format {
            Format::PromText => Inner::PromText(prom_text::PromTextParser::new(body)),
            Format::OpenMetrics => Inner::OpenMetrics(openmetrics::OpenMetricsParser::new(body)),
            Format::Protobuf => Inner::Protobuf(protobuf::ProtobufParser::new(body)),
        };
        Parser { inner }
    }

    /// The format being parsed.
    pub fn format(&self) -> Format {
        match self.inner {
            Inner::PromText(_) => Format::PromText,
            Inner::OpenMetrics(_) => Format::OpenMetrics,
            Inner::Protobuf(_) => Format::Protobuf,
        }
    }

    /// The next entry, `Ok(None)` at the end of the body. The first error ends
    /// the parse (as it fails the scrape); later calls return `Ok(None)`.
    #[allow(clippy::should_implement_trait)] // lending: the entry borrows the parser
    pub fn next(&mut self) -> Result<Option<Entry<'_>>, ParseError> {
        match &mut self.inner {
            Inner::PromText(p) => p.next(),
            Inner::OpenMetrics(p) => p.next(),
            Inner::Protobuf(p) => p.next(),
        }
    }

    /// How many protobuf histograms had only a native representation and
    /// were skipped (strata stores float series only). Zero for text formats.
    pub fn skipped_native_histograms(&self) -> u64 {
        match &self.inner {
            Inner::Protobuf(p) => p.skipped_native_histograms(),
            _ => 0,
        }
    }
}

/// Helpers for the parsers' table tests.
#[cfg(test)]
pub(crate) mod testutil {
    use super::*;

    /// An entry with everything owned, for comparing.
    #[derive(Debug, Clone, PartialEq)]
    pub(crate) enum Got {
        Help(String, String),
        Type(String, MetricType),
        Unit(String, String),
        /// Series as text (lossy), value bits, timestamp, labels sorted by name.
        Sample(String, u64, Option<i64>, Vec<(String, String)>),
    }

    /// A sample as the tables write it.
    pub(crate) fn sample(series: &str, value: f64, ts: Option<i64>, labels: &[(&str, &str)]) -> Got {
        let mut l: Vec<(String, String)> = labels.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect();
        l.sort();
        Got::Sample(series.to_string(), value.to_bits(), ts, l)
    }

    pub(crate) fn help(family: &str, text: &str) -> Got {
        Got::Help(family.to_string(), text.to_string())
    }

    pub(crate) fn typ(family: &str, t: MetricType) -> Got {
        Got::Type(family.to_string(), t)
    }

    pub(crate) fn unit(family: &str, u: &str) -> Got {
        Got::Unit(family.to_string(), u.to_string())
    }

    /// Every entry up to the end or the first error.
    pub(crate) fn collect(format: Format, body: &[u8]) -> (Vec<Got>, Option<ParseError>) {
        collect_from(Parser::new(format, body))
    }

    /// [`collect`] for the text format read by the lexer alone, without the plain-line fast path.
    pub(crate) fn collect_lexer_only(body: &[u8]) -> (Vec<Got>, Option<ParseError>) {
        collect_from(Parser {
            inner: Inner::PromText(prom_text::PromTextParser::lexer_only(body)),
        })
    }

    fn collect_from(mut p: Parser<'_>) -> (Vec<Got>, Option<ParseError>) {
        let mut out = Vec::new();
        let mut labels = LabelBuf::default();
        loop {
            match p.next() {
                Ok(None) => return (out, None),
                Err(e) => return (out, Some(e)),
                Ok(Some(Entry::Help { family, help })) => out.push(Got::Help(family.into(), help.into())),
                Ok(Some(Entry::Type { family, metric_type })) => out.push(Got::Type(family.into(), metric_type)),
                Ok(Some(Entry::Unit { family, unit })) => out.push(Got::Unit(family.into(), unit.into())),
                Ok(Some(Entry::Sample(s))) => {
                    s.labels_into(&mut labels);
                    let mut l: Vec<(String, String)> =
                        labels.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect();
                    l.sort();
                    out.push(Got::Sample(
                        String::from_utf8_lossy(s.series).into_owned(),
                        s.value.to_bits(),
                        s.timestamp,
                        l,
                    ));
                }
            }
        }
    }

    /// Entries of a body that must parse.
    pub(crate) fn parse_ok(format: Format, body: &[u8]) -> Vec<Got> {
        let (got, err) = collect(format, body);
        if let Some(e) = err {
            panic!("{:?} body {:?} failed: {e}", format, String::from_utf8_lossy(body));
        }
        got
    }

    /// The error a body must end in.
    pub(crate) fn parse_err(format: Format, body: &[u8]) -> ParseError {
        match collect(format, body) {
            (_, Some(e)) => e,
            (got, None) => panic!(
                "{format:?} body {:?} parsed, want an error; got {got:?}",
                String::from_utf8_lossy(body)
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types_choose_the_parser_as_prometheus_does() {
        let cases: &[(&str, Option<Format>)] = &[
            ("text/plain; version=0.0.4; charset=utf-8", Some(Format::PromText)),
            ("text/plain", Some(Format::PromText)),
            ("text/plain;version=1.0.0;escaping=allow-utf-8", Some(Format::PromText)),
            ("Text/Plain; Version=0.0.4", Some(Format::PromText)),
            (
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
                Some(Format::OpenMetrics),
            ),
            ("APPLICATION/OPENMETRICS-TEXT", Some(Format::OpenMetrics)),
            (
                "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited",
                Some(Format::Protobuf),
            ),
            ("", None),
            ("text/html", None),
            ("application/json", None),
            ("text/plain; version", None),
            ("text", None),
            ("text/plain/x", None),
            ("text /plain", None),
        ];
        for (ct, want) in cases {
            assert_eq!(Format::from_content_type(ct), *want, "content type {ct:?}");
        }
    }

    #[test]
    fn metric_type_names_match_the_metadata_api() {
        assert_eq!(MetricType::GaugeHistogram.as_str(), "gaugehistogram");
        assert_eq!(MetricType::default().as_str(), "unknown");
    }
}
