//! Turning one scraped body into appended samples: the per-sample label
//! rules (spec §2.4), limits (§2.7), staleness markers (§2.8), the scrape
//! cache (§2.9) and metadata (§2.10). No I/O here; the loop feeds bodies in.

use std::collections::HashMap;
use std::sync::Arc;

use strata_storage::{stale_nan, AppendError, Appender, Labels, SeriesRef};

use super::cache::{key_of, ScrapeCache, Seen};
use crate::exposition::{Entry, Format, LabelBuf, MetricType, Parser};
use crate::labels::LabelsBuilder;
use crate::relabel::RelabelConfig;

/// Samples further than this in the future are refused (Prometheus's
/// `timeLimitAppender`).
const MAX_FUTURE_MS: i64 = 10 * 60 * 1000;

/// Scraped-sample limits of a scrape config (0 = unlimited).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Limits {
    /// Samples appended per scrape, after metric relabeling.
    pub sample_limit: u64,
    /// Labels per series, `__name__` included.
    pub label_limit: u64,
    /// Bytes per label name.
    pub label_name_length_limit: u64,
    /// Bytes per label value.
    pub label_value_length_limit: u64,
}

/// Per-sample settings of one target's loop.
#[derive(Clone)]
pub struct SampleRules {
    /// The target's labels attached to samples (no `__` names), in name order.
    pub target_labels: Vec<(String, String)>,
    /// `honor_labels`.
    pub honor_labels: bool,
    /// `honor_timestamps`.
    pub honor_timestamps: bool,
    /// `track_timestamps_staleness`.
    pub track_timestamps_staleness: bool,
    /// `metric_relabel_configs`.
    pub metric_relabel: Arc<[RelabelConfig]>,
    /// Limits.
    pub limits: Limits,
}

/// Type, help and unit of one metric family as the target last exposed them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Metadata {
    /// Declared type (`unknown` when none).
    pub metric_type: MetricType,
    /// HELP text.
    pub help: String,
    /// UNIT (OpenMetrics).
    pub unit: String,
}

/// Counts of one scrape's append, for the synthetic series and the target's state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AppendReport {
    /// Samples parsed from the body (`scrape_samples_scraped`).
    pub scraped: u64,
    /// Samples that survived metric relabeling (`scrape_samples_post_metric_relabeling`).
    pub post_relabel: u64,
    /// Series new to this target's cache that were appended (`scrape_series_added`).
    pub series_added: u64,
    /// Samples appended.
    pub appended: u64,
    /// Samples refused by storage as out of order.
    pub out_of_order: u64,
    /// Samples refused by storage as a different value at the same timestamp.
    pub duplicate: u64,
    /// Samples refused as too old for the head or too far in the future.
    pub out_of_bounds: u64,
    /// Stale markers written.
    pub stale_markers: u64,
    /// Why the scrape failed, if it did (the partial append must then be rolled back).
    pub error: Option<String>,
}

/// What a target's loop keeps from one scrape to the next.
pub struct TargetAppender {
    rules: SampleRules,
    cache: ScrapeCache,
    /// Metadata per family, with the iteration it was last seen in.
    metadata: HashMap<String, (Metadata, u64)>,
    iteration: u64,
    buf: LabelBuf,
    builder: LabelsBuilder,
}

/// Metadata is dropped after this many scrapes without it.
const METADATA_KEEP: u64 = 10;

impl TargetAppender {
    /// A fresh appender for a target with these rules.
    pub fn new(rules: SampleRules) -> TargetAppender {
        TargetAppender {
            rules,
            cache: ScrapeCache::new(),
            metadata: HashMap::new(),
            iteration: 0,
            buf: LabelBuf::default(),
            builder: LabelsBuilder::new(),
        }
    }

    /// The rules in force.
    pub fn rules(&self) -> &SampleRules {
        &self.rules
    }

    /// Replaces the rules (on reload); the cache is emptied because the same
    /// text may now map to other labels.
    pub fn set_rules(&mut self, rules: SampleRules) {
        self.rules = rules;
        self.cache.clear();
    }

    /// Metadata of the families the target exposed recently.
    pub fn metadata(&self) -> impl Iterator<Item = (&str, &Metadata)> {
        self.metadata.iter().map(|(k, (m, _))| (k.as_str(), m))
    }

    /// Series of the last scrapes, for markers when the target goes away.
    pub fn live_series(&self) -> Vec<SeriesRef> {
        self.cache.live().collect()
    }

    /// Appends the samples of `body` at `t` (ms; the scrape's append time)
    /// and marks stale the series of the previous scrape that are missing.
    /// `now` bounds explicit timestamps (10 minutes ahead at most).
    ///
    /// When the report carries an error, the caller must roll `app` back and
    /// call [`TargetAppender::append_failed`] on a fresh appender.
    pub fn append(&mut self, app: &mut Appender, format: Format, body: &[u8], t: i64, now: i64) -> AppendReport {
        let mut rep = AppendReport::default();
        let mut parser = Parser::new(format, body);
        loop {
            let entry = match parser.next() {
                Ok(Some(e)) => e,
                Ok(None) => break,
                Err(e) => {
                    rep.error.get_or_insert_with(|| e.to_string());
                    break;
                }
            };
            let sample = match entry {
                Entry::Sample(s) => s,
                Entry::Type { family, metric_type } => {
                    self.meta(&family).metric_type = metric_type;
                    continue;
                }
                Entry::Help { family, help } => {
                    let m = self.meta(&family);
                    if m.help != *help {
                        m.help = help.into_owned();
                    }
                    continue;
                }
                Entry::Unit { family, unit } => {
                    let m = self.meta(&family);
                    if m.unit != *unit {
                        m.unit = unit.into_owned();
                    }
                    continue;
                }
            };
            rep.scraped += 1;
            if rep.error.is_some() {
                // Keep parsing so the counts are complete, append nothing.
                continue;
            }
            let key = key_of(sample.series);
            let (r, seen, new) = match self.cache.get(key) {
                Some((e, seen)) => (e.r, seen, false),
                None => {
                    sample.labels_into(&mut self.buf);
                    match self.resolve(app) {
                        Ok(r) => {
                            self.cache.insert(key, r);
                            (r, Seen::First, true)
                        }
                        Err(e) => {
                            rep.error = Some(e);
                            continue;
                        }
                    }
                }
            };
            let Some(r) = r else { continue };
            rep.post_relabel += 1;
            if seen == Seen::Again && sample.timestamp.is_none() {
                rep.error = Some(format!(
                    "duplicate series in one scrape: {}",
                    String::from_utf8_lossy(sample.series)
                ));
                continue;
            }
            let limit = self.rules.limits.sample_limit;
            if limit > 0 && rep.appended >= limit {
                rep.error = Some(format!("sample limit exceeded (limit: {limit})"));
                continue;
            }
            let ts = match sample.timestamp {
                Some(ts) if self.rules.honor_timestamps => ts,
                _ => t,
            };
            if ts > now + MAX_FUTURE_MS {
                rep.out_of_bounds += 1;
                continue;
            }
            match app.append(r, ts, sample.value) {
                Ok(()) => {
                    rep.appended += 1;
                    if new {
                        rep.series_added += 1;
                    }
                    if sample.timestamp.is_none() || self.rules.track_timestamps_staleness {
                        self.cache.track(key);
                    }
                }
                Err(AppendError::OutOfOrder) => rep.out_of_order += 1,
                Err(AppendError::Duplicate) => rep.duplicate += 1,
                Err(AppendError::OutOfBounds) => rep.out_of_bounds += 1,
                Err(AppendError::UnknownSeries(_)) => {
                    // The storage no longer has the series the cache named:
                    // forget the text; the next scrape looks it up afresh.
                    self.cache.remove(key);
                }
            }
        }
        if rep.error.is_none() {
            rep.stale_markers = self.mark_stale(app, t);
            self.cache.iter_done(!body.is_empty());
            self.end_iteration();
        }
        rep
    }

    /// After a failed scrape (HTTP error, timeout, or an append the caller
    /// rolled back): marks stale what the previous scrape had and the failed
    /// attempt did not see again. Returns the number of markers.
    pub fn append_failed(&mut self, app: &mut Appender, t: i64) -> u64 {
        let n = self.mark_stale(app, t);
        self.cache.iter_done(false);
        n
    }

    fn mark_stale(&mut self, app: &mut Appender, t: i64) -> u64 {
        let mut n = 0;
        for r in self.cache.stale() {
            // Refused markers (a newer sample exists) are fine to drop.
            if app.append(r, t, stale_nan()).is_ok() {
                n += 1;
            }
        }
        n
    }

    fn end_iteration(&mut self) {
        self.iteration += 1;
        let it = self.iteration;
        self.metadata.retain(|_, (_, seen)| *seen + METADATA_KEEP > it);
    }

    fn meta(&mut self, family: &str) -> &mut Metadata {
        let it = self.iteration + 1;
        if !self.metadata.contains_key(family) {
            self.metadata.insert(family.to_owned(), (Metadata::default(), it));
        }
        let e = self.metadata.get_mut(family).expect("inserted above");
        e.1 = it;
        &mut e.0
    }

    /// Cache miss: the decoded labels in `self.buf` → the stored series, or
    /// `None` when metric relabeling drops it. Errors fail the scrape.
    fn resolve(&mut self, app: &mut Appender) -> Result<Option<SeriesRef>, String> {
        let rules = &self.rules;
        let lb = &mut self.builder;
        lb.clear();
        // Exposed labels, duplicates refused (storage would refuse them too).
        let mut exposed_empty: Vec<&str> = Vec::new();
        for (n, v) in self.buf.iter() {
            if lb.contains(n) || (v.is_empty() && exposed_empty.contains(&n)) {
                return Err(format!("label name {n:?} is not unique: invalid sample"));
            }
            if v.is_empty() {
                exposed_empty.push(n);
            } else {
                lb.set(n, v);
            }
        }
        if rules.honor_labels {
            for (n, v) in &rules.target_labels {
                // An exposed label, even an empty one, wins.
                if !lb.contains(n) && !exposed_empty.contains(&n.as_str()) {
                    lb.set(n, v);
                }
            }
        } else {
            let mut conflicts: Vec<(&str, String)> = Vec::new();
            for (n, v) in &rules.target_labels {
                let exposed = lb.get(n);
                if !exposed.is_empty() {
                    conflicts.push((n, exposed.to_owned()));
                }
                lb.set(n, v);
            }
            // Shortest names first, so `exported_` prefixes stack predictably.
            conflicts.sort_by_key(|(n, _)| n.len());
            for (n, v) in conflicts {
                let mut name = format!("exported_{n}");
                while !lb.get(&name).is_empty() {
                    name.insert_str(0, "exported_");
                }
                lb.set(&name, &v);
            }
        }
        if !crate::relabel::process(&rules.metric_relabel, lb) || lb.is_empty() {
            return Ok(None);
        }
        if lb.get("__name__").is_empty() {
            return Err("missing metric name (__name__ label)".to_string());
        }
        check_label_limits(lb, &rules.limits)?;
        let labels = Labels::new(lb.iter()).map_err(|e| format!("invalid label set {}: {e}", render(lb)))?;
        Ok(Some(app.series_ref(&labels)))
    }
}

fn render(lb: &LabelsBuilder) -> String {
    let mut s = String::from("{");
    for (i, (n, v)) in lb.iter().enumerate() {
        if i > 0 {
            s.push_str(", ");
        }
        s.push_str(&format!("{n}={v:?}"));
    }
    s.push('}');
    s
}

fn check_label_limits(lb: &LabelsBuilder, l: &Limits) -> Result<(), String> {
    let name = lb.get("__name__");
    if l.label_limit > 0 && lb.len() as u64 > l.label_limit {
        return Err(format!(
            "label_limit exceeded (metric: {name}, number of labels: {}, limit: {})",
            lb.len(),
            l.label_limit
        ));
    }
    for (n, v) in lb.iter() {
        if l.label_name_length_limit > 0 && n.len() as u64 > l.label_name_length_limit {
            return Err(format!(
                "label_name_length_limit exceeded (metric: {name}, label name: {n}, length: {}, limit: {})",
                n.len(),
                l.label_name_length_limit
            ));
        }
        if l.label_value_length_limit > 0 && v.len() as u64 > l.label_value_length_limit {
            return Err(format!(
                "label_value_length_limit exceeded (metric: {name}, label name: {n}, value: {v:?}, length: {}, limit: {})",
                v.len(),
                l.label_value_length_limit
            ));
        }
    }
    Ok(())
}
