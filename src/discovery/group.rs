//! Target groups (Prometheus's `targetgroup.Group`) and the list-of-groups
//! format shared by file and HTTP discovery:
//!
//! ```json
//! [{"targets": ["10.0.0.1:9100", "10.0.0.2:9100"], "labels": {"rack": "r1"}}]
//! ```

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::config::yaml::ScalarText;
use crate::config::StringMap;

/// A set of labels by name. Values may be empty while a target is being
/// discovered; an empty value means the same as an absent label.
pub type LabelSet = BTreeMap<String, String>;

/// Targets that share a source and a set of labels.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TargetGroup {
    /// Identifies the group within its provider (`<file>:<i>`, `<url>:<i>`,
    /// the DNS name, or the index of a static config).
    pub source: String,
    /// One label set per target; each holds at least `__address__` when the
    /// group was read from a file or URL.
    pub targets: Vec<LabelSet>,
    /// Labels of every target of the group, unless the target has its own.
    pub labels: LabelSet,
}

impl TargetGroup {
    /// A group whose targets are the given addresses.
    pub fn from_addresses<S: AsRef<str>>(
        source: impl Into<String>,
        addresses: impl IntoIterator<Item = S>,
        labels: LabelSet,
    ) -> TargetGroup {
        TargetGroup {
            source: source.into(),
            targets: addresses
                .into_iter()
                .map(|a| LabelSet::from([(super::ADDRESS_LABEL.to_string(), a.as_ref().to_string())]))
                .collect(),
            labels,
        }
    }
}

/// Why a file or HTTP body of target groups was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GroupFormatError {
    /// The text is not valid JSON/YAML of the expected shape; the message
    /// carries the line and column.
    #[error("{0}")]
    Syntax(String),
    /// A list entry is `null`.
    #[error("nil target group item found")]
    NullGroup,
    /// A label name is not valid.
    #[error("{0:?} is not a valid label name")]
    LabelName(String),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonGroup {
    #[serde(default)]
    targets: Option<Vec<Option<String>>>,
    #[serde(default)]
    labels: Option<BTreeMap<String, Option<String>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct YamlGroup {
    #[serde(default)]
    targets: Option<Vec<ScalarText>>,
    #[serde(default)]
    labels: Option<StringMap>,
}

fn check_names(labels: &LabelSet) -> Result<(), GroupFormatError> {
    match labels.keys().find(|n| n.is_empty()) {
        Some(n) => Err(GroupFormatError::LabelName(n.clone())),
        None => Ok(()),
    }
}

/// Reads a JSON list of `{targets, labels}` objects, refusing unknown fields
/// as Prometheus does. The groups' `source` is left empty for the caller.
pub fn parse_json_groups(text: &[u8]) -> Result<Vec<TargetGroup>, GroupFormatError> {
    let raw: Option<Vec<Option<JsonGroup>>> =
        serde_json::from_slice(text).map_err(|e| GroupFormatError::Syntax(e.to_string()))?;
    let mut out = Vec::new();
    for g in raw.unwrap_or_default() {
        let g = g.ok_or(GroupFormatError::NullGroup)?;
        let labels: LabelSet = g
            .labels
            .unwrap_or_default()
            .into_iter()
            .map(|(n, v)| (n, v.unwrap_or_default()))
            .collect();
        check_names(&labels)?;
        let addresses = g.targets.unwrap_or_default().into_iter().map(Option::unwrap_or_default);
        out.push(TargetGroup::from_addresses("", addresses, labels));
    }
    Ok(out)
}

/// Reads a YAML list of `{targets, labels}` mappings, strictly (unknown
/// fields and duplicate keys refused). An empty document holds no groups.
pub fn parse_yaml_groups(text: &str) -> Result<Vec<TargetGroup>, GroupFormatError> {
    if text.trim().is_empty() {
        return Ok(Vec::new());
    }
    let raw: Option<Vec<Option<YamlGroup>>> =
        yaml_serde::from_str(text).map_err(|e| GroupFormatError::Syntax(e.to_string()))?;
    let mut out = Vec::new();
    for g in raw.unwrap_or_default() {
        let g = g.ok_or(GroupFormatError::NullGroup)?;
        let labels = g.labels.unwrap_or_default().0;
        check_names(&labels)?;
        let addresses = g.targets.unwrap_or_default().into_iter().map(|t| t.0);
        out.push(TargetGroup::from_addresses("", addresses, labels));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addrs(g: &TargetGroup) -> Vec<&str> {
        g.targets
            .iter()
            .map(|t| t[super::super::ADDRESS_LABEL].as_str())
            .collect()
    }

    #[test]
    fn json_and_yaml_read_the_same_groups() {
        let json = br#"[{"targets": ["localhost:9090", "example.org:443"], "labels": {"foo": "bar"}},
                        {"targets": ["my.domain"]}]"#;
        let yaml =
            "- targets: ['localhost:9090', 'example.org:443']\n  labels:\n    foo: bar\n- targets: [my.domain]\n";
        for groups in [parse_json_groups(json).unwrap(), parse_yaml_groups(yaml).unwrap()] {
            assert_eq!(groups.len(), 2);
            assert_eq!(addrs(&groups[0]), ["localhost:9090", "example.org:443"]);
            assert_eq!(groups[0].labels, LabelSet::from([("foo".into(), "bar".into())]));
            assert_eq!(addrs(&groups[1]), ["my.domain"]);
            assert!(groups[1].labels.is_empty());
        }
    }

    #[test]
    fn yaml_scalars_read_as_text_and_empty_documents_hold_nothing() {
        let g = parse_yaml_groups("- targets: [a:1]\n  labels: {port: 9100, up: true}\n").unwrap();
        assert_eq!(g[0].labels["port"], "9100");
        assert_eq!(g[0].labels["up"], "true");
        assert_eq!(parse_yaml_groups("").unwrap(), vec![]);
        assert_eq!(parse_yaml_groups("# nothing yet\n").unwrap(), vec![]);
        assert_eq!(parse_json_groups(b"null").unwrap(), vec![]);
        assert_eq!(parse_json_groups(b"[]").unwrap(), vec![]);
    }

    #[test]
    fn malformed_lists_are_refused_with_a_position() {
        let cases: [(&str, bool, &str); 7] = [
            ("[null]", true, "nil target group item found"),
            ("- null\n", false, "nil target group item found"),
            (r#"[{"targets": [], "bogus": 1}]"#, true, "unknown field `bogus`"),
            ("- targets: []\n  bogus: 1\n", false, "unknown field `bogus`"),
            (
                r#"[{"targets": ["a"], "labels": {"": "x"}}]"#,
                true,
                "\"\" is not a valid label name",
            ),
            ("[{\"targets\": [\"a\"]},\n {\"targets\": ", true, "line 2"),
            ("- targets: [a\n- labels: {}\n", false, "line"),
        ];
        for (text, json, want) in cases {
            let got = if json {
                parse_json_groups(text.as_bytes())
            } else {
                parse_yaml_groups(text)
            };
            let e = got.expect_err(text).to_string();
            assert!(e.contains(want), "{text:?}: want {want:?} in {e:?}");
        }
    }
}
