//! OpenMetrics 1.0 text, as Prometheus's `openmetricsparse.go` reads it
//! (spec §4.2): exactly one space between tokens, `# EOF` last, float-second
//! timestamps, exemplars (checked, then dropped), `_created` lines as
//! ordinary samples.

use std::borrow::Cow;

use super::error::ParseError;
use super::float::{parse_go_float, push_go_float};
use super::prom_text::{family_name, float_error_message, text_sample, OFFSETS_CAPACITY};
use super::text::{go_quote, is_label_start, is_metric_start, unescape_label, Cursor, Tok};
use super::{Entry, MetricType, NORMAL_NAN_BITS};

/// Lexer states of `openmetricslex.l`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Init,
    Comment,
    Meta1,
    Meta2,
    Labels,
    LValue,
    Value,
    Timestamp,
    Exemplar,
    EValue,
    ETimestamp,
}

struct Lexer<'b> {
    c: Cursor<'b>,
    state: State,
}

impl<'b> Lexer<'b> {
    #[inline]
    fn next(&mut self) -> u8 {
        let skip = matches!(self.state, State::LValue | State::Meta2 | State::Comment);
        self.c.next(skip)
    }

    /// Whether the cursor is past the last byte.
    #[inline]
    fn at_end(&self) -> bool {
        self.c.i >= self.c.vlen
    }

    /// `"(\\.|[^\\"])*"` (raw newlines allowed when `newline`) at the current `"`.
    fn quoted(&mut self, newline: bool) -> bool {
        loop {
            match self.next() {
                b'"' => {
                    self.next();
                    return true;
                }
                b'\\' => {
                    let c = self.next();
                    if c == b'\n' || c == 0 {
                        return false;
                    }
                }
                b'\n' if !newline => return false,
                // The end of input, or a NUL outside a series' label value
                // (where the lexer does not skip them).
                0 => return false,
                _ => {}
            }
        }
    }

    /// ` [^ \n]+`: a space then at least one byte that is neither.
    fn spaced_word(&mut self) -> bool {
        let c = self.next();
        if c == b' ' || c == b'\n' || self.at_end() {
            return false;
        }
        let b = self.c.b;
        let mut i = self.c.i + 1;
        while i < b.len() && b[i] != b' ' && b[i] != b'\n' {
            i += 1;
        }
        self.c.i = i;
        true
    }

    fn lex(&mut self) -> Tok {
        if self.at_end() {
            return Tok::Eof;
        }
        self.c.start = self.c.i;
        let mut c = self.c.at(self.c.i);
        loop {
            match self.state {
                State::Init => match c {
                    b'#' => {
                        if self.next() != b' ' {
                            return Tok::Invalid;
                        }
                        c = self.next();
                        self.state = State::Comment;
                        if self.at_end() {
                            return Tok::Invalid;
                        }
                        continue;
                    }
                    b'{' => {
                        self.next();
                        self.state = State::Labels;
                        return Tok::BraceOpen;
                    }
                    c if is_metric_start(c) => {
                        self.c.skip_metric_chars();
                        self.state = State::Value;
                        return Tok::MName;
                    }
                    _ => return Tok::Invalid,
                },
                State::Comment => {
                    let (word, tok): (&[u8], Tok) = match c {
                        b'H' => (b"ELP", Tok::Help),
                        b'T' => (b"YPE", Tok::Type),
                        b'U' => (b"NIT", Tok::Unit),
                        b'E' => (b"OF", Tok::EofWord),
                        _ => return Tok::Invalid,
                    };
                    for &w in word {
                        if self.next() != w {
                            return Tok::Invalid;
                        }
                    }
                    let c = self.next();
                    if tok == Tok::EofWord {
                        if c == b'\n' {
                            self.next();
                        }
                        self.state = State::Init;
                        return tok;
                    }
                    if c != b' ' {
                        return Tok::Invalid;
                    }
                    self.next();
                    self.state = State::Meta1;
                    return tok;
                }
                State::Meta1 => match c {
                    b'"' => {
                        if self.quoted(true) {
                            self.state = State::Meta2;
                            return Tok::MName;
                        }
                        return Tok::Invalid;
                    }
                    c if is_metric_start(c) => {
                        self.c.skip_metric_chars();
                        self.state = State::Meta2;
                        return Tok::MName;
                    }
                    _ => return Tok::Invalid,
                },
                State::Meta2 => {
                    // ` [^\n]*\n`
                    if c != b' ' {
                        return Tok::Invalid;
                    }
                    loop {
                        let c = self.next();
                        if c == b'\n' {
                            self.next();
                            self.state = State::Init;
                            return Tok::Text;
                        }
                        if self.at_end() {
                            return Tok::Invalid;
                        }
                    }
                }
                State::Labels | State::Exemplar => {
                    let exemplar = self.state == State::Exemplar;
                    match c {
                        b'"' => {
                            if self.quoted(!exemplar) {
                                return Tok::QString;
                            }
                            return Tok::Invalid;
                        }
                        b',' => {
                            self.next();
                            return Tok::Comma;
                        }
                        b'=' => {
                            self.next();
                            self.state = if exemplar { State::EValue } else { State::LValue };
                            return Tok::Equal;
                        }
                        b'}' => {
                            self.next();
                            self.state = if exemplar { State::EValue } else { State::Value };
                            return Tok::BraceClose;
                        }
                        c if is_label_start(c) => {
                            self.c.skip_label_chars();
                            return Tok::LName;
                        }
                        _ => return Tok::Invalid,
                    }
                }
                State::LValue => {
                    if c == b'"' && self.quoted(false) {
                        self.state = State::Labels;
                        return Tok::LValue;
                    }
                    return Tok::Invalid;
                }
                State::Value => match c {
                    b'{' => {
                        self.next();
                        self.state = State::Labels;
                        return Tok::BraceOpen;
                    }
                    b' ' => {
                        if self.spaced_word() {
                            self.state = State::Timestamp;
                            return Tok::Value;
                        }
                        return Tok::Invalid;
                    }
                    _ => return Tok::Invalid,
                },
                State::Timestamp => match c {
                    b'\n' => {
                        self.next();
                        self.state = State::Init;
                        return Tok::Linebreak;
                    }
                    b' ' => {
                        let b = self.c.b;
                        let i = self.c.i;
                        if b.get(i + 1..i + 4) == Some(b"# {") {
                            self.c.i = i + 4;
                            self.state = State::Exemplar;
                            return Tok::Comment;
                        }
                        // ` [^c \n][^ \n]*`; the created-timestamp form
                        // ` ct@…` is not supported and is refused.
                        match b.get(i + 1) {
                            Some(b'c') => {
                                self.c.i = i + 1;
                                return Tok::Invalid;
                            }
                            _ => {
                                if self.spaced_word() {
                                    return Tok::Timestamp;
                                }
                                return Tok::Invalid;
                            }
                        }
                    }
                    _ => return Tok::Invalid,
                },
                State::EValue => match c {
                    b'"' => {
                        if self.quoted(false) {
                            self.state = State::Exemplar;
                            return Tok::LValue;
                        }
                        return Tok::Invalid;
                    }
                    b' ' => {
                        if self.spaced_word() {
                            self.state = State::ETimestamp;
                            return Tok::Value;
                        }
                        return Tok::Invalid;
                    }
                    _ => return Tok::Invalid,
                },
                State::ETimestamp => match c {
                    b'\n' => {
                        self.next();
                        self.state = State::Init;
                        return Tok::Linebreak;
                    }
                    b' ' => {
                        if self.spaced_word() {
                            return Tok::Timestamp;
                        }
                        return Tok::Invalid;
                    }
                    _ => return Tok::Invalid,
                },
            }
        }
    }
}

const UNSET: usize = usize::MAX;

/// Parser of OpenMetrics 1.0 text.
pub(crate) struct OpenMetricsParser<'b> {
    lx: Lexer<'b>,
    start: usize,
    offsets: Vec<usize>,
    mtype: MetricType,
    done: bool,
}

enum Kind {
    Sample {
        series: (usize, usize),
        value: f64,
        timestamp: Option<i64>,
    },
    Help(usize, usize),
    Type(MetricType),
    Unit(usize, usize),
}

impl<'b> OpenMetricsParser<'b> {
    pub(crate) fn new(body: &'b [u8]) -> OpenMetricsParser<'b> {
        OpenMetricsParser {
            lx: Lexer {
                c: Cursor::new(body, false),
                state: State::Init,
            },
            start: 0,
            offsets: Vec::with_capacity(OFFSETS_CAPACITY),
            mtype: MetricType::Unknown,
            done: false,
        }
    }

    pub(crate) fn next(&mut self) -> Result<Option<Entry<'_>>, ParseError> {
        if self.done {
            return Ok(None);
        }
        match self.advance() {
            Ok(Some(kind)) => Ok(Some(self.entry(kind))),
            Ok(None) => {
                self.done = true;
                Ok(None)
            }
            Err(e) => {
                self.done = true;
                Err(e)
            }
        }
    }

    fn err(&self, exp: &str, got: Tok) -> ParseError {
        self.lx.c.parse_error(self.start, exp, got)
    }

    fn line_err(&self, message: String) -> ParseError {
        self.lx.c.line_error(self.start, message)
    }

    fn advance(&mut self) -> Result<Option<Kind>, ParseError> {
        self.start = self.lx.c.i;
        self.offsets.clear();
        let t = self.lx.lex();
        match t {
            Tok::EofWord => {
                if self.lx.lex() != Tok::Eof {
                    return Err(self.line_err("unexpected data after # EOF".to_string()));
                }
                Ok(None)
            }
            Tok::Eof => Err(self.line_err("data does not end with # EOF".to_string())),
            Tok::Help | Tok::Type | Tok::Unit => self.metadata(t).map(Some),
            Tok::BraceOpen => {
                self.offsets.extend([UNSET, UNSET]);
                self.labels(false)?;
                let series_end = self.lx.c.i;
                let t2 = self.lx.lex();
                self.end_of_line(t2, series_end).map(Some)
            }
            Tok::MName => {
                self.offsets.extend([self.start, self.lx.c.i]);
                let mut series_end = self.lx.c.i;
                let mut t2 = self.lx.lex();
                if t2 == Tok::BraceOpen {
                    self.labels(false)?;
                    series_end = self.lx.c.i;
                    t2 = self.lx.lex();
                }
                self.end_of_line(t2, series_end).map(Some)
            }
            _ => Err(self.err("expected a valid start token", t)),
        }
    }

    fn metadata(&mut self, t: Tok) -> Result<Kind, ParseError> {
        let t2 = self.lx.lex();
        if t2 != Tok::MName {
            return Err(self.err(&format!("expected metric name after {}", t.name()), t2));
        }
        let b = self.lx.c.b;
        let (mut ms, mut me) = (self.lx.c.start, self.lx.c.i);
        if b[ms] == b'"' && me - ms >= 2 && b[me - 1] == b'"' {
            ms += 1;
            me -= 1;
        }
        if self.lx.lex() != Tok::Text {
            return Err(self.line_err(format!("expected text in {}", t.name())));
        }
        // ` text\n`: without the blank and the newline.
        let (ts, te) = (self.lx.c.start + 1, self.lx.c.i - 1);
        let text = &b[ts..te];
        let name = &b[ms..me];
        if unescape_label(name).is_none() {
            return Err(self.line_err(format!("invalid UTF-8 metric name {}", go_quote(name))));
        }
        self.offsets.extend([ms, me]);
        match t {
            Tok::Type => {
                let mtype = match text {
                    b"counter" => MetricType::Counter,
                    b"gauge" => MetricType::Gauge,
                    b"histogram" => MetricType::Histogram,
                    b"gaugehistogram" => MetricType::GaugeHistogram,
                    b"summary" => MetricType::Summary,
                    b"info" => MetricType::Info,
                    b"stateset" => MetricType::StateSet,
                    b"unknown" => MetricType::Unknown,
                    _ => return Err(self.line_err(format!("invalid metric type {}", go_quote(text)))),
                };
                self.mtype = mtype;
                Ok(Kind::Type(mtype))
            }
            Tok::Help => {
                if std::str::from_utf8(text).is_err() {
                    return Err(self.line_err(format!("help text {} is not a valid utf8 string", go_quote(text))));
                }
                Ok(Kind::Help(ts, te))
            }
            _ => {
                if std::str::from_utf8(text).is_err() {
                    return Err(self.line_err(format!("unit {} is not a valid utf8 string", go_quote(text))));
                }
                // The unit must be the name's last `_`-separated part.
                let ok = text.is_empty()
                    || (name.len() > text.len() && name.ends_with(text) && name[name.len() - text.len() - 1] == b'_');
                if !ok {
                    let msg = format!("unit {} not a suffix of metric {}", go_quote(text), go_quote(name));
                    return Err(self.line_err(msg));
                }
                Ok(Kind::Unit(ts, te))
            }
        }
    }

    /// The inside of `{…}` of a series (`exemplar == false`, positions kept)
    /// or of an exemplar (checked only).
    fn labels(&mut self, exemplar: bool) -> Result<(), ParseError> {
        let mut t = self.lx.lex();
        loop {
            let (mut ts, mut ti) = (self.lx.c.start, self.lx.c.i);
            match t {
                Tok::BraceClose => return Ok(()),
                Tok::LName | Tok::QString => {}
                _ => return Err(self.err("expected label name", t)),
            }
            let b = self.lx.c.b;
            if t == Tok::QString && std::str::from_utf8(&b[ts..ti]).is_err() {
                return Err(self.line_err(format!("invalid UTF-8 label name: {}", go_quote(&b[ts..ti]))));
            }
            t = self.lx.lex();
            // A quoted string followed by `,` or `}` is the metric name; as
            // upstream, a bare name there is taken the same way.
            if t == Tok::Comma || t == Tok::BraceClose {
                if exemplar {
                    return Err(self.err("expected label name", t));
                }
                if self.offsets[0] != UNSET || self.offsets[1] != UNSET {
                    let msg = format!(
                        "metric name already set while parsing: {}",
                        go_quote(&b[self.start..self.lx.c.i])
                    );
                    return Err(self.line_err(msg));
                }
                self.offsets[0] = ts + 1;
                self.offsets[1] = (ti - 1).max(ts + 1);
                if t == Tok::BraceClose {
                    return Ok(());
                }
                t = self.lx.lex();
                continue;
            }
            if b[ts] == b'"' {
                ts += 1;
                ti -= 1;
            }
            if t != Tok::Equal {
                return Err(self.err("expected equal", t));
            }
            let t2 = self.lx.lex();
            if t2 != Tok::LValue {
                return Err(self.err("expected label value", t2));
            }
            let (vs, vi) = (self.lx.c.start, self.lx.c.i);
            if std::str::from_utf8(&b[vs..vi]).is_err() {
                return Err(self.line_err(format!("invalid UTF-8 label value: {}", go_quote(&b[vs..vi]))));
            }
            if !exemplar {
                self.offsets.extend([ts, ti, vs + 1, vi - 1]);
            }
            t = self.lx.lex();
            if t == Tok::Comma {
                t = self.lx.lex();
            } else if t != Tok::BraceClose {
                return Err(self.err("expected comma or brace close", t));
            }
        }
    }

    /// A value token's number (its text is ` <number>`).
    fn float_value(&self, t: Tok, after: &str) -> Result<f64, ParseError> {
        if t != Tok::Value {
            return Err(self.err(&format!("expected value after {after}"), t));
        }
        let b = self.lx.c.b;
        let text = &b[self.lx.c.start + 1..self.lx.c.i];
        match parse_go_float(text) {
            Ok(v) if v.is_nan() => Ok(f64::from_bits(NORMAL_NAN_BITS)),
            Ok(v) => Ok(v),
            Err(e) => Err(self.float_error(e, text)),
        }
    }

    #[cold]
    fn float_error(&self, e: super::float::FloatError, text: &[u8]) -> ParseError {
        let line = go_quote(&self.lx.c.b[self.start..self.lx.c.i]);
        self.line_err(float_error_message(e, text, &line))
    }

    /// A timestamp token (` <seconds>`) in milliseconds, truncated as Go's `int64(ts*1000)`.
    fn timestamp_ms(&self, what: &str) -> Result<i64, ParseError> {
        let b = self.lx.c.b;
        let text = &b[self.lx.c.start + 1..self.lx.c.i];
        let ts = parse_go_float(text).map_err(|e| self.float_error(e, text))?;
        if !ts.is_finite() {
            let mut shown = String::new();
            push_go_float(&mut shown, ts);
            return Err(self.line_err(format!("invalid {what} {shown}")));
        }
        Ok((ts * 1000.0) as i64)
    }

    fn end_of_line(&mut self, t: Tok, series_end: usize) -> Result<Kind, ParseError> {
        if self.offsets[0] == UNSET {
            let b = self.lx.c.b;
            let msg = format!(
                "metric name not set while parsing: {}",
                go_quote(&b[self.start..self.lx.c.i])
            );
            return Err(self.line_err(msg));
        }
        let value = self.float_value(t, "metric")?;
        let mut timestamp = None;
        match self.lx.lex() {
            Tok::Eof => return Err(self.line_err("data does not end with # EOF".to_string())),
            Tok::Linebreak => {}
            Tok::Comment => self.exemplar()?,
            Tok::Timestamp => {
                timestamp = Some(self.timestamp_ms("timestamp")?);
                match self.lx.lex() {
                    Tok::Linebreak => {}
                    Tok::Comment => self.exemplar()?,
                    t3 => return Err(self.err("expected next entry after timestamp", t3)),
                }
            }
            t2 => return Err(self.err("expected timestamp or # symbol", t2)),
        }
        Ok(Kind::Sample {
            series: (self.start, series_end),
            value,
            timestamp,
        })
    }

    /// ` # {labels} value [timestamp]`: checked as Prometheus checks it, then
    /// dropped (strata does not store exemplars).
    fn exemplar(&mut self) -> Result<(), ParseError> {
        self.labels(true)?;
        let t = self.lx.lex();
        self.float_value(t, "exemplar labels")?;
        match self.lx.lex() {
            Tok::Eof => return Err(self.line_err("data does not end with # EOF".to_string())),
            Tok::Linebreak => {}
            Tok::Timestamp => {
                self.timestamp_ms("exemplar timestamp")?;
                let t3 = self.lx.lex();
                if t3 != Tok::Linebreak {
                    return Err(self.err("expected next entry after exemplar timestamp", t3));
                }
            }
            t2 => return Err(self.err("expected timestamp or comment", t2)),
        }
        Ok(())
    }

    fn entry(&self, kind: Kind) -> Entry<'_> {
        let b = self.lx.c.b;
        match kind {
            Kind::Sample {
                series,
                value,
                timestamp,
            } => text_sample(b, series, value, timestamp, &self.offsets, self.mtype),
            Kind::Help(ts, te) => Entry::Help {
                family: family_name(b, &self.offsets),
                help: unescape_label(&b[ts..te]).unwrap_or(Cow::Borrowed("")),
            },
            Kind::Type(metric_type) => Entry::Type {
                family: family_name(b, &self.offsets),
                metric_type,
            },
            Kind::Unit(ts, te) => Entry::Unit {
                family: family_name(b, &self.offsets),
                unit: unescape_label(&b[ts..te]).unwrap_or(Cow::Borrowed("")),
            },
        }
    }
}

#[cfg(test)]
mod tests;
