//! Decoding a sample's labels on a scrape-cache miss, into a buffer that is
//! reused from sample to sample.

use super::float::{parse_go_float, push_openmetrics_float};
use super::text::push_unescaped_label;

/// Decoded labels of one sample: pairs of `(name, value)` in one reusable
/// string, so that decoding allocates nothing once the buffer has grown.
/// Order is as written, `__name__` first, unless [`LabelBuf::sort_by_name`]
/// was called.
#[derive(Debug, Default, Clone)]
pub struct LabelBuf {
    text: String,
    /// Per pair: start of the name, start of the value (= end of the name),
    /// end of the value; offsets into `text`.
    pairs: Vec<[u32; 3]>,
}

impl LabelBuf {
    /// Empties the buffer, keeping its memory.
    pub fn clear(&mut self) {
        self.text.clear();
        self.pairs.clear();
    }

    /// Number of pairs.
    pub fn len(&self) -> usize {
        self.pairs.len()
    }

    /// Whether there are no pairs.
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// The pairs as `(name, value)`.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, &str)> + '_ {
        self.pairs.iter().map(|p| self.pair(p))
    }

    /// The value of the first pair named `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.iter().find(|(n, _)| *n == name).map(|(_, v)| v)
    }

    /// Sorts the pairs by name (unstable, without allocating).
    pub fn sort_by_name(&mut self) {
        let text = &self.text;
        self.pairs
            .sort_unstable_by(|a, b| text[a[0] as usize..a[1] as usize].cmp(&text[b[0] as usize..b[1] as usize]));
    }

    fn pair(&self, p: &[u32; 3]) -> (&str, &str) {
        let [a, b, c] = p.map(|x| x as usize);
        (&self.text[a..b], &self.text[b..c])
    }

    /// Appends a pair whose name and value are written by the two closures.
    pub(crate) fn push_with(&mut self, name: impl FnOnce(&mut String), value: impl FnOnce(&mut String)) {
        let a = self.text.len() as u32;
        name(&mut self.text);
        let b = self.text.len() as u32;
        value(&mut self.text);
        let c = self.text.len() as u32;
        self.pairs.push([a, b, c]);
    }
}

/// Which label value a text parser re-formats, by the `# TYPE` in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Normalize {
    None,
    /// `le` under a histogram.
    Le,
    /// `quantile` under a summary.
    Quantile,
}

/// Where a sample's labels come from.
#[derive(Debug, Clone)]
pub(crate) enum LabelSource<'p> {
    /// Positions into a text body: `offsets[0..2]` the metric name, then four
    /// per label (name start/end, value start/end), quotes excluded, escapes
    /// still in place. All were checked to be UTF-8 while parsing.
    Text {
        body: &'p [u8],
        offsets: &'p [usize],
        normalize: Normalize,
    },
    /// The series key itself: `name (0xFF lname 0xFF lvalue)*`, unescaped.
    Key,
}

pub(crate) const KEY_SEPARATOR: u8 = 0xFF;

impl LabelSource<'_> {
    pub(crate) fn decode(&self, series: &[u8], out: &mut LabelBuf) {
        match self {
            LabelSource::Text {
                body,
                offsets,
                normalize,
            } => {
                let name = &body[offsets[0]..offsets[1]];
                out.push_with(|s| s.push_str("__name__"), |s| push_unescaped_label(s, name));
                for l in offsets[2..].chunks_exact(4) {
                    let lname = &body[l[0]..l[1]];
                    let lvalue = &body[l[2]..l[3]];
                    let reformat = match normalize {
                        Normalize::Le => lname == b"le",
                        Normalize::Quantile => lname == b"quantile",
                        Normalize::None => false,
                    };
                    out.push_with(
                        |s| push_unescaped_label(s, lname),
                        |s| {
                            let start = s.len();
                            push_unescaped_label(s, lvalue);
                            if reformat {
                                if let Ok(f) = parse_go_float(&s.as_bytes()[start..]) {
                                    s.truncate(start);
                                    push_openmetrics_float(s, f);
                                }
                            }
                        },
                    );
                }
            }
            LabelSource::Key => {
                let mut parts = series.split(|&c| c == KEY_SEPARATOR);
                let name = parts.next().unwrap_or_default();
                out.push_with(
                    |s| s.push_str("__name__"),
                    |s| s.push_str(&String::from_utf8_lossy(name)),
                );
                while let (Some(n), Some(v)) = (parts.next(), parts.next()) {
                    out.push_with(
                        |s| s.push_str(&String::from_utf8_lossy(n)),
                        |s| s.push_str(&String::from_utf8_lossy(v)),
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_buf_reuses_its_memory_and_sorts() {
        let mut b = LabelBuf::default();
        b.push_with(|s| s.push_str("__name__"), |s| s.push_str("up"));
        b.push_with(|s| s.push_str("job"), |s| s.push_str("node"));
        b.push_with(|s| s.push_str("instance"), |s| s.push_str("a:9100"));
        b.sort_by_name();
        let got: Vec<_> = b.iter().collect();
        assert_eq!(got, [("__name__", "up"), ("instance", "a:9100"), ("job", "node")]);
        assert_eq!(b.get("job"), Some("node"));
        let cap = (b.text.capacity(), b.pairs.capacity());
        b.clear();
        assert!(b.is_empty());
        b.push_with(|s| s.push('a'), |s| s.push('b'));
        assert_eq!((b.text.capacity(), b.pairs.capacity()), cap);
    }
}
