//! Label names and a reusable, mutable label set for relabeling.
//!
//! [`LabelsBuilder`] is what the relabel engine ([`crate::relabel`]) works on:
//! a label set kept sorted by name, with `get`/`set`/`del` like Prometheus's
//! `labels.Builder`. It is meant to live as long as a scrape loop or a
//! discovery pass and be refilled for every target or sample: clearing keeps
//! the strings' buffers, so steady-state relabeling that changes nothing (or
//! writes values no longer than before) does not allocate.
//!
//! ```
//! use strata::labels::LabelsBuilder;
//! let mut lb = LabelsBuilder::new();
//! lb.set("job", "node");
//! lb.set("__address__", "10.0.0.1:9100");
//! assert_eq!(lb.get("job"), "node");
//! lb.set("job", ""); // an empty value deletes, as in Prometheus
//! assert_eq!(lb.iter().collect::<Vec<_>>(), vec![("__address__", "10.0.0.1:9100")]);
//! ```

use std::sync::Arc;

/// Which label names are valid: Prometheus 3.x's default accepts any non-empty
/// UTF-8 string, the legacy scheme only `[a-zA-Z_][a-zA-Z0-9_]*`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NameValidationScheme {
    /// Any non-empty UTF-8 name (`metric_name_validation_scheme: utf8`, the default).
    #[default]
    Utf8,
    /// `[a-zA-Z_][a-zA-Z0-9_]*` (`metric_name_validation_scheme: legacy`).
    Legacy,
}

impl NameValidationScheme {
    /// Whether `name` is a valid label name under this scheme.
    pub fn is_valid_label_name(self, name: &str) -> bool {
        match self {
            NameValidationScheme::Utf8 => !name.is_empty(),
            NameValidationScheme::Legacy => is_legacy_label_name(name),
        }
    }

    /// The name used in configuration files.
    pub fn as_str(self) -> &'static str {
        match self {
            NameValidationScheme::Utf8 => "utf8",
            NameValidationScheme::Legacy => "legacy",
        }
    }
}

/// `[a-zA-Z_][a-zA-Z0-9_]*`: the classic Prometheus label name.
pub fn is_legacy_label_name(name: &str) -> bool {
    let b = name.as_bytes();
    match b.first() {
        Some(c) if c.is_ascii_alphabetic() || *c == b'_' => {}
        _ => return false,
    }
    b[1..].iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_')
}

/// A mutable label set, sorted by name, without empty values.
///
/// Entries past `len` are spare `(String, String)` buffers kept from earlier
/// contents; inserting reuses them, so a builder that is cleared and refilled
/// with similar label sets stops allocating after the first few rounds.
#[derive(Debug, Default, Clone)]
pub struct LabelsBuilder {
    entries: Vec<(String, String)>,
    len: usize,
    /// Scratch buffers for the relabel engine (joined source values, expanded
    /// names and values); kept here so that rules do not allocate.
    pub(crate) scratch: Scratch,
}

/// Buffers the relabel engine borrows from the builder it works on.
#[derive(Debug, Default, Clone)]
pub(crate) struct Scratch {
    pub(crate) value: String,
    pub(crate) name: String,
    pub(crate) result: String,
    pub(crate) pending: Vec<(String, String)>,
    pub(crate) captures: Vec<(Arc<regex::Regex>, regex::CaptureLocations)>,
}

impl LabelsBuilder {
    /// An empty builder.
    pub fn new() -> LabelsBuilder {
        LabelsBuilder::default()
    }

    /// A builder holding `pairs` (in any order; later duplicates win, empty values are skipped).
    pub fn from_pairs<N: AsRef<str>, V: AsRef<str>>(pairs: impl IntoIterator<Item = (N, V)>) -> LabelsBuilder {
        let mut lb = LabelsBuilder::new();
        for (n, v) in pairs {
            lb.set(n.as_ref(), v.as_ref());
        }
        lb
    }

    /// Removes every label, keeping the buffers for reuse.
    pub fn clear(&mut self) {
        self.len = 0;
    }

    /// Number of labels.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there are no labels.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn find(&self, name: &str) -> Result<usize, usize> {
        self.entries[..self.len].binary_search_by(|(n, _)| n.as_str().cmp(name))
    }

    /// The value of `name`, or `""` when absent (Prometheus treats both alike).
    pub fn get(&self, name: &str) -> &str {
        match self.find(name) {
            Ok(i) => &self.entries[i].1,
            Err(_) => "",
        }
    }

    /// Whether `name` is present.
    pub fn contains(&self, name: &str) -> bool {
        self.find(name).is_ok()
    }

    /// Sets `name` to `value`; an empty value deletes the label.
    pub fn set(&mut self, name: &str, value: &str) {
        if value.is_empty() {
            self.del(name);
            return;
        }
        match self.find(name) {
            Ok(i) => {
                let v = &mut self.entries[i].1;
                if v != value {
                    v.clear();
                    v.push_str(value);
                }
            }
            Err(pos) => {
                if self.len < self.entries.len() {
                    // Reuse the first spare entry: move it to `pos`.
                    self.entries[pos..=self.len].rotate_right(1);
                    let (n, v) = &mut self.entries[pos];
                    n.clear();
                    n.push_str(name);
                    v.clear();
                    v.push_str(value);
                } else {
                    self.entries.insert(pos, (name.to_owned(), value.to_owned()));
                }
                self.len += 1;
            }
        }
    }

    /// Deletes `name` if present.
    pub fn del(&mut self, name: &str) {
        if let Ok(i) = self.find(name) {
            // Keep the strings as a spare entry past `len`.
            self.entries[i..self.len].rotate_left(1);
            self.len -= 1;
        }
    }

    /// Keeps only the labels for which `keep(name, value)` is true.
    pub fn retain(&mut self, mut keep: impl FnMut(&str, &str) -> bool) {
        let mut i = 0;
        while i < self.len {
            let (n, v) = &self.entries[i];
            if keep(n, v) {
                i += 1;
            } else {
                self.entries[i..self.len].rotate_left(1);
                self.len -= 1;
            }
        }
    }

    /// The labels in name order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, &str)> + '_ {
        self.entries[..self.len].iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    /// The labels as owned pairs, in name order.
    pub fn to_pairs(&self) -> Vec<(String, String)> {
        self.entries[..self.len].to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_names() {
        for (n, ok) in [
            ("job", true),
            ("_x", true),
            ("__name__", true),
            ("a1_b", true),
            ("1a", false),
            ("", false),
            ("a-b", false),
            ("a.b", false),
            ("é", false),
        ] {
            assert_eq!(is_legacy_label_name(n), ok, "{n:?}");
            assert_eq!(NameValidationScheme::Legacy.is_valid_label_name(n), ok, "{n:?}");
        }
        assert!(NameValidationScheme::Utf8.is_valid_label_name("a.b-é"));
        assert!(!NameValidationScheme::Utf8.is_valid_label_name(""));
    }

    #[test]
    fn builder_keeps_names_sorted_and_deletes_on_empty() {
        let mut lb = LabelsBuilder::from_pairs([("b", "2"), ("a", "1"), ("c", "3")]);
        assert_eq!(lb.iter().map(|(n, _)| n).collect::<String>(), "abc");
        lb.set("b", "");
        assert!(!lb.contains("b"));
        assert_eq!(lb.get("b"), "");
        lb.set("bb", "x");
        lb.set("0", "y");
        assert_eq!(
            lb.to_pairs(),
            vec![
                ("0".to_string(), "y".to_string()),
                ("a".into(), "1".into()),
                ("bb".into(), "x".into()),
                ("c".into(), "3".into())
            ]
        );
        lb.del("nothing");
        lb.retain(|n, _| n != "a");
        assert_eq!(lb.len(), 3);
        assert_eq!(lb.get("c"), "3");
    }

    #[test]
    fn builder_reuses_its_buffers_after_clear() {
        let mut lb = LabelsBuilder::new();
        for round in 0..3 {
            lb.clear();
            assert!(lb.is_empty());
            lb.set("job", "node");
            lb.set("instance", "host:9100");
            lb.set("__address__", "host:9100");
            lb.del("instance");
            lb.set("zone", &format!("z{round}"));
            assert_eq!(
                lb.iter().collect::<Vec<_>>(),
                vec![
                    ("__address__", "host:9100"),
                    ("job", "node"),
                    ("zone", &*format!("z{round}"))
                ]
            );
        }
        // `zone` reused the strings `instance` left behind: never more than three entries.
        assert_eq!(lb.entries.len(), 3);
    }
}
