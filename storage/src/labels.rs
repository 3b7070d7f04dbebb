//! Label sets: the identity of a series.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

/// The label that holds a series' metric name.
pub const METRIC_NAME: &str = "__name__";

/// One `name="value"` pair. Strings are reference-counted so that a series
/// created through the head shares them with every other series that uses
/// the same name or value (see `Interner`).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Label {
    /// Label name, e.g. `job`.
    pub name: Arc<str>,
    /// Label value; never empty inside a [`Labels`] (an empty value means "absent").
    pub value: Arc<str>,
}

/// A series' label set.
///
/// Invariants, checked on construction: sorted by name, no duplicate names, no
/// empty values (Prometheus treats `name=""` as the label being absent, so such
/// pairs are dropped rather than rejected), no empty names.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Labels(Box<[Label]>);

/// Why a label set was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LabelsError {
    /// Two pairs share a name.
    #[error("duplicate label name {0:?}")]
    DuplicateName(String),
    /// A pair has an empty name.
    #[error("empty label name")]
    EmptyName,
}

impl Labels {
    /// Builds a label set from pairs in any order. Pairs with an empty value are
    /// dropped; duplicate or empty names are refused.
    pub fn new<N: AsRef<str>, V: AsRef<str>>(pairs: impl IntoIterator<Item = (N, V)>) -> Result<Labels, LabelsError> {
        let mut v: Vec<Label> = pairs
            .into_iter()
            .filter(|(_, val)| !val.as_ref().is_empty())
            .map(|(n, val)| Label {
                name: Arc::from(n.as_ref()),
                value: Arc::from(val.as_ref()),
            })
            .collect();
        Self::from_vec(&mut v)?;
        Ok(Labels(v.into_boxed_slice()))
    }

    fn from_vec(v: &mut [Label]) -> Result<(), LabelsError> {
        v.sort_unstable_by(|a, b| a.name.cmp(&b.name));
        for w in v.windows(2) {
            if w[0].name == w[1].name {
                return Err(LabelsError::DuplicateName(w[0].name.to_string()));
            }
        }
        if v.first().is_some_and(|l| l.name.is_empty()) {
            return Err(LabelsError::EmptyName);
        }
        Ok(())
    }

    /// Builds a label set from `Label`s in any order, with the same checks as [`Labels::new`].
    pub fn from_labels(labels: Vec<Label>) -> Result<Labels, LabelsError> {
        let mut v: Vec<Label> = labels.into_iter().filter(|l| !l.value.is_empty()).collect();
        Self::from_vec(&mut v)?;
        Ok(Labels(v.into_boxed_slice()))
    }

    /// Shorthand for tests and examples: `Labels::from_pairs(&[("job", "node")])`.
    /// Panics on invalid input, so it is for literals only.
    pub fn from_pairs(pairs: &[(&str, &str)]) -> Labels {
        Labels::new(pairs.iter().copied()).expect("valid literal label set")
    }

    /// The value of `name`, if present.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .binary_search_by(|l| (*l.name).cmp(name))
            .ok()
            .map(|i| &*self.0[i].value)
    }

    /// The metric name (`__name__`), if present.
    pub fn metric_name(&self) -> Option<&str> {
        self.get(METRIC_NAME)
    }

    /// Iterates the pairs in name order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, &str)> + '_ {
        self.0.iter().map(|l| (&*l.name, &*l.value))
    }

    /// The pairs as a slice, in name order.
    pub fn as_slice(&self) -> &[Label] {
        &self.0
    }

    /// Number of pairs.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True for the empty label set.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// A 64-bit hash of the label set, stable within one process.
    pub fn hash64(&self) -> u64 {
        hash_pairs(self.iter())
    }

    /// Heap bytes held by this set if none of its strings were shared.
    pub fn heap_bytes(&self) -> usize {
        self.0.len() * std::mem::size_of::<Label>() + self.0.iter().map(|l| l.name.len() + l.value.len()).sum::<usize>()
    }
}

/// Hash of a sequence of pairs, equal to [`Labels::hash64`] of the same pairs.
pub(crate) fn hash_pairs<'a>(pairs: impl Iterator<Item = (&'a str, &'a str)>) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for (n, v) in pairs {
        h.write(n.as_bytes());
        h.write_u8(0xff);
        h.write(v.as_bytes());
        h.write_u8(0xff);
    }
    h.finish()
}

impl Hash for Labels {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.hash64());
    }
}

/// Label sets order pair by pair, names before values, as Prometheus's `labels.Compare`.
impl Ord for Labels {
    fn cmp(&self, other: &Self) -> Ordering {
        compare_pairs(self.iter(), other.iter())
    }
}

impl PartialOrd for Labels {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Prometheus's label-set order over any two pair sequences.
pub fn compare_pairs<'a, 'b>(
    mut a: impl Iterator<Item = (&'a str, &'a str)>,
    mut b: impl Iterator<Item = (&'b str, &'b str)>,
) -> Ordering {
    loop {
        match (a.next(), b.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some((an, av)), Some((bn, bv))) => {
                let o = an.cmp(bn).then_with(|| av.cmp(bv));
                if o != Ordering::Equal {
                    return o;
                }
            }
        }
    }
}

impl fmt::Display for Labels {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("{")?;
        for (i, (n, v)) in self.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{n}={v:?}")?;
        }
        f.write_str("}")
    }
}

impl fmt::Debug for Labels {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Debug for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={:?}", self.name, self.value)
    }
}

/// Deduplicates label strings so that a million series share one copy of
/// `job`, `instance`, `node_cpu_seconds_total`...
#[derive(Default)]
pub(crate) struct Interner {
    set: parking_lot::Mutex<std::collections::HashSet<Arc<str>>>,
}

impl Interner {
    /// A copy of `labels` whose strings are the interned ones.
    pub(crate) fn intern_labels(&self, labels: &Labels) -> Labels {
        let mut set = self.set.lock();
        let mut get = |s: &Arc<str>| -> Arc<str> {
            if let Some(a) = set.get(&**s) {
                return a.clone();
            }
            set.insert(s.clone());
            s.clone()
        };
        Labels(
            labels
                .0
                .iter()
                .map(|l| Label {
                    name: get(&l.name),
                    value: get(&l.value),
                })
                .collect(),
        )
    }

    /// Number of distinct strings held.
    pub(crate) fn len(&self) -> usize {
        self.set.lock().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_sorted_and_drop_empty_values() {
        let l = Labels::new([("job", "node"), ("a", ""), ("__name__", "up")]).unwrap();
        let v: Vec<_> = l.iter().collect();
        assert_eq!(v, vec![("__name__", "up"), ("job", "node")]);
        assert_eq!(l.metric_name(), Some("up"));
        assert_eq!(l.get("a"), None);
    }

    #[test]
    fn duplicate_names_are_refused() {
        let e = Labels::new([("job", "a"), ("job", "b")]).unwrap_err();
        assert_eq!(e, LabelsError::DuplicateName("job".into()));
    }

    #[test]
    fn order_is_pairwise_then_length() {
        let a = Labels::from_pairs(&[("a", "1")]);
        let b = Labels::from_pairs(&[("a", "1"), ("b", "1")]);
        let c = Labels::from_pairs(&[("a", "2")]);
        assert!(a < b && b < c);
    }

    #[test]
    fn interned_labels_share_strings() {
        let i = Interner::default();
        let a = i.intern_labels(&Labels::from_pairs(&[("job", "node")]));
        let b = i.intern_labels(&Labels::from_pairs(&[("job", "node")]));
        assert!(Arc::ptr_eq(&a.as_slice()[0].name, &b.as_slice()[0].name));
        assert_eq!(i.len(), 2);
    }
}
