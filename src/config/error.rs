//! Configuration errors: every refusal names the file, the `line:column` of
//! the offending node and its YAML path, e.g.
//! `strata.yml:12:5: scrape_configs[1].scrape_timeout: scrape timeout greater than scrape interval …`.

use std::fmt;
use std::path::PathBuf;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// Why a configuration was refused.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A file could not be read.
    #[error("{path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// A file's content was refused.
    #[error("{}", display_invalid(.file, *.position, .path, .message))]
    Invalid {
        /// File name (or `<embedded …>`).
        file: String,
        /// 1-based line and column of the offending YAML node, when known.
        position: Option<(usize, usize)>,
        /// YAML path of the offending node, like `scrape_configs[1].scrape_timeout`; empty for the whole file.
        path: String,
        /// What is wrong.
        message: String,
    },
}

fn display_invalid(file: &str, position: Option<(usize, usize)>, path: &str, message: &str) -> String {
    let mut s = file.to_string();
    if let Some((line, column)) = position {
        s.push_str(&format!(":{line}:{column}"));
    }
    s.push_str(": ");
    if !path.is_empty() && path != "." {
        s.push_str(path);
        s.push_str(": ");
    }
    s.push_str(message);
    s
}

/// One step of a YAML path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Seg {
    /// A mapping key.
    Key(String),
    /// A sequence index.
    Index(usize),
}

/// A path to a node in a YAML document, printed like `scrape_configs[1].scrape_timeout`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct YamlPath(pub Vec<Seg>);

impl YamlPath {
    /// The document root.
    pub fn root() -> YamlPath {
        YamlPath(Vec::new())
    }

    /// This path extended by a mapping key.
    pub fn key(&self, k: &str) -> YamlPath {
        let mut p = self.clone();
        p.0.push(Seg::Key(k.to_string()));
        p
    }

    /// This path extended by a sequence index.
    pub fn index(&self, i: usize) -> YamlPath {
        let mut p = self.clone();
        p.0.push(Seg::Index(i));
        p
    }

    /// An error about the node at this path.
    pub fn err(&self, message: impl fmt::Display) -> Invalid {
        Invalid {
            path: self.clone(),
            message: message.to_string(),
        }
    }
}

impl fmt::Display for YamlPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, seg) in self.0.iter().enumerate() {
            match seg {
                Seg::Key(k) if i == 0 => f.write_str(k)?,
                Seg::Key(k) => write!(f, ".{k}")?,
                Seg::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

/// A semantic refusal found after deserialising: the node's path and the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Invalid {
    pub path: YamlPath,
    pub message: String,
}

impl Invalid {
    /// Turns this into a [`ConfigError`] for `file`, finding the node's position in `text`.
    pub fn into_error(self, file: &str, text: &str) -> ConfigError {
        ConfigError::Invalid {
            file: file.to_string(),
            position: locate(text, &self.path.0),
            path: self.path.to_string(),
            message: self.message,
        }
    }
}

/// Converts a deserialisation error (with the path serde_path_to_error tracked)
/// into a [`ConfigError`] for `file`.
pub(crate) fn from_yaml_error(file: &str, err: serde_path_to_error::Error<yaml_serde::Error>) -> ConfigError {
    let path = err.path().to_string();
    let inner = err.into_inner();
    let position = inner.location().map(|l| (l.line(), l.column()));
    let mut message = inner.to_string();
    if let Some((line, column)) = position {
        // yaml_serde appends the position in prose; we print it in front instead.
        let suffix = format!(" at line {line} column {column}");
        if let Some(i) = message.find(&suffix) {
            message.replace_range(i..i + suffix.len(), "");
        }
    }
    // yaml_serde also prefixes the path of the enclosing node; we print the full path ourselves.
    if let Some((head, rest)) = message.split_once(": ") {
        if !head.contains(' ') && (path.starts_with(head) || head == ".") {
            message = rest.to_string();
        }
    }
    if let Some(field) = unsupported_prometheus_field(&message) {
        message = format!("unknown field `{field}`: a Prometheus option that strata does not support");
    }
    ConfigError::Invalid {
        file: file.to_string(),
        position,
        path: if path == "." { String::new() } else { path },
        message,
    }
}

/// Options valid in Prometheus but not (yet) in strata, besides every `*_sd_configs`.
const PROMETHEUS_ONLY: [&str; 22] = [
    "remote_read",
    "storage",
    "tracing",
    "runtime",
    "otlp",
    "oauth2",
    "sigv4",
    "azuread",
    "google_iam",
    "http_headers",
    "no_proxy",
    "proxy_from_environment",
    "proxy_connect_header",
    "scrape_failure_log_file",
    "scrape_native_histograms",
    "always_scrape_classic_histograms",
    "convert_classic_histograms_to_nhcb",
    "native_histogram_bucket_limit",
    "native_histogram_min_bucket_factor",
    "metric_name_escaping_scheme",
    "extra_scrape_metrics",
    "username_file",
];

/// The field named by an "unknown field" error when Prometheus knows it, so
/// that the message says it is unsupported rather than misspelt.
fn unsupported_prometheus_field(message: &str) -> Option<&str> {
    let rest = message.strip_prefix("unknown field `")?;
    let field = &rest[..rest.find('`')?];
    (field.ends_with("_sd_configs") || PROMETHEUS_ONLY.contains(&field)).then_some(field)
}

/// Finds the 1-based line and column of the node at `path` in the YAML `text`
/// (or of its deepest existing ancestor), by walking the document again and
/// stopping with an error at that node: yaml_serde marks errors with the
/// position of the node being read.
pub(crate) fn locate(text: &str, path: &[Seg]) -> Option<(usize, usize)> {
    let de = yaml_serde::Deserializer::from_str(text);
    match Locate(path).deserialize(de) {
        Ok(()) => None,
        Err(e) => e.location().map(|l| (l.line(), l.column())),
    }
}

const STOP: &str = "stop";

struct Locate<'a>(&'a [Seg]);

impl<'de> DeserializeSeed<'de> for Locate<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        match self.0.split_first() {
            None => d.deserialize_any(Here),
            Some((Seg::Key(key), rest)) => d.deserialize_map(InMap { key, rest }),
            Some((Seg::Index(index), rest)) => d.deserialize_seq(InSeq { index: *index, rest }),
        }
    }
}

/// Fails on whatever node it is asked to visit, so that the error carries that node's position.
struct Here;

impl<'de> Visitor<'de> for Here {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(STOP)
    }
}

struct InMap<'a> {
    key: &'a str,
    rest: &'a [Seg],
}

impl<'de> Visitor<'de> for InMap<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a mapping")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(k) = map.next_key::<yaml_serde::Value>()? {
            let matches = match &k {
                yaml_serde::Value::String(s) => s == self.key,
                yaml_serde::Value::Number(n) => n.to_string() == self.key,
                yaml_serde::Value::Bool(b) => b.to_string() == self.key,
                _ => false,
            };
            if matches {
                return map.next_value_seed(Locate(self.rest));
            }
            map.next_value::<IgnoredAny>()?;
        }
        // The key is absent: point at the mapping itself.
        Err(de::Error::custom(STOP))
    }
}

struct InSeq<'a> {
    index: usize,
    rest: &'a [Seg],
}

impl<'de> Visitor<'de> for InSeq<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a sequence")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        for _ in 0..self.index {
            if seq.next_element::<IgnoredAny>()?.is_none() {
                return Err(de::Error::custom(STOP));
            }
        }
        seq.next_element_seed(Locate(self.rest))?;
        Err(de::Error::custom(STOP))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(segs: &[&str]) -> Vec<Seg> {
        segs.iter()
            .map(|s| match s.parse::<usize>() {
                Ok(i) => Seg::Index(i),
                Err(_) => Seg::Key(s.to_string()),
            })
            .collect()
    }

    #[test]
    fn locates_nodes_by_path() {
        let text = "global:\n  scrape_interval: 15s\nscrape_configs:\n  - job_name: a\n  - job_name: b\n    scrape_timeout: 20s\n    static_configs: [{targets: ['x:1', 'y:2']}]\n";
        assert_eq!(locate(text, &p(&["global", "scrape_interval"])), Some((2, 20)));
        assert_eq!(
            locate(text, &p(&["scrape_configs", "1", "scrape_timeout"])),
            Some((6, 21))
        );
        assert_eq!(locate(text, &p(&["scrape_configs", "1"])), Some((5, 5)));
        assert_eq!(
            locate(
                text,
                &p(&["scrape_configs", "1", "static_configs", "0", "targets", "1"])
            ),
            Some((7, 40))
        );
        // Missing key: the enclosing mapping.
        assert_eq!(
            locate(text, &p(&["scrape_configs", "0", "scrape_interval"])),
            Some((4, 5))
        );
        // Missing index: the sequence.
        assert_eq!(locate(text, &p(&["scrape_configs", "7"])), Some((4, 3)));
    }

    #[test]
    fn prometheus_options_strata_lacks_are_named_as_such() {
        let m = "unknown field `kubernetes_sd_configs`, expected one of `job_name`";
        assert_eq!(unsupported_prometheus_field(m), Some("kubernetes_sd_configs"));
        assert_eq!(
            unsupported_prometheus_field("unknown field `oauth2`, expected …"),
            Some("oauth2")
        );
        assert_eq!(
            unsupported_prometheus_field("unknown field `job_nme`, expected …"),
            None
        );
    }

    #[test]
    fn paths_print_like_yaml_serde() {
        let path = YamlPath::root()
            .key("scrape_configs")
            .index(1)
            .key("relabel_configs")
            .index(0);
        assert_eq!(path.to_string(), "scrape_configs[1].relabel_configs[0]");
        let e = ConfigError::Invalid {
            file: "strata.yml".into(),
            position: Some((12, 5)),
            path: "scrape_configs[1].scrape_timeout".into(),
            message: "scrape timeout greater than scrape interval".into(),
        };
        assert_eq!(
            e.to_string(),
            "strata.yml:12:5: scrape_configs[1].scrape_timeout: scrape timeout greater than scrape interval"
        );
    }
}
