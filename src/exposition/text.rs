//! What the two text parsers share: the byte cursor their lexers walk, the
//! token kinds, escape handling and Go's `%q` quoting for error messages.
//!
//! Both lexers mirror Prometheus's generated ones (`promlex.l`,
//! `openmetricslex.l`) state by state, so that what is accepted, what is
//! refused and what the error says match; the quirks they keep are marked.

use std::borrow::Cow;
use std::fmt::Write as _;

use super::error::ParseError;

/// A token of either text format. Names are the ones Prometheus prints in
/// its error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tok {
    Invalid,
    Eof,
    Linebreak,
    Whitespace,
    Help,
    Type,
    Unit,
    EofWord,
    Text,
    Comment,
    MName,
    QString,
    BraceOpen,
    BraceClose,
    LName,
    LValue,
    Comma,
    Equal,
    Timestamp,
    Value,
}

impl Tok {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Tok::Invalid => "INVALID",
            Tok::Eof => "EOF",
            Tok::Linebreak => "LINEBREAK",
            Tok::Whitespace => "WHITESPACE",
            Tok::Help => "HELP",
            Tok::Type => "TYPE",
            Tok::Unit => "UNIT",
            Tok::EofWord => "EOFWORD",
            Tok::Text => "TEXT",
            Tok::Comment => "COMMENT",
            Tok::MName => "MNAME",
            Tok::QString => "QSTRING",
            Tok::BraceOpen => "BOPEN",
            Tok::BraceClose => "BCLOSE",
            Tok::LName => "LNAME",
            Tok::LValue => "LVALUE",
            Tok::Comma => "COMMA",
            Tok::Equal => "EQUAL",
            Tok::Timestamp => "TIMESTAMP",
            Tok::Value => "VALUE",
        }
    }
}

/// Byte classes, one table lookup per byte on the hot path.
const METRIC_START: u8 = 1; // [a-zA-Z_:]
const METRIC_CHAR: u8 = 2; // [a-zA-Z0-9_:]
const LABEL_START: u8 = 4; // [a-zA-Z_]
const LABEL_CHAR: u8 = 8; // [a-zA-Z0-9_]
const PROM_VALUE_STOP: u8 = 16; // `{`, space, tab, newline, NUL

static CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        let alpha = b.is_ascii_alphabetic() || b == b'_';
        let digit = b.is_ascii_digit();
        let mut v = 0;
        if alpha || b == b':' {
            v |= METRIC_START | METRIC_CHAR;
        }
        if digit {
            v |= METRIC_CHAR | LABEL_CHAR;
        }
        if alpha {
            v |= LABEL_START | LABEL_CHAR;
        }
        if matches!(b, b'{' | b' ' | b'\t' | b'\n' | 0) {
            v |= PROM_VALUE_STOP;
        }
        t[c] = v;
        c += 1;
    }
    t
};

#[inline]
pub(crate) fn is_metric_start(c: u8) -> bool {
    CLASS[c as usize] & METRIC_START != 0
}

#[inline]
pub(crate) fn is_label_start(c: u8) -> bool {
    CLASS[c as usize] & LABEL_START != 0
}

#[inline]
pub(crate) fn is_metric_char(c: u8) -> bool {
    CLASS[c as usize] & METRIC_CHAR != 0
}

#[inline]
pub(crate) fn is_label_char(c: u8) -> bool {
    CLASS[c as usize] & LABEL_CHAR != 0
}

#[inline]
pub(crate) fn is_prom_value_stop(c: u8) -> bool {
    CLASS[c as usize] & PROM_VALUE_STOP != 0
}

/// A lexer's position in a body. Reading past the end gives 0, as Go's
/// generated lexers see it. The Prometheus text parser reads the body as if a
/// `\n` followed it (upstream appends one); `virtual_newline` gives that
/// without copying the body.
pub(crate) struct Cursor<'b> {
    pub(crate) b: &'b [u8],
    /// Current position (Go's `l.i`).
    pub(crate) i: usize,
    /// Start of the current token (Go's `l.start`).
    pub(crate) start: usize,
    /// Length including the virtual newline.
    pub(crate) vlen: usize,
}

impl<'b> Cursor<'b> {
    pub(crate) fn new(b: &'b [u8], virtual_newline: bool) -> Cursor<'b> {
        Cursor {
            b,
            i: 0,
            start: 0,
            vlen: b.len() + usize::from(virtual_newline),
        }
    }

    /// The byte at `i`: the virtual newline at `b.len()` if there is one, 0 past the end.
    #[inline]
    pub(crate) fn at(&self, i: usize) -> u8 {
        match self.b.get(i) {
            Some(&c) => c,
            None if i < self.vlen => b'\n',
            None => 0,
        }
    }

    /// Go's `l.next()`: advance one byte; in states where NULs are allowed
    /// (label values, help text, comments) skip any run of them.
    #[inline]
    pub(crate) fn next(&mut self, skip_nul: bool) -> u8 {
        self.i += 1;
        if self.i >= self.vlen {
            return 0;
        }
        let c = self.at(self.i);
        if c == 0 && skip_nul {
            while self.i < self.vlen && self.at(self.i) == 0 {
                self.i += 1;
            }
            return self.at(self.i);
        }
        c
    }

    /// Advances over `[a-zA-Z0-9_:]*` (or `[a-zA-Z0-9_]*`) after a first byte
    /// already matched.
    #[inline]
    pub(crate) fn skip_class(&mut self, class: u8) {
        let mut i = self.i + 1;
        while i < self.b.len() && CLASS[self.b[i] as usize] & class != 0 {
            i += 1;
        }
        self.i = i;
    }

    #[inline]
    pub(crate) fn skip_metric_chars(&mut self) {
        self.skip_class(METRIC_CHAR)
    }

    #[inline]
    pub(crate) fn skip_label_chars(&mut self) {
        self.skip_class(LABEL_CHAR)
    }

    /// The bytes `a..e` as the upstream lexer sees them (virtual newline included).
    pub(crate) fn slice(&self, a: usize, e: usize) -> Cow<'b, [u8]> {
        let e = e.min(self.vlen);
        let a = a.min(e);
        if e <= self.b.len() {
            Cow::Borrowed(&self.b[a..e])
        } else {
            let mut v = self.b[a.min(self.b.len())..].to_vec();
            v.push(b'\n');
            Cow::Owned(v)
        }
    }

    /// The current token's bytes (Go's `l.buf()`).
    pub(crate) fn buf(&self) -> Cow<'b, [u8]> {
        self.slice(self.start, self.i)
    }

    /// Prometheus's `parseError`: `<exp>, got "<token>" ("<KIND>") while parsing: "<line so far>"`.
    #[cold]
    pub(crate) fn parse_error(&self, line_start: usize, exp: &str, got: Tok) -> ParseError {
        let e = (self.i + 1).min(self.vlen);
        let message = format!(
            "{exp}, got {} ({}) while parsing: {}",
            go_quote(&self.slice(self.start, e)),
            go_quote(got.name().as_bytes()),
            go_quote(&self.slice(line_start, e)),
        );
        ParseError::at_byte_of_text(self.b, self.start, message)
    }

    /// An error about the line that started at `line_start`.
    #[cold]
    pub(crate) fn line_error(&self, line_start: usize, message: String) -> ParseError {
        ParseError::at_byte_of_text(self.b, line_start, message)
    }
}

#[inline]
pub(crate) fn is_ws(c: u8) -> bool {
    c == b' ' || c == b'\t'
}

/// Go's `%q` of a byte string: double-quoted, with Go's escapes, invalid
/// UTF-8 bytes as `\xNN`.
pub(crate) fn go_quote(b: &[u8]) -> String {
    let mut out = String::with_capacity(b.len() + 2);
    out.push('"');
    for chunk in b.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\u{7}' => out.push_str("\\a"),
                '\u{8}' => out.push_str("\\b"),
                '\u{c}' => out.push_str("\\f"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                '\u{b}' => out.push_str("\\v"),
                ' ' => out.push(' '),
                c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                    let _ = write!(out, "\\x{:02x}", c as u32);
                }
                c if c.is_control() || c.is_whitespace() => {
                    if (c as u32) < 0x10000 {
                        let _ = write!(out, "\\u{:04x}", c as u32);
                    } else {
                        let _ = write!(out, "\\U{:08x}", c as u32);
                    }
                }
                c => out.push(c),
            }
        }
        for &byte in chunk.invalid() {
            let _ = write!(out, "\\x{byte:02x}");
        }
    }
    out.push('"');
    out
}

/// Appends `raw` with label-value escapes resolved the way Prometheus's
/// replacer does: `\"`, `\\` and `\n`; any other backslash stays as written.
/// `raw` was checked to be UTF-8 by the parser.
pub(crate) fn push_unescaped_label(out: &mut String, raw: &[u8]) {
    push_unescaped(out, raw, true)
}

fn push_unescaped(out: &mut String, raw: &[u8], quote: bool) {
    let Ok(s) = std::str::from_utf8(raw) else {
        out.push_str(&String::from_utf8_lossy(raw));
        return;
    };
    let mut rest = s;
    while let Some(k) = rest.find('\\') {
        out.push_str(&rest[..k]);
        let after = &rest[k + 1..];
        match after.as_bytes().first() {
            Some(b'\\') => out.push('\\'),
            Some(b'n') => out.push('\n'),
            Some(b'"') if quote => out.push('"'),
            _ => {
                out.push('\\');
                rest = after;
                continue;
            }
        }
        rest = &after[1..];
    }
    out.push_str(rest);
}

/// A label-escaped string as UTF-8, unescaped only if it has a backslash.
/// `None` if it is not UTF-8.
pub(crate) fn unescape_label(raw: &[u8]) -> Option<Cow<'_, str>> {
    unescape(raw, true)
}

/// Prometheus text `# HELP` unescaping: only `\\` and `\n`.
pub(crate) fn unescape_help(raw: &[u8]) -> Option<Cow<'_, str>> {
    unescape(raw, false)
}

fn unescape(raw: &[u8], quote: bool) -> Option<Cow<'_, str>> {
    let s = std::str::from_utf8(raw).ok()?;
    if !s.contains('\\') {
        return Some(Cow::Borrowed(s));
    }
    let mut out = String::with_capacity(s.len());
    push_unescaped(&mut out, raw, quote);
    Some(Cow::Owned(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_quote_escapes_as_go_does() {
        assert_eq!(go_quote(b"a{b='"), r#""a{b='""#);
        assert_eq!(go_quote(b"\"\n"), r#""\"\n""#);
        assert_eq!(go_quote(b"a\x00"), r#""a\x00""#);
        assert_eq!(go_quote(b"\xff"), r#""\xff""#);
        assert_eq!(go_quote("ö€".as_bytes()), "\"ö€\"");
        assert_eq!(go_quote(b"\\"), r#""\\""#);
    }

    #[test]
    fn escapes_resolve_like_prometheus_replacers() {
        let label = |s: &str| unescape_label(s.as_bytes()).map(|c| c.into_owned());
        assert_eq!(label(r#"\"bar\""#).as_deref(), Some("\"bar\""));
        assert_eq!(label(r"a\\b\nc\x").as_deref(), Some("a\\b\nc\\x"));
        assert_eq!(label(r"\\n").as_deref(), Some("\\n"));
        assert_eq!(label("trailing\\").as_deref(), Some("trailing\\"));
        assert!(matches!(unescape_label(b"plain"), Some(Cow::Borrowed("plain"))));
        let help = |s: &str| unescape_help(s.as_bytes()).map(|c| c.into_owned());
        assert_eq!(
            help(r#"escape \ \n \\ \" \x"#).as_deref(),
            Some("escape \\ \n \\ \\\" \\x")
        );
        assert_eq!(unescape_label(b"\xff"), None);
    }
}
