//! gzip response bodies with a reused compressor, and whether a request accepts them.

use flate2::{Compress, Compression, FlushCompress, Status};

/// Whether an `Accept-Encoding` header value allows gzip: a `gzip` or `x-gzip` coding, or else
/// `*`, with a q-value above zero (RFC 9110 §12.5.3). No header means no.
pub fn accepts_gzip(header: Option<&str>) -> bool {
    let Some(h) = header else { return false };
    let mut wildcard = None;
    for item in h.split(',') {
        let mut parts = item.split(';');
        let coding = parts.next().unwrap_or("").trim();
        let mut q = 1.0f32;
        for p in parts {
            if let Some((k, v)) = p.split_once('=') {
                if k.trim().eq_ignore_ascii_case("q") {
                    q = v.trim().parse().unwrap_or(0.0);
                }
            }
        }
        if coding.eq_ignore_ascii_case("gzip") || coding.eq_ignore_ascii_case("x-gzip") {
            return q > 0.0;
        }
        if coding == "*" {
            wildcard = Some(q > 0.0);
        }
    }
    wildcard.unwrap_or(false)
}

/// A gzip writer that keeps its deflate state between bodies, so a response costs no
/// compressor allocation. Level 1: scrapes are many and small, speed matters more than bytes.
pub struct GzipEncoder {
    deflate: Compress,
}

impl std::fmt::Debug for GzipEncoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("GzipEncoder")
    }
}

impl Default for GzipEncoder {
    fn default() -> Self {
        GzipEncoder::new()
    }
}

impl GzipEncoder {
    /// A fast-level encoder.
    pub fn new() -> GzipEncoder {
        GzipEncoder {
            deflate: Compress::new(Compression::fast(), false),
        }
    }

    /// Replaces `out` with the gzip member (RFC 1952) holding `src`.
    pub fn encode(&mut self, src: &[u8], out: &mut Vec<u8>) -> Result<(), flate2::CompressError> {
        out.clear();
        // ID1 ID2, CM=deflate, no flags, no mtime, XFL=0, OS=unknown (as Go writes it).
        out.extend_from_slice(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);
        self.deflate.reset();
        let mut consumed = 0usize;
        loop {
            if out.capacity() - out.len() < 4096 {
                out.reserve(src.len() / 4 + 4096);
            }
            let (in_before, out_before) = (self.deflate.total_in(), self.deflate.total_out());
            let status = self
                .deflate
                .compress_vec(&src[consumed..], out, FlushCompress::Finish)?;
            consumed += (self.deflate.total_in() - in_before) as usize;
            if status == Status::StreamEnd {
                break;
            }
            if self.deflate.total_in() == in_before && self.deflate.total_out() == out_before {
                // No progress: the encoder wants more room than the spare capacity.
                out.reserve(out.capacity().max(4096));
            }
        }
        let mut crc = crc32fast::Hasher::new();
        crc.update(src);
        out.extend_from_slice(&crc.finalize().to_le_bytes());
        out.extend_from_slice(&(src.len() as u32).to_le_bytes());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn accept_encoding_is_negotiated_with_q_values() {
        for (h, want) in [
            (None, false),
            (Some(""), false),
            (Some("gzip"), true),
            (Some("GZIP"), true),
            (Some("deflate, gzip;q=1.0, *;q=0.5"), true),
            (Some("gzip;q=0"), false),
            (Some("identity"), false),
            (Some("br, *"), true),
            (Some("*;q=0"), false),
            (Some("gzip;q=0, *"), false),
            (Some("x-gzip"), true),
            (Some("zstd, deflate"), false),
        ] {
            assert_eq!(accepts_gzip(h), want, "Accept-Encoding: {h:?}");
        }
    }

    #[test]
    fn encoded_bodies_decode_to_the_input_and_the_encoder_is_reusable() {
        let mut enc = GzipEncoder::new();
        let mut out = Vec::new();
        for n in [0usize, 1, 100, 300_000] {
            let src: Vec<u8> = (0..n).map(|i| b"node_cpu 12.5\n"[i % 14]).collect();
            enc.encode(&src, &mut out).expect("compresses");
            let mut back = Vec::new();
            flate2::read::GzDecoder::new(&out[..])
                .read_to_end(&mut back)
                .expect("valid gzip");
            assert_eq!(back, src, "round trip of {n} bytes");
        }
    }
}
