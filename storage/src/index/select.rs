//! Evaluating label matchers against a segment's postings, with
//! Prometheus's semantics: a series that lacks label `n` is matched as if it
//! had `n=""`.
//!
//! Each matcher becomes either a set of series to keep (`job="api"`) or a
//! set to remove from all series (`job!="api"`, or any matcher that also
//! accepts the empty value, since it must keep every series lacking the
//! label). Sets to keep are intersected, smallest first; sets to remove are
//! then subtracted. This is the plan of Prometheus's `PostingsForMatchers`.

use super::postings::{self, OrdSet, PostingsList};
use super::segment::Segment;
use crate::{MatchOp, Matcher};

/// What one matcher contributes to a select.
enum Plan<'a> {
    /// Keep only these series.
    Keep(OrdSet<'a>),
    /// Drop these series.
    Drop(OrdSet<'a>),
}

impl Segment {
    /// The ordinals of the series matching every matcher, ascending (hence in
    /// label order). No matchers select every series.
    pub(crate) fn select(&self, matchers: &[Matcher]) -> Vec<u32> {
        let mut keep = Vec::new();
        let mut drop = Vec::new();
        for m in matchers {
            match self.plan(m) {
                Plan::Keep(set) if set.is_empty() => return Vec::new(),
                Plan::Keep(set) => keep.push(set),
                Plan::Drop(set) if set.is_empty() => {}
                Plan::Drop(set) => drop.push(set),
            }
        }
        keep.sort_by_key(OrdSet::size_hint);
        let mut keep = keep.into_iter();
        let mut acc = match keep.next() {
            Some(first) => first.into_sorted(),
            None => (0..self.len()).collect(),
        };
        for set in keep {
            if acc.is_empty() {
                return acc;
            }
            postings::intersect(&mut acc, &set);
        }
        for set in &drop {
            postings::subtract(&mut acc, set);
        }
        acc
    }

    /// The set one matcher keeps or drops.
    fn plan(&self, m: &Matcher) -> Plan<'_> {
        let name = self.symbol_id(&m.name);
        let pair = |value: &str| -> Option<PostingsList<'_>> {
            let i = self.pair_index(name?, self.symbol_id(value)?)?;
            Some(self.postings_at(i))
        };
        match m.op {
            // Fast paths that look a value up instead of scanning all values.
            MatchOp::Equal if !m.value.is_empty() => {
                Plan::Keep(pair(&m.value).map_or(OrdSet::List(Vec::new()), OrdSet::Postings))
            }
            MatchOp::NotEqual if !m.value.is_empty() => {
                Plan::Drop(pair(&m.value).map_or(OrdSet::List(Vec::new()), OrdSet::Postings))
            }
            MatchOp::Regex => match m.set_literals() {
                Some(values) if !values.contains(&"") => {
                    let lists: Vec<_> = values.iter().filter_map(|v| pair(v)).collect();
                    Plan::Keep(postings::union(&lists, self.len()))
                }
                _ => self.plan_by_scan(name, m),
            },
            _ => self.plan_by_scan(name, m),
        }
    }

    /// Tests the matcher on every value of its label. If it accepts the
    /// empty value, series lacking the label match, so the plan is to drop
    /// the series whose value it rejects; otherwise to keep those whose
    /// value it accepts.
    fn plan_by_scan(&self, name: Option<u32>, m: &Matcher) -> Plan<'_> {
        let accepts_empty = m.matches("");
        let lists: Vec<PostingsList<'_>> = match name {
            Some(name) => self
                .name_range(name)
                .filter(|&i| m.matches(self.symbol(self.table_entry(i).1)) != accepts_empty)
                .map(|i| self.postings_at(i))
                .collect(),
            None => Vec::new(),
        };
        let set = postings::union(&lists, self.len());
        if accepts_empty {
            Plan::Drop(set)
        } else {
            Plan::Keep(set)
        }
    }
}
