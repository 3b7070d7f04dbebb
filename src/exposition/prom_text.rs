//! The Prometheus text format 0.0.4, as Prometheus's `promparse.go` reads it
//! (spec §4.1): liberal whitespace, trailing and even missing commas, quoted
//! names, raw bytes in label values, digits-only millisecond timestamps.

use std::borrow::Cow;

use super::error::ParseError;
use super::float::{parse_go_float, FloatError};
use super::labels::{LabelSource, Normalize};
use super::text::{
    is_label_char, is_label_start, is_metric_char, is_metric_start, is_prom_value_stop, is_ws, unescape_help,
    unescape_label, Cursor, Tok,
};
use super::{Entry, MetricType, Sample, NORMAL_NAN_BITS};

/// Lexer states of `promlex.l`.
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
}

struct Lexer<'b> {
    c: Cursor<'b>,
    state: State,
}

impl<'b> Lexer<'b> {
    /// NULs are skipped (taken as part of the token) inside label values,
    /// help text and comments, as upstream's lexer does.
    #[inline]
    fn next(&mut self) -> u8 {
        let skip = matches!(self.state, State::LValue | State::Meta2 | State::Comment);
        self.c.next(skip)
    }

    fn whitespace(&mut self) -> Tok {
        while is_ws(self.next()) {}
        Tok::Whitespace
    }

    /// No rule matched: a comment line swallows the rest of the line,
    /// anything else is an invalid token ending at the offending byte.
    fn abort(&mut self) -> Tok {
        if self.state == State::Comment {
            return self.consume_comment();
        }
        Tok::Invalid
    }

    fn consume_comment(&mut self) -> Tok {
        let mut c = self.c.at(self.c.i);
        loop {
            match c {
                // Quirk kept: a NUL right after `#` (outside the comment
                // state) ends the body as upstream's lexer does.
                0 => return Tok::Eof,
                b'\n' => {
                    self.state = State::Init;
                    return Tok::Comment;
                }
                _ => c = self.next(),
            }
        }
    }

    /// `"(\\.|[^\\"])*"` at the current `"`; raw newlines allowed, an escaped
    /// newline or the end of input is not. Returns whether it closed.
    fn quoted(&mut self) -> bool {
        if self.state == State::LValue {
            return self.quoted_value();
        }
        loop {
            match self.next() {
                b'"' => {
                    self.next();
                    return true;
                }
                b'\\' => {
                    let c = self.next();
                    if c == 0 || c == b'\n' {
                        return false;
                    }
                }
                0 => return false,
                _ => {}
            }
        }
    }

    /// The hot case of [`Lexer::quoted`]: a label value, scanned with memchr.
    /// NULs inside are part of the value (and skipped after the closing quote,
    /// as upstream's `next` does).
    #[inline]
    fn quoted_value(&mut self) -> bool {
        let b = self.c.b;
        let mut i = self.c.i + 1;
        loop {
            match memchr::memchr2(b'"', b'\\', b.get(i..).unwrap_or_default()) {
                None => {
                    self.c.i = self.c.vlen;
                    return false;
                }
                Some(k) if b[i + k] == b'"' => {
                    self.c.i = i + k;
                    self.next();
                    return true;
                }
                Some(k) => {
                    self.c.i = i + k;
                    let c = self.next();
                    if c == 0 || c == b'\n' {
                        return false;
                    }
                    i = self.c.i + 1;
                }
            }
        }
    }

    fn lex(&mut self) -> Tok {
        if self.c.i >= self.c.vlen {
            return Tok::Eof;
        }
        self.c.start = self.c.i;
        let mut c = self.c.at(self.c.i);
        loop {
            match self.state {
                State::Init => match c {
                    b'#' => {
                        c = self.next();
                        if is_ws(c) {
                            while is_ws(c) {
                                c = self.next();
                            }
                            self.state = State::Comment;
                            continue;
                        }
                        return self.consume_comment();
                    }
                    b'\n' => {
                        self.next();
                        return Tok::Linebreak;
                    }
                    b' ' | b'\t' => return self.whitespace(),
                    0 => {
                        self.next();
                        return Tok::Eof;
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
                    _ => return self.abort(),
                },
                State::Comment => {
                    let (word, tok): (&[u8], Tok) = match c {
                        b'H' => (b"ELP", Tok::Help),
                        b'T' => (b"YPE", Tok::Type),
                        b' ' | b'\t' => return self.whitespace(),
                        _ => return self.abort(),
                    };
                    for &w in word {
                        if self.next() != w {
                            return self.abort();
                        }
                    }
                    let mut c = self.next();
                    if !is_ws(c) {
                        return self.abort();
                    }
                    while is_ws(c) {
                        c = self.next();
                    }
                    self.state = State::Meta1;
                    return tok;
                }
                State::Meta1 => match c {
                    b'"' => {
                        if self.quoted() {
                            self.state = State::Meta2;
                            return Tok::MName;
                        }
                        return self.abort();
                    }
                    b' ' | b'\t' => return self.whitespace(),
                    c if is_metric_start(c) => {
                        self.c.skip_metric_chars();
                        self.state = State::Meta2;
                        return Tok::MName;
                    }
                    _ => return self.abort(),
                },
                State::Meta2 => {
                    // `[ \t]+` and `[^\n]*` compete: blanks up to the line end
                    // are whitespace, anything longer is text.
                    if is_ws(c) {
                        while is_ws(c) {
                            c = self.next();
                        }
                        if c == b'\n' || c == 0 {
                            return Tok::Whitespace;
                        }
                    }
                    while c != b'\n' && c != 0 {
                        c = self.next();
                    }
                    self.state = State::Init;
                    return Tok::Text;
                }
                State::Labels => match c {
                    b'"' => {
                        if self.quoted() {
                            return Tok::QString;
                        }
                        return self.abort();
                    }
                    b',' => {
                        self.next();
                        return Tok::Comma;
                    }
                    b'=' => {
                        self.next();
                        self.state = State::LValue;
                        return Tok::Equal;
                    }
                    b' ' | b'\t' => return self.whitespace(),
                    b'}' => {
                        self.next();
                        self.state = State::Value;
                        return Tok::BraceClose;
                    }
                    c if is_label_start(c) => {
                        self.c.skip_label_chars();
                        return Tok::LName;
                    }
                    _ => return self.abort(),
                },
                State::LValue => match c {
                    b'"' => {
                        if self.quoted() {
                            self.state = State::Labels;
                            return Tok::LValue;
                        }
                        return self.abort();
                    }
                    b' ' | b'\t' => return self.whitespace(),
                    _ => return self.abort(),
                },
                State::Value => match c {
                    b' ' | b'\t' => return self.whitespace(),
                    b'{' => {
                        self.next();
                        self.state = State::Labels;
                        return Tok::BraceOpen;
                    }
                    c if !is_prom_value_stop(c) => {
                        let b = self.c.b;
                        let mut i = self.c.i + 1;
                        while i < b.len() && !is_prom_value_stop(b[i]) {
                            i += 1;
                        }
                        self.c.i = i;
                        self.state = State::Timestamp;
                        return Tok::Value;
                    }
                    _ => return self.abort(),
                },
                State::Timestamp => match c {
                    b'\n' => {
                        self.next();
                        self.state = State::Init;
                        return Tok::Linebreak;
                    }
                    b' ' | b'\t' => return self.whitespace(),
                    c if c.is_ascii_digit() => {
                        let b = self.c.b;
                        let mut i = self.c.i + 1;
                        while i < b.len() && b[i].is_ascii_digit() {
                            i += 1;
                        }
                        self.c.i = i;
                        return Tok::Timestamp;
                    }
                    _ => return self.abort(),
                },
            }
        }
    }

    /// The next token that is not whitespace.
    #[inline]
    fn token(&mut self) -> Tok {
        loop {
            let t = self.lex();
            if t != Tok::Whitespace {
                return t;
            }
        }
    }
}

const UNSET: usize = usize::MAX;

/// Room for the name and 31 labels, so that a scrape's walk does not grow
/// the offsets (checked in tests/exposition_alloc.rs).
pub(crate) const OFFSETS_CAPACITY: usize = 2 + 4 * 31;

/// Parser of the Prometheus text format.
pub(crate) struct PromTextParser<'b> {
    lx: Lexer<'b>,
    /// Start of the current line (Go's `p.start`).
    start: usize,
    /// Metric name start/end, then label name start/end, value start/end.
    offsets: Vec<usize>,
    /// The type of the last `# TYPE` line: it applies to every later series,
    /// of whatever family, until the next one (upstream's behaviour).
    mtype: MetricType,
    done: bool,
    /// Whether [`PromTextParser::plain_line`] is tried (off only in tests
    /// that compare it with the lexer).
    fast: bool,
}

impl<'b> PromTextParser<'b> {
    pub(crate) fn new(body: &'b [u8]) -> PromTextParser<'b> {
        PromTextParser {
            lx: Lexer {
                c: Cursor::new(body, true),
                state: State::Init,
            },
            start: 0,
            offsets: Vec::with_capacity(OFFSETS_CAPACITY),
            mtype: MetricType::Unknown,
            done: false,
            fast: true,
        }
    }

    /// A parser that reads every line with the lexer, for comparisons.
    #[cfg(test)]
    pub(crate) fn lexer_only(body: &'b [u8]) -> PromTextParser<'b> {
        PromTextParser {
            fast: false,
            ..PromTextParser::new(body)
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

    fn err(&mut self, exp: &str, got: Tok) -> ParseError {
        self.lx.c.parse_error(self.start, exp, got)
    }

    /// Walks to the next entry; the entry is then built from the parser's
    /// state by [`PromTextParser::entry`].
    fn advance(&mut self) -> Result<Option<Kind>, ParseError> {
        loop {
            self.start = self.lx.c.i;
            self.offsets.clear();
            if self.fast && self.lx.state == State::Init {
                if let Some(kind) = self.plain_line() {
                    return Ok(Some(kind));
                }
                self.offsets.clear();
            }
            let t = self.lx.token();
            match t {
                Tok::Eof => return Ok(None),
                Tok::Linebreak => continue,
                Tok::Help | Tok::Type => return self.metadata(t).map(Some),
                Tok::Comment => {
                    let t2 = self.lx.token();
                    if t2 != Tok::Linebreak {
                        return Err(self.err("linebreak expected after comment", t2));
                    }
                }
                Tok::BraceOpen => {
                    self.offsets.extend([UNSET, UNSET]);
                    self.labels()?;
                    let series_end = self.lx.c.i;
                    let t2 = self.lx.token();
                    return self.sample_suffix(t2, series_end).map(Some);
                }
                Tok::MName => {
                    self.offsets.extend([self.lx.c.start, self.lx.c.i]);
                    let mut series_end = self.lx.c.i;
                    let mut t2 = self.lx.token();
                    if t2 == Tok::BraceOpen {
                        self.labels()?;
                        series_end = self.lx.c.i;
                        t2 = self.lx.token();
                    }
                    return self.sample_suffix(t2, series_end).map(Some);
                }
                _ => return Err(self.err("expected a valid start token", t)),
            }
        }
    }

    /// The hot path: a sample line in the shape exporters write,
    /// `name{a="b",c="d"} value [timestamp]\n` with single spaces, no
    /// escapes and a real newline, read with tight loops. Anything else
    /// (comments, quoted names, extra blanks, escapes, errors) returns `None`
    /// with the position unchanged, and the lexer reads the line as upstream
    /// does; both give the same entry for the lines this accepts.
    #[inline]
    fn plain_line(&mut self) -> Option<Kind> {
        let b = self.lx.c.b;
        let start = self.lx.c.i;
        let at = |i: usize| b.get(i).copied().unwrap_or(0);
        if at(start) == b'#' {
            return self.plain_metadata();
        }
        if !is_metric_start(at(start)) {
            return None;
        }
        let mut i = start + 1;
        while is_metric_char(at(i)) {
            i += 1;
        }
        self.offsets.extend([start, i]);
        if at(i) == b'{' {
            i += 1;
            loop {
                match at(i) {
                    b'}' => {
                        i += 1;
                        break;
                    }
                    c if is_label_start(c) => {}
                    _ => return None,
                }
                let ns = i;
                i += 1;
                while is_label_char(at(i)) {
                    i += 1;
                }
                let ne = i;
                if at(i) != b'=' || at(i + 1) != b'"' {
                    return None;
                }
                let vs = i + 2;
                let k = memchr::memchr3(b'"', b'\\', b'\n', b.get(vs..)?)?;
                let ve = vs + k;
                if b[ve] != b'"' {
                    return None;
                }
                let v = &b[vs..ve];
                if !v.is_ascii() && (std::str::from_utf8(v).is_err() || v.contains(&0)) {
                    return None;
                }
                if v.is_ascii() && v.contains(&0) {
                    return None;
                }
                self.offsets.extend([ns, ne, vs, ve]);
                i = ve + 1;
                if at(i) == b',' {
                    i += 1;
                }
            }
        }
        let series_end = i;
        if at(i) != b' ' {
            return None;
        }
        i += 1;
        let vs = i;
        while !is_prom_value_stop(at(i)) {
            i += 1;
        }
        if i == vs || i >= b.len() {
            return None;
        }
        let value = match parse_go_float(&b[vs..i]) {
            Ok(v) if v.is_nan() => f64::from_bits(NORMAL_NAN_BITS),
            Ok(v) => v,
            Err(_) => return None,
        };
        let mut timestamp = None;
        match b[i] {
            b'\n' => {}
            b' ' => {
                let ts = i + 1;
                i = ts;
                while at(i).is_ascii_digit() {
                    i += 1;
                }
                if i == ts || at(i) != b'\n' {
                    return None;
                }
                timestamp = Some(parse_i64_digits(&b[ts..i])?);
            }
            _ => return None,
        }
        self.lx.c.i = i + 1;
        self.lx.c.start = i;
        Some(Kind::Sample {
            series: (start, series_end),
            value,
            timestamp,
        })
    }

    /// The hot path for `# HELP name text\n` and `# TYPE name type\n` as
    /// exporters write them; `None` (position unchanged) for anything else.
    #[inline]
    fn plain_metadata(&mut self) -> Option<Kind> {
        let b = self.lx.c.b;
        let start = self.lx.c.i;
        let rest = b.get(start..)?;
        let help = rest.starts_with(b"# HELP ");
        if !help && !rest.starts_with(b"# TYPE ") {
            return None;
        }
        let at = |i: usize| b.get(i).copied().unwrap_or(0);
        let ms = start + 7;
        if !is_metric_start(at(ms)) {
            return None;
        }
        let mut i = ms + 1;
        while is_metric_char(at(i)) {
            i += 1;
        }
        let me = i;
        if at(i) != b' ' {
            return None;
        }
        let ts = i + 1;
        let te = ts + memchr::memchr(b'\n', b.get(ts..)?)?;
        let text = &b[ts..te];
        if text.is_empty() || text[0] == b' ' || text[0] == b'\t' || text.contains(&0) {
            return None;
        }
        let kind = if help {
            if !text.is_ascii() && std::str::from_utf8(text).is_err() {
                return None;
            }
            Kind::Help(ts, te)
        } else {
            let mtype = match text {
                b"counter" => MetricType::Counter,
                b"gauge" => MetricType::Gauge,
                b"histogram" => MetricType::Histogram,
                b"summary" => MetricType::Summary,
                b"untyped" => MetricType::Unknown,
                _ => return None,
            };
            self.mtype = mtype;
            Kind::Type(mtype)
        };
        self.offsets.extend([ms, me]);
        self.lx.c.i = te + 1;
        self.lx.c.start = te;
        Some(kind)
    }

    fn metadata(&mut self, t: Tok) -> Result<Kind, ParseError> {
        let t2 = self.lx.token();
        if t2 != Tok::MName {
            return Err(self.err(&format!("expected metric name after {}", t.name()), t2));
        }
        let (mut ms, mut me) = (self.lx.c.start, self.lx.c.i);
        let b = self.lx.c.b;
        if b[ms] == b'"' && me - ms >= 2 && b[me - 1] == b'"' {
            ms += 1;
            me -= 1;
        }
        let t2 = self.lx.token();
        if t2 != Tok::Text {
            return Err(self
                .lx
                .c
                .line_error(self.start, format!("expected text in {}, got {}", t.name(), t2.name())));
        }
        // The single separating blank is dropped, any further ones are text.
        let (ts, te) = (self.lx.c.start, self.lx.c.i.min(b.len()));
        let (ts, te) = if te > ts + 1 { (ts + 1, te) } else { (te, te) };
        let text = &b[ts..te];
        let kind = if t == Tok::Type {
            let mtype = match text {
                b"counter" => MetricType::Counter,
                b"gauge" => MetricType::Gauge,
                b"histogram" => MetricType::Histogram,
                b"summary" => MetricType::Summary,
                b"untyped" => MetricType::Unknown,
                _ => {
                    let msg = format!("invalid metric type {}", super::text::go_quote(text));
                    return Err(self.lx.c.line_error(self.start, msg));
                }
            };
            self.mtype = mtype;
            Kind::Type(mtype)
        } else {
            if std::str::from_utf8(text).is_err() {
                let msg = format!("help text {} is not a valid utf8 string", super::text::go_quote(text));
                return Err(self.lx.c.line_error(self.start, msg));
            }
            Kind::Help(ts, te)
        };
        if unescape_label(&b[ms..me]).is_none() {
            let msg = format!("invalid UTF-8 metric name {}", super::text::go_quote(&b[ms..me]));
            return Err(self.lx.c.line_error(self.start, msg));
        }
        self.offsets.extend([ms, me]);
        let t3 = self.lx.token();
        if t3 != Tok::Linebreak {
            return Err(self.err("linebreak expected after metadata", t3));
        }
        Ok(kind)
    }

    /// The inside of `{…}`, after the opening brace.
    fn labels(&mut self) -> Result<(), ParseError> {
        let mut t = self.lx.token();
        loop {
            let (mut ts, mut ti) = (self.lx.c.start, self.lx.c.i);
            let quoted = match t {
                Tok::BraceClose => return Ok(()),
                Tok::LName => false,
                Tok::QString => true,
                _ => return Err(self.err("expected label name", t)),
            };
            t = self.lx.token();
            let b = self.lx.c.b;
            if quoted {
                if std::str::from_utf8(&b[ts..ti.min(b.len())]).is_err() {
                    let msg = format!(
                        "invalid UTF-8 label name: {}",
                        super::text::go_quote(&self.lx.c.slice(ts, ti))
                    );
                    return Err(self.lx.c.line_error(self.start, msg));
                }
                // A quoted string followed by `,` or `}` is the metric name.
                if t == Tok::Comma || t == Tok::BraceClose {
                    if self.offsets[0] != UNSET || self.offsets[1] != UNSET {
                        let msg = format!(
                            "metric name already set while parsing: {}",
                            super::text::go_quote(&self.lx.c.slice(self.start, self.lx.c.i))
                        );
                        return Err(self.lx.c.line_error(self.start, msg));
                    }
                    self.offsets[0] = ts + 1;
                    self.offsets[1] = ti - 1;
                    if t == Tok::BraceClose {
                        return Ok(());
                    }
                    t = self.lx.token();
                    continue;
                }
                ts += 1;
                ti -= 1;
            }
            if t != Tok::Equal {
                return Err(self.err("expected equal", t));
            }
            let t2 = self.lx.token();
            if t2 != Tok::LValue {
                return Err(self.err("expected label value", t2));
            }
            let (vs, vi) = (self.lx.c.start, self.lx.c.i);
            if std::str::from_utf8(&b[vs..vi.min(b.len())]).is_err() {
                let msg = format!("invalid UTF-8 label value: {}", super::text::go_quote(&self.lx.c.buf()));
                return Err(self.lx.c.line_error(self.start, msg));
            }
            self.offsets.extend([ts, ti, vs + 1, vi - 1]);
            // A trailing comma is allowed, and so (by accident upstream, kept
            // on purpose here) is a missing one between pairs.
            t = self.lx.token();
            if t == Tok::Comma {
                t = self.lx.token();
            }
        }
    }

    /// Value and optional timestamp after the series.
    fn sample_suffix(&mut self, t: Tok, series_end: usize) -> Result<Kind, ParseError> {
        if self.offsets[0] == UNSET {
            let msg = format!(
                "metric name not set while parsing: {}",
                super::text::go_quote(&self.lx.c.slice(self.start, self.lx.c.i))
            );
            return Err(self.lx.c.line_error(self.start, msg));
        }
        if t != Tok::Value {
            return Err(self.err("expected value after metric", t));
        }
        let b = self.lx.c.b;
        let text = &b[self.lx.c.start..self.lx.c.i.min(b.len())];
        let value = match parse_go_float(text) {
            Ok(v) if v.is_nan() => f64::from_bits(NORMAL_NAN_BITS),
            Ok(v) => v,
            Err(e) => return Err(self.float_error(e, text)),
        };
        let mut timestamp = None;
        match self.lx.token() {
            Tok::Linebreak => {}
            Tok::Timestamp => {
                let digits = &b[self.lx.c.start..self.lx.c.i.min(b.len())];
                match parse_i64_digits(digits) {
                    Some(ts) => timestamp = Some(ts),
                    None => {
                        let msg = format!(
                            "strconv.ParseInt: parsing {}: value out of range while parsing: {}",
                            super::text::go_quote(digits),
                            super::text::go_quote(&self.lx.c.slice(self.start, self.lx.c.i))
                        );
                        return Err(self.lx.c.line_error(self.start, msg));
                    }
                }
                let t2 = self.lx.token();
                if t2 != Tok::Linebreak {
                    return Err(self.err("expected next entry after timestamp", t2));
                }
            }
            t2 => return Err(self.err("expected timestamp or new record", t2)),
        }
        Ok(Kind::Sample {
            series: (self.start, series_end),
            value,
            timestamp,
        })
    }

    #[cold]
    fn float_error(&self, e: FloatError, text: &[u8]) -> ParseError {
        let line = super::text::go_quote(&self.lx.c.slice(self.start, self.lx.c.i));
        let msg = float_error_message(e, text, &line);
        self.lx.c.line_error(self.start, msg)
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
                help: unescape_help(&b[ts..te]).unwrap_or(Cow::Borrowed("")),
            },
            Kind::Type(metric_type) => Entry::Type {
                family: family_name(b, &self.offsets),
                metric_type,
            },
        }
    }
}

/// What [`PromTextParser::advance`] found.
enum Kind {
    Sample {
        series: (usize, usize),
        value: f64,
        timestamp: Option<i64>,
    },
    Help(usize, usize),
    Type(MetricType),
}

/// A sample entry of the text formats: the series and label offsets point into `b`.
pub(crate) fn text_sample<'p>(
    b: &'p [u8],
    series: (usize, usize),
    value: f64,
    timestamp: Option<i64>,
    offsets: &'p [usize],
    mtype: MetricType,
) -> Entry<'p> {
    Entry::Sample(Sample {
        series: &b[series.0..series.1],
        value,
        timestamp,
        labels: LabelSource::Text {
            body: b,
            offsets,
            normalize: normalize_for(mtype),
        },
    })
}

pub(crate) fn normalize_for(mtype: MetricType) -> Normalize {
    match mtype {
        MetricType::Histogram => Normalize::Le,
        MetricType::Summary => Normalize::Quantile,
        _ => Normalize::None,
    }
}

/// A metadata line's family name (offsets 0..2), unescaped; checked as UTF-8 when parsed.
pub(crate) fn family_name<'b>(b: &'b [u8], offsets: &[usize]) -> Cow<'b, str> {
    unescape_label(&b[offsets[0]..offsets[1]]).unwrap_or(Cow::Borrowed(""))
}

/// Go's error text for a value that `strconv.ParseFloat` (or Prometheus's
/// pre-check) refuses; `line` is the quoted line so far.
pub(crate) fn float_error_message(e: FloatError, text: &[u8], line: &str) -> String {
    let q = super::text::go_quote(text);
    match e {
        FloatError::Unsupported => format!("unsupported character in float while parsing: {line}"),
        FloatError::Syntax => format!("strconv.ParseFloat: parsing {q}: invalid syntax while parsing: {line}"),
        FloatError::Range => format!("strconv.ParseFloat: parsing {q}: value out of range while parsing: {line}"),
    }
}

/// Decimal digits to i64; `None` on overflow (the lexer admits digits only).
#[inline]
fn parse_i64_digits(d: &[u8]) -> Option<i64> {
    let mut v: i64 = 0;
    for &c in d {
        v = v.checked_mul(10)?.checked_add(i64::from(c - b'0'))?;
    }
    Some(v)
}

#[cfg(test)]
mod tests;
