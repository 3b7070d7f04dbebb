//! From discovered targets to scrape targets (spec §2.2, Prometheus's
//! `scrape.PopulateLabels` and `Target.URL`).
//!
//! For each target of each group: start from its labels plus the group's
//! labels it lacks; add the job's defaults (`job`, `__scrape_interval__`,
//! `__scrape_timeout__`, `__metrics_path__`, `__scheme__`, the three
//! histogram options) and `__param_<k>` for each configured parameter, each
//! only where absent — these are the *discovered labels*. Then run the job's
//! `relabel_configs`; a dropped target is kept (up to `keep_dropped_targets`)
//! for the API. A kept target must have an address without `/`, and interval
//! and timeout labels that parse, are non-zero, and timeout ≤ interval.
//! `__meta_*` labels go; `instance` defaults to `__address__` (3.x: no port
//! is added). Labels starting with `__` stay on the target but never reach
//! samples.

use std::collections::BTreeMap;

use strata_storage::Labels;

use super::{LabelSet, TargetGroup, ADDRESS_LABEL, META_LABEL_PREFIX};
use crate::config::{PromDuration, ScrapeConfig};
use crate::labels::{LabelsBuilder, NameValidationScheme};
use crate::relabel;

/// `job`.
pub const JOB_LABEL: &str = "job";
/// `instance`.
pub const INSTANCE_LABEL: &str = "instance";
/// `__scheme__`.
pub const SCHEME_LABEL: &str = "__scheme__";
/// `__metrics_path__`.
pub const METRICS_PATH_LABEL: &str = "__metrics_path__";
/// `__scrape_interval__`.
pub const SCRAPE_INTERVAL_LABEL: &str = "__scrape_interval__";
/// `__scrape_timeout__`.
pub const SCRAPE_TIMEOUT_LABEL: &str = "__scrape_timeout__";
/// Prefix of the labels that override the URL's query parameters.
pub const PARAM_LABEL_PREFIX: &str = "__param_";
/// The histogram options Prometheus 3.x puts on every target so that
/// relabeling can change them per target. strata's configuration has no such
/// options (it does not ingest native histograms), so they are all `false`.
pub const HISTOGRAM_OPTION_LABELS: [(&str, &str); 3] = [
    ("__scrape_native_histograms__", "false"),
    ("__always_scrape_classic_histograms__", "false"),
    ("__convert_classic_histograms_to_nhcb__", "false"),
];

/// A target to scrape.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    /// Every label after relabeling, `__` ones included (the API's `labels`
    /// are the others; `__scheme__`, `__param_*`, … describe the scrape).
    pub labels: LabelSet,
    /// The labels before relabeling (the API's `discoveredLabels`).
    pub discovered_labels: LabelSet,
    /// `scheme://address/path?query`, as Go's `url.URL.String` prints it.
    pub url: String,
    /// From the final `__scrape_interval__`.
    pub interval: PromDuration,
    /// From the final `__scrape_timeout__`.
    pub timeout: PromDuration,
    /// The labels attached to every sample: `labels` without the `__` ones.
    pub target_labels: Labels,
}

/// A discovered target that is not scraped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DroppedTarget {
    /// The labels before relabeling.
    pub discovered_labels: LabelSet,
    /// Why it failed validation (upstream's text, e.g. `no address`); `None`
    /// when relabeling dropped it.
    pub reason: Option<String>,
    /// Source of its group.
    pub source: String,
    /// Its index in the group.
    pub index: usize,
}

impl DroppedTarget {
    /// The message Prometheus logs for a target that failed validation:
    /// `instance 0 in group <source>: no address`.
    pub fn failure_message(&self) -> Option<String> {
        self.reason
            .as_ref()
            .map(|r| format!("instance {} in group {}: {r}", self.index, self.source))
    }
}

/// Builds the targets of one job from its groups. `target_limit` is not
/// applied here (the scrape pool does); at most `keep_dropped_targets`
/// dropped targets are returned (all when 0).
///
/// `_scheme` is accepted for callers that pass the job's name validation
/// scheme; as in Prometheus, target construction does not consult it (the
/// scrape loop checks the names of the series it appends).
pub fn build_targets(
    cfg: &ScrapeConfig,
    groups: &[TargetGroup],
    _scheme: NameValidationScheme,
) -> (Vec<Target>, Vec<DroppedTarget>) {
    let mut lb = LabelsBuilder::new();
    let mut active = Vec::new();
    let mut dropped = Vec::new();
    let keep = cfg.keep_dropped_targets;
    for g in groups {
        for (index, t) in g.targets.iter().enumerate() {
            match build_target(&mut lb, cfg, t, &g.labels) {
                Ok(target) => active.push(target),
                Err(mut d) => {
                    if keep == 0 || (dropped.len() as u64) < keep {
                        d.source = g.source.clone();
                        d.index = index;
                        dropped.push(d);
                    }
                }
            }
        }
    }
    (active, dropped)
}

/// Builds one target from its own labels and its group's (spec §2.2);
/// `lb` is scratch space reused between calls. The error is the dropped
/// target, with `source` and `index` left for the caller to fill in.
pub fn build_target(
    lb: &mut LabelsBuilder,
    cfg: &ScrapeConfig,
    target: &LabelSet,
    group_labels: &LabelSet,
) -> Result<Target, DroppedTarget> {
    populate_discovered(lb, cfg, target, group_labels);
    let discovered: LabelSet = lb.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect();
    let fail = |reason: Option<String>, discovered: LabelSet| DroppedTarget {
        discovered_labels: discovered,
        reason,
        source: String::new(),
        index: 0,
    };
    if !relabel::process(&cfg.relabel_configs, lb) {
        return Err(fail(None, discovered));
    }
    match validate(lb) {
        Ok((interval, timeout)) => {
            lb.retain(|n, _| !n.starts_with(META_LABEL_PREFIX));
            if lb.get(INSTANCE_LABEL).is_empty() {
                let addr = lb.get(ADDRESS_LABEL).to_string();
                lb.set(INSTANCE_LABEL, &addr);
            }
            let labels: LabelSet = lb.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect();
            let target_labels = match Labels::new(labels.iter().filter(|(n, _)| !n.starts_with("__"))) {
                Ok(l) => l,
                Err(e) => return Err(fail(Some(e.to_string()), discovered)),
            };
            Ok(Target {
                url: scrape_url(&labels, &cfg.params),
                labels,
                discovered_labels: discovered,
                interval,
                timeout,
                target_labels,
            })
        }
        Err(reason) => Err(fail(Some(reason), discovered)),
    }
}

/// Steps 1–3 of spec §2.2: the labels before relabeling.
fn populate_discovered(lb: &mut LabelsBuilder, cfg: &ScrapeConfig, target: &LabelSet, group_labels: &LabelSet) {
    lb.clear();
    for (n, v) in target {
        lb.set(n, v);
    }
    for (n, v) in group_labels {
        if !target.contains_key(n) {
            lb.set(n, v);
        }
    }
    let interval = cfg.scrape_interval.to_string();
    let timeout = cfg.scrape_timeout.to_string();
    let defaults = [
        (JOB_LABEL, cfg.job_name.as_str()),
        (SCRAPE_INTERVAL_LABEL, interval.as_str()),
        (SCRAPE_TIMEOUT_LABEL, timeout.as_str()),
        (METRICS_PATH_LABEL, cfg.metrics_path.as_str()),
        (SCHEME_LABEL, cfg.scheme.as_str()),
    ];
    for (n, v) in defaults.into_iter().chain(HISTOGRAM_OPTION_LABELS) {
        if lb.get(n).is_empty() {
            lb.set(n, v);
        }
    }
    let mut name = String::new();
    for (k, values) in &cfg.params {
        if let Some(first) = values.first() {
            name.clear();
            name.push_str(PARAM_LABEL_PREFIX);
            name.push_str(k);
            if lb.get(&name).is_empty() {
                lb.set(&name, first);
            }
        }
    }
}

/// Step 5 of spec §2.2, with upstream's messages; returns interval and timeout.
fn validate(lb: &LabelsBuilder) -> Result<(PromDuration, PromDuration), String> {
    let addr = lb.get(ADDRESS_LABEL);
    if addr.is_empty() {
        return Err("no address".to_string());
    }
    if addr.contains('/') {
        return Err(format!("{addr:?} is not a valid hostname"));
    }
    let interval_text = lb.get(SCRAPE_INTERVAL_LABEL);
    let interval = parse_duration(interval_text).map_err(|e| format!("error parsing scrape interval: {e}"))?;
    if interval.0 == 0 {
        return Err("scrape interval cannot be 0".to_string());
    }
    let timeout_text = lb.get(SCRAPE_TIMEOUT_LABEL);
    let timeout = parse_duration(timeout_text).map_err(|e| format!("error parsing scrape timeout: {e}"))?;
    if timeout.0 == 0 {
        return Err("scrape timeout cannot be 0".to_string());
    }
    if timeout > interval {
        return Err(format!(
            "scrape timeout cannot be greater than scrape interval ({timeout_text:?} > {interval_text:?})"
        ));
    }
    Ok((interval, timeout))
}

const DURATION_UNITS: [(&str, u64); 7] = [
    ("y", 365 * 24 * 3600 * 1000),
    ("w", 7 * 24 * 3600 * 1000),
    ("d", 24 * 3600 * 1000),
    ("h", 3600 * 1000),
    ("m", 60 * 1000),
    ("s", 1000),
    ("ms", 1),
];

/// prometheus/common `model.ParseDuration`, with its error texts (which
/// reach users through dropped targets): the same syntax as
/// [`PromDuration::parse`], finer messages.
pub fn parse_duration(s: &str) -> Result<PromDuration, String> {
    match s {
        "0" => return Ok(PromDuration(0)),
        "" => return Err("empty duration string".to_string()),
        _ => {}
    }
    let invalid = || format!("not a valid duration string: {s:?}");
    let b = s.as_bytes();
    let (mut i, mut total, mut next_unit) = (0, 0u64, 0usize);
    while i < b.len() {
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            return Err(invalid());
        }
        let n: u64 = s[start..i].parse().map_err(|_| invalid())?;
        let ustart = i;
        while i < b.len() && !b[i].is_ascii_digit() {
            i += 1;
        }
        let unit = &s[ustart..i];
        if unit.is_empty() {
            return Err(invalid());
        }
        let Some(pos) = DURATION_UNITS.iter().position(|(u, _)| *u == unit) else {
            return Err(format!("unknown unit {unit:?} in duration {s:?}"));
        };
        if pos < next_unit {
            return Err(invalid());
        }
        next_unit = pos + 1;
        // Go keeps nanoseconds in an int64.
        let limit = (i64::MAX as u64) / 1_000_000;
        total = n
            .checked_mul(DURATION_UNITS[pos].1)
            .and_then(|v| total.checked_add(v))
            .filter(|t| *t <= limit)
            .ok_or_else(|| "duration out of range".to_string())?;
    }
    Ok(PromDuration(total))
}

/// Go's `url.Values.Encode` of the job's `params` with the first value of
/// each key replaced by its `__param_<key>` label (added if absent).
pub fn scrape_query(labels: &LabelSet, params: &BTreeMap<String, Vec<String>>) -> String {
    let mut values = params.clone();
    for (n, v) in labels.range(PARAM_LABEL_PREFIX.to_string()..) {
        let Some(key) = n.strip_prefix(PARAM_LABEL_PREFIX) else {
            break;
        };
        let slot = values.entry(key.to_string()).or_default();
        match slot.first_mut() {
            Some(first) => first.clone_from(v),
            None => slot.push(v.clone()),
        }
    }
    let mut out = String::new();
    for (k, vs) in &values {
        for v in vs {
            if !out.is_empty() {
                out.push('&');
            }
            query_escape(k, &mut out);
            out.push('=');
            query_escape(v, &mut out);
        }
    }
    out
}

/// The scrape URL of a target with final labels `labels` (spec §2.2).
pub fn scrape_url(labels: &LabelSet, params: &BTreeMap<String, Vec<String>>) -> String {
    let get = |n: &str| labels.get(n).map(String::as_str).unwrap_or("");
    let (scheme, host, path) = (get(SCHEME_LABEL), get(ADDRESS_LABEL), get(METRICS_PATH_LABEL));
    let mut url = String::with_capacity(scheme.len() + host.len() + path.len() + 8);
    if !scheme.is_empty() {
        url.push_str(scheme);
        url.push(':');
    }
    if !scheme.is_empty() || !host.is_empty() {
        url.push_str("//");
        escape(host, &mut url, is_host_char, true);
    }
    if !path.is_empty() && !path.starts_with('/') && !host.is_empty() {
        url.push('/');
    }
    escape(path, &mut url, is_path_char, false);
    let query = scrape_query(labels, params);
    if !query.is_empty() {
        url.push('?');
        url.push_str(&query);
    }
    url
}

fn is_unreserved(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.' | b'~')
}

fn is_path_char(c: u8) -> bool {
    is_unreserved(c) || matches!(c, b'$' | b'&' | b'+' | b',' | b'/' | b':' | b';' | b'=' | b'@')
}

fn is_host_char(c: u8) -> bool {
    is_unreserved(c)
        || matches!(
            c,
            b'!' | b'$'
                | b'&'
                | b'\''
                | b'('
                | b')'
                | b'*'
                | b'+'
                | b','
                | b';'
                | b'='
                | b':'
                | b'['
                | b']'
                | b'<'
                | b'>'
                | b'"'
        )
}

/// Percent-encodes the ASCII bytes of `s` that `keep` refuses; non-ASCII
/// characters are kept when `keep_non_ascii` (Go does so in hosts), else encoded.
fn escape(s: &str, out: &mut String, keep: fn(u8) -> bool, keep_non_ascii: bool) {
    for ch in s.chars() {
        if ch.is_ascii() {
            if keep(ch as u8) {
                out.push(ch);
            } else {
                push_percent(ch as u8, out);
            }
        } else if keep_non_ascii {
            out.push(ch);
        } else {
            let mut buf = [0u8; 4];
            for &b in ch.encode_utf8(&mut buf).as_bytes() {
                push_percent(b, out);
            }
        }
    }
}

fn push_percent(c: u8, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    out.push('%');
    out.push(HEX[(c >> 4) as usize] as char);
    out.push(HEX[(c & 15) as usize] as char);
}

/// Go's `url.QueryEscape`.
fn query_escape(s: &str, out: &mut String) {
    for &c in s.as_bytes() {
        if is_unreserved(c) {
            out.push(c as char);
        } else if c == b' ' {
            out.push('+');
        } else {
            push_percent(c, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_with_upstream_messages() {
        for (s, want) in [
            ("0", Ok(0)),
            ("1s", Ok(1_000)),
            ("1m30s500ms", Ok(90_500)),
            ("2w", Ok(14 * 86_400_000)),
            ("", Err("empty duration string")),
            (
                "2notseconds",
                Err("unknown unit \"notseconds\" in duration \"2notseconds\""),
            ),
            ("s", Err("not a valid duration string: \"s\"")),
            ("1", Err("not a valid duration string: \"1\"")),
            ("30m1h", Err("not a valid duration string: \"30m1h\"")),
            ("1h1h", Err("not a valid duration string: \"1h1h\"")),
            ("1.5h", Err("unknown unit \".\" in duration \"1.5h\"")),
            ("300y", Err("duration out of range")),
        ] {
            let got = parse_duration(s).map(|d| d.0);
            assert_eq!(got, want.map_err(str::to_string), "{s:?}");
        }
    }
}
