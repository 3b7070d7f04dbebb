//! Chunk encodings: Prometheus's XOR float chunk (encoding 1), in which the
//! head builds every chunk, and the decimal-delta chunk (encoding 2), in
//! which the block store keeps a completed chunk when that is smaller.

mod bstream;
mod dd;
mod xor;

pub use dd::{encode as encode_dd, DdSamples, ENCODING_DD};
pub use xor::{XorChunk, XorIter};

/// Samples of a chunk in any encoding.
pub enum ChunkSamples<'a> {
    /// Encoding 1.
    Xor(XorIter<'a>),
    /// Encoding 2.
    Dd(DdSamples<'a>),
}

impl<'a> ChunkSamples<'a> {
    /// Starts reading `bytes` as a chunk of `encoding`.
    pub fn new(encoding: u8, bytes: &'a [u8]) -> Result<ChunkSamples<'a>, ChunkError> {
        match encoding {
            ENCODING_XOR => XorIter::new(bytes).map(ChunkSamples::Xor),
            ENCODING_DD => DdSamples::new(bytes).map(ChunkSamples::Dd),
            e => Err(ChunkError::UnknownEncoding(e)),
        }
    }

    /// Why iteration stopped early, if it did.
    pub fn err(&self) -> Option<ChunkError> {
        match self {
            ChunkSamples::Xor(it) => it.err(),
            ChunkSamples::Dd(it) => it.err(),
        }
    }
}

impl Iterator for ChunkSamples<'_> {
    type Item = (crate::Timestamp, f64);

    #[inline]
    fn next(&mut self) -> Option<(crate::Timestamp, f64)> {
        match self {
            ChunkSamples::Xor(it) => it.next(),
            ChunkSamples::Dd(it) => it.next(),
        }
    }
}

/// The smaller of a completed XOR chunk and its decimal-delta form, as
/// `(encoding, bytes)`. A chunk that does not decode cleanly stays as it is.
pub fn compact(xor: &[u8]) -> (u8, std::borrow::Cow<'_, [u8]>) {
    let Ok(mut it) = XorIter::new(xor) else {
        return (ENCODING_XOR, std::borrow::Cow::Borrowed(xor));
    };
    let samples: Vec<(crate::Timestamp, f64)> = it.by_ref().collect();
    if it.err().is_some() {
        return (ENCODING_XOR, std::borrow::Cow::Borrowed(xor));
    }
    match encode_dd(&samples) {
        Some(dd) if dd.len() < xor.len() => (ENCODING_DD, std::borrow::Cow::Owned(dd)),
        _ => (ENCODING_XOR, std::borrow::Cow::Borrowed(xor)),
    }
}

/// Encoding byte of Prometheus's XOR float chunk.
pub const ENCODING_XOR: u8 = 1;

/// A chunk could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChunkError {
    /// The bytes end before the header's sample count is reached.
    #[error("chunk truncated: {0}")]
    Truncated(&'static str),
    /// An encoding byte this version does not know.
    #[error("unknown chunk encoding {0}")]
    UnknownEncoding(u8),
}
