//! The block store: completed chunks and series labels in RocksDB.
//!
//! Column families: `chunks` (key `block start | ref | min time`, see
//! [`keys`]), `series` (key: ref, big endian; value: labels) and the default
//! one for metadata. Every value carries a version byte and a CRC32, checked on
//! every read: a corrupt value is reported, never served.

pub(crate) mod keys;

use std::path::{Path, PathBuf};

use rocksdb::{ColumnFamilyDescriptor, IteratorMode, Options as RocksOptions, ReadOptions, WriteBatch, DB};

use crate::chunk::{ENCODING_DD, ENCODING_XOR};
use crate::{Labels, SeriesRef, Timestamp};

const CF_CHUNKS: &str = "chunks";
const CF_SERIES: &str = "series";

/// Errors of the block store.
#[derive(Debug, thiserror::Error)]
pub enum BlockStoreError {
    /// RocksDB failed.
    #[error("block store {path}: {source}")]
    Rocks {
        /// Directory of the RocksDB database.
        path: PathBuf,
        /// RocksDB's error.
        source: rocksdb::Error,
    },
    /// A stored value failed its checks.
    #[error("block store {path}: corrupt {what} value at key {key}: {reason}")]
    Corrupt {
        /// Directory of the RocksDB database.
        path: PathBuf,
        /// `chunk` or `series`.
        what: &'static str,
        /// The key, in hex.
        key: String,
        /// What was wrong.
        reason: String,
    },
}

/// A chunk read back from the store.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct StoredChunk {
    pub(crate) encoding: u8,
    pub(crate) min_t: Timestamp,
    pub(crate) max_t: Timestamp,
    pub(crate) bytes: Vec<u8>,
}

/// A chunk to be written.
pub(crate) struct ChunkWrite<'a> {
    pub(crate) r: SeriesRef,
    pub(crate) min_t: Timestamp,
    pub(crate) max_t: Timestamp,
    pub(crate) bytes: &'a [u8],
}

pub(crate) struct BlockStore {
    db: DB,
    path: PathBuf,
    /// Width of a block in ms (2 h).
    block_range: i64,
}

fn hex(k: &[u8]) -> String {
    k.iter().map(|b| format!("{b:02x}")).collect()
}

impl BlockStore {
    pub(crate) fn open(path: &Path, block_range: i64) -> Result<BlockStore, BlockStoreError> {
        let mut opts = RocksOptions::default();
        opts.create_if_missing(true);
        opts.create_missing_column_families(true);
        opts.set_max_background_jobs(2);
        opts.set_keep_log_file_num(3);
        let mut chunk_opts = RocksOptions::default();
        // XOR chunks are already compressed; lz4 still shares key prefixes cheaply.
        chunk_opts.set_compression_type(rocksdb::DBCompressionType::Lz4);
        let mut series_opts = RocksOptions::default();
        series_opts.set_compression_type(rocksdb::DBCompressionType::Zstd);
        let cfs = vec![
            ColumnFamilyDescriptor::new(CF_CHUNKS, chunk_opts),
            ColumnFamilyDescriptor::new(CF_SERIES, series_opts),
        ];
        let db = DB::open_cf_descriptors(&opts, path, cfs).map_err(|source| BlockStoreError::Rocks {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(BlockStore {
            db,
            path: path.to_path_buf(),
            block_range,
        })
    }

    fn rocks(&self, source: rocksdb::Error) -> BlockStoreError {
        BlockStoreError::Rocks {
            path: self.path.clone(),
            source,
        }
    }

    fn cf(&self, name: &str) -> std::sync::Arc<rocksdb::BoundColumnFamily<'_>> {
        self.db.cf_handle(name).expect("column families are created at open")
    }

    /// Start of the block that holds time `t` (saturating at the far past,
    /// so a query from `i64::MIN` does not overflow).
    pub(crate) fn block_start(&self, t: Timestamp) -> Timestamp {
        t.saturating_sub(t.rem_euclid(self.block_range))
    }

    /// Writes chunks and new series atomically in one batch.
    pub(crate) fn write(
        &self,
        chunks: &[ChunkWrite<'_>],
        series: &[(SeriesRef, &Labels)],
    ) -> Result<(), BlockStoreError> {
        let mut batch = WriteBatch::default();
        let (c, s) = (self.cf(CF_CHUNKS), self.cf(CF_SERIES));
        for w in chunks {
            let k = keys::chunk_key(self.block_start(w.min_t), w.r, w.min_t);
            // Kept in whichever encoding is smaller; both decode to the same samples.
            let (enc, bytes) = crate::chunk::compact(w.bytes);
            batch.put_cf(&c, k, keys::encode_chunk(enc, w.max_t, &bytes));
        }
        for (r, l) in series {
            batch.put_cf(&s, r.0.to_be_bytes(), keys::encode_series(l));
        }
        self.db.write(batch).map_err(|e| self.rocks(e))
    }

    /// Chunks of series `r` that overlap `[mint, maxt]`, oldest first.
    pub(crate) fn series_chunks(
        &self,
        r: SeriesRef,
        mint: Timestamp,
        maxt: Timestamp,
    ) -> Result<Vec<StoredChunk>, BlockStoreError> {
        let mut out = Vec::new();
        if mint > maxt {
            return Ok(out);
        }
        // Only blocks that exist: a query over all time must not walk every
        // 2 h slot since the epoch.
        let Some((oldest, newest)) = self.block_bounds()? else {
            return Ok(out);
        };
        let c = self.cf(CF_CHUNKS);
        let mut b = self.block_start(mint).max(oldest);
        let last = self.block_start(maxt).min(newest);
        while b <= last {
            let prefix = keys::block_series_prefix(b, r);
            let mut ro = ReadOptions::default();
            let mut upper = prefix.to_vec();
            upper.extend_from_slice(&[0xff; 8]);
            upper.push(0xff);
            ro.set_iterate_upper_bound(upper);
            let it = self
                .db
                .iterator_cf_opt(&c, ro, IteratorMode::From(&prefix, rocksdb::Direction::Forward));
            for item in it {
                let (k, v) = item.map_err(|e| self.rocks(e))?;
                let Some((_, _, min_t)) = keys::parse_chunk_key(&k) else {
                    return Err(self.corrupt("chunk", &k, "bad key length".into()));
                };
                let (enc, max_t, bytes) =
                    keys::decode_chunk(&v).map_err(|e| self.corrupt("chunk", &k, e.to_string()))?;
                if enc != ENCODING_XOR && enc != ENCODING_DD {
                    return Err(self.corrupt("chunk", &k, format!("unknown chunk encoding {enc}")));
                }
                if max_t >= mint && min_t <= maxt {
                    out.push(StoredChunk {
                        encoding: enc,
                        min_t,
                        max_t,
                        bytes: bytes.to_vec(),
                    });
                }
            }
            b += self.block_range;
        }
        Ok(out)
    }

    fn corrupt(&self, what: &'static str, k: &[u8], reason: String) -> BlockStoreError {
        tracing::error!(path = %self.path.display(), what, key = %hex(k), %reason, "corrupt value in block store");
        BlockStoreError::Corrupt {
            path: self.path.clone(),
            what,
            key: hex(k),
            reason,
        }
    }

    /// Every stored series. Corrupt entries are logged and skipped (the series
    /// stays readable by ref if its chunks are intact).
    #[cfg(test)]
    pub(crate) fn all_series(&self) -> Result<Vec<(SeriesRef, Labels)>, BlockStoreError> {
        self.all_series_after(None)
    }

    /// Stored series with a ref above `after` (all when `None`), in ref order.
    /// Corrupt entries are logged and skipped.
    pub(crate) fn all_series_after(
        &self,
        after: Option<SeriesRef>,
    ) -> Result<Vec<(SeriesRef, Labels)>, BlockStoreError> {
        let s = self.cf(CF_SERIES);
        let mut out = Vec::new();
        let start = after.map(|r| (r.0.saturating_add(1)).to_be_bytes());
        let mode = match &start {
            Some(k) => IteratorMode::From(k, rocksdb::Direction::Forward),
            None => IteratorMode::Start,
        };
        for item in self.db.iterator_cf(&s, mode) {
            let (k, v) = item.map_err(|e| self.rocks(e))?;
            let Ok(kb) = <[u8; 8]>::try_from(&*k) else {
                let _ = self.corrupt("series", &k, "bad key length".into());
                continue;
            };
            match keys::decode_series(&v) {
                Ok(l) => out.push((SeriesRef(u64::from_be_bytes(kb)), l)),
                Err(e) => {
                    let _ = self.corrupt("series", &k, e.to_string());
                }
            }
        }
        Ok(out)
    }

    /// Highest series ref stored.
    pub(crate) fn max_series_ref(&self) -> Result<Option<SeriesRef>, BlockStoreError> {
        let s = self.cf(CF_SERIES);
        let mut it = self.db.iterator_cf(&s, IteratorMode::End);
        match it.next() {
            None => Ok(None),
            Some(item) => {
                let (k, _) = item.map_err(|e| self.rocks(e))?;
                Ok(<[u8; 8]>::try_from(&*k).ok().map(|b| SeriesRef(u64::from_be_bytes(b))))
            }
        }
    }

    /// Starts of the oldest and newest blocks holding chunks.
    pub(crate) fn block_bounds(&self) -> Result<Option<(Timestamp, Timestamp)>, BlockStoreError> {
        let Some(oldest) = self.oldest_block()? else {
            return Ok(None);
        };
        let c = self.cf(CF_CHUNKS);
        let mut it = self.db.iterator_cf(&c, IteratorMode::End);
        let newest = match it.next() {
            Some(item) => {
                let (k, _) = item.map_err(|e| self.rocks(e))?;
                keys::parse_chunk_key(&k).map_or(oldest, |(b, _, _)| b)
            }
            None => oldest,
        };
        Ok(Some((oldest, newest)))
    }

    /// Start of the oldest block holding any chunk.
    pub(crate) fn oldest_block(&self) -> Result<Option<Timestamp>, BlockStoreError> {
        let c = self.cf(CF_CHUNKS);
        let mut it = self.db.iterator_cf(&c, IteratorMode::Start);
        match it.next() {
            None => Ok(None),
            Some(item) => {
                let (k, _) = item.map_err(|e| self.rocks(e))?;
                Ok(keys::parse_chunk_key(&k).map(|(b, _, _)| b))
            }
        }
    }

    /// Drops every block that starts before `block_start` as one range
    /// deletion, then compacts that range so the space is returned.
    pub(crate) fn delete_blocks_before(&self, block_start: Timestamp) -> Result<(), BlockStoreError> {
        let c = self.cf(CF_CHUNKS);
        let from = [0u8; 8];
        let to = keys::block_prefix(block_start);
        self.db.delete_range_cf(&c, from, to).map_err(|e| self.rocks(e))?;
        self.db.compact_range_cf(&c, Some(&from[..]), Some(&to[..]));
        Ok(())
    }

    /// Bytes on disk: SST files plus memtables.
    pub(crate) fn size_bytes(&self) -> u64 {
        let mut total = 0;
        for name in [CF_CHUNKS, CF_SERIES] {
            let cf = self.cf(name);
            for p in ["rocksdb.total-sst-files-size", "rocksdb.size-all-mem-tables"] {
                total += self.db.property_int_value_cf(&cf, p).ok().flatten().unwrap_or(0);
            }
        }
        total
    }

    /// Number of chunks (RocksDB's estimate).
    pub(crate) fn estimated_chunks(&self) -> u64 {
        let c = self.cf(CF_CHUNKS);
        self.db
            .property_int_value_cf(&c, "rocksdb.estimate-num-keys")
            .ok()
            .flatten()
            .unwrap_or(0)
    }

    /// Flushes memtables to SST files.
    pub(crate) fn flush(&self) -> Result<(), BlockStoreError> {
        for name in [CF_CHUNKS, CF_SERIES] {
            self.db.flush_cf(&self.cf(name)).map_err(|e| self.rocks(e))?;
        }
        Ok(())
    }

    /// Raw access for corruption tests: overwrite one chunk value.
    #[cfg(test)]
    pub(crate) fn put_raw_chunk(&self, block: Timestamp, r: SeriesRef, min_t: Timestamp, v: &[u8]) {
        self.db
            .put_cf(&self.cf(CF_CHUNKS), keys::chunk_key(block, r, min_t), v)
            .unwrap();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chunk::XorChunk;

    const H2: i64 = 7_200_000;

    fn chunk(ts: &[i64]) -> XorChunk {
        let mut c = XorChunk::new();
        for &t in ts {
            c.append(t, t as f64);
        }
        c
    }

    #[test]
    fn chunks_come_back_by_series_and_time_range() {
        let dir = tempfile::tempdir().unwrap();
        let bs = BlockStore::open(dir.path(), H2).unwrap();
        let a = chunk(&[10, 20, 30]);
        let b = chunk(&[H2 + 10, H2 + 20]);
        let other = chunk(&[15]);
        let l = Labels::from_pairs(&[("a", "1")]);
        bs.write(
            &[
                ChunkWrite {
                    r: SeriesRef(1),
                    min_t: 10,
                    max_t: 30,
                    bytes: a.bytes(),
                },
                ChunkWrite {
                    r: SeriesRef(1),
                    min_t: H2 + 10,
                    max_t: H2 + 20,
                    bytes: b.bytes(),
                },
                ChunkWrite {
                    r: SeriesRef(2),
                    min_t: 15,
                    max_t: 15,
                    bytes: other.bytes(),
                },
            ],
            &[(SeriesRef(1), &l)],
        )
        .unwrap();
        let got = bs.series_chunks(SeriesRef(1), 0, 3 * H2).unwrap();
        assert_eq!(got.len(), 2);
        // Stored in the smaller encoding; the samples are the same.
        let back: Vec<(i64, u64)> = crate::chunk::ChunkSamples::new(got[0].encoding, &got[0].bytes)
            .unwrap()
            .map(|(t, v)| (t, v.to_bits()))
            .collect();
        let want: Vec<(i64, u64)> = a.iter().map(|(t, v)| (t, v.to_bits())).collect();
        assert_eq!(back, want);
        assert_eq!(bs.series_chunks(SeriesRef(1), 31, H2).unwrap().len(), 0);
        assert_eq!(bs.series_chunks(SeriesRef(1), H2 + 15, H2 + 15).unwrap().len(), 1);
        assert_eq!(bs.all_series().unwrap(), vec![(SeriesRef(1), l)]);
        assert_eq!(bs.max_series_ref().unwrap(), Some(SeriesRef(1)));
        assert_eq!(bs.oldest_block().unwrap(), Some(0));
        bs.delete_blocks_before(H2).unwrap();
        assert_eq!(bs.oldest_block().unwrap(), Some(H2));
        assert_eq!(bs.series_chunks(SeriesRef(1), 0, 3 * H2).unwrap().len(), 1);
    }

    #[test]
    fn a_corrupt_chunk_value_is_an_error_naming_the_key() {
        let dir = tempfile::tempdir().unwrap();
        let bs = BlockStore::open(dir.path(), H2).unwrap();
        let c = chunk(&[10, 20]);
        let mut v = keys::encode_chunk(1, 20, c.bytes());
        v[12] ^= 1;
        bs.put_raw_chunk(0, SeriesRef(3), 10, &v);
        let e = bs.series_chunks(SeriesRef(3), 0, 100).unwrap_err();
        assert!(e.to_string().contains("checksum mismatch"), "{e}");
    }
}
