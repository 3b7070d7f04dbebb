//! Why a body could not be parsed, and where.

use std::fmt;

/// Where in a body a parse error was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    /// A 1-based line of a text body.
    Line(usize),
    /// A byte offset into a protobuf body: the start of the length-delimited
    /// `MetricFamily` message that is broken.
    Byte(usize),
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Line(n) => write!(f, "line {n}"),
            Location::Byte(n) => write!(f, "byte {n}"),
        }
    }
}

/// A body that does not parse. The message is Prometheus's wording for the
/// same input where there is one (`expected label value, got "'" ("INVALID")
/// while parsing: "a{b='"`), so operators can compare with a real Prometheus.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{location}: {message}")]
pub struct ParseError {
    /// Where the problem is.
    pub location: Location,
    /// What the problem is.
    pub message: String,
}

impl ParseError {
    /// An error at byte `pos` of a text body, located by its line.
    pub(crate) fn at_byte_of_text(body: &[u8], pos: usize, message: String) -> ParseError {
        let pos = pos.min(body.len());
        let line = memchr::memchr_iter(b'\n', &body[..pos]).count() + 1;
        ParseError {
            location: Location::Line(line),
            message,
        }
    }
}
