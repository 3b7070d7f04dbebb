//! Label matchers with Prometheus's semantics.

use std::fmt;

/// How a [`Matcher`] compares a label's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MatchOp {
    /// `=`
    Equal,
    /// `!=`
    NotEqual,
    /// `=~`
    Regex,
    /// `!~`
    NotRegex,
}

/// One `name op "value"` condition of a series selector.
///
/// A series that lacks the label is matched as if its value were the empty
/// string, so `job=""` selects series without a `job` label and `job!=""`
/// selects those that have one. Regexes are fully anchored (`^(?s:re)$`).
#[derive(Clone)]
pub struct Matcher {
    /// Label name.
    pub name: String,
    /// Operator.
    pub op: MatchOp,
    /// The literal value or regex source as written.
    pub value: String,
    re: Option<regex::Regex>,
}

/// A matcher's regex did not compile.
#[derive(Debug, Clone, thiserror::Error)]
#[error("invalid regular expression {value:?} for label {name:?}: {message}")]
pub struct MatcherError {
    /// Label name.
    pub name: String,
    /// The regex as written.
    pub value: String,
    /// What the regex compiler said.
    pub message: String,
}

impl Matcher {
    /// Builds a matcher; regexes are compiled anchored.
    pub fn new(op: MatchOp, name: &str, value: &str) -> Result<Matcher, MatcherError> {
        let re = match op {
            MatchOp::Regex | MatchOp::NotRegex => {
                Some(regex::Regex::new(&format!("^(?s:{value})$")).map_err(|e| MatcherError {
                    name: name.to_string(),
                    value: value.to_string(),
                    message: e.to_string(),
                })?)
            }
            _ => None,
        };
        Ok(Matcher {
            name: name.to_string(),
            op,
            value: value.to_string(),
            re,
        })
    }

    /// `name="value"`.
    pub fn equal(name: &str, value: &str) -> Matcher {
        Matcher::new(MatchOp::Equal, name, value).expect("equality matchers always build")
    }

    /// True when a label value (`""` when absent) satisfies the matcher.
    pub fn matches(&self, value: &str) -> bool {
        match self.op {
            MatchOp::Equal => value == self.value,
            MatchOp::NotEqual => value != self.value,
            MatchOp::Regex => self.re.as_ref().is_some_and(|r| r.is_match(value)),
            MatchOp::NotRegex => !self.re.as_ref().is_some_and(|r| r.is_match(value)),
        }
    }

    /// True when a series without this label is selected.
    pub fn matches_empty(&self) -> bool {
        self.matches("")
    }

    /// For `=~` with a plain alternation of literals (`a|b|c`), the literals;
    /// lets the index look those values up instead of scanning all values.
    pub fn set_literals(&self) -> Option<Vec<&str>> {
        if self.op != MatchOp::Regex {
            return None;
        }
        let special = |c: char| "\\.+*?()[]{}^$".contains(c);
        if self.value.chars().any(special) {
            return None;
        }
        Some(self.value.split('|').collect())
    }
}

impl fmt::Display for Matcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let op = match self.op {
            MatchOp::Equal => "=",
            MatchOp::NotEqual => "!=",
            MatchOp::Regex => "=~",
            MatchOp::NotRegex => "!~",
        };
        write!(f, "{}{}{:?}", self.name, op, self.value)
    }
}

impl fmt::Debug for Matcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// True when `labels` satisfies every matcher.
pub fn matches_all(labels: &crate::Labels, matchers: &[Matcher]) -> bool {
    matchers.iter().all(|m| m.matches(labels.get(&m.name).unwrap_or("")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Labels;

    #[test]
    fn regex_is_anchored_and_dot_matches_newline() {
        let m = Matcher::new(MatchOp::Regex, "a", "fo.").unwrap();
        assert!(m.matches("foo"));
        assert!(!m.matches("xfoo"));
        assert!(!m.matches("foox"));
        assert!(m.matches("fo\n"));
    }

    #[test]
    fn empty_value_rules() {
        let l = Labels::from_pairs(&[("job", "x")]);
        let eq_empty = Matcher::equal("env", "");
        let ne_empty = Matcher::new(MatchOp::NotEqual, "env", "").unwrap();
        let re_opt = Matcher::new(MatchOp::Regex, "env", "prod|").unwrap();
        let nre = Matcher::new(MatchOp::NotRegex, "env", ".+").unwrap();
        assert!(matches_all(&l, &[eq_empty]));
        assert!(!matches_all(&l, &[ne_empty]));
        assert!(matches_all(&l, &[re_opt]));
        assert!(matches_all(&l, &[nre]));
    }

    #[test]
    fn bad_regex_names_label_and_value() {
        let e = Matcher::new(MatchOp::Regex, "job", "(").unwrap_err();
        assert!(e.to_string().contains("\"job\""), "{e}");
    }

    #[test]
    fn literal_sets_are_recognised() {
        let m = Matcher::new(MatchOp::Regex, "a", "x|y").unwrap();
        assert_eq!(m.set_literals(), Some(vec!["x", "y"]));
        let m = Matcher::new(MatchOp::Regex, "a", "x.*").unwrap();
        assert_eq!(m.set_literals(), None);
    }
}
