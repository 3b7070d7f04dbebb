//! Relabeling: Prometheus's `relabel_configs` rules and the engine that runs
//! them over a [`LabelsBuilder`] (spec §3).
//!
//! A [`RelabelConfig`] is deserialised with Prometheus's defaults
//! (`action: replace`, `separator: ";"`, `regex: (.*)`, `replacement: $1`),
//! its regex compiled fully anchored as `^(?s:<regex>)$`, and then checked by
//! [`RelabelConfig::validate`] with the upstream error texts. [`process`] runs
//! a list of rules in order and says whether the label set is kept.
//!
//! ```
//! use strata::labels::LabelsBuilder;
//! use strata::relabel::{process, RelabelConfig};
//! let mut rules: Vec<RelabelConfig> = yaml_serde::from_str(
//!     "- {source_labels: [__address__], modulus: 4, target_label: __tmp_hash, action: hashmod}\n\
//!      - {source_labels: [__tmp_hash], regex: '0', action: keep}",
//! ).unwrap();
//! for r in &mut rules {
//!     r.validate(Default::default()).unwrap();
//! }
//! let mut lb = LabelsBuilder::from_pairs([("__address__", "127.0.0.1:19100")]);
//! assert!(process(&rules, &mut lb));
//! assert_eq!(lb.get("__tmp_hash"), "0");
//! ```
//!
//! Regexes use Go's RE2 syntax. The `regex` crate reads almost all of it the
//! same way; where it does not by default (`\d`, `\w`, `\s`, `\b` are ASCII in
//! Go, Unicode in Rust; `\Q…\E`; a literal `[` inside a class), patterns are
//! rewritten before compiling so that they match what Prometheus matches.

use std::fmt;
use std::fmt::Write as _;
use std::sync::{Arc, LazyLock};

use md5::{Digest, Md5};
use serde::{Deserialize, Deserializer};

use crate::labels::{LabelsBuilder, NameValidationScheme};

/// What a relabel rule does (spec §3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Action {
    /// Set `target_label` to the expanded `replacement` when `regex` matches.
    #[default]
    Replace,
    /// Keep the label set only if `regex` matches the source value.
    Keep,
    /// Drop the label set if `regex` matches the source value.
    Drop,
    /// Keep the label set only if the source value equals `target_label`'s value.
    KeepEqual,
    /// Drop the label set if the source value equals `target_label`'s value.
    DropEqual,
    /// Set `target_label` to MD5(source value) mod `modulus`.
    HashMod,
    /// Copy every label whose name matches `regex` to the name `replacement` expands to.
    LabelMap,
    /// Delete every label whose name matches `regex`.
    LabelDrop,
    /// Delete every label whose name does not match `regex`.
    LabelKeep,
    /// Set `target_label` to the lower-cased source value.
    Lowercase,
    /// Set `target_label` to the upper-cased source value.
    Uppercase,
}

impl Action {
    /// Every action, in the order Prometheus documents them.
    pub const ALL: [Action; 11] = [
        Action::Replace,
        Action::Keep,
        Action::Drop,
        Action::KeepEqual,
        Action::DropEqual,
        Action::HashMod,
        Action::LabelMap,
        Action::LabelDrop,
        Action::LabelKeep,
        Action::Lowercase,
        Action::Uppercase,
    ];

    /// The lower-case name used in configuration files.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Replace => "replace",
            Action::Keep => "keep",
            Action::Drop => "drop",
            Action::KeepEqual => "keepequal",
            Action::DropEqual => "dropequal",
            Action::HashMod => "hashmod",
            Action::LabelMap => "labelmap",
            Action::LabelDrop => "labeldrop",
            Action::LabelKeep => "labelkeep",
            Action::Lowercase => "lowercase",
            Action::Uppercase => "uppercase",
        }
    }

    /// Parses an action name, ignoring case as Prometheus does.
    pub fn parse(s: &str) -> Option<Action> {
        let lower = s.to_lowercase();
        Action::ALL.into_iter().find(|a| a.as_str() == lower)
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Action {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // `action:` with no value is Go's zero value, which upstream reports
        // as an empty action rather than an unknown one.
        crate::config::yaml::scalar_with(d, |s| match s {
            None => Err(RelabelError::EmptyAction.to_string()),
            Some(s) => Action::parse(s).ok_or_else(|| format!("unknown relabel action {s:?}")),
        })
    }
}

/// Why a relabel rule was refused. Texts are Prometheus's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RelabelError {
    /// `action:` given without a value.
    #[error("relabel action cannot be empty")]
    EmptyAction,
    /// `hashmod` with `modulus` 0 or missing.
    #[error("relabel configuration for hashmod requires non-zero modulus")]
    ZeroModulus,
    /// An action that writes a label has no `target_label`.
    #[error("relabel configuration for {0} action requires 'target_label' value")]
    MissingTargetLabel(Action),
    /// `target_label` is not a valid label name (or template).
    #[error("{0:?} is invalid 'target_label' for {1} action")]
    InvalidTargetLabel(String, Action),
    /// `labelmap` replacement is not a valid label name (or template).
    #[error("{0:?} is invalid 'replacement' for {1} action")]
    InvalidReplacement(String, Action),
    /// `replacement` set for an action that does not use it.
    #[error("'replacement' can not be set for {0} action")]
    ReplacementNotAllowed(Action),
    /// `keepequal`/`dropequal` with fields other than source and target labels.
    #[error("{0} action requires only 'source_labels' and `target_label`, and no other fields")]
    OnlySourceAndTarget(Action),
    /// `labeldrop`/`labelkeep` with fields other than `regex`.
    #[error("{0} action requires only 'regex', and no other fields")]
    OnlyRegex(Action),
    /// An entry of `source_labels` is not a valid label name.
    #[error("{0:?} is not a valid label name")]
    InvalidSourceLabel(String),
    /// The regex does not compile.
    #[error("error parsing regexp {pattern:?}: {message}")]
    Regex {
        /// The pattern as written.
        pattern: String,
        /// What is wrong with it.
        message: String,
    },
}

/// A relabel regex: the pattern as written plus its anchored compiled form.
#[derive(Clone)]
pub struct RelabelRegex {
    source: String,
    compiled: Arc<regex::Regex>,
}

/// The default `(.*)`, compiled once.
static DEFAULT_REGEX: LazyLock<RelabelRegex> =
    LazyLock::new(|| RelabelRegex::new(DEFAULT_REGEX_SOURCE).unwrap_or_else(|_| unreachable!("(.*) compiles")));

const DEFAULT_REGEX_SOURCE: &str = "(.*)";

impl RelabelRegex {
    /// Compiles `pattern` (Go RE2 syntax) as `^(?s:pattern)$`.
    pub fn new(pattern: &str) -> Result<RelabelRegex, RelabelError> {
        let anchored = format!("^(?s:{})$", translate_go_regex(pattern));
        let compiled = regex::RegexBuilder::new(&anchored)
            .octal(true)
            .build()
            .map_err(|e| RelabelError::Regex {
                pattern: pattern.to_string(),
                message: regex_error_message(&e),
            })?;
        Ok(RelabelRegex {
            source: pattern.to_string(),
            compiled: Arc::new(compiled),
        })
    }

    /// The pattern as written in the configuration, without anchors.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Whether the whole of `s` matches.
    pub fn is_match(&self, s: &str) -> bool {
        self.compiled.is_match(s)
    }

    /// The compiled, anchored regex.
    pub fn regex(&self) -> &regex::Regex {
        &self.compiled
    }

    /// Whether this is the default `(.*)`. Prometheus compares the compiled
    /// regex by pointer, so it treats an explicit `regex: (.*)` as changed;
    /// comparing the text accepts that too, with the same relabeling result.
    fn is_default(&self) -> bool {
        self.source == DEFAULT_REGEX_SOURCE
    }
}

impl Default for RelabelRegex {
    fn default() -> Self {
        DEFAULT_REGEX.clone()
    }
}

impl PartialEq for RelabelRegex {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

impl fmt::Debug for RelabelRegex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.source)
    }
}

impl<'de> Deserialize<'de> for RelabelRegex {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // An explicit null is Go's zero value: the empty regex, matching only "".
        crate::config::yaml::scalar_with(d, |s| RelabelRegex::new(s.unwrap_or("")).map_err(|e| e.to_string()))
    }
}

fn regex_error_message(e: &regex::Error) -> String {
    match e {
        // The syntax error text is a multi-line diagram; its last line says what is wrong.
        regex::Error::Syntax(s) => s
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .map(|l| l.trim().trim_start_matches("error: ").to_string())
            .unwrap_or_else(|| s.clone()),
        other => other.to_string(),
    }
}

/// One relabel rule, as configured (with defaults applied) and compiled.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RelabelConfig {
    /// Labels whose values are joined with `separator` to form the source value.
    #[serde(deserialize_with = "null_as_default")]
    pub source_labels: Vec<String>,
    /// Joins the source label values (default `;`).
    #[serde(deserialize_with = "null_as_default")]
    pub separator: String,
    /// Matched against the source value (or label names), anchored at both ends.
    pub regex: RelabelRegex,
    /// Divisor of the `hashmod` action.
    #[serde(deserialize_with = "null_as_default")]
    pub modulus: u64,
    /// The label written by `replace`, `hashmod`, `lowercase`, `uppercase`, or compared by `keepequal`/`dropequal`.
    #[serde(deserialize_with = "null_as_default")]
    pub target_label: String,
    /// Template (`$1`, `${name}`) for `replace` and `labelmap` (default `$1`).
    #[serde(deserialize_with = "null_as_default")]
    pub replacement: String,
    /// What the rule does (default `replace`).
    pub action: Action,
    /// Label name rules in force, set by [`RelabelConfig::validate`].
    #[serde(skip)]
    pub scheme: NameValidationScheme,
}

impl Default for RelabelConfig {
    fn default() -> Self {
        RelabelConfig {
            source_labels: Vec::new(),
            separator: ";".to_string(),
            regex: RelabelRegex::default(),
            modulus: 0,
            target_label: String::new(),
            replacement: "$1".to_string(),
            action: Action::Replace,
            scheme: NameValidationScheme::default(),
        }
    }
}

/// Deserialises `T`, reading an explicit YAML null as `T::default()` (Go's zero value).
pub(crate) fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// `^(?:(?:[a-zA-Z_]|\$(?:\{\w+\}|\w+))+\w*)+$`: a legacy label name that may contain `$1`/`${name}` references.
fn is_legacy_name_template(s: &str) -> bool {
    static RE: LazyLock<Option<regex::Regex>> = LazyLock::new(|| {
        regex::Regex::new(r"^(?:(?:[a-zA-Z_]|\$(?:\{[0-9A-Za-z_]+\}|[0-9A-Za-z_]+))+[0-9A-Za-z_]*)+$").ok()
    });
    RE.as_ref().is_some_and(|re| re.is_match(s))
}

impl RelabelConfig {
    /// Checks the rule as Prometheus does for the given label name scheme, and
    /// remembers the scheme for [`process`].
    pub fn validate(&mut self, scheme: NameValidationScheme) -> Result<(), RelabelError> {
        use Action::*;
        self.scheme = scheme;
        let a = self.action;
        if let Some(bad) = self.source_labels.iter().find(|n| n.is_empty()) {
            return Err(RelabelError::InvalidSourceLabel(bad.clone()));
        }
        if self.modulus == 0 && a == HashMod {
            return Err(RelabelError::ZeroModulus);
        }
        let writes_target = matches!(a, Replace | HashMod | Lowercase | Uppercase | KeepEqual | DropEqual);
        if writes_target && self.target_label.is_empty() {
            return Err(RelabelError::MissingTargetLabel(a));
        }
        let name_or_template_ok = |s: &str| match scheme {
            NameValidationScheme::Utf8 => scheme.is_valid_label_name(s),
            NameValidationScheme::Legacy => is_legacy_name_template(s),
        };
        if a == Replace {
            let ok = if self.target_label.contains('$') {
                name_or_template_ok(&self.target_label)
            } else {
                scheme.is_valid_label_name(&self.target_label)
            };
            if !ok {
                return Err(RelabelError::InvalidTargetLabel(self.target_label.clone(), a));
            }
        }
        let default_replacement = RelabelConfig::default().replacement;
        if matches!(a, Lowercase | Uppercase | KeepEqual | DropEqual) {
            if !scheme.is_valid_label_name(&self.target_label) {
                return Err(RelabelError::InvalidTargetLabel(self.target_label.clone(), a));
            }
            if self.replacement != default_replacement {
                return Err(RelabelError::ReplacementNotAllowed(a));
            }
        }
        if a == LabelMap && !name_or_template_ok(&self.replacement) {
            return Err(RelabelError::InvalidReplacement(self.replacement.clone(), a));
        }
        if a == HashMod && !scheme.is_valid_label_name(&self.target_label) {
            return Err(RelabelError::InvalidTargetLabel(self.target_label.clone(), a));
        }
        if matches!(a, KeepEqual | DropEqual)
            && (!self.regex.is_default() || self.modulus != 0 || self.separator != ";")
        {
            return Err(RelabelError::OnlySourceAndTarget(a));
        }
        if matches!(a, LabelDrop | LabelKeep)
            && (!self.source_labels.is_empty()
                || !self.target_label.is_empty()
                || self.modulus != 0
                || self.separator != ";"
                || self.replacement != default_replacement)
        {
            return Err(RelabelError::OnlyRegex(a));
        }
        Ok(())
    }
}

/// Runs `rules` in order over `lb`. Returns false as soon as a rule drops the
/// label set (the builder is then left part-way). Rules must have passed
/// [`RelabelConfig::validate`].
pub fn process(rules: &[RelabelConfig], lb: &mut LabelsBuilder) -> bool {
    rules.iter().all(|rule| apply(rule, lb))
}

fn apply(rule: &RelabelConfig, lb: &mut LabelsBuilder) -> bool {
    let mut value = std::mem::take(&mut lb.scratch.value);
    value.clear();
    for (i, name) in rule.source_labels.iter().enumerate() {
        if i > 0 {
            value.push_str(&rule.separator);
        }
        value.push_str(lb.get(name));
    }
    let keep = apply_to_value(rule, &value, lb);
    lb.scratch.value = value;
    keep
}

fn apply_to_value(rule: &RelabelConfig, value: &str, lb: &mut LabelsBuilder) -> bool {
    match rule.action {
        Action::Drop => return !rule.regex.is_match(value),
        Action::Keep => return rule.regex.is_match(value),
        Action::DropEqual => return lb.get(&rule.target_label) != value,
        Action::KeepEqual => return lb.get(&rule.target_label) == value,
        Action::Replace => replace(rule, value, lb),
        Action::Lowercase | Action::Uppercase => {
            let mut out = std::mem::take(&mut lb.scratch.result);
            out.clear();
            if rule.action == Action::Lowercase {
                push_lower_go(value, &mut out);
            } else {
                push_upper_go(value, &mut out);
            }
            lb.set(&rule.target_label, &out);
            lb.scratch.result = out;
        }
        Action::HashMod => {
            let mut out = std::mem::take(&mut lb.scratch.result);
            out.clear();
            let _ = write!(out, "{}", hashmod(value, rule.modulus));
            lb.set(&rule.target_label, &out);
            lb.scratch.result = out;
        }
        Action::LabelMap => label_map(rule, lb),
        Action::LabelDrop => lb.retain(|name, _| !rule.regex.is_match(name)),
        Action::LabelKeep => lb.retain(|name, _| rule.regex.is_match(name)),
    }
    true
}

/// `uint64_be(md5(value)[8..16]) mod modulus` (spec §3.3). `modulus` must be non-zero.
pub fn hashmod(value: &str, modulus: u64) -> u64 {
    let digest = Md5::digest(value.as_bytes());
    let mut tail = [0u8; 8];
    tail.copy_from_slice(&digest[8..16]);
    u64::from_be_bytes(tail) % modulus.max(1)
}

/// Capture slots for `regex`, cached in the builder so that matching does not allocate.
fn capture_slots<'a>(
    cache: &'a mut Vec<(Arc<regex::Regex>, regex::CaptureLocations)>,
    regex: &Arc<regex::Regex>,
) -> &'a mut regex::CaptureLocations {
    let i = match cache.iter().position(|(r, _)| Arc::ptr_eq(r, regex)) {
        Some(i) => i,
        None => {
            if cache.len() >= 64 {
                cache.clear();
            }
            cache.push((regex.clone(), regex.capture_locations()));
            cache.len() - 1
        }
    };
    &mut cache[i].1
}

fn replace(rule: &RelabelConfig, value: &str, lb: &mut LabelsBuilder) {
    let templated = |s: &str| s.contains('$');
    // Upstream's fast path: add or delete a constant label.
    if value.is_empty() && rule.regex.is_default() && !templated(&rule.target_label) && !templated(&rule.replacement) {
        lb.set(&rule.target_label, &rule.replacement);
        return;
    }
    let re = &rule.regex.compiled;
    let mut cache = std::mem::take(&mut lb.scratch.captures);
    let locs = capture_slots(&mut cache, re);
    if re.captures_read(locs, value).is_some() {
        let mut name = std::mem::take(&mut lb.scratch.name);
        let mut result = std::mem::take(&mut lb.scratch.result);
        name.clear();
        result.clear();
        expand_go(&rule.target_label, re, locs, value, &mut name);
        if rule.scheme.is_valid_label_name(&name) {
            expand_go(&rule.replacement, re, locs, value, &mut result);
            lb.set(&name, &result); // an empty result deletes the label
        }
        lb.scratch.name = name;
        lb.scratch.result = result;
    }
    lb.scratch.captures = cache;
}

fn label_map(rule: &RelabelConfig, lb: &mut LabelsBuilder) {
    // Prometheus iterates over a snapshot and sets afterwards; collect first.
    let re = &rule.regex.compiled;
    let mut cache = std::mem::take(&mut lb.scratch.captures);
    let mut pending = std::mem::take(&mut lb.scratch.pending);
    pending.clear();
    let locs = capture_slots(&mut cache, re);
    for (name, value) in lb.iter() {
        if re.captures_read(locs, name).is_some() {
            let mut new_name = String::new();
            expand_go(&rule.replacement, re, locs, name, &mut new_name);
            if !new_name.is_empty() {
                pending.push((new_name, value.to_string()));
            }
        }
    }
    for (n, v) in &pending {
        lb.set(n, v);
    }
    lb.scratch.pending = pending;
    lb.scratch.captures = cache;
}

/// Appends `template` to `out` with `$1`, `$name`, `${name}` replaced by the
/// groups of the match in `locs`, exactly as Go's `Regexp.ExpandString`:
/// a name is the longest run of letters, digits and `_`; `$$` is `$`; unknown
/// or unmatched groups expand to nothing; a malformed reference stays a literal `$`.
pub fn expand_go(template: &str, re: &regex::Regex, locs: &regex::CaptureLocations, src: &str, out: &mut String) {
    let mut rest = template;
    while let Some(dollar) = rest.find('$') {
        out.push_str(&rest[..dollar]);
        rest = &rest[dollar + 1..];
        if let Some(after) = rest.strip_prefix('$') {
            out.push('$');
            rest = after;
            continue;
        }
        let Some((name, num, after)) = extract_group_ref(rest) else {
            out.push('$');
            continue;
        };
        rest = after;
        let group = match num {
            Some(n) => Some(n),
            None => re.capture_names().position(|n| n == Some(name)),
        };
        if let Some((start, end)) = group.and_then(|g| locs.get(g)) {
            out.push_str(&src[start..end]);
        }
    }
    out.push_str(rest);
}

/// Go's `extract`: parses `name` or `{name}` at the start of `s`. Returns the
/// name, its group number when it is a plain decimal (no leading zero, < 1e8),
/// and the rest of `s`.
fn extract_group_ref(s: &str) -> Option<(&str, Option<usize>, &str)> {
    let (braced, body) = match s.strip_prefix('{') {
        Some(b) => (true, b),
        None => (false, s),
    };
    let end = body
        .char_indices()
        .find(|&(_, c)| !(c.is_alphabetic() || c.is_numeric() || c == '_'))
        .map_or(body.len(), |(i, _)| i);
    if end == 0 {
        return None;
    }
    let name = &body[..end];
    let rest = if braced {
        body[end..].strip_prefix('}')?
    } else {
        &body[end..]
    };
    let mut num: Option<usize> = Some(0);
    for b in name.bytes() {
        num = match num {
            Some(n) if b.is_ascii_digit() && n < 100_000_000 => Some(n * 10 + usize::from(b - b'0')),
            _ => None,
        };
    }
    if name.len() > 1 && name.starts_with('0') {
        num = None;
    }
    Some((name, num, rest))
}

/// Appends `s` lower-cased rune by rune with simple case mapping, like Go's
/// `strings.ToLower` (Rust's `str::to_lowercase` differs for `İ` and final sigma).
fn push_lower_go(s: &str, out: &mut String) {
    for c in s.chars() {
        let mut m = c.to_lowercase();
        match (m.next(), m.next()) {
            (Some(l), None) => out.push(l),
            // Only U+0130 lower-cases to more than one char; its simple mapping is `i`.
            _ => out.push(if c == '\u{130}' { 'i' } else { c }),
        }
    }
}

/// Appends `s` upper-cased rune by rune with simple case mapping, like Go's
/// `strings.ToUpper` (so `ß` stays `ß` instead of becoming `SS`).
fn push_upper_go(s: &str, out: &mut String) {
    for c in s.chars() {
        let mut m = c.to_uppercase();
        match (m.next(), m.next()) {
            (Some(u), None) => out.push(u),
            _ => out.push(simple_upper_of_special(c)),
        }
    }
}

/// Simple upper-case mapping of the characters whose full mapping has several
/// chars: Greek letters with ypogegrammeni map to their prosgegrammeni forms,
/// every other one (`ß`, ligatures, …) has none and stays as it is.
fn simple_upper_of_special(c: char) -> char {
    let u = c as u32;
    let mapped = match u {
        0x1F80..=0x1F87 | 0x1F90..=0x1F97 | 0x1FA0..=0x1FA7 => u + 8,
        0x1FB3 | 0x1FC3 | 0x1FF3 => u + 9,
        _ => u,
    };
    char::from_u32(mapped).unwrap_or(c)
}

/// Rewrites a Go RE2 pattern so that the `regex` crate matches the same strings:
/// Perl classes and word boundaries become ASCII-only as in Go, `\Q…\E` becomes
/// an escaped literal, and characters that are literal inside a Go class but
/// special inside a Rust class (`[`, `&`, `~`) are escaped.
pub fn translate_go_regex(p: &str) -> String {
    const DIGIT: &str = "0-9";
    const WORD: &str = "0-9A-Za-z_";
    const SPACE: &str = r"\t\n\x0C\r ";
    let mut out = String::with_capacity(p.len() + 16);
    let mut chars = p.char_indices().peekable();
    let mut in_class = false;
    // Position right after the opening `[` (and `^`), where `]` is literal.
    let mut class_start = false;
    while let Some((i, c)) = chars.next() {
        let at_class_start = std::mem::replace(&mut class_start, false);
        match c {
            '\\' => {
                let Some((_, e)) = chars.next() else {
                    out.push('\\');
                    break;
                };
                let perl = match e {
                    'd' | 'D' => Some(DIGIT),
                    'w' | 'W' => Some(WORD),
                    's' | 'S' => Some(SPACE),
                    _ => None,
                };
                match (perl, in_class) {
                    (Some(set), false) => {
                        out.push_str(if e.is_ascii_lowercase() { "[" } else { "[^" });
                        out.push_str(set);
                        out.push(']');
                    }
                    (Some(set), true) if e.is_ascii_lowercase() => out.push_str(set),
                    (Some(set), true) => {
                        out.push_str("[^");
                        out.push_str(set);
                        out.push(']');
                    }
                    (None, false) if e == 'b' || e == 'B' => {
                        out.push_str("(?-u:\\");
                        out.push(e);
                        out.push(')');
                    }
                    (None, _) if e == 'Q' => {
                        let body = &p[i + 2..];
                        let (lit, consumed) = match body.find("\\E") {
                            Some(end) => (&body[..end], end + 2),
                            None => (body, body.len()),
                        };
                        if in_class {
                            for ch in lit.chars() {
                                out.push_str(&regex::escape(ch.encode_utf8(&mut [0; 4])));
                            }
                        } else {
                            out.push_str("(?:");
                            out.push_str(&regex::escape(lit));
                            out.push(')');
                        }
                        let stop = i + 2 + consumed;
                        while chars.peek().is_some_and(|&(j, _)| j < stop) {
                            chars.next();
                        }
                    }
                    (None, _) => {
                        out.push('\\');
                        out.push(e);
                    }
                }
            }
            '[' if !in_class => {
                in_class = true;
                out.push('[');
                if chars.peek().is_some_and(|&(_, n)| n == '^') {
                    chars.next();
                    out.push('^');
                }
                class_start = true;
            }
            '[' => {
                // `[:alpha:]` is a POSIX class in both dialects; any other `[` is literal in Go.
                let rest = &p[i..];
                match rest.strip_prefix("[:").and_then(|r| r.find(":]")) {
                    Some(end) => {
                        let whole = &rest[..end + 4];
                        out.push_str(whole);
                        let stop = i + whole.len();
                        while chars.peek().is_some_and(|&(j, _)| j < stop) {
                            chars.next();
                        }
                    }
                    None => out.push_str("\\["),
                }
            }
            ']' if in_class && at_class_start => out.push_str("\\]"),
            ']' if in_class => {
                in_class = false;
                out.push(']');
            }
            '&' | '~' if in_class => {
                out.push('\\');
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(yaml: &str) -> RelabelConfig {
        let mut r: RelabelConfig = yaml_serde::from_str(yaml).unwrap_or_else(|e| panic!("{yaml}: {e}"));
        r.validate(NameValidationScheme::Utf8)
            .unwrap_or_else(|e| panic!("{yaml}: {e}"));
        r
    }

    fn run(input: &[(&str, &str)], rules: &[&str]) -> Option<Vec<(String, String)>> {
        let rules: Vec<RelabelConfig> = rules.iter().map(|r| rule(r)).collect();
        let mut lb = LabelsBuilder::from_pairs(input.iter().copied());
        process(&rules, &mut lb).then(|| lb.to_pairs())
    }

    fn pairs(p: &[(&str, &str)]) -> Option<Vec<(String, String)>> {
        let mut v: Vec<(String, String)> = p.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect();
        v.sort();
        Some(v)
    }

    #[test]
    fn defaults_are_prometheus_defaults() {
        let r: RelabelConfig = yaml_serde::from_str("target_label: x").unwrap();
        assert_eq!(r.action, Action::Replace);
        assert_eq!(r.separator, ";");
        assert_eq!(r.regex.as_str(), "(.*)");
        assert_eq!(r.replacement, "$1");
        assert_eq!(r.modulus, 0);
        let r: RelabelConfig = yaml_serde::from_str("action: HashMod\nmodulus: 3\ntarget_label: x").unwrap();
        assert_eq!(r.action, Action::HashMod);
    }

    #[test]
    fn hashmod_matches_the_spec_vectors() {
        for (value, modulus, want) in [
            ("baz", 1000, 976),
            ("foo\nbar", 1000, 734),
            ("127.0.0.1:19100", 4, 0),
            ("localhost:9090", 10, 8),
            ("localhost:9090", 1000, 618),
            ("", 1000, 958),
            ("node1:9100", 3, 1),
        ] {
            assert_eq!(hashmod(value, modulus), want, "{value:?} mod {modulus}");
        }
        assert_eq!(
            run(
                &[("a", "localhost:9090")],
                &["{source_labels: [a], modulus: 1000, target_label: h, action: hashmod}"]
            ),
            pairs(&[("a", "localhost:9090"), ("h", "618")])
        );
    }

    /// The cases of upstream `model/relabel/relabel_test.go` `TestRelabel`.
    #[test]
    fn upstream_process_cases() {
        let abc = [("a", "foo"), ("b", "bar"), ("c", "baz")];
        type Case<'a> = (&'a [(&'a str, &'a str)], Vec<&'a str>, Option<Vec<(String, String)>>);
        let cases: Vec<Case> = vec![
            (
                &abc,
                vec!["{source_labels: [a], regex: f(.*), target_label: d, replacement: 'ch${1}-ch${1}'}"],
                pairs(&[("a", "foo"), ("b", "bar"), ("c", "baz"), ("d", "choo-choo")]),
            ),
            (
                &abc,
                vec![
                    "{source_labels: [a, b], regex: 'f(.*);(.*)r', target_label: a, replacement: 'b${1}${2}m'}",
                    "{source_labels: [c, a], regex: '(b).*b(.*)ba(.*)', target_label: d, replacement: '$1$2$2$3'}",
                ],
                pairs(&[("a", "boobam"), ("b", "bar"), ("c", "baz"), ("d", "boooom")]),
            ),
            (
                &[("a", "foo")],
                vec![
                    "{source_labels: [a], regex: .*o.*, action: drop}",
                    "{source_labels: [a], regex: f(.*), target_label: d, replacement: ch$1-ch$1}",
                ],
                None,
            ),
            (&[("a", "foo"), ("b", "bar")], vec!["{source_labels: [a], regex: .*o.*, action: drop}"], None),
            (
                &[("a", "abc")],
                vec!["{source_labels: [a], regex: .*(b).*, target_label: d, replacement: $1}"],
                pairs(&[("a", "abc"), ("d", "b")]),
            ),
            (&[("a", "foo")], vec!["{source_labels: [a], regex: no-match, action: drop}"], pairs(&[("a", "foo")])),
            (&[("a", "foo")], vec!["{source_labels: [a], regex: f|o, action: drop}"], pairs(&[("a", "foo")])),
            (&[("a", "foo")], vec!["{source_labels: [a], regex: no-match, action: keep}"], None),
            (&[("a", "foo")], vec!["{source_labels: [a], regex: f.*, action: keep}"], pairs(&[("a", "foo")])),
            (
                &[("a", "boo")],
                vec!["{source_labels: [a], regex: f, target_label: b, replacement: bar}"],
                pairs(&[("a", "boo")]),
            ),
            (
                &abc,
                vec!["{source_labels: [c], target_label: d, action: hashmod, modulus: 1000}"],
                pairs(&[("a", "foo"), ("b", "bar"), ("c", "baz"), ("d", "976")]),
            ),
            (
                &[("a", "foo\nbar")],
                vec!["{source_labels: [a], target_label: b, action: hashmod, modulus: 1000}"],
                pairs(&[("a", "foo\nbar"), ("b", "734")]),
            ),
            (
                &[("a", "foo"), ("b1", "bar"), ("b2", "baz")],
                vec!["{regex: (b.*), replacement: 'bar_${1}', action: labelmap}"],
                pairs(&[("a", "foo"), ("b1", "bar"), ("b2", "baz"), ("bar_b1", "bar"), ("bar_b2", "baz")]),
            ),
            (
                &[("a", "foo"), ("__meta_my_bar", "aaa"), ("__meta_my_baz", "bbb"), ("__meta_other", "ccc")],
                vec!["{regex: __meta_(my.*), replacement: '${1}', action: labelmap}"],
                pairs(&[
                    ("a", "foo"),
                    ("__meta_my_bar", "aaa"),
                    ("__meta_my_baz", "bbb"),
                    ("__meta_other", "ccc"),
                    ("my_bar", "aaa"),
                    ("my_baz", "bbb"),
                ]),
            ),
            (
                &[("a", "some-name-value")],
                vec!["{source_labels: [a], regex: 'some-([^-]+)-([^,]+)', replacement: '${2}', target_label: '${1}'}"],
                pairs(&[("a", "some-name-value"), ("name", "value")]),
            ),
            (
                &[("a", "some-name-value")],
                vec!["{source_labels: [a], regex: 'some-([^-]+)-([^,]+)', replacement: '${3}', target_label: '${1}'}"],
                pairs(&[("a", "some-name-value")]),
            ),
            (
                &[("a", "some-name-0")],
                vec![
                    "{source_labels: [a], regex: 'some-([^-]+)-([^,]+)', replacement: '${1}', target_label: '${3}'}",
                    "{source_labels: [a], regex: 'some-([^-]+)(-[^,]+)', replacement: '${1}', target_label: '${3}'}",
                ],
                pairs(&[("a", "some-name-0")]),
            ),
            (
                &[("__meta_sd_tags", "path:/secret,job:some-job,label:foo=bar")],
                vec![
                    "{source_labels: [__meta_sd_tags], regex: '(?:.+,|^)path:(/[^,]+).*', replacement: '${1}', target_label: __metrics_path__}",
                    "{source_labels: [__meta_sd_tags], regex: '(?:.+,|^)job:([^,]+).*', replacement: '${1}', target_label: job}",
                    "{source_labels: [__meta_sd_tags], regex: '(?:.+,|^)label:([^=]+)=([^,]+).*', replacement: '${2}', target_label: '${1}'}",
                ],
                pairs(&[
                    ("__meta_sd_tags", "path:/secret,job:some-job,label:foo=bar"),
                    ("__metrics_path__", "/secret"),
                    ("job", "some-job"),
                    ("foo", "bar"),
                ]),
            ),
            (
                &[
                    ("__meta_kubernetes_pod_container_port_name", "foo"),
                    ("__meta_kubernetes_pod_annotation_example_com_metrics_port", "9091"),
                ],
                vec![
                    "{regex: '^__meta_kubernetes_pod_container_port_name$', action: labeldrop}",
                    "{source_labels: [__meta_kubernetes_pod_annotation_example_com_metrics_port], regex: '(.+)', replacement: metrics, target_label: __meta_kubernetes_pod_container_port_name}",
                    "{source_labels: [__meta_kubernetes_pod_container_port_name], regex: '^metrics$', action: keep}",
                ],
                pairs(&[
                    ("__meta_kubernetes_pod_annotation_example_com_metrics_port", "9091"),
                    ("__meta_kubernetes_pod_container_port_name", "metrics"),
                ]),
            ),
            (
                &[("a", "foo"), ("b1", "bar"), ("b2", "baz")],
                vec!["{regex: (b.*), action: labelkeep}"],
                pairs(&[("b1", "bar"), ("b2", "baz")]),
            ),
            (
                &[("a", "foo"), ("b1", "bar"), ("b2", "baz")],
                vec!["{regex: (b.*), action: labeldrop}"],
                pairs(&[("a", "foo")]),
            ),
            (
                &[("foo", "bAr123Foo")],
                vec![
                    "{source_labels: [foo], action: uppercase, target_label: foo_uppercase}",
                    "{source_labels: [foo], action: lowercase, target_label: foo_lowercase}",
                ],
                pairs(&[("foo", "bAr123Foo"), ("foo_lowercase", "bar123foo"), ("foo_uppercase", "BAR123FOO")]),
            ),
        ];
        for (input, rules, want) in cases {
            assert_eq!(run(input, &rules), want, "rules {rules:?}");
        }
        let ports = [("__tmp_port", "1234"), ("__port1", "1234"), ("__port2", "5678")];
        let keepequal = |target: &str, action: &str| {
            run(
                &ports,
                &[&format!(
                    "{{source_labels: [__tmp_port], action: {action}, target_label: {target}}}"
                )],
            )
        };
        assert_eq!(keepequal("__port1", "keepequal"), pairs(&ports));
        assert_eq!(keepequal("__port1", "dropequal"), None);
        assert_eq!(keepequal("__port2", "dropequal"), pairs(&ports));
        assert_eq!(keepequal("__port2", "keepequal"), None);
    }

    #[test]
    fn replace_edge_cases() {
        // Empty source value with the default regex: the constant is set…
        assert_eq!(
            run(&[], &["{target_label: env, replacement: prod}"]),
            pairs(&[("env", "prod")])
        );
        // …and an empty replacement deletes the target.
        assert_eq!(
            run(&[("env", "x")], &["{target_label: env, replacement: ''}"]),
            pairs(&[])
        );
        // Missing source labels count as empty strings joined by the separator.
        assert_eq!(
            run(
                &[("b", "2")],
                &["{source_labels: [a, b], separator: '-', target_label: t}"]
            ),
            pairs(&[("b", "2"), ("t", "-2")])
        );
        // `.` matches a newline: regexes are compiled with (?s).
        assert_eq!(
            run(&[("a", "x\ny")], &["{source_labels: [a], regex: 'x.y', action: keep}"]),
            pairs(&[("a", "x\ny")])
        );
        // `$1x` is the group named "1x", which does not exist: empty value, label deleted.
        assert_eq!(
            run(
                &[("a", "v"), ("t", "old")],
                &["{source_labels: [a], regex: '(.*)', target_label: t, replacement: '$1x'}"]
            ),
            pairs(&[("a", "v")])
        );
        // `$$` is a literal dollar; a named group works with both forms.
        assert_eq!(
            run(
                &[("a", "host:80")],
                &["{source_labels: [a], regex: '(?P<h>[^:]+):(\\d+)', target_label: t, replacement: '$$${h}-$2'}"]
            ),
            pairs(&[("a", "host:80"), ("t", "$host-80")])
        );
        // A target label that expands to nothing is not written.
        assert_eq!(
            run(
                &[("a", "v")],
                &["{source_labels: [a], regex: '(.*)', target_label: '${2}', replacement: x}"]
            ),
            pairs(&[("a", "v")])
        );
    }

    #[test]
    fn go_expand_semantics() {
        let re = regex::Regex::new(r"^(?s:(?P<first>a+)(b+)?(c*))$").unwrap();
        let src = "aacc";
        let mut locs = re.capture_locations();
        assert!(re.captures_read(&mut locs, src).is_some());
        for (template, want) in [
            ("$1", "aa"),
            ("${1}", "aa"),
            ("$first", "aa"),
            ("${first}!", "aa!"),
            ("$2", ""),
            ("$3", "cc"),
            ("$1x", ""),
            ("${1}x", "aax"),
            ("$$1", "$1"),
            ("$", "$"),
            ("a$", "a$"),
            ("${", "${"),
            ("${1", "${1"),
            ("${}", "${}"),
            ("$-", "$-"),
            ("$01", ""),
            ("$0", "aacc"),
            ("$99", ""),
            ("$999999999", ""),
            ("x${first}y$3z", "xaay"),
            ("x${first}y${3}z", "xaayccz"),
        ] {
            let mut out = String::new();
            expand_go(template, &re, &locs, src, &mut out);
            assert_eq!(out, want, "{template:?}");
        }
    }

    #[test]
    fn case_mapping_follows_go() {
        for (input, lower, upper) in [
            ("bAr123Foo", "bar123foo", "BAR123FOO"),
            ("straße", "straße", "STRAßE"),
            ("İx", "ix", "İX"),
            ("ΟΔΟΣ", "οδοσ", "ΟΔΟΣ"),
            ("ﬁ", "ﬁ", "ﬁ"),
            ("ᾳ", "ᾳ", "ᾼ"),
        ] {
            let mut l = String::new();
            push_lower_go(input, &mut l);
            let mut u = String::new();
            push_upper_go(input, &mut u);
            assert_eq!((l.as_str(), u.as_str()), (lower, upper), "{input:?}");
        }
        // An empty result deletes the target label.
        assert_eq!(
            run(
                &[("t", "x")],
                &["{source_labels: [missing], action: lowercase, target_label: t}"]
            ),
            pairs(&[])
        );
    }

    #[test]
    fn regexes_match_like_go() {
        for (pattern, input, want) in [
            ("f|o", "foo", false),
            ("foo", "foo", true),
            ("fo", "foo", false),
            (r"\d+", "123", true),
            (r"\d+", "١٢٣", false),
            (r"\w+", "héllo", false),
            (r"\w+", "hello_1", true),
            (r"[\w.]+", "a.b", true),
            (r"[^\d]+", "abc", true),
            (r"[\D]+", "abc", true),
            (r"\s", "\u{a0}", false),
            (r"\s", "\t", true),
            (r"a\b", "a", true),
            (r"\Qa.b\E", "a.b", true),
            (r"\Qa.b\E", "axb", false),
            (r"[[:alpha:]]+", "abc", true),
            (r"[a[]+", "a[a", true),
            (r"[]a]+", "]a", true),
            (r"[a&&b]+", "a&b", true),
            (r"(?i)FOO", "foo", true),
            ("", "", true),
            ("", "x", false),
        ] {
            let re = RelabelRegex::new(pattern).unwrap_or_else(|e| panic!("{pattern:?}: {e}"));
            assert_eq!(re.is_match(input), want, "{pattern:?} on {input:?}");
        }
        let e = RelabelRegex::new("(").unwrap_err().to_string();
        assert!(
            e.starts_with("error parsing regexp \"(\": ") && e.contains("unclosed group"),
            "{e}"
        );
    }

    /// Validation texts of upstream `TestRelabelValidate` and `config/testdata/*.bad.yml`.
    #[test]
    fn validation_errors_have_upstream_texts() {
        let utf8 = NameValidationScheme::Utf8;
        let legacy = NameValidationScheme::Legacy;
        let cases = [
            (
                "action: replace",
                utf8,
                "relabel configuration for replace action requires 'target_label' value",
            ),
            (
                "action: lowercase",
                utf8,
                "relabel configuration for lowercase action requires 'target_label' value",
            ),
            (
                "action: uppercase",
                utf8,
                "relabel configuration for uppercase action requires 'target_label' value",
            ),
            (
                "{action: hashmod, modulus: 2}",
                utf8,
                "relabel configuration for hashmod action requires 'target_label' value",
            ),
            (
                "{action: dropequal, source_labels: [a]}",
                utf8,
                "relabel configuration for dropequal action requires 'target_label' value",
            ),
            (
                "{action: keepequal, source_labels: [a]}",
                utf8,
                "relabel configuration for keepequal action requires 'target_label' value",
            ),
            (
                "{action: hashmod, target_label: x}",
                utf8,
                "relabel configuration for hashmod requires non-zero modulus",
            ),
            (
                "{action: lowercase, target_label: '${3}'}",
                legacy,
                r#""${3}" is invalid 'target_label' for lowercase action"#,
            ),
            (
                "{action: lowercase, target_label: x, replacement: y}",
                utf8,
                "'replacement' can not be set for lowercase action",
            ),
            (
                "{action: uppercase, target_label: x, replacement: y}",
                utf8,
                "'replacement' can not be set for uppercase action",
            ),
            (
                "{action: keepequal, target_label: x, regex: a}",
                utf8,
                "keepequal action requires only 'source_labels' and `target_label`, and no other fields",
            ),
            (
                "{action: dropequal, target_label: x, separator: ','}",
                utf8,
                "dropequal action requires only 'source_labels' and `target_label`, and no other fields",
            ),
            (
                "{action: dropequal, target_label: x, modulus: 2}",
                utf8,
                "dropequal action requires only 'source_labels' and `target_label`, and no other fields",
            ),
            (
                "{action: labelkeep, source_labels: [abcdef]}",
                utf8,
                "labelkeep action requires only 'regex', and no other fields",
            ),
            (
                "{action: labelkeep, target_label: abcdef}",
                utf8,
                "labelkeep action requires only 'regex', and no other fields",
            ),
            (
                "{action: labelkeep, modulus: 8}",
                utf8,
                "labelkeep action requires only 'regex', and no other fields",
            ),
            (
                "{action: labelkeep, separator: ','}",
                utf8,
                "labelkeep action requires only 'regex', and no other fields",
            ),
            (
                "{action: labelkeep, replacement: yolo-$1}",
                utf8,
                "labelkeep action requires only 'regex', and no other fields",
            ),
            (
                "{action: labeldrop, source_labels: [abcdef]}",
                utf8,
                "labeldrop action requires only 'regex', and no other fields",
            ),
            (
                "{action: labeldrop, target_label: abcdef}",
                utf8,
                "labeldrop action requires only 'regex', and no other fields",
            ),
            (
                "{action: labeldrop, modulus: 8}",
                utf8,
                "labeldrop action requires only 'regex', and no other fields",
            ),
            (
                "{action: labeldrop, separator: ','}",
                utf8,
                "labeldrop action requires only 'regex', and no other fields",
            ),
            (
                "{action: labeldrop, replacement: yolo-$1}",
                utf8,
                "labeldrop action requires only 'regex', and no other fields",
            ),
            (
                "{source_labels: [a], regex: 'some-([^-]+)-([^,]+)', replacement: '${1}', target_label: '0${3}'}",
                legacy,
                r#""0${3}" is invalid 'target_label'"#,
            ),
            (
                "{source_labels: [a], regex: 'some-([^-]+)-([^,]+)', replacement: '${1}', target_label: '-${3}'}",
                legacy,
                r#""-${3}" is invalid 'target_label' for replace action"#,
            ),
            (
                "{target_label: 'a-b'}",
                legacy,
                r#""a-b" is invalid 'target_label' for replace action"#,
            ),
            (
                "{action: labelmap, replacement: 'a-$1'}",
                legacy,
                r#""a-$1" is invalid 'replacement' for labelmap action"#,
            ),
            (
                "{action: labelmap, replacement: ''}",
                utf8,
                r#""" is invalid 'replacement' for labelmap action"#,
            ),
            (
                "{source_labels: [''], target_label: x}",
                utf8,
                r#""" is not a valid label name"#,
            ),
        ];
        for (yaml, scheme, want) in cases {
            let mut r: RelabelConfig = yaml_serde::from_str(yaml).unwrap_or_else(|e| panic!("{yaml}: {e}"));
            let got = r.validate(scheme).map_err(|e| e.to_string());
            assert!(
                got.as_ref().is_err_and(|e| e.contains(want)),
                "{yaml}: want {want:?}, got {got:?}"
            );
        }
        // Under UTF-8 names the same templates are fine (3.x default).
        for yaml in [
            "{source_labels: [a], regex: 'some-([^-]+)-([^,]+)', replacement: '${1}', target_label: '-${3}'}",
            "{target_label: 'a-b.c'}",
            "{action: labelmap, replacement: 'a-$1'}",
        ] {
            let mut r: RelabelConfig = yaml_serde::from_str(yaml).unwrap();
            assert_eq!(r.validate(utf8), Ok(()), "{yaml}");
        }
    }

    #[test]
    fn deserialisation_errors() {
        for (yaml, want) in [
            ("action: hashmood", "unknown relabel action \"hashmood\""),
            ("action: ''", "unknown relabel action \"\""),
            ("action:", "relabel action cannot be empty"),
            ("regex: '('", "error parsing regexp"),
            ("bogus: 1", "unknown field `bogus`"),
            ("modulus: -1", "invalid type: integer `-1`"),
        ] {
            let e = yaml_serde::from_str::<RelabelConfig>(yaml).unwrap_err().to_string();
            assert!(e.contains(want), "{yaml}: {e}");
        }
        // `regex:` with no value is Go's empty regex: it matches only "".
        let r: RelabelConfig = yaml_serde::from_str("regex:\naction: keep\nsource_labels: [a]").unwrap();
        assert!(r.regex.is_match("") && !r.regex.is_match("x"));
    }

    #[test]
    fn legacy_template_names() {
        // Upstream TestTargetLabelValidity.
        for (s, ok) in [
            ("-label", false),
            ("label", true),
            ("label${1}", true),
            ("${1}label", true),
            ("${1}", true),
            ("${", false),
            ("$", false),
            ("${}", false),
            ("foo${", false),
            ("$1", true),
            ("asd$2asd", true),
            ("-foo${1}bar-", false),
            ("_${1}_", true),
            ("foo${bar}foo", true),
        ] {
            assert_eq!(is_legacy_name_template(s), ok, "{s:?}");
        }
    }

    #[test]
    fn unchanged_label_sets_do_not_grow_the_builder() {
        let rules: Vec<RelabelConfig> =
            ["{source_labels: [job], regex: 'n(.*)', target_label: kind, replacement: 'n$1'}"]
                .iter()
                .map(|r| rule(r))
                .collect();
        let mut lb = LabelsBuilder::new();
        for _ in 0..3 {
            lb.clear();
            lb.set("job", "node");
            assert!(process(&rules, &mut lb));
            assert_eq!(lb.get("kind"), "node");
        }
        assert_eq!(lb.scratch.captures.len(), 1, "capture slots are cached per regex");
    }
}
