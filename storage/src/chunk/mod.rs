//! Chunk encodings. Only Prometheus's XOR float chunk (encoding 1) exists today.

mod bstream;
mod xor;

pub use xor::{XorChunk, XorIter};

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
