//! Reading samples back: series selected by matchers, chunks from the head and
//! the block store merged in time order.

use std::sync::Arc;

use crate::chunk::{ChunkSamples, ENCODING_XOR};
use crate::db::Inner;
use crate::{Error, Labels, Matcher, SeriesRef, Timestamp};

/// A chunk's encoding byte and bytes.
type EncodedChunk = (u8, Arc<[u8]>);

/// Reads series over a fixed time range `[mint, maxt]` (both inclusive).
pub struct Querier {
    pub(crate) inner: Arc<Inner>,
    pub(crate) mint: Timestamp,
    pub(crate) maxt: Timestamp,
}

/// One selected series with its samples in range.
pub struct Series {
    /// The series' labels.
    pub labels: Labels,
    /// The series' ref.
    pub r: SeriesRef,
    /// `(encoding, bytes)` per chunk, oldest first.
    chunks: Vec<EncodedChunk>,
    mint: Timestamp,
    maxt: Timestamp,
}

impl Querier {
    /// Series matching every matcher, in label order, each with the chunks that
    /// overlap the querier's range. Series without samples in range are left out.
    pub fn select(&self, matchers: &[Matcher]) -> Result<Vec<Series>, Error> {
        let sel = self.inner.index.select(matchers);
        let mut out = Vec::with_capacity(sel.len());
        for s in sel.iter() {
            let chunks = self.chunks(s.r)?;
            if chunks.is_empty() {
                continue;
            }
            out.push(Series {
                labels: s.labels.to_labels(),
                r: s.r,
                chunks,
                mint: self.mint,
                maxt: self.maxt,
            });
        }
        Ok(out)
    }

    /// Chunks of one series overlapping the range, oldest first. The head is
    /// read before the block store so that a chunk moving from one to the
    /// other in between is seen at least once (the merge drops the overlap).
    fn chunks(&self, r: SeriesRef) -> Result<Vec<EncodedChunk>, Error> {
        let (mint, maxt) = (self.mint, self.maxt);
        let mut head: Vec<(Timestamp, u8, Arc<[u8]>)> = Vec::new();
        if let Some(s) = self.inner.head.get(r) {
            let st = s.state.lock();
            for c in &st.sealed {
                if c.max_t >= mint && c.min_t <= maxt {
                    head.push((c.min_t, ENCODING_XOR, c.bytes.clone()));
                }
            }
            if let Some(o) = &st.open {
                if o.chunk.num_samples() > 0 && o.chunk.last_t() >= mint && o.min_t <= maxt {
                    head.push((o.min_t, ENCODING_XOR, Arc::from(o.chunk.bytes())));
                }
            }
        }
        let mut all: Vec<(Timestamp, u8, Arc<[u8]>)> = self
            .inner
            .blocks
            .series_chunks(r, mint, maxt)?
            .into_iter()
            .map(|c| (c.min_t, c.encoding, Arc::from(c.bytes)))
            .collect();
        all.extend(head);
        all.sort_by_key(|(t, _, _)| *t);
        Ok(all.into_iter().map(|(_, e, c)| (e, c)).collect())
    }
}

impl Series {
    /// Samples in `[mint, maxt]`, strictly increasing in time. Where chunks
    /// overlap (a chunk rebuilt by WAL replay after it had been flushed), the
    /// first one wins.
    pub fn samples(&self) -> SeriesSamples<'_> {
        SeriesSamples {
            s: self,
            next_chunk: 0,
            cur: None,
            last_t: i64::MIN,
            err: None,
        }
    }

    /// The chunks this series' samples come from, oldest first, as
    /// `(encoding, bytes)` (see `strata_storage::chunk`).
    pub fn chunks(&self) -> impl Iterator<Item = (u8, &[u8])> + '_ {
        self.chunks.iter().map(|(e, c)| (*e, &c[..]))
    }

    /// Encoded bytes of the chunks this series' samples come from.
    pub fn chunk_bytes(&self) -> usize {
        self.chunks.iter().map(|(_, c)| c.len()).sum()
    }

    /// All samples in range, collected; the error of a corrupt chunk if any.
    pub fn collect_samples(&self) -> Result<Vec<(Timestamp, f64)>, Error> {
        let mut it = self.samples();
        let v: Vec<_> = it.by_ref().collect();
        match it.err {
            Some(e) => Err(e),
            None => Ok(v),
        }
    }
}

/// Iterator over a [`Series`]' samples.
pub struct SeriesSamples<'a> {
    s: &'a Series,
    next_chunk: usize,
    cur: Option<ChunkSamples<'a>>,
    last_t: Timestamp,
    err: Option<Error>,
}

impl SeriesSamples<'_> {
    /// Why iteration stopped early, if it did.
    pub fn err(&self) -> Option<&Error> {
        self.err.as_ref()
    }
}

impl Iterator for SeriesSamples<'_> {
    type Item = (Timestamp, f64);

    fn next(&mut self) -> Option<(Timestamp, f64)> {
        loop {
            if let Some(it) = &mut self.cur {
                for (t, v) in it.by_ref() {
                    if t > self.s.maxt {
                        break;
                    }
                    if t < self.s.mint || t <= self.last_t {
                        continue;
                    }
                    self.last_t = t;
                    return Some((t, v));
                }
                if let Some(e) = it.err() {
                    self.err = Some(Error::CorruptChunk {
                        series: self.s.r.0,
                        reason: e.to_string(),
                    });
                    return None;
                }
                self.cur = None;
            }
            let (enc, c) = self.s.chunks.get(self.next_chunk)?;
            self.next_chunk += 1;
            match ChunkSamples::new(*enc, c) {
                Ok(it) => self.cur = Some(it),
                Err(e) => {
                    self.err = Some(Error::CorruptChunk {
                        series: self.s.r.0,
                        reason: e.to_string(),
                    });
                    return None;
                }
            }
        }
    }
}
