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
        let mut limit_hit = false;
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
            let key = key_of(sample.series);
            let (r, seen, new) = match self.cache.get(key) {
                Some((e, seen)) => (e.r, seen, false),
                None => {
                    sample.labels_into(&mut self.buf);
                    match self.resolve() {
                        // Past the sample limit nothing more is created; the
                        // labels are still worked out so that the counts are right.
                        Ok(Some(_)) if limit_hit => (None, Seen::First, true),
                        Ok(Some(labels)) => {
                            let r = Some(app.series_ref(&labels));
                            self.cache.insert(key, r);
                            (r, Seen::First, true)
                        }
                        Ok(None) => {
                            // Dropped by metric relabeling: remembered, not counted.
                            self.cache.insert(key, None);
                            continue;
                        }
                        Err(e) => {
                            rep.error = Some(e);
                            break;
                        }
                    }
                }
            };
            if r.is_none() && !(limit_hit && new) {
                // Dropped by metric relabeling (remembered in the cache).
                continue;
            }
            rep.post_relabel += 1;
            if limit_hit {
                continue;
            }
            let Some(r) = r else { continue };
            if seen == Seen::Again && sample.timestamp.is_none() {
                rep.error = Some(format!(
                    "duplicate series in one scrape: {}",
                    String::from_utf8_lossy(sample.series)
                ));
                break;
            }
            let limit = self.rules.limits.sample_limit;
            if limit > 0 && rep.appended >= limit {
                rep.error = Some(format!("sample limit exceeded (limit: {limit})"));
                // Keep parsing so the counts are complete, append nothing more.
                limit_hit = true;
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

    /// Cache miss: the decoded labels in `self.buf` → the series' labels, or
    /// `None` when metric relabeling drops it. Errors fail the scrape.
    fn resolve(&mut self) -> Result<Option<Labels>, String> {
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
        Ok(Some(labels))
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

#[cfg(test)]
mod tests {
    use super::*;
    use strata_storage::{is_stale_nan, Db, Matcher, Options};

    const T: i64 = 1_700_000_000_000;

    fn db() -> (tempfile::TempDir, Db) {
        let d = tempfile::tempdir().unwrap();
        let db = Db::open(
            d.path(),
            Options {
                maintenance_interval: None,
                ..Options::default()
            },
        )
        .unwrap();
        (d, db)
    }

    fn rules(target: &[(&str, &str)], honor: bool, relabel: &str) -> SampleRules {
        let metric_relabel: Vec<RelabelConfig> = if relabel.is_empty() {
            Vec::new()
        } else {
            let mut v: Vec<RelabelConfig> = yaml_serde::from_str(relabel).unwrap();
            for r in &mut v {
                r.validate(Default::default()).unwrap();
            }
            v
        };
        SampleRules {
            target_labels: target.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect(),
            honor_labels: honor,
            honor_timestamps: true,
            track_timestamps_staleness: false,
            metric_relabel: metric_relabel.into(),
            limits: Limits::default(),
        }
    }

    /// Scrapes `body` at `t` and commits (or rolls back and writes the failure's markers).
    fn scrape(db: &Db, ta: &mut TargetAppender, body: &str, t: i64) -> AppendReport {
        let mut app = db.appender();
        let rep = ta.append(&mut app, Format::PromText, body.as_bytes(), t, t);
        if rep.error.is_some() {
            app.rollback();
            let mut app = db.appender();
            ta.append_failed(&mut app, t);
            app.commit().unwrap();
        } else {
            app.commit().unwrap();
        }
        rep
    }

    fn series(db: &Db) -> Vec<String> {
        let q = db.querier(i64::MIN, i64::MAX);
        let mut v: Vec<String> = q
            .select(&[Matcher::new(strata_storage::MatchOp::Regex, "__name__", ".+").unwrap()])
            .unwrap()
            .iter()
            .map(|s| s.labels.to_string())
            .collect();
        v.sort();
        v
    }

    fn latest(db: &Db, name: &str) -> Vec<(i64, f64)> {
        let q = db.querier(i64::MIN, i64::MAX);
        q.select(&[Matcher::equal("__name__", name)])
            .unwrap()
            .iter()
            .flat_map(|s| s.collect_samples().unwrap())
            .collect()
    }

    #[test]
    fn target_labels_win_and_exposed_ones_become_exported() {
        let (_d, db) = db();
        let mut ta = TargetAppender::new(rules(&[("job", "j"), ("n", "2"), ("exported_n", "2")], false, ""));
        let rep = scrape(&db, &mut ta, "a{n=\"1\"} 1\nb{job=\"x\"} 1\n", T);
        assert_eq!(rep.error, None);
        assert_eq!(
            series(&db),
            vec![
                r#"{__name__="a", exported_exported_n="1", exported_n="2", job="j", n="2"}"#,
                r#"{__name__="b", exported_job="x", exported_n="2", job="j", n="2"}"#,
            ]
        );
    }

    #[test]
    fn honor_labels_keeps_exposed_values_and_an_empty_one_blocks() {
        let (_d, db) = db();
        let mut ta = TargetAppender::new(rules(&[("job", "j"), ("instance", "h:1")], true, ""));
        scrape(&db, &mut ta, "a{job=\"x\"} 1\nb{instance=\"\"} 1\n", T);
        assert_eq!(
            series(&db),
            vec![
                r#"{__name__="a", instance="h:1", job="x"}"#,
                r#"{__name__="b", job="j"}"#
            ]
        );
    }

    #[test]
    fn sample_limit_fails_the_scrape_with_complete_counts() {
        let (_d, db) = db();
        let mut r = rules(&[("job", "j")], false, "");
        r.limits.sample_limit = 1;
        let mut ta = TargetAppender::new(r);
        let rep = scrape(&db, &mut ta, "metric_a 1\nmetric_b 1\nmetric_c 1\n", T);
        assert_eq!(rep.error.as_deref(), Some("sample limit exceeded (limit: 1)"));
        assert_eq!((rep.scraped, rep.post_relabel, rep.series_added), (3, 3, 1));
        // Rolled back: nothing stored.
        assert!(latest(&db, "metric_a").is_empty());
    }

    #[test]
    fn metric_relabeling_drops_are_counted_and_cached() {
        let (_d, db) = db();
        let relabel = "- source_labels: [__name__]\n  regex: drop_.*\n  action: drop\n";
        let mut ta = TargetAppender::new(rules(&[("job", "j")], false, relabel));
        let body = "a 1\nb 1\nc 1\nd 1\ne 1\nf 1\ndrop_a 1\ndrop_b 1\ndrop_c 1\n";
        let rep = scrape(&db, &mut ta, body, T);
        assert_eq!((rep.scraped, rep.post_relabel, rep.appended), (9, 6, 6));
        let rep = scrape(&db, &mut ta, body, T + 15_000);
        assert_eq!((rep.scraped, rep.post_relabel, rep.series_added), (9, 6, 0));
        assert!(latest(&db, "drop_a").is_empty());
    }

    #[test]
    fn a_vanished_series_gets_a_stale_marker_once() {
        let (_d, db) = db();
        let mut ta = TargetAppender::new(rules(&[("job", "j")], false, ""));
        scrape(&db, &mut ta, "a 1\nb 2\n", T);
        let rep = scrape(&db, &mut ta, "a 1\n", T + 15_000);
        assert_eq!(rep.stale_markers, 1);
        let b = latest(&db, "b");
        assert_eq!(b.len(), 2);
        assert!(is_stale_nan(b[1].1));
        assert_eq!(b[1].0, T + 15_000);
        let rep = scrape(&db, &mut ta, "a 1\n", T + 30_000);
        assert_eq!(rep.stale_markers, 0);
    }

    #[test]
    fn series_with_explicit_timestamps_do_not_go_stale() {
        let (_d, db) = db();
        let mut ta = TargetAppender::new(rules(&[("job", "j")], false, ""));
        scrape(&db, &mut ta, &format!("a 1 {T}\nb 2\n"), T);
        let rep = scrape(&db, &mut ta, "b 2\n", T + 15_000);
        assert_eq!(rep.stale_markers, 0);
    }

    #[test]
    fn a_failed_append_marks_the_previous_series_stale_except_those_seen_again() {
        let (_d, db) = db();
        let mut r = rules(&[("job", "j")], false, "");
        r.limits.sample_limit = 2;
        let mut ta = TargetAppender::new(r);
        scrape(&db, &mut ta, "a 1\nb 1\n", T);
        // Over the limit: a is seen again before the failure, b is not.
        let rep = scrape(&db, &mut ta, "a 1\nc 1\nd 1\n", T + 15_000);
        assert!(rep.error.is_some());
        assert!(is_stale_nan(latest(&db, "b").last().unwrap().1));
        assert_eq!(latest(&db, "a").len(), 1);
    }

    #[test]
    fn bad_bodies_fail_with_the_line() {
        let (_d, db) = db();
        let mut ta = TargetAppender::new(rules(&[("job", "j")], false, ""));
        let rep = scrape(&db, &mut ta, "a 1\nb{x=\"1} 2\n", T);
        let e = rep.error.unwrap();
        assert!(e.starts_with("line 2"), "{e}");
        let rep = scrape(&db, &mut ta, "a 1\na 2\n", T + 15_000);
        assert!(rep.error.unwrap().contains("duplicate series"));
        let rep = scrape(&db, &mut ta, "a{x=\"1\",x=\"2\"} 1\n", T + 30_000);
        assert!(rep.error.unwrap().contains("not unique"));
    }

    #[test]
    fn label_limits_name_the_metric() {
        let (_d, db) = db();
        let mut r = rules(&[("job", "j")], false, "");
        r.limits.label_limit = 2;
        let mut ta = TargetAppender::new(r.clone());
        let rep = scrape(&db, &mut ta, "a{x=\"1\"} 1\n", T);
        assert_eq!(
            rep.error.as_deref(),
            Some("label_limit exceeded (metric: a, number of labels: 3, limit: 2)")
        );
        r.limits = Limits {
            label_value_length_limit: 3,
            ..Limits::default()
        };
        let mut ta = TargetAppender::new(r);
        let rep = scrape(&db, &mut ta, "a{x=\"long\"} 1\n", T);
        assert!(rep
            .error
            .unwrap()
            .starts_with("label_value_length_limit exceeded (metric: a, label name: x"));
    }

    #[test]
    fn timestamps_are_honored_unless_told_not_to() {
        let (_d, db) = db();
        let mut r = rules(&[("job", "j")], false, "");
        let mut ta = TargetAppender::new(r.clone());
        scrape(&db, &mut ta, &format!("a 1 {}\n", T - 5_000), T);
        assert_eq!(latest(&db, "a"), vec![(T - 5_000, 1.0)]);
        r.honor_timestamps = false;
        let mut ta = TargetAppender::new(r);
        scrape(&db, &mut ta, &format!("b 1 {}\n", T - 5_000), T);
        assert_eq!(latest(&db, "b"), vec![(T, 1.0)]);
        // Ten minutes ahead is refused.
        let mut ta = TargetAppender::new(rules(&[("job", "j")], false, ""));
        let rep = scrape(&db, &mut ta, &format!("c 1 {}\n", T + 11 * 60_000), T);
        assert_eq!(rep.out_of_bounds, 1);
    }

    #[test]
    fn metadata_is_kept_per_family() {
        let (_d, db) = db();
        let mut ta = TargetAppender::new(rules(&[("job", "j")], false, ""));
        scrape(&db, &mut ta, "# HELP a The a.\n# TYPE a counter\na 1\n", T);
        let m: Vec<_> = ta.metadata().map(|(k, m)| (k.to_string(), m.clone())).collect();
        assert_eq!(
            m,
            vec![(
                "a".to_string(),
                Metadata {
                    metric_type: MetricType::Counter,
                    help: "The a.".into(),
                    unit: String::new()
                }
            )]
        );
    }
}
