//! Batches of samples that enter the database together.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use crate::db::Inner;
use crate::head::AppendOutcome;
use crate::wal::RefSample;
use crate::{Error, Labels, SeriesRef, Timestamp};

/// Why one sample was refused; the rest of the batch is unaffected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AppendError {
    /// Older than the series' newest sample.
    #[error("out of order sample")]
    OutOfOrder,
    /// Same timestamp as the newest sample but a different value.
    #[error("duplicate sample for timestamp")]
    Duplicate,
    /// Older than the head accepts (more than half a chunk range behind its newest sample).
    #[error("out of bounds")]
    OutOfBounds,
    /// The ref names no series.
    #[error("unknown series ref {0}")]
    UnknownSeries(u64),
}

/// What a commit did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CommitStats {
    /// Samples that entered the head.
    pub appended: usize,
    /// Samples refused at commit because another appender got there first.
    pub dropped: usize,
    /// Series this appender created.
    pub new_series: usize,
}

/// Collects samples, then writes them to the WAL as one record and into the
/// head on [`Appender::commit`]. Dropping an appender without committing is a
/// rollback. Each `append` checks the sample against the newest committed
/// sample of its series, as Prometheus does, and refuses it with a reason.
pub struct Appender {
    pub(crate) inner: Arc<Inner>,
    pub(crate) series: Vec<(SeriesRef, Labels)>,
    pub(crate) samples: Vec<RefSample>,
    min_t: Timestamp,
    max_t: Timestamp,
}

impl Appender {
    pub(crate) fn new(inner: Arc<Inner>) -> Appender {
        Appender {
            inner,
            series: Vec::new(),
            samples: Vec::new(),
            min_t: i64::MAX,
            max_t: i64::MIN,
        }
    }

    /// Appends a sample to the series with these labels, creating the series if
    /// needed; returns its ref so later appends can skip the label lookup.
    pub fn append_labels(&mut self, labels: &Labels, t: Timestamp, v: f64) -> Result<SeriesRef, AppendError> {
        let r = self.series_ref(labels);
        self.append(r, t, v)?;
        Ok(r)
    }

    /// The ref of the series with these labels, creating it if needed.
    pub fn series_ref(&mut self, labels: &Labels) -> SeriesRef {
        let head = &self.inner.head;
        if let Some(r) = head.find(labels) {
            return r;
        }
        // A series known to the index but not to the head keeps its ref.
        let known = self.inner.index.find(labels);
        let (r, created) = head.get_or_create(labels, known);
        if created {
            if known.is_none() {
                self.inner.index.add(r, labels.clone());
                self.inner.new_series.lock().push(r);
            }
            self.series.push((r, labels.clone()));
        }
        r
    }

    /// Appends a sample to an existing series.
    pub fn append(&mut self, r: SeriesRef, t: Timestamp, v: f64) -> Result<(), AppendError> {
        let head = &self.inner.head;
        let s = head.get(r).ok_or(AppendError::UnknownSeries(r.0))?;
        let c = &self.inner.counters;
        if let Some(hmax) = head.max_time() {
            if t < hmax - head.chunk_range / 2 {
                c.out_of_bounds.fetch_add(1, Ordering::Relaxed);
                return Err(AppendError::OutOfBounds);
            }
        }
        match s.check(t, v) {
            AppendOutcome::OutOfOrder => {
                c.out_of_order.fetch_add(1, Ordering::Relaxed);
                Err(AppendError::OutOfOrder)
            }
            AppendOutcome::Duplicate => {
                c.duplicate.fetch_add(1, Ordering::Relaxed);
                Err(AppendError::Duplicate)
            }
            AppendOutcome::IdenticalDuplicate => Ok(()),
            AppendOutcome::Appended { .. } => {
                self.samples.push(RefSample { r, t, v });
                self.min_t = self.min_t.min(t);
                self.max_t = self.max_t.max(t);
                Ok(())
            }
        }
    }

    /// Number of samples waiting for commit.
    pub fn len(&self) -> usize {
        self.samples.len()
    }

    /// True when nothing waits for commit.
    pub fn is_empty(&self) -> bool {
        self.samples.is_empty() && self.series.is_empty()
    }

    /// Writes the batch to the WAL, then into the head. If the WAL write
    /// fails, nothing enters the head and the error is returned.
    pub fn commit(mut self) -> Result<CommitStats, Error> {
        let mut st = CommitStats {
            new_series: self.series.len(),
            ..CommitStats::default()
        };
        if self.is_empty() {
            return Ok(st);
        }
        let inner = self.inner.clone();
        let _applying = inner.commit_gate.read();
        if let Err(e) = inner.wal.log_commit(&self.series, &self.samples) {
            self.samples.clear();
            return Err(e.into());
        }
        self.series.clear();
        let c = &inner.counters;
        for s in &self.samples {
            let Some(ms) = inner.head.get(s.r) else {
                st.dropped += 1;
                continue;
            };
            match inner.head.append(ms, s.t, s.v) {
                AppendOutcome::Appended { .. } => st.appended += 1,
                AppendOutcome::IdenticalDuplicate => {}
                AppendOutcome::OutOfOrder | AppendOutcome::Duplicate => {
                    c.out_of_order.fetch_add(1, Ordering::Relaxed);
                    st.dropped += 1;
                }
            }
        }
        if st.appended > 0 {
            inner.head.update_bounds(self.min_t, self.max_t);
        }
        c.samples_appended.fetch_add(st.appended as u64, Ordering::Relaxed);
        c.commits.fetch_add(1, Ordering::Relaxed);
        self.samples.clear();
        Ok(st)
    }

    /// Discards the batch. Series it created stay in the head (empty), as in
    /// Prometheus, so their records still go to the WAL: another appender may
    /// already be logging samples for them.
    pub fn rollback(self) {
        drop(self)
    }
}

impl Drop for Appender {
    /// An appender dropped without commit is rolled back: see [`Appender::rollback`].
    fn drop(&mut self) {
        if self.series.is_empty() {
            return;
        }
        if let Err(e) = self.inner.wal.log_commit(&self.series, &[]) {
            tracing::error!(error = %e, series = self.series.len(), "logging the series of a rolled-back batch");
        }
    }
}
