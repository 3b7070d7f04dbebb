//! Series selectors as the HTTP API takes them (`match[]`, `match_target`):
//! `metric{label="value", other=~"re.*"}`, PromQL's syntax for a vector
//! selector without range, offset or `@`. Strings take Go's quoting rules
//! (double or single quotes with escapes, backquotes raw); label and metric
//! names may be quoted to carry any UTF-8.

use strata_storage::{MatchOp, Matcher};

/// Why a selector was refused; displays as `1:<col>: parse error: <what>`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("1:{col}: parse error: {msg}")]
pub struct SelectorError {
    /// 1-based column (in characters) of the problem.
    pub col: usize,
    /// What is wrong.
    pub msg: String,
}

struct P<'a> {
    s: &'a str,
    i: usize,
}

impl<'a> P<'a> {
    fn err<T>(&self, msg: impl Into<String>) -> Result<T, SelectorError> {
        Err(SelectorError {
            col: self.s[..self.i].chars().count() + 1,
            msg: msg.into(),
        })
    }

    fn peek(&self) -> Option<char> {
        self.s[self.i..].chars().next()
    }

    fn ws(&mut self) {
        while let Some(c) = self.peek() {
            if c.is_whitespace() {
                self.i += c.len_utf8();
            } else {
                break;
            }
        }
    }

    fn eat(&mut self, t: &str) -> bool {
        if self.s[self.i..].starts_with(t) {
            self.i += t.len();
            true
        } else {
            false
        }
    }

    fn ident(&mut self, metric: bool) -> Option<&'a str> {
        let start = self.i;
        for (k, c) in self.s[self.i..].char_indices() {
            let ok = c == '_' || c.is_ascii_alphabetic() || (metric && c == ':') || (k > 0 && c.is_ascii_digit());
            if !ok {
                break;
            }
            self.i = start + k + c.len_utf8();
        }
        (self.i > start).then(|| &self.s[start..self.i])
    }

    fn string(&mut self) -> Result<Option<String>, SelectorError> {
        let Some(q) = self.peek().filter(|c| matches!(c, '"' | '\'' | '`')) else {
            return Ok(None);
        };
        let start = self.i;
        self.i += 1;
        let mut out = String::new();
        loop {
            let Some(c) = self.peek() else {
                self.i = start;
                return self.err("unterminated quoted string");
            };
            self.i += c.len_utf8();
            if c == q {
                return Ok(Some(out));
            }
            if q == '`' || c != '\\' {
                if c == '\n' && q != '`' {
                    self.i = start;
                    return self.err("unterminated quoted string");
                }
                out.push(c);
                continue;
            }
            let Some(e) = self.peek() else {
                return self.err("unterminated quoted string");
            };
            self.i += e.len_utf8();
            let simple = match e {
                'a' => Some('\x07'),
                'b' => Some('\x08'),
                'f' => Some('\x0c'),
                'n' => Some('\n'),
                'r' => Some('\r'),
                't' => Some('\t'),
                'v' => Some('\x0b'),
                '\\' => Some('\\'),
                '"' if q == '"' => Some('"'),
                '\'' if q == '\'' => Some('\''),
                _ => None,
            };
            if let Some(ch) = simple {
                out.push(ch);
                continue;
            }
            let (digits, radix) = match e {
                'x' => (2, 16),
                'u' => (4, 16),
                'U' => (8, 16),
                '0'..='7' => {
                    self.i -= 1;
                    (3, 8)
                }
                _ => return self.err(format!("unknown escape sequence '\\{e}'")),
            };
            let hex = self.s.get(self.i..self.i + digits).unwrap_or("");
            let Some(code) = u32::from_str_radix(hex, radix).ok().filter(|_| hex.len() == digits) else {
                return self.err("invalid escape sequence");
            };
            self.i += digits;
            match char::from_u32(code) {
                Some(ch) => out.push(ch),
                None => return self.err("invalid Unicode code point in escape sequence"),
            }
        }
    }
}

/// Parses a selector into storage matchers (the metric name as a
/// `__name__` equality matcher first). Does not check emptiness; see
/// [`require_non_empty`].
pub fn parse(selector: &str) -> Result<Vec<Matcher>, SelectorError> {
    let mut p = P { s: selector, i: 0 };
    let mut out = Vec::new();
    p.ws();
    let name = p.ident(true).map(str::to_string);
    if let Some(n) = &name {
        out.push(Matcher::equal("__name__", n));
    }
    p.ws();
    if p.eat("{") {
        let mut quoted_name = None;
        loop {
            p.ws();
            if p.eat("}") {
                break;
            }
            let lname = match p.string()? {
                Some(s) => s,
                None => match p.ident(false) {
                    Some(s) => s.to_string(),
                    None => {
                        return match p.peek() {
                            None => p.err("unexpected end of input inside braces"),
                            Some(c) => p.err(format!("unexpected character inside braces: {c:?}")),
                        }
                    }
                },
            };
            p.ws();
            let op = if p.eat("=~") {
                MatchOp::Regex
            } else if p.eat("!~") {
                MatchOp::NotRegex
            } else if p.eat("!=") {
                MatchOp::NotEqual
            } else if p.eat("=") {
                MatchOp::Equal
            } else if matches!(p.peek(), Some(',') | Some('}')) {
                // `{"metric.name"}`: a quoted metric name on its own.
                if quoted_name.is_some() || name.is_some() {
                    return p.err("metric name must not be set twice");
                }
                quoted_name = Some(lname.clone());
                out.insert(0, Matcher::equal("__name__", &lname));
                p.ws();
                p.eat(",");
                continue;
            } else {
                return p.err("unexpected character after label name, expected label matching operator");
            };
            p.ws();
            let Some(value) = p.string()? else {
                return p.err("unexpected character after operator, expected string");
            };
            if lname == "__name__" && op == MatchOp::Equal && (name.is_some() || quoted_name.is_some()) {
                return p.err("metric name must not be set twice");
            }
            match Matcher::new(op, &lname, &value) {
                Ok(m) => out.push(m),
                Err(e) => return p.err(e.to_string()),
            }
            p.ws();
            if p.eat(",") {
                continue;
            }
            if p.eat("}") {
                break;
            }
            return match p.peek() {
                None => p.err("unexpected end of input inside braces"),
                Some(c) => p.err(format!("unexpected character inside braces: {c:?}")),
            };
        }
    } else if name.is_none() {
        return match p.peek() {
            None => p.err("unexpected end of input"),
            Some(c) => p.err(format!("unexpected character: {c:?}")),
        };
    }
    p.ws();
    if let Some(c) = p.peek() {
        return p.err(format!("unexpected character after selector: {c:?}"));
    }
    if out.is_empty() {
        p.i = 0;
        return p.err("vector selector must contain at least one non-empty matcher");
    }
    Ok(out)
}

/// Prometheus's rule for `match[]`: at least one matcher must not match the
/// empty string (else the selector would select every series).
pub fn require_non_empty(m: &[Matcher]) -> Result<(), String> {
    if m.iter().all(|m| m.matches("")) {
        return Err("match[] must contain at least one non-empty matcher".to_string());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn show(s: &str) -> Vec<String> {
        parse(s).unwrap().iter().map(|m| m.to_string()).collect()
    }

    #[test]
    fn selectors_parse_as_prometheus_writes_them() {
        assert_eq!(show("up"), vec![r#"__name__="up""#]);
        assert_eq!(
            show(r#" job:up:sum { job = "a" , instance=~'h.*', x!=`raw\n`, y!~"b\"c" , } "#),
            vec![
                r#"__name__="job:up:sum""#,
                r#"job="a""#,
                r#"instance=~"h.*""#,
                r#"x!="raw\\n""#,
                r#"y!~"b\"c""#
            ]
        );
        assert_eq!(
            show(r#"{"my.metric", "a.b"="\u00e9"}"#),
            vec![r#"__name__="my.metric""#, r#"a.b="é""#]
        );
        assert_eq!(show(r#"{__name__=~"^job:.*"}"#), vec![r#"__name__=~"^job:.*""#]);
    }

    #[test]
    fn bad_selectors_say_where() {
        for (s, col) in [
            ("up{", 4),
            (r#"up{a="b""#, 9),
            (r#"up{a="b}"#, 6),
            (r#"up{a=b}"#, 6),
            (r#"up{a~"b"}"#, 5),
            ("{}", 1),
            ("", 1),
            ("up} ", 3),
            (r#"up{__name__="x"}"#, 16),
            (r#"{a="\z"}"#, 7),
            (r#"{a=~"("}"#, 8),
        ] {
            let e = parse(s).unwrap_err();
            assert_eq!(e.col, col, "{s}: {e}");
        }
    }

    #[test]
    fn empty_matching_selectors_are_refused_for_match() {
        assert!(require_non_empty(&parse(r#"{a=~".*"}"#).unwrap()).is_err());
        assert!(require_non_empty(&parse(r#"{a=""}"#).unwrap()).is_err());
        assert!(require_non_empty(&parse(r#"{a=~".+"}"#).unwrap()).is_ok());
        assert!(require_non_empty(&parse("up").unwrap()).is_ok());
    }
}
